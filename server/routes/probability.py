"""The probability lens's API: distributions, Bayes, maximum likelihood, CLT, bias–variance, Monte Carlo."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter

from compute import prob

from ..encoding import ORJSONResponse
from ..errors import ComputeError
from ..schemas.probability import (
    BiasVarianceRequest,
    BiasVarianceResponse,
    CltMeansRequest,
    CltMeansResponse,
    CoinRequest,
    CoinResponse,
    DiagnosticRequest,
    DiagnosticResponse,
    DistributionRequest,
    DistributionResponse,
    FamiliesResponse,
    MinibatchRequest,
    MinibatchResponse,
    MleGaussianRequest,
    MleGaussianResponse,
    MleLogisticRequest,
    MleLogisticResponse,
    MonteCarloRequest,
    MonteCarloResponse,
)
from ..templating import mathml

router = APIRouter(prefix="/api/v1/probability", tags=["probability"])
_FAMILIES: dict = {}


@router.get("/families", response_model=FamiliesResponse)
def families() -> dict:
    """Every family with its parameters, bounds, density formula and where it appears in ML."""
    if not _FAMILIES:
        _FAMILIES["f"] = [
            {"name": k, "title": f.description, "discrete": f.discrete, "latex": f.latex, "mathml": mathml(f.latex, True), "ml": f.ml,
             "params": [{"name": n, "min": p.lo, "max": p.hi, "default": p.default, "integer": p.integer, "description": p.description}
                        for n, p in f.params.items()]}
            for k, f in prob.FAMILIES.items()
        ]  # fmt: skip
    return {"families": _FAMILIES["f"]}


@router.post("/distribution", response_model=DistributionResponse)
def distribution(req: DistributionRequest) -> ORJSONResponse:
    """pdf/pmf and cdf on a support grid, mean, variance, entropy (nats), seeded samples."""
    try:
        r = prob.distribution(req.family, req.params, req.n_samples, req.seed)
    except ValueError as e:
        raise ComputeError("params", str(e)) from e
    return ORJSONResponse({"family": req.family, **r.__dict__})


@router.post("/bayes/diagnostic", response_model=DiagnosticResponse)
def diagnostic(req: DiagnosticRequest) -> ORJSONResponse:
    """P(disease | +) by Bayes' rule, and natural frequencies for the icon array."""
    return ORJSONResponse(
        prob.diagnostic(req.prevalence, req.sensitivity, req.specificity, req.population)
    )


@router.post("/bayes/coin", response_model=CoinResponse)
def coin(req: CoinRequest) -> ORJSONResponse:
    """Seeded flips of a coin with bias true_p; the Beta posterior after each flip."""
    flips = (np.random.default_rng(req.seed).random(req.n_flips) < req.true_p).astype(np.int64)
    r = prob.coin_updates(flips, req.alpha, req.beta, req.level, req.resolution)
    return ORJSONResponse(
        {
            "flips": flips,
            **{k: r[k] for k in ("alpha", "beta", "mean", "lower", "upper", "x", "density")},
        }
    )


@router.post("/mle/gaussian", response_model=MleGaussianResponse)
def mle_gaussian(req: MleGaussianRequest) -> ORJSONResponse:
    """Seeded N(μ, σ²) samples; the log-likelihood over a (μ, σ) grid around the MLE."""
    x = prob.sample("gaussian", {"mu": req.mu, "sigma": req.sigma}, req.n_samples, req.seed)
    m, s = prob.gaussian_mle(x)
    half = max(3 * req.sigma, 3 * s) if s > 0 else 3 * req.sigma
    mus = np.linspace(m - half, m + half, req.resolution)
    sds = np.linspace(max(s, req.sigma) * 0.25, max(s, req.sigma) * 2.5, req.resolution)
    L = prob.gaussian_loglik_surface(x, mus, sds)
    top = prob.gaussian_loglik_surface(x, np.array([m]), np.array([s]))[0, 0] if s > 0 else None
    return ORJSONResponse(
        {
            "samples": x,
            "mu_grid": mus,
            "sigma_grid": sds,
            "loglik": L,
            "mle_mu": m,
            "mle_sigma": s,
            "unbiased_sigma": float(x.std(ddof=1)),
            "max_loglik": top,
        }
    )


@router.post("/mle/logistic", response_model=MleLogisticResponse)
def mle_logistic(req: MleLogisticRequest) -> ORJSONResponse:
    """Seeded labelled data; the NLL is the binary cross-entropy, evaluated at a probe and at the MLE."""
    x, y = prob.logistic_data(req.n_samples, req.w, req.b, req.seed)
    w, b = prob.logistic_mle(x, y)
    grid = np.linspace(-10, 10, 201)
    p = 1 / (1 + np.exp(-(req.probe_w * x + req.probe_b)))
    nll = float(prob.logistic_nll(x, y, np.array(req.probe_w), np.array(req.probe_b)))
    ce = float(
        -(y * np.log(np.clip(p, 1e-300, 1)) + (1 - y) * np.log(np.clip(1 - p, 1e-300, 1))).mean()
    )
    return ORJSONResponse(
        {
            "x": x,
            "y": y,
            "mle_w": w,
            "mle_b": b,
            "w_grid": grid,
            "nll_curve": prob.logistic_nll(x, y, grid, np.full_like(grid, b)),
            "probe_nll": nll,
            "probe_cross_entropy": ce,
            "probe_p": p,
            "mle_nll": float(prob.logistic_nll(x, y, np.array(w), np.array(b))),
        }
    )


@router.post("/clt/means", response_model=CltMeansResponse)
def clt_means(req: CltMeansRequest) -> ORJSONResponse:
    """Means of n draws, with the CLT's normal N(E X, Var X / n) and a Q–Q plot against it."""
    try:
        p = prob.check_params(req.family, req.params)
        means = prob.sample_means(req.family, req.params, req.n, req.n_means, req.seed)
    except ValueError as e:
        raise ComputeError("params", str(e)) from e
    mu, var, _ = prob.moments(req.family, p)
    sd = float(np.sqrt(var / req.n))
    th, srt = prob.normal_qq(means, mu, sd)
    pick = np.unique(np.linspace(0, means.size - 1, 400).astype(int))  # ≤ 400 Q–Q points
    c = means - means.mean()
    m2 = float((c * c).mean())
    sk = float((c**3).mean() / m2**1.5) if m2 > 1e-300 else None
    return ORJSONResponse(
        {
            "means": means,
            "mean": float(mu),
            "sd": sd,
            "qq_theory": th[pick],
            "qq_sample": srt[pick],
            "skewness": sk,
        }
    )


@router.post("/clt/minibatch", response_model=MinibatchResponse)
def minibatch(req: MinibatchRequest) -> ORJSONResponse:
    """Variance of the mini-batch gradient of a linear regression against B, with tr Σ / B."""
    bs = 2 ** np.arange(int(np.log2(req.max_batch)) + 1)
    r = prob.minibatch_variance(bs, req.n_data, req.n_batches, req.noise, req.seed)
    return ORJSONResponse({k: r[k] for k in ("batch_sizes", "measured", "theory", "trace_sigma")})


@router.post("/bias-variance", response_model=BiasVarianceResponse)
def bias_variance(req: BiasVarianceRequest) -> ORJSONResponse:
    """Polynomial fits of degree 0..max_degree on resampled noisy data: bias², variance, noise, test error."""
    try:
        r = prob.bias_variance(req.max_degree, req.n_train, req.n_resamples, req.noise, req.seed)
    except ValueError as e:
        raise ComputeError("max_degree", str(e)) from e
    keep = (
        "bias2",
        "variance",
        "noise",
        "test_error",
        "train_error",
        "x",
        "y_first",
        "x_test",
        "f_test",
    )
    return ORJSONResponse(
        {
            "degrees": np.arange(req.max_degree + 1),
            **{k: r[k] for k in keep},
            "fits": r["fits"][req.degree, : req.n_show],
            "mean_fit": r["mean_fit"][req.degree],
        }
    )


@router.post("/monte-carlo", response_model=MonteCarloResponse)
def monte_carlo(req: MonteCarloRequest) -> ORJSONResponse:
    """Running estimate with its standard error, and the RMS error against n (slope −1/2)."""
    return ORJSONResponse(prob.monte_carlo(req.target, req.n_samples, req.seed, req.n_repeats))
