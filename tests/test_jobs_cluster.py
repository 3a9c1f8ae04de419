"""Jobs on a separate Dask cluster, as with MATHLENS_SCHEDULER=tcp://host:8786: a `dask scheduler`
and two workers started as real processes (one by `mathlens worker --gpu`, which offers GPU=1;
this machine has no CUDA). A worker killed mid-job fails that job with the reason, within
seconds, and the server keeps serving."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from distributed import Client
from fastapi.testclient import TestClient

from server.app import create_app
from server.config import Settings

pytestmark = pytest.mark.slow

SMALL = {"dataset": {"name": "moons", "n_samples": 100}, "model": {"hidden": [4]}, "epochs": 3}
LONG = {
    "dataset": {"name": "moons", "n_samples": 400},
    "model": {"hidden": [8]},
    "epochs": 5000,
    "batch_size": 1,
    "backend": "torch",
}
TERMINAL = ("succeeded", "failed", "cancelled", "interrupted")


def wait_until(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``(scheduler address, sync Client)``: a scheduler and two single-thread workers."""
    d = tmp_path_factory.mktemp("dask")
    sched_file = d / "scheduler.json"
    procs: list[tuple[subprocess.Popen, object]] = []

    def start(name: str, args: list[str]) -> None:
        log = open(d / f"{name}.log", "wb")  # noqa: SIM115 - closed at teardown
        procs.append((subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT), log))

    local = ["--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0"]
    start(
        "scheduler",
        [
            sys.executable,
            "-m",
            "dask",
            "scheduler",
            "--port",
            "0",
            "--scheduler-file",
            str(sched_file),
            *local,
        ],
    )
    try:
        wait_until(
            lambda: sched_file.exists() and sched_file.stat().st_size > 0, 60, "the scheduler"
        )
        address = json.loads(sched_file.read_text())["address"]
        start(
            "worker", [sys.executable, "-m", "dask", "worker", address, "--nthreads", "1", *local]
        )
        start(
            "gpu-worker", [sys.executable, "-m", "server.cli", "worker", address, "--gpu", *local]
        )
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=120)
            yield address, client
    finally:
        for p, _ in reversed(procs):
            p.send_signal(signal.SIGTERM)
        for p, log in reversed(procs):
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            log.close()


@pytest.fixture(scope="module")
def jc(cluster, tmp_path_factory):
    address, _ = cluster
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("data"), scheduler=address, start_jobs=True
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        wait_until(lambda: c.app.state.jobs.ready, 60, "the client to connect")
        yield c


def job(client, job_id: str) -> dict:
    r = client.get(f"/api/v1/jobs/{job_id}")
    assert r.status_code == 200, r.text
    return r.json()


def run(client, config: dict, statuses=TERMINAL, timeout: float = 300) -> dict:
    r = client.post("/api/v1/jobs", json={"config": config, "fresh": True})
    assert r.status_code == 202, r.text
    job_id = r.json()["id"]
    return wait_until(
        lambda: (j := job(client, job_id))["status"] in statuses and j,
        timeout,
        f"job {job_id} to be {statuses}",
    )


def workers(client: Client) -> dict[str, dict]:
    return client.scheduler_info()["workers"]


def test_job_runs_on_the_remote_cluster(jc, cluster):
    _, client = cluster
    j = run(jc, SMALL)
    assert j["status"] == "succeeded", j["error"]
    assert j["worker"] in workers(client) and j["result"]["epochs"] == 3


def test_gpu_job_goes_to_the_gpu_worker(jc, cluster):
    _, client = cluster
    gpu = [a for a, w in workers(client).items() if w["resources"].get("GPU") == 1]
    assert len(gpu) == 1
    j = run(jc, {**SMALL, "device": "cuda"})
    assert j["worker"] == gpu[0] and j["gpu"] is True
    if torch.cuda.is_available():
        # A GPU machine (run through the device tool: scripts/gpu-check.sh): the job trains on
        # CUDA on the worker that offers GPU=1.
        assert j["status"] == "succeeded", j["error"]
        assert j["result"]["device"].startswith("cuda") and j["result"]["epochs"] == 3
    else:
        # That worker says GPU=1 but this machine has no CUDA: the job fails and says why.
        assert j["status"] == "failed" and "CUDA" in j["error"]


def test_a_cluster_with_gpu_workers_trains_queued_jobs_one_per_task(jc, cluster, monkeypatch):
    # A lane group on a CUDA worker cannot share a kernel and would train its jobs one by one
    # (Dask may place it there, or steal it there from a busy CPU worker): with a GPU worker in
    # the cluster, queued same-shaped jobs are not grouped, even where a group would pay.
    import compute.nn.lanes

    _, client = cluster
    monkeypatch.setattr(compute.nn.lanes, "min_group", lambda batch_size: 2)
    assert jc.app.state.jobs.settings.lane_groups  # the default
    wait_until(lambda: jc.app.state.jobs.gpu_workers, 30, "the server to see the GPU worker")
    threads = sum(w["nthreads"] for w in workers(client).values())
    blockers = []
    for k in range(threads):  # every thread busy, so that the next jobs wait in the server
        r = jc.post("/api/v1/jobs", json={"config": {**LONG, "seed": 100 + k}, "fresh": True})
        assert r.status_code == 202, r.text
        blockers.append(r.json()["id"])
    for b in blockers:
        wait_until(lambda b=b: job(jc, b)["status"] == "running", 120, "a blocker to run")
    mates = []
    for k in range(3):
        r = jc.post("/api/v1/jobs", json={"config": {**SMALL, "seed": k}, "fresh": True})
        assert r.status_code == 202, r.text
        mates.append(r.json()["id"])
    assert all(job(jc, m)["status"] == "queued" for m in mates)
    for b in blockers:
        assert jc.delete(f"/api/v1/jobs/{b}").status_code in (200, 202)
    for m in mates:
        j = wait_until(lambda m=m: (x := job(jc, m))["status"] in TERMINAL and x, 120,
                       "a queued job to end")
        assert j["status"] == "succeeded", j["error"]
        assert "lanes" not in j["result"]["job"]


def test_killed_worker_fails_its_job_and_the_server_keeps_serving(jc, cluster):
    _, client = cluster
    j = run(jc, LONG, statuses=("running",), timeout=120)
    wait_until(lambda: job(jc, j["id"])["progress"].get("step"), 120, "progress")
    assert f"mathlens-train-{j['id']}" in client.processing()[j["worker"]]
    pid = client.run(os.getpid, workers=[j["worker"]])[j["worker"]]
    t0 = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    failed = wait_until(
        lambda: (x := job(jc, j["id"]))["status"] in TERMINAL and x, 15, "the job to fail"
    )
    assert (
        failed["status"] == "failed"
        and "died" in failed["error"]
        and j["worker"] in failed["error"]
    )
    assert time.monotonic() - t0 < 15
    assert jc.get("/api/health").status_code == 200
    # New jobs run (on the surviving worker, or the one the nanny restarted); the dead job is
    # not retried.
    again = run(jc, SMALL)
    assert again["status"] == "succeeded", again["error"]
    client.wait_for_workers(2, timeout=120)
    assert f"mathlens-train-{j['id']}" not in str(client.processing())
    assert job(jc, j["id"])["status"] == "failed"
