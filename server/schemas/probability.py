"""Request and response models of the probability lens (/api/v1/probability/…)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from compute import prob

from .common import Strict

# = tuple(compute.prob.FAMILIES) and compute.prob.MC_TARGETS (tests/api/test_probability.py keeps them in sync)
FamilyName = Literal[
    "gaussian",
    "bernoulli",
    "binomial",
    "categorical",
    "uniform",
    "laplace",
    "beta",
    "poisson",
    "exponential",
]
McTarget = Literal["pi", "exp_normal", "square_uniform"]

Seed = Annotated[int, Field(ge=0, le=2**32 - 1, description="random seed: same seed, same samples")]
Prob = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
ParamValue = Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)]
ParamList = Annotated[
    list[Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]],
    Field(min_length=1, max_length=prob.MAX_CLASSES),
]
Params = Annotated[
    dict[str, ParamValue | ParamList],
    Field(
        max_length=4,
        description="the family's parameters, e.g. {mu, sigma}; categorical: {probs: [...]}",
    ),
]


def _check_family(family: str, params: dict) -> None:
    try:
        prob.check_params(family, params)
    except ValueError as e:
        raise ValueError(str(e)) from None


class DistributionRequest(Strict):
    family: FamilyName = "gaussian"
    params: Params = Field(default_factory=dict)
    n_samples: int = Field(
        1000, ge=1, le=prob.MAX_SAMPLES, description="samples drawn for the histogram"
    )
    seed: Seed = 0

    @model_validator(mode="after")
    def _params(self) -> DistributionRequest:
        _check_family(self.family, self.params)
        return self

    model_config = Strict.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "family": "gaussian",
                    "params": {"mu": 0, "sigma": 1},
                    "n_samples": 1000,
                    "seed": 0,
                }
            ]
        }
    }


class DistributionResponse(Strict):
    family: str
    discrete: bool
    support: list[float] = Field(
        description="x grid (continuous) or the values k (discrete; categorical: 0…K−1)"
    )
    density: list[float | None] = Field(description="pdf, or pmf for discrete families")
    cdf: list[float | None]
    mean: float | None
    variance: float | None
    entropy_nats: float | None
    samples: list[float]
    sample_mean: float | None
    sample_variance: float | None


class FamilyParam(Strict):
    name: str
    min: float
    max: float
    default: float
    integer: bool
    description: str


class FamilyInfo(Strict):
    name: str
    title: str
    discrete: bool
    params: list[FamilyParam]
    latex: str
    mathml: str
    ml: str = Field(description="where it appears in ML, in one sentence")


class FamiliesResponse(Strict):
    families: list[FamilyInfo]


# ------------------------------------------------------------------------------ Bayes


class DiagnosticRequest(Strict):
    prevalence: Prob = Field(0.01, description="P(disease)")
    sensitivity: Prob = Field(0.9, description="P(+ | disease)")
    specificity: Prob = Field(0.95, description="P(− | healthy)")
    population: int = Field(1000, ge=10, le=10_000, description="people in the icon array")

    model_config = Strict.model_config | {
        "json_schema_extra": {
            "examples": [
                {"prevalence": 0.01, "sensitivity": 0.9, "specificity": 0.95, "population": 1000}
            ]
        }
    }


class Counts(Strict):
    true_positive: int
    false_negative: int
    false_positive: int
    true_negative: int


class DiagnosticResponse(Strict):
    p_positive: float
    ppv: float | None = Field(description="P(disease | +); null when no one tests positive")
    npv: float | None = Field(description="P(healthy | −); null when no one tests negative")
    counts: Counts
    population: int


class CoinRequest(Strict):
    alpha: float = Field(1.0, ge=0.1, le=100, allow_inf_nan=False, description="prior α")
    beta: float = Field(1.0, ge=0.1, le=100, allow_inf_nan=False, description="prior β")
    true_p: Prob = Field(0.7, description="the coin's real bias (used to flip)")
    n_flips: int = Field(100, ge=0, le=1000)
    seed: Seed = 0
    level: float = Field(0.95, ge=0.5, le=0.999, allow_inf_nan=False, description="credible level")
    resolution: int = Field(201, ge=11, le=501, description="grid points for the density")

    @model_validator(mode="after")
    def _budget(self) -> CoinRequest:
        # one density row per frame: keep the reply to ~250k numbers
        if (self.n_flips + 1) * self.resolution > 250_000:
            raise ValueError(
                f"(n_flips + 1) × resolution must be at most 250000; got {(self.n_flips + 1) * self.resolution}"
            )
        return self

    model_config = Strict.model_config | {
        "json_schema_extra": {
            "examples": [
                {"alpha": 1, "beta": 1, "true_p": 0.7, "n_flips": 100, "seed": 0, "level": 0.95}
            ]
        }
    }


class CoinResponse(Strict):
    flips: list[int]
    alpha: list[float]
    beta: list[float]
    mean: list[float]
    lower: list[float | None]
    upper: list[float | None]
    x: list[float]
    density: list[list[float | None]] = Field(
        description="density[t][i]: posterior after t flips at x[i]"
    )


# ------------------------------------------------------------------------------ MLE


class MleGaussianRequest(Strict):
    mu: float = Field(1.0, ge=-100, le=100, allow_inf_nan=False, description="true μ of the data")
    sigma: float = Field(
        2.0, ge=0.05, le=100, allow_inf_nan=False, description="true σ of the data"
    )
    n_samples: int = Field(50, ge=2, le=10_000)
    seed: Seed = 0
    resolution: int = Field(81, ge=11, le=201)

    model_config = Strict.model_config | {
        "json_schema_extra": {"examples": [{"mu": 1, "sigma": 2, "n_samples": 50, "seed": 0}]}
    }


class MleGaussianResponse(Strict):
    samples: list[float]
    mu_grid: list[float]
    sigma_grid: list[float]
    loglik: list[list[float | None]] = Field(
        description="loglik[i][j] = ℓ(mu_grid[j], sigma_grid[i])"
    )
    mle_mu: float
    mle_sigma: float = Field(description="the biased standard deviation √(Σ(xᵢ − x̄)²/n)")
    unbiased_sigma: float | None
    max_loglik: float | None


class MleLogisticRequest(Strict):
    w: float = Field(2.0, ge=-10, le=10, allow_inf_nan=False, description="true slope of the data")
    b: float = Field(
        -0.5, ge=-10, le=10, allow_inf_nan=False, description="true intercept of the data"
    )
    n_samples: int = Field(60, ge=2, le=5000)
    seed: Seed = 0
    probe_w: float = Field(1.0, ge=-10, le=10, allow_inf_nan=False, description="slope to evaluate")
    probe_b: float = Field(
        0.0, ge=-10, le=10, allow_inf_nan=False, description="intercept to evaluate"
    )

    model_config = Strict.model_config | {
        "json_schema_extra": {
            "examples": [
                {"w": 2, "b": -0.5, "n_samples": 60, "seed": 0, "probe_w": 1, "probe_b": 0}
            ]
        }
    }


class MleLogisticResponse(Strict):
    x: list[float]
    y: list[float]
    mle_w: float
    mle_b: float
    w_grid: list[float]
    nll_curve: list[float] = Field(description="mean NLL over w_grid at b = mle_b")
    probe_nll: float = Field(description="−(1/n) log Π p(yᵢ | xᵢ) at the probe (w, b)")
    probe_cross_entropy: float = Field(
        description="−(1/n) Σ [yᵢ log pᵢ + (1−yᵢ) log(1−pᵢ)] at the probe"
    )
    probe_p: list[float] = Field(description="σ(w xᵢ + b) at the probe")
    mle_nll: float


# ------------------------------------------------------------------------------ CLT


class CltMeansRequest(Strict):
    family: FamilyName = "exponential"
    params: Params = Field(default_factory=dict)
    n: int = Field(5, ge=1, le=1000, description="draws per mean")
    n_means: int = Field(4000, ge=10, le=20_000, description="how many means")
    seed: Seed = 0

    @model_validator(mode="after")
    def _check(self) -> CltMeansRequest:
        _check_family(self.family, self.params)
        if self.n * self.n_means > 2_000_000:
            raise ValueError(f"n × n_means must be at most 2000000; got {self.n * self.n_means}")
        return self

    model_config = Strict.model_config | {
        "json_schema_extra": {
            "examples": [
                {"family": "exponential", "params": {"rate": 1}, "n": 5, "n_means": 4000, "seed": 0}
            ]
        }
    }


class CltMeansResponse(Strict):
    means: list[float]
    mean: float = Field(description="E[X̄] = E[X]")
    sd: float = Field(description="sd(X̄) = sd(X)/√n")
    qq_theory: list[float]
    qq_sample: list[float]
    skewness: float | None = Field(description="sample skewness of the means (0 for a Gaussian)")


class MinibatchRequest(Strict):
    n_data: int = Field(1000, ge=100, le=10_000)
    n_batches: int = Field(400, ge=20, le=2000, description="batches drawn per batch size")
    noise: float = Field(1.0, ge=0, le=10, allow_inf_nan=False)
    max_batch: int = Field(
        512, ge=2, le=1024, description="largest batch size (powers of two up to it)"
    )
    seed: Seed = 0

    model_config = Strict.model_config | {
        "json_schema_extra": {
            "examples": [
                {"n_data": 1000, "n_batches": 400, "noise": 1, "max_batch": 512, "seed": 0}
            ]
        }
    }


class MinibatchResponse(Strict):
    batch_sizes: list[int]
    measured: list[float]
    theory: list[float]
    trace_sigma: float


# ------------------------------------------------------------------------------ bias–variance


class BiasVarianceRequest(Strict):
    max_degree: int = Field(15, ge=0, le=15)
    n_train: int = Field(30, ge=16, le=200)
    n_resamples: int = Field(200, ge=10, le=500)
    noise: float = Field(0.3, ge=0.01, le=2, allow_inf_nan=False, description="noise σ")
    seed: Seed = 0
    degree: int = Field(3, ge=0, le=15, description="the degree whose fits are drawn")
    n_show: int = Field(30, ge=1, le=50, description="fits drawn")

    @model_validator(mode="after")
    def _degree(self) -> BiasVarianceRequest:
        if self.degree > self.max_degree:
            raise ValueError(
                f"degree must be <= max_degree; got degree={self.degree}, max_degree={self.max_degree}"
            )
        return self

    model_config = Strict.model_config | {
        "json_schema_extra": {
            "examples": [
                {
                    "max_degree": 15,
                    "n_train": 30,
                    "n_resamples": 200,
                    "noise": 0.3,
                    "seed": 0,
                    "degree": 3,
                }
            ]
        }
    }


class BiasVarianceResponse(Strict):
    degrees: list[int]
    bias2: list[float]
    variance: list[float]
    noise: float
    test_error: list[float]
    train_error: list[float]
    x: list[float]
    y_first: list[float]
    x_test: list[float]
    f_test: list[float]
    fits: list[list[float | None]] = Field(description="n_show fits of the chosen degree on x_test")
    mean_fit: list[float | None]


# ------------------------------------------------------------------------------ Monte Carlo


class MonteCarloRequest(Strict):
    target: McTarget = "pi"
    n_samples: int = Field(10_000, ge=10, le=1_000_000)
    seed: Seed = 0
    n_repeats: int = Field(100, ge=10, le=200, description="independent runs for the error curve")

    model_config = Strict.model_config | {
        "json_schema_extra": {"examples": [{"target": "pi", "n_samples": 10000, "seed": 0}]}
    }


class MonteCarloResponse(Strict):
    truth: float
    n: list[int]
    estimate: list[float]
    std_error: list[float]
    final: float
    final_std_error: float
    error_n: list[int]
    rmse: list[float]
    slope: float | None = Field(description="fitted log–log slope of the RMS error (theory: −1/2)")
    points: list[list[float]] | None = Field(description="the first ≤ 2000 points (π only)")
