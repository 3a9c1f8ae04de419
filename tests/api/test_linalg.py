"""The linear-algebra API through the ASGI app: results against numpy/scipy, and 422s whose
message names the field."""

import base64
import io
import math

import numpy as np
import pytest
import scipy.linalg

from compute import linalg as L
from server.schemas import linalg as S

API = "/api/v1/linalg"


def post(client, path, body):
    return client.post(API + path, json=body)


def test_literal_choices_match_the_compute_registries():
    assert set(S.ImageName.__args__) == set(L.IMAGES)
    assert S.Method.__args__ == L.METHODS


def test_eigen_matches_scipy(client):
    A = np.random.default_rng(0).standard_normal((6, 6))
    r = post(client, "/eigen", {"matrix": A.tolist()})
    assert r.status_code == 200, r.text
    j = r.json()
    w = np.array(j["eigenvalues"]["real"]) + 1j * np.array(j["eigenvalues"]["imag"])
    V = np.array(j["eigenvectors"]["real"]) + 1j * np.array(j["eigenvectors"]["imag"])
    np.testing.assert_allclose(np.sort_complex(w), np.sort_complex(scipy.linalg.eigvals(A)), atol=1e-10)
    assert np.all(np.diff(np.abs(w)) <= 1e-12)
    np.testing.assert_allclose(A @ V, V * w, atol=1e-10)
    assert post(client, "/eigen", {"matrix": A.tolist()}).json() == j  # deterministic


def test_svd_with_rank(client):
    A = np.random.default_rng(1).standard_normal((7, 4))
    j = post(client, "/svd", {"matrix": A.tolist(), "rank": 2}).json()
    s = scipy.linalg.svdvals(A)
    np.testing.assert_allclose(j["S"], s, rtol=1e-12)
    np.testing.assert_allclose((np.array(j["U"]) * j["S"]) @ np.array(j["Vt"]), A, atol=1e-12)
    assert j["error_fro"] == pytest.approx(math.sqrt(np.sum(s[2:] ** 2)), rel=1e-10)
    assert np.linalg.matrix_rank(np.array(j["approximation"])) == 2
    j = post(client, "/svd", {"matrix": A.tolist()}).json()
    assert j["approximation"] is None and j["error_fro"] is None


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/eigen", {"matrix": [[1, 2, 3], [4, 5, 6]]}, "square"),
        ("/eigen", {"matrix": [[1, 2], [3]]}, "matrix must be rectangular"),
        ("/eigen", {"matrix": [[1] * 65] * 65}, "matrix"),
        ("/eigen", {"matrix": [[1, "nan"], [0, 1]]}, "matrix"),
        ("/eigen", {"matrix": [[1, 1e300], [0, 1]]}, "matrix"),
        ("/svd", {"matrix": [[1, 2], [3, 4]], "rank": 3}, "rank"),
        ("/svd", {"matrix": [[1] * 513]}, "matrix"),
        ("/svd", {"matrix": [[1, 2], [3]]}, "matrix must be rectangular"),
        ("/transform", {"matrix": [[1, 2, 3], [4, 5, 6]]}, "matrix"),
        ("/pca", {"n_components": 3}, "n_components"),
        ("/pca", {"data": [[1, 2], [3, 4], [5]]}, "data"),
        ("/pca", {"correlation": 1}, "correlation"),
        ("/lowrank", {"image": "cat", "rank": 3}, "image"),
        ("/lowrank", {"image": "pattern", "rank": 10_000}, "rank"),
        ("/lora", {"d": 16, "rank": 17}, "rank"),
        ("/lora", {"decay": 0}, "decay"),
        ("/least_squares", {"n_samples": 3, "degree": 5}, "n_samples"),
        ("/least_squares", {"ridge": -1}, "ridge"),
        ("/least_squares", {"bogus": 1}, "bogus"),
    ],
)
def test_422_names_the_field(client, path, body, field):
    r = post(client, path, body)
    assert r.status_code == 422, r.text
    assert field in r.json()["message"]


def test_nan_literal_is_rejected(client):
    r = client.post(API + "/eigen", content=b'{"matrix": [[NaN, 1], [0, 1]]}', headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_transform_singular_and_rotation(client):
    j = post(client, "/transform", {"matrix": [[1, 2], [2, 4]]}).json()
    assert j["rank"] == 1 and j["det"] == pytest.approx(0, abs=1e-12)
    j = post(client, "/transform", {"matrix": [[0, -1], [1, 0]]}).json()
    assert not j["real_eigenvalues"]
    assert j["eigenvalues"]["imag"] == pytest.approx([1, -1])
    A = np.array([[1.0, 2.0], [3.0, -1.0]])
    j = post(client, "/transform", {"matrix": A.tolist()}).json()
    rebuilt = L.rotation(j["theta_u"]) @ np.diag(j["stretch"]) @ L.rotation(j["theta_v"])
    np.testing.assert_allclose(rebuilt, A, atol=1e-12)


def test_pca_seeded_cloud_and_posted_data(client):
    j = post(client, "/pca", {"n_samples": 200, "stds": [2, 1, 0.5], "correlation": 0.5, "seed": 4, "n_components": 2}).json()
    X = np.array(j["data"])
    np.testing.assert_array_equal(X, L.correlated_cloud(200, [2, 1, 0.5], 0.5, 4))
    np.testing.assert_allclose(j["eigvals"], np.linalg.eigvalsh(np.cov(X, rowvar=False))[::-1], rtol=1e-10)
    assert np.array(j["scores"]).shape == (200, 2)
    pts = [[0, 0], [1, 1], [2, 2.1], [3, 2.9]]
    j = post(client, "/pca", {"data": pts, "n_components": 1}).json()
    assert j["data"] == pts
    assert j["explained_variance_ratio"][0] > 0.99


def _png_bytes(w, h):
    from PIL import Image

    buf = io.BytesIO()
    x = np.linspace(0, 255, w, dtype=np.uint8)[None, :].repeat(h, 0)
    Image.fromarray(x, "L").save(buf, "PNG")
    return buf.getvalue()


def test_lowrank_builtin_and_upload(client):
    j = post(client, "/lowrank", {"image": "pattern", "rank": 10}).json()
    assert j["height"] == j["width"] == 512 and len(j["pixels"]) == 512 and len(j["pixels"][0]) == 512
    S_ = np.array(j["S"])
    assert j["rel_error"] == pytest.approx(math.sqrt(np.sum(S_[10:] ** 2) / np.sum(S_**2)))
    assert j["storage_ratio"] == pytest.approx(10 * 1025 / 512**2)
    png = post(client, "/lowrank", {"image": "pattern", "rank": 10, "encoding": "png"}).json()
    assert png["pixels"] is None and j["png"] is None
    from PIL import Image

    decoded = np.asarray(Image.open(io.BytesIO(base64.b64decode(png["png"]))))
    assert decoded.dtype == np.uint8 and np.array_equal(decoded, np.array(j["pixels"]))
    assert png["rel_error"] == j["rel_error"] and png["S"] == j["S"]
    r = post(client, "/lowrank", {"image": "pattern", "rank": 10, "encoding": "jpeg"})
    assert r.status_code == 422 and "encoding" in r.json()["message"]
    r = client.post(API + "/images", files={"file": ("ramp.png", _png_bytes(300, 200), "image/png")})
    assert r.status_code == 200, r.text
    info = r.json()
    assert (info["height"], info["width"]) == (200, 300) and len(info["image"]) == 64
    j = post(client, "/lowrank", {"image": info["image"], "rank": 1}).json()
    assert j["rel_error"] < 1e-2  # a horizontal ramp is rank one (up to 8-bit rounding)


def test_upload_errors(client):
    r = client.post(API + "/images", files={"file": ("x.png", b"not an image at all", "image/png")})
    assert r.status_code == 422 and "file" in r.json()["message"]
    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (2100, 8)).save(buf, "PNG")
    r = client.post(API + "/images", files={"file": ("wide.png", buf.getvalue(), "image/png")})
    assert r.status_code == 422 and "2048" in r.json()["message"]
    r = client.post(API + "/images", files={"file": ("big.png", b"\0" * (5_242_880 + 10), "image/png")})
    assert r.status_code == 413
    r = post(client, "/lowrank", {"image": "ab" * 32, "rank": 1})
    assert r.status_code == 404


def test_lora_endpoint(client):
    j = post(client, "/lora", {"d": 32, "rank": 4, "decay": 0.6, "seed": 1}).json()
    assert j["params_lora"] == 256 and j["params_full"] == 1024
    D = np.array(j["delta"])
    U, s, Vt = np.linalg.svd(D)
    np.testing.assert_allclose(np.array(j["BA"]), (U[:, :4] * s[:4]) @ Vt[:4], atol=1e-12)
    assert j["rel_error"] == pytest.approx(j["rel_errors"][4])
    assert len(j["rel_errors"]) == 33


def test_least_squares_endpoint(client):
    j = post(client, "/least_squares", {"n_samples": 30, "degree": 3, "x_offset": 40, "noise": 0.1, "seed": 0}).json()
    X = L.design_matrix(j["x"], 3)
    assert j["cond"] == pytest.approx(np.linalg.cond(X), rel=1e-8)
    assert j["cond_normal"] == pytest.approx(j["cond"] ** 2)
    m = {r["method"]: r for r in j["methods"]}
    assert set(m) == set(L.METHODS)
    np.testing.assert_allclose(m["lstsq"]["coefs"], np.linalg.lstsq(X, j["y"], rcond=None)[0])
    assert m["normal"]["coef_error"] is None or m["normal"]["coef_error"] > m["lstsq"]["coef_error"]


def test_least_squares_collinearity_and_coef_norms(client):
    j = post(client, "/least_squares", {"n_samples": 30, "degree": 3, "x_offset": 10, "noise": 0.1, "ridge": 1e-4, "seed": 2}).json()
    X = L.design_matrix(j["x"], 3)
    angles = [np.degrees(scipy.linalg.subspace_angles(X[:, [k]], np.delete(X, k, axis=1))[0]) for k in range(4)]
    assert j["column_angle"] == pytest.approx(min(angles), rel=1e-6)
    assert angles[j["column_index"]] == pytest.approx(min(angles), rel=1e-6)
    m = {r["method"]: r for r in j["methods"]}
    w_ridge = np.linalg.solve(X.T @ X + 1e-4 * np.eye(4), X.T @ np.array(j["y"]))
    np.testing.assert_allclose(m["ridge"]["coefs"], w_ridge, rtol=1e-5)
    assert m["ridge"]["coef_norm"] == pytest.approx(np.linalg.norm(m["ridge"]["coefs"]))
    assert m["ridge"]["coef_norm"] < m["lstsq"]["coef_norm"]
    s = np.array(j["S"])
    np.testing.assert_allclose(j["filter"], s**2 / (s**2 + 1e-4))
    assert j["pinv_rank"] == 4


def test_least_squares_at_the_bounds_is_finite_or_null(client):
    j = post(client, "/least_squares", {"n_samples": 500, "degree": 12, "x_offset": 100, "noise": 10, "ridge": 0, "rcond": 1e-17, "seed": 0})
    assert j.status_code == 200, j.text
    assert 0 <= j.json()["column_angle"] < 1e-6


@pytest.mark.parametrize(
    ("body", "field"),
    [({"x_offset": 101}, "x_offset"), ({"rcond": 0}, "rcond"), ({"degree": 13}, "degree"), ({"noise": "0.1"}, "noise")],
)
def test_least_squares_422_names_the_field(client, body, field):
    r = post(client, "/least_squares", body)
    assert r.status_code == 422 and field in r.json()["message"]


@pytest.mark.parametrize(("body", "field"), [({"d": 3}, "d"), ({"d": 129}, "d"), ({"seed": -1}, "seed"), ({"rank": 2.5}, "rank")])
def test_lora_422_names_the_field(client, body, field):
    r = post(client, "/lora", body)
    assert r.status_code == 422 and field in r.json()["message"]


def test_lora_flat_spectrum_error_is_closed_form(client):
    # σ_i all equal: dropping d − r of them leaves √((d − r)/d) of ‖ΔW‖_F.
    j = post(client, "/lora", {"d": 16, "rank": 4, "decay": 1.0, "seed": 0}).json()
    np.testing.assert_allclose(j["rel_errors"], np.sqrt(1 - np.arange(17) / 16), atol=1e-12)
    W, D = np.array(j["W"]), np.array(j["delta"])
    assert np.linalg.norm(D) == pytest.approx(0.1 * np.linalg.norm(W))
    np.testing.assert_allclose(np.array(j["B"]) @ np.array(j["A"]), j["BA"], atol=1e-14)
