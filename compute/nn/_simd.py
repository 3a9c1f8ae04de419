"""Explicit SIMD for the lean kernels: numba types ``Vec(float64)`` and ``Vec(float32)`` whose
values are LLVM vectors of ``LANES`` (16) elements, i.e. four (float64) or two (float32) AVX2
registers, with loads and stores of 16 lanes, broadcast, fused multiply-add, horizontal sum,
``+ - * /`` (a number on either side is broadcast), min/max/abs/floor/sqrt/copysign, compare-and-select
and ``2^k`` from its bits.

Why: LLVM's auto-vectorized lane loops (``for b in range(nb): out[row, b] += w * A[col, b]``)
spend ~18 cycles per loop on alias checks, trip-count dispatch and scalar remainders, and keep the
running sum in memory, so a 10-example minibatch ran at a small fraction of the FMA units' rate.
A ``Vec`` accumulator stays in registers across a whole dot product; the kernels are written once
and run in float64 or float32 by the arrays' dtype. All operations are IEEE arithmetic in the
element type; nothing here changes the math, only its schedule.
"""

from __future__ import annotations

import operator

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, models, overload, register_model

LANES = 16
_LL = {types.float64: ir.DoubleType(), types.float32: ir.FloatType()}
_SUFFIX = {types.float64: f"v{LANES}f64", types.float32: f"v{LANES}f32"}
_I32 = ir.IntType(32)


class VecType(types.Type):
    """``LANES`` floats of ``dtype`` in SIMD registers."""

    def __init__(self, dtype) -> None:
        self.dtype = dtype
        super().__init__(name=f"Vec{LANES}({dtype})")


@register_model(VecType)
class _VecModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, ir.VectorType(_LL[fe_type.dtype], LANES))


def _vt(vec: VecType) -> ir.VectorType:
    return ir.VectorType(_LL[vec.dtype], LANES)


def _llvm(builder, name: str, vec: VecType, nargs: int):
    """The LLVM intrinsic ``name.v16f64`` (or ``.v16f32``) on ``nargs`` vectors."""
    return cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(_vt(vec), [_vt(vec)] * nargs),
        f"{name}.{_SUFFIX[vec.dtype]}")


def _float_array(arr, ndim: int) -> bool:
    return isinstance(arr, types.Array) and arr.ndim == ndim and arr.dtype in _LL


def _lanes_ptr(context, builder, aryty, ary, inds, indtys):
    """Pointer to ``ary[inds]`` as a vector pointer (no bounds or wraparound checks)."""
    a = context.make_array(aryty)(context, builder, ary)
    idx = [context.cast(builder, v, t, types.intp) for v, t in zip(inds, indtys, strict=True)]
    p = cgutils.get_item_pointer(context, builder, aryty, a, idx, wraparound=False,
                                 boundscheck=False)
    return builder.bitcast(p, _vt(VecType(aryty.dtype)).as_pointer())


def _load_codegen(n_idx: int, dtype):
    def codegen(context, builder, sig, args):
        ptr = _lanes_ptr(context, builder, sig.args[0], args[0], args[1:1 + n_idx],
                         sig.args[1:1 + n_idx])
        return builder.load(ptr, align=dtype.bitwidth // 8)

    return codegen


def _store_codegen(n_idx: int, dtype):
    def codegen(context, builder, sig, args):
        ptr = _lanes_ptr(context, builder, sig.args[0], args[0], args[1:1 + n_idx],
                         sig.args[1:1 + n_idx])
        builder.store(args[1 + n_idx], ptr, align=dtype.bitwidth // 8)
        return context.get_dummy_value()

    return codegen


def _ints(*ts) -> bool:
    return all(isinstance(t, types.Integer) for t in ts)


@intrinsic
def vload(typingctx, arr, i, j):
    """``arr[i, j:j + LANES]``; the caller keeps ``j + LANES`` in bounds."""
    if not (_float_array(arr, 2) and _ints(i, j)):
        return None
    return VecType(arr.dtype)(arr, i, j), _load_codegen(2, arr.dtype)


@intrinsic
def vstore(typingctx, arr, i, j, v):
    """``arr[i, j:j + LANES] = v``."""
    if not (_float_array(arr, 2) and _ints(i, j) and v == VecType(arr.dtype)):
        return None
    return types.none(arr, i, j, v), _store_codegen(2, arr.dtype)


@intrinsic
def vload1(typingctx, arr, i):
    """``arr[i:i + LANES]`` of a 1-D array."""
    if not (_float_array(arr, 1) and _ints(i)):
        return None
    return VecType(arr.dtype)(arr, i), _load_codegen(1, arr.dtype)


@intrinsic
def vstore1(typingctx, arr, i, v):
    """``arr[i:i + LANES] = v``."""
    if not (_float_array(arr, 1) and _ints(i) and v == VecType(arr.dtype)):
        return None
    return types.none(arr, i, v), _store_codegen(1, arr.dtype)


@intrinsic
def splat_as(typingctx, like, x):
    """``x`` in every lane of a vector of ``like``'s element type (``like``: array or vector)."""
    if not (isinstance(x, (types.Float, types.Integer))
            and (isinstance(like, VecType)
                 or (isinstance(like, types.Array) and like.dtype in _LL))):
        return None
    vec = VecType(like.dtype)

    def codegen(context, builder, sig, args):
        x = context.cast(builder, args[1], sig.args[1], vec.dtype)
        v = builder.insert_element(ir.Constant(_vt(vec), ir.Undefined), x, ir.Constant(_I32, 0))
        return builder.shuffle_vector(v, ir.Constant(_vt(vec), ir.Undefined),
                                      ir.Constant(ir.VectorType(_I32, LANES), [0] * LANES))

    return vec(like, x), codegen


def _vec_args(*ts) -> bool:
    return isinstance(ts[0], VecType) and all(t == ts[0] for t in ts)


@intrinsic
def vfma(typingctx, a, b, c):
    """``a * b + c`` with one rounding."""
    if not _vec_args(a, b, c):
        return None

    def codegen(context, builder, sig, args):
        return builder.call(_llvm(builder, "llvm.fma", a, 3), args)

    return a(a, b, c), codegen


@intrinsic
def hsum(typingctx, a):
    """The sum of the lanes, by halves (lanes ``i`` and ``i + n/2`` first)."""
    if not isinstance(a, VecType):
        return None

    def codegen(context, builder, sig, args):
        v, n = args[0], LANES
        while n > 1:
            n //= 2
            lo = builder.shuffle_vector(v, v, ir.Constant(ir.VectorType(_I32, n), list(range(n))))
            hi = builder.shuffle_vector(v, v, ir.Constant(ir.VectorType(_I32, n),
                                                          list(range(n, 2 * n))))
            v = builder.fadd(lo, hi)
        return builder.extract_element(v, ir.Constant(_I32, 0))

    return a.dtype(a), codegen


@intrinsic
def where_gt(typingctx, x, y, a, b):
    """Per lane ``a if x > y else b`` (false for NaN, like the scalar ``if``)."""
    if not _vec_args(x, y, a, b):
        return None

    def codegen(context, builder, sig, args):
        return builder.select(builder.fcmp_ordered(">", args[0], args[1]), args[2], args[3])

    return x(x, y, a, b), codegen


@intrinsic
def keep_nan(typingctx, x, y):
    """Per lane ``x`` where ``x`` is NaN, else ``y`` (so that NaN goes through clamped math)."""
    if not _vec_args(x, y):
        return None

    def codegen(context, builder, sig, args):
        return builder.select(builder.fcmp_unordered("uno", args[0], args[0]), args[0], args[1])

    return x(x, y), codegen


@intrinsic
def pow2i(typingctx, k):
    """``2.0 ** k`` for integral ``k`` in the normal exponent range (float64 [-1022, 1023],
    float32 [-126, 127]), from the exponent bits."""
    if not isinstance(k, VecType):
        return None
    f64 = k.dtype == types.float64

    def codegen(context, builder, sig, args):
        i32 = ir.VectorType(_I32, LANES)
        ki = builder.fptosi(args[0], i32)  # AVX2 converts to int32 lanes
        ki = builder.add(ki, ir.Constant(i32, [1023 if f64 else 127] * LANES))
        if f64:
            i64 = ir.VectorType(ir.IntType(64), LANES)
            bits = builder.shl(builder.sext(ki, i64), ir.Constant(i64, [52] * LANES))
        else:
            bits = builder.shl(ki, ir.Constant(i32, [23] * LANES))
        return builder.bitcast(bits, _vt(k))

    return k(k), codegen


def _unary(llvm_name: str):
    @intrinsic
    def op(typingctx, a):
        if not isinstance(a, VecType):
            return None

        def codegen(context, builder, sig, args):
            return builder.call(_llvm(builder, llvm_name, a, 1), args)

        return a(a), codegen

    return op


def _binary(fn):
    @intrinsic
    def op(typingctx, a, b):
        if not _vec_args(a, b):
            return None

        def codegen(context, builder, sig, args):
            return fn(builder, a, *args)

        return a(a, b), codegen

    return op


vabs = _unary("llvm.fabs")
vfloor = _unary("llvm.floor")
vsqrt = _unary("llvm.sqrt")
vmin = _binary(lambda b, t, x, y: b.call(_llvm(b, "llvm.minnum", t, 2), [x, y]))
vmax = _binary(lambda b, t, x, y: b.call(_llvm(b, "llvm.maxnum", t, 2), [x, y]))
vcopysign = _binary(lambda b, t, x, y: b.call(_llvm(b, "llvm.copysign", t, 2), [x, y]))
_ARITH = {operator.add: _binary(lambda b, t, x, y: b.fadd(x, y)),
          operator.sub: _binary(lambda b, t, x, y: b.fsub(x, y)),
          operator.mul: _binary(lambda b, t, x, y: b.fmul(x, y)),
          operator.truediv: _binary(lambda b, t, x, y: b.fdiv(x, y))}


def _overload_arith(op, fn) -> None:
    @overload(op)
    def ov(a, b):
        scalar = (types.Float, types.Integer)
        if _vec_args(a, b):
            return lambda a, b: fn(a, b)
        if isinstance(a, VecType) and isinstance(b, scalar):
            return lambda a, b: fn(a, splat_as(a, b))
        if isinstance(b, VecType) and isinstance(a, scalar):
            return lambda a, b: fn(splat_as(b, a), b)
        return None


for _op, _fn in _ARITH.items():
    _overload_arith(_op, _fn)


def exp_floor(v):
    """The lowest ``y`` whose ``exp(y)`` the kernels' ``exp`` builds from exponent bits."""


@overload(exp_floor)
def _exp_floor(v):
    if isinstance(v, VecType):
        low = -700.0 if v.dtype == types.float64 else -87.0
        return lambda v: low
    return None
