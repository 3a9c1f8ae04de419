"""Loss landscapes: logistic regression's convex loss against a small MLP's, sliced through weight
space, and gradient descent at a saddle point.

``landscape`` trains a model (full-batch ``torch.optim.SGD``, float64) from θ₀ to θ*, then
evaluates the loss

* on a 2-D slice ``L(θ* + α d₁ + β d₂)`` (Li et al. 2018, "Visualizing the loss landscape of
  neural nets"), d₁, d₂ random and filter-normalized (each weight row of dᵢ rescaled to the norm
  of the same row of θ*, bias entries zero) or the top two principal directions of the training
  trajectory;
* on the 1-D line ``L((1 − λ) θ₀ + λ θ*)`` (Goodfellow et al. 2015);
* for the MLP, on the line from θ* to the same network with two hidden units swapped (the two
  that differ most): equal loss at both ends, so a convex loss could not rise in between.

The trajectory θ_t is projected onto (d₁, d₂) by least squares, with the share of ‖θ_t − θ*‖²
the plane does not hold. ``saddle`` runs plain gradient descent, heavy-ball momentum and
gradient descent with Gaussian gradient noise on ``f(x, y) = x² − y² + y⁴/4``.

Parameters are one flat vector: for each layer its weight ``W (out, in)`` row-major, then its
bias ``b (out,)``. Many parameter vectors are evaluated at once as stacked weights
(``(G, out, in)``), in chunks, so a 41 × 41 grid is one batched pass.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import expit

from compute.linalg import orient_columns
from compute.nn.datasets import make_dataset
from compute.nn.train import torch_threads

Array = np.ndarray

MODELS = ("logistic", "mlp")
DATASETS = ("moons", "circles", "xor", "spirals")  # the two-class 2-D sets of compute/nn/datasets
ACTIVATIONS = ("tanh", "relu")
DIRECTIONS = ("random", "pca")
MAX_HIDDEN = 12
MAX_DEPTH = 3
MAX_SAMPLES = 300
MAX_STEPS = 300
MAX_RESOLUTION = 41
MAX_SPAN = 5.0
LINE = np.linspace(-0.5, 1.5, 81)  # λ on θ₀ → θ*: a little before θ₀ and past θ*
PERM_LINE = np.linspace(0.0, 1.0, 41)  # λ on θ* → θ* with two hidden units swapped
CHUNK = 256  # parameter vectors per batched pass: bounds memory at (CHUNK, n, hidden) floats
CONVEX_TOL = 1e-9  # a second difference below -tol·max(1, |L|) counts as non-convex

# f(x, y) = x² − y² + y⁴/4: a saddle at 0 (Hessian diag(2, −2)), minima at (0, ±√2) with f = −1.
SADDLE_BOX = 2.0
SADDLE_GRID = 81
SADDLE_DIVERGE = 1e6  # a run stops (NaN after) once |x| or |y| passes this
SADDLE_ESCAPE = 1.0  # "escaped" once |y| > 1 (the minima sit at |y| = √2)
MAX_SADDLE_STEPS = 2000
MAX_NOISY_RUNS = 20


# ------------------------------------------------------------------------------ models


def layer_shapes(model: str, hidden: int = 8, depth: int = 2) -> list[tuple[int, int]]:
    """(out, in) of each linear layer: logistic = one 2 → 1 layer; mlp = 2 → h (→ h)^(depth-1) → 1."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {list(MODELS)}; got {model!r}")
    if model == "logistic":
        return [(1, 2)]
    if not 1 <= hidden <= MAX_HIDDEN:
        raise ValueError(f"hidden must be in [1, {MAX_HIDDEN}]; got {hidden}")
    if not 1 <= depth <= MAX_DEPTH:
        raise ValueError(f"depth must be in [1, {MAX_DEPTH}]; got {depth}")
    return [(hidden, 2)] + [(hidden, hidden)] * (depth - 1) + [(1, hidden)]


def n_params(shapes: list[tuple[int, int]]) -> int:
    return sum(o * i + o for o, i in shapes)


def unflatten(theta: torch.Tensor, shapes: list[tuple[int, int]]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Flat ``(..., P)`` parameters → [(W (..., out, in), b (..., out))] per layer (views)."""
    out, k = [], 0
    lead = theta.shape[:-1]
    for o, i in shapes:
        w = theta[..., k : k + o * i].reshape(*lead, o, i)
        k += o * i
        out.append((w, theta[..., k : k + o]))
        k += o
    return out


def logits(theta: torch.Tensor, X: torch.Tensor, shapes: list[tuple[int, int]], activation: str) -> torch.Tensor:
    """z = W_L φ(… φ(W_1 x + b_1) …) + b_L for G parameter vectors: theta (G, P), X (n, 2) → (G, n)."""
    act = torch.tanh if activation == "tanh" else torch.relu
    layers = unflatten(theta, shapes)
    h = X.unsqueeze(0)  # (1, n, in): shared by every parameter vector
    for k, (w, b) in enumerate(layers):
        h = torch.matmul(h, w.transpose(-1, -2)) + b.unsqueeze(-2)  # (G, n, out)
        if k < len(layers) - 1:
            h = act(h)
    return h[..., 0]


def bce_loss(z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Mean binary cross-entropy from logits, log(1 + e^z) − y z, over the last axis: (G, n) → (G,)."""
    # F.softplus switches to z itself above z = 20 (an error of e^-20); this form is exact
    return (torch.clamp(z, min=0) + torch.log1p(torch.exp(-z.abs())) - y * z).mean(-1)


def batched_loss(thetas: torch.Tensor, X: torch.Tensor, y: torch.Tensor, shapes, activation: str) -> Array:
    """L(θ) for each row of ``thetas (G, P)``, CHUNK rows per pass, no autograd: → (G,) numpy."""
    out = np.empty(thetas.shape[0])
    # small matrices: a second thread only adds contention
    with torch.no_grad(), torch_threads(1):
        for s in range(0, thetas.shape[0], CHUNK):
            out[s : s + CHUNK] = bce_loss(logits(thetas[s : s + CHUNK], X, shapes, activation), y).numpy()
    return out


def init_theta(shapes: list[tuple[int, int]], activation: str, seed: int) -> Array:
    """θ₀: W ~ N(0, gain²/fan_in) (gain √2 for ReLU, 1 otherwise; LeCun/He), biases 0; (P,)."""
    rng = np.random.default_rng([seed, 1])
    gain = math.sqrt(2.0) if activation == "relu" and len(shapes) > 1 else 1.0
    parts = []
    for o, i in shapes:
        parts.append(rng.standard_normal(o * i) * gain / math.sqrt(i))
        parts.append(np.zeros(o))
    return np.concatenate(parts)


def load_data(dataset: str, n_samples: int, noise: float, seed: int) -> tuple[Array, Array]:
    """All points of a seeded two-class 2-D set: X (n, 2) float64, y (n,) float64 in {0, 1}."""
    if dataset not in DATASETS:
        raise ValueError(f"dataset must be one of {list(DATASETS)}; got {dataset!r}")
    if not 20 <= n_samples <= MAX_SAMPLES:
        raise ValueError(f"n_samples must be in [20, {MAX_SAMPLES}]; got {n_samples}")
    d = make_dataset(dataset, n_samples=n_samples, noise=noise, seed=seed)
    X = np.concatenate([d.X_train, d.X_test]).astype(np.float64)
    y = np.concatenate([d.y_train, d.y_test]).astype(np.float64)
    return X, y


# ------------------------------------------------------------------------------ directions


def filter_normalize(d: Array, theta: Array, shapes: list[tuple[int, int]]) -> Array:
    """Li et al.'s filter normalization: each weight row of d scaled to the norm of θ's row; biases 0.

    d_{l,r} ← d_{l,r} · ‖θ_{l,r}‖ / ‖d_{l,r}‖ for row r of layer l's W (a neuron's incoming
    weights, the FC analogue of a conv filter). (P,) → (P,).
    """
    out = np.zeros_like(d)
    k = 0
    for o, i in shapes:
        dw = d[k : k + o * i].reshape(o, i)
        tw = theta[k : k + o * i].reshape(o, i)
        dn = np.linalg.norm(dw, axis=1, keepdims=True)
        tn = np.linalg.norm(tw, axis=1, keepdims=True)
        out[k : k + o * i] = (dw * np.divide(tn, dn, out=np.zeros_like(dn), where=dn > 0)).ravel()
        k += o * i + o  # the bias block stays 0
    return out


def slice_directions(kind: str, theta_star: Array, traj: Array, shapes, seed: int) -> tuple[Array, Array]:
    """(d₁, d₂), each (P,): random filter-normalized, or the trajectory's top-2 principal axes
    scaled to ‖θ₀ − θ*‖ (so α, β ≈ ±1 covers the path)."""
    if kind == "random":
        rng = np.random.default_rng([seed, 2])
        g = rng.standard_normal((2, theta_star.size))
        return filter_normalize(g[0], theta_star, shapes), filter_normalize(g[1], theta_star, shapes)
    if kind == "pca":
        M = traj - theta_star  # (T + 1, P)
        with torch_threads(1):  # a (≤ 301, ≤ 361) SVD: BLAS threads only contend
            vt = torch.linalg.svd(torch.from_numpy(M), full_matrices=False)[2].numpy()
        scale = float(np.linalg.norm(M[0])) or 1.0
        v2 = vt[1] if vt.shape[0] > 1 else np.zeros_like(vt[0])
        V, _ = orient_columns(np.stack([vt[0], v2], axis=1))  # signs fixed: frames do not flip
        return V[:, 0] * scale, V[:, 1] * scale
    raise ValueError(f"directions must be one of {list(DIRECTIONS)}; got {kind!r}")


def project(traj: Array, theta_star: Array, d1: Array, d2: Array) -> tuple[Array, Array, Array]:
    """Least-squares coordinates (α_t, β_t) of θ_t − θ* on span(d₁, d₂), and the residual share
    ‖r_t‖ / ‖θ_t − θ*‖ (0 where θ_t = θ*). traj (T, P) → (T,), (T,), (T,)."""
    D = np.stack([d1, d2], axis=1)  # (P, 2)
    M = (traj - theta_star).T  # (P, T)
    coef, *_ = np.linalg.lstsq(D, M, rcond=None)  # (2, T)
    r = np.linalg.norm(M - D @ coef, axis=0)
    n = np.linalg.norm(M, axis=0)
    share = np.divide(r, n, out=np.zeros_like(r), where=n > 0)
    return coef[0], coef[1], share


def second_differences(z: Array) -> Array:
    """z[k+1] − 2 z[k] + z[k−1] along the last axis (a convex function's are ≥ 0)."""
    return z[..., 2:] - 2 * z[..., 1:-1] + z[..., :-2]


def nonconvex_fraction(z: Array) -> float:
    """Share of second differences, along the rows of z and (2-D z) its columns, below −tol·max(1, |L|)."""
    z = np.atleast_2d(z)
    lines = [z, z.T] if z.shape[0] > 1 else [z]
    d = np.concatenate([second_differences(a).ravel() for a in lines])
    ref = np.concatenate([np.abs(a[:, 1:-1]).ravel() for a in lines])
    ok = np.isfinite(d)
    if not ok.any():
        return 0.0
    return float(np.mean(d[ok] < -CONVEX_TOL * np.maximum(1.0, ref[ok])))


# ------------------------------------------------------------------------------ landscape


@dataclass(frozen=True)
class Landscape:
    model: str
    shapes: list[tuple[int, int]]
    n_params: int
    theta0: Array  # (P,)
    theta_star: Array  # (P,)
    d1: Array  # (P,)
    d2: Array  # (P,)
    alphas: Array  # (res,)
    betas: Array  # (res,)
    z: Array  # (res, res): z[i, j] = L(θ* + alphas[j] d₁ + betas[i] d₂)
    line_t: Array  # (81,)
    line_loss: Array  # (81,): L((1 − λ) θ₀ + λ θ*)
    perm_t: Array | None  # (41,)
    perm_loss: Array | None  # (41,): L((1 − λ) θ* + λ π(θ*)), π swaps two hidden units
    perm_units: tuple[int, int] | None  # which two (0-based) units of the first hidden layer
    train_loss: Array  # (steps + 1,)
    traj_alpha: Array  # (steps + 1,)
    traj_beta: Array  # (steps + 1,)
    traj_residual: Array  # (steps + 1,): ‖r_t‖ / ‖θ_t − θ*‖
    trajectory_captured: float  # 1 − Σ‖r_t‖² / Σ‖θ_t − θ*‖²
    accuracy: float
    nonconvex_fraction: float
    line_nonconvex_fraction: float
    diverged_at: int | None


def loss_and_grad(theta: Array, X: Array, y: Array, shapes, activation: str) -> tuple[float, Array]:
    """Mean BCE and its gradient by hand-written backpropagation (numpy, one parameter vector).

    δ_L = (σ(z) − y)/n; ∂L/∂W_l = δ_lᵀ a_{l−1}, ∂L/∂b_l = Σ δ_l, δ_{l−1} = (δ_l W_l) ⊙ φ′(z_{l−1}).
    theta (P,), X (n, 2), y (n,) → (L, (P,)). Non-finite values pass through (the caller checks).
    """
    Ws, bs, k = [], [], 0
    for o, i in shapes:
        Ws.append(theta[k : k + o * i].reshape(o, i))
        bs.append(theta[k + o * i : k + o * i + o])
        k += o * i + o
    acts = [X]  # a_0 … a_{L−1}: the input of each layer
    for w, b in zip(Ws[:-1], bs[:-1], strict=True):
        z = acts[-1] @ w.T + b
        acts.append(np.tanh(z) if activation == "tanh" else np.maximum(z, 0.0))
    s = (acts[-1] @ Ws[-1].T + bs[-1])[:, 0]  # (n,)
    loss = float(np.mean(np.logaddexp(0.0, s) - y * s))
    delta = ((expit(s) - y) / y.size)[:, None]  # (n, 1)
    grads = []
    for layer in range(len(Ws) - 1, -1, -1):
        a = acts[layer]
        grads.append((delta.T @ a).ravel())
        grads.append(delta.sum(0))
        if layer:
            back = delta @ Ws[layer]
            delta = back * (1 - a * a) if activation == "tanh" else back * (a > 0)
    pieces = []
    for layer in range(len(Ws)):  # grads were collected last layer first
        pieces += [grads[2 * (len(Ws) - 1 - layer)], grads[2 * (len(Ws) - 1 - layer) + 1]]
    return loss, np.concatenate(pieces)


def train(theta0: Array, X: Array, y: Array, shapes, activation: str, steps: int, lr: float,
          momentum: float) -> tuple[Array, Array, int | None]:  # fmt: skip
    """Full-batch gradient descent with torch.optim.SGD's momentum rule (b ← μ b + g, θ ← θ − η b;
    the first b is g) on the mean BCE: trajectory (T, P), losses (T,), T ≤ steps + 1, and the
    step where the loss or θ stopped being finite (the run ends there; None if it never did)."""
    theta = theta0.copy()
    traj, losses, diverged_at = [theta.copy()], [], None
    buf = None
    with np.errstate(all="ignore"):
        for t in range(steps + 1):
            loss, g = loss_and_grad(theta, X, y, shapes, activation)
            if not math.isfinite(loss):
                diverged_at = t
                break
            losses.append(loss)
            if t == steps:
                break
            buf = g if buf is None else momentum * buf + g
            theta = theta - lr * buf
            if not np.isfinite(theta).all():
                diverged_at = t + 1
                break
            traj.append(theta)
    traj = traj[: len(losses)]  # θ* is the last iterate with a finite loss
    return np.array(traj), np.array(losses), diverged_at


def swap_hidden_units(theta: Array, shapes: list[tuple[int, int]], a: int = 0, b: int = 1) -> Array:
    """The same function with hidden units a and b of the first hidden layer swapped: rows of W₁
    and entries of b₁, columns of W₂. (P,) → (P,)."""
    t = theta.copy()
    (o1, i1), (o2, i2) = shapes[0], shapes[1]
    w1 = t[: o1 * i1].reshape(o1, i1)
    b1 = t[o1 * i1 : o1 * i1 + o1]
    k2 = o1 * i1 + o1
    w2 = t[k2 : k2 + o2 * i2].reshape(o2, i2)
    w1[[a, b]] = w1[[b, a]]
    b1[[a, b]] = b1[[b, a]]
    w2[:, [a, b]] = w2[:, [b, a]]
    return t


def most_different_units(theta: Array, shapes: list[tuple[int, int]]) -> tuple[int, int]:
    """The pair (a, b) of first-layer hidden units whose (incoming weights, bias, outgoing weights)
    differ most: swapping two dead or twin units would change nothing worth showing."""
    (o1, i1), (o2, i2) = shapes[0], shapes[1]
    w1 = theta[: o1 * i1].reshape(o1, i1)
    b1 = theta[o1 * i1 : o1 * i1 + o1]
    w2 = theta[o1 * i1 + o1 : o1 * i1 + o1 + o2 * i2].reshape(o2, i2)
    u = np.concatenate([w1, b1[:, None], w2.T], axis=1)  # (hidden, features of a unit)
    d = np.linalg.norm(u[:, None, :] - u[None, :, :], axis=-1)
    a, b = np.unravel_index(np.argmax(d), d.shape)
    return (int(min(a, b)), int(max(a, b)))


def landscape(
    model: str = "mlp",
    dataset: str = "moons",
    n_samples: int = 200,
    noise: float = 0.2,
    hidden: int = 8,
    depth: int = 2,
    activation: str = "tanh",
    steps: int = 200,
    lr: float = 0.5,
    momentum: float = 0.9,
    directions: str = "random",
    span: float = 1.0,
    resolution: int = 31,
    seed: int = 0,
) -> Landscape:
    """Train ``model`` on ``dataset`` and slice its loss: L(θ* + α d₁ + β d₂) on a resolution²
    grid over [−span, span]², the line θ₀ → θ*, and (mlp) θ* → θ* with two hidden units swapped."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {list(ACTIVATIONS)}; got {activation!r}")
    if not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be in [1, {MAX_STEPS}]; got {steps}")
    if not 3 <= resolution <= MAX_RESOLUTION:
        raise ValueError(f"resolution must be in [3, {MAX_RESOLUTION}]; got {resolution}")
    if not 0 < span <= MAX_SPAN:
        raise ValueError(f"span must be in (0, {MAX_SPAN}]; got {span}")
    if not (0 < lr <= 10 and 0 <= momentum < 1):
        raise ValueError(f"lr must be in (0, 10] and momentum in [0, 1); got lr={lr}, momentum={momentum}")
    shapes = layer_shapes(model, hidden, depth)
    X, y = load_data(dataset, n_samples, noise, seed)
    theta0 = init_theta(shapes, activation, seed)
    traj, train_loss, diverged_at = train(theta0, X, y, shapes, activation, steps, lr, momentum)
    theta_star = traj[-1]
    d1, d2 = slice_directions(directions, theta_star, traj, shapes, seed)

    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    alphas = np.linspace(-span, span, resolution)
    betas = np.linspace(-span, span, resolution)
    A, B = np.meshgrid(alphas, betas)  # (res, res): row i is betas[i]
    grid = theta_star + A.reshape(-1, 1) * d1 + B.reshape(-1, 1) * d2  # (res², P)
    line = np.outer(1 - LINE, theta0) + np.outer(LINE, theta_star)  # (81, P)
    stacks = [grid, line]
    perm_units = None
    if model == "mlp" and shapes[0][0] >= 2:
        perm_units = most_different_units(theta_star, shapes)
        swapped = swap_hidden_units(theta_star, shapes, *perm_units)
        stacks.append(np.outer(1 - PERM_LINE, theta_star) + np.outer(PERM_LINE, swapped))
    with np.errstate(over="ignore", invalid="ignore"):
        values = batched_loss(torch.from_numpy(np.concatenate(stacks)), Xt, yt, shapes, activation)
    g = resolution * resolution
    z = values[:g].reshape(resolution, resolution)
    line_loss = values[g : g + LINE.size]
    perm_loss = values[g + LINE.size :] if len(stacks) == 3 else None

    with np.errstate(all="ignore"):  # huge (finite) iterates may overflow a square: nan, not a warning
        ta, tb, tres = project(traj, theta_star, d1, d2)
        dist2 = np.sum((traj - theta_star) ** 2)
        captured = 1.0 - float(np.sum((tres * np.linalg.norm(traj - theta_star, axis=1)) ** 2) / dist2) if dist2 > 0 else 1.0
        ncf, line_ncf = nonconvex_fraction(z), nonconvex_fraction(line_loss)
    with torch.no_grad():
        zs = logits(torch.from_numpy(theta_star).unsqueeze(0), Xt, shapes, activation)[0].numpy()
    accuracy = float(np.mean((zs > 0) == (y > 0.5)))
    return Landscape(
        model=model, shapes=shapes, n_params=n_params(shapes), theta0=theta0, theta_star=theta_star,
        d1=d1, d2=d2, alphas=alphas, betas=betas, z=z, line_t=LINE.copy(), line_loss=line_loss,
        perm_t=PERM_LINE.copy() if perm_loss is not None else None, perm_loss=perm_loss, perm_units=perm_units,
        train_loss=train_loss, traj_alpha=ta, traj_beta=tb, traj_residual=tres,
        trajectory_captured=captured, accuracy=accuracy, nonconvex_fraction=ncf, line_nonconvex_fraction=line_ncf,
        diverged_at=diverged_at,
    )  # fmt: skip


# ------------------------------------------------------------------------------ saddle


SADDLE_EIGVALS = (2.0, -2.0)  # of f's Hessian at the saddle (0, 0)
SADDLE_MINIMA = ((0.0, math.sqrt(2.0)), (0.0, -math.sqrt(2.0)))


def saddle_f(x: Array, y: Array) -> Array:
    """f(x, y) = x² − y² + y⁴/4."""
    return x * x - y * y + 0.25 * y**4


def saddle_grad(p: Array) -> Array:
    """∇f = (2x, −2y + y³) for points (..., 2) → (..., 2)."""
    x, y = p[..., 0], p[..., 1]
    return np.stack([2 * x, -2 * y + y**3], axis=-1)


@dataclass(frozen=True)
class SaddleRun:
    name: str  # "gd" | "momentum" | "noisy"
    x: Array  # (steps + 1,), NaN after a divergence
    y: Array
    loss: Array
    escaped_at: int | None  # first t with |y_t| > 1
    diverged_at: int | None


@dataclass(frozen=True)
class SaddleResult:
    runs: list[SaddleRun]
    grid: Array  # (SADDLE_GRID,) on [−2, 2] for both axes
    z: Array  # (SADDLE_GRID, SADDLE_GRID): z[i, j] = f(grid[j], grid[i])
    predicted_escape_gd: float | None  # ln(1/|y₀|) / ln(1 + 2η): the linearized GD escape step
    growth_gd: float  # 1 + 2η: GD multiplies y by this per step near the saddle
    growth_momentum: float  # the heavy-ball unstable root of z² − (1 + μ + 2η) z + μ = 0


def saddle(
    start: tuple[float, float] = (1.5, 1e-8),
    lr: float = 0.02,
    steps: int = 300,
    momentum: float = 0.9,
    noise_std: float = 0.2,
    n_noisy: int = 5,
    seed: int = 0,
) -> SaddleResult:
    """Plain GD, heavy-ball momentum (torch.optim.SGD's rule b ← μ b + g, θ ← θ − η b) and GD with
    gradient noise (g = ∇f + σ ξ, ξ ~ N(0, I), n_noisy seeded runs) on f = x² − y² + y⁴/4, all
    advanced as one (n_noisy + 2, 2) array per step."""
    if not 1 <= steps <= MAX_SADDLE_STEPS:
        raise ValueError(f"steps must be in [1, {MAX_SADDLE_STEPS}]; got {steps}")
    if not 1 <= n_noisy <= MAX_NOISY_RUNS:
        raise ValueError(f"n_noisy must be in [1, {MAX_NOISY_RUNS}]; got {n_noisy}")
    if not (0 < lr <= 1 and 0 <= momentum < 1 and noise_std >= 0):
        raise ValueError(f"need 0 < lr <= 1, 0 <= momentum < 1, noise_std >= 0; got {lr}, {momentum}, {noise_std}")
    n = n_noisy + 2  # row 0: gd, row 1: momentum, rows 2…: noisy gd
    mu = np.zeros((n, 1))
    mu[1] = momentum
    sigma = np.zeros((n, 1))
    sigma[2:] = noise_std
    xi = np.random.default_rng([seed, 3]).standard_normal((steps, n_noisy, 2))
    p = np.tile(np.asarray(start, dtype=np.float64), (n, 1))  # (n, 2)
    buf = np.zeros((n, 2))
    path = np.full((steps + 1, n, 2), np.nan)
    path[0] = p
    alive = np.ones(n, dtype=bool)
    diverged = np.full(n, -1)
    for t in range(steps):
        g = saddle_grad(p)
        g[2:] += noise_std * xi[t]
        buf = g if t == 0 else mu * buf + g  # torch.optim.SGD: the first buffer is g itself
        p = p - lr * buf
        bad = alive & ~(np.abs(p) <= SADDLE_DIVERGE).all(axis=1)  # also catches NaN
        diverged[bad] = t + 1
        alive &= ~bad
        p[~alive] = 0.0  # parked; their path stays NaN
        buf[~alive] = 0.0
        path[t + 1, alive] = p[alive]
    loss = saddle_f(path[..., 0], path[..., 1])  # (steps + 1, n)
    names = ["gd", "momentum"] + ["noisy"] * n_noisy
    runs = []
    for k in range(n):
        out = np.abs(path[:, k, 1]) > SADDLE_ESCAPE
        runs.append(SaddleRun(
            name=names[k], x=path[:, k, 0], y=path[:, k, 1], loss=loss[:, k],
            escaped_at=int(np.argmax(out)) if out.any() else None,
            diverged_at=int(diverged[k]) if diverged[k] >= 0 else None,
        ))  # fmt: skip
    grid = np.linspace(-SADDLE_BOX, SADDLE_BOX, SADDLE_GRID)
    gx, gy = np.meshgrid(grid, grid)
    y0 = abs(float(start[1]))
    pred = math.log(1 / y0) / math.log1p(2 * lr) if 0 < y0 < 1 else None
    b = 1 + momentum + 2 * lr
    growth_m = (b + math.sqrt(b * b - 4 * momentum)) / 2
    return SaddleResult(runs=runs, grid=grid, z=saddle_f(gx, gy), predicted_escape_gd=pred,
                        growth_gd=1 + 2 * lr, growth_momentum=growth_m)  # fmt: skip
