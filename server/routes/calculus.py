"""The calculus lens API: gradient flow, backpropagation, derivatives, stability, autodiff."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
from fastapi import APIRouter

from compute import calculus_flow, calculus_graph

from ..encoding import ORJSONResponse
from ..errors import ComputeError
from ..schemas.calculus import (
    BackpropRequest,
    BackpropResponse,
    GradientFlowRequest,
    GradientFlowResponse,
    NetworkRequest,
    NetworkResponse,
)

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
