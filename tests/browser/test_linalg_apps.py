"""Browser tests of the linear-algebra-at-work labs: a key interaction each, state in the URL."""

import pytest

pytestmark = pytest.mark.browser


def ready(page, url):
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)


def node_xy(page, i):
    """Page pixel position of node i of the PageRank graph."""
    return page.evaluate("""(i) => {
        const gd = document.getElementById('graph'); const fl = gd._fullLayout;
        const r = gd.getBoundingClientRect();
        return [r.left + fl.xaxis._offset + fl.xaxis.l2p(gd.data[0].x[i]),
                r.top + fl.yaxis._offset + fl.yaxis.l2p(gd.data[0].y[i])];
    }""", i)


def test_pagerank_click_two_nodes_adds_a_link_and_the_ranks_move(page, server_url):
    ready(page, server_url + "/labs/pagerank?n_nodes=3&edges=0-1,1-2,2-0&damping=0.85")
    # a ring: every page equal
    eig = page.evaluate("() => document.getElementById('bars').data[1].y")
    assert eig == pytest.approx([1 / 3] * 3, abs=1e-9)
    for i in (0, 2):
        xy = node_xy(page, i)
        page.mouse.move(*xy)
        # Plotly clicks the point under its hover label: wait for the label, then click
        page.wait_for_selector("#graph .hovertext")
        page.mouse.click(*xy)
        if i == 0:
            page.wait_for_function("() => document.getElementById('graph').data[0].marker.line.width[0] === 4")
    page.wait_for_function("() => new URLSearchParams(location.search).get('edges') === '0-1,1-2,2-0,0-2'")
    page.wait_for_function("() => Math.abs(document.getElementById('bars').data[1].y[2] - 1/3) > 0.01")
    eig = page.evaluate("() => document.getElementById('bars').data[1].y")
    assert eig[2] > eig[1]  # page 2 gained a second in-link
    assert "0>2" in page.input_value("#edges")


def test_pagerank_player_steps_and_typed_links(page, server_url):
    ready(page, server_url + "/labs/pagerank?n_nodes=4&edges=0-1,0-2,1-2,2-0,2-3&damping=0.5")
    page.locator("#player button[aria-label='Pause'], #player button[aria-label='Play']").first.click()
    page.fill("#edges", "0>1, 1>0, 2>0")
    page.wait_for_function("() => document.getElementById('bars').data[0].x.length === 4 && new URLSearchParams(location.search).get('edges') === '0-1,1-0,2-0'")
    page.wait_for_function("() => document.getElementById('graph').data[0].marker.line.color[3] === '#D55E00'")  # 3 dangling
    page.fill("#edges", "0>9")
    assert "outside" in page.text_content("#edges-error")
