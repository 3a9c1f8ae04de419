"""Vanishing and exploding gradients: per-layer gradient norms of a deep MLP, at initialization
and over a few SGD steps (optionally with gradient clipping).

The network (width ``n``, depth ``L``, batch ``B`` of seeded Gaussian inputs in R^n, targets in R)::

    u_l = LN(h_{l-1}) if norm == "layer" else h_{l-1}
    z_l = W_l u_l + b_l,   a_l = phi(z_l)
    h_l = h_{l-1} + a_l if residual else a_l          l = 1..L, h_0 = x
    y_hat = w_out . LN(h_L) (LN only with norm == "layer"),   loss = mean (y_hat - y)^2 / 2

Backpropagation multiplies one Jacobian per layer,
``dL/dh_{l-1} = (I if residual) + J_LN^T W_l^T diag(phi'(z_l)) dL/dh_l``, so without residual
connections the gradient reaching layer 1 is a product of ``L`` factors whose size is about
``||W_l|| * mean|phi'(z_l)|``: below one it vanishes geometrically, above one it explodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from compute.nn.train import torch_threads

ACTIVATIONS = ("sigmoid", "tanh", "relu", "gelu")
INITS = ("normal", "xavier", "he")
NORMS = ("none", "layer")

MAX_DEPTH = 100
MAX_WIDTH = 256
MAX_STEPS = 50
BATCH_SIZE = 16
MAX_WORK = 100 * 256 * 256 * 3
"""Largest ``depth * width**2 * (steps + 1)``: about one second of float64 CPU work."""


@dataclass(frozen=True)
class FlowResult:
    """Shapes: L = depth, T = steps actually run + 1 (row 0 is the initialization)."""

    layer_grad_norms: np.ndarray  # (L,) ||dloss/dW_l||_F at initialization, index 0 nearest the input
    hidden_grad_norms: np.ndarray  # (L,) ||dloss/dh_l||_F at initialization (h_l: output of layer l)
    mean_derivative: np.ndarray  # (L,) mean |phi'(z_l)| at initialization
    activation_std: np.ndarray  # (L,) std of h_l at initialization (the forward signal)
    step_grad_norms: np.ndarray  # (T, L) ||dloss/dW_l|| before each update
    loss: np.ndarray  # (T,)
    total_norm: np.ndarray  # (T,) ||grad||_2 over all parameters, before clipping
    clipped_norm: np.ndarray  # (T,) after clipping (= total_norm without clipping)
    diverged_at: int | None  # step whose loss or gradient was not finite


def _activation(name: str):
    return {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu, "gelu": F.gelu}[name]


def _derivative(name: str, z: torch.Tensor) -> torch.Tensor:
    """phi'(z) in closed form (relu' = 1[z > 0], as torch)."""
    if name == "sigmoid":
        s = torch.sigmoid(z)
        return s * (1 - s)
    if name == "tanh":
        return 1 - torch.tanh(z) ** 2
    if name == "relu":
        return (z > 0).to(z.dtype)
    # gelu(z) = z Phi(z):  gelu' = Phi(z) + z phi(z)
    return 0.5 * (1 + torch.erf(z / math.sqrt(2))) + z * torch.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)


def init_std(init: str, width: int, sigma: float) -> float:
    """Standard deviation of W_l's entries: normal -> sigma; Xavier -> sqrt(2 / (n + n));
    He -> sqrt(2 / n) (fan-in n)."""
    if init == "normal":
        return sigma
    if init == "xavier":
        return math.sqrt(2.0 / (width + width))
    if init == "he":
        return math.sqrt(2.0 / width)
    raise ValueError(f"init must be one of {', '.join(INITS)}; got {init!r}")


def check_budget(depth: int, width: int, steps: int) -> None:
    work = depth * width * width * (steps + 1)
    if work > MAX_WORK:
        raise ValueError(
            f"depth × width² × (steps + 1) must be at most {MAX_WORK}; got {work} "
            f"(depth {depth}, width {width}, steps {steps})"
        )


def gradient_flow(
    *,
    depth: int,
    width: int,
    activation: str = "sigmoid",
    init: str = "xavier",
    sigma: float = 0.1,
    residual: bool = False,
    norm: str = "none",
    steps: int = 0,
    lr: float = 0.01,
    clip_norm: float | None = None,
    seed: int = 0,
) -> FlowResult:
    """Per-layer gradient norms of the MLP above at initialization and for ``steps`` SGD steps
    (``torch.nn.utils.clip_grad_norm_`` to ``clip_norm`` when given). float64 throughout, so
    norms down to 1e-300 show instead of underflowing."""
    if not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be in 1..{MAX_DEPTH}; got {depth}")
    if not 1 <= width <= MAX_WIDTH:
        raise ValueError(f"width must be in 1..{MAX_WIDTH}; got {width}")
    if not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be in 0..{MAX_STEPS}; got {steps}")
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(ACTIVATIONS)}; got {activation!r}")
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {', '.join(NORMS)}; got {norm!r}")
    if clip_norm is not None and not clip_norm > 0:
        raise ValueError(f"clip_norm must be > 0; got {clip_norm}")
    check_budget(depth, width, steps)
    # matrices of at most 256 x 256 on a batch of 16: threads only add contention
    with torch_threads(1):
        return _run(depth, width, activation, init, sigma, residual, norm, steps, lr, clip_norm, seed)


def _run(depth, width, activation, init, sigma, residual, norm, steps, lr, clip_norm, seed) -> FlowResult:
    std = init_std(init, width, sigma)
    phi = _activation(activation)
    dt = torch.float64
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(BATCH_SIZE, width, generator=g, dtype=dt)
    y = torch.randn(BATCH_SIZE, 1, generator=g, dtype=dt)
    Ws = [(torch.randn(width, width, generator=g, dtype=dt) * std).requires_grad_() for _ in range(depth)]
    bs = [torch.zeros(width, dtype=dt, requires_grad=True) for _ in range(depth)]
    w_out = (torch.randn(width, 1, generator=g, dtype=dt) * math.sqrt(1.0 / width)).requires_grad_()
    params = [*Ws, *bs, w_out]

    def forward(record: bool):
        h = x
        hs, zs = [], []
        for W, b in zip(Ws, bs, strict=True):
            u = F.layer_norm(h, (width,)) if norm == "layer" else h
            z = u @ W.T + b  # (B, n)
            a = phi(z)
            h = h + a if residual else a
            if record:
                h.retain_grad()
                hs.append(h)
                zs.append(z.detach())
        if norm == "layer":  # a final norm before the head, as in pre-LN transformers
            h_top = F.layer_norm(h, (width,))
        else:
            h_top = h
        loss = 0.5 * ((h_top @ w_out - y) ** 2).mean()
        return loss, hs, zs

    n_rows = steps + 1
    step_norms = np.full((n_rows, depth), np.nan)
    losses = np.full(n_rows, np.nan)
    totals = np.full(n_rows, np.nan)
    clipped = np.full(n_rows, np.nan)
    diverged_at = None
    first = None
    for t in range(n_rows):
        for p in params:
            p.grad = None
        with np.errstate(all="ignore"):
            loss, hs, zs = forward(record=t == 0)
            loss.backward()
        norms = torch.stack([W.grad.norm() for W in Ws]).numpy()  # (L,)
        step_norms[t] = norms
        losses[t] = loss.item()
        if t == 0:
            first = (
                np.array([h.grad.norm().item() for h in hs]),
                np.array([_derivative(activation, z).abs().mean().item() for z in zs]),
                np.array([h.detach().std().item() if h.numel() > 1 else 0.0 for h in hs]),
            )
        total = torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in params])).item()
        totals[t] = total
        if not (np.isfinite(losses[t]) and np.isfinite(total)):
            diverged_at = t
            clipped[t] = total
            break
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(params, clip_norm)
            clipped[t] = min(total, clip_norm)
        else:
            clipped[t] = total
        if t < steps:
            with torch.no_grad():
                for p in params:
                    p -= lr * p.grad
    T = n_rows if diverged_at is None else diverged_at + 1
    return FlowResult(
        layer_grad_norms=step_norms[0].copy(),
        hidden_grad_norms=first[0],
        mean_derivative=first[1],
        activation_std=first[2],
        step_grad_norms=step_norms[:T],
        loss=losses[:T],
        total_norm=totals[:T],
        clipped_norm=clipped[:T],
        diverged_at=diverged_at,
    )
