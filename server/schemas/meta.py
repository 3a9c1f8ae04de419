from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class Health(BaseModel):
    status: str
    version: str


class Param(BaseModel):
    name: str
    type: str | None = None
    default: Any = None
    min: float | None = None
    max: float | None = None
    exclusive_min: bool | None = None
    exclusive_max: bool | None = None
    nullable: bool | None = None
    log: bool | None = None
    choices: list[Any] | None = None
    description: str = ""


class LabInfo(BaseModel):
    slug: str
    title: str
    lens: str
    ready: bool
    url: str
    summary: str


class FunctionInfo(BaseModel):
    name: str
    latex: str
    mathml: str
    description: str
    params: list[Param]
    x_range: list[float]
    y_range: list[float]
    minima: list[list[float]]


class OptimizerInfo(BaseModel):
    name: str
    description: str
    update_latex: str
    update_mathml: str
    hyperparameters: list[Param]


class ScheduleInfo(BaseModel):
    name: str
    description: str
    params: list[Param]


class DistributionParam(BaseModel):
    name: str
    default: float
    min: float | None = None
    max: float | None = None
    integer: bool = False
    description: str = ""


class DistributionInfo(BaseModel):
    name: str
    title: str
    discrete: bool
    latex: str
    ml: str
    params: list[DistributionParam]


class TrainingCatalog(BaseModel):
    """The training lab's forms (``compute.nn.catalog()``): each entry's parameters with kind,
    default, low/high bounds or choices, exactly those that ``POST /api/v1/jobs`` validates."""

    datasets: dict[str, Any]
    models: dict[str, Any]
    optimizers: dict[str, Any]
    schedules: dict[str, Any]
    fields: dict[str, Any]


class Catalog(BaseModel):
    labs: list[LabInfo]
    functions: list[FunctionInfo]
    optimizers: list[OptimizerInfo]
    schedules: list[ScheduleInfo]
    distributions: list[DistributionInfo]
    training: TrainingCatalog
