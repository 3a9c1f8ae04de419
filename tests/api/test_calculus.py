"""The calculus API through the ASGI app: happy paths against references, 422s naming the field."""

from __future__ import annotations

import math

import pytest
import torch

from compute import calculus_flow, calculus_graph
from server.schemas import calculus as schemas

FLOW = "/api/v1/calculus/gradient-flow"
BACKPROP = "/api/v1/calculus/backprop"


def test_literals_match_compute_registries():
    assert schemas.Activation.__args__ == calculus_flow.ACTIVATIONS
    assert schemas.Init.__args__ == calculus_flow.INITS
    assert schemas.Norm.__args__ == calculus_flow.NORMS
    assert schemas.NetActivation.__args__ == calculus_graph.NET_ACTIVATIONS


def test_gradient_flow_sigmoid_vanishes(client):
    body = {"depth": 30, "width": 64, "activation": "sigmoid", "init": "xavier", "residual": False,
            "norm": "none", "seed": 0}  # fmt: skip
    r = client.post(FLOW, json=body)
    assert r.status_code == 200, r.text
    n = r.json()["layer_grad_norms"]
    assert len(n) == 30 and n[0] < 1e-6 * n[-1]


def test_gradient_flow_relu_he_residual_layernorm_is_even(client):
    body = {"depth": 30, "width": 64, "activation": "relu", "init": "he", "residual": True,
            "norm": "layer", "seed": 0}  # fmt: skip
    d = client.post(FLOW, json=body).json()
    n = d["layer_grad_norms"]
    assert len(n) == 30 and max(n) / min(n) < 10
    assert d["init_std"] == pytest.approx(math.sqrt(2 / 64))


def test_gradient_flow_clipping(client):
    body = {"depth": 20, "width": 32, "activation": "relu", "init": "normal", "sigma": 0.6,
            "steps": 3, "clip_norm": 1.0}  # fmt: skip
    d = client.post(FLOW, json=body).json()
    assert len(d["total_norm"]) == len(d["clipped_norm"]) == len(d["step_grad_norms"]) == 4
    assert d["total_norm"][0] > 1e6 and d["clipped_norm"] == pytest.approx([1.0] * 4)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"depth": 0}, "depth"),
        ({"depth": 101}, "depth"),
        ({"width": 257}, "width"),
        ({"activation": "swish"}, "activation"),
        ({"init": "orthogonal"}, "init"),
        ({"norm": "batch"}, "norm"),
        ({"depth": 100, "width": 256, "steps": 20}, "steps"),
        ({"clip_norm": 0}, "clip_norm"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_gradient_flow_422_names_the_field(client, body, field):
    r = client.post(FLOW, json=body)
    assert r.status_code == 422
    assert field in r.json()["message"]


def test_backprop_contract_and_torch(client):
    r = client.post(BACKPROP, json={"expression": "x*y + sin(x)", "point": {"x": 1.0, "y": 2.0}})
    assert r.status_code == 200, r.text
    d = r.json()
    x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    f = x * y + torch.sin(x)
    f.backward()
    assert d["value"] == pytest.approx(f.item(), rel=1e-14)
    assert d["gradient"] == pytest.approx({"x": x.grad.item(), "y": y.grad.item()}, rel=1e-14)
    nodes = d["graph"]["nodes"]
    assert {"id", "op", "value", "grad"} <= set(nodes[0])
    assert all(len(e) == 2 for e in d["graph"]["edges"])
    assert len(d["graph"]["local"]) == len(d["graph"]["edges"])
    assert nodes[-1]["grad"] == 1.0 and nodes[-1]["value"] == pytest.approx(f.item())


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"expression": "x*y", "point": {"x": 1.0}}, "point.y", "missing y"),
        ({"expression": "x*y*z", "point": {"y": 1.0, "z": 2.0}}, "point.x", "missing x"),
        ({"expression": "x*w", "point": {"x": 1.0}}, "expression", "w"),
        ({"expression": "__import__('os')", "point": {"x": 1.0}}, "expression", ""),
        ({"expression": "x", "point": {"x": 1.0, "w": 2.0}}, "point", "w"),
        ({"expression": "", "point": {"x": 1.0}}, "expression", ""),
        ({"expression": "x", "point": {"x": 1e9}}, "point", ""),
    ],
)
def test_backprop_422_names_the_field(client, body, field, words):
    r = client.post(BACKPROP, json=body)
    assert r.status_code == 422, r.text
    msg = r.json()["message"]
    assert field in msg and words in msg


def test_network_deltas(client):
    d = client.post(BACKPROP + "/network", json={"x": [1.0, -0.5], "target": 1.0, "activation": "tanh"}).json()
    # delta2 = y_hat - y; dW2 = delta2 a1^T (closed form)
    assert d["delta2"][0] == pytest.approx(d["y_hat"] - 1.0)
    assert d["dW2"][0] == pytest.approx([d["delta2"][0] * a for a in d["a1"]])
    r = client.post(BACKPROP + "/network", json={"x": [], "target": 1.0})
    assert r.status_code == 422 and "x" in r.json()["message"]


def test_derivatives_endpoint(client):
    r = client.post("/api/v1/calculus/derivatives", json={"expression": "x^3", "x0": 2.0, "x_range": [-3, 3], "h": 0.1})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["df0"] == pytest.approx(12.0) and d["d2f0"] == pytest.approx(12.0)
    assert d["secant_central"] == pytest.approx(12.0 + 0.01, rel=1e-12)  # (x+h)^3-(x-h)^3 / 2h = 3x^2 + h^2
    assert "<math" in d["derivative_mathml"] and len(d["h"]) == len(d["forward_error"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"expression": "x +"}, "expression"),
        ({"expression": "sin(y)"}, "expression"),
        ({"expression": "log(x)", "x0": -1.0}, "x0"),
        ({"expression": "x", "x_range": [2, 1]}, "x_range"),
        ({"expression": "x", "h": 0}, "h"),
        ({"expression": "x", "x0": 1e5}, "x0"),
    ],
)
def test_derivatives_422(client, body, field):
    r = client.post("/api/v1/calculus/derivatives", json=body)
    assert r.status_code == 422, r.text
    assert field in r.json()["message"]


def test_stability_quadratic_endpoint(client):
    d = client.post("/api/v1/calculus/stability/quadratic", json={"eigvals": [2, 4], "theta": 0, "lr": 0.3, "start": [1, 1], "steps": 10}).json()
    assert d["lr_critical"] == pytest.approx(0.5) and d["regime"] == "oscillates"
    assert d["x"] == pytest.approx([0.4**t for t in range(11)])  # 1 - 0.3*2
    assert d["y"] == pytest.approx([(-0.2) ** t for t in range(11)])  # 1 - 0.3*4
    r = client.post("/api/v1/calculus/stability/quadratic", json={"lr": 0})
    assert r.status_code == 422 and "lr" in r.json()["message"]


def test_critical_points_endpoint(client):
    r = client.post("/api/v1/calculus/stability/critical-points", json={"expression": "x^2 - y^2", "resolution": 21})
    assert r.status_code == 200, r.text
    d = r.json()
    assert [(p["x"], p["y"], p["kind"]) for p in d["points"]] == [(0, 0, "saddle")]
    assert len(d["z"]) == 21 and d["method"] in ("symbolic", "numeric")
    for body, field in [({"expression": "x^"}, "expression"), ({"expression": "x", "x_range": [1, 0]}, "x_range")]:
        r = client.post("/api/v1/calculus/stability/critical-points", json=body)
        assert r.status_code == 422 and field in r.json()["message"]


def test_autodiff_endpoint(client):
    r = client.post("/api/v1/calculus/autodiff", json={"expression": "x^3", "x0": 2.0})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["sympy"] == d["torch"] == 12.0 and d["sympy2"] == 12.0
    assert abs(d["finite_difference"] - 12) < 1e-8 and "<math" in d["derivative_mathml"]
    for body, field in [({"expression": "x^"}, "expression"), ({"expression": "log(x)", "x0": -1}, "x0"),
                        ({"expression": "x", "grid": [1, 1]}, "grid")]:  # fmt: skip
        r = client.post("/api/v1/calculus/autodiff", json=body)
        assert r.status_code == 422 and field in r.json()["message"]
