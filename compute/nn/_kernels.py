"""Fused numba kernels for small MLPs: forward, backward and optimizer update in one compiled loop.

The math is torch's, written out: ``z = W a + b``; ``h = act(z)``; ``a' = h (+ a)``;
cross-entropy ``logsumexp(z) - z_y`` or Playground's squared error ``0.5 |tanh(z) - t|^2``
(``t = +-1``); gradients averaged over the batch; L1 ``+ l1 sign(W)``; global-norm clipping as
``clip_grad_norm_``; SGD (momentum, Nesterov), Adagrad, RMSprop, Adam, AdamW exactly as the
``torch.optim`` single-tensor implementations. The arrays' dtype (float64 or float32) is the
arithmetic's: numba compiles one specialization per dtype.

Layout: a batch lives in "lanes": layer ``l``'s activations are rows ``lay[RO + l] ..`` of a
``(sum(widths), S)`` buffer, one column (lane) per example. The kernels work on chunks of 16
lanes as one SIMD value (``_simd.Vec``: four AVX2 registers of float64 or two of float32), each
unit's dot product accumulating in registers. Lanes are padded to a multiple of 16 with zero
inputs and zero loss gradient, which leaves the sums unchanged. ``tanh``/``sigmoid``/``exp`` are
written as vector arithmetic (Cody-Waite reduction + Cephes' rational expm1, |err| ~ 1e-16 in
float64; float32 configs use Eigen's rational tanh, |rel err| <= 2.7e-7); ``reassoc`` lets the
compiler reorder sums (rounding only).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from ._simd import (
    LANES,
    exp_floor,
    hsum,
    keep_nan,
    pow2i,
    splat_as,
    vabs,
    vcopysign,
    vfloor,
    vfma,
    vload,
    vload1,
    vmax,
    vmin,
    vstore,
    vstore1,
    where_gt,
)

_JIT = {"cache": True, "nogil": True, "error_model": "numpy", "fastmath": {"reassoc", "contract"}}
# The pieces of a training step are inlined into their callers (numba IR inlining): as separate
# functions, each call passed every array as a dozen arguments and reference-counted it.
_PART = {**_JIT, "inline": "always"}

# TANH32 / MSE32: tanh to float32 accuracy (float32 configs)
LINEAR, RELU, TANH, SIGMOID, TANH32 = 0, 1, 2, 3, 4
SGD, ADAGRAD, RMSPROP, ADAM, ADAMW = 0, 1, 2, 3, 4
CROSS_ENTROPY, MSE, MSE32 = 0, 1, 2
# hp (float64 array) slots
HP_OPT, HP_MOM, HP_NEST, HP_WD, HP_B1, HP_B2, HP_EPS, HP_ALPHA, HP_L1, HP_CLIP, HP_LOSS = range(11)
N_HP = 11

_LOG2E = 1.4426950408889634
_LN2_HI = 0.6931471805599453
_LN2_LO = 2.3190468138462996e-17


@intrinsic
def _f64_from_bits(typingctx, i):
    if i != types.int64:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return types.float64(types.int64), codegen


@njit(**_JIT)
def _exp_reduced(y):
    """``exp(y) = s (1 + num / den)`` for ``-700 <= y <= 0``: ``s = 2^k`` and ``num / den =
    expm1(r)``, ``|r| <= ln2/2``, by Cephes' rational ``expm1(r) = 2 r P(r^2) / (Q(r^2) - r P(r^2))``
    (double precision). The fraction is left undivided: a vector division costs as much as the
    rest, and tanh folds two fractions into one division."""
    y = y if y > -700.0 else -700.0
    kf = np.floor(y * _LOG2E + 0.5)
    num, den = _expm1_fraction(y, kf)
    # via int32: AVX2 converts doubles to int32 lanes, not to int64
    return _f64_from_bits(np.int64(np.int32(kf) + 1023) << 52), num, den


@njit(**_JIT)
def _expm1_fraction(y, kf):
    """``expm1(r) = num / den`` for ``r = y - kf ln2`` (Cody-Waite), on a float or a ``Vec``."""
    r = (y - kf * _LN2_HI) - kf * _LN2_LO
    rr = r * r
    px = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr
              + 9.99999999999999999910e-1)
    qx = (((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
           + 2.27265548208155028766e-1) * rr + 2.00000000000000000009e0)
    return 2.0 * px, qx - px


@njit(**_JIT)
def _exp_nonpos(y):
    s, num, den = _exp_reduced(y)
    return s + s * (num / den)


CH = LANES  # lanes per chunk: one Vec (16 floats: four AVX2 registers of float64, two of float32)


@njit(**_JIT)
def _vexp_reduced(y):
    """``_exp_reduced`` on a vector (``y`` clamped below at ``exp_floor``: -700 in float64, -87
    in float32, where ``2^k`` is still a normal number)."""
    y = vmax(y, splat_as(y, exp_floor(y)))
    kf = vfloor(y * _LOG2E + 0.5)
    num, den = _expm1_fraction(y, kf)
    return pow2i(kf), num, den


@njit(**_JIT)
def _vtanh(x):
    """tanh by expm1: ``tanh|x| = -m / (2 + m)``, ``m = expm1(-2|x|) = s num / den + (s - 1)
    = e / den``: one division. Float64: within a few ulp of numpy's; NaN stays NaN."""
    ax = vmin(vabs(x), splat_as(x, 20.0))
    s, num, den = _vexp_reduced(-2.0 * ax)
    e = s * num + (s - 1.0) * den
    # |e / (2 den + e)| = tanh|x|, given x's sign
    return keep_nan(x, vcopysign(e / (2.0 * den + e), x))


# Eigen's float tanh (``ptanh_float``): x p(x^2) / q(x^2) on |x| <= 7.905, relative error
# <= 2.7e-7 (about 2 float32 ulp; torch's float32 tanh: 0.5 ulp), a third of _vtanh's work.
_T32_CLAMP = 7.90531110763549805
_T32_P = (4.89352455891786e-03, 6.37261928875436e-04, 1.48572235717979e-05,
          5.12229709037114e-08, -8.60467152213735e-11, 2.00018790482477e-13,
          -2.76076847742355e-16)
_T32_Q = (4.89352518554385e-03, 2.26843463243900e-03, 1.18534705686654e-04,
          1.19825839466702e-06)


@njit(**_JIT)
def _vtanh32(x):
    """tanh to float32 accuracy; NaN stays NaN.

    The clamp is two compare-and-selects, which keep a NaN (a comparison with NaN is false)
    for the rational function to carry through: ``min``/``max`` (whose IEEE minNum drops a NaN)
    plus a NaN restore cost twice the instructions, a third of this tanh's."""
    c = splat_as(x, _T32_CLAMP)
    y = where_gt(x, c, c, x)
    y = where_gt(c * -1.0, y, c * -1.0, y)
    y2 = y * y
    p = ((((((_T32_P[6] * y2 + _T32_P[5]) * y2 + _T32_P[4]) * y2 + _T32_P[3]) * y2 + _T32_P[2])
          * y2 + _T32_P[1]) * y2 + _T32_P[0]) * y
    q = ((_T32_Q[3] * y2 + _T32_Q[2]) * y2 + _T32_Q[1]) * y2 + _T32_Q[0]
    return p / q


@njit(**_JIT)
def _vsigmoid(x):
    s, num, den = _vexp_reduced(vabs(x) * -1.0)
    e = s + s * (num / den)  # exp(-|x|): never overflows
    return keep_nan(x, where_gt(splat_as(x, 0.0), x, e / (1.0 + e), 1.0 / (1.0 + e)))


@njit(**_JIT)
def _vact(v, code):
    if code == TANH32:
        return _vtanh32(v)
    if code == TANH:
        return _vtanh(v)
    if code == RELU:
        return vmax(v, splat_as(v, 0.0))
    if code == SIGMOID:
        return _vsigmoid(v)
    return v


@njit(**_JIT)
def _vact_backward(g, h, code):
    """``g * act'(z)`` written with the activation's output ``h``."""
    if code == TANH or code == TANH32:
        return g * (1.0 - h * h)
    if code == RELU:
        zero = splat_as(g, 0.0)
        return where_gt(h, zero, g, zero)
    if code == SIGMOID:
        return g * (1.0 - h) * h
    return g


@njit(**_PART)
def _forward(theta, lay, A, H, nb):
    """Layers 1..L on lanes ``[0, nb)`` (``nb`` a multiple of ``CH``); inputs already in rows
    ``0..F-1`` of ``A``; logits land in layer L's rows of ``A``. Per chunk of lanes and output
    unit, the dot product runs in one ``Vec`` held in registers."""
    L = lay[0]
    # lay's sections by offset (slicing them would cost reference counting on every call)
    SZ, WO, BO, AC, RS, RO = 3, 4 + L, 4 + 2 * L, 4 + 3 * L, 4 + 4 * L, 4 + 5 * L
    for li in range(1, L + 1):
        n_in = lay[SZ + li - 1]
        wo = lay[WO + li - 1]
        bo = lay[BO + li - 1]
        ri = lay[RO + li - 1]
        ro = lay[RO + li]
        code = lay[AC + li - 1]
        skip = lay[RS + li - 1] != 0
        for c in range(0, nb, CH):
            for j in range(lay[SZ + li]):
                acc = splat_as(A, theta[bo + j])
                wj = wo + j * n_in
                for k in range(n_in):
                    acc = vfma(splat_as(A, theta[wj + k]), vload(A, ri + k, c), acc)
                row = ro + j
                if li < L:
                    acc = _vact(acc, code)
                    vstore(H, row, c, acc)
                    if skip:
                        acc = vload(A, ri + j, c) + acc
                vstore(A, row, c, acc)


@njit(**_PART)
def _load(XT, perms, p, start, B, nb, A, F, Y, yl):
    """Examples ``perms[p, start + b]`` (``p < 0``: ``start + b``, copied as contiguous rows) of the
    feature-major ``XT (F, n)`` into lanes ``b < B`` of the input rows of ``A`` and of ``yl``; zero
    inputs and label 0 on padding lanes ``[B, nb)``."""
    if p >= 0:
        for b in range(B):
            i = perms[p, start + b]
            for k in range(F):
                A[k, b] = XT[k, i]
            yl[b] = Y[i]
    else:
        for k in range(F):
            for b in range(B):
                A[k, b] = XT[k, start + b]
        for b in range(B):
            yl[b] = Y[start + b]
    for k in range(F):
        for b in range(B, nb):
            A[k, b] = 0.0
    for b in range(B, nb):
        yl[b] = 0


@njit(**_PART)
def _loss(A, D, yl, B, nb, zo, n_out, loss_code, scale, tm, ts, ll):
    """Per-lane losses into ``ll``; returns their sum over the ``B`` real lanes.

    ``D = scale * dloss/dz`` at the output rows, 0 on padding lanes ``[B, nb)``; cross-entropy
    skips the gradient when ``scale == 0``.
    """
    total = 0.0
    if loss_code == CROSS_ENTROPY:
        for b in range(nb):
            tm[b] = A[zo, b]
        for j in range(1, n_out):
            for b in range(nb):
                v = A[zo + j, b]
                tm[b] = v if v > tm[b] else tm[b]
        for b in range(nb):
            ts[b] = 0.0
        for j in range(n_out):
            for b in range(nb):
                e = _exp_nonpos(A[zo + j, b] - tm[b])
                D[zo + j, b] = e
                ts[b] += e
        for b in range(B):
            ll[b] = math.log(ts[b]) + tm[b] - A[zo + yl[b], b]
        if scale != 0.0:
            for j in range(n_out):
                for b in range(nb):
                    p = D[zo + j, b] / ts[b]
                    D[zo + j, b] = (p - (1.0 if yl[b] == j else 0.0)) * scale
    else:
        # squared error on tanh outputs; one output: target +1 for class 1, -1 for class 0
        for b in range(nb):
            ll[b] = 0.0
        for j in range(n_out):
            cls = 1 if n_out == 1 else j
            for b in range(nb):
                tm[b] = 1.0 if yl[b] == cls else -1.0
            for c in range(0, nb, CH):
                z = vload(A, zo + j, c)
                o = _vtanh32(z) if loss_code == MSE32 else _vtanh(z)
                diff = o - vload1(tm, c)
                vstore1(ll, c, vfma(diff * 0.5, diff, vload1(ll, c)))
                vstore(D, zo + j, c, diff * (1.0 - o * o) * scale)
    for b in range(B):
        total += ll[b]
    for j in range(n_out):
        for b in range(B, nb):
            D[zo + j, b] = 0.0
    return total


@njit(**_PART)
def _backward(theta, grad, lay, A, H, G, D, nb):
    """Accumulate ``grad += dL/dtheta`` from ``D`` at the output layer (``grad`` zeroed by caller;
    ``D`` zero on padding lanes)."""
    L = lay[0]
    SZ, WO, BO, AC, RS, RO = 3, 4 + L, 4 + 2 * L, 4 + 3 * L, 4 + 4 * L, 4 + 5 * L
    for li in range(L, 0, -1):
        n_in = lay[SZ + li - 1]
        n_out = lay[SZ + li]
        wo = lay[WO + li - 1]
        bo = lay[BO + li - 1]
        ri = lay[RO + li - 1]
        ro = lay[RO + li]
        for c in range(0, nb, CH):
            for j in range(n_out):
                d = vload(D, ro + j, c)
                grad[bo + j] += hsum(d)
                wj = wo + j * n_in
                for k in range(n_in):
                    grad[wj + k] += hsum(d * vload(A, ri + k, c))
            if li > 1:
                code = lay[AC + li - 2]
                skip = lay[RS + li - 1] != 0
                for k in range(n_in):
                    # a_l = a_{l-1} + h_l: the skip passes dL/da_l straight through
                    g = vload(G, ro + k, c) if skip else splat_as(G, 0.0)
                    for j in range(n_out):
                        g = vfma(splat_as(G, theta[wo + j * n_in + k]), vload(D, ro + j, c), g)
                    col = ri + k
                    vstore(G, col, c, g)
                    vstore(D, col, c, _vact_backward(g, vload(H, col, c), code))


@njit(**_PART)
def _regularize_and_clip(theta, grad, lay, hp):
    """``grad += l1 sign(W)``; then ``clip_grad_norm_``. Returns the pre-clip norm (-1: no clip)."""
    L = lay[0]
    SZ, WO = 3, 4 + L
    l1 = hp[HP_L1]
    if l1 != 0.0:
        for li in range(L):
            lo = lay[WO + li]
            for i in range(lo, lo + lay[SZ + li] * lay[SZ + li + 1]):
                w = theta[i]
                grad[i] += l1 * (1.0 if w > 0.0 else (-1.0 if w < 0.0 else 0.0))
    max_norm = hp[HP_CLIP]
    if max_norm <= 0.0:
        return -1.0
    total = 0.0
    for i in range(grad.shape[0]):
        total += grad[i] * grad[i]
    total = math.sqrt(total)
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for i in range(grad.shape[0]):
            grad[i] *= coef
    return total


@njit(**_PART)
def _update(theta, grad, s1, s2, t, lr, hp):
    """One torch.optim step (single-tensor formulas); ``t`` is the 1-based step count.

    ``grad`` is left as it is (torch adds weight decay out of place too).
    """
    code = int(hp[HP_OPT])
    wd = hp[HP_WD]
    P = theta.shape[0]
    if code == ADAMW:
        if wd != 0.0:
            f = 1.0 - lr * wd
            for i in range(P):
                theta[i] *= f
        wd = 0.0
    if code == SGD:
        mom = hp[HP_MOM]
        if mom == 0.0:
            for i in range(P):
                theta[i] -= lr * (grad[i] + wd * theta[i])
        elif hp[HP_NEST] != 0.0:
            for i in range(P):
                g = grad[i] + wd * theta[i]
                buf = mom * s1[i] + g
                s1[i] = buf
                theta[i] -= lr * (g + mom * buf)
        else:
            for i in range(P):
                buf = mom * s1[i] + (grad[i] + wd * theta[i])
                s1[i] = buf
                theta[i] -= lr * buf
    elif code == ADAGRAD:
        eps = hp[HP_EPS]
        for i in range(P):
            g = grad[i] + wd * theta[i]
            s1[i] += g * g
            theta[i] -= lr * (g / (math.sqrt(s1[i]) + eps))
    elif code == RMSPROP:
        alpha = hp[HP_ALPHA]
        eps = hp[HP_EPS]
        mom = hp[HP_MOM]
        if mom > 0.0:
            for i in range(P):
                g = grad[i] + wd * theta[i]
                s1[i] = alpha * s1[i] + (1.0 - alpha) * (g * g)
                s2[i] = mom * s2[i] + g / (math.sqrt(s1[i]) + eps)
                theta[i] -= lr * s2[i]
        else:
            for i in range(P):
                g = grad[i] + wd * theta[i]
                s1[i] = alpha * s1[i] + (1.0 - alpha) * (g * g)
                theta[i] -= lr * (g / (math.sqrt(s1[i]) + eps))
    else:
        b1 = hp[HP_B1]
        b2 = hp[HP_B2]
        eps = hp[HP_EPS]
        w = 1.0 - b1
        step_size = lr / (1.0 - b1 ** t)
        bc2_sqrt = (1.0 - b2 ** t) ** 0.5
        for i in range(P):
            g = grad[i] + wd * theta[i]
            m = s1[i]
            m = m + w * (g - m) if w < 0.5 else g - (g - m) * (1.0 - w)  # torch.lerp
            s1[i] = m
            v = b2 * s2[i] + (1.0 - b2) * (g * g)
            s2[i] = v
            theta[i] -= step_size * (m / (math.sqrt(v) / bc2_sqrt + eps))


@njit(**_JIT)
def evaluate(theta, lay, XT, Y, A, H, tm, ts, ll, yl, zout, with_loss):
    """Full-set forward of ``XT (F, n)``: ``(loss_sum, n_correct)``; logits into ``zout (n, n_out)``
    if it has rows. Without ``with_loss`` (points with no labels, e.g. a decision boundary's
    grid), only the logits: the loss and count are 0."""
    L = lay[0]
    S = lay[1]
    F = lay[3]
    n_out = lay[3 + L]
    zo = lay[4 + 5 * L + L]
    n = XT.shape[1]
    loss = 0.0
    correct = 0
    in_order = np.empty((0, 0), dtype=np.int64)
    for start in range(0, n, S):
        B = min(S, n - start)
        nb = (B + CH - 1) // CH * CH
        _load(XT, in_order, -1, start, B, nb, A, F, Y, yl)
        _forward(theta, lay, A, H, nb)
        if with_loss:
            loss += _loss(A, H, yl, B, nb, zo, n_out, lay[2], 0.0, tm, ts, ll)
        for b in range(B):
            if with_loss:
                if n_out == 1:
                    pred = 1 if A[zo, b] > 0.0 else 0
                else:
                    pred = 0
                    best = A[zo, b]
                    for j in range(1, n_out):
                        v = A[zo + j, b]
                        if v > best:
                            best = v
                            pred = j
                correct += pred == yl[b]
            if zout.shape[0] > 0:
                for j in range(n_out):
                    zout[start + b, j] = A[zo + j, b]
    return loss, correct


@njit(**_JIT)
def run_steps(theta, grad, s1, s2, counters, XT, Y, perms, lrs, bs, g0, g1, lay, hp,
              A, H, G, D, tm, ts, ll, yl, step_loss, XteT, Yte, epoch_out, grad_norms, snap):
    """Optimizer steps ``g0 .. g1-1`` (global numbering); at each epoch end, evaluate. Inputs are
    feature-major: ``XT (F, n)``, ``XteT (F, n_test)``.

    ``counters``: ``[optimizer step count t, running epoch loss sum]``. ``perms (k, n)``: the
    shuffles of epochs ``g0 // spe ..``. Writes ``step_loss[g - g0]`` (batch mean),
    ``epoch_out[e] = [epoch loss, train loss, train acc, test loss, test acc]`` for the epochs
    that end in the chunk, and the pre-clip global gradient norm into ``grad_norms[g - g0]``
    (-1 without clipping). ``snap (k, 2, P)``, unless empty: the weights and the last gradient
    at each epoch's end (for progress reports on chunks of many epochs).
    """
    L = lay[0]
    F = lay[3]
    n_out = lay[3 + L]
    zo = lay[4 + 5 * L + L]
    loss_code = lay[2]
    n = XT.shape[1]
    spe = (n + bs - 1) // bs
    e0 = g0 // spe
    P = theta.shape[0]
    no_logits = np.empty((0, 0))
    for g in range(g0, g1):
        e = g // spe
        s = g - e * spe
        start = s * bs
        B = min(bs, n - start)
        nb = (B + CH - 1) // CH * CH
        _load(XT, perms, e - e0, start, B, nb, A, F, Y, yl)
        _forward(theta, lay, A, H, nb)
        loss = _loss(A, D, yl, B, nb, zo, n_out, loss_code, 1.0 / B, tm, ts, ll)
        for i in range(P):
            grad[i] = 0.0
        _backward(theta, grad, lay, A, H, G, D, nb)
        grad_norms[g - g0] = _regularize_and_clip(theta, grad, lay, hp)
        counters[0] += 1.0
        _update(theta, grad, s1, s2, counters[0], lrs[g], hp)
        step_loss[g - g0] = loss / B
        counters[1] += loss
        if s == spe - 1:
            out = epoch_out[e - e0]
            out[0] = counters[1] / n
            counters[1] = 0.0
            tr_loss, tr_ok = evaluate(theta, lay, XT, Y, A, H, tm, ts, ll, yl, no_logits, True)
            te_loss, te_ok = evaluate(theta, lay, XteT, Yte, A, H, tm, ts, ll, yl, no_logits, True)
            out[1] = tr_loss / n
            out[2] = tr_ok / n
            out[3] = te_loss / XteT.shape[1]
            out[4] = te_ok / XteT.shape[1]
            if snap.shape[0] > 0:
                for i in range(P):
                    snap[e - e0, 0, i] = theta[i]
                    snap[e - e0, 1, i] = grad[i]
