"""Learning-rate schedules side by side: each schedule's curve and the same small run under each.

``compare_schedules(schedules, lr=..., ...)`` trains one seeded MLP on a seeded two-dimensional
toy set once per schedule: the same initial weights, the same data, the same minibatch order,
the same optimizer; only the learning rate ``lr_t`` differs. The curves are
``compute.optim.lr_schedule`` (``torch.optim.lr_scheduler``'s values, stepped once per optimizer
step); the runs are ``compute.nn.train_many`` (the lean float64 kernels: a handful of runs
of one shape train one by one, cheaper than as a lane group), whose per-step rates come from
``compute.nn.lr_schedule`` (the same closed forms, ``LambdaLR``).

Divergence is a result, not an error: each run says whether its full-set training loss
overflowed or ended above where it started (``diverged``), jumped above ``DIVERGE_FACTOR`` times
its starting value and came back (``unstable``), barely moved (``stalled``) or ``trained``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from compute import optim
from compute.nn import TrainConfig, build_model, make_dataset, train_many
from compute.nn.config import steps_per_epoch
from compute.nn.train import logits_metrics

Array = np.ndarray

SCHEDULES: tuple[str, ...] = tuple(optim.SCHEDULES)  # constant, step, exponential, cosine, ...
DATASETS: tuple[str, ...] = ("moons", "circles", "xor", "spirals")
OPTIMIZERS: tuple[str, ...] = ("sgd", "adam")
ACTIVATIONS: tuple[str, ...] = ("tanh", "relu")
TEST_FRACTION = 0.3
MAX_RUNS = 6
DIVERGE_FACTOR = 2.0  # training loss above 2x its starting value: the run is going the wrong way
STALL_FACTOR = 0.9  # ending above 90% of the starting loss: it barely learned
# Work bound (~0.5 s on one core), see ``work``.
MAX_WORK = 5e7
STEP_COST = 1000.0  # per run and optimizer step, whatever the model size

# Parameters each schedule takes, and which the curve and the run share (cosine's T_max is the
# whole run here, as in compute.nn).
SCHEDULE_PARAMS: dict[str, tuple[str, ...]] = {
    "constant": (),
    "step": ("step_size", "gamma"),
    "exponential": ("gamma",),
    "cosine": ("eta_min",),
    "warmup_cosine": ("warmup_steps", "eta_min"),
    "onecycle": ("pct_start", "div_factor", "final_div_factor"),
}
DEFAULTS: dict[str, dict[str, float | int]] = {
    "step": {"step_size": 150, "gamma": 0.3},
    "exponential": {"gamma": 0.995},
    "cosine": {"eta_min": 0.0},
    "warmup_cosine": {"warmup_steps": 60, "eta_min": 0.0},
    "onecycle": {"pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 1e4},
}


@dataclass(frozen=True, eq=False)
class ScheduleRun:
    """One schedule: its rates and the run trained with them.

    ``lr (total_steps,)``: the rate used by optimizer step t = 0..T-1. Per epoch e = 0..E (0: the
    initial weights), full-set ``train_loss``, ``test_loss``, ``train_acc``, ``test_acc``
    ``(E + 1,)``, NaN where the loss overflowed. ``blowup_epoch``: the first epoch whose
    training loss is not finite or exceeds ``DIVERGE_FACTOR`` x ``train_loss[0]``. ``status``:
    ``diverged`` (some loss not finite, or the final loss above the initial), ``unstable`` (a
    blow-up it recovered from), ``stalled`` (final loss above ``STALL_FACTOR`` x the initial) or
    ``trained``; ``diverged`` is ``status == "diverged"``.
    """

    name: str
    params: dict[str, Any]
    lr: Array
    train_loss: Array
    test_loss: Array
    train_acc: Array
    test_acc: Array
    diverged: bool
    blowup_epoch: int | None
    status: str


@dataclass(frozen=True, eq=False)
class LRLabResult:
    """All runs; ``epoch_steps (E + 1,)``: the optimizer step at the end of each epoch (e * S)."""

    runs: list[ScheduleRun]
    steps_per_epoch: int
    total_steps: int
    epochs: int
    epoch_steps: Array
    n_train: int
    n_test: int
    n_params: int
    work: float
    config: dict[str, Any] = field(default_factory=dict)


def schedule_params(name: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The schedule's parameters with this lab's defaults filled; unknown names are an error."""
    if name not in SCHEDULE_PARAMS:
        raise ValueError(f"schedule name must be one of {', '.join(SCHEDULES)}; got {name!r}")
    given = dict(params or {})
    unknown = sorted(set(given) - set(SCHEDULE_PARAMS[name]))
    if unknown:
        raise ValueError(f"schedule {name!r} takes {list(SCHEDULE_PARAMS[name])}; got {unknown[0]!r}")
    return {**DEFAULTS.get(name, {}), **given}


def schedule_curve(name: str, lr: float, total_steps: int, params: Mapping[str, Any] | None = None) -> Array:
    """lr_t for t = 0..total_steps-1 (``torch.optim.lr_scheduler`` values); ``(total_steps,)``.

    constant ``lr``; step ``lr * gamma^floor(t / step_size)``; exponential ``lr * gamma^t``;
    cosine ``eta_min + (lr - eta_min)(1 + cos(pi t / T)) / 2``; warmup_cosine ``lr * t / W`` for
    t < W, then the cosine over the remaining T - W steps; onecycle (OneCycleLR, cosine phases)
    from ``lr / div_factor`` up to ``lr`` at step ``pct_start * T - 1``, then down to
    ``lr / (div_factor * final_div_factor)`` at step T - 1.
    """
    return optim.lr_schedule(name, lr, total_steps, **schedule_params(name, params))


def n_train_of(n_samples: int) -> int:
    """Training points of a split of ``n_samples`` (as ``compute.nn.make_dataset`` splits)."""
    return n_samples - min(n_samples - 1, max(1, round(n_samples * TEST_FRACTION)))


def mlp_params(hidden: Sequence[int], n_in: int = 2, n_out: int = 2) -> int:
    sizes = [n_in, *hidden, n_out]
    return sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:], strict=False))


def work(n_runs: int, hidden: Sequence[int], n_samples: int, epochs: int, batch_size: int) -> float:
    """The cost bounded by ``MAX_WORK``: multiply-adds of the steps, updates and evaluations,
    plus a fixed cost per step (measured: ~1e8 of these per second on one core)."""
    n_train = n_train_of(n_samples)
    total = epochs * steps_per_epoch(n_train, batch_size)
    p = mlp_params(hidden)
    return float(n_runs * (total * (p * (min(batch_size, n_train) + 8) + STEP_COST)
                           + epochs * n_samples * p))


def _check(schedules: Sequence[Mapping[str, Any]], lr: float, optimizer: str, dataset: str,
           activation: str, hidden: Sequence[int], n_samples: int, epochs: int,
           batch_size: int) -> None:
    if not 1 <= len(schedules) <= MAX_RUNS:
        raise ValueError(f"schedules must hold 1 to {MAX_RUNS} schedules; got {len(schedules)}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive finite number; got {lr}")
    for what, v, allowed in (("optimizer", optimizer, OPTIMIZERS), ("dataset", dataset, DATASETS),
                             ("activation", activation, ACTIVATIONS)):
        if v not in allowed:
            raise ValueError(f"{what} must be one of {', '.join(allowed)}; got {v!r}")
    if not 1 <= len(hidden) <= 2:
        raise ValueError(f"hidden must list 1 or 2 layer widths; got {len(hidden)}")
    w = work(len(schedules), hidden, n_samples, epochs, batch_size)
    if w > MAX_WORK:
        raise ValueError(
            f"epochs x n_samples x model size x schedules is too much work for one request "
            f"({w:.3g} > {MAX_WORK:.3g}); use fewer epochs, fewer points, a larger batch, "
            f"narrower layers or fewer schedules")


def _initial_metrics(cfg: TrainConfig) -> tuple[float, float, float, float]:
    """(train loss, train acc, test loss, test acc) of the untrained model, in float64.

    The forward pass in numpy: torch's thread pool costs more than these few products.
    """
    data = make_dataset(**cfg.dataset)
    model = build_model(cfg.model, data.n_features, data.n_classes, seed=cfg.seed)
    act = np.tanh if cfg.model["activation"] == "tanh" else (lambda a: np.maximum(a, 0.0))
    layers = [(m.weight.detach().double().numpy(), m.bias.detach().double().numpy())
              for m in (*model.layers, model.head)]

    def logits(X: Array) -> Array:
        h = np.asarray(X, dtype=np.float64)
        for i, (W, b) in enumerate(layers):
            h = h @ W.T + b
            if i < len(layers) - 1:
                h = act(h)
        return h

    tr_loss, tr_acc, _ = logits_metrics(logits(data.X_train), data.y_train, cfg.loss)
    te_loss, te_acc, _ = logits_metrics(logits(data.X_test), data.y_test, cfg.loss)
    return tr_loss, tr_acc, te_loss, te_acc


def _column(first: float, values: Sequence[float], epochs: int) -> Array:
    out = np.full(epochs + 1, np.nan)
    out[0] = first
    v = np.asarray(values, dtype=np.float64)[:epochs]
    out[1:1 + v.shape[0]] = v
    return out


def _verdict(train_loss: Array) -> tuple[int | None, str]:
    """(first epoch of a blow-up or None, status) from the training loss per epoch (0: init)."""
    start = train_loss[0]
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(train_loss) | (train_loss > DIVERGE_FACTOR * start)
    end = train_loss[-1]
    blowup = int(np.argmax(bad)) if bad.any() else None
    if not np.isfinite(train_loss).all() or end > start:
        return blowup, "diverged"
    if blowup is not None:
        return blowup, "unstable"
    return None, "stalled" if end > STALL_FACTOR * start else "trained"


def compare_schedules(schedules: Sequence[Mapping[str, Any]], *, lr: float = 0.5,
                      optimizer: str = "sgd", momentum: float = 0.9, dataset: str = "moons",
                      noise: float = 0.2, n_samples: int = 200, hidden: Sequence[int] = (16,),
                      activation: str = "tanh", epochs: int = 60, batch_size: int = 16,
                      seed: int = 0) -> LRLabResult:
    """Train the same MLP once per schedule ``{"name": ..., **params}``; curves and loss curves.

    Every run: ``dataset`` (``n_samples`` points, ``TEST_FRACTION`` held out, data seed ``seed``),
    an MLP 2 -> hidden -> 2 (weights seeded ``seed``), softmax cross-entropy, minibatches of
    ``batch_size`` in the order ``default_rng([seed, 2]).permutation`` draws each epoch, and
    ``optimizer`` (torch's SGD with ``momentum``, or Adam) at rate ``lr * m_t`` from its schedule.
    """
    hidden = [int(h) for h in hidden]
    _check(schedules, lr, optimizer, dataset, activation, hidden, n_samples, epochs, batch_size)
    named = []
    for i, s in enumerate(schedules):
        s = dict(s)
        name = s.pop("name", None)
        try:
            named.append((name, schedule_params(name, s)))
        except ValueError as e:
            raise ValueError(f"schedules[{i}]: {e}") from e
    opt: dict[str, Any] = {"name": optimizer, "lr": lr}
    if optimizer == "sgd":
        opt["momentum"] = momentum
    base = {"dataset": {"name": dataset, "n_samples": n_samples, "noise": noise, "seed": seed,
                        "test_fraction": TEST_FRACTION},
            "model": {"hidden": hidden, "activation": activation}, "optimizer": opt,
            "epochs": epochs, "batch_size": batch_size, "seed": seed, "dtype": "float64",
            "device": "cpu", "backend": "lean", "loss": "cross_entropy"}
    configs = [TrainConfig.from_dict({**base, "schedule": None if name == "constant" else
                                      {"name": name, **p}}) for name, p in named]
    n_train, n_test = n_train_of(n_samples), n_samples - n_train_of(n_samples)
    spe = steps_per_epoch(n_train, batch_size)
    total = epochs * spe
    start = _initial_metrics(configs[0])
    with np.errstate(all="ignore"):  # an overflowing run is data, not a warning
        results = train_many(configs)
    runs = []
    for (name, p), r in zip(named, results, strict=True):
        h = r.history
        train_loss = _column(start[0], h["train_loss"], epochs)
        blowup, status = _verdict(train_loss)
        runs.append(ScheduleRun(
            name=name, params=p, lr=schedule_curve(name, lr, total, p), train_loss=train_loss,
            test_loss=_column(start[2], h["test_loss"], epochs),
            train_acc=_column(start[1], h["train_acc"], epochs),
            test_acc=_column(start[3], h["test_acc"], epochs),
            diverged=status == "diverged", blowup_epoch=blowup, status=status))
    return LRLabResult(runs=runs, steps_per_epoch=spe, total_steps=total, epochs=epochs,
                       epoch_steps=np.arange(epochs + 1) * spe, n_train=n_train, n_test=n_test,
                       n_params=mlp_params(hidden),
                       work=work(len(schedules), hidden, n_samples, epochs, batch_size),
                       config={k: v for k, v in base.items() if k not in ("dtype", "device", "backend")})
