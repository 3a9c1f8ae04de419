"""How fast is compute.optim.optimize, against a torch.optim loop and against its other engines?

Run: ``python bench/bench_optimize.py`` (``--quick`` for a short run). Prints markdown tables:

1. the interactive case: 4 optimizers x 1 start x 500 steps on rosenbrock, compute only;
2. the bulk case: 7 optimizers x 64 starts x 2000 steps, in optimizer-steps/s (the torch loop
   is timed on a subset of the starts and extrapolated; the table says so);
3. a user objective (numpy callables, as typed expressions give): the numba kernel calling f
   back per point against the numpy engine, by number of points (the ``auto`` crossover);
4. numba compile time (cold, in a subprocess with an empty cache) and cached load;
5. the fair race's tuning grid (``tune_lr``: 4 optimizers x 13 learning rates x 1 start x 500
   steps as ONE optimize call) against running each setting one at a time (``--fair`` alone).

``run(app_client=...)`` adds an end-to-end row: ``app_client(body)`` must perform the request for
the interactive case (``body`` as in ``INTERACTIVE``), e.g.
``lambda body: client.post("/api/v1/optim/run", json=...)``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from compute import optim  # noqa: E402
from compute.surfaces import Objective, get_function  # noqa: E402

FIRST_ORDER = [
    {"name": "sgd", "lr": 1e-3, "momentum": 0.9},
    {"name": "adam", "lr": 0.01},
    {"name": "rmsprop", "lr": 1e-3},
    {"name": "adagrad", "lr": 0.1},
]
INTERACTIVE = {
    "function": "rosenbrock",
    "optimizers": FIRST_ORDER,
    "starts": [[-1.5, 2.0]],
    "steps": 500,
}
BULK_OPTIMIZERS = [
    {"name": "sgd", "lr": 1e-3},
    {"name": "sgd", "lr": 1e-3, "momentum": 0.9, "nesterov": True},
    {"name": "adagrad", "lr": 0.1},
    {"name": "rmsprop", "lr": 1e-3},
    {"name": "adam", "lr": 0.01},
    {"name": "adamw", "lr": 0.01},
    {"name": "lbfgs", "lr": 0.5, "history_size": 10},
]


def bulk_starts(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.column_stack([rng.uniform(-2, 2, n), rng.uniform(-1, 3, n)])


def best_of(fn: Callable[[], Any], repeat: int, number: int = 1) -> float:
    """Best wall time of ``number`` calls, over ``repeat`` tries, per call (s)."""
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t) / number)
    return best


# ----------------------------------------------------------------------------------------------
# the torch.optim loop, float64, as a user would write it
# ----------------------------------------------------------------------------------------------


def _torch_f(p):
    x, y = p[..., 0], p[..., 1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def torch_loop(config: dict, starts: np.ndarray, steps: int, batched: bool = False) -> None:
    """One optimizer from each start (one loop per start, or all starts in one tensor)."""
    import torch

    torch.set_num_threads(1)  # 2-element tensors: threads only add overhead
    cfg = dict(config)
    name = cfg.pop("name")
    if "betas" in cfg:
        cfg["betas"] = tuple(cfg["betas"])
    cls = {
        "sgd": torch.optim.SGD,
        "adagrad": torch.optim.Adagrad,
        "rmsprop": torch.optim.RMSprop,
        "adam": torch.optim.Adam,
        "adamw": torch.optim.AdamW,
        "lbfgs": torch.optim.LBFGS,
    }[name]
    groups = [starts] if batched and name != "lbfgs" else [s for s in starts]
    for start in groups:
        p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
        opt = cls([p], **cfg)
        if name == "lbfgs":

            def closure(p=p, opt=opt):
                opt.zero_grad()
                loss = _torch_f(p).sum()
                loss.backward()
                return loss

            for _ in range(steps):
                opt.step(closure)
        else:
            for _ in range(steps):
                opt.zero_grad()
                _torch_f(p).sum().backward()
                opt.step()


# ----------------------------------------------------------------------------------------------
# cases
# ----------------------------------------------------------------------------------------------


def interactive(repeat: int, app_client: Callable[[dict], Any] | None) -> list[dict]:
    obj = get_function("rosenbrock")
    starts, steps, opts = np.array(INTERACTIVE["starts"]), INTERACTIVE["steps"], FIRST_ORDER
    rows = []
    t_torch = best_of(lambda: [torch_loop(c, starts, steps) for c in opts], max(1, repeat // 3))
    rows.append({"impl": "torch.optim loop (float64)", "s": t_torch})
    for backend in ("numba", "numpy", "python"):
        fn = lambda b=backend: optim.optimize(obj, opts, starts, steps, backend=b)  # noqa: E731
        fn()
        n = 20 if backend == "numba" else 1
        label = {
            "numba": "optimize(), numba kernel (chosen: auto)",
            "numpy": "optimize(), numpy engine",
            "python": "optimize(), python floats (kernel source interpreted)",
        }[backend]
        rows.append({"impl": label, "s": best_of(fn, repeat, n)})
    # the kernel alone: what validation, schedules and allocation cost on top
    kinds = np.array([optim._KIND[c["name"]] for c in opts])
    parsed = [optim._parse_optimizer(c, i)[1] for i, c in enumerate(opts)]
    hp = np.array([optim._hp_row(c["name"], p) for c, p in zip(opts, parsed, strict=True)])
    lrs = np.array([np.full(steps, p["lr"]) for p in parsed])
    xy = np.empty((len(opts), 1, steps + 1, 2))
    loss, gn = np.empty(xy.shape[:-1]), np.empty(xy.shape[:-1])
    length = np.empty((len(opts), 1), dtype=np.int64)
    kernel = lambda: optim._run_all(1, 0.0, kinds, hp, starts, lrs, xy, loss, gn, length)  # noqa: E731
    rows.append(
        {"impl": "numba kernel alone (no validation/allocation)", "s": best_of(kernel, repeat, 50)}
    )
    if app_client is not None:
        app_client(INTERACTIVE)
        rows.append(
            {
                "impl": "end to end through the app",
                "s": best_of(lambda: app_client(INTERACTIVE), repeat, 5),
            }
        )
    for r in rows:
        r["x"] = t_torch / r["s"]
    return rows


def bulk(repeat: int, n_starts: int, steps: int, torch_starts: int) -> list[dict]:
    obj = get_function("rosenbrock")
    starts = bulk_starts(n_starts)
    opts = BULK_OPTIMIZERS
    work = len(opts) * n_starts * steps  # optimizer-steps
    rows = []
    # torch: one loop per start, on a subset of the starts, scaled up
    sub = starts[:torch_starts]
    t = time.perf_counter()
    for c in opts:
        torch_loop(c, sub, steps)
    t_torch = (time.perf_counter() - t) * n_starts / torch_starts
    rows.append(
        {
            "impl": f"torch.optim loop, one per start (timed on {torch_starts} of {n_starts} starts, scaled)",
            "s": t_torch,
        }
    )
    t = time.perf_counter()
    for c in opts[:-1]:
        torch_loop(c, starts, steps, batched=True)
    t_first_order = time.perf_counter() - t
    t = time.perf_counter()
    torch_loop(opts[-1], sub, steps)  # LBFGS cannot batch independent starts
    t_batched = t_first_order + (time.perf_counter() - t) * n_starts / torch_starts
    rows.append(
        {
            "impl": "torch.optim loop, starts batched in one tensor (LBFGS per start, scaled)",
            "s": t_batched,
        }
    )
    for backend in ("numba", "numpy"):
        fn = lambda b=backend: optim.optimize(obj, opts, starts, steps, backend=b)  # noqa: E731
        fn()
        label = {
            "numba": "optimize(), numba kernel (chosen: auto)",
            "numpy": "optimize(), numpy engine (LBFGS row compiled)",
        }[backend]
        rows.append({"impl": label, "s": best_of(fn, repeat)})
    py_starts = max(1, n_starts // 32)
    t = time.perf_counter()
    optim.optimize(obj, opts, starts[:py_starts], steps, backend="python")
    rows.append(
        {
            "impl": f"optimize(), python floats (timed on {py_starts} of {n_starts} starts, scaled)",
            "s": (time.perf_counter() - t) * n_starts / py_starts,
        }
    )
    for r in rows:
        r["x"] = t_torch / r["s"]
        r["steps_per_s"] = work / r["s"]
    return rows


def user_objective() -> Objective:
    """Rosenbrock written as numpy callables, as compute.expressions produces them."""
    return Objective(
        name="(1-x)^2 + 100(y-x^2)^2",
        latex="",
        f=lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
        grad=lambda x, y: (-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)),
        hess=lambda x, y: (2 - 400 * y + 1200 * x**2, -400 * x, 200 + 0 * x),
    )


def crossover(repeat: int, steps: int) -> list[dict]:
    obj = user_objective()
    rows = []
    for n_opt, n_starts in ((1, 1), (4, 1), (4, 4), (4, 16), (4, 64)):
        opts = (FIRST_ORDER * 4)[:n_opt]
        starts = bulk_starts(n_starts)
        row = {"points": n_opt * n_starts}
        for backend in ("numba", "numpy"):
            row[backend] = best_of(
                lambda b=backend, o=opts, s=starts: optim.optimize(obj, o, s, steps, backend=b),
                repeat,
            )
        row["auto"] = "numba" if n_opt * n_starts <= optim._CALLBACK_MAX_POINTS else "numpy"
        rows.append(row)
    return rows


FAIR_OPTIMIZERS = [
    {"name": "sgd", "momentum": 0.9},
    {"name": "rmsprop"},
    {"name": "adam"},
    {"name": "lbfgs", "line_search_fn": "strong_wolfe"},
]


def fair_race(repeat: int, n_lrs: int = 13, steps: int = 500) -> list[dict]:
    """The tuning grid in one vectorized call vs one call (or one torch loop) per setting."""
    obj = get_function("rosenbrock")
    starts = np.array([[-1.5, 2.0]])
    lrs = np.geomspace(1e-4, 1.0, n_lrs)
    settings = [{**c, "lr": float(lr)} for c in FAIR_OPTIMIZERS for lr in lrs]
    first_order = [c for c in settings if c["name"] != "lbfgs"]
    one_call = lambda: optim.tune_lr(obj, FAIR_OPTIMIZERS, starts, steps, n_lrs=n_lrs)  # noqa: E731
    each = lambda: [optim.optimize(obj, [c], starts, steps) for c in settings]  # noqa: E731
    one_call()
    each()
    rows = [
        {"impl": f"tune_lr(): {len(settings)} settings as one optimize() call", "s": best_of(one_call, repeat, 5)},
        {"impl": "optimize() once per setting (one at a time)", "s": best_of(each, repeat)},
        {
            # torch's LBFGS (two-loop recursion in Python) alone takes minutes here: left out
            "impl": f"torch.optim loop once per setting, the {len(first_order)} first-order ones only",
            "s": best_of(lambda: [torch_loop(c, starts, steps) for c in first_order], 1),
        },
    ]
    for r in rows:
        r["x"] = rows[1]["s"] / r["s"]
        r["steps"] = steps
    return rows


def print_fair(rows: list[dict]) -> None:
    steps = rows[0]["steps"]
    print(f"\n## Fair race: tuning grid, 4 optimizers x 13 lrs x 1 start x {steps} steps, rosenbrock\n")
    print("| implementation | time | speed-up vs one optimize() per setting |\n|---|---:|---:|")
    for r in rows:
        print(f"| {r['impl']} | {_fmt_s(r['s'])} | {r['x']:.2g}x |")


def compile_times() -> dict:
    code = (
        "import time; t = time.perf_counter(); from compute import optim; optim.warmup(); "
        "print(time.perf_counter() - t)"
    )
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for key in ("cold", "cached"):
            r = subprocess.run(
                [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True
            )
            out[key] = float(r.stdout.strip() or "nan")
    return out


# ----------------------------------------------------------------------------------------------
# report
# ----------------------------------------------------------------------------------------------


def _fmt_s(s: float) -> str:
    return f"{s * 1e3:.3f} ms" if s < 1 else f"{s:.2f} s"


def run(
    app_client: Callable[[dict], Any] | None = None, quick: bool = False, with_compile: bool = True
) -> dict:
    """Measure everything, print markdown tables, return the rows."""
    optim.warmup()
    repeat = 3 if quick else 7
    n_steps = 500 if quick else 2000
    res = {
        "interactive": interactive(repeat, app_client),
        "bulk": bulk(repeat if not quick else 1, 64, n_steps, 2 if not quick else 1),
        "crossover": crossover(repeat, 100 if quick else 500),
    }
    res["fair"] = fair_race(repeat, steps=100 if quick else 500)
    if with_compile:
        res["compile"] = compile_times()

    print("## Interactive: 4 optimizers x 1 start x 500 steps, rosenbrock (compute only)\n")
    print("| implementation | time | speed-up vs torch loop |\n|---|---:|---:|")
    for r in res["interactive"]:
        print(f"| {r['impl']} | {_fmt_s(r['s'])} | {r['x']:.0f}x |")
    print(f"\n## Bulk: 7 optimizers x 64 starts x {n_steps} steps, rosenbrock\n")
    print("| implementation | time | optimizer-steps/s | speed-up vs torch loop |")
    print("|---|---:|---:|---:|")
    for r in res["bulk"]:
        print(f"| {r['impl']} | {_fmt_s(r['s'])} | {r['steps_per_s']:.3g} | {r['x']:.0f}x |")
    steps_c = 100 if quick else 500
    print(f"\n## User objective (numpy callables), first-order optimizers, {steps_c} steps\n")
    print(
        "| points (optimizers x starts) | numba kernel, f called back | numpy engine | auto picks |"
    )
    print("|---:|---:|---:|---|")
    for r in res["crossover"]:
        print(f"| {r['points']} | {_fmt_s(r['numba'])} | {_fmt_s(r['numpy'])} | {r['auto']} |")
    print_fair(res["fair"])
    if with_compile:
        c = res["compile"]
        print("\n## numba kernels: first use in a fresh process\n")
        print("| cache | import + warmup() |\n|---|---:|")
        print(
            f"| empty (compiles) | {c['cold']:.1f} s |\n| on disk (loads) | {c['cached']:.2f} s |"
        )
    return res


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repeats and steps")
    ap.add_argument("--no-compile", action="store_true", help="skip the cold-compile timing")
    ap.add_argument("--no-app", action="store_true", help="skip the end-to-end rows through the app")
    ap.add_argument("--fair", action="store_true", help="only the fair-race tuning-grid table")
    args = ap.parse_args()
    if args.fair:
        optim.warmup()
        print_fair(fair_race(3, steps=100) if args.quick else fair_race(7))
    elif args.no_app:
        run(quick=args.quick, with_compile=not args.no_compile)
    else:
        import warnings

        warnings.simplefilter("ignore", DeprecationWarning)
        from fastapi.testclient import TestClient

        from server.app import create_app
        from server.config import Settings

        with TestClient(create_app(Settings(start_jobs=False))) as client:

            def post(body: dict) -> Any:
                # request in, JSON out: the body a page sends, the parsed response it gets
                r = client.post("/api/v1/optimize", json={**body, "function": {"name": body["function"]}})
                r.raise_for_status()
                return r.json()

            run(app_client=post, quick=args.quick, with_compile=not args.no_compile)
            body = {"function": {"name": "rosenbrock"}, "x_range": [-2, 2], "y_range": [-1, 3], "resolution": 1000}
            for enc in ("identity", "gzip"):
                client.post("/api/v1/surface", json=body, headers={"accept-encoding": enc})
                ts = []
                for _ in range(3):
                    t = time.perf_counter()
                    r = client.post("/api/v1/surface", json=body, headers={"accept-encoding": enc})
                    r.json()
                    ts.append(time.perf_counter() - t)
                print(f"\n/surface 1000x1000 end to end ({enc}): best of 3 {min(ts) * 1e3:.0f} ms, "
                      f"{len(r.content) / 1e6:.1f} MB on the wire")
