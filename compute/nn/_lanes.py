"""Runs as lanes: up to 16 same-shaped small-MLP runs trained by one numba kernel, one run per SIMD
lane.

The single-run kernels (``_kernels``) put a minibatch's examples in the lanes: a 10-example batch
fills 10 of 16 lanes, every weight's gradient needs a horizontal sum per batch and the optimizer
update is scalar. Here lane ``r`` is run ``r``: every parameter is a ``Vec`` of 16 runs' values
(``theta (P, 16)``), each example of a run's minibatch goes through the net as one row of 16
runs, gradients accumulate lane-wise with no horizontal sums, and the optimizer updates all runs
in vector arithmetic. Runs in a group share the architecture, loss, dtype, batch size, dataset
sizes, epochs and optimizer algorithm; their data, shuffles, weights and hyperparameters (lr and
its schedule, momentum, betas, weight decay, L1, clipping) are per lane.

The math is ``_kernels.run_steps``'s (same forward, losses, backward, L1, clipping, ``torch.optim``
formulas), in the arrays' dtype; sums over a minibatch run in example order rather than as
16-lane trees, so results agree with the single-run kernel to rounding.
"""

from __future__ import annotations

import math

from numba import njit

from ._kernels import (
    _JIT,
    _PART,
    ADAGRAD,
    ADAMW,
    CROSS_ENTROPY,
    HP_ALPHA,
    HP_B1,
    HP_B2,
    HP_CLIP,
    HP_EPS,
    HP_L1,
    HP_MOM,
    HP_NEST,
    HP_OPT,
    HP_WD,
    MSE32,
    RMSPROP,
    SGD,
    _vact,
    _vact_backward,
    _vexp_reduced,
    _vtanh,
    _vtanh32,
)
from ._simd import LANES, splat_as, vabs, vcopysign, vfma, vload, vmax, vsqrt, vstore, where_gt

# Rows of ``stats`` (per-lane scalars, ``(N_STATS, 16)``)
ST_EPOCH_LOSS, ST_LOSS, ST_OK, ST_TMP, ST_A, ST_B = range(6)
N_STATS = 6


@njit(**_PART)
def _layer(lay, li):
    """Layer ``li`` (1-based) of the kernels' ``lay``: ``(n_in, n_out, w_off, b_off, first input
    row, first output row, activation code, residual)``."""
    L = lay[0]
    return (lay[2 + li], lay[3 + li], lay[3 + L + li], lay[3 + 2 * L + li], lay[3 + 5 * L + li],
            lay[4 + 5 * L + li], lay[3 + 3 * L + li], lay[3 + 4 * L + li] != 0)


@njit(**_PART)
def _io(lay):
    """``(input features, outputs, first output row, loss code)`` of the kernels' ``lay``."""
    out = _layer(lay, lay[0])
    return lay[3], out[1], out[5], lay[2]


@njit(**_PART)
def _forward2(theta, lay, A, H, o):
    """Two examples per lane, inputs in rows ``0..F-1`` and ``o..o+F-1`` of ``A``; logits into
    layer L's rows (and ``o +`` those). Two examples at once make two independent dependency
    chains (a tanh is a chain of ~12 dependent operations, and one example's pass alone leaves
    the FMA units mostly waiting)."""
    L = lay[0]
    for li in range(1, L + 1):
        n_in, n_out, wo, bo, ri, ro, code, skip = _layer(lay, li)
        for j in range(n_out):
            acc = vload(theta, bo + j, 0)
            acc2 = acc
            wj = wo + j * n_in
            for k in range(n_in):
                w = vload(theta, wj + k, 0)
                acc = vfma(w, vload(A, ri + k, 0), acc)
                acc2 = vfma(w, vload(A, o + ri + k, 0), acc2)
            if li < L:
                acc = _vact(acc, code)
                acc2 = _vact(acc2, code)
                vstore(H, ro + j, 0, acc)
                vstore(H, o + ro + j, 0, acc2)
                if skip:
                    acc = vload(A, ri + j, 0) + acc
                    acc2 = vload(A, o + ri + j, 0) + acc2
            vstore(A, ro + j, 0, acc)
            vstore(A, o + ro + j, 0, acc2)


@njit(**_PART)
def _forward4(theta, lay, A, o):
    """``_forward2`` for four examples per lane (rows ``0, o, 2o, 3o`` on), for evaluation: no
    activations kept for a backward pass, and four independent dependency chains (evaluation
    is much of a small net's kernel time: 2-8-8-8-1's went from 95 to 69 ms per group of 16;
    2-4-2-1's, bound by its tanh throughput, barely moved). Written out, as ``_forward2``: the
    accumulators must be separate variables to stay in registers."""
    L = lay[0]
    o2 = 2 * o
    o3 = 3 * o
    for li in range(1, L + 1):
        n_in, n_out, wo, bo, ri, ro, code, skip = _layer(lay, li)
        for j in range(n_out):
            a0 = vload(theta, bo + j, 0)
            a1 = a0
            a2 = a0
            a3 = a0
            wj = wo + j * n_in
            for k in range(n_in):
                w = vload(theta, wj + k, 0)
                a0 = vfma(w, vload(A, ri + k, 0), a0)
                a1 = vfma(w, vload(A, o + ri + k, 0), a1)
                a2 = vfma(w, vload(A, o2 + ri + k, 0), a2)
                a3 = vfma(w, vload(A, o3 + ri + k, 0), a3)
            if li < L:
                a0 = _vact(a0, code)
                a1 = _vact(a1, code)
                a2 = _vact(a2, code)
                a3 = _vact(a3, code)
                if skip:
                    a0 = vload(A, ri + j, 0) + a0
                    a1 = vload(A, o + ri + j, 0) + a1
                    a2 = vload(A, o2 + ri + j, 0) + a2
                    a3 = vload(A, o3 + ri + j, 0) + a3
            vstore(A, ro + j, 0, a0)
            vstore(A, o + ro + j, 0, a1)
            vstore(A, o2 + ro + j, 0, a2)
            vstore(A, o3 + ro + j, 0, a3)


@njit(**_PART)
def _inputs2(X, n, F, i, i2, A, o):
    """Rows ``k*n + i`` and ``k*n + i2`` of ``X`` into the two examples' input rows of ``A``."""
    for k in range(F):
        vstore(A, k, 0, vload(X, k * n + i, 0))
        vstore(A, o + k, 0, vload(X, k * n + i2, 0))


@njit(**_PART)
def _loss(A, D, y, zo, n_out, loss_code, scale, stats):
    """Per-lane loss of one example (returned); ``D = scale * dloss/dz`` at the output rows (not
    written when ``scale == 0``). ``y``: the lanes' labels as floats."""
    one = splat_as(A, 1.0)
    zero = splat_as(A, 0.0)
    half = splat_as(A, 0.5)
    if loss_code == CROSS_ENTROPY:
        m = vload(A, zo, 0)
        for j in range(1, n_out):
            m = vmax(m, vload(A, zo + j, 0))
        ts = zero
        zy = zero
        for j in range(n_out):
            z = vload(A, zo + j, 0)
            s, num, den = _vexp_reduced(z - m)
            e = s + s * (num / den)
            vstore(D, zo + j, 0, e)
            ts = ts + e
            zy = where_gt(half, vabs(y - float(j)), z, zy)
        # log of each lane's sum (1 <= ts <= n_out): scalar, 16 per example
        vstore(stats, ST_TMP, 0, ts)
        for r in range(LANES):
            stats[ST_TMP, r] = math.log(stats[ST_TMP, r])
        ll = vload(stats, ST_TMP, 0) + m - zy
        if scale != 0.0:
            inv = scale / ts
            for j in range(n_out):
                t = where_gt(half, vabs(y - float(j)), one, zero)
                vstore(D, zo + j, 0, vfma(vload(D, zo + j, 0), inv, t * -scale))
        return ll
    ll = zero
    for j in range(n_out):
        cls = 1.0 if n_out == 1 else float(j)
        t = where_gt(half, vabs(y - cls), one, one * -1.0)
        z = vload(A, zo + j, 0)
        o = _vtanh32(z) if loss_code == MSE32 else _vtanh(z)
        diff = o - t
        ll = vfma(diff * 0.5, diff, ll)
        if scale != 0.0:
            vstore(D, zo + j, 0, diff * (1.0 - o * o) * scale)
    return ll


@njit(**_PART)
def _correct(A, y, zo, n_out):
    """1 in the lanes whose prediction (argmax, or ``z > 0`` for one output) is the label."""
    one = splat_as(A, 1.0)
    zero = splat_as(A, 0.0)
    if n_out == 1:
        pred = where_gt(vload(A, zo, 0), zero, one, zero)
    else:
        best = vload(A, zo, 0)
        pred = zero
        for j in range(1, n_out):
            v = vload(A, zo + j, 0)
            pred = where_gt(v, best, splat_as(A, float(j)), pred)
            best = vmax(best, v)
    return where_gt(splat_as(A, 0.5), vabs(pred - y), one, zero)


@njit(**_PART)
def _backward2(theta, grad, lay, A, H, G, D, o):
    """``grad += dL/dtheta`` of two examples per lane (the second in rows ``o ..``) from ``D`` at
    the output rows: one read-modify-write of each gradient row for both."""
    L = lay[0]
    for li in range(L, 0, -1):
        n_in, n_out, wo, bo, ri, ro, _, skip = _layer(lay, li)
        for j in range(n_out):
            d = vload(D, ro + j, 0)
            d2 = vload(D, o + ro + j, 0)
            vstore(grad, bo + j, 0, vload(grad, bo + j, 0) + d + d2)
            wj = wo + j * n_in
            for k in range(n_in):
                g = vfma(d, vload(A, ri + k, 0), vload(grad, wj + k, 0))
                vstore(grad, wj + k, 0, vfma(d2, vload(A, o + ri + k, 0), g))
        if li > 1:
            code = _layer(lay, li - 1)[6]
            for k in range(n_in):
                if skip:
                    g = vload(G, ro + k, 0)
                    g2 = vload(G, o + ro + k, 0)
                else:
                    g = splat_as(G, 0.0)
                    g2 = g
                for j in range(n_out):
                    w = vload(theta, wo + j * n_in + k, 0)
                    g = vfma(w, vload(D, ro + j, 0), g)
                    g2 = vfma(w, vload(D, o + ro + j, 0), g2)
                col = ri + k
                vstore(G, col, 0, g)
                vstore(G, o + col, 0, g2)
                vstore(D, col, 0, _vact_backward(g, vload(H, col, 0), code))
                vstore(D, o + col, 0, _vact_backward(g2, vload(H, o + col, 0), code))


@njit(**_PART)
def _regularize_and_clip(theta, grad, lay, hp, any_l1, any_clip):
    """Per lane: ``grad += l1 sign(W)``; then ``clip_grad_norm_`` where the lane's max norm > 0."""
    L = lay[0]
    SZ, WO = 3, 4 + L
    zero = splat_as(grad, 0.0)
    one = splat_as(grad, 1.0)
    if any_l1:
        l1 = vload(hp, HP_L1, 0)
        for li in range(L):
            lo = lay[WO + li]
            for i in range(lo, lo + lay[SZ + li] * lay[SZ + li + 1]):
                w = vload(theta, i, 0)
                sign = where_gt(vabs(w), zero, vcopysign(one, w), zero)
                vstore(grad, i, 0, vfma(l1, sign, vload(grad, i, 0)))
    if any_clip:
        max_norm = vload(hp, HP_CLIP, 0)
        total = zero
        for i in range(grad.shape[0]):
            g = vload(grad, i, 0)
            total = vfma(g, g, total)
        total = vsqrt(total)
        coef = max_norm / (total + 1e-6)
        # scale where clipping is on for the lane and the norm is over the bound
        f = where_gt(max_norm, zero, where_gt(one, coef, coef, one), one)
        for i in range(grad.shape[0]):
            vstore(grad, i, 0, vload(grad, i, 0) * f)


@njit(**_PART)
def _update(theta, grad, s1, s2, code, t, lr, hp, hp64, stats):
    """One ``torch.optim`` step in every lane (the single-tensor formulas; ``t`` 1-based)."""
    P = theta.shape[0]
    wd = vload(hp, HP_WD, 0)
    if code == ADAMW:
        f = 1.0 - lr * wd
        for i in range(P):
            vstore(theta, i, 0, vload(theta, i, 0) * f)
        wd = wd * 0.0
    if code == SGD:
        # momentum 0: buf = g, and both forms reduce to plain SGD
        mom = vload(hp, HP_MOM, 0)
        nest = vload(hp, HP_NEST, 0)
        zero = splat_as(theta, 0.0)
        for i in range(P):
            w = vload(theta, i, 0)
            g = vfma(wd, w, vload(grad, i, 0))
            buf = vfma(mom, vload(s1, i, 0), g)
            vstore(s1, i, 0, buf)
            step = where_gt(nest, zero, vfma(mom, buf, g), buf)
            vstore(theta, i, 0, w - lr * step)
    elif code == ADAGRAD:
        eps = vload(hp, HP_EPS, 0)
        for i in range(P):
            w = vload(theta, i, 0)
            g = vfma(wd, w, vload(grad, i, 0))
            s = vfma(g, g, vload(s1, i, 0))
            vstore(s1, i, 0, s)
            vstore(theta, i, 0, w - lr * (g / (vsqrt(s) + eps)))
    elif code == RMSPROP:
        alpha = vload(hp, HP_ALPHA, 0)
        eps = vload(hp, HP_EPS, 0)
        mom = vload(hp, HP_MOM, 0)
        for i in range(P):
            w = vload(theta, i, 0)
            g = vfma(wd, w, vload(grad, i, 0))
            s = alpha * vload(s1, i, 0) + (1.0 - alpha) * (g * g)
            vstore(s1, i, 0, s)
            buf = vfma(mom, vload(s2, i, 0), g / (vsqrt(s) + eps))
            vstore(s2, i, 0, buf)
            vstore(theta, i, 0, w - lr * buf)
    else:
        b1 = vload(hp, HP_B1, 0)
        b2 = vload(hp, HP_B2, 0)
        eps = vload(hp, HP_EPS, 0)
        for r in range(LANES):
            stats[ST_A, r] = 1.0 - hp64[HP_B1, r] ** t
            stats[ST_B, r] = (1.0 - hp64[HP_B2, r] ** t) ** 0.5
        step_size = lr / vload(stats, ST_A, 0)
        bc2_sqrt = vload(stats, ST_B, 0)
        w1 = 1.0 - b1
        half = splat_as(theta, 0.5)
        for i in range(P):
            w = vload(theta, i, 0)
            g = vfma(wd, w, vload(grad, i, 0))
            m = vload(s1, i, 0)
            m = where_gt(half, w1, m + w1 * (g - m), g - (g - m) * (1.0 - w1))  # torch.lerp
            vstore(s1, i, 0, m)
            v = b2 * vload(s2, i, 0) + (1.0 - b2) * (g * g)
            vstore(s2, i, 0, v)
            vstore(theta, i, 0, w - step_size * (m / (vsqrt(v) / bc2_sqrt + eps)))


@njit(**_PART)
def _evaluate(theta, lay, X, Y, n, A, D, stats):
    """Mean loss and accuracy of each lane's full set ``X (F*n, 16)`` (row ``k*n + i``) into
    ``stats[ST_LOSS]``, ``stats[ST_OK]``; four examples at a time (``A``, ``D``: 4 blocks of
    rows), summed in example order."""
    F, n_out, zo, code = _io(lay)
    o = A.shape[0] // 4
    loss = splat_as(A, 0.0)
    ok = splat_as(A, 0.0)
    for i in range(0, n, 4):
        for q in range(4):  # past the last example, slots repeat it and are not counted
            src = min(i + q, n - 1)
            for k in range(F):
                vstore(A, q * o + k, 0, vload(X, k * n + src, 0))
        _forward4(theta, lay, A, o)
        for q in range(min(4, n - i)):
            y = vload(Y, i + q, 0)
            loss = loss + _loss(A, D, y, q * o + zo, n_out, code, 0.0, stats)
            ok = ok + _correct(A, y, q * o + zo, n_out)
    vstore(stats, ST_LOSS, 0, loss / float(n))
    vstore(stats, ST_OK, 0, ok / float(n))


@njit(**_JIT)
def run_lanes(theta, grad, s1, s2, X, Y, Xte, Yte, perms, lrs, hp, hp64, bs, t0, lay,
              Xe, Ye, A, H, G, D, stats, epoch_out, step_out, snap):
    """Train every lane's run for ``perms.shape[0]`` more epochs, after ``t0`` optimizer steps
    (whole epochs; ``s1``, ``s2`` carry the optimizer state between calls).

    ``theta, grad, s1, s2 (P, 16)``; ``X (F*n, 16)``, ``Y (n, 16)`` (labels as floats) and
    ``Xte``, ``Yte`` likewise; ``perms (epochs, n, 16)`` int32: lane ``r``'s shuffle of epoch
    ``e`` is ``perms[e, :, r]``;
    ``lrs (epochs*spe, 16)``: these epochs' learning rates; ``hp (N_HP, 16)`` in the arrays' dtype and ``hp64``, the same in
    float64 (for per-lane scalars: bias corrections, flags; the optimizer is lane 0's ``HP_OPT``).
    Scratch: ``Xe (F*n, 16)``, ``Ye (n, 16)`` (the epoch's shuffled data), ``A, H, G, D``
    ``(4 * rows, 16)`` (two examples at a time in training, four in evaluation), ``stats
    (N_STATS, 16)``. Writes
    ``epoch_out (epochs*5, 16)``: per epoch rows ``[epoch loss, train loss, train acc, test
    loss, test acc]``, as ``run_steps``' ``epoch_out``; ``step_out (epochs*spe, 16)``: each
    step's batch mean loss, as ``run_steps``' ``step_loss``; ``snap (epochs, 2, P, 16)``, unless
    it has no rows: the weights and the last gradient at each epoch's end.
    """
    F, n_out, zo, loss_code = _io(lay)
    n = Y.shape[0]
    nte = Yte.shape[0]
    spe = (n + bs - 1) // bs
    P = theta.shape[0]
    code = int(hp64[HP_OPT, 0])
    any_l1 = False
    any_clip = False
    for r in range(LANES):
        any_l1 = any_l1 or hp64[HP_L1, r] != 0.0
        any_clip = any_clip or hp64[HP_CLIP, r] > 0.0
    zero = splat_as(theta, 0.0)
    o = A.shape[0] // 4  # a second example's rows in the scratch buffers (4 in evaluation)
    t = t0
    for e in range(perms.shape[0]):
        # the epoch's data in shuffled order, one example of all lanes at a time: reads of
        # perms and writes of Xe, Ye go along rows (lanes outer wrote 16-element strides)
        for p in range(n):
            for r in range(LANES):
                src = perms[e, p, r]
                Ye[p, r] = Y[src, r]
                for k in range(F):
                    Xe[k * n + p, r] = X[k * n + src, r]
        epoch_loss = zero
        for s in range(spe):
            start = s * bs
            B = min(bs, n - start)
            for i in range(P):
                vstore(grad, i, 0, zero)
            scale = 1.0 / B
            step_loss = zero
            for b in range(start, start + B, 2):
                b2 = min(b + 1, start + B - 1)
                _inputs2(Xe, n, F, b, b2, A, o)
                _forward2(theta, lay, A, H, o)
                step_loss = step_loss + _loss(A, D, vload(Ye, b, 0), zo, n_out, loss_code,
                                              scale, stats)
                if b2 > b:
                    step_loss = step_loss + _loss(A, D, vload(Ye, b2, 0), o + zo, n_out,
                                                  loss_code, scale, stats)
                else:  # B odd: the second slot repeats the last example with no gradient
                    for j in range(n_out):
                        vstore(D, o + zo + j, 0, zero)
                _backward2(theta, grad, lay, A, H, G, D, o)
            epoch_loss = epoch_loss + step_loss
            vstore(step_out, e * spe + s, 0, step_loss / float(B))
            _regularize_and_clip(theta, grad, lay, hp, any_l1, any_clip)
            t += 1
            _update(theta, grad, s1, s2, code, t, vload(lrs, e * spe + s, 0), hp, hp64, stats)
        if snap.shape[0] > 0:
            for i in range(P):
                vstore(snap[e, 0], i, 0, vload(theta, i, 0))
                vstore(snap[e, 1], i, 0, vload(grad, i, 0))
        eo = e * 5
        vstore(epoch_out, eo, 0, epoch_loss / float(n))
        _evaluate(theta, lay, X, Y, n, A, D, stats)
        vstore(epoch_out, eo + 1, 0, vload(stats, ST_LOSS, 0))
        vstore(epoch_out, eo + 2, 0, vload(stats, ST_OK, 0))
        _evaluate(theta, lay, Xte, Yte, nte, A, D, stats)
        vstore(epoch_out, eo + 3, 0, vload(stats, ST_LOSS, 0))
        vstore(epoch_out, eo + 4, 0, vload(stats, ST_OK, 0))

