"""Symbolic vs automatic vs numeric derivatives of one typed f(x): SymPy's exact derivative,
PyTorch autograd, JAX's ``grad`` (optional extra), and central finite differences, with their
errors; and JAX's composable transforms: ``grad(grad(f))``, ``vmap``, ``jit`` (measured).

JAX is optional (``mathlens[jax]``): without it the JAX fields are ``None`` and ``jax_error``
says why.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

import numpy as np
import sympy
import torch

from compute.expressions import expression_function_1d

EPS = float(np.finfo(np.float64).eps)


def _torch_namespace() -> dict:
    import torch.nn.functional as F

    ns = {n: getattr(torch, n) for n in ("sin", "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "exp", "log", "sqrt", "erf")}
    ns.update(sigmoid=torch.sigmoid, relu=torch.relu, softplus=F.softplus, abs=torch.abs, Abs=torch.abs,
              max=torch.maximum, min=torch.minimum, Max=torch.maximum, Min=torch.minimum,
              const=lambda v: v, step=lambda v: (v > 0).to(torch.float64), Heaviside=lambda v, h=0.5: torch.heaviside(v, torch.tensor(h, dtype=torch.float64)))  # fmt: skip
    return ns


def jax_module():
    """(jax, jax.numpy) with float64 enabled, or (None, reason)."""
    try:
        import jax
        import jax.numpy as jnp
    except ImportError as e:  # the optional extra is not installed
        return None, f"JAX is not installed (pip install 'mathlens[jax]'): {e}"
    jax.config.update("jax_enable_x64", True)
    return jax, jnp


def _jax_namespace(jax, jnp) -> dict:
    ns = {n: getattr(jnp, n) for n in ("sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "exp", "log", "sqrt")}
    ns.update(asin=jnp.arcsin, acos=jnp.arccos, atan=jnp.arctan, erf=jax.scipy.special.erf,
              sigmoid=jax.nn.sigmoid, relu=jax.nn.relu, softplus=jax.nn.softplus, abs=jnp.abs,
              Abs=jnp.abs, max=jnp.maximum, min=jnp.minimum, Max=jnp.maximum, Min=jnp.minimum,
              const=lambda v: v, step=lambda v: jnp.where(v > 0, 1.0, 0.0))  # fmt: skip
    return ns


@functools.lru_cache(maxsize=32)
def _lambdified(text: str, backend: str):
    fn = expression_function_1d(text, "x")
    x = sympy.Symbol("x", real=True)
    if backend == "torch":
        ns = _torch_namespace()
    else:
        jax, jnp = jax_module()
        ns = _jax_namespace(jax, jnp)
    return sympy.lambdify([x], fn.expr, modules=[ns, "math"])


@functools.lru_cache(maxsize=32)
def _jax_transforms(text: str):
    """jit(grad f), jit(grad(grad f)), vmap(grad f) (op by op) and jit(vmap(grad f)); cached by
    formula, so moving x0 reuses the compiled functions."""
    jax, jnp = jax_module()
    jf = _lambdified(text, "jax")
    grad = jax.grad(lambda v: jnp.asarray(jf(v), dtype=jnp.float64))
    vg = jax.vmap(grad)
    return jax.jit(grad), jax.jit(jax.grad(grad)), vg, jax.jit(vg)


@dataclass(frozen=True)
class AutodiffResult:
    latex: str
    derivative_latex: str
    x0: float
    f0: float
    sympy: float  # exact f'(x0) (SymPy's derivative, evaluated in float64)
    sympy2: float  # f''(x0)
    torch: float
    torch2: float  # torch.autograd.grad(create_graph=True) twice
    finite_difference: float  # central, h = cbrt(eps) max(1, |x0|)
    h: float
    jax: float | None
    jax2: float | None  # grad(grad(f))(x0)
    jax_error: str | None
    grid: np.ndarray  # (n,)
    grad_on_grid: np.ndarray  # (n,) vmap(grad(f)) with JAX, else SymPy's f' on the grid
    vmap_source: str  # "jax.vmap(jax.grad(f))" or "sympy (JAX missing)"
    eager_s: float | None  # seconds for vmap(grad(f)) over the grid, op by op (best of repeats)
    jit_s: float | None  # the same, jit-compiled (after one warm-up call)
    compile_s: float | None  # the first jitted call of this request (trace + compile when new)


def autodiff(text: str, x0: float, *, grid: tuple[float, float] = (-3.0, 3.0), n_grid: int = 1001, repeats: int = 5) -> AutodiffResult:
    """f'(x0) four ways and f''(x0) three ways; vmap of grad over ``n_grid`` points; jit timing."""
    if not np.isfinite(x0):
        raise ValueError(f"x0 must be finite; got {x0}")
    if not grid[0] < grid[1]:
        raise ValueError(f"grid must satisfy a < b; got {list(grid)}")
    fn = expression_function_1d(text, "x")
    x0a = np.float64(x0)
    f0, d1, d2 = float(fn.f(x0a)), float(fn.df(x0a)), float(fn.d2f(x0a))
    if not np.isfinite(f0):
        raise ValueError(f"f is not finite at x0 = {x0}; move the point into the domain")
    tf = _lambdified(text, "torch")
    xt = torch.tensor(float(x0), dtype=torch.float64, requires_grad=True)
    with np.errstate(all="ignore"):
        y = tf(xt)
    if torch.is_tensor(y) and y.requires_grad:
        (g1,) = torch.autograd.grad(y, xt, create_graph=True)
        g2 = torch.autograd.grad(g1, xt, allow_unused=True)[0] if g1.requires_grad else None
        t1, t2 = g1.item(), (g2.item() if g2 is not None else 0.0)
    else:
        t1, t2 = 0.0, 0.0
    h = np.cbrt(EPS) * max(1.0, abs(x0))
    fd = float((fn.f(x0a + h) - fn.f(x0a - h)) / (2 * h))
    xs = np.linspace(grid[0], grid[1], n_grid)
    jax, jnp = jax_module()
    if jax is None:
        return AutodiffResult(fn.latex, fn.derivative_latex, float(x0), f0, d1, d2, t1, t2, fd, h,
                              None, None, jnp, xs, fn.df(xs), "sympy (JAX missing)", None, None, None)  # fmt: skip
    grad1, grad2, vg, jitted = _jax_transforms(text)
    j1 = float(grad1(jnp.float64(x0)))
    j2 = float(grad2(jnp.float64(x0)))
    xj = jnp.asarray(xs)
    t = time.perf_counter()
    out = jitted(xj).block_until_ready()
    compile_s = time.perf_counter() - t  # trace + compile on the first call for this formula
    vg(xj).block_until_ready()  # warm the op-by-op caches too, so both timings are steady state
    eager = np.inf
    for _ in range(max(1, repeats // 2)):
        t = time.perf_counter()
        vg(xj).block_until_ready()
        eager = min(eager, time.perf_counter() - t)
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        jitted(xj).block_until_ready()
        best = min(best, time.perf_counter() - t)
    return AutodiffResult(
        fn.latex, fn.derivative_latex, float(x0), f0, d1, d2, t1, t2, fd, h, j1, j2, None, xs,
        np.asarray(out, dtype=np.float64), "jax.vmap(jax.grad(f))", eager, float(best), compile_s,
    )
