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
    LineSearchRequest,
    LineSearchResponse,
    OptimizeRequest,
    OptimizeResponse,
    SurfaceRequest,
    SurfaceResponse,
    TuneRequest,
    TuneResponse,
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
    return ORJSONResponse({"trajectories": trajectories(r)})


def trajectories(r: optim.OptimizeResult) -> list[dict]:
    """One record per optimizer × start, optimizer-major, cut at each run's valid length."""
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
    return out


@router.post("/optimize/tune", response_model=TuneResponse)
def tune(req: TuneRequest) -> ORJSONResponse:
    """Fair race: each optimizer's lr picked from a log grid (one vectorized run), then raced."""
    obj = objective(req.function)
    opts = [o.model_dump() for o in req.optimizers]
    sched = req.schedule.model_dump() if req.schedule else None
    try:
        r = optim.tune_lr(obj, opts, np.asarray(req.starts, float), req.steps, sched, lr_min=req.lr_min,
                          lr_max=req.lr_max, n_lrs=req.n_lrs, criterion=req.criterion)  # fmt: skip
    except ValueError as e:
        raise ComputeError("optimizers", str(e)) from e
    curves = [{"optimizer": i, "score": r.score[i], "diverged": r.diverged[i], "best": int(b),
               "lr": r.lrs[b]} for i, b in enumerate(r.best)]  # fmt: skip
    return ORJSONResponse({"lrs": r.lrs, "criterion": r.criterion, "curves": curves,
                           "trajectories": trajectories(r.race)})  # fmt: skip


@router.post("/optimize/line-search", response_model=LineSearchResponse)
def line_search(req: LineSearchRequest) -> ORJSONResponse:
    """One L-BFGS run; per iteration the step sizes its line search tried, and φ(t) sampled."""
    obj = objective(req.function)
    sched = req.schedule.model_dump() if req.schedule else None
    try:
        tr = optim.lbfgs_line_search(obj, req.optimizer.model_dump(), req.start, req.steps, sched,
                                     max_iters=req.max_iters, n_phi=req.n_phi)  # fmt: skip
    except ValueError as e:
        raise ComputeError("optimizer", str(e)) from e
    o = tr.offsets
    its = [{"step": int(tr.step[k]), "x": tr.x[k], "d": tr.d[k], "f": tr.f[k], "gtd": tr.gtd[k],
            "t_init": tr.t_init[k], "t": tr.t[k], "f_t": tr.f_t[k], "gtd_t": tr.gtd_t[k],
            "armijo": bool(tr.armijo[k]), "curvature": bool(tr.curvature[k]),
            "trials": {"t": tr.trials[o[k]:o[k + 1], 0], "f": tr.trials[o[k]:o[k + 1], 1],
                       "gtd": tr.trials[o[k]:o[k + 1], 2], "armijo": tr.trial_armijo[o[k]:o[k + 1]],
                       "curvature": tr.trial_curvature[o[k]:o[k + 1]]},
            "phi_t": tr.phi_t[k], "phi": tr.phi[k]} for k in range(len(tr.t))]  # fmt: skip
    return ORJSONResponse({"c1": optim.WOLFE_C1, "c2": optim.WOLFE_C2, "line_search": req.optimizer.line_search_fn is not None,
                           "truncated": tr.truncated, "trajectory": trajectories(tr.run)[0], "iterations": its})  # fmt: skip


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
