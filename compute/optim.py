"""Optimizers on two-variable functions: torch.optim's rules, many runs advanced at once, float64.

``optimize(objective, optimizers, starts, steps, schedule)`` runs every optimizer from every start
and returns whole trajectories (points, loss, gradient norm, learning rate). The update rules are
those of ``torch.optim`` (single-tensor path of torch 2.13: SGD, Adagrad, RMSprop, Adam, AdamW,
LBFGS) with the same hyperparameter names and defaults; schedules follow
``torch.optim.lr_scheduler``. Divergence is data: a trajectory stops at its first non-finite
value or ``|f| > 1e12``.

Three engines run the same rules (``bench/bench_optimize.py`` measures them):

* ``numba``: compiled kernels, one trajectory after another, the built-in functions' gradients
  compiled in (a dispatch on the function id). Used for every built-in function; for user
  objectives (numpy callables, e.g. typed expressions) it calls f back per point, which wins
  when there are few points (<= 16 optimizer-starts) and for LBFGS, whose line search does
  not vectorize over starts.
* ``numpy``: all first-order (optimizer, start) pairs advance together as arrays, one call of
  the objective's vectorized f and gradient per step. Used for user objectives with many points.
* ``python``: the numba kernels' own source run as plain Python on scalars (a reference and a
  measured candidate; never chosen automatically).

The kernels are cached on disk (``cache=True``; compiled without a cache where no cache
location is writable); ``warmup()`` loads or compiles them ahead of the first request.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import math
import threading
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numba
import numpy as np
from numpy.typing import ArrayLike

from compute import surfaces
from compute.surfaces import Objective, ParamSpec, check_params

Array = np.ndarray

DIVERGE = 1e12  # |f| above this ends a trajectory, as a non-finite value does
MAX_STEPS = 1_000_000

__all__ = [
    "DIVERGE",
    "OPTIMIZERS",
    "SCHEDULES",
    "TUNE_CRITERIA",
    "WOLFE_C1",
    "WOLFE_C2",
    "LineSearchTrace",
    "OptimizeResult",
    "OptimizerSpec",
    "ScheduleSpec",
    "TuneResult",
    "lbfgs_line_search",
    "lr_schedule",
    "optimize",
    "tune_lr",
    "warmup",
]

# ----------------------------------------------------------------------------------------------
# Registries
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptimizerSpec:
    """An optimizer as the UI and the API see it: hyperparameters with defaults and bounds."""

    name: str
    params: dict[str, ParamSpec]
    update_latex: str
    description: str


def _lr(default: float) -> ParamSpec:
    return ParamSpec(default, 0.0, 10.0, "learning rate γ", lo_open=True)


_WD = "weight decay λ (L2 penalty added to the gradient)"
_EPS = "term added to the denominator for numerical stability"
_BETAS = ParamSpec((0.9, 0.999), 0.0, 1.0, "decay rates (β₁, β₂) of the moment estimates",
                   kind="pair", hi_open=True)
_AMSGRAD = ParamSpec(False, description="use the running maximum of v (AMSGrad)", kind="bool")
_ADAM_LATEX = (
    r"m_t = \beta_1 m_{t-1} + (1-\beta_1)\,g_t,\quad "
    r"v_t = \beta_2 v_{t-1} + (1-\beta_2)\,g_t^2,\quad "
    r"\theta_t = \theta_{t-1} - \gamma\,\frac{m_t/(1-\beta_1^t)}"
    r"{\sqrt{v_t/(1-\beta_2^t)} + \epsilon}"
)

OPTIMIZERS: dict[str, OptimizerSpec] = {
    "sgd": OptimizerSpec(
        name="sgd",
        params={
            "lr": _lr(1e-3),
            "momentum": ParamSpec(0.0, 0.0, 1.0, "momentum factor μ", hi_open=True),
            "dampening": ParamSpec(0.0, 0.0, 1.0, "dampening τ for momentum"),
            "nesterov": ParamSpec(False, description="Nesterov momentum", kind="bool"),
            "weight_decay": ParamSpec(0.0, 0.0, 1.0, _WD),
        },
        update_latex=(
            r"g_t = \nabla f(\theta_{t-1}) + \lambda\,\theta_{t-1},\quad "
            r"b_t = \mu\,b_{t-1} + (1-\tau)\,g_t,\quad "
            r"\theta_t = \theta_{t-1} - \gamma\,b_t"
            r"\ \ (\text{Nesterov: } \theta_t = \theta_{t-1} - \gamma\,(g_t + \mu\,b_t))"
        ),
        description="Gradient descent, optionally with (Nesterov) momentum.",
    ),
    "adagrad": OptimizerSpec(
        name="adagrad",
        params={
            "lr": _lr(1e-2),
            "lr_decay": ParamSpec(0.0, 0.0, 1.0, "learning-rate decay η"),
            "weight_decay": ParamSpec(0.0, 0.0, 1.0, _WD),
            "initial_accumulator_value": ParamSpec(
                0.0, 0.0, 10.0, "starting value of the sum of squared gradients"
            ),
            "eps": ParamSpec(1e-10, 0.0, 1.0, _EPS, lo_open=True),
        },
        update_latex=(
            r"s_t = s_{t-1} + g_t^2,\quad "
            r"\theta_t = \theta_{t-1} - \frac{\gamma}{1 + (t-1)\,\eta}\,"
            r"\frac{g_t}{\sqrt{s_t} + \epsilon}"
        ),
        description="Per-coordinate steps shrinking with the sum of all past squared gradients.",
    ),
    "rmsprop": OptimizerSpec(
        name="rmsprop",
        params={
            "lr": _lr(1e-2),
            "alpha": ParamSpec(0.99, 0.0, 1.0, "smoothing constant α of the squared gradient"),
            "eps": ParamSpec(1e-8, 0.0, 1.0, _EPS, lo_open=True),
            "weight_decay": ParamSpec(0.0, 0.0, 1.0, _WD),
            "momentum": ParamSpec(0.0, 0.0, 1.0, "momentum factor μ", hi_open=True),
            "centered": ParamSpec(
                False, description="divide by the gradient's estimated variance", kind="bool"
            ),
        },
        update_latex=(
            r"v_t = \alpha\,v_{t-1} + (1-\alpha)\,g_t^2,\quad "
            r"b_t = \mu\,b_{t-1} + \frac{g_t}{\sqrt{v_t - \bar g_t^{\,2}} + \epsilon},\quad "
            r"\theta_t = \theta_{t-1} - \gamma\,b_t"
            r"\ \ (\bar g_t = \alpha\,\bar g_{t-1} + (1-\alpha)\,g_t \text{ if centered, else } 0)"
        ),
        description="Steps divided by a running RMS of recent gradients.",
    ),
    "adam": OptimizerSpec(
        name="adam",
        params={
            "lr": _lr(1e-3),
            "betas": _BETAS,
            "eps": ParamSpec(1e-8, 0.0, 1.0, _EPS, lo_open=True),
            "weight_decay": ParamSpec(0.0, 0.0, 1.0, _WD),
            "amsgrad": _AMSGRAD,
        },
        update_latex=_ADAM_LATEX,
        description="Momentum and RMS scaling with bias correction.",
    ),
    "adamw": OptimizerSpec(
        name="adamw",
        params={
            "lr": _lr(1e-3),
            "betas": _BETAS,
            "eps": ParamSpec(1e-8, 0.0, 1.0, _EPS, lo_open=True),
            "weight_decay": ParamSpec(1e-2, 0.0, 1.0, "decoupled weight decay λ"),
            "amsgrad": _AMSGRAD,
        },
        update_latex=r"\theta_{t-1} \leftarrow (1 - \gamma\lambda)\,\theta_{t-1},\quad " + _ADAM_LATEX,
        description="Adam with weight decay applied to the parameters, not the gradient.",
    ),
    "lbfgs": OptimizerSpec(
        name="lbfgs",
        params={
            "lr": _lr(1.0),
            "max_iter": ParamSpec(20, 1, 100, "iterations per step", kind="int"),
            "history_size": ParamSpec(100, 1, 100, "number of (s, y) pairs kept", kind="int"),
            "tolerance_grad": ParamSpec(1e-7, 0.0, 1.0, "stop when max |∇f| is below this"),
            "tolerance_change": ParamSpec(
                1e-9, 0.0, 1.0, "stop when f or θ changes less than this"
            ),
            "line_search_fn": ParamSpec(
                None,
                description="line search (None: fixed step lr)",
                kind="choice",
                choices=(None, "strong_wolfe"),
            ),
        },
        update_latex=(
            r"d_t = -H_t\,\nabla f(\theta_{t-1}),\quad \theta_t = \theta_{t-1} + \gamma_t\,d_t"
            r"\quad (H_t \text{ from the last } m \text{ pairs } s_i = \Delta\theta_i,\ "
            r"y_i = \Delta\nabla f_i)"
        ),
        description="Quasi-Newton: a curvature model from recent steps (one step = up to max_iter iterations).",
    ),
}

# Kernel ids and the layout of each optimizer's row of hyperparameters (``hp``; lr is separate).
_CALLBACK_MAX_POINTS = 16
WOLFE_C1, WOLFE_C2 = 1e-4, 0.9  # torch.optim.lbfgs._strong_wolfe's constants
_KIND = {"sgd": 0, "adagrad": 1, "rmsprop": 2, "adam": 3, "adamw": 3, "lbfgs": 4}
_LBFGS = 4
_N_HP = 8


def _hp_row(name: str, p: Mapping[str, Any]) -> list[float]:
    if name == "sgd":
        row = [p["momentum"], p["dampening"], p["nesterov"], p["weight_decay"]]
    elif name == "adagrad":
        row = [p["lr_decay"], p["weight_decay"], p["initial_accumulator_value"], p["eps"]]
    elif name == "rmsprop":
        row = [p["alpha"], p["eps"], p["weight_decay"], p["momentum"], p["centered"]]
    elif name in ("adam", "adamw"):
        b1, b2 = p["betas"]
        row = [b1, b2, p["eps"], p["weight_decay"], p["amsgrad"], name == "adamw"]
    else:
        max_iter = p["max_iter"]
        row = [
            max_iter,
            p["history_size"],
            p["tolerance_grad"],
            p["tolerance_change"],
            p["line_search_fn"] == "strong_wolfe",
            max_iter * 5 // 4,  # torch's max_eval
        ]
    return [float(v) for v in row] + [0.0] * (_N_HP - len(row))


def _parse_optimizer(cfg: Mapping[str, Any], i: int) -> tuple[str, dict[str, Any]]:
    if not isinstance(cfg, Mapping):
        raise ValueError(f"optimizers[{i}] must be a mapping with a 'name'; got {cfg!r}")
    name = cfg.get("name")
    spec = OPTIMIZERS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ValueError(
            f"optimizers[{i}].name must be one of {', '.join(OPTIMIZERS)}; got {name!r}"
        )
    given = {k: v for k, v in cfg.items() if k != "name"}
    params = check_params(spec.params, given, f"optimizer {name!r}")
    if (
        name == "sgd"
        and params["nesterov"]
        and (params["momentum"] <= 0 or params["dampening"] != 0)
    ):
        raise ValueError("nesterov requires momentum > 0 and dampening = 0")
    return name, params


@dataclass(frozen=True)
class ScheduleSpec:
    """A learning-rate schedule (``torch.optim.lr_scheduler`` meaning), scaling each lr."""

    name: str
    params: dict[str, ParamSpec]
    latex: str
    description: str


SCHEDULES: dict[str, ScheduleSpec] = {
    "constant": ScheduleSpec("constant", {}, r"\gamma_t = \gamma", "The same lr every step."),
    "step": ScheduleSpec(
        "step",
        {
            "step_size": ParamSpec(100, 1, MAX_STEPS, "steps between decays", kind="int"),
            "gamma": ParamSpec(0.5, 0.0, 1.0, "decay factor", lo_open=True),
        },
        r"\gamma_t = \gamma\cdot \mathrm{gamma}^{\lfloor t / \mathrm{step\_size} \rfloor}",
        "Multiply lr by gamma every step_size steps (StepLR).",
    ),
    "exponential": ScheduleSpec(
        "exponential",
        {"gamma": ParamSpec(0.99, 0.0, 1.0, "decay factor per step", lo_open=True)},
        r"\gamma_t = \gamma\cdot \mathrm{gamma}^{t}",
        "Multiply lr by gamma every step (ExponentialLR).",
    ),
    "cosine": ScheduleSpec(
        "cosine",
        {
            "T_max": ParamSpec(
                None, 1, MAX_STEPS, "half-period in steps (default: the run's steps)", kind="int"
            ),
            "eta_min": ParamSpec(0.0, 0.0, 10.0, "lowest lr"),
        },
        r"\gamma_t = \eta_{min} + \tfrac12(\gamma - \eta_{min})(1 + \cos(\pi t / T_{max}))",
        "Cosine annealing from lr to eta_min over T_max steps (CosineAnnealingLR).",
    ),
    "warmup_cosine": ScheduleSpec(
        "warmup_cosine",
        {
            "warmup_steps": ParamSpec(50, 0, MAX_STEPS, "steps of linear warmup", kind="int"),
            "eta_min": ParamSpec(0.0, 0.0, 10.0, "lowest lr"),
        },
        r"\gamma_t = \gamma\,t/W \ (t < W),\quad "
        r"\eta_{min} + \tfrac12(\gamma - \eta_{min})(1 + \cos(\pi\,\tfrac{t - W}{T - W}))",
        "Linear warmup from 0 to lr over warmup_steps, then cosine down to eta_min.",
    ),
    "onecycle": ScheduleSpec(
        "onecycle",
        {
            "pct_start": ParamSpec(0.3, 0.0, 1.0, "fraction of steps spent increasing lr"),
            "div_factor": ParamSpec(25.0, 1.0, 1e4, "initial lr = lr / div_factor"),
            "final_div_factor": ParamSpec(
                1e4, 1.0, 1e6, "final lr = initial lr / final_div_factor"
            ),
        },
        r"\gamma/d \nearrow \gamma \searrow \gamma/(d\,d_f)\ \text{(cosine phases)}",
        "One cycle: up to lr (the peak) and down far below it (OneCycleLR, cosine).",
    ),
}


def _parse_schedule(schedule: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    if schedule is None:
        return "constant", {}
    if not isinstance(schedule, Mapping):
        raise ValueError(f"schedule must be a mapping with a 'name'; got {schedule!r}")
    name = schedule.get("name", "constant")
    spec = SCHEDULES.get(name) if isinstance(name, str) else None
    if spec is None:
        raise ValueError(f"schedule.name must be one of {', '.join(SCHEDULES)}; got {name!r}")
    given = {k: v for k, v in schedule.items() if k != "name"}
    return name, check_params(spec.params, given, f"schedule {name!r}")


def _check_steps(steps: Any) -> int:
    return _int_in("steps", steps, 1, MAX_STEPS)


def _schedule_values(name: str, lr: float, steps: int, n: int, p: Mapping[str, Any]) -> Array:
    """lr after t scheduler steps for t = 0..n-1 (closed forms of torch's schedulers); (n,)."""
    t = np.arange(n, dtype=np.float64)
    if name == "constant":
        return np.full(n, lr)
    if name == "step":
        return lr * p["gamma"] ** np.floor_divide(t, p["step_size"])
    if name == "exponential":
        return lr * p["gamma"] ** t
    if name == "cosine":
        t_max = steps if p["T_max"] is None else p["T_max"]
        eta = p["eta_min"]
        return eta + (lr - eta) * (1.0 + np.cos(math.pi * t / t_max)) / 2.0
    if name == "warmup_cosine":
        w, eta = p["warmup_steps"], p["eta_min"]
        progress = (t - w) / max(1, steps - w)
        cos = eta + (lr - eta) * 0.5 * (1.0 + np.cos(math.pi * progress))
        return np.where(t < w, lr * t / max(w, 1), cos)
    if name == "onecycle":
        # OneCycleLR(max_lr=lr, total_steps=steps, anneal_strategy="cos", cycle_momentum=False)
        initial = lr / p["div_factor"]
        final = initial / p["final_div_factor"]
        end1 = float(p["pct_start"] * steps) - 1.0
        end2 = float(steps - 1)
        out = np.empty(n)
        for i in range(n):  # n scalars of setup, not a hot path
            if i <= end1:
                start, stop, a, b = 0.0, end1, initial, lr
            else:
                start, stop, a, b = end1, end2, lr, final
            span = stop - start
            # torch divides 0 by 0 here (pct_start * steps == 1); the phase is then complete
            pct = (i - start) / span if span != 0 else 1.0
            out[i] = b + (a - b) / 2.0 * (math.cos(math.pi * pct) + 1)
        return out
    raise ValueError(f"unknown schedule {name!r}")  # unreachable after _parse_schedule


def lr_schedule(name: str, lr: float, steps: int, **params: Any) -> Array:
    """Learning rate used by step t = 0..steps-1 under schedule ``name``; (steps,).

    Same values as stepping ``torch.optim.lr_scheduler``'s scheduler once after each optimizer
    step (``onecycle``: OneCycleLR with ``max_lr=lr``, ``total_steps=steps``, cosine annealing,
    ``cycle_momentum=False``; ``warmup_cosine``: lr·t/W for t < W, then cosine to ``eta_min``).
    """
    steps = _check_steps(steps)
    lr = _lr(0.0).check("lr", lr)
    sname, p = _parse_schedule({"name": name, **params})
    return _schedule_values(sname, lr, steps, steps, p)


# ----------------------------------------------------------------------------------------------
# Kernels. Written once on scalars; compiled by numba (``_jit``), and run as plain Python with
# ``_fg`` rebound (``_python_namespace``) by the reference engine. Operation order follows
# torch's single-tensor code so results agree to rounding.
# ----------------------------------------------------------------------------------------------


def _jit(fn: Callable[..., Any], nogil: bool = True) -> Any:
    """``numba.njit`` with an on-disk cache where one can be written, else without."""
    opts = {"error_model": "numpy", "nogil": nogil}
    try:
        return numba.njit(cache=True, **opts)(fn)
    except RuntimeError:  # no writable cache location (read-only install, no HOME): compile only
        return numba.njit(cache=False, **opts)(fn)


_FIDS = {name: i for i, name in enumerate(surfaces.FUNCTIONS)}

_quadratic_f = _jit(surfaces.quadratic_f)
_quadratic_grad = _jit(surfaces.quadratic_grad)
_rosenbrock_f = _jit(surfaces.rosenbrock_f)
_rosenbrock_grad = _jit(surfaces.rosenbrock_grad)
_beale_f = _jit(surfaces.beale_f)
_beale_grad = _jit(surfaces.beale_grad)
_himmelblau_f = _jit(surfaces.himmelblau_f)
_himmelblau_grad = _jit(surfaces.himmelblau_grad)
_saddle_f = _jit(surfaces.saddle_f)
_saddle_grad = _jit(surfaces.saddle_grad)
_booth_f = _jit(surfaces.booth_f)
_booth_grad = _jit(surfaces.booth_grad)
_rastrigin_f = _jit(surfaces.rastrigin_f)
_rastrigin_grad = _jit(surfaces.rastrigin_grad)


# User objectives reach the compiled kernels through a callback: ``fid = -1`` and ``fp`` the
# handle of their ``fg`` in this table (one entry per running ``optimize`` call).
_USER_FG: dict[int, Callable[[float, float], tuple[float, float, float]]] = {}
_USER_HANDLES = itertools.count(1)


def _call_user(handle: float, x: float, y: float) -> tuple[float, float, float]:
    return _USER_FG[int(handle)](x, y)


@functools.partial(_jit, nogil=False)  # its object-mode callback needs the GIL
def _fg(fid, fp, x, y):
    """(f, fx, fy) of built-in function ``fid`` (``_FIDS``) with parameter ``fp``.

    ``fid < 0``: a user objective, called back in Python (handle ``fp`` in ``_USER_FG``).
    """
    if fid < 0:
        with numba.objmode(f="float64", gx="float64", gy="float64"):
            f, gx, gy = _call_user(fp, x, y)
        return f, gx, gy
    if fid == 0:
        gx, gy = _quadratic_grad(x, y, fp)
        return _quadratic_f(x, y, fp), gx, gy
    if fid == 1:
        gx, gy = _rosenbrock_grad(x, y)
        return _rosenbrock_f(x, y), gx, gy
    if fid == 2:
        gx, gy = _beale_grad(x, y)
        return _beale_f(x, y), gx, gy
    if fid == 3:
        gx, gy = _himmelblau_grad(x, y)
        return _himmelblau_f(x, y), gx, gy
    if fid == 4:
        gx, gy = _saddle_grad(x, y)
        return _saddle_f(x, y), gx, gy
    if fid == 5:
        gx, gy = _booth_grad(x, y)
        return _booth_f(x, y), gx, gy
    gx, gy = _rastrigin_grad(x, y)
    return _rastrigin_f(x, y), gx, gy


@_jit
def _valid(f, gx, gy, x, y):
    return (
        abs(f) <= DIVERGE
        and math.isfinite(gx)
        and math.isfinite(gy)
        and math.isfinite(x)
        and math.isfinite(y)
    )


@_jit
def _record(xy, loss, gn, t, x, y, f, gx, gy):
    xy[t, 0] = x
    xy[t, 1] = y
    loss[t] = f
    r = math.sqrt(gx * gx + gy * gy)
    if not 1e-150 < r < 1e150:  # the square under- or overflowed: the careful (slow) way
        r = math.hypot(gx, gy)
    gn[t] = r


@_jit
def _lerp(a, b, w):
    # ATen's lerp: two formulas so the result is exact at both ends
    if abs(w) < 0.5:
        return a + w * (b - a)
    return b - (b - a) * (1.0 - w)


@_jit
def _sqrt(v):
    # torch gives nan for a negative argument (centered RMSprop rounding); math.sqrt would raise
    return math.sqrt(v) if v >= 0.0 else math.nan


# Each _traj_* runs one (optimizer, start) pair for len(lrs) steps, writes points 0..n-1 and
# returns n, the number of valid points. One trajectory after another, state in registers: a
# lockstep variant (all starts of an optimizer advanced per step, state in arrays) measured 2x
# slower on SGD.


@_jit
def _traj_sgd(fid, fp, hp, x, y, lrs, xy, loss, gn):
    momentum, dampening, nesterov, wd = hp[0], hp[1], hp[2] != 0.0, hp[3]
    f, gx, gy = _fg(fid, fp, x, y)
    if not _valid(f, gx, gy, x, y):
        return 0
    _record(xy, loss, gn, 0, x, y, f, gx, gy)
    bx = 0.0
    by = 0.0
    n = lrs.shape[0]
    for t in range(n):
        lr = lrs[t]
        if wd != 0.0:
            gx = gx + wd * x
            gy = gy + wd * y
        if momentum != 0.0:
            if t == 0:
                bx, by = gx, gy
            else:
                bx = bx * momentum + (1.0 - dampening) * gx
                by = by * momentum + (1.0 - dampening) * gy
            if nesterov:
                gx = gx + momentum * bx
                gy = gy + momentum * by
            else:
                gx, gy = bx, by
        x = x + -lr * gx
        y = y + -lr * gy
        f, gx, gy = _fg(fid, fp, x, y)
        if not _valid(f, gx, gy, x, y):
            return t + 1
        _record(xy, loss, gn, t + 1, x, y, f, gx, gy)
    return n + 1


@_jit
def _traj_adagrad(fid, fp, hp, x, y, lrs, xy, loss, gn):
    lr_decay, wd, sx, eps = hp[0], hp[1], hp[2], hp[3]
    sy = sx
    f, gx, gy = _fg(fid, fp, x, y)
    if not _valid(f, gx, gy, x, y):
        return 0
    _record(xy, loss, gn, 0, x, y, f, gx, gy)
    n = lrs.shape[0]
    for t in range(n):
        if wd != 0.0:
            gx = gx + wd * x
            gy = gy + wd * y
        clr = lrs[t] / (1.0 + t * lr_decay)
        sx = sx + gx * gx
        sy = sy + gy * gy
        x = x + -clr * gx / (math.sqrt(sx) + eps)
        y = y + -clr * gy / (math.sqrt(sy) + eps)
        f, gx, gy = _fg(fid, fp, x, y)
        if not _valid(f, gx, gy, x, y):
            return t + 1
        _record(xy, loss, gn, t + 1, x, y, f, gx, gy)
    return n + 1


@_jit
def _traj_rmsprop(fid, fp, hp, x, y, lrs, xy, loss, gn):
    alpha, eps, wd, momentum, centered = hp[0], hp[1], hp[2], hp[3], hp[4] != 0.0
    f, gx, gy = _fg(fid, fp, x, y)
    if not _valid(f, gx, gy, x, y):
        return 0
    _record(xy, loss, gn, 0, x, y, f, gx, gy)
    vx = vy = 0.0
    ax = ay = 0.0  # running mean of the gradient (centered)
    bx = by = 0.0
    n = lrs.shape[0]
    for t in range(n):
        lr = lrs[t]
        if wd != 0.0:
            gx = gx + wd * x
            gy = gy + wd * y
        vx = vx * alpha + (1.0 - alpha) * gx * gx
        vy = vy * alpha + (1.0 - alpha) * gy * gy
        if centered:
            ax = _lerp(ax, gx, 1.0 - alpha)
            ay = _lerp(ay, gy, 1.0 - alpha)
            dx = _sqrt(vx + -1.0 * ax * ax) + eps
            dy = _sqrt(vy + -1.0 * ay * ay) + eps
        else:
            dx = math.sqrt(vx) + eps
            dy = math.sqrt(vy) + eps
        if momentum > 0.0:
            bx = bx * momentum + gx / dx
            by = by * momentum + gy / dy
            x = x + -lr * bx
            y = y + -lr * by
        else:
            x = x + -lr * gx / dx
            y = y + -lr * gy / dy
        f, gx, gy = _fg(fid, fp, x, y)
        if not _valid(f, gx, gy, x, y):
            return t + 1
        _record(xy, loss, gn, t + 1, x, y, f, gx, gy)
    return n + 1


@_jit
def _traj_adam(fid, fp, hp, x, y, lrs, xy, loss, gn, bc1, bc2_sqrt):
    """Adam/AdamW; bc1 (T,) = 1 - β₁^t and bc2_sqrt (T,) = (1 - β₂^t)^½, shared by all starts."""
    b1, b2, eps, wd, amsgrad, decoupled = hp[0], hp[1], hp[2], hp[3], hp[4] != 0.0, hp[5] != 0.0
    f, gx, gy = _fg(fid, fp, x, y)
    if not _valid(f, gx, gy, x, y):
        return 0
    _record(xy, loss, gn, 0, x, y, f, gx, gy)
    mx = my = 0.0
    vx = vy = 0.0
    wx = wy = 0.0  # running max of v (AMSGrad)
    n = lrs.shape[0]
    for t in range(n):
        lr = lrs[t]
        if wd != 0.0:
            if decoupled:
                x = x * (1.0 - lr * wd)
                y = y * (1.0 - lr * wd)
            else:
                gx = gx + wd * x
                gy = gy + wd * y
        mx = _lerp(mx, gx, 1.0 - b1)
        my = _lerp(my, gy, 1.0 - b1)
        vx = vx * b2 + (1.0 - b2) * gx * gx
        vy = vy * b2 + (1.0 - b2) * gy * gy
        step_size = lr / bc1[t]
        if amsgrad:
            wx = max(wx, vx)
            wy = max(wy, vy)
            dx = math.sqrt(wx) / bc2_sqrt[t] + eps
            dy = math.sqrt(wy) / bc2_sqrt[t] + eps
        else:
            dx = math.sqrt(vx) / bc2_sqrt[t] + eps
            dy = math.sqrt(vy) / bc2_sqrt[t] + eps
        x = x + -step_size * mx / dx
        y = y + -step_size * my / dy
        f, gx, gy = _fg(fid, fp, x, y)
        if not _valid(f, gx, gy, x, y):
            return t + 1
        _record(xy, loss, gn, t + 1, x, y, f, gx, gy)
    return n + 1


@_jit
def _cubic(x1, f1, g1, x2, f2, g2, bounded, lo, hi):
    """Minimizer of the cubic through two points with slopes, clamped (torch's port of minFunc)."""
    if bounded:
        xmin, xmax = lo, hi
    elif x1 <= x2:
        xmin, xmax = x1, x2
    else:
        xmin, xmax = x2, x1
    d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square >= 0.0:
        d2 = math.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2))
        return min(max(min_pos, xmin), xmax)
    return (xmin + xmax) / 2.0


@_jit
def _trial(rec, trials, cnt, t, f, gtd):
    """Trace one line-search evaluation (t, φ(t), φ'(t)) into ``trials[cnt[1]]`` if ``rec``."""
    if rec and cnt[1] < trials.shape[0]:
        n = cnt[1]
        trials[n, 0] = t
        trials[n, 1] = f
        trials[n, 2] = gtd
        cnt[1] = n + 1


@_jit
def _strong_wolfe(fid, fp, x, y, t, dx, dy, f, gx, gy, gtd, max_ls, br, rec, trials, cnt):
    """torch.optim.lbfgs._strong_wolfe along d from (x, y); returns (f, gx, gy, t, evals).

    ``br`` (5, 2) is scratch for the bracket: rows t, f, gx, gy, gtd; columns its two ends.
    ``rec``: trace every evaluation into ``trials`` (``_trial``); off on the default path.
    """
    c1, c2, tolerance_change = WOLFE_C1, WOLFE_C2, 1e-9  # torch passes no tolerance_change here
    d_norm = max(abs(dx), abs(dy))
    f_new, gnx, gny = _fg(fid, fp, x + t * dx, y + t * dy)
    evals = 1
    gtd_new = gnx * dx + gny * dy
    _trial(rec, trials, cnt, t, f_new, gtd_new)
    t_prev, f_prev, gpx, gpy, gtd_prev = 0.0, f, gx, gy, gtd
    done = False
    single = False  # the bracket is the single point t
    ls_iter = 0
    while ls_iter < max_ls:
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            br[0, 0], br[1, 0], br[2, 0], br[3, 0], br[4, 0] = t_prev, f_prev, gpx, gpy, gtd_prev
            br[0, 1], br[1, 1], br[2, 1], br[3, 1], br[4, 1] = t, f_new, gnx, gny, gtd_new
            break
        if abs(gtd_new) <= -c2 * gtd:
            single = True
            done = True
            break
        if gtd_new >= 0.0:
            br[0, 0], br[1, 0], br[2, 0], br[3, 0], br[4, 0] = t_prev, f_prev, gpx, gpy, gtd_prev
            br[0, 1], br[1, 1], br[2, 1], br[3, 1], br[4, 1] = t, f_new, gnx, gny, gtd_new
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10.0
        tmp = t
        t = _cubic(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, True, min_step, max_step)
        t_prev, f_prev, gpx, gpy, gtd_prev = tmp, f_new, gnx, gny, gtd_new
        f_new, gnx, gny = _fg(fid, fp, x + t * dx, y + t * dy)
        evals += 1
        gtd_new = gnx * dx + gny * dy
        _trial(rec, trials, cnt, t, f_new, gtd_new)
        ls_iter += 1
    if single:
        return f_new, gnx, gny, t, evals
    if ls_iter == max_ls:
        br[0, 0], br[1, 0], br[2, 0], br[3, 0] = 0.0, f, gx, gy
        br[0, 1], br[1, 1], br[2, 1], br[3, 1] = t, f_new, gnx, gny

    # zoom: shrink the bracket until a point satisfies the strong Wolfe conditions
    insuf_progress = False
    low, high = (0, 1) if br[1, 0] <= br[1, 1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(br[0, 1] - br[0, 0]) * d_norm < tolerance_change:
            break
        t = _cubic(br[0, 0], br[1, 0], br[4, 0], br[0, 1], br[1, 1], br[4, 1], False, 0.0, 0.0)
        b_max = max(br[0, 0], br[0, 1])
        b_min = min(br[0, 0], br[0, 1])
        eps = 0.1 * (b_max - b_min)
        if min(b_max - t, t - b_min) < eps:
            if insuf_progress or t >= b_max or t <= b_min:
                if abs(t - b_max) < abs(t - b_min):
                    t = b_max - eps
                else:
                    t = b_min + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, gnx, gny = _fg(fid, fp, x + t * dx, y + t * dy)
        evals += 1
        gtd_new = gnx * dx + gny * dy
        _trial(rec, trials, cnt, t, f_new, gtd_new)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= br[1, low]:
            br[0, high], br[1, high], br[2, high], br[3, high], br[4, high] = (
                t,
                f_new,
                gnx,
                gny,
                gtd_new,
            )
            low, high = (0, 1) if br[1, 0] <= br[1, 1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (br[0, high] - br[0, low]) >= 0.0:
                for r in range(5):
                    br[r, high] = br[r, low]
            br[0, low], br[1, low], br[2, low], br[3, low], br[4, low] = (
                t,
                f_new,
                gnx,
                gny,
                gtd_new,
            )
    return br[1, low], br[2, low], br[3, low], br[0, low], evals


# Columns of an L-BFGS iteration's trace row (``_traj_lbfgs``'s ``iters``).
_IT_COLS = ("step", "x", "y", "dx", "dy", "f", "gtd", "t_init", "first_trial", "t", "f_t", "gtd_t",
            "n_trials")  # fmt: skip


@_jit
def _traj_lbfgs(fid, fp, hp, x, y, lrs, xy, loss, gn, iters, trials, cnt):
    """LBFGS; traces each iteration into ``iters`` (K, 13) (``_IT_COLS``) and its line-search
    evaluations into ``trials`` (M, 3) while ``cnt[0] < K`` (cnt: iterations, trials written)."""
    max_iter, hsize = int(hp[0]), int(hp[1])
    tol_grad, tol_change, wolfe, max_eval = hp[2], hp[3], hp[4] != 0.0, int(hp[5])
    f, gx, gy = _fg(fid, fp, x, y)
    if not _valid(f, gx, gy, x, y):
        return 0
    _record(xy, loss, gn, 0, x, y, f, gx, gy)
    n = lrs.shape[0]
    # history as a ring: logical i (oldest first) lives at (head + i) % hsize
    old_y = np.zeros((hsize, 2))
    old_s = np.zeros((hsize, 2))
    ro = np.zeros(hsize)
    al = np.zeros(hsize)
    br = np.zeros((5, 2))
    head = 0
    num = 0
    n_total = 0  # torch's state["n_iter"], kept across step() calls
    dx = dy = t = 0.0
    h_diag = 1.0
    pgx = pgy = prev_loss = 0.0
    for step in range(n):
        lr = lrs[step]
        cur = f  # the closure's loss at the start of step()
        current_evals = 1
        if max(abs(gx), abs(gy)) <= tol_grad:
            # torch returns before touching its state, so every later step() does the same
            for k in range(step + 1, n + 1):
                _record(xy, loss, gn, k, x, y, f, gx, gy)
            return n + 1
        opt_cond = False
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            n_total += 1
            if n_total == 1:
                dx, dy = -gx, -gy
                head = 0
                num = 0
                h_diag = 1.0
            else:
                yx, yy = gx - pgx, gy - pgy
                sx, sy = dx * t, dy * t
                ys = yx * sx + yy * sy
                if ys > 1e-10:
                    if num == hsize:
                        head = (head + 1) % hsize
                        num -= 1
                    j = (head + num) % hsize
                    old_y[j, 0], old_y[j, 1] = yx, yy
                    old_s[j, 0], old_s[j, 1] = sx, sy
                    ro[j] = 1.0 / ys
                    num += 1
                    h_diag = ys / (yx * yx + yy * yy)
                qx, qy = -gx, -gy
                for i in range(num - 1, -1, -1):
                    j = (head + i) % hsize
                    al[i] = (old_s[j, 0] * qx + old_s[j, 1] * qy) * ro[j]
                    qx = qx + -al[i] * old_y[j, 0]
                    qy = qy + -al[i] * old_y[j, 1]
                dx, dy = qx * h_diag, qy * h_diag
                for i in range(num):
                    j = (head + i) % hsize
                    be_i = (old_y[j, 0] * dx + old_y[j, 1] * dy) * ro[j]
                    dx = dx + (al[i] - be_i) * old_s[j, 0]
                    dy = dy + (al[i] - be_i) * old_s[j, 1]
            pgx, pgy, prev_loss = gx, gy, cur
            if n_total == 1:
                t = min(1.0, 1.0 / (abs(gx) + abs(gy))) * lr
            else:
                t = lr
            gtd = gx * dx + gy * dy
            if gtd > -tol_change:
                break
            rec = cnt[0] < iters.shape[0]
            if rec:
                r = cnt[0]
                iters[r, 0], iters[r, 1], iters[r, 2], iters[r, 3] = step, x, y, dx
                iters[r, 4], iters[r, 5], iters[r, 6], iters[r, 7] = dy, cur, gtd, t
                iters[r, 8] = cnt[1]
            ls_evals = 0
            if wolfe:
                cur, gx, gy, t, ls_evals = _strong_wolfe(
                    fid,
                    fp,
                    x,
                    y,
                    t,
                    dx,
                    dy,
                    cur,
                    gx,
                    gy,
                    gtd,
                    max_eval - current_evals,
                    br,
                    rec,
                    trials,
                    cnt,
                )
                x = x + t * dx
                y = y + t * dy
                opt_cond = max(abs(gx), abs(gy)) <= tol_grad
            else:
                x = x + t * dx
                y = y + t * dy
                if n_iter != max_iter:
                    cur, gx, gy = _fg(fid, fp, x, y)
                    ls_evals = 1
                    opt_cond = max(abs(gx), abs(gy)) <= tol_grad
                    _trial(rec, trials, cnt, t, cur, gx * dx + gy * dy)
            if rec:
                r = cnt[0]
                evaluated = wolfe or n_iter != max_iter
                iters[r, 9] = t
                iters[r, 10] = cur if evaluated else math.nan
                iters[r, 11] = gx * dx + gy * dy if evaluated else math.nan
                iters[r, 12] = cnt[1] - iters[r, 8]
                cnt[0] = r + 1
            current_evals += ls_evals
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if max(abs(dx * t), abs(dy * t)) <= tol_change:
                break
            if abs(cur - prev_loss) < tol_change:
                break
        f, gx, gy = _fg(fid, fp, x, y)
        if not _valid(f, gx, gy, x, y):
            return step + 1
        _record(xy, loss, gn, step + 1, x, y, f, gx, gy)
    return n + 1


@_jit
def _run_opt(fid, fp, kind, hp, starts, lrs, xy, loss, gn, length):
    """One optimizer from every start: xy (S, T+1, 2), loss/gn (S, T+1), lrs (T,), length (S,).

    Entries past each trajectory's length are set to nan.
    """
    n = lrs.shape[0]
    bc1 = np.empty(n)
    bc2_sqrt = np.empty(n)
    no_iters = np.empty((0, 13))  # LBFGS traces nothing here (lbfgs_line_search does)
    no_trials = np.empty((0, 3))
    no_cnt = np.zeros(2, dtype=np.int64)
    if kind == 3:  # torch's bias corrections, as it computes them (pow), once per optimizer
        for t in range(n):
            bc1[t] = 1.0 - math.pow(hp[0], t + 1.0)
            bc2_sqrt[t] = math.pow(1.0 - math.pow(hp[1], t + 1.0), 0.5)
    for s in range(starts.shape[0]):
        x, y, xy_s, loss_s, gn_s = starts[s, 0], starts[s, 1], xy[s], loss[s], gn[s]
        if kind == 0:
            m = _traj_sgd(fid, fp, hp, x, y, lrs, xy_s, loss_s, gn_s)
        elif kind == 1:
            m = _traj_adagrad(fid, fp, hp, x, y, lrs, xy_s, loss_s, gn_s)
        elif kind == 2:
            m = _traj_rmsprop(fid, fp, hp, x, y, lrs, xy_s, loss_s, gn_s)
        elif kind == 3:
            m = _traj_adam(fid, fp, hp, x, y, lrs, xy_s, loss_s, gn_s, bc1, bc2_sqrt)
        else:
            m = _traj_lbfgs(fid, fp, hp, x, y, lrs, xy_s, loss_s, gn_s, no_iters, no_trials, no_cnt)
        length[s] = m
        for k in range(m, n + 1):
            xy_s[k, 0] = math.nan
            xy_s[k, 1] = math.nan
            loss_s[k] = math.nan
            gn_s[k] = math.nan


@_jit
def _run_all(fid, fp, kinds, hp, starts, lrs, xy, loss, gn, length):
    """Every optimizer o from every start: xy (O, S, T+1, 2), loss/gn (O, S, T+1), lrs (O, T)."""
    for o in range(kinds.shape[0]):
        _run_opt(fid, fp, kinds[o], hp[o], starts, lrs[o], xy[o], loss[o], gn[o], length[o])


_KERNELS = (
    "_valid",
    "_record",
    "_lerp",
    "_sqrt",
    "_cubic",
    "_trial",
    "_strong_wolfe",
    "_traj_sgd",
    "_traj_adagrad",
    "_traj_rmsprop",
    "_traj_adam",
    "_traj_lbfgs",
    "_run_opt",
)


def _python_namespace(fg: Callable[[Any, Any, Any, Any], tuple[Any, Any, Any]]) -> dict:
    """The kernels as plain Python functions calling ``fg`` instead of the compiled ``_fg``.

    Same code objects, new globals: one source for the compiled and the interpreted engine.
    """
    ns = dict(globals())
    ns["_fg"] = fg
    for name in _KERNELS:
        py = globals()[name].py_func
        ns[name] = types.FunctionType(py.__code__, ns, name, py.__defaults__, py.__closure__)
    return ns


def _objective_fg(objective: Objective) -> Callable[..., tuple[Any, Any, Any]]:
    f, grad = objective.f, objective.grad

    def fg(fid, fp, x, y):
        gx, gy = grad(x, y)
        return np.float64(f(x, y)), np.float64(gx), np.float64(gy)

    return fg


_KERNELS_CHECKED = False
_CHECK_LOCK = threading.Lock()


def _check_kernels() -> None:
    """Recompile the kernels if their on-disk cache predates the formulas in surfaces.py.

    numba keys a cached function on its own file only: kernels cached before an edit of
    surfaces.py would keep the old formulas compiled in. One step from one point per function,
    compared with surfaces' numpy evaluation, finds that; then everything is recompiled, callees
    first.
    """
    global _KERNELS_CHECKED
    with _CHECK_LOCK:
        if _KERNELS_CHECKED:
            return
        for attempt in range(2):
            stale = False
            for name, fid in _FIDS.items():
                obj = surfaces.get_function(name)
                fp = float(next(iter(obj.params.values()), 0.0))
                xy = np.empty((1, 1, 2, 2))
                loss, gn = np.empty((1, 1, 2)), np.empty((1, 1, 2))
                length = np.empty((1, 1), dtype=np.int64)
                start = np.array([[0.3, -0.7]])
                hp = np.zeros((1, _N_HP))
                _run_all(
                    fid,
                    fp,
                    np.zeros(1, np.int64),
                    hp,
                    start,
                    np.zeros((1, 1)),
                    xy,
                    loss,
                    gn,
                    length,
                )
                want_f = float(obj.f(0.3, -0.7))
                want_g = math.hypot(*(float(g) for g in obj.grad(0.3, -0.7)))
                stale |= not math.isclose(loss[0, 0, 0], want_f, rel_tol=1e-12, abs_tol=1e-12)
                stale |= not math.isclose(gn[0, 0, 0], want_g, rel_tol=1e-12, abs_tol=1e-12)
            if not stale or attempt:
                break
            kernels = [globals()[name] for name in ("_fg", *_KERNELS, "_run_all")]
            for disp in kernels:  # first forget every cached kernel, so none is reloaded
                disp._cache.flush()
            for disp in kernels:
                if disp.signatures:
                    disp.recompile()
        _KERNELS_CHECKED = True


@contextlib.contextmanager
def _callback(objective: Objective) -> Iterator[float]:
    """A user objective registered for the kernels (``fid = -1``): yields its handle ``fp``."""
    f, grad = objective.f, objective.grad

    def fg(x: float, y: float) -> tuple[float, float, float]:
        gx, gy = grad(x, y)
        return float(f(x, y)), float(gx), float(gy)

    handle = next(_USER_HANDLES)
    _USER_FG[handle] = fg
    try:
        with np.errstate(all="ignore"):  # applies to the callbacks: same thread
            yield float(handle)
    finally:
        del _USER_FG[handle]


def _run_numba(objective, builtin, kinds, hp, starts, lrs, xy, loss, gn, length, rows) -> None:
    """The compiled engine for optimizer ``rows``; user objectives are called back per point."""
    sub = rows != list(range(kinds.shape[0]))
    k, h, lr_r = (kinds[rows], hp[rows], lrs[rows]) if sub else (kinds, hp, lrs)
    shape = (len(rows), starts.shape[0])
    o_xy = np.empty((*shape, lrs.shape[1] + 1, 2)) if sub else xy
    o_loss = np.empty((*shape, lrs.shape[1] + 1)) if sub else loss
    o_gn = np.empty_like(o_loss) if sub else gn
    o_len = np.empty(shape, dtype=np.int64) if sub else length
    if builtin is not None:
        if not _KERNELS_CHECKED:
            _check_kernels()
        _run_all(builtin[0], builtin[1], k, h, starts, lr_r, o_xy, o_loss, o_gn, o_len)
    else:
        with _callback(objective) as handle:
            _run_all(-1, handle, k, h, starts, lr_r, o_xy, o_loss, o_gn, o_len)
    if sub:
        xy[rows], loss[rows], gn[rows], length[rows] = o_xy, o_loss, o_gn, o_len


def _run_python(fg, kinds, hp, starts, lrs, xy, loss, gn, length, rows) -> None:
    """The interpreted engine for the given optimizer rows."""
    run_opt = _python_namespace(fg)["_run_opt"]
    with np.errstate(all="ignore"):  # numpy scalars: overflow and 0/0 give inf/nan as in torch
        for o in rows:
            run_opt(0, 0.0, int(kinds[o]), hp[o], starts, lrs[o], xy[o], loss[o], gn[o], length[o])


# ----------------------------------------------------------------------------------------------
# numpy engine: every first-order (optimizer, start) pair as one (O, S, 2) array per step
# ----------------------------------------------------------------------------------------------


def _np_lerp(a: Array, b: Array, w: Array) -> Array:
    """ATen's lerp with per-row weights w (n, 1, 1)."""
    if (np.abs(w) < 0.5).all():
        return a + w * (b - a)
    return np.where(np.abs(w) < 0.5, a + w * (b - a), b - (b - a) * (1.0 - w))


def _np_sgd(h: Array) -> Callable[[Array, Array, Array, int], Array]:
    """SGD rows (n, N_HP) as one vectorized update ``step(p, g, lr, t) -> p``; p, g (n, S, 2)."""
    mom, damp, wd = h[:, 0], h[:, 1], h[:, 3]
    nest = h[:, 2] != 0
    buf = np.zeros(0)

    def step(p: Array, g: Array, lr: Array, t: int) -> Array:
        nonlocal buf
        g = g + wd * p
        buf = g.copy() if t == 0 else buf * mom + (1.0 - damp) * g
        d = np.where(mom != 0, np.where(nest, g + mom * buf, buf), g)
        return p + -lr * d

    return step


def _np_adagrad(h: Array) -> Callable[[Array, Array, Array, int], Array]:
    decay, wd, init, eps = h[:, 0], h[:, 1], h[:, 2], h[:, 3]
    total = np.zeros(0)

    def step(p: Array, g: Array, lr: Array, t: int) -> Array:
        nonlocal total
        g = g + wd * p
        total = (init if t == 0 else total) + g * g
        return p + -(lr / (1.0 + t * decay)) * g / (np.sqrt(total) + eps)

    return step


def _np_rmsprop(h: Array) -> Callable[[Array, Array, Array, int], Array]:
    alpha, eps, wd, mom = h[:, 0], h[:, 1], h[:, 2], h[:, 3]
    centered = h[:, 4] != 0
    any_centered, any_mom, all_mom = centered.any(), (mom > 0).any(), (mom > 0).all()
    v = avg_g = buf = 0.0

    def step(p: Array, g: Array, lr: Array, t: int) -> Array:
        nonlocal v, avg_g, buf
        g = g + wd * p
        v = v * alpha + (1.0 - alpha) * g * g
        if any_centered:
            avg_g = _np_lerp(avg_g + 0.0 * g, g, 1.0 - alpha)
            den = np.where(centered, np.sqrt(v + -1.0 * avg_g * avg_g), np.sqrt(v)) + eps
        else:
            den = np.sqrt(v) + eps
        if not any_mom:
            return p + -lr * g / den
        buf = buf * mom + g / den
        return p + -lr * buf if all_mom else np.where(mom > 0, p + -lr * buf, p + -lr * g / den)

    return step


def _np_adam(h: Array) -> Callable[[Array, Array, Array, int], Array]:
    b1, b2, eps = h[:, 0], h[:, 1], h[:, 2]
    decoupled = h[:, 5] != 0
    wd_decoupled, wd = np.where(decoupled, h[:, 3], 0.0), np.where(decoupled, 0.0, h[:, 3])
    amsgrad = h[:, 4] != 0
    m = v = v_max = 0.0

    def step(p: Array, g: Array, lr: Array, t: int) -> Array:
        nonlocal m, v, v_max
        if wd_decoupled.any():
            p = p * (1.0 - lr * wd_decoupled)
        g = g + wd * p
        m = _np_lerp(m + 0.0 * g, g, 1.0 - b1)
        v = v * b2 + (1.0 - b2) * g * g
        step_size = lr / (1.0 - b1 ** (t + 1))
        bc2_sqrt = (1.0 - b2 ** (t + 1)) ** 0.5
        if amsgrad.any():
            v_max = np.maximum(v_max, v)
            den = np.sqrt(np.where(amsgrad, v_max, v)) / bc2_sqrt + eps
        else:
            den = np.sqrt(v) / bc2_sqrt + eps
        return p + -step_size * m / den

    return step


_NP_RULES = {0: _np_sgd, 1: _np_adagrad, 2: _np_rmsprop, 3: _np_adam}


def _run_numpy(objective, kinds, hp, starts, lrs, xy, loss, gn, length, rows) -> None:
    """Advance first-order optimizer ``rows`` from all starts together, torch's rules.

    One call of the objective's vectorized f and gradient per step for every (optimizer, start);
    each kind of optimizer updates its rows as one (n, S, 2) array. Points past a trajectory's
    end keep being computed (cheaper than compacting) and are set to nan at the end.
    """
    rows = np.asarray(rows, dtype=np.int64)
    rows = rows[np.argsort(kinds[rows], kind="stable")]  # each kind a contiguous block
    n_rows, n_starts, n_steps = rows.size, starts.shape[0], lrs.shape[1] - 1
    groups = []
    for kind in np.unique(kinds[rows]):
        (idx,) = np.nonzero(kinds[rows] == kind)
        block = slice(idx[0], idx[-1] + 1)
        rule = _NP_RULES[int(kind)](hp[rows[block]][:, :, None, None])  # hp as (n, N_HP, 1, 1)
        groups.append((block, rule, lrs[rows[block]][:, :, None, None]))

    p = np.broadcast_to(starts, (n_rows, n_starts, 2)).copy()  # (R, S, 2)
    out_xy = np.empty((n_rows, n_starts, n_steps + 1, 2))
    out_loss = np.empty((n_rows, n_starts, n_steps + 1))
    out_gn = np.empty((n_rows, n_starts, n_steps + 1))
    out_len = np.full((n_rows, n_starts), n_steps + 1, dtype=np.int64)
    alive = np.ones((n_rows, n_starts), dtype=bool)
    g = np.empty_like(p)
    with np.errstate(all="ignore"):
        for t in range(n_steps + 1):
            x, y = p[..., 0], p[..., 1]
            f = objective.f(x, y)
            g[..., 0], g[..., 1] = objective.grad(x, y)
            out_xy[:, :, t] = p
            out_loss[:, :, t] = f
            out_gn[:, :, t] = np.hypot(g[..., 0], g[..., 1])
            ok = (np.abs(out_loss[:, :, t]) <= DIVERGE) & np.isfinite(g).all(-1)
            ok &= np.isfinite(p).all(-1)
            ended = alive & ~ok
            if ended.any():
                out_len[ended] = t
                alive &= ok
                if not alive.any():
                    break
            if t == n_steps:
                break
            p = (
                np.concatenate([rule(p[b], g[b], lr[:, t], t) for b, rule, lr in groups], axis=0)
                if len(groups) > 1
                else groups[0][1](p, g, groups[0][2][:, t], t)
            )

    tail = np.arange(n_steps + 1) >= out_len[:, :, None]  # (R, S, T+1)
    out_xy[tail] = np.nan
    out_loss[tail] = np.nan
    out_gn[tail] = np.nan
    xy[rows], loss[rows], gn[rows], length[rows] = out_xy, out_loss, out_gn, out_len


# ----------------------------------------------------------------------------------------------
# Entry point
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OptimizeResult:
    """Trajectories of ``n_opt`` optimizers from ``S`` starts over ``steps`` steps.

    xy (n_opt, S, steps+1, 2) points θ_0..θ_steps; loss (n_opt, S, steps+1) f(θ_t);
    grad_norm (n_opt, S, steps+1) |∇f(θ_t)|; lr (n_opt, steps+1) the lr of the step leaving θ_t
    (the last entry is the lr the schedule would give a further step); length (n_opt, S) valid
    points (steps+1 unless diverged); diverged_at (n_opt, S) the first invalid step (non-finite
    value or |f| > 1e12), -1 if none. Entries past ``length`` are nan. ``configs``: each
    optimizer's full hyperparameters (defaults filled in), in order.
    """

    xy: Array
    loss: Array
    grad_norm: Array
    lr: Array
    length: Array
    diverged_at: Array
    configs: tuple[dict[str, Any], ...] = ()


Backend = Literal["auto", "numba", "numpy", "python"]


def _builtin_id(objective: Objective) -> tuple[int, float] | None:
    """(function id, parameter) when ``objective`` is an unmodified built-in, else None."""
    f, grad = objective.f, objective.grad
    if not (isinstance(f, surfaces.BuiltinFn) and isinstance(grad, surfaces.BuiltinFn)):
        return None
    if f.name != grad.name or f.args != grad.args or f.name not in _FIDS:
        return None
    spec_f = getattr(surfaces, f"{f.name}_f", None)
    spec_g = getattr(surfaces, f"{f.name}_grad", None)
    if f.fn is not spec_f or grad.fn is not spec_g:
        return None
    return _FIDS[f.name], (f.args[0] if f.args else 0.0)


def _check_starts(starts: ArrayLike) -> Array:
    a = np.asarray(starts, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 2 or a.shape[0] < 1:
        raise ValueError(f"starts must have shape (S, 2) with S >= 1; got {a.shape}")
    if not np.isfinite(a).all():
        raise ValueError("starts must be finite")
    return np.ascontiguousarray(a)


def optimize(
    objective: Objective,
    optimizers: Sequence[Mapping[str, Any]],
    starts: ArrayLike,
    steps: int,
    schedule: Mapping[str, Any] | None = None,
    *,
    backend: Backend = "auto",
) -> OptimizeResult:
    """Run each optimizer (``{"name": "adam", "lr": 0.01, ...}``) from each start for ``steps``.

    θ_{t+1} = update(θ_t, ∇f(θ_t), state, lr_t) with torch.optim's rules in float64; starts
    (S, 2); ``schedule`` ``{"name": "cosine", ...}`` scales every optimizer's own lr (None:
    constant). ``backend`` picks the engine: ``auto`` = ``numba`` for built-in functions, and
    for user objectives when there are few points (their f is then called back per point),
    else ``numpy`` (its LBFGS rows still compiled, calling f back); ``python`` interprets the
    compiled kernels' source (a reference).
    """
    if isinstance(optimizers, Mapping) or not isinstance(optimizers, Sequence):
        raise ValueError("optimizers must be a list of mappings")
    if not optimizers:
        raise ValueError("optimizers must not be empty")
    parsed = [_parse_optimizer(o, i) for i, o in enumerate(optimizers)]
    steps = _check_steps(steps)
    pts = _check_starts(starts)
    sched_name, sched_params = _parse_schedule(schedule)

    n_opt, n_starts = len(parsed), pts.shape[0]
    lr = np.stack(
        [_schedule_values(sched_name, p["lr"], steps, steps + 1, sched_params) for _, p in parsed]
    )  # (n_opt, steps + 1)
    kinds = np.array([_KIND[name] for name, _ in parsed], dtype=np.int64)
    hp = np.array([_hp_row(name, p) for name, p in parsed], dtype=np.float64)  # (n_opt, _N_HP)
    lrs = np.ascontiguousarray(lr[:, :steps])

    xy = np.empty((n_opt, n_starts, steps + 1, 2))
    loss = np.empty((n_opt, n_starts, steps + 1))
    gn = np.empty((n_opt, n_starts, steps + 1))
    length = np.empty((n_opt, n_starts), dtype=np.int64)

    builtin = _builtin_id(objective)
    rows = list(range(n_opt))
    lbfgs_rows = [o for o in rows if kinds[o] == _LBFGS]
    first_order = [o for o in rows if kinds[o] != _LBFGS]
    if backend == "auto":
        # a user objective costs one Python call per point in the kernel, one vectorized call
        # per step in numpy: bench/bench_optimize.py puts the crossover near 16 points
        small = len(first_order) * n_starts <= _CALLBACK_MAX_POINTS
        backend = "numba" if builtin is not None or small else "numpy"
    if backend == "numba":
        _run_numba(objective, builtin, kinds, hp, pts, lrs, xy, loss, gn, length, rows)
    elif backend == "numpy":
        if first_order:
            _run_numpy(objective, kinds, hp, pts, lr, xy, loss, gn, length, first_order)
        if lbfgs_rows:  # the line search does not vectorize: compiled, calling back for f
            _run_numba(objective, builtin, kinds, hp, pts, lrs, xy, loss, gn, length, lbfgs_rows)
    elif backend == "python":
        _run_python(_objective_fg(objective), kinds, hp, pts, lrs, xy, loss, gn, length, rows)
    else:
        raise ValueError(f"backend must be one of auto, numba, numpy, python; got {backend!r}")

    diverged_at = np.where(length < steps + 1, length, -1)
    return OptimizeResult(
        xy=xy,
        loss=loss,
        grad_norm=gn,
        lr=lr,
        length=length,
        diverged_at=diverged_at,
        configs=tuple({"name": name, **p} for name, p in parsed),
    )


# ----------------------------------------------------------------------------------------------
# Fair race: every optimizer at its own best learning rate
# ----------------------------------------------------------------------------------------------

TUNE_CRITERIA = ("final", "area")
MAX_TUNE_LRS = 25


@dataclass(frozen=True)
class TuneResult:
    """A learning-rate grid per optimizer run as one ``optimize`` call, and the tuned race.

    lrs (G,) the grid, geometric from lr_min to lr_max; score (n_opt, G) each lr's score:
    criterion ``final`` = mean over starts of f(θ_steps), ``area`` = mean over starts and
    t = 0..steps of f(θ_t) (the area under the loss curve over steps + 1); +inf where any
    start diverged. best (n_opt,) index of the lowest score (the smaller lr on a tie);
    diverged (n_opt, G) starts that diverged; race: the ``OptimizeResult`` of every optimizer
    at its best lr (rows of the grid run; ``configs`` carry the tuned lr).
    """

    lrs: Array
    score: Array
    best: Array
    diverged: Array
    race: OptimizeResult
    criterion: str


def _int_in(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be in [{lo}, {hi}]; got {value}")
    return int(value)


def tune_lr(
    objective: Objective,
    optimizers: Sequence[Mapping[str, Any]],
    starts: ArrayLike,
    steps: int,
    schedule: Mapping[str, Any] | None = None,
    *,
    lr_min: float = 1e-4,
    lr_max: float = 1.0,
    n_lrs: int = 13,
    criterion: str = "final",
    backend: Backend = "auto",
) -> TuneResult:
    """Tune each optimizer's lr on a log grid, then race the winners (a 'fair race').

    lrs = geomspace(lr_min, lr_max, n_lrs); optimizer o at lrs[g] is lane o·G + g of ONE
    ``optimize`` call (its own lr row: every lane advances in the same kernel call);
    best_o = argmin_g score(o, g). Each optimizer's own lr is ignored; its other
    hyperparameters and the schedule (which scales each lane's lr) are kept.
    """
    if isinstance(optimizers, Mapping) or not isinstance(optimizers, Sequence):
        raise ValueError("optimizers must be a list of mappings")
    if not optimizers:
        raise ValueError("optimizers must not be empty")
    parsed = [_parse_optimizer(o, i) for i, o in enumerate(optimizers)]
    n_lrs = _int_in("n_lrs", n_lrs, 2, MAX_TUNE_LRS)
    lr_min = _lr(0.0).check("lr_min", lr_min)
    lr_max = _lr(0.0).check("lr_max", lr_max)
    if not lr_min < lr_max:
        raise ValueError(f"lr_min must be below lr_max; got {lr_min} and {lr_max}")
    if criterion not in TUNE_CRITERIA:
        raise ValueError(f"criterion must be one of {', '.join(TUNE_CRITERIA)}; got {criterion!r}")
    lrs = np.geomspace(lr_min, lr_max, n_lrs)
    lanes = [{"name": name, **p, "lr": float(lr)} for name, p in parsed for lr in lrs]
    res = optimize(objective, lanes, starts, steps, schedule, backend=backend)

    n_opt, n_starts = len(parsed), res.xy.shape[1]
    loss = res.loss.reshape(n_opt, n_lrs, n_starts, -1)  # (O, G, S, steps + 1)
    dead = (res.diverged_at >= 0).reshape(n_opt, n_lrs, n_starts)
    with np.errstate(invalid="ignore"):
        per = loss[..., -1] if criterion == "final" else loss.mean(-1)  # (O, G, S)
    score = np.where(dead, np.inf, per).mean(-1)  # (O, G)
    best = np.argmin(score, axis=1)  # the first minimum: the smaller lr on a tie
    rows = np.arange(n_opt) * n_lrs + best
    race = OptimizeResult(
        xy=res.xy[rows],
        loss=res.loss[rows],
        grad_norm=res.grad_norm[rows],
        lr=res.lr[rows],
        length=res.length[rows],
        diverged_at=res.diverged_at[rows],
        configs=tuple(res.configs[r] for r in rows),
    )
    return TuneResult(
        lrs=lrs, score=score, best=best, diverged=dead.sum(-1), race=race, criterion=criterion
    )


# ----------------------------------------------------------------------------------------------
# L-BFGS iterations with their strong-Wolfe line search
# ----------------------------------------------------------------------------------------------

MAX_TRACE_ITERS = 10_000


@dataclass(frozen=True)
class LineSearchTrace:
    """Every L-BFGS iteration of one run, with what its line search evaluated.

    Iteration k starts at x[k] (K, 2) in optimizer step step[k] (K,), searches along d[k]
    (K, 2): φ(t) = f(x + t·d), f (K,) = φ(0), gtd (K,) = φ'(0) = ∇f(x)·d < 0; t_init (K,)
    the first trial step; t (K,) the accepted step with f_t, gtd_t (K,) = φ(t), φ'(t) (nan
    where LBFGS took its last fixed step without evaluating). Strong Wolfe at t (torch's
    c1 = 1e-4, c2 = 0.9): armijo (K,) φ(t) ≤ φ(0) + c1·t·φ'(0), curvature (K,)
    |φ'(t)| ≤ c2·|φ'(0)|. trials (M, 3) rows (t, φ(t), φ'(t)) of every evaluation in order;
    iteration k's are trials[offsets[k]:offsets[k + 1]], and trial_armijo, trial_curvature (M,)
    the two conditions at each trial. truncated: the run had more
    iterations than max_iters. run: the trajectory (1 optimizer, 1 start), as ``optimize``
    gives it. phi_t, phi (K, n_phi): φ sampled on 0..1.25·max(trial t) (empty if n_phi = 0).
    """

    step: Array
    x: Array
    d: Array
    f: Array
    gtd: Array
    t_init: Array
    t: Array
    f_t: Array
    gtd_t: Array
    armijo: Array
    curvature: Array
    trials: Array
    offsets: Array
    trial_armijo: Array
    trial_curvature: Array
    truncated: bool
    run: OptimizeResult
    phi_t: Array
    phi: Array


def lbfgs_line_search(
    objective: Objective,
    optimizer: Mapping[str, Any],
    start: ArrayLike,
    steps: int,
    schedule: Mapping[str, Any] | None = None,
    *,
    max_iters: int = 200,
    n_phi: int = 0,
) -> LineSearchTrace:
    """One LBFGS run (torch's rules, as ``optimize``) from ``start`` (2,), tracing its searches.

    The same compiled kernel as ``optimize`` with tracing switched on: the first ``max_iters``
    iterations are recorded (iteration = one direction d and one line search; one optimizer
    step makes up to max_iter of them). ``n_phi`` > 0 also samples φ(t) = f(x + t·d) of each
    iteration on n_phi points of [0, 1.25·max t tried], in one vectorized call of f.
    """
    name, p = _parse_optimizer(optimizer, 0)
    if name != "lbfgs":
        raise ValueError(f"optimizer.name must be 'lbfgs'; got {name!r}")
    steps = _check_steps(steps)
    pts = _check_starts(np.reshape(np.asarray(start, dtype=np.float64), (1, -1)))
    max_iters = _int_in("max_iters", max_iters, 1, MAX_TRACE_ITERS)
    n_phi = _int_in("n_phi", n_phi, 0, 1001)
    sched_name, sched_params = _parse_schedule(schedule)
    lr = _schedule_values(sched_name, p["lr"], steps, steps + 1, sched_params)[None]  # (1, T+1)
    hp = np.array(_hp_row(name, p))
    lrs = np.ascontiguousarray(lr[0, :steps])

    xy = np.empty((steps + 1, 2))
    loss, gn = np.empty(steps + 1), np.empty(steps + 1)
    iters = np.empty((max_iters + 1, len(_IT_COLS)))  # one spare row tells "truncated"
    trials = np.empty(((max_iters + 1) * int(hp[5]), 3))  # <= max_eval evaluations each
    cnt = np.zeros(2, dtype=np.int64)
    x0, y0 = pts[0]
    builtin = _builtin_id(objective)
    if builtin is not None:
        if not _KERNELS_CHECKED:
            _check_kernels()
        n = _traj_lbfgs(*builtin, hp, x0, y0, lrs, xy, loss, gn, iters, trials, cnt)
    else:
        with _callback(objective) as handle:
            n = _traj_lbfgs(-1, handle, hp, x0, y0, lrs, xy, loss, gn, iters, trials, cnt)
    xy[n:], loss[n:], gn[n:] = np.nan, np.nan, np.nan
    run = OptimizeResult(
        xy=xy[None, None],
        loss=loss[None, None],
        grad_norm=gn[None, None],
        lr=lr,
        length=np.array([[n]]),
        diverged_at=np.array([[n if n < steps + 1 else -1]]),
        configs=({"name": name, **p},),
    )

    k = min(int(cnt[0]), max_iters)
    it = iters[:k]
    offsets = np.append(it[:, 8], it[-1, 8] + it[-1, 12] if k else 0).astype(np.int64)
    tr = trials[: offsets[-1]]
    owner = np.repeat(np.arange(k), np.diff(offsets))  # (M,) iteration of each trial
    with np.errstate(invalid="ignore"):
        armijo = it[:, 10] <= it[:, 5] + WOLFE_C1 * it[:, 9] * it[:, 6]
        curvature = np.abs(it[:, 11]) <= -WOLFE_C2 * it[:, 6]
        f0, gtd0 = it[owner, 5], it[owner, 6]
        trial_armijo = tr[:, 1] <= f0 + WOLFE_C1 * tr[:, 0] * gtd0
        trial_curvature = np.abs(tr[:, 2]) <= -WOLFE_C2 * gtd0
    phi_t = phi = np.empty((k, 0))
    if n_phi:
        # [0, 1.25·(largest t tried, or accepted)] per iteration, as one (K, n_phi) grid
        reach = np.zeros(k)
        np.maximum.at(reach, owner, tr[:, 0])
        hi = 1.25 * np.maximum(reach, it[:, 9])
        hi = np.where(np.isfinite(hi) & (hi > 0), hi, 1.0)
        phi_t = hi[:, None] * np.linspace(0.0, 1.0, n_phi)  # (K, n_phi)
        with np.errstate(all="ignore"):
            phi = np.asarray(
                objective.f(it[:, 1, None] + phi_t * it[:, 3, None],
                            it[:, 2, None] + phi_t * it[:, 4, None]),
                dtype=np.float64,
            ) * np.ones_like(phi_t)  # fmt: skip
    return LineSearchTrace(
        step=it[:, 0].astype(np.int64),
        x=it[:, 1:3],
        d=it[:, 3:5],
        f=it[:, 5],
        gtd=it[:, 6],
        t_init=it[:, 7],
        t=it[:, 9],
        f_t=it[:, 10],
        gtd_t=it[:, 11],
        armijo=armijo,
        curvature=curvature,
        trials=tr,
        offsets=offsets,
        trial_armijo=trial_armijo,
        trial_curvature=trial_curvature,
        truncated=bool(cnt[0] > max_iters),
        run=run,
        phi_t=phi_t,
        phi=phi,
    )


def warmup() -> None:
    """Compile (or load from the on-disk cache) the numba kernels; call once at server start.

    A first compile takes seconds (about 10 s of CPU); later processes load the cache in well
    under a second.
    """
    objective = surfaces.get_function("rosenbrock")
    optimize(
        objective,
        [{"name": n} for n in OPTIMIZERS],
        [[-1.0, 1.0]],
        2,
    )
    lbfgs_line_search(objective, {"name": "lbfgs", "line_search_fn": "strong_wolfe"}, [-1, 1], 2)
