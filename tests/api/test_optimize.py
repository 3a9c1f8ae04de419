"""The gradient-descent API through the ASGI app: happy paths against independent references,
and 422s whose message names the field and the bound."""

import numpy as np
import pytest
import torch


def post(client, path, body):
    return client.post(path, json=body)


def torch_adam_rosenbrock(start, lr, steps):
    p = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p], lr=lr)
    xs = [p.detach().clone().numpy()]
    for _ in range(steps):
        opt.zero_grad()
        x, y = p[0], p[1]
        loss = (1 - x) ** 2 + 100 * (y - x**2) ** 2
        loss.backward()
        opt.step()
        xs.append(p.detach().clone().numpy())
    return np.array(xs)


def test_optimize_matches_torch_adam_through_the_api(client):
    body = {"function": {"name": "rosenbrock"}, "optimizers": [{"name": "adam", "lr": 0.02}],
            "starts": [[-1.5, 2.0], [0.5, -0.5]], "steps": 300}
    r = post(client, "/api/v1/optimize", body)
    assert r.status_code == 200, r.text
    trajs = r.json()["trajectories"]
    assert [(t["optimizer"], t["start"]) for t in trajs] == [(0, 0), (0, 1)]
    for t, start in zip(trajs, body["starts"], strict=True):
        assert len(t["x"]) == len(t["loss"]) == len(t["lr"]) == 301
        ref = torch_adam_rosenbrock(start, 0.02, 300)
        np.testing.assert_allclose(np.c_[t["x"], t["y"]], ref, rtol=0, atol=1e-8)
        assert t["diverged"] is False and t["diverged_at"] is None


def test_optimizer_major_order_and_defaults(client):
    body = {"function": {"name": "quadratic", "k": 10}, "optimizers": [{"name": "sgd", "lr": 0.05},
            {"name": "rmsprop"}], "starts": [[1, 1], [2, 0], [0, 2]], "steps": 10}
    trajs = post(client, "/api/v1/optimize", body).json()["trajectories"]
    assert [(t["optimizer"], t["start"]) for t in trajs] == [(i, s) for i in range(2) for s in range(3)]
    # sgd on 0.5(x² + 10y²): x_{t+1} = (1 - lr)·x_t, y_{t+1} = (1 - 10·lr)·y_t (closed form)
    t = trajs[1]
    np.testing.assert_allclose(t["x"], 2 * 0.95 ** np.arange(11), rtol=1e-12)
    np.testing.assert_allclose(t["y"], 0 * np.arange(11), atol=0)


def test_divergence_is_data(client):
    body = {"function": {"name": "rosenbrock"}, "optimizers": [{"name": "sgd", "lr": 1.0}],
            "starts": [[-1.5, 2.0]], "steps": 100}
    t = post(client, "/api/v1/optimize", body).json()["trajectories"][0]
    assert t["diverged"] is True and isinstance(t["diverged_at"], int)
    assert len(t["x"]) <= t["diverged_at"] + 1 < 101


def test_expression_function(client):
    body = {"function": {"expression": "x**2 + 10*y**2"}, "optimizers": [{"name": "sgd", "lr": 0.01}],
            "starts": [[1.0, 1.0]], "steps": 5}
    t = post(client, "/api/v1/optimize", body).json()["trajectories"][0]
    np.testing.assert_allclose(t["x"], 0.98 ** np.arange(6), rtol=1e-12)
    np.testing.assert_allclose(t["y"], 0.8 ** np.arange(6), rtol=1e-12)


def test_surface_orientation_and_nulls(client):
    r = post(client, "/api/v1/surface", {"function": {"name": "booth"}, "x_range": [-1, 3],
                                         "y_range": [0, 2], "resolution": 5})
    assert r.status_code == 200
    s = r.json()
    x, y, z = np.array(s["x"]), np.array(s["y"]), np.array(s["z"], float)
    np.testing.assert_allclose(x, np.linspace(-1, 3, 5))
    X, Y = np.meshgrid(x, y)
    np.testing.assert_allclose(z, (X + 2 * Y - 7) ** 2 + (2 * X + Y - 5) ** 2)
    r = post(client, "/api/v1/surface", {"function": {"expression": "log(x)"}, "x_range": [-1, 1],
                                         "y_range": [0, 1], "resolution": 3})
    assert r.status_code == 200 and r.json()["z"][0][0] is None


def test_expression_endpoint_typesets_the_gradient(client):
    r = post(client, "/api/v1/expression", {"expression": "sin(x)*cos(y)"})
    assert r.status_code == 200
    b = r.json()
    assert "cos" in b["gradient_latex"][0] and "<math" in b["gradient_mathml"][0]


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"steps": 10_001}, "steps", "10000"),
        ({"starts": []}, "starts", "at least 1"),
        ({"optimizers": [{"name": "adam", "lr": 0}]}, "lr", "greater than 0"),
        ({"optimizers": [{"name": "adam", "lr": 11}]}, "lr", "10"),
        ({"optimizers": [{"name": "adam", "betas": [0.9, 1.0]}]}, "betas", "less than 1"),
        ({"optimizers": [{"name": "nadam"}]}, "name", "sgd"),
        ({"optimizers": [{"name": "sgd", "bogus": 1}]}, "bogus", "not permitted"),
        ({"optimizers": [{"name": "sgd", "nesterov": True}]}, "optimizers", "momentum"),
        ({"optimizers": [{"name": "sgd"}] * 11}, "optimizers", "at most 10"),
        ({"starts": [[0, 0]] * 257}, "starts", "at most 256"),
        ({"starts": [[0, 0], [0, -1.5e6]]}, "starts.1.1", "greater than or equal to -1000000"),
        ({"starts": [[0, 0]] * 256, "optimizers": [{"name": "sgd"}] * 10, "steps": 1000}, "optimizers × starts", "2000000"),
        ({"function": {"name": "quadratic", "k": 0}}, "k", "greater than or equal to 1"),
        ({"function": {}}, "function", "exactly one"),
        ({"function": {"expression": "__import__('os').system('id')"}}, "expression", ""),
        ({"function": {"expression": "9**9**9**9"}}, "expression", ""),
        ({"schedule": {"name": "step", "gamma": 2}}, "gamma", "1"),
        ({"schedule": {"name": "step", "step_size": 1_000_001}}, "step_size", "less than or equal to 1000000"),
        ({"schedule": {"name": "cosine", "T_max": 0}}, "T_max", "greater than or equal to 1"),
        ({"schedule": {"name": "warmup_cosine", "warmup_steps": -1}}, "warmup_steps", "greater than or equal to 0"),
        # compute.optim would take it, compute.nn (the other labs) would not: one bound for all three
        ({"schedule": {"name": "onecycle", "pct_start": 0.005}}, "pct_start", "greater than or equal to 0.01"),
    ],
)
def test_bad_input_is_422_naming_the_field(client, body, field, words):
    base = {"function": {"name": "rosenbrock"}, "optimizers": [{"name": "sgd"}],
            "starts": [[0.0, 0.0]], "steps": 10}
    r = post(client, "/api/v1/optimize", base | body)
    assert r.status_code == 422, r.text
    msg = r.json()["message"]
    assert field in msg and words in msg, msg


def test_schedule_bounds_reach_what_compute_accepts(client):
    # A step count past the run's length is a schedule that has not finished: compute takes it.
    base = {"function": {"name": "booth"}, "optimizers": [{"name": "sgd", "lr": 0.01}],
            "starts": [[0.0, 0.0]], "steps": 20}
    for schedule in ({"name": "step", "step_size": 1_000_000}, {"name": "cosine", "T_max": 1_000_000},
                     {"name": "warmup_cosine", "warmup_steps": 1_000_000},
                     {"name": "onecycle", "pct_start": 0.99}):
        r = post(client, "/api/v1/optimize", base | {"schedule": schedule})
        assert r.status_code == 200, (schedule, r.text)


def test_non_finite_start_is_422(client):
    raw = b'{"function": {"name": "booth"}, "optimizers": [{"name": "sgd"}], "starts": [[NaN, 0]], "steps": 3}'
    r = client.post("/api/v1/optimize", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"resolution": 1001}, "resolution"),
        ({"x_range": [1, 1]}, "x_range"),
        ({"y_range": [2, -2]}, "y_range"),
    ],
)
def test_surface_bad_input(client, body, field):
    base = {"function": {"name": "booth"}, "x_range": [-1, 1], "y_range": [-1, 1], "resolution": 10}
    r = post(client, "/api/v1/surface", base | body)
    assert r.status_code == 422 and field in r.json()["message"]


# ---------------------------------------------------------------------------------------------
# fair race (/optimize/tune) and the L-BFGS line search (/optimize/line-search)
# ---------------------------------------------------------------------------------------------

TUNE = {"function": {"name": "rosenbrock"}, "optimizers": [{"name": "sgd", "momentum": 0.9}, {"name": "adam"}],
        "starts": [[-1.5, 2.0], [0.5, -0.5]], "steps": 60, "lr_min": 1e-4, "lr_max": 1.0, "n_lrs": 7}


@pytest.mark.parametrize("criterion", ["final", "area"])
def test_tune_picks_the_lr_that_one_run_per_lr_scores_best(client, criterion):
    r = post(client, "/api/v1/optimize/tune", TUNE | {"criterion": criterion})
    assert r.status_code == 200, r.text
    b = r.json()
    np.testing.assert_allclose(b["lrs"], np.logspace(-4, 0, 7), rtol=1e-13)
    assert b["criterion"] == criterion and len(b["curves"]) == 2
    for i, opt in enumerate(TUNE["optimizers"]):
        scores = []
        for lr in b["lrs"]:  # the reference: /optimize at one lr at a time
            one = {k: TUNE[k] for k in ("function", "starts", "steps")} | {"optimizers": [opt | {"lr": lr}]}
            trajs = post(client, "/api/v1/optimize", one).json()["trajectories"]
            if any(t["diverged"] for t in trajs):
                scores.append(np.inf)
            else:
                scores.append(np.mean([t["loss"][-1] if criterion == "final" else np.mean(t["loss"]) for t in trajs]))
        c = b["curves"][i]
        got = np.array([np.inf if v is None else v for v in c["score"]])
        np.testing.assert_allclose(got, scores, rtol=1e-12)
        assert c["best"] == int(np.argmin(scores)) and c["lr"] == b["lrs"][c["best"]]
        assert c["diverged"][c["best"]] == 0
        # the race: the tuned runs, optimizer-major, as /optimize gives them at the tuned lr
        race = [t for t in b["trajectories"] if t["optimizer"] == i]
        one = {k: TUNE[k] for k in ("function", "starts", "steps")} | {"optimizers": [opt | {"lr": c["lr"]}]}
        for t, ref in zip(race, post(client, "/api/v1/optimize", one).json()["trajectories"], strict=True):
            assert t["x"] == ref["x"] and t["loss"] == ref["loss"] and t["lr"][0] == c["lr"]
    assert None in b["curves"][0]["score"]  # SGD+momentum diverges at the grid's top


def test_lbfgs_work_is_bounded_on_optimize_too(client):
    one = {"function": {"name": "rosenbrock"}, "optimizers": [{"name": "lbfgs"}], "starts": [[-1.5, 2.0]], "steps": 10_000}
    assert post(client, "/api/v1/optimize", one).status_code == 200  # one default LBFGS run fits
    r = post(client, "/api/v1/optimize", one | {"optimizers": [{"name": "lbfgs", "max_iter": 100}] * 2})
    assert r.status_code == 422 and "max_iter" in r.json()["message"] and "16000000" in r.json()["message"]


def test_tune_criterion_choices_are_computes():
    from typing import get_args

    from compute import optim
    from server.schemas.optimize import TuneCriterion

    assert get_args(TuneCriterion) == optim.TUNE_CRITERIA


LS = {"function": {"name": "rosenbrock"}, "optimizer": {"name": "lbfgs", "line_search_fn": "strong_wolfe"},
      "start": [-1.5, 2.0], "steps": 5, "n_phi": 31}


def test_line_search_records_the_trials_and_phi(client):
    r = post(client, "/api/v1/optimize/line-search", LS)
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["c1"] == 1e-4 and b["c2"] == 0.9 and b["line_search"] is True and b["truncated"] is False
    ref = post(client, "/api/v1/optimize", {"function": LS["function"], "optimizers": [LS["optimizer"]],
                                             "starts": [LS["start"]], "steps": 5}).json()["trajectories"][0]
    assert b["trajectory"]["x"] == ref["x"] and b["trajectory"]["loss"] == ref["loss"]
    its = b["iterations"]
    assert len(its) > 10 and [it["step"] for it in its] == sorted(it["step"] for it in its)
    rosen = lambda x, y: (1 - x) ** 2 + 100 * (y - x**2) ** 2  # noqa: E731
    for it in its:
        x, d, tr = np.array(it["x"]), np.array(it["d"]), it["trials"]
        assert it["gtd"] < 0 and len(it["phi"]) == len(it["phi_t"]) == 31
        assert it["phi_t"][0] == 0 and it["phi"][0] == pytest.approx(it["f"], rel=1e-14)
        np.testing.assert_allclose(tr["f"], [rosen(*(x + t * d)) for t in tr["t"]], rtol=1e-12)
        assert it["t"] in tr["t"] and it["armijo"] and it["curvature"]
        k = len(tr["t"]) - 1 - tr["t"][::-1].index(it["t"])
        assert tr["armijo"][k] and tr["curvature"][k] and tr["f"][k] == it["f_t"]
        # the sufficient-decrease line at each trial, checked here from the numbers sent
        assert tr["armijo"] == [f <= it["f"] + 1e-4 * t * it["gtd"] for t, f in zip(tr["t"], tr["f"], strict=True)]
    # the first trial of the very first iteration is torch's min(1, 1/|g|₁)·lr
    assert its[0]["t_init"] == its[0]["trials"]["t"][0] == pytest.approx(1 / (abs(its[0]["d"][0]) + abs(its[0]["d"][1])))


def test_line_search_with_a_fixed_step_and_a_typed_function(client):
    body = LS | {"optimizer": {"name": "lbfgs", "lr": 0.2, "max_iter": 3}, "function": {"expression": "x**2 + 3*y**2"}}
    b = post(client, "/api/v1/optimize/line-search", body).json()
    assert b["line_search"] is False and len(b["iterations"]) >= 3
    assert all(len(it["trials"]["t"]) <= 1 for it in b["iterations"])
    assert all(it["t"] == 0.2 for it in b["iterations"][1:])


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"n_lrs": 26}, "n_lrs", "25"),
        ({"n_lrs": 1}, "n_lrs", "2"),
        ({"lr_min": 0}, "lr_min", "greater than 0"),
        ({"lr_max": 11}, "lr_max", "10"),
        ({"lr_min": 0.5, "lr_max": 0.1}, "lr_min", "below lr_max"),
        ({"criterion": "best"}, "criterion", "'final' or 'area'"),
        ({"starts": [[0, 0]] * 65}, "starts", "at most 64"),
        ({"starts": [[2e6, 0]]}, "starts.0.0", "less than or equal to 1000000"),
        ({"steps": 10_000, "n_lrs": 25, "starts": [[0, 0]] * 8}, "optimizers × n_lrs × starts", "2000000"),
        ({"optimizers": [{"name": "lbfgs", "max_iter": 100}], "steps": 1000}, "history_size", "16000000"),
        ({"optimizers": []}, "optimizers", "at least 1"),
        ({"optimizers": [{"name": "adam", "betas": [1, 0.9]}]}, "betas", "less than 1"),
        ({"function": {"name": "nope"}}, "name", "rosenbrock"),
        ({"bogus": 1}, "bogus", "not permitted"),
    ],
)
def test_tune_bad_input_is_422_naming_the_field(client, body, field, words):
    r = post(client, "/api/v1/optimize/tune", TUNE | body)
    assert r.status_code == 422, r.text
    msg = r.json()["message"]
    assert field in msg and words in msg, msg


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"optimizer": {"name": "adam"}}, "optimizer.name", "'lbfgs'"),
        ({"optimizer": {"name": "lbfgs", "line_search_fn": "armijo"}}, "line_search_fn", "strong_wolfe"),
        ({"optimizer": {"name": "lbfgs", "max_iter": 101}}, "max_iter", "100"),
        ({"steps": 1001}, "steps", "1000"),
        ({"steps": 0}, "steps", "1"),
        ({"n_phi": 10}, "n_phi", "11"),
        ({"n_phi": 202}, "n_phi", "201"),
        ({"max_iters": 501}, "max_iters", "500"),
        ({"start": [0, 0, 0]}, "start", "2"),
        ({"start": [0, 3e6]}, "start.1", "less than or equal to 1000000"),
        ({"function": {"expression": "x +* y"}}, "expression", ""),
    ],
)
def test_line_search_bad_input_is_422_naming_the_field(client, body, field, words):
    r = post(client, "/api/v1/optimize/line-search", LS | body)
    assert r.status_code == 422, r.text
    msg = r.json()["message"]
    assert field in msg and words in msg, msg
