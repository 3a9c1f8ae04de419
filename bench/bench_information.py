"""Divergence endpoint end to end (ASGI, JSON in and out) against the bare scipy call.

Run: python bench/bench_information.py   → a markdown table of medians and the overhead ratio.
"""

from __future__ import annotations

import statistics
import tempfile
import time

import numpy as np
from fastapi.testclient import TestClient
from scipy import stats

from server.app import create_app
from server.config import Settings


def median_time(fn, repeat: int) -> float:
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main() -> None:
    client = TestClient(create_app(Settings(data_dir=tempfile.mkdtemp(), start_jobs=False)))
    rng = np.random.default_rng(0)
    print("| n classes | scipy entropy ×4 (µs) | POST /divergence (µs) | overhead ratio |")
    print("|---:|---:|---:|---:|")
    for n in (10, 100, 1000):
        p, q = rng.random(n), rng.random(n)
        body = {"p": p.tolist(), "q": q.tolist(), "base": 2}

        def bare(p=p, q=q):
            stats.entropy(p, base=2), stats.entropy(q, base=2), stats.entropy(p, q, base=2), stats.entropy(q, p, base=2)

        def api(body=body):
            r = client.post("/api/v1/information/divergence", json=body)
            assert r.status_code == 200

        for _ in range(5):
            bare(), api()
        tb, ta = median_time(bare, 200), median_time(api, 200)
        print(f"| {n} | {tb * 1e6:.0f} | {ta * 1e6:.0f} | {ta / tb:.1f}× |")


if __name__ == "__main__":
    main()
