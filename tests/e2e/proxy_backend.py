#!/usr/bin/python3
"""tests/e2e/proxy_backend.py — a fake session backend for the proxy's
tests and benchmark (standard library only, one asyncio process).

    proxy_backend.py (--unix PATH | --port N) --base /s/ID/ [--log FILE]

It keeps the backend contract of docs/sessions.md: it serves only below
--base and answers 403 to any request without `Authorization: token
SECRET` (SECRET from $KAON_SESSION_SECRET). Prints "ready" on stdout once
it listens. Below the base:

    ""              200, a short text
    echo            200, JSON: method, target, headers ([[name, value]...]),
                    body_len and body_sha256 of the request body
    upload          the same, for large bodies (hashed as they arrive)
    big?bytes=N     N bytes of the test pattern, with Content-Length
    chunked?bytes=N&chunk=K   the same, chunked (K-byte chunks, extensions
                    and a trailer thrown in)
    close?bytes=N   the same, delimited by closing the connection
    slow?ms=N       answers after N ms
    status?code=N   answers status N
    bighead?kb=N    an answer whose head is N KiB
    setcookie       sets kaon_session=evil (the proxy must drop it) and x=1
    garbage         answers something that is not HTTP
    hangup          closes without answering
    ws              a WebSocket that echoes every frame (ping -> pong)
    stats           JSON: connections and websockets open now, connections
                    accepted so far
    early           413 at once, without reading the body, then holds the
                    connection open for 10 s without reading
    dropnext        200, and the next request on this connection is
                    dropped unanswered (a kept connection that went stale)

The test pattern is bytes(range(256)) repeated. With --log, each request
head is appended to FILE as one JSON line.
"""
import argparse
import asyncio
import base64
import hashlib
import json
import os
import sys
import urllib.parse

PATTERN = bytes(range(256)) * 1024  # 256 KiB
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
SECRET = os.environ.get("KAON_SESSION_SECRET", "")
STATS = {"connections": 0, "websockets": 0, "accepted": 0}


def pattern(n):
    """Yield n bytes of the pattern in pieces."""
    while n > 0:
        k = min(n, len(PATTERN))
        yield PATTERN[:k]
        n -= k


async def read_head(reader):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    lines = head[:-4].decode("latin-1").split("\r\n")
    method, target, _version = lines[0].split(" ", 2)
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers.append((name, value.strip()))
    return method, target, headers


def hget(headers, name):
    for n, v in headers:
        if n.lower() == name.lower():
            return v
    return None


async def read_body(reader, headers, sink):
    """Feed the request body to sink(bytes); returns its length."""
    total = 0
    te = (hget(headers, "Transfer-Encoding") or "").lower()
    if "chunked" in te:
        while True:
            line = await reader.readuntil(b"\r\n")
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":
                    pass
                return total
            left = size
            while left:
                data = await reader.read(min(left, 1 << 16))
                if not data:
                    raise ConnectionError("body cut short")
                sink(data)
                left -= len(data)
                total += len(data)
            await reader.readexactly(2)
    n = int(hget(headers, "Content-Length") or 0)
    while total < n:
        data = await reader.read(min(n - total, 1 << 16))
        if not data:
            raise ConnectionError("body cut short")
        sink(data)
        total += len(data)
    return total


def response(status, body=b"", ctype="text/plain", extra=()):
    reason = {200: "OK", 403: "Forbidden", 404: "Not Found", 101: "Switching Protocols"}.get(status, "Status")
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
    for n, v in extra:
        head += f"{n}: {v}\r\n"
    return head.encode() + b"\r\n" + body


async def websocket(reader, writer, headers):
    key = hget(headers, "Sec-WebSocket-Key") or ""
    accept = base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()
    writer.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n").encode())
    # A frame sent right behind the 101 head: the proxy must pass on bytes
    # that came with the head.
    hello = b"backend-hello"
    writer.write(bytes([0x82, len(hello)]) + hello)
    STATS["websockets"] += 1
    try:
        while True:
            b0, b1 = await reader.readexactly(2)
            opcode, masked, n = b0 & 0x0F, b1 & 0x80, b1 & 0x7F
            if n == 126:
                n = int.from_bytes(await reader.readexactly(2), "big")
            elif n == 127:
                n = int.from_bytes(await reader.readexactly(8), "big")
            mask = await reader.readexactly(4) if masked else b"\0\0\0\0"
            data = bytearray(await reader.readexactly(n))
            for i in range(n):
                data[i] ^= mask[i % 4]
            if opcode == 9:
                b0 = 0x8A  # ping -> pong
            if n < 126:
                hdr = bytes([b0, n])
            elif n < 65536:
                hdr = bytes([b0, 126]) + n.to_bytes(2, "big")
            else:
                hdr = bytes([b0, 127]) + n.to_bytes(8, "big")
            writer.write(hdr + bytes(data))
            await writer.drain()
            if opcode == 8:
                break
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        STATS["websockets"] -= 1


async def handle_one(reader, writer, args, log, conn):
    req = await read_head(reader)
    if req is None:
        return False
    if conn.get("drop"):
        return False
    method, target, headers = req
    if log:
        log.write(json.dumps({"method": method, "target": target, "headers": headers}) + "\n")
        log.flush()
    keep = (hget(headers, "Connection") or "").lower() != "close"
    if hget(headers, "Authorization") != f"token {SECRET}" or not SECRET:
        await read_body(reader, headers, lambda d: None)
        writer.write(response(403, b"forbidden: this backend wants its session secret\n"))
        return keep
    url = urllib.parse.urlsplit(target)
    if not url.path.startswith(args.base):
        writer.write(response(404, b"not below the base URL\n"))
        return keep
    name = url.path[len(args.base):]
    q = dict(urllib.parse.parse_qsl(url.query))
    n = int(q.get("bytes", 0))
    if name == "ws" and (hget(headers, "Upgrade") or "").lower() == "websocket":
        await websocket(reader, writer, headers)
        return False
    if name == "early":
        writer.write(response(413, b"too large for me\n"))
        await writer.drain()
        await asyncio.sleep(10)
        return False
    h = hashlib.sha256()
    body_len = await read_body(reader, headers, h.update)
    if name in ("echo", "upload"):
        out = {"method": method, "target": target, "headers": headers,
               "body_len": body_len, "body_sha256": h.hexdigest()}
        writer.write(response(200, json.dumps(out).encode() + b"\n", "application/json"))
    elif name == "":
        writer.write(response(200, b"hello from the session backend"))
    elif name == "big":
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                     f"Content-Length: {n}\r\n\r\n".encode())
        if method != "HEAD":
            for piece in pattern(n):
                writer.write(piece)
                await writer.drain()
    elif name == "chunked":
        k = max(1, int(q.get("chunk", 1000)))
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        sent, i = 0, 0
        for piece in pattern(n):
            for off in range(0, len(piece), k):
                part = piece[off:off + k]
                ext = b";ext=1" if i % 7 == 3 else b""
                writer.write(b"%x%s\r\n" % (len(part), ext) + part + b"\r\n")
                sent += len(part)
                i += 1
            await writer.drain()
        writer.write(b"0\r\nX-Trailer: done\r\n\r\n")
    elif name == "close":
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                     b"Connection: close\r\n\r\n")
        for piece in pattern(n):
            writer.write(piece)
            await writer.drain()
        return False
    elif name == "slow":
        await asyncio.sleep(int(q.get("ms", 100)) / 1000)
        writer.write(response(200, b"slow answer\n"))
    elif name == "status":
        code = int(q.get("code", 200))
        writer.write(response(code, f"status {code}\n".encode()))
    elif name == "bighead":
        pad = "x" * 1000
        extra = [(f"X-Pad-{i}", pad) for i in range(int(q.get("kb", 100)))]
        writer.write(response(200, b"big head\n", extra=extra))
    elif name == "setcookie":
        writer.write(response(200, b"cookies\n", extra=[
            ("Set-Cookie", "kaon_session=evil; Path=/"), ("Set-Cookie", "x=1; Path=/s/")]))
    elif name == "garbage":
        writer.write(b"SPDY/9 what is this\r\n\r\n")
        return False
    elif name == "hangup":
        return False
    elif name == "dropnext":
        conn["drop"] = True
        writer.write(response(200, b"the next request on this connection is dropped\n"))
    elif name == "stats":
        writer.write(response(200, json.dumps(STATS).encode(), "application/json"))
    else:
        writer.write(response(404, b"no such thing here\n"))
    return keep


async def serve(reader, writer, args, log):
    STATS["connections"] += 1
    STATS["accepted"] += 1
    conn = {}
    try:
        while await handle_one(reader, writer, args, log, conn):
            await writer.drain()
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError, ValueError):
        pass
    finally:
        STATS["connections"] -= 1
        writer.close()


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--unix")
    p.add_argument("--port", type=int)
    p.add_argument("--base", required=True)
    p.add_argument("--log")
    args = p.parse_args()
    log = open(args.log, "a") if args.log else None
    cb = lambda r, w: serve(r, w, args, log)  # noqa: E731
    if args.unix:
        server = await asyncio.start_unix_server(cb, path=args.unix, limit=1 << 20, backlog=1024)
        os.chmod(args.unix, 0o600)
    else:
        server = await asyncio.start_server(cb, "127.0.0.1", args.port, limit=1 << 20, backlog=1024)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
