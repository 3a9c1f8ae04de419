"""What a training job costs over the bare loop, measured inside one Dask worker process.

``bench_jobs.py`` compares a job (in the worker) with the bare loop (in the bench's process), and
on a VM whose speed drifts the two sides can land in different phases. Here all three run in the
same worker, interleaved, ``--repeats`` times each:

- ``bare``: ``compute.nn.train(config)``, no callbacks;
- ``callbacks``: the job's training with its progress callbacks (events built and encoded, then
  dropped);
- ``job task``: ``server.jobs.run_training``, the whole Dask task of a job (events sent through
  ``log_event``, the cancel watcher, the result).

    python bench/bench_job_overhead.py [--epochs 2000] [--repeats 8] [--playground 2-4-2-1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def probe(config: dict, variant: str, i: int) -> float:
    """Seconds of one variant, run in the worker."""
    from compute.nn import TrainConfig, train
    from server.jobs import EVENT_INTERVALS_S, _encoded, _Throttle, _train, run_training

    t = time.perf_counter()
    if variant == "bare":
        train(TrainConfig.from_dict(config))
    elif variant == "callbacks":
        _train(config, _Throttle(lambda k, e: _encoded(e), EVENT_INTERVALS_S), lambda: False)
    else:
        run_training(f"bench-overhead-{i}-{time.time_ns()}", config, 600.0)
    return time.perf_counter() - t


def main() -> None:
    from distributed import Client, LocalCluster

    from server.schemas.jobs import EXAMPLE_CONFIG

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=8)
    ap.add_argument("--playground", choices=["2-8-8-8-1", "2-4-2-1"],
                    help="a TensorFlow Playground configuration instead of the canonical example")
    args = ap.parse_args()
    if args.playground:
        from bench_jobs import PLAYGROUND, playground_config

        config = playground_config(PLAYGROUND[args.playground][0], args.epochs, 0)
    else:
        config = {**EXAMPLE_CONFIG, "epochs": args.epochs}
    variants = ("bare", "callbacks", "job task")
    times: dict[str, list[float]] = {v: [] for v in variants}
    with (
        LocalCluster(n_workers=1, threads_per_worker=2, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        for v in variants:  # imports, kernel compilation, the worker's client
            client.submit(probe, config, v, -1, pure=False).result()
        for i in range(args.repeats):
            for v in variants:
                times[v].append(client.submit(probe, config, v, i, pure=False).result())
    med = {v: statistics.median(ts) for v, ts in times.items()}
    best = {v: min(ts) for v, ts in times.items()}
    what = f"the Playground's {args.playground}" if args.playground else "the canonical example"
    print(f"\n{args.epochs} epochs of {what}, one worker, {args.repeats} of each:\n")
    print("| | median | fastest | bare ÷ this (median; fastest) |")
    print("|---|---:|---:|---:|")
    for v in variants:
        print(f"| {v} | {med[v] * 1e3:.0f} ms | {best[v] * 1e3:.0f} ms | "
              f"{med['bare'] / med[v]:.2f}; {best['bare'] / best[v]:.2f} |")


if __name__ == "__main__":  # worker processes are spawned: keep the entry point guarded
    main()
