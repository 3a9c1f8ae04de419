from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class DatasetPreview(BaseModel):
    name: str
    n_train: int
    n_test: int
    n_classes: int
    n_features: int
    image_shape: list[int] | None
    grid_box: list[float] | None
    params: dict[str, Any]
    X_train: list[list[float]]
    y_train: list[int]
    X_test: list[list[float]]
    y_test: list[int]
