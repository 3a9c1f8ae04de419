"""The landscapes lab in Chromium: controls move the plots, and the URL keeps the state."""

import pytest

pytestmark = pytest.mark.browser


def ready(page, url):
    page.goto(url, wait_until="commit")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)


def test_slice_resolution_and_model_columns(page, server_url):
    ready(page, server_url + "/labs/landscapes?resolution=11&steps=40&n_samples=80&saddle_steps=100")
    z_len = "(id) => document.getElementById(id).data[0].z.length"
    assert page.evaluate(z_len, "slice-logistic") == 11 and page.evaluate(z_len, "slice-mlp") == 11
    assert "slice 0 %" in page.locator("#facts-logistic").inner_text()  # convex: no negative second difference
    page.locator("input[name=resolution]").fill("15")
    page.wait_for_function("() => ['slice-logistic', 'slice-mlp'].every((id) => document.getElementById(id).data[0].z.length === 15)")
    assert "resolution=15" in page.url
    # a network-only control redraws the MLP column
    before = page.evaluate("() => document.getElementById('facts-mlp').innerText")
    page.locator("input[name=hidden]").fill("3")
    page.wait_for_function("(b) => document.getElementById('facts-mlp').innerText !== b && document.getElementById('facts-mlp').innerText.includes('2→3')", arg=before)
    assert "hidden=3" in page.url
    assert "so the loss is not convex" in page.locator("#perm-note").inner_text()
    page.watch.errors[:] = [e for e in page.watch.errors if "ERR_ABORTED" not in e]


def test_saddle_on_the_stable_manifold(page, server_url):
    ready(page, server_url + "/labs/landscapes?resolution=5&steps=10&saddle_steps=200&start=1.5,0")
    facts = "() => document.getElementById('saddle-facts').innerText"
    page.wait_for_function(f"() => ({facts})().includes('y = 0 exactly')")
    gd_y = page.evaluate("() => document.getElementById('saddle-paths').data.find((t) => t.name === 'plain GD').y")
    assert max(abs(v) for v in gd_y) == 0
    page.locator("select[name=y0]").select_option("1e-8")
    page.wait_for_function(f"() => ({facts})().includes('predicted')")
    assert "start=1.5,1e-8" in page.url
    page.locator("input[name=noise_std]").fill("0")
    page.wait_for_function(f"() => ({facts})().includes('0 of 5 escaped')")
    page.watch.errors[:] = [e for e in page.watch.errors if "ERR_ABORTED" not in e]
