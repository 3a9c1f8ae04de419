"""Regularization compute against independent references: brute force on the ball / diamond,
np.linalg.solve, sklearn's Lasso, KKT conditions, scipy.stats densities."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, stats
from sklearn.linear_model import Lasso

from compute import regularization as R


@pytest.fixture(scope="module")
def xy():
    return R.design((2.0, 0.8), 0.5, 1.0, n=50, seed=0)


def test_design_has_the_requested_gram_matrix_minimum_and_noise():
    x, y = R.design((1.5, -0.7), -0.4, 0.3, n=40, seed=7)
    np.testing.assert_allclose(x.T @ x / 40, [[1, -0.4], [-0.4, 1]], atol=1e-12)
    np.testing.assert_allclose(np.linalg.lstsq(x, y, rcond=None)[0], [1.5, -0.7], atol=1e-12)
    np.testing.assert_allclose(np.mean((y - x @ [1.5, -0.7]) ** 2), 0.3**2, rtol=1e-12)
    # L(w) is the quadratic ½(w − ŵ)ᵀH(w − ŵ) + ½σ²
    w = np.array([0.3, 2.0])
    d = w - [1.5, -0.7]
    assert R.loss(w, x, y) == pytest.approx(0.5 * d @ (x.T @ x / 40) @ d + 0.5 * 0.09, rel=1e-12)


def test_loss_gradient_matches_finite_differences(xy):
    x, y = xy
    w = np.array([0.4, -1.1])
    fd = optimize.approx_fprime(w, lambda v: float(R.loss(v, x, y)), 1e-7)
    np.testing.assert_allclose(R.loss_grad(w, x, y), fd, atol=1e-6)


def brute_on_boundary(x, y, r, norm):
    """Minimum of L on the sphere / diamond surface, by a dense scan refined with a bounded 1-D search."""
    if norm == "l2":
        curve = lambda t: r * np.array([np.cos(t), np.sin(t)])  # noqa: E731
    else:  # the diamond's perimeter, t in [0, 2π) mapped piecewise-linearly through its corners
        corners = r * np.array([[1, 0], [0, 1], [-1, 0], [0, -1], [1, 0]], dtype=float)

        def curve(t):
            s = (t % (2 * np.pi)) / (np.pi / 2)
            k = min(int(s), 3)
            return corners[k] + (s - k) * (corners[k + 1] - corners[k])

    ts = np.linspace(0, 2 * np.pi, 4001)
    vals = [float(R.loss(curve(t), x, y)) for t in ts]
    t0 = ts[int(np.argmin(vals))]
    res = optimize.minimize_scalar(lambda t: float(R.loss(curve(t), x, y)), bounds=(t0 - 0.01, t0 + 0.01),
                                   method="bounded", options={"xatol": 1e-12})  # fmt: skip
    return curve(res.x)


@pytest.mark.parametrize("norm", ["l2", "l1"])
@pytest.mark.parametrize("r", [0.3, 1.0, 1.7])
def test_slsqp_matches_a_brute_force_search_on_the_boundary(xy, norm, r):
    x, y = xy
    c = R.constrained(x, y, r, norm)
    assert c.success and c.active
    np.testing.assert_allclose(c.w, brute_on_boundary(x, y, r, norm), atol=1e-5)
    size = np.linalg.norm(c.w) if norm == "l2" else np.abs(c.w).sum()
    assert size == pytest.approx(r, abs=1e-8)


@pytest.mark.parametrize("lam", [0.05, 0.4, 1.5])
def test_ridge_at_lambda_equals_l2_constrained_at_its_norm(xy, lam):
    x, y = xy
    w_lam = np.linalg.solve(x.T @ x / len(y) + lam * np.eye(2), x.T @ y / len(y))  # independent closed form
    np.testing.assert_allclose(R.ridge(x, y, lam), w_lam, atol=1e-12)
    c = R.constrained(x, y, float(np.linalg.norm(w_lam)), "l2")
    np.testing.assert_allclose(c.w, w_lam, atol=1e-6)
    assert c.lam == pytest.approx(lam, rel=1e-5)  # λ is the KKT multiplier
    assert c.multiplier == pytest.approx(lam, rel=1e-5)  # and SLSQP's own Lagrange multiplier


@pytest.mark.parametrize("lam", [0.1, 0.6, 1.2])
def test_lasso_at_lambda_equals_l1_constrained_at_its_norm(xy, lam):
    x, y = xy
    w_lam = Lasso(alpha=lam, fit_intercept=False, tol=1e-12, max_iter=100_000).fit(x, y).coef_
    np.testing.assert_allclose(R.lasso(x, y, lam), w_lam, atol=1e-9)
    c = R.constrained(x, y, float(np.abs(w_lam).sum()), "l1")
    np.testing.assert_allclose(c.w, w_lam, atol=1e-6)
    assert c.lam == pytest.approx(lam, rel=1e-5)
    assert c.multiplier == pytest.approx(lam, rel=1e-5)


def test_l1_lands_on_an_axis_where_l2_does_not(xy):
    x, y = xy
    l1, l2 = R.constrained(x, y, 1.0, "l1"), R.constrained(x, y, 1.0, "l2")
    assert abs(l1.w[1]) < 1e-10 and l1.w[0] == pytest.approx(1.0, abs=1e-8)
    assert np.all(np.abs(l2.w) > 0.3)
    # KKT at the corner: the zero coordinate's gradient lies strictly inside [−λ, λ]
    g = R.loss_grad(l1.w, x, y)
    assert abs(g[1]) < l1.lam - 1e-3 and -g[0] == pytest.approx(l1.lam, rel=1e-9)


@pytest.mark.parametrize("norm", ["l2", "l1"])
def test_an_inactive_constraint_returns_least_squares_and_zero_lambda(xy, norm):
    x, y = xy
    c = R.constrained(x, y, 5.0, norm)
    assert not c.active and c.lam == 0.0
    np.testing.assert_allclose(c.w, [2.0, 0.8], atol=1e-6)


def test_ridge_accepts_an_array_of_lambdas(xy):
    x, y = xy
    lams = np.array([0.0, 0.1, 10.0])
    w = R.ridge(x, y, lams)
    assert w.shape == (3, 2)
    for k, lam in enumerate(lams):
        np.testing.assert_allclose(w[k], np.linalg.solve(x.T @ x / 50 + lam * np.eye(2), x.T @ y / 50), atol=1e-12)


def nlp_reference(w, x, y, sigma, scale, norm):
    """−log posterior from scipy.stats, written out independently of compute."""
    prior = stats.norm(0, scale) if norm == "l2" else stats.laplace(0, scale)
    return -stats.norm(x @ w, sigma).logpdf(y).sum() - prior.logpdf(w).sum()


@pytest.mark.parametrize("norm", ["l2", "l1"])
def test_penalized_objective_is_the_negative_log_posterior_up_to_a_constant(xy, norm):
    x, y = xy
    n, sigma, lam = len(y), 1.0, 0.7
    scale = R.prior_scale(lam, sigma, n, norm)
    pen = (lambda w: 0.5 * w @ w) if norm == "l2" else (lambda w: np.abs(w).sum())
    rng = np.random.default_rng(1)
    ws = rng.normal(0, 2, (20, 2))
    diff = [nlp_reference(w, x, y, sigma, scale, norm) - n / sigma**2 * (R.loss(w, x, y) + lam * pen(w)) for w in ws]
    assert np.ptp(diff) < 1e-9 * max(1, abs(diff[0]))  # the same constant at every w
    assert R.neg_log_posterior(ws[0], x, y, sigma, scale, norm) == pytest.approx(nlp_reference(ws[0], x, y, sigma, scale, norm), rel=1e-12)


def test_map_estimates_are_the_penalized_solutions(xy):
    x, y = xy
    n, sigma = len(y), 1.0
    for lam in (0.2, 1.1):
        w_map = R.map_estimate(x, y, sigma, R.prior_scale(lam, sigma, n, "l2"), "l2")
        np.testing.assert_allclose(w_map, R.ridge(x, y, lam), atol=1e-6)
        w_map = R.map_estimate(x, y, sigma, R.prior_scale(lam, sigma, n, "l1"), "l1")
        np.testing.assert_allclose(w_map, R.lasso(x, y, lam), atol=1e-6)
    assert R.prior_scale(0.0, sigma, n, "l2") == float("inf")


def test_geometry_ties_constrained_penalized_and_map_together():
    g = R.geometry(w_ols=(2.0, 0.8), rho=0.5, r=1.0, sigma=1.0, n=50, resolution=41)
    assert g.grid_loss.shape == (41, 41) and g.grid_loss.min() >= 0.5 - 1e-12  # ½σ² is the floor
    np.testing.assert_allclose(g.ridge_at_lam, g.l2.w, atol=1e-6)
    np.testing.assert_allclose(g.lasso_at_lam, g.l1.w, atol=1e-6)
    np.testing.assert_allclose(g.map_gaussian, g.l2.w, atol=1e-5)
    np.testing.assert_allclose(g.map_laplace, g.l1.w, atol=1e-5)
    assert g.tau == pytest.approx(1.0 / np.sqrt(50 * g.l2.lam))
    # the paths run from 0 (λ large) to ŵ (λ = 0)
    np.testing.assert_allclose(g.lasso_path[0], 0, atol=1e-12)
    np.testing.assert_allclose(g.ridge_path[-1], [2.0, 0.8])
    assert g.path_lams[-1] == 0


def test_bad_arguments_raise_with_the_values():
    with pytest.raises(ValueError, match="rho"):
        R.design((1, 1), 1.0, 1.0)
    x, y = R.design((1, 1), 0.0, 1.0)
    with pytest.raises(ValueError, match="r must be > 0; got 0"):
        R.constrained(x, y, 0.0)
    with pytest.raises(ValueError, match="n_informative"):
        R.regression(50, 3, 5, 0.5, 1.0, 0)


# --- paths on a regression with many features ---------------------------------------------------


@pytest.fixture(scope="module")
def paths():
    return R.paths(n_samples=60, n_features=30, n_informative=4, rho=0.5, noise=1.0, seed=3, n_alphas=40)


def test_regression_is_standardized_with_the_right_support():
    xtr, ytr, xte, yte, coef = R.regression(80, 12, 3, 0.6, 0.5, seed=2)
    np.testing.assert_allclose(xtr.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(xtr.std(0), 1, atol=1e-12)
    assert (coef != 0).sum() == 3 and xte.shape == (80, 12) and abs(ytr.mean()) < 1e-12
    corr = np.corrcoef(xtr.T)
    assert corr[0, 1] == pytest.approx(0.6, abs=0.15)  # AR(1): neighbours correlate ≈ ρ


def test_lasso_path_satisfies_the_kkt_conditions(paths):
    xtr, ytr, *_ = R.regression(60, 30, 4, 0.5, 1.0, 3)
    assert paths.converged
    for alpha, w in zip(paths.lasso_alphas, paths.lasso_coefs, strict=True):
        g = xtr.T @ (ytr - xtr @ w) / 60  # the correlation with the residual
        on = w != 0
        np.testing.assert_allclose(g[on], alpha * np.sign(w[on]), atol=1e-4 * max(1, alpha))
        assert np.all(np.abs(g[~on]) <= alpha * (1 + 1e-4))
    assert paths.lasso_nonzero[0] == 0 and paths.lasso_nonzero[-1] > 4  # all zero at λ_max


def test_ridge_path_is_the_closed_form(paths):
    xtr, ytr, *_ = R.regression(60, 30, 4, 0.5, 1.0, 3)
    for alpha, w in zip(paths.ridge_alphas[::7], paths.ridge_coefs[::7], strict=True):
        np.testing.assert_allclose(w, np.linalg.solve(xtr.T @ xtr / 60 + alpha * np.eye(30), xtr.T @ ytr / 60), atol=1e-10)
    assert np.all(paths.ridge_coefs != 0)  # ridge shrinks but never zeroes
    norms = np.linalg.norm(paths.ridge_coefs, axis=1)
    assert np.all(np.diff(norms) > 0)  # ‖w‖ grows as λ falls


def test_regularization_beats_least_squares_on_held_out_data(paths):
    # 30 features, 60 samples, 4 informative: least squares overfits; both penalties help
    assert paths.lasso_test_mse.min() < 0.8 * paths.ols_test_mse
    assert paths.ridge_test_mse.min() < paths.ols_test_mse
    best = int(np.argmin(paths.lasso_test_mse))
    assert paths.lasso_nonzero[best] < 30
    assert np.all(np.diff(paths.lasso_train_mse) <= 1e-12)  # training error only falls as λ shrinks
