"""Every lab linked from the home page loads in Chromium, draws its plots, and stays on 127.0.0.1."""

import pytest

pytestmark = pytest.mark.browser


def lab_links(page, server_url) -> list[str]:
    page.goto(server_url + "/")
    return sorted(set(page.eval_on_selector_all("a[href^='/labs/']", "els => els.map(e => e.getAttribute('href'))")))


def test_home_page_lists_the_five_lenses_in_order(page, server_url):
    page.goto(server_url + "/")
    titles = page.eval_on_selector_all(".lenses > .lens h2", "els => els.map(e => e.textContent.trim())")
    assert [t.split(" ", 1)[1] for t in titles] == [
        "Linear algebra", "Calculus", "Probability", "Optimization", "Information theory",
    ]
    assert page.locator("#training").is_visible()
    assert lab_links(page, server_url), "the home page links no lab"


def test_every_linked_lab_draws_its_plots(page, server_url):
    links = lab_links(page, server_url)
    for href in links:
        page.goto(server_url + href)
        # Each lab sets data-ready on <body> once its first plots are drawn.
        page.wait_for_selector("body[data-ready='1']", timeout=60_000)
        n = page.locator(".js-plotly-plot").count()
        assert n >= 1, f"{href} drew no plot"
        assert page.locator(".where-ml").count() == 1, f"{href} does not say where its math appears in ML"


def test_static_files_are_versioned_compressed_and_cached(page, server_url):
    import urllib.request

    page.goto(server_url + "/labs/gradient-descent")
    src = page.eval_on_selector("script[src*='plotly']", "e => e.getAttribute('src')")
    req = urllib.request.Request(server_url + src, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req) as r:
        body = r.read()
        assert r.headers["Content-Encoding"] == "gzip"
        assert "immutable" in r.headers["Cache-Control"]
    assert len(body) < 2_000_000  # ~4.8 MB raw
