"""The training lab's dataset preview: the very points a training run with this config sees."""

from __future__ import annotations

from fastapi import APIRouter

from compute.nn.datasets import make_dataset

from ..encoding import ORJSONResponse
from ..errors import ComputeError
from ..schemas.jobs import Dataset
from ..schemas.training import DatasetPreview

router = APIRouter(prefix="/api/v1/training", tags=["training"])


@router.post("/dataset", response_model=DatasetPreview)
def training_dataset(body: Dataset) -> ORJSONResponse:
    """Train/test split, classes and grid box of a dataset, seeded exactly as a job's."""
    try:
        d = make_dataset(**body.model_dump())
    except ValueError as e:
        raise ComputeError("name", str(e)) from e
    return ORJSONResponse({**d.summary(), "X_train": d.X_train, "y_train": d.y_train,
                           "X_test": d.X_test, "y_test": d.y_test})  # fmt: skip
