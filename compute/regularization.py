"""Regularization geometry: constrained least squares (‖w‖ ≤ r) against the penalized form (+ λ·penalty),
the KKT multiplier that matches r to λ, MAP with Gaussian / Laplace priors, and lasso / ridge paths.

The 2-parameter loss is L(w) = ‖y − Xw‖² / (2n) on a seeded design whose Gram matrix XᵀX/n and
least-squares solution ŵ are set exactly, so L(w) = ½ (w − ŵ)ᵀ H (w − ŵ) + ½ σ² with
H = [[1, ρ], [ρ, 1]] and σ² = ‖y − Xŵ‖² / n.

Penalties (sklearn's scaling): ridge J(w) = L(w) + (λ/2)‖w‖₂², lasso J(w) = L(w) + λ‖w‖₁.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, lasso_path

NORMS = ("l2", "l1")
MAX_SAMPLES = 200
MAX_FEATURES = 30


# --- the 2-parameter problem -------------------------------------------------------------------


def design(w_ols: tuple[float, float], rho: float, sigma: float, n: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A seeded (X (n, 2), y (n,)) with XᵀX/n = [[1, ρ], [ρ, 1]], least-squares solution exactly ŵ,
    and residual ‖y − Xŵ‖²/n = σ²."""
    if not -1 < rho < 1:
        raise ValueError(f"rho must be in (-1, 1); got {rho}")
    if n < 4:
        raise ValueError(f"n must be >= 4; got {n}")
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, 2))
    z -= z.mean(0)
    # whiten, then colour: Zᵀ Z / n = I exactly, Xᵀ X / n = H exactly
    q, _ = np.linalg.qr(z)
    h = np.array([[1.0, rho], [rho, 1.0]])
    x = np.sqrt(n) * q @ np.linalg.cholesky(h).T  # (n, 2)
    e = rng.standard_normal(n)
    e -= q @ (q.T @ e)  # orthogonal to both columns: the OLS solution stays ŵ
    e *= sigma * np.sqrt(n) / max(np.linalg.norm(e), 1e-300)
    return x, x @ np.asarray(w_ols, dtype=float) + e


def loss(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """L(w) = ‖y − Xw‖²/(2n) for w (..., p) → (...)."""
    r = y - np.asarray(w) @ x.T  # (..., n)
    return 0.5 * np.mean(r * r, axis=-1)


def loss_grad(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """∇L(w) = −Xᵀ(y − Xw)/n, (p,)."""
    return -x.T @ (y - x @ w) / len(y)


@dataclass(frozen=True)
class Constrained:
    """argmin L(w) subject to ‖w‖ ≤ r (SLSQP), with its KKT multiplier λ (= the matching penalty)."""

    norm: str
    r: float
    w: np.ndarray  # (p,)
    loss: float
    active: bool  # the constraint binds (r below the norm of the unconstrained minimum)
    lam: float  # λ from the KKT condition ∇L(w) + λ ∂‖w‖ ∋ 0 (0 when inactive)
    multiplier: float  # SLSQP's Lagrange multiplier of the constraint
    nit: int
    success: bool


def constrained(x: np.ndarray, y: np.ndarray, r: float, norm: str = "l2") -> Constrained:
    """Solve min L(w) s.t. ‖w‖₂ ≤ r (as ½(r² − ‖w‖²) ≥ 0) or ‖w‖₁ ≤ r (w = w⁺ − w⁻, w± ≥ 0,
    r − Σ(w⁺ + w⁻) ≥ 0) with scipy.optimize.minimize(method="SLSQP").

    Writing the L2 constraint as ½(r² − ‖w‖²) makes SLSQP's multiplier equal the ridge λ of
    L(w) + (λ/2)‖w‖²; the L1 multiplier is the lasso λ of L(w) + λ‖w‖₁.
    """
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {NORMS}; got {norm!r}")
    if not r > 0:
        raise ValueError(f"r must be > 0; got {r}")
    p = x.shape[1]
    ols = np.linalg.lstsq(x, y, rcond=None)[0]
    opts = {"ftol": 1e-12, "maxiter": 500}  # 1e-14 ends in "positive directional derivative"
    if norm == "l2":
        res = optimize.minimize(
            lambda w: float(loss(w, x, y)), np.zeros(p), jac=lambda w: loss_grad(w, x, y), method="SLSQP",
            constraints=[{"type": "ineq", "fun": lambda w: 0.5 * (r * r - w @ w), "jac": lambda w: -w}], options=opts,
        )  # fmt: skip
        w = res.x
        active = bool(np.linalg.norm(ols) > r)
        g = loss_grad(w, x, y)
        lam = float(-(w @ g) / (w @ w)) if active else 0.0  # ∇L = −λ w on the sphere
    else:
        split = lambda z: z[:p] - z[p:]  # noqa: E731

        def jac(z):
            g = loss_grad(split(z), x, y)
            return np.concatenate([g, -g])

        res = optimize.minimize(
            lambda z: float(loss(split(z), x, y)), np.zeros(2 * p), jac=jac, method="SLSQP",
            bounds=[(0, None)] * (2 * p),
            constraints=[{"type": "ineq", "fun": lambda z: r - z.sum(), "jac": lambda z: -np.ones(2 * p)}], options=opts,
        )  # fmt: skip
        w = split(res.x)
        active = bool(np.abs(ols).sum() > r)
        # ∂L/∂wᵢ = −λ sign(wᵢ) where wᵢ ≠ 0 and |∂L/∂wᵢ| ≤ λ where wᵢ = 0: λ = ‖∇L‖∞
        lam = float(np.abs(loss_grad(w, x, y)).max()) if active else 0.0
    mult = np.atleast_1d(getattr(res, "multipliers", [np.nan]))
    return Constrained(norm=norm, r=float(r), w=w, loss=float(loss(w, x, y)), active=active, lam=lam,
                       multiplier=float(mult[0]), nit=int(res.nit), success=bool(res.success))  # fmt: skip


def ridge(x: np.ndarray, y: np.ndarray, lam: float | np.ndarray) -> np.ndarray:
    """argmin ‖y − Xw‖²/(2n) + (λ/2)‖w‖²: the closed form w = (XᵀX/n + λI)⁻¹ Xᵀy/n, evaluated through
    the SVD X = U S Vᵀ as V diag(√dᵢ/(dᵢ + λ)) Uᵀy/√n with dᵢ = sᵢ²/n; λ scalar → (p,), λ (m,) → (m, p)."""
    n = len(y)
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    lam_arr = np.atleast_1d(np.asarray(lam, dtype=float))
    if np.any(lam_arr < 0):
        raise ValueError(f"lam must be >= 0; got {lam_arr.min()}")
    d = s * s / n  # eigenvalues of XᵀX/n
    uty = (u.T @ y) / np.sqrt(n)
    shrink = (np.sqrt(d) / (d + lam_arr[:, None])) * uty  # (m, p) in the V basis
    w = shrink @ vt
    return w[0] if np.ndim(lam) == 0 else w


def lasso(x: np.ndarray, y: np.ndarray, lam: float) -> np.ndarray:
    """argmin ‖y − Xw‖²/(2n) + λ‖w‖₁ by coordinate descent (sklearn.linear_model.Lasso), (p,)."""
    if lam <= 0:
        return np.linalg.lstsq(x, y, rcond=None)[0]
    m = Lasso(alpha=lam, fit_intercept=False, tol=1e-14, max_iter=100_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol 1e-14 is stricter than needed
        m.fit(x, y)
    return m.coef_.astype(float)


def prior_scale(lam: float, sigma: float, n: int, norm: str) -> float:
    """The prior whose MAP is the penalized solution: likelihood y ~ N(Xw, σ²I), so
    −log posterior = (n/σ²)·J(w) + const with J the penalized objective when
    ridge: w ~ N(0, τ²I), τ = σ/√(nλ);  lasso: wᵢ ~ Laplace(0, b), b = σ²/(nλ).  (inf at λ = 0)"""
    if lam <= 0:
        return float("inf")
    return float(sigma / np.sqrt(n * lam)) if norm == "l2" else float(sigma**2 / (n * lam))


def neg_log_posterior(w: np.ndarray, x: np.ndarray, y: np.ndarray, sigma: float, scale: float, norm: str) -> float:
    """−log p(y | w) − log p(w) with y ~ N(Xw, σ²) and the Gaussian (l2) or Laplace (l1) prior of the
    given scale, from scipy.stats densities."""
    nll = -stats.norm.logpdf(y, loc=x @ w, scale=sigma).sum()
    prior = stats.norm.logpdf(w, scale=scale) if norm == "l2" else stats.laplace.logpdf(w, scale=scale)
    return float(nll - prior.sum())


def map_estimate(x: np.ndarray, y: np.ndarray, sigma: float, scale: float, norm: str) -> np.ndarray:
    """argmax of the posterior, found by minimizing the scipy.stats −log posterior directly
    (l1: over w = w⁺ − w⁻ with w± ≥ 0, where |w| = w⁺ + w⁻ at the optimum), (p,)."""
    p = x.shape[1]
    if not np.isfinite(scale):
        return np.linalg.lstsq(x, y, rcond=None)[0]
    if norm == "l2":
        res = optimize.minimize(lambda w: neg_log_posterior(w, x, y, sigma, scale, "l2"), np.zeros(p),
                                jac=lambda w: len(y) * loss_grad(w, x, y) / sigma**2 + w / scale**2,
                                method="L-BFGS-B", options={"ftol": 1e-15, "gtol": 1e-12})  # fmt: skip
        return res.x

    def f(z):
        w = z[:p] - z[p:]
        # the Laplace log-density −log(2b) − |w|/b with |w| written as w⁺ + w⁻
        return -stats.norm.logpdf(y, loc=x @ w, scale=sigma).sum() + z.sum() / scale + p * np.log(2 * scale)

    def jac(z):
        g = len(y) * loss_grad(z[:p] - z[p:], x, y) / sigma**2
        return np.concatenate([g, -g]) + 1 / scale

    res = optimize.minimize(f, np.zeros(2 * p), jac=jac, method="L-BFGS-B", bounds=[(0, None)] * (2 * p),
                            options={"ftol": 1e-15, "gtol": 1e-12})  # fmt: skip
    return res.x[:p] - res.x[p:]


@dataclass(frozen=True)
class Geometry:
    """Everything the 2-parameter view draws."""

    w_ols: np.ndarray  # (2,)
    hessian: np.ndarray  # (2, 2) XᵀX/n
    sigma: float
    n: int
    grid_x: np.ndarray  # (g,)
    grid_y: np.ndarray  # (g,)
    grid_loss: np.ndarray  # (g, g) L at (grid_x[j], grid_y[i])
    l2: Constrained
    l1: Constrained
    ridge_at_lam: np.ndarray  # (2,) penalized ridge at the L2 multiplier
    lasso_at_lam: np.ndarray  # (2,) penalized lasso at the L1 multiplier
    tau: float  # Gaussian prior std giving the ridge λ
    b: float  # Laplace prior scale giving the lasso λ
    map_gaussian: np.ndarray  # (2,)
    map_laplace: np.ndarray  # (2,)
    ridge_path: np.ndarray  # (m, 2) ridge solutions for λ from large to 0
    lasso_path: np.ndarray  # (m, 2)
    path_lams: np.ndarray  # (m,)


def geometry(
    w_ols: tuple[float, float] = (2.0, 0.8), rho: float = 0.5, r: float = 1.0, sigma: float = 1.0,
    n: int = 50, seed: int = 0, resolution: int = 81, n_path: int = 60,
) -> Geometry:  # fmt: skip
    """The contours of L, the L2-ball and L1-diamond constrained solutions of radius r, the
    penalized solutions at the matching λ, the MAP points, and both solution paths."""
    x, y = design(w_ols, rho, sigma, n, seed)
    w_hat = np.asarray(w_ols, dtype=float)
    l2, l1 = constrained(x, y, r, "l2"), constrained(x, y, r, "l1")
    span = max(np.abs(w_hat).max(), r) * 1.35 + 0.3
    g = np.linspace(-span, span, resolution)
    ww = np.stack(np.meshgrid(g, g), axis=-1)  # (g, g, 2): [i, j] = (g[j], g[i])
    dw = ww - w_hat
    h = x.T @ x / n
    grid_loss = 0.5 * np.einsum("...i,ij,...j->...", dw, h, dw) + 0.5 * sigma**2
    tau, b = prior_scale(l2.lam, sigma, n, "l2"), prior_scale(l1.lam, sigma, n, "l1")
    lam_max = np.abs(x.T @ y).max() / n  # the smallest λ with an all-zero lasso
    lams = lam_max * np.logspace(2, -4, n_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        _, coefs, *_ = lasso_path(x, y, alphas=lams, tol=1e-12, max_iter=100_000)
    return Geometry(
        w_ols=w_hat, hessian=h, sigma=float(sigma), n=n, grid_x=g, grid_y=g, grid_loss=grid_loss, l2=l2, l1=l1,
        ridge_at_lam=ridge(x, y, l2.lam), lasso_at_lam=lasso(x, y, l1.lam), tau=tau, b=b,
        map_gaussian=map_estimate(x, y, sigma, tau, "l2"), map_laplace=map_estimate(x, y, sigma, b, "l1"),
        ridge_path=np.vstack([ridge(x, y, lams), w_hat]), lasso_path=np.vstack([coefs.T, w_hat]),
        path_lams=np.append(lams, 0.0),
    )  # fmt: skip


# --- coefficient paths on a regression with many features ----------------------------------------


def regression(n_samples: int, n_features: int, n_informative: int, rho: float, noise: float, seed: int):
    """Seeded train and test sets (X standardized on the train set, y centred) with AR(1) feature
    correlation corr(xᵢ, xⱼ) = ρ^|i−j| and n_informative nonzero true coefficients (±0.5…2)."""
    if not 1 <= n_informative <= n_features <= MAX_FEATURES:
        raise ValueError(f"need 1 <= n_informative <= n_features <= {MAX_FEATURES}; got {n_informative}, {n_features}")
    if not 10 <= n_samples <= MAX_SAMPLES:
        raise ValueError(f"n_samples must be in [10, {MAX_SAMPLES}]; got {n_samples}")
    rng = np.random.default_rng(seed)
    idx = np.arange(n_features)
    cov = rho ** np.abs(idx[:, None] - idx[None, :])
    chol = np.linalg.cholesky(cov + 1e-12 * np.eye(n_features))
    coef = np.zeros(n_features)
    support = rng.choice(n_features, n_informative, replace=False)
    coef[support] = rng.uniform(0.5, 2.0, n_informative) * rng.choice([-1.0, 1.0], n_informative)
    x_all = rng.standard_normal((2 * n_samples, n_features)) @ chol.T
    y_all = x_all @ coef + noise * rng.standard_normal(2 * n_samples)
    xtr, xte, ytr, yte = x_all[:n_samples], x_all[n_samples:], y_all[:n_samples], y_all[n_samples:]
    mu, sd, ym = xtr.mean(0), xtr.std(0), ytr.mean()
    # coefficients live on the standardized scale: the true ones are rescaled to match
    return (xtr - mu) / sd, ytr - ym, (xte - mu) / sd, yte - ym, coef * sd


@dataclass(frozen=True)
class Paths:
    """Lasso and ridge coefficient paths with train / held-out mean squared errors."""

    true_coef: np.ndarray  # (p,) on the standardized scale
    lasso_alphas: np.ndarray  # (m,) decreasing
    lasso_coefs: np.ndarray  # (m, p)
    lasso_nonzero: np.ndarray  # (m,)
    lasso_train_mse: np.ndarray  # (m,)
    lasso_test_mse: np.ndarray  # (m,)
    ridge_alphas: np.ndarray  # (m,) decreasing
    ridge_coefs: np.ndarray  # (m, p)
    ridge_train_mse: np.ndarray
    ridge_test_mse: np.ndarray
    ols_test_mse: float
    converged: bool


def paths(
    n_samples: int = 100, n_features: int = 20, n_informative: int = 5, rho: float = 0.5, noise: float = 1.0,
    seed: int = 0, n_alphas: int = 60,
) -> Paths:  # fmt: skip
    """Lasso path (sklearn.linear_model.lasso_path, coordinate descent) from λ_max = ‖Xᵀy‖∞/n down
    three decades, and the ridge closed form (XᵀX/n + λI)⁻¹Xᵀy/n over λ ∈ d_max·[10⁻⁴, 10²]."""
    xtr, ytr, xte, yte, coef = regression(n_samples, n_features, n_informative, rho, noise, seed)
    n = n_samples
    lam_max = np.abs(xtr.T @ ytr).max() / n
    la = lam_max * np.logspace(0, -3, n_alphas)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        _, lc, *_ = lasso_path(xtr, ytr, alphas=la, tol=1e-8, max_iter=20_000)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    lc = lc.T  # (m, p)
    d_max = np.linalg.norm(xtr, 2) ** 2 / n
    ra = d_max * np.logspace(2, -4, n_alphas)
    rc = ridge(xtr, ytr, ra)  # (m, p)

    def mse(c, xs, ys):
        r = ys[None, :] - c @ xs.T
        return np.mean(r * r, axis=1)

    ols = np.linalg.lstsq(xtr, ytr, rcond=None)[0]
    return Paths(
        true_coef=coef, lasso_alphas=la, lasso_coefs=lc, lasso_nonzero=(np.abs(lc) > 0).sum(1),
        lasso_train_mse=mse(lc, xtr, ytr), lasso_test_mse=mse(lc, xte, yte), ridge_alphas=ra, ridge_coefs=rc,
        ridge_train_mse=mse(rc, xtr, ytr), ridge_test_mse=mse(rc, xte, yte),
        ols_test_mse=float(mse(ols[None], xte, yte)[0]), converged=converged,
    )  # fmt: skip
