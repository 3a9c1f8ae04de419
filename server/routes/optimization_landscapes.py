"""The landscapes lab API: loss slices through weight space, and gradient descent at a saddle."""

from __future__ import annotations

from fastapi import APIRouter

from compute import landscapes

from ..encoding import ORJSONResponse
from ..errors import field_error
from ..schemas.optimization_landscapes import (
    LandscapeRequest,
    LandscapeResponse,
    SaddleRequest,
    SaddleResponse,
)

router = APIRouter(prefix="/api/v1/optimization", tags=["optimization"])


@router.post("/landscape", response_model=LandscapeResponse)
def landscape(req: LandscapeRequest) -> ORJSONResponse:
    """Train a model θ₀ → θ*, then its loss on a 2-D slice, on the line θ₀ → θ*, with the path projected."""
    try:
        r = landscapes.landscape(**req.model_dump())
    except ValueError as e:
        raise field_error(e, LandscapeRequest.model_fields, "model") from e
    out = {k: getattr(r, k) for k in ("model", "n_params", "alphas", "betas", "z", "line_t", "line_loss", "perm_t",
                                      "perm_loss", "perm_units", "train_loss", "accuracy", "nonconvex_fraction",
                                      "line_nonconvex_fraction", "diverged_at", "theta0", "theta_star", "d1", "d2")}  # fmt: skip
    cap = r.trajectory_captured
    out.update(layer_shapes=r.shapes, final_loss=float(r.train_loss[-1]), diverged=r.diverged_at is not None,
               trajectory={"alpha": r.traj_alpha, "beta": r.traj_beta, "residual": r.traj_residual},
               trajectory_captured=cap)  # fmt: skip  (orjson writes a non-finite one as null)
    return ORJSONResponse(out)


@router.post("/saddle", response_model=SaddleResponse)
def saddle(req: SaddleRequest) -> ORJSONResponse:
    """GD, momentum and noisy GD from near the saddle of f = x² − y² + y⁴/4."""
    try:
        r = landscapes.saddle(**req.model_dump())
    except ValueError as e:
        raise field_error(e, SaddleRequest.model_fields, "lr") from e
    runs = [vars(run) for run in r.runs]
    return ORJSONResponse({"runs": runs, "grid": r.grid, "z": r.z, "predicted_escape_gd": r.predicted_escape_gd,
                           "growth_gd": r.growth_gd, "growth_momentum": r.growth_momentum,
                           "saddle_eigvals": landscapes.SADDLE_EIGVALS, "minima": landscapes.SADDLE_MINIMA})  # fmt: skip
