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


def test_entropy_coin_and_categorical(page, server_url):
    ready(page, server_url + "/labs/entropy?coin=0.5&p=1,1,1,1,1,1,1,1,1,1")
    assert float(page.locator("#bernoulli").get_attribute("data-h")) == pytest.approx(1.0)
    assert float(page.locator("#stats").get_attribute("data-bits")) == pytest.approx(math.log2(10))
    page.locator("input[name=coin]").fill("0.9")
    page.wait_for_function("() => document.getElementById('bernoulli').data[1].x[0] === 0.9")
    assert data(page, "bernoulli", 1)[0] == pytest.approx(0.468996, abs=1e-6)
    page.click("#preset-onehot")
    page.wait_for_function("() => Number(document.getElementById('stats').dataset.bits) === 0")
    assert "coin=0.9" in page.url and "p=1,0,0" in page.url


def test_softmax_temperature_raises_entropy(page, server_url):
    ready(page, server_url + "/labs/softmax?logits=2,1,0&temperature=1&label=0")
    e = [math.exp(v) for v in (2, 1, 0)]
    assert data(page, "probs", 0) == pytest.approx([v / sum(e) for v in e], rel=1e-12)
    h1 = float(page.locator("#entropy-t").get_attribute("data-h"))
    page.locator("input[name=temperature]").fill("10")
    page.wait_for_function(f"() => Number(document.getElementById('entropy-t').dataset.h) > {h1}")
    assert "temperature=10" in page.url
    assert max(data(page, "probs", 0)) < 0.4
