"""Dropout on 1-D regression: train a small MLP with inverted dropout, then Monte Carlo dropout at
test time (T thinned networks → mean and spread) beside the deterministic eval-mode prediction.

Inverted dropout: h̃ = h ⊙ m / (1 − p), mᵢ ~ Bernoulli(1 − p), so E[h̃] = h and eval mode is the
identity. A net with no nonlinearity after its dropout (one hidden layer: dropout → Linear) then has
E[f_m(x)] = f_eval(x) exactly; with nonlinearities after a dropout the two differ (Jensen).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from compute.nn.models import SeededDropout
from compute.nn.train import torch_threads

ACTIVATIONS = ("relu", "tanh")
MAX_WIDTH = 64
MAX_DEPTH = 2
MAX_STEPS = 400
MAX_SAMPLES = 200  # Monte Carlo passes T
MAX_POINTS = 100
X_DATA = 3.0  # training inputs lie in [−3, 3] minus the gap
X_GRID = 6.0  # predictions on [−6, 6]
DTYPE = torch.float64


def target(x: np.ndarray) -> np.ndarray:
    """The noiseless curve the data are drawn from: sin(x) + 0.2 x."""
    return np.sin(x) + 0.2 * x


def make_data(n_points: int = 40, gap: float = 3.0, noise: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """x uniform on [−3, 3] without the middle gap (−gap/2, gap/2), y = target(x) + N(0, noise²); sorted by x."""
    if not 0 <= gap < 2 * X_DATA:
        raise ValueError(f"gap must be in [0, {2 * X_DATA}); got {gap}")
    rng = np.random.default_rng([seed, 0])
    half = X_DATA - gap / 2
    u = rng.uniform(-half, half, n_points)
    x = np.sort(u + np.sign(u) * gap / 2)  # push each side out past the gap
    return x, target(x) + noise * rng.standard_normal(n_points)


class ThinningDropout(SeededDropout):
    """Inverted dropout from a seeded generator. On a (T, G, width) input the mask has shape
    (T, 1, width): one thinned network per pass t, shared by all G inputs of that pass."""

    def mask_shape(self, x: torch.Tensor) -> tuple[int, ...]:
        return (*x.shape[:-2], 1, x.shape[-1]) if x.dim() >= 3 else tuple(x.shape)


def build_mlp(width: int, depth: int, activation: str, p: float, seed: int, *, dropout: bool = True) -> nn.Sequential:
    """1 → [Linear(·, width) → act → Dropout(p)] × depth → Linear(width, 1), float64, weights from
    torch.Generator().manual_seed(seed). dropout=False builds the same net with no dropout layers."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}; got {activation!r}")
    if not 1 <= depth <= MAX_DEPTH or not 1 <= width <= MAX_WIDTH:
        raise ValueError(f"need 1 <= depth <= {MAX_DEPTH} and 1 <= width <= {MAX_WIDTH}; got {depth}, {width}")
    layers: list[nn.Module] = []
    fan_in = 1
    for _ in range(depth):
        layers += [nn.Linear(fan_in, width), nn.ReLU() if activation == "relu" else nn.Tanh()]
        if dropout:
            layers.append(ThinningDropout(p))
        fan_in = width
    layers.append(nn.Linear(fan_in, 1))
    net = nn.Sequential(*layers).to(DTYPE)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net:
            if isinstance(m, nn.Linear):
                bound = 1 / np.sqrt(m.in_features)  # torch's default init range, from our generator
                m.weight.uniform_(-bound, bound, generator=g)
                m.bias.uniform_(-bound, bound, generator=g)
    return net


def _set_generator(net: nn.Module, seed: int) -> None:
    g = torch.Generator().manual_seed(seed)
    for m in net.modules():
        if isinstance(m, ThinningDropout):
            m.generator = g


@functools.lru_cache(maxsize=32)
def _train(n_points: int, gap: float, noise: float, width: int, depth: int, activation: str, p: float,
           steps: int, lr: float, seed: int) -> tuple[dict[str, torch.Tensor], np.ndarray]:  # fmt: skip
    """Full-batch Adam on the MSE with dropout on; cached by config (the weights are never mutated:
    every caller loads a copy into a fresh net)."""
    x, y = make_data(n_points, gap, noise, seed)
    net = build_mlp(width, depth, activation, p, seed)
    _set_generator(net, seed + 1)
    xt, yt = torch.from_numpy(x)[:, None], torch.from_numpy(y)[:, None]
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    losses = np.empty(steps)
    net.train()
    for t in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((net(xt) - yt) ** 2)
        loss.backward()
        opt.step()
        losses[t] = loss.item()
    state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    return state, losses


def trained_net(n_points: int = 40, gap: float = 3.0, noise: float = 0.1, width: int = 64, depth: int = 2,
                activation: str = "relu", p: float = 0.2, steps: int = 300, lr: float = 0.01,
                seed: int = 0) -> tuple[nn.Sequential, np.ndarray]:  # fmt: skip
    """A fresh copy of the trained net (dropout layers included) and its training losses (steps,)."""
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1); got {p}")
    if not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be in [1, {MAX_STEPS}]; got {steps}")
    state, losses = _train(n_points, float(gap), float(noise), width, depth, activation, float(p), steps, float(lr), seed)
    net = build_mlp(width, depth, activation, p, seed)
    net.load_state_dict(state)
    return net, losses.copy()


def mc_samples(net: nn.Sequential, x: np.ndarray, n_samples: int, seed: int) -> np.ndarray:
    """T = n_samples stochastic passes in train mode (one thinned network per pass, shared over x),
    all in one batched forward: (T, G)."""
    net.train()
    _set_generator(net, seed)
    xt = torch.from_numpy(np.asarray(x, dtype=np.float64)).reshape(1, -1, 1).expand(n_samples, -1, -1)
    with torch.no_grad():
        return net(xt)[..., 0].numpy()  # (T, G)


def eval_predict(net: nn.Sequential, x: np.ndarray) -> np.ndarray:
    """The deterministic prediction: eval mode, dropout off (inverted dropout needs no rescaling), (G,)."""
    net.eval()
    with torch.no_grad():
        return net(torch.from_numpy(np.asarray(x, dtype=np.float64))[:, None])[:, 0].numpy()


@dataclass(frozen=True)
class DropoutResult:
    x_train: np.ndarray  # (n,)
    y_train: np.ndarray  # (n,)
    x_grid: np.ndarray  # (G,)
    truth: np.ndarray  # (G,) the noiseless curve
    eval_pred: np.ndarray  # (G,)
    mc_mean: np.ndarray  # (G,)
    mc_std: np.ndarray  # (G,)
    samples: np.ndarray  # (k, G) the first k thinned networks' predictions
    masks: np.ndarray  # (k, width) 1 = kept: the last hidden layer's unit masks of those k passes
    losses: np.ndarray  # (steps,) training MSE with dropout on
    distance: np.ndarray  # (G,) distance from each grid x to the nearest training x
    std_on_data: float  # mean σ where distance ≤ 0.25
    std_off_data: float  # mean σ where distance ≥ 1
    train_mse_eval: float
    n_params: int


def dropout_run(
    n_points: int = 40, gap: float = 3.0, noise: float = 0.1, width: int = 64, depth: int = 2,
    activation: str = "relu", p: float = 0.2, steps: int = 300, lr: float = 0.01, n_samples: int = 100,
    n_show: int = 20, grid_size: int = 201, seed: int = 0,
) -> DropoutResult:  # fmt: skip
    """Train with dropout (cached), then T passes of MC dropout on a grid over [−6, 6]: mean ± 2σ,
    beside the eval-mode prediction; the first n_show passes are returned as curves with their masks."""
    if not 1 <= n_samples <= MAX_SAMPLES:
        raise ValueError(f"n_samples must be in [1, {MAX_SAMPLES}]; got {n_samples}")
    with torch_threads(1):  # a net this small only loses time to thread hand-offs
        net, losses = trained_net(n_points, gap, noise, width, depth, activation, p, steps, lr, seed)
        grid = np.linspace(-X_GRID, X_GRID, grid_size)
        s = mc_samples(net, grid, n_samples, seed + 2)
    x, y = make_data(n_points, gap, noise, seed)
    k = min(n_show, n_samples)
    # the same passes' masks: rerun the generator sequence on the last dropout layer's shape
    masks = _masks(net, n_samples, seed + 2)[:k]
    dist = np.abs(grid[:, None] - x[None, :]).min(1)
    std = s.std(0)
    return DropoutResult(
        x_train=x, y_train=y, x_grid=grid, truth=target(grid), eval_pred=eval_predict(net, grid), mc_mean=s.mean(0),
        mc_std=std, samples=s[:k], masks=masks, losses=losses, distance=dist,
        std_on_data=float(std[dist <= 0.25].mean()), std_off_data=float(std[dist >= 1].mean()),
        train_mse_eval=float(np.mean((eval_predict(net, x) - y) ** 2)),
        n_params=sum(int(v.numel()) for v in net.parameters()),
    )  # fmt: skip


def _masks(net: nn.Sequential, n_samples: int, seed: int) -> np.ndarray:
    """The (T, width) keep-masks of the last dropout layer in mc_samples(…, seed): the generator is
    shared and consumed layer by layer, so replay the draws in order."""
    drops = [m for m in net if isinstance(m, ThinningDropout)]
    g = torch.Generator().manual_seed(seed)
    mask = None
    for d in drops:
        width = next(m.out_features for m in reversed(net[: list(net).index(d)]) if isinstance(m, nn.Linear))
        if d.p == 0.0:
            mask = torch.ones(n_samples, 1, width, dtype=torch.bool)
            continue
        mask = torch.rand((n_samples, 1, width), generator=g, dtype=DTYPE) < 1.0 - d.p
    return mask[:, 0, :].numpy().astype(np.int8)
