"""The teacher's view in Chromium: the token gate, every job listed live, and Stop."""

from __future__ import annotations

import json
import urllib.request

import pytest

pytestmark = pytest.mark.browser

# Dropout sends the run down the torch path: far longer than the test, so it is still live.
LONG = {"dataset": {"name": "moons", "n_samples": 1000}, "model": {"hidden": [16, 16], "dropout": 0.1},
        "optimizer": {"name": "sgd", "lr": 0.05}, "epochs": 2000, "batch_size": 8}


def _call(url: str, method: str = "GET", body: dict | None = None) -> dict:
    req = urllib.request.Request(url, method=method, data=None if body is None else json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def test_teacher_lists_every_job_and_stops_one(page, server_url, teacher_token):
    page.goto(server_url + "/teacher")
    page.wait_for_selector("body[data-ready='1']")
    assert page.locator("#jobs-panel").is_hidden()

    # A wrong token is refused in words and lists nothing.
    page.fill("#token", "not-the-token")
    page.click("#token-form button[type=submit]")
    page.wait_for_function("() => document.querySelector('#teacher-error').textContent !== ''")
    assert page.text_content("#teacher-error") == "That is not the teacher token."
    assert page.locator("#jobs-panel").is_hidden()
    page.watch.errors = [e for e in page.watch.errors if "401" not in e]  # that refusal was the point

    ids = [_call(server_url + "/api/v1/jobs", "POST", {"config": {**LONG, "seed": s}, "fresh": True})["id"]
           for s in (11, 12)]
    try:
        page.fill("#token", teacher_token)
        page.click("#token-form button[type=submit]")
        for job_id in ids:
            page.wait_for_selector(f"#jobs-table tr[data-id='{job_id}']")
        assert page.text_content("#teacher-error") == ""
        assert teacher_token not in page.url  # the token stays out of the address
        text = page.text_content(f"#jobs-table tr[data-id='{ids[0]}']")
        assert "moons, 1000 points" in text and "16-16 tanh" in text and "sgd lr 0.05" in text
        assert "/ 2000" in text
        summary = page.text_content("#jobs-summary")
        assert "Queue:" in summary and "of 64 places in use" in summary

        # Stop: the server cancels the job and the row follows on the next refresh.
        page.click(f"#jobs-table tr[data-id='{ids[0]}'] button.stop")
        page.wait_for_selector(f"#jobs-table tr[data-id='{ids[0]}'][data-status='cancelled']", timeout=20_000)
        assert _call(f"{server_url}/api/v1/jobs/{ids[0]}")["status"] == "cancelled"
        assert page.locator(f"#jobs-table tr[data-id='{ids[0]}'] button.stop").count() == 0

        # Forget the token: the list goes away until it is given again.
        page.click("#forget")
        assert page.locator("#jobs-panel").is_hidden()
        assert page.evaluate("() => sessionStorage.getItem('mathlens-teacher-token')") is None
    finally:
        for job_id in ids:
            _call(f"{server_url}/api/v1/jobs/{job_id}", "DELETE")
