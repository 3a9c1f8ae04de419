"""The calculus lens API: gradient flow, backpropagation, derivatives, stability, autodiff."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
from fastapi import APIRouter

from compute import (
    calculus,
    calculus_autodiff,
    calculus_flow,
    calculus_graph,
    expressions,
    surfaces,
)

from ..encoding import ORJSONResponse
from ..errors import ComputeError
from ..schemas.calculus import (
    AutodiffRequest,
    AutodiffResponse,
    BackpropRequest,
    BackpropResponse,
    CriticalRequest,
    CriticalResponse,
    DerivativesRequest,
    DerivativesResponse,
    GradientFlowRequest,
    GradientFlowResponse,
    NetworkRequest,
    NetworkResponse,
    QuadraticRequest,
    QuadraticResponse,
)
from ..templating import mathml

router = APIRouter(prefix="/api/v1/calculus", tags=["calculus"])


@router.post("/gradient-flow", response_model=GradientFlowResponse)
def gradient_flow(req: GradientFlowRequest) -> ORJSONResponse:
    """Per-layer gradient norms of a deep MLP at initialization and over a few SGD steps."""
    try:
        r = calculus_flow.gradient_flow(**req.model_dump())
    except ValueError as e:
        raise ComputeError("steps" if "steps" in str(e) else "depth", str(e)) from e
    out = asdict(r)
    out.update(diverged=r.diverged_at is not None, batch_size=calculus_flow.BATCH_SIZE,
               init_std=calculus_flow.init_std(req.init, req.width, req.sigma))  # fmt: skip
    return ORJSONResponse(out)


@router.post("/backprop", response_model=BackpropResponse)
def backprop(req: BackpropRequest) -> ORJSONResponse:
    """A formula as a computational graph: forward values, local derivatives, gradients."""
    point = req.point.model_dump(exclude_none=True)
    try:
        g, b = calculus_graph.backprop(req.expression, point)
    except calculus_graph.PointError as e:
        raise ComputeError(("point", e.variable), str(e)) from e
    except ValueError as e:
        raise ComputeError("expression", str(e)) from e
    nodes = [{"id": n.id, "op": n.op, "label": n.label, "latex": n.latex, "level": n.level,
              "value": b.values[n.id], "grad": b.grads[n.id]} for n in g.nodes]  # fmt: skip
    graph = {"nodes": nodes, "edges": g.edges, "local": b.local, "order": b.order}
    return ORJSONResponse({"value": b.value, "gradient": b.gradient, "variables": g.variables,
                           "latex": g.latex, "graph": graph})  # fmt: skip


@router.post("/backprop/network", response_model=NetworkResponse)
def network(req: NetworkRequest) -> ORJSONResponse:
    """A 2-layer network's forward and backward pass, with δ per layer."""
    try:
        r = calculus_graph.network_backprop(np.asarray(req.x), req.target, hidden=req.hidden,
                                            activation=req.activation, seed=req.seed)  # fmt: skip
    except ValueError as e:
        raise ComputeError("x", str(e)) from e
    return ORJSONResponse(asdict(r))


@router.post("/derivatives", response_model=DerivativesResponse)
def derivatives(req: DerivativesRequest) -> ORJSONResponse:
    """f, f′ and the tangent at x0; forward and central differences against h with their errors."""
    try:
        r = calculus.derivative_view(req.expression, req.x0, tuple(req.x_range), secant_h=req.h)
    except ValueError as e:
        raise ComputeError("x0" if "x0" in str(e) else "expression", str(e)) from e
    out = asdict(r)
    out.update(mathml=mathml(r.latex, True), derivative_mathml=mathml(r.derivative_latex, True))
    return ORJSONResponse(out)


@router.post("/stability/quadratic", response_model=QuadraticResponse)
def quadratic(req: QuadraticRequest) -> ORJSONResponse:
    """Gradient descent on ½xᵀHx with the eigenvalues given: converge, oscillate or diverge."""
    try:
        r = calculus.quadratic_gd(req.eigvals, theta=req.theta, lr=req.lr, start=req.start, steps=req.steps)
    except ValueError as e:
        raise ComputeError("eigvals", str(e)) from e
    out = asdict(r)
    xy = out.pop("xy")
    out.update(x=xy[:, 0], y=xy[:, 1], diverged=r.diverged_at is not None)
    return ORJSONResponse(out)


@router.post("/stability/critical-points", response_model=CriticalResponse)
def critical_points(req: CriticalRequest) -> ORJSONResponse:
    """Critical points of f(x, y), classified by the Hessian's eigenvalues, with f on a grid."""
    try:
        obj = expressions.expression_objective(req.expression)
        r = calculus.critical_points(req.expression, req.x_range, req.y_range, seed=req.seed)
    except ValueError as e:
        raise ComputeError("expression", str(e)) from e
    g = surfaces.surface_grid(obj, tuple(req.x_range), tuple(req.y_range), req.resolution)
    return ORJSONResponse({"latex": obj.latex, "mathml": mathml(obj.latex, True),
                           "points": [asdict(p) for p in r.points], "method": r.method,
                           "note": r.note, "x": g.x, "y": g.y, "z": g.z})  # fmt: skip


@router.post("/autodiff", response_model=AutodiffResponse)
def autodiff(req: AutodiffRequest) -> ORJSONResponse:
    """f′(x0) by SymPy, torch.autograd, jax.grad and central differences; vmap and jit timing."""
    try:
        r = calculus_autodiff.autodiff(req.expression, req.x0, grid=tuple(req.grid))
    except ValueError as e:
        raise ComputeError("x0" if "x0" in str(e) else "expression", str(e)) from e
    out = asdict(r)
    out.update(mathml=mathml(r.latex, True), derivative_mathml=mathml(r.derivative_latex, True))
    return ORJSONResponse(out)
