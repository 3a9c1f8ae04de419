"""compute/prob.py against scipy.stats, torch and closed forms."""

import numpy as np
import pytest
import torch
from scipy import stats

from compute import prob

CASES = [
    ("gaussian", {"mu": 1.5, "sigma": 2.0}, lambda p: stats.norm(p["mu"], p["sigma"])),
    ("bernoulli", {"p": 0.3}, lambda p: stats.bernoulli(p["p"])),
    ("binomial", {"n": 20, "p": 0.35}, lambda p: stats.binom(p["n"], p["p"])),
    (
        "categorical",
        {"probs": [0.1, 0.2, 0.3, 0.4]},
        lambda p: stats.rv_discrete(values=(np.arange(4), p["probs"])),
    ),
    (
        "uniform",
        {"low": -2.0, "high": 3.0},
        lambda p: stats.uniform(p["low"], p["high"] - p["low"]),
    ),
    ("laplace", {"mu": 0.5, "b": 1.5}, lambda p: stats.laplace(p["mu"], p["b"])),
    ("beta", {"alpha": 2.5, "beta": 0.7}, lambda p: stats.beta(p["alpha"], p["beta"])),
    ("poisson", {"rate": 7.5}, lambda p: stats.poisson(p["rate"])),
    ("exponential", {"rate": 2.0}, lambda p: stats.expon(scale=1 / p["rate"])),
]


@pytest.mark.parametrize(("family", "params", "ref"), CASES, ids=[c[0] for c in CASES])
def test_distribution_matches_scipy(family, params, ref):
    r = prob.distribution(family, params, n_samples=20_000, seed=3)
    d = ref(params)
    assert r.mean == pytest.approx(d.mean(), abs=1e-9, rel=1e-9)
    assert r.variance == pytest.approx(d.var(), abs=1e-9, rel=1e-9)
    assert r.entropy_nats == pytest.approx(float(d.entropy()), abs=1e-9)
    dens = d.pmf(r.support) if r.discrete else d.pdf(r.support)
    np.testing.assert_allclose(r.density, dens, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(r.cdf, d.cdf(r.support), rtol=1e-9, atol=1e-12)
    # the sample agrees with the law (loose: 20k draws), and the seed fixes it bit for bit
    assert abs(r.sample_mean - d.mean()) < 5 * np.sqrt(d.var() / 20_000) + 1e-12
    np.testing.assert_array_equal(r.samples, prob.distribution(family, params, 20_000, 3).samples)
    assert not np.array_equal(r.samples, prob.distribution(family, params, 20_000, 4).samples)


def test_poisson_large_rate_entropy():
    r = prob.distribution("poisson", {"rate": 300.0}, 10, 0)
    assert r.entropy_nats == pytest.approx(float(stats.poisson(300).entropy()), abs=1e-9)


@pytest.mark.parametrize(
    ("family", "params", "msg"),
    [
        ("gaussian", {"mu": 0, "sigma": 0}, "params.sigma must be in [0.01, 100]"),
        ("categorical", {"probs": [0.5, 0.6]}, "params.probs must sum to 1"),
        ("categorical", {"probs": [1.5, -0.5]}, "params.probs must be finite and >= 0"),
        ("uniform", {"low": 2, "high": 1}, "params.high must be > params.low"),
        ("binomial", {"n": 2.5, "p": 0.5}, "params.n must be an integer"),
        ("gaussian", {"rate": 1}, "params.rate is not a parameter"),
    ],
)
def test_bad_params_name_the_field(family, params, msg):
    with pytest.raises(ValueError, match=msg.replace("[", r"\[").replace("]", r"\]")):
        prob.check_params(family, params)


def test_diagnostic_matches_bayes_rule():
    r = prob.diagnostic(0.01, 0.9, 0.95, 1000)
    ppv = 0.9 * 0.01 / (0.9 * 0.01 + 0.05 * 0.99)
    assert r["ppv"] == pytest.approx(ppv, rel=1e-12)
    c = r["counts"]
    assert c == {
        "true_positive": 9,
        "false_negative": 1,
        "false_positive": 50,
        "true_negative": 940,
    }


def test_coin_updates_conjugate_and_ppf():
    flips = np.array([1, 0, 1, 1, 0, 1, 1, 1])
    r = prob.coin_updates(flips, 2.0, 3.0, level=0.9)
    h = np.r_[0, np.cumsum(flips)]
    t = np.arange(9)
    np.testing.assert_array_equal(r["alpha"], 2 + h)
    np.testing.assert_array_equal(r["beta"], 3 + t - h)
    np.testing.assert_allclose(r["lower"], stats.beta.ppf(0.05, 2 + h, 3 + t - h), rtol=1e-9)
    np.testing.assert_allclose(r["upper"], stats.beta.ppf(0.95, 2 + h, 3 + t - h), rtol=1e-9)
    np.testing.assert_allclose(r["density"][-1], stats.beta.pdf(r["x"], 2 + 6, 3 + 2), rtol=1e-9)


def test_gaussian_mle_is_mean_and_biased_std_and_maximizes_surface():
    x = np.random.default_rng(0).normal(2, 3, 500)
    mu, sd = prob.gaussian_mle(x)
    assert mu == pytest.approx(x.mean()) and sd == pytest.approx(
        np.sqrt(((x - x.mean()) ** 2).sum() / 500)
    )
    mus, sds = np.linspace(0, 4, 81), np.linspace(2, 4, 81)
    L = prob.gaussian_loglik_surface(x, mus, sds)
    ref = np.array([[stats.norm(m, s).logpdf(x).sum() for m in mus[::20]] for s in sds[::20]])
    np.testing.assert_allclose(L[::20, ::20], ref, rtol=1e-10)
    assert prob.gaussian_loglik_surface(x, np.array([mu]), np.array([sd]))[0, 0] >= L.max() - 1e-9


def test_logistic_nll_is_torch_bce_with_logits_and_mle_zeroes_gradient():
    x, y = prob.logistic_data(400, 1.7, -0.4, 5)
    for w, b in [(0.0, 0.0), (1.7, -0.4), (-3.0, 2.0)]:
        ref = torch.nn.functional.binary_cross_entropy_with_logits(
            torch.tensor(w * x + b, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
        )
        assert prob.logistic_nll(x, y, np.array(w), np.array(b)) == pytest.approx(
            ref.item(), rel=1e-12
        )
    w, b = prob.logistic_mle(x, y)
    p = 1 / (1 + np.exp(-(w * x + b)))
    assert abs(((p - y) * x).mean()) < 1e-5 and abs((p - y).mean()) < 1e-5


def test_monte_carlo_converges_with_half_slope():
    r = prob.monte_carlo("pi", 100_000, 0)
    assert abs(r["final"] - np.pi) < 4 * r["final_std_error"]
    assert -0.62 < r["slope"] < -0.38
    r2 = prob.monte_carlo("exp_normal", 50_000, 1)
    assert abs(r2["final"] - np.exp(0.5)) < 4 * r2["final_std_error"]


def test_clt_means_and_minibatch_variance():
    m = prob.sample_means("exponential", {"rate": 2.0}, 50, 4000, 0)
    assert m.mean() == pytest.approx(0.5, abs=0.01)
    assert m.std() == pytest.approx(0.5 / np.sqrt(50), rel=0.05)
    assert abs(stats.skew(m) - 2 / np.sqrt(50)) < 0.15
    th, srt = prob.normal_qq(m, 0.5, 0.5 / np.sqrt(50))
    np.testing.assert_allclose(
        th, stats.norm(0.5, 0.5 / np.sqrt(50)).ppf((np.arange(1, 4001) - 0.5) / 4000)
    )
    r = prob.minibatch_variance(np.array([1, 4, 16, 64]), n_batches=2000, seed=0)
    # E‖ĝ_B − ∇L‖² = tr Σ / B exactly (draws with replacement); 2000 batches: ~25% noise at B = 1
    np.testing.assert_allclose(r["measured"], r["theory"], rtol=0.3)
    assert np.polyfit(np.log([1, 4, 16, 64]), np.log(r["measured"]), 1)[0] == pytest.approx(
        -1, abs=0.1
    )


def test_bias_variance_decomposition_adds_up():
    r = prob.bias_variance(max_degree=12, n_train=30, n_resamples=400, noise=0.3, seed=0)
    total = r["bias2"] + r["variance"] + r["noise"]
    np.testing.assert_allclose(total, r["test_error"], rtol=0.06)
    assert r["bias2"][0] > 10 * r["bias2"][5]  # a constant underfits
    assert r["variance"][12] > r["variance"][3]  # high degree overfits
    # degree-d least squares equals numpy.polyfit on one resample
    y = r["y_first"]
    np.testing.assert_allclose(
        r["fits"][3, 0], np.polyval(np.polyfit(r["x"], y, 3), r["x_test"]), atol=1e-9
    )
