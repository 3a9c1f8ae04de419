"""The learning-rate-schedules API through the ASGI app: curves equal torch's schedulers, runs are
reproducible, a too-high lr diverges as data (200, nulls allowed), and 422s name the field."""

import json
from typing import get_args

import numpy as np
import pytest
import torch

from compute import lr_lab
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
