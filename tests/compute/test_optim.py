"""The optimizer engine against torch.optim and torch.optim.lr_scheduler, in float64."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from compute import optim
from compute.optim import OPTIMIZERS, SCHEDULES, lr_schedule, optimize
from compute.surfaces import FUNCTIONS, Objective, get_function

RTOL = 1e-8  # relative to max(1, |value|)

TORCH_F = {
    "quadratic": lambda x, y: 0.5 * (x**2 + 10.0 * y**2),
    "rosenbrock": lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
    "beale": lambda x, y: (
        (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2
    ),
    "himmelblau": lambda x, y: (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2,
    "saddle": lambda x, y: x**2 - y**2,
    "booth": lambda x, y: (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2,
    "rastrigin": lambda x, y: (
        20 + x**2 - 10 * torch.cos(2 * math.pi * x) + y**2 - 10 * torch.cos(2 * math.pi * y)
    ),
}

STARTS = {
    "quadratic": [[2.0, 1.5], [-1.0, -2.5], [0.5, 0.1]],
    "rosenbrock": [[-1.5, 2.0], [0.0, 0.0], [1.5, -0.5]],
    "beale": [[1.0, 1.3], [-2.0, 2.0], [3.5, -1.0]],
    "himmelblau": [[0.3, -0.2], [-4.0, 4.0], [1.0, -3.0]],
    "saddle": [[1.0, 0.01], [-1.5, -0.3], [0.2, 1.0]],
    "booth": [[-8.0, 8.0], [5.0, -5.0], [0.0, 0.0]],
    "rastrigin": [[2.2, -1.7], [-0.4, 0.3], [4.0, 4.5]],
}

CONFIGS = {
    "sgd": {"name": "sgd", "lr": 1e-3},
    "sgd-nesterov-wd": {
        "name": "sgd",
        "lr": 1e-3,
        "momentum": 0.9,
        "nesterov": True,
        "weight_decay": 0.01,
    },
    "sgd-momentum-dampening": {"name": "sgd", "lr": 2e-3, "momentum": 0.8, "dampening": 0.3},
    "adagrad": {
        "name": "adagrad",
        "lr": 0.3,
        "lr_decay": 0.01,
        "weight_decay": 0.01,
        "initial_accumulator_value": 0.1,
    },
    "rmsprop": {"name": "rmsprop", "lr": 0.01},
    "rmsprop-centered-momentum-wd": {
        "name": "rmsprop",
        "lr": 3e-3,
        "momentum": 0.9,
        "centered": True,
        "weight_decay": 0.01,
    },
    "adam": {"name": "adam", "lr": 0.05},
    "adam-amsgrad-wd": {"name": "adam", "lr": 0.05, "amsgrad": True, "weight_decay": 0.1},
    "adamw": {"name": "adamw", "lr": 0.02, "betas": [0.8, 0.99]},
    # torch's LBFGS runs its two-loop recursion in Python: short histories keep torch quick
    "lbfgs": {"name": "lbfgs", "lr": 0.5, "history_size": 10, "max_iter": 5},
    "lbfgs-wolfe-short-history": {
        "name": "lbfgs",
        "line_search_fn": "strong_wolfe",
        "history_size": 3,
        "max_iter": 8,
    },
}

TORCH_OPT = {
    "sgd": torch.optim.SGD,
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "lbfgs": torch.optim.LBFGS,
}


def torch_scheduler(opt, schedule, steps):
    if schedule is None:
        return None
    s = dict(schedule)
    name = s.pop("name")
    sch = torch.optim.lr_scheduler
    if name == "constant":
        return None
    if name == "step":
        return sch.StepLR(opt, step_size=s["step_size"], gamma=s["gamma"])
    if name == "exponential":
        return sch.ExponentialLR(opt, gamma=s["gamma"])
    if name == "cosine":
        return sch.CosineAnnealingLR(opt, T_max=s.get("T_max") or steps, eta_min=s["eta_min"])
    if name == "onecycle":
        return sch.OneCycleLR(
            opt,
            max_lr=opt.param_groups[0]["lr"],
            total_steps=steps,
            pct_start=s["pct_start"],
            div_factor=s["div_factor"],
            final_div_factor=s["final_div_factor"],
            anneal_strategy="cos",
            cycle_momentum=False,
        )
    if name == "warmup_cosine":
        w, eta, lr = s["warmup_steps"], s["eta_min"], opt.param_groups[0]["lr"]

        def factor(t):  # the usual warmup + cosine, written independently of compute.optim
            if t < w:
                return t / w
            progress = (t - w) / max(1, steps - w)
            return (eta + (lr - eta) * 0.5 * (1 + math.cos(math.pi * progress))) / lr

        return sch.LambdaLR(opt, factor)
    raise AssertionError(name)


def torch_run(fname, config, starts, steps, schedule=None):
    """Points (S, steps+1, 2) of torch.optim from each start; first-order ones batched."""
    f = TORCH_F[fname]
    cfg = dict(config)
    name = cfg.pop("name")
    if "betas" in cfg:
        cfg["betas"] = tuple(cfg["betas"])
    starts = np.asarray(starts, dtype=np.float64)
    if name == "lbfgs":
        out = []
        for s in starts:
            p = torch.tensor(s, dtype=torch.float64, requires_grad=True)
            opt = torch.optim.LBFGS([p], **cfg)
            sched = torch_scheduler(opt, schedule, steps)

            def closure(p=p, opt=opt):
                opt.zero_grad()
                loss = f(p[0], p[1])
                loss.backward()
                return loss

            pts = [p.detach().clone()]
            for _ in range(steps):
                try:
                    opt.step(closure)
                except IndexError:  # torch's line search fails on a nan loss: diverged
                    pts += [torch.full((2,), math.nan, dtype=torch.float64)] * (
                        steps + 1 - len(pts)
                    )
                    break
                if sched is not None:
                    sched.step()
                pts.append(p.detach().clone())
                if not f(*pts[-1]).abs() <= 1e12:  # diverged: nothing more to compare
                    pts += [pts[-1]] * (steps + 1 - len(pts))
                    break
            out.append(torch.stack(pts).numpy())
        return np.stack(out)
    # independent starts as rows of one tensor: every first-order rule is elementwise
    p = torch.tensor(starts, dtype=torch.float64, requires_grad=True)
    opt = TORCH_OPT[name]([p], **cfg)
    sched = torch_scheduler(opt, schedule, steps)
    pts = [p.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        f(p[:, 0], p[:, 1]).sum().backward()
        opt.step()
        if sched is not None:
            sched.step()
        pts.append(p.detach().clone())
    return torch.stack(pts, dim=1).numpy()


def torch_run_all(config, steps):
    """torch.optim from every function's starts in one tensor (first-order rules are elementwise).

    Returns {function: points (S, steps+1, 2)}.
    """
    cfg = dict(config)
    name = cfg.pop("name")
    if "betas" in cfg:
        cfg["betas"] = tuple(cfg["betas"])
    blocks, starts = [], []
    for fname in FUNCTIONS:
        blocks.append((fname, len(starts), len(starts) + len(STARTS[fname])))
        starts += STARTS[fname]
    p = torch.tensor(starts, dtype=torch.float64, requires_grad=True)
    opt = TORCH_OPT[name]([p], **cfg)
    pts = [p.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        sum(TORCH_F[f](p[a:b, 0], p[a:b, 1]).sum() for f, a, b in blocks).backward()
        opt.step()
        pts.append(p.detach().clone())
    out = torch.stack(pts, dim=1).numpy()
    return {f: out[a:b] for f, a, b in blocks}


def valid_prefix(fname, pts):
    """Per start, the number of leading points where torch's run is valid (finite, |f| <= 1e12)."""
    with np.errstate(all="ignore"):
        t = torch.tensor(pts)
        x, y = t[..., 0].requires_grad_(), t[..., 1].requires_grad_()
        v = TORCH_F[fname](x, y)
        gx, gy = torch.autograd.grad(v.sum(), (x, y))
    ok = (v.abs() <= 1e12) & gx.isfinite() & gy.isfinite() & x.isfinite() & y.isfinite()
    ok = ok.detach().numpy()
    return np.where(ok.all(1), ok.shape[1], np.argmin(ok, axis=1))


def assert_agree(got, want):
    got, want = np.asarray(got), np.asarray(want)
    scale = np.maximum(1.0, np.abs(want))
    bad = ~(np.abs(got - want) <= RTOL * scale)
    if bad.any():
        i = np.argwhere(bad)[0]
        raise AssertionError(
            f"{bad.sum()} entries differ; first at {tuple(i)}: got {got[tuple(i)]!r}, "
            f"torch {want[tuple(i)]!r}"
        )


def horizon(a, b):
    """First step where two runs (S, T+1, 2) part by more than 1e-9 (relative to max(1, |a|))."""
    with np.errstate(invalid="ignore"):
        apart = ~(np.abs(a - b) <= 1e-9 * np.maximum(1.0, np.abs(a))).all(-1)
    apart &= ~(np.isnan(a).all(-1) & np.isnan(b).all(-1))
    return np.where(apart.any(-1), np.argmax(apart, axis=-1), a.shape[-2])


def check_against_torch(fname, config, steps, schedule=None, want=None):
    """Our run against torch's (``want``, or run here), point by point, while well conditioned.

    Rounding differs between any two float64 implementations (torch's autograd orders the
    gradient's operations differently and fuses multiply-adds). Where a run amplifies such
    differences (chaos, LBFGS dividing by a tiny yᵀs), no two can agree to 1e-8. So the run is
    shadowed by one whose gradients carry 1e-15 relative noise (rounding-sized; exact zeros
    stay zero); from the step where the shadow parts from the run by 1e-9, the comparison
    stops. Returns the result and the horizons (S,).
    """
    obj = get_function(fname)
    starts = np.asarray(STARTS[fname], dtype=np.float64)
    res = optimize(obj, [config], starts, steps, schedule)
    noisy = Objective(
        name="noisy",
        latex="",
        f=obj.f,
        grad=lambda x, y: tuple(
            g * (1 + 1e-15 * np.cos(1e3 * x + 2e3 * y + i)) for i, g in enumerate(obj.grad(x, y))
        ),
        hess=obj.hess,
    )
    shadow = optimize(noisy, [config], starts, steps, schedule)
    h = horizon(res.xy[0], shadow.xy[0])
    if want is None:
        # torch is not needed past the last horizon: pad what it would have added with nan
        run = min(steps, int(h.max()))
        want = torch_run(fname, config, starts, run, schedule)
        want = np.concatenate([want, np.full((len(starts), steps - run, 2), np.nan)], axis=1)
    n_valid = valid_prefix(fname, want)
    for s in range(len(starts)):
        n = min(n_valid[s], h[s])
        assert_agree(res.xy[0, s, :n], want[s, :n])
        assert_agree(res.loss[0, s, :n], TORCH_F[fname](*torch.tensor(want[s, :n]).T).numpy())
        if h[s] <= n_valid[s]:
            continue  # torch diverged after the horizon, or not at all, or was not run
        assert res.length[0, s] >= n_valid[s]
        if n_valid[s] <= steps:  # torch diverged: so do we, at the same step
            assert res.diverged_at[0, s] == n_valid[s]
            assert np.isnan(res.xy[0, s, n_valid[s] :]).all()
            assert np.isnan(res.loss[0, s, n_valid[s] :]).all()
        else:
            assert res.diverged_at[0, s] == -1
    return res, h


@pytest.mark.parametrize("config", list(CONFIGS))
def test_matches_torch_optim(config):
    """Every function, three starts, 300 steps (100 on rastrigin; 50 LBFGS steps)."""
    cfg = CONFIGS[config]
    want = None if cfg["name"] == "lbfgs" else torch_run_all(cfg, 300)
    compared = valid = 0
    for fname in FUNCTIONS:
        steps = 50 if want is None else 100 if fname == "rastrigin" else 300
        try:
            res, h = check_against_torch(
                fname, cfg, steps, want=None if want is None else want[fname][:, : steps + 1]
            )
        except AssertionError as e:
            raise AssertionError(f"{fname}: {e}") from None
        compared += np.minimum(h, res.length[0]).sum()
        valid += res.length[0].sum()
    assert compared >= 0.75 * valid  # the conditioning cut-off leaves most points compared


@pytest.mark.parametrize("schedule", list(SCHEDULES))
@pytest.mark.parametrize("config", ["sgd-nesterov-wd", "adam", "lbfgs"])
def test_matches_torch_with_schedule(schedule, config):
    params = {
        "step": {"step_size": 40, "gamma": 0.5},
        "exponential": {"gamma": 0.99},
        "cosine": {"eta_min": 1e-4},
        "warmup_cosine": {"warmup_steps": 20, "eta_min": 1e-4},
        "onecycle": {"pct_start": 0.25, "div_factor": 10.0, "final_div_factor": 100.0},
    }
    sched = {"name": schedule, **params.get(schedule, {})}
    steps = 20 if config == "lbfgs" else 100
    res, _ = check_against_torch("rosenbrock", CONFIGS[config], steps, sched)
    assert_agree(
        res.lr[0, :steps],
        lr_schedule(schedule, CONFIGS[config].get("lr", 1.0), steps, **params.get(schedule, {})),
    )


@pytest.mark.parametrize("schedule", list(SCHEDULES))
def test_lr_schedule_matches_torch_scheduler(schedule):
    steps, lr = 97, 0.3
    params = {
        "step": {"step_size": 10, "gamma": 0.7},
        "exponential": {"gamma": 0.95},
        "cosine": {"T_max": 40, "eta_min": 0.01},
        "warmup_cosine": {"warmup_steps": 13, "eta_min": 0.02},
        "onecycle": {"pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 1e4},
    }
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr)
    sched = torch_scheduler(opt, {"name": schedule, **params.get(schedule, {})}, steps)
    want = []
    for _ in range(steps):
        want.append(opt.param_groups[0]["lr"])
        opt.step()
        if sched is not None:
            sched.step()
    got = lr_schedule(schedule, lr, steps, **params.get(schedule, {}))
    assert got.shape == (steps,)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_default_schedule_params_and_cosine_default_t_max():
    got = lr_schedule("cosine", 1.0, 10)
    assert got[0] == 1.0 and got[5] == pytest.approx(0.5)
    assert np.all(np.diff(got) < 0)
    w = lr_schedule("warmup_cosine", 1.0, 100, warmup_steps=10)
    assert w[0] == 0.0 and w[10] == 1.0 and w[5] == pytest.approx(0.5)


@pytest.mark.parametrize("backend", ["numpy", "python"])
def test_engines_agree_with_the_compiled_kernel(backend):
    configs = list(CONFIGS.values())
    if backend == "python":
        configs = [c for c in configs if c["name"] in ("adam", "lbfgs")]
    for fname in ("rosenbrock", "himmelblau", "saddle"):
        obj = get_function(fname)
        steps = 60
        want = optimize(obj, configs, STARTS[fname], steps, {"name": "cosine"})
        got = optimize(obj, configs, STARTS[fname], steps, {"name": "cosine"}, backend=backend)
        np.testing.assert_array_equal(got.length, want.length)
        np.testing.assert_array_equal(got.diverged_at, want.diverged_at)
        for a, b in ((got.xy, want.xy), (got.loss, want.loss), (got.grad_norm, want.grad_norm)):
            ok = np.isfinite(b)
            assert (np.isnan(a) == np.isnan(b)).all()
            assert_agree(a[ok], b[ok])


def _hand_objective(k=3.0):
    """A user objective (as compute.expressions would build): f = x² + k·sin(y)² + xy / 4."""
    return Objective(
        name="x^2 + k sin(y)^2 + xy/4",
        latex=r"x^2 + k\sin^2 y + xy/4",
        f=lambda x, y: x**2 + k * np.sin(y) ** 2 + x * y / 4,
        grad=lambda x, y: (2 * x + y / 4, 2 * k * np.sin(y) * np.cos(y) + x / 4),
        hess=lambda x, y: (2 + 0 * x, 0.25 + 0 * x, 2 * k * np.cos(2 * y)),
    )


@pytest.mark.parametrize("backend", ["numba", "numpy"])
def test_user_objective_matches_torch(backend):
    """Numpy callables (as typed expressions give): f called back by the kernel, or numpy."""
    obj = _hand_objective()
    starts = [[1.5, 1.0], [-2.0, -0.5], [0.3, 2.5]]
    names = [
        "sgd-nesterov-wd",
        "rmsprop-centered-momentum-wd",
        "adam-amsgrad-wd",
        "adamw",
        "adagrad",
        "lbfgs",
        "lbfgs-wolfe-short-history",
    ]
    configs = [CONFIGS[c] for c in names]
    schedule = {"name": "step", "step_size": 30, "gamma": 0.5}
    res = optimize(obj, configs, starts, 80, schedule, backend=backend)
    TORCH_F["hand"] = lambda x, y: x**2 + 3.0 * torch.sin(y) ** 2 + x * y / 4
    try:
        for i, cfg in enumerate(configs):
            assert_agree(res.xy[i], torch_run("hand", cfg, starts, 80, schedule))
    finally:
        del TORCH_F["hand"]
    assert (res.diverged_at == -1).all()


def test_user_objective_equals_builtin_by_formula():
    # rosenbrock typed by hand runs the numpy engine; it must agree with the compiled kernel
    hand = Objective(
        name="rosenbrock by hand",
        latex="",
        f=lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2,
        grad=lambda x, y: (-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)),
        hess=lambda x, y: (0 * x, 0 * x, 0 * x),
    )
    configs = [CONFIGS[c] for c in ("sgd-nesterov-wd", "adam", "rmsprop", "lbfgs")]
    a = optimize(hand, configs, STARTS["rosenbrock"], 200)
    b = optimize(get_function("rosenbrock"), configs, STARTS["rosenbrock"], 200)
    np.testing.assert_array_equal(a.length, b.length)
    assert_agree(a.xy[np.isfinite(b.xy)], b.xy[np.isfinite(b.xy)])


def test_divergence_is_flagged_at_the_first_bad_step():
    res, _ = check_against_torch("rosenbrock", {"name": "sgd", "lr": 1.0}, 50)
    d = res.diverged_at[0]
    assert (d > 0).all() and (res.length[0] == d).all()
    for s, n in enumerate(d):
        assert np.isfinite(res.xy[0, s, :n]).all()
        assert np.isnan(res.xy[0, s, n:]).all() and np.isnan(res.grad_norm[0, s, n:]).all()
        assert (np.abs(res.loss[0, s, :n]) <= optim.DIVERGE).all()


def test_divergence_on_user_objective_and_invalid_start():
    obj = Objective(
        name="log",
        latex=r"-\log x",
        f=lambda x, y: -np.log(x) + y**2,
        grad=lambda x, y: (-1 / x, 2 * y),
        hess=lambda x, y: (1 / x**2, 0 * x, 2 + 0 * x),
    )
    res = optimize(obj, [{"name": "sgd", "lr": 0.5}, {"name": "lbfgs"}], [[0.1, 1.0], [-1, 0]], 20)
    assert (res.diverged_at[:, 1] == 0).all() and (res.length[:, 1] == 0).all()
    assert np.isnan(res.xy[:, 1]).all()
    # sgd from x = 0.1 jumps to x = 5.1 then keeps going; never invalid: log is finite for x > 0
    assert res.length[0, 0] == 21


def test_result_shapes_and_lr():
    res = optimize(
        get_function("booth"),
        [{"name": "adam", "lr": 0.1}, {"name": "sgd"}],
        np.zeros((5, 2)),
        7,
        {"name": "exponential", "gamma": 0.5},
    )
    assert res.xy.shape == (2, 5, 8, 2)
    assert res.loss.shape == res.grad_norm.shape == (2, 5, 8)
    assert res.lr.shape == (2, 8) and res.length.shape == res.diverged_at.shape == (2, 5)
    assert res.xy.dtype == np.float64 and res.length.dtype == np.int64
    np.testing.assert_allclose(res.lr[0], 0.1 * 0.5 ** np.arange(8))
    np.testing.assert_allclose(res.lr[1], 1e-3 * 0.5 ** np.arange(8))
    assert res.configs[0] == {
        "name": "adam",
        "lr": 0.1,
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0.0,
        "amsgrad": False,
    }
    assert res.configs[1]["momentum"] == 0.0


def test_deterministic_bit_for_bit():
    args = (get_function("rastrigin"), list(CONFIGS.values()), STARTS["rastrigin"], 50)
    a, b = optimize(*args), optimize(*args)
    for f in ("xy", "loss", "grad_norm", "lr", "length", "diverged_at"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))


def test_lbfgs_at_the_minimum_stays_put():
    res = optimize(get_function("booth"), [{"name": "lbfgs"}], [[1.0, 3.0]], 5)
    assert (res.xy[0, 0] == [1.0, 3.0]).all() and (res.loss[0, 0] == 0).all()


@pytest.mark.parametrize(
    ("optimizers", "kwargs", "message"),
    [
        ([{"name": "adam", "lr": 0}], {}, "lr must be in (0, 10]; got 0"),
        ([{"name": "adam", "betas": [0.9, 1.0]}], {}, "betas[1] must be in [0, 1); got 1"),
        ([{"name": "adam", "betas": [0.9]}], {}, "betas must have 2 entries"),
        ([{"name": "sgd", "momentum": 1}], {}, "momentum must be in [0, 1); got 1"),
        ([{"name": "sgd", "nesterov": True}], {}, "nesterov requires momentum > 0"),
        ([{"name": "sgd", "nesterov": 1}], {}, "nesterov must be true or false"),
        ([{"name": "adam", "momentum": 0.9}], {}, "unknown parameter 'momentum'"),
        ([{"name": "lbfgs", "line_search_fn": "armijo"}], {}, "line_search_fn must be one of"),
        ([{"name": "lbfgs", "max_iter": 2.5}], {}, "max_iter must be an integer"),
        ([{"name": "adamax"}], {}, "optimizers[0].name must be one of"),
        ([], {}, "optimizers must not be empty"),
        ([{"name": "sgd"}], {"steps": 0}, "steps must be in [1, 1000000]; got 0"),
        ([{"name": "sgd"}], {"starts": [1.0, 2.0]}, "starts must have shape (S, 2)"),
        ([{"name": "sgd"}], {"starts": [[np.nan, 2.0]]}, "starts must be finite"),
        ([{"name": "sgd"}], {"schedule": {"name": "poly"}}, "schedule.name must be one of"),
        (
            [{"name": "sgd"}],
            {"schedule": {"name": "step", "gamma": 2}},
            "gamma must be in (0, 1]; got 2",
        ),
        (
            [{"name": "sgd"}],
            {"schedule": {"name": "cosine", "T_max": 0}},
            "T_max must be in [1, 1000000]; got 0",
        ),
    ],
)
def test_validation_names_key_and_bound(optimizers, kwargs, message):
    args = {"starts": [[0.0, 0.0]], "steps": 10, "schedule": None, **kwargs}
    with pytest.raises(ValueError) as e:
        optimize(get_function("booth"), optimizers, args["starts"], args["steps"], args["schedule"])
    assert message in str(e.value)


def test_registry_matches_torch_defaults():
    import inspect

    for name, spec in OPTIMIZERS.items():
        sig = inspect.signature(TORCH_OPT[name].__init__).parameters
        for pname, p in spec.params.items():
            default = sig[pname].default
            assert p.default == (tuple(default) if isinstance(default, tuple) else default), pname
            assert p.description
            if p.kind in ("float", "int") and p.default is not None:
                p.check(pname, p.default)
        assert spec.update_latex and spec.description and "\n" not in spec.description
    for spec in SCHEDULES.values():
        assert spec.latex and spec.description


def test_latex_renders_to_mathml():
    from latex2mathml.converter import convert

    for spec in OPTIMIZERS.values():
        assert "merror" not in convert(spec.update_latex), spec.name
    for spec in SCHEDULES.values():
        assert "merror" not in convert(spec.latex), spec.name


def test_numpy_engine_is_silent_on_overflow():
    # numpy warnings would be errors under pytest; divergence must stay data
    obj = Objective(
        "exp",
        "",
        lambda x, y: np.exp(x) + y,
        lambda x, y: (np.exp(x), 1 + 0 * y),
        lambda x, y: (np.exp(x), 0 * x, 0 * x),
    )
    res = optimize(obj, [{"name": "sgd", "lr": 10.0}], [[700.0, 0.0]], 5)
    assert res.diverged_at[0, 0] >= 0


def test_jit_falls_back_without_a_cache_location(monkeypatch):
    calls = []
    real = optim.numba.njit

    def njit(**kw):
        calls.append(kw.get("cache"))
        if kw.get("cache"):
            raise RuntimeError("cannot cache function: no locator available")
        return real(**kw)

    monkeypatch.setattr(optim.numba, "njit", njit)
    fn = optim._jit(lambda a: a + 1)
    assert fn(1) == 2 and calls == [True, False]


def test_warmup_runs():
    optim.warmup()


# ----------------------------------------------------------------------------------------------
# fair race: tune_lr against one torch.optim run per learning rate
# ----------------------------------------------------------------------------------------------

TUNE_OPTS = [
    {"name": "sgd", "momentum": 0.9},
    {"name": "adam", "betas": [0.8, 0.99]},
    {"name": "rmsprop"},
    {"name": "adagrad"},
    # torch's LBFGS in Python is slow, and near a minimum a fixed step amplifies rounding (tiny
    # yᵀs): a short, line-searched one agrees to ~1e-10 here
    {"name": "lbfgs", "line_search_fn": "strong_wolfe", "history_size": 5, "max_iter": 2},
]


def torch_scores(fname, config, lrs, starts, steps, criterion):
    """Score of each lr, each run with torch.optim on its own (+inf if any start diverged)."""
    out = []
    for lr in lrs:
        pts = torch_run(fname, {**config, "lr": float(lr)}, starts, steps)  # (S, steps+1, 2)
        n_valid = valid_prefix(fname, pts)
        with np.errstate(all="ignore"):
            f = TORCH_F[fname](*torch.tensor(pts).unbind(-1)).numpy()  # (S, steps+1)
        per = f[:, -1] if criterion == "final" else f.mean(-1)
        out.append(np.where(n_valid <= steps, np.inf, per).mean())
    return np.array(out)


@pytest.mark.parametrize("criterion", optim.TUNE_CRITERIA)
def test_tuned_lr_is_the_argmin_of_one_torch_run_per_lr(criterion):
    fname, starts, steps = "rosenbrock", [[-1.5, 2.0], [0.5, -0.5]], 40
    res = optim.tune_lr(get_function(fname), TUNE_OPTS, starts, steps, lr_min=1e-4, lr_max=1.0,
                        n_lrs=9, criterion=criterion)  # fmt: skip
    np.testing.assert_allclose(res.lrs, np.logspace(-4, 0, 9), rtol=1e-13)
    assert res.score.shape == (len(TUNE_OPTS), 9) and res.criterion == criterion
    for o, cfg in enumerate(TUNE_OPTS):
        want = torch_scores(fname, cfg, res.lrs, starts, steps, criterion)
        assert np.array_equal(np.isinf(want), np.isinf(res.score[o])), (cfg, want, res.score[o])
        fin = np.isfinite(want)
        assert_agree(res.score[o, fin], want[fin])
        best = int(np.argmin(want))
        assert res.best[o] == best, (cfg, want)
        # a clear winner, so rounding cannot decide the test
        runner_up = np.sort(want)[1]
        assert runner_up - want[best] > 1e-6 * max(1.0, abs(want[best]))
        # the race is the grid's row at the tuned lr: the same run as optimize() at that lr
        solo = optimize(get_function(fname), [{**cfg, "lr": float(res.lrs[best])}], starts, steps)
        np.testing.assert_array_equal(res.race.xy[o], solo.xy[0])
        assert res.race.configs[o]["lr"] == res.lrs[best]
    assert (res.diverged > 0).any()  # the grid reaches lrs where SGD blows up


def test_tune_lr_ties_go_to_the_smaller_lr_and_bad_input_raises():
    # from the minimum every lr stays there: all scores 0, the smallest lr wins
    res = optim.tune_lr(get_function("booth"), [{"name": "adam"}], [[1.0, 3.0]], 5, n_lrs=4)
    assert res.best[0] == 0 and np.all(res.score == 0)
    obj = get_function("booth")
    for kwargs, msg in [
        ({"n_lrs": 26}, "n_lrs must be in [2, 25]"),
        ({"n_lrs": 2.5}, "n_lrs must be an integer"),
        ({"lr_min": 1.0, "lr_max": 0.1}, "lr_min must be below lr_max"),
        ({"lr_max": 0.0}, "lr_max"),
        ({"criterion": "best"}, "criterion must be one of final, area"),
    ]:
        with pytest.raises(ValueError, match=re.escape(msg)):
            optim.tune_lr(obj, [{"name": "sgd"}], [[0.0, 0.0]], 5, **kwargs)


# ----------------------------------------------------------------------------------------------
# L-BFGS line-search trace against torch.optim.LBFGS(line_search_fn="strong_wolfe")
# ----------------------------------------------------------------------------------------------


def torch_lbfgs_evaluations(fname, config, start, steps):
    """Every point torch's LBFGS evaluates (closure calls), in order, with f and ∇f there."""
    cfg = {k: v for k, v in config.items() if k != "name"}
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([p], **cfg)
    pts, fs, gs = [], [], []

    def closure():
        opt.zero_grad()
        loss = TORCH_F[fname](p[0], p[1])
        loss.backward()
        pts.append(p.detach().clone().numpy())
        fs.append(loss.item())
        gs.append(p.grad.detach().clone().numpy())
        return loss

    for _ in range(steps):
        opt.step(closure)
    closure()  # where the last step ended
    return np.array(pts), np.array(fs), np.array(gs)


@pytest.mark.parametrize(
    ("fname", "start"),
    [("rosenbrock", [-1.5, 2.0]), ("rosenbrock", [0.5, -0.5]), ("beale", [1.0, 1.3])],
)
def test_line_search_trials_are_torchs_closure_calls(fname, start):
    cfg = {"name": "lbfgs", "line_search_fn": "strong_wolfe"}
    steps = 2
    tr = optim.lbfgs_line_search(get_function(fname), cfg, start, steps)
    want_p, want_f, want_g = torch_lbfgs_evaluations(fname, cfg, start, steps)
    # ours in torch's order: each step's start point, then every trial x + t·d of its iterations
    pts, fs, gtds, dirs = [], [], [], []
    for s in range(steps + 1):
        pts.append(tr.run.xy[0, 0, s])
        fs.append(tr.run.loss[0, 0, s])
        gtds.append(None)
        dirs.append(None)
        for k in np.nonzero(tr.step == s)[0]:
            for t, f, gtd in tr.trials[tr.offsets[k] : tr.offsets[k + 1]]:
                pts.append(tr.x[k] + t * tr.d[k])
                fs.append(f)
                gtds.append(gtd)
                dirs.append(tr.d[k])
    assert len(pts) == len(want_p) and len(tr.t) >= 10
    assert_agree(np.array(pts), want_p)
    assert_agree(np.array(fs), want_f)
    for gtd, d, g in zip(gtds, dirs, want_g, strict=True):
        if d is not None:  # φ'(t) = ∇f(x + t·d)·d, the gradient from torch's autograd
            assert_agree(gtd, g @ d)
    # each iteration starts where the previous one's accepted step landed
    ends = tr.x + tr.t[:, None] * tr.d
    assert_agree(tr.x[1:], ends[:-1])
    # the iterates per optimizer step, as torch.optim.LBFGS gives them
    assert_agree(tr.run.xy[0, 0], torch_run(fname, cfg, [start], steps)[0])


@pytest.mark.parametrize("fname", ["rosenbrock", "beale", "himmelblau", "rastrigin"])
def test_accepted_steps_satisfy_the_strong_wolfe_conditions(fname):
    c1, c2 = 1e-4, 0.9  # torch's
    tr = optim.lbfgs_line_search(
        get_function(fname), {"name": "lbfgs", "line_search_fn": "strong_wolfe"}, [-1.5, 2.0], 20,
        max_iters=500,
    )  # fmt: skip
    assert (optim.WOLFE_C1, optim.WOLFE_C2) == (c1, c2) and not tr.truncated
    assert np.all(tr.gtd < 0)  # every direction is a descent direction
    armijo = tr.f_t <= tr.f + c1 * tr.t * tr.gtd
    curvature = np.abs(tr.gtd_t) <= c2 * np.abs(tr.gtd)
    np.testing.assert_array_equal(tr.armijo, armijo)
    np.testing.assert_array_equal(tr.curvature, curvature)
    for k in range(len(tr.t)):
        trials = tr.trials[tr.offsets[k] : tr.offsets[k + 1]]
        hit = np.nonzero(trials[:, 0] == tr.t[k])[0]
        if tr.t[k] == 0:  # the bracket shrank below tolerance_change: torch keeps x (t = 0)
            assert tr.f_t[k] == tr.f[k] and not tr.curvature[k]
            continue
        assert hit.size, (k, tr.t[k], trials)  # the accepted t is a trial, with its φ and φ'
        assert tuple(trials[hit[-1], 1:]) == (tr.f_t[k], tr.gtd_t[k])
        assert tr.armijo[k] and tr.curvature[k], (k, trials)
        assert (
            tr.trial_armijo[tr.offsets[k] + hit[-1]] and tr.trial_curvature[tr.offsets[k] + hit[-1]]
        )
    assert (tr.armijo & tr.curvature).mean() > 0.95


def test_line_search_trace_is_the_untraced_run_and_samples_phi():
    obj = get_function("rosenbrock")
    for ls in ("strong_wolfe", None):
        cfg = {"name": "lbfgs", "line_search_fn": ls, "lr": 0.5 if ls is None else 1.0}
        tr = optim.lbfgs_line_search(obj, cfg, [-1.5, 2.0], 8, n_phi=21)
        ref = optimize(obj, [cfg], [[-1.5, 2.0]], 8)
        np.testing.assert_array_equal(tr.run.xy, ref.xy)
        np.testing.assert_array_equal(tr.run.loss, ref.loss)
        assert tr.phi.shape == tr.phi_t.shape == (len(tr.t), 21)
        np.testing.assert_array_equal(tr.phi_t[:, 0], 0.0)
        np.testing.assert_allclose(tr.phi[:, 0], tr.f, rtol=1e-14)
        k = len(tr.t) // 2
        want = obj.f(*(tr.x[k][:, None] + tr.phi_t[k] * tr.d[k][:, None]))
        np.testing.assert_allclose(tr.phi[k], want, rtol=1e-14)
        hi = tr.phi_t[:, -1]
        reach = np.array([max(tr.trials[tr.offsets[k] : tr.offsets[k + 1], 0], default=0.0)
                          for k in range(len(tr.t))])  # fmt: skip
        np.testing.assert_allclose(hi, 1.25 * np.maximum(reach, tr.t), rtol=1e-14)
        if ls is None:  # a fixed step: t = lr, one evaluation (none at the step's last iteration)
            assert np.all(tr.t[1:] == 0.5)  # the very first step is scaled by min(1, 1/|g|₁)
            assert tr.t[0] == min(1.0, 1.0 / np.abs(tr.d[0]).sum()) * 0.5  # d₀ = -g₀
            assert np.all(np.diff(tr.offsets) <= 1)
    short = optim.lbfgs_line_search(
        obj, {"name": "lbfgs", "line_search_fn": "strong_wolfe"}, [-1.5, 2.0], 8, max_iters=3
    )
    assert short.truncated and len(short.t) == 3 and short.offsets[-1] == len(short.trials)
    with pytest.raises(ValueError, match="optimizer.name must be 'lbfgs'"):
        optim.lbfgs_line_search(obj, {"name": "adam"}, [0, 0], 3)
    with pytest.raises(ValueError, match=re.escape("max_iters must be in [1, 10000]")):
        optim.lbfgs_line_search(obj, {"name": "lbfgs"}, [0, 0], 3, max_iters=0)


def test_line_search_trace_on_a_user_objective():
    obj = Objective(name="bowl", latex="", f=lambda x, y: x**2 + 3 * y**2,
                    grad=lambda x, y: (2 * x, 6 * y), hess=None)  # fmt: skip
    cfg = {"name": "lbfgs", "line_search_fn": "strong_wolfe"}
    tr = optim.lbfgs_line_search(obj, cfg, [1.0, 1.0], 3, n_phi=11)
    np.testing.assert_array_equal(tr.run.xy, optimize(obj, [cfg], [[1.0, 1.0]], 3).xy)
    assert len(tr.t) >= 2 and np.all(tr.armijo & tr.curvature)
