"""JSON out with orjson: numpy arrays serialized natively, non-finite numbers as null."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
from starlette.responses import JSONResponse

_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _default(obj: Any) -> Any:
    # orjson serializes only C-contiguous native arrays itself; views (slices) are copied once here.
    if isinstance(obj, np.ndarray):
        return np.ascontiguousarray(obj, dtype=obj.dtype.newbyteorder("=") if obj.dtype.byteorder == ">" else obj.dtype)
    if isinstance(obj, np.generic):
        return obj.item()
    raise TypeError(f"cannot serialize {type(obj).__name__}")


def dumps(content: Any) -> bytes:
    return orjson.dumps(content, default=_default, option=_OPTS)


class ORJSONResponse(JSONResponse):
    """A JSONResponse (so OpenAPI documents the route's response_model) rendered by orjson."""

    def render(self, content: Any) -> bytes:
        return dumps(content)
