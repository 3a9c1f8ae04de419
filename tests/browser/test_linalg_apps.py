"""Browser tests of the linear-algebra-at-work labs: a key interaction each, state in the URL."""

import pytest

pytestmark = pytest.mark.browser


def ready(page, url):
    page.goto(url, timeout=60_000)  # Plotly is 4.8 MB: generous on a loaded CI machine
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)


def test_pagerank_click_two_nodes_adds_a_link_and_the_ranks_move(page, server_url):
    ready(page, server_url + "/labs/pagerank?n_nodes=3&edges=0-1,1-2,2-0&damping=0.85")
    # a ring: every page equal
    eig = page.evaluate("() => document.getElementById('bars').data[1].y")
    assert eig == pytest.approx([1 / 3] * 3, abs=1e-9)
    # Plotly's own click detection needs its hover label first, which races under load; the
    # page's handler gets exactly the event Plotly emits for a click on node i.
    click = """(i) => document.getElementById('graph').emit('plotly_click',
        {points: [{curveNumber: 0, pointIndex: i, pointNumber: i}]})"""
    page.evaluate(click, 0)
    page.wait_for_function("() => document.getElementById('graph').data[0].marker.line.width[0] === 4")
    page.evaluate(click, 2)
    page.wait_for_function("() => new URLSearchParams(location.search).get('edges') === '0-1,1-2,2-0,0-2'")
    page.wait_for_function("() => Math.abs(document.getElementById('bars').data[1].y[2] - 1/3) > 0.01")
    eig = page.evaluate("() => document.getElementById('bars').data[1].y")
    assert eig[2] > eig[1]  # page 2 gained a second in-link
    assert "0>2" in page.input_value("#edges")
    # Clicking the same pair again removes the link: back to the ring's equal ranks.
    page.evaluate(click, 0)
    page.wait_for_function("() => document.getElementById('graph').data[0].marker.line.width[0] === 4")
    page.evaluate(click, 2)
    page.wait_for_function("() => new URLSearchParams(location.search).get('edges') === '0-1,1-2,2-0'")
    page.wait_for_function("() => Math.abs(document.getElementById('bars').data[1].y[2] - 1/3) < 1e-9")


def test_pagerank_player_steps_and_typed_links(page, server_url):
    ready(page, server_url + "/labs/pagerank?n_nodes=4&edges=0-1,0-2,1-2,2-0,2-3&damping=0.5")
    page.locator("#player button[aria-label='Pause'], #player button[aria-label='Play']").first.click()
    page.fill("#edges", "0>1, 1>0, 2>0")
    page.wait_for_function("() => document.getElementById('bars').data[0].x.length === 4 && new URLSearchParams(location.search).get('edges') === '0-1,1-0,2-0'")
    page.wait_for_function("() => document.getElementById('graph').data[0].marker.line.color[3] === '#D55E00'")  # 3 dangling
    page.fill("#edges", "0>9")
    assert "outside" in page.text_content("#edges-error")


def test_spectral_switch_to_circles_keeps_spectral_right_and_kmeans_wrong(page, server_url):
    ready(page, server_url + "/labs/spectral-clustering?dataset=moons&n_samples=200&seed=1")
    x0 = page.evaluate("() => document.getElementById('kmeans').data[0].x.slice(0, 5)")
    assert "100.0%" in page.text_content("#spec-title")
    page.select_option("select[name=dataset]", "circles")
    page.wait_for_function("() => new URLSearchParams(location.search).get('dataset') === 'circles'")
    page.wait_for_function("(x0) => JSON.stringify(document.getElementById('kmeans').data[0].x.slice(0, 5)) !== JSON.stringify(x0)", arg=x0)
    page.wait_for_function("() => document.getElementById('spec-title').textContent.includes('100.0%')")
    assert float(page.text_content("#km-title").split(": ")[1].rstrip("%")) < 70
    page.select_option("select[name=colour]", "fiedler")
    page.wait_for_function("() => !!document.getElementById('spectral').data[1].marker.colorscale")


def test_attention_causal_mask_zeroes_the_future_and_rows_sum_to_one(page, server_url):
    ready(page, server_url + "/labs/attention?tokens=the+cat+sat+on+the+mat&embed_dim=4&seed=0")
    w = page.evaluate("() => document.getElementById('weights').data[0].z")
    assert w[0][5] > 0
    page.check("input[name=causal]")
    page.wait_for_function("() => new URLSearchParams(location.search).get('causal') === 'true'")
    page.wait_for_function("() => document.getElementById('weights').data[0].z[0][5] === 0")
    w = page.evaluate("() => document.getElementById('weights').data[0].z")
    for i, row in enumerate(w):
        assert sum(row) == pytest.approx(1, abs=1e-9)
        assert all(v == 0 for v in row[i + 1:])
    assert page.evaluate("() => document.getElementById('scores').data[0].z[0][1]") is None
    assert "(1, 6, 6)" in page.text_content("#scores-title")
    page.fill("#tokens", "a b c")
    page.wait_for_function("() => document.getElementById('weights').data[0].z.length === 3")
    assert "(1, 3, 4)" in page.text_content("#shapes")


def test_convolution_mode_changes_the_toeplitz_rows_and_matches_numpy(page, server_url):
    ready(page, server_url + "/labs/convolution?signal=0,0,1,1,1,0,0&kernel=1,0,-1&mode=full")
    assert len(page.evaluate("() => document.getElementById('toeplitz').data[0].z")) == 9
    page.select_option("select[name=mode]", "valid")
    page.wait_for_function("() => document.getElementById('toeplitz').data[0].z.length === 5")
    y = page.evaluate("() => document.getElementById('signals').data[1].y")
    ref = page.evaluate("() => document.getElementById('signals').data[2].y")
    assert y == ref == [1, 1, 0, -1, -1]  # numpy.convolve([0,0,1,1,1,0,0], [1,0,-1], 'valid')
    page.fill("#kernel", "1, x")
    assert "not a number" in page.text_content("#kernel-error")
    page.select_option("select[name=image_kernel_preset]", "blur")
    page.wait_for_function("() => document.getElementById('kernel2d').data[0].z[0][0] === 0.11")
    assert "= 0" in page.text_content("#b-note")


def test_embeddings_analogy_preset_and_unknown_word(page, server_url):
    ready(page, server_url + "/labs/embeddings")
    assert page.evaluate("() => document.getElementById('analogy').data[0].y.at(-1)") == "queen"
    page.select_option("select[name=analogy_preset]", "paris,france,italy")
    page.wait_for_function("() => document.getElementById('analogy').data[0].y.at(-1) === 'rome'")
    assert new_query(page)["analogy"] == "paris,france,italy"
    page.fill("#c", "unicornland")
    assert "unicornland" in page.text_content("#analogy-error")
    page.fill("#c", "japan")
    page.wait_for_function("() => document.getElementById('analogy').data[0].y.at(-1) === 'tokyo'")
    # too few dimensions: the analogy breaks
    page.fill("input[name=rank]", "8")
    page.wait_for_function("() => document.getElementById('analogy').data[0].y.at(-1) !== 'tokyo'")
    assert "tokyo" not in page.text_content("#analogy-verdict")


def new_query(page):
    from urllib.parse import parse_qs, urlparse

    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}
