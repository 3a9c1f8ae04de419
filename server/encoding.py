"""JSON out with orjson: numpy arrays serialized natively, non-finite numbers as null; images as
base64 PNG."""

from __future__ import annotations

import base64
import io
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


def png_base64(pixels: np.ndarray) -> str:
    """A 2-D uint8 array as a grayscale PNG, base64 (for a ``data:image/png;base64,`` URL).

    A 512×512 image is about 30× smaller this way than as a JSON list of 262 144 integers, and
    encodes in milliseconds (zlib level 1: speed over the last few percent of size)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8), "L").save(buf, "PNG", compress_level=1)
    return base64.b64encode(buf.getvalue()).decode("ascii")
