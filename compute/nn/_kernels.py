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
