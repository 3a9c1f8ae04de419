"""Numba loops for progress frames: class probabilities, histograms, layer and output summaries.

A job's progress frame (layer statistics, the test set's outputs, a 50x50 decision boundary) was
~1 ms of numpy calls on small arrays, each paying numpy's per-call overhead; a 200-epoch run
sends ~20 of them. These loops compute the same numbers in one pass each: the histogram by
numpy's own equal-width method (the same counts as ``np.histogram``, tested), the softmax and
squared-error probabilities by the same formulas (equal to rounding, tested). A layer's
statistics (``layer_summary``) and the test outputs' (``confidence_summary``) are one call each,
histogram edges included: per layer, a dozen numpy calls (~45 us) had become most of a frame.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

_JIT = {"cache": True, "nogil": True, "fastmath": False}


@njit(**_JIT)
def hist_counts(x, edges, lo, hi):
    """``np.histogram(x, len(edges) - 1, range=(lo, hi))[0]`` for 1-D float ``x`` and numpy's
    ``edges`` of that range: a value's bin by scaling, moved by one where rounding put it on the
    wrong side of an edge; the last bin closed; values outside ``[lo, hi]`` and NaN not
    counted."""
    bins = edges.shape[0] - 1
    counts = np.zeros(bins, dtype=np.int64)
    scale = bins / (hi - lo)
    for k in range(x.shape[0]):
        v = x[k]
        if not (v >= lo and v <= hi):
            continue
        i = int((v - lo) * scale)
        if i == bins:
            i -= 1
        if v < edges[i]:
            i -= 1
        elif v >= edges[i + 1] and i != bins - 1:
            i += 1
        counts[i] += 1
    return counts


@njit(**_JIT)
def hist_edges(bins, lo, hi):
    """``np.histogram``'s edges over ``[lo, hi]``: ``np.linspace(lo, hi, bins + 1)`` by its own
    arithmetic (``i * step + lo``, the last edge ``hi``), the same numbers (tested)."""
    edges = np.empty(bins + 1)
    step = (hi - lo) / bins
    for i in range(bins + 1):
        edges[i] = float(i) * step + lo
    edges[bins] = hi
    return edges


_BIG = 1.7976931348623157e308  # the largest float64


@njit(**{**_JIT, "inline": "always"})
def _nan_to_num(v):
    """``np.nan_to_num`` of one float: NaN 0, +-inf the largest float."""
    if v != v:
        return 0.0
    return min(max(v, -_BIG), _BIG)


@njit(**_JIT)
def layer_summary(w, g, has_grad, bins):
    """One weight layer's frame statistics from its flat weights ``w`` and gradient ``g``:
    ``(counts, edges, |w|^2, |g|^2)``. The histogram has ``bins`` equal bins over ``[-m, m]``,
    ``m = max|w|`` (1 when that is 0, NaN or inf; then NaN counts as 0 and +-inf as the largest
    float, as ``np.nan_to_num``); squares summed in float64 (``|g|^2`` is -1 without a
    gradient)."""
    n = w.shape[0]
    m = 0.0
    finite = True
    for i in range(n):
        v = abs(np.float64(w[i]))
        if not v <= _BIG:  # NaN or inf
            finite = False
        elif v > m:
            m = v
    x = np.empty(n)
    wsq = 0.0
    for i in range(n):
        v = np.float64(w[i])
        if not finite:
            v = _nan_to_num(v)
        x[i] = v
        wsq += v * v
    if not finite or m == 0.0:
        m = 1.0
    edges = hist_edges(bins, -m, m)
    gsq = -1.0
    if has_grad:
        gsq = 0.0
        for i in range(g.shape[0]):
            v = np.float64(g[i])
            gsq += v * v
    return hist_counts(x, edges, -m, m), edges, wsq, gsq


@njit(**_JIT)
def probabilities(z, mse):
    """Class probabilities of logits ``z (n, k)`` (float64): a softmax per row; for squared error
    ``(tanh z + 1) / 2``, as ``[1 - p, p]`` for one output, else normalized to sum 1."""
    n, k = z.shape
    if mse and k == 1:
        p = np.empty((n, 2))
        for r in range(n):
            q = (math.tanh(z[r, 0]) + 1.0) / 2.0
            p[r, 0] = 1.0 - q
            p[r, 1] = q
        return p
    p = np.empty((n, k))
    for r in range(n):
        if mse:
            s = 0.0
            for j in range(k):
                q = (math.tanh(z[r, j]) + 1.0) / 2.0
                p[r, j] = q
                s += q
            s = max(s, 1e-12)
        else:
            m = z[r, 0]
            for j in range(1, k):
                m = max(m, z[r, j])
            s = 0.0
            for j in range(k):
                e = math.exp(z[r, j] - m)
                p[r, j] = e
                s += e
        for j in range(k):
            p[r, j] /= s
    return p


@njit(**_JIT)
def prob_grid(z, mse, G):
    """``np.round(probabilities(z, mse)[:, 1].reshape(G, G), 4)`` for two classes' logits ``z
    (G*G, k)``, in one call (numpy's rounding: times 10^4, ``rint``, divided by 10^4). Two
    logits' softmax takes one ``exp`` a row: the larger logit's is ``exp(0) = 1``, so
    ``e1 / (e0 + e1)`` is ``1 / (exp(z0 - z1) + 1)`` or ``e / (1 + e)``, the same numbers."""
    k = z.shape[1]
    general = mse or k != 2
    p = probabilities(z, mse) if general else np.empty((0, 2))
    out = np.empty(G * G)
    for r in range(G * G):
        if general:
            q = p[r, 1]
        else:
            z0, z1 = z[r, 0], z[r, 1]
            if not (math.isfinite(z0) and math.isfinite(z1)):  # NaN, inf: as the softmax
                q = probabilities(z[r:r + 1], False)[0, 1]
            elif z1 >= z0:
                q = 1.0 / (math.exp(z0 - z1) + 1.0)
            else:
                e = math.exp(z1 - z0)
                q = e / (1.0 + e)
        out[r] = np.rint(q * 10000.0) / 10000.0
    return out.reshape(G, G)


@njit(**_JIT)
def confidence(p):
    """Per row of probabilities ``p (n, k)``: the largest (the prediction's confidence) and the
    entropy ``-sum p log p`` (p clipped to ``[1e-12, 1]`` inside the log)."""
    n, k = p.shape
    conf = np.empty(n)
    ent = np.empty(n)
    for r in range(n):
        c = p[r, 0]
        h = 0.0
        for j in range(k):
            v = p[r, j]
            c = max(c, v)
            h -= v * math.log(min(max(v, 1e-12), 1.0))
        conf[r] = c
        ent[r] = h
    return conf, ent


@njit(**_JIT)
def confidence_summary(p, bins):
    """``(mean confidence, mean entropy, counts, edges)`` of probabilities ``p (n, k)``: the
    confidences' histogram over ``[0, 1]`` (NaN counted as 0 when any mean is not finite, as
    ``np.nan_to_num``); means summed in row order (NaN for no rows)."""
    conf, ent = confidence(p)
    n = conf.shape[0]
    sc = 0.0
    se = 0.0
    for r in range(n):
        sc += conf[r]
        se += ent[r]
    mean_conf = sc / n if n > 0 else np.nan
    mean_ent = se / n if n > 0 else np.nan
    if not math.isfinite(mean_conf):
        for r in range(n):
            conf[r] = _nan_to_num(conf[r])
    edges = hist_edges(bins, 0.0, 1.0)
    return mean_conf, mean_ent, hist_counts(conf, edges, 0.0, 1.0), edges


def warmup() -> None:
    """Compile (or load) these loops."""
    z = np.zeros((2, 2))
    probabilities(z, False)
    probabilities(z[:, :1].copy(), True)
    confidence(probabilities(z, True))
    hist_counts(np.zeros(3), np.linspace(-1.0, 1.0, 3), -1.0, 1.0)
    hist_counts(np.zeros(3, np.float32), np.linspace(-1.0, 1.0, 3), -1.0, 1.0)
    for dt in (np.float32, np.float64):
        layer_summary(np.zeros(3, dt), np.zeros(3, dt), True, 4)
    confidence_summary(probabilities(z, False), 4)
    prob_grid(np.zeros((4, 2)), False, 2)
    prob_grid(np.zeros((4, 1)), True, 2)
