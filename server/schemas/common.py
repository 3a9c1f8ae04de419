"""Shared pieces of request/response models, and the catalog's description of a model's fields."""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args, get_origin

import annotated_types as at
from pydantic import BaseModel, ConfigDict, Field

FiniteFloat = Annotated[float, Field(allow_inf_nan=False)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ValidationErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str


def _bounds(metadata: list[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in metadata:
        if isinstance(m, at.Ge):
            out["min"] = m.ge
        elif isinstance(m, at.Gt):
            out["min"], out["exclusive_min"] = m.gt, True
        elif isinstance(m, at.Le):
            out["max"] = m.le
        elif isinstance(m, at.Lt):
            out["max"], out["exclusive_max"] = m.lt, True
    return out


def describe_fields(model: type[BaseModel], skip: tuple[str, ...] = ("name",)) -> list[dict[str, Any]]:
    """Each field's name, type, default, bounds and description, read from the model itself,
    so the catalog can never disagree with validation."""
    out = []
    for name, f in model.model_fields.items():
        if name in skip:
            continue
        ann = f.annotation
        item: dict[str, Any] = {"name": name, "default": f.default, "description": f.description or ""}
        args = get_args(ann)
        metadata = list(f.metadata)
        non_none = [a for a in args if a is not type(None)]
        if get_origin(ann) is not Literal and len(args) == 2 and len(non_none) == 1 and get_origin(non_none[0]) is not Literal:
            # Optional[Annotated[T, bounds]]: describe T with its bounds, and say it may be null
            item["nullable"] = True
            ann = non_none[0]
            if get_origin(ann) is Annotated:
                for m in get_args(ann)[1:]:
                    metadata.extend(getattr(m, "metadata", [m]))
                ann = get_args(ann)[0]
            args = get_args(ann)
        if ann is bool:
            item["type"] = "boolean"
        elif get_origin(ann) is Literal or (args and all(get_origin(a) is Literal or a is type(None) for a in args)):
            choices: list[Any] = []
            for a in args or (ann,):
                choices.extend(get_args(a) if get_origin(a) is Literal else [None])
            item["type"], item["choices"] = "choice", choices
        elif get_origin(ann) is tuple:
            item["type"] = "pair"
            inner = get_args(ann)[0]
            item.update(_bounds(list(getattr(inner, "__metadata__", ()))))
            if get_origin(inner) is Annotated:
                for m in get_args(inner)[1:]:
                    item.update(_bounds(list(getattr(m, "metadata", [m]))))
        elif ann is int:
            item["type"] = "integer"
        else:
            item["type"] = "number"
        item.update(_bounds(metadata))
        extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
        if extra.get("log"):
            item["log"] = True
        out.append(item)
    return out
