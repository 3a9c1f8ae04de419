"""The probability API through the ASGI app: numbers against scipy/closed forms; 422s name the field."""

from typing import get_args

import numpy as np
import pytest
from scipy import stats

from compute import prob
from server.schemas import probability as sch

P = "/api/v1/probability"


def test_literals_match_compute_registries():
    assert get_args(sch.FamilyName) == tuple(prob.FAMILIES)
    assert set(get_args(sch.McTarget)) == set(prob.MC_TARGETS)


def test_distribution_happy_path_and_seed(client):
    body = {"family": "gaussian", "params": {"mu": 0, "sigma": 1}, "n_samples": 1000, "seed": 0}
    r = client.post(f"{P}/distribution", json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["mean"] == pytest.approx(0, abs=1e-12) and d["variance"] == pytest.approx(1, rel=1e-12)
    assert d["entropy_nats"] == pytest.approx(stats.norm().entropy(), abs=1e-9)
    assert len(d["samples"]) == 1000 and len(d["support"]) == len(d["density"]) == len(d["cdf"])
    assert client.post(f"{P}/distribution", json=body).json()["samples"] == d["samples"]


def test_categorical_support_is_class_indices(client):
    r = client.post(
        f"{P}/distribution",
        json={
            "family": "categorical",
            "params": {"probs": [0.2, 0.5, 0.3]},
            "n_samples": 50,
            "seed": 1,
        },
    )
    d = r.json()
    assert d["support"] == [0, 1, 2] and d["density"] == pytest.approx([0.2, 0.5, 0.3])
    assert d["entropy_nats"] == pytest.approx(stats.entropy([0.2, 0.5, 0.3]), abs=1e-12)
    assert set(d["samples"]) <= {0, 1, 2}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"family": "gaussian", "params": {"mu": 0, "sigma": -1}}, "params.sigma"),
        ({"family": "beta", "params": {"alpha": 0.01, "beta": 2}}, "params.alpha"),
        ({"family": "categorical", "params": {"probs": [0.3, 0.3]}}, "params.probs"),
        ({"family": "gaussian", "n_samples": 100_001}, "n_samples"),
        ({"family": "cauchy"}, "family"),
        ({"family": "poisson", "params": {"rate": 0}}, "params.rate"),
    ],
)
def test_distribution_422_names_the_field(client, body, field):
    r = client.post(f"{P}/distribution", json=body)
    assert r.status_code == 422, r.text
    assert field in r.json()["message"]


def test_families_lists_every_family(client):
    fams = client.get(f"{P}/families").json()["families"]
    assert [f["name"] for f in fams] == list(prob.FAMILIES)
    assert all(f["ml"] and "<math" in f["mathml"] for f in fams)


def test_bayes_diagnostic_and_coin(client):
    r = client.post(
        f"{P}/bayes/diagnostic", json={"prevalence": 0.02, "sensitivity": 0.8, "specificity": 0.9}
    )
    assert r.json()["ppv"] == pytest.approx(0.016 / (0.016 + 0.098))
    assert sum(r.json()["counts"].values()) == 1000
    r = client.post(
        f"{P}/bayes/coin",
        json={"alpha": 2, "beta": 2, "true_p": 0.7, "n_flips": 40, "seed": 3, "level": 0.9},
    )
    d = r.json()
    h = sum(d["flips"])
    assert d["alpha"][-1] == 2 + h and d["beta"][-1] == 2 + 40 - h
    assert d["upper"][-1] == pytest.approx(stats.beta.ppf(0.95, 2 + h, 42 - h), rel=1e-9)
    assert len(d["density"]) == 41
    bad = client.post(f"{P}/bayes/diagnostic", json={"prevalence": 1.5})
    assert bad.status_code == 422 and "prevalence" in bad.json()["message"]
    bad = client.post(f"{P}/bayes/coin", json={"n_flips": 1000, "resolution": 501})
    assert bad.status_code == 422 and "n_flips" in bad.json()["message"]
    bad = client.post(f"{P}/bayes/coin", json={"n_flips": 5000})
    assert bad.status_code == 422 and "n_flips" in bad.json()["message"]


def test_mle_endpoints(client):
    d = client.post(
        f"{P}/mle/gaussian", json={"mu": 1, "sigma": 2, "n_samples": 200, "seed": 0}
    ).json()
    x = np.array(d["samples"])
    assert d["mle_mu"] == pytest.approx(x.mean()) and d["mle_sigma"] == pytest.approx(x.std(ddof=0))
    assert d["max_loglik"] == pytest.approx(
        stats.norm(x.mean(), x.std()).logpdf(x).sum(), rel=1e-10
    )
    assert np.nanmax(np.array(d["loglik"], float)) <= d["max_loglik"] + 1e-9
    d = client.post(
        f"{P}/mle/logistic",
        json={"w": 2, "b": -0.5, "n_samples": 100, "seed": 1, "probe_w": 1, "probe_b": 0.2},
    ).json()
    assert d["probe_nll"] == pytest.approx(d["probe_cross_entropy"], rel=1e-12)
    assert d["mle_nll"] <= min(d["nll_curve"]) + 1e-12
    bad = client.post(f"{P}/mle/gaussian", json={"sigma": 0})
    assert bad.status_code == 422 and "sigma" in bad.json()["message"]


def test_clt_and_minibatch(client):
    d = client.post(
        f"{P}/clt/means",
        json={"family": "exponential", "params": {"rate": 2}, "n": 30, "n_means": 3000, "seed": 0},
    ).json()
    assert d["mean"] == 0.5 and d["sd"] == pytest.approx(0.5 / np.sqrt(30))
    assert np.std(d["means"]) == pytest.approx(d["sd"], rel=0.06)
    bad = client.post(f"{P}/clt/means", json={"family": "exponential", "n": 1000, "n_means": 20000})
    assert bad.status_code == 422 and "n × n_means" in bad.json()["message"]
    bad = client.post(f"{P}/clt/means", json={"family": "binomial", "params": {"n": 0, "p": 0.5}})
    assert bad.status_code == 422 and "params.n" in bad.json()["message"]
    d = client.post(f"{P}/clt/minibatch", json={"max_batch": 64, "n_batches": 1000}).json()
    assert d["batch_sizes"] == [1, 2, 4, 8, 16, 32, 64]
    np.testing.assert_allclose(d["theory"], d["trace_sigma"] / np.array(d["batch_sizes"]))


def test_bias_variance_and_monte_carlo(client):
    d = client.post(
        f"{P}/bias-variance", json={"max_degree": 10, "n_resamples": 300, "degree": 4, "n_show": 5}
    ).json()
    tot = np.array(d["bias2"]) + np.array(d["variance"]) + d["noise"]
    np.testing.assert_allclose(tot, d["test_error"], rtol=0.08)
    assert len(d["fits"]) == 5 and len(d["fits"][0]) == len(d["x_test"])
    bad = client.post(f"{P}/bias-variance", json={"max_degree": 5, "degree": 9})
    assert bad.status_code == 422 and "degree" in bad.json()["message"]
    d = client.post(f"{P}/monte-carlo", json={"target": "pi", "n_samples": 20000, "seed": 0}).json()
    assert abs(d["final"] - np.pi) < 4 * d["final_std_error"] and len(d["points"]) == 2000
    assert -0.65 < d["slope"] < -0.35
    bad = client.post(f"{P}/monte-carlo", json={"n_samples": 10**7})
    assert bad.status_code == 422 and "n_samples" in bad.json()["message"]
