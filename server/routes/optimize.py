"""The gradient-descent lab's API: optimizer trajectories, function surfaces, typed expressions."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter

from compute import expressions, optim, surfaces

from ..encoding import ORJSONResponse
from ..errors import ComputeError
from ..schemas.optimize import (
    ExpressionRequest,
    ExpressionResponse,
    FunctionRef,
    OptimizeRequest,
    OptimizeResponse,
    SurfaceRequest,
    SurfaceResponse,
)
from ..templating import mathml

router = APIRouter(prefix="/api/v1", tags=["optimization"])


def objective(ref: FunctionRef) -> surfaces.Objective:
    try:
        if ref.expression is not None:
            return expressions.expression_objective(ref.expression)
        params = {"k": ref.k} if ref.k is not None else {}
        return surfaces.get_function(ref.name, **params)
    except ValueError as e:
        raise ComputeError(("function", "expression" if ref.expression else "name"), str(e)) from e


@router.post("/optimize", response_model=OptimizeResponse)
def optimize(req: OptimizeRequest) -> ORJSONResponse:
    """Run each optimizer from each start; one trajectory per optimizer × start, optimizer-major."""
    obj = objective(req.function)
    opts = [o.model_dump() for o in req.optimizers]
    sched = req.schedule.model_dump() if req.schedule else None
    try:
        r = optim.optimize(obj, opts, np.asarray(req.starts, float), req.steps, sched)
    except ValueError as e:
        raise ComputeError("optimizers", str(e)) from e
    out = []
    for i in range(r.xy.shape[0]):
        for s in range(r.xy.shape[1]):
            n = int(r.length[i, s])
            d = int(r.diverged_at[i, s])
            out.append({
                "optimizer": i, "start": s,
                "x": r.xy[i, s, :n, 0], "y": r.xy[i, s, :n, 1],
                "loss": r.loss[i, s, :n], "grad_norm": r.grad_norm[i, s, :n], "lr": r.lr[i, :n],
                "diverged": d >= 0, "diverged_at": d if d >= 0 else None,
            })  # fmt: skip
    return ORJSONResponse({"trajectories": out})


@router.post("/surface", response_model=SurfaceResponse)
def surface(req: SurfaceRequest) -> ORJSONResponse:
    """f on an n × n grid: ``z[i][j] = f(x[j], y[i])``, non-finite values as null."""
    obj = objective(req.function)
    g = surfaces.surface_grid(obj, tuple(req.x_range), tuple(req.y_range), req.resolution)
    return ORJSONResponse({"x": g.x, "y": g.y, "z": g.z})


@router.post("/expression", response_model=ExpressionResponse)
def expression(req: ExpressionRequest) -> ORJSONResponse:
    """Parse f(x, y) safely; its LaTeX and gradient, typeset as MathML for the page."""
    obj = objective(FunctionRef(expression=req.expression))
    gx, gy = obj.gradient_latex
    return ORJSONResponse({
        "latex": obj.latex, "mathml": mathml(obj.latex, True),
        "gradient_latex": [gx, gy], "gradient_mathml": [mathml(gx, True), mathml(gy, True)],
    })  # fmt: skip
