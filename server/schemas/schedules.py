"""Learning-rate schedules (``torch.optim.lr_scheduler`` names): each field and its bound, defined once.

Three labs take a schedule, and each sends it to compute: the gradient-descent lab to
``compute.optim`` (``optim.SCHEDULES``), training jobs to ``compute.nn`` (``nn.config.SCHEDULES``,
``lr_multipliers``), and the lr-schedules lab to both (``compute.lr_lab``: ``optim.lr_schedule``
draws the curve, a ``compute.nn`` run trains under it). Each bound here is the widest one that
every one of those compute paths accepts (a test checks it against both registries), so no lab
admits a value that compute then refuses. A lab changes only defaults (``with_defaults``); the
gradient-descent lab alone takes cosine's ``T_max`` (``CosineTMax``), as only ``compute.optim`` does.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import Field, create_model
from pydantic.fields import FieldInfo

from .common import Strict

# min(compute.optim.MAX_STEPS, compute.nn.config.MAX_STEPS): a step count both accept
MAX_STEPS = 1_000_000

StepCount = Annotated[int, Field(ge=1, le=MAX_STEPS)]
WarmupSteps = Annotated[int, Field(ge=0, le=MAX_STEPS)]
# compute.optim refuses gamma = 0 (compute.nn takes it: lr 0 from the first decay on, no schedule)
Gamma = Annotated[float, Field(gt=0, le=1, allow_inf_nan=False)]
EtaMin = Annotated[
    float,
    Field(ge=0, le=10, allow_inf_nan=False, description="the lowest lr, reached at the last step"),
]
# compute.nn refuses pct_start outside [0.01, 0.99] (compute.optim takes [0, 1])
PctStart = Annotated[float, Field(ge=0.01, le=0.99, allow_inf_nan=False)]
DivFactor = Annotated[float, Field(ge=1, le=1e4, allow_inf_nan=False)]
FinalDivFactor = Annotated[float, Field(ge=1, le=1e6, allow_inf_nan=False)]

# Defaults below are compute.optim's (torch's where torch has one); a lab overrides its own.


class Constant(Strict):
    name: Literal["constant"]


class StepLR(Strict):
    name: Literal["step"]
    step_size: StepCount = Field(100, description="optimizer steps between decays")
    gamma: Gamma = Field(0.5, description="lr is multiplied by gamma every step_size steps")


class Exponential(Strict):
    name: Literal["exponential"]
    gamma: Gamma = Field(0.99, description="lr is multiplied by gamma every step")


class Cosine(Strict):
    name: Literal["cosine"]
    eta_min: EtaMin = 0.0


class CosineTMax(Strict):
    """compute.optim's cosine: a half-period of its own (compute.nn anneals over the whole run).
    Not a subclass of ``Cosine``, so that ``T_max`` comes first in the schema and on the page."""

    name: Literal["cosine"]
    T_max: StepCount | None = Field(None, description="half-period in steps; default: all steps")
    eta_min: EtaMin = 0.0


class WarmupCosine(Strict):
    name: Literal["warmup_cosine"]
    warmup_steps: WarmupSteps = Field(50, description="steps of linear warmup from 0 to lr")
    eta_min: EtaMin = 0.0


class OneCycle(Strict):
    name: Literal["onecycle"]
    pct_start: PctStart = Field(0.3, description="share of the steps spent rising to lr")
    div_factor: DivFactor = Field(25.0, description="the first lr is lr / div_factor")
    final_div_factor: FinalDivFactor = Field(
        1e4, description="the last lr is lr / (div_factor · final_div_factor)"
    )


BASES: dict[str, type[Strict]] = {
    "constant": Constant,
    "step": StepLR,
    "exponential": Exponential,
    "cosine": Cosine,
    "warmup_cosine": WarmupCosine,
    "onecycle": OneCycle,
}

M = TypeVar("M", bound=Strict)


def with_defaults(base: type[M], name: str, module: str, **defaults: Any) -> type[M]:
    """A subclass of ``base`` called ``name`` (in ``module``) that differs only in these defaults.

    Types, bounds and descriptions stay ``base``'s: a lab cannot restate a bound here.
    """
    fields: dict[str, Any] = {}
    for key, value in defaults.items():
        if key not in base.model_fields or key == "name":
            raise TypeError(f"{base.__name__} has no default {key!r} to override")
        info = base.model_fields[key]
        fields[key] = (info.annotation, FieldInfo.merge_field_infos(info, default=value))
    return create_model(name, __base__=base, __module__=module, __doc__=base.__doc__, **fields)
