"""Built-in test functions against independent oracles: sympy derivatives and torch.autograd."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
import torch

from compute.surfaces import FUNCTIONS, Objective, ParamSpec, get_function, surface_grid

X, Y, K = sp.symbols("x y k")

# The formulas as the brief states them, written again for the oracle.
SYMPY = {
    "quadratic": sp.Rational(1, 2) * (X**2 + K * Y**2),
    "rosenbrock": (1 - X) ** 2 + 100 * (Y - X**2) ** 2,
    "beale": (sp.Rational(3, 2) - X + X * Y) ** 2
    + (sp.Rational(9, 4) - X + X * Y**2) ** 2
    + (sp.Rational(21, 8) - X + X * Y**3) ** 2,
    "himmelblau": (X**2 + Y - 11) ** 2 + (X + Y**2 - 7) ** 2,
    "saddle": X**2 - Y**2,
    "booth": (X + 2 * Y - 7) ** 2 + (2 * X + Y - 5) ** 2,
    "rastrigin": 20 + X**2 - 10 * sp.cos(2 * sp.pi * X) + Y**2 - 10 * sp.cos(2 * sp.pi * Y),
}

TORCH = {
    "quadratic": lambda x, y, k: 0.5 * (x**2 + k * y**2),
    "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
    "beale": lambda x, y: (
        (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2
    ),
    "himmelblau": lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
    "saddle": lambda x, y: x**2 - y**2,
    "booth": lambda x, y: (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2,
    "rastrigin": lambda x, y: (
        20 + x**2 - 10 * torch.cos(2 * math.pi * x) + y**2 - 10 * torch.cos(2 * math.pi * y)
    ),
}

NAMES = list(FUNCTIONS)


def _close(a, b, rtol=1e-10):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * max(1.0, float(np.abs(b).max())))


def _points(obj: Objective, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(*obj.x_range, size=n)
    y = rng.uniform(*obj.y_range, size=n)
    return x, y


def test_registry_is_the_brief():
    assert NAMES == [
        "quadratic",
        "rosenbrock",
        "beale",
        "himmelblau",
        "saddle",
        "booth",
        "rastrigin",
    ]
    for name, spec in FUNCTIONS.items():
        assert spec.name == name and spec.latex and spec.description
        assert "\n" not in spec.description
        obj = get_function(name)
        assert obj.name == name and obj.latex and obj.gradient_latex
        assert obj.x_range[0] < obj.x_range[1] and obj.y_range[0] < obj.y_range[1]
        for pname, p in spec.params.items():
            assert p.lo <= p.default <= p.hi, pname
    assert FUNCTIONS["quadratic"].params["k"] == ParamSpec(
        10.0, 1.0, 1000.0, FUNCTIONS["quadratic"].params["k"].description
    )


@pytest.mark.parametrize("name", NAMES)
def test_value_gradient_hessian_match_sympy(name):
    params = {"k": 37.5} if name == "quadratic" else {}
    obj = get_function(name, **params)
    expr = SYMPY[name].subs(K, 37.5)
    want_f = sp.lambdify((X, Y), expr, "numpy")
    want_g = [sp.lambdify((X, Y), sp.diff(expr, v), "numpy") for v in (X, Y)]
    h = sp.hessian(expr, (X, Y))
    want_h = [sp.lambdify((X, Y), h[i, j], "numpy") for i, j in ((0, 0), (0, 1), (1, 1))]
    x, y = _points(obj, 50, seed=len(name))
    _close(obj.f(x, y), want_f(x, y))
    for got, want in zip(obj.grad(x, y), want_g, strict=True):
        _close(got, np.broadcast_to(want(x, y), x.shape))
    for got, want in zip(obj.hess(x, y), want_h, strict=True):
        _close(got, np.broadcast_to(want(x, y), x.shape))


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_torch_autograd(name):
    obj = get_function(name)
    x, y = _points(obj, 40, seed=100 + len(name))
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ty = torch.tensor(y, dtype=torch.float64, requires_grad=True)
    args = (tx, ty, 10.0) if name == "quadratic" else (tx, ty)
    f = TORCH[name](*args)
    gx, gy = torch.autograd.grad(f.sum(), (tx, ty))
    _close(obj.f(x, y), f.detach().numpy())
    fx, fy = obj.grad(x, y)
    _close(fx, gx.numpy())
    _close(fy, gy.numpy())


@pytest.mark.parametrize("name", NAMES)
def test_minima_are_stationary_with_known_values(name):
    obj = get_function(name)
    known_value = {"rosenbrock": 0.0, "beale": 0.0, "himmelblau": 0.0, "booth": 0.0}
    for mx, my in obj.minima:
        fx, fy = obj.grad(mx, my)
        assert abs(float(fx)) < 1e-9 and abs(float(fy)) < 1e-9
        fxx, fxy, fyy = (float(v) for v in obj.hess(mx, my))
        assert fxx > 0 and fxx * fyy - fxy**2 > 0  # a strict local minimum
        assert float(obj.f(mx, my)) == pytest.approx(known_value.get(name, 0.0), abs=1e-12)
    for sx, sy in FUNCTIONS[name].saddle_points:
        fx, fy = obj.grad(sx, sy)
        assert float(fx) == 0.0 and float(fy) == 0.0
        fxx, fxy, fyy = (float(v) for v in obj.hess(sx, sy))
        assert fxx * fyy - fxy**2 < 0


def test_latex_renders_to_mathml():
    from latex2mathml.converter import convert

    for name, spec in FUNCTIONS.items():
        obj = get_function(name)
        for tex in (spec.latex, obj.latex, *obj.gradient_latex):
            assert "merror" not in convert(tex), (name, tex)


def test_minima_counts():
    assert len(get_function("himmelblau").minima) == 4
    assert get_function("saddle").minima == ()
    assert FUNCTIONS["saddle"].saddle_points == ((0.0, 0.0),)


def test_outputs_broadcast_to_the_inputs():
    for name in NAMES:
        obj = get_function(name)
        x = np.linspace(-1, 1, 3)[:, None]  # (3, 1)
        y = np.linspace(-1, 1, 4)[None, :]  # (1, 4)
        assert obj.f(x, y).shape == (3, 4)
        assert all(g.shape == (3, 4) for g in obj.grad(x, y))
        assert all(h.shape == (3, 4) for h in obj.hess(x, y))
        assert np.shape(obj.f(0.5, 0.25)) == ()


def test_params_change_the_function_and_latex():
    obj = get_function("quadratic", k=100)
    assert float(obj.f(0.0, 1.0)) == 50.0
    assert obj.params == {"k": 100.0}
    assert "100" in obj.latex


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("quadratic", {"k": 0}, "k must be in [1, 1000]; got 0"),
        ("quadratic", {"k": 1001.5}, "k must be in [1, 1000]; got 1001.5"),
        ("quadratic", {"k": float("nan")}, "k must be in [1, 1000]; got nan"),
        ("quadratic", {"k": "3"}, "k must be a number"),
        ("quadratic", {"c": 1}, "unknown parameter 'c'"),
        ("rosenbrock", {"k": 3}, "unknown parameter 'k'"),
        ("nope", {}, "unknown function 'nope'"),
    ],
)
def test_get_function_errors_name_value_and_bound(name, params, message):
    with pytest.raises(ValueError, match=None) as e:
        get_function(name, **params)
    assert message in str(e.value)


def test_grid_orientation_and_values():
    obj = get_function("quadratic", k=3)
    g = surface_grid(obj, (-1.0, 2.0), (0.0, 1.0), 7)
    assert g.x.shape == (7,) and g.y.shape == (7,) and g.z.shape == (7, 7)
    assert g.x[0] == -1.0 and g.x[-1] == 2.0 and g.y[0] == 0.0 and g.y[-1] == 1.0
    i, j = 2, 5
    assert g.z[i, j] == pytest.approx(0.5 * (g.x[j] ** 2 + 3 * g.y[i] ** 2))
    # rows follow y: along a row only x changes
    assert np.all(np.diff(g.z[0, 3:]) > 0)


def test_grid_keeps_non_finite_values():
    obj = Objective(
        name="log",
        latex=r"\log x",
        f=lambda x, y: np.log(x) + 0 * y,
        grad=lambda x, y: (1 / x + 0 * y, 0 * x + 0 * y),
        hess=lambda x, y: (-1 / x**2 + 0 * y, 0 * x, 0 * x),
    )
    g = surface_grid(obj, (-1.0, 1.0), (0.0, 1.0), 5)
    assert np.isnan(g.z[:, 0]).all() and np.isneginf(g.z[:, 2]).all()
    assert np.isfinite(g.z[:, 4]).all()


def test_grid_broadcasts_a_constant():
    obj = Objective("c", "1", lambda x, y: 1.0, lambda x, y: (0.0, 0.0), lambda x, y: (0, 0, 0))
    assert surface_grid(obj, (0, 1), (0, 1), 3).z.shape == (3, 3)


@pytest.mark.parametrize(
    ("x_range", "y_range", "resolution", "message"),
    [
        ((0, 1), (0, 1), 1, "resolution must be in [2, 1000]; got 1"),
        ((0, 1), (0, 1), 1001, "resolution must be in [2, 1000]; got 1001"),
        ((0, 1), (0, 1), 2.5, "resolution must be an integer"),
        ((1, 0), (0, 1), 10, "x_range must have x_range[0] < x_range[1]"),
        ((0, 1), (0, float("inf")), 10, "y_range must be finite"),
        ((0, 1, 2), (0, 1), 10, "x_range must have 2 entries"),
    ],
)
def test_grid_validation(x_range, y_range, resolution, message):
    with pytest.raises(ValueError) as e:
        surface_grid(get_function("booth"), x_range, y_range, resolution)
    assert message in str(e.value)


def test_grid_far_out_does_not_warn():
    # pytest turns warnings into errors: overflow far from the window must stay silent
    g = surface_grid(get_function("rosenbrock"), (-1e200, 1e200), (-1e200, 1e200), 3)
    assert np.isinf(g.z).any()
