"""Request/response models of the gradient-descent lab: optimizers with torch.optim's names,
hyperparameters, defaults and bounds; functions by name or typed expression; schedules."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from . import schedules
from .common import FiniteFloat, Strict
from .schedules import with_defaults

FunctionName = Literal["quadratic", "rosenbrock", "beale", "himmelblau", "saddle", "booth", "rastrigin"]

Lr = Annotated[float, Field(gt=0, le=10, allow_inf_nan=False, description="learning rate γ", json_schema_extra={"log": True})]
Beta = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)]
WeightDecay = Annotated[float, Field(ge=0, le=10, allow_inf_nan=False, description="L2 penalty λ")]
Eps = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False, description="ε added to the denominator", json_schema_extra={"log": True})]
Momentum = Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False, description="momentum μ")]


class FunctionRef(Strict):
    """A built-in test function by `name` (with `k` for quadratic), or a typed `expression` in x, y."""

    name: FunctionName | None = Field(None, description="built-in test function")
    k: float | None = Field(None, ge=1, le=1000, allow_inf_nan=False, description="condition number of `quadratic`")
    expression: str | None = Field(
        None, min_length=1, max_length=200, description="f(x, y) typed by the user, e.g. sin(x)*cos(y) + 0.1*x**2"
    )

    @model_validator(mode="after")
    def _one_of(self) -> FunctionRef:
        if (self.name is None) == (self.expression is None):
            raise ValueError("give exactly one of function.name or function.expression")
        if self.k is not None and self.name != "quadratic":
            raise ValueError("k applies only to function.name = 'quadratic'")
        return self


class SGD(Strict):
    name: Literal["sgd"]
    lr: Lr = 0.001
    momentum: Momentum = 0.0
    dampening: float = Field(0.0, ge=0, le=1, allow_inf_nan=False, description="dampening of momentum")
    nesterov: bool = Field(False, description="Nesterov momentum (needs momentum > 0, dampening = 0)")
    weight_decay: WeightDecay = 0.0

    @model_validator(mode="after")
    def _nesterov(self) -> SGD:
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError("nesterov requires momentum > 0 and dampening = 0")
        return self


class Adagrad(Strict):
    name: Literal["adagrad"]
    lr: Lr = 0.01
    lr_decay: float = Field(0.0, ge=0, le=10, allow_inf_nan=False, description="learning-rate decay")
    weight_decay: WeightDecay = 0.0
    initial_accumulator_value: float = Field(0.0, ge=0, le=100, allow_inf_nan=False)
    eps: Eps = 1e-10


class RMSprop(Strict):
    name: Literal["rmsprop"]
    lr: Lr = 0.01
    alpha: float = Field(0.99, ge=0, lt=1, allow_inf_nan=False, description="smoothing constant α")
    eps: Eps = 1e-8
    weight_decay: WeightDecay = 0.0
    momentum: Momentum = 0.0
    centered: bool = Field(False, description="normalize by the estimated variance of the gradient")


class Adam(Strict):
    name: Literal["adam"]
    lr: Lr = 0.001
    betas: tuple[Beta, Beta] = Field((0.9, 0.999), description="(β₁, β₂): decay of the moment estimates")
    eps: Eps = 1e-8
    weight_decay: WeightDecay = 0.0
    amsgrad: bool = Field(False, description="use the running maximum of the second moment")


class AdamW(Adam):
    name: Literal["adamw"]  # type: ignore[assignment]
    weight_decay: WeightDecay = 0.01


class LBFGS(Strict):
    name: Literal["lbfgs"]
    lr: Lr = 1.0
    max_iter: int = Field(20, ge=1, le=100, description="iterations per step")
    history_size: int = Field(100, ge=1, le=100, description="curvature pairs kept")
    tolerance_grad: float = Field(1e-7, ge=0, le=1, allow_inf_nan=False)
    tolerance_change: float = Field(1e-9, ge=0, le=1, allow_inf_nan=False)
    line_search_fn: Literal["strong_wolfe"] | None = Field(None, description="None or 'strong_wolfe'")


Optimizer = Annotated[SGD | Adagrad | RMSprop | Adam | AdamW | LBFGS, Field(discriminator="name")]
OPTIMIZER_MODELS = {m.model_fields["name"].annotation.__args__[0]: m for m in (SGD, Adagrad, RMSprop, Adam, AdamW, LBFGS)}

# The six schedules, with compute.optim's defaults; fields and bounds are schedules.py's.
Constant = with_defaults(schedules.Constant, "Constant", __name__)
StepLR = with_defaults(schedules.StepLR, "StepLR", __name__)
Exponential = with_defaults(schedules.Exponential, "Exponential", __name__)
Cosine = with_defaults(schedules.CosineTMax, "Cosine", __name__)
WarmupCosine = with_defaults(schedules.WarmupCosine, "WarmupCosine", __name__)
OneCycle = with_defaults(schedules.OneCycle, "OneCycle", __name__)

Schedule = Annotated[Constant | StepLR | Exponential | Cosine | WarmupCosine | OneCycle, Field(discriminator="name")]
SCHEDULE_MODELS = {m.model_fields["name"].annotation.__args__[0]: m for m in (Constant, StepLR, Exponential, Cosine, WarmupCosine, OneCycle)}

MAX_POINTS = 2_000_000
# CPU bound on top of MAX_POINTS: a point of an LBFGS run costs up to max_iter iterations, each
# walking its history twice; measured (bench/bench_optimize.py machine) at <= 50 ns per unit of
# 3·max_iter·(1 + history_size/4) (~30 ns typical), a first-order point at ~1 unit: 16M units
# stay under ~0.8 s, and still let one default LBFGS run (1560 units a point) take 10000 steps.
MAX_WORK = 16_000_000
# A coordinate of a start point: far enough out for any test function, finite in every update.
Coord = Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)]
Point = tuple[Coord, Coord]


def work_units(opt: BaseModel) -> float:
    """Worst-case cost of one point of this optimizer, in units of a first-order step."""
    if isinstance(opt, LBFGS):
        return 3.0 * opt.max_iter * (1.0 + opt.history_size / 4.0)
    return 1.0


def check_budget(optimizers: list, lanes: int, n_starts: int, steps: int, what: str) -> None:
    """optimizers × lanes × starts × (steps + 1) points within MAX_POINTS, their work MAX_WORK."""
    n = len(optimizers) * lanes * n_starts * (steps + 1)
    if n > MAX_POINTS:
        raise ValueError(f"{what} must be at most {MAX_POINTS}; got {n}")
    work = sum(work_units(o) for o in optimizers) * lanes * n_starts * (steps + 1)
    if work > MAX_WORK:
        raise ValueError(
            f"{what}, each LBFGS point counted 3·max_iter·(1 + history_size/4) times, must be at "
            f"most {MAX_WORK}; got {work:.0f}: lower steps, starts, max_iter or history_size"
        )


class OptimizeRequest(Strict):
    function: FunctionRef
    optimizers: list[Optimizer] = Field(min_length=1, max_length=10)
    starts: list[Point] = Field(min_length=1, max_length=256, description="start points [x, y], |x|, |y| ≤ 1e6")
    steps: int = Field(200, ge=1, le=10_000)
    schedule: Schedule | None = None

    @model_validator(mode="after")
    def _budget(self) -> OptimizeRequest:
        check_budget(self.optimizers, 1, len(self.starts), self.steps, "optimizers × starts × (steps + 1)")
        return self

    model_config = Strict.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "function": {"name": "rosenbrock"},
                    "optimizers": [
                        {"name": "sgd", "lr": 0.001, "momentum": 0.9},
                        {"name": "adam", "lr": 0.05},
                    ],
                    "starts": [[-1.5, 2.0]],
                    "steps": 500,
                    "schedule": {"name": "cosine"},
                }
            ]
        }
    }


class Trajectory(Strict):
    optimizer: int = Field(description="index into the request's optimizers")
    start: int = Field(description="index into the request's starts")
    x: list[float | None]
    y: list[float | None]
    loss: list[float | None]
    grad_norm: list[float | None]
    lr: list[float | None]
    diverged: bool
    diverged_at: int | None = Field(description="step at which the run left the finite / |f| ≤ 1e12 range")


class OptimizeResponse(Strict):
    trajectories: list[Trajectory]


TuneCriterion = Literal["final", "area"]  # compute.optim.TUNE_CRITERIA


class TuneRequest(Strict):
    """A fair race: each optimizer's lr tuned on a log grid (one vectorized run), then raced."""

    function: FunctionRef
    optimizers: list[Optimizer] = Field(min_length=1, max_length=10, description="their lr is ignored: the grid replaces it")
    starts: list[Point] = Field(min_length=1, max_length=64, description="start points [x, y], |x|, |y| ≤ 1e6; the score averages over them")
    steps: int = Field(200, ge=1, le=10_000)
    schedule: Schedule | None = None
    lr_min: float = Field(1e-4, gt=0, le=10, allow_inf_nan=False, description="smallest lr of the grid", json_schema_extra={"log": True})
    lr_max: float = Field(1.0, gt=0, le=10, allow_inf_nan=False, description="largest lr of the grid", json_schema_extra={"log": True})
    n_lrs: int = Field(13, ge=2, le=25, description="grid points, spaced evenly in log(lr)")
    criterion: TuneCriterion = Field(
        "final", description="final: mean over starts of f at the last step; area: mean of f over all steps and starts"
    )

    @field_validator("lr_max")
    @classmethod
    def _above_lr_min(cls, v: float, info: ValidationInfo) -> float:
        lo = info.data.get("lr_min")  # absent when lr_min itself failed
        if lo is not None and not lo < v:
            raise ValueError(f"lr_min must be below lr_max; got {lo} and {v}")
        return v

    @model_validator(mode="after")
    def _budget(self) -> TuneRequest:
        check_budget(self.optimizers, self.n_lrs, len(self.starts), self.steps, "optimizers × n_lrs × starts × (steps + 1)")
        return self

    model_config = Strict.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "function": {"name": "rosenbrock"},
                    "optimizers": [{"name": "sgd", "momentum": 0.9}, {"name": "adam"}],
                    "starts": [[-1.5, 2.0]],
                    "steps": 300,
                    "lr_min": 1e-4,
                    "lr_max": 1.0,
                    "n_lrs": 13,
                    "criterion": "final",
                }
            ]
        }
    }


class TuneCurve(Strict):
    optimizer: int = Field(description="index into the request's optimizers")
    score: list[float | None] = Field(description="score of each lr of the grid; null: some start diverged")
    diverged: list[int] = Field(description="starts that diverged at each lr")
    best: int = Field(description="index into lrs of the lowest score (the smaller lr on a tie)")
    lr: float = Field(description="the tuned learning rate, lrs[best]")


class TuneResponse(Strict):
    lrs: list[float] = Field(description="the grid: n_lrs values from lr_min to lr_max, evenly spaced in log(lr)")
    criterion: TuneCriterion
    curves: list[TuneCurve]
    trajectories: list[Trajectory] = Field(description="the race at the tuned lrs, as /optimize returns it")


class LineSearchRequest(Strict):
    """One L-BFGS run with every iteration's line search recorded."""

    function: FunctionRef
    optimizer: LBFGS
    start: Point = Field(description="start point [x, y], |x|, |y| ≤ 1e6")
    steps: int = Field(20, ge=1, le=1000, description="optimizer steps (each up to max_iter iterations)")
    schedule: Schedule | None = None
    max_iters: int = Field(200, ge=1, le=500, description="iterations recorded (the first ones)")
    n_phi: int = Field(81, ge=11, le=201, description="points at which φ(t) = f(x + t·d) is sampled per iteration")

    @model_validator(mode="after")
    def _start(self) -> LineSearchRequest:
        check_budget([self.optimizer], 1, 1, self.steps, "steps + 1")
        return self

    model_config = Strict.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "function": {"name": "rosenbrock"},
                    "optimizer": {"name": "lbfgs", "lr": 1, "line_search_fn": "strong_wolfe"},
                    "start": [-1.5, 2.0],
                    "steps": 10,
                }
            ]
        }
    }


class Trials(Strict):
    t: list[float | None] = Field(description="step sizes tried, in order")
    f: list[float | None] = Field(description="φ(t) = f(x + t·d)")
    gtd: list[float | None] = Field(description="φ'(t) = ∇f(x + t·d)·d")
    armijo: list[bool] = Field(description="φ(t) ≤ φ(0) + c1·t·φ'(0)")
    curvature: list[bool] = Field(description="|φ'(t)| ≤ c2·|φ'(0)|")


class LineSearchIteration(Strict):
    step: int = Field(description="the optimizer step this iteration belongs to (0-based)")
    x: list[float | None] = Field(description="start point of the iteration")
    d: list[float | None] = Field(description="search direction")
    f: float | None = Field(description="φ(0) = f(x)")
    gtd: float | None = Field(description="φ'(0) = ∇f(x)·d (negative: a descent direction)")
    t_init: float | None = Field(description="first step size tried")
    t: float | None = Field(description="accepted step size")
    f_t: float | None
    gtd_t: float | None
    armijo: bool = Field(description="sufficient decrease at the accepted t")
    curvature: bool = Field(description="strong curvature condition at the accepted t")
    trials: Trials
    phi_t: list[float | None]
    phi: list[float | None] = Field(description="φ sampled at phi_t")


class LineSearchResponse(Strict):
    c1: float
    c2: float
    line_search: bool = Field(description="strong Wolfe search (else a fixed step t = lr)")
    truncated: bool = Field(description="more iterations ran than max_iters")
    trajectory: Trajectory
    iterations: list[LineSearchIteration]


Range = tuple[FiniteFloat, FiniteFloat]


class SurfaceRequest(Strict):
    function: FunctionRef
    x_range: Range = Field(description="[a, b], a < b, |a|, |b| ≤ 1e6")
    y_range: Range = Field(description="[c, d], c < d, |c|, |d| ≤ 1e6")
    resolution: int = Field(100, ge=2, le=1000, description="grid points per axis")

    @model_validator(mode="after")
    def _ranges(self) -> SurfaceRequest:
        for field in ("x_range", "y_range"):
            lo, hi = getattr(self, field)
            if not lo < hi:
                raise ValueError(f"{field} must satisfy a < b; got [{lo}, {hi}]")
            if max(abs(lo), abs(hi)) > 1e6:
                raise ValueError(f"{field} must lie within ±1e6; got [{lo}, {hi}]")
        return self

    model_config = Strict.model_config | {
        "json_schema_extra": {
            "examples": [{"function": {"name": "himmelblau"}, "x_range": [-5, 5], "y_range": [-5, 5], "resolution": 200}]
        }
    }


class SurfaceResponse(Strict):
    x: list[float]
    y: list[float]
    z: list[list[float | None]] = Field(description="z[i][j] = f(x[j], y[i]); null where not finite")


class ExpressionRequest(Strict):
    expression: str = Field(min_length=1, max_length=200, description="f(x, y)")

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"expression": "sin(x)*cos(y) + 0.1*x**2"}]}}


class ExpressionResponse(Strict):
    latex: str
    mathml: str
    gradient_latex: list[str] = Field(min_length=2, max_length=2, description="[∂f/∂x, ∂f/∂y]")
    gradient_mathml: list[str] = Field(min_length=2, max_length=2)
