"""The gradient-descent lab in Chromium: it draws, its controls drive the API and the URL, the URL
restores the view, errors stay inline, and the shared player steps the animation."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

pytestmark = pytest.mark.browser

LAB = "/labs/gradient-descent"
# A small, fast state: one SGD run on Rosenbrock for 60 steps.
SMALL = "?function=rosenbrock&steps=60&schedule=constant&opt0_name=sgd&opt0_lr=0.001&starts=-1.5,2"


def open_lab(page, server_url, query: str = "", *, paused: bool = True):
    # Not waiting for "load": on a busy machine parsing Plotly.js alone can take half a minute.
    # The page says when it has drawn (data-ready); that is the signal that matters.
    page.set_default_timeout(60_000)
    page.goto(server_url + LAB + query, wait_until="commit")
    page.wait_for_selector("body[data-ready='1']", timeout=120_000)
    if paused and page.get_attribute("#player", "data-playing") == "1":
        page.click("#player .pl-play")
    return page


def query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(page.url).query).items()}


def routes(page) -> list[list[float | None]]:
    """x of each optimizer's route on the contour plot, read from Plotly's gd.data."""
    return page.evaluate(
        "() => document.querySelector('#contour').data"
        ".filter(t => t.type === 'scatter' && t.mode === 'lines').map(t => Array.from(t.x))"
    )


def expect_only(page, *allowed: str) -> None:
    """Drop the watcher's entries that a test provokes on purpose (matched by regex), so the
    fixture still fails on anything else: a JS error, a 5xx, a request leaving the server."""
    page.watch.errors[:] = [
        e for e in page.watch.errors if not any(re.search(a, e) for a in allowed)
    ]


# Requests replaced by newer ones are aborted on purpose (AbortController): the browser reports
# them as failed requests. They are the design, not a fault.
ABORTED = r"failed request: .*/api/v1/(optimize|surface|expression) net::ERR_ABORTED"


def test_draws_contour_loss_and_schedule(page, server_url):
    open_lab(page, server_url)
    kinds = page.evaluate("() => document.querySelector('#contour').data.map(t => t.type)")
    assert kinds[0] == "contour"
    # The page's default race: three optimizers, each with a route on the contour and a loss curve.
    n_opt = page.locator("#opt-cards .opt-card").count()
    assert n_opt == 3
    assert len(routes(page)) == n_opt
    loss = page.evaluate(
        "() => document.querySelector('#loss').data.map(t => t.y.filter(v => v !== null).length)"
    )
    assert len(loss) == n_opt and all(n > 10 for n in loss)
    assert page.evaluate("() => document.querySelector('#loss')._fullLayout.yaxis.type") == "log"
    assert page.evaluate("() => document.querySelector('#lr').data.length") == n_opt
    assert page.locator("#summary tbody tr").count() == n_opt
    # The update rule of each optimizer is typeset (MathML from the catalog).
    assert page.locator("#opt-cards .update-rule math").count() >= n_opt
    # Every control is in the URL, under the API's field names.
    q = query(page)
    assert (
        q["function"] == "rosenbrock"
        and q["opt0_name"] == "sgd"
        and "opt0_lr" in q
        and "starts" in q
    )


def test_typing_a_learning_rate_changes_the_trajectory_and_the_url(page, server_url):
    open_lab(page, server_url, SMALL)
    before = routes(page)[0]
    page.fill("#opt0_lr", "0.0005")
    page.wait_for_function("() => location.search.includes('opt0_lr=0.0005')")
    page.wait_for_function(
        "before => JSON.stringify(document.querySelector('#contour').data[3].x) !== JSON.stringify(before)",
        arg=before,
    )
    assert routes(page)[0] != before
    expect_only(page, ABORTED)


def test_arrow_keys_on_the_learning_rate_move_it_by_ratio(page, server_url):
    open_lab(page, server_url, SMALL)
    before = routes(page)[0]
    page.focus("#opt0_lr")
    page.keyboard.press("ArrowUp")
    # Log-scaled: one press multiplies by 10^(1/20) ≈ 1.122 (rounded to 3 significant digits).
    page.wait_for_function("() => location.search.includes('opt0_lr=0.00112')")
    assert page.input_value("#opt0_lr") == "0.00112"
    page.wait_for_function(
        "before => JSON.stringify(document.querySelector('#contour').data[3].x) !== JSON.stringify(before)",
        arg=before,
    )
    # The slider next to it is keyboard-operable too.
    page.focus("#opt0_lr-range")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => !location.search.includes('opt0_lr=0.00112&')")
    assert float(query(page)["opt0_lr"]) > 0.00112
    expect_only(page, ABORTED)


def test_a_link_restores_every_control(page, server_url):
    bodies = []
    page.on(
        "request",
        lambda r: (
            bodies.append(json.loads(r.post_data)) if r.url.endswith("/api/v1/optimize") else None
        ),
    )
    q = (
        "?function=quadratic&k=50&steps=120&schedule=step&schedule_gamma=0.3"
        "&opt0_name=adam&opt0_lr=0.02&opt0_betas=0.8,0.99"
        "&opt1_name=sgd&opt1_lr=0.005&opt1_momentum=0.5&opt1_nesterov=true&starts=1,2;-1,-2"
    )
    open_lab(page, server_url, q)
    assert page.input_value("#function") == "quadratic"
    assert page.input_value("#k") == "50"
    assert page.input_value("#steps") == "120"
    assert page.input_value("#schedule") == "step"
    assert page.input_value("#schedule_gamma") == "0.3"
    assert page.input_value("#opt0_name") == "adam"
    assert page.input_value("#opt0_lr") == "0.02"
    assert page.input_value("#opt0_betas-0") == "0.8"
    assert page.input_value("#opt0_betas-1") == "0.99"
    assert page.input_value("#opt1_name") == "sgd"
    assert page.is_checked("#opt1_nesterov")
    assert page.input_value("#starts").splitlines() == ["1, 2", "-1, -2"]
    body = bodies[-1]
    assert body["function"] == {"name": "quadratic", "k": 50}
    assert body["steps"] == 120
    assert body["schedule"] == {"name": "step", "step_size": 100, "gamma": 0.3}
    assert body["starts"] == [[1, 2], [-1, -2]]
    assert body["optimizers"][0]["name"] == "adam" and body["optimizers"][0]["betas"] == [0.8, 0.99]
    assert body["optimizers"][1] == {
        **body["optimizers"][1],
        "name": "sgd",
        "lr": 0.005,
        "momentum": 0.5,
        "nesterov": True,
    }
    # …and the page writes the same state back.
    back = query(page)
    for k in (
        "function",
        "k",
        "steps",
        "schedule",
        "schedule_gamma",
        "opt0_name",
        "opt0_lr",
        "opt0_betas",
        "opt1_momentum",
    ):
        assert back[k] == parse_qs(q[1:])[k][0], k


def test_an_unsafe_expression_is_refused_inline(page, server_url):
    open_lab(page, server_url, SMALL)
    page.select_option("#function", "custom")
    page.wait_for_selector("#expr-gradient math")  # the default expression and its gradient
    page.fill("#expression", '__import__("os").system("ls")')
    err = page.locator("#expr-error")
    err.wait_for(state="visible")
    assert "not allowed" in err.inner_text()
    assert page.get_attribute("#expression", "aria-invalid") == "true"
    # The 422 itself is the browser's network log, not a script error; nothing else may appear.
    expect_only(
        page,
        ABORTED,
        r"HTTP 422: .*/api/v1/expression",
        r"console: Failed to load resource: .* 422",
    )
    assert not page.watch.errors


def test_a_typed_expression_is_typeset_with_its_gradient_and_run(page, server_url):
    open_lab(page, server_url, SMALL)
    page.select_option("#function", "custom")
    page.fill("#expression", "x^2 + 10*y^2")
    page.wait_for_function("() => location.search.includes('expression=')")
    page.wait_for_function(
        "() => document.querySelector('#expr-gradient').textContent.includes('20')"
    )
    assert page.locator("#expr-gradient math").count() == 3  # f, ∂f/∂x, ∂f/∂y
    page.wait_for_function(
        "() => { const d = document.querySelector('#contour').data; return d && d[0].z && d[0].z.length > 0; }"
    )
    assert "expression" in query(page) and "function" not in query(page)
    expect_only(page, ABORTED)


def test_the_player_steps_the_marker_with_buttons_and_keys(page, server_url):
    open_lab(page, server_url, SMALL)
    page.focus("#player .pl-scrub")
    page.keyboard.press("Home")
    page.wait_for_function("() => document.querySelector('#contour').dataset.frame === '0'")
    start = page.get_attribute("#contour", "data-head")
    page.click("#player .pl-fwd")
    page.wait_for_function("() => document.querySelector('#contour').dataset.frame === '1'")
    assert page.get_attribute("#contour", "data-head") != start
    assert "step 1" in page.inner_text("#live-rule")
    page.keyboard.press("ArrowRight")  # focus is on the forward button, inside the player
    page.wait_for_function("() => document.querySelector('#contour').dataset.frame === '2'")
    page.click("#player .pl-back")
    page.wait_for_function("() => document.querySelector('#contour').dataset.frame === '1'")
    assert page.get_attribute("#player .pl-play", "aria-label") == "Play"
    page.click("#player .pl-play")
    page.wait_for_function("() => Number(document.querySelector('#contour').dataset.frame) > 2")


def test_reduced_motion_starts_paused_on_the_last_step(page, server_url):
    page.emulate_media(reduced_motion="reduce")
    open_lab(page, server_url, SMALL, paused=False)
    assert page.get_attribute("#player", "data-playing") == "0"
    assert page.get_attribute("#contour", "data-frame") == "60"


def test_clicking_the_contour_adds_a_start_and_shift_click_starts_over(page, server_url):
    open_lab(page, server_url, SMALL)
    box = page.locator("#contour .nsewdrag").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.75)
    page.wait_for_function(
        "() => new URLSearchParams(location.search).get('starts').split(';').length === 2"
    )
    assert len(page.input_value("#starts").splitlines()) == 2
    x, y = map(float, query(page)["starts"].split(";")[1].split(","))
    assert 0.5 < x < 1.5 and -0.5 < y < 0.5  # 3/4 across [-2, 2], 1/4 up [-1, 3]
    page.keyboard.down("Shift")
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.25)
    page.keyboard.up("Shift")
    page.wait_for_function(
        "() => new URLSearchParams(location.search).get('starts').split(';').length === 1"
    )
    expect_only(page, ABORTED)


def test_optimizers_can_be_added_and_removed(page, server_url):
    open_lab(page, server_url, SMALL)
    page.click("#add-opt")
    page.wait_for_function("() => location.search.includes('opt1_name=')")
    page.wait_for_function("() => document.querySelector('#loss').data.length === 2")
    assert page.locator("#opt-cards .opt-card").count() == 2
    page.click("#opt-cards .opt-card >> nth=0 >> button.remove")
    page.wait_for_function("() => !location.search.includes('opt1_name=')")
    assert page.locator("#opt-cards .opt-card").count() == 1
    expect_only(page, ABORTED)


def test_a_diverged_run_is_reported_in_plain_red_text(page, server_url):
    open_lab(
        page, server_url, "?function=rosenbrock&steps=60&opt0_name=sgd&opt0_lr=1&starts=-1.5,2"
    )
    status = page.locator("#summary td.status .diverged")
    assert re.search(r"Diverged at step \d+", status.inner_text())
    assert "learning rate is too large" in status.inner_text()
    assert page.locator("#summary td.status .diverged").count() == 1
    assert (
        page.evaluate("() => getComputedStyle(document.querySelector('#summary .diverged')).color")
        == "rgb(179, 38, 30)"
    )


def test_plot_data_as_a_table_and_a_csv_download(page, server_url):
    open_lab(page, server_url, SMALL)
    page.click("#loss-data summary")
    rows = page.locator("#loss-data table tbody tr")
    assert rows.count() == 61  # steps 0..60 of one run
    with page.expect_download() as dl:
        page.click("#loss-data button.csv")
    text = Path(dl.value.path()).read_text()
    lines = text.strip().splitlines()
    assert lines[0] == "optimizer,start,step,x,y,f,grad_norm,lr"
    assert len(lines) == 62 and lines[1].split(",")[2:5] == ["0", "-1.5", "2"]


def test_hide_presets_hide_named_controls(page, server_url):
    open_lab(page, server_url, SMALL + "&hide=schedule,starts,add")
    assert not page.locator("#schedule").is_visible()
    assert not page.locator("#starts").is_visible()
    assert not page.locator("#add-opt").is_visible()
    assert page.locator("#function").is_visible() and page.locator("#opt0_lr").is_visible()
    # A preset survives interaction: hide= stays in the URL.
    page.fill("#opt0_lr", "0.002")
    page.wait_for_function("() => location.search.includes('opt0_lr=0.002')")
    assert query(page)["hide"] == "schedule,starts,add"
    expect_only(page, ABORTED)


def test_the_3d_view_lifts_the_paths_onto_the_surface(page, server_url):
    open_lab(page, server_url, SMALL)
    page.check("input[name=view][value='3d']")
    page.wait_for_function(
        "() => { const g = document.querySelector('#surface3d'); return g.data && g.data.length === 3; }",
        timeout=60_000,
    )
    kinds = page.evaluate("() => document.querySelector('#surface3d').data.map(t => t.type)")
    assert kinds == ["surface", "scatter3d", "scatter3d"]
    assert query(page)["view"] == "3d"
    assert not page.locator("#contour").is_visible()


# Fair race and the L-BFGS line search: their own endpoints, aborted when superseded as well.
ABORTED_ALL = r"failed request: .*/api/v1/(optimize|optimize/tune|optimize/line-search|surface|expression) net::ERR_ABORTED"
TWO = ("?function=rosenbrock&steps=60&schedule=constant&opt0_name=sgd&opt0_lr=0.001&opt0_momentum=0.9"
       "&opt1_name=adam&opt1_lr=0.05&starts=-1.5,2")


def test_fair_race_toggle_shows_the_tuning_plot_and_tuned_lrs(page, server_url):
    open_lab(page, server_url, TWO)
    assert not page.locator("#tune-box").is_visible()
    assert not page.locator("#lr_min").is_visible()
    page.check("#fair")
    page.wait_for_function("() => new URLSearchParams(location.search).get('fair') === '1'")
    page.wait_for_function(
        "() => { const g = document.querySelector('#tune'); return g.data && g.data.length === 4; }"
    )
    assert page.locator("#tune-box").is_visible() and page.locator("#lr_min").is_visible()
    q = query(page)
    assert q["lr_min"] == "0.0001" and q["lr_max"] == "1" and q["n_lrs"] == "13" and q["criterion"] == "final"
    # each curve: 13 learning rates on a log axis; the tuned one marked and listed
    lrs = page.evaluate("() => document.querySelector('#tune').data[0].x")
    assert len(lrs) == 13 and abs(lrs[0] - 1e-4) < 1e-12 and abs(lrs[-1] - 1) < 1e-12
    assert page.evaluate("() => document.querySelector('#tune')._fullLayout.xaxis.type") == "log"
    tuned = page.evaluate("() => [1, 3].map(i => document.querySelector('#tune').data[i].x[0])")
    items = page.locator("#tuned-lrs li")
    assert items.count() == 2
    for i, lr in enumerate(tuned):
        assert lr in lrs
        assert re.search(r"tuned γ = [\d.e+-]+", items.nth(i).inner_text())
    # the race now runs at the tuned rates: the loss legend says so
    names = page.evaluate("() => document.querySelector('#loss').data.map(t => t.name)")
    assert all("lr=" in n for n in names) and any(f"{lr:.3g}".rstrip("0") in " ".join(names) for lr in tuned)
    # a coarser grid redraws the curves
    page.fill("#n_lrs", "5")
    page.wait_for_function("() => document.querySelector('#tune').data[0].x.length === 5")
    assert query(page)["n_lrs"] == "5"
    page.uncheck("#fair")
    page.wait_for_function("() => !new URLSearchParams(location.search).has('fair')")
    page.wait_for_selector("#tune-box", state="hidden")
    expect_only(page, ABORTED_ALL)


def test_the_line_search_view_follows_the_chosen_iteration(page, server_url):
    open_lab(page, server_url, "?function=rosenbrock&steps=20&opt0_name=lbfgs&opt0_lr=1"
             "&opt0_line_search_fn=strong_wolfe&starts=-1.5,2")  # fmt: skip
    page.wait_for_function(
        "() => { const g = document.querySelector('#lsplot'); return g.data && g.data.length === 4; }"
    )
    assert page.locator("#ls-box").is_visible()
    read = "() => { const d = document.querySelector('#lsplot').data; return [Array.from(d[0].x), Array.from(d[2].x), d[3].x[0]]; }"
    phi_t1, trials1, accepted1 = page.evaluate(read)
    assert accepted1 in trials1 and phi_t1[0] == 0
    assert "iteration 1 of" in page.inner_text("#ls-info") and "sufficient decrease ✓" in page.inner_text("#ls-info")
    page.fill("#ls_iter", "3")
    page.wait_for_function("() => new URLSearchParams(location.search).get('ls_iter') === '3'")
    page.wait_for_function("() => document.querySelector('#ls-info').textContent.includes('iteration 3 of')")
    phi_t3, trials3, accepted3 = page.evaluate(read)
    assert (phi_t3, trials3) != (phi_t1, trials1) and accepted3 in trials3
    # the sufficient-decrease line starts at φ(0) with slope c1·φ'(0) < 0
    y = page.evaluate("() => Array.from(document.querySelector('#lsplot').data[1].y)")
    assert y[1] < y[0]
    # a link restores the chosen iteration
    open_lab(page, server_url, "?function=rosenbrock&steps=20&opt0_name=lbfgs&opt0_lr=1"
             "&opt0_line_search_fn=strong_wolfe&starts=-1.5,2&ls_iter=3")  # fmt: skip
    page.wait_for_function("() => document.querySelector('#ls-info').textContent.includes('iteration 3 of')")
    assert page.input_value("#ls_iter") == "3"
    expect_only(page, ABORTED_ALL)


def test_no_line_search_view_without_lbfgs(page, server_url):
    open_lab(page, server_url, SMALL)
    assert not page.locator("#ls-box").is_visible()
