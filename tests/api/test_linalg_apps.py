"""The linear-algebra-at-work API through the ASGI app: happy paths against independent
references, and 422s whose message names the field."""

import numpy as np
import pytest
import torch
from scipy.signal import convolve2d

from compute import linalg_apps as la
from server.schemas import linalg_apps as schemas

URL = "/api/v1/linalg/"


def post(client, path, body):
    return client.post(URL + path, json=body)


def assert_422(r, *words):
    assert r.status_code == 422, r.text
    msg = r.json()["message"]
    for w in words:
        assert w in msg, msg


def test_registries_match_compute():
    assert schemas.MAX_NODES == la.MAX_NODES
    assert schemas.Dataset.__args__ == la.DATASETS
    assert schemas.Affinity.__args__ == la.AFFINITIES
    assert schemas.ConvMode.__args__ == la.CONV_MODES


# ------------------------------------------------------------------------------- PageRank


def test_pagerank_matches_numpy_eig(client):
    edges = [[0, 1], [1, 2], [2, 0], [0, 2], [3, 2]]
    r = post(client, "pagerank", {"n_nodes": 5, "edges": edges, "damping": 0.85, "max_iter": 500})
    assert r.status_code == 200, r.text
    d = r.json()
    G = np.array(d["google"])
    w, V = np.linalg.eig(G)
    v = np.real(V[:, np.argmax(np.abs(w))])
    np.testing.assert_allclose(d["ranks"], v / v.sum(), atol=1e-9)
    assert d["dangling"] == [False, False, False, False, True]  # node 4 has no out-link
    assert len(d["iterates"]) == d["n_iter"] + 1 and d["converged"]
    np.testing.assert_allclose(d["iterates"][0], 0.2)
    assert d["lambda2"] <= 0.85 + 1e-9


@pytest.mark.parametrize("body,words", [
    ({"n_nodes": 3, "edges": [[0, 3]]}, ["edges[0]", "0..2"]),
    ({"n_nodes": 51, "edges": []}, ["n_nodes", "50"]),
    ({"n_nodes": 3, "edges": [[0, 1, 2]]}, ["edges"]),
    ({"n_nodes": 3, "edges": [[0, 1]], "damping": 1.5}, ["damping"]),
    ({"n_nodes": 3, "edges": [[0, 1]], "damping": "NaN"}, ["damping"]),
    ({"n_nodes": 3, "edges": [[0, 1]], "extra": 1}, ["extra"]),
])  # fmt: skip
def test_pagerank_422_names_the_field(client, body, words):
    assert_422(post(client, "pagerank", body), *words)


# ------------------------------------------------------------------------------- spectral


def test_spectral_clustering_beats_kmeans_on_moons(client):
    r = post(client, "spectral-clustering", {"dataset": "moons", "n_samples": 200, "noise": 0.05, "seed": 1})
    assert r.status_code == 200, r.text
    d = r.json()
    assert len(d["x"]) == len(d["labels_spectral"]) == 200
    assert d["acc_spectral"] >= 0.99 and d["acc_kmeans"] < 0.9
    assert d["eigvals"] == sorted(d["eigvals"]) and abs(d["eigvals"][0]) < 1e-9
    np.testing.assert_allclose(d["fiedler"], d["eigvecs"][1])
    assert all(i < j for i, j in d["edges"])


def test_spectral_rbf_circles(client):
    d = post(client, "spectral-clustering", {"dataset": "circles", "affinity": "rbf", "gamma": 20, "n_samples": 200}).json()
    assert d["acc_spectral"] >= 0.99 and d["acc_kmeans"] < 0.7


@pytest.mark.parametrize("body,words", [
    ({"dataset": "spirals"}, ["dataset"]),
    ({"n_samples": 10}, ["n_samples"]),
    ({"n_samples": 20, "n_neighbors": 20}, ["n_neighbors"]),
    ({"gamma": 0}, ["gamma"]),
    ({"noise": "Infinity"}, ["noise"]),
])  # fmt: skip
def test_spectral_422_names_the_field(client, body, words):
    assert_422(post(client, "spectral-clustering", body), *words)


# ------------------------------------------------------------------------------- attention


@pytest.mark.parametrize("causal", [False, True])
def test_attention_matches_torch(client, causal):
    r = post(client, "attention", {"tokens": ["the", "cat", "sat", "on", "the", "mat"], "embed_dim": 4, "seed": 3, "causal": causal})
    assert r.status_code == 200, r.text
    d = r.json()
    assert (d["batch"], d["seq_len"], d["embed_dim"]) == (1, 6, 4)
    q, k, v = (torch.tensor(d[n], dtype=torch.float64) for n in "qkv")
    assert q.shape == (1, 6, 4)
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal).numpy()
    np.testing.assert_allclose(d["output"], ref, atol=1e-12)
    assert d["scale"] == 0.5
    assert (d["scores"][0][0][1] is None) == causal  # masked scores are −∞ → null


def test_attention_with_given_qkv(client):
    q = [[1.0, 0.0], [0.0, 1.0]]
    d = post(client, "attention", {"tokens": ["a", "b"], "embed_dim": 2, "q": q, "k": q, "v": [[1.0, 2.0], [3.0, 4.0]], "scale": 1.0}).json()
    assert d["x"] is None
    e = np.exp(1.0)
    np.testing.assert_allclose(d["weights"][0], [[e / (e + 1), 1 / (e + 1)], [1 / (e + 1), e / (e + 1)]])


@pytest.mark.parametrize("body,words", [
    ({"tokens": []}, ["tokens"]),
    ({"tokens": ["a"] * 17}, ["tokens"]),
    ({"tokens": ["a", "b"], "embed_dim": 0}, ["embed_dim"]),
    ({"tokens": ["a"], "embed_dim": 1, "q": [[1.0]]}, ["q, k, v"]),
    ({"tokens": ["a", "b"], "embed_dim": 1, "q": [[1.0]], "k": [[1.0]], "v": [[1.0]]}, ["q must be", "2×1"]),
    ({"tokens": ["a", "b"], "embed_dim": 2, "q": [[1.0, 2.0], [1.0]], "k": [[1.0, 2.0], [1, 2]], "v": [[1.0, 2.0], [1, 2]]}, ["q must be rectangular"]),
    ({"tokens": ["a"], "embed_dim": 1, "q": [["NaN"]], "k": [[1.0]], "v": [[1.0]]}, ["q"]),
    ({"tokens": ["a b"]}, ["tokens"]),
])  # fmt: skip
def test_attention_422_names_the_field(client, body, words):
    assert_422(post(client, "attention", body), *words)


# ------------------------------------------------------------------------------- convolution


@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_convolution_matches_numpy_and_scipy(client, mode):
    rng = np.random.default_rng(4)
    x, h = rng.standard_normal(12).round(3), rng.standard_normal(4).round(3)
    img, K = rng.standard_normal((6, 5)).round(3), rng.standard_normal((3, 2)).round(3)
    body = {"signal": x.tolist(), "kernel": h.tolist(), "mode": mode, "image": img.tolist(), "image_kernel": K.tolist()}
    r = post(client, "convolution", body)
    assert r.status_code == 200, r.text
    d = r.json()
    np.testing.assert_allclose(np.array(d["toeplitz"]) @ x, np.convolve(x, h, mode), atol=1e-12)
    np.testing.assert_allclose(d["output"], np.convolve(x, h, mode), atol=1e-12)
    ref = convolve2d(img, K, mode)
    np.testing.assert_allclose((np.array(d["block_toeplitz"]) @ img.ravel()).reshape(ref.shape), ref, atol=1e-12)
    np.testing.assert_allclose(d["output_2d"], ref, atol=1e-12)
    assert d["max_abs_diff"] < 1e-12 and d["max_abs_diff_2d"] < 1e-12


def test_convolution_without_image(client):
    d = post(client, "convolution", {"signal": [1, 2, 3], "kernel": [1, 1]}).json()
    assert d["output"] == [1, 3, 5, 3] and d["block_toeplitz"] is None


@pytest.mark.parametrize("body,words", [
    ({"signal": [], "kernel": [1]}, ["signal"]),
    ({"signal": [1] * 65, "kernel": [1]}, ["signal"]),
    ({"signal": [1], "kernel": [1e7]}, ["kernel"]),
    ({"signal": [1], "kernel": [1], "mode": "circular"}, ["mode"]),
    ({"signal": [1], "kernel": [1], "image": [[1, 2], [3]], "image_kernel": [[1]]}, ["image must be rectangular"]),
    ({"signal": [1], "kernel": [1], "image": [[1]]}, ["image_kernel"]),
    ({"signal": [1], "kernel": [1], "image": [[1]] * 17, "image_kernel": [[1]]}, ["image"]),
    ({"signal": [1], "kernel": [1], "image": [[1]], "image_kernel": [[1, 1]], "mode": "valid"}, ["image_kernel", "fit inside"]),
])  # fmt: skip
def test_convolution_422_names_the_field(client, body, words):
    assert_422(post(client, "convolution", body), *words)


# ------------------------------------------------------------------------------- embeddings


def test_embeddings_neighbours_and_analogy(client):
    r = post(client, "embeddings", {"word": "paris", "analogy": ["king", "man", "woman"], "top_k": 5})
    assert r.status_code == 200, r.text
    d = r.json()
    assert d["analogy"][0]["word"] == "queen"
    assert {"king", "man", "woman"}.isdisjoint(a["word"] for a in d["analogy"])
    assert len(d["neighbours"]) == 5 and all(-1 <= n["cosine"] <= 1 + 1e-12 for n in d["neighbours"])
    assert len(d["vocab"]) == len(d["xy"]) == len(d["groups"]) == len(d["counts"])
    assert d["groups"][d["vocab"].index("queen")] == "royal (female)"
    xy = np.array(d["analogy_xy"])  # a, b, c, a − b + c, answer
    np.testing.assert_allclose(xy[3] - xy[0], xy[2] - xy[1], atol=1e-12)


def test_embeddings_low_rank_fails_the_analogy(client):
    d = post(client, "embeddings", {"rank": 16, "analogy": ["king", "man", "woman"]}).json()
    assert d["analogy"][0]["word"] != "queen"


@pytest.mark.parametrize("body,words", [
    ({"word": "zebra"}, ["word", "'zebra'"]),
    ({"analogy": ["king", "unicorn", "woman"]}, ["analogy.1", "'unicorn'"]),
    ({"analogy": ["king", "man"]}, ["analogy"]),
    ({"rank": 1}, ["rank"]),
    ({"rank": 161}, ["rank"]),
    ({"window": 9}, ["window"]),
])  # fmt: skip
def test_embeddings_422_names_the_field(client, body, words):
    assert_422(post(client, "embeddings", body), *words)
