"""Probability: distribution families, Bayes updates, maximum likelihood, the CLT and mini-batch
noise, bias–variance, Monte Carlo. Pure numpy/scipy.special; seeds are passed in."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special

# ------------------------------------------------------------------------------ distributions


@dataclass(frozen=True)
class ParamSpec:
    lo: float
    hi: float
    default: float
    description: str
    integer: bool = False
    lo_open: bool = False  # lo itself is excluded


@dataclass(frozen=True)
class Family:
    discrete: bool
    params: dict[str, ParamSpec]
    latex: str
    ml: str
    description: str
    extra: dict = field(default_factory=dict)


FAMILIES: dict[str, Family] = {
    "gaussian": Family(
        False,
        {
            "mu": ParamSpec(-100, 100, 0, "mean μ"),
            "sigma": ParamSpec(0.01, 100, 1, "standard deviation σ"),
        },
        r"p(x) = \frac{1}{\sigma\sqrt{2\pi}} e^{-\frac{(x-\mu)^2}{2\sigma^2}}",
        "Weight initialization (He, Xavier), noise in diffusion models and VAEs, and the squared-error loss are all Gaussian.",
        "Gaussian N(μ, σ²)",
    ),
    "bernoulli": Family(
        True,
        {"p": ParamSpec(0, 1, 0.3, "P(X = 1)")},
        r"P(X=x) = p^x (1-p)^{1-x}",
        "A dropout mask is Bernoulli per unit, and a logistic output is the p of a Bernoulli label.",
        "Bernoulli(p)",
    ),
    "binomial": Family(
        True,
        {
            "n": ParamSpec(1, 1000, 10, "number of trials n", integer=True),
            "p": ParamSpec(0, 1, 0.3, "success probability p"),
        },
        r"P(X=k) = \binom{n}{k} p^k (1-p)^{n-k}",
        "The number of correct answers on n test items: accuracy's error bars come from the binomial.",
        "Binomial(n, p)",
    ),
    "categorical": Family(
        True,
        {},
        r"P(X=k) = p_k,\quad \sum_k p_k = 1",
        "A softmax output is a categorical distribution over classes or next tokens; sampling from it generates text.",
        "Categorical(p₀, …, p_{K−1})",
    ),
    "uniform": Family(
        False,
        {
            "low": ParamSpec(-1000, 1000, 0, "lower end"),
            "high": ParamSpec(-1000, 1000, 1, "upper end"),
        },
        r"p(x) = \frac{1}{b-a}\ \text{on } [a, b]",
        "Uniform initialization (PyTorch's default for linear layers) and random hyperparameter search draw from it.",
        "Uniform(low, high)",
    ),
    "laplace": Family(
        False,
        {"mu": ParamSpec(-100, 100, 0, "location μ"), "b": ParamSpec(0.01, 100, 1, "scale b")},
        r"p(x) = \frac{1}{2b} e^{-\frac{|x-\mu|}{b}}",
        "A Laplace prior on weights is L1 regularization (lasso); its noise gives the absolute-error loss and differential privacy.",
        "Laplace(μ, b)",
    ),
    "beta": Family(
        False,
        {
            "alpha": ParamSpec(0.1, 100, 2, "α (pseudo-successes)"),
            "beta": ParamSpec(0.1, 100, 5, "β (pseudo-failures)"),
        },
        r"p(x) = \frac{x^{\alpha-1}(1-x)^{\beta-1}}{B(\alpha,\beta)}",
        "The conjugate prior of a probability: Bayesian A/B tests and Thompson sampling keep a Beta per arm.",
        "Beta(α, β)",
    ),
    "poisson": Family(
        True,
        {"rate": ParamSpec(0.01, 1000, 4, "rate λ")},
        r"P(X=k) = \frac{\lambda^k e^{-\lambda}}{k!}",
        "Counts — clicks, words, photons — are modelled as Poisson; its NLL is the Poisson loss of count regression.",
        "Poisson(λ)",
    ),
    "exponential": Family(
        False,
        {"rate": ParamSpec(0.01, 100, 1, "rate λ")},
        r"p(x) = \lambda e^{-\lambda x},\ x \ge 0",
        "Waiting times between events, survival models, and the exponential-family form behind GLMs.",
        "Exponential(λ)",
    ),
}
MAX_CLASSES = 100
MAX_SAMPLES = 100_000
N_GRID = 401


def check_params(family: str, params: dict) -> dict:
    """Validate a family's parameters; ValueError naming `params.<name>` and the bound."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {sorted(FAMILIES)}; got {family!r}")
    fam = FAMILIES[family]
    out: dict = {}
    if family == "categorical":
        extra = set(params) - {"probs"}
        if extra:
            raise ValueError(
                f"params.{sorted(extra)[0]} is not a parameter of categorical (only probs)"
            )
        probs = params.get("probs", [0.5, 0.3, 0.2])
        if not isinstance(probs, list | tuple | np.ndarray) or not 1 <= len(probs) <= MAX_CLASSES:
            raise ValueError(f"params.probs must be a list of 1 to {MAX_CLASSES} numbers")
        p = np.asarray(probs, dtype=float)
        if not np.all(np.isfinite(p)) or np.any(p < 0):
            raise ValueError("params.probs must be finite and >= 0")
        if abs(p.sum() - 1) > 1e-6:
            raise ValueError(f"params.probs must sum to 1 (within 1e-6); got {p.sum():.6g}")
        return {"probs": p / p.sum()}
    extra = set(params) - set(fam.params)
    if extra:
        raise ValueError(
            f"params.{sorted(extra)[0]} is not a parameter of {family} (takes {', '.join(fam.params)})"
        )
    for name, ps in fam.params.items():
        v = params.get(name, ps.default)
        if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v):
            raise ValueError(f"params.{name} must be a finite number; got {v!r}")
        if ps.integer and float(v) != int(v):
            raise ValueError(f"params.{name} must be an integer; got {v}")
        if not ps.lo <= v <= ps.hi:
            raise ValueError(f"params.{name} must be in [{ps.lo}, {ps.hi}]; got {v}")
        out[name] = int(v) if ps.integer else float(v)
    if family == "uniform" and not out["low"] < out["high"]:
        raise ValueError(
            f"params.high must be > params.low; got low={out['low']}, high={out['high']}"
        )
    return out


def _poisson_top(rate: float) -> int:
    # beyond rate + 12√rate + 30 the tail mass is < 1e-17: the sums below are exact to double
    return int(np.ceil(rate + 12 * np.sqrt(rate) + 30))


def _support(family: str, p: dict) -> np.ndarray:
    if family == "gaussian":
        return np.linspace(p["mu"] - 4 * p["sigma"], p["mu"] + 4 * p["sigma"], N_GRID)
    if family == "uniform":
        w = p["high"] - p["low"]
        return np.linspace(p["low"] - 0.15 * w, p["high"] + 0.15 * w, N_GRID)
    if family == "laplace":
        return np.linspace(p["mu"] - 6 * p["b"], p["mu"] + 6 * p["b"], N_GRID)
    if family == "beta":
        return np.linspace(0, 1, N_GRID)[1:-1]  # open interval: the density may be infinite at 0, 1
    if family == "exponential":
        return np.linspace(0, 7 / p["rate"], N_GRID)
    if family == "bernoulli":
        return np.arange(2.0)
    if family == "binomial":
        return np.arange(p["n"] + 1.0)
    if family == "categorical":
        return np.arange(float(len(p["probs"])))
    return np.arange(float(_poisson_top(p["rate"]) + 1))  # poisson


def _log_pmf_binomial(k: np.ndarray, n: int, q: float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return (
            special.gammaln(n + 1)
            - special.gammaln(k + 1)
            - special.gammaln(n - k + 1)
            + special.xlogy(k, q)
            + special.xlog1py(n - k, -q)
        )


def density(family: str, p: dict, x: np.ndarray) -> np.ndarray:
    """pdf (continuous) or pmf (discrete) at x, from closed forms."""
    x = np.asarray(x, dtype=float)
    if family == "gaussian":
        z = (x - p["mu"]) / p["sigma"]
        return np.exp(-0.5 * z * z) / (p["sigma"] * np.sqrt(2 * np.pi))
    if family == "uniform":
        return np.where((x >= p["low"]) & (x <= p["high"]), 1 / (p["high"] - p["low"]), 0.0)
    if family == "laplace":
        return np.exp(-np.abs(x - p["mu"]) / p["b"]) / (2 * p["b"])
    if family == "beta":
        a, b = p["alpha"], p["beta"]
        inside = (x > 0) & (x < 1)
        xc = np.clip(x, 1e-300, 1 - 1e-16)
        return np.where(
            inside,
            np.exp(special.xlogy(a - 1, xc) + special.xlog1py(b - 1, -xc) - special.betaln(a, b)),
            0.0,
        )
    if family == "exponential":
        return np.where(x >= 0, p["rate"] * np.exp(-p["rate"] * np.maximum(x, 0)), 0.0)
    if family == "bernoulli":
        return np.where(x == 1, p["p"], np.where(x == 0, 1 - p["p"], 0.0))
    if family == "binomial":
        return np.exp(_log_pmf_binomial(x, p["n"], p["p"]))
    if family == "categorical":
        k = x.astype(int)
        return np.where(
            (k >= 0) & (k < len(p["probs"])), p["probs"][np.clip(k, 0, len(p["probs"]) - 1)], 0.0
        )
    lam = p["rate"]  # poisson
    return np.exp(special.xlogy(x, lam) - lam - special.gammaln(x + 1))


def cdf(family: str, p: dict, x: np.ndarray) -> np.ndarray:
    """P(X ≤ x) from closed forms (cumulative sums of the pmf on the integer support)."""
    x = np.asarray(x, dtype=float)
    if family == "gaussian":
        return special.ndtr((x - p["mu"]) / p["sigma"])
    if family == "uniform":
        return np.clip((x - p["low"]) / (p["high"] - p["low"]), 0, 1)
    if family == "laplace":
        z = (x - p["mu"]) / p["b"]
        return np.where(z < 0, 0.5 * np.exp(np.minimum(z, 0)), 1 - 0.5 * np.exp(-np.maximum(z, 0)))
    if family == "beta":
        return special.betainc(p["alpha"], p["beta"], np.clip(x, 0, 1))
    if family == "exponential":
        return np.where(x >= 0, -np.expm1(-p["rate"] * np.maximum(x, 0)), 0.0)
    if family == "poisson":
        return special.pdtr(np.floor(x), p["rate"])
    if family == "binomial":
        return np.clip(np.cumsum(density(family, p, x)), 0, 1)
    return np.clip(np.cumsum(density(family, p, x)), 0, 1)


def moments(family: str, p: dict) -> tuple[float, float, float]:
    """(mean, variance, entropy in nats), closed forms or exact sums over the support."""
    if family == "gaussian":
        return p["mu"], p["sigma"] ** 2, 0.5 * np.log(2 * np.pi * np.e * p["sigma"] ** 2)
    if family == "uniform":
        w = p["high"] - p["low"]
        return (p["low"] + p["high"]) / 2, w * w / 12, np.log(w)
    if family == "laplace":
        return p["mu"], 2 * p["b"] ** 2, 1 + np.log(2 * p["b"])
    if family == "beta":
        a, b = p["alpha"], p["beta"]
        h = (
            special.betaln(a, b)
            - (a - 1) * special.digamma(a)
            - (b - 1) * special.digamma(b)
            + (a + b - 2) * special.digamma(a + b)
        )
        return a / (a + b), a * b / ((a + b) ** 2 * (a + b + 1)), h
    if family == "exponential":
        return 1 / p["rate"], 1 / p["rate"] ** 2, 1 - np.log(p["rate"])
    if family == "bernoulli":
        q = p["p"]
        return q, q * (1 - q), -special.xlogy(q, q) - special.xlogy(1 - q, 1 - q)
    if family == "categorical":
        pr = p["probs"]
        k = np.arange(len(pr))
        m = float(pr @ k)
        return m, float(pr @ (k - m) ** 2), float(-special.xlogy(pr, pr).sum())
    x = _support(family, p)
    pm = density(family, p, x)
    h = float(-special.xlogy(pm, pm).sum())
    if family == "binomial":
        return p["n"] * p["p"], p["n"] * p["p"] * (1 - p["p"]), h
    return p["rate"], p["rate"], h  # poisson


def sample(family: str, p: dict, size: int | tuple, seed: int) -> np.ndarray:
    """Seeded draws: the same seed gives the same samples, bit for bit."""
    rng = np.random.default_rng(seed)
    if family == "gaussian":
        return rng.normal(p["mu"], p["sigma"], size)
    if family == "uniform":
        return rng.uniform(p["low"], p["high"], size)
    if family == "laplace":
        return rng.laplace(p["mu"], p["b"], size)
    if family == "beta":
        return rng.beta(p["alpha"], p["beta"], size)
    if family == "exponential":
        return rng.exponential(1 / p["rate"], size)
    if family == "bernoulli":
        return (rng.random(size) < p["p"]).astype(float)
    if family == "binomial":
        return rng.binomial(p["n"], p["p"], size).astype(float)
    if family == "categorical":
        # inverse-cdf on one uniform per draw: vectorized for any size
        c = np.cumsum(p["probs"])
        return np.minimum(
            np.searchsorted(c, rng.random(size) * c[-1], side="right"), len(c) - 1
        ).astype(float)
    return rng.poisson(p["rate"], size).astype(float)


@dataclass(frozen=True)
class DistributionResult:
    support: np.ndarray
    density: np.ndarray
    cdf: np.ndarray
    mean: float
    variance: float
    entropy_nats: float
    samples: np.ndarray
    sample_mean: float
    sample_variance: float
    discrete: bool


def distribution(
    family: str, params: dict, n_samples: int = 1000, seed: int = 0
) -> DistributionResult:
    """Density (pmf), cdf on a support grid, moments, entropy and n seeded samples."""
    if not 1 <= n_samples <= MAX_SAMPLES:
        raise ValueError(f"n_samples must be in [1, {MAX_SAMPLES}]; got {n_samples}")
    p = check_params(family, params)
    x = _support(family, p)
    m, v, h = moments(family, p)
    s = sample(family, p, n_samples, seed)
    return DistributionResult(
        x,
        density(family, p, x),
        cdf(family, p, x),
        float(m),
        float(v),
        float(h),
        s,
        float(s.mean()),
        float(s.var(ddof=1)) if n_samples > 1 else 0.0,
        FAMILIES[family].discrete,
    )


# ------------------------------------------------------------------------------ Bayes


def diagnostic(
    prevalence: float, sensitivity: float, specificity: float, population: int = 1000
) -> dict:
    """Bayes' rule for a test: P(D|+) = sens·prev / (sens·prev + (1−spec)(1−prev)); natural
    frequencies out of `population` (rounded so the four counts add up)."""
    for k, v in (
        ("prevalence", prevalence),
        ("sensitivity", sensitivity),
        ("specificity", specificity),
    ):
        if not 0 <= v <= 1:
            raise ValueError(f"{k} must be in [0, 1]; got {v}")
    tp, fn = prevalence * sensitivity, prevalence * (1 - sensitivity)
    fp, tn = (1 - prevalence) * (1 - specificity), (1 - prevalence) * specificity
    pos, neg = tp + fp, fn + tn
    sick = round(population * prevalence)
    n_tp = round(sick * sensitivity)
    n_fp = round((population - sick) * (1 - specificity))
    return {
        "p_positive": pos, "ppv": tp / pos if pos > 0 else None, "npv": tn / neg if neg > 0 else None,
        "counts": {"true_positive": n_tp, "false_negative": sick - n_tp, "false_positive": n_fp,
                   "true_negative": population - sick - n_fp},
        "population": population,
    }  # fmt: skip


def beta_interval(a: np.ndarray, b: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Equal-tailed credible interval of Beta(a, b): the (1∓level)/2 quantiles (inverse regularized B)."""
    q = (1 - level) / 2
    return special.betaincinv(a, b, q), special.betaincinv(a, b, 1 - q)


def coin_updates(
    flips: np.ndarray, alpha: float, beta: float, level: float = 0.95, resolution: int = 201
) -> dict:
    """Beta(α, β) prior updated flip by flip: after t flips with h heads, Beta(α + h, β + t − h).
    Frame t = 0 is the prior. Densities on a grid of `resolution` points in (0, 1): (T + 1, R)."""
    flips = np.asarray(flips, dtype=float)
    if flips.size and not np.all((flips == 0) | (flips == 1)):
        raise ValueError("flips must be 0 or 1")
    heads = np.concatenate([[0.0], np.cumsum(flips)])  # (T + 1,)
    t = np.arange(flips.size + 1.0)
    a, b = alpha + heads, beta + t - heads
    lo, hi = beta_interval(a, b, level)
    x = np.linspace(0, 1, resolution + 2)[1:-1]
    logpdf = (
        special.xlogy(a[:, None] - 1, x)
        + special.xlog1py(b[:, None] - 1, -x)
        - special.betaln(a, b)[:, None]
    )
    return {
        "alpha": a,
        "beta": b,
        "heads": heads,
        "mean": a / (a + b),
        "lower": lo,
        "upper": hi,
        "x": x,
        "density": np.exp(logpdf),
    }


# ------------------------------------------------------------------------------ maximum likelihood


def gaussian_loglik_surface(
    x: np.ndarray, mu_grid: np.ndarray, sigma_grid: np.ndarray
) -> np.ndarray:
    """ℓ(μ, σ) = −n log σ − n/2 log 2π − Σ(xᵢ − μ)² / (2σ²), from the sufficient statistics.
    Returns (len(sigma_grid), len(mu_grid))."""
    n = x.size
    m, s2 = x.mean(), x.var()  # Σ(xᵢ − μ)² = n(s² + (m − μ)²)
    ss = n * (s2 + (m - mu_grid[None, :]) ** 2)
    sg = sigma_grid[:, None]
    return -n * np.log(sg) - 0.5 * n * np.log(2 * np.pi) - ss / (2 * sg * sg)


def gaussian_mle(x: np.ndarray) -> tuple[float, float]:
    """(μ̂, σ̂) = (mean, biased standard deviation √(Σ(xᵢ − x̄)²/n))."""
    return float(x.mean()), float(x.std())


def logistic_data(n_samples: int, w: float, b: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """x ~ N(0, 1.5²), y ~ Bernoulli(σ(w x + b)). Seeded."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1.5, n_samples)
    y = (rng.random(n_samples) < special.expit(w * x + b)).astype(float)
    return x, y


def logistic_nll(x: np.ndarray, y: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean negative log-likelihood −(1/n)Σ[y log σ(z) + (1−y) log(1−σ(z))], z = w x + b, written
    stably as mean(softplus(z) − y z) (= binary cross-entropy with logits). w, b broadcast."""
    z = np.multiply.outer(np.asarray(w, float), x) + np.asarray(b, float)[..., None]
    return (np.logaddexp(0, z) - y * z).mean(axis=-1)


def logistic_mle(
    x: np.ndarray, y: np.ndarray, iters: int = 50, l2: float = 1e-6
) -> tuple[float, float]:
    """Newton's method (IRLS) on the mean NLL; a tiny ridge keeps separable data finite."""
    X = np.c_[x, np.ones_like(x)]
    th = np.zeros(2)
    for _ in range(iters):
        pz = special.expit(X @ th)
        g = X.T @ (pz - y) / x.size + l2 * th
        H = (X * (pz * (1 - pz))[:, None]).T @ X / x.size + l2 * np.eye(2)
        step = np.linalg.solve(H, g)
        th = th - step
        if np.abs(step).max() < 1e-12:
            break
    return float(th[0]), float(th[1])


# ------------------------------------------------------------------------------ CLT and mini-batches


def sample_means(family: str, params: dict, n: int, n_means: int, seed: int) -> np.ndarray:
    """n_means means of n i.i.d. draws each: (n_means,)."""
    p = check_params(family, params)
    if n * n_means > 2_000_000:
        raise ValueError(f"n × n_means must be at most 2000000; got {n * n_means}")
    return sample(family, p, (n_means, n), seed).mean(axis=1)


def normal_qq(values: np.ndarray, mean: float, sd: float) -> tuple[np.ndarray, np.ndarray]:
    """Q–Q pairs: theoretical N(mean, sd²) quantiles at (i − 0.5)/m against the sorted values."""
    m = values.size
    q = special.ndtri((np.arange(1, m + 1) - 0.5) / m)
    return mean + sd * q, np.sort(values)


def minibatch_variance(
    batch_sizes: np.ndarray,
    n_data: int = 1000,
    n_batches: int = 400,
    noise: float = 1.0,
    seed: int = 0,
) -> dict:
    """Linear regression y = X w* + ε, squared loss ½(xᵀw − y)², gradient at w = 0.
    For each batch size B, `n_batches` batches drawn with replacement; the total variance
    E‖ĝ_B − ∇L‖² is measured and compared with tr Σ / B (Σ: per-example gradient covariance)."""
    rng = np.random.default_rng(seed)
    d = 2
    X = np.c_[rng.normal(0, 1, n_data), np.ones(n_data)]
    y = X @ np.array([2.0, -1.0]) + noise * rng.normal(0, 1, n_data)
    w = np.zeros(d)
    G = X * (X @ w - y)[:, None]  # (n_data, d) per-example gradients
    full = G.mean(axis=0)
    tr_sigma = float(((G - full) ** 2).sum(axis=1).mean())
    measured = []
    for B in batch_sizes:  # a short loop over batch sizes (≤ 16); each is one vectorized draw
        idx = rng.integers(0, n_data, size=(n_batches, int(B)))
        gb = G[idx].mean(axis=1)  # (n_batches, d)
        measured.append(float(((gb - full) ** 2).sum(axis=1).mean()))
    return {
        "batch_sizes": np.asarray(batch_sizes),
        "measured": np.array(measured),
        "theory": tr_sigma / np.asarray(batch_sizes, float),
        "trace_sigma": tr_sigma,
        "full_gradient": full,
    }


# ------------------------------------------------------------------------------ bias–variance


def true_function(x: np.ndarray) -> np.ndarray:
    return np.sin(np.pi * x) + 0.3 * x


def bias_variance(
    max_degree: int = 15,
    n_train: int = 30,
    n_resamples: int = 200,
    noise: float = 0.3,
    seed: int = 0,
    n_test: int = 100,
) -> dict:
    """Fixed design x on [−1, 1], y = f(x) + ε resampled `n_resamples` times; least-squares
    polynomial fits (Legendre basis, for conditioning) of each degree 0..max_degree.
    On a test grid: bias² = mean_x (E f̂ − f)², variance = mean_x Var f̂, noise = σ²,
    test error = E (y_new − f̂)² measured with fresh noise. Fits: (max_degree + 1, n_resamples, n_test)."""
    if max_degree >= n_train:
        raise ValueError(
            f"max_degree must be < n_train; got max_degree={max_degree}, n_train={n_train}"
        )
    rng = np.random.default_rng(seed)
    x = np.linspace(-1, 1, n_train)
    xt = np.linspace(-1, 1, n_test)
    f, ft = true_function(x), true_function(xt)
    Y = f[:, None] + noise * rng.normal(0, 1, (n_train, n_resamples))  # (n_train, R)
    Yt = ft[None, :] + noise * rng.normal(
        0, 1, (n_resamples, n_test)
    )  # fresh test labels (R, n_test)
    V, Vt = (
        np.polynomial.legendre.legvander(x, max_degree),
        np.polynomial.legendre.legvander(xt, max_degree),
    )
    fits = np.empty((max_degree + 1, n_resamples, n_test))
    for d in range(max_degree + 1):  # ≤ 16 solves, each for all resamples at once
        coef = np.linalg.lstsq(V[:, : d + 1], Y, rcond=None)[0]  # (d + 1, R)
        fits[d] = (Vt[:, : d + 1] @ coef).T
    mean_fit = fits.mean(axis=1)  # (D, n_test)
    bias2 = ((mean_fit - ft) ** 2).mean(axis=1)
    variance = fits.var(axis=1).mean(axis=1)
    test_error = ((Yt[None] - fits) ** 2).mean(axis=(1, 2))
    train_pred = np.stack(
        [
            V[:, : d + 1] @ np.linalg.lstsq(V[:, : d + 1], Y, rcond=None)[0]
            for d in range(max_degree + 1)
        ]
    )
    train_error = ((train_pred - Y[None]) ** 2).mean(axis=(1, 2))
    return {
        "x": x,
        "x_test": xt,
        "f_test": ft,
        "y_first": Y[:, 0],
        "fits": fits,
        "mean_fit": mean_fit,
        "bias2": bias2,
        "variance": variance,
        "noise": noise**2,
        "test_error": test_error,
        "train_error": train_error,
    }


# ------------------------------------------------------------------------------ Monte Carlo

MC_TARGETS = {
    "pi": (np.pi, "π from the share of uniform points in the unit quarter-disc, times 4"),
    "exp_normal": (float(np.exp(0.5)), "E[exp(Z)], Z ~ N(0, 1) = e^{1/2}"),
    "square_uniform": (1 / 3, "E[U²], U ~ Uniform(0, 1) = 1/3"),
}


def _mc_draws(
    target: str, rng: np.random.Generator, shape: tuple
) -> tuple[np.ndarray, np.ndarray | None]:
    if target == "pi":
        u = rng.random((*shape, 2))
        inside = (u**2).sum(axis=-1) <= 1
        return 4.0 * inside, u
    if target == "exp_normal":
        return np.exp(rng.normal(0, 1, shape)), None
    if target == "square_uniform":
        return rng.random(shape) ** 2, None
    raise ValueError(f"target must be one of {sorted(MC_TARGETS)}; got {target!r}")


def monte_carlo(
    target: str,
    n_samples: int,
    seed: int,
    n_repeats: int = 100,
    n_points: int = 200,
    n_show: int = 2000,
) -> dict:
    """Running mean of f(draws) with its standard error s/√n at ~n_points log-spaced n, and the RMS
    error over `n_repeats` independent runs at each n with the fitted log–log slope (→ −1/2)."""
    if target not in MC_TARGETS:
        raise ValueError(f"target must be one of {sorted(MC_TARGETS)}; got {target!r}")
    truth = MC_TARGETS[target][0]
    rng = np.random.default_rng(seed)
    f, u = _mc_draws(target, rng, (n_samples,))
    ns = np.unique(np.geomspace(1, n_samples, n_points).astype(int))
    c1, c2 = np.cumsum(f)[ns - 1], np.cumsum(f * f)[ns - 1]
    est = c1 / ns
    var = np.maximum(c2 / ns - est**2, 0) * ns / np.maximum(ns - 1, 1)
    se = np.sqrt(var / ns)
    n_rep_max = min(n_samples, max(1, 2_000_000 // n_repeats))
    F, _ = _mc_draws(target, np.random.default_rng(seed + 1), (n_repeats, n_rep_max))
    ns_r = np.unique(np.geomspace(1, n_rep_max, 40).astype(int))
    run = np.cumsum(F, axis=1)[:, ns_r - 1] / ns_r  # (n_repeats, len(ns_r))
    rmse = np.sqrt(((run - truth) ** 2).mean(axis=0))
    ok = (ns_r >= 10) & (rmse > 0)
    slope = float(np.polyfit(np.log(ns_r[ok]), np.log(rmse[ok]), 1)[0]) if ok.sum() >= 2 else None
    pts = u[: min(n_show, n_samples)] if u is not None else None
    return {
        "truth": truth,
        "n": ns,
        "estimate": est,
        "std_error": se,
        "final": float(est[-1]),
        "final_std_error": float(se[-1]),
        "error_n": ns_r,
        "rmse": rmse,
        "slope": slope,
        "points": pts,
    }
