"""Figures for the linear-algebra lens, printed as markdown (never asserted in tests).

    python bench/bench_linalg.py

1. SVD slider: a rank change on a cached 512×512 image against the first SVD of it, both in
   compute and end to end through the API (one run, same process).
2. /eigen and /pca end to end against the bare numpy call: the overhead ratio.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from fastapi.testclient import TestClient

from compute import linalg
from server.app import create_app
from server.config import Settings
from server.routes import linalg as routes


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    img = linalg.pattern_image(512, 512)
    first = timed(lambda: linalg.image_svd(img), 3)
    f = linalg.image_svd(img)
    ranks = [1, 5, 20, 50, 100, 200, 256, 400, 512]
    steps = [min(timed(lambda k=k: linalg.low_rank_image(f, k), 5)) for k in ranks]

    client = TestClient(create_app(Settings(start_jobs=False)))
    with client:

        def first_api():
            routes.CACHE._d.pop("pattern", None)
            r = client.post(
                "/api/v1/linalg/lowrank", json={"image": "pattern", "rank": 20, "encoding": "png"}
            )
            assert r.status_code == 200

        def step(k: int, encoding: str) -> float:
            body = {"image": "pattern", "rank": k, "encoding": encoding}
            return min(timed(lambda: client.post("/api/v1/linalg/lowrank", json=body), 3))

        api_first = timed(first_api, 3)
        api_steps = [step(k, "png") for k in ranks]  # what the page asks for
        list_steps = [step(k, "list") for k in ranks]  # the same image as 262 144 JSON numbers

        rng = np.random.default_rng(0)
        rows = []
        for n in (2, 16, 64):
            A = rng.standard_normal((n, n))
            bare = statistics.median(timed(lambda A=A: np.linalg.eig(A), 50))
            body = {"matrix": A.tolist()}
            api = statistics.median(
                timed(lambda body=body: client.post("/api/v1/linalg/eigen", json=body), 30)
            )
            rows.append((f"/eigen {n}×{n}", "np.linalg.eig", bare, api))
        X = linalg.correlated_cloud(2000, [2.0, 1.0, 0.5], 0.6, seed=0)
        bare = statistics.median(timed(lambda: np.linalg.eigh(np.cov(X, rowvar=False)), 50))
        body = {
            "n_samples": 2000,
            "stds": [2.0, 1.0, 0.5],
            "correlation": 0.6,
            "seed": 0,
            "n_components": 2,
        }
        api = statistics.median(timed(lambda: client.post("/api/v1/linalg/pca", json=body), 20))
        rows.append(("/pca 2000×3 (seeded cloud)", "np.linalg.eigh(np.cov(X))", bare, api))

    ms = lambda s: f"{s * 1e3:.2f}"  # noqa: E731
    print("## SVD slider (cached 512×512 image)\n")
    print(
        f"first SVD (compute, best of 3): {ms(min(first))} ms; through the API (SVD + rank-20 PNG + JSON): {ms(min(api_first))} ms\n"
    )
    print(
        "| rank k | rank change, compute (ms) | ratio to first SVD | API end to end, PNG (ms) | ratio to first API call | API end to end, JSON list (ms) |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for k, s, a, li in zip(ranks, steps, api_steps, list_steps, strict=True):
        print(f"| {k} | {ms(s)} | 1/{min(first) / s:.0f} | {ms(a)} | 1/{min(api_first) / a:.0f} | {ms(li)} |")
    print(
        f"\nmedian compute step: 1/{min(first) / statistics.median(steps):.0f} of the first SVD "
        f"(target ≤ 1/50); worst: 1/{min(first) / max(steps):.0f}\n"
        f"median API step (PNG, as the page asks): 1/{min(api_first) / statistics.median(api_steps):.0f} "
        f"of the first API call; worst: 1/{min(api_first) / max(api_steps):.0f}\n"
    )
    print("## Endpoint overhead against the bare numpy call\n")
    print("| endpoint | bare call | bare (ms) | API end to end (ms) | overhead ratio |")
    print("|---|---|---:|---:|---:|")
    for name, ref, b, a in rows:
        print(f"| {name} | {ref} | {ms(b)} | {ms(a)} | {a / b:.0f}× |")


if __name__ == "__main__":
    main()
