"""The learning-rate-schedules lab against torch.optim.lr_scheduler and a plain torch training loop."""

import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from compute import lr_lab, optim
from compute.lr_lab import SCHEDULES, compare_schedules, schedule_curve
from compute.nn import TrainConfig, build_model, make_dataset
from compute.nn import lr_schedule as nn_lr_schedule

PARAMS = {
    "constant": {},
    "step": {"step_size": 70, "gamma": 0.4},
    "exponential": {"gamma": 0.993},
    "cosine": {"eta_min": 0.01},
    "warmup_cosine": {"warmup_steps": 45, "eta_min": 0.02},
    "onecycle": {"pct_start": 0.25, "div_factor": 10.0, "final_div_factor": 100.0},
}
SMALL = {"n_samples": 120, "epochs": 12, "batch_size": 16, "hidden": [8]}


def torch_scheduler(opt, name, p, total):
    """torch.optim.lr_scheduler's scheduler for each schedule (warmup + cosine written out)."""
    sch = torch.optim.lr_scheduler
    lr = opt.param_groups[0]["lr"]
    if name == "constant":
        return sch.LambdaLR(opt, lambda t: 1.0)
    if name == "step":
        return sch.StepLR(opt, step_size=p["step_size"], gamma=p["gamma"])
    if name == "exponential":
        return sch.ExponentialLR(opt, gamma=p["gamma"])
    if name == "cosine":
        return sch.CosineAnnealingLR(opt, T_max=total, eta_min=p["eta_min"])
    if name == "warmup_cosine":
        w, eta = p["warmup_steps"], p["eta_min"]

        def factor(t):
            if t < w:
                return t / w
            return (eta + (lr - eta) * 0.5 * (1 + math.cos(math.pi * (t - w) / (total - w)))) / lr

        return sch.LambdaLR(opt, factor)
    if name == "onecycle":
        return sch.OneCycleLR(opt, max_lr=lr, total_steps=total, pct_start=p["pct_start"],
                              div_factor=p["div_factor"], final_div_factor=p["final_div_factor"],
                              anneal_strategy="cos", cycle_momentum=False)
    raise AssertionError(name)


def torch_rates(name, p, lr, total):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    sched = torch_scheduler(opt, name, p, total)
    out = []
    for _ in range(total):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return np.array(out)


def test_the_six_schedules_are_compute_optims():
    assert SCHEDULES == ("constant", "step", "exponential", "cosine", "warmup_cosine", "onecycle")
    assert set(lr_lab.SCHEDULE_PARAMS) == set(optim.SCHEDULES)
    for name, keys in lr_lab.SCHEDULE_PARAMS.items():
        assert set(keys) <= set(optim.SCHEDULES[name].params), name


@pytest.mark.parametrize("name", SCHEDULES)
@pytest.mark.parametrize("total", [1, 7, 333])
def test_schedule_curve_equals_torch_lr_scheduler(name, total):
    got = schedule_curve(name, 0.7, total, PARAMS[name])
    assert got.shape == (total,)
    np.testing.assert_allclose(got, torch_rates(name, PARAMS[name], 0.7, total), rtol=1e-12, atol=1e-15)


def test_runs_use_the_curve_they_show_and_torchs_rates():
    lr = 0.8
    r = compare_schedules([{"name": n, **PARAMS[n]} for n in SCHEDULES], lr=lr, **SMALL)
    assert r.total_steps == SMALL["epochs"] * r.steps_per_epoch == 12 * math.ceil(84 / 16)
    for run in r.runs:
        cfg = TrainConfig.from_dict({"optimizer": {"name": "sgd", "lr": lr},
                                     "schedule": None if run.name == "constant" else {"name": run.name, **PARAMS[run.name]},
                                     "dataset": {"name": "moons", "n_samples": 120}, "epochs": 12, "batch_size": 16})
        used = nn_lr_schedule(cfg, r.total_steps)[: r.total_steps]  # what the training kernels step with
        np.testing.assert_allclose(run.lr, used, rtol=1e-12, atol=1e-15, err_msg=run.name)
        np.testing.assert_allclose(run.lr, torch_rates(run.name, PARAMS[run.name], lr, r.total_steps),
                                   rtol=1e-12, atol=1e-15, err_msg=run.name)


def torch_reference(name, p, *, lr, momentum, optimizer, n_samples, epochs, batch_size, hidden,
                    seed=0, dataset="moons", noise=0.2):
    """A plain torch loop: the lab's data, init and batch order; torch.optim + its scheduler."""
    data = make_dataset(dataset, n_samples=n_samples, noise=noise, seed=seed, test_fraction=0.3)
    model = build_model({"hidden": hidden, "activation": "tanh"}, 2, 2, seed=seed).double()
    X = torch.from_numpy(np.array(data.X_train, dtype=np.float64))
    Y = torch.from_numpy(np.array(data.y_train))
    if optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    n = X.shape[0]
    total = epochs * math.ceil(n / batch_size)
    sched = torch_scheduler(opt, name, p, total)
    order = np.random.default_rng([seed, 2])
    with torch.no_grad():
        losses = [float(F.cross_entropy(model(X), Y))]
    for _ in range(epochs):
        perm = torch.from_numpy(order.permutation(n))
        for s in range(0, n, batch_size):
            idx = perm[s:s + batch_size]
            opt.zero_grad()
            F.cross_entropy(model(X[idx]), Y[idx]).backward()
            opt.step()
            sched.step()
        with torch.no_grad():
            losses.append(float(F.cross_entropy(model(X), Y)))
    return np.array(losses)


@pytest.mark.parametrize(("name", "optimizer", "lr"), [
    ("onecycle", "sgd", 1.0), ("warmup_cosine", "sgd", 0.5), ("step", "adam", 0.05)])
def test_training_equals_a_torch_reference(name, optimizer, lr):
    kw = dict(lr=lr, momentum=0.9, optimizer=optimizer, n_samples=100, epochs=8, batch_size=16, hidden=[6])
    r = compare_schedules([{"name": name, **PARAMS[name]}], **kw)
    want = torch_reference(name, PARAMS[name], **kw)
    np.testing.assert_allclose(r.runs[0].train_loss, want, rtol=1e-6, atol=1e-9)


def test_runs_are_reproducible_and_share_init_and_data():
    scheds = [{"name": n, **PARAMS[n]} for n in SCHEDULES]
    a = compare_schedules(scheds, seed=3, **SMALL)
    b = compare_schedules(scheds, seed=3, **SMALL)
    c = compare_schedules(scheds, seed=4, **SMALL)
    for ra, rb, rc in zip(a.runs, b.runs, c.runs, strict=True):
        for k in ("lr", "train_loss", "test_loss", "train_acc", "test_acc"):
            np.testing.assert_array_equal(getattr(ra, k), getattr(rb, k))
        assert not np.array_equal(ra.train_loss, rc.train_loss)
    starts = {run.train_loss[0] for run in a.runs}
    assert len(starts) == 1  # epoch 0: the same initial weights on the same data
    # only the rates differ: a step schedule with gamma = 1 is the constant schedule, bit for bit
    same = compare_schedules([{"name": "constant"}, {"name": "step", "gamma": 1.0}], **SMALL)
    np.testing.assert_array_equal(same.runs[0].train_loss, same.runs[1].train_loss)
    np.testing.assert_array_equal(same.runs[0].test_acc, same.runs[1].test_acc)


def test_initial_metrics_equal_torch_forward():
    r = compare_schedules([{"name": "constant"}], activation="relu", hidden=[5, 7], **{k: v for k, v in SMALL.items() if k != "hidden"})
    data = make_dataset("moons", n_samples=120, noise=0.2, seed=0, test_fraction=0.3)
    model = build_model({"hidden": [5, 7], "activation": "relu"}, 2, 2, seed=0).double()
    with torch.no_grad():
        z = model(torch.from_numpy(np.array(data.X_test, dtype=np.float64)))
        loss = float(F.cross_entropy(z, torch.from_numpy(np.array(data.y_test))))
        acc = float((z.argmax(1).numpy() == data.y_test).mean())
    assert r.runs[0].test_loss[0] == pytest.approx(loss, rel=1e-12)
    assert r.runs[0].test_acc[0] == acc


def test_a_sane_lr_trains_and_a_huge_one_diverges():
    ok = compare_schedules([{"name": "constant"}], lr=0.3, n_samples=200, epochs=40)
    run = ok.runs[0]
    assert run.status == "trained" and not run.diverged and run.blowup_epoch is None
    assert run.train_loss[-1] < 0.3 * run.train_loss[0] and run.test_acc[-1] > 0.85
    bad = compare_schedules([{"name": "constant"}, {"name": "cosine"}], lr=10.0, n_samples=200, epochs=40)
    assert bad.runs[0].status == "diverged" and bad.runs[0].diverged
    assert bad.runs[0].blowup_epoch == 1
    assert bad.runs[0].train_loss[-1] > bad.runs[0].train_loss[0]
    # annealing to 0 brings the same lr back from the blow-up
    assert bad.runs[1].status == "unstable" and bad.runs[1].train_loss[-1] < bad.runs[1].train_loss[0]


def test_verdicts():
    v = lr_lab._verdict
    assert v(np.array([0.7, 0.5, 0.1])) == (None, "trained")
    assert v(np.array([0.7, 0.69, 0.68])) == (None, "stalled")
    assert v(np.array([0.7, 2.0, 0.2])) == (1, "unstable")
    assert v(np.array([0.7, 1.0, 0.8])) == (None, "diverged")
    assert v(np.array([0.7, 0.5, np.nan, np.nan])) == (2, "diverged")


def test_bounds_are_value_errors_that_name_the_field():
    with pytest.raises(ValueError, match=r"^epochs x n_samples .* too much work"):
        compare_schedules([{"name": n} for n in SCHEDULES], epochs=200, n_samples=400, hidden=[32, 32])
    with pytest.raises(ValueError, match=r"^schedules\[1\]: schedule 'step' takes"):
        compare_schedules([{"name": "constant"}, {"name": "step", "T_max": 3}])
    with pytest.raises(ValueError, match=r"^schedules\[0\]: schedule name must be one of"):
        compare_schedules([{"name": "cyclic"}])
    with pytest.raises(ValueError, match=r"^schedules must hold 1 to 6"):
        compare_schedules([])
    with pytest.raises(ValueError, match=r"^dataset must be one of"):
        compare_schedules([{"name": "constant"}], dataset="digits")


def test_the_work_bound_keeps_requests_small():
    # the bound's worst corners stay near MAX_WORK (about half a CPU-second)
    assert lr_lab.work(6, [16], 200, 60, 16) < 0.4 * lr_lab.MAX_WORK  # the page's default
    assert lr_lab.work(6, [32, 32], 400, 200, 8) > 10 * lr_lab.MAX_WORK
