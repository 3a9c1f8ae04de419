"""Training jobs on Dask: what the job system costs.

Prints a markdown table of
- steps/s of one job through the job system (HTTP API -> LocalCluster worker process -> events)
  against the bare training loop in this process, with and without the job's progress callbacks
  (target: job / bare >= 0.8);
- seconds from submit (POST) to the first progress event on the SSE stream, and to "running";
- N concurrent jobs: aggregate steps/s and wall time.

- with ``--playground N``: N jobs at once on each of TensorFlow Playground's configurations
  (per run examples/s against the Playground's, as bench_training.py's table) and on the
  canonical example, submitted together with no stream read (the N concurrent jobs above each
  follow their SSE stream, as a class's browsers would); then the same burst with the jobs'
  progress events off, which shows what the progress frames cost.

    python bench/bench_jobs.py [--epochs 1000] [--concurrency 1 2 4] [--workers 1] [--threads 2]
                               [--playground 30]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient  # noqa: E402

from server.app import create_app  # noqa: E402
from server.config import Settings  # noqa: E402
from server.jobs import EVENT_INTERVALS_S, _encoded, _Throttle, _train  # noqa: E402
from server.schemas.jobs import EXAMPLE_CONFIG  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_training import HIDDEN, playground_config  # noqa: E402
from bench_training import PLAYGROUND as PG_RATES  # noqa: E402


def bare(config: dict, callbacks: bool) -> tuple[float, float]:
    """(steps per second, steps per CPU second) of compute.nn.train in this process, with the
    job's callbacks or none."""
    from compute.nn.config import TrainConfig
    from compute.nn.train import train

    t0, c0 = time.perf_counter(), time.process_time()
    if callbacks:  # exactly the job's work without Dask: throttled, encoded events
        result, _ = _train(config, _Throttle(lambda k, e: _encoded(e), EVENT_INTERVALS_S), lambda: False)
        steps = result["steps"]
    else:
        steps = train(TrainConfig.from_dict(config)).steps
    return steps / (time.perf_counter() - t0), steps / (time.process_time() - c0)


def _ts(s: str) -> float:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def one_job(c: TestClient, config: dict) -> dict:
    """Submit, follow the SSE stream to the end; timings seen by the client and by the worker."""
    t0 = time.perf_counter()
    r = c.post("/api/v1/jobs", json={"config": config, "fresh": True})
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    first = running = None
    with c.stream("GET", f"/api/v1/jobs/{job_id}/events") as s:
        for line in s.iter_lines():
            if not line.startswith("data: "):
                continue
            ev = json.loads(line[6:])
            now = time.perf_counter() - t0
            if ev["type"] == "status" and ev["status"] == "running" and running is None:
                running = now
            if ev["type"] in ("step", "epoch") and first is None:
                first = now
    end = time.perf_counter() - t0
    j = c.get(f"/api/v1/jobs/{job_id}").json()
    assert j["status"] == "succeeded", j["error"]
    steps = j["result"]["steps"]
    return {
        "steps": steps,
        "end": end,
        "first": first,
        "running": running,
        "worker_s": _ts(j["finished"]) - _ts(j["started"]),
        "task_s": j["result"]["job"]["elapsed_s"],
        "cpu_s": j["result"]["job"]["cpu_s"],
        "test_accuracy": j["result"]["test_accuracy"],
    }


def concurrent(c: TestClient, config: dict, n: int) -> tuple[float, float]:
    """``n`` jobs (different seeds) submitted at once: (aggregate steps/s, wall seconds)."""
    out: list[dict] = []
    t0 = time.perf_counter()
    threads = [
        threading.Thread(target=lambda s=s: out.append(one_job(c, {**config, "seed": 1000 + s})))
        for s in range(n)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return sum(o["steps"] for o in out) / wall, wall


PLAYGROUND = {name: (HIDDEN[name], rate) for name, rate in PG_RATES.items()}


def _progress(on: bool) -> None:
    """In a worker (``client.run``): jobs report their progress (the default) or send no step
    or epoch events at all (``--playground``'s comparison of what progress costs)."""
    from compute.nn.train import Callbacks
    from server import jobs

    if not hasattr(jobs, "_bench_callbacks"):
        jobs._bench_callbacks = jobs._job_callbacks
    jobs._job_callbacks = jobs._bench_callbacks if on else (lambda tc, emit: Callbacks())


def _burst(c: TestClient, config: Callable[[int], dict], n: int) -> tuple[float, list[dict]]:
    svc = c.app.state.jobs
    t0 = time.perf_counter()
    ids = []
    for i in range(n):
        r = c.post("/api/v1/jobs", json={"config": config(i), "fresh": True})
        assert r.status_code == 202, r.text
        ids.append(r.json()["id"])
    while any(i in svc.active for i in ids):
        time.sleep(0.01)
    wall = time.perf_counter() - t0
    jobs = [c.get(f"/api/v1/jobs/{i}").json() for i in ids]
    assert all(j["status"] == "succeeded" for j in jobs), [j["error"] for j in jobs]
    return wall, jobs


def burst_jobs(c: TestClient, n: int, epochs: int) -> None:
    """``n`` jobs submitted at once (no streams read), per Playground net and for the canonical
    example: each run's examples over the wall time until all are done, against the
    Playground's examples/s; then the same burst with the jobs' progress events off (the
    worker's callbacks replaced), to show what a class's progress frames cost."""
    client = c.app.state.jobs.client
    print(f"\n### {n} jobs at once ({epochs} epochs), submitted together, all done\n")
    print("| net | all done | per run | x Playground | one job's Dask task (median) | "
          "progress off: all done, x Playground |")
    print("|---|---:|---:|---:|---:|---:|")
    nets = {**PLAYGROUND, "canonical moons 16-16": (None, None)}
    for name, (hidden, pg) in nets.items():
        def config(i: int, seed0: int = 100, hidden: list[int] | None = hidden) -> dict:
            return (playground_config(hidden, epochs, seed0 + i) if hidden is not None
                    else {**EXAMPLE_CONFIG, "epochs": epochs, "seed": seed0 + i})

        wall, jobs = _burst(c, config, n)
        c.portal.call(client.run, _progress, False)
        try:
            off, _ = _burst(c, lambda i: config(i, 500), n)
        finally:
            c.portal.call(client.run, _progress, True)
        task = statistics.median(j["result"]["job"]["elapsed_s"] for j in jobs)
        if pg is None:
            print(f"| {name} | {wall:.2f} s | | | {task * 1e3:.0f} ms | {off:.2f} s |")
            continue
        per_run = epochs * 250 / wall
        print(f"| {name} | {wall:.2f} s | {per_run:,.0f} ex/s | {per_run / pg:.3f} | "
              f"{task * 1e3:.0f} ms | {off:.2f} s, {epochs * 250 / off / pg:.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--epochs", type=int, default=1000, help="epochs of the timed run (example: 200)"
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--workers", type=int, default=1, help="LocalCluster worker processes")
    ap.add_argument("--threads", type=int, default=2, help="threads per worker")
    ap.add_argument("--playground", type=int, default=0, metavar="N",
                    help="also N concurrent jobs on each Playground configuration")
    args = ap.parse_args()
    config = {**EXAMPLE_CONFIG, "epochs": args.epochs}

    bare(config, True)  # imports, kernel compilation

    settings = Settings(
        data_dir=tempfile.mkdtemp(prefix="bench-jobs-"),
        local_workers=args.workers,
        local_threads_per_worker=args.threads,
        queue_limit=1000,
    )
    t_start = time.perf_counter()
    with TestClient(create_app(settings)) as c:
        startup = time.perf_counter() - t_start
        while not c.app.state.jobs.ready:
            time.sleep(0.05)
        ready = time.perf_counter() - t_start
        cold = one_job(c, {**config, "epochs": 5, "seed": 999})  # first job of a fresh worker
        plain, with_cb, runs = [], [], []
        for i in range(args.repeats):  # interleaved, so that a change of load hits all three
            plain.append(bare(config, False))
            with_cb.append(bare(config, True))
            runs.append(one_job(c, {**config, "seed": 2000 + i}))
        conc = {n: concurrent(c, config, n) for n in args.concurrency}
        if args.playground:
            burst_jobs(c, args.playground, args.epochs)

    def med(xs: list[tuple[float, float]], i: int) -> float:
        return statistics.median(x[i] for x in xs)

    bare_plain, bare_plain_cpu = med(plain, 0), med(plain, 1)
    bare_cb, bare_cb_cpu = med(with_cb, 0), med(with_cb, 1)

    job_worker = statistics.median(r["steps"] / r["worker_s"] for r in runs)
    job_task = statistics.median(r["steps"] / r["task_s"] for r in runs)
    job_cpu = statistics.median(r["steps"] / r["cpu_s"] for r in runs)
    job_e2e = statistics.median(r["steps"] / r["end"] for r in runs)
    first = statistics.median(r["first"] for r in runs)
    running = statistics.median(r["running"] for r in runs)
    steps = runs[0]["steps"]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    print(
        f"\n### Training jobs: {steps} steps (moons n=1000, MLP 16-16 tanh, adam, batch 64, "
        f"{args.epochs} epochs); LocalCluster {args.workers} worker x {args.threads} threads; "
        f"{os.cpu_count()} CPUs, load average {load:.1f}\n"
    )
    print("| measure | value |")
    print("| --- | --- |")
    print(
        f"| bare loop, no callbacks | {bare_plain:,.0f} steps/s ({bare_plain_cpu:,.0f} per CPU s) |"
    )
    print(
        f"| bare loop, the job's callbacks (events built, encoded, dropped) | {bare_cb:,.0f} steps/s "
        f"({bare_cb_cpu:,.0f} per CPU s) |"
    )
    print(
        f"| job: the Dask task | {job_task:,.0f} steps/s ({job_cpu:,.0f} per CPU s of the worker) |"
    )
    print(f"| job: started → finished, as the server saw it | {job_worker:,.0f} steps/s |")
    print(f"| job: end to end (POST → final SSE event) | {job_e2e:,.0f} steps/s |")
    print(
        f"| **job task / bare with callbacks** (wall; per CPU s) | **{job_task / bare_cb:.2f}**; "
        f"{job_cpu / bare_cb_cpu:.2f} |"
    )
    print(f"| job end to end / bare with callbacks | {job_e2e / bare_cb:.2f} |")
    print(
        f"| job task / bare without callbacks (wall; per CPU s) | {job_task / bare_plain:.2f}; "
        f"{job_cpu / bare_plain_cpu:.2f} |"
    )
    print(f"| POST → first progress event (warm worker) | {first * 1000:.0f} ms |")
    print(f"| POST → running (warm worker) | {running * 1000:.0f} ms |")
    print(
        f"| POST → first progress event (first job of a fresh worker) | {cold['first'] * 1000:.0f} ms |"
    )
    print(f"| app startup (lifespan) / cluster ready | {startup:.2f} s / {ready:.2f} s |")
    base = conc[min(conc)][0]
    for n, (rate, wall) in conc.items():
        print(
            f"| {n} concurrent job(s): aggregate | {rate:,.0f} steps/s ({rate / base:.2f}x), "
            f"{wall:.2f} s wall |"
        )
    print(f"| test accuracy of the timed runs | {min(r['test_accuracy'] for r in runs):.3f} |")


if __name__ == "__main__":  # worker processes are spawned: keep the entry point guarded
    main()
