"""Request/response models of the calculus lens (/api/v1/calculus/…): gradient flow in deep
nets, backpropagation on a typed formula, derivatives and finite differences, stability and
critical points, symbolic vs automatic vs numeric gradients."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from compute import calculus_flow

from .common import FiniteFloat, Strict

# = compute.calculus_flow.ACTIVATIONS / INITS / NORMS (a test keeps them in sync)
Activation = Literal["sigmoid", "tanh", "relu", "gelu"]
Init = Literal["normal", "xavier", "he"]
Norm = Literal["none", "layer"]
Coord = Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)]
Expression = Annotated[str, Field(min_length=1, max_length=200)]


# --- gradient flow ---------------------------------------------------------------------------


class GradientFlowRequest(Strict):
    depth: int = Field(30, ge=1, le=calculus_flow.MAX_DEPTH, description="number of hidden layers L")
    width: int = Field(64, ge=1, le=calculus_flow.MAX_WIDTH, description="units per layer n")
    activation: Activation = "sigmoid"
    init: Init = Field("xavier", description="normal: N(0, σ²); xavier: N(0, 1/n); he: N(0, 2/n)")
    sigma: float = Field(0.1, gt=0, le=10, allow_inf_nan=False, description="σ of init = 'normal'")
    residual: bool = Field(False, description="h_l = h_{l-1} + φ(z_l) instead of φ(z_l)")
    norm: Norm = Field("none", description="layer: LayerNorm before each layer and before the head")
    steps: int = Field(0, ge=0, le=calculus_flow.MAX_STEPS, description="SGD steps after initialization")
    lr: float = Field(0.01, gt=0, le=10, allow_inf_nan=False, description="SGD learning rate")
    clip_norm: float | None = Field(None, gt=0, le=1e6, allow_inf_nan=False, description="clip the total gradient norm to this")
    seed: int = Field(0, ge=0, le=2**31 - 1)

    model_config = Strict.model_config | {
        "json_schema_extra": {
            "examples": [
                {"depth": 30, "width": 64, "activation": "sigmoid", "init": "xavier",
                 "residual": False, "norm": "none", "seed": 0},
                {"depth": 30, "width": 64, "activation": "relu", "init": "normal", "sigma": 0.5,
                 "steps": 10, "lr": 0.01, "clip_norm": 1.0, "seed": 0},
            ]  # fmt: skip
        }
    }


class GradientFlowResponse(Strict):
    layer_grad_norms: list[float | None] = Field(description="‖∂loss/∂W_l‖ at initialization; index 0 nearest the input")
    hidden_grad_norms: list[float | None] = Field(description="‖∂loss/∂h_l‖ at initialization")
    mean_derivative: list[float | None] = Field(description="mean |φ′(z_l)| at initialization")
    activation_std: list[float | None] = Field(description="std of h_l at initialization")
    step_grad_norms: list[list[float | None]] = Field(description="[t][l]: ‖∂loss/∂W_l‖ before update t (row 0: initialization)")
    loss: list[float | None]
    total_norm: list[float | None] = Field(description="‖∇‖ over all parameters before clipping, per step")
    clipped_norm: list[float | None] = Field(description="‖∇‖ after clipping, per step")
    diverged: bool
    diverged_at: int | None
    init_std: float = Field(description="standard deviation of the weights' entries")
    batch_size: int


# --- backprop ----------------------------------------------------------------------------------


class Point(Strict):
    x: Coord | None = None
    y: Coord | None = None
    z: Coord | None = None


class BackpropRequest(Strict):
    expression: Expression = Field(description="f of x, y, z, e.g. x*y + sin(x)")
    point: Point = Field(description="a value for each variable the expression uses")

    model_config = Strict.model_config | {
        "json_schema_extra": {"examples": [{"expression": "x*y + sin(x)", "point": {"x": 1.0, "y": 2.0}}]}
    }


class GraphNodeOut(Strict):
    id: int
    op: str = Field(description="var, const, add, mul, pow, sin, …")
    label: str
    latex: str
    level: int = Field(description="longest path from a leaf")
    value: float | None
    grad: float | None = Field(description="accumulated ∂f/∂node")


class GraphOut(Strict):
    nodes: list[GraphNodeOut]
    edges: list[tuple[int, int]] = Field(description="[from (input), to (operation)]")
    local: list[float | None] = Field(description="∂to/∂from for each edge")
    order: list[int] = Field(description="the backward pass's visiting order (root first)")


class BackpropResponse(Strict):
    value: float | None
    gradient: dict[str, float | None]
    variables: list[str] = Field(description="the variables the expression uses")
    latex: str
    graph: GraphOut


NetActivation = Literal["sigmoid", "tanh", "relu"]  # = compute.calculus_graph.NET_ACTIVATIONS


class NetworkRequest(Strict):
    x: list[Annotated[float, Field(ge=-100, le=100, allow_inf_nan=False)]] = Field([1.0, -0.5], min_length=1, max_length=8)
    target: float = Field(1.0, ge=-100, le=100, allow_inf_nan=False)
    hidden: int = Field(3, ge=1, le=8)
    activation: NetActivation = "tanh"
    seed: int = Field(0, ge=0, le=2**31 - 1)

    model_config = Strict.model_config | {
        "json_schema_extra": {"examples": [{"x": [1.0, -0.5], "target": 1.0, "hidden": 3, "activation": "tanh", "seed": 0}]}
    }


Matrix = list[list[float | None]]
Vector = list[float | None]


class NetworkResponse(Strict):
    x: Vector
    W1: Matrix
    b1: Vector
    W2: Matrix
    b2: Vector
    z1: Vector
    a1: Vector
    y_hat: float | None
    loss: float | None
    delta2: Vector
    delta1: Vector
    dW1: Matrix
    db1: Vector
    dW2: Matrix
    db2: Vector
