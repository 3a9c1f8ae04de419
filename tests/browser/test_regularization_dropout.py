"""Regularization and dropout labs in Chromium: a control moves a plot, and the URL keeps the state."""

import pytest

pytestmark = pytest.mark.browser


def ready(page, url):
    page.goto(url, wait_until="commit")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)


def test_regularization_radius_moves_the_ball_and_l1_lands_on_an_axis(page, server_url):
    ready(page, server_url + "/labs/regularization?w_ols=2,0.8&rho=0.5&r=1&sigma=1&n=50")
    # trace 3 is the L2 ball: its largest x is r
    page.wait_for_function("() => Math.abs(Math.max(...document.getElementById('geo').data[3].x) - 1) < 1e-9")
    l1 = page.evaluate("() => { const t = document.getElementById('geo').data.find(t => t.name === 'L1-constrained (SLSQP)'); return [t.x[0], t.y[0]]; }")
    assert abs(l1[1]) < 1e-9 and abs(l1[0] - 1) < 1e-6  # on the w1 axis
    assert "sparse" in page.locator("#facts").inner_text()
    page.locator("input[name=r]").fill("0.5")
    page.wait_for_function("() => Math.abs(Math.max(...document.getElementById('geo').data[3].x) - 0.5) < 1e-9")
    # the L2-constrained point now lies on the smaller circle
    page.wait_for_function("() => { const t = document.getElementById('geo').data.find(t => t.name === 'L2-constrained (SLSQP)'); return Math.abs(Math.hypot(t.x[0], t.y[0]) - 0.5) < 1e-6; }")
    assert "r=0.5" in page.url
    # the paths: the lasso plot has one line per feature (+ the true-coefficient markers)
    page.wait_for_function("() => document.getElementById('lasso').data.length === 21")
    page.locator("input[name=n_features]").fill("10")
    page.wait_for_function("() => document.getElementById('lasso').data.length === 11")
    assert "n_features=10" in page.url
    page.watch.errors[:] = [e for e in page.watch.errors if "ERR_ABORTED" not in e]


def test_a_link_keeps_a_radius_below_the_slider(page, server_url):
    """r only has to be > 0 (the API's bound): a link with a tiny radius opens on that radius."""
    ready(page, server_url + "/labs/regularization?r=0.004")
    page.wait_for_function("() => Math.abs(Math.max(...document.getElementById('geo').data[3].x) - 0.004) < 1e-12")
    assert page.locator("input[name=r]").input_value() == "0.004"
    ready(page, server_url + "/labs/regularization?r=0")  # out of bounds: the default stays
    page.wait_for_function("() => Math.abs(Math.max(...document.getElementById('geo').data[3].x) - 1) < 1e-9")


def test_dropout_p_zero_collapses_the_ensemble(page, server_url):
    ready(page, server_url + "/labs/dropout?p=0.3&width=16&depth=1&steps=100&n_samples=50")
    std_max = "() => Math.max(...document.getElementById('std').data[0].y)"
    assert page.evaluate(std_max) > 0.01
    assert page.evaluate("() => document.getElementById('masks').data[0].z.length") == 20
    page.locator("input[name=p]").fill("0")
    page.wait_for_function(f"() => ({std_max})() < 1e-12")  # one network: no spread at all
    assert "p=0" in page.url
    page.locator("input[name=n_samples]").fill("8")
    page.wait_for_function("() => document.getElementById('masks').data[0].z.length === 8")
    assert "n_samples=8" in page.url
    page.watch.errors[:] = [e for e in page.watch.errors if "ERR_ABORTED" not in e]
