#!/usr/bin/python3
"""bench/models.py — the Python side of bench/models (run with Debian's
/usr/bin/python3, which has the models' packages).

    models.py inproc DIR MODULE KWARGS_JSON N
        The baseline: import MODULE with the model folder DIR first on
        sys.path (as kaon's worker does), warm() it, then call
        predict(**KWARGS) N times in a loop, timing each call. Prints
        "p50_us p99_us calls_per_s" (calls/s from the total time).

    models.py direct SOCKET LINE N
        The worker alone: N requests of the line protocol (LINE, one JSON
        object) to a `kaon-model-worker serve` on SOCKET, one at a time on
        one connection, as kaon sends them. Prints "p50_us p99_us".

    models.py deepaas PORT WORKERS NAME=DIR:MODULE...
        A server of the shape DEEPaaS 2.x is (DEEPaaS itself cannot be
        installed here: it is not packaged for Debian): one aiohttp
        application; POST /v2/models/NAME/predict/ parses its arguments
        from the query string with webargs' aiohttp parser and the module's
        get_predict_args(), then runs predict() in one of WORKERS
        single-process pools started with the spawn method, each of which
        imported the module and ran warm() once (DEEPaaS's CancellablePool
        and --workers), waiting for a free one; the answer is
        {"status": "OK", "predictions": VALUE}, 422 for bad arguments.
        Prints "ready" once every pool is warm; SIGTERM stops it.

Nothing here is a test: the numbers are read by bench/models.
"""

import asyncio
import contextlib
import importlib
import json
import os
import signal
import socket
import sys
import time
import warnings

# DEEPaaS-style modules pass field metadata as keyword arguments, which
# marshmallow 3 warns about on every import.
warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", message=".*Passing field metadata")
warnings.filterwarnings("ignore", message=".*The 'missing'")


def load(model_dir, module):
    model_dir = os.path.realpath(model_dir)
    if model_dir not in sys.path:
        sys.path.insert(0, model_dir)
    os.chdir(model_dir)
    # What the model prints is a log, as in kaon's worker: stdout carries
    # only our numbers.
    with contextlib.redirect_stdout(sys.stderr):
        mod = importlib.import_module(module)
        if hasattr(mod, "warm"):
            mod.warm()
    return mod


def pct(samples, q):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * q))]


def cmd_inproc(model_dir, module, kwargs_json, n):
    mod = load(model_dir, module)
    kwargs = json.loads(kwargs_json)
    n = int(n)
    for _ in range(min(200, n)):  # warm caches, as the other runs do
        mod.predict(**kwargs)
    lat = []
    clock = time.perf_counter_ns
    t0 = clock()
    for _ in range(n):
        t = clock()
        mod.predict(**kwargs)
        lat.append(clock() - t)
    total = clock() - t0
    print("%.1f %.1f %.1f" % (pct(lat, 0.5) / 1e3, pct(lat, 0.99) / 1e3,
                              n / (total / 1e9)))


def cmd_direct(sock_path, line, n):
    n = int(n)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    reader = s.makefile("rb")
    data = (line.strip() + "\n").encode()
    lat = []
    for i in range(200 + n):
        t = time.perf_counter_ns()
        s.sendall(data)
        answer = reader.readline()
        dt = time.perf_counter_ns() - t
        if i == 0 and json.loads(answer).get("status") != 200:
            sys.exit("direct: the worker answered %s" % answer[:300])
        if i >= 200:
            lat.append(dt)
    print("%.1f %.1f" % (pct(lat, 0.5) / 1e3, pct(lat, 0.99) / 1e3))


# ---- the DEEPaaS-shaped server ------------------------------------------------

_mod = None  # in each pool's process


def _pool_init(model_dir, module):
    global _mod
    _mod = load(model_dir, module)


def _pool_ping():
    return os.getpid()


def _pool_predict(kwargs):
    return _mod.predict(**kwargs)


def cmd_deepaas(port, workers, specs):
    import concurrent.futures
    import multiprocessing

    from aiohttp import web
    from marshmallow import ValidationError
    from webargs.aiohttpparser import parser

    workers = int(workers)
    ctx = multiprocessing.get_context("spawn")
    models = {}
    for spec in specs:
        name, rest = spec.split("=", 1)
        model_dir, module = rest.rsplit(":", 1)
        # The routes' argument maps come from the module, imported once in
        # this process too, as DEEPaaS does to build its routes.
        sys.path.insert(0, os.path.realpath(model_dir))
        mod = importlib.import_module(module)
        argmap = mod.get_predict_args() if hasattr(mod, "get_predict_args") else {}
        pools = [concurrent.futures.ProcessPoolExecutor(
            max_workers=1, mp_context=ctx, initializer=_pool_init,
            initargs=(model_dir, module)) for _ in range(workers)]
        models[name] = (argmap, pools)
        sys.path.remove(os.path.realpath(model_dir))
        del sys.modules[module]

    async def predict(request):
        model = models.get(request.match_info["name"])
        if model is None:
            raise web.HTTPNotFound()
        argmap, _ = model
        try:
            args = await parser.parse(argmap, request, location="query")
        except ValidationError as e:
            return web.json_response(e.messages, status=422)
        free = request.app["free"][request.match_info["name"]]
        pool = await free.get()
        try:
            value = await asyncio.wrap_future(pool.submit(_pool_predict, args))
        finally:
            free.put_nowait(pool)
        return web.json_response({"status": "OK", "predictions": value})

    async def start(app):
        app["free"] = {}
        for name, (_, pools) in models.items():
            q = asyncio.Queue()
            # Start and warm every pool's process before saying ready.
            await asyncio.gather(*(asyncio.wrap_future(p.submit(_pool_ping))
                                   for p in pools))
            for p in pools:
                q.put_nowait(p)
            app["free"][name] = q
        print("ready", flush=True)

    app = web.Application()
    app.router.add_post("/v2/models/{name}/predict/", predict)
    app.on_startup.append(start)

    def stop(signum, frame):
        # The pools' processes would outlive an os._exit: end each, by
        # its pid, and wait for it.
        procs = [proc for _, pools in models.values() for p in pools
                 for proc in list(getattr(p, "_processes", {}).values())]
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.join(5)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    web.run_app(app, host="127.0.0.1", port=int(port), print=None,
                access_log=None, handle_signals=False)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "inproc" and len(args) == 4:
        cmd_inproc(*args)
    elif cmd == "direct" and len(args) == 3:
        cmd_direct(*args)
    elif cmd == "deepaas" and len(args) >= 3:
        cmd_deepaas(args[0], args[1], args[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
