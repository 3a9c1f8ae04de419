"""Explicit SIMD for the lean kernels: a numba type ``V4`` whose value is an LLVM ``<4 x double>``
(one AVX2 register), with loads and stores of four lanes, broadcast, fused multiply-add,
horizontal sum, ``+ - * /`` (a float on either side is broadcast), min/max/abs/floor/copysign,
a compare-and-select and ``2^k`` from its bits.

Why: LLVM's auto-vectorized lane loops (``for b in range(nb): out[row, b] += w * A[col, b]``)
spend ~18 cycles per loop on alias checks, trip-count dispatch and scalar remainders, and keep
the running sum in memory, so a 12-lane minibatch ran at ~1/6 of the FMA units' rate. With
``V4`` values the kernels hold four accumulators (16 lanes) in registers across a whole dot
product: ~6x the multiply-adds per second on 16 lanes (measured, ``bench/bench_training.py``).
All operations are IEEE double precision; nothing here changes the math, only its schedule.
"""

from __future__ import annotations

import operator

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, models, overload, register_model


class V4Type(types.Type):
    def __init__(self) -> None:
        super().__init__(name="V4")


V4 = V4Type()
_VT = ir.VectorType(ir.DoubleType(), 4)
_I32 = ir.IntType(32)


@register_model(V4Type)
class _V4Model(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, _VT)


def _llvm(builder, name: str, nargs: int):
    return cgutils.get_or_insert_function(builder.module, ir.FunctionType(_VT, [_VT] * nargs), name)


def _lanes_ptr(context, builder, aryty, ary, inds, indtys):
    """Pointer to ``ary[inds]`` as ``<4 x double>*`` (no bounds or wraparound checks)."""
    a = context.make_array(aryty)(context, builder, ary)
    idx = [context.cast(builder, v, t, types.intp) for v, t in zip(inds, indtys)]
    p = cgutils.get_item_pointer(context, builder, aryty, a, idx, wraparound=False,
                                 boundscheck=False)
    return builder.bitcast(p, _VT.as_pointer())


def _indexes(arr, idx) -> bool:
    """A float64 array indexed by one integer per dimension."""
    return (isinstance(arr, types.Array) and arr.dtype == types.float64
            and arr.ndim == len(idx) and all(isinstance(i, types.Integer) for i in idx))


@intrinsic
def vload(typingctx, arr, i, j):
    """``arr[i, j:j + 4]`` (2-D float64, C-contiguous rows; the caller keeps ``j + 4`` in bounds)."""
    if not _indexes(arr, (i, j)):
        return None

    def codegen(context, builder, sig, args):
        return builder.load(_lanes_ptr(context, builder, sig.args[0], args[0], args[1:],
                                       sig.args[1:]), align=8)

    return V4(arr, i, j), codegen


@intrinsic
def vstore(typingctx, arr, i, j, v):
    """``arr[i, j:j + 4] = v``."""
    if not (_indexes(arr, (i, j)) and v == V4):
        return None

    def codegen(context, builder, sig, args):
        builder.store(args[3], _lanes_ptr(context, builder, sig.args[0], args[0], args[1:3],
                                          sig.args[1:3]), align=8)
        return context.get_dummy_value()

    return types.none(arr, i, j, v), codegen


@intrinsic
def vload1(typingctx, arr, i):
    """``arr[i:i + 4]`` of a contiguous 1-D float64 array."""
    if not _indexes(arr, (i,)):
        return None

    def codegen(context, builder, sig, args):
        return builder.load(_lanes_ptr(context, builder, sig.args[0], args[0], args[1:],
                                       sig.args[1:]), align=8)

    return V4(arr, i), codegen


@intrinsic
def vstore1(typingctx, arr, i, v):
    """``arr[i:i + 4] = v``."""
    if not (_indexes(arr, (i,)) and v == V4):
        return None

    def codegen(context, builder, sig, args):
        builder.store(args[2], _lanes_ptr(context, builder, sig.args[0], args[0], args[1:2],
                                          sig.args[1:2]), align=8)
        return context.get_dummy_value()

    return types.none(arr, i, v), codegen


@intrinsic
def splat(typingctx, x):
    """``x`` in all four lanes."""
    if not isinstance(x, (types.Float, types.Integer)):
        return None

    def codegen(context, builder, sig, args):
        x = context.cast(builder, args[0], sig.args[0], types.float64)
        v = builder.insert_element(ir.Constant(_VT, ir.Undefined), x, ir.Constant(_I32, 0))
        return builder.shuffle_vector(v, ir.Constant(_VT, ir.Undefined),
                                      ir.Constant(ir.VectorType(_I32, 4), [0, 0, 0, 0]))

    return V4(x), codegen


@intrinsic
def vfma(typingctx, a, b, c):
    """``a * b + c`` with one rounding."""
    if not (a == V4 and b == V4 and c == V4):
        return None

    def codegen(context, builder, sig, args):
        return builder.call(_llvm(builder, "llvm.fma.v4f64", 3), args)

    return V4(V4, V4, V4), codegen


@intrinsic
def hsum(typingctx, a):
    """``(a0 + a1) + (a2 + a3)``."""
    if a != V4:
        return None

    def codegen(context, builder, sig, args):
        e = [builder.extract_element(args[0], ir.Constant(_I32, i)) for i in range(4)]
        return builder.fadd(builder.fadd(e[0], e[1]), builder.fadd(e[2], e[3]))

    return types.float64(V4), codegen


@intrinsic
def where_gt(typingctx, x, y, a, b):
    """Per lane ``a if x > y else b`` (false for NaN, like the scalar ``if``)."""
    if not all(t == V4 for t in (x, y, a, b)):
        return None

    def codegen(context, builder, sig, args):
        return builder.select(builder.fcmp_ordered(">", args[0], args[1]), args[2], args[3])

    return V4(V4, V4, V4, V4), codegen


@intrinsic
def keep_nan(typingctx, x, y):
    """Per lane ``x`` where ``x`` is NaN, else ``y`` (so that NaN goes through clamped math)."""
    if not (x == V4 and y == V4):
        return None

    def codegen(context, builder, sig, args):
        return builder.select(builder.fcmp_unordered("uno", args[0], args[0]), args[0], args[1])

    return V4(V4, V4), codegen


@intrinsic
def pow2i(typingctx, k):
    """``2.0 ** k`` for integral ``k`` in ``[-1022, 1023]``, from the exponent bits."""
    if k != V4:
        return None

    def codegen(context, builder, sig, args):
        ki = builder.fptosi(args[0], ir.VectorType(_I32, 4))  # AVX2 converts to int32 lanes
        ki = builder.add(ki, ir.Constant(ir.VectorType(_I32, 4), [1023] * 4))
        wide = builder.sext(ki, ir.VectorType(ir.IntType(64), 4))
        bits = builder.shl(wide, ir.Constant(ir.VectorType(ir.IntType(64), 4), [52] * 4))
        return builder.bitcast(bits, _VT)

    return V4(V4), codegen


def _unary(llvm_name: str):
    @intrinsic
    def op(typingctx, a):
        if a != V4:
            return None

        def codegen(context, builder, sig, args):
            return builder.call(_llvm(builder, llvm_name, 1), args)

        return V4(V4), codegen

    return op


def _binary(fn):
    @intrinsic
    def op(typingctx, a, b):
        if not (a == V4 and b == V4):
            return None

        def codegen(context, builder, sig, args):
            return fn(builder, *args)

        return V4(V4, V4), codegen

    return op


vabs = _unary("llvm.fabs.v4f64")
vfloor = _unary("llvm.floor.v4f64")
vmin = _binary(lambda b, x, y: b.call(_llvm(b, "llvm.minnum.v4f64", 2), [x, y]))
vmax = _binary(lambda b, x, y: b.call(_llvm(b, "llvm.maxnum.v4f64", 2), [x, y]))
vcopysign = _binary(lambda b, x, y: b.call(_llvm(b, "llvm.copysign.v4f64", 2), [x, y]))
_ARITH = {operator.add: _binary(lambda b, x, y: b.fadd(x, y)),
          operator.sub: _binary(lambda b, x, y: b.fsub(x, y)),
          operator.mul: _binary(lambda b, x, y: b.fmul(x, y)),
          operator.truediv: _binary(lambda b, x, y: b.fdiv(x, y))}


def _overload_arith(op, fn) -> None:
    @overload(op)
    def ov(a, b):
        scalar = (types.Float, types.Integer)
        if a == V4 and b == V4:
            return lambda a, b: fn(a, b)
        if a == V4 and isinstance(b, scalar):
            return lambda a, b: fn(a, splat(b))
        if b == V4 and isinstance(a, scalar):
            return lambda a, b: fn(splat(a), b)
        return None


for _op, _fn in _ARITH.items():
    _overload_arith(_op, _fn)

