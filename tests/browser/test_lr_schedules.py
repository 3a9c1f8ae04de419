"""The learning-rate-schedules lab in Chromium: controls move the plots, and the URL keeps the state."""

import re

import pytest

pytestmark = pytest.mark.browser

SMALL = "epochs=10&n_samples=100&batch_size=16&hidden=6"


def ready(page, url):
    page.goto(url, wait_until="commit")  # the wait below (60 s) bounds it, on a busy CI machine too
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)


def n_traces(page, plot):
    return page.evaluate(f"() => document.getElementById('{plot}').data.length")


def test_schedules_toggle_and_parameters_move_the_curves(page, server_url):
    ready(page, server_url + f"/labs/lr-schedules?schedules=constant,step&step.step_size=10&step.gamma=0.5&lr=0.4&{SMALL}")
    # 70 training points / 16 per batch = 5 steps per epoch, 10 epochs: 50 steps
    lr = page.evaluate("() => document.getElementById('lr-plot').data[1].y")
    assert len(lr) == 50 and lr[0] == pytest.approx(0.4) and lr[10] == pytest.approx(0.2) and lr[49] == pytest.approx(0.4 / 16)
    assert n_traces(page, "loss-plot") == 2 and len(page.locator("#summary tbody tr").all()) == 2
    page.locator("input[name='step.gamma']").fill("0.1")
    page.wait_for_function("() => Math.abs(document.getElementById('lr-plot').data[1].y[10] - 0.04) < 1e-12")
    assert "step.gamma=0.1" in page.url
    page.locator("label", has_text="one-cycle").click()
    page.wait_for_function("() => document.getElementById('lr-plot').data.length === 3")
    peak = page.evaluate("() => Math.max(...document.getElementById('lr-plot').data[2].y)")
    assert peak == pytest.approx(0.4, rel=1e-9)
    assert "schedules=constant,step,onecycle" in page.url
    assert page.locator("input[name='onecycle.pct_start']").is_visible()
    page.watch.errors[:] = [e for e in page.watch.errors if "ERR_ABORTED" not in e]


def test_too_high_lr_is_flagged_and_a_bad_request_shows_its_message(page, server_url):
    ready(page, server_url + "/labs/lr-schedules?schedules=constant,cosine&lr=10&epochs=30&n_samples=200")
    page.wait_for_function("() => document.querySelector('#summary tbody tr td.status').textContent.includes('diverged')")
    assert page.locator("#legend .lr-diverged").count() >= 1
    page.locator("input[name=lr]").fill("0.3")
    page.wait_for_function("() => document.querySelector('#summary tbody tr td.status').textContent.startsWith('trained')")
    assert "lr=0.3" in page.url
    # more work than one request may do: the server's 422 message reaches the page. One request
    # at a time, each awaited, so no 422 can arrive after the check below.
    page.locator("input[name=epochs]").fill("200")
    page.wait_for_function("() => document.getElementById('acc-plot').data[0].x.length === 201")
    page.locator("input[name=n_samples]").fill("400")
    page.wait_for_function("() => document.getElementById('run-facts').textContent.startsWith('280 training')")
    page.locator("input[name=width]").fill("32")
    page.wait_for_function("() => document.getElementById('error').textContent.includes('too much work')")
    assert "hidden=32" in page.url
    allowed = (r"HTTP 422: .*/api/v1/optimization/lr-schedules", r"console: Failed to load resource: .* 422", r"net::ERR_ABORTED")
    page.watch.errors[:] = [e for e in page.watch.errors if not any(re.search(a, e) for a in allowed)]


def test_preset_and_axis_toggle(page, server_url):
    ready(page, server_url + f"/labs/lr-schedules?{SMALL}&lr_axis=log&show_test=1")
    assert page.evaluate("() => document.getElementById('lr-plot').layout.yaxis.type") == "log"
    assert n_traces(page, "loss-plot") == 12  # six train + six dashed test curves
    page.get_by_role("button", name="Adam, transformer-style").click()
    page.wait_for_function("() => document.getElementById('lr-plot').data.length === 3")
    assert "optimizer=adam" in page.url and "schedules=constant,cosine,warmup_cosine" in page.url
    page.locator("#lr_axis").select_option("linear")
    page.wait_for_function("() => document.getElementById('lr-plot').layout.yaxis.type === 'linear'")
    assert "lr_axis" not in page.url
    page.watch.errors[:] = [e for e in page.watch.errors if "ERR_ABORTED" not in e]
