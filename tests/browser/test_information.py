"""Information-theory labs in Chromium: each page draws, a control moves a plot, the URL keeps the state."""

import math

import pytest

pytestmark = pytest.mark.browser


def ready(page, url):
    page.set_default_timeout(90_000)  # slow CI: Plotly takes a while; nothing here sleeps
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)


def data(page, plot, i=0, key="y"):
    return page.evaluate(f"() => document.getElementById('{plot}').data[{i}].{key}")


def test_kl_sliders_move_bars_and_identity(page, server_url):
    ready(page, server_url + "/labs/kl-divergence?p=1,1&q=1,1&base=2")
    assert data(page, "dist", 0) == [0.5, 0.5]
    assert page.locator("#stats").get_attribute("data-klpq") == "0"
    page.locator("input[name=q0]").fill("0.25")  # q = (0.2, 0.8)
    page.wait_for_function("() => Math.abs(document.getElementById('dist').data[1].y[0] - 0.2) < 1e-9")
    kl = float(page.locator("#stats").get_attribute("data-klpq"))
    assert kl == pytest.approx(0.5 * math.log2(0.5 / 0.2) + 0.5 * math.log2(0.5 / 0.8), rel=1e-9)
    assert "q=0.25,1" in page.url
    page.click("#preset-zero")
    page.wait_for_function("() => document.getElementById('stats').dataset.klpq === 'inf'")
    assert "∞" in page.locator("#identity").inner_text()


def test_kl_vae_sigma_slider(page, server_url):
    ready(page, server_url + "/labs/kl-divergence?mu_p=0&sigma_p=1&vae=true")
    assert data(page, "vae", 1)[0] == pytest.approx(0, abs=1e-12)
    page.locator("input[name=sigma_p]").fill("2")
    page.wait_for_function("() => document.getElementById('vae').data[1].x[0] === 2")
    assert data(page, "vae", 1)[0] == pytest.approx(0.5 * (4 - 1) - math.log(2), rel=1e-9)
    assert "sigma_p=2" in page.url
