"""Calculus labs in Chromium: a control moves a plot, and the URL keeps the state."""

import pytest

pytestmark = pytest.mark.browser


def ready(page, url):
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)


def test_gradient_flow_depth_and_preset(page, server_url):
    ready(page, server_url + "/labs/gradient-flow?depth=10&width=32&activation=sigmoid&init=xavier&steps=2")
    assert page.evaluate("() => document.getElementById('norms').data[0].y.length") == 10
    page.locator("input[name=depth]").fill("20")
    page.wait_for_function("() => document.getElementById('norms').data[0].y.length === 20")
    assert "depth=20" in page.url
    small = page.evaluate("() => { const y = document.getElementById('norms').data[0].y; return y[0] / y[y.length - 1]; }")
    assert small < 1e-3  # sigmoid: vanishing towards the input
    page.get_by_role("button", name="ReLU + He + residual + LayerNorm").click()
    page.wait_for_function("() => { const y = document.getElementById('norms').data[0].y; return y.length === 30 && Math.max(...y) / Math.min(...y) < 10; }")
    assert "residual=true" in page.url and "norm=layer" in page.url
