"""Two-variable test functions for optimization: values, analytic gradients, Hessians, grids.

Every function is vectorized: ``f(x, y)`` broadcasts over arrays of any shape.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

Array = np.ndarray


@dataclass(frozen=True)
class Objective:
    """A scalar function of (x, y) with its gradient and Hessian, all vectorized.

    ``f(x, y) -> z``; ``grad(x, y) -> (fx, fy)``; ``hess(x, y) -> (fxx, fxy, fyy)``,
    each output broadcast to ``np.broadcast(x, y).shape``.
    """

    name: str
    latex: str
    f: Callable[[Array, Array], Array]
    grad: Callable[[Array, Array], tuple[Array, Array]]
    hess: Callable[[Array, Array], tuple[Array, Array, Array]]
    minima: tuple[tuple[float, float], ...] = ()
    x_range: tuple[float, float] = (-3.0, 3.0)
    y_range: tuple[float, float] = (-3.0, 3.0)
    params: Mapping[str, float] = field(default_factory=dict)
    gradient_latex: tuple[str, str] | None = None


# ----------------------------------------------------------------------------------------------
# Formulas. Each works on Python floats, numpy arrays, and inside numba kernels (compute.optim
# compiles these same functions), so the value a plot shows and the gradient an optimizer
# follows come from one source. Gradients return (fx, fy); Hessians (fxx, fxy, fyy); outputs
# may be scalars where constant: ``BuiltinFn`` broadcasts them to the inputs' shape. No
# helper calls inside them: numba compiles each on its own.
# ----------------------------------------------------------------------------------------------

TWO_PI = 2.0 * math.pi


def quadratic_f(x, y, k):
    return 0.5 * (x * x + k * (y * y))


def quadratic_grad(x, y, k):
    return x, k * y


def quadratic_hess(x, y, k):
    return 1.0, 0.0, k


def rosenbrock_f(x, y):
    a = 1.0 - x
    b = y - x * x
    return a * a + 100.0 * (b * b)


def rosenbrock_grad(x, y):
    b = y - x * x
    return -2.0 * (1.0 - x) - 400.0 * x * b, 200.0 * b


def rosenbrock_hess(x, y):
    return 2.0 - 400.0 * y + 1200.0 * (x * x), -400.0 * x, 200.0


def beale_f(x, y):
    u1 = 1.5 - x + x * y
    u2 = 2.25 - x + x * (y * y)
    u3 = 2.625 - x + x * (y * y * y)
    return u1 * u1 + u2 * u2 + u3 * u3


def beale_grad(x, y):
    y2 = y * y
    y3 = y2 * y
    u1 = 1.5 - x + x * y
    u2 = 2.25 - x + x * y2
    u3 = 2.625 - x + x * y3
    fx = 2.0 * (u1 * (y - 1.0) + u2 * (y2 - 1.0) + u3 * (y3 - 1.0))
    fy = 2.0 * x * (u1 + 2.0 * y * u2 + 3.0 * y2 * u3)
    return fx, fy


def beale_hess(x, y):
    y2 = y * y
    y3 = y2 * y
    u1 = 1.5 - x + x * y
    u2 = 2.25 - x + x * y2
    u3 = 2.625 - x + x * y3
    a1, a2, a3 = y - 1.0, y2 - 1.0, y3 - 1.0  # d u_i / dx
    b1, b2, b3 = x, 2.0 * x * y, 3.0 * x * y2  # d u_i / dy
    fxx = 2.0 * (a1 * a1 + a2 * a2 + a3 * a3)
    fxy = 2.0 * (a1 * b1 + u1 + a2 * b2 + 2.0 * y * u2 + a3 * b3 + 3.0 * y2 * u3)
    fyy = 2.0 * (b1 * b1 + b2 * b2 + 2.0 * x * u2 + b3 * b3 + 6.0 * x * y * u3)
    return fxx, fxy, fyy


def himmelblau_f(x, y):
    a = x * x + y - 11.0
    b = x + y * y - 7.0
    return a * a + b * b


def himmelblau_grad(x, y):
    a = x * x + y - 11.0
    b = x + y * y - 7.0
    return 4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b


def himmelblau_hess(x, y):
    return 12.0 * (x * x) + 4.0 * y - 42.0, 4.0 * (x + y), 4.0 * x + 12.0 * (y * y) - 26.0


HIMMELBLAU_MINIMA = (
    (3.0, 2.0),
    (-2.805118086952745, 3.131312518250573),
    (-3.779310253377747, -3.2831859912861696),
    (3.5844283403304917, -1.8481265269644036),
)


def saddle_f(x, y):
    return x * x - y * y


def saddle_grad(x, y):
    return 2.0 * x, -2.0 * y


def saddle_hess(x, y):
    return 2.0, 0.0, -2.0


def booth_f(x, y):
    a = x + 2.0 * y - 7.0
    b = 2.0 * x + y - 5.0
    return a * a + b * b


def booth_grad(x, y):
    a = x + 2.0 * y - 7.0
    b = 2.0 * x + y - 5.0
    return 2.0 * a + 4.0 * b, 4.0 * a + 2.0 * b


def booth_hess(x, y):
    return 10.0, 8.0, 10.0


def rastrigin_f(x, y):
    return 20.0 + x * x - 10.0 * np.cos(TWO_PI * x) + y * y - 10.0 * np.cos(TWO_PI * y)


def rastrigin_grad(x, y):
    return (
        2.0 * x + 10.0 * TWO_PI * np.sin(TWO_PI * x),
        2.0 * y + 10.0 * TWO_PI * np.sin(TWO_PI * y),
    )


def rastrigin_hess(x, y):
    c = 10.0 * TWO_PI * TWO_PI
    return 2.0 + c * np.cos(TWO_PI * x), 0.0, 2.0 + c * np.cos(TWO_PI * y)


# ----------------------------------------------------------------------------------------------
# Parameters and registry
# ----------------------------------------------------------------------------------------------

ParamKind = Literal["float", "int", "bool", "choice", "pair"]


def _fmt(v: Any) -> str:
    """Short, exact text for a number in an error message (``1000``, ``0.001``, ``nan``)."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return repr(v)
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        fv = float(v)
        if fv.is_integer() and abs(fv) < 1e16:
            return str(int(fv))
        return repr(fv)
    return repr(v)


@dataclass(frozen=True)
class ParamSpec:
    """One tunable parameter: default, bounds ``lo``..``hi`` and what it means.

    ``kind``: ``float``/``int`` (bounded number), ``bool``, ``choice`` (one of ``choices``),
    ``pair`` (two floats, each within the bounds, e.g. Adam's ``betas``). ``lo_open`` / ``hi_open``
    make a bound strict, e.g. ``lr`` in ``(0, 10]``. ``default=None`` for a number means "derived"
    (e.g. a cosine schedule's ``T_max`` defaults to the run's ``steps``) and ``None`` is accepted.
    """

    default: Any
    lo: float | None = None
    hi: float | None = None
    description: str = ""
    kind: ParamKind = "float"
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple[Any, ...] = ()

    def interval(self) -> str:
        """The bounds as text, ``[1, 1000]`` or ``(0, 10]``."""
        return (
            f"{'(' if self.lo_open else '['}{_fmt(self.lo)}, "
            f"{_fmt(self.hi)}{')' if self.hi_open else ']'}"
        )

    def _check_number(self, name: str, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"{name} must be a number; got {_fmt(value)}")
        v = float(value)
        ok = math.isfinite(v)
        if ok and self.lo is not None:
            ok = v > self.lo if self.lo_open else v >= self.lo
        if ok and self.hi is not None:
            ok = v < self.hi if self.hi_open else v <= self.hi
        if not ok:
            raise ValueError(f"{name} must be in {self.interval()}; got {_fmt(value)}")
        return v

    def check(self, name: str, value: Any) -> Any:
        """Return ``value`` normalized (float, int, bool, tuple) or raise ValueError naming the bound."""
        if self.kind == "bool":
            if not isinstance(value, bool | np.bool_):
                raise ValueError(f"{name} must be true or false; got {_fmt(value)}")
            return bool(value)
        if self.kind == "choice":
            if value not in self.choices:
                opts = ", ".join(_fmt(c) for c in self.choices)
                raise ValueError(f"{name} must be one of {opts}; got {_fmt(value)}")
            return value
        if self.kind == "pair":
            if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
                raise ValueError(f"{name} must be a pair of numbers; got {_fmt(value)}")
            if len(value) != 2:
                raise ValueError(f"{name} must have 2 entries; got {len(value)}")
            return tuple(self._check_number(f"{name}[{i}]", v) for i, v in enumerate(value))
        if value is None and self.default is None:
            return None
        v = self._check_number(name, value)
        if self.kind == "int":
            if not v.is_integer():
                raise ValueError(f"{name} must be an integer; got {_fmt(value)}")
            return int(v)
        return v


def check_params(
    specs: Mapping[str, ParamSpec], given: Mapping[str, Any], what: str
) -> dict[str, Any]:
    """Defaults overlaid with ``given``, each checked against its spec; ValueError on unknown keys."""
    unknown = [k for k in given if k not in specs]
    if unknown:
        expected = ", ".join(specs) or "no parameters"
        raise ValueError(f"unknown parameter {unknown[0]!r} for {what}; expected {expected}")
    out = {k: s.default for k, s in specs.items()}
    for k, v in given.items():
        out[k] = specs[k].check(k, v)
    return out


@dataclass(frozen=True)
class FunctionSpec:
    """A built-in test function: its name, LaTeX of f, parameters and builder.

    ``build(**params) -> Objective`` takes already-checked parameters (use ``get_function``).
    ``saddle_points``: known saddle points (the minima are on the built Objective).
    """

    name: str
    latex: str
    params: dict[str, ParamSpec]
    description: str
    build: Callable[..., Objective]
    saddle_points: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class BuiltinFn:
    """A built-in formula ``fn(x, y, *args)`` bound to its parameters, vectorized and broadcast.

    Kept as data (not a lambda) so that ``compute.optim`` can recognise a built-in objective and
    run it in its compiled kernel: ``name`` and ``args`` identify the function.
    """

    name: str
    fn: Callable[..., Any]
    args: tuple[float, ...] = ()

    def __call__(self, x: ArrayLike, y: ArrayLike) -> Any:
        xa = np.asarray(x, dtype=np.float64)
        ya = np.asarray(y, dtype=np.float64)
        with np.errstate(all="ignore"):  # overflow far from the window is data, not an error
            out = self.fn(xa, ya, *self.args)
        shape = np.broadcast_shapes(xa.shape, ya.shape)
        if isinstance(out, tuple):
            return tuple(_full(o, shape) for o in out)
        return _full(out, shape)


def _full(a: Any, shape: tuple[int, ...]) -> Array:
    a = np.asarray(a, dtype=np.float64)
    return a if a.shape == shape else np.full(shape, a, dtype=np.float64)


def _num_latex(v: float) -> str:
    return _fmt(v)


def _builder(
    name: str,
    f: Callable[..., Any],
    grad: Callable[..., Any],
    hess: Callable[..., Any],
    latex: str | Callable[..., str],
    gradient_latex: tuple[str, str] | Callable[..., tuple[str, str]],
    minima: tuple[tuple[float, float], ...],
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    param_names: tuple[str, ...] = (),
) -> Callable[..., Objective]:
    def build(**params: float) -> Objective:
        args = tuple(float(params[p]) for p in param_names)
        return Objective(
            name=name,
            latex=latex(*args) if callable(latex) else latex,
            f=BuiltinFn(name, f, args),
            grad=BuiltinFn(name, grad, args),
            hess=BuiltinFn(name, hess, args),
            minima=minima,
            x_range=x_range,
            y_range=y_range,
            params=dict(zip(param_names, args, strict=True)),
            gradient_latex=gradient_latex(*args) if callable(gradient_latex) else gradient_latex,
        )

    return build


def _function(
    name: str,
    latex: str,
    description: str,
    fns: tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]],
    gradient_latex: tuple[str, str] | Callable[..., tuple[str, str]],
    minima: tuple[tuple[float, float], ...],
    x_range: tuple[float, float],
    y_range: tuple[float, float],
    *,
    params: dict[str, ParamSpec] | None = None,
    objective_latex: Callable[..., str] | None = None,
    saddle_points: tuple[tuple[float, float], ...] = (),
) -> FunctionSpec:
    """One entry of ``FUNCTIONS``: ``fns = (f, grad, hess)`` of ``(x, y, *params)``. ``latex``
    shows the parameters as symbols; ``objective_latex`` and ``gradient_latex`` may be functions
    of the parameters' values (what a built Objective shows)."""
    params = params or {}
    build = _builder(
        name,
        *fns,
        objective_latex or latex,
        gradient_latex,
        minima,
        x_range,
        y_range,
        tuple(params),
    )
    return FunctionSpec(name, latex, params, description, build, saddle_points)


FUNCTIONS: dict[str, FunctionSpec] = {
    "quadratic": _function(
        "quadratic",
        r"\frac{1}{2}\left(x^2 + k\,y^2\right)",
        "Convex bowl whose condition number k makes plain gradient descent zig-zag.",
        (quadratic_f, quadratic_grad, quadratic_hess),
        lambda k: ("x", rf"{_num_latex(k)}\,y"),
        ((0.0, 0.0),),
        (-3.0, 3.0),
        (-3.0, 3.0),
        params={"k": ParamSpec(10.0, 1.0, 1000.0, "condition number: curvature ratio of y to x")},
        objective_latex=lambda k: rf"\frac{{1}}{{2}}\left(x^2 + {_num_latex(k)}\,y^2\right)",
    ),
    "rosenbrock": _function(
        "rosenbrock",
        r"(1 - x)^2 + 100\,(y - x^2)^2",
        "A curved, narrow valley: easy to find, slow to follow to the minimum at (1, 1).",
        (rosenbrock_f, rosenbrock_grad, rosenbrock_hess),
        (r"-2(1 - x) - 400\,x\,(y - x^2)", r"200\,(y - x^2)"),
        ((1.0, 1.0),),
        (-2.0, 2.0),
        (-1.0, 3.0),
    ),
    "beale": _function(
        "beale",
        r"(1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2",
        "Flat plateaus and sharp ridges with one minimum at (3, 0.5).",
        (beale_f, beale_grad, beale_hess),
        (
            r"\sum_{i=1}^{3} 2\,u_i\,(y^i - 1)",
            r"\sum_{i=1}^{3} 2\,u_i\,i\,x\,y^{i-1}",
        ),
        ((3.0, 0.5),),
        (-4.5, 4.5),
        (-4.5, 4.5),
    ),
    "himmelblau": _function(
        "himmelblau",
        r"(x^2 + y - 11)^2 + (x + y^2 - 7)^2",
        "Four equal minima: which one you reach depends on where you start.",
        (himmelblau_f, himmelblau_grad, himmelblau_hess),
        (
            r"4x\,(x^2 + y - 11) + 2\,(x + y^2 - 7)",
            r"2\,(x^2 + y - 11) + 4y\,(x + y^2 - 7)",
        ),
        HIMMELBLAU_MINIMA,
        (-5.0, 5.0),
        (-5.0, 5.0),
    ),
    "saddle": _function(
        "saddle",
        r"x^2 - y^2",
        "No minimum: a saddle point at (0, 0) that gradient descent slides off.",
        (saddle_f, saddle_grad, saddle_hess),
        (r"2x", r"-2y"),
        (),
        (-2.0, 2.0),
        (-2.0, 2.0),
        saddle_points=((0.0, 0.0),),
    ),
    "booth": _function(
        "booth",
        r"(x + 2y - 7)^2 + (2x + y - 5)^2",
        "A gentle, tilted convex quadratic with its minimum at (1, 3).",
        (booth_f, booth_grad, booth_hess),
        (r"2\,(x + 2y - 7) + 4\,(2x + y - 5)", r"4\,(x + 2y - 7) + 2\,(2x + y - 5)"),
        ((1.0, 3.0),),
        (-10.0, 10.0),
        (-10.0, 10.0),
    ),
    "rastrigin": _function(
        "rastrigin",
        r"20 + x^2 - 10\cos(2\pi x) + y^2 - 10\cos(2\pi y)",
        "A bowl covered in local minima; the global one is at (0, 0).",
        (rastrigin_f, rastrigin_grad, rastrigin_hess),
        (r"2x + 20\pi\sin(2\pi x)", r"2y + 20\pi\sin(2\pi y)"),
        ((0.0, 0.0),),
        (-5.12, 5.12),
        (-5.12, 5.12),
    ),
}


def get_function(name: str, **params: Any) -> Objective:
    """The built-in test function ``name`` with ``params`` (defaults for the rest)."""
    spec = FUNCTIONS.get(name)
    if spec is None:
        raise ValueError(f"unknown function {name!r}; expected one of {', '.join(FUNCTIONS)}")
    return spec.build(**check_params(spec.params, params, f"function {name!r}"))


# ----------------------------------------------------------------------------------------------
# Grids
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SurfaceGrid:
    """f sampled on a regular grid: ``z[i, j] = f(x[j], y[i])``; x, y (n,), z (n, n).

    Non-finite values stay nan/inf (the server encodes them as null).
    """

    x: Array
    y: Array
    z: Array


def _check_range(name: str, r: Sequence[float]) -> tuple[float, float]:
    if len(r) != 2:
        raise ValueError(f"{name} must have 2 entries; got {len(r)}")
    a, b = float(r[0]), float(r[1])
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"{name} must be finite; got [{_fmt(a)}, {_fmt(b)}]")
    if not a < b:
        raise ValueError(f"{name} must have {name}[0] < {name}[1]; got [{_fmt(a)}, {_fmt(b)}]")
    return a, b


def surface_grid(
    obj: Objective,
    x_range: Sequence[float],
    y_range: Sequence[float],
    resolution: int,
) -> SurfaceGrid:
    """Evaluate ``obj.f`` on a ``resolution`` x ``resolution`` grid in one vectorized call.

    ``z[i, j] = f(x[j], y[i])`` (rows follow y, as a heatmap/contour plot expects).
    """
    if isinstance(resolution, bool) or not isinstance(resolution, numbers.Integral):
        raise ValueError(f"resolution must be an integer; got {_fmt(resolution)}")
    if not 2 <= resolution <= 1000:
        raise ValueError(f"resolution must be in [2, 1000]; got {_fmt(resolution)}")
    xa, xb = _check_range("x_range", x_range)
    ya, yb = _check_range("y_range", y_range)
    n = int(resolution)
    x = np.linspace(xa, xb, n)
    y = np.linspace(ya, yb, n)
    with np.errstate(all="ignore"):
        z = obj.f(x[None, :], y[:, None])  # (n, n)
    z = np.array(np.broadcast_to(np.asarray(z, dtype=np.float64), (n, n)), dtype=np.float64)
    return SurfaceGrid(x=x, y=y, z=z)
