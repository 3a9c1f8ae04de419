"""The gradient-descent API through the ASGI app: happy paths against independent references,
and 422s whose message names the field and the bound."""

import numpy as np
import pytest
import torch


def post(client, path, body):
    return client.post(path, json=body)


def torch_adam_rosenbrock(start, lr, steps):
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=lr)
    xs = [p.detach().clone().numpy()]
    for _ in range(steps):
        opt.zero_grad()
        x, y = p[0], p[1]
        loss = (1 - x) ** 2 + 100 * (y - x**2) ** 2
        loss.backward()
        opt.step()
        xs.append(p.detach().clone().numpy())
    return np.array(xs)


def test_optimize_matches_torch_adam_through_the_api(client):
    body = {"function": {"name": "rosenbrock"}, "optimizers": [{"name": "adam", "lr": 0.02}],
            "starts": [[-1.5, 2.0], [0.5, -0.5]], "steps": 300}
    r = post(client, "/api/v1/optimize", body)
    assert r.status_code == 200, r.text
    trajs = r.json()["trajectories"]
    assert [(t["optimizer"], t["start"]) for t in trajs] == [(0, 0), (0, 1)]
    for t, start in zip(trajs, body["starts"], strict=True):
        assert len(t["x"]) == len(t["loss"]) == len(t["lr"]) == 301
        ref = torch_adam_rosenbrock(start, 0.02, 300)
        np.testing.assert_allclose(np.c_[t["x"], t["y"]], ref, rtol=0, atol=1e-8)
        assert t["diverged"] is False and t["diverged_at"] is None


def test_optimizer_major_order_and_defaults(client):
    body = {"function": {"name": "quadratic", "k": 10}, "optimizers": [{"name": "sgd", "lr": 0.05},
            {"name": "rmsprop"}], "starts": [[1, 1], [2, 0], [0, 2]], "steps": 10}
    trajs = post(client, "/api/v1/optimize", body).json()["trajectories"]
    assert [(t["optimizer"], t["start"]) for t in trajs] == [(i, s) for i in range(2) for s in range(3)]
    # sgd on 0.5(x² + 10y²): x_{t+1} = (1 - lr)·x_t, y_{t+1} = (1 - 10·lr)·y_t (closed form)
    t = trajs[1]
    np.testing.assert_allclose(t["x"], 2 * 0.95 ** np.arange(11), rtol=1e-12)
    np.testing.assert_allclose(t["y"], 0 * np.arange(11), atol=0)


def test_divergence_is_data(client):
    body = {"function": {"name": "rosenbrock"}, "optimizers": [{"name": "sgd", "lr": 1.0}],
            "starts": [[-1.5, 2.0]], "steps": 100}
    t = post(client, "/api/v1/optimize", body).json()["trajectories"][0]
    assert t["diverged"] is True and isinstance(t["diverged_at"], int)
    assert len(t["x"]) <= t["diverged_at"] + 1 < 101


def test_expression_function(client):
    body = {"function": {"expression": "x**2 + 10*y**2"}, "optimizers": [{"name": "sgd", "lr": 0.01}],
            "starts": [[1.0, 1.0]], "steps": 5}
    t = post(client, "/api/v1/optimize", body).json()["trajectories"][0]
    np.testing.assert_allclose(t["x"], 0.98 ** np.arange(6), rtol=1e-12)
    np.testing.assert_allclose(t["y"], 0.8 ** np.arange(6), rtol=1e-12)


def test_surface_orientation_and_nulls(client):
    r = post(client, "/api/v1/surface", {"function": {"name": "booth"}, "x_range": [-1, 3],
                                         "y_range": [0, 2], "resolution": 5})
    assert r.status_code == 200
    s = r.json()
    x, y, z = np.array(s["x"]), np.array(s["y"]), np.array(s["z"], float)
    np.testing.assert_allclose(x, np.linspace(-1, 3, 5))
    X, Y = np.meshgrid(x, y)
    np.testing.assert_allclose(z, (X + 2 * Y - 7) ** 2 + (2 * X + Y - 5) ** 2)
    r = post(client, "/api/v1/surface", {"function": {"expression": "log(x)"}, "x_range": [-1, 1],
                                         "y_range": [0, 1], "resolution": 3})
    assert r.status_code == 200 and r.json()["z"][0][0] is None


def test_expression_endpoint_typesets_the_gradient(client):
    r = post(client, "/api/v1/expression", {"expression": "sin(x)*cos(y)"})
    assert r.status_code == 200
    b = r.json()
    assert "cos" in b["gradient_latex"][0] and "<math" in b["gradient_mathml"][0]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"steps": 10_001}, "steps", "10000"),
        ({"starts": []}, "starts", "at least 1"),
        ({"optimizers": [{"name": "adam", "lr": 0}]}, "lr", "greater than 0"),
        ({"optimizers": [{"name": "adam", "lr": 11}]}, "lr", "10"),
        ({"optimizers": [{"name": "adam", "betas": [0.9, 1.0]}]}, "betas", "less than 1"),
        ({"optimizers": [{"name": "nadam"}]}, "name", "sgd"),
        ({"optimizers": [{"name": "sgd", "bogus": 1}]}, "bogus", "not permitted"),
        ({"optimizers": [{"name": "sgd", "nesterov": True}]}, "optimizers", "momentum"),
        ({"optimizers": [{"name": "sgd"}] * 11}, "optimizers", "at most 10"),
        ({"starts": [[0, 0]] * 257}, "starts", "at most 256"),
        ({"starts": [[0, 0]] * 256, "optimizers": [{"name": "sgd"}] * 10, "steps": 1000}, "optimizers × starts", "2000000"),
        ({"function": {"name": "quadratic", "k": 0}}, "k", "greater than or equal to 1"),
        ({"function": {}}, "function", "exactly one"),
        ({"function": {"expression": "__import__('os').system('id')"}}, "expression", ""),
        ({"function": {"expression": "9**9**9**9"}}, "expression", ""),
        ({"schedule": {"name": "step", "gamma": 2}}, "gamma", "1"),
    ],
)
def test_bad_input_is_422_naming_the_field(client, body, field, words):
    base = {"function": {"name": "rosenbrock"}, "optimizers": [{"name": "sgd"}],
            "starts": [[0.0, 0.0]], "steps": 10}
    r = post(client, "/api/v1/optimize", base | body)
    assert r.status_code == 422, r.text
    msg = r.json()["message"]
    assert field in msg and words in msg, msg


def test_non_finite_start_is_422(client):
    raw = b'{"function": {"name": "booth"}, "optimizers": [{"name": "sgd"}], "starts": [[NaN, 0]], "steps": 3}'
    r = client.post("/api/v1/optimize", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"resolution": 1001}, "resolution"),
        ({"x_range": [1, 1]}, "x_range"),
        ({"y_range": [2, -2]}, "y_range"),
    ],
)
def test_surface_bad_input(client, body, field):
    base = {"function": {"name": "booth"}, "x_range": [-1, 1], "y_range": [-1, 1], "resolution": 10}
    r = post(client, "/api/v1/surface", base | body)
    assert r.status_code == 422 and field in r.json()["message"]
