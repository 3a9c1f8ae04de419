"""Fused numba kernels for small MLPs: forward, backward and optimizer update in one compiled loop.

The math is torch's, written out: ``z = W a + b``; ``h = act(z)``; ``a' = h (+ a)``;
cross-entropy ``logsumexp(z) - z_y`` or Playground's squared error ``0.5 |tanh(z) - t|^2``
(``t = +-1``); gradients averaged over the batch; L1 ``+ l1 sign(W)``; global-norm clipping as
``clip_grad_norm_``; SGD (momentum, Nesterov), Adagrad, RMSprop, Adam, AdamW exactly as the
``torch.optim`` single-tensor implementations, in float64.

Layout: a batch lives in "lanes": layer ``l``'s activations are rows ``r_off[l] ..`` of a
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

_JIT = {"cache": True, "nogil": True, "error_model": "numpy", "fastmath": {"reassoc", "contract"}}

LINEAR, RELU, TANH, SIGMOID = 0, 1, 2, 3
SGD, ADAGRAD, RMSPROP, ADAM, ADAMW = 0, 1, 2, 3, 4
CROSS_ENTROPY, MSE = 0, 1
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
def _exp_parts(y):
    """``exp(y) = s (1 + q)`` for ``-700 <= y <= 0``: ``s = 2^k``, ``q = expm1(r)``, ``|r| <= ln2/2``.

    Cephes' rational ``expm1(r) = 2 r P(r^2) / (Q(r^2) - r P(r^2))`` (double precision).
    """
    y = y if y > -700.0 else -700.0
    kf = np.floor(y * _LOG2E + 0.5)
    r = (y - kf * _LN2_HI) - kf * _LN2_LO
    rr = r * r
    px = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr
              + 9.99999999999999999910e-1)
    qx = (((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
           + 2.27265548208155028766e-1) * rr + 2.00000000000000000009e0)
    q = 2.0 * px / (qx - px)
    # via int32: AVX2 converts doubles to int32 lanes, not to int64
    s = _f64_from_bits(np.int64(np.int32(kf) + 1023) << 52)
    return s, q


@njit(**_JIT)
def _exp_nonpos(y):
    s, q = _exp_parts(y)
    return s + s * q


@njit(**_JIT)
def _expm1_parts(y):
    """``expm1(y) = num / den`` for ``-700 <= y <= 0``, without dividing (see ``_exp_parts``)."""
    y = y if y > -700.0 else -700.0
    kf = np.floor(y * _LOG2E + 0.5)
    r = (y - kf * _LN2_HI) - kf * _LN2_LO
    rr = r * r
    px = r * ((1.26177193074810590878e-4 * rr + 3.02994407707441961300e-2) * rr
              + 9.99999999999999999910e-1)
    qx = (((3.00198505138664455042e-6 * rr + 2.52448340349684104192e-3) * rr
           + 2.27265548208155028766e-1) * rr + 2.00000000000000000009e0)
    s = _f64_from_bits(np.int64(np.int32(kf) + 1023) << 52)
    # expm1(y) = s expm1(r) + (s - 1), expm1(r) = 2 px / (qx - px): one fraction
    den = qx - px
    return s * (2.0 * px) + (s - 1.0) * den, den


@njit(**_JIT)
def _tanh(x):
    # tanh|x| = -m / (2 + m), m = expm1(-2|x|) = num / den: -num / (2 den + num), one division
    # (a vector division costs as much as the rest of tanh)
    ax = abs(x)
    ax = ax if ax < 20.0 else 20.0
    num, den = _expm1_parts(-2.0 * ax)
    t = -num / (2.0 * den + num)
    return t if x >= 0.0 else -t


@njit(**_JIT)
def _sigmoid(x):
    e = _exp_nonpos(-abs(x))  # exp(-|x|): never overflows
    return 1.0 / (1.0 + e) if x >= 0.0 else e / (1.0 + e)


@njit(**_JIT)
def _activate(H, row, n, code):
    if code == RELU:
        for b in range(n):
            v = H[row, b]
            H[row, b] = v if v > 0.0 else 0.0
    elif code == TANH:
        for b in range(n):
            H[row, b] = _tanh(H[row, b])
    elif code == SIGMOID:
        for b in range(n):
            H[row, b] = _sigmoid(H[row, b])


@njit(**_JIT)
def _act_backward(D, G, H, row, n, code):
    """``D = G * act'(z)`` written with the activation's output ``h``."""
    if code == LINEAR:
        for b in range(n):
            D[row, b] = G[row, b]
    elif code == RELU:
        for b in range(n):
            D[row, b] = G[row, b] if H[row, b] > 0.0 else 0.0
    elif code == TANH:
        for b in range(n):
            h = H[row, b]
            D[row, b] = G[row, b] * (1.0 - h * h)
    else:
        for b in range(n):
            h = H[row, b]
            D[row, b] = G[row, b] * (1.0 - h) * h


@njit(**_JIT)
def _forward(theta, lay, A, H, nb):
    """Layers 1..L on lanes ``[0, nb)``; inputs already in rows ``0..F-1`` of ``A``; logits land
    in layer L's rows of ``A``. Row offsets are loop-invariant and lanes are ``range``
    induction variables, so numba drops wraparound checks and LLVM vectorizes the lane loops."""
    L = lay[0]
    sizes = lay[3:3 + L + 1]
    w_off = lay[4 + L:4 + 2 * L]
    b_off = lay[4 + 2 * L:4 + 3 * L]
    acts = lay[4 + 3 * L:4 + 4 * L]
    res = lay[4 + 4 * L:4 + 5 * L]
    r_off = lay[4 + 5 * L:5 + 6 * L]
    for li in range(1, L + 1):
        n_in = sizes[li - 1]
        n_out = sizes[li]
        wo = w_off[li - 1]
        ri = r_off[li - 1]
        ro = r_off[li]
        code = acts[li - 1]
        out = H if li < L else A
        for j in range(n_out):
            row = ro + j
            bj = theta[b_off[li - 1] + j]
            for b in range(nb):
                out[row, b] = bj
            for k in range(n_in):
                w = theta[wo + j * n_in + k]
                col = ri + k
                for b in range(nb):
                    out[row, b] += w * A[col, b]
            if li < L:
                _activate(H, row, nb, code)
                if res[li - 1]:
                    prev = ri + j
                    for b in range(nb):
                        A[row, b] = A[prev, b] + H[row, b]
                else:
                    for b in range(nb):
                        A[row, b] = H[row, b]


@njit(**_JIT)
def _load(X, idx, start, B, nb, A, F):
    for k in range(F):
        for b in range(B):
            A[k, b] = X[idx[start + b], k]
        for b in range(B, nb):
            A[k, b] = 0.0


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
            for b in range(nb):
                o = _tanh(A[zo + j, b])
                hit = (yl[b] == 1) if n_out == 1 else (yl[b] == j)
                diff = o - (1.0 if hit else -1.0)
                ll[b] += 0.5 * diff * diff
                D[zo + j, b] = diff * (1.0 - o * o) * scale
    for b in range(B):
        total += ll[b]
    for j in range(n_out):
        for b in range(B, nb):
            D[zo + j, b] = 0.0
    return total


@njit(**_JIT)
def _backward(theta, grad, lay, A, H, G, D, nb):
    """Accumulate ``grad += dL/dtheta`` from ``D`` at the output layer (``grad`` zeroed by caller)."""
    L = lay[0]
    sizes = lay[3:3 + L + 1]
    w_off = lay[4 + L:4 + 2 * L]
    b_off = lay[4 + 2 * L:4 + 3 * L]
    acts = lay[4 + 3 * L:4 + 4 * L]
    res = lay[4 + 4 * L:4 + 5 * L]
    r_off = lay[4 + 5 * L:5 + 6 * L]
    for li in range(L, 0, -1):
        n_in = sizes[li - 1]
        n_out = sizes[li]
        wo = w_off[li - 1]
        ri = r_off[li - 1]
        ro = r_off[li]
        for j in range(n_out):
            drow = ro + j
            acc = 0.0
            for b in range(nb):
                acc += D[drow, b]
            grad[b_off[li - 1] + j] += acc
            for k in range(n_in):
                col = ri + k
                acc = 0.0
                for b in range(nb):
                    acc += D[drow, b] * A[col, b]
                grad[wo + j * n_in + k] += acc
        if li > 1:
            for k in range(n_in):
                if res[li - 1]:  # a_l = a_{l-1} + h_l: the skip passes dL/da_l straight through
                    for b in range(nb):
                        G[ri + k, b] = G[ro + k, b]
                else:
                    for b in range(nb):
                        G[ri + k, b] = 0.0
            for j in range(n_out):
                drow = ro + j
                for k in range(n_in):
                    w = theta[wo + j * n_in + k]
                    col = ri + k
                    for b in range(nb):
                        G[col, b] += w * D[drow, b]
            for k in range(n_in):
                _act_backward(D, G, H, ri + k, nb, acts[li - 2])


@njit(**_JIT)
def _regularize_and_clip(theta, grad, lay, hp):
    """``grad += l1 sign(W)``; then ``clip_grad_norm_``. Returns the pre-clip norm (-1: no clip)."""
    L = lay[0]
    sizes = lay[3:3 + L + 1]
    w_off = lay[4 + L:4 + 2 * L]
    l1 = hp[HP_L1]
    if l1 != 0.0:
        for li in range(L):
            lo = w_off[li]
            gw = grad[lo:lo + sizes[li] * sizes[li + 1]]
            tw = theta[lo:lo + sizes[li] * sizes[li + 1]]
            for i in range(gw.shape[0]):
                w = tw[i]
                gw[i] += l1 * (1.0 if w > 0.0 else (-1.0 if w < 0.0 else 0.0))
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
    idx = np.arange(n)
    for start in range(0, n, S):
        B = min(S, n - start)
        nb = (B + 3) // 4 * 4
        _load(X, idx, start, B, nb, A, F)
        for b in range(B):
            yl[b] = Y[start + b]
        for b in range(B, nb):
            yl[b] = 0
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
        nb = (B + 3) // 4 * 4
        perm = perms[e - e0]
        _load(X, perm, start, B, nb, A, F)
        for b in range(B):
            yl[b] = Y[perm[start + b]]
        for b in range(B, nb):
            yl[b] = 0
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


# --- many runs at once: lanes are runs -------------------------------------------------------
# theta, grad, s1, s2: (P, Rp), one column per run; buffers (rows, Rp); per-run hyperparameters
# hv (N_HP, Rp). Each example of a batch is pushed through all runs together; per-example
# gradients accumulate elementwise (no reductions), so every loop is a lane loop.

@njit(**_JIT)
def _m_forward(theta, lay, A, H, R):
    L = lay[0]
    sizes = lay[3:3 + L + 1]
    w_off = lay[4 + L:4 + 2 * L]
    b_off = lay[4 + 2 * L:4 + 3 * L]
    acts = lay[4 + 3 * L:4 + 4 * L]
    res = lay[4 + 4 * L:4 + 5 * L]
    r_off = lay[4 + 5 * L:5 + 6 * L]
    for li in range(1, L + 1):
        n_in = sizes[li - 1]
        wo = w_off[li - 1]
        ri = r_off[li - 1]
        ro = r_off[li]
        out = H if li < L else A
        for j in range(sizes[li]):
            row = ro + j
            bo = b_off[li - 1] + j
            for r in range(R):
                out[row, r] = theta[bo, r]
            for k in range(n_in):
                wr = wo + j * n_in + k
                col = ri + k
                for r in range(R):
                    out[row, r] += theta[wr, r] * A[col, r]
            if li < L:
                _activate(H, row, R, acts[li - 1])
                if res[li - 1]:
                    prev = ri + j
                    for r in range(R):
                        A[row, r] = A[prev, r] + H[row, r]
                else:
                    for r in range(R):
                        A[row, r] = H[row, r]


@njit(**_JIT)
def _m_backward(theta, grad, lay, A, H, G, D, R):
    L = lay[0]
    sizes = lay[3:3 + L + 1]
    w_off = lay[4 + L:4 + 2 * L]
    b_off = lay[4 + 2 * L:4 + 3 * L]
    acts = lay[4 + 3 * L:4 + 4 * L]
    res = lay[4 + 4 * L:4 + 5 * L]
    r_off = lay[4 + 5 * L:5 + 6 * L]
    for li in range(L, 0, -1):
        n_in = sizes[li - 1]
        n_out = sizes[li]
        wo = w_off[li - 1]
        ri = r_off[li - 1]
        ro = r_off[li]
        for j in range(n_out):
            drow = ro + j
            bo = b_off[li - 1] + j
            for r in range(R):
                grad[bo, r] += D[drow, r]
            for k in range(n_in):
                wr = wo + j * n_in + k
                col = ri + k
                for r in range(R):
                    grad[wr, r] += D[drow, r] * A[col, r]
        if li > 1:
            for k in range(n_in):
                if res[li - 1]:
                    for r in range(R):
                        G[ri + k, r] = G[ro + k, r]
                else:
                    for r in range(R):
                        G[ri + k, r] = 0.0
            for j in range(n_out):
                drow = ro + j
                for k in range(n_in):
                    wr = wo + j * n_in + k
                    col = ri + k
                    for r in range(R):
                        G[col, r] += theta[wr, r] * D[drow, r]
            for k in range(n_in):
                _act_backward(D, G, H, ri + k, R, acts[li - 2])


@njit(**_JIT)
def _m_regularize_and_clip(theta, grad, lay, hv, tmp):
    L = lay[0]
    sizes = lay[3:3 + L + 1]
    w_off = lay[4 + L:4 + 2 * L]
    R = grad.shape[1]
    l1 = hv[HP_L1]
    if l1.max() != 0.0:
        for li in range(L):
            for i in range(w_off[li], w_off[li] + sizes[li] * sizes[li + 1]):
                for r in range(R):
                    w = theta[i, r]
                    grad[i, r] += l1[r] * (1.0 if w > 0.0 else (-1.0 if w < 0.0 else 0.0))
    clip = hv[HP_CLIP]
    if clip.max() > 0.0:
        for r in range(R):
            tmp[r] = 0.0
        for i in range(grad.shape[0]):
            for r in range(R):
                tmp[r] += grad[i, r] * grad[i, r]
        for r in range(R):
            c = clip[r] / (math.sqrt(tmp[r]) + 1e-6)
            tmp[r] = c if (c < 1.0 and clip[r] > 0.0) else 1.0
        for i in range(grad.shape[0]):
            for r in range(R):
                grad[i, r] *= tmp[r]


@njit(**_JIT)
def _m_update(theta, grad, s1, s2, t, lrv, hv, v1, v2):
    """``_update`` per lane; one optimizer for all lanes, its hyperparameters per lane.

    SGD and RMSprop use their momentum form for every lane: with momentum 0 the buffer equals
    the step exactly, so the numbers are those of the plain form.
    """
    code = int(hv[HP_OPT, 0])
    P, R = theta.shape
    wd = hv[HP_WD]
    if code == ADAMW:
        for i in range(P):
            for r in range(R):
                theta[i, r] *= 1.0 - lrv[r] * wd[r]
    if code == SGD:
        mom = hv[HP_MOM]
        nest = hv[HP_NEST]
        for i in range(P):
            for r in range(R):
                g = grad[i, r] + wd[r] * theta[i, r]
                buf = mom[r] * s1[i, r] + g
                s1[i, r] = buf
                d = g + mom[r] * buf if nest[r] != 0.0 else buf
                theta[i, r] -= lrv[r] * d
    elif code == ADAGRAD:
        eps = hv[HP_EPS]
        for i in range(P):
            for r in range(R):
                g = grad[i, r] + wd[r] * theta[i, r]
                s1[i, r] += g * g
                theta[i, r] -= lrv[r] * (g / (math.sqrt(s1[i, r]) + eps[r]))
    elif code == RMSPROP:
        alpha = hv[HP_ALPHA]
        eps = hv[HP_EPS]
        mom = hv[HP_MOM]
        for i in range(P):
            for r in range(R):
                g = grad[i, r] + wd[r] * theta[i, r]
                s1[i, r] = alpha[r] * s1[i, r] + (1.0 - alpha[r]) * (g * g)
                q = g / (math.sqrt(s1[i, r]) + eps[r])
                s2[i, r] = mom[r] * s2[i, r] + q
                theta[i, r] -= lrv[r] * s2[i, r]
    else:
        b1 = hv[HP_B1]
        b2 = hv[HP_B2]
        eps = hv[HP_EPS]
        for r in range(R):
            v1[r] = lrv[r] / (1.0 - b1[r] ** t)  # step size
            v2[r] = (1.0 - b2[r] ** t) ** 0.5
        l2 = 0.0 if code == ADAMW else 1.0
        for i in range(P):
            for r in range(R):
                g = grad[i, r] + l2 * wd[r] * theta[i, r]
                m = s1[i, r]
                w = 1.0 - b1[r]
                m = m + w * (g - m) if w < 0.5 else g - (g - m) * (1.0 - w)
                s1[i, r] = m
                v = b2[r] * s2[i, r] + (1.0 - b2[r]) * (g * g)
                s2[i, r] = v
                theta[i, r] -= v1[r] * (m / (math.sqrt(v) / v2[r] + eps[r]))


@njit(**_JIT)
def evaluate_many(theta, lay, X, Y, A, H, tm, ts, ll, yl, out):
    """Full-set forward for every run: ``out[r] = [loss sum, n correct]``; ``X (R, n, F)``."""
    L = lay[0]
    F = lay[3]
    n_out = lay[3 + L]
    zo = lay[4 + 5 * L + L]
    R = X.shape[0]
    Rp = theta.shape[1]
    for r in range(R):
        out[r, 0] = 0.0
        out[r, 1] = 0.0
    for i in range(X.shape[1]):
        for r in range(R):
            for k in range(F):
                A[k, r] = X[r, i, k]
            yl[r] = Y[r, i]
        _m_forward(theta, lay, A, H, Rp)
        _loss(A, H, yl, R, Rp, zo, n_out, lay[2], 0.0, tm, ts, ll)
        for r in range(R):
            out[r, 0] += ll[r]
            if n_out == 1:
                pred = 1 if A[zo, r] > 0.0 else 0
            else:
                pred = 0
                best = A[zo, r]
                for j in range(1, n_out):
                    v = A[zo + j, r]
                    if v > best:
                        best = v
                        pred = j
            out[r, 1] += pred == yl[r]


@njit(**_JIT)
def run_steps_many(theta, grad, s1, s2, counters, X, Y, perms, lrs, bs, g0, g1, lay, hv,
                   A, H, G, D, tm, ts, ll, yl, vecs, Xte, Yte, epoch_out):
    """``run_steps`` for R runs stacked as lanes: ``theta (P, Rp)``, ``X (R, n, F)``,
    ``perms (R, k, n)``, ``lrs (R, T + 1)``, ``epoch_out (R, k, 5)``; ``counters[0]`` is the
    shared optimizer step count, ``counters[1 + r]`` run r's running epoch loss."""
    L = lay[0]
    F = lay[3]
    n_out = lay[3 + L]
    zo = lay[4 + 5 * L + L]
    loss_code = lay[2]
    R = X.shape[0]
    Rp = theta.shape[1]
    n = X.shape[1]
    spe = (n + bs - 1) // bs
    e0 = g0 // spe
    lrv = vecs[0]
    ev = np.zeros((R, 2))
    for g in range(g0, g1):
        e = g // spe
        s = g - e * spe
        start = s * bs
        B = min(bs, n - start)
        for i in range(grad.shape[0]):
            for r in range(Rp):
                grad[i, r] = 0.0
        for b in range(B):
            for r in range(R):
                idx = perms[r, e - e0, start + b]
                for k in range(F):
                    A[k, r] = X[r, idx, k]
                yl[r] = Y[r, idx]
            _m_forward(theta, lay, A, H, Rp)
            _loss(A, D, yl, R, Rp, zo, n_out, loss_code, 1.0 / B, tm, ts, ll)
            for r in range(R):
                counters[1 + r] += ll[r]
            _m_backward(theta, grad, lay, A, H, G, D, Rp)
        _m_regularize_and_clip(theta, grad, lay, hv, vecs[1])
        counters[0] += 1.0
        for r in range(R):
            lrv[r] = lrs[r, g]
        _m_update(theta, grad, s1, s2, counters[0], lrv, hv, vecs[1], vecs[2])
        if s == spe - 1:
            for r in range(R):
                epoch_out[r, e - e0, 0] = counters[1 + r] / n
                counters[1 + r] = 0.0
            evaluate_many(theta, lay, X, Y, A, H, tm, ts, ll, yl, ev)
            for r in range(R):
                epoch_out[r, e - e0, 1] = ev[r, 0] / n
                epoch_out[r, e - e0, 2] = ev[r, 1] / n
            evaluate_many(theta, lay, Xte, Yte, A, H, tm, ts, ll, yl, ev)
            for r in range(R):
                epoch_out[r, e - e0, 3] = ev[r, 0] / Xte.shape[1]
                epoch_out[r, e - e0, 4] = ev[r, 1] / Xte.shape[1]
