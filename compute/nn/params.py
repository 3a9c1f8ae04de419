"""Declared parameters with defaults and bounds: the one place the server's pydantic models mirror.

A ``Param`` says what a field is (``int``, ``float``, ``bool``, ``choice``, ``int_list``,
``float_list``), its default and its inclusive bounds; ``validate_params`` fills defaults and
raises ``ValueError`` naming the field and the bound (``"dataset.noise must be <= 1.0; got 2"``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["int", "float", "bool", "choice", "int_list", "float_list"]


@dataclass(frozen=True)
class Param:
    """One field: kind, default, inclusive bounds ``[low, high]`` (per element for lists)."""

    name: str
    kind: Kind
    default: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    min_len: int | None = None
    max_len: int | None = None
    nullable: bool = False
    description: str = ""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "kind": self.kind, "default": _plain(self.default)}
        for key in ("low", "high", "min_len", "max_len"):
            v = getattr(self, key)
            if v is not None:
                d[key] = v
        if self.choices is not None:
            d["choices"] = list(self.choices)
        if self.nullable:
            d["nullable"] = True
        d["description"] = self.description
        return d

    def validate(self, where: str, value: Any) -> Any:
        """Return the value coerced to its kind; raise ValueError naming ``where.name`` and the bound."""
        field = f"{where}.{self.name}" if where else self.name
        if value is None:
            if self.nullable:
                return None
            raise ValueError(f"{field} must not be null")
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{field} must be a boolean; got {value!r}")
            return value
        if self.kind == "choice":
            if value not in (self.choices or ()):
                raise ValueError(f"{field} must be one of {list(self.choices or ())}; got {value!r}")
            return value
        if self.kind in ("int", "float"):
            return self._number(field, value, self.kind)
        # lists
        if not isinstance(value, list | tuple):
            raise ValueError(f"{field} must be a list; got {value!r}")
        if self.min_len is not None and len(value) < self.min_len:
            raise ValueError(f"{field} must have length >= {self.min_len}; got {len(value)}")
        if self.max_len is not None and len(value) > self.max_len:
            raise ValueError(f"{field} must have length <= {self.max_len}; got {len(value)}")
        elem = "int" if self.kind == "int_list" else "float"
        return [self._number(f"{field}[{i}]", v, elem) for i, v in enumerate(value)]

    def _number(self, field: str, value: Any, kind: str) -> int | float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{field} must be a number; got {value!r}")
        if kind == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError(f"{field} must be an integer; got {value!r}")
                value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise ValueError(f"{field} must be finite; got {value!r}")
        if self.low is not None and value < self.low:
            raise ValueError(f"{field} must be >= {self.low}; got {value}")
        if self.high is not None and value > self.high:
            raise ValueError(f"{field} must be <= {self.high}; got {value}")
        return value


def validate_params(where: str, spec: Mapping[str, Param], given: Mapping[str, Any],
                    *, ignore: tuple[str, ...] = ()) -> dict[str, Any]:
    """Validate ``given`` against ``spec``; fill defaults; unknown keys are an error."""
    if not isinstance(given, Mapping):
        raise ValueError(f"{where} must be an object; got {given!r}")
    unknown = sorted(set(given) - set(spec) - set(ignore))
    if unknown:
        raise ValueError(f"{where}.{unknown[0]} is not a known field (allowed: {sorted(spec)})")
    out: dict[str, Any] = {}
    for name, p in spec.items():
        out[name] = p.validate(where, given[name]) if name in given else _plain(p.default)
    return out


def params_to_dict(spec: Mapping[str, Param]) -> dict[str, dict[str, Any]]:
    return {name: p.to_dict() for name, p in spec.items()}


def _plain(v: Any) -> Any:
    return list(v) if isinstance(v, tuple) else v
