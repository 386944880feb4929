#!/usr/bin/python3
"""tests/e2e/jupyter_kernel.py — drive a Jupyter kernel over its REST API
and kernel WebSocket, for the sessions e2e test.

    jupyter_kernel.py TARGET BASE_URL [-H 'Name: value']... run CODE
        create a kernel, execute CODE, print its result (text/plain)
    jupyter_kernel.py TARGET BASE_URL [-H ...]... busy CODE
        create a kernel, start CODE, return once the kernel says it is busy

TARGET is unix:/path/to/socket or http://HOST:PORT. Headers go with every
request (Authorization: token SECRET to a backend directly; kaon's bearer
token through its proxy). Needs Debian's python3-websocket: run it with
/usr/bin/python3. Exits non-zero with a message on any failure.
"""
import http.client
import json
import socket
import sys
import uuid

import websocket


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self.unix_path)
        self.sock = s


def main():
    args = sys.argv[1:]
    if len(args) < 4:
        sys.exit(__doc__)
    target, base = args[0], args[1]
    args = args[2:]
    headers = {}
    while args and args[0] == "-H":
        name, _, value = args[1].partition(":")
        headers[name.strip()] = value.strip()
        args = args[2:]
    if len(args) != 2 or args[0] not in ("run", "busy"):
        sys.exit(__doc__)
    mode, code = args

    if target.startswith("unix:"):
        conn = UnixHTTPConnection(target[5:], 30)
        ws_url, host = "ws://localhost", "localhost"
    elif target.startswith("http://"):
        host = target[7:].rstrip("/")
        conn = http.client.HTTPConnection(host, timeout=30)
        ws_url = "ws://" + host
    else:
        sys.exit("TARGET must be unix:PATH or http://HOST:PORT")

    conn.request("POST", base + "api/kernels", body="{}",
                 headers=dict(headers, **{"Content-Type": "application/json"}))
    r = conn.getresponse()
    body = r.read()
    if r.status != 201:
        sys.exit("POST %sapi/kernels: %d %s" % (base, r.status, body[:200]))
    kernel = json.loads(body)["id"]

    sock = None
    if target.startswith("unix:"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(30)
        sock.connect(target[5:])
    ws = websocket.create_connection(
        "%s%sapi/kernels/%s/channels" % (ws_url, base, kernel), timeout=30, socket=sock,
        header=["%s: %s" % kv for kv in headers.items()])
    msg_id = uuid.uuid4().hex
    ws.send(json.dumps({
        "header": {"msg_id": msg_id, "username": "e2e", "session": uuid.uuid4().hex,
                   "msg_type": "execute_request", "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": False,
                    "user_expressions": {}, "allow_stdin": False}}))
    while True:
        m = json.loads(ws.recv())
        if m.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if mode == "busy" and m["msg_type"] == "status" and \
                m["content"]["execution_state"] == "busy":
            print("busy")
            break
        if m["msg_type"] == "execute_result":
            print(m["content"]["data"]["text/plain"])
            break
        if m["msg_type"] == "error":
            sys.exit("the kernel says: %s: %s" % (m["content"]["ename"], m["content"]["evalue"]))
    ws.close()


if __name__ == "__main__":
    main()
