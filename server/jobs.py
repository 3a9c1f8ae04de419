"""Training runs on Dask: submit, progress, cancel, persist.

One code path for both clusters: with ``settings.scheduler`` unset the service starts an
in-process ``LocalCluster`` (worker *processes* under a nanny, so a killed worker is seen and
restarted); with ``MATHLENS_SCHEDULER=tcp://host:8786`` it submits to that cluster. Jobs asking
for a GPU carry ``resources={"GPU": 1}`` (GPU workers are started with ``--resources GPU=1``).

Flow of one job::

    POST ─► row in SQLite (queued) ─► client.submit(run_training, key=mathlens-train-<id>)
    worker: compute.nn.train(callbacks) ─► worker.log_event("mathlens-jobs", {batch}) ─► scheduler
        ─► client.subscribe_topic handler (event loop) ─► Job.events (numbered) ─► SSE
    cancel: distributed.Event("mathlens-cancel-<id>").set(); the worker's should_stop polls it
    worker killed: the scheduler's "all" topic says remove-worker ─► that worker's job failed
    end: future result (metrics, history, weights) ─► SQLite (row + events) ─► final status event

CPU jobs wait in the server, in order, while every worker thread is busy (``JobService._dispatch``);
GPU jobs go to Dask at once. With ``settings.lane_groups`` (on by default), a freed thread takes
the oldest job with up to 15 more waiting jobs of its lane group (``compute.nn.lane_group``), when
there are enough of them for a group to pay (``compute.nn.lanes.min_group``), as one
``run_training_group`` task: ``compute.nn.train_lanes`` trains them as the SIMD lanes of one
kernel, each job with its own events, cancel flag, time limit and result (the numbers it would
get alone). A lane that stops early sends its outcome as an event, so its lane mates go on. On a
cluster with GPU workers jobs train one per task: a group that Dask placed (or work stealing
moved) on a CUDA worker could not share a kernel there and would train its jobs one by one.
Measured on 2 cores (session 9), 30 jobs at once were all done 1.1-1.6x sooner that way than one
task each, for the canonical example and the Playground's nets alike.

The event loop never blocks on SQLite: every write goes, in order, to one database thread.
This module imports no web framework; the worker side needs only ``compute`` and ``distributed``.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import logging
import math
import os
import queue
import secrets
import socket
import sqlite3
import threading
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import Future as ThreadFuture
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson

log = logging.getLogger("mathlens.jobs")

TOPIC = "mathlens-jobs"  # progress events of every job; each message names its job
KEY_PREFIX = "mathlens-train-"  # Dask key of a job's task
CANCEL_PREFIX = "mathlens-cancel-"  # distributed.Event name of a job's stop flag
ACTIVE = ("queued", "running")
TERMINAL = ("succeeded", "failed", "cancelled", "interrupted")
CANCEL_POLL_S = 0.2  # a running job's cancel watcher long-polls the scheduler in 5x this
CANCEL_WAIT_S = 1.5  # DELETE waits this long for the worker to stop, then marks it cancelled anyway
WATCHDOG_GRACE_S = 10.0  # past job_timeout_s + this, a job whose worker went silent is failed
CONNECT_WAIT_S = 60.0  # a queued job waits this long for a cluster that failed to connect
FLUSH_EVERY_S = 2.0  # progress and events of a running job reach SQLite at least this often
RECENT_JOBS = 64  # finished jobs kept in memory (events, weights) for fast reads and streams
EVENT_INTERVALS_S = {"step": 0.1, "epoch": 0.1, "boundary": 0.5}  # at most one per key and interval
# A lane group of n jobs spaces each job's time-throttled events max(1, n / this) times wider.
GROUP_PACE_LANES = 4
SEND_EVERY_S = 0.1  # a worker sends a job's events in batches, at most one message per interval
# Decision boundaries sent whatever the throttle says, evenly spread over the run, so that a run
# that trains in 0.1 s still has a boundary to replay every few epochs (~20 kB each).
REPLAY_FRAMES = 12
KEEPALIVE_S = 15.0
PROGRESS_KEYS = (
    "epoch",
    "step",
    "loss",
    "lr",
    "train_loss",
    "test_loss",
    "train_acc",
    "test_acc",
    "elapsed_s",
)  # the numbers of step and epoch events a job's progress keeps


class JobsUnavailable(Exception):
    """The cluster cannot take jobs now (answered 503 with Retry-After)."""

    def __init__(self, message: str, retry_after: int = 10):
        super().__init__(message)
        self.retry_after = retry_after


class QueueFull(Exception):
    """``queue_limit`` jobs are queued or running (answered 429 with Retry-After)."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class ConfigError(ValueError):
    """The config is valid on its own but this cluster cannot run it (answered 422)."""

    def __init__(self, field: tuple[str, ...], message: str):
        super().__init__(message)
        self.field = field


# =================================================================================================
# Worker side: runs inside a Dask worker process.
# =================================================================================================


_JSON_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS


def _json(x: Any) -> bytes:
    """JSON bytes of an event or result; NaN and inf become null.

    compute's events are dataclasses whose ``to_dict()`` is ``asdict`` plus float conversion:
    orjson encodes the dataclass itself, in C, the same JSON without the deep copy (20 ms for an
    epoch with a decision boundary; a test keeps the two equal). Anything orjson cannot encode
    directly (the result, with its weights) goes through ``to_dict()``."""
    try:
        return orjson.dumps(x, option=_JSON_OPTS)
    except TypeError:
        pass
    d = x.to_dict() if hasattr(x, "to_dict") else x
    try:
        return orjson.dumps(d, option=_JSON_OPTS)
    except TypeError:  # something orjson does not know: plain it first
        return orjson.dumps(_plain(d), option=_JSON_OPTS)


def _plain(x: Any) -> Any:
    """JSON-able copy: numpy arrays and scalars, tuples, objects with ``to_dict``."""
    if x is None or isinstance(x, bool | int | float | str):
        return x
    if isinstance(x, Mapping):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if isinstance(x, np.ndarray):  # orjson writes native numeric arrays itself
        native = x.dtype.isnative and x.dtype.kind in "biuf"
        return np.ascontiguousarray(x) if native else _plain(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    if hasattr(x, "detach"):  # a torch tensor: as numpy (bfloat16/half widened first)
        t = x.detach().cpu()
        return _plain((t.double() if t.is_floating_point() else t).numpy())
    if hasattr(x, "to_dict"):
        return _plain(x.to_dict())
    if isinstance(x, bytes | bytearray):
        return bytes(x)
    return str(x)


def _resolved(event: Any) -> Any:
    return event.resolve() if hasattr(event, "resolve") else event


def _encoded(event: Any) -> bytes:
    return _json(_resolved(event))


class _Throttle:
    """At most one event per throttle key and interval; the latest held back is sent by ``flush``.

    ``send(kind, event)`` gets the event as it came (a lazy one unresolved), so that dropped
    events cost nothing and the sender may resolve and encode them (``_encoded``) where it
    likes. Sending an event drops older held-back events of the same kind, so each kind stays
    in order.
    """

    def __init__(self, send: Callable[[str, Any], None], intervals: Mapping[str, float]):
        self.send, self.intervals = send, intervals
        self.last: dict[str, float] = {}
        self.pending: dict[str, tuple[int, str, Any]] = {}  # key -> (order, kind, event)
        self.n = 0

    def __call__(self, kind: str, event: Any, key: str | None = None) -> None:
        key = key or kind
        self.n += 1
        if self.due(key):
            self.last[key] = time.monotonic()
            self.pending = {k: p for k, p in self.pending.items() if p[1] != kind}
            self.send(kind, event)
        else:
            self.pending[key] = (self.n, kind, event)

    def due(self, key: str) -> bool:
        """Whether an event under ``key`` would be sent now."""
        return time.monotonic() - self.last.get(key, -math.inf) >= self.intervals.get(key, 0.0)

    def flush(self) -> None:
        for _, kind, event in sorted(self.pending.values(), key=lambda p: p[0]):
            self.send(kind, event)
        self.pending.clear()


class _Outbox:
    """A job's progress events, sent to the scheduler in batches: the first at once, then at most
    one ``log_event`` per ``SEND_EVERY_S`` (a timer sends what waits), and the rest by ``flush``.

    Each ``log_event`` from the training thread wakes the worker's event loop, which then
    competes with training for the GIL: one message per event cost ~1 ms each (a 200-epoch run
    sends its 12 replay frames within ~60 ms); batched, the job trains as fast as without sends.
    """

    def __init__(self, post: Callable[[list[tuple[str, bytes]]], None]):
        self.post = post
        self.lock = threading.Lock()
        self.events: list[tuple[str, bytes]] = []
        self.last = -math.inf
        self.timer: threading.Timer | None = None

    def send(self, kind: str, data: bytes, extra: bytes | None = None) -> None:
        """Queue an event: ``(kind, data)``, or ``(kind, data, extra)`` with raw bytes."""
        with self.lock:
            self.events.append((kind, data) if extra is None else (kind, data, extra))
            wait = self.last + SEND_EVERY_S - time.monotonic()
            if wait <= 0:
                self._post()
            elif self.timer is None:
                self.timer = threading.Timer(wait, self.flush)
                self.timer.daemon = True
                self.timer.start()

    def flush(self) -> None:
        with self.lock:
            if self.timer is not None:
                self.timer.cancel()
                self.timer = None
            if self.events:
                self._post()

    def _post(self) -> None:
        events, self.events = self.events, []
        self.last = time.monotonic()
        self.post(events)


class _GroupOutbox:
    """The progress events of a lane group's jobs, sent to the scheduler together: one
    ``log_event`` of ``{"batches": [[job, events], ...]}`` at most every ``SEND_EVERY_S``, sent
    by the ``send`` that finds it due (no timer: each timer thread's start held the training
    thread ~5 ms for the GIL, 16 jobs' timers slowed a group several times over), and by
    ``flush``. While a run trains, its throttled events come at least every 0.1 s."""

    def __init__(self, post: Callable[[list], None]):
        self.post = post
        self.lock = threading.Lock()
        self.events: dict[str, list] = {}
        self.last = -math.inf

    def send(self, job_id: str, item: tuple) -> None:
        with self.lock:
            self.events.setdefault(job_id, []).append(item)
            if time.monotonic() - self.last >= SEND_EVERY_S:
                self._post()

    def flush(self) -> None:
        with self.lock:
            if self.events:
                self._post()

    def _post(self) -> None:
        batches, self.events = [[j, ev] for j, ev in self.events.items()], {}
        self.last = time.monotonic()
        self.post(batches)


class _LaneOutbox:
    """One job's view of its group's ``_GroupOutbox``, with ``_Outbox``'s interface."""

    def __init__(self, group: _GroupOutbox, job_id: str):
        self.group, self.job_id = group, job_id

    def post(self, events: list) -> None:
        for item in events:
            self.group.send(self.job_id, item)
        self.group.flush()

    def send(self, kind: str, data: bytes, extra: bytes | None = None) -> None:
        self.group.send(self.job_id, (kind, data) if extra is None else (kind, data, extra))

    def flush(self) -> None:
        self.group.flush()


class _Threads:
    """Daemon threads of a worker process that outlive its jobs: a job's progress encoding and
    its cancel watcher run on them. Starting two threads per job cost 0.5-5 ms of a 50-ms job
    (each start waits for the GIL against the training and the worker's event loop). A thread
    is started only when none is idle. Daemon threads, unlike ``ThreadPoolExecutor``'s, never
    hold up the process's exit."""

    def __init__(self, name: str):
        self.name = name
        self.calls: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.idle = self.started = 0

    def submit(self, fn: Callable[[], None]) -> None:
        with self.lock:
            if self.idle:
                self.idle -= 1
            else:
                self.started += 1
                threading.Thread(target=self._run, name=f"{self.name}-{self.started}",
                                 daemon=True).start()
        self.calls.put(fn)

    def _run(self) -> None:
        while True:
            fn = self.calls.get()
            try:
                fn()
            except BaseException:  # noqa: BLE001 - the calls keep their own failures
                log.exception("%s: a call failed", self.name)
            with self.lock:
                self.idle += 1


_ENCODERS = _Threads("mathlens-events")
_WATCHERS = _Threads("mathlens-cancel")


class _Encoder:
    """Resolves and encodes a job's progress events off the training thread, in order, and hands
    them to ``post``: the training thread only decides which epochs are sent. The events run on
    the process's shared encoder threads, one job's at a time in the order they came.

    A progress frame (layer statistics, test outputs, a 50x50 decision boundary) costs ~0.4 ms
    against ~0.25 ms of training per epoch of the canonical example; here it overlaps with the
    (GIL-free) training kernel. A failure is raised by ``close``, so the job fails with it.
    """

    def __init__(self, post: Callable[[str, bytes], None]):
        self.post = post
        self.items: deque[tuple[str, Any]] = deque()
        self.cond = threading.Condition()
        self.busy = False  # a drain of this job's events is queued or running
        self.error: BaseException | None = None

    def __call__(self, kind: str, event: Any) -> None:
        with self.cond:
            self.items.append((kind, event))
            if self.busy:
                return
            self.busy = True
        _ENCODERS.submit(self._drain)

    def _drain(self) -> None:
        while True:
            with self.cond:
                if not self.items:
                    self.busy = False
                    self.cond.notify_all()
                    return
                kind, event = self.items.popleft()
            if self.error is None:
                try:
                    self.post(kind, _encoded(event))
                except BaseException as e:  # noqa: BLE001 - raised again by close()
                    self.error = e

    def close(self, check: bool = True) -> None:
        """Wait until every event put so far is posted; then raise a failure if ``check``."""
        with self.cond:
            self.cond.wait_for(lambda: not self.busy)
        if check and self.error is not None:
            raise self.error


_IMPORTS = threading.Lock()


def _import_compute() -> None:
    """Import ``compute.nn`` (all of it) under a lock: on a worker the warm-up thread and the
    first task import it at the same moment, and a thread could then get a half-initialized
    ``compute.nn.train`` (an ImportError that failed the first job)."""
    with _IMPORTS:
        import compute.nn  # noqa: F401


class _InlineEncoder:
    """``_Encoder``'s interface, encoding in the caller's thread: for lane groups, whose
    training thread runs Python between short kernel calls, where encoder threads would fight
    it for the GIL (16 lanes with a thread each trained 2.5x slower). A failure is kept for
    ``close`` (the job fails; its lane mates go on)."""

    def __init__(self, post: Callable[[str, bytes], None]):
        self.post = post
        self.error: BaseException | None = None

    def __call__(self, kind: str, event: Any) -> None:
        if self.error is None:
            try:
                self.post(kind, _encoded(event))
            except Exception as e:  # noqa: BLE001 - raised again by close()
                self.error = e

    def close(self, check: bool = True) -> None:
        if check and self.error is not None:
            raise self.error


def _job_callbacks(tc: Any, emit: _Throttle) -> Any:
    """A job's callbacks for ``compute.nn``: throttled, lazy, replay frames never dropped."""
    _import_compute()
    from compute.nn.train import Callbacks

    every = tc.boundary_every
    stride = max(1, math.ceil(tc.epochs // every / REPLAY_FRAMES))

    def key(epoch: int, boundary: bool) -> str:
        """Epochs drawing a decision boundary are throttled apart; a replay frame has a key of
        its own, with no interval: never dropped."""
        if boundary and (epoch // every) % stride == 0:
            return f"frame-{epoch}"
        return "boundary" if boundary else "epoch"

    def on_epoch(e: Any) -> None:
        due = getattr(e, "boundary_due", None)
        due = getattr(e, "boundary", None) is not None if due is None else due
        emit("epoch", e, key(e.epoch, due))

    def wants(kind: str, n: int) -> bool:  # events the throttle would drop are not even built
        if kind == "step":
            return emit.due("step")
        # epochs at multiples of boundary_every draw a boundary on 2-D sets (not on digits)
        if n % every:
            return emit.due("epoch")
        return emit.due(key(n, True)) or emit.due("epoch")

    # Lazy epochs: of those built, the throttle still drops some; a dropped one costs only its
    # scalars.
    return Callbacks(
        on_step=lambda e: emit("step", e), on_epoch=on_epoch, on_end=lambda r: emit.flush(),
        lazy_epochs=True, wants=wants,
    )


def _outputs(result: Any) -> tuple[dict, bytes]:
    """A ``TrainResult`` as a job stores it: (result without weights, weights)."""
    return orjson.loads(_json(result)), bytes(result.state_dict)


def _train(config: dict, emit: _Throttle, should_stop: Callable[[], bool]) -> tuple[dict, bytes]:
    """One job's training in compute.nn: (result without weights, weights)."""
    _import_compute()
    from compute.nn.config import TrainConfig
    from compute.nn.train import train

    tc = TrainConfig.from_dict(config)
    return _outputs(train(tc, callbacks=_job_callbacks(tc, emit), should_stop=should_stop))


class _JobSide:
    """One job's side of a Dask task: its "started" event, its progress events (throttled,
    encoded on a thread of their own, sent in batches), its cancel flag and its time limit."""

    def __init__(self, job_id: str, timeout_s: float, worker: Any, client: Any,
                 group: _GroupOutbox | None = None, pace: float = 1.0):
        from distributed import Event

        self.job_id, self.timeout_s = job_id, timeout_s
        self.t0, self.c0 = time.monotonic(), time.process_time()
        self.outbox: _Outbox | _LaneOutbox = (
            _LaneOutbox(group, job_id) if group is not None else
            _Outbox(lambda events: worker.log_event(TOPIC, {"job": job_id, "events": events}))
        )
        info = {"worker": worker.address, "pid": os.getpid(), "host": socket.gethostname()}
        self.outbox.post([("started", _json(info))])  # at once, and the first progress event too
        self.cancelled, self.done = threading.Event(), threading.Event()
        # A job cancelled while it waited for a thread is seen by the watcher's first wait,
        # within the first few ms of training (a separate is_set() here would cost a scheduler
        # round trip). The client is bound by the caller, in the task's thread: the watcher
        # thread has no worker context.
        self.cancel = Event(CANCEL_PREFIX + job_id, client=client)
        _WATCHERS.submit(self._watch)
        self.reason: str | None = None
        # A lane group encodes in its training thread (see _InlineEncoder).
        self.encoder = (_InlineEncoder if group is not None else _Encoder)(self.outbox.send)
        self.emit = _Throttle(self.encoder, {k: v * pace for k, v in EVENT_INTERVALS_S.items()})

    def _watch(self) -> None:
        # Long-polls the scheduler off the training thread: should_stop costs a flag read, and a
        # cancel arrives as soon as it is set rather than at the next poll.
        while not self.done.is_set():
            try:
                if self.cancel.wait(timeout=CANCEL_POLL_S * 5):
                    self.cancelled.set()
                    return
            except Exception:  # scheduler briefly unreachable: ask again
                self.done.wait(CANCEL_POLL_S)

    def should_stop(self) -> bool:
        if self.reason is None:
            if self.cancelled.is_set():
                self.reason = "cancelled"
            elif time.monotonic() - self.t0 > self.timeout_s:
                self.reason = "time limit"
        return self.reason is not None

    def close(self) -> None:
        """Every event posted and sent (idempotent)."""
        self.done.set()
        self.encoder.close(check=False)
        self.outbox.flush()

    def outcome(self, result: dict, weights: bytes) -> dict:
        """The task's answer for this job; an encoding failure fails the job."""
        self.emit.flush()
        self.encoder.close()
        # Seconds of this job and CPU seconds of its process (other tasks' included, if any).
        result["job"] = {"elapsed_s": time.monotonic() - self.t0,
                         "cpu_s": time.process_time() - self.c0, **result.get("job", {})}
        return {"stopped": self.reason, "result": result, "weights": weights}


def run_training(job_id: str, config: dict, timeout_s: float) -> dict:
    """Dask task of one job: train, reporting through ``log_event``, stopping when asked.

    Returns ``{"stopped": None | "cancelled" | "time limit", "result": {...}, "weights": bytes}``.
    """
    from distributed import get_client, get_worker

    side = _JobSide(job_id, timeout_s, get_worker(), get_client())
    try:
        result, weights = _train(config, side.emit, side.should_stop)
        out = side.outcome(result, weights)
    finally:  # a training failure is the one raised, whatever the encoder says
        side.close()
    return out


def run_training_group(job_ids: list[str], configs: list[dict], timeout_s: float) -> dict:
    """Dask task of up to 16 queued jobs whose runs share a lane group (``compute.nn.lane_group``):
    trained together as the lanes of one kernel (``compute.nn.train_lanes``), each job with its
    own events, cancel flag and time limit, as ``run_training``. A job that stops early (cancel,
    time limit) posts its outcome as an ``outcome`` event at once; the others' come with the
    task's result. Runs that cannot share a group here (a CUDA worker: not lean) train one
    after another. Returns ``{job_id: outcome | {"error": why}}``."""
    from distributed import get_client, get_worker

    _import_compute()
    from compute.nn.config import TrainConfig
    from compute.nn.train import lane_group, train, train_lanes

    worker, client = get_worker(), get_client()
    group = _GroupOutbox(lambda batches: worker.log_event(TOPIC, {"batches": batches}))
    # A grouped job lives as long as its group (16 runs take several times one run's time), so
    # at one job's pace it would send several times the events; groups of more than
    # GROUP_PACE_LANES jobs space each job's time-throttled events that much further apart.
    pace = max(1.0, len(job_ids) / GROUP_PACE_LANES)
    sides = [_JobSide(j, timeout_s, worker, client, group, pace) for j in job_ids]
    tcs = [TrainConfig.from_dict(c) for c in configs]
    out: dict[str, dict] = {}

    def on_end(k: int) -> Callable[[Any], None]:
        side = sides[k]

        def end(result: Any) -> None:
            try:
                res, weights = _outputs(result)
                res["job"] = {"lanes": len(sides)}
                out[side.job_id] = side.outcome(res, weights)
            except Exception as e:  # this job fails; its lane mates go on
                out[side.job_id] = {"error": _describe(e)}
            if side.reason is not None:  # ended before its lane mates: tell the server now
                o = out[side.job_id]
                side.outbox.send("outcome", _json({k: o.get(k) for k in ("stopped", "result",
                                                                          "error")}),
                                 o.get("weights"))
            side.close()

        return end

    callbacks = []
    for k, (tc, side) in enumerate(zip(tcs, sides, strict=True)):
        cb = _job_callbacks(tc, side.emit)
        cb.on_end = on_end(k)
        callbacks.append(cb)
    try:
        keys = {lane_group(tc) for tc in tcs}
        if len(keys) == 1 and None not in keys:
            train_lanes(tcs, callbacks, [s.should_stop for s in sides])
        else:
            for tc, cb, side in zip(tcs, callbacks, sides, strict=True):
                train(tc, callbacks=cb, should_stop=side.should_stop)
    finally:
        for side in sides:
            side.close()
    return out


def _warm_worker() -> None:
    """Import torch and compute.nn and compile the lean kernels once, off the worker's loop."""
    try:
        _import_compute()
        from compute.nn import warmup

        warmup()  # every lean kernel, the lanes kernel of lane groups included
        _train(
            {
                "dataset": {"name": "moons", "n_samples": 40},
                "model": {"hidden": [4]},
                "epochs": 1,
                "batch_size": 8,
            },
            _Throttle(lambda k, d: None, {}),
            lambda: False,
        )
    except Exception:  # compute not there or broken: the first job will say why
        log.debug("worker warm-up failed", exc_info=True)


try:  # a WorkerPlugin warms every worker, including those a nanny restarts
    from distributed.diagnostics.plugin import WorkerPlugin

    class WarmUp(WorkerPlugin):
        name = "mathlens-warmup"

        def setup(self, worker: Any) -> None:
            threading.Thread(target=_warm_worker, name="mathlens-warmup", daemon=True).start()
except ImportError:  # pragma: no cover - distributed is a dependency
    WarmUp = None  # type: ignore[assignment,misc]


# =================================================================================================
# Records: SQLite under settings.data_dir.
# =================================================================================================

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    config_hash TEXT NOT NULL,
    gpu INTEGER NOT NULL,
    status TEXT NOT NULL,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    worker TEXT,
    progress TEXT NOT NULL DEFAULT '{}',
    result TEXT,
    error TEXT,
    weights BLOB
);
CREATE INDEX IF NOT EXISTS jobs_by_hash ON jobs (config_hash, status);
CREATE INDEX IF NOT EXISTS jobs_by_created ON jobs (created);
CREATE TABLE IF NOT EXISTS events (
    job_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (job_id, seq)
) WITHOUT ROWID;
"""
# A job row's fields, in SELECT order: read by _row, taken by Job.from_row.
ROW_KEYS = ("id", "config", "config_hash", "gpu", "status", "created", "started", "finished",
            "worker", "progress", "result", "error", "has_weights")
_COLUMNS = ", ".join("weights IS NOT NULL" if k == "has_weights" else k for k in ROW_KEYS)


class JobStore:
    """Job rows and their events. Not thread-safe: the service calls it from one thread."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.execute("PRAGMA busy_timeout=5000")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def interrupt_unfinished(self, now: float) -> int:
        """Jobs left queued or running by a server that stopped: marked interrupted, with a final
        status event so their streams end."""
        rows = self.db.execute(
            "SELECT j.id, j.status, COALESCE(MAX(e.seq), 0) FROM jobs j LEFT JOIN events e "
            "ON e.job_id = j.id WHERE j.status IN ('queued', 'running') GROUP BY j.id"
        ).fetchall()
        with self.db:
            self.db.execute("BEGIN")
            for job_id, status, seq in rows:
                error = f"the server stopped while the job was {status}"
                self.db.execute(
                    "UPDATE jobs SET status='interrupted', finished=?, error=? WHERE id=?",
                    (now, error, job_id),
                )
                self.db.execute(
                    "INSERT INTO events VALUES (?, ?, 'status', ?)",
                    (job_id, seq + 1, orjson.dumps({"status": "interrupted", "error": error})),
                )
        return len(rows)

    def insert(self, row: dict) -> None:
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute(
                "INSERT INTO jobs (id, config, config_hash, gpu, status, created) VALUES (?,?,?,?,?,?)",
                (
                    row["id"],
                    orjson.dumps(row["config"]),
                    row["config_hash"],
                    int(row["gpu"]),
                    row["status"],
                    row["created"],
                ),
            )
            self._events(row["id"], row["events"])

    def update(self, job_id: str, fields: dict, events: list[tuple[int, str, bytes]]) -> None:
        """Set columns (dicts stored as JSON) and append events, in one transaction."""
        cols = {
            k: (orjson.dumps(v, option=orjson.OPT_SERIALIZE_NUMPY) if isinstance(v, dict) else v)
            for k, v in fields.items()
        }
        with self.db:
            self.db.execute("BEGIN")
            if cols:
                sets = ", ".join(f"{k}=?" for k in cols)
                self.db.execute(f"UPDATE jobs SET {sets} WHERE id=?", (*cols.values(), job_id))
            self._events(job_id, events)

    def _events(self, job_id: str, events: list[tuple[int, str, bytes]]) -> None:
        self.db.executemany(
            "INSERT OR REPLACE INTO events VALUES (?, ?, ?, ?)",
            [(job_id, seq, kind, data) for seq, kind, data in events],
        )

    def get(self, job_id: str) -> dict | None:
        r = self.db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id=?", (job_id,)).fetchone()
        return _row(r) if r else None

    def find_succeeded(self, config_hash: str) -> dict | None:
        r = self.db.execute(
            f"SELECT {_COLUMNS} FROM jobs WHERE config_hash=? AND status='succeeded' "
            "ORDER BY finished DESC LIMIT 1",
            (config_hash,),
        ).fetchone()
        return _row(r) if r else None

    def list(self, limit: int, offset: int) -> list[dict]:
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM jobs ORDER BY created DESC LIMIT ? OFFSET ?", (limit, offset)
        ).fetchall()
        return [_row(r) for r in rows]

    def events(self, job_id: str) -> list[tuple[int, str, bytes]]:
        return self.db.execute(
            "SELECT seq, type, data FROM events WHERE job_id=? ORDER BY seq", (job_id,)
        ).fetchall()

    def weights(self, job_id: str) -> bytes | None:
        r = self.db.execute("SELECT weights FROM jobs WHERE id=?", (job_id,)).fetchone()
        return r[0] if r else None


def _row(r: tuple) -> dict:
    d = dict(zip(ROW_KEYS, r, strict=True))
    d["config"] = orjson.loads(d["config"])
    d["progress"] = orjson.loads(d["progress"] or "{}")
    d["result"] = orjson.loads(d["result"]) if d["result"] else None
    d["gpu"], d["has_weights"] = bool(d["gpu"]), bool(d["has_weights"])
    return d


# =================================================================================================
# Server side: the service the routes call, living on the app's event loop.
# =================================================================================================


def config_hash(config: Mapping[str, Any], gpu: bool) -> str:
    """Identity of a run: the validated config (seeds included) and where it runs."""
    blob = orjson.dumps({"config": config, "gpu": gpu}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()


def iso(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _frame(seq: int, kind: str, data: bytes) -> bytes:
    return b"id: %d\nevent: %s\ndata: %s\n\n" % (seq, kind.encode(), data)


_UNSET: Any = object()


@dataclass(eq=False)
class Job:
    id: str
    config: dict
    config_hash: str
    gpu: bool
    status: str
    created: float
    started: float | None = None
    finished: float | None = None
    worker: str | None = None
    progress: dict = field(default_factory=dict)
    result: dict | None = None
    error: str | None = None
    weights: bytes | None = None
    has_weights: bool = False
    frames: list[bytes] = field(default_factory=list)  # SSE frames; frames[i] has id i + 1
    pending: list[tuple[int, str, bytes]] = field(default_factory=list)  # events not yet in SQLite
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)
    future: Any = None  # its own Dask task's (None in a lane group)
    lane_key: Any = _UNSET  # compute.nn.lane_group of its config, once asked
    watchdog: asyncio.TimerHandle | None = None
    last_flush: float = 0.0

    def emit(self, kind: str, data: dict | bytes) -> None:
        """Append an event numbered ``len(frames) + 1`` and wake the streams. ``data`` is a dict
        or an encoded JSON object (as workers send it), spliced in without decoding."""
        seq = len(self.frames) + 1
        raw = data if isinstance(data, bytes) else orjson.dumps(data, option=_JSON_OPTS)
        head = b'{"seq":%d,"type":"%s"' % (seq, kind.encode())
        blob = head + (b"," + raw[1:] if len(raw.strip()) > 2 else b"}")
        self.frames.append(_frame(seq, kind, blob))
        self.pending.append((seq, kind, blob))
        self.changed.set()
        self.changed = asyncio.Event()

    def take_pending(self) -> list[tuple[int, str, bytes]]:
        out, self.pending = self.pending, []
        return out

    def view(self, with_result: bool = True) -> dict[str, Any]:
        return {
            "id": self.id, "status": self.status, "config": self.config, "gpu": self.gpu,
            "created": iso(self.created), "started": iso(self.started), "finished": iso(self.finished),
            "progress": self.progress, "result": self.result if with_result else None,
            "error": self.error, "has_weights": self.has_weights or self.weights is not None,
            "worker": self.worker,
        }  # fmt: skip

    @classmethod
    def from_row(cls, row: dict, events: list[tuple[int, str, bytes]] = ()) -> Job:
        job = cls(**{k: row[k] for k in ROW_KEYS})
        job.frames = [_frame(seq, kind, data) for seq, kind, data in events]
        return job


class JobService:
    """Training jobs of one app: the Dask client, the records, the live events."""

    def __init__(self, settings: Any):
        self.settings = settings
        self.client: Any = None
        self.cluster: Any = None
        self.store: JobStore | None = None
        self.active: dict[str, Job] = {}  # queued and running
        self.recent: OrderedDict[str, Job] = OrderedDict()  # finished lately
        self.durations: deque[float] = deque(maxlen=32)
        self.parked: deque[Job] = deque()  # CPU jobs waiting for an idle worker thread
        self.inflight = 0  # CPU tasks submitted and not yet done
        self.slots = 0  # the cluster's worker threads (0: unknown, jobs are not held back)
        # Whether some worker offers a GPU: then jobs train one per task, as a lane group that
        # lands on a CUDA worker (Dask places it, or steals it) cannot share a kernel there.
        self.gpu_workers = False
        self.connect_error: str | None = None
        self._ready = asyncio.Event()
        self._tasks: set[asyncio.Task] = set()
        self._timers: set[asyncio.TimerHandle] = set()
        self._writes: set[asyncio.Future] = set()
        self._db_thread = ThreadPoolExecutor(1, thread_name_prefix="mathlens-jobs-db")
        self._closing = False
        self._connect_task: asyncio.Future | None = None

    @property
    def ready(self) -> bool:
        """Connected to the cluster (jobs queued before then wait for it)."""
        return self._ready.is_set()

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the records (marking jobs a previous server left unfinished as interrupted) and
        connect to the cluster in the background, so the app starts at once."""
        path = Path(self.settings.data_dir) / "jobs.sqlite3"
        self.store = await self._db(JobStore, path)
        n = await self._db(self.store.interrupt_unfinished, time.time())
        if n:
            log.warning("%d job(s) left unfinished by the previous server marked interrupted", n)
        self._connect_task = asyncio.ensure_future(self._connect())

    async def _connect(self) -> None:
        from distributed import Client, LocalCluster

        delay = 1.0
        while not self._closing:
            client = None
            try:
                if self.settings.scheduler:
                    client = Client(self.settings.scheduler, asynchronous=True, timeout="10s")
                else:
                    self.cluster = LocalCluster(
                        n_workers=self.settings.local_workers,
                        threads_per_worker=self.settings.local_threads_per_worker,
                        processes=True,  # a worker killed mid-job is seen, and its nanny restarts it
                        asynchronous=True,
                        dashboard_address="127.0.0.1:0",  # no fixed port, not on every interface
                        resources=_local_gpu_resources(),
                    )
                    await self.cluster
                    client = Client(self.cluster, asynchronous=True)
                await client
                break
            except asyncio.CancelledError:  # stopped while connecting: close what was opened
                if client is not None:
                    await _quietly(client.close(), 30)
                raise
            except Exception as e:  # unreachable scheduler, workers that would not start: retry
                where = self.settings.scheduler or "the in-process LocalCluster"
                self.connect_error = (
                    f"cannot reach the Dask cluster ({where}): {type(e).__name__}: {e}"
                )
                log.error(self.connect_error)
                if client is not None:
                    await _quietly(client.close(), 30)
                if self.cluster is not None:
                    await _quietly(self.cluster.close(), 60)
                    self.cluster = None
                for _ in range(int(delay / 0.25)):  # wake soon when the app stops
                    if self._closing:
                        return
                    await asyncio.sleep(0.25)
                delay = min(30.0, delay * 2)
        else:
            return
        client.subscribe_topic(TOPIC, self._on_progress)
        client.subscribe_topic("all", self._on_cluster_event)
        self.client, self.connect_error = client, None
        await self._refresh_slots()
        self._ready.set()
        if WarmUp is not None:
            try:
                await client.register_plugin(WarmUp())
            except Exception:
                log.warning("could not register the worker warm-up plugin", exc_info=True)
        where = self.settings.scheduler or f"a LocalCluster at {self.cluster.scheduler_address}"
        log.info("training jobs go to %s", where)

    async def stop(self) -> None:
        """Mark queued and running jobs interrupted, ask their workers to stop, close up."""
        self._closing = True
        if self._connect_task is not None:
            # A LocalCluster cancelled half-started cannot be closed cleanly: let it finish.
            done, _ = await asyncio.wait([self._connect_task], timeout=120)
            if not done:
                self._connect_task.cancel()
            await asyncio.gather(self._connect_task, return_exceptions=True)
        running = [j for j in self.active.values() if j.status == "running"]
        for job in list(self.active.values()):
            self._finish(
                job, "interrupted", error=f"the server stopped while the job was {job.status}"
            )
        if self.client is not None:
            await _quietly(asyncio.gather(*(self._stop_remote(j) for j in running)), 5)
        for h in self._timers:
            h.cancel()
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await asyncio.gather(*self._writes, return_exceptions=True)
        if self.client is not None:
            for topic in (TOPIC, "all"):
                self.client.unsubscribe_topic(topic)
            await _quietly(self.client.close(), 30)
        if self.cluster is not None:  # its nanny kills a worker that takes over 4 s to exit
            await _quietly(self.cluster.close(), 60)
        if self.store is not None:
            await self._db(self.store.close)
        self._db_thread.shutdown(wait=True)

    # -- the API's verbs ------------------------------------------------------------------------

    async def submit(self, config: dict, gpu: bool, fresh: bool) -> tuple[Job, bool]:
        """Queue a run of ``config`` (validated by compute); ``(job, cached)``. An identical run
        that succeeded before is returned as is unless ``fresh``."""
        h = config_hash(config, gpu)
        if not fresh:
            row = await self._db(self.store.find_succeeded, h)
            if row is not None:
                return Job.from_row(row), True
        if not self._ready.is_set() and self.connect_error:
            raise JobsUnavailable(self.connect_error)
        if gpu and self._ready.is_set() and (why := await self._no_gpu()):
            raise ConfigError(("config", "device"), why)
        if len(self.active) >= self.settings.queue_limit:  # no await from here to the slot taken
            raise QueueFull(
                f"{len(self.active)} jobs are queued or running (queue_limit = "
                f"{self.settings.queue_limit}); try again later",
                self.retry_after(),
            )
        job = Job(
            id=secrets.token_urlsafe(16),
            config=config,
            config_hash=h,
            gpu=gpu,
            status="queued",
            created=time.time(),
        )
        job.emit("status", {"status": "queued"})
        self.active[job.id] = job  # holds the queue slot across the await below
        try:
            await self._db(
                self.store.insert,
                {
                    **job.view(),
                    "config_hash": h,
                    "created": job.created,
                    "events": job.take_pending(),
                },
            )
        except BaseException:
            self.active.pop(job.id, None)
            raise
        self._spawn(self._run(job))
        return job, False

    async def get(self, job_id: str, events: bool = False) -> Job | None:
        job = self.active.get(job_id) or self.recent.get(job_id)
        if job is not None or self.store is None or len(job_id) > 64:
            return job
        row = await self._db(self.store.get, job_id)
        if row is None:
            return None
        return Job.from_row(row, await self._db(self.store.events, job_id) if events else ())

    def queue_info(self, job: Job) -> dict[str, int] | None:
        """For a queued job: queued jobs of its kind (CPU or GPU) submitted before it, and the
        jobs of that kind training now. ``None`` once it runs or ends."""
        if job.status != "queued":
            return None
        ahead = running = 0
        before = True
        for other in self.active.values():  # insertion order = submission order
            if other is job:
                before = False
            elif other.gpu == job.gpu:
                running += other.status == "running"
                ahead += before and other.status == "queued"
        return {"ahead": ahead, "running": running}

    async def list(self, limit: int, offset: int) -> list[dict]:
        rows = await self._db(self.store.list, limit, offset)
        out = []
        for row in rows:
            job = self.active.get(row["id"]) or self.recent.get(row["id"])
            out.append(
                job.view(with_result=False) if job else Job.from_row(row).view(with_result=False)
            )
        return out

    async def weights(self, job_id: str) -> bytes | None:
        job = self.active.get(job_id) or self.recent.get(job_id)
        if job is not None and job.weights is not None:
            return job.weights
        return await self._db(self.store.weights, job_id)

    async def cancel(self, job_id: str) -> Job | None:
        """Stop a job. Queued: cancelled at once. Running: its worker is told through a
        distributed.Event and stops at its next poll; after CANCEL_WAIT_S it is marked cancelled
        whatever the worker does."""
        job = self.active.get(job_id)
        if job is None:
            return await self.get(job_id)
        if job.status == "queued":
            self._finish(job, "cancelled")
            self._spawn(self._stop_remote(job))
            return job
        try:
            await asyncio.wait_for(self._set_cancel(job.id), CANCEL_WAIT_S)
            await asyncio.wait_for(job.done.wait(), CANCEL_WAIT_S)
        except TimeoutError:
            if job.status in ACTIVE:
                self._finish(job, "cancelled", error="cancelled; the worker had not stopped yet")
                self._spawn(self._stop_remote(job))
        return job

    async def stream(self, job: Job, after: int) -> AsyncIterator[bytes]:
        """SSE: events numbered after ``after``, then new ones as they come, until the job ends.
        Waiting never blocks the loop; a comment line keeps idle connections open."""
        yield b"retry: 2000\n\n"
        pos = max(0, after)
        while True:
            n = len(job.frames)
            if pos < n:
                chunk = b"".join(job.frames[pos:n])
                pos = n
                yield chunk
                continue
            if job.status in TERMINAL or self._closing:
                return
            try:
                await asyncio.wait_for(job.changed.wait(), KEEPALIVE_S)
            except TimeoutError:
                yield b": keep-alive\n\n"

    def retry_after(self) -> int:
        """Seconds until a slot is likely free: the mean duration of recent jobs, within [1, 300]."""
        mean = sum(self.durations) / len(self.durations) if self.durations else 5.0
        return int(min(300, max(1, math.ceil(mean))))

    # -- one job's life -------------------------------------------------------------------------

    async def _run(self, job: Job) -> None:
        while not self._ready.is_set():  # a starting cluster is waited for; a failing one not
            try:
                await asyncio.wait_for(self._ready.wait(), CONNECT_WAIT_S)
            except TimeoutError:
                if self.connect_error:
                    self._finish(job, "failed", error=self.connect_error)
                    return
        if job.status != "queued":
            return
        if job.gpu:  # GPU jobs go to Dask at once: its resources decide where and when
            if why := await self._no_gpu():
                self._finish(job, "failed", error=why)
            elif job.status == "queued":
                await self._execute([job])
            return
        # CPU jobs wait here while every worker thread is busy, so that a class's same-shaped
        # runs can then train together (_dispatch).
        self.parked.append(job)
        self._dispatch()

    def _dispatch(self) -> None:
        """Send parked CPU jobs to the cluster while it has idle threads (or while the number of
        its threads is unknown): the oldest job first, with up to 15 more parked jobs of its
        lane group (``compute.nn.lane_group``) in the same task."""
        while self.parked and (self.slots <= 0 or self.inflight < self.slots):
            head = self.parked.popleft()
            if head.status != "queued":
                continue
            group = [head]
            # alone, or a cluster with GPU workers (see gpu_workers): no need to ask
            ask = self.parked and self.settings.lane_groups and not self.gpu_workers
            key = self._lane_key(head) if ask else None
            if key is not None:
                mates = [j for j in self.parked
                         if j.status == "queued" and self._lane_key(j) == key]
                # A lane group costs about as much for 2 runs as for 16: only from
                # min_group on is it cheaper than the runs one by one.
                from compute.nn.lanes import LANES

                _, least = key
                if len(mates) + 1 >= least:
                    group += mates[:LANES - 1]
                    taken = {id(j) for j in group}
                    self.parked = deque(j for j in self.parked if id(j) not in taken)
            self.inflight += 1
            self._spawn(self._execute(group, counted=True))

    def _lane_key(self, job: Job) -> Any:
        """``(the job's lane group, the fewest jobs of a group that pays)``, asked once; None:
        it trains alone."""
        if job.lane_key is _UNSET:
            from compute.nn.config import TrainConfig
            from compute.nn.lanes import min_group
            from compute.nn.train import lane_group

            try:
                tc = TrainConfig.from_dict(job.config)
                key = lane_group(tc)
                job.lane_key = None if key is None else (key, min_group(tc.batch_size))
            except Exception:  # noqa: BLE001 - its own task will say what is wrong
                job.lane_key = None
        return job.lane_key

    async def _execute(self, jobs: list[Job], counted: bool = False) -> None:
        """One Dask task for ``jobs``: ``run_training`` for one, ``run_training_group`` for a
        lane group; each job ends with its own outcome. ``counted``: it holds an ``inflight``
        slot, given back (and the parked jobs dispatched) when it ends."""
        future = None
        try:
            if len(jobs) == 1:
                job = jobs[0]
                future = job.future = self.client.submit(
                    run_training,
                    job.id,
                    job.config,
                    float(self.settings.job_timeout_s),
                    key=KEY_PREFIX + job.id,
                    pure=False,
                    retries=0,
                    resources={"GPU": 1} if job.gpu else None,
                )
                outs = {job.id: await future}
            else:  # the members' own futures stay None: cancelling one stops only its lane
                future = self.client.submit(
                    run_training_group,
                    [j.id for j in jobs],
                    [j.config for j in jobs],
                    float(self.settings.job_timeout_s),
                    key=KEY_PREFIX + "group-" + jobs[0].id,
                    pure=False,
                    retries=0,
                )
                outs = await future
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the task raised, or its future was lost or cancelled
            for job in jobs:
                if job.status in ACTIVE:
                    self._finish(job, "failed", error=_describe(e))
            return
        finally:
            for job in jobs:
                if job.future is future:
                    job.future = None
            if counted:
                self.inflight -= 1
                self._dispatch()
        for job in jobs:
            out = outs.get(job.id) if isinstance(outs, dict) else None
            if out is None:
                if job.status in ACTIVE:
                    self._finish(job, "failed", error="the task returned no outcome for this job")
                continue
            self._finish_outcome(job, out)

    def _finish_outcome(self, job: Job, out: dict) -> None:
        """End a job as its task says (``run_training``'s answer, or a lane group's)."""
        if job.status not in ACTIVE:  # already decided: cancelled, worker died, time limit
            return
        if out.get("error"):
            self._finish(job, "failed", error=str(out["error"]))
            return
        stopped, result, weights = out.get("stopped"), out.get("result"), out.get("weights")
        if stopped == "cancelled":
            self._finish(job, "cancelled", result=result, weights=weights)
        elif stopped == "time limit":
            self._finish(
                job,
                "failed",
                result=result,
                weights=weights,
                error=f"time limit: the run took longer than job_timeout_s = "
                f"{self.settings.job_timeout_s:g} s",
            )
        else:
            self._finish(job, "succeeded", result=result, weights=weights)

    def _finish(
        self,
        job: Job,
        status: str,
        error: str | None = None,
        result: dict | None = None,
        weights: bytes | None = None,
    ) -> None:
        """Decide a job's end (once): state, final status event, record written in order."""
        if job.status in TERMINAL:
            return
        job.status, job.finished, job.error = status, time.time(), error
        if result is not None:
            job.result = result
        if weights is not None:
            job.weights, job.has_weights = weights, True
        if job.watchdog is not None:
            job.watchdog.cancel()
            self._timers.discard(job.watchdog)
        if job.started is not None and status == "succeeded":
            self.durations.append(job.finished - job.started)
        final = {"status": status, "error": error}
        if job.result:
            final.update({k: job.result.get(k) for k in ("train_accuracy", "test_accuracy")})
        job.emit("status", final)
        job.done.set()
        self.active.pop(job.id, None)
        self.recent[job.id] = job
        while len(self.recent) > RECENT_JOBS:
            self.recent.popitem(last=False)
        self._write(
            job.id,
            {
                "status": status,
                "finished": job.finished,
                "error": error,
                "progress": job.progress,
                "result": job.result,
                "weights": weights,
            },
            job.take_pending(),
        )
        if status in ("succeeded", "failed", "cancelled", "interrupted"):
            log.info("job %s %s%s", job.id, status, f": {error}" if error else "")

    async def _stop_remote(self, job: Job) -> None:
        """Make sure no stray execution of a decided job keeps a worker busy."""
        fut = job.future
        if fut is not None:
            await _quietly(fut.cancel(reason="job ended"), 5)
        if job.started is not None or job.status == "cancelled":
            await _quietly(self._set_cancel(job.id), 5)

    async def _set_cancel(self, job_id: str) -> None:
        if self.client is None:
            return
        from distributed import Event

        ev = Event(CANCEL_PREFIX + job_id, client=self.client)
        await ev.set()
        # The flag lives on the scheduler; clear it once no execution can still be polling it.
        self._later(
            self.settings.job_timeout_s + WATCHDOG_GRACE_S,
            lambda: self._spawn(_quietly(ev.clear(), 5)),
        )

    # -- what the cluster tells us (handlers run on the event loop) -----------------------------

    def _on_progress(self, event: tuple[float, dict]) -> None:
        """``{"job": id, "events": [...]}`` from a job's task, or ``{"batches": [[id, events],
        ...]}`` from a lane group's; each event ``(kind, data)`` or ``(kind, data, bytes)``."""
        _, msg = event
        if not isinstance(msg, dict):
            return
        batches = msg.get("batches")
        if not isinstance(batches, list | tuple):
            batches = [(msg.get("job"), msg.get("events"))]
        for batch in batches:
            if not (isinstance(batch, list | tuple) and len(batch) == 2):
                continue
            job_id, events = batch
            job = self.active.get(job_id) if isinstance(job_id, str) else None
            if job is None:  # another server's job, or one already decided
                continue
            for item in events if isinstance(events, list | tuple) else ():
                if isinstance(item, list | tuple) and len(item) in (2, 3):
                    self._on_job_event(job, *item)

    def _on_job_event(self, job: Job, kind: Any, raw: Any, extra: Any = None) -> None:
        try:
            data = orjson.loads(raw or b"{}")
        except (orjson.JSONDecodeError, TypeError):
            log.warning("job %s: undecodable %s event dropped", job.id, kind)
            return
        if kind not in ("started", "step", "epoch", "outcome") or not isinstance(data, dict):
            return
        if kind == "outcome":  # a job of a lane group that ended before its lane mates
            weights = extra if isinstance(extra, bytes) else None
            self._finish_outcome(job, {**data, "weights": weights})
            return
        if kind == "started":
            job.status, job.started, job.worker = "running", time.time(), data.get("worker")
            job.emit("status", {"status": "running", "worker": job.worker})
            job.watchdog = self._later(
                self.settings.job_timeout_s + WATCHDOG_GRACE_S, self._expire, job.id
            )
            self._write(
                job.id,
                {"status": "running", "started": job.started, "worker": job.worker},
                job.take_pending(),
            )
            return
        job.progress = {
            **job.progress,
            **{k: data[k] for k in PROGRESS_KEYS if k in data},
            "epochs": job.config.get("epochs"),
        }
        job.emit(kind, raw)
        now = time.monotonic()
        if now - job.last_flush >= FLUSH_EVERY_S:
            job.last_flush = now
            self._write(job.id, {"progress": job.progress}, job.take_pending())

    async def _refresh_slots(self) -> None:
        """The cluster's worker threads, for ``_dispatch`` (0 when it cannot tell)."""
        try:
            info = await asyncio.wait_for(self.client.scheduler.identity(n_workers=-1), 10)
            workers = info.get("workers", {}).values()
            self.slots = sum(int(w.get("nthreads") or 0) for w in workers)
            self.gpu_workers = any((w.get("resources") or {}).get("GPU", 0) > 0 for w in workers)
        except Exception:  # noqa: BLE001 - unknown: jobs are not held back
            self.slots = 0
        self._dispatch()

    def _on_cluster_event(self, event: tuple[float, dict]) -> None:
        _, msg = event
        if not isinstance(msg, dict):
            return
        if msg.get("action") in ("add-worker", "remove-worker") and not self._closing:
            self._spawn(self._refresh_slots())
        if msg.get("action") != "remove-worker":
            return
        worker = msg.get("worker")
        for job in list(self.active.values()):
            if job.status == "running" and job.worker == worker:
                how = (
                    "retired" if msg.get("expected") else "died (killed, crashed or out of memory)"
                )
                self._finish(job, "failed", error=f"worker {worker} {how} while running this job")
                self._spawn(self._stop_remote(job))

    def _expire(self, job_id: str) -> None:
        job = self.active.get(job_id)
        if job is not None and job.status == "running":
            self._finish(
                job,
                "failed",
                error=f"time limit: no result {WATCHDOG_GRACE_S:g} s after "
                f"job_timeout_s = {self.settings.job_timeout_s:g} s",
            )
            self._spawn(self._stop_remote(job))

    # -- helpers --------------------------------------------------------------------------------

    async def _no_gpu(self) -> str | None:
        """Why a GPU job cannot run here, or None when some worker offers ``GPU``."""
        try:
            info = await asyncio.wait_for(self.client.scheduler.identity(n_workers=-1), 10)
        except Exception:
            return None  # cannot tell now; the job waits for a GPU worker
        workers = info.get("workers", {})
        if any((w.get("resources") or {}).get("GPU", 0) >= 1 for w in workers.values()):
            return None
        return (
            f"device 'cuda' needs a GPU worker (started with --resources GPU=1); none of this "
            f"cluster's {len(workers)} workers has one"
        )

    async def _db(self, fn: Callable, *args: Any) -> Any:
        return await asyncio.wrap_future(self._db_thread.submit(fn, *args))

    def _write(self, job_id: str, fields: dict, events: list) -> None:
        """Queue a record write; writes run in submission order on the database thread."""
        if self.store is None:
            return
        fields = {k: v for k, v in fields.items() if v is not None or k in ("error",)}
        fut: ThreadFuture = self._db_thread.submit(self.store.update, job_id, fields, events)
        wrapped = asyncio.wrap_future(fut)
        self._writes.add(wrapped)
        wrapped.add_done_callback(self._write_done)

    def _write_done(self, fut: asyncio.Future) -> None:
        self._writes.discard(fut)
        if not fut.cancelled() and fut.exception() is not None:
            log.error("writing a job record failed", exc_info=fut.exception())

    def _later(self, delay: float, fn: Callable, *args: Any) -> asyncio.TimerHandle:
        """``loop.call_later``, cancelled by ``stop`` if it has not run by then."""

        def run() -> None:
            self._timers.discard(handle)
            fn(*args)

        handle = asyncio.get_running_loop().call_later(delay, run)
        self._timers.add(handle)
        return handle

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _describe(e: BaseException) -> str:
    name = type(e).__name__
    if name == "KilledWorker":
        return f"the worker running this job died: {e}"
    if name in ("FutureCancelledError", "CancelledError"):
        return f"the cluster dropped the job: {e}" if str(e) else "the cluster dropped the job"
    return f"{name}: {e}"


def _local_gpu_resources() -> dict[str, float] | None:
    """Workers of the in-process cluster offer GPU=1 when this machine has CUDA."""
    try:
        import torch

        return {"GPU": 1} if torch.cuda.is_available() else None
    except Exception:
        return None


async def _quietly(aw: Any, timeout: float) -> None:
    try:
        await asyncio.wait_for(aw, timeout)
    except Exception:
        log.warning("ignored while stopping", exc_info=True)


def history_csv(result: Mapping[str, Any] | None) -> str:
    """The per-epoch history as CSV: one row per epoch, one column per series of that length."""
    hist = (result or {}).get("history") or {}
    series = {
        k: v
        for k, v in hist.items()
        if isinstance(v, list) and all(x is None or isinstance(x, bool | int | float) for x in v)
    }
    n = max((len(v) for v in series.values()), default=0)
    cols = [k for k, v in series.items() if len(v) == n]
    if cols and "epoch" not in cols:
        cols = ["epoch", *cols]
        series["epoch"] = list(range(1, n + 1))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for i in range(n):
        w.writerow(["" if series[c][i] is None else series[c][i] for c in cols])
    return buf.getvalue()
