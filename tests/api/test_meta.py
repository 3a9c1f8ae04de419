def test_health(client):
    r = client.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["version"]


def test_unknown_api_path_is_json_404(client):
    r = client.get("/api/v1/nope")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["detail"]


def test_unknown_lab_is_an_html_404(client):
    r = client.get("/labs/nope", headers={"accept": "text/html"})
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]


def test_coming_lab_renders_as_coming(client):
    from server import labs

    coming = [lab for _, lab in labs.all_labs() if not lab.ready]
    assert coming, "every lab is built: this test has served its purpose, delete it"
    r = client.get(f"/labs/{coming[0].slug}", headers={"accept": "text/html"})
    assert r.status_code == 200 and "not built yet" in r.text


def test_home_page_shows_every_lens_and_links_only_ready_labs(client):
    from server import labs

    html = client.get("/").text
    for lens in labs.LENSES:
        assert lens.title in html and lens.ml in html
    for _, lab in labs.all_labs():
        assert (f'href="/labs/{lab.slug}"' in html) == lab.ready


def test_body_too_large_is_413(client):
    r = client.post("/api/v1/optimize", content=b"{" + b" " * 2_000_000 + b"}",
                    headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert "at most" in r.json()["message"]


def test_malformed_json_is_422(client):
    r = client.post("/api/v1/optimize", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_catalog_lists_labs_functions_optimizers_schedules(client):
    c = client.get("/api/v1/catalog").json()
    assert {lab["slug"] for lab in c["labs"]} >= {"gradient-descent", "training"}
    assert {f["name"] for f in c["functions"]} == {
        "quadratic", "rosenbrock", "beale", "himmelblau", "saddle", "booth", "rastrigin"}
    opts = {o["name"]: o for o in c["optimizers"]}
    assert set(opts) == {"sgd", "adagrad", "rmsprop", "adam", "adamw", "lbfgs"}
    hp = {h["name"]: h for h in opts["sgd"]["hyperparameters"]}
    assert set(hp) >= {"lr", "momentum", "dampening", "nesterov", "weight_decay"}
    assert hp["momentum"]["min"] == 0 and hp["nesterov"]["type"] == "boolean"
    assert {s["name"] for s in c["schedules"]} == {
        "constant", "step", "exponential", "cosine", "warmup_cosine", "onecycle"}
