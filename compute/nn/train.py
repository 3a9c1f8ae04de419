"""The training loop: one ``train(config, callbacks, should_stop)`` for every device and backend.

Minibatch training of ``loss(f_theta(x), y)`` (mean over the batch) plus ``l1 * sum |W|``, with
gradient clipping to a global 2-norm, a ``torch.optim`` optimizer and a per-step learning-rate
schedule (``LambdaLR``). Progress is reported through ``Callbacks`` (minGPT's pattern):
``on_step`` every ``step_every`` steps, ``on_epoch`` after every epoch (with a decision-boundary
grid every ``boundary_every`` epochs and at the last), ``on_end`` once. Every event has
``to_dict()`` giving plain JSON-able Python values.

Backends: ``torch`` (CPU or CUDA, any model) and ``lean`` (``compute.nn.lean``: fused numba
kernels for small MLPs on the CPU, the same math in the config's dtype). ``backend="auto"`` picks
lean when the config is eligible (an MLP with relu/tanh/sigmoid/linear, no dropout or layer norm,
at most ``LEAN_MAX_PARAMS`` parameters, on the CPU), else torch. ``should_stop()`` is polled before every
batch (torch) or every kernel chunk of at most ~30 ms (lean).

Determinism: weights come from ``torch.Generator().manual_seed(seed)``, shuffles from
``numpy.random.default_rng([seed, 2])``, dropout masks from a device generator seeded
``seed + 2``; the global RNGs are never used. Same config, same device, same numbers.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import math
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from . import _frames
from ._simd import LANES
from .config import TrainConfig, lr_multipliers, steps_per_epoch
from .datasets import Dataset, decision_grid, make_dataset
from .lanes import LaneGroup, group_key, min_group, train_group
from .lean import (
    SNAPSHOT_FLOATS,
    LeanLayout,
    LeanRun,
    lean_ineligible_reason,
    n_outputs,
    run_chunk,
    shuffler,
)
from .models import MLPShape, SeededDropout, build_model, layer_shapes, weight_layers

CONFIDENCE_BINS = 10
LEAN_CHUNK_S = 0.03  # target seconds of kernel work between should_stop polls
# ... and with epoch events: shorter, so that a consumer resolving one chunk's lazy epochs on
# another thread (a job's event encoder) works while the kernel trains the next chunk.
LEAN_EVENT_CHUNK_S = 0.005
# A lane group's chunks with events: longer, as its Python between chunks (16 runs' events) is
# longer; two groups on two threads then hand the GIL over less often.
LANES_EVENT_CHUNK_S = 0.025


# --- events -----------------------------------------------------------------------------------

def _f(x: float) -> float | None:
    """Python float, or None when not finite (JSON has no NaN)."""
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class StepInfo:
    """After optimizer step ``step`` (1-based) of epoch ``epoch`` (1-based): batch loss, its lr."""

    step: int
    epoch: int
    loss: float
    lr: float

    def to_dict(self) -> dict[str, Any]:
        return {"step": self.step, "epoch": self.epoch, "loss": _f(self.loss), "lr": _f(self.lr)}


@dataclass(frozen=True)
class EpochInfo:
    """After epoch ``epoch`` (1-based).

    ``loss``: mean training loss seen during the epoch; ``train_loss``/``test_loss``,
    ``train_acc``/``test_acc``: full-set evaluation at the epoch's end; ``lr``: of its last step.
    ``layers``: per weight layer ``{name, shape, weight_norm, grad_norm, hist: {counts, edges}}``
    (Frobenius norms; the histogram has ``hist_bins`` equal bins over ``[-max|W|, max|W|]``).
    ``outputs``: test-set predicted-probability summary ``{mean_confidence, mean_entropy,
    confidence_hist: {counts, edges}}``. ``boundary`` (2-D data, every ``boundary_every`` epochs
    and the last, else None): ``{x (G,), y (G,), kind, z (G x G)}`` with ``z[i][j]`` at
    ``(x[j], y[i])``: P(class 1) for two classes (``kind="prob"``), else the predicted class
    (``kind="class"``) with its probability in ``confidence``.
    """

    epoch: int
    step: int
    loss: float
    train_loss: float
    test_loss: float
    train_acc: float
    test_acc: float
    lr: float
    elapsed_s: float
    layers: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, Any] | None = None
    boundary: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("loss", "train_loss", "test_loss", "train_acc", "test_acc", "lr", "elapsed_s"):
            d[k] = _f(d[k])
        return d


@dataclass(frozen=True, eq=False)
class TrainResult:
    """Outcome of ``train``. ``loss``/``test_loss`` and the accuracies are full-set evaluations of
    the final weights; ``history`` has one entry per completed epoch (``loss`` is the mean
    training loss seen during the epoch). ``confusion[i][j]``: test points of class i predicted j.
    ``examples_per_s``: training examples / seconds of the training loop (evaluation and
    callbacks included); ``elapsed_s``: the whole call. ``state_dict``: ``torch.save`` bytes of
    the model's ``state_dict`` (CPU tensors), serialized on first use (~1 ms; many runs of
    ``train_many`` are never downloaded)."""

    train_accuracy: float
    test_accuracy: float
    loss: float
    test_loss: float
    history: dict[str, list[float]]
    confusion: list[list[int]]
    layer_shapes: list[dict[str, Any]]
    elapsed_s: float
    steps: int
    epochs: int
    examples_per_s: float
    device: str
    backend: str
    stopped: bool
    diverged: bool
    diverged_step: int | None
    config: dict[str, Any]
    state: bytes | Callable[[], bytes] = field(repr=False, default=b"")  # or makes them

    @functools.cached_property
    def state_dict(self) -> bytes:
        return self.state() if callable(self.state) else self.state

    def to_dict(self, include_state: bool = False) -> dict[str, Any]:
        # field by field, not asdict: its deep copy of the history cost ~8 ms per result
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "state"}
        d["confusion"] = [[int(c) for c in row] for row in self.confusion]
        d["layer_shapes"] = [dict(s) for s in self.layer_shapes]
        d["config"] = copy.deepcopy(self.config)
        for k in ("train_accuracy", "test_accuracy", "loss", "test_loss", "elapsed_s", "examples_per_s"):
            d[k] = _f(d[k])
        fin = math.isfinite
        d["history"] = {k: [v if fin(v) else None for v in map(float, vs)]
                        for k, vs in self.history.items()}
        if include_state:
            d["state_dict"] = self.state_dict
        return d


class LazyEpoch:
    """An epoch whose costly parts (layer statistics, test-set outputs, decision boundary) are
    computed only when ``resolve()`` is called, from a snapshot of that epoch's weights and
    gradients. The scalars are read directly (``epoch``, ``loss``, ``test_acc``...);
    ``boundary_due`` says whether the resolved event will carry a decision boundary. A consumer
    that shows only some epochs (a throttled progress stream) pays for those alone.

    ``resolve()`` may run on another thread while training goes on: it reads only its epoch's
    snapshot and scratch buffers of its own, never the live weights."""

    __slots__ = ("_scalars", "_details", "boundary_due")

    def __init__(self, scalars: dict[str, Any], details: Callable[[], dict[str, Any]],
                 boundary_due: bool):
        self._scalars, self._details, self.boundary_due = scalars, details, boundary_due

    def __getattr__(self, name: str) -> Any:
        try:
            return self._scalars[name]
        except KeyError:
            raise AttributeError(name) from None

    def resolve(self) -> EpochInfo:
        return EpochInfo(**self._scalars, **self._details())

    def to_dict(self) -> dict[str, Any]:
        return self.resolve().to_dict()


@dataclass
class Callbacks:
    """Optional hooks; subclass or pass functions. Exceptions propagate and end training.

    ``lazy_epochs``: ``on_epoch`` receives a ``LazyEpoch`` (call ``resolve()`` for the
    ``EpochInfo``) on backends that support it (lean), so that epochs nobody looks at cost
    only their scalars; otherwise an ``EpochInfo``.

    ``wants(kind, n)``: asked before a step event (``"step"``, the step) or an epoch event
    (``"epoch"``, the epoch) is built; False skips it. The last epoch event and the last step
    event of a run are always delivered. A throttled consumer (a job's progress stream) then
    pays nothing for the events it would drop: a tiny net's 2000-epoch run makes 5000 step
    events. It is meant to answer for the moment (a clock-based throttle): the lean path
    reports a chunk of training's events at once, and once ``wants`` declines a step event,
    that chunk's other step events are skipped without asking; likewise its epochs that draw
    no decision boundary, once one of them is declined. Epochs that draw a boundary (every
    ``boundary_every``-th on 2-D data) are asked one by one: a consumer may want particular
    ones (a job's replay frames).
    """

    on_step: Callable[[StepInfo], None] | None = None
    on_epoch: Callable[[EpochInfo], None] | None = None
    on_end: Callable[[TrainResult], None] | None = None
    lazy_epochs: bool = False
    wants: Callable[[str, int], bool] | None = None


# --- helpers shared by the backends -------------------------------------------------------------

def resolve_device(device: str) -> str:
    """``auto``: CUDA when available, else CPU."""
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device must be 'auto' or 'cpu' on this machine; got 'cuda' "
                         "(CUDA is not available)")
    if device not in ("cpu", "cuda"):
        raise ValueError(f"device must be one of ['auto', 'cpu', 'cuda']; got {device!r}")
    return device


def targets_pm1(y: np.ndarray, n_out: int) -> np.ndarray:
    """Squared-error targets ``(n, n_out)``: +1 for the true class (class 1 with one output), else -1."""
    if n_out == 1:
        return np.where(y == 1, 1.0, -1.0)[:, None]
    return np.where(np.arange(n_out)[None, :] == y[:, None], 1.0, -1.0)


def logits_metrics(z: np.ndarray, y: np.ndarray, loss: str) -> tuple[float, float, np.ndarray]:
    """``(mean loss, accuracy, predictions)`` from logits ``z (n, n_out)``, as the kernels compute."""
    z = z.astype(np.float64)
    if loss == "cross_entropy":
        m = z.max(axis=1)
        lse = np.log(np.exp(z - m[:, None]).sum(axis=1)) + m
        losses = lse - z[np.arange(z.shape[0]), y]
    else:
        losses = 0.5 * ((np.tanh(z) - targets_pm1(y, z.shape[1])) ** 2).sum(axis=1)
    pred = predictions(z)
    return float(losses.mean()), float((pred == y).mean()), pred


def predictions(z: np.ndarray) -> np.ndarray:
    """Predicted classes of logits ``z (n, n_out)``: ``z > 0`` for one output, else argmax."""
    return (z[:, 0] > 0).astype(np.int64) if z.shape[1] == 1 else z.argmax(axis=1)


def _rowwise(ufunc: np.ufunc, a: np.ndarray) -> np.ndarray:
    """``ufunc.reduce(a, axis=1)`` for ``a (n, k)`` with few columns, one column at a time: numpy's
    reduction over a short inner axis costs ~40 ns per row, a column loop ~1 ns (a 50x50 grid's
    softmax: 220 -> 60 µs; a job computes one per progress frame)."""
    out = a[:, 0].copy()
    for j in range(1, a.shape[1]):
        ufunc(out, a[:, j], out=out)
    return out


def probabilities(z: np.ndarray, loss: str) -> np.ndarray:
    """Class probabilities ``(n, n_classes)``: softmax, or ``(tanh z + 1) / 2`` for squared error
    (``[1 - p, p]`` for one output); one numba pass (``_frames``)."""
    z = np.ascontiguousarray(z, dtype=np.float64)
    return _frames.probabilities(z, loss != "cross_entropy")


def layer_stats(named: list[tuple[str, np.ndarray, np.ndarray | None]], bins: int) -> list[dict[str, Any]]:
    """Per weight layer ``(name, W, dL/dW or None)``: its shape, Frobenius norms and a histogram
    of ``W`` over ``[-max|W|, max|W|]`` (``np.histogram``'s counts and edges), one numba call
    per layer (``_frames.layer_summary``; non-finite weights as ``np.nan_to_num``)."""
    out = []
    for name, w, g in named:
        w = np.asarray(w)
        flat = np.ascontiguousarray(w).reshape(-1)
        has_grad = g is not None
        gflat = np.ascontiguousarray(g).reshape(-1) if has_grad else flat
        if w.dtype not in (np.float32, np.float64):
            flat = flat.astype(np.float64)
        if gflat.dtype != flat.dtype:
            gflat = gflat.astype(flat.dtype)
        counts, edges, wsq, gsq = _frames.layer_summary(flat, gflat, has_grad, bins)
        out.append({"name": name, "shape": list(w.shape), "weight_norm": _f(math.sqrt(wsq)),
                    "grad_norm": _f(math.sqrt(gsq)) if has_grad else None,
                    "hist": {"counts": counts.tolist(), "edges": edges.tolist()}})
    return out


def output_summary(p: np.ndarray) -> dict[str, Any]:
    mean_conf, mean_ent, counts, edges = _frames.confidence_summary(
        np.ascontiguousarray(p, dtype=np.float64), CONFIDENCE_BINS)
    return {"mean_confidence": _f(mean_conf), "mean_entropy": _f(mean_ent),
            "confidence_hist": {"counts": counts.tolist(), "edges": edges.tolist()}}


def boundary_payload(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, loss: str) -> dict[str, Any]:
    """The decision boundary over the grid ``xs x ys`` from its logits ``z (G*G, k)``: P(class 1)
    for two classes (``_frames.prob_grid``: probabilities and rounding in one call), else the
    predicted class and its probability."""
    G = xs.shape[0]
    d: dict[str, Any] = {"x": np.round(xs, 4).tolist(), "y": np.round(ys, 4).tolist()}
    z = np.ascontiguousarray(z, dtype=np.float64)
    if z.shape[1] <= 2:
        d.update(kind="prob", z=_frames.prob_grid(z, loss != "cross_entropy", G).tolist())
    else:
        p = probabilities(z, loss)
        d.update(kind="class", z=p.argmax(axis=1).reshape(G, G).tolist(),
                 confidence=np.round(_rowwise(np.maximum, p).reshape(G, G), 4).tolist())
    return d


def confusion_matrix(y: np.ndarray, pred: np.ndarray, k: int) -> list[list[int]]:
    return np.bincount(y * k + pred, minlength=k * k).reshape(k, k).tolist()


def state_bytes(state: torch.nn.Module | Mapping[str, torch.Tensor]) -> bytes:
    """``torch.save`` bytes of a model's ``state_dict`` (or of such a dict), CPU tensors."""
    if isinstance(state, torch.nn.Module):
        state = state.state_dict()
    buf = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in state.items()}, buf)
    return buf.getvalue()


_THREADS_LOCK = threading.Lock()
_THREADS = {"users": 0, "saved": 0}


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run with ``n`` intra-op threads (process-wide in torch), restored afterwards.

    Safe with concurrent users (a server's request threads): the first one in saves the setting
    and sets ``n``, the last one out restores it; the users in between run with the first one's
    ``n``. (Save-and-restore per user would let overlapping users leave the process at ``n``.)
    """
    with _THREADS_LOCK:
        if _THREADS["users"] == 0:
            _THREADS["saved"] = torch.get_num_threads()
            if n != _THREADS["saved"]:
                torch.set_num_threads(n)
        _THREADS["users"] += 1
    try:
        yield
    finally:
        with _THREADS_LOCK:
            _THREADS["users"] -= 1
            if _THREADS["users"] == 0 and torch.get_num_threads() != _THREADS["saved"]:
                torch.set_num_threads(_THREADS["saved"])


def _want_boundary(data: Dataset, epoch: int, last: bool, config: TrainConfig) -> bool:
    return data.grid_box is not None and (last or epoch % config.boundary_every == 0)


# --- the loop --------------------------------------------------------------------------------

def train(config: TrainConfig, callbacks: Callbacks | None = None,
          should_stop: Callable[[], bool] | None = None) -> TrainResult:
    """Train ``config``; report through ``callbacks``; stop early when ``should_stop()`` is True."""
    t_start = time.perf_counter()
    return _train_prepared(_prepare(config), callbacks or Callbacks(), should_stop, t_start)


@dataclass
class _Prepared:
    """A config ready to train: the lean path needs only the MLP's shape (its kernels draw the
    initial weights as the torch model would), the torch path the seeded model."""

    config: TrainConfig
    device: str
    data: Dataset
    model: torch.nn.Module | None
    shape: MLPShape | None
    n_params: int
    lean: bool


def _prepare(config: TrainConfig) -> _Prepared:
    """Data, backend choice and seeded model or MLP shape of ``config`` (raises ``ValueError``
    as ``train``)."""
    device = resolve_device(config.device)
    data = make_dataset(**config.dataset)
    n_out = n_outputs(config.loss, data.n_classes)
    m = config.model
    shape = model = None
    if m["kind"] == "mlp" and not m["layer_norm"] and not m["dropout"]:
        shape = MLPShape.of(m, data.n_features, n_out)  # the parameter count, no modules
    else:
        model = build_model(m, data.n_features, data.n_classes, data.image_shape,
                            n_outputs=n_out, seed=config.seed)
    n_params = shape.n_params if shape else sum(p.numel() for p in model.parameters())
    reason = lean_ineligible_reason(config, device, n_params)
    if config.backend == "lean" and reason:
        raise ValueError(f"backend 'lean' cannot train this config: {reason}")
    lean = config.backend != "torch" and reason is None
    if not lean and model is None:  # an MLP for torch after all (an activation lean lacks...)
        model = build_model(m, data.n_features, data.n_classes, data.image_shape,
                            n_outputs=n_out, seed=config.seed)
    return _Prepared(config, device, data, model, shape, n_params, lean)


def _train_prepared(p: _Prepared, cb: Callbacks, should_stop: Callable[[], bool] | None,
                    t_start: float) -> TrainResult:
    if p.lean:
        return _train_lean(p.config, p.data, p.shape, cb, should_stop, t_start)
    return _train_torch(p.config, p.data, p.model, p.device, p.n_params, cb, should_stop, t_start)


def train_many(configs: Sequence[TrainConfig], *, threads: int = 1,
               lanes: bool = True, min_lanes: int | None = None) -> list[TrainResult]:
    """Train ``configs`` (no callbacks) on ``threads`` threads; results in order.

    With ``lanes`` (default), lean runs that share a ``lanes.lane_key`` (architecture, loss,
    dtype, batch size, dataset sizes, epochs, optimizer algorithm) train in groups of up to 16
    as the SIMD lanes of one kernel (``compute.nn.lanes``): 2-3x the throughput for tiny nets,
    1.05-1.7x for larger ones, when the group is full; a group costs about the same whatever
    its size, so fewer than ``min_lanes`` runs (default ``lanes.min_group(batch_size)``) train
    one by one. A run's numbers are then
    those of ``train()`` to rounding (float64: ~1e-15), whatever its batch mates; a run that
    diverges is retrained alone, so that it stops where ``train()`` stops. Every other config
    runs as ``train()``. The kernels release the GIL, so ``threads`` groups or runs use that
    many cores. ``elapsed_s`` counts from the call; ``examples_per_s`` of a lane run is its
    examples over its group's kernel time.
    """
    t_start = time.perf_counter()
    results: list[TrainResult | None] = [None] * len(configs)
    groups: dict[tuple, list[tuple[int, _Prepared]]] = {}
    tasks: list[Callable[[], None]] = []

    def alone(i: int, p: _Prepared | None = None) -> None:
        results[i] = _train_prepared(p or _prepare(configs[i]), Callbacks(), None, t_start)

    for i, c in enumerate(configs):
        p = _prepare(c)  # a bad config raises here, before any training, as train() would
        if lanes and p.lean:
            layout = LeanLayout.for_mlp(p.shape, c.loss, c.batch_size, c.dtype)
            key = group_key(c, layout, p.data.y_train.shape[0], p.data.y_test.shape[0])
            groups.setdefault(key, []).append((i, p))
        else:
            tasks.append(lambda i=i, p=p: alone(i, p))

    # Lane groups: their runs are made before, and their results after, the threads' work, on
    # this thread. Those are Python (and small torch calls that drop the GIL at every call):
    # two threads doing them at once cost each other more CPU time than they overlap.
    lane_groups: list[tuple[list[tuple[int, _Prepared]], list[LeanRun]]] = []
    finished: list[tuple[list[np.ndarray], float]] = []

    def together(runs: list[LeanRun], slot: int) -> None:
        t0 = time.perf_counter()
        rows = train_group(runs)
        finished[slot] = (rows, time.perf_counter() - t0)

    for members in groups.values():
        for k in range(0, len(members), LANES):
            part = members[k:k + LANES]
            least = min_lanes or min_group(configs[part[0][0]].batch_size)
            if len(part) < max(2, least):  # cheaper one by one
                tasks.extend(lambda i=i, p=p: alone(i, p) for i, p in part)
            else:
                runs = [LeanRun(configs[i], p.data, p.shape) for i, p in part]
                lane_groups.append((part, runs))
                finished.append(([], 0.0))
                tasks.append(lambda runs=runs, slot=len(lane_groups) - 1: together(runs, slot))
    if threads <= 1 or len(tasks) <= 1:
        for task in tasks:
            task()
    else:
        with ThreadPoolExecutor(max_workers=min(threads, len(tasks))) as pool:
            for f in [pool.submit(task) for task in tasks]:
                f.result()
    for (part, runs), (rows, kernel_s) in zip(lane_groups, finished, strict=True):
        for (i, _), run, r in zip(part, runs, rows, strict=True):
            if not np.isfinite(r[:, :2]).all():
                alone(i)  # diverged: train() stops at the first non-finite epoch
                continue
            results[i] = _finish_lean(run, r, run.total_steps, kernel_s, t_start, False, None,
                                      run.layout.buffers())
    return results  # type: ignore[return-value]


def _torch_optimizer(params: list[torch.nn.Parameter], o: dict[str, Any]) -> torch.optim.Optimizer:
    name, lr, wd = o["name"], o["lr"], o["weight_decay"]
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=o["momentum"], nesterov=o["nesterov"],
                               weight_decay=wd)
    if name == "adagrad":
        return torch.optim.Adagrad(params, lr=lr, eps=o["eps"], weight_decay=wd)
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr, alpha=o["alpha"], eps=o["eps"],
                                   momentum=o["momentum"], weight_decay=wd)
    cls = torch.optim.Adam if name == "adam" else torch.optim.AdamW
    return cls(params, lr=lr, betas=tuple(o["betas"]), eps=o["eps"], weight_decay=wd)


def _train_torch(config: TrainConfig, data: Dataset, model: torch.nn.Module, device: str,
                 n_params: int, cb: Callbacks, should_stop: Callable[[], bool] | None,
                 t_start: float) -> TrainResult:
    dtype = torch.float64 if config.dtype == "float64" else torch.float32
    model = model.to(device=device, dtype=dtype)
    dropout_gen = torch.Generator(device=device).manual_seed(config.seed + 2)
    for m in model.modules():
        if isinstance(m, SeededDropout):
            m.generator = dropout_gen
    params = list(model.parameters())
    l1_weights = [m.weight for _, m in weight_layers(model)]
    opt = _torch_optimizer(params, config.optimizer)
    n, bs = data.X_train.shape[0], config.batch_size
    spe = steps_per_epoch(n, bs)
    total = config.epochs * spe
    mult = lr_multipliers(config.schedule, total, config.optimizer["lr"]).tolist()
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda t: mult[min(t, total)])
    base_lr = float(config.optimizer["lr"])
    wants = cb.wants

    def put(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.array(a)).to(device)  # a copy: datasets are read-only

    X, Xte = put(data.X_train).to(dtype), put(data.X_test).to(dtype)
    Y = put(data.y_train)
    n_out = model.head.out_features
    T = put(targets_pm1(data.y_train, n_out)).to(dtype) if config.loss == "mse" else None
    grid = decision_grid(data.grid_box, config.grid_size) if data.grid_box else None
    G = put(grid[2]).to(dtype) if grid else None
    shuffle = shuffler(config.seed)

    def data_loss(z: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        if T is None:
            return F.cross_entropy(z, Y[idx])
        return 0.5 * ((torch.tanh(z) - T[idx]) ** 2).sum(dim=1).mean()

    @torch.no_grad()
    def logits(x: torch.Tensor) -> np.ndarray:
        model.eval()
        z = model(x).double().cpu().numpy()
        model.train()
        return z

    history: dict[str, list[float]] = {k: [] for k in ("loss", "train_loss", "test_loss",
                                                       "train_acc", "test_acc", "lr")}
    step, stopped, diverged_step = 0, False, None
    threads = 1 if n_params * bs < 2_000_000 else min(4, os.cpu_count() or 1)
    t_loop = time.perf_counter()
    model.train()
    with torch_threads(threads):
        for epoch in range(1, config.epochs + 1):
            perm = torch.from_numpy(shuffle.permutation(n)).to(device)
            loss_sum = torch.zeros((), device=device, dtype=torch.float64)
            for s in range(spe):
                if should_stop is not None and should_stop():
                    stopped = True
                    break
                idx = perm[s * bs:(s + 1) * bs]
                z = model(X[idx])
                loss = data_loss(z, idx)
                total_loss = loss
                if config.l1:
                    total_loss = loss + config.l1 * sum(w.abs().sum() for w in l1_weights)
                opt.zero_grad(set_to_none=True)
                total_loss.backward()
                if config.grad_clip:
                    torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
                opt.step()
                sched.step()
                step += 1
                loss_sum += loss.detach().double() * idx.shape[0]
                if cb.on_step is not None and step % config.step_every == 0 and (
                        wants is None or step + config.step_every > total or wants("step", step)):
                    cb.on_step(StepInfo(step, epoch, float(loss.detach()), base_lr * mult[step - 1]))
            if stopped:
                break
            ep_loss = float(loss_sum) / n
            z_tr, z_te = logits(X), logits(Xte)
            tr_loss, tr_acc, _ = logits_metrics(z_tr, data.y_train, config.loss)
            te_loss, te_acc, _ = logits_metrics(z_te, data.y_test, config.loss)
            lr = base_lr * mult[step - 1]
            for k, v in zip(history, (ep_loss, tr_loss, te_loss, tr_acc, te_acc, lr), strict=True):
                history[k].append(v)
            finite = math.isfinite(ep_loss) and math.isfinite(tr_loss)
            if not finite:
                diverged_step = step
            last = epoch == config.epochs or not finite
            if cb.on_epoch is not None and (wants is None or last or wants("epoch", epoch)):
                named = [(nm, m.weight.detach().cpu().numpy(),
                          None if m.weight.grad is None else m.weight.grad.detach().cpu().numpy())
                         for nm, m in weight_layers(model)]
                boundary = None
                if grid is not None and _want_boundary(data, epoch, last, config):
                    boundary = boundary_payload(grid[0], grid[1], logits(G), config.loss)
                cb.on_epoch(EpochInfo(epoch, step, ep_loss, tr_loss, te_loss, tr_acc, te_acc, lr,
                                      time.perf_counter() - t_start,
                                      layer_stats(named, config.hist_bins),
                                      output_summary(probabilities(z_te, config.loss)), boundary))
            if not finite:
                break
        loop_s = time.perf_counter() - t_loop
        z_tr, z_te = logits(X), logits(Xte)
    tr_loss, tr_acc, _ = logits_metrics(z_tr, data.y_train, config.loss)
    te_loss, te_acc, pred = logits_metrics(z_te, data.y_test, config.loss)
    result = TrainResult(
        train_accuracy=tr_acc, test_accuracy=te_acc, loss=tr_loss, test_loss=te_loss,
        history=history, confusion=confusion_matrix(data.y_test, pred, data.n_classes),
        layer_shapes=layer_shapes(model), elapsed_s=time.perf_counter() - t_start, steps=step,
        epochs=len(history["loss"]), examples_per_s=_rate(step, spe, n, bs, loop_s),
        device=device, backend="torch", stopped=stopped, diverged=diverged_step is not None,
        diverged_step=diverged_step, config=config.to_dict(), state=state_bytes(model))
    if cb.on_end is not None:
        cb.on_end(result)
    return result


def _rate(steps: int, spe: int, n: int, bs: int, seconds: float) -> float:
    """Training examples per second (the last batch of an epoch may be short)."""
    full, rest = divmod(steps, spe)
    examples = full * n + min(rest * bs, n)
    return examples / seconds if seconds > 0 else 0.0


class _LeanReporter:
    """One lean run's chunks (step losses, epoch rows, weight snapshots) turned into its
    callbacks' events and its history, for the single-run loop and for lane groups alike."""

    def __init__(self, run: LeanRun, cb: Callbacks, t_start: float):
        config, data = run.config, run.data
        self.run, self.cb, self.t_start = run, cb, t_start
        self.grid = decision_grid(data.grid_box, config.grid_size) if data.grid_box else None
        self.grid_T = run.feature_major(self.grid[2]) if self.grid else None
        # Lazy epochs evaluate in scratch of their own: they may resolve on another thread while
        # the kernel trains.
        self.snapshots = cb.on_epoch is not None
        self.ebufs = run.layout.buffers() if self.snapshots else None
        self.rows: list[np.ndarray] = []
        self.diverged_step: int | None = None
        self.next_step_event = config.step_every
        self.steps_declined = False  # wants declined a step event of the chunk in hand

    def _steps_until(self, last: int, g: int, step_loss: np.ndarray) -> None:
        run, cb, wants = self.run, self.cb, self.cb.wants
        k, spe, total = run.config.step_every, run.spe, run.total_steps
        while self.next_step_event <= last:
            s = self.next_step_event
            if s + k > total or wants is None or (not self.steps_declined and wants("step", s)):
                cb.on_step(StepInfo(s, (s - 1) // spe + 1, float(step_loss[s - 1 - g]),
                                    float(run.lrs[s - 1])))
                self.next_step_event += k
                continue
            # Declined: so are this chunk's other step events (see Callbacks.wants) up to
            # ``last``, but for the run's last one. A tiny net's 2000-epoch run has 5000.
            self.steps_declined = True
            s_last = s + (last - s) // k * k
            self.next_step_event = s_last if s_last > s and s_last + k > total else s_last + k

    def consume(self, g: int, g1: int, step_loss: np.ndarray, epoch_out: np.ndarray,
                snap: np.ndarray, t0: float, dt: float) -> bool:
        """Steps ``g..g1-1`` (whole epochs, or a part of one) trained in ``dt`` seconds from
        ``t0``: their events and history rows. False once the run diverged (its last event
        sent: it stops there)."""
        run, cb, config = self.run, self.cb, self.run.config
        spe, wants, names = run.spe, cb.wants, run.shape.names
        e_first = g // spe
        self.steps_declined = False
        n_rows = g1 // spe - e_first
        bad = np.flatnonzero(~np.isfinite(epoch_out[:n_rows, :2]).all(axis=1))
        if bad.size:  # diverged: the run ends with that epoch's event
            n_rows = int(bad[0]) + 1
            self.diverged_step = (e_first + n_rows) * spe
        out_rows = epoch_out[:n_rows].tolist()  # Python floats: bookkeeping without numpy calls
        # Rows visited: every one without a throttle. Once ``wants`` declines an epoch that
        # draws no boundary, the chunk's other such epochs are skipped unasked (Callbacks.wants):
        # then only boundary epochs and the chunk's last row are visited, so a tiny net's
        # thousands of epochs cost no Python loop each (16 lanes x 2000 epochs: ~0.2 s).
        reporting = cb.on_epoch is not None
        every = config.boundary_every if reporting and self.grid is not None else 0
        declined = not reporting  # nothing to report: visit the last row only (steps)
        i = 0
        while i < n_rows:
            e = e_first + i
            epoch = e + 1
            if cb.on_step is not None:
                self._steps_until(epoch * spe, g, step_loss)
            last = epoch == config.epochs or epoch * spe == self.diverged_step
            want_boundary = _want_boundary(run.data, epoch, last, config)
            wanted = reporting and (
                wants is None or last or (want_boundary or not declined) and wants("epoch", epoch))
            if not wanted and not want_boundary:
                declined = True
            if declined:  # on to the next boundary epoch, or the last row
                nxt = n_rows - 1 if i < n_rows - 1 else n_rows
                if every:  # the next multiple of boundary_every (_want_boundary's rule)
                    nxt = min(nxt, (epoch // every + 1) * every - 1 - e_first)
            else:
                nxt = i + 1
            if wanted:
                ep_loss, tr_loss, tr_acc, te_loss, te_acc = out_rows[i]
                elapsed = t0 + dt * (epoch * spe - g) / (g1 - g) - self.t_start
                scalars = {"epoch": epoch, "step": epoch * spe, "loss": ep_loss,
                           "train_loss": tr_loss, "test_loss": te_loss, "train_acc": tr_acc,
                           "test_acc": te_acc, "lr": float(run.lrs[epoch * spe - 1]),
                           "elapsed_s": elapsed}
                theta, grad = snap[e - e_first, 0], snap[e - e_first, 1]

                def details(theta=theta, grad=grad, want_boundary=want_boundary) -> dict[str, Any]:
                    wts, grads = run.layout.weights(theta), run.layout.weights(grad)
                    named = [(nm, w, gw) for nm, w, gw in zip(names, wts, grads, strict=True)]
                    boundary = None
                    if want_boundary:
                        zg, _, _ = run.logits(self.grid_T, self.ebufs, theta)
                        boundary = boundary_payload(self.grid[0], self.grid[1], zg, config.loss)
                    z_te, _, _ = run.logits(run.XteT, self.ebufs, theta)
                    return {"layers": layer_stats(named, config.hist_bins),
                            "outputs": output_summary(probabilities(z_te, config.loss)),
                            "boundary": boundary}

                lazy = LazyEpoch(scalars, details, want_boundary)
                cb.on_epoch(lazy if cb.lazy_epochs else lazy.resolve())
            i = nxt
        self.rows.append(epoch_out[:n_rows])
        if self.diverged_step is not None:
            return False
        if cb.on_step is not None:
            self._steps_until(g1, g, step_loss)
        return True

    def finish(self, steps_done: int, loop_s: float, stopped: bool,
               bufs: tuple[np.ndarray, ...]) -> TrainResult:
        steps = self.diverged_step if self.diverged_step is not None else steps_done
        rows = np.concatenate(self.rows) if self.rows else np.empty((0, 5))
        return _finish_lean(self.run, rows, steps, loop_s, self.t_start, stopped,
                            self.diverged_step, bufs, self.cb)


def _train_lean(config: TrainConfig, data: Dataset, shape: MLPShape, cb: Callbacks,
                should_stop: Callable[[], bool] | None, t_start: float) -> TrainResult:
    run = LeanRun(config, data, shape)
    bufs = run.layout.buffers()
    rep = _LeanReporter(run, cb, t_start)
    spe, total = run.spe, run.total_steps
    g, chunk, stopped = 0, spe, False
    t_loop = time.perf_counter()
    # Chunks of several epochs (up to ~30 ms of kernel time between should_stop polls); the
    # kernel snapshots the weights at each epoch end, so that epoch events describe their own
    # epoch however the steps were chunked.
    snapshots = rep.snapshots
    max_chunk = max(spe, SNAPSHOT_FLOATS // (2 * run.layout.n_params) * spe) if snapshots else total
    target_s = LEAN_EVENT_CHUNK_S if snapshots else LEAN_CHUNK_S
    while g < total:
        if should_stop is not None and should_stop():
            stopped = True
            break
        g1 = min(total, g + chunk, g + max_chunk)
        t0 = time.perf_counter()
        step_loss, epoch_out, _, snap = run_chunk(run, g, g1, bufs, snapshots)
        dt = time.perf_counter() - t0
        if not rep.consume(g, g1, step_loss, epoch_out, snap, t0, dt):
            break
        done, g = g1 - g, g1
        chunk = max(1, min(chunk * 4, int(done * target_s / max(dt, 1e-6))))
    return rep.finish(g, time.perf_counter() - t_loop, stopped, bufs)


def lane_group(config: TrainConfig) -> tuple | None:
    """The key under which runs of ``config`` can train together (``train_lanes``; equal keys:
    the same architecture, loss, dtype, batch size, data sizes, epochs and optimizer), or
    ``None`` for a run that does not take the lean path here (torch models, CUDA). A group pays
    from ``lanes.min_group(batch_size)`` runs on."""
    p = _prepare(config)
    if not p.lean:
        return None
    layout = LeanLayout.for_mlp(p.shape, config.loss, config.batch_size, config.dtype)
    return group_key(config, layout, p.data.y_train.shape[0], p.data.y_test.shape[0])


def train_lanes(configs: Sequence[TrainConfig], callbacks: Sequence[Callbacks],
                should_stop: Sequence[Callable[[], bool] | None]) -> list[TrainResult]:
    """Train 1..16 lean runs with one ``lanes.lane_key`` together, as the SIMD lanes of one
    kernel (``lanes.LaneGroup``), each reporting through its own callbacks as ``train()``
    would: the same events (steps, epochs with their weights, boundaries), and the same numbers
    to rounding. Each run stops on its own (its ``should_stop``, or divergence); the others go
    on. Raises ``ValueError`` for runs that cannot share a group (``lane_key``)."""
    t_start = time.perf_counter()
    preps = [_prepare(c) for c in configs]
    if not all(p.lean for p in preps):
        raise ValueError("train_lanes takes lean runs only")
    runs = [LeanRun(c, p.data, p.shape) for c, p in zip(configs, preps, strict=True)]
    reps = [_LeanReporter(r, cb, t_start) for r, cb in zip(runs, callbacks, strict=True)]
    group = LaneGroup(runs, snapshots=any(rep.snapshots for rep in reps))
    spe, E = runs[0].spe, runs[0].config.epochs
    bufs = runs[0].layout.buffers()  # final evaluations, one run at a time
    results: list[TrainResult | None] = [None] * len(runs)
    active = list(range(len(runs)))
    target_s = LANES_EVENT_CHUNK_S if group.snapshots else LEAN_CHUNK_S
    e, chunk = 0, 1
    t_loop = time.perf_counter()

    def end(i: int, stopped: bool) -> None:
        group.store(i)
        results[i] = reps[i].finish(e * spe, time.perf_counter() - t_loop, stopped, bufs)
        active.remove(i)

    while active and e < E:
        for i in list(active):
            if should_stop[i] is not None and should_stop[i]():
                end(i, True)
        if not active:
            break
        e1 = min(E, e + chunk, e + group.max_epochs)
        t0 = time.perf_counter()
        step_out, epoch_out, snap = group.advance(e, e1)
        dt = time.perf_counter() - t0
        step64, epoch64 = step_out.astype(np.float64), epoch_out.astype(np.float64)
        done, e_prev, e = e1 - e, e, e1
        for i in list(active):
            if not reps[i].consume(e_prev * spe, e1 * spe, step64[:, i], epoch64[:, :, i],
                                   snap[i], t0, dt):
                end(i, False)
        chunk = max(1, min(chunk * 4, int(done * target_s / max(dt, 1e-6))))
    for i in list(active):
        end(i, False)
    return results  # type: ignore[return-value]


def _finish_lean(run: LeanRun, rows: np.ndarray, steps: int, loop_s: float, t_start: float,
                 stopped: bool, diverged_step: int | None, bufs: tuple[np.ndarray, ...],
                 cb: Callbacks | None = None) -> TrainResult:
    config, data = run.config, run.data
    spe, n = run.spe, run.Y.shape[0]
    rows = rows[~np.isnan(rows).all(axis=1)] if rows.size else rows.reshape(0, 5)
    n_ep = rows.shape[0]
    history = {"loss": rows[:, 0].tolist(), "train_loss": rows[:, 1].tolist(),
               "test_loss": rows[:, 3].tolist(), "train_acc": rows[:, 2].tolist(),
               "test_acc": rows[:, 4].tolist(),
               "lr": run.lrs[spe - 1::spe][:n_ep].astype(np.float64).tolist()}
    # Final metrics as the kernel's epoch rows compute them (its loss sums and correct counts:
    # no numpy passes over the logits); the test logits only for the confusion matrix.
    _, tr_sum, tr_ok = run.logits(run.XT, bufs, y=run.Y, logits=False)
    z_te, te_sum, te_ok = run.logits(run.XteT, bufs, y=run.Yte)
    n_te = run.Yte.shape[0]
    result = TrainResult(
        train_accuracy=tr_ok / n, test_accuracy=te_ok / n_te, loss=tr_sum / n,
        test_loss=te_sum / n_te,
        history=history,
        confusion=confusion_matrix(data.y_test, predictions(z_te), data.n_classes),
        layer_shapes=run.shape.layer_shapes(), elapsed_s=time.perf_counter() - t_start,
        steps=steps, epochs=n_ep, examples_per_s=_rate(steps, spe, n, config.batch_size, loop_s),
        device="cpu", backend="lean", stopped=stopped, diverged=diverged_step is not None,
        diverged_step=diverged_step, config=config.to_dict(),
        state=lambda: state_bytes(run.shape.state_dict(run.layout.params(run.theta))))
    if cb is not None and cb.on_end is not None:
        cb.on_end(result)
    return result
