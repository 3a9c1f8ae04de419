"""A class pressing Run at once, on a real server: ``mathlens`` under uvicorn in its own process,
N jobs posted concurrently over HTTP and each followed on its SSE stream to its final event, as
N browsers would.

``bench_jobs.py`` drives the app in-process through Starlette's TestClient, whose requests cost
~3.5 ms each of the bench's own CPU and come one at a time. Here the requests and streams are
real sockets (an asyncio httpx client in this process, the server in another), so the figure
includes the server's HTTP and SSE work for every student's stream.

Prints, per configuration, the wall time from the first POST to the last stream's end, the time
to each job's first progress event (median, max) and, for TensorFlow Playground's nets, each
run's examples/s against the Playground's.

    python bench/bench_classroom.py [--students 30] [--repeats 2] [--epochs 200 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_training import HIDDEN, PLAYGROUND, playground_config  # noqa: E402

from server.schemas.jobs import EXAMPLE_CONFIG  # noqa: E402


def _config(name: str, epochs: int, seed: int) -> dict:
    if name == "canonical":
        return {**EXAMPLE_CONFIG, "epochs": epochs, "seed": seed}
    return playground_config(HIDDEN[name], epochs, seed)


async def _student(cl: httpx.AsyncClient, config: dict, t0: float) -> dict:
    r = await cl.post("/api/v1/jobs", json={"config": config, "fresh": True})
    r.raise_for_status()
    job_id = r.json()["id"]
    first = status = None
    async with cl.stream("GET", f"/api/v1/jobs/{job_id}/events") as s:
        async for line in s.aiter_lines():
            if not line.startswith("data: "):
                continue
            ev = json.loads(line[6:])
            if ev.get("type") in ("step", "epoch") and first is None:
                first = time.perf_counter() - t0
            if ev.get("type") == "status":
                status = ev.get("status")
    return {"id": job_id, "first": first, "status": status, "end": time.perf_counter() - t0}


async def _class(cl: httpx.AsyncClient, name: str, n: int, epochs: int, seed0: int) -> dict:
    t0 = time.perf_counter()
    runs = await asyncio.gather(*[_student(cl, _config(name, epochs, seed0 + i), t0)
                                  for i in range(n)])
    wall = time.perf_counter() - t0
    bad = [r for r in runs if r["status"] != "succeeded"]
    if bad:
        raise RuntimeError(f"{len(bad)} of {n} jobs did not succeed: {bad[:2]}")
    firsts = [r["first"] for r in runs if r["first"] is not None]
    return {"wall": wall, "first_med": statistics.median(firsts), "first_max": max(firsts)}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def main_async(args: argparse.Namespace) -> None:
    port = _free_port()
    env = {**os.environ, "MATHLENS_DATA_DIR": tempfile.mkdtemp(prefix="bench-class-"),
           "MATHLENS_QUEUE_LIMIT": str(max(64, 2 * args.students))}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "server.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=ROOT, env=env)
    limits = httpx.Limits(max_connections=4 * args.students)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=600,
                                     limits=limits) as cl:
            for _ in range(300):
                try:
                    if (await cl.get("/api/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
            names = ["canonical", *PLAYGROUND]
            for epochs in args.epochs:  # a first class warms the worker (imports, kernels)
                for name in names:
                    await _class(cl, name, 16, epochs, 5)
            print(f"\n### {args.students} students press Run at once (uvicorn, one LocalCluster "
                  f"worker x 2 threads, {os.cpu_count()} CPUs), each following its SSE stream\n")
            print("| run | epochs | all done | first progress event: median, slowest "
                  "| per run x Playground |")
            print("|---|---:|---:|---:|---:|")
            for rep in range(args.repeats):
                for epochs in args.epochs:
                    for name in names:
                        m = await _class(cl, name, args.students, epochs, 1000 * (rep + 1))
                        pg = (f"{epochs * 250 / m['wall'] / PLAYGROUND[name]:.3f}"
                              if name in PLAYGROUND else "")
                        print(f"| {name} | {epochs} | {m['wall']:.2f} s | "
                              f"{m['first_med'] * 1e3:.0f} ms, {m['first_max'] * 1e3:.0f} ms | "
                              f"{pg} |", flush=True)
    finally:
        server.terminate()
        server.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--epochs", type=int, nargs="+", default=[200, 2000])
    asyncio.run(main_async(ap.parse_args()))


if __name__ == "__main__":
    main()
