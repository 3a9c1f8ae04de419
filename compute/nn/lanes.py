"""Same-shaped lean runs trained together, one run per SIMD lane (``_lanes.run_lanes``).

``train_many`` groups its lean runs by ``lane_key`` and trains each group of up to 16 together.
For tiny networks (TensorFlow Playground's 2-4-2-1) this is 2-3 times the throughput of the runs
one after another: a run's 10-example minibatch no longer pads 16 lanes, and gradients and
optimizer updates need no horizontal sums or scalar loops. Measured on 16 runs of 2-layer tanh
MLPs up to the lean path's 20 000 parameters and batches of 64 to 1024, lanes were 1.05-1.7x
faster than the single-run kernels, so every lean run is eligible.

Each lane computes exactly what it would in any other group or position (lanes never mix), so a
run's numbers do not depend on its batch mates. They equal the single-run lean kernel's to
rounding (sums over a minibatch in example order; float64 runs agree to ~1e-12).
"""

from __future__ import annotations

import numpy as np

from ._lanes import N_STATS, run_lanes
from ._simd import LANES
from .config import TrainConfig
from .lean import LEAN_OPTIMIZERS, SNAPSHOT_FLOATS, LeanLayout, LeanRun

# Epochs per kernel call: their shuffles and learning rates, 16 lanes wide, stay under this.
CHUNK_BYTES = 16 << 20


def min_group(batch_size: int) -> int:
    """The fewest runs worth training as lanes: a group costs about the same for 1 or 16 runs,
    so it pays from roughly 16 / (its speed-up at 16). Measured (``train_many`` with and without
    lanes, 2, 4, 8, 16 runs): break-even at ~12 runs for minibatches of 32-64 (1.3x at 16),
    ~8-10 for TensorFlow Playground's batches of 10 (1.65-1.9x at 16), whose small minibatches
    leave the single-run kernel's lanes part empty."""
    return 12 if batch_size >= 16 else 8


def lane_key(run: LeanRun) -> tuple:
    """Runs with equal keys can share a lanes kernel."""
    return group_key(run.config, run.layout, run.Y.shape[0], run.Yte.shape[0])


def group_key(config: TrainConfig, layout: LeanLayout, n_train: int, n_test: int) -> tuple:
    """``lane_key`` of the run ``config`` would make (its layout, its data's sizes), without
    making it."""
    lay = layout.lay
    return (tuple(int(v) for v in lay[[0, *range(2, lay.shape[0])]]), layout.dtype,
            config.batch_size, config.epochs, n_train, n_test,
            LEAN_OPTIMIZERS[config.optimizer["name"]])


def _lanes(arrays: list[np.ndarray], dtype) -> np.ndarray:
    """``(..., 16)``: one array per lane along the last axis; lanes past ``len(arrays)`` repeat
    lane 0 (their results are discarded)."""
    out = np.empty((*arrays[0].shape, LANES), dtype)
    for r in range(LANES):
        out[..., r] = arrays[r] if r < len(arrays) else arrays[0]
    return out


class LaneGroup:
    """1..16 runs with one ``lane_key`` trained together in ``advance`` calls of whole epochs
    (their weights and optimizer state stay in the group's arrays between calls)."""

    def __init__(self, runs: list[LeanRun], snapshots: bool = False):
        if not 1 <= len(runs) <= LANES or len({lane_key(r) for r in runs}) != 1:
            raise ValueError("a lane group takes 1 to 16 runs with one lane_key")
        self.runs, self.snapshots = runs, snapshots
        r0 = runs[0]
        dt, lay = r0.layout.dtype, r0.layout
        self.dtype, self.spe, self.n = dt, r0.spe, r0.Y.shape[0]
        self.epochs = r0.config.epochs
        self.theta = _lanes([r.theta for r in runs], dt)
        self.grad, self.s1, self.s2 = (np.zeros_like(self.theta) for _ in range(3))
        self.X = _lanes([r.XT.reshape(-1) for r in runs], dt)
        self.Xte = _lanes([r.XteT.reshape(-1) for r in runs], dt)
        self.Y = _lanes([r.Y for r in runs], dt)
        self.Yte = _lanes([r.Yte for r in runs], dt)
        self.hp64 = _lanes([r.hp for r in runs], np.float64)
        self.hp = self.hp64.astype(dt)
        self.Xe, self.Ye = np.empty_like(self.X), np.empty_like(self.Y)
        self.scratch = tuple(np.zeros((4 * lay.buffer_size, LANES), dt) for _ in range(4))
        self.stats = np.zeros((N_STATS, LANES), dt)
        # Most epochs per call: shuffles and learning rates (and snapshots) within bounds.
        per_epoch = LANES * 4 * (self.n + self.spe)
        most = max(1, CHUNK_BYTES // per_epoch)
        if snapshots:
            most = min(most, max(1, SNAPSHOT_FLOATS // (2 * lay.n_params * LANES)))
        self.max_epochs = most

    def advance(self, e0: int, e1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Train epochs ``e0..e1-1`` (``e0`` = epochs done; ``e1 - e0 <= max_epochs``):
        ``(step_out (k*spe, 16), epoch_out (k, 5, 16), snap)``, ``snap (16, k, 2, P)`` per lane
        when ``snapshots`` (else empty); every lane's values in its own column (lane ``i`` is
        ``runs[i]``; lanes past the runs repeat run 0 and are to be ignored)."""
        runs, spe, dt = self.runs, self.spe, self.dtype
        k = e1 - e0
        perms = np.empty((k, self.n, LANES), np.int32)
        for i, r in enumerate(runs):
            r.perms.fill(e0, e1 - 1, perms[:, :, i])
        perms[:, :, len(runs):] = perms[:, :, :1]
        lrs = _lanes([r.lrs[e0 * spe:e1 * spe] for r in runs], dt)
        epoch_out = np.empty((k * 5, LANES), dt)
        step_out = np.empty((k * spe, LANES), dt)
        P = self.theta.shape[0]
        snap = np.empty((k if self.snapshots else 0, 2, P, LANES), dt)
        run_lanes(self.theta, self.grad, self.s1, self.s2, self.X, self.Y, self.Xte, self.Yte,
                  perms, lrs, self.hp, self.hp64, runs[0].config.batch_size, e0 * spe,
                  runs[0].layout.lay, self.Xe, self.Ye, *self.scratch, self.stats, epoch_out,
                  step_out, snap)
        return step_out, epoch_out.reshape(k, 5, LANES), np.ascontiguousarray(
            snap.transpose(3, 0, 1, 2))

    def store(self, i: int) -> None:
        """Lane ``i``'s weights into ``runs[i].theta``."""
        self.runs[i].theta[:] = self.theta[:, i]


def train_group(runs: list[LeanRun]) -> list[np.ndarray]:
    """Train ``runs`` (1..16, equal ``lane_key``) to their last epoch, in calls of as many
    epochs as keep their shuffles and learning rates under ``CHUNK_BYTES``; each run's ``theta``
    is updated in place. Returns each run's ``(epochs, 5)`` epoch rows (float64, as
    ``run_chunk``'s ``epoch_out``)."""
    group = LaneGroup(runs)
    E = group.epochs
    rows = np.empty((E, 5, LANES))
    for e0 in range(0, E, group.max_epochs):
        e1 = min(E, e0 + group.max_epochs)
        rows[e0:e1] = group.advance(e0, e1)[1]
    for i in range(len(runs)):
        group.store(i)
    return [rows[:, :, i] for i in range(len(runs))]
