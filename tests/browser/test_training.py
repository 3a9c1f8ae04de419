"""Training lab in Chromium: the dataset preview, a live run over Server-Sent Events that ends
succeeded, and Stop cancelling a longer run. Runs go to the test server's own Dask cluster."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.browser

FINAL = "() => ['succeeded','failed','cancelled','interrupted'].includes(document.querySelector('#run-status').dataset.status)"
SMALL = "?dataset=moons&n_samples=200&noise=0.2&hidden=8&activation=tanh&optimizer=adam&lr=0.03&epochs=20&batch_size=32&seed=3"
# Dropout sends the run down the general torch path: 175k steps, a minute or more of work.
LONG = "?dataset=moons&n_samples=1000&hidden=16&dropout=0.1&optimizer=sgd&lr=0.05&epochs=2000&batch_size=8&seed=4"
READY = "body[data-ready='1']"


def trace(page, plot: str, name: str) -> dict | None:
    return page.evaluate(
        "([id, name]) => { const d = document.getElementById(id).data || [];"
        " const t = d.find((t) => t.name === name); return t ? {x: t.x, y: t.y} : null; }",
        [plot, name],
    )


def has_preview_route(page) -> bool:
    return page.evaluate("async () => !!(await (await fetch('/openapi.json')).json()).paths['/api/v1/training/dataset']")


def test_page_draws_the_dataset_and_reads_its_state_from_the_url(page, server_url):
    page.goto(server_url + "/labs/training?dataset=moons&n_samples=200&hidden=8,4&optimizer=sgd&lr=0.05&schedule=cosine")
    page.wait_for_selector(READY, timeout=60_000)
    assert page.locator("#boundary.js-plotly-plot").count() == 1
    assert page.locator(".where-ml").count() == 1
    # The controls and the linear-algebra lens follow the URL, before any run.
    assert page.locator("select[name=optimizer]").input_value() == "sgd"
    assert page.locator("select[name=schedule]").input_value() == "cosine"
    assert float(page.locator("input[name=lr]").input_value()) == 0.05
    la = page.text_content("#lens-la")
    assert "W₁: 8×2" in la and "W₂: 4×8" in la and "W_out: 2×4" in la
    assert page.text_content("#progress-text") == "not started"
    if not has_preview_route(page):
        note = page.evaluate("() => document.getElementById('boundary').layout.annotations.map((a) => a.text).join(' ')")
        assert "no dataset preview" in note
        pytest.xfail("the server has no POST /api/v1/training/dataset yet: the preview is a placeholder")
    xs = page.evaluate("() => document.getElementById('boundary').data.filter((t) => t.name.startsWith('class')).reduce((n, t) => n + t.x.length, 0)")
    assert xs == 200  # every point, train and test


def test_run_streams_progress_and_ends_succeeded(page, server_url):
    page.goto(server_url + "/labs/training" + SMALL)
    page.wait_for_selector(READY, timeout=60_000)
    assert trace(page, "loss", "train")["x"] == []
    page.click("#run")
    page.wait_for_function(FINAL, timeout=120_000)
    status = page.locator("#run-status")
    assert status.get_attribute("data-status") == "succeeded", status.text_content()
    assert "test accuracy" in status.text_content()
    # Epoch events arrived over the SSE stream (live), and the finished history fills every epoch.
    assert int(page.evaluate("document.body.dataset.snaps")) >= 1
    loss = trace(page, "loss", "train")
    assert loss["x"] == list(range(1, 21)) and all(v > 0 for v in loss["y"])
    assert page.evaluate("document.getElementById('progress').value") == 1
    assert "epoch 20 / 20" in page.text_content("#progress-text")
    grads = page.evaluate("() => document.getElementById('grads').data.filter((t) => t.name.startsWith('W')).length")
    assert grads == 2  # W₁ and W_out
    assert "Train loss" in page.text_content("#lens-info") and "bits" in page.text_content("#lens-info")
    assert page.evaluate("() => document.getElementById('confusion').data[0].z.flat().reduce((a, b) => a + b, 0)") == 60
    href = page.get_attribute("#downloads a[href$='history.csv']", "href")
    csv = page.evaluate("async (u) => (await fetch(u)).text()", href)
    assert csv.splitlines()[0].startswith("epoch,") and len(csv.splitlines()) == 21


def test_stop_cancels_a_long_run(page, server_url):
    page.goto(server_url + "/labs/training" + LONG)
    page.wait_for_selector(READY, timeout=60_000)
    page.click("#run")
    page.wait_for_function("() => document.getElementById('progress').value > 0", timeout=120_000)
    assert page.locator("#stop").is_enabled()
    page.click("#stop")
    page.wait_for_function(FINAL, timeout=30_000)
    status = page.locator("#run-status")
    assert status.get_attribute("data-status") == "cancelled", status.text_content()
    assert "Stopped (cancelled) at epoch" in status.text_content()
    assert page.locator("#run").is_enabled() and not page.locator("#stop").is_enabled()
    job_id = page.evaluate("() => new URL(document.querySelector('#downloads a[href^=\"/api/v1/jobs/\"]').href).pathname.split('/')[4]")
    job = json.loads(page.evaluate("async (u) => (await fetch(u)).text()", f"/api/v1/jobs/{job_id}"))
    assert job["status"] == "cancelled"
    assert page.evaluate("document.getElementById('progress').value") < 1


def _api(server_url: str, path: str, method: str = "GET", body: dict | None = None) -> dict:
    import urllib.request

    req = urllib.request.Request(server_url + path, method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def test_a_run_opens_by_its_link_and_watching_never_stops_it(page, server_url):
    import time

    small = {"dataset": {"name": "moons", "n_samples": 200, "noise": 0.2}, "model": {"hidden": [8, 4], "activation": "relu"},
             "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9}, "epochs": 15, "batch_size": 32, "seed": 21}
    job_id = _api(server_url, "/api/v1/jobs", "POST", {"config": small, "fresh": True})["id"]
    deadline = time.monotonic() + 120
    while (job := _api(server_url, f"/api/v1/jobs/{job_id}"))["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert job["status"] == "succeeded"

    # A finished run, opened by its link: its settings in the controls, its record replayed.
    page.goto(server_url + f"/labs/training?job={job_id}")
    page.wait_for_selector(READY, timeout=60_000)
    page.wait_for_function(FINAL, timeout=60_000)
    assert page.locator("#run-status").get_attribute("data-status") == "succeeded"
    assert page.locator("select[name=optimizer]").input_value() == "sgd"
    assert float(page.locator("input[name=lr]").input_value()) == 0.05
    assert page.locator("select[name=activation]").input_value() == "relu"
    assert "W₁: 8×2" in page.text_content("#lens-la") and "W₂: 4×8" in page.text_content("#lens-la")
    loss = trace(page, "loss", "train")
    assert loss["x"] == list(range(1, 16))
    np_hist = job["result"]["history"]["train_loss"]
    assert loss["y"] == pytest.approx(np_hist, rel=1e-9)
    assert f"job={job_id}" in page.url

    # A running run, watched and then left: it keeps running (only one's own run stops on leaving).
    long = {**small, "model": {"hidden": [16], "dropout": 0.1}, "epochs": 2000, "batch_size": 8}
    live_id = _api(server_url, "/api/v1/jobs", "POST", {"config": long, "fresh": True})["id"]
    try:
        page.goto(server_url + f"/labs/training?job={live_id}")
        page.wait_for_function("() => document.querySelector('#run-status').dataset.status === 'running'", timeout=60_000)
        page.goto("about:blank")
        time.sleep(2.5)  # longer than a cancel takes (< 2 s)
        assert _api(server_url, f"/api/v1/jobs/{live_id}")["status"] == "running"
    finally:
        _api(server_url, f"/api/v1/jobs/{live_id}", "DELETE")


def test_a_queued_run_says_how_many_runs_are_ahead(page, server_url, teacher_token):
    import time
    import urllib.request

    def active() -> int:
        req = urllib.request.Request(server_url + "/api/v1/jobs?limit=1",
                                     headers={"Authorization": f"Bearer {teacher_token}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())["active"]

    deadline = time.monotonic() + 90
    while active():  # other tests' runs end or are cancelled
        assert time.monotonic() < deadline, "the test server's cluster never went idle"
        time.sleep(0.3)
    # Two long runs fill the test server's two worker threads; the page's run has to wait.
    long = {"dataset": {"name": "moons", "n_samples": 1000}, "model": {"hidden": [16], "dropout": 0.1},
            "optimizer": {"name": "sgd", "lr": 0.05}, "epochs": 2000, "batch_size": 8}
    busy = [_api(server_url, "/api/v1/jobs", "POST", {"config": {**long, "seed": s}, "fresh": True})["id"]
            for s in (31, 32)]
    try:
        deadline = time.monotonic() + 60
        while any(_api(server_url, f"/api/v1/jobs/{i}")["status"] != "running" for i in busy):
            assert time.monotonic() < deadline
            time.sleep(0.2)
        # (a seed no other test uses: an identical earlier run would be replayed, not queued)
        page.goto(server_url + "/labs/training" + SMALL.replace("seed=3", "seed=47"))
        page.wait_for_selector(READY, timeout=60_000)
        page.click("#run")
        page.wait_for_function("() => document.querySelector('#run-status').textContent.includes('yours is next')",
                               timeout=30_000)
        assert "(2 training now)" in page.text_content("#run-status")
    finally:
        for i in busy:
            _api(server_url, f"/api/v1/jobs/{i}", "DELETE")
    page.wait_for_function(FINAL, timeout=120_000)  # a thread frees up: the run trains and ends
    assert page.locator("#run-status").get_attribute("data-status") == "succeeded"
