"""The regularization and dropout endpoints through the ASGI app: happy paths and 422s naming the field."""

from __future__ import annotations

import json

import numpy as np
import pytest

REG = "/api/v1/optimization/regularization"
PATH = "/api/v1/optimization/regularization-path"


def test_regularization_endpoint_matches_constrained_and_penalized(client):
    r = client.post(REG, json={"w_ols": [2.0, 0.8], "rho": 0.5, "r": 1.0, "sigma": 1.0, "n": 50, "resolution": 31})
    assert r.status_code == 200, r.text
    d = r.json()
    assert len(d["grid_loss"]) == 31 and len(d["grid_loss"][0]) == 31
    np.testing.assert_allclose(d["hessian"], [[1, 0.5], [0.5, 1]], atol=1e-12)
    assert d["l2"]["active"] and d["l1"]["active"]
    assert np.linalg.norm(d["l2"]["w"]) == pytest.approx(1.0, abs=1e-8)
    np.testing.assert_allclose(d["ridge_at_lam"], d["l2"]["w"], atol=1e-6)
    np.testing.assert_allclose(d["lasso_at_lam"], d["l1"]["w"], atol=1e-6)
    assert abs(d["l1"]["w"][1]) < 1e-10  # L1 lands on the w1 axis
    # λ = σ²/(nτ²) and λ = σ²/(nb)
    assert d["tau"] == pytest.approx(1 / np.sqrt(50 * d["l2"]["lam"]))
    assert d["b"] == pytest.approx(1 / (50 * d["l1"]["lam"]))


def test_regularization_inactive_constraint_gives_null_prior_scales(client):
    d = client.post(REG, json={"w_ols": [0.5, 0.2], "r": 3.0, "resolution": 11}).json()
    assert d["l2"]["lam"] == 0 and d["l1"]["lam"] == 0
    assert d["tau"] is None and d["b"] is None
    np.testing.assert_allclose(d["map_gaussian"], [0.5, 0.2], atol=1e-8)


@pytest.mark.parametrize(
    "body, field",
    [({"r": 0}, "r"), ({"r": 11}, "r"), ({"rho": 0.99}, "rho"), ({"w_ols": [6, 0]}, "w_ols"),
     ({"sigma": float("nan")}, "sigma"), ({"n": 5}, "n"), ({"resolution": 500}, "resolution"), ({"lam": 1}, "lam")],
)  # fmt: skip
def test_regularization_rejects_bad_input_naming_the_field(client, body, field):
    # json.dumps writes NaN as the bare token NaN, which the server's JSON parser reads
    r = client.post(REG, content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["message"].startswith(field)


def test_regularization_path_endpoint(client):
    r = client.post(PATH, json={"n_samples": 60, "n_features": 10, "n_informative": 3, "rho": 0.3, "noise": 0.5, "seed": 1, "n_alphas": 20})
    assert r.status_code == 200, r.text
    d = r.json()
    assert len(d["lasso_alphas"]) == 20 and len(d["lasso_coefs"]) == 20 and len(d["lasso_coefs"][0]) == 10
    assert d["lasso_nonzero"][0] == 0 and sum(v != 0 for v in d["true_coef"]) == 3
    assert d["lasso_alphas"] == sorted(d["lasso_alphas"], reverse=True)
    assert d["converged"] is True
    assert min(d["lasso_test_mse"]) < d["ols_test_mse"] * 1.5


@pytest.mark.parametrize(
    "body, field",
    [({"n_features": 3, "n_informative": 5}, "n_informative"), ({"n_features": 31}, "n_features"),
     ({"n_samples": 500}, "n_samples"), ({"noise": -1}, "noise"), ({"n_alphas": 1000}, "n_alphas"), ({"seed": -1}, "seed")],
)  # fmt: skip
def test_regularization_path_rejects_bad_input_naming_the_field(client, body, field):
    r = client.post(PATH, json=body)
    assert r.status_code == 422
    assert r.json()["message"].startswith(field)


DROP = "/api/v1/optimization/dropout"


def test_dropout_endpoint(client):
    body = {"p": 0.3, "width": 16, "depth": 1, "steps": 80, "n_points": 20, "n_samples": 40, "seed": 2}
    r = client.post(DROP, json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    assert len(d["x_grid"]) == len(d["mc_mean"]) == len(d["mc_std"]) == len(d["eval_pred"]) == 201
    assert len(d["samples"]) == 20 and len(d["masks"]) == 20 and len(d["masks"][0]) == 16
    assert len(d["losses"]) == 80 and len(d["x_train"]) == 20
    samples = np.array(d["samples"])
    assert samples.std(0).max() > 0  # the passes differ
    assert set(np.unique(d["masks"])) <= {0, 1}
    assert d["n_params"] == 16 + 16 + 16 + 1  # Linear(1, 16) and Linear(16, 1)
    assert client.post(DROP, json=body).json()["mc_mean"] == d["mc_mean"]  # same seed, same numbers


@pytest.mark.parametrize(
    "body, field",
    [({"p": 0.95}, "p"), ({"width": 65}, "width"), ({"depth": 3}, "depth"), ({"activation": "gelu"}, "activation"),
     ({"steps": 10_000}, "steps"), ({"n_samples": 201}, "n_samples"), ({"gap": 5}, "gap"), ({"lr": 0}, "lr"), ({"dropout": 0.1}, "dropout")],
)  # fmt: skip
def test_dropout_rejects_bad_input_naming_the_field(client, body, field):
    r = client.post(DROP, json=body)
    assert r.status_code == 422
    assert r.json()["message"].startswith(field)
