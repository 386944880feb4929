"""Stand-in for tensorboard.program (see __init__.py)."""

import argparse
import json
import signal
import sys
import urllib.parse
from abc import ABCMeta, abstractmethod


class TensorBoardServer(metaclass=ABCMeta):
    @abstractmethod
    def __init__(self, wsgi_app, flags):
        raise NotImplementedError()

    @abstractmethod
    def serve_forever(self):
        raise NotImplementedError()

    @abstractmethod
    def get_url(self):
        raise NotImplementedError()

    def print_serving_message(self):
        sys.stderr.write("TensorBoard stub at %s\n" % self.get_url())


class TensorBoardServerException(Exception):
    def __init__(self, msg):
        self.msg = msg


def _echo_app(flags):
    def app(environ, start_response):
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        out = json.dumps({
            "stub": True,
            "method": environ["REQUEST_METHOD"],
            "path": environ.get("PATH_INFO", ""),
            "authorization": environ.get("HTTP_AUTHORIZATION"),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "body_len": len(body),
            "logdir": flags.logdir,
            "path_prefix": flags.path_prefix,
            "reload_interval": flags.reload_interval,
        }).encode() + b"\n"
        start_response("200 OK", [("Content-Type", "application/json"),
                                  ("Content-Length", str(len(out)))])
        return [out]
    return app


class TensorBoard(object):
    def __init__(self, plugins=None, assets_zip_provider=None,
                 server_class=None, subcommands=None):
        self.server_class = server_class
        self.flags = None

    def configure(self, argv=("",), **kwargs):
        parser = argparse.ArgumentParser(prog="tensorboard")
        parser.add_argument("--logdir", default="")
        parser.add_argument("--path_prefix", default="")
        parser.add_argument("--host")
        parser.add_argument("--port", type=int)
        parser.add_argument("--bind_all", action="store_true")
        parser.add_argument("--reload_interval", type=float, default=5.0)
        flags = parser.parse_args(argv[1:])
        # As the core plugin's fix_flags does.
        flags.path_prefix = flags.path_prefix.rstrip("/")
        self.flags = flags
        return [argv[0] if argv else ""]

    def main(self, ignored_argv=("",)):
        def handler(signum, frame):
            signal.signal(signum, signal.SIG_DFL)
            sys.stderr.write("TensorBoard caught SIGTERM; exiting...\n")
            sys.exit(0)
        signal.signal(signal.SIGTERM, handler)
        try:
            server = self.server_class(_echo_app(self.flags), self.flags)
            server.print_serving_message()
            # TensorBoard's _register_info records this port; it must be
            # an int.
            port = urllib.parse.urlparse(server.get_url()).port
            if not isinstance(port, int):
                raise ValueError("get_url() has no port: %r" % server.get_url())
            server.serve_forever()
            return 0
        except TensorBoardServerException as e:
            sys.stderr.write("ERROR: %s\n" % e.msg)
            return -1
