"""Request/response models of the landscapes lab (/api/v1/optimization/landscape, …/saddle):
loss slices of logistic regression and a small MLP through weight space, and escaping a saddle."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from compute import landscapes

from .common import Strict

# = compute.landscapes.MODELS / DATASETS / ACTIVATIONS / DIRECTIONS (a test keeps them in sync)
Model = Literal["logistic", "mlp"]
DatasetName = Literal["moons", "circles", "xor", "spirals"]
Activation = Literal["tanh", "relu"]
Directions = Literal["random", "pca"]
Floats = list[float | None]
Seed = Annotated[int, Field(ge=0, le=2**31 - 1, description="seeds the data, θ₀, the directions and the noise")]


class LandscapeRequest(Strict):
    model: Model = Field("mlp", description="logistic regression (convex loss) or a small MLP")
    dataset: DatasetName = "moons"
    n_samples: int = Field(200, ge=20, le=landscapes.MAX_SAMPLES, description="points in the data set")
    noise: float = Field(0.2, ge=0, le=0.5, allow_inf_nan=False, description="std of the Gaussian jitter of the points")
    hidden: int = Field(8, ge=1, le=landscapes.MAX_HIDDEN, description="units per hidden layer (mlp only)")
    depth: int = Field(2, ge=1, le=landscapes.MAX_DEPTH, description="hidden layers (mlp only)")
    activation: Activation = Field("tanh", description="hidden activation φ (mlp only)")
    steps: int = Field(200, ge=1, le=landscapes.MAX_STEPS, description="full-batch training steps θ₀ → θ*")
    lr: float = Field(0.5, gt=0, le=10, allow_inf_nan=False, description="learning rate η", json_schema_extra={"log": True})
    momentum: float = Field(0.9, ge=0, le=0.99, allow_inf_nan=False, description="heavy-ball momentum μ (torch.optim.SGD)")
    directions: Directions = Field("random", description="random filter-normalized (Li et al.) or the trajectory's top-2 PCA axes")
    span: float = Field(1.0, gt=0, le=landscapes.MAX_SPAN, allow_inf_nan=False, description="the slice covers α, β ∈ [−span, span]")
    resolution: int = Field(31, ge=3, le=landscapes.MAX_RESOLUTION, description="grid points per axis of the slice")
    seed: Seed = 0

    model_config = Strict.model_config | {
        "json_schema_extra": {"examples": [{"model": "mlp", "dataset": "moons", "n_samples": 200, "noise": 0.2, "hidden": 8,
                                            "depth": 2, "activation": "tanh", "steps": 200, "lr": 0.5, "momentum": 0.9,
                                            "directions": "random", "span": 1.0, "resolution": 31, "seed": 0}]}
    }  # fmt: skip


class Trajectory(Strict):
    alpha: Floats = Field(description="least-squares coordinate of θ_t − θ* along d₁")
    beta: Floats = Field(description="… along d₂")
    residual: Floats = Field(description="‖θ_t − θ* − (α d₁ + β d₂)‖ / ‖θ_t − θ*‖: the part the plane misses")


class LandscapeResponse(Strict):
    model: Model
    n_params: int
    layer_shapes: list[tuple[int, int]] = Field(description="(out, in) of each linear layer")
    alphas: list[float]
    betas: list[float]
    z: list[list[float | None]] = Field(description="z[i][j] = L(θ* + alphas[j] d₁ + betas[i] d₂)")
    line_t: list[float] = Field(description="λ on the line (1 − λ) θ₀ + λ θ*")
    line_loss: Floats
    perm_t: list[float] | None = Field(description="λ on θ* → θ* with two hidden units swapped (mlp, hidden ≥ 2)")
    perm_loss: Floats | None
    perm_units: tuple[int, int] | None = Field(description="the swapped units of the first hidden layer, 0-based: the two that differ most")
    train_loss: Floats = Field(description="L(θ_t), t = 0 … steps (shorter if the run diverged)")
    trajectory: Trajectory
    trajectory_captured: float | None = Field(description="1 − Σ‖r_t‖² / Σ‖θ_t − θ*‖²")
    accuracy: float
    final_loss: float | None
    nonconvex_fraction: float = Field(description="share of the slice's second differences along α and β that are < 0")
    line_nonconvex_fraction: float = Field(description="the same along the line θ₀ → θ*")
    diverged: bool
    diverged_at: int | None
    theta0: Floats
    theta_star: Floats
    d1: Floats
    d2: Floats


Coord = Annotated[float, Field(ge=-landscapes.SADDLE_BOX, le=landscapes.SADDLE_BOX, allow_inf_nan=False)]


class SaddleRequest(Strict):
    start: tuple[Coord, Coord] = Field((1.5, 1e-8), description="(x₀, y₀); y₀ = 0 is exactly on the saddle's stable manifold")
    lr: float = Field(0.02, gt=0, le=0.5, allow_inf_nan=False, description="learning rate η", json_schema_extra={"log": True})
    steps: int = Field(300, ge=1, le=landscapes.MAX_SADDLE_STEPS)
    momentum: float = Field(0.9, ge=0, le=0.99, allow_inf_nan=False, description="μ of the momentum run")
    noise_std: float = Field(0.2, ge=0, le=2, allow_inf_nan=False, description="σ of the Gaussian noise added to the gradient")
    n_noisy: int = Field(5, ge=1, le=landscapes.MAX_NOISY_RUNS, description="noisy runs, one seed each")
    seed: Seed = 0

    model_config = Strict.model_config | {
        "json_schema_extra": {"examples": [{"start": [1.5, 1e-8], "lr": 0.02, "steps": 300, "momentum": 0.9,
                                            "noise_std": 0.2, "n_noisy": 5, "seed": 0}]}
    }  # fmt: skip


class SaddleRunOut(Strict):
    name: Literal["gd", "momentum", "noisy"]
    x: Floats
    y: Floats
    loss: Floats
    escaped_at: int | None = Field(description="first step with |y| > 1 (the minima sit at |y| = √2)")
    diverged_at: int | None


class SaddleResponse(Strict):
    runs: list[SaddleRunOut]
    grid: list[float] = Field(description="coordinates on both axes")
    z: list[list[float]] = Field(description="z[i][j] = f(grid[j], grid[i])")
    predicted_escape_gd: float | None = Field(description="ln(1/|y₀|) / ln(1 + 2η): GD's linearized escape step")
    growth_gd: float = Field(description="1 + 2η: GD multiplies y by this per step near the saddle")
    growth_momentum: float = Field(description="the larger root of z² − (1 + μ + 2η) z + μ: momentum's growth of y per step")
    saddle_eigvals: tuple[float, float] = Field(description="the Hessian's eigenvalues at (0, 0)")
    minima: list[tuple[float, float]]
