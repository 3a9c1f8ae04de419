"""Linear-algebra labs in Chromium: a control moves a plot, and the URL keeps the state."""

import pytest

pytestmark = pytest.mark.browser


def ready(page, url):
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)


def test_matrix_transform_slider_and_preset(page, server_url):
    ready(page, server_url + "/labs/matrix-transform?matrix=2,0,0,0.5")
    tip = "() => { const d = document.getElementById('plane').data; const t = d.find(x => x.name === 'A e₁'); return [t.x[1], t.y[1]]; }"
    # Scrub to the last frame (again on each poll: a late first response may reset the player);
    # there the image of e1 is A e1 exactly.
    page.wait_for_function(
        "() => { const s = document.querySelector('#player .pl-scrub'); s.value = s.max;"
        " s.dispatchEvent(new Event('input', {bubbles: true}));"
        f" const t = ({tip})(); return Math.abs(t[0] - 2) < 1e-12 && Math.abs(t[1]) < 1e-12; }}",
        timeout=60_000,
    )
    assert "λ₁ = 2" in page.locator("#facts").inner_text()
    page.locator("input[name=a]").fill("3")
    page.wait_for_function("() => document.getElementById('plane').data.find(x => x.name === 'A e₁').x[1] === 3")
    assert "matrix=3,0,0,0.5" in page.url
    page.select_option("#preset", "projection")
    page.wait_for_function("() => document.getElementById('facts').innerText.includes('collapses onto a line')")
    page.select_option("#preset", "rotation")
    page.wait_for_function("() => document.getElementById('facts').innerText.includes('complex')")


def test_pca_k_and_correlation_change_the_plots(page, server_url):
    ready(page, server_url + "/labs/pca?n_samples=200&correlation=0.5&n_components=1")
    ratio = page.evaluate("() => document.getElementById('scree').data[0].y[0]")
    page.locator("input[name=correlation]").fill("0.95")
    page.wait_for_function(f"() => document.getElementById('scree').data[0].y[0] > {ratio}")
    assert "correlation=0.95" in page.url
    page.locator("input[name=n_components]").fill("2")
    page.wait_for_function("() => document.getElementById('facts').innerText.includes('Keep k = 2')")


def test_svd_rank_slider_rebuilds_the_image(page, server_url):
    ready(page, server_url + "/labs/svd?image=pattern&rank=1")
    src = "() => document.getElementById('picture').data[0].source"
    one = page.evaluate(src)
    page.locator("input[name=rank]").fill("60")
    page.wait_for_function("() => document.getElementById('img-title').textContent.startsWith('Rank-60')")
    sixty = page.evaluate(src)
    assert one.startswith("data:image/png;base64,") and one != sixty
    # The picture shows exactly the API's rank-60 pixels (the PNG decoded by the browser).
    rgba = page.evaluate("""async (src) => {
        const img = new Image(); img.src = src; await img.decode();
        const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
        const g = c.getContext('2d'); g.drawImage(img, 0, 0);
        return Array.from(g.getImageData(0, 100, 40, 1).data);
    }""", sixty)
    api = page.evaluate("""async () => (await (await fetch('/api/v1/linalg/lowrank', {method: 'POST',
        headers: {'content-type': 'application/json'}, body: JSON.stringify({image: 'pattern', rank: 60})})).json()).pixels[100].slice(0, 40)""")
    assert rgba[0::4] == api and len(api) == 40
    assert "rank=60" in page.url
