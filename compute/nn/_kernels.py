"""Fused numba kernels for small MLPs: forward, backward and optimizer update in one compiled loop.

The math is torch's, written out: ``z = W a + b``; ``h = act(z)``; ``a' = h (+ a)``;
cross-entropy ``logsumexp(z) - z_y`` or Playground's squared error ``0.5 |tanh(z) - t|^2``
(``t = +-1``); gradients averaged over the batch; L1 ``+ l1 sign(W)``; global-norm clipping as
``clip_grad_norm_``; SGD (momentum, Nesterov), Adagrad, RMSprop, Adam, AdamW exactly as the
``torch.optim`` single-tensor implementations, in float64.

Layout: a batch lives in "lanes": layer ``l``'s activations are rows ``lay[RO + l] ..`` of a
``(sum(widths), S)`` buffer, one column (lane) per example, so every inner loop runs over
contiguous lanes and LLVM vectorizes it (AVX2: 4 doubles). Lanes are padded to a multiple of 4 with zero inputs and zero
loss gradient, which leaves the sums unchanged. ``tanh``/``sigmoid``/``exp`` are written as
arithmetic (Cody-Waite reduction + Cephes' rational expm1, |err| ~ 1e-16) so they vectorize;
``reassoc`` lets reductions over lanes vectorize (sums in a different order: rounding only).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from ._simd import (hsum, keep_nan, pow2i, splat, vabs, vcopysign, vfloor, vfma, vload, vload1,
                    vmax, vmin, vstore, vstore1, where_gt)

_JIT = {"cache": True, "nogil": True, "error_model": "numpy", "fastmath": {"reassoc", "contract"}}

# TANH32 / MSE32: tanh to float32 accuracy (float32 configs), everything else still float64
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
    r = (y - kf * _LN2_HI) - kf * _LN2_LO
    rr = r * r
    px = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr
              + 9.99999999999999999910e-1)
    qx = (((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
           + 2.27265548208155028766e-1) * rr + 2.00000000000000000009e0)
    # via int32: AVX2 converts doubles to int32 lanes, not to int64
    s = _f64_from_bits(np.int64(np.int32(kf) + 1023) << 52)
    return s, 2.0 * px, qx - px


@njit(**_JIT)
def _exp_nonpos(y):
    s, num, den = _exp_reduced(y)
    return s + s * (num / den)


@njit(**_JIT)
def _tanh(x):
    # tanh|x| = -m / (2 + m) with m = expm1(-2|x|) = s num / den + (s - 1) = e / den: one division
    ax = abs(x)
    ax = ax if ax < 20.0 else 20.0
    s, num, den = _exp_reduced(-2.0 * ax)
    e = s * num + (s - 1.0) * den
    t = -e / (2.0 * den + e)
    return t if x >= 0.0 else -t


@njit(**_JIT)
def _sigmoid(x):
    e = _exp_nonpos(-abs(x))  # exp(-|x|): never overflows
    return 1.0 / (1.0 + e) if x >= 0.0 else e / (1.0 + e)


CH = 16  # lanes per chunk: four V4 accumulators


@njit(**_JIT)
def _vexp_reduced(y):
    """``_exp_reduced`` on four lanes."""
    y = vmax(y, splat(-700.0))
    kf = vfloor(y * _LOG2E + 0.5)
    r = (y - kf * _LN2_HI) - kf * _LN2_LO
    rr = r * r
    px = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr
              + 9.99999999999999999910e-1)
    qx = (((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
           + 2.27265548208155028766e-1) * rr + 2.00000000000000000009e0)
    return pow2i(kf), 2.0 * px, qx - px


@njit(**_JIT)
def _vtanh(x):
    """``_tanh`` on four lanes (same formula); NaN stays NaN."""
    ax = vmin(vabs(x), splat(20.0))
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
    """tanh to float32 accuracy, in float64 arithmetic; NaN stays NaN."""
    c = splat(_T32_CLAMP)
    y = vmax(vmin(x, c), splat(-_T32_CLAMP))
    y2 = y * y
    p = ((((((_T32_P[6] * y2 + _T32_P[5]) * y2 + _T32_P[4]) * y2 + _T32_P[3]) * y2 + _T32_P[2])
          * y2 + _T32_P[1]) * y2 + _T32_P[0]) * y
    q = ((_T32_Q[3] * y2 + _T32_Q[2]) * y2 + _T32_Q[1]) * y2 + _T32_Q[0]
    return keep_nan(x, p / q)


@njit(**_JIT)
def _vsigmoid(x):
    s, num, den = _vexp_reduced(vabs(x) * -1.0)
    e = s + s * (num / den)  # exp(-|x|): never overflows
    return keep_nan(x, where_gt(splat(0.0), x, e / (1.0 + e), 1.0 / (1.0 + e)))


@njit(**_JIT)
def _vact(v, code):
    if code == TANH32:
        return _vtanh32(v)
    if code == TANH:
        return _vtanh(v)
    if code == RELU:
        return vmax(v, splat(0.0))
    if code == SIGMOID:
        return _vsigmoid(v)
    return v


@njit(**_JIT)
def _vact_backward(g, h, code):
    """``g * act'(z)`` written with the activation's output ``h``."""
    if code == TANH or code == TANH32:
        return g * (1.0 - h * h)
    if code == RELU:
        return where_gt(h, splat(0.0), g, splat(0.0))
    if code == SIGMOID:
        return g * (1.0 - h) * h
    return g


@njit(**_JIT)
def _forward(theta, lay, A, H, nb):
    """Layers 1..L on lanes ``[0, nb)`` (``nb`` a multiple of ``CH``); inputs already in rows
    ``0..F-1`` of ``A``; logits land in layer L's rows of ``A``. Per chunk of 16 lanes and
    output unit, the dot product runs in four vector registers."""
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
        skip = lay[RS + li - 1]
        for c in range(0, nb, CH):
            for j in range(lay[SZ + li]):
                a0 = splat(theta[bo + j])
                a1 = a0
                a2 = a0
                a3 = a0
                wj = wo + j * n_in
                for k in range(n_in):
                    w = splat(theta[wj + k])
                    col = ri + k
                    a0 = vfma(w, vload(A, col, c), a0)
                    a1 = vfma(w, vload(A, col, c + 4), a1)
                    a2 = vfma(w, vload(A, col, c + 8), a2)
                    a3 = vfma(w, vload(A, col, c + 12), a3)
                row = ro + j
                if li < L:
                    a0 = _vact(a0, code)
                    a1 = _vact(a1, code)
                    a2 = _vact(a2, code)
                    a3 = _vact(a3, code)
                    vstore(H, row, c, a0)
                    vstore(H, row, c + 4, a1)
                    vstore(H, row, c + 8, a2)
                    vstore(H, row, c + 12, a3)
                    if skip:
                        prev = ri + j
                        a0 = vload(A, prev, c) + a0
                        a1 = vload(A, prev, c + 4) + a1
                        a2 = vload(A, prev, c + 8) + a2
                        a3 = vload(A, prev, c + 12) + a3
                vstore(A, row, c, a0)
                vstore(A, row, c + 4, a1)
                vstore(A, row, c + 8, a2)
                vstore(A, row, c + 12, a3)


@njit(**_JIT)
def _load(X, perms, p, start, B, nb, A, F, Y, yl):
    """Examples ``perms[p, start + b]`` (``p < 0``: ``start + b``) into lanes ``b < B`` of the input
    rows of ``A`` and of ``yl``; zero inputs and label 0 on padding lanes ``[B, nb)``."""
    for b in range(B):
        i = perms[p, start + b] if p >= 0 else start + b
        for k in range(F):
            A[k, b] = X[i, k]
        yl[b] = Y[i]
    for k in range(F):
        for b in range(B, nb):
            A[k, b] = 0.0
    for b in range(B, nb):
        yl[b] = 0


@njit(**_JIT)
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
            for c in range(0, nb, 4):
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


@njit(**_JIT)
def _backward(theta, grad, lay, A, H, G, D, nb):
    """Accumulate ``grad += dL/dtheta`` from ``D`` at the output layer (``grad`` zeroed by caller;
    ``D`` zero on padding lanes)."""
    L = lay[0]
    # lay's sections by offset (slicing them would cost reference counting on every call)
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
                drow = ro + j
                d0 = vload(D, drow, c)
                d1 = vload(D, drow, c + 4)
                d2 = vload(D, drow, c + 8)
                d3 = vload(D, drow, c + 12)
                grad[bo + j] += hsum((d0 + d1) + (d2 + d3))
                wj = wo + j * n_in
                for k in range(n_in):
                    col = ri + k
                    t = vfma(d1, vload(A, col, c + 4), d0 * vload(A, col, c))
                    t = vfma(d2, vload(A, col, c + 8), t)
                    t = vfma(d3, vload(A, col, c + 12), t)
                    grad[wj + k] += hsum(t)
            if li > 1:
                code = lay[AC + li - 2]
                for k in range(n_in):
                    col = ri + k
                    if lay[RS + li - 1]:  # a_l = a_{l-1} + h_l: the skip passes dL/da_l straight through
                        g0 = vload(G, ro + k, c)
                        g1 = vload(G, ro + k, c + 4)
                        g2 = vload(G, ro + k, c + 8)
                        g3 = vload(G, ro + k, c + 12)
                    else:
                        g0 = splat(0.0)
                        g1 = g0
                        g2 = g0
                        g3 = g0
                    for j in range(n_out):
                        w = splat(theta[wo + j * n_in + k])
                        drow = ro + j
                        g0 = vfma(w, vload(D, drow, c), g0)
                        g1 = vfma(w, vload(D, drow, c + 4), g1)
                        g2 = vfma(w, vload(D, drow, c + 8), g2)
                        g3 = vfma(w, vload(D, drow, c + 12), g3)
                    vstore(G, col, c, g0)
                    vstore(G, col, c + 4, g1)
                    vstore(G, col, c + 8, g2)
                    vstore(G, col, c + 12, g3)
                    vstore(D, col, c, _vact_backward(g0, vload(H, col, c), code))
                    vstore(D, col, c + 4, _vact_backward(g1, vload(H, col, c + 4), code))
                    vstore(D, col, c + 8, _vact_backward(g2, vload(H, col, c + 8), code))
                    vstore(D, col, c + 12, _vact_backward(g3, vload(H, col, c + 12), code))


@njit(**_JIT)
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


@njit(**_JIT)
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
def evaluate(theta, lay, X, Y, A, H, tm, ts, ll, yl, zout):
    """Full-set forward: ``(loss_sum, n_correct)``; logits into ``zout (n, n_out)`` if it has rows."""
    L = lay[0]
    S = lay[1]
    F = lay[3]
    n_out = lay[3 + L]
    zo = lay[4 + 5 * L + L]
    n = X.shape[0]
    loss = 0.0
    correct = 0
    in_order = np.empty((0, 0), dtype=np.int64)
    for start in range(0, n, S):
        B = min(S, n - start)
        nb = (B + CH - 1) // CH * CH
        _load(X, in_order, -1, start, B, nb, A, F, Y, yl)
        _forward(theta, lay, A, H, nb)
        loss += _loss(A, H, yl, B, nb, zo, n_out, lay[2], 0.0, tm, ts, ll)
        for b in range(B):
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
def run_steps(theta, grad, s1, s2, counters, X, Y, perms, lrs, bs, g0, g1, lay, hp,
              A, H, G, D, tm, ts, ll, yl, step_loss, Xte, Yte, epoch_out, grad_norms, snap):
    """Optimizer steps ``g0 .. g1-1`` (global numbering); at each epoch end, evaluate.

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
    n = X.shape[0]
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
        _load(X, perms, e - e0, start, B, nb, A, F, Y, yl)
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
            tr_loss, tr_ok = evaluate(theta, lay, X, Y, A, H, tm, ts, ll, yl, no_logits)
            te_loss, te_ok = evaluate(theta, lay, Xte, Yte, A, H, tm, ts, ll, yl, no_logits)
            out[1] = tr_loss / n
            out[2] = tr_ok / n
            out[3] = te_loss / Xte.shape[0]
            out[4] = te_ok / Xte.shape[0]
            if snap.shape[0] > 0:
                for i in range(P):
                    snap[e - e0, 0, i] = theta[i]
                    snap[e - e0, 1, i] = grad[i]
