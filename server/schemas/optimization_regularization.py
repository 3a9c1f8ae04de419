"""Request/response models of the regularization and dropout labs (/api/v1/optimization/…)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from compute import dropout_lab, regularization

from .common import Strict

Weight = Annotated[float, Field(ge=-5, le=5, allow_inf_nan=False)]
Vector = list[float | None]
Matrix = list[list[float | None]]
Seed = Annotated[int, Field(ge=0, le=2**31 - 1)]


# --- regularization geometry -------------------------------------------------------------------


class RegularizationRequest(Strict):
    w_ols: tuple[Weight, Weight] = Field((2.0, 0.8), description="ŵ, the unconstrained least-squares minimum")
    rho: float = Field(0.5, ge=-0.95, le=0.95, allow_inf_nan=False, description="correlation of the two features: XᵀX/n = [[1, ρ], [ρ, 1]]")
    r: float = Field(1.0, gt=0, le=10, allow_inf_nan=False, description="radius of the constraint ‖w‖ ≤ r (L2 ball and L1 diamond)")
    sigma: float = Field(1.0, ge=0.05, le=10, allow_inf_nan=False, description="noise σ of the likelihood y ~ N(Xw, σ²)")
    n: int = Field(50, ge=10, le=regularization.MAX_SAMPLES, description="number of samples")
    seed: Seed = 0
    resolution: int = Field(81, ge=11, le=121, description="contour grid points per axis")

    model_config = Strict.model_config | {
        "json_schema_extra": {"examples": [{"w_ols": [2.0, 0.8], "rho": 0.5, "r": 1.0, "sigma": 1.0, "n": 50, "seed": 0}]}
    }


class ConstrainedOut(Strict):
    norm: Literal["l2", "l1"]
    r: float
    w: Vector = Field(description="argmin L(w) s.t. ‖w‖ ≤ r, by SLSQP")
    loss: float | None
    active: bool = Field(description="the constraint binds")
    lam: float | None = Field(description="the matching penalty λ from the KKT condition (0 when inactive)")
    multiplier: float | None = Field(description="SLSQP's Lagrange multiplier of the constraint")
    nit: int
    success: bool


class RegularizationResponse(Strict):
    w_ols: Vector
    hessian: Matrix = Field(description="XᵀX/n")
    sigma: float
    n: int
    grid_x: Vector
    grid_y: Vector
    grid_loss: Matrix = Field(description="L(w) = ‖y − Xw‖²/(2n) at (grid_x[j], grid_y[i])")
    l2: ConstrainedOut
    l1: ConstrainedOut
    ridge_at_lam: Vector = Field(description="argmin L + (λ/2)‖w‖² at λ = l2.lam (closed form)")
    lasso_at_lam: Vector = Field(description="argmin L + λ‖w‖₁ at λ = l1.lam (sklearn Lasso)")
    tau: float | None = Field(description="std of the Gaussian prior whose MAP is the ridge solution (null: λ = 0, flat prior)")
    b: float | None = Field(description="scale of the Laplace prior whose MAP is the lasso solution")
    map_gaussian: Vector = Field(description="argmax of the posterior with the N(0, τ²) prior, found numerically")
    map_laplace: Vector = Field(description="argmax of the posterior with the Laplace(0, b) prior")
    ridge_path: Matrix = Field(description="[k] = ridge solution at path_lams[k]")
    lasso_path: Matrix
    path_lams: Vector = Field(description="λ from large to 0")


class RegularizationPathRequest(Strict):
    n_samples: int = Field(100, ge=20, le=regularization.MAX_SAMPLES, description="training samples (a test set of the same size is drawn too)")
    n_features: int = Field(20, ge=2, le=regularization.MAX_FEATURES, description="number of features p")
    n_informative: int = Field(5, ge=1, le=regularization.MAX_FEATURES, description="nonzero true coefficients (≤ n_features)")
    rho: float = Field(0.5, ge=0, le=0.95, allow_inf_nan=False, description="feature correlation ρ^|i−j|")
    noise: float = Field(1.0, ge=0, le=10, allow_inf_nan=False, description="noise std of y")
    seed: Seed = 0
    n_alphas: int = Field(60, ge=10, le=100, description="number of λ values per path")

    model_config = Strict.model_config | {
        "json_schema_extra": {"examples": [{"n_samples": 100, "n_features": 20, "n_informative": 5, "rho": 0.5, "noise": 1.0, "seed": 0}]}
    }


class RegularizationPathResponse(Strict):
    true_coef: Vector
    lasso_alphas: Vector
    lasso_coefs: Matrix = Field(description="[k][j] = coefficient j at lasso_alphas[k]")
    lasso_nonzero: list[int]
    lasso_train_mse: Vector
    lasso_test_mse: Vector
    ridge_alphas: Vector
    ridge_coefs: Matrix
    ridge_train_mse: Vector
    ridge_test_mse: Vector
    ols_test_mse: float | None
    converged: bool = Field(description="coordinate descent met its tolerance at every λ")


# --- dropout -------------------------------------------------------------------------------------

DropoutActivation = Literal["relu", "tanh"]  # = compute.dropout_lab.ACTIVATIONS


class DropoutRequest(Strict):
    p: float = Field(0.2, ge=0, le=0.9, allow_inf_nan=False, description="dropout probability (each hidden unit is zeroed with probability p)")
    width: int = Field(64, ge=4, le=dropout_lab.MAX_WIDTH, description="units per hidden layer")
    depth: int = Field(2, ge=1, le=dropout_lab.MAX_DEPTH, description="hidden layers, each followed by dropout")
    activation: DropoutActivation = "relu"
    steps: int = Field(300, ge=10, le=dropout_lab.MAX_STEPS, description="full-batch Adam steps with dropout on")
    lr: float = Field(0.01, ge=1e-4, le=0.1, allow_inf_nan=False, description="Adam learning rate", json_schema_extra={"log": True})
    n_points: int = Field(40, ge=10, le=dropout_lab.MAX_POINTS, description="training points")
    gap: float = Field(3.0, ge=0, le=4, allow_inf_nan=False, description="width of the empty gap in the middle of [−3, 3]")
    noise: float = Field(0.1, ge=0, le=1, allow_inf_nan=False, description="noise std of y")
    n_samples: int = Field(100, ge=2, le=dropout_lab.MAX_SAMPLES, description="T, stochastic forward passes at test time")
    seed: Seed = 0

    model_config = Strict.model_config | {
        "json_schema_extra": {"examples": [{"p": 0.2, "width": 64, "depth": 2, "activation": "relu", "steps": 300, "lr": 0.01,
                                            "n_points": 40, "gap": 3.0, "noise": 0.1, "n_samples": 100, "seed": 0}]}  # fmt: skip
    }


class DropoutResponse(Strict):
    x_train: Vector
    y_train: Vector
    x_grid: Vector
    truth: Vector = Field(description="the noiseless curve sin(x) + 0.2x")
    eval_pred: Vector = Field(description="model.eval(): dropout off, one deterministic net")
    mc_mean: Vector = Field(description="mean of the T thinned networks' predictions")
    mc_std: Vector = Field(description="their standard deviation σ(x)")
    samples: Matrix = Field(description="[k][i]: the k-th thinned network (first 20 passes) at x_grid[i]")
    masks: list[list[int]] = Field(description="[k][j] = 1 when unit j of the last hidden layer is kept in pass k")
    losses: Vector = Field(description="training MSE per Adam step, with dropout on")
    distance: Vector = Field(description="distance from x_grid[i] to the nearest training x")
    std_on_data: float | None = Field(description="mean σ where the distance ≤ 0.25")
    std_off_data: float | None = Field(description="mean σ where the distance ≥ 1")
    train_mse_eval: float | None
    n_params: int
