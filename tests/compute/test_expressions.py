"""compute.expressions: safe parsing, numpy values, and derivatives against torch.autograd."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy
import torch
import torch.nn.functional as F

from compute import expressions
from compute.expressions import (
    FUNCTION_NAMES,
    MAX_DEPTH,
    MAX_LENGTH,
    ExpressionError,
    expression_function_1d,
    expression_objective,
    parse_expression,
)
from compute.surfaces import Objective

_erf = np.vectorize(math.erf, otypes=[float])


def _np_sigmoid(t):
    return 1.0 / (1.0 + np.exp(-t))


# (text, numpy oracle, torch oracle, domain of x and y)
CASES = [
    (
        "sin(x)*cos(y) + 0.1*x**2",
        lambda x, y: np.sin(x) * np.cos(y) + 0.1 * x**2,
        lambda x, y: torch.sin(x) * torch.cos(y) + 0.1 * x**2,
        (-3, 3),
    ),
    (
        "exp(-(x^2 + y^2)/2)",
        lambda x, y: np.exp(-(x**2 + y**2) / 2),
        lambda x, y: torch.exp(-(x**2 + y**2) / 2),
        (-3, 3),
    ),
    (
        "sigmoid(x*y) + relu(x - y) + softplus(2*y)",
        lambda x, y: _np_sigmoid(x * y) + np.maximum(x - y, 0) + np.log1p(np.exp(2 * y)),
        lambda x, y: torch.sigmoid(x * y) + torch.relu(x - y) + F.softplus(2 * y),
        (-3, 3),
    ),
    (
        "sqrt(x**2 + y**2 + 1) + log(1 + x**2)*atan(y)",
        lambda x, y: np.sqrt(x**2 + y**2 + 1) + np.log(1 + x**2) * np.arctan(y),
        lambda x, y: torch.sqrt(x**2 + y**2 + 1) + torch.log(1 + x**2) * torch.atan(y),
        (-3, 3),
    ),
    (
        "abs(x - 2*y) + tanh(y)*sinh(x)/cosh(y)",
        lambda x, y: np.abs(x - 2 * y) + np.tanh(y) * np.sinh(x) / np.cosh(y),
        lambda x, y: torch.abs(x - 2 * y) + torch.tanh(y) * torch.sinh(x) / torch.cosh(y),
        (-3, 3),
    ),
    (
        "max(x, y) + min(x*y, 1)",
        lambda x, y: np.maximum(x, y) + np.minimum(x * y, 1),
        lambda x, y: torch.maximum(x, y) + torch.minimum(x * y, torch.ones_like(x)),
        (-3, 3),
    ),
    (
        "2**x + x^3*y - 1/(1 + y^2)",
        lambda x, y: 2**x + x**3 * y - 1 / (1 + y**2),
        lambda x, y: 2**x + x**3 * y - 1 / (1 + y**2),
        (-3, 3),
    ),
    (
        "erf(x)*asin(y/4) + acos(x/5) - e^x*pi + tan(x/3)*y",
        lambda x, y: (
            _erf(x) * np.arcsin(y / 4) + np.arccos(x / 5) - np.e**x * np.pi + np.tan(x / 3) * y
        ),
        lambda x, y: (
            torch.erf(x) * torch.asin(y / 4)
            + torch.acos(x / 5)
            - math.e**x * math.pi
            + torch.tan(x / 3) * y
        ),
        (-3, 3),
    ),
    (
        "x**y + ln(x)*exp(y) + x**0.5 - y**-2",
        lambda x, y: x**y + np.log(x) * np.exp(y) + x**0.5 - y**-2.0,
        lambda x, y: x**y + torch.log(x) * torch.exp(y) + x**0.5 - y**-2,
        (0.5, 2),
    ),
    (
        "sqrt(2)*x*y + (1 + sqrt(3))^x + x^(2/3)*log(5) - sin(pi/6)*y + 12^(1/3)*12^(1/5)",
        lambda x, y: (
            np.sqrt(2) * x * y
            + (1 + np.sqrt(3)) ** x
            + x ** (2 / 3) * np.log(5)
            - 0.5 * y
            + 12 ** (1 / 3) * 12 ** (1 / 5)
        ),
        lambda x, y: (
            math.sqrt(2) * x * y
            + (1 + math.sqrt(3)) ** x
            + x ** (2 / 3) * math.log(5)
            - 0.5 * y
            + 12 ** (1 / 3) * 12 ** (1 / 5)
        ),
        (0.5, 2),
    ),
    (
        "sin(cos(x*y)*exp(sin(y)))^2 - (x - y)^2/3",
        lambda x, y: np.sin(np.cos(x * y) * np.exp(np.sin(y))) ** 2 - (x - y) ** 2 / 3,
        lambda x, y: torch.sin(torch.cos(x * y) * torch.exp(torch.sin(y))) ** 2 - (x - y) ** 2 / 3,
        (-3, 3),
    ),
]
IDS = [case[0] for case in CASES]


def _points(domain, n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(*domain, size=(2, n))


def _torch_derivatives(fn, x, y):
    """Gradient and Hessian (fxx, fxy, fyy) per point by torch.autograd, float64."""
    tx = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    ty = torch.tensor(y, dtype=torch.float64, requires_grad=True)
    gx, gy = torch.autograd.grad(fn(tx, ty).sum(), (tx, ty), create_graph=True)

    def second(g, wrt):
        if not g.requires_grad:  # piecewise-linear pieces: the second derivative is 0
            return np.zeros_like(x)
        (d,) = torch.autograd.grad(g.sum(), (wrt,), retain_graph=True, allow_unused=True)
        return np.zeros_like(x) if d is None else d.detach().numpy()

    grad = (gx.detach().numpy(), gy.detach().numpy())
    return grad, (second(gx, tx), second(gx, ty), second(gy, ty))


@pytest.mark.parametrize(("text", "np_fn", "torch_fn", "domain"), CASES, ids=IDS)
def test_values_match_numpy(text, np_fn, torch_fn, domain):
    x, y = _points(domain)
    objective = expression_objective(text)
    np.testing.assert_allclose(objective.f(x, y), np_fn(x, y), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("text", "np_fn", "torch_fn", "domain"), CASES, ids=IDS)
def test_derivatives_match_torch_autograd(text, np_fn, torch_fn, domain):
    x, y = _points(domain, seed=1)
    objective = expression_objective(text)
    grad, hess = _torch_derivatives(torch_fn, x, y)
    for ours, theirs in zip(objective.grad(x, y), grad, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-10)
    for ours, theirs in zip(objective.hess(x, y), hess, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-9)


def test_objective_fields():
    objective = expression_objective("sin(x)*cos(y) + 0.1*x^2")
    assert isinstance(objective, Objective)
    assert objective.name == "expression"
    assert objective.x_range == objective.y_range == (-3.0, 3.0)
    x, y = sympy.symbols("x y", real=True)
    expr = sympy.sin(x) * sympy.cos(y) + sympy.Float(0.1) * x**2
    assert objective.latex == sympy.latex(expr)
    assert objective.gradient_latex == (sympy.latex(expr.diff(x)), sympy.latex(expr.diff(y)))
    assert expression_objective("sin(x)*cos(y) + 0.1*x^2") is objective  # cached


def test_constant_derivatives_broadcast():
    objective = expression_objective("x**2 + y")
    x = np.linspace(-1, 1, 6).reshape(2, 3)
    y = np.ones((2, 3))
    fx, fy = objective.grad(x, y)
    assert fx.shape == fy.shape == (2, 3) and fy.dtype == np.float64
    np.testing.assert_array_equal(fy, np.ones((2, 3)))
    for h in objective.hess(x, y):
        assert h.shape == (2, 3) and h.dtype == np.float64
    # (3, 1) with (1, 4) broadcasts to (3, 4), a scalar with a vector to the vector's shape
    fx, fy = objective.grad(np.zeros((3, 1)), np.zeros((1, 4)))
    assert fx.shape == fy.shape == (3, 4)
    assert all(a.shape == (5,) for a in objective.grad(2.0, np.zeros(5)))
    constant = expression_objective("7")
    np.testing.assert_array_equal(constant.f(x, y), np.full((2, 3), 7.0))
    assert all(np.array_equal(g, np.zeros((2, 3))) for g in constant.grad(x, y))
    assert constant.f(1.0, 2.0).shape == ()


def test_outputs_are_fresh_float_arrays():
    objective = expression_objective("x")
    x = np.arange(4.0)
    out = objective.f(x, 0.0)
    assert out is not x and not np.shares_memory(out, x)
    np.testing.assert_array_equal(objective.f(np.arange(3), np.arange(3)), [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(expression_objective("x**-1").f(np.array([2]), 0), [0.5])


def test_no_floating_point_warnings_escape():
    # filterwarnings = error would turn an overflow or invalid-value warning into a failure
    objective = expression_objective("exp(1000*x) + log(y) + sqrt(y) + 1/x")
    x = np.array([1.0, 0.0, -1.0])
    y = np.array([-1.0, 1.0, 0.0])
    value = objective.f(x, y)
    assert np.isnan(value[0]) and np.isinf(value[1])
    objective.grad(x, y)
    objective.hess(x, y)
    sig = expression_function_1d("sigmoid(x) + softplus(x)")
    np.testing.assert_allclose(sig.f(np.array([-1000.0, 1000.0])), [0.0, 1001.0])
    np.testing.assert_allclose(sig.df(np.array([-1000.0, 1000.0])), [0.0, 1.0])


def test_deterministic():
    text = "sin(x*y) + sigmoid(x - y)^2 + abs(x)*y^3"
    x, y = _points((-2, 2), n=50, seed=3)
    first = expression_objective(text)
    a = (first.f(x, y), *first.grad(x, y), *first.hess(x, y))
    expression_objective.cache_clear()
    second = expression_objective(text)
    assert second is not first
    b = (second.f(x, y), *second.grad(x, y), *second.hess(x, y))
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert first.latex == second.latex and first.gradient_latex == second.gradient_latex


def test_function_1d_matches_torch():
    fn = expression_function_1d("t^3 - 2*t + sigmoid(t)*sin(3*t)", variable="t")
    t = np.random.default_rng(4).uniform(-2, 2, 40)
    tt = torch.tensor(t, requires_grad=True)
    value = tt**3 - 2 * tt + torch.sigmoid(tt) * torch.sin(3 * tt)
    (d1,) = torch.autograd.grad(value.sum(), tt, create_graph=True)
    (d2,) = torch.autograd.grad(d1.sum(), tt)
    np.testing.assert_allclose(fn.f(t), value.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fn.df(t), d1.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(fn.d2f(t), d2.numpy(), rtol=1e-9, atol=1e-9)
    assert fn.variable == "t"
    assert fn.latex == sympy.latex(fn.expr)
    assert r"\sigma" in fn.derivative_latex
    assert expression_function_1d("x^2").df(np.array([3.0])).tolist() == [6.0]
    assert expression_function_1d("5").d2f(np.zeros((2, 2))).shape == (2, 2)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x^2 + 1", "x**2 + 1"),
        ("2^3^2", "512"),
        ("-x^2", "-x**2"),
        (" e ** x ", "exp(x)"),
        ("2 * pi", "2*pi"),
        ("ln(x)", "log(x)"),
        ("+x - -y", "x + y"),
        ("1/3", "1/3"),
    ],
)
def test_parses(text, expected):
    x, y = sympy.symbols("x y", real=True)
    assert parse_expression(text) == sympy.sympify(expected, locals={"x": x, "y": y})


def test_every_whitelisted_function_parses_and_compiles():
    for name in FUNCTION_NAMES:
        args = "x, y" if name in ("min", "max") else "x/4 + 1/2"
        objective = expression_objective(f"{name}({args})")
        value = objective.f(np.array([0.3]), np.array([0.2]))
        assert value.shape == (1,) and np.isfinite(value).all(), name


INJECTIONS = [
    "__import__('os').system('id')",
    "().__class__.__bases__[0].__subclasses__()",
    "x.__class__",
    "__builtins__",
    "lambda: 1",
    "[x for x in y]",
    "(x for x in y)",
    "{x: y}",
    "9**9**9**9",
    "1e309",
    "-1e309",
    "open('f')",
    "exec('1')",
    "eval('1')",
    "getattr(x, 'real')",
    "x if y else 1",
    "a=1",
    "(a:=1)",
    "",
    "   ",
    "x\x00",
    "x\ny",
    "x;y",
    "x # comment\n",
    "x # comment",
    "x\t",
    "x = 1",
    "x lambda",
    "x.real",
    "x.__class__.__name__",
    "__import__",
    "x__",
    "'x'",
    "b'x'",
    "f'{x}'",
    "1j",
    "True",
    "None",
    "...",
    "x[0]",
    "x < y",
    "x and y",
    "not x",
    "~x",
    "x % 2",
    "x // 2",
    "x @ y",
    "x | y",
    "x << 2",
    "sin(x=1)",
    "sin(*x)",
    "sin(**x)",
    "sin(x)(y)",
    "sin",
    "sin(x, y)",
    "max(x)",
    "x(2)",
    "pi(2)",
    "z",
    "Sin(x)",
    "xy",
    "2x",
    "x+",
    "(x",
    "x, y",
    "x**(10**100)",
    "x**11",
    "(((2**10)**10)**10)**10",
    "(((1/3)**10)**10)**10",
    "1000001",
    "1/0",
    "x/0",
    "0**-1",
    "log(0)",
    "sqrt(-1)",
    "(-8)**(1/3)",
    "(-2)**x",
    "0**x",
    "acos(2)",
    "tan(pi/2)",
    "exp(1000)",
    "sinh(1000)",
    "x" * (MAX_LENGTH + 1),
    "sin(" * 40 + "x" + ")" * 40,
    "-" * 199 + "x",
    "((((((((((" * 10 + "x" + "))))))))))" * 10,
    "\u03c0*x",
    "\uff58",  # fullwidth x: NFKC would turn it into x
    "x\u2212y",
]


@pytest.mark.parametrize("text", INJECTIONS)
def test_rejects_unsafe_or_invalid(text):
    with pytest.raises(ValueError):
        parse_expression(text)
    with pytest.raises(ValueError):
        expression_objective(text)


@pytest.mark.parametrize(
    ("text", "fragments", "column"),
    [
        ("x" * 250, ["at most 200 characters", "got 250"], None),
        ("x + os", ["name 'os'", "column 5", "use numbers, x, y, pi, e", "sin, cos"], 5),
        ("sin(x) + open(x)", ["name 'open'", "column 10"], 10),
        ("x.__class__", ["attribute access '.__class__'"], 1),
        ("2 * x % 3", ["character '%'", "column 7"], 7),
        ("x # os.system('id')", ["character '#'", "column 3"], 3),
        ("x and y", ["'and'/'or'", "column 1"], 1),
        ("1 + x^y^2000000", ["number 2000000", "|v| <= 1e6"], None),
        ("x**11", ["exponent", "is 11", "|p| <= 10"], 1),
        ("9**9**9**9", ["exponent", "|p| <= 10"], None),
        ("((7**10)**10)**10", ["1024 bits"], 1),
        ("sin(" * 31 + "x" + ")" * 31, [f"at most {MAX_DEPTH} levels", "got 32"], None),
        ("Sin(x)", ["did you mean 'sin'"], 1),
        ("x^2 ^", ["invalid syntax"], None),
        ("2x", ["invalid syntax at column 1", "2*x"], 1),
        ("x \x00", ["'\\x00'", "column 3"], 3),
        ("x\ty", ["'\\t'", "column 2"], 2),
        ("", ["empty"], None),
        ("log(0) + x", ["'log(0)'", "finite real"], 1),
        ("x - (-2)**y", ["positive base"], 5),
        ("sin(x, y)", ["takes 1 argument", "got 2"], 1),
    ],
)
def test_messages_name_token_and_bound(text, fragments, column):
    with pytest.raises(ExpressionError) as info:
        parse_expression(text)
    for fragment in fragments:
        assert fragment in str(info.value)
    if column is not None:
        assert info.value.column == column


def test_caret_columns_refer_to_the_typed_text():
    # each ^ becomes ** internally; columns must still count the user's characters
    with pytest.raises(ExpressionError) as info:
        parse_expression("x^2^2 + y^2 + q")
    assert info.value.column == 15 and "'q'" in str(info.value)


@pytest.mark.parametrize(
    ("text", "oracle"),
    [
        # SymPy would take exact roots of ever larger numbers here: minutes, or memory
        ("999999**(999999/100000)*x", lambda x, y: 999999 ** (999999 / 100000) * x),
        ("(999999*x)**(700001/999998)", lambda x, y: (999999 * x) ** (700001 / 999998)),
        ("exp(log(999999)*700001/999998)*y", lambda x, y: 999999 ** (700001 / 999998) * y),
        (
            "((999999*x)**(11/12))**(11/12)*(((999999*y)**(7/12))**(7/12))**(7/12)",
            lambda x, y: (
                ((999999 * x) ** (11 / 12)) ** (11 / 12)
                * (((999999 * y) ** (7 / 12)) ** (7 / 12)) ** (7 / 12)
            ),
        ),
        ("((999999**(1/3))**(7/11))**(5/7)*x", lambda x, y: 999999 ** (5 / 33) * x),
    ],
)
def test_numeric_roots_stay_small(text, oracle):
    x, y = _points((0.5, 2), n=8)
    np.testing.assert_allclose(expression_objective(text).f(x, y), oracle(x, y), rtol=1e-10)


def test_sealed_numbers_print_as_typed():
    assert expression_objective("x*(1 + sqrt(2))").latex == r"x \left(1 + \sqrt{2}\right)"
    assert expression_objective("log(2)^x").latex == r"\left(\log{\left(2 \right)}\right)^{x}"
    np.testing.assert_allclose(expression_objective("max(sqrt(2), 1)*x").f(1.0, 0.0), 2**0.5)


def test_node_bound(monkeypatch):
    monkeypatch.setattr(expressions, "MAX_NODES", 10)
    parse_expression("x + y + x + y + x")  # 9 parts
    with pytest.raises(ExpressionError, match=r"at most 10 parts .*; got 11"):
        parse_expression("x + y + x + y + x + y")


def test_long_sums_are_not_deep():
    text = "+".join(["x"] * 90)  # 179 characters, one level of nesting for the whole run
    assert parse_expression(text) == 90 * sympy.Symbol("x", real=True)


def test_custom_variables():
    a, b = sympy.symbols("a b", real=True)
    assert parse_expression("a*b^2", variables=("a", "b")) == a * b**2
    with pytest.raises(ExpressionError, match="name 'x'"):
        parse_expression("x", variables=("a",))
    for bad in [("sin",), ("pi",), ("__x",), ("lambda",), ("x", "x"), (), ("a b",), ("x1_",)]:
        with pytest.raises(ValueError):
            parse_expression("1", variables=bad)
    with pytest.raises(TypeError):
        parse_expression("x", variables="xy")
    with pytest.raises(TypeError):
        parse_expression(b"x")  # type: ignore[arg-type]
