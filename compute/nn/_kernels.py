"""Fused numba kernels for small MLPs: forward, backward and optimizer update in one compiled loop.

The math is torch's, written out: ``z = W a + b``; ``h = act(z)``; ``a' = h (+ a)``;
cross-entropy ``logsumexp(z) - z_y`` or Playground's squared error ``0.5 |tanh(z) - t|^2``
(``t = +-1``); gradients averaged over the batch; L1 ``+ l1 sign(W)``; global-norm clipping as
``clip_grad_norm_``; SGD (momentum, Nesterov), Adagrad, RMSprop, Adam, AdamW exactly as the
``torch.optim`` single-tensor implementations, in float64.

Layout: a batch lives in "lanes": layer ``l`` activations are ``(width_l, S)`` row-major at
``a_off[l]``, one lane per example, so every inner loop runs over contiguous lanes and LLVM
vectorizes it (AVX2: 4 doubles). Lanes are padded to a multiple of 4 with zero inputs and zero
loss gradient, which leaves the sums unchanged. ``tanh``/``sigmoid``/``exp`` are written as
arithmetic (Cody-Waite reduction + degree-12 polynomial, |err| <= 2 ulp-ish) so they vectorize too;
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
    """``exp(y) = s (1 + q)`` for ``-700 <= y <= 0``: returns ``(s, q)`` with ``s = 2^k``."""
    y = y if y > -700.0 else -700.0
    kf = np.floor(y * _LOG2E + 0.5)
    r = (y - kf * _LN2_HI) - kf * _LN2_LO  # |r| <= ln2 / 2
    q = r * (1.0 + r * (0.5 + r * (1.6666666666666666e-01 + r * (4.1666666666666664e-02 + r * (
        8.3333333333333332e-03 + r * (1.3888888888888889e-03 + r * (1.9841269841269841e-04 + r * (
            2.4801587301587302e-05 + r * (2.7557319223985893e-06 + r * (2.7557319223985888e-07 + r * (
                2.5052108385441720e-08 + r * 2.0876756987868100e-09)))))))))))
    s = _f64_from_bits((np.int64(kf) + 1023) << 52)
    return s, q


@njit(**_JIT)
def _exp_nonpos(y):
    s, q = _exp_parts(y)
    return s + s * q


@njit(**_JIT)
def _tanh(x):
    # tanh|x| = -expm1(-2|x|) / (2 + expm1(-2|x|)); expm1 = s q + (s - 1) keeps small |x| accurate
    ax = abs(x)
    ax = ax if ax < 20.0 else 20.0
    s, q = _exp_parts(-2.0 * ax)
    em1 = s * q + (s - 1.0)
    t = -em1 / (2.0 + em1)
    return t if x >= 0.0 else -t


@njit(**_JIT)
def _sigmoid(x):
    e = _exp_nonpos(-abs(x))  # exp(-|x|): never overflows
    return 1.0 / (1.0 + e) if x >= 0.0 else e / (1.0 + e)


@njit(**_JIT)
def _activate(H, row, n, code):
    if code == RELU:
        for b in range(n):
            v = H[row + b]
            H[row + b] = v if v > 0.0 else 0.0
    elif code == TANH:
        for b in range(n):
            H[row + b] = _tanh(H[row + b])
    elif code == SIGMOID:
        for b in range(n):
            H[row + b] = _sigmoid(H[row + b])


@njit(**_JIT)
def _act_backward(D, G, H, row, n, code):
    """``D = G * act'(z)`` written with the activation's output ``h``."""
    if code == LINEAR:
        for b in range(n):
            D[row + b] = G[row + b]
    elif code == RELU:
        for b in range(n):
            D[row + b] = G[row + b] if H[row + b] > 0.0 else 0.0
    elif code == TANH:
        for b in range(n):
            h = H[row + b]
            D[row + b] = G[row + b] * (1.0 - h * h)
    else:
        for b in range(n):
            h = H[row + b]
            D[row + b] = G[row + b] * (1.0 - h) * h


@njit(**_JIT)
def _forward(theta, lay, A, H, nb, S):
    """Layers 1..L on lanes ``[0, nb)``; inputs already in ``A[0:F*S]``; logits land in layer L."""
    L = lay[0]
    sizes = lay[3:3 + L + 1]
    w_off = lay[4 + L:4 + 2 * L]
    b_off = lay[4 + 2 * L:4 + 3 * L]
    acts = lay[4 + 3 * L:4 + 4 * L]
    res = lay[4 + 4 * L:4 + 5 * L]
    a_off = lay[4 + 5 * L:5 + 6 * L]
    for l in range(1, L + 1):
        n_in = sizes[l - 1]
        n_out = sizes[l]
        wo = w_off[l - 1]
        ai = a_off[l - 1]
        ao = a_off[l]
        code = acts[l - 1]
        out = H if l < L else A
        for j in range(n_out):
            row = ao + j * S
            bj = theta[b_off[l - 1] + j]
            for b in range(nb):
                out[row + b] = bj
            for k in range(n_in):
                w = theta[wo + j * n_in + k]
                col = ai + k * S
                for b in range(nb):
                    out[row + b] += w * A[col + b]
            if l < L:
                _activate(H, row, nb, code)
                if res[l - 1]:
                    prev = ai + j * S
                    for b in range(nb):
                        A[row + b] = A[prev + b] + H[row + b]
                else:
                    for b in range(nb):
                        A[row + b] = H[row + b]


@njit(**_JIT)
def _load(X, idx, start, B, nb, A, S, F):
    for k in range(F):
        row = k * S
        for b in range(B):
            A[row + b] = X[idx[start + b], k]
        for b in range(B, nb):
            A[row + b] = 0.0


@njit(**_JIT)
def _loss(A, D, yl, B, nb, S, zo, n_out, loss_code, scale, tm, ts):
    """Sum of per-example losses over the ``B`` real lanes; ``D = scale * dloss/dz`` (0 on padding;
    cross-entropy skips the gradient when ``scale == 0``)."""
    total = 0.0
    if loss_code == CROSS_ENTROPY:
        for b in range(nb):
            tm[b] = A[zo + b]
        for j in range(1, n_out):
            for b in range(nb):
                v = A[zo + j * S + b]
                tm[b] = v if v > tm[b] else tm[b]
        for b in range(nb):
            ts[b] = 0.0
        for j in range(n_out):
            for b in range(nb):
                e = _exp_nonpos(A[zo + j * S + b] - tm[b])
                D[zo + j * S + b] = e
                ts[b] += e
        for b in range(B):
            total += math.log(ts[b]) + tm[b] - A[zo + yl[b] * S + b]
        if scale != 0.0:
            for j in range(n_out):
                for b in range(nb):
                    p = D[zo + j * S + b] / ts[b]
                    D[zo + j * S + b] = (p - (1.0 if yl[b] == j else 0.0)) * scale
    else:
        # squared error on tanh outputs; one output: target +1 for class 1, -1 for class 0
        for j in range(n_out):
            for b in range(nb):
                o = _tanh(A[zo + j * S + b])
                hit = (yl[b] == 1) if n_out == 1 else (yl[b] == j)
                diff = o - (1.0 if hit else -1.0)
                tm[b] = 0.5 * diff * diff
                D[zo + j * S + b] = diff * (1.0 - o * o) * scale
            for b in range(B):
                total += tm[b]
    for j in range(n_out):
        for b in range(B, nb):
            D[zo + j * S + b] = 0.0
    return total


@njit(**_JIT)
def _backward(theta, grad, lay, A, H, G, D, nb, S):
    """Accumulate ``grad += dL/dtheta`` from ``D`` at the output layer (``grad`` zeroed by caller)."""
    L = lay[0]
    sizes = lay[3:3 + L + 1]
    w_off = lay[4 + L:4 + 2 * L]
    b_off = lay[4 + 2 * L:4 + 3 * L]
    acts = lay[4 + 3 * L:4 + 4 * L]
    res = lay[4 + 4 * L:4 + 5 * L]
    a_off = lay[4 + 5 * L:5 + 6 * L]
    for l in range(L, 0, -1):
        n_in = sizes[l - 1]
        n_out = sizes[l]
        wo = w_off[l - 1]
        ai = a_off[l - 1]
        ao = a_off[l]
        for j in range(n_out):
            drow = ao + j * S
            acc = 0.0
            for b in range(nb):
                acc += D[drow + b]
            grad[b_off[l - 1] + j] += acc
            for k in range(n_in):
                col = ai + k * S
                acc = 0.0
                for b in range(nb):
                    acc += D[drow + b] * A[col + b]
                grad[wo + j * n_in + k] += acc
        if l > 1:
            if res[l - 1]:  # a_l = a_{l-1} + h_l: the skip passes dL/da_l straight through
                for i in range(n_in * S):
                    G[ai + i] = G[ao + i]
            else:
                for i in range(n_in * S):
                    G[ai + i] = 0.0
            for j in range(n_out):
                drow = ao + j * S
                for k in range(n_in):
                    w = theta[wo + j * n_in + k]
                    col = ai + k * S
                    for b in range(nb):
                        G[col + b] += w * D[drow + b]
            for k in range(n_in):
                _act_backward(D, G, H, ai + k * S, nb, acts[l - 2])


@njit(**_JIT)
def _regularize_and_clip(theta, grad, lay, hp):
    L = lay[0]
    sizes = lay[3:3 + L + 1]
    w_off = lay[4 + L:4 + 2 * L]
    b_off = lay[4 + 2 * L:4 + 3 * L]
    l1 = hp[HP_L1]
    if l1 != 0.0:
        for l in range(L):
            for i in range(w_off[l], w_off[l] + sizes[l] * sizes[l + 1]):
                w = theta[i]
                grad[i] += l1 * (1.0 if w > 0.0 else (-1.0 if w < 0.0 else 0.0))
    max_norm = hp[HP_CLIP]
    if max_norm > 0.0:
        # clip_grad_norm_: the 2-norm of the per-tensor 2-norms
        total = 0.0
        for l in range(L):
            for lo, hi in ((w_off[l], w_off[l] + sizes[l] * sizes[l + 1]),
                           (b_off[l], b_off[l] + sizes[l + 1])):
                for i in range(lo, hi):
                    total += grad[i] * grad[i]
        total = math.sqrt(total)
        coef = max_norm / (total + 1e-6)
        if coef < 1.0:
            for i in range(grad.shape[0]):
                grad[i] *= coef
        return total
    return -1.0


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
def evaluate(theta, lay, X, Y, A, H, tm, ts, yl, zout):
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
        _load(X, idx, start, B, nb, A, S, F)
        for b in range(B):
            yl[b] = Y[start + b]
        for b in range(B, nb):
            yl[b] = 0
        _forward(theta, lay, A, H, nb, S)
        loss += _loss(A, H, yl, B, nb, S, zo, n_out, lay[2], 0.0, tm, ts)
        for b in range(B):
            if n_out == 1:
                pred = 1 if A[zo + b] > 0.0 else 0
            else:
                pred = 0
                best = A[zo + b]
                for j in range(1, n_out):
                    v = A[zo + j * S + b]
                    if v > best:
                        best = v
                        pred = j
            correct += pred == yl[b]
            if zout.shape[0] > 0:
                for j in range(n_out):
                    zout[start + b, j] = A[zo + j * S + b]
    return loss, correct


@njit(**_JIT)
def run_steps(theta, grad, s1, s2, counters, X, Y, perms, lrs, bs, g0, g1, lay, hp,
              A, H, G, D, tm, ts, yl, step_loss, Xtr, Ytr, Xte, Yte, epoch_out, grad_norms):
    """Optimizer steps ``g0 .. g1-1`` (global numbering); at each epoch end, evaluate.

    ``counters``: ``[adam t, epoch loss sum]``. ``perms (n_epochs_in_chunk, n)`` start at epoch
    ``g0 // spe``. Writes ``step_loss[g - g0]`` (batch mean), ``epoch_out[e] = [epoch loss,
    train loss, train acc, test loss, test acc]`` for epochs that end in the chunk, and the
    pre-clip global grad norm into ``grad_norms[g - g0]`` when clipping.
    """
    L = lay[0]
    S = lay[1]
    F = lay[3]
    n_out = lay[3 + L]
    zo = lay[4 + 5 * L + L]
    loss_code = lay[2]
    n = X.shape[0]
    spe = (n + bs - 1) // bs
    e0 = g0 // spe
    P = theta.shape[0]
    for g in range(g0, g1):
        e = g // spe
        s = g - e * spe
        start = s * bs
        B = min(bs, n - start)
        nb = (B + 3) // 4 * 4
        perm = perms[e - e0]
        _load(X, perm, start, B, nb, A, S, F)
        for b in range(B):
            yl[b] = Y[perm[start + b]]
        for b in range(B, nb):
            yl[b] = 0
        _forward(theta, lay, A, H, nb, S)
        loss = _loss(A, D, yl, B, nb, S, zo, n_out, loss_code, 1.0 / B, tm, ts)
        for i in range(P):
            grad[i] = 0.0
        _backward(theta, grad, lay, A, H, G, D, nb, S)
        grad_norms[g - g0] = _regularize_and_clip(theta, grad, lay, hp)
        counters[0] += 1.0
        _update(theta, grad, s1, s2, counters[0], lrs[g], hp)
        step_loss[g - g0] = loss / B
        counters[1] += loss
        if s == spe - 1:
            out = epoch_out[e - e0]
            out[0] = counters[1] / n
            counters[1] = 0.0
            tr_loss, tr_ok = evaluate(theta, lay, Xtr, Ytr, A, H, tm, ts, yl, np.empty((0, 0)))
            te_loss, te_ok = evaluate(theta, lay, Xte, Yte, A, H, tm, ts, yl, np.empty((0, 0)))
            out[1] = tr_loss / Xtr.shape[0]
            out[2] = tr_ok / Xtr.shape[0]
            out[3] = te_loss / Xte.shape[0]
            out[4] = te_ok / Xte.shape[0]


@njit(**_JIT)
def run_steps_many(thetas, grads, s1s, s2s, counters, Xs, Ys, perms, lrs, bs, g0, g1, lay,
                   hps, A, H, G, D, tm, ts, yl, step_loss, Xtrs, Ytrs, Xtes, Ytes, epoch_out,
                   grad_norms):
    """``run_steps`` for R same-shaped runs stacked on the first axis of every per-run array."""
    for r in range(thetas.shape[0]):
        run_steps(thetas[r], grads[r], s1s[r], s2s[r], counters[r], Xs[r], Ys[r], perms[r],
                  lrs[r], bs, g0, g1, lay, hps[r], A, H, G, D, tm, ts, yl, step_loss[r], Xtrs[r],
                  Ytrs[r], Xtes[r], Ytes[r], epoch_out[r], grad_norms[r])
