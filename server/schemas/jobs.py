"""Request/response models of training jobs: a whole ``compute.nn`` training config (datasets,
models, optimizers, schedules with their defaults and bounds, mirrored from the compute registries
and kept in sync by a test), and the job record that comes back."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from . import schedules
from .common import Strict
from .schedules import with_defaults

MAX_SEED = 2**31 - 1
MAX_STEPS = 2_000_000  # compute.nn's bound on epochs × steps per epoch

DatasetName = Literal["moons", "circles", "spirals", "xor", "blobs", "digits"]
ModelKind = Literal["mlp", "cnn"]
Activation = Literal["relu", "tanh", "sigmoid", "gelu", "linear"]
OptimizerName = Literal["sgd", "adagrad", "rmsprop", "adam", "adamw"]
ScheduleName = Literal["constant", "step", "exponential", "cosine", "warmup_cosine", "onecycle"]
Loss = Literal["cross_entropy", "mse"]
Device = Literal["auto", "cpu", "cuda"]
Dtype = Literal["float32", "float64"]
Backend = Literal["auto", "torch", "lean"]
JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled", "interrupted"]

Seed = Annotated[int, Field(ge=0, le=MAX_SEED, description="random seed")]
Noise = Annotated[
    float,
    Field(ge=0.0, le=1.0, allow_inf_nan=False, description="std of Gaussian jitter (output units)"),
]
TestFraction = Annotated[
    float, Field(ge=0.05, le=0.9, allow_inf_nan=False, description="share held out for testing")
]
NSamples = Annotated[int, Field(ge=20, le=5000, description="points in all")]


def _tag(field: str, default: str, choices: Any) -> Discriminator:
    """Discriminate on ``field``, defaulting to ``default`` when absent (as compute does)."""
    names = list(get_args(choices))

    def pick(v: Any) -> str:
        if isinstance(v, dict):
            return v.get(field, default)
        return getattr(v, field, default)

    return Discriminator(
        pick,
        custom_error_type="invalid_choice",
        custom_error_message=f"{field} must be one of {names}",
    )


# -- datasets ------------------------------------------------------------------------------------


class _Points(Strict):
    n_samples: NSamples = 500
    test_fraction: TestFraction = 0.3
    seed: Seed = 0


class TrainMoons(_Points):
    name: Literal["moons"] = "moons"
    noise: Noise = 0.2


class TrainCircles(_Points):
    name: Literal["circles"] = "circles"
    noise: Noise = 0.1


class TrainSpirals(_Points):
    name: Literal["spirals"] = "spirals"
    noise: Noise = 0.05


class TrainXor(_Points):
    name: Literal["xor"] = "xor"
    noise: Noise = 0.1


class TrainBlobs(_Points):
    name: Literal["blobs"] = "blobs"
    noise: Noise = 0.3
    centers: int = Field(3, ge=2, le=8, description="number of blobs (classes)")


class TrainDigits(Strict):
    name: Literal["digits"] = "digits"
    n_samples: int = Field(1797, ge=20, le=1797, description="points in all")
    test_fraction: TestFraction = 0.3
    seed: Seed = 0


Dataset = Annotated[
    Annotated[TrainMoons, Tag("moons")]
    | Annotated[TrainCircles, Tag("circles")]
    | Annotated[TrainSpirals, Tag("spirals")]
    | Annotated[TrainXor, Tag("xor")]
    | Annotated[TrainBlobs, Tag("blobs")]
    | Annotated[TrainDigits, Tag("digits")],
    _tag("name", "moons", DatasetName),
]
DATASET_MODELS: dict[str, type[BaseModel]] = {
    "moons": TrainMoons,
    "circles": TrainCircles,
    "spirals": TrainSpirals,
    "xor": TrainXor,
    "blobs": TrainBlobs,
    "digits": TrainDigits,
}

# -- models --------------------------------------------------------------------------------------

Width = Annotated[int, Field(ge=1, le=256)]
Channels = Annotated[int, Field(ge=1, le=64)]
Dropout = Annotated[
    float, Field(ge=0.0, le=0.9, allow_inf_nan=False, description="dropout probability")
]


class TrainMLP(Strict):
    kind: Literal["mlp"] = "mlp"
    hidden: list[Width] = Field(
        [16, 16], min_length=0, max_length=8, description="hidden layer widths"
    )
    activation: Activation = "tanh"
    dropout: Dropout = 0.0
    layer_norm: bool = Field(False, description="LayerNorm before activation")
    residual: bool = Field(False, description="skip connection between same-width hidden layers")


class TrainCNN(Strict):
    kind: Literal["cnn"] = "cnn"
    channels: list[Channels] = Field(
        [16, 32], min_length=1, max_length=3, description="channels of each 3x3 conv layer"
    )
    activation: Activation = "relu"
    dropout: Dropout = 0.0


Model = Annotated[
    Annotated[TrainMLP, Tag("mlp")] | Annotated[TrainCNN, Tag("cnn")],
    _tag("kind", "mlp", ModelKind),
]
MODEL_MODELS: dict[str, type[BaseModel]] = {"mlp": TrainMLP, "cnn": TrainCNN}

# -- optimizers ----------------------------------------------------------------------------------

Lr = Annotated[float, Field(ge=1e-6, le=10.0, allow_inf_nan=False, description="learning rate")]
WeightDecay = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False, description="L2 penalty")]
Eps = Annotated[float, Field(ge=1e-12, le=1.0, allow_inf_nan=False, description="denominator term")]
Momentum = Annotated[
    float, Field(ge=0.0, le=0.999, allow_inf_nan=False, description="momentum factor")
]
Beta = Annotated[float, Field(ge=0.0, le=0.9999, allow_inf_nan=False)]


class TrainSGD(Strict):
    name: Literal["sgd"]
    lr: Lr = 0.01
    momentum: Momentum = 0.0
    nesterov: bool = Field(False, description="Nesterov momentum")
    weight_decay: WeightDecay = 0.0


class TrainAdagrad(Strict):
    name: Literal["adagrad"]
    lr: Lr = 0.01
    eps: Eps = 1e-10
    weight_decay: WeightDecay = 0.0


class TrainRMSprop(Strict):
    name: Literal["rmsprop"]
    lr: Lr = 0.01
    alpha: float = Field(
        0.99,
        ge=0.0,
        le=0.9999,
        allow_inf_nan=False,
        description="decay of the squared-gradient average",
    )
    eps: Eps = 1e-8
    momentum: Momentum = 0.0
    weight_decay: WeightDecay = 0.0


class TrainAdam(Strict):
    name: Literal["adam"] = "adam"
    lr: Lr = 0.001
    betas: list[Beta] = Field(
        [0.9, 0.999],
        min_length=2,
        max_length=2,
        description="decay rates of the first and second moments",
    )
    eps: Eps = 1e-8
    weight_decay: WeightDecay = 0.0


class TrainAdamW(TrainAdam):
    name: Literal["adamw"]  # type: ignore[assignment]
    weight_decay: WeightDecay = 0.01


Optimizer = Annotated[
    Annotated[TrainSGD, Tag("sgd")]
    | Annotated[TrainAdagrad, Tag("adagrad")]
    | Annotated[TrainRMSprop, Tag("rmsprop")]
    | Annotated[TrainAdam, Tag("adam")]
    | Annotated[TrainAdamW, Tag("adamw")],
    _tag("name", "adam", OptimizerName),
]
OPTIMIZER_MODELS: dict[str, type[BaseModel]] = {
    "sgd": TrainSGD,
    "adagrad": TrainAdagrad,
    "rmsprop": TrainRMSprop,
    "adam": TrainAdam,
    "adamw": TrainAdamW,
}

# -- schedules -----------------------------------------------------------------------------------

# compute.nn's defaults (nn.config.SCHEDULES); fields and bounds are schedules.py's, which every
# compute path accepts: step counts up to schedules.MAX_STEPS (compute.nn would take MAX_STEPS),
# gamma > 0 (compute.nn would take 0).
TrainConstant = with_defaults(schedules.Constant, "TrainConstant", __name__)
TrainStep = with_defaults(schedules.StepLR, "TrainStep", __name__, step_size=100, gamma=0.5)
TrainExponential = with_defaults(schedules.Exponential, "TrainExponential", __name__, gamma=0.999)
TrainCosine = with_defaults(schedules.Cosine, "TrainCosine", __name__, eta_min=0.0)
TrainWarmupCosine = with_defaults(
    schedules.WarmupCosine, "TrainWarmupCosine", __name__, warmup_steps=100, eta_min=0.0
)
TrainOneCycle = with_defaults(
    schedules.OneCycle, "TrainOneCycle", __name__, pct_start=0.3, div_factor=25.0,
    final_div_factor=1e4,
)  # fmt: skip

Schedule = Annotated[
    Annotated[TrainConstant, Tag("constant")]
    | Annotated[TrainStep, Tag("step")]
    | Annotated[TrainExponential, Tag("exponential")]
    | Annotated[TrainCosine, Tag("cosine")]
    | Annotated[TrainWarmupCosine, Tag("warmup_cosine")]
    | Annotated[TrainOneCycle, Tag("onecycle")],
    _tag("name", "constant", ScheduleName),
]
SCHEDULE_MODELS: dict[str, type[BaseModel]] = {
    "constant": TrainConstant,
    "step": TrainStep,
    "exponential": TrainExponential,
    "cosine": TrainCosine,
    "warmup_cosine": TrainWarmupCosine,
    "onecycle": TrainOneCycle,
}

# -- the run -------------------------------------------------------------------------------------

EXAMPLE_CONFIG: dict[str, Any] = {
    "dataset": {"name": "moons", "n_samples": 1000, "noise": 0.2, "test_fraction": 0.3, "seed": 0},
    "model": {"hidden": [16, 16], "activation": "tanh"},
    "optimizer": {"name": "adam", "lr": 0.01},
    "epochs": 200,
    "batch_size": 64,
    "seed": 0,
}


class JobConfig(Strict):
    """One training run of ``compute.nn.train``; every field has compute's default and bounds."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_CONFIG]})

    dataset: Dataset = Field(default_factory=TrainMoons)
    model: Model = Field(default_factory=TrainMLP)
    optimizer: Optimizer = Field(default_factory=TrainAdam)
    schedule: Schedule | None = Field(None, description="learning-rate schedule (null: constant)")
    loss: Loss = Field(
        "cross_entropy", description="cross_entropy (softmax) or mse (tanh outputs, ±1 targets)"
    )
    epochs: int = Field(100, ge=1, le=5000)
    batch_size: int = Field(32, ge=1, le=5000)
    l1: float = Field(0.0, ge=0.0, le=1.0, allow_inf_nan=False, description="L1 penalty on weights")
    grad_clip: float | None = Field(
        None,
        ge=1e-6,
        le=1e6,
        allow_inf_nan=False,
        description="max global gradient norm (null: no clipping)",
    )
    seed: Seed = 0
    device: Device = Field("auto", description="cuda runs on a GPU worker (Dask resource GPU=1)")
    dtype: Dtype = "float32"
    backend: Backend = Field(
        "auto", description="auto: the lean CPU path for small MLPs, else torch"
    )
    step_every: int = Field(10, ge=1, le=100_000, description="on_step every k steps")
    boundary_every: int = Field(
        10, ge=1, le=5000, description="decision-boundary grid every k epochs (and the last)"
    )
    grid_size: int = Field(50, ge=10, le=100, description="boundary grid is size x size")
    hist_bins: int = Field(20, ge=2, le=100, description="weight histogram bins")


TOP_FIELDS = tuple(
    n for n in JobConfig.model_fields if n not in ("dataset", "model", "optimizer", "schedule")
)


class JobCreate(Strict):
    """Start a training run. An identical config (seeds included) that already succeeded is
    answered at once with that job (200) unless ``fresh`` is true."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"config": EXAMPLE_CONFIG, "fresh": False}]}
    )

    config: JobConfig
    fresh: bool = Field(
        False, description="train again even if this exact config already succeeded"
    )
    gpu: bool = Field(False, description="run on a GPU worker (same as config.device = 'cuda')")


class JobCreated(BaseModel):
    id: str = Field(description="the job's id; whoever holds it may read and cancel the job")
    status: JobStatus
    cached: bool = Field(False, description="true: an identical run had already succeeded")
    url: str
    events_url: str


class JobResult(BaseModel):
    model_config = ConfigDict(extra="allow")

    train_accuracy: float | None = None
    test_accuracy: float | None = None
    history: dict[str, Any] = Field(default_factory=dict)
    job: dict[str, Any] | None = Field(
        None,
        description="the task's wall and CPU seconds (elapsed_s, cpu_s); lanes: how many jobs "
        "trained together in its lane group, when it trained in one (MATHLENS_LANE_GROUPS)",
    )


class QueueInfo(BaseModel):
    ahead: int = Field(description="queued jobs of the same kind (CPU/GPU) submitted before this one")
    running: int = Field(description="jobs of the same kind training now")


class Job(BaseModel):
    id: str
    status: JobStatus
    config: dict[str, Any] = Field(
        description="the config as compute validated it, defaults filled"
    )
    gpu: bool
    created: str
    started: str | None
    finished: str | None
    progress: dict[str, Any] = Field(description="the latest progress event's numbers")
    result: JobResult | None
    error: str | None
    has_weights: bool
    worker: str | None = Field(None, description="address of the Dask worker that ran it")
    queue: QueueInfo | None = Field(
        None, description="while queued: jobs ahead of it and jobs training now (GET one job)"
    )


class JobList(BaseModel):
    jobs: list[Job]
    active: int = Field(description="queued + running")
    queue_limit: int
