"""Calculus compute against independent references: torch.autograd, SymPy, closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
import torch

from compute import calculus_flow, calculus_graph
from compute.expressions import parse_expression

# --- gradient flow -----------------------------------------------------------------------------


def test_sigmoid_without_residual_vanishes():
    r = calculus_flow.gradient_flow(depth=30, width=64, activation="sigmoid", init="xavier", seed=0)
    n = r.layer_grad_norms
    assert n.shape == (30,)
    assert n[0] < 1e-6 * n[-1]  # orders of magnitude below the last layer
    # the backward gain per layer is about ||W|| * mean sigma' < 1: mean sigma' <= 1/4
    assert np.all(r.mean_derivative <= 0.25 + 1e-12)


def test_relu_he_residual_layernorm_stays_within_a_small_factor():
    r = calculus_flow.gradient_flow(depth=30, width=64, activation="relu", init="he",
                                    residual=True, norm="layer", seed=0)  # fmt: skip
    n = r.layer_grad_norms
    assert np.all(np.isfinite(n)) and n.max() / n.min() < 10


def test_layer_grad_norms_match_a_plain_torch_mlp():
    depth, width, seed = 5, 8, 3
    r = calculus_flow.gradient_flow(depth=depth, width=width, activation="tanh", init="he", seed=seed)
    g = torch.Generator().manual_seed(seed)
    dt = torch.float64
    x = torch.randn(calculus_flow.BATCH_SIZE, width, generator=g, dtype=dt)
    y = torch.randn(calculus_flow.BATCH_SIZE, 1, generator=g, dtype=dt)
    layers = []
    for _ in range(depth):
        lin = torch.nn.Linear(width, width, dtype=dt)
        with torch.no_grad():
            lin.weight.copy_(torch.randn(width, width, generator=g, dtype=dt) * math.sqrt(2 / width))
            lin.bias.zero_()
        layers += [lin, torch.nn.Tanh()]
    head = torch.nn.Linear(width, 1, bias=False, dtype=dt)
    with torch.no_grad():
        head.weight.copy_((torch.randn(width, 1, generator=g, dtype=dt) / math.sqrt(width)).T)
    net = torch.nn.Sequential(*layers, head)
    loss = torch.nn.functional.mse_loss(net(x), y) / 2
    loss.backward()
    ref = [m.weight.grad.norm().item() for m in layers if isinstance(m, torch.nn.Linear)]
    np.testing.assert_allclose(r.layer_grad_norms, ref, rtol=1e-10)
    assert r.loss[0] == pytest.approx(loss.item(), rel=1e-12)


def test_clipping_caps_the_norm_of_an_exploding_run():
    kw = dict(depth=20, width=32, activation="relu", init="normal", sigma=0.6, steps=3, lr=0.01, seed=1)
    free = calculus_flow.gradient_flow(**kw)
    clipped = calculus_flow.gradient_flow(**kw, clip_norm=1.0)
    assert free.total_norm[0] > 1e6  # it explodes at initialization
    assert clipped.total_norm[0] == free.total_norm[0]
    np.testing.assert_allclose(clipped.clipped_norm, 1.0)
    np.testing.assert_array_equal(free.total_norm, free.clipped_norm)


def test_same_seed_same_numbers_and_bounds():
    a = calculus_flow.gradient_flow(depth=4, width=8, activation="gelu", steps=2, seed=5)
    b = calculus_flow.gradient_flow(depth=4, width=8, activation="gelu", steps=2, seed=5)
    np.testing.assert_array_equal(a.step_grad_norms, b.step_grad_norms)
    assert a.step_grad_norms.shape == (3, 4)
    with pytest.raises(ValueError, match="steps"):
        calculus_flow.gradient_flow(depth=100, width=256, steps=50)
    with pytest.raises(ValueError, match="activation"):
        calculus_flow.gradient_flow(depth=2, width=2, activation="swish")


def test_derivative_closed_forms_match_autograd():
    z = torch.linspace(-4, 4, 101, dtype=torch.float64, requires_grad=True)
    for name in calculus_flow.ACTIVATIONS:
        (g,) = torch.autograd.grad(calculus_flow._activation(name)(z).sum(), z)
        np.testing.assert_allclose(calculus_flow._derivative(name, z.detach()), g, atol=1e-12)


# --- backprop on a graph -----------------------------------------------------------------------

TORCH_FUNCS = {
    "sigmoid": torch.sigmoid, "relu": torch.relu, "softplus": torch.nn.functional.softplus,
    "abs": torch.abs, "Abs": torch.abs, "max": torch.maximum, "min": torch.minimum,
    "Max": torch.maximum, "Min": torch.minimum, "erf": torch.erf, "const": lambda v: v,
    **{n: getattr(torch, n) for n in ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh",
                                      "tanh", "exp", "log", "sqrt")},
}  # fmt: skip


def torch_gradient(text, point):
    expr = parse_expression(text, ("x", "y", "z"))
    syms = [sympy.Symbol(n, real=True) for n in ("x", "y", "z")]
    f = sympy.lambdify(syms, expr, modules=[TORCH_FUNCS, "math"])
    args = [torch.tensor(point.get(n, 0.0), dtype=torch.float64, requires_grad=True) for n in ("x", "y", "z")]
    out = f(*args)
    out = out if torch.is_tensor(out) else torch.tensor(float(out), dtype=torch.float64)
    grads = torch.autograd.grad(out, args, allow_unused=True) if out.requires_grad else [None] * 3
    return out.item(), {n: (0.0 if g is None else g.item()) for n, g in zip(("x", "y", "z"), grads, strict=True)}


def random_expression(rng, depth=3):
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(["x", "y", "z", "x", "y", str(round(rng.uniform(0.5, 3), 2))])
    kind = rng.integers(0, 9)
    a = random_expression(rng, depth - 1)
    b = random_expression(rng, depth - 1)
    return [f"({a} + {b})", f"({a} - {b})", f"({a} * {b})", f"({a}) / (1.5 + ({b})^2)",
            f"sin({a})", f"exp(0.3*{a})", f"tanh({a})", f"sigmoid({a})*({b})", f"({a})^2"][kind]


@pytest.mark.parametrize("seed", range(12))
def test_backprop_gradients_equal_torch_autograd_and_sympy(seed):
    rng = np.random.default_rng(seed)
    text = random_expression(rng)
    point = {n: float(rng.uniform(-2, 2)) for n in ("x", "y", "z")}
    graph, b = calculus_graph.backprop(text, point)
    value, grads = torch_gradient(text, point)
    assert b.value == pytest.approx(value, rel=1e-12, abs=1e-12)
    expr = parse_expression(text, ("x", "y", "z"))
    for n in ("x", "y", "z"):
        assert b.gradient[n] == pytest.approx(grads[n], rel=1e-10, abs=1e-12), text
        s = sympy.Symbol(n, real=True)
        ref = float(expr.diff(s).subs({sympy.Symbol(k, real=True): v for k, v in point.items()}).evalf())
        assert b.gradient[n] == pytest.approx(ref, rel=1e-10, abs=1e-12), text


def test_graph_shares_a_variable_and_sums_its_gradient():
    graph, b = calculus_graph.backprop("x*y + sin(x)", {"x": 1.0, "y": 2.0})
    xs = [n for n in graph.nodes if n.op == "var" and n.label == "x"]
    assert len(xs) == 1
    assert sum(1 for c, _ in graph.edges if c == xs[0].id) == 2  # used by × and by sin
    assert b.gradient == pytest.approx({"x": 2 + math.cos(1.0), "y": 1.0})
    assert b.order[0] == len(graph.nodes) - 1 and b.grads[-1] == 1.0
    # every node's gradient is the sum over its parents of parent grad × local derivative
    for n in graph.nodes[:-1]:
        total = sum(b.grads[p] * b.local[e] for e, (c, p) in enumerate(graph.edges) if c == n.id)
        assert b.grads[n.id] == pytest.approx(total)


def test_missing_variable_is_named():
    with pytest.raises(calculus_graph.PointError, match="missing y") as e:
        calculus_graph.backprop("x*y", {"x": 1.0})
    assert e.value.variable == "y"


def test_relu_and_abs_follow_torch_conventions_away_from_kinks():
    for text in ["relu(x - y) + abs(x*z)", "max(x, y) * min(y, z)", "softplus(x) * erf(y)"]:
        point = {"x": 0.7, "y": -0.3, "z": 1.1}
        _, b = calculus_graph.backprop(text, point)
        _, ref = torch_gradient(text, point)
        for n in point:
            assert b.gradient[n] == pytest.approx(ref[n], rel=1e-12, abs=1e-14), text


def test_network_deltas_match_autograd():
    r = calculus_graph.network_backprop(np.array([0.5, -1.2, 2.0]), 0.3, hidden=4, activation="sigmoid", seed=2)
    W1 = torch.tensor(r.W1, requires_grad=True)
    b1 = torch.tensor(r.b1, requires_grad=True)
    W2 = torch.tensor(r.W2, requires_grad=True)
    b2 = torch.tensor(r.b2, requires_grad=True)
    z1 = W1 @ torch.tensor(r.x) + b1
    z1.retain_grad()
    out = W2 @ torch.sigmoid(z1) + b2
    out.retain_grad()
    loss = 0.5 * (out[0] - 0.3) ** 2
    loss.backward()
    assert r.loss == pytest.approx(loss.item(), rel=1e-14)
    np.testing.assert_allclose(r.delta2, out.grad, rtol=1e-13)
    np.testing.assert_allclose(r.delta1, z1.grad, rtol=1e-13)
    for mine, ref in [(r.dW1, W1), (r.db1, b1), (r.dW2, W2), (r.db2, b2)]:
        np.testing.assert_allclose(mine, ref.grad, rtol=1e-13)


# --- derivatives and finite differences ----------------------------------------------------------

from compute import calculus  # noqa: E402


def test_derivative_view_sin_closed_form():
    r = calculus.derivative_view("sin(x)", 1.0, (-3, 3), secant_h=0.1)
    assert r.df0 == pytest.approx(math.cos(1.0), rel=1e-15)
    np.testing.assert_allclose(r.df, np.cos(r.x), atol=1e-15)
    np.testing.assert_allclose(r.tangent, math.sin(1) + math.cos(1) * (r.x - 1), atol=1e-14)
    assert r.secant_forward == pytest.approx((math.sin(1.1) - math.sin(1)) / 0.1, rel=1e-12)
    # truncation: forward error ~ |f''| h / 2 at moderate h; central ~ |f'''| h^2 / 6
    i = np.argmin(abs(r.h - 1e-3))
    assert r.forward_error[i] == pytest.approx(math.sin(1) * r.h[i] / 2, rel=0.01)
    assert r.central_error[i] == pytest.approx(math.cos(1) * r.h[i] ** 2 / 6, rel=0.01)


def test_rounding_error_blows_up_and_optima_sit_near_sqrt_and_cbrt_eps():
    r = calculus.derivative_view("exp(x)", 0.5, (-2, 2))
    best_f = r.h[np.nanargmin(r.forward_error)]
    best_c = r.h[np.nanargmin(r.central_error)]
    assert 1e-10 < best_f < 1e-6 and abs(np.log10(best_f / r.h_forward_opt)) < 1.5
    assert 1e-7 < best_c < 1e-3 and abs(np.log10(best_c / r.h_central_opt)) < 1.5
    assert r.forward_error[0] > 1e3 * np.nanmin(r.forward_error)  # h = 1e-16: rounding dominates
    assert np.nanmin(r.central_error) < 1e-3 * np.nanmin(r.forward_error)
    assert r.h_forward_opt == pytest.approx(np.finfo(float).eps ** 0.5)


def test_derivative_view_errors():
    with pytest.raises(ValueError, match="x_range"):
        calculus.derivative_view("x", 0, (1, 1))
    with pytest.raises(ValueError, match="x0"):
        calculus.derivative_view("log(x)", -1.0, (-2, 2))


# --- stability ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lr", "regime"), [(0.05, "converges"), (0.15, "oscillates"), (0.2, "stalls"), (0.25, "diverges")]
)
def test_quadratic_gd_regimes_against_2_over_lambda_max(lr, regime):
    r = calculus.quadratic_gd([1.0, 10.0], theta=30, lr=lr, start=[2.0, 1.5], steps=30)
    assert r.lr_critical == pytest.approx(0.2)
    assert r.regime == regime
    np.testing.assert_allclose(r.xy, r.closed_form, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.linalg.eigvalsh(r.hessian), [1, 10])


def test_quadratic_gd_divergence_is_data():
    r = calculus.quadratic_gd([1.0, 10.0], theta=0, lr=0.5, start=[1.0, 1.0], steps=500)
    assert r.regime == "diverges" and r.diverged_at is not None and len(r.xy) == r.diverged_at + 1
    # along e2 the factor is 1 - 0.5*10 = -4: |x_t| = 4^t (closed form)
    assert abs(r.xy[5, 1]) == pytest.approx(4.0**5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x^3 - 3*x + y^2", {(-1.0, 0.0): "saddle", (1.0, 0.0): "minimum"}),
        ("x^4 + y^4 - 4*x*y", {(-1.0, -1.0): "minimum", (0.0, 0.0): "saddle", (1.0, 1.0): "minimum"}),
        ("-(x^2) - 2*y^2", {(0.0, 0.0): "maximum"}),
        ("sin(x)*cos(y)", {(-math.pi / 2, 0.0): "minimum", (math.pi / 2, 0.0): "maximum",
                           (0.0, math.pi / 2): "saddle", (0.0, -math.pi / 2): "saddle"}),
    ],
)
def test_critical_points_closed_forms(text, expected):
    r = calculus.critical_points(text, (-2.5, 2.5), (-2.5, 2.5))
    got = {(round(p.x, 6) + 0.0, round(p.y, 6) + 0.0): p.kind for p in r.points}
    want = {(round(x, 6), round(y, 6)): k for (x, y), k in expected.items()}
    assert got == want
    if "sin" in text:  # not polynomial; the polynomial ones are symbolic unless the timeout hit
        assert r.method == "numeric"


def test_numeric_fallback_agrees_with_sympy():
    obj = __import__("compute.expressions", fromlist=["x"]).expression_objective("x^4 + y^4 - 4*x*y")
    pts = calculus._numeric_solutions(obj, (-2.0, 2.0), (-2.0, 2.0), seed=0)
    np.testing.assert_allclose(sorted(pts), [(-1, -1), (0, 0), (1, 1)], atol=1e-9)


# --- symbolic vs automatic vs numeric ------------------------------------------------------------

from compute import calculus_autodiff  # noqa: E402


def test_autodiff_torch_sympy_and_finite_differences_agree():
    r = calculus_autodiff.autodiff("sin(x)*exp(x)", 0.7, n_grid=11)
    exact = math.exp(0.7) * (math.sin(0.7) + math.cos(0.7))
    assert r.sympy == pytest.approx(exact, rel=1e-15)
    assert r.torch == pytest.approx(exact, rel=1e-14)
    assert r.sympy2 == pytest.approx(2 * math.exp(0.7) * math.cos(0.7), rel=1e-14)
    assert r.torch2 == pytest.approx(r.sympy2, rel=1e-13)
    assert abs(r.finite_difference - exact) < 1e-9  # central differences: ~eps^(2/3)


def test_autodiff_jax_path():
    pytest.importorskip("jax")
    r = calculus_autodiff.autodiff("sigmoid(x)^2 + x^3", -0.4, n_grid=101)
    assert r.jax_error is None and r.vmap_source.startswith("jax")
    assert r.jax == pytest.approx(r.sympy, rel=1e-14) and r.jax2 == pytest.approx(r.sympy2, rel=1e-12)
    s = 1 / (1 + np.exp(-r.grid))
    np.testing.assert_allclose(r.grad_on_grid, 2 * s * s * (1 - s) + 3 * r.grid**2, rtol=1e-12)
    assert r.jit_s > 0 and r.eager_s > 0


def test_autodiff_without_jax_says_so(monkeypatch):
    monkeypatch.setattr(calculus_autodiff, "jax_module", lambda: (None, "JAX is not installed"))
    r = calculus_autodiff.autodiff("x^2", 1.5, n_grid=5)
    assert r.jax is None and r.jax_error == "JAX is not installed" and r.torch == 3.0
    np.testing.assert_allclose(r.grad_on_grid, 2 * r.grid)
