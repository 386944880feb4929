#!/usr/bin/env python3
"""model_client.py SOCKET — the daemon's side of kaon-model-worker's line
protocol, for the tests: each line of stdin is sent as one request over one
connection, and each answer line is printed as it comes."""
import socket
import sys

sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.settimeout(60)
sock.connect(sys.argv[1])
reader = sock.makefile("rb")
for line in sys.stdin.buffer:
    sock.sendall(line if line.endswith(b"\n") else line + b"\n")
    answer = reader.readline()
    if not answer:
        sys.exit("model_client: the worker closed the connection")
    sys.stdout.write(answer.decode("utf-8"))
    sys.stdout.flush()
