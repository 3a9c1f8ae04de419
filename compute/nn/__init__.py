"""Neural networks for MathLens: seeded datasets, torch models, and a training loop with callbacks.

``train(TrainConfig.from_dict(d), Callbacks(on_step=..., on_epoch=..., on_end=...), should_stop)``
is the one entry point; ``catalog()`` lists datasets, models, optimizers, schedules and every
bound for the server's schemas. ``train_many`` trains several configs on several threads, same-shaped
lean runs together as the SIMD lanes of one kernel (``compute.nn.lanes``); ``train_lanes`` trains
such a group with each run's own callbacks and stop (``lane_group`` says which runs can share one).
"""

from .config import (
    BACKENDS,
    DEVICES,
    DTYPES,
    FIELDS,
    LOSSES,
    MAX_BATCH,
    MAX_EPOCHS,
    MAX_STEPS,
    OPTIMIZERS,
    SCHEDULES,
    TrainConfig,
    catalog,
    lr_multipliers,
    lr_schedule,
)
from .datasets import DATASETS, GRID_BOX, MAX_SAMPLES, Dataset, decision_grid, make_dataset
from .lean import LEAN_MAX_PARAMS, lean_ineligible_reason, warmup
from .models import ACTIVATIONS, MAX_LAYERS, MAX_WIDTH, MODELS, build_model, layer_shapes
from .params import Param
from .train import (
    Callbacks,
    EpochInfo,
    LazyEpoch,
    StepInfo,
    TrainResult,
    lane_group,
    resolve_device,
    train,
    train_lanes,
    train_many,
)

__all__ = [
    "ACTIVATIONS", "BACKENDS", "DATASETS", "DEVICES", "DTYPES", "FIELDS", "GRID_BOX",
    "LEAN_MAX_PARAMS", "LOSSES", "MAX_BATCH", "MAX_EPOCHS", "MAX_LAYERS", "MAX_SAMPLES",
    "MAX_STEPS", "MAX_WIDTH", "MODELS", "OPTIMIZERS", "SCHEDULES", "Callbacks", "Dataset",
    "EpochInfo", "LazyEpoch", "Param", "StepInfo", "TrainConfig", "TrainResult", "build_model", "catalog",
    "decision_grid", "lane_group", "layer_shapes", "lean_ineligible_reason", "lr_multipliers",
    "lr_schedule", "make_dataset", "resolve_device", "train", "train_lanes", "train_many", "warmup",
]
