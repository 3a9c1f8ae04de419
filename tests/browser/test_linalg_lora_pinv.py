"""LoRA and least-squares labs in Chromium: a control moves the plots, checked against numpy."""

import numpy as np
import pytest

pytestmark = pytest.mark.browser


def ready(page, url):
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)


def test_lora_rank_slider_moves_the_error_and_the_factors(page, server_url):
    ready(page, server_url + "/labs/lora?d=32&rank=2&decay=0.7&seed=0")
    now = "() => document.getElementById('error-curve').data[3]"
    assert page.evaluate(now + ".x[0]") == 2
    e2 = page.evaluate(now + ".y[0]")
    page.locator("input[name=rank]").fill("8")
    page.wait_for_function(now + ".x[0] === 8")
    curve = np.array(page.evaluate("() => document.getElementById('error-curve').data[1].y"))
    e8 = page.evaluate(now + ".y[0]")
    assert e8 < e2 and e8 == pytest.approx(curve[8])
    # σ_i ∝ 0.7^i, so the relative error of the best rank-r update is √(Σ_{i≥r} 0.7^{2i} / Σ_i 0.7^{2i})
    s2 = 0.7 ** (2 * np.arange(32))
    np.testing.assert_allclose(curve, np.sqrt(np.append(np.cumsum(s2[::-1])[::-1], 0) / s2.sum()), atol=1e-9)
    # B is d×r and A is r×d on the factor picture
    assert page.evaluate("() => document.getElementById('factors').data[1].z[0].length") == 8
    assert page.evaluate("() => document.getElementById('factors').data[2].z.length") == 8
    assert "rank=8" in page.url
    assert "512 (50% of d²)" in page.locator("#stats").inner_text()
    # A flat spectrum: error √(1 − r/d), no low-rank shortcut
    page.get_by_role("button", name="Flat (decay 1)").click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('decay') === '1'")
    page.wait_for_function(now + f".y[0] > {e8 + 0.5}")
    assert page.evaluate(now + ".y[0]") == pytest.approx(np.sqrt(1 - 8 / 32), abs=1e-9)


def test_pseudoinverse_offset_raises_kappa_and_ridge_filters(page, server_url):
    ready(page, server_url + "/labs/pseudoinverse?n_samples=30&degree=3&x_offset=0&ridge=0")
    x0 = np.array(page.evaluate("() => document.getElementById('fit').data[0].x"))
    assert np.all(np.abs(x0) <= 1)
    k0 = page.evaluate("() => document.getElementById('spectrum').data[0].y")
    assert k0[0] / k0[-1] == pytest.approx(np.linalg.cond(np.vander(x0, 4, increasing=True)), rel=1e-8)
    page.locator("input[name=x_offset]").fill("30")
    page.wait_for_function("() => document.getElementById('fit').data[0].x[0] > 20")
    x = np.array(page.evaluate("() => document.getElementById('fit').data[0].x"))
    S = np.array(page.evaluate("() => document.getElementById('spectrum').data[0].y"))
    kappa = np.linalg.cond(np.vander(x, 4, increasing=True))
    assert kappa > 1e9 and S[0] / S[-1] == pytest.approx(kappa, rel=1e-6)
    mant, exp = f"{kappa:.1e}".split("e")
    assert page.locator("#cond").inner_text() == f"{mant}e{int(exp)}"
    assert "x_offset=30" in page.url
    # no ridge: every filter factor is 1; λ = 1e-6 damps the σ below √λ = 1e-3
    assert page.evaluate("() => document.getElementById('spectrum').data[1].y") == [1, 1, 1, 1]
    page.locator("input[name=ridge]").fill("1e-6")
    page.wait_for_function("() => document.getElementById('spectrum').data[1].y[3] < 0.5")
    f = np.array(page.evaluate("() => document.getElementById('spectrum').data[1].y"))
    np.testing.assert_allclose(f, S**2 / (S**2 + 1e-6), rtol=1e-9)
    assert "Ridge (λ = 1.0e-6) shrinks ‖w‖" in page.locator("#verdict").inner_text()
    rows = page.locator("#methods tbody tr")
    assert rows.count() == 4
