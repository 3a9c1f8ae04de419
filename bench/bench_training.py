"""Training throughput against TensorFlow Playground's configurations; prints a markdown table.

Playground setup: spiral, 500 points (half for training), 2-8-8-8-1 and 2-4-2-1 tanh networks,
squared error on a tanh output, SGD lr 0.03, an update every 10 examples (batch 10, gradients
averaged). Figures are training examples per second:

  (a) a plain PyTorch loop (float32, no evaluation),
  (b) ``compute.nn.train`` (auto -> the lean path; also forced to torch), with per-epoch
      full-set evaluation of train and test sets, as Playground does after every epoch,
  (c) the lean path alone: one run through the fused numba kernel (the config's float32, as
      torch's default; per-epoch eval);
      30 runs one after another on ``--threads`` threads (the single-run kernel alone);
      30 runs as the SIMD lanes of ``compute.nn.lanes`` (groups of up to 16 runs per kernel call,
      the groups on ``--threads`` threads: the kernel alone, and ``train_many`` with setup and
      results), per-run figure.

Targets: one run >= 1x Playground; each of 30 concurrent runs >= 0.5x. Run:
``python bench/bench_training.py [--repeat 3] [--threads 2] [--runs 30]``. Timings are wall
clock on whatever machine runs it; the CPU count and load average are printed with them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from compute.nn import TrainConfig, make_dataset, train, train_many  # noqa: E402
from compute.nn.lanes import train_group  # noqa: E402
from compute.nn.lean import LeanRun, n_outputs, run_chunk  # noqa: E402
from compute.nn.models import MLPShape  # noqa: E402

PLAYGROUND = {"2-8-8-8-1": 500_000.0, "2-4-2-1": 2_200_000.0}  # examples/s, as given in the brief
HIDDEN = {"2-8-8-8-1": [8, 8, 8], "2-4-2-1": [4, 2]}


def playground_config(hidden: list[int], epochs: int, seed: int = 0) -> dict:
    """TensorFlow Playground's setup as a MathLens config (also what bench_jobs submits)."""
    return {
        "dataset": {
            "name": "spirals",
            "n_samples": 500,
            "noise": 0.0,
            "test_fraction": 0.5,
            "seed": seed,
        },
        "model": {"hidden": hidden, "activation": "tanh"},
        "loss": "mse",
        "optimizer": {"name": "sgd", "lr": 0.03},
        "epochs": epochs,
        "batch_size": 10,
        "seed": seed,
    }


def config(hidden: list[int], epochs: int, seed: int = 0, **over) -> TrainConfig:
    return TrainConfig.from_dict({**playground_config(hidden, epochs, seed), "device": "cpu", **over})


class Timer:
    """Wall and CPU seconds (CPU: all threads of this process) of a ``with`` block."""

    def __enter__(self) -> Timer:
        self.w, self.c = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self.w
        self.cpu = time.process_time() - self.c


def best_of(repeat: int, fn) -> tuple[float, float]:
    """Best (examples per wall second, examples per CPU second) of ``fn() -> (examples, Timer)``."""
    wall = cpu = 0.0
    for _ in range(repeat):
        ex, t = fn()
        wall, cpu = max(wall, ex / t.wall), max(cpu, ex / t.cpu)
    return wall, cpu


def plain_torch(hidden: list[int], epochs: int) -> tuple[int, Timer]:
    torch.set_num_threads(1)
    data = make_dataset("spirals", n_samples=500, noise=0.0, test_fraction=0.5, seed=0)
    X = torch.tensor(data.X_train)
    T = torch.tensor(np.where(data.y_train == 1, 1.0, -1.0), dtype=torch.float32)[:, None]
    torch.manual_seed(0)
    layers, width = [], 2
    for h in hidden:
        layers += [torch.nn.Linear(width, h), torch.nn.Tanh()]
        width = h
    net = torch.nn.Sequential(*layers, torch.nn.Linear(width, 1))
    opt = torch.optim.SGD(net.parameters(), lr=0.03)
    g = torch.Generator().manual_seed(1)
    n = X.shape[0]
    with Timer() as t:
        for _ in range(epochs):
            perm = torch.randperm(n, generator=g)
            for s in range(0, n, 10):
                idx = perm[s : s + 10]
                loss = 0.5 * ((torch.tanh(net(X[idx])) - T[idx]) ** 2).sum(1).mean()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
    return epochs * n, t


def via_train(hidden: list[int], epochs: int, **over) -> tuple[int, Timer]:
    c = config(hidden, epochs, **over)
    with Timer() as t:
        r = train(c)
    return r.steps * 10, t


def lean_kernel(hidden: list[int], epochs: int) -> tuple[int, Timer]:
    c = config(hidden, epochs)
    data = make_dataset(**c.dataset)
    run = LeanRun(c, data, MLPShape.of(c.model, 2, n_outputs("mse", 2)))
    bufs = run.layout.buffers()
    run.perms.get(0, epochs - 1)  # draw the shuffles outside the timing
    with Timer() as t:
        run_chunk(run, 0, run.total_steps, bufs)  # no snapshots: no callbacks
    return run.total_steps * 10, t


def _runs(hidden: list[int], epochs: int, runs: int) -> list[LeanRun]:
    """``runs`` seeded lean runs with their shuffles drawn (outside any timing)."""
    rs = []
    for seed in range(runs):
        c = config(hidden, epochs, seed=seed)
        rs.append(
            LeanRun(c, make_dataset(**c.dataset), MLPShape.of(c.model, 2, 1))
        )
        rs[-1].perms.get(0, epochs - 1)
    return rs


def many_kernel(hidden: list[int], epochs: int, runs: int, threads: int) -> tuple[int, Timer]:
    """The single-run kernel alone for ``runs`` runs, one after another on ``threads`` threads
    (no setup, no results): per-run examples; CPU time / threads (each run's share of the cores)."""
    rs = _runs(hidden, epochs, runs)
    with ThreadPoolExecutor(threads) as pool, Timer() as t:
        list(pool.map(lambda r: run_chunk(r, 0, r.total_steps, r.layout.buffers()), rs))
    t.cpu /= threads
    return rs[0].total_steps * 10, t


def lanes_kernel(hidden: list[int], epochs: int, runs: int, threads: int) -> tuple[int, Timer]:
    """The lanes kernel alone: ``runs`` runs in groups of at most 16 (as even as the groups can
    be: 30 -> 15 + 15), the groups on ``threads`` threads; per-run examples."""
    rs = _runs(hidden, epochs, runs)
    k = -(-runs // 16)
    groups = [rs[i::k] for i in range(k)]
    with ThreadPoolExecutor(threads) as pool, Timer() as t:
        list(pool.map(train_group, groups))
    t.cpu /= threads
    return rs[0].total_steps * 10, t


def many(hidden: list[int], epochs: int, runs: int, threads: int) -> tuple[int, Timer]:
    """Per-run examples; CPU seconds divided by the threads (each run's share of the cores)."""
    configs = [config(hidden, epochs, seed=s) for s in range(runs)]
    with Timer() as t:
        results = train_many(configs, threads=threads)
    t.cpu /= threads
    return results[0].steps * 10, t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the epoch counts")
    args = ap.parse_args()
    sc = args.scale
    via_train(HIDDEN["2-4-2-1"], 1)  # compile (or load) the kernels before timing
    many(HIDDEN["2-4-2-1"], 1, 2, 1)
    rows = []
    for name, hidden in HIDDEN.items():
        pg = PLAYGROUND[name]
        fig = {
            "(a) plain PyTorch loop": best_of(
                args.repeat, lambda h=hidden: plain_torch(h, int(20 * sc))
            ),
            "(b) train(), backend torch": best_of(
                args.repeat, lambda h=hidden: via_train(h, int(20 * sc), backend="torch")
            ),
            "(b) train(), auto -> lean": best_of(
                args.repeat, lambda h=hidden: via_train(h, int(400 * sc))
            ),
            "(c) lean kernel, one run": best_of(
                args.repeat, lambda h=hidden: lean_kernel(h, int(400 * sc))
            ),
            f"(c) lean kernel, {args.runs} runs on {args.threads} threads, per run": best_of(
                args.repeat, lambda h=hidden: many_kernel(h, int(200 * sc), args.runs, args.threads)
            ),
            f"(c) lanes kernel, {args.runs} runs on {args.threads} threads, per run": best_of(
                args.repeat, lambda h=hidden: lanes_kernel(h, int(200 * sc), args.runs, args.threads)
            ),
            f"(c) train_many() (lanes), {args.runs} runs, per run": best_of(
                args.repeat, lambda h=hidden: many(h, int(200 * sc), args.runs, args.threads)
            ),
        }
        for label, (wall, cpu) in fig.items():
            target = 0.5 if f"{args.runs} runs" in label else 1.0
            ratio = cpu / pg
            judged = not (label.startswith("(a)") or "torch" in label)
            check = (
                ("met" if ratio >= target else f"missed by {(1 - ratio / target) * 100:.0f}%")
                if judged
                else ""
            )
            rows.append((name, label, wall, cpu, ratio, f">= {target:g}x" if judged else "", check))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"\nTraining throughput, examples/s, best of {args.repeat}; {os.cpu_count()} CPUs, load "
        f"average {load:.1f}, torch {torch.__version__}; train_many on {args.threads} threads."
    )
    print("'per CPU-s' divides by this process's CPU time (for train_many: by CPU time / threads,")
    print("one run's share of the cores) and is what an unloaded machine gives; targets use it.\n")
    print("| network | path | wall ex/s | ex per CPU-s | x Playground | target | |")
    print("|---|---|---:|---:|---:|---|---|")
    for name, label, wall, cpu, ratio, target, check in rows:
        print(f"| {name} | {label} | {wall:,.0f} | {cpu:,.0f} | {ratio:.2f} | {target} | {check} |")
    print(
        "\nPlayground reference: " + ", ".join(f"{k} {v:,.0f} ex/s" for k, v in PLAYGROUND.items())
    )


if __name__ == "__main__":
    main()
