"""The landscapes API through the ASGI app: numbers equal the compute layer's and independent
references, nulls for divergence, and 422s that name the field."""

from __future__ import annotations

import math

import numpy as np
import pytest

from compute import landscapes
from server.schemas import optimization_landscapes as schemas

LAND = "/api/v1/optimization/landscape"
SADDLE = "/api/v1/optimization/saddle"


def test_literals_match_compute_registries():
    assert schemas.Model.__args__ == landscapes.MODELS
    assert schemas.DatasetName.__args__ == landscapes.DATASETS
    assert schemas.Activation.__args__ == landscapes.ACTIVATIONS
    assert schemas.Directions.__args__ == landscapes.DIRECTIONS


def test_logistic_landscape_is_convex_and_matches_numpy(client):
    body = {"model": "logistic", "dataset": "moons", "n_samples": 80, "steps": 60, "resolution": 11, "span": 2, "seed": 4}
    r = client.post(LAND, json=body)
    assert r.status_code == 200, r.text
    d = r.json()
    z = np.array(d["z"])
    assert z.shape == (11, 11) and d["n_params"] == 3 and d["layer_shapes"] == [[1, 2]]
    assert d["nonconvex_fraction"] == 0 and d["perm_loss"] is None and d["perm_units"] is None
    assert (z[:, 2:] - 2 * z[:, 1:-1] + z[:, :-2]).min() >= -1e-10
    X, y = landscapes.load_data("moons", 80, 0.2, 4)
    theta = np.array(d["theta_star"]) + d["alphas"][9] * np.array(d["d1"]) + d["betas"][2] * np.array(d["d2"])
    s = X @ theta[:2] + theta[2]
    ref = np.mean(np.logaddexp(0, s) - y * s)
    assert z[2, 9] == pytest.approx(ref, rel=1e-12)
    assert d["trajectory"]["alpha"][-1] == 0 and d["trajectory"]["beta"][-1] == 0
    assert d["final_loss"] == pytest.approx(d["train_loss"][-1]) and len(d["train_loss"]) == 61


def test_mlp_landscape_perm_line_and_filter_norms(client):
    body = {"model": "mlp", "hidden": 6, "depth": 2, "steps": 80, "resolution": 9, "seed": 1}
    d = client.post(LAND, json=body).json()
    assert d["n_params"] == 6 * 2 + 6 + 6 * 6 + 6 + 6 + 1
    a, b = d["perm_loss"][0], d["perm_loss"][-1]
    assert a == pytest.approx(b, rel=1e-12) and max(d["perm_loss"]) > a
    theta, d1 = np.array(d["theta_star"]), np.array(d["d1"])
    w1, dw1 = theta[:12].reshape(6, 2), d1[:12].reshape(6, 2)
    np.testing.assert_allclose(np.linalg.norm(dw1, axis=1), np.linalg.norm(w1, axis=1), rtol=1e-12)
    assert not d1[12:18].any()  # first-layer biases: direction 0
    r = landscapes.landscape(**{**schemas.LandscapeRequest().model_dump(), **body})
    np.testing.assert_array_equal(np.array(d["z"]), r.z)


def test_saddle_api(client):
    r = client.post(SADDLE, json={"start": [1.5, 0], "steps": 300, "n_noisy": 4, "seed": 0})
    assert r.status_code == 200, r.text
    d = r.json()
    names = [run["name"] for run in d["runs"]]
    assert names == ["gd", "momentum", "noisy", "noisy", "noisy", "noisy"]
    assert max(abs(v) for v in d["runs"][0]["y"]) == 0 and d["runs"][0]["escaped_at"] is None
    assert all(run["escaped_at"] is not None for run in d["runs"][2:])
    assert d["predicted_escape_gd"] is None and d["saddle_eigvals"] == [2, -2]
    assert d["minima"][0][1] == pytest.approx(math.sqrt(2))
    assert len(d["grid"]) == len(d["z"]) == landscapes.SADDLE_GRID
    d = client.post(SADDLE, json={"start": [1.5, 1e-8]}).json()
    assert d["runs"][1]["escaped_at"] is not None and d["runs"][0]["escaped_at"] is None
    assert d["predicted_escape_gd"] == pytest.approx(math.log(1e8) / math.log(1.04))


def test_saddle_divergence_is_null_not_500(client):
    d = client.post(SADDLE, json={"lr": 0.5, "noise_std": 2, "momentum": 0.99, "steps": 200, "n_noisy": 10}).json()
    hit = [run for run in d["runs"] if run["diverged_at"] is not None]
    assert hit
    for run in hit:
        assert run["y"][run["diverged_at"]] is None and run["y"][0] is not None


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (LAND, {"model": "cnn"}, "model"),
        (LAND, {"dataset": "digits"}, "dataset"),
        (LAND, {"resolution": 42}, "resolution"),
        (LAND, {"resolution": 2}, "resolution"),
        (LAND, {"span": 0}, "span"),
        (LAND, {"span": 5.5}, "span"),
        (LAND, {"hidden": 13}, "hidden"),
        (LAND, {"depth": 4}, "depth"),
        (LAND, {"steps": 301}, "steps"),
        (LAND, {"n_samples": 301}, "n_samples"),
        (LAND, {"lr": 0}, "lr"),
        (LAND, {"momentum": 1}, "momentum"),
        (LAND, {"noise": "nan"}, "noise"),
        (LAND, {"directions": "hessian"}, "directions"),
        (LAND, {"seed": -1}, "seed"),
        (LAND, {"width": 8}, "width"),
        (SADDLE, {"start": [2.5, 0]}, "start"),
        (SADDLE, {"start": [0]}, "start"),
        (SADDLE, {"lr": 0.6}, "lr"),
        (SADDLE, {"steps": 2001}, "steps"),
        (SADDLE, {"noise_std": -0.1}, "noise_std"),
        (SADDLE, {"n_noisy": 21}, "n_noisy"),
        (SADDLE, {"momentum": 0.995}, "momentum"),
    ],
)
def test_422_names_the_field(client, url, body, field):
    r = client.post(url, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["message"].startswith(field)
