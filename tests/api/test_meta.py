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


def test_a_lab_without_its_page_shows_as_coming_not_as_a_link(client, monkeypatch, tmp_path):
    # Every lab is built today; a lab added to the registry before its page must still show as
    # coming. Point the registry at a folder where only one lab's page exists.
    from server import labs

    (tmp_path / "svd.html").write_text("")
    monkeypatch.setattr(labs, "TEMPLATE_DIR", tmp_path)
    assert [lab.slug for _, lab in labs.all_labs() if lab.ready] == ["svd"]
    r = client.get("/labs/pca", headers={"accept": "text/html"})
    assert r.status_code == 200 and "not built yet" in r.text
    html = client.get("/").text
    assert 'href="/labs/pca"' not in html and "coming" in html


def test_home_page_shows_every_lens_and_links_only_ready_labs(client):
    from server import labs

    html = client.get("/").text
    for lens in labs.LENSES:
        assert lens.title in html and lens.ml in html
    for _, lab in labs.all_labs():
        assert (f'href="/labs/{lab.slug}"' in html) == lab.ready


def test_teacher_page_is_served_and_linked(client):
    html = client.get("/teacher").text
    assert 'id="token"' in html and 'type="password"' in html and "js/teacher.js" in html
    assert "MATHLENS_ADMIN_TOKEN" in html and 'id="jobs-table"' in html
    assert 'href="/teacher"' in client.get("/").text  # the footer links it


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


def test_catalog_bounds_are_the_ones_validation_enforces(client):
    # The training lab's and the probability lens's bounds, read from the catalog, are exactly
    # where the API starts answering 422.
    c = client.get("/api/v1/catalog").json()
    moons = c["training"]["datasets"]["moons"]["params"]["n_samples"]
    assert set(c["training"]["datasets"]) >= {"moons", "circles", "spirals", "xor", "blobs", "digits"}
    base = {"dataset": {"name": "moons", "n_samples": moons["high"]}, "model": {"hidden": [4]},
            "epochs": 1}
    ok = client.post("/api/v1/training/dataset", json=base["dataset"])
    assert ok.status_code == 200, ok.text
    bad = client.post("/api/v1/training/dataset", json={"name": "moons", "n_samples": moons["high"] + 1})
    assert bad.status_code == 422 and "n_samples" in bad.json()["message"]
    epochs = c["training"]["fields"]["epochs"]
    r = client.post("/api/v1/jobs", json={"config": {**base, "epochs": epochs["high"] + 1}})
    assert r.status_code == 422 and "epochs" in r.json()["message"]
    fam = {f["name"]: f for f in c["distributions"]}
    sigma = {p["name"]: p for p in fam["gaussian"]["params"]}["sigma"]
    r = client.post("/api/v1/probability/distribution",
                    json={"family": "gaussian", "params": {"mu": 0, "sigma": sigma["max"] * 2}})
    assert r.status_code == 422 and "sigma" in r.json()["message"]
