import numpy as np

from compute.nn.datasets import make_dataset


def test_dataset_preview_is_the_jobs_dataset(client):
    r = client.post("/api/v1/training/dataset", json={"name": "moons", "n_samples": 200, "noise": 0.1, "seed": 3})
    assert r.status_code == 200, r.text
    b = r.json()
    d = make_dataset("moons", n_samples=200, noise=0.1, seed=3, test_fraction=0.3)
    np.testing.assert_allclose(np.array(b["X_train"]), d.X_train, rtol=1e-6)
    assert b["y_test"] == d.y_test.tolist() and b["n_train"] + b["n_test"] == 200


def test_dataset_preview_bounds(client):
    r = client.post("/api/v1/training/dataset", json={"name": "spirals", "n_samples": 5001})
    assert r.status_code == 422 and "n_samples" in r.json()["message"] and "5000" in r.json()["message"]
    r = client.post("/api/v1/training/dataset", json={"name": "mnist"})
    assert r.status_code == 422
