"""Request/response models of the calculus lens (/api/v1/calculus/…): gradient flow in deep
nets, backpropagation on a typed formula, derivatives and finite differences, stability and
critical points, symbolic vs automatic vs numeric gradients."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from compute import calculus_flow

from .common import Strict

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


# --- derivatives -------------------------------------------------------------------------------

Range = tuple[Coord, Coord]


class DerivativesRequest(Strict):
    expression: Expression = Field(description="f(x), e.g. sin(x) + x^2/4")
    x0: float = Field(1.0, ge=-1e4, le=1e4, allow_inf_nan=False, description="the point of tangency")
    x_range: tuple[Annotated[float, Field(ge=-1e4, le=1e4, allow_inf_nan=False)], Annotated[float, Field(ge=-1e4, le=1e4, allow_inf_nan=False)]] = Field((-4.0, 4.0), description="[a, b], a < b")
    h: float = Field(0.5, ge=1e-16, le=10, allow_inf_nan=False, description="step of the secant drawn")

    @model_validator(mode="after")
    def _range(self) -> DerivativesRequest:
        if not self.x_range[0] < self.x_range[1]:
            raise ValueError(f"x_range must satisfy a < b; got {list(self.x_range)}")
        return self

    model_config = Strict.model_config | {
        "json_schema_extra": {"examples": [{"expression": "sin(x)", "x0": 1.0, "x_range": [-4, 4], "h": 0.5}]}
    }


Floats = list[float | None]


class DerivativesResponse(Strict):
    latex: str
    mathml: str
    derivative_latex: str
    derivative_mathml: str
    x: Floats
    f: Floats
    df: Floats
    tangent: Floats
    f0: float | None
    df0: float | None
    d2f0: float | None
    h: Floats = Field(description="steps, log-spaced from 1e-16 to 1")
    forward: Floats = Field(description="(f(x0 + h) - f(x0)) / h")
    central: Floats = Field(description="(f(x0 + h) - f(x0 - h)) / 2h")
    forward_error: Floats
    central_error: Floats
    forward_model: Floats = Field(description="|f''| h / 2 + 2 ε |f| / h")
    h_forward_opt: float = Field(description="√ε · max(1, |x0|)")
    h_central_opt: float = Field(description="∛ε · max(1, |x0|)")
    secant_h: float
    secant_forward: float | None
    secant_central: float | None


# --- stability ---------------------------------------------------------------------------------

Eig = Annotated[float, Field(ge=-10, le=100, allow_inf_nan=False)]
Start = Annotated[float, Field(ge=-100, le=100, allow_inf_nan=False)]


class QuadraticRequest(Strict):
    eigvals: tuple[Eig, Eig] = Field((1.0, 10.0), description="eigenvalues (λ₁, λ₂) of the Hessian H")
    theta: float = Field(30.0, ge=-180, le=180, allow_inf_nan=False, description="rotation of H's eigenvectors, degrees")
    lr: float = Field(0.15, gt=0, le=10, allow_inf_nan=False, description="step size η")
    start: tuple[Start, Start] = Field((2.0, 1.5), description="x₀")
    steps: int = Field(40, ge=1, le=2000)

    model_config = Strict.model_config | {
        "json_schema_extra": {"examples": [{"eigvals": [1, 10], "theta": 30, "lr": 0.15, "start": [2, 1.5], "steps": 40}]}
    }


class QuadraticResponse(Strict):
    hessian: list[list[float]]
    eigvals: list[float]
    eigvecs: list[list[float]] = Field(description="columns are the eigenvectors")
    factors: list[float] = Field(description="1 − η λᵢ: each eigen-coordinate is multiplied by this per step")
    lr_critical: float | None = Field(description="2 / λ_max (null when λ_max ≤ 0)")
    regime: Literal["converges", "oscillates", "diverges", "stalls"]
    x: Floats
    y: Floats
    loss: Floats
    closed_form: list[list[float | None]] = Field(description="[t] = (x, y) from the closed form")
    diverged: bool
    diverged_at: int | None


WindowEnd = Annotated[float, Field(ge=-100, le=100, allow_inf_nan=False)]


class CriticalRequest(Strict):
    expression: Expression = Field(description="f(x, y)")
    x_range: tuple[WindowEnd, WindowEnd] = (-3.0, 3.0)
    y_range: tuple[WindowEnd, WindowEnd] = (-3.0, 3.0)
    resolution: int = Field(121, ge=11, le=301, description="grid points per axis of the contour")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="jitter of the grid of Newton starts")

    @model_validator(mode="after")
    def _ranges(self) -> CriticalRequest:
        for name in ("x_range", "y_range"):
            lo, hi = getattr(self, name)
            if not lo < hi:
                raise ValueError(f"{name} must satisfy a < b; got [{lo}, {hi}]")
        return self

    model_config = Strict.model_config | {
        "json_schema_extra": {"examples": [{"expression": "x^3 - 3*x + y^2", "x_range": [-3, 3], "y_range": [-3, 3]}]}
    }


class CriticalPointOut(Strict):
    x: float
    y: float
    f: float | None
    eigvals: tuple[float | None, float | None]
    kind: Literal["minimum", "maximum", "saddle", "degenerate"]


class CriticalResponse(Strict):
    latex: str
    mathml: str
    points: list[CriticalPointOut]
    method: Literal["symbolic", "numeric"]
    note: str
    x: list[float]
    y: list[float]
    z: list[list[float | None]] = Field(description="z[i][j] = f(x[j], y[i])")


# --- autodiff ----------------------------------------------------------------------------------


class AutodiffRequest(Strict):
    expression: Expression = Field(description="f(x), e.g. sin(x)*exp(x)")
    x0: float = Field(0.7, ge=-1e4, le=1e4, allow_inf_nan=False)
    grid: tuple[Annotated[float, Field(ge=-1e4, le=1e4, allow_inf_nan=False)], Annotated[float, Field(ge=-1e4, le=1e4, allow_inf_nan=False)]] = Field((-3.0, 3.0), description="[a, b] of the vmap grid")

    @model_validator(mode="after")
    def _grid(self) -> AutodiffRequest:
        if not self.grid[0] < self.grid[1]:
            raise ValueError(f"grid must satisfy a < b; got {list(self.grid)}")
        return self

    model_config = Strict.model_config | {"json_schema_extra": {"examples": [{"expression": "sin(x)*exp(x)", "x0": 0.7}]}}


class AutodiffResponse(Strict):
    latex: str
    mathml: str
    derivative_latex: str
    derivative_mathml: str
    x0: float
    f0: float | None
    sympy: float | None = Field(description="exact f′(x0), SymPy")
    sympy2: float | None = Field(description="f″(x0), SymPy")
    torch: float | None = Field(description="torch.autograd")
    torch2: float | None
    finite_difference: float | None = Field(description="central difference, h = ∛ε·max(1, |x0|)")
    h: float
    jax: float | None = Field(description="jax.grad(f)(x0); null without the jax extra")
    jax2: float | None = Field(description="jax.grad(jax.grad(f))(x0)")
    jax_error: str | None
    grid: Floats
    grad_on_grid: Floats
    vmap_source: str
    eager_s: float | None
    jit_s: float | None
    compile_s: float | None
