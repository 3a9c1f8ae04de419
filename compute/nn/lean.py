"""The lean path: small MLPs trained by fused numba kernels on the CPU.

Same math as the torch path (``compute.nn.train``): same initial weights (drawn as the seeded
torch model draws them, ``MLPShape.init``), same shuffles (``shuffler(seed).permutation(n)`` per epoch), same losses, gradients,
L1, clipping, optimizer and per-step learning rates, in the config's dtype (float64 configs agree
with the torch path to ~1e-10; float32 ones to float32 rounding, their tanh within 2.7e-7).
``train()`` routes a config here when
``lean_eligible`` says so. The kernels release the GIL, so runs on several threads use several
cores (``train_many``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import _kernels as K
from ._shuffle import permutations
from .config import TrainConfig, lr_schedule, steps_per_epoch
from .datasets import Dataset
from .models import MLPShape

LEAN_ACTIVATIONS = {"linear": K.LINEAR, "relu": K.RELU, "tanh": K.TANH, "sigmoid": K.SIGMOID}
LEAN_OPTIMIZERS = {"sgd": K.SGD, "adagrad": K.ADAGRAD, "rmsprop": K.RMSPROP, "adam": K.ADAM,
                   "adamw": K.ADAMW}
# Around this size (e.g. 2-128-128-2) torch's BLAS catches up with the lane kernels.
LEAN_MAX_PARAMS = 20_000
LEAN_MAX_BATCH = 1024


def n_outputs(loss: str, n_classes: int) -> int:
    """Squared error on two classes uses one tanh output (Playground); otherwise one per class."""
    return 1 if loss == "mse" and n_classes == 2 else n_classes


def lean_ineligible_reason(config: TrainConfig, device: str, n_params: int) -> str | None:
    """``None`` when the lean path can train ``config``; else why not."""
    m = config.model
    if device != "cpu":
        return f"device is {device!r} (lean runs on the CPU)"
    if m["kind"] != "mlp":
        return f"model.kind is {m['kind']!r} (lean trains MLPs)"
    if m["activation"] not in LEAN_ACTIVATIONS:
        return f"model.activation {m['activation']!r} is not one of {sorted(LEAN_ACTIVATIONS)}"
    if m["dropout"] > 0:
        return "model.dropout > 0"
    if m["layer_norm"]:
        return "model.layer_norm is on"
    if n_params > LEAN_MAX_PARAMS:
        return f"the model has {n_params} parameters (lean: <= {LEAN_MAX_PARAMS})"
    if config.batch_size > LEAN_MAX_BATCH:
        return f"batch_size {config.batch_size} > {LEAN_MAX_BATCH}"
    return None


@dataclass(frozen=True)
class LeanLayout:
    """Flat parameter vector ``theta`` in torch's ``named_parameters`` order (W_l then b_l) and the
    int64 ``lay`` array the kernels read: ``[L, S, loss, sizes(L+1), w_off(L), b_off(L),
    act(L), residual(L), r_off(L+1)]``; scratch buffers are ``(sum(sizes), S)`` with layer l
    in rows ``r_off[l] ..`` and one example per lane (column); ``lanes`` (a multiple of 16)
    columns are used, and 4 more pad each row so that rows are not a multiple of 512 bytes apart
    (such rows share L1 sets and evict each other)."""

    sizes: tuple[int, ...]
    lay: np.ndarray
    n_params: int
    lanes: int
    buffer_size: int
    w_off: tuple[int, ...]
    b_off: tuple[int, ...]
    dtype: type = np.float64

    @classmethod
    @lru_cache(maxsize=256)  # shared by runs of one architecture: ``lay`` is only read
    def for_mlp(cls, shape: MLPShape, loss: str, batch_size: int,
                dtype: str = "float64") -> LeanLayout:
        """``dtype="float32"``: weights, data and arithmetic in float32 as torch's float32 path
        (the kernels' vectors then hold twice the lanes per register), with tanh to float32
        accuracy (``K.TANH32``, |relative error| <= 2.7e-7 against 0.5 ulp in torch)."""
        sizes = shape.sizes
        L = len(sizes) - 1
        # Lanes: the batch padded to the kernels' 16-lane chunks, at least 256 for evaluation.
        S = (max(256, batch_size) + K.CH - 1) // K.CH * K.CH
        w_off, b_off, off = [], [], 0
        for i in range(L):
            w_off.append(off)
            off += sizes[i] * sizes[i + 1]
            b_off.append(off)
            off += sizes[i + 1]
        f32 = dtype == "float32"
        code = LEAN_ACTIVATIONS[shape.activation]
        act = [K.TANH32 if f32 and code == K.TANH else code] * (L - 1) + [K.LINEAR]
        loss_code = (K.MSE32 if f32 else K.MSE) if loss == "mse" else K.CROSS_ENTROPY
        res = [int(s) for s in shape.skip] + [0]
        r_off = np.concatenate([[0], np.cumsum(sizes)])  # first buffer row of each layer
        lay = np.array([L, S, loss_code, *sizes, *w_off, *b_off, *act, *res, *r_off[:-1]],
                       dtype=np.int64)
        return cls(tuple(sizes), lay, off, S, int(r_off[-1]), tuple(w_off), tuple(b_off),
                   np.float32 if f32 else np.float64)

    def flatten(self, params: list[np.ndarray]) -> np.ndarray:
        """``theta (n_params,)`` in the layout's dtype from ``[W_0, b_0, ...]`` (torch's
        ``parameters()`` order)."""
        return np.concatenate([np.ravel(p) for p in params]).astype(self.dtype)

    def params(self, theta: np.ndarray) -> list[np.ndarray]:
        """``[W_0, b_0, ...]`` of ``theta``: views, in its dtype."""
        out = []
        for i, (w, b) in enumerate(zip(self.w_off, self.b_off, strict=True)):
            a, m = self.sizes[i], self.sizes[i + 1]
            out += [theta[w:w + a * m].reshape(m, a), theta[b:b + m]]
        return out

    def weights(self, theta: np.ndarray) -> list[np.ndarray]:
        """Views of each layer's weight matrix ``(out, in)``."""
        return self.params(theta)[::2]

    def buffers(self) -> tuple[np.ndarray, ...]:
        """Scratch ``A, H, G, D`` (activations, outputs, dL/da, dL/dz) and per-lane ``tm, ts, ll, yl``."""
        z = [np.zeros((self.buffer_size, self.lanes + 4), self.dtype) for _ in range(4)]
        v = [np.zeros(self.lanes, self.dtype) for _ in range(3)]
        return (*z, *v, np.zeros(self.lanes, dtype=np.int64))


def hyperparameters(config: TrainConfig) -> np.ndarray:
    o = config.optimizer
    hp = np.zeros(K.N_HP)
    hp[K.HP_OPT] = LEAN_OPTIMIZERS[o["name"]]
    hp[K.HP_MOM] = o.get("momentum", 0.0)
    hp[K.HP_NEST] = float(o.get("nesterov", False))
    hp[K.HP_WD] = o.get("weight_decay", 0.0)
    b = o.get("betas", [0.9, 0.999])
    hp[K.HP_B1], hp[K.HP_B2] = b[0], b[1]
    hp[K.HP_EPS] = o.get("eps", 1e-8)
    hp[K.HP_ALPHA] = o.get("alpha", 0.99)
    hp[K.HP_L1] = config.l1
    hp[K.HP_CLIP] = config.grad_clip or 0.0
    hp[K.HP_LOSS] = 1.0 if config.loss == "mse" else 0.0
    return hp


class Permutations:
    """Per-epoch shuffles ``shuffler(seed).permutation(n)``, drawn in epoch order (as the torch path).

    Epochs not drawn yet are drawn together (``_shuffle.permutations``: numpy's algorithm and
    PCG64 stream in numba, the same numbers as one ``permutation(n)`` per epoch, tested), at
    ~1/5 the cost of one numpy call per epoch for many short epochs. Epochs before the last one
    asked for are not kept (the callers go forward; a chunk may end and the next begin within an
    epoch).
    """

    def __init__(self, n: int, seed: int):
        self.n = n
        self.gen = shuffler(seed)
        self.rows = np.empty((0, n), dtype=np.int64)  # epochs first, first + 1, ...
        self.first = 0
        self.next_epoch = 0

    def get(self, e0: int, e1: int) -> np.ndarray:
        """Shuffles of epochs ``e0..e1`` inclusive: ``(e1 - e0 + 1, n)`` int64 (read-only use:
        a view of the rows drawn)."""
        if e0 < self.first:
            raise ValueError(f"epoch {e0}'s shuffle is no longer kept (from {self.first} on)")
        if e1 >= self.next_epoch:
            # the epochs asked for that were drawn before (a chunk that began within an epoch),
            # then the new ones, drawn in place
            first = min(e0, self.next_epoch)
            rows = np.empty((e1 - first + 1, self.n), dtype=np.int64)
            kept = self.next_epoch - first
            rows[:kept] = self.rows[first - self.first:]
            permutations(self.gen, self.n, e1 - self.next_epoch + 1, rows[kept:])
            self.rows, self.first, self.next_epoch = rows, first, e1 + 1
        return self.rows[e0 - self.first:e1 - self.first + 1]

    def fill(self, e0: int, e1: int, out: np.ndarray) -> None:
        """``out[:] = get(e0, e1)`` (``out``: any integer ``(e1 - e0 + 1, n)`` array, e.g. one
        lane of a lane group's shuffles); epochs not drawn yet, from the next one on, are drawn
        straight into ``out`` (the last one is kept)."""
        if e0 == self.next_epoch:
            permutations(self.gen, self.n, e1 - e0 + 1, out)
            self.rows, self.first, self.next_epoch = np.array(out[-1:], np.int64), e1, e1 + 1
        else:
            out[...] = self.get(e0, e1)


def shuffler(seed: int) -> np.random.Generator:
    """The data-order generator of a run: numpy PCG64 seeded ``[seed, 2]``, on the CPU for every
    device (weights use ``torch.Generator().manual_seed(seed)``)."""
    return np.random.default_rng([int(seed), 2])


class LeanRun:
    """State of one lean training run: weights, optimizer state and data in the layout's dtype
    (float32 or float64), shuffles."""

    def __init__(self, config: TrainConfig, data: Dataset, shape: MLPShape):
        self.config = config
        self.data = data
        self.shape = shape
        self.layout = LeanLayout.for_mlp(shape, config.loss, config.batch_size, config.dtype)
        self.theta = self.layout.flatten(shape.init(config.seed))
        P, dt = self.layout.n_params, self.layout.dtype
        self.grad = np.zeros(P, dt)
        self.s1 = np.zeros(P, dt)
        self.s2 = np.zeros(P, dt)
        self.counters = np.zeros(2)  # [optimizer step count, running epoch loss sum]
        self.hp = hyperparameters(config)
        # Inputs feature-major (F, n), as the kernels read them
        self.XT, self.XteT = self.feature_major(data.X_train), self.feature_major(data.X_test)
        self.Y = np.array(data.y_train, dtype=np.int64)  # writable: one kernel signature
        self.Yte = np.array(data.y_test, dtype=np.int64)
        self.spe = steps_per_epoch(self.Y.shape[0], config.batch_size)
        self.total_steps = config.epochs * self.spe
        self.lrs = lr_schedule(config, self.total_steps)
        self.perms = Permutations(self.Y.shape[0], config.seed)

    def chunk_arrays(self, g0: int, g1: int) -> tuple[np.ndarray, ...]:
        return (self.perms.get(g0 // self.spe, (g1 - 1) // self.spe),)

    def feature_major(self, X: np.ndarray) -> np.ndarray:
        """``X (n, F)`` as the kernels read inputs: ``(F, n)``, contiguous, in the run's dtype."""
        return np.ascontiguousarray(np.asarray(X, dtype=self.layout.dtype).T)

    def logits(self, XT: np.ndarray, bufs: tuple[np.ndarray, ...],
               theta: np.ndarray | None = None, y: np.ndarray | None = None,
               logits: bool = True) -> tuple[np.ndarray, float, int]:
        """``(z (n, n_out), loss_sum, n_correct)`` of feature-major inputs ``XT (F, n)`` at
        ``theta`` (default: the current weights); the loss and count are against labels ``y``
        (int64; without them, only the logits: the loss and count are 0). Without ``logits``,
        ``z`` has no rows."""
        z = np.empty((XT.shape[1] if logits else 0, self.layout.sizes[-1]))
        A, H, _, _, tm, ts, ll, yl = bufs
        theta = self.theta if theta is None else np.asarray(theta, self.layout.dtype)
        with_loss = y is not None
        if y is None:
            y = np.zeros(XT.shape[1], dtype=np.int64)
        loss, ok = K.evaluate(theta, self.layout.lay, XT, y, A, H, tm, ts, ll, yl, z, with_loss)
        return z, loss, ok


SNAPSHOT_FLOATS = 1_000_000  # at most 8 MB of per-epoch weight snapshots in one chunk


def run_chunk(run: LeanRun, g0: int, g1: int, bufs: tuple[np.ndarray, ...],
              snapshots: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Steps ``g0..g1-1`` of one run: ``(step_loss (g1-g0,), epoch_out (k, 5), grad_norms, snap)``
    for the ``k`` epochs the chunk touches; ``snap (k, 2, P)``: weights and last gradient at the
    end of each epoch ending in the chunk, when ``snapshots`` (else empty)."""
    (perms,) = run.chunk_arrays(g0, g1)
    step_loss = np.empty(g1 - g0)
    grad_norms = np.empty(g1 - g0)
    epoch_out = np.full((perms.shape[0], 5), np.nan)
    snap = np.empty((perms.shape[0] if snapshots else 0, 2, run.layout.n_params))
    K.run_steps(run.theta, run.grad, run.s1, run.s2, run.counters, run.XT, run.Y, perms, run.lrs,
                run.config.batch_size, g0, g1, run.layout.lay, run.hp, *bufs, step_loss, run.XteT,
                run.Yte, epoch_out, grad_norms, snap)
    return step_loss, epoch_out, grad_norms, snap


def warmup() -> None:
    """Compile (or load from numba's on-disk cache) every lean kernel, in both dtypes (float32:
    the default config; float64: e.g. the lr-schedules lab), the single-run kernels and the
    lanes kernel of ``train_many``: call once per process.

    A fresh compile takes ~30 CPU-seconds per dtype; cached, about a second.
    """
    from . import _frames
    from .train import train_many

    _frames.warmup()

    base = {"dataset": {"name": "xor", "n_samples": 40}, "model": {"hidden": [4]},
            "optimizer": {"name": "sgd", "lr": 0.1}, "epochs": 1, "batch_size": 8,
            "device": "cpu", "backend": "lean"}
    for dtype in ("float32", "float64"):
        lanes = [{**base, "dtype": dtype, "seed": s} for s in (0, 1)]  # one lanes group
        alone = {**base, "dtype": dtype, "model": {"hidden": [3]}}  # the single-run kernel
        # min_lanes=2: two runs are fewer than train_many groups by default
        train_many([TrainConfig.from_dict(d) for d in (*lanes, alone)], min_lanes=2)
