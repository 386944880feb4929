#!/usr/bin/python3
# tests/e2e/model_worker_fake.py — a stand-in for kaon-model-worker in
# modelpool_test.sh: `serve DIR --socket PATH` speaks the worker protocol
# (docs/models.md: one JSON object per line each way over a unix socket,
# one connection at a time, `ready` on stdout once listening) without any
# model. Its predict is steered by the arguments:
#   sleep: seconds to take;  gate: a path, wait until it exists (so a
#   test decides when busy workers finish);  crash: die mid-request;
#   accept image/png: answer with a file of `size` bytes (default 100);
#   otherwise {"status":"OK","predictions":{"pid","job","gpus","cwd","args"}}
#   (gpus: its CUDA_VISIBLE_DEVICES).
import json
import os
import socket
import sys
import tempfile
import time


def answer(req, tmpdir):
    if req.get("op") == "ping":
        return {"status": 200}
    args = req.get("args") or {}
    if args.get("sleep"):
        time.sleep(float(args["sleep"]))
    if args.get("gate"):
        give_up = time.monotonic() + 60
        while not os.path.exists(args["gate"]) and time.monotonic() < give_up:
            time.sleep(0.02)
    if args.get("crash"):
        os._exit(3)
    if args.get("status"):
        return {"status": int(args["status"]), "message": "asked to fail"}
    if req.get("accept") == "image/png":
        fd, path = tempfile.mkstemp(dir=tmpdir, suffix=".png")
        with os.fdopen(fd, "wb") as f:
            f.write(b"\x89PNG" + b"x" * (int(args.get("size", 100)) - 4))
        return {"status": 200, "content_type": "image/png", "path": path}
    return {"status": 200, "content_type": "application/json",
            "json": {"status": "OK", "predictions": {
                "pid": os.getpid(), "job": os.environ.get("KAON_JOB_ID"),
                "gpus": os.environ.get("CUDA_VISIBLE_DEVICES"),
                "cwd": os.getcwd(), "args": args}}}


def main():
    if len(sys.argv) != 5 or sys.argv[1] != "serve" or sys.argv[3] != "--socket":
        print("usage: model_worker_fake.py serve DIR --socket PATH", file=sys.stderr)
        return 2
    path = sys.argv[4]
    tmpdir = tempfile.mkdtemp(prefix="fake-worker-")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    srv.bind(path)
    srv.listen(4)
    print("ready", flush=True)
    while True:
        conn, _ = srv.accept()
        with conn, conn.makefile("rwb") as f:
            for line in f:
                out = answer(json.loads(line), tmpdir)
                try:
                    f.write(json.dumps(out).encode() + b"\n")
                    f.flush()
                except OSError:
                    break  # the daemon gave up on this request


if __name__ == "__main__":
    sys.exit(main())
