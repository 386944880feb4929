#!/usr/bin/env python3
"""kaon-tensorboard: TensorBoard as a kaon session backend.

kaon writes this file to DATA/libexec/kaon-tensorboard when the daemon
starts (src/server/libexec.c) and the "tensorboard" profile runs it as the
session's job, as the user:

    kaon-tensorboard --logdir FOLDER [TENSORBOARD FLAGS...]

From the environment (never argv, which anyone can read in /proc):
KAON_SESSION_SOCKET (a unix socket to create, mode 0600) or
KAON_SESSION_PORT (a port on 127.0.0.1), KAON_SESSION_SECRET and
KAON_BASE_URL ("/s/ID/").

TensorBoard is started through its own Python API (tensorboard/program.py):
TensorBoard(server_class=...) builds its WSGI app as usual, told its path
prefix with --path_prefix, and hands the app to our TensorBoardServer,
which serves it with the standard library's wsgiref, one thread per
connection, on the unix socket, behind a middleware that answers 403 to
any request without "Authorization: token SECRET" (compared in constant
time; the header is removed before TensorBoard sees the request) and 404
to any path outside KAON_BASE_URL.

When this Python cannot import tensorboard, the wrapper runs itself again
with the interpreter of the `tensorboard` command found in PATH (a pip
install in a virtual environment), once.

Written against tensorboard's program.py (2.x: TensorBoard, TensorBoardServer
with __init__(wsgi_app, flags), serve_forever, get_url,
print_serving_message); kaon's tests run it against a stand-in package of
that shape, since they cannot install TensorBoard.
"""

import argparse
import atexit
import hmac
import json
import os
import shutil
import socket
import socketserver
import stat
import sys
from wsgiref import simple_server

# Flags kaon sets itself: a session serves on kaon's socket, under its URL.
RESERVED_FLAGS = ("--host", "--port", "--bind_all", "--path_prefix")
REEXEC_MARK = "KAON_TENSORBOARD_REEXEC"
REQUEST_TIMEOUT_S = 120


def die(message, status=2):
    sys.stderr.write("kaon-tensorboard: %s\n" % message)
    sys.stderr.flush()
    sys.exit(status)


def read_settings():
    """The session's settings from the environment; exits 2 when absent."""
    secret = os.environ.get("KAON_SESSION_SECRET", "")
    base_url = os.environ.get("KAON_BASE_URL", "")
    sock = os.environ.get("KAON_SESSION_SOCKET", "")
    port = os.environ.get("KAON_SESSION_PORT", "")
    if not secret or not (sock or port):
        die("needs KAON_SESSION_SECRET and KAON_SESSION_SOCKET or "
            "KAON_SESSION_PORT in its environment (kaon sets them for a "
            "session's job)")
    if (not base_url.startswith("/") or not base_url.endswith("/")
            or any(c in base_url for c in "?#\\ \t\r\n")):
        die("KAON_BASE_URL must be a path like /s/ID/, not %r" % base_url)
    if not sock:
        if not port.isdigit() or not 1 <= int(port) <= 65535:
            die("KAON_SESSION_PORT must be a port from 1 to 65535, "
                "not %r" % port)
        port = int(port)
    return secret, base_url, sock or None, port or None


def parse_args(argv):
    """--logdir and whatever else is for TensorBoard itself."""
    parser = argparse.ArgumentParser(
        prog="kaon-tensorboard",
        description="TensorBoard behind kaon's session proxy")
    parser.add_argument("--logdir", required=True,
                        help="the folder of event files to show")
    args, rest = parser.parse_known_args(argv)
    for flag in rest:
        if flag.split("=", 1)[0] in RESERVED_FLAGS:
            die("%s is kaon's to set (the session's socket and URL)"
                % flag.split("=", 1)[0])
    return args.logdir, rest


def tensorboard_interpreter():
    """The Python of the `tensorboard` command in PATH, from its #! line."""
    command = shutil.which("tensorboard")
    if not command:
        return None
    try:
        with open(command, "rb") as f:
            first = f.readline(4096)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode("utf-8", "replace").split()
    if not words:
        return None
    if os.path.basename(words[0]) == "env" and len(words) > 1:
        return shutil.which(words[1])
    return words[0] if os.access(words[0], os.X_OK) else None


def import_program():
    """tensorboard.program, running under tensorboard's Python if need be."""
    try:
        from tensorboard import program
        return program
    except ImportError as e:
        error = e
    python = tensorboard_interpreter()
    if (python and not os.environ.get(REEXEC_MARK)
            and os.path.realpath(python) != os.path.realpath(sys.executable)):
        os.environ[REEXEC_MARK] = "1"
        script = os.path.abspath(__file__)
        try:
            os.execv(python, [python, script] + sys.argv[1:])
        except OSError as e:
            die("cannot run %s for TensorBoard: %s" % (python, e), 3)
    die("TensorBoard is not installed for %s (%s); install it (pip install "
        "tensorboard) or ask the admin" % (sys.executable, error), 3)


class SecretGuard:
    """WSGI middleware: the session secret, then the session's URL."""

    def __init__(self, app, secret, base_url):
        self.app = app
        self.secret = secret.encode("utf-8")
        self.base_url = base_url
        self.bare = base_url.rstrip("/")

    def __call__(self, environ, start_response):
        given = environ.pop("HTTP_AUTHORIZATION", "")
        scheme, _, value = given.strip().partition(" ")
        # WSGI gives header values as latin-1 strings; compare bytes.
        ok = scheme.lower() == "token" and hmac.compare_digest(
            value.strip().encode("latin-1", "replace"), self.secret)
        if not ok:
            return self.error(start_response, 403, "forbidden",
                              "this session's backend answers kaon's proxy "
                              "only (Authorization: token SECRET)")
        path = environ.get("PATH_INFO", "")
        if path != self.bare and not path.startswith(self.base_url):
            return self.error(start_response, 404, "not_found",
                              "this session serves %s only" % self.base_url)
        return self.app(environ, start_response)

    @staticmethod
    def error(start_response, status, code, message):
        body = (json.dumps({"error": {"code": code, "message": message}})
                + "\n").encode("utf-8")
        reason = {403: "Forbidden", 404: "Not Found"}[status]
        start_response("%d %s" % (status, reason), [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Cache-Control", "no-store"),
        ])
        return [body]


class QuietHandler(simple_server.WSGIRequestHandler):
    """No log line per request (TensorBoard's page polls); errors still
    go to stderr, the job's log. A silent client cannot hold its thread
    forever."""

    timeout = REQUEST_TIMEOUT_S

    def log_request(self, code="-", size="-"):
        pass


class ThreadedWSGIServer(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True


class UnixWSGIServer(ThreadedWSGIServer):
    """wsgiref on a unix socket, created mode 0600."""

    address_family = socket.AF_UNIX

    def server_bind(self):
        path = self.server_address
        try:
            if stat.S_ISSOCK(os.lstat(path).st_mode):
                os.unlink(path)  # left by an earlier run of this session
        except FileNotFoundError:
            pass
        old = os.umask(0o177)
        try:
            socketserver.TCPServer.server_bind(self)
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        # What wsgiref's HTTPServer.server_bind would have set from a
        # (host, port) address, for SERVER_NAME and SERVER_PORT.
        self.server_name = "localhost"
        self.server_port = 80
        self.setup_environ()

    def get_request(self):
        conn, _ = self.socket.accept()
        # A unix peer has no address; WSGI apps expect REMOTE_ADDR to be
        # one, and the peer is on this machine (kaon's proxy).
        return conn, ("127.0.0.1", 0)


def make_server_class(program, secret, base_url, sock, port):
    """A TensorBoardServer serving TensorBoard's WSGI app for kaon."""

    class KaonServer(program.TensorBoardServer):
        def __init__(self, wsgi_app, flags):
            self._flags = flags
            app = SecretGuard(wsgi_app, secret, base_url)
            try:
                if sock:
                    self._httpd = UnixWSGIServer(sock, QuietHandler)
                    atexit.register(self._unlink)
                else:
                    self._httpd = ThreadedWSGIServer(("127.0.0.1", port),
                                                     QuietHandler)
            except OSError as e:
                raise program.TensorBoardServerException(
                    "cannot listen on %s: %s" % (sock or "127.0.0.1:%d" % port, e))
            self._httpd.set_app(app)

        def _unlink(self):
            try:
                os.unlink(sock)
            except OSError:
                pass

        def serve_forever(self):
            self._httpd.serve_forever()

        def get_url(self):
            # TensorBoard records the port of this URL (an int) in its
            # info file; a unix socket has none, so 0.
            return "http://localhost:%d%s" % (port or 0, base_url)

        def print_serving_message(self):
            sys.stderr.write("kaon-tensorboard: TensorBoard serving %s on %s\n"
                             % (base_url, sock or "127.0.0.1:%d" % port))
            sys.stderr.flush()

    return KaonServer


def main(argv):
    logdir, rest = parse_args(argv)
    secret, base_url, sock, port = read_settings()
    program = import_program()
    try:
        from tensorboard import main_lib
        main_lib.global_init()
    except ImportError:
        pass  # older TensorBoards: nothing to set up
    server_class = make_server_class(program, secret, base_url, sock, port)
    tb = program.TensorBoard(server_class=server_class)
    tb.configure(argv=[None, "--logdir", logdir,
                       "--path_prefix", base_url.rstrip("/")] + rest)
    return tb.main()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
