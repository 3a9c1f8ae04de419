"""compute.nn: datasets, config validation, the training loop (torch and lean), callbacks."""

from __future__ import annotations

import io
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from compute.nn import (
    DATASETS,
    GRID_BOX,
    Callbacks,
    LazyEpoch,
    TrainConfig,
    build_model,
    catalog,
    lr_multipliers,
    make_dataset,
    train,
    train_many,
)

CANONICAL = {"dataset": {"name": "moons", "n_samples": 1000, "noise": 0.2, "test_fraction": 0.3,
                         "seed": 0},
             "model": {"hidden": [16, 16], "activation": "tanh"},
             "optimizer": {"name": "adam", "lr": 0.01}, "epochs": 200, "batch_size": 64, "seed": 0}


def cfg(**over) -> TrainConfig:
    d = {"dataset": {"name": "moons", "n_samples": 120, "test_fraction": 0.25, "seed": 1},
         "model": {"hidden": [8, 8], "activation": "tanh"},
         "optimizer": {"name": "adam", "lr": 0.01}, "epochs": 3, "batch_size": 10, "seed": 3}
    d.update(over)
    return TrainConfig.from_dict(d)


def weights(result) -> dict[str, torch.Tensor]:
    return torch.load(io.BytesIO(result.state_dict))


# --- datasets ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(DATASETS))
def test_datasets_are_deterministic_shaped_and_bounded(name):
    n = 200
    a = make_dataset(name, n_samples=n, seed=7)
    b = make_dataset(name, n_samples=n, seed=7)
    c = make_dataset(name, n_samples=n, seed=8)
    for k in ("X_train", "y_train", "X_test", "y_test"):
        assert np.array_equal(getattr(a, k), getattr(b, k))
    assert not np.array_equal(a.X_train, c.X_train)
    assert a.X_train.dtype == np.float32 and a.y_train.dtype == np.int64
    assert a.X_train.shape == (n - round(n * 0.3), a.n_features)
    assert a.X_test.shape == (round(n * 0.3), a.n_features)
    y = np.concatenate([a.y_train, a.y_test])
    assert set(np.unique(y)) == set(range(a.n_classes))
    X = np.concatenate([a.X_train, a.X_test])
    if name == "digits":
        assert a.image_shape == (8, 8) and X.min() >= 0 and X.max() <= 1
        assert a.grid_box is None
    else:
        assert a.n_features == 2 and a.grid_box == GRID_BOX
        assert np.abs(X).max() < 2.5  # the standardized sets fit the boundary box (noise aside)


def test_dataset_bounds_are_enforced():
    with pytest.raises(ValueError, match=r"dataset.n_samples must be <= 5000; got 6000"):
        make_dataset("moons", n_samples=6000)
    with pytest.raises(ValueError, match=r"dataset.n_samples must be <= 1797"):
        make_dataset("digits", n_samples=1800)
    with pytest.raises(ValueError, match=r"dataset.name must be one of"):
        make_dataset("mnist")
    with pytest.raises(ValueError, match=r"dataset.centers"):
        make_dataset("blobs", centers=9)
    assert make_dataset("blobs", centers=5, n_samples=100).n_classes == 5


# --- config -----------------------------------------------------------------------------------

@pytest.mark.parametrize(("patch", "message"), [
    ({"epochs": 0}, r"epochs must be >= 1; got 0"),
    ({"batch_size": 10**6}, r"batch_size must be <= 5000"),
    ({"l1": -1}, r"l1 must be >= 0.0; got -1"),
    ({"grad_clip": 0}, r"grad_clip must be >= 1e-06"),
    ({"device": "tpu"}, r"device must be one of"),
    ({"dataset": {"name": "moons", "noise": 2}}, r"dataset.noise must be <= 1.0; got 2.0"),
    ({"model": {"hidden": [8] * 9}}, r"model.hidden must have length <= 8; got 9"),
    ({"model": {"hidden": [300]}}, r"model.hidden\[0\] must be <= 256; got 300"),
    ({"model": {"activation": "swish"}}, r"model.activation must be one of"),
    ({"model": {"kind": "cnn"}}, r"model.kind 'cnn' needs an image dataset"),
    ({"optimizer": {"name": "adam", "lr": 100}}, r"optimizer.lr must be <= 10.0; got 100.0"),
    ({"optimizer": {"name": "adam", "betas": [0.9]}}, r"optimizer.betas must have length >= 2"),
    ({"optimizer": {"name": "sgd", "nesterov": True}}, r"optimizer.nesterov needs optimizer.momentum"),
    ({"optimizer": {"name": "lbfgs"}}, r"optimizer.name must be one of"),
    ({"schedule": {"name": "step", "gamma": 1.5}}, r"schedule.gamma must be <= 1.0; got 1.5"),
    ({"epochs": 5000, "batch_size": 1}, r"epochs \* steps per epoch must be <= 2000000"),
    ({"bogus": 1}, r"bogus is not a known field"),
    ({"model": {"hidden": [8], "momentum": 0.9}}, r"model.momentum is not a known field"),
])
def test_config_errors_name_the_field_and_bound(patch, message):
    d = {**CANONICAL, **patch}
    with pytest.raises(ValueError, match=message):
        TrainConfig.from_dict(d)


def test_config_round_trips_and_catalog_is_json():
    c = TrainConfig.from_dict(CANONICAL)
    assert TrainConfig.from_dict(c.to_dict()) == c
    assert c.optimizer["betas"] == [0.9, 0.999] and c.model["kind"] == "mlp"
    cat = json.loads(json.dumps(catalog()))
    assert set(cat["datasets"]) == set(DATASETS)
    assert cat["fields"]["epochs"]["high"] == 5000
    assert cat["models"]["mlp"]["hidden"]["max_len"] == 8


@pytest.mark.parametrize(("schedule", "make"), [
    ({"name": "step", "step_size": 7, "gamma": 0.5},
     lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=7, gamma=0.5)),
    ({"name": "exponential", "gamma": 0.97},
     lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.97)),
    ({"name": "cosine", "eta_min": 0.001},
     lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=50, eta_min=0.001)),
    ({"name": "onecycle", "pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 1e4},
     lambda o: torch.optim.lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=50,
                                                   cycle_momentum=False)),
])
def test_schedules_match_torch_schedulers(schedule, make):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
    sched = make(opt)
    ours = 0.1 * lr_multipliers(schedule, 50, 0.1)
    theirs = []
    for _ in range(50):
        theirs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    np.testing.assert_allclose(ours[:50], theirs, rtol=1e-9, atol=1e-12)


# --- training ---------------------------------------------------------------------------------

def test_canonical_example_reaches_095():
    r = train(TrainConfig.from_dict(CANONICAL))
    assert r.test_accuracy >= 0.95
    assert r.steps == 200 * 11 and r.epochs == 200 and not r.stopped and not r.diverged
    assert r.device == "cpu" and r.backend == "lean"  # auto routes a small CPU MLP to lean
    assert len(r.history["test_acc"]) == 200
    assert np.array(r.confusion).sum() == 300
    assert [s["matrix_shape"] for s in r.layer_shapes] == [[16, 2], [16, 16], [2, 16]]
    json.dumps(r.to_dict(), allow_nan=False)


def test_canonical_example_on_the_torch_path():
    r = train(TrainConfig.from_dict({**CANONICAL, "epochs": 60, "backend": "torch"}))
    assert r.backend == "torch" and r.test_accuracy >= 0.95


@pytest.mark.parametrize("backend", ["torch", "lean"])
def test_callbacks_fire_with_the_right_counts(backend):
    steps, epochs, ends = [], [], []
    c = cfg(backend=backend, epochs=5, step_every=4, boundary_every=2, grid_size=12)
    r = train(c, Callbacks(on_step=steps.append, on_epoch=epochs.append, on_end=ends.append))
    spe = math.ceil(90 / 10)
    assert r.steps == 5 * spe
    assert [s.step for s in steps] == list(range(4, 5 * spe + 1, 4))
    assert [e.epoch for e in epochs] == [1, 2, 3, 4, 5] and [e.step for e in epochs][-1] == 45
    assert [e.boundary is not None for e in epochs] == [False, True, False, True, True]
    b = epochs[-1].boundary
    assert b["kind"] == "prob" and len(b["z"]) == 12 and len(b["z"][0]) == 12
    assert ends == [r]
    ev = epochs[-1].to_dict()
    assert [layer["shape"] for layer in ev["layers"]] == [[8, 2], [8, 8], [2, 8]]
    assert sum(ev["layers"][0]["hist"]["counts"]) == 16
    assert len(ev["layers"][0]["hist"]["edges"]) == c.hist_bins + 1
    assert 0.5 <= ev["outputs"]["mean_confidence"] <= 1
    assert ev["test_acc"] == r.history["test_acc"][-1]
    for event in (*steps, *epochs):
        json.dumps(event.to_dict(), allow_nan=False)


def test_lazy_epochs_resolve_to_the_eager_events_from_their_own_epoch():
    # Lazy events are resolved after training has moved on: each must still describe the
    # weights of its own epoch, exactly as the eager event did.
    c = cfg(backend="lean", epochs=4, boundary_every=2, grid_size=10)
    eager, lazy = [], []
    train(c, Callbacks(on_epoch=eager.append))
    train(c, Callbacks(on_epoch=lazy.append, lazy_epochs=True))
    assert all(isinstance(e, LazyEpoch) for e in lazy)
    assert [e.boundary_due for e in lazy] == [e.boundary is not None for e in eager]
    assert [e.test_acc for e in lazy] == [e.test_acc for e in eager]
    assert [e.resolve().to_dict() | {"elapsed_s": 0} for e in lazy] == [
        e.to_dict() | {"elapsed_s": 0} for e in eager]
    assert eager[0].layers[0]["weight_norm"] != eager[-1].layers[0]["weight_norm"]


def test_lazy_epochs_resolve_on_another_thread_while_training_goes_on():
    # A job resolves its progress frames on an encoder thread while the kernel trains the next
    # chunk: neither may disturb the other (each has scratch buffers of its own).
    from concurrent.futures import ThreadPoolExecutor

    c = cfg(backend="lean", epochs=60, boundary_every=1, grid_size=40, dtype="float64")
    eager = []
    plain = train(c, Callbacks(on_epoch=eager.append))
    with ThreadPoolExecutor(1) as pool:
        futures = []
        threaded = train(c, Callbacks(on_epoch=lambda e: futures.append(pool.submit(e.resolve)),
                                      lazy_epochs=True))
        resolved = [f.result() for f in futures]
    assert threaded.state_dict == plain.state_dict and threaded.history == plain.history
    assert [e.to_dict() | {"elapsed_s": 0} for e in resolved] == [
        e.to_dict() | {"elapsed_s": 0} for e in eager]


@pytest.mark.parametrize("backend", ["lean", "torch"])
def test_wants_skips_events_but_never_the_last_ones(backend):
    # A throttled consumer says which events it would take; the rest are never built, the
    # training is unchanged, and the run's last epoch and last step always arrive.
    c = cfg(backend=backend, epochs=6, step_every=4, boundary_every=3, dtype="float64")
    every_epoch, every_step = [], []
    full = train(c, Callbacks(on_step=every_step.append, on_epoch=every_epoch.append))
    asked, epochs, steps = [], [], []

    def wants(kind, n):
        asked.append((kind, n))
        return kind == "epoch" and n % 2 == 1

    r = train(c, Callbacks(on_step=steps.append, on_epoch=epochs.append, wants=wants))
    assert r.history == full.history and r.state_dict == full.state_dict
    asked_epochs = [n for k, n in asked if k == "epoch"]
    # Each event is one that wants took, or the last; epochs drawing a boundary (3) are always
    # asked.
    assert [e.epoch for e in epochs] == [n for n in asked_epochs if n % 2] + [6]
    assert {1, 3} <= set(asked_epochs) and ("epoch", 6) not in asked
    assert [e.to_dict() | {"elapsed_s": 0} for e in epochs] == [
        e.to_dict() | {"elapsed_s": 0} for e in every_epoch if e.epoch in {x.epoch for x in epochs}]
    last = every_step[-1].step  # the last multiple of step_every
    assert [s.step for s in steps] == [last] and r.steps - 4 < last <= r.steps
    assert ("step", last) not in asked
    asked_steps = {n for k, n in asked if k == "step"}
    if backend == "torch":  # asked event by event
        assert asked_steps == {s.step for s in every_step} - {last}
        assert asked_epochs == [1, 2, 3, 4, 5]
    else:  # once declined, a chunk's other step events are skipped unasked (Callbacks.wants)
        assert asked_steps and asked_steps < {s.step for s in every_step} - {last}
        assert len([k for k, _ in asked if k == "step"]) == len(asked_steps)


def test_lean_skips_a_chunks_declined_epochs_unasked_but_asks_each_boundary_epoch():
    # Callbacks.wants: once an epoch without a boundary is declined, the chunk's other such
    # epochs are not asked; every boundary epoch still is (a job's replay frames are particular
    # boundary epochs), and the events are those of a consumer asked about every epoch.
    c = cfg(backend="lean", epochs=200, boundary_every=10, dtype="float64")
    asked, events = [], []

    def wants(kind, n):
        asked.append(n)
        return kind == "epoch" and n % 20 == 0

    r = train(c, Callbacks(on_epoch=events.append, wants=wants))
    assert [e.epoch for e in events] == list(range(20, 201, 20))
    assert set(range(10, 200, 10)) <= set(asked)  # every boundary epoch was asked
    assert len(asked) < 100  # not every epoch: the lean path ran chunks of many epochs
    full = train(c, Callbacks(on_epoch=lambda e: None))
    assert r.history == full.history and r.state_dict == full.state_dict


def test_epoch_events_describe_their_own_epoch_when_chunks_span_many():
    # The lean path runs chunks of many epochs and reports each epoch from the kernel's snapshot
    # at that epoch's end: the event of epoch e equals the final state of an e-epoch run (same
    # seed, constant lr, so the first e epochs are the same computation).
    c = cfg(backend="lean", epochs=40, step_every=7, dtype="float64")
    events, steps = [], []
    r = train(c, Callbacks(on_epoch=events.append, on_step=steps.append))
    assert [e.epoch for e in events] == list(range(1, 41))
    assert [s.step for s in steps] == list(range(7, r.steps + 1, 7))
    for e in (1, 13, 40):
        short = train(cfg(backend="lean", epochs=e, dtype="float64"))
        sd = torch.load(io.BytesIO(short.state_dict), weights_only=True)
        norms = [float(torch.linalg.norm(v)) for k, v in sd.items() if k.endswith("weight")]
        got = [layer["weight_norm"] for layer in events[e - 1].layers]
        assert got == pytest.approx(norms, rel=1e-12)
        assert events[e - 1].test_acc == short.test_accuracy
        assert events[e - 1].outputs["mean_confidence"] == pytest.approx(
            float(np.mean(np.max(_probs(short, c), axis=1))), rel=1e-9)


def _probs(result, c) -> np.ndarray:
    """Test-set class probabilities of a finished run, by torch from its weights."""
    data = make_dataset(**c.dataset)
    model = build_model(c.model, data.n_features, data.n_classes, None, n_outputs=2, seed=c.seed).double()
    model.load_state_dict(torch.load(io.BytesIO(result.state_dict), weights_only=True))
    with torch.no_grad():
        z = model(torch.tensor(np.array(data.X_test), dtype=torch.float64))
    return torch.softmax(z, dim=1).numpy()


def test_multiclass_boundary_is_argmax_class():
    seen = []
    c = cfg(dataset={"name": "blobs", "centers": 4, "n_samples": 100}, epochs=1, grid_size=10)
    train(c, Callbacks(on_epoch=seen.append))
    b = seen[0].boundary
    assert b["kind"] == "class" and {v for row in b["z"] for v in row} <= {0, 1, 2, 3}
    assert len(b["confidence"]) == 10


@pytest.mark.parametrize(("backend", "polls_before_stop", "steps"), [("torch", 5, 5), ("lean", 1, 9)])
def test_should_stop_stops_promptly(backend, polls_before_stop, steps):
    # torch polls before every batch; lean between kernel chunks (the first chunk is one epoch,
    # later ones are sized to ~30 ms of compute)
    polls = []

    def stop() -> bool:
        polls.append(1)
        return len(polls) > polls_before_stop

    r = train(cfg(backend=backend, epochs=50), should_stop=stop)
    assert r.stopped and r.steps == steps
    assert len(r.history["loss"]) == steps // 9


def test_same_config_same_numbers():
    for backend in ("torch", "lean"):
        a, b = train(cfg(backend=backend)), train(cfg(backend=backend))
        assert a.history == b.history
        wa, wb = weights(a), weights(b)
        assert all(torch.equal(wa[k], wb[k]) for k in wa)
    c = train(cfg(backend="lean", seed=4))
    assert c.history != a.history


LEAN_CASES = {
    "playground": dict(model={"hidden": [8, 8, 8], "activation": "tanh"}, loss="mse",
                       optimizer={"name": "sgd", "lr": 0.03},
                       dataset={"name": "spirals", "n_samples": 100, "test_fraction": 0.5}),
    "relu_adam_l1_clip": dict(model={"hidden": [12, 7], "activation": "relu"}, l1=0.003,
                              grad_clip=0.05, optimizer={"name": "adam", "lr": 0.02,
                                                         "weight_decay": 0.01}),
    "sigmoid_rmsprop": dict(model={"hidden": [6], "activation": "sigmoid"},
                            optimizer={"name": "rmsprop", "lr": 0.01, "momentum": 0.9,
                                       "weight_decay": 0.001},
                            dataset={"name": "blobs", "centers": 3, "n_samples": 90}),
    "residual_adamw_onecycle": dict(model={"hidden": [8, 8, 8], "activation": "tanh",
                                           "residual": True},
                                    optimizer={"name": "adamw", "lr": 0.05},
                                    schedule={"name": "onecycle"}, batch_size=16),
    "nesterov_step": dict(model={"hidden": [5, 5], "activation": "linear"},
                          optimizer={"name": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": True,
                                     "weight_decay": 0.01},
                          schedule={"name": "step", "step_size": 5, "gamma": 0.7}),
    "adagrad_mse_multiclass": dict(model={"hidden": [4], "activation": "relu"}, loss="mse",
                                   optimizer={"name": "adagrad", "lr": 0.1},
                                   dataset={"name": "blobs", "centers": 3, "n_samples": 60},
                                   batch_size=7),
}


@pytest.mark.parametrize("case", sorted(LEAN_CASES))
def test_lean_path_equals_torch_path_in_float64(case):
    over = {"dtype": "float64", "epochs": 4, **LEAN_CASES[case]}
    t = train(cfg(backend="torch", **over))
    n = train(cfg(backend="lean", **over))
    assert t.steps == n.steps > 0
    wt, wn = weights(t), weights(n)
    assert list(wt) == list(wn)
    for k in wt:
        assert wt[k].dtype == wn[k].dtype == torch.float64
        np.testing.assert_allclose(wn[k].numpy(), wt[k].numpy(), rtol=0, atol=1e-10, err_msg=k)
    np.testing.assert_allclose(n.history["loss"], t.history["loss"], rtol=1e-10)
    assert n.history["test_acc"] == t.history["test_acc"]


@pytest.mark.parametrize("case", sorted(LEAN_CASES))
def test_lean_path_in_float32_follows_torch_in_float32(case):
    """Float32 configs train in float32 on the lean kernels (tanh to 2.7e-7): after a few epochs
    the weights agree with torch's float32 run to float32 rounding grown over the steps."""
    over = {"dtype": "float32", "epochs": 2, **LEAN_CASES[case]}
    t = train(cfg(backend="torch", **over))
    n = train(cfg(backend="lean", **over))
    assert t.steps == n.steps > 0
    wt, wn = weights(t), weights(n)
    for k in wt:
        assert wt[k].dtype == wn[k].dtype == torch.float32
        scale = max(1.0, float(wt[k].abs().max()))
        np.testing.assert_allclose(wn[k].numpy(), wt[k].numpy(), rtol=0, atol=1e-5 * scale,
                                   err_msg=k)  # seen: <= 1e-6
    np.testing.assert_allclose(n.history["loss"], t.history["loss"], rtol=1e-6)  # seen: 1e-7


def test_train_many_equals_train_on_threads():
    """Several runs on two threads (lean kernels release the GIL) give exactly train()'s numbers,
    in order, whatever their shapes, optimizers or backends."""
    runs = [dict(optimizer={"name": "sgd", "lr": 0.1, "momentum": 0.9}, l1=0.001),
            dict(optimizer={"name": "adam", "lr": 0.01}, schedule={"name": "cosine"},
                 grad_clip=0.1),
            dict(optimizer={"name": "rmsprop", "lr": 0.003, "momentum": 0.8}, loss="mse",
                 model={"hidden": [6, 6], "activation": "tanh", "residual": True}),
            dict(model={"hidden": [5], "activation": "gelu"}),  # not lean: the torch path
            dict(optimizer={"name": "adamw", "lr": 0.02, "weight_decay": 0.01})]
    configs = [cfg(**{"dtype": "float64", "epochs": 3, "seed": s,
                      "dataset": {"name": "xor", "n_samples": 120, "seed": s}, **over})
               for s, over in enumerate(runs)]
    many = train_many(configs, threads=2)
    assert [m.backend for m in many] == ["lean", "lean", "lean", "torch", "lean"]
    for c, m in zip(configs, many, strict=True):
        one = train(c)
        assert m.config == one.config
        wm, wo = weights(m), weights(one)
        for k in wm:
            assert torch.equal(wm[k], wo[k]), k
        assert m.history["loss"] == one.history["loss"]
        assert m.history["test_acc"] == one.history["test_acc"]
    assert train_many([]) == []


def _close_to_train(m, one, rtol: float, atol: float) -> None:
    assert m.config == one.config and m.backend == one.backend == "lean"
    assert m.steps == one.steps and m.epochs == one.epochs and m.diverged == one.diverged
    wm, wo = weights(m), weights(one)
    for k in wm:
        np.testing.assert_allclose(wm[k].numpy(), wo[k].numpy(), rtol=rtol, atol=atol, err_msg=k)
    for k in ("loss", "train_loss", "test_loss", "train_acc", "test_acc", "lr"):
        np.testing.assert_allclose(m.history[k], one.history[k], rtol=rtol, atol=atol, err_msg=k)
    assert m.confusion == one.confusion


def test_train_many_trains_same_shaped_runs_as_lanes(monkeypatch):
    """Same-shaped lean runs train as the SIMD lanes of one kernel (compute.nn.lanes), each with
    its own data, seed and hyperparameters, and each lands on train()'s numbers to rounding
    (float64); runs of another shape, and a lone run, train alone."""
    T = sys.modules["compute.nn.train"]  # the module (compute.nn.train is also the function)
    sizes = []
    real = T.train_group
    monkeypatch.setattr(T, "train_group", lambda runs: sizes.append(len(runs)) or real(runs))
    adam = [dict(optimizer={"name": "adam", "lr": 0.01}),
            dict(optimizer={"name": "adam", "lr": 0.05, "betas": [0.8, 0.99], "weight_decay": 0.01},
                 schedule={"name": "cosine"}, l1=0.001),
            dict(optimizer={"name": "adam", "lr": 0.02}, grad_clip=0.05),
            dict(optimizer={"name": "adam", "lr": 0.003, "eps": 1e-6}, schedule={"name": "step"})]
    sgd_mse = [dict(optimizer={"name": "sgd", "lr": 0.1, "momentum": m, "nesterov": nest},
                    loss="mse", model={"hidden": [6, 6], "activation": "tanh", "residual": True})
               for m, nest in ((0.0, False), (0.9, False), (0.9, True))]
    lone = [dict(optimizer={"name": "rmsprop", "lr": 0.01, "momentum": 0.5})]
    configs = [cfg(**{"dtype": "float64", "epochs": 4, "seed": s,
                      "dataset": {"name": "moons", "n_samples": 90, "seed": s}, **over})
               for s, over in enumerate(adam + sgd_mse + lone)]
    many = train_many(configs, threads=2, min_lanes=2)
    assert sorted(sizes) == [3, 4]  # the rmsprop run trained alone
    for c, m in zip(configs, many, strict=True):
        _close_to_train(m, train(c), rtol=1e-9, atol=1e-12)


def _recorder(stop_after_epochs: int | None = None):
    """Callbacks recording resolved events; with ``stop_after_epochs``, a should_stop that turns
    True once that many epoch events came."""
    ev = {"step": [], "epoch": [], "end": []}
    cb = Callbacks(on_step=lambda s: ev["step"].append(s.to_dict()),
                   on_epoch=lambda e: ev["epoch"].append(e.to_dict()),
                   on_end=lambda r: ev["end"].append(r), lazy_epochs=True)
    stop = None if stop_after_epochs is None else (lambda: len(ev["epoch"]) >= stop_after_epochs)
    return ev, cb, stop


def _close_events(a: dict, b: dict, rtol: float, atol: float) -> None:
    """Two runs' recorded events: the same steps and epochs, with numbers equal to rounding."""
    def flat(x, out, path=""):
        if isinstance(x, dict):
            for k in sorted(x):
                if k != "elapsed_s":
                    flat(x[k], out, f"{path}.{k}")
        elif isinstance(x, list | tuple):
            for i, v in enumerate(x):
                flat(v, out, f"{path}[{i}]")
        else:
            out.append((path, x))
        return out

    for kind in ("step", "epoch"):
        assert len(a[kind]) == len(b[kind]) > 0, kind
        for x, y in zip(a[kind], b[kind], strict=True):
            fx, fy = flat(x, []), flat(y, [])
            assert [p for p, _ in fx] == [p for p, _ in fy]
            for (p, u), (_, v) in zip(fx, fy, strict=True):
                if isinstance(u, float) or isinstance(v, float):
                    assert u == pytest.approx(v, rel=rtol, abs=atol), (kind, p)
                else:
                    assert u == v, (kind, p)


def test_train_lanes_reports_each_run_as_train_does():
    """train_lanes trains same-shaped runs together and gives each run's callbacks what train()
    gives them alone: every step event, every epoch with its weights, gradients, outputs and
    decision boundary (epoch-end snapshots per lane), and the result; float64 to rounding. One
    run stopped by its should_stop ends there (a stopped result, as train()'s); the others go
    on to the end unchanged."""
    T = sys.modules["compute.nn.train"]
    configs = [cfg(dtype="float64", epochs=6, seed=s, step_every=3, boundary_every=2,
                   dataset={"name": "moons", "n_samples": 90, "seed": s},
                   optimizer={"name": "adam", "lr": 0.01 * (s + 1)}) for s in range(3)]
    recs = [_recorder(2 if i == 1 else None) for i in range(len(configs))]  # run 1 stops
    results = T.train_lanes(configs, [r[1] for r in recs], [r[2] for r in recs])
    for i, (c, m, (ev, _, _)) in enumerate(zip(configs, results, recs, strict=True)):
        assert m.stopped == (i == 1)
        if m.stopped:  # where a chunk ends: after >= 2 epochs, before the last; with a constant
            # learning rate, as far as a run of that many epochs goes
            assert 2 <= m.epochs < 6 and m.steps == m.epochs * (results[0].steps // 6)
            c = TrainConfig.from_dict({**c.to_dict(), "epochs": m.epochs})
        ev_one, cb, _ = _recorder()
        one = train(c, cb)
        assert weights(m).keys() == weights(one).keys()
        for k, w in weights(m).items():
            np.testing.assert_allclose(w.numpy(), weights(one)[k].numpy(), rtol=1e-9, atol=1e-12)
        for k in ("loss", "train_loss", "test_loss", "train_acc", "test_acc", "lr"):
            np.testing.assert_allclose(m.history[k], one.history[k], rtol=1e-9, atol=1e-12)
        assert (m.test_accuracy, m.confusion) == (one.test_accuracy, one.confusion)
        if not m.stopped:
            _close_events(ev, ev_one, rtol=1e-9, atol=1e-12)
        assert ev["end"] == [m]
        assert sum(e["boundary"] is not None for e in ev["epoch"]) >= 1
    assert results[0].epochs == results[2].epochs == 6


def test_train_lanes_refuses_runs_of_different_shapes():
    T = sys.modules["compute.nn.train"]
    a, b = cfg(), cfg(model={"hidden": [4], "activation": "tanh"})
    with pytest.raises(ValueError, match="lane_key"):
        T.train_lanes([a, b], [Callbacks(), Callbacks()], [None, None])


def test_train_many_groups_only_where_lanes_pay(monkeypatch):
    """A lane group costs about the same for 2 runs as for 16, so train_many groups runs only
    from lanes.min_group(batch_size) on (8 for batches under 16, else 12); fewer train alone."""
    T = sys.modules["compute.nn.train"]
    sizes = []
    real = T.train_group
    monkeypatch.setattr(T, "train_group", lambda runs: sizes.append(len(runs)) or real(runs))
    small = [cfg(seed=s, epochs=1) for s in range(8)]  # batch 10
    train_many(small[:7])
    assert sizes == []
    train_many(small)
    assert sizes == [8]
    big = [cfg(seed=s, epochs=1, batch_size=32) for s in range(12)]
    train_many(big[:11] + small[:1])
    assert sizes == [8]
    train_many(big)
    assert sizes == [8, 12]


def test_lanes_in_epoch_chunks_equal_one_call(monkeypatch):
    """A lanes group trains in kernel calls of a few epochs (memory bound on the shuffles): the
    optimizer state and step count carry over, so one epoch per call lands where train() does."""
    lanes = sys.modules["compute.nn.lanes"]
    monkeypatch.setattr(lanes, "CHUNK_BYTES", 1)  # one epoch per kernel call
    configs = [cfg(dtype="float64", epochs=4, seed=s, schedule={"name": "cosine"},
                   optimizer={"name": "adam", "lr": 0.02 * (s + 1)}) for s in range(3)]
    for c, m in zip(configs, train_many(configs, min_lanes=2), strict=True):
        _close_to_train(m, train(c), rtol=1e-9, atol=1e-12)


def test_lanes_with_odd_batches_and_odd_set_sizes():
    """Two examples go through the lanes kernel at a time: an odd minibatch (its last example
    alone) and odd train/test sizes (the last example of an evaluation pass) must count once."""
    configs = [cfg(dtype="float64", epochs=3, seed=s, batch_size=7, loss=loss,
                   dataset={"name": "blobs", "n_samples": 102, "test_fraction": 0.3, "seed": s})
               for s, loss in ((0, "cross_entropy"), (1, "cross_entropy"), (2, "mse"), (3, "mse"))]
    for c, m in zip(configs, train_many(configs, min_lanes=2), strict=True):
        _close_to_train(m, train(c), rtol=1e-9, atol=1e-12)
    d = make_dataset(**configs[0].dataset)  # 71 train (last batch: 1), 31 test
    assert len(d.y_train) % 2 == 1 and len(d.y_test) % 2 == 1 and len(d.y_train) % 7 % 2 == 1


@pytest.mark.parametrize("opt", [{"name": "adagrad", "lr": 0.1},
                                 {"name": "adamw", "lr": 0.02, "weight_decay": 0.1},
                                 {"name": "rmsprop", "lr": 0.01, "momentum": 0.3}])
def test_lanes_follow_train_for_every_optimizer(opt):
    configs = [cfg(dtype="float64", epochs=3, seed=s, optimizer={**opt, "lr": opt["lr"] * (s + 1)},
                   model={"hidden": [5], "activation": a})
               for s, a in enumerate(["relu", "relu"])]
    for c, m in zip(configs, train_many(configs, min_lanes=2), strict=True):
        _close_to_train(m, train(c), rtol=1e-9, atol=1e-12)


def test_a_lane_run_is_independent_of_its_batch_mates_and_float32_follows_train():
    """The same config in two groups (other mates, another lane) gives identical weights; in
    float32 the lanes follow train() to float32 rounding."""
    mk = [cfg(seed=s, epochs=5, dataset={"name": "circles", "n_samples": 100, "seed": s})
          for s in range(5)]
    a = train_many(mk[:3], min_lanes=2)
    b = train_many([mk[4], mk[3], mk[2]], min_lanes=2)
    wa, wb = weights(a[2]), weights(b[2])
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    for c, m in zip(mk[:3], a, strict=True):
        _close_to_train(m, train(c), rtol=2e-4, atol=2e-5)


def test_a_diverging_lane_stops_where_train_stops():
    blow = cfg(dtype="float64", epochs=6, seed=1, optimizer={"name": "sgd", "lr": 10.0},
               model={"hidden": [8, 8], "activation": "linear"})
    calm = cfg(dtype="float64", epochs=6, seed=2, optimizer={"name": "sgd", "lr": 0.1},
               model={"hidden": [8, 8], "activation": "linear"})
    m_blow, m_calm = train_many([blow, calm], min_lanes=2)
    one = train(blow)
    assert one.diverged and one.epochs == 1  # the loss overflows in the first epoch
    _close_to_train(m_blow, one, rtol=0, atol=0)
    _close_to_train(m_calm, train(calm), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("backend", ["torch", "lean"])
def test_grad_clip_bounds_the_gradient_norm(backend):
    seen = []
    train(cfg(backend=backend, grad_clip=0.01, optimizer={"name": "sgd", "lr": 0.5}),
          Callbacks(on_epoch=seen.append))
    for e in seen:
        # weights only (biases carry the rest of the clipped norm)
        total = math.sqrt(sum(layer["grad_norm"] ** 2 for layer in e.layers))
        assert total <= 0.01 + 1e-6


def test_l1_shrinks_weights():
    def l1_norm(r) -> float:
        w = weights(r)
        return sum(float(w[k].abs().sum()) for k in w if k.endswith("weight"))

    base = cfg(epochs=20, optimizer={"name": "sgd", "lr": 0.1})
    sparse = cfg(epochs=20, optimizer={"name": "sgd", "lr": 0.1}, l1=0.01)
    assert l1_norm(train(sparse)) < 0.8 * l1_norm(train(base))


@pytest.mark.parametrize("backend", ["torch", "lean"])
def test_divergence_is_a_result(backend):
    r = train(cfg(backend=backend, epochs=30, model={"hidden": [16, 16], "activation": "linear"},
                  optimizer={"name": "sgd", "lr": 10.0, "momentum": 0.99}))
    assert r.diverged and r.diverged_step is not None and r.epochs < 30
    d = r.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["history"]["loss"][-1] is None


def test_cnn_and_torch_only_features_route_to_torch():
    r = train(TrainConfig.from_dict({
        "dataset": {"name": "digits", "n_samples": 400, "seed": 0},
        "model": {"kind": "cnn", "channels": [8, 16], "dropout": 0.1},
        "optimizer": {"name": "adam", "lr": 0.01}, "epochs": 8, "batch_size": 32}))
    assert r.backend == "torch" and r.test_accuracy > 0.6
    assert r.layer_shapes[0]["shape"] == [8, 1, 3, 3] and r.layer_shapes[0]["matrix_shape"] == [8, 9]
    assert np.array(r.confusion).shape == (10, 10)
    r2 = train(cfg(model={"hidden": [8], "activation": "gelu", "layer_norm": True, "dropout": 0.2}))
    assert r2.backend == "torch"
    with pytest.raises(ValueError, match="backend 'lean' cannot train this config: model.dropout"):
        train(cfg(backend="lean", model={"hidden": [8], "dropout": 0.2}))


def test_build_model_is_seeded_and_leaves_global_rng_alone():
    state = torch.random.get_rng_state()
    a = build_model({"hidden": [4, 4]}, 2, 2, seed=5)
    b = build_model({"hidden": [4, 4]}, 2, 2, seed=5)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


@pytest.mark.parametrize("spec", [{"hidden": [16, 16], "activation": "tanh"},
                                  {"hidden": [5, 5, 3], "activation": "relu", "residual": True},
                                  {"hidden": [], "activation": "sigmoid"},
                                  {"hidden": [6], "activation": "gelu"}])
def test_mlp_shape_draws_the_built_models_weights(spec):
    # The lean path builds no torch modules: its initial weights, names, layer shapes and
    # saved state must be those of build_model's MLP, bit for bit.
    from compute.nn.models import MLPShape, layer_shapes

    for seed in (0, 11):
        model = build_model(spec, 2, 3, seed=seed)
        shape = MLPShape.of(spec, 2, 3)
        params = shape.init(seed)
        assert all(np.array_equal(p.detach().numpy(), q)
                   for p, q in zip(model.parameters(), params, strict=True))
        assert shape.n_params == sum(p.numel() for p in model.parameters())
        assert shape.layer_shapes() == layer_shapes(model) and shape.skip == tuple(model.skip)
        state = shape.state_dict(params)
        assert list(state) == list(model.state_dict())
        assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    with pytest.raises(ValueError):
        MLPShape.of({"hidden": [4], "layer_norm": True}, 2, 2)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_lean_weights_load_into_the_model_and_give_its_outputs(dtype):
    c = cfg(backend="lean", epochs=3, dtype=dtype)
    r = train(c)
    assert callable(r.state)  # serialized on first use, once
    assert r.state_dict is r.state_dict
    state = torch.load(io.BytesIO(r.state_dict))
    model = build_model(c.model, 2, 2, seed=c.seed)
    assert {v.dtype for v in state.values()} == {getattr(torch, dtype)}
    model = model.to(getattr(torch, dtype))
    model.load_state_dict(state)
    data = make_dataset(**c.dataset)
    with torch.no_grad():
        z = model(torch.tensor(data.X_test, dtype=getattr(torch, dtype))).numpy()
    assert (z.argmax(1) == data.y_test).mean() == pytest.approx(r.test_accuracy)


def test_datasets_are_shared_read_only_between_builds():
    a = make_dataset("moons", n_samples=300, noise=0.1, seed=4)
    b = make_dataset(name="moons", seed=4, noise=0.1, n_samples=300)
    assert a is b and not a.X_train.flags.writeable
    c = make_dataset("moons", n_samples=300, noise=0.1, seed=5)
    assert c is not a and not np.array_equal(c.X_train, a.X_train)
    with pytest.raises(TypeError):
        a.params["seed"] = 9


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_trains_on_cuda():
    r = train(TrainConfig.from_dict({**CANONICAL, "epochs": 60, "device": "auto"}))
    assert r.device == "cuda" and r.backend == "torch" and r.test_accuracy >= 0.95
    seen = []
    r2 = train(cfg(device="cuda", epochs=2, model={"hidden": [8], "dropout": 0.1}),
               Callbacks(on_epoch=seen.append))
    assert r2.device == "cuda" and len(seen) == 2 and seen[-1].boundary is not None


def test_torch_threads_is_restored_after_overlapping_users():
    # Two request threads overlapping A-in, B-in, A-out, B-out: the process must end where it
    # started (per-user save/restore would leave it at 1 thread).
    import threading

    from compute.nn.train import torch_threads

    before = torch.get_num_threads()
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def a():
        with torch_threads(1):
            a_in.set()
            b_in.wait(5)
        a_out.set()

    def b():
        a_in.wait(5)
        with torch_threads(1):
            b_in.set()
            a_out.wait(5)
            assert torch.get_num_threads() == 1

    ts = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(10)
    assert torch.get_num_threads() == before


def _lean_activations(x: np.ndarray) -> np.ndarray:
    """``[tanh, sigmoid, tanh32, exp(-|x|)]`` of ``x`` by the kernels' own vector (and scalar exp)
    code, in ``x``'s dtype."""
    from numba import njit

    from compute.nn import _kernels as K
    from compute.nn._simd import LANES, vload, vstore

    @njit
    def apply(X, out):
        for c in range(0, X.shape[1], LANES):
            vstore(out, 0, c, K._vtanh(vload(X, 0, c)))
            vstore(out, 1, c, K._vsigmoid(vload(X, 0, c)))
            vstore(out, 2, c, K._vtanh32(vload(X, 0, c)))
        for i in range(X.shape[1]):
            out[3, i] = K._exp_nonpos(-abs(X[0, i]))

    n = -(-x.size // LANES) * LANES
    X = np.zeros((1, n), x.dtype)
    X[0, :x.size] = x
    out = np.empty((4, n), x.dtype)
    apply(X, out)
    return out[:, :x.size].astype(np.float64)


def test_lean_activations_match_numpy_to_a_few_ulp():
    """The kernels' own tanh/sigmoid/exp (arithmetic on SIMD vectors) against numpy's; tanh32
    (float32 configs) to 2.7e-7; NaN stays NaN."""
    from scipy.special import expit

    tiny = np.logspace(-300, 1.6, 20_000)
    x = np.concatenate([np.linspace(-40, 40, 200_001), tiny, -tiny, [0.0, 710.0, -710.0]])
    tanh, sig, tanh32, exp = _lean_activations(x)
    refs = (np.tanh(x), expit(x), np.exp(-np.abs(x)))
    for k, (got, ref) in enumerate(zip((tanh, sig, exp), refs, strict=True)):
        # relative, but for exp(y < -700) ~ 1e-304 where 0 is due
        err = np.abs(got - ref) - 8 * np.finfo(float).eps * np.abs(ref)
        assert err.max() <= 1e-300, (k, x[err.argmax()], got[err.argmax()])
    assert np.all(np.abs(tanh) <= 1.0) and tanh[-1] == -1.0 and tanh[-3] == 0.0
    rel32 = np.abs(tanh32 - np.tanh(x)) / np.maximum(np.abs(np.tanh(x)), 1e-300)
    assert rel32.max() <= 2.7e-7
    assert np.all(np.isnan(_lean_activations(np.array([np.nan, 1.0]))[:3, 0]))


def test_lean_activations_in_float32():
    """The same vector code on float32 lanes (float32 configs): tanh32 within 2.7e-7 plus float32
    rounding of the input, sigmoid within a few float32 ulp."""
    from scipy.special import expit

    x = np.concatenate([np.linspace(-30, 30, 100_001), np.logspace(-30, 1.5, 5000)])
    x = x.astype(np.float32)
    x64 = x.astype(np.float64)
    _, sig, tanh32, _ = _lean_activations(x)
    t = np.tanh(x64)
    assert (np.abs(tanh32 - t) / np.maximum(np.abs(t), 1e-38)).max() <= 2.7e-7 + 2 ** -24
    s = expit(x64)
    assert (np.abs(sig - s) / s).max() <= 8 * 2 ** -24


def test_numba_shuffles_are_numpys_numbers_and_leave_its_state():
    # compute.nn._shuffle re-implements PCG64 and numpy's Fisher-Yates: the permutations, the
    # generator's state afterwards (the 32-bit half it holds included) and the stream after it
    # must all be numpy's, from fresh generators and from ones holding a half.
    from compute.nn._shuffle import permutations

    for seed in range(12):
        for n in (1, 2, 3, 7, 64, 250, 701, 5000):
            rows = (1, 2, 5, 40, 130)[seed % 5]
            a, b = np.random.default_rng([seed, 2]), np.random.default_rng([seed, 2])
            if seed % 3 == 0:  # numpy now holds the high half of a 64-bit draw
                a.integers(0, 10, dtype=np.uint32)
                b.integers(0, 10, dtype=np.uint32)
            got = permutations(a, n, rows)
            want = np.stack([b.permutation(n) for _ in range(rows)])
            assert np.array_equal(got, want), (seed, n, rows)
            assert a.bit_generator.state == b.bit_generator.state, (seed, n, rows)
            assert np.array_equal(a.permutation(n), b.permutation(n)) and a.random() == b.random()


def test_config_to_dict_is_asdict_and_a_copy():
    from dataclasses import asdict

    for d in ({}, {"schedule": {"name": "step", "step_size": 3, "gamma": 0.5}},
              {"model": {"hidden": [4, 3], "residual": True}, "grad_clip": 1.0,
               "optimizer": {"name": "adam", "lr": 0.01, "betas": [0.8, 0.9]}}):
        c = cfg(**d)
        out = c.to_dict()
        assert out == asdict(c) and list(out) == list(asdict(c))
        out["model"]["hidden"].append(99)
        assert c.model["hidden"][-1] != 99  # a copy, not the config's own lists


def test_shuffles_drawn_in_blocks_equal_one_permutation_per_epoch():
    """``Permutations`` draws the epochs it has not drawn yet in one call; whatever the
    chunking, epoch e's order is the e-th ``permutation(n)`` of the run's generator (what the
    torch path draws)."""
    from compute.nn.lean import Permutations, shuffler

    for n in (1, 2, 7, 250):
        g = shuffler(5)
        want = np.stack([g.permutation(n) for _ in range(40)])
        p = Permutations(n, 5)
        got = [p.get(0, 0), p.get(0, 2), p.get(2, 9), p.get(10, 39)]
        assert (got[0] == want[:1]).all() and (got[1] == want[:3]).all()
        assert (got[2] == want[2:10]).all() and (got[3] == want[10:]).all()
        # fill: into a lane of a lane group's (epochs, n, 16) int32 array, drawn there directly
        # or copied from what get() drew
        q = Permutations(n, 5)
        lanes = np.full((40, n, 3), -1, dtype=np.int32)
        q.fill(0, 9, lanes[:10, :, 1])
        q.get(10, 12)
        q.fill(10, 19, lanes[10:20, :, 1])
        q.fill(20, 39, lanes[20:, :, 1])
        assert (lanes[:, :, 1] == want).all() and (lanes[:, :, [0, 2]] == -1).all()


def test_histogram_equals_numpys():
    from compute.nn._frames import hist_counts, hist_edges

    rng = np.random.default_rng(0)
    cases = [rng.normal(size=1000), rng.uniform(-1, 1, 7), np.linspace(-2, 2, 41),
             np.array([0.0]), np.array([-3.0, 3.0, 1e300, -np.inf, 0.1]), np.array([], float),
             rng.normal(size=300).astype(np.float32).astype(float)]
    for x in cases:
        for bins, lo, hi in ((20, -2.0, 2.0), (10, 0.0, 1.0), (7, -0.3, 0.9), (1, -1.0, 1.0)):
            edges = hist_edges(bins, lo, hi)
            counts = hist_counts(x, edges, lo, hi)
            want_c, want_e = np.histogram(x, bins=bins, range=(lo, hi))
            assert counts.tolist() == want_c.tolist() and np.array_equal(edges, want_e)


def test_layer_stats_follow_numpy():
    """A frame's per-layer statistics (one numba call per layer) against numpy's formulas:
    np.histogram over [-max|W|, max|W|] (NaN/inf weights as np.nan_to_num, range [-1, 1]),
    Frobenius norms, float32 and float64, matrices and conv kernels."""
    from compute.nn.train import layer_stats

    rng = np.random.default_rng(3)
    w64 = rng.normal(size=(8, 5))
    bad = w64.copy()
    bad[0, 0], bad[1, 1], bad[2, 2] = np.nan, np.inf, -np.inf
    cases = [("a", w64, rng.normal(size=(8, 5))),
             ("b", w64.astype(np.float32), rng.normal(size=(8, 5)).astype(np.float32)),
             ("conv", rng.normal(size=(4, 1, 3, 3)).astype(np.float32), None),
             ("zero", np.zeros((3, 2)), np.zeros((3, 2))),
             ("bad", bad, np.full((8, 5), 2.0))]
    for bins in (20, 7):
        got = layer_stats(cases, bins)
        for (name, w, g), s in zip(cases, got, strict=True):
            flat = np.asarray(w, np.float64).ravel()
            m = np.abs(flat).max()
            if not np.isfinite(m):
                flat, m = np.nan_to_num(flat), 1.0
            m = m if m > 0 else 1.0
            counts, edges = np.histogram(flat, bins, range=(-m, m))
            assert s["name"] == name and s["shape"] == list(w.shape)
            assert s["hist"]["counts"] == counts.tolist() and s["hist"]["edges"] == edges.tolist()
            with np.errstate(over="ignore"):  # nan_to_num's largest floats
                norm = np.linalg.norm(flat)
            assert s["weight_norm"] == (pytest.approx(norm, rel=1e-14) if np.isfinite(norm) else None)
            want_g = None if g is None else pytest.approx(np.linalg.norm(g.astype(np.float64)), rel=1e-14)
            assert s["grad_norm"] == want_g
    assert got[4]["weight_norm"] is None  # the largest floats squared


def test_frame_probabilities_and_confidence_follow_numpy():
    """The numba loops of progress frames (compute.nn._frames) against numpy's formulas: softmax,
    squared error's (tanh z + 1) / 2 (two columns for one output), confidence and entropy."""
    from compute.nn.train import output_summary, probabilities

    rng = np.random.default_rng(1)
    for k in (1, 2, 3, 10):
        z = rng.normal(scale=4, size=(257, k))
        z[0] = 800.0  # overflow-safe softmax
        if k > 1:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            np.testing.assert_allclose(probabilities(z, "cross_entropy"), e / e.sum(1, keepdims=True),
                                       rtol=1e-13, atol=1e-300)
        q = (np.tanh(z) + 1) / 2
        want = np.hstack([1 - q, q]) if k == 1 else q / np.maximum(q.sum(1, keepdims=True), 1e-12)
        p = probabilities(z.astype(np.float32), "mse")
        np.testing.assert_allclose(p, want, rtol=1e-6, atol=1e-7)
        # tanh z + 1 cancels for z << 0: numpy's and libm's tanh (1 ulp apart) differ there
        np.testing.assert_allclose(probabilities(z, "mse"), want, rtol=1e-13, atol=1e-11)
        s = output_summary(p)
        conf = p.max(axis=1)
        ent = -(p * np.log(np.clip(p, 1e-12, 1))).sum(axis=1)
        assert s["mean_confidence"] == pytest.approx(conf.mean(), rel=1e-13)
        assert s["mean_entropy"] == pytest.approx(ent.mean(), rel=1e-12)
        assert s["confidence_hist"]["counts"] == np.histogram(conf, 10, (0, 1))[0].tolist()
    # a diverged run's NaN outputs: no mean, and NaN counted as 0 (np.nan_to_num)
    p = probabilities(rng.normal(size=(50, 3)), "cross_entropy")
    p[:7] = np.nan
    s = output_summary(p)
    assert s["mean_confidence"] is None and s["mean_entropy"] is None
    want = np.histogram(np.nan_to_num(p.max(axis=1)), 10, (0, 1))
    assert s["confidence_hist"] == {"counts": want[0].tolist(), "edges": want[1].tolist()}


def test_boundary_grid_rounds_numpys_probabilities():
    """A frame's decision boundary (_frames.prob_grid: two logits' softmax with one exp a row)
    equals numpy's rounding of the softmax / squared-error probabilities, NaN and inf included."""
    from compute.nn import _frames

    rng = np.random.default_rng(2)
    G = 60
    for k, mse in ((2, False), (1, True), (2, True)):
        for scale in (0.01, 1.0, 40.0, 800.0):
            z = rng.normal(scale=scale, size=(G * G, k))
            z[0], z[1, 0], z[2], z[3, -1] = np.nan, np.inf, 0.0, -np.inf
            with np.errstate(all="ignore"):
                want = np.round(_frames.probabilities(z, mse)[:, 1].reshape(G, G), 4)
            assert np.array_equal(_frames.prob_grid(z, mse, G), want, equal_nan=True)


def test_models_of_one_shape_are_independent_copies():
    """build_model copies a cached uninitialised template per shape: each build is its own
    module, seeded as asked, and changing one changes no other (nor later builds)."""
    from compute.nn.models import build_model

    spec = {"hidden": [6, 6], "activation": "tanh", "layer_norm": True}
    a, b = build_model(spec, 2, 2, seed=1), build_model(spec, 2, 2, seed=1)
    c = build_model(spec, 2, 2, seed=2)
    assert a is not b and all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    assert not torch.equal(a.layers[0].weight, c.layers[0].weight)
    with torch.no_grad():
        a.layers[0].weight.add_(1.0)
        a.norms[0].weight.mul_(3.0)
    d = build_model(spec, 2, 2, seed=1)
    assert all(torch.equal(p, q) for p, q in zip(b.parameters(), d.parameters(), strict=True))
    assert torch.equal(d.norms[0].weight, torch.ones(6)) and torch.equal(d.layers[0].bias, torch.zeros(6))


def test_warmup_compiles_every_lean_kernel_in_both_dtypes():
    """Worker warm-up must leave no compile for a job to pay: the single-run kernel and the
    lanes kernel (train_many groups only from several runs: warm-up must still reach it) in
    float32 and float64, and the shuffle drawn into a lane group's int32 array. In a fresh
    process: here, other tests have compiled them already."""
    import subprocess

    code = """
from compute.nn import _kernels, _lanes, _shuffle
from compute.nn.lean import warmup
warmup()
for f in (_lanes.run_lanes, _kernels.run_steps, _shuffle._draw):
    print(sorted({sig[0].dtype.name for sig in f.signatures}))
"""
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True,
                         timeout=600, check=True).stdout.split("\n")
    assert out[:3] == ["['float32', 'float64']", "['float32', 'float64']", "['int32', 'int64']"]
