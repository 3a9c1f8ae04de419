"""The regularization and dropout labs' API: constrained vs penalized least squares, coefficient
paths, and Monte Carlo dropout."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from compute import dropout_lab, regularization

from ..encoding import ORJSONResponse
from ..errors import field_error
from ..schemas.optimization_regularization import (
    DropoutRequest,
    DropoutResponse,
    RegularizationPathRequest,
    RegularizationPathResponse,
    RegularizationRequest,
    RegularizationResponse,
)

router = APIRouter(prefix="/api/v1/optimization", tags=["optimization"])


@router.post("/regularization", response_model=RegularizationResponse)
def regularization_geometry(req: RegularizationRequest) -> ORJSONResponse:
    """L(w) contours with the L2 ball and L1 diamond of radius r: constrained (SLSQP) and penalized
    solutions at the matching λ, the MAP points of the matching priors, and the solution paths."""
    try:
        g = regularization.geometry(**req.model_dump())
    except ValueError as e:
        raise field_error(e, RegularizationRequest.model_fields, "r") from e
    return ORJSONResponse(asdict(g))  # orjson writes a non-finite tau or b as null


@router.post("/regularization-path", response_model=RegularizationPathResponse)
def regularization_path(req: RegularizationPathRequest) -> ORJSONResponse:
    """Lasso (coordinate descent) and ridge (closed form) coefficient paths on a seeded regression."""
    try:
        p = regularization.paths(**req.model_dump())
    except ValueError as e:
        raise field_error(e, RegularizationPathRequest.model_fields, "n_informative") from e
    return ORJSONResponse(asdict(p))


@router.post("/dropout", response_model=DropoutResponse)
def dropout(req: DropoutRequest) -> ORJSONResponse:
    """A small MLP trained with dropout on 1-D data with a gap; T thinned networks at test time
    (Monte Carlo dropout: mean ± 2σ) beside the eval-mode prediction."""
    try:
        r = dropout_lab.dropout_run(**req.model_dump())
    except ValueError as e:
        raise field_error(e, DropoutRequest.model_fields, "p") from e
    return ORJSONResponse(asdict(r))
