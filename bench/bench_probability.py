"""Distribution endpoint end to end (ASGI, validation, compute, orjson) against the bare scipy.stats
call that computes the same numbers, with and without gzip on the response (the app's GZipMiddleware,
Starlette's default level 9). Prints a markdown table. Run: python bench/bench_probability.py"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient  # noqa: E402

from server.app import create_app  # noqa: E402
from server.config import Settings  # noqa: E402

CASES = [
    (
        "gaussian",
        {"mu": 0, "sigma": 1},
        lambda p: stats.norm(p["mu"], p["sigma"]),
        lambda: np.linspace(-4, 4, 401),
        False,
    ),
    (
        "beta",
        {"alpha": 2, "beta": 5},
        lambda p: stats.beta(p["alpha"], p["beta"]),
        lambda: np.linspace(0, 1, 401)[1:-1],
        False,
    ),
    ("poisson", {"rate": 4}, lambda p: stats.poisson(p["rate"]), lambda: np.arange(55.0), True),
]


def best(fn, repeat: int) -> float:
    """Median of `repeat` timings, in ms."""
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return 1e3 * float(np.median(ts))


def main(repeat: int = 30) -> None:
    client = TestClient(create_app(Settings(start_jobs=False)))
    print(
        "| family | n_samples | endpoint, identity (ms) | endpoint, gzip (ms) | bare scipy (ms) | ratio identity | ratio gzip |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for family, params, ref, support, disc in CASES:
        for n in (1_000, 100_000):
            body = {"family": family, "params": params, "n_samples": n, "seed": 0}
            assert client.post("/api/v1/probability/distribution", json=body).status_code == 200

            def endpoint(body=body, enc="identity"):
                return client.post(
                    "/api/v1/probability/distribution", json=body, headers={"Accept-Encoding": enc}
                ).content

            def bare(params=params, ref=ref, support=support, disc=disc, n=n):
                d = ref(params)
                x = support()
                (d.pmf(x) if disc else d.pdf(x)), d.cdf(x), d.mean(), d.var(), d.entropy()
                d.rvs(size=n, random_state=np.random.default_rng(0))

            ti, tb = best(endpoint, repeat), best(bare, repeat)
            tg = best(lambda body=body: endpoint(body, "gzip"), max(3, repeat // 10))
            print(
                f"| {family} | {n} | {ti:.2f} | {tg:.2f} | {tb:.2f} | {ti / tb:.1f}× | {tg / tb:.1f}× |"
            )


if __name__ == "__main__":
    main()
