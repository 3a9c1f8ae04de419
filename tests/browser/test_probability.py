"""Probability labs in Chromium: each page draws, a control moves a plot, the URL keeps the state."""

import pytest

pytestmark = pytest.mark.browser

LABS = ["distributions", "bayes", "mle", "clt", "bias-variance", "monte-carlo"]


def ready(page, url):
    page.set_default_timeout(90_000)  # CI machines can be slow to load Plotly; nothing here sleeps
    page.goto(url, wait_until="domcontentloaded")
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)


def data(page, plot, i=0, key="y"):
    return page.evaluate(f"() => document.getElementById('{plot}').data[{i}].{key}")


@pytest.mark.parametrize("slug", LABS)
def test_page_draws_with_one_where_ml(page, server_url, slug):
    ready(page, f"{server_url}/labs/{slug}")
    assert page.locator(".js-plotly-plot").count() >= 2
    assert page.locator(".where-ml").count() == 1


def test_distributions_sigma_slider_and_family(page, server_url):
    ready(
        page, server_url + "/labs/distributions?family=gaussian&mu=0&sigma=1&n_samples=500&seed=1"
    )
    assert max(data(page, "density", 1)) == pytest.approx(0.3989, abs=1e-3)
    page.locator("input[name=sigma]").fill("2")
    page.wait_for_function("() => Math.max(...document.getElementById('density').data[1].y) < 0.2")
    assert "sigma=2" in page.url and "seed=1" in page.url
    page.select_option("#family", "poisson")
    page.wait_for_function(
        "() => document.getElementById('density').data[1].name.startsWith('pmf')"
    )
    assert "family=poisson" in page.url and "rate=4" in page.url
    assert "Poisson" in page.locator("#family-ml").inner_text()


def test_distributions_categorical_from_url(page, server_url):
    ready(page, server_url + "/labs/distributions?family=categorical&probs=1,1,2")
    assert data(page, "density", 1, "x") == [0, 1, 2]
    assert data(page, "density", 1) == pytest.approx([0.25, 0.25, 0.5])


def test_bayes_prevalence_and_player(page, server_url):
    ready(
        page, server_url + "/labs/bayes?prevalence=0.01&sensitivity=0.9&specificity=0.95&n_flips=50"
    )
    assert "P(D | +) = 0.1538" in page.locator("#bayes-words").inner_text()
    page.locator("input[name=prevalence]").fill("0.2")
    page.wait_for_function(
        "() => document.getElementById('bayes-words').innerText.includes('0.8182')"
    )
    assert page.locator("#icons span.tp").count() == 180
    page.wait_for_function(
        "() => { const s = document.querySelector('#player .pl-scrub'); s.value = '0';"
        " s.dispatchEvent(new Event('input', {bubbles: true}));"
        " return document.getElementById('posterior').data[2].name === 'posterior after 0 flips'; }",
        timeout=60_000,
    )
    page.wait_for_function(
        "() => { const s = document.querySelector('#player .pl-scrub'); s.value = '50';"
        " s.dispatchEvent(new Event('input', {bubbles: true}));"
        " return document.getElementById('posterior').data[2].name === 'posterior after 50 flips'; }",
        timeout=60_000,
    )
    assert "prevalence=0.2" in page.url


def test_mle_probe_moves_and_nll_equals_cross_entropy(page, server_url):
    ready(page, server_url + "/labs/mle?probe_w=0.5")
    before = data(page, "nll", 2)
    page.locator("input[name=probe_w]").fill("3")
    page.wait_for_function(f"() => document.getElementById('nll').data[2].y[0] !== {before[0]}")
    assert "probe_w=3" in page.url
    assert "(3, 0)" in page.locator("#nll-formula").inner_text()
    # the last number of each line: the likelihood form and the cross-entropy form agree
    ends = page.evaluate(
        "() => [...document.querySelectorAll('#nll-formula math')].map(m => [...m.querySelectorAll('mn')].at(-1).textContent)"
    )
    assert len(ends) == 2 and ends[0] == ends[1]
    mu = page.evaluate("() => document.getElementById('surface').data[1].x[0]")
    page.locator("input[name=n_samples]").fill("500")
    page.wait_for_function(f"() => document.getElementById('surface').data[1].x[0] !== {mu}")


def test_monte_carlo_target_and_n(page, server_url):
    ready(page, server_url + "/labs/monte-carlo?target=pi&n_samples=1000")
    assert data(page, "running", 3)[0] == pytest.approx(3.14159265, abs=1e-6)
    page.select_option("#target", "exp_normal")
    page.wait_for_function(
        "() => Math.abs(document.getElementById('running').data[3].y[0] - Math.sqrt(Math.E)) < 1e-9"
    )
    assert "target=exp_normal" in page.url
    page.locator("input[name=n_samples]").fill("20000")
    page.wait_for_function("() => document.getElementById('running').data[2].x.at(-1) === 20000")


def test_clt_n_narrows_the_means(page, server_url):
    ready(page, server_url + "/labs/clt?family=exponential&rate=1&n=2")
    page.locator("input[name=n]").fill("50")
    page.wait_for_function(
        "() => document.getElementById('hist-title').textContent.includes('n = 50')"
    )
    assert "n=50" in page.url
    sd = page.evaluate("() => Math.max(...document.getElementById('hist').data[1].y)")
    assert sd == pytest.approx(1 / (1 / 50**0.5 * (2 * 3.14159265) ** 0.5), rel=0.02)
    assert page.evaluate("() => document.getElementById('minibatch').data[1].x.length") >= 8


def test_bias_variance_degree_slider(page, server_url):
    ready(page, server_url + "/labs/bias-variance?degree=1")
    one = data(page, "fits", 30)
    page.locator("input[name=degree]").fill("9")
    page.wait_for_function(
        "() => document.getElementById('fits-title').textContent.includes('degree-9')"
    )
    assert data(page, "fits", 30) == one  # the data are the same; only the fits change
    assert "degree=9" in page.url
