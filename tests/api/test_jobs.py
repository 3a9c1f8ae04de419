"""Training jobs through the ASGI app on a real in-process Dask cluster (LocalCluster, worker
processes): the canonical run, Server-Sent Events and their resumption, cancellation, the queue
limit, de-duplication, the teacher token, restarts, and 422s that name the field and bound."""

from __future__ import annotations

import io
import json
import math
import time
from typing import Any, get_args

import annotated_types as at
import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient

from server.app import create_app
from server.config import Settings
from server.jobs import KEY_PREFIX
from server.schemas import jobs as S

TOKEN = "teacher-secret"
EXAMPLE = {"config": S.EXAMPLE_CONFIG, "fresh": False}
SMALL = {"dataset": {"name": "moons", "n_samples": 100}, "model": {"hidden": [4]}, "epochs": 3}
# Runs for minutes unless stopped (torch backend, one example per step): for cancel and queue tests.
LONG = {
    "dataset": {"name": "moons", "n_samples": 400},
    "model": {"hidden": [8]},
    "epochs": 5000,
    "batch_size": 1,
    "backend": "torch",
}
TERMINAL = ("succeeded", "failed", "cancelled", "interrupted")


def wait_until(predicate, timeout: float, what: str) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def job(client, job_id: str) -> dict:
    r = client.get(f"/api/v1/jobs/{job_id}")
    assert r.status_code == 200, r.text
    return r.json()


def submit(client, config: dict, **extra) -> str:
    r = client.post("/api/v1/jobs", json={"config": config, **extra})
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "queued"
    return r.json()["id"]


def wait_status(client, job_id: str, statuses: tuple[str, ...], timeout: float) -> dict:
    return wait_until(
        lambda: (j := job(client, job_id))["status"] in statuses and j,
        timeout,
        f"job {job_id} to be {statuses}",
    )


def read_events(
    client, job_id: str, last_id: int | None = None, stop_after: int | None = None
) -> list[dict]:
    """Parse the SSE stream into ``[{"id", "event", **data}]``; stop early after ``stop_after``."""
    headers = {"Last-Event-ID": str(last_id)} if last_id is not None else {}
    out, cur = [], {}
    with client.stream("GET", f"/api/v1/jobs/{job_id}/events", headers=headers) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        for line in r.iter_lines():
            if line.startswith(":"):
                continue
            if line == "":
                if "data" in cur:
                    out.append(
                        {"id": int(cur["id"]), "event": cur["event"], **json.loads(cur["data"])}
                    )
                cur = {}
                if stop_after is not None and len(out) >= stop_after:
                    break
                continue
            key, _, value = line.partition(": ")
            cur[key] = value
    return out


def make_client(tmp_path, **settings) -> TestClient:
    s = Settings(
        data_dir=tmp_path,
        start_jobs=True,
        local_workers=1,
        local_threads_per_worker=2,
        admin_token=TOKEN,
        **settings,
    )
    return TestClient(create_app(s), raise_server_exceptions=False)


@pytest.fixture(scope="module")
def jobs_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("jobs")


@pytest.fixture(scope="module")
def jc(jobs_dir):
    """One app and cluster for the module; the restart test (last) stops it itself."""
    with make_client(jobs_dir, queue_limit=4) as c:
        wait_until(lambda: c.app.state.jobs.ready, 120, "the LocalCluster")
        yield c


# -- the canonical run --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example(jc):
    """The issue's example, run once: its id and its whole event stream."""
    r = jc.post("/api/v1/jobs", json=EXAMPLE)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["status"] == "queued" and len(body["id"]) >= 22
    assert r.headers["location"] == body["url"] == f"/api/v1/jobs/{body['id']}"
    events = read_events(jc, body["id"])
    return body["id"], events


def test_example_reaches_95_percent_test_accuracy(jc, example):
    job_id, _ = example
    j = wait_status(jc, job_id, TERMINAL, 120)
    assert j["status"] == "succeeded", j["error"]
    assert j["error"] is None
    res = j["result"]
    assert res["test_accuracy"] >= 0.95 and res["train_accuracy"] >= 0.95
    assert len(res["history"]["test_acc"]) == 200 and len(res["history"]["loss"]) == 200
    assert len(res["confusion"]) == 2
    assert j["progress"]["epoch"] == 200 == j["progress"]["epochs"]
    assert j["started"] and j["finished"] and j["created"] <= j["started"] <= j["finished"]
    assert j["config"]["dataset"]["n_samples"] == 1000 and j["config"]["model"]["kind"] == "mlp"


def test_event_stream_is_numbered_and_ends_with_the_final_status(example):
    _, events = example
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))
    assert [e["seq"] for e in events] == [e["id"] for e in events]
    assert events[0]["event"] == "status" and events[0]["status"] == "queued"
    assert any(e["event"] == "status" and e["status"] == "running" for e in events)
    assert events[-1]["event"] == "status" and events[-1]["status"] == "succeeded"
    assert events[-1]["test_accuracy"] >= 0.95
    epochs = [e["epoch"] for e in events if e["event"] == "epoch"]
    assert epochs and epochs == sorted(epochs) and epochs[-1] == 200
    last = [e for e in events if e["event"] == "epoch"][-1]
    assert last["boundary"]["kind"] == "prob" and len(last["boundary"]["z"]) == 50
    assert {"train_loss", "test_acc", "layers", "outputs"} <= set(last)
    assert any(e["event"] == "step" for e in events)
    # The run trains in ~0.1 s, far inside the 0.5 s boundary throttle, yet its replay has a
    # boundary every 20 epochs (200 epochs / boundary_every 10 / REPLAY_FRAMES 12 -> stride 2).
    drawn = [e["epoch"] for e in events if e["event"] == "epoch" and e.get("boundary")]
    assert set(range(20, 201, 20)) <= set(drawn), drawn


def test_last_event_id_resumes_without_loss(jc, example):
    job_id, events = example
    k = len(events) // 2
    rest = read_events(jc, job_id, last_id=k)
    assert rest == events[k:]
    assert read_events(jc, job_id, last_id=len(events)) == []
    q = jc.get(f"/api/v1/jobs/{job_id}/events?last_event_id={len(events) - 1}")
    assert q.text.count("\nid: ") + q.text.startswith("id: ") == 1 and "succeeded" in q.text


def test_weights_and_history_csv(jc, example):
    job_id, _ = example
    r = jc.get(f"/api/v1/jobs/{job_id}/weights")
    assert r.status_code == 200 and r.headers["content-type"] == "application/octet-stream"
    state = torch.load(io.BytesIO(r.content), weights_only=True)
    assert state["layers.0.weight"].shape == (16, 2) and state["head.weight"].shape == (2, 16)
    csv = jc.get(f"/api/v1/jobs/{job_id}/history.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    lines = csv.text.strip().splitlines()
    assert lines[0].split(",")[:2] == ["epoch", "loss"] and "test_acc" in lines[0]
    assert len(lines) == 201 and lines[-1].startswith("200,")


def test_identical_config_returns_the_stored_result(jc, example):
    job_id, _ = example
    r = jc.post("/api/v1/jobs", json=EXAMPLE)
    assert r.status_code == 200, r.text
    assert r.json() | {"url": None, "events_url": None} == {
        "id": job_id,
        "status": "succeeded",
        "cached": True,
        "url": None,
        "events_url": None,
    }
    # The same run spelled with its defaults is the same run.
    spelled = {
        **S.EXAMPLE_CONFIG,
        "model": {"kind": "mlp", "hidden": [16, 16], "activation": "tanh", "dropout": 0.0},
        "l1": 0.0,
    }
    assert jc.post("/api/v1/jobs", json={"config": spelled}).json()["id"] == job_id
    # Another seed, or fresh, is a new run.
    other = jc.post("/api/v1/jobs", json={"config": {**S.EXAMPLE_CONFIG, "seed": 1, "epochs": 1}})
    fresh = jc.post("/api/v1/jobs", json={**EXAMPLE, "fresh": True})
    assert other.status_code == fresh.status_code == 202
    assert len({job_id, other.json()["id"], fresh.json()["id"]}) == 3
    for r in (other, fresh):
        jc.delete(f"/api/v1/jobs/{r.json()['id']}")


# -- cancellation, limits, responsiveness ---------------------------------------------------------


def _executing(dask_worker: Any) -> list[str]:
    return [ts.key for ts in dask_worker.state.executing]


def dask_executing(jc) -> set[str]:
    """Keys of the tasks whose threads the workers are running now, cancelled ones included
    (the scheduler forgets a cancelled task at once; the worker's thread runs on until the
    task returns)."""
    client = jc.app.state.jobs.client

    async def ask() -> dict:
        return await client.run(_executing)

    return {k for keys in jc.portal.call(ask).values() for k in keys}



def test_live_stream_resumes_and_cancel_takes_under_two_seconds(jc):
    job_id = submit(jc, LONG)
    first = read_events(jc, job_id, stop_after=4)  # queued, running, progress…: then disconnect
    assert [e["id"] for e in first] == [1, 2, 3, 4] and first[1]["status"] == "running"
    second = read_events(jc, job_id, last_id=4, stop_after=3)  # reconnect while it trains
    assert [e["id"] for e in second] == [5, 6, 7]
    t0 = time.perf_counter()
    health = jc.get("/api/health")  # the app answers while a job trains
    assert health.status_code == 200 and time.perf_counter() - t0 < 2.0
    t0 = time.perf_counter()
    r = jc.delete(f"/api/v1/jobs/{job_id}")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    wait_status(jc, job_id, ("cancelled",), 2.0)
    assert time.perf_counter() - t0 < 2.0
    rest = read_events(jc, job_id, last_id=7)
    full = read_events(jc, job_id)
    assert first + second + rest == full  # nothing lost, nothing repeated
    assert full[-1]["event"] == "status" and full[-1]["status"] == "cancelled"
    # The worker itself stopped (the status alone is set after CANCEL_WAIT_S whatever it does).
    wait_until(lambda: KEY_PREFIX + job_id not in dask_executing(jc), 3.0, "the worker to stop")
    # Cancelling again changes nothing.
    assert jc.delete(f"/api/v1/jobs/{job_id}").json()["status"] == "cancelled"


def test_queue_limit_is_429_with_retry_after(jc):
    wait_until(lambda: not jc.app.state.jobs.active, 30, "earlier jobs to end")
    ids = [submit(jc, {**LONG, "seed": i}) for i in range(4)]  # queue_limit = 4
    try:
        r = jc.post("/api/v1/jobs", json={"config": SMALL})
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1 and "queue_limit" in r.json()["detail"]
        queued = [i for i in ids if job(jc, i)["status"] == "queued"]
        assert queued  # two threads: some wait
        t0 = time.perf_counter()
        assert jc.delete(f"/api/v1/jobs/{queued[-1]}").json()["status"] == "cancelled"
        assert time.perf_counter() - t0 < 1.0  # a queued job is cancelled at once
        assert jc.post("/api/v1/jobs", json={"config": SMALL, "fresh": True}).status_code == 202
    finally:
        for i in ids:
            jc.delete(f"/api/v1/jobs/{i}")
    for i in ids:
        assert wait_status(jc, i, TERMINAL, 5)["status"] == "cancelled"


def test_a_queued_job_says_how_many_are_ahead(jc):
    wait_until(lambda: not jc.app.state.jobs.active, 30, "earlier jobs to end")
    ids = [submit(jc, {**LONG, "seed": 20 + i}) for i in range(4)]  # two threads: two wait
    try:
        wait_until(lambda: sum(job(jc, i)["status"] == "running" for i in ids) == 2, 60,
                   "two jobs running")
        views = [job(jc, i) for i in ids]
        queued = [v for v in views if v["status"] == "queued"]
        assert [v["queue"] for v in queued] == [{"ahead": 0, "running": 2},
                                                {"ahead": 1, "running": 2}]
        assert all(v["queue"] is None for v in views if v["status"] == "running")
        jc.delete(f"/api/v1/jobs/{queued[0]['id']}")
        assert job(jc, queued[1]["id"])["queue"] == {"ahead": 0, "running": 2}
    finally:
        for i in ids:
            jc.delete(f"/api/v1/jobs/{i}")
    for i in ids:
        assert wait_status(jc, i, TERMINAL, 5)["queue"] is None


# Lean runs of one lane group (compute.nn.lane_group): a few ms each, and about 10 s.
LANE = {"dataset": {"name": "moons", "n_samples": 300}, "model": {"hidden": [8]}, "epochs": 40}
BIG_LANE = {"dataset": {"name": "moons", "n_samples": 2000}, "model": {"hidden": [32, 32]},
            "epochs": 2000, "batch_size": 8}


def _park_behind_blockers(jc, configs: list[dict], seed: int) -> list[str]:
    """Submit ``configs`` while two LONG jobs hold both worker threads, then free the threads:
    the parked jobs go to the cluster together. Their ids."""
    wait_until(lambda: not jc.app.state.jobs.active, 30, "earlier jobs to end")
    blockers = [submit(jc, {**LONG, "seed": seed + i}) for i in range(2)]
    wait_until(lambda: all(job(jc, b)["status"] == "running" for b in blockers), 60, "blockers")
    ids = [submit(jc, c, fresh=True) for c in configs]  # queue_limit = 4
    assert [job(jc, i)["status"] for i in ids] == ["queued"] * len(ids)
    assert [v["queue"]["ahead"] for v in (job(jc, i) for i in ids)] == list(range(len(ids)))
    for b in blockers:
        jc.delete(f"/api/v1/jobs/{b}")
    return ids


@pytest.fixture
def lane_groups(jc, monkeypatch):
    """MATHLENS_LANE_GROUPS on (the default; set here so that the tests say what they need)."""
    monkeypatch.setattr(jc.app.state.jobs.settings, "lane_groups", True)


@pytest.fixture
def groups_of_two(lane_groups, monkeypatch):
    """Lane groups from two jobs on (the queue limit here is 4; a group pays from 8-12)."""
    import compute.nn.lanes

    monkeypatch.setattr(compute.nn.lanes, "min_group", lambda batch_size: 2)


@pytest.mark.parametrize("groups", [False, True])
def test_too_few_queued_jobs_of_one_shape_train_one_by_one(jc, monkeypatch, groups):
    """Without lane groups (MATHLENS_LANE_GROUPS=0), or with too few jobs for a group to pay, each queued
    job trains in a task of its own, in the order they came."""
    monkeypatch.setattr(jc.app.state.jobs.settings, "lane_groups", groups)
    ids = _park_behind_blockers(jc, [{**LANE, "seed": s} for s in (3, 4)], seed=30)
    for i in ids:
        j = wait_status(jc, i, TERMINAL, 60)
        assert j["status"] == "succeeded" and "lanes" not in j["result"]["job"]


def test_queued_jobs_of_one_shape_train_together_each_with_its_own_result(jc, groups_of_two):
    """While every worker thread is busy, CPU jobs wait in the server; when a thread frees, the
    oldest goes with the waiting jobs of its lane group as one Dask task (compute.nn.train_lanes).
    Each keeps its own event stream, status and result: the numbers train() gives it alone."""
    from compute.nn import TrainConfig, train

    configs = [{**LANE, "seed": s} for s in (1, 2)]
    ids = _park_behind_blockers(jc, configs, seed=40)
    for c, i in zip(configs, ids, strict=True):
        j = wait_status(jc, i, TERMINAL, 60)
        assert j["status"] == "succeeded", j["error"]
        r = j["result"]
        assert r["job"]["lanes"] == 2  # trained as a group of two
        one = train(TrainConfig.from_dict(c))  # float32: equal to rounding
        assert r["test_accuracy"] == one.test_accuracy and r["epochs"] == one.epochs == 40
        np.testing.assert_allclose(r["history"]["loss"], one.history["loss"], rtol=1e-4)
        events = read_events(jc, i)
        kinds = [e["event"] for e in events]
        assert kinds[:2] == ["status", "status"] and {"step", "epoch"} <= set(kinds)
        assert events[-1]["status"] == "succeeded" and events[-1]["test_accuracy"] == one.test_accuracy
        assert any(e.get("boundary") for e in events if e["event"] == "epoch")
        assert jc.get(f"/api/v1/jobs/{i}/weights").status_code == 200


def test_cancelling_a_job_of_a_lane_group_stops_only_its_lane(jc, groups_of_two):
    ids = _park_behind_blockers(jc, [{**BIG_LANE, "seed": s} for s in (1, 2)], seed=50)
    try:
        wait_until(lambda: all(job(jc, i)["status"] == "running" for i in ids), 60, "the group")
        wait_until(lambda: job(jc, ids[0])["progress"].get("epoch"), 30, "progress")
        t0 = time.perf_counter()
        assert jc.delete(f"/api/v1/jobs/{ids[0]}").json()["status"] == "cancelled"
        assert time.perf_counter() - t0 < 2.0
        gone = job(jc, ids[0])
        assert gone["error"] is None and gone["has_weights"]  # stopped by its worker, not timed out
        assert 0 < gone["result"]["epochs"] < BIG_LANE["epochs"] and gone["result"]["stopped"]
        epoch = job(jc, ids[1])["progress"].get("epoch") or 0
        wait_until(lambda: (job(jc, ids[1])["progress"].get("epoch") or 0) > epoch, 10,
                   "its lane mate to go on")
        assert job(jc, ids[1])["status"] == "running"
    finally:
        for i in ids:
            jc.delete(f"/api/v1/jobs/{i}")
    for i in ids:
        assert wait_status(jc, i, TERMINAL, 5)["status"] == "cancelled"
    wait_until(lambda: not any(k.startswith(KEY_PREFIX) for k in dask_executing(jc)), 5,
               "the group's task to end")


def test_time_limit_fails_the_job(jc):
    svc = jc.app.state.jobs
    old, svc.settings.job_timeout_s = svc.settings.job_timeout_s, 1.0
    try:
        job_id = submit(jc, {**LONG, "seed": 99})
    finally:
        svc.settings.job_timeout_s = old
    j = wait_status(jc, job_id, TERMINAL, 60)
    assert j["status"] == "failed" and "time limit" in j["error"]
    assert read_events(jc, job_id)[-1]["status"] == "failed"


def test_listing_needs_the_teacher_token(jc, example):
    job_id, _ = example
    assert jc.get("/api/v1/jobs").status_code == 401
    r = jc.get("/api/v1/jobs", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    r = jc.get("/api/v1/jobs", headers={"Authorization": f"Bearer {TOKEN}"})
    assert r.status_code == 200, r.text
    listed = {j["id"]: j for j in r.json()["jobs"]}
    assert listed[job_id]["status"] == "succeeded" and listed[job_id]["result"] is None
    assert r.json()["queue_limit"] == 4


def test_unknown_ids_are_json_404(jc):
    for method, path in [
        ("GET", ""),
        ("DELETE", ""),
        ("GET", "/events"),
        ("GET", "/weights"),
        ("GET", "/history.csv"),
    ]:
        r = jc.request(method, f"/api/v1/jobs/no-such-job{path}")
        assert r.status_code == 404, (method, path)
        assert r.headers["content-type"].startswith("application/json") and r.json()["detail"]


def test_unfinished_job_has_no_weights_yet(jc):
    job_id = submit(jc, {**LONG, "seed": 7})
    try:
        assert jc.get(f"/api/v1/jobs/{job_id}/weights").status_code == 404
        assert jc.get(f"/api/v1/jobs/{job_id}/history.csv").status_code == 404
    finally:
        jc.delete(f"/api/v1/jobs/{job_id}")


@pytest.mark.parametrize(("config", "words"), [
    ({"dataset": {"name": "moons", "n_samples": 6000}}, ["n_samples", "5000"]),
    ({"dataset": {"name": "digits", "n_samples": 1800}}, ["n_samples", "1797"]),
    ({"epochs": 0}, ["epochs", "1"]),
    ({"epochs": 5001}, ["epochs", "5000"]),
    ({"optimizer": {"name": "adam", "lr": 0}}, ["lr", "0.000001"]),
    ({"optimizer": {"name": "nadam"}}, ["optimizer", "name must be one of"]),
    ({"model": {"hidden": [16] * 9}}, ["hidden", "8"]),
    ({"model": {"hidden": [300]}}, ["hidden", "256"]),
    ({"colour": "red"}, ["colour", "Extra inputs"]),
    # compute's own cross-field bounds come back as 422 too
    ({"dataset": {"name": "moons", "n_samples": 5000}, "epochs": 5000, "batch_size": 1},
     ["epochs", "2000000"]),
    ({"model": {"kind": "cnn"}}, ["model.kind", "digits"]),
    ({"optimizer": {"name": "sgd", "nesterov": True}}, ["nesterov", "momentum"]),
    # schedules: the bounds every lab's compute accepts (compute.nn alone would take these)
    ({"schedule": {"name": "step", "gamma": 0}}, ["schedule.step.gamma", "greater than 0"]),
    ({"schedule": {"name": "warmup_cosine", "warmup_steps": 1_000_001}},
     ["schedule.warmup_cosine.warmup_steps", "less than or equal to 1000000"]),
    ({"schedule": {"name": "onecycle", "pct_start": 0.005}}, ["pct_start", "0.01"]),
])  # fmt: skip
def test_422_names_the_field_and_bound(jc, config, words):
    r = jc.post("/api/v1/jobs", json={"config": config})
    assert r.status_code == 422, r.text
    message = r.json()["message"]
    assert message.startswith("config."), message
    for w in words:
        assert w in message, (w, message)


def test_gpu_job_without_a_gpu_worker_is_422(jc):
    r = jc.post("/api/v1/jobs", json={"config": {**SMALL, "device": "cuda"}})
    assert r.status_code == 422 and "GPU worker" in r.json()["message"], r.text
    r = jc.post("/api/v1/jobs", json={"config": SMALL, "gpu": True})
    assert r.status_code == 422 and "config.device" in r.json()["message"]
    r = jc.post("/api/v1/jobs", json={"config": {**SMALL, "device": "cpu"}, "gpu": True})
    assert r.status_code == 422 and r.json()["message"].startswith("gpu")


def test_jobs_a_crashed_server_left_come_back_interrupted(tmp_path):
    from server.jobs import JobStore

    store = JobStore(tmp_path / "jobs.sqlite3")
    store.insert(
        {
            "id": "abc",
            "config": {},
            "config_hash": "h",
            "gpu": False,
            "status": "queued",
            "created": 1.0,
            "events": [(1, "status", b'{"seq":1,"type":"status","status":"queued"}')],
        }
    )
    store.update("abc", {"status": "running", "started": 2.0}, [(2, "status", b'{"seq":2}')])
    store.close()  # no clean stop: the server died here
    store = JobStore(tmp_path / "jobs.sqlite3")
    assert store.interrupt_unfinished(3.0) == 1
    row = store.get("abc")
    assert row["status"] == "interrupted" and row["finished"] == 3.0 and "running" in row["error"]
    assert [(seq, kind) for seq, kind, _ in store.events("abc")] == [
        (1, "status"),
        (2, "status"),
        (3, "status"),
    ]
    assert store.interrupt_unfinished(4.0) == 0
    store.close()


def test_jobs_off_is_404_not_a_server_error(client):
    r = client.post("/api/v1/jobs", json={"config": SMALL})
    assert r.status_code == 404 and "MATHLENS_START_JOBS" in r.json()["detail"]
    assert client.get("/api/v1/jobs/x").status_code == 404


def test_events_cross_the_cluster_as_compute_encodes_them():
    """The job layer encodes compute's event dataclasses directly; same JSON as ``to_dict()``."""
    import orjson

    from compute.nn.config import TrainConfig
    from compute.nn.train import Callbacks, train
    from server.jobs import _json

    seen = []
    config = TrainConfig.from_dict({**SMALL, "boundary_every": 1, "step_every": 1})
    result = train(config, Callbacks(on_step=seen.append, on_epoch=seen.append))
    assert {type(e).__name__ for e in seen} == {"StepInfo", "EpochInfo"}
    for e in [*seen, result]:
        assert orjson.loads(_json(e)) == orjson.loads(orjson.dumps(e.to_dict())), type(e).__name__


# -- the schema mirrors compute's registries ------------------------------------------------------


def _literal(t) -> list:
    return list(get_args(t))


def _bounds(info) -> dict:
    """Bounds of a pydantic field: ge/le of the value or of list elements, and list lengths."""
    out = {}
    metadata = list(info.metadata)
    for arg in get_args(info.annotation):  # list[Annotated[int, Field(ge, le)]]
        metadata.extend(getattr(arg, "__metadata__", ()))
        for m in getattr(arg, "__metadata__", ()):
            metadata.extend(getattr(m, "metadata", ()))
    for m in metadata:
        if isinstance(m, at.Ge):
            out["low"] = m.ge
        elif isinstance(m, at.Gt):
            out["low"], out["low_open"] = m.gt, True
        elif isinstance(m, at.Le):
            out["high"] = m.le
        elif isinstance(m, at.Lt):
            out["high"], out["high_open"] = m.lt, True
        elif isinstance(m, at.MinLen):
            out["min_len"] = m.min_length
        elif isinstance(m, at.MaxLen):
            out["max_len"] = m.max_length
    return out


def _check(model, params: dict, skip: tuple[str, ...], within: bool = False) -> None:
    """Fields, defaults and bounds equal compute's; ``within``: bounds inside compute's instead."""
    fields = {k: v for k, v in model.model_fields.items() if k not in skip}
    assert set(fields) == set(params), model.__name__
    for name, p in params.items():
        info = fields[name]
        assert info.get_default(call_default_factory=True) == p.default, (model.__name__, name)
        expect = {
            k: getattr(p, k)
            for k in ("low", "high", "min_len", "max_len")
            if getattr(p, k) is not None
        }
        if p.kind in ("choice", "bool"):
            expect = {}
        got = _bounds(info)
        if within:
            assert {k for k in got if not k.endswith("_open")} == set(expect), (model.__name__, name)
            assert got.get("low", 0) >= expect.get("low", 0), (model.__name__, name, got)
            assert got.get("high", 0) <= expect.get("high", 0), (model.__name__, name, got)
        else:
            assert got == expect, (model.__name__, name)
        if p.kind == "choice":
            assert _literal(info.annotation) == list(p.choices), (model.__name__, name)


def test_schema_mirrors_the_compute_registries():
    from compute.nn import config as C
    from compute.nn import datasets as D
    from compute.nn import models as M

    assert _literal(S.DatasetName) == list(D.DATASETS) == list(S.DATASET_MODELS)
    assert _literal(S.ModelKind) == list(M.MODELS) == list(S.MODEL_MODELS)
    assert _literal(S.Activation) == list(M.ACTIVATIONS)
    assert _literal(S.OptimizerName) == list(C.OPTIMIZERS) == list(S.OPTIMIZER_MODELS)
    assert _literal(S.ScheduleName) == list(C.SCHEDULES) == list(S.SCHEDULE_MODELS)
    for lit, names in [
        (S.Loss, C.LOSSES),
        (S.Device, C.DEVICES),
        (S.Dtype, C.DTYPES),
        (S.Backend, C.BACKENDS),
    ]:
        assert _literal(lit) == list(names)
    for name, spec in D.DATASETS.items():
        _check(S.DATASET_MODELS[name], spec.params, ("name",))
    for name, params in M.MODELS.items():
        _check(S.MODEL_MODELS[name], params, ("kind",))
    for name, params in C.OPTIMIZERS.items():
        _check(S.OPTIMIZER_MODELS[name], params, ("name",))
    for name, params in C.SCHEDULES.items():
        # server/schemas/schedules.py's bounds, which every lab's compute accepts: inside compute.nn's
        # (test_optimization_schedules checks they are the tightest of compute.nn's and compute.optim's)
        _check(S.SCHEDULE_MODELS[name], params, ("name",), within=True)
    _check(S.JobConfig, C.FIELDS, ("dataset", "model", "optimizer", "schedule"))
    assert S.MAX_STEPS == C.MAX_STEPS and S.MAX_SEED == D.MAX_SEED
    # The example is valid for both.
    assert C.TrainConfig.from_dict(S.EXAMPLE_CONFIG).epochs == 200


# -- restarts (last: it stops the module's app) ----------------------------------------------


def test_restart_keeps_finished_jobs_and_interrupts_unfinished(jc, jobs_dir, example):
    """Last in the module: stops the module's app with a job running, starts another on its data."""
    done, before = example
    left = submit(jc, {**LONG, "seed": 123})
    wait_status(jc, left, ("running",), 60)
    # The stored result of the example before the restart: `done`, or a later identical run
    # (test_identical_config's fresh one, when it finished before its DELETE came).
    stored = jc.post("/api/v1/jobs", json=EXAMPLE)
    assert stored.status_code == 200 and stored.json()["cached"]
    # Shut down: the running job is interrupted and its worker told to stop.
    jc.__exit__(None, None, None)
    with make_client(jobs_dir) as c:
        j = job(c, done)
        assert j["status"] == "succeeded" and j["result"]["test_accuracy"] >= 0.95
        assert read_events(c, done) == before  # the stored stream replays as it was
        assert c.get(f"/api/v1/jobs/{done}/weights").status_code == 200
        i = job(c, left)
        assert i["status"] == "interrupted" and "stopped" in i["error"]
        events = read_events(c, left)
        assert events[-1]["status"] == "interrupted"
        assert [e["id"] for e in events] == list(range(1, len(events) + 1))
        again = c.post("/api/v1/jobs", json=EXAMPLE)
        assert again.status_code == 200 and again.json()["id"] == stored.json()["id"]


def test_event_encoding_writes_tensors_as_numbers():
    from server.jobs import _json

    t = {"w": torch.tensor([[1.5, -2.0]], dtype=torch.float32), "n": torch.arange(3),
         "ok": torch.tensor([True, False]), "nan": torch.tensor([float("nan")]),
         "bf": torch.tensor([0.5], dtype=torch.bfloat16), "be": np.array([1.0, 2.0], dtype=">f8"),
         "c": np.array([1 + 2j]), "obj": object()}
    out = json.loads(_json(t))
    assert {k: out[k] for k in ("w", "n", "ok", "nan", "bf", "be")} == {
        "w": [[1.5, -2.0]], "n": [0, 1, 2], "ok": [True, False], "nan": [None], "bf": [0.5],
        "be": [1.0, 2.0]}
    assert isinstance(out["c"][0], str) and out["obj"].startswith("<object")


class _Lazy:
    """A lazy event (as compute's ``LazyEpoch``) that takes a moment to resolve."""

    def __init__(self, i, seconds=0.001):
        self.i, self.seconds = i, seconds

    def resolve(self):
        time.sleep(self.seconds)
        return {"i": self.i}


def test_encoder_posts_in_order_and_close_raises_its_failure():
    from server.jobs import _Encoder

    posted = []
    enc = _Encoder(lambda kind, data: posted.append((kind, json.loads(data))))
    for i in range(20):
        enc("epoch", _Lazy(i) if i % 2 else {"i": i})
    enc.close()
    assert posted == [("epoch", {"i": i}) for i in range(20)]

    def boom(kind, data):
        raise RuntimeError("cannot send")

    enc = _Encoder(boom)
    enc("step", {"i": 0})
    enc.close(check=False)  # after a training failure: that one is raised, not this
    with pytest.raises(RuntimeError, match="cannot send"):
        enc.close()


def test_encoders_share_threads_that_outlive_jobs_and_keep_each_jobs_order():
    # Jobs' encoders run on the process's shared threads (a thread start per job cost ms of a
    # 50-ms job): each job's events stay in order, and a later job reuses an idle thread.
    from server import jobs

    def run_jobs(n):
        posted = [[] for _ in range(n)]
        encs = [jobs._Encoder(lambda kind, data, k=k: posted[k].append(json.loads(data)["i"]))
                for k in range(n)]
        for i in range(30):
            for enc in encs:
                enc("epoch", _Lazy(i, 0.0005))
        for enc in encs:
            enc.close()
        assert posted == [list(range(30))] * n

    run_jobs(3)
    time.sleep(0.05)  # the drains end: their threads are idle
    started = jobs._ENCODERS.started
    for _ in range(5):
        run_jobs(1)
    assert jobs._ENCODERS.started == started  # no new thread: an idle one took each


def test_a_lane_groups_jobs_pace_their_events_and_keep_their_replay_frames(monkeypatch):
    # run_training_group in this process, on a stand-in worker: a group of 8 jobs spaces each
    # job's time-throttled events 8 / GROUP_PACE_LANES times wider (a grouped job lives as long
    # as its group), and each job still gets every replay frame and its result.
    import distributed

    from server import jobs

    class Worker:
        address = "inproc://test"

        def __init__(self):
            self.messages = []

        def log_event(self, topic, msg):
            self.messages.append(msg)

    worker = Worker()
    monkeypatch.setattr(distributed, "get_worker", lambda: worker)
    monkeypatch.setattr(distributed, "get_client", lambda: object())  # the cancel watcher fails
    intervals = []
    throttle_init = jobs._Throttle.__init__

    def spy(self, send, iv):
        intervals.append(dict(iv))
        throttle_init(self, send, iv)

    monkeypatch.setattr(jobs._Throttle, "__init__", spy)
    config = {**LANE, "epochs": 120, "boundary_every": 5, "optimizer": {"name": "sgd", "lr": 0.1}}
    ids = [f"pace-{k}" for k in range(8)]
    out = jobs.run_training_group(ids, [{**config, "seed": k} for k in range(8)], 60.0)
    assert set(out) == set(ids) and all(o["stopped"] is None for o in out.values())
    pace = 8 / jobs.GROUP_PACE_LANES
    assert pace > 1 and intervals == [
        {k: v * pace for k, v in jobs.EVENT_INTERVALS_S.items()}] * 8
    frames = {j: set() for j in ids}
    for msg in worker.messages:
        for job_id, events in msg["batches"]:
            for kind, data, *_ in events:
                ev = json.loads(data)
                if kind == "epoch" and ev.get("boundary"):
                    frames[job_id].add(ev["epoch"])
    stride = math.ceil(120 // 5 / jobs.REPLAY_FRAMES)
    replay = set(range(0, 121, 5 * stride)) - {0} | {120}
    for job_id in ids:
        assert replay <= frames[job_id]
        assert out[job_id]["result"]["epochs"] == 120


def test_outbox_sends_the_first_event_at_once_and_batches_the_rest():
    from server import jobs

    batches = []
    box = jobs._Outbox(batches.append)
    box.send("step", b"1")
    assert batches == [[("step", b"1")]]  # the first: at once
    box.send("step", b"2")
    box.send("epoch", b"3")
    assert len(batches) == 1  # within SEND_EVERY_S: held
    wait_until(lambda: len(batches) == 2, 5 * jobs.SEND_EVERY_S, "the timer's batch")
    assert batches[1] == [("step", b"2"), ("epoch", b"3")]
    box.send("step", b"4")
    box.flush()
    assert batches[-1] == [("step", b"4")] and box.timer is None
    box.flush()  # nothing waiting: nothing sent
    assert sum(map(len, batches)) == 4
