"""The learning-rate-schedules API through the ASGI app: curves equal torch's schedulers, runs are
reproducible, a too-high lr diverges as data (200, nulls allowed), and 422s name the field. Also
the one definition of the schedules (server/schemas/schedules.py) that this lab, the
gradient-descent lab and training jobs share: same bounds, each the tightest compute accepts."""

import json
import math
from typing import Annotated, get_args, get_origin

import annotated_types as at
import numpy as np
import pytest
import torch

from compute import lr_lab, optim
from compute.nn import config as nn_config
from server.schemas import jobs, optimize, schedules
from server.schemas import optimization_schedules as sch

URL = "/api/v1/optimization/lr-schedules"
SMALL = {"n_samples": 100, "epochs": 10, "batch_size": 16, "hidden": [6]}


def test_choices_follow_the_compute_registries():
    assert get_args(sch.ScheduleName) == lr_lab.SCHEDULES
    assert set(sch.SCHEDULE_MODELS) == set(lr_lab.SCHEDULES)
    assert get_args(sch.DatasetName) == lr_lab.DATASETS
    assert get_args(sch.OptimizerName) == lr_lab.OPTIMIZERS
    assert get_args(sch.Activation) == lr_lab.ACTIVATIONS
    for name, model in sch.SCHEDULE_MODELS.items():
        assert set(model.model_fields) - {"name"} == set(lr_lab.SCHEDULE_PARAMS[name])
        defaults = {k: f.default for k, f in model.model_fields.items() if k != "name"}
        assert defaults == lr_lab.DEFAULTS.get(name, {})


# -- one definition of the schedules for the three labs that take one -----------------------------

# lab -> its schedule models, and the compute paths its schedules go to
LABS = {
    "gradient-descent": (optimize.SCHEDULE_MODELS, ("optim",)),
    "lr-schedules": (sch.SCHEDULE_MODELS, ("optim", "nn")),
    "jobs": (jobs.SCHEDULE_MODELS, ("nn",)),
}


def _constraint(info) -> tuple:
    """A field's type and bounds, without its default or description."""
    return info.annotation, tuple(info.metadata)


def _interval(info) -> tuple[float, bool, float, bool]:
    """(low, low open, high, high open) of a number field (the number inside an Optional)."""
    metadata = list(info.metadata)
    for arg in get_args(info.annotation):  # Annotated[int, Field(...)] | None
        for m in getattr(arg, "__metadata__", ()):
            metadata.extend(getattr(m, "metadata", [m]))
    lo, lo_open, hi, hi_open = -math.inf, False, math.inf, False
    for m in metadata:
        if isinstance(m, at.Ge | at.Gt):
            lo, lo_open = (m.ge, False) if isinstance(m, at.Ge) else (m.gt, True)
        elif isinstance(m, at.Le | at.Lt):
            hi, hi_open = (m.le, False) if isinstance(m, at.Le) else (m.lt, True)
    return lo, lo_open, hi, hi_open


def _is_int(ann) -> bool:
    """int, Annotated[int, ...] or an Optional of one."""
    if get_origin(ann) is Annotated:
        return _is_int(get_args(ann)[0])
    return ann is int or any(_is_int(a) for a in get_args(ann))


def _compute_intervals(name: str, field: str, paths: tuple[str, ...]) -> list[tuple[float, bool, float, bool]]:
    out = []
    if "optim" in paths:
        p = optim.SCHEDULES[name].params[field]
        out.append((p.lo, p.lo_open, p.hi, p.hi_open))
    if "nn" in paths and field in nn_config.SCHEDULES[name]:
        p = nn_config.SCHEDULES[name][field]
        out.append((p.low, False, p.high, False))
    return out


def _tightest(intervals):
    lo, lo_open = max((i[0], i[1]) for i in intervals)
    hi, hi_open = min((i[2], not i[3]) for i in intervals)
    return lo, lo_open, hi, not hi_open


def _accepted_by(paths: tuple[str, ...], name: str, params: dict) -> None:
    """Raises ValueError if one of the compute paths refuses these schedule parameters."""
    if "optim" in paths:
        optim.lr_schedule(name, 0.1, 10, **params)
    if "nn" in paths:
        nn_config.validate_schedule({"name": name, **params})


def test_every_lab_only_sets_defaults_on_the_one_definition():
    for lab, (models, _) in LABS.items():
        assert list(models) == list(schedules.BASES), lab
        for name, model in models.items():
            base = schedules.CosineTMax if (lab, name) == ("gradient-descent", "cosine") else schedules.BASES[name]
            assert issubclass(model, base) and model.__bases__ == (base,), (lab, name)
            assert list(model.model_fields) == list(base.model_fields), (lab, name)
            for field, info in model.model_fields.items():
                b = base.model_fields[field]
                assert _constraint(info) == _constraint(b), (lab, name, field)
                assert info.description == b.description, (lab, name, field)
    # T_max only where compute takes it: compute.optim's cosine, the gradient-descent lab
    assert "T_max" in optim.SCHEDULES["cosine"].params and "T_max" not in nn_config.SCHEDULES["cosine"]
    assert "T_max" not in lr_lab.SCHEDULE_PARAMS["cosine"]


def test_the_three_labs_share_each_fields_bounds():
    # one type and bound per field name, whatever the lab and the schedule (step's and
    # exponential's gamma, cosine's and warmup_cosine's eta_min): they cannot drift apart again
    seen: dict[str, dict[tuple[str, str], tuple]] = {}
    for lab, (models, _) in LABS.items():
        for name, model in models.items():
            for field, info in model.model_fields.items():
                if field != "name":
                    seen.setdefault(field, {})[(lab, name)] = _constraint(info)
    assert set(seen) == {"step_size", "gamma", "T_max", "eta_min", "warmup_steps", "pct_start",
                         "div_factor", "final_div_factor"}
    for field, by_model in seen.items():
        assert len(set(by_model.values())) == 1, (field, by_model)
    # each lab's fields and defaults are its compute's
    for name, model in optimize.SCHEDULE_MODELS.items():
        spec = optim.SCHEDULES[name].params
        assert {k: f.default for k, f in model.model_fields.items() if k != "name"} == {k: p.default for k, p in spec.items()}
    for name, model in jobs.SCHEDULE_MODELS.items():
        spec = nn_config.SCHEDULES[name]
        assert {k: f.default for k, f in model.model_fields.items() if k != "name"} == {k: p.default for k, p in spec.items()}


def test_bounds_are_the_tightest_that_every_compute_path_accepts():
    assert schedules.MAX_STEPS == min(optim.MAX_STEPS, nn_config.MAX_STEPS)
    # per field, the compute paths of every lab that takes it
    paths: dict[tuple[str, str], set[str]] = {}
    for models, lab_paths in LABS.values():
        for name, model in models.items():
            for field in model.model_fields:
                if field != "name":
                    paths.setdefault((name, field), set()).update(lab_paths)
    for (name, field), ps in paths.items():
        want = _tightest(_compute_intervals(name, field, tuple(ps)))
        for lab, (models, lab_paths) in LABS.items():
            if field not in models[name].model_fields:
                continue
            info = models[name].model_fields[field]
            got = _interval(info)
            assert got == want, (lab, name, field, got, want)
            # the extreme values the schema admits: every compute path of this lab takes them
            lo, lo_open, hi, hi_open = got
            integer = _is_int(info.annotation)
            step = 1 if integer else 1e-9
            for v in (lo + step if lo_open else lo, hi - step if hi_open else hi):
                _accepted_by(lab_paths, name, {field: int(v) if integer else v})
            if info.default is not None:  # the lab's default is inside the bound
                models[name].model_validate({"name": name, field: info.default})


def test_default_request_runs_all_six(client):
    r = client.post(URL, json={})
    assert r.status_code == 200, r.text
    d = r.json()
    assert [x["name"] for x in d["runs"]] == list(lr_lab.SCHEDULES)
    assert d["n_train"] == 140 and d["n_test"] == 60 and d["steps_per_epoch"] == 9
    assert d["total_steps"] == 540 and d["epoch_steps"] == list(range(0, 541, 9))
    assert d["work"] <= d["max_work"]
    for x in d["runs"]:
        assert len(x["lr"]) == 540 and len(x["train_loss"]) == len(x["test_acc"]) == 61
        assert x["final_test_acc"] == x["test_acc"][-1] and x["final_train_loss"] == x["train_loss"][-1]
    assert len({x["train_loss"][0] for x in d["runs"]}) == 1  # one init, one dataset


def test_curves_equal_torch_schedulers_through_the_api(client):
    body = {"schedules": [{"name": "onecycle", "pct_start": 0.4, "div_factor": 5.0, "final_div_factor": 50.0},
                          {"name": "step", "step_size": 12, "gamma": 0.5},
                          {"name": "cosine", "eta_min": 0.05}], "lr": 0.6, **SMALL}
    d = client.post(URL, json=body).json()
    T = d["total_steps"]
    assert T == 10 * 5
    opts = [torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.6) for _ in range(3)]
    S = torch.optim.lr_scheduler
    scheds = [S.OneCycleLR(opts[0], max_lr=0.6, total_steps=T, pct_start=0.4, div_factor=5.0,
                           final_div_factor=50.0, cycle_momentum=False),
              S.StepLR(opts[1], step_size=12, gamma=0.5),
              S.CosineAnnealingLR(opts[2], T_max=T, eta_min=0.05)]
    want = [[], [], []]
    for _ in range(T):
        for w, o, s in zip(want, opts, scheds, strict=True):
            w.append(o.param_groups[0]["lr"])
            o.step()
            s.step()
    for run, w in zip(d["runs"], want, strict=True):
        np.testing.assert_allclose(run["lr"], w, rtol=1e-12, err_msg=run["name"])


def test_same_request_same_numbers(client):
    body = {"schedules": [{"name": "warmup_cosine", "warmup_steps": 10}], "seed": 7, "dataset": "circles", **SMALL}
    a, b = client.post(URL, json=body).json(), client.post(URL, json=body).json()
    assert a == b
    c = client.post(URL, json={**body, "seed": 8}).json()
    assert c["runs"][0]["train_loss"] != a["runs"][0]["train_loss"]


def test_too_high_lr_diverges_without_a_500(client):
    body = {"schedules": [{"name": "constant"}, {"name": "exponential", "gamma": 0.9}], "lr": 10.0,
            "activation": "relu", "n_samples": 200, "epochs": 30}
    r = client.post(URL, json=body)
    assert r.status_code == 200, r.text
    const, expo = r.json()["runs"]
    assert const["status"] == "diverged" and const["diverged"] is True and const["blowup_epoch"] == 1
    assert all(v is None or np.isfinite(v) for v in const["train_loss"])
    # gamma = 0.9 per step shrinks lr to ~0 within a few epochs: that run does not end worse than it began
    assert expo["diverged"] is False


@pytest.mark.parametrize(("body", "field", "text"), [
    ({"lr": 0}, "lr", "greater than or equal to 0.0001"),
    ({"lr": 11}, "lr", "less than or equal to 10"),
    ({"schedules": []}, "schedules", "at least 1 item"),
    ({"schedules": [{"name": "constant"}] * 7}, "schedules", "at most 6 items"),
    ({"schedules": [{"name": "step", "gamma": 1.5}]}, "schedules.0.step.gamma", "less than or equal to 1"),
    ({"schedules": [{"name": "exponential", "gamma": 0}]}, "schedules.0.exponential.gamma", "greater than 0"),
    ({"schedules": [{"name": "onecycle", "pct_start": 1.0}]}, "schedules.0.onecycle.pct_start", "less than or equal to 0.99"),
    ({"schedules": [{"name": "step", "step_size": 1_000_001}]}, "schedules.0.step.step_size", "less than or equal to 1000000"),
    ({"schedules": [{"name": "warmup_cosine", "warmup_steps": -1}]}, "schedules.0.warmup_cosine.warmup_steps", "greater than or equal to 0"),
    ({"schedules": [{"name": "cosine", "eta_min": 10.5}]}, "schedules.0.cosine.eta_min", "less than or equal to 10"),
    ({"schedules": [{"name": "cosine", "T_max": 10}]}, "schedules.0.cosine.T_max", "Extra inputs"),
    ({"schedules": [{"name": "cyclic"}]}, "schedules.0", "does not match"),
    ({"hidden": [64]}, "hidden.0", "less than or equal to 32"),
    ({"hidden": [4, 4, 4]}, "hidden", "at most 2 items"),
    ({"batch_size": 4}, "batch_size", "greater than or equal to 8"),
    ({"dataset": "digits"}, "dataset", "Input should be"),
    ({"momentum": 1.0}, "momentum", "less than or equal to 0.99"),
    ({"noise": float("nan")}, "noise", ""),
    ({"epochs": 200, "n_samples": 400, "hidden": [32, 32]}, "epochs", "too much work"),
    ({"seed": -1}, "seed", "greater than or equal to 0"),
    ({"steps": 10}, "steps", "Extra inputs"),
])
def test_bad_input_is_a_422_naming_the_field(client, body, field, text):
    # json.dumps writes NaN as the bare token NaN, which the server must refuse, not crash on
    r = client.post(URL, content=json.dumps(body), headers={"Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    msg = r.json()["message"]
    assert msg.startswith(f"{field}:"), msg
    assert text in msg
