"""Derivatives and finite differences; stability of gradient descent and critical points.

(Gradient flow in deep nets: ``compute.calculus_flow``; backpropagation on a graph:
``compute.calculus_graph``; symbolic vs automatic vs numeric: ``compute.calculus_autodiff``.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from compute.expressions import expression_function_1d

EPS = float(np.finfo(np.float64).eps)


@dataclass(frozen=True)
class DerivativeView:
    """f on a grid with f', the tangent at x0, and finite-difference slopes against step h.

    forward(h) = (f(x0 + h) - f(x0)) / h, error ~ |f''| h / 2 + 2 eps |f| / h, best h ~ sqrt(eps);
    central(h) = (f(x0 + h) - f(x0 - h)) / (2h), error ~ |f'''| h^2 / 6 + eps |f| / h, best h ~ eps^(1/3).
    """

    latex: str
    derivative_latex: str
    x: np.ndarray  # (n,)
    f: np.ndarray  # (n,)
    df: np.ndarray  # (n,)
    f0: float
    df0: float
    d2f0: float
    tangent: np.ndarray  # (n,) f0 + df0 (x - x0)
    h: np.ndarray  # (m,) steps, log-spaced 1e-16 .. 1
    forward: np.ndarray  # (m,)
    central: np.ndarray  # (m,)
    forward_error: np.ndarray  # (m,) |forward - f'(x0)|
    central_error: np.ndarray  # (m,)
    forward_model: np.ndarray  # (m,) |f''| h / 2 + 2 eps |f| / h
    h_forward_opt: float  # sqrt(eps) * max(1, |x0|)
    h_central_opt: float  # cbrt(eps) * max(1, |x0|)
    secant_h: float
    secant_forward: float  # the forward slope at secant_h
    secant_central: float


def derivative_view(
    text: str, x0: float, x_range: tuple[float, float], *, secant_h: float = 0.5, n: int = 401, n_h: int = 97
) -> DerivativeView:
    """Everything the derivatives lab draws, for f typed as ``text`` (variable x)."""
    lo, hi = float(x_range[0]), float(x_range[1])
    if not lo < hi:
        raise ValueError(f"x_range must satisfy a < b; got [{lo}, {hi}]")
    if not np.isfinite(x0):
        raise ValueError(f"x0 must be finite; got {x0}")
    fn = expression_function_1d(text, "x")
    x = np.linspace(lo, hi, n)
    f, df = fn.f(x), fn.df(x)
    f0, df0, d2f0 = (float(v) for v in (fn.f(np.float64(x0)), fn.df(np.float64(x0)), fn.d2f(np.float64(x0))))
    if not (np.isfinite(f0) and np.isfinite(df0)):
        raise ValueError(f"f or f' is not finite at x0 = {x0}; move the point into the domain")
    h = np.logspace(-16, 0, n_h)
    x0a = np.float64(x0)
    # evaluated exactly as a program would: x0 + h rounds, and that rounding is part of the story
    fp, fm = fn.f(x0a + h), fn.f(x0a - h)
    with np.errstate(all="ignore"):
        forward = (fp - f0) / h
        central = (fp - fm) / (2 * h)
        forward_model = abs(d2f0) * h / 2 + 2 * EPS * max(abs(f0), EPS) / h
    hs = float(secant_h)
    sp, sm = float(fn.f(x0a + hs)), float(fn.f(x0a - hs))
    scale = max(1.0, abs(x0))
    return DerivativeView(
        latex=fn.latex, derivative_latex=fn.derivative_latex, x=x, f=f, df=df, f0=f0, df0=df0,
        d2f0=d2f0, tangent=f0 + df0 * (x - x0), h=h, forward=forward, central=central,
        forward_error=np.abs(forward - df0), central_error=np.abs(central - df0),
        forward_model=forward_model, h_forward_opt=np.sqrt(EPS) * scale,
        h_central_opt=np.cbrt(EPS) * scale, secant_h=hs, secant_forward=(sp - f0) / hs,
        secant_central=(sp - sm) / (2 * hs),
    )  # fmt: skip


# --- stability of gradient descent on a quadratic ------------------------------------------------

DIVERGE_AT = 1e12


@dataclass(frozen=True)
class QuadraticGD:
    """Gradient descent on f(x) = x^T H x / 2 with H = R diag(eigvals) R^T (R: rotation by theta).

    In H's eigenbasis every coordinate evolves on its own: c_i(t) = (1 - lr lambda_i)^t c_i(0), so the
    run converges iff |1 - lr lambda_i| < 1 for all i, i.e. 0 < lr < 2 / lambda_max (all lambda > 0);
    it oscillates (sign flips) along directions with lr lambda_i > 1.
    """

    hessian: np.ndarray  # (2, 2)
    eigvals: np.ndarray  # (2,) as given
    eigvecs: np.ndarray  # (2, 2) columns
    factors: np.ndarray  # (2,) 1 - lr * lambda_i
    lr_critical: float | None  # 2 / lambda_max when lambda_max > 0
    regime: str  # "converges", "oscillates", "diverges", "stalls"
    xy: np.ndarray  # (T, 2) T <= steps + 1 (stops once |x| > DIVERGE_AT)
    loss: np.ndarray  # (T,)
    closed_form: np.ndarray  # (T, 2) R diag(factors^t) R^T x0
    diverged_at: int | None


def quadratic_gd(eigvals, *, theta: float, lr: float, start, steps: int) -> QuadraticGD:
    """Run x_{t+1} = x_t - lr H x_t for ``steps`` steps (and the closed form beside it)."""
    lam = np.asarray(eigvals, dtype=np.float64)
    if lam.shape != (2,) or not np.all(np.isfinite(lam)):
        raise ValueError(f"eigvals must be two finite numbers; got {eigvals}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0; got {lr}")
    c, s = np.cos(np.radians(theta)), np.sin(np.radians(theta))
    R = np.array([[c, -s], [s, c]])
    H = R @ np.diag(lam) @ R.T
    x = np.asarray(start, dtype=np.float64)
    xs = [x]
    diverged_at = None
    for t in range(steps):
        x = x - lr * (H @ x)
        xs.append(x)
        if not np.all(np.abs(x) <= DIVERGE_AT):
            diverged_at = t + 1
            break
    xy = np.array(xs)  # (T, 2)
    factors = 1 - lr * lam
    T = np.arange(len(xy))[:, None]
    with np.errstate(all="ignore"):
        coeffs = (R.T @ np.asarray(start, float))[None, :] * factors[None, :] ** T  # (T, 2)
        closed = coeffs @ R.T
        loss = 0.5 * np.einsum("ti,ij,tj->t", xy, H, xy)
    lam_max = float(lam.max())
    rho = float(np.abs(factors).max())
    if rho > 1:
        regime = "diverges"
    elif rho == 1:
        regime = "stalls"
    elif np.any(factors < 0):
        regime = "oscillates"
    else:
        regime = "converges"
    return QuadraticGD(
        hessian=H, eigvals=lam, eigvecs=R, factors=factors,
        lr_critical=2 / lam_max if lam_max > 0 else None, regime=regime, xy=xy, loss=loss,
        closed_form=closed, diverged_at=diverged_at,
    )  # fmt: skip


# --- critical points of f(x, y) ------------------------------------------------------------------

SOLVE_TIMEOUT_S = 2.0
MAX_SYMBOLIC_DEGREE = 4


@dataclass(frozen=True)
class CriticalPoint:
    x: float
    y: float
    f: float
    eigvals: tuple[float, float]  # of the Hessian, ascending
    kind: str  # "minimum", "maximum", "saddle", "degenerate"


@dataclass(frozen=True)
class CriticalPoints:
    points: tuple[CriticalPoint, ...]
    method: str  # "symbolic" (sympy.solve) or "numeric" (Newton from a seeded grid of starts)
    note: str


def classify(eigvals, tol: float = 1e-8) -> str:
    """minimum: both eigenvalues > 0; maximum: both < 0; saddle: opposite signs; else degenerate."""
    lo, hi = sorted(eigvals)
    scale = max(1.0, abs(lo), abs(hi))
    if abs(lo) <= tol * scale or abs(hi) <= tol * scale:
        return "degenerate"
    if lo > 0:
        return "minimum"
    if hi < 0:
        return "maximum"
    return "saddle"


def _symbolic_solutions(text: str, x_range, y_range):
    import concurrent.futures

    import sympy

    from compute.expressions import parse_expression

    expr = parse_expression(text, ("x", "y"))
    x, y = sympy.Symbol("x", real=True), sympy.Symbol("y", real=True)
    fx, fy = expr.diff(x), expr.diff(y)
    try:
        polys = [sympy.Poly(g, x, y) for g in (fx, fy)]
    except sympy.PolynomialError:
        return None, "the gradient is not polynomial: numeric root finding"
    if not all(p.total_degree() <= MAX_SYMBOLIC_DEGREE - 1 for p in polys):
        return None, f"f has degree above {MAX_SYMBOLIC_DEGREE}: numeric root finding"
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1)
    future = pool.submit(sympy.solve, [fx, fy], [x, y], dict=True)
    try:
        sols = future.result(timeout=SOLVE_TIMEOUT_S)
    except concurrent.futures.TimeoutError:
        return None, f"sympy.solve took over {SOLVE_TIMEOUT_S:g} s: numeric root finding"
    except Exception:  # noqa: BLE001 - any SymPy failure falls back to numbers
        return None, "sympy.solve failed: numeric root finding"
    finally:
        pool.shutdown(wait=False)
    if any(len(s) < 2 for s in sols):
        return None, "a continuum of critical points (a line or curve): numeric root finding"
    pts = []
    for s in sols:
        vx, vy = complex(s[x].evalf()), complex(s[y].evalf())
        if abs(vx.imag) > 1e-12 or abs(vy.imag) > 1e-12:
            continue
        pts.append((vx.real, vy.real))
    return pts, "exact solutions of ∇f = 0 by sympy.solve"


def _numeric_solutions(obj, x_range, y_range, seed: int, n_grid: int = 12, iters: int = 60):
    """Damped Newton on grad f = 0 from an n_grid^2 seeded, jittered grid of starts, all at once."""
    rng = np.random.default_rng(seed)
    gx, gy = np.meshgrid(np.linspace(*x_range, n_grid), np.linspace(*y_range, n_grid))
    dx = (x_range[1] - x_range[0]) / n_grid
    dy = (y_range[1] - y_range[0]) / n_grid
    X = gx.ravel() + rng.uniform(-0.3, 0.3, gx.size) * dx  # (S,)
    Y = gy.ravel() + rng.uniform(-0.3, 0.3, gy.size) * dy
    with np.errstate(all="ignore"):
        for _ in range(iters):
            fx, fy = obj.grad(X, Y)
            a, b, d = obj.hess(X, Y)
            det = a * d - b * b
            sx = (d * fx - b * fy) / det
            sy = (a * fy - b * fx) / det
            # cap the step at a quarter of the window so Newton cannot fly off
            n = np.hypot(sx / dx, sy / dy) / (n_grid / 4)
            k = np.where(n > 1, 1 / n, 1.0)
            X, Y = X - k * sx, Y - k * sy
        fx, fy = obj.grad(X, Y)
    ok = np.isfinite(X) & np.isfinite(Y) & (np.hypot(fx, fy) < 1e-8)
    ok &= (X >= x_range[0]) & (X <= x_range[1]) & (Y >= y_range[0]) & (Y <= y_range[1])
    pts: list[tuple[float, float]] = []
    tol = 1e-5 * max(x_range[1] - x_range[0], y_range[1] - y_range[0])
    for px, py in zip(X[ok], Y[ok], strict=True):
        if all(abs(px - qx) > tol or abs(py - qy) > tol for qx, qy in pts):
            pts.append((float(px), float(py)))
    return pts


MAX_CRITICAL_POINTS = 50


def critical_points(text: str, x_range, y_range, *, seed: int = 0) -> CriticalPoints:
    """Critical points of f(x, y) in the window, classified by the Hessian's eigenvalues.

    sympy.solve on grad f = 0 when the gradient is polynomial of low degree (bounded by a
    timeout), else damped Newton from a seeded grid of starts (vectorized).
    """
    from compute.expressions import expression_objective

    x_range = (float(x_range[0]), float(x_range[1]))
    y_range = (float(y_range[0]), float(y_range[1]))
    if not (x_range[0] < x_range[1] and y_range[0] < y_range[1]):
        raise ValueError(f"ranges must satisfy a < b; got x {list(x_range)}, y {list(y_range)}")
    obj = expression_objective(text)
    pts, note = _symbolic_solutions(text, x_range, y_range)
    method = "symbolic"
    if pts is None:
        pts, method = _numeric_solutions(obj, x_range, y_range, seed), "numeric"
    else:
        pts = [p for p in pts if x_range[0] <= p[0] <= x_range[1] and y_range[0] <= p[1] <= y_range[1]]
    pts = sorted(pts)[:MAX_CRITICAL_POINTS]
    out = []
    for px, py in pts:
        a, b, d = (float(v) for v in obj.hess(np.float64(px), np.float64(py)))
        ev = np.linalg.eigvalsh(np.array([[a, b], [b, d]]))
        out.append(CriticalPoint(px, py, float(obj.f(np.float64(px), np.float64(py))), (float(ev[0]), float(ev[1])), classify(ev)))
    return CriticalPoints(tuple(out), method, note)
