"""Numba loops for progress frames: class probabilities, histograms, output confidence.

A job's progress frame (layer statistics, the test set's outputs, a 50x50 decision boundary) was
~1 ms of numpy calls on small arrays, each paying numpy's per-call overhead; a 200-epoch run
sends ~20 of them. These loops compute the same numbers in one pass each: the histogram by
numpy's own equal-width method (the same counts as ``np.histogram``, tested), the softmax and
squared-error probabilities by the same formulas (equal to rounding, tested).
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


def warmup() -> None:
    """Compile (or load) these loops."""
    z = np.zeros((2, 2))
    probabilities(z, False)
    probabilities(z[:, :1].copy(), True)
    confidence(probabilities(z, True))
    hist_counts(np.zeros(3), np.linspace(-1.0, 1.0, 3), -1.0, 1.0)
    hist_counts(np.zeros(3, np.float32), np.linspace(-1.0, 1.0, 3), -1.0, 1.0)
