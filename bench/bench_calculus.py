"""Calculus endpoints end to end (ASGI, validation, JSON) against the bare torch computation.

    python bench/bench_calculus.py          # prints a markdown table
"""

from __future__ import annotations

import math
import time

import torch
from fastapi.testclient import TestClient

from server.app import create_app
from server.config import Settings


def best(fn, repeats=5):
    fn()  # warm caches (parsed formulas, compiled graphs)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def bare_mlp(depth, width, activation, residual, norm, batch=16, seed=0):
    """The same gradient-flow computation in plain torch: forward, backward, per-layer norms."""
    torch.manual_seed(seed)
    dt = torch.float64
    x = torch.randn(batch, width, dtype=dt)
    y = torch.randn(batch, 1, dtype=dt)
    std = math.sqrt(2 / width) if activation == "relu" else math.sqrt(1 / width)
    Ws = [(torch.randn(width, width, dtype=dt) * std).requires_grad_() for _ in range(depth)]
    w_out = torch.randn(width, 1, dtype=dt) / math.sqrt(width)
    phi = getattr(torch, activation)
    h = x
    for W in Ws:
        u = torch.nn.functional.layer_norm(h, (width,)) if norm else h
        a = phi(u @ W.T)
        h = h + a if residual else a
    if norm:
        h = torch.nn.functional.layer_norm(h, (width,))
    loss = 0.5 * ((h @ w_out - y) ** 2).mean()
    loss.backward()
    return [W.grad.norm().item() for W in Ws]


def bare_backprop():
    x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    z = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    f = torch.exp(x * y) * torch.sin(z) + x**2 + torch.sigmoid(x * y + z)
    f.backward()
    return x.grad, y.grad, z.grad


def main():
    torch.set_num_threads(1)  # as the endpoint runs it
    client = TestClient(create_app(Settings(start_jobs=False)))
    rows = []
    for depth, width, act, res, norm in [(30, 64, "sigmoid", False, False), (30, 64, "relu", True, True), (100, 256, "relu", True, True)]:
        body = {"depth": depth, "width": width, "activation": act, "init": "he" if act == "relu" else "xavier",
                "residual": res, "norm": "layer" if norm else "none", "seed": 0}  # fmt: skip
        api = best(lambda body=body: client.post("/api/v1/calculus/gradient-flow", json=body).raise_for_status())
        bare = best(lambda d=depth, w=width, a=act, r=res, n=norm: bare_mlp(d, w, a, r, n))
        rows.append((f"gradient-flow depth {depth} width {width} {act}{' +res +LN' if res else ''}", api, bare))
    body = {"expression": "exp(x*y)*sin(z) + x^2 + sigmoid(x*y + z)", "point": {"x": 1.0, "y": 2.0, "z": 0.5}}
    api = best(lambda: client.post("/api/v1/calculus/backprop", json=body).raise_for_status(), repeats=20)
    bare = best(bare_backprop, repeats=20)
    rows.append(("backprop exp(xy)·sin(z) + x² + σ(xy + z) (graph cached)", api, bare))
    print("| endpoint (end to end, TestClient) | API ms | bare torch ms | overhead ratio |")
    print("|---|---:|---:|---:|")
    for name, a, b in rows:
        print(f"| {name} | {a * 1e3:.2f} | {b * 1e3:.3f} | {a / b:.1f}× |")


if __name__ == "__main__":
    main()
