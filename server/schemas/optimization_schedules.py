"""Request/response models of the learning-rate-schedules lab (/api/v1/optimization/lr-schedules):
six torch.optim.lr_scheduler schedules, their curves, and the same small training run under each."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from compute import lr_lab

from . import schedules
from .common import Strict
from .schedules import with_defaults

# = compute.lr_lab.SCHEDULES / DATASETS / OPTIMIZERS / ACTIVATIONS (a test keeps them in sync)
ScheduleName = Literal["constant", "step", "exponential", "cosine", "warmup_cosine", "onecycle"]
DatasetName = Literal["moons", "circles", "xor", "spirals"]
OptimizerName = Literal["sgd", "adam"]
Activation = Literal["tanh", "relu"]
Status = Literal["trained", "stalled", "unstable", "diverged"]

D = lr_lab.DEFAULTS

# The six schedules, with this lab's defaults (lr_lab.DEFAULTS); fields and bounds are schedules.py's.
# No T_max: the run anneals over all its steps (compute.nn), and the curve follows the run.
Constant = with_defaults(schedules.Constant, "Constant", __name__)
StepLR = with_defaults(schedules.StepLR, "StepLR", __name__, **D["step"])
Exponential = with_defaults(schedules.Exponential, "Exponential", __name__, **D["exponential"])
Cosine = with_defaults(schedules.Cosine, "Cosine", __name__, **D["cosine"])
WarmupCosine = with_defaults(schedules.WarmupCosine, "WarmupCosine", __name__, **D["warmup_cosine"])
OneCycle = with_defaults(schedules.OneCycle, "OneCycle", __name__, **D["onecycle"])

Schedule = Annotated[Constant | StepLR | Exponential | Cosine | WarmupCosine | OneCycle, Field(discriminator="name")]
SCHEDULE_MODELS = {m.model_fields["name"].annotation.__args__[0]: m for m in (Constant, StepLR, Exponential, Cosine, WarmupCosine, OneCycle)}
Width = Annotated[int, Field(ge=2, le=32)]


def _all_six() -> list[dict]:
    return [{"name": n} for n in lr_lab.SCHEDULES]


class LRSchedulesRequest(Strict):
    schedules: list[Schedule] = Field(default_factory=_all_six, min_length=1, max_length=lr_lab.MAX_RUNS,
                                      validate_default=True, description="one training run per schedule")
    lr: float = Field(1.0, ge=1e-4, le=10, allow_inf_nan=False, description="base (peak) learning rate γ")
    optimizer: OptimizerName = Field("sgd", description="torch.optim.SGD (with momentum) or Adam")
    momentum: float = Field(0.9, ge=0, le=0.99, allow_inf_nan=False, description="SGD momentum (ignored by Adam)")
    dataset: DatasetName = "moons"
    noise: float = Field(0.2, ge=0, le=1, allow_inf_nan=False, description="std of the Gaussian jitter")
    n_samples: int = Field(200, ge=40, le=400, description="points in all; 30% are held out for testing")
    hidden: list[Width] = Field([16], min_length=1, max_length=2, description="hidden layer widths of the MLP")
    activation: Activation = "tanh"
    epochs: int = Field(60, ge=1, le=200)
    batch_size: int = Field(16, ge=8, le=128)
    seed: int = Field(0, ge=0, le=2**31 - 1, description="seeds the data, the initial weights and the batch order")

    model_config = Strict.model_config | {
        "json_schema_extra": {
            "examples": [
                {"schedules": [{"name": "constant"}, {"name": "step", "step_size": 150, "gamma": 0.3},
                               {"name": "exponential", "gamma": 0.995}, {"name": "cosine", "eta_min": 0.0},
                               {"name": "warmup_cosine", "warmup_steps": 60, "eta_min": 0.0},
                               {"name": "onecycle", "pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 1e4}],
                 "lr": 1.0, "optimizer": "sgd", "momentum": 0.9, "dataset": "moons", "noise": 0.2,
                 "n_samples": 200, "hidden": [16], "activation": "tanh", "epochs": 60, "batch_size": 16, "seed": 0},
                {"schedules": [{"name": "constant"}], "lr": 10.0, "epochs": 20},
            ]  # fmt: skip
        }
    }


Series = list[float | None]


class ScheduleRunOut(Strict):
    name: ScheduleName
    params: dict[str, float] = Field(description="the schedule's parameters, defaults filled")
    lr: Series = Field(description="learning rate used by optimizer step t = 0 … total_steps − 1")
    train_loss: Series = Field(description="full training-set cross-entropy after epoch e = 0 … epochs (0: initial weights); null if it overflowed")
    test_loss: Series
    train_acc: Series
    test_acc: Series
    final_train_acc: float | None
    final_test_acc: float | None
    final_train_loss: float | None
    final_test_loss: float | None
    diverged: bool = Field(description="the loss overflowed, or ended above where it started")
    blowup_epoch: int | None = Field(description="first epoch whose loss overflowed or exceeded 2× the initial loss")
    status: Status


class LRSchedulesResponse(Strict):
    runs: list[ScheduleRunOut]
    steps_per_epoch: int
    total_steps: int
    epochs: int
    epoch_steps: list[int] = Field(description="optimizer step at the end of epoch e = 0 … epochs")
    n_train: int
    n_test: int
    n_params: int
    work: float = Field(description="the request's cost estimate (bounded by max_work)")
    max_work: float
