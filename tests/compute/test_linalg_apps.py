"""Linear algebra at work, against independent references: numpy.linalg.eig for PageRank,
scipy's Laplacian and eigh for spectral clustering, torch's scaled_dot_product_attention,
numpy.convolve / scipy.signal.convolve2d, and the PPMI / SVD definitions for embeddings."""

import numpy as np
import pytest
import torch
from scipy.signal import convolve2d
from scipy.sparse.csgraph import laplacian as sp_laplacian

from compute import corpus
from compute import linalg_apps as la

# ------------------------------------------------------------------------------- PageRank


def reference_pagerank(n, edges, d):
    """The dominant eigenvector of the Google matrix, built independently with a loop."""
    A = np.zeros((n, n))
    for i, j in edges:
        A[i, j] = 1
    G = np.zeros((n, n))
    for i in range(n):
        out = A[i].sum()
        for j in range(n):
            G[j, i] = d * (A[i, j] / out if out else 1 / n) + (1 - d) / n
    w, V = np.linalg.eig(G)
    v = np.real(V[:, np.argmax(np.abs(w))])
    return v / v.sum(), G


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("d", [0.5, 0.85, 0.99])
def test_pagerank_matches_the_eigenvector_of_numpy_eig(seed, d):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 30))
    edges = [(i, j) for i in range(n) for j in range(n) if rng.random() < 0.15]
    r = la.pagerank(n, edges, d, tol=1e-13, max_iter=5000)
    ref, G = reference_pagerank(n, edges, d)
    np.testing.assert_allclose(r.google, G, atol=1e-15)
    assert r.converged
    np.testing.assert_allclose(r.ranks, ref, atol=1e-10)
    np.testing.assert_allclose(r.eigvec, ref, atol=1e-12)
    np.testing.assert_allclose(r.iterates.sum(axis=1), 1, atol=1e-12)
    # power iteration: the error contracts by about |λ₂| ≤ d per step
    assert abs(r.eigvals[0] - 1) < 1e-10 and np.abs(r.eigvals[1]) <= d + 1e-9


def test_pagerank_dangling_node_links_everywhere():
    # 2 has no out-link: its column of M is uniform, so its rank is not lost
    r = la.pagerank(3, [(0, 1), (1, 2), (0, 2)], 0.85)
    assert r.dangling.tolist() == [False, False, True]
    np.testing.assert_allclose(r.link[:, 2], 1 / 3)
    np.testing.assert_allclose(r.link.sum(axis=0), 1)
    ref, _ = reference_pagerank(3, [(0, 1), (1, 2), (0, 2)], 0.85)
    np.testing.assert_allclose(r.ranks, ref, atol=1e-9)


def test_pagerank_symmetric_cycle_is_uniform_and_duplicates_count_once():
    r = la.pagerank(4, [(0, 1), (1, 2), (2, 3), (3, 0), (0, 1)], 0.85)
    np.testing.assert_allclose(r.ranks, 0.25, atol=1e-12)
    assert r.n_iter == 1  # r_0 = 1/n is already the fixed point


def test_pagerank_rejects_bad_nodes():
    with pytest.raises(ValueError, match=r"edge \[0, 4\]"):
        la.pagerank(3, [(0, 4)])
    with pytest.raises(ValueError, match="n_nodes"):
        la.pagerank(51, [])


# ------------------------------------------------------------------------------- spectral


def test_laplacian_matches_scipy():
    X, _ = la.make_dataset("moons", 80, 0.05, 1)
    for aff in la.AFFINITIES:
        W = la.affinity_matrix(X, aff, 6, 10.0)
        np.testing.assert_allclose(W, W.T)
        np.testing.assert_allclose(la.laplacian(W, True), sp_laplacian(W, normed=True), atol=1e-12)
        np.testing.assert_allclose(la.laplacian(W, False), sp_laplacian(W, normed=False), atol=1e-12)


def test_knn_graph_links_each_point_to_its_k_nearest():
    X, _ = la.make_dataset("circles", 60, 0.05, 0)
    W = la.affinity_matrix(X, "knn", 5)
    D = np.linalg.norm(X[:, None] - X[None], axis=-1)
    np.fill_diagonal(D, np.inf)
    for i in range(len(X)):
        assert set(np.argsort(D[i])[:5]) <= set(np.flatnonzero(W[i]))


@pytest.mark.parametrize("dataset", la.DATASETS)
@pytest.mark.parametrize("affinity", la.AFFINITIES)
def test_spectral_separates_moons_and_circles_where_kmeans_fails(dataset, affinity):
    r = la.spectral_clustering(dataset, 300, 0.05, seed=2, affinity=affinity)
    assert r.acc_spectral >= 0.99
    assert r.acc_kmeans < 0.9
    np.testing.assert_allclose(r.eigvals, np.linalg.eigvalsh(r.laplacian)[: len(r.eigvals)], atol=1e-9)
    assert abs(r.eigvals[0]) < 1e-9  # L always has eigenvalue 0
    # the eigenvectors really are: L v = λ v, and oriented (largest component positive)
    np.testing.assert_allclose(r.laplacian @ r.eigvecs, r.eigvecs * r.eigvals, atol=1e-8)
    assert np.all(r.eigvecs[np.argmax(np.abs(r.eigvecs), axis=0), range(r.eigvecs.shape[1])] > 0)


def test_fiedler_vector_sign_splits_a_connected_moons_graph():
    r = la.spectral_clustering("moons", 200, 0.05, seed=0, affinity="rbf", gamma=20)
    assert r.n_components == 1
    split = (r.fiedler > 0).astype(int)
    assert la.best_match_accuracy(r.y_true, split) >= 0.99


def test_best_match_accuracy_is_permutation_invariant():
    y = np.array([0, 0, 1, 1, 2, 2])
    assert la.best_match_accuracy(y, np.array([2, 2, 0, 0, 1, 1])) == 1.0
    assert la.best_match_accuracy(y, np.array([0, 1, 1, 1, 2, 2])) == pytest.approx(5 / 6)


def test_spectral_is_deterministic():
    a = la.spectral_clustering("circles", 120, 0.04, seed=7)
    b = la.spectral_clustering("circles", 120, 0.04, seed=7)
    np.testing.assert_array_equal(a.eigvecs, b.eigvecs)
    np.testing.assert_array_equal(a.labels_spectral, b.labels_spectral)


# ------------------------------------------------------------------------------- attention


@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("scale", [None, 0.3])
def test_attention_matches_torch_sdpa(causal, scale):
    rng = np.random.default_rng(0)
    q, k, v = rng.standard_normal((3, 2, 7, 5))  # (batch, seq_len, embed_dim)
    a = la.attention(q, k, v, causal, scale)
    ref = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(m) for m in (q, k, v)), is_causal=causal, scale=scale
    ).numpy()
    np.testing.assert_allclose(a.output, ref, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a.weights.sum(-1), 1, atol=1e-12)
    if causal:
        assert np.all(a.weights[:, np.triu_indices(7, 1)[0], np.triu_indices(7, 1)[1]] == 0)
        assert np.isneginf(a.scores[0, 0, 1])


def test_attention_softmax_is_stable_for_huge_scores():
    q = np.array([[[1000.0], [0.0]]])
    a = la.attention(q, q, q, scale=1.0)
    assert np.all(np.isfinite(a.weights))
    np.testing.assert_allclose(a.weights[0, 0], [1, 0])


def test_token_qkv_repeats_rows_for_repeated_tokens():
    x, q, k, v = la.token_qkv(["the", "cat", "the"], 4, seed=3)
    assert x.shape == q.shape == (1, 3, 4)
    np.testing.assert_array_equal(q[0, 0], q[0, 2])
    x2, *_ = la.token_qkv(["the", "cat", "the"], 4, seed=3)
    np.testing.assert_array_equal(x, x2)


# ------------------------------------------------------------------------------- convolution


@pytest.mark.parametrize("mode", la.CONV_MODES)
@pytest.mark.parametrize("n,m", [(7, 3), (8, 4), (5, 5), (3, 6), (1, 1), (10, 2)])
def test_toeplitz_product_equals_numpy_convolve(mode, n, m):
    rng = np.random.default_rng(n * 10 + m)
    x, h = rng.standard_normal(n), rng.standard_normal(m)
    T = la.toeplitz_matrix(h, n, mode)
    np.testing.assert_allclose(T @ x, np.convolve(x, h, mode), atol=1e-12)
    # Toeplitz: constant along every diagonal
    for off in range(-T.shape[1] + 1, T.shape[0]):
        d = np.diagonal(T, -off)
        assert np.all(d == d[0])


@pytest.mark.parametrize("mode", la.CONV_MODES)
@pytest.mark.parametrize("shape,kshape", [((6, 7), (3, 3)), ((5, 5), (2, 4)), ((8, 4), (4, 1)), ((3, 3), (3, 3))])
def test_block_toeplitz_product_equals_scipy_convolve2d(mode, shape, kshape):
    rng = np.random.default_rng(sum(shape) + sum(kshape))
    img, K = rng.standard_normal(shape), rng.standard_normal(kshape)
    B, out_shape = la.block_toeplitz_matrix(K, shape, mode)
    ref = convolve2d(img, K, mode)
    assert out_shape == ref.shape
    np.testing.assert_allclose((B @ img.ravel()).reshape(out_shape), ref, atol=1e-12)


def test_block_toeplitz_is_block_toeplitz_with_toeplitz_blocks():
    K = np.arange(1.0, 7).reshape(2, 3)
    B, (ho, wo) = la.block_toeplitz_matrix(K, (4, 5), "full")
    blocks = B.reshape(ho, wo, 4, 5).transpose(0, 2, 1, 3)  # (block row, block col, wo, 5)
    for r in range(ho):
        for c in range(4):
            if r - c == 0:
                np.testing.assert_array_equal(blocks[r, c], la.toeplitz_matrix(K[0], 5))
            if 0 <= r - c < 2:
                np.testing.assert_array_equal(blocks[r, c], blocks[r - c, 0])
            else:
                assert not blocks[r, c].any()


def test_valid_2d_needs_a_fitting_kernel():
    with pytest.raises(ValueError, match="fit inside"):
        la.block_toeplitz_matrix(np.ones((4, 4)), (3, 5), "valid")


# ------------------------------------------------------------------------------- embeddings


def test_corpus_is_bounded_and_fixed():
    s = corpus.sentences()
    assert 200 <= len(s) <= 1000
    assert s == corpus.sentences()
    assert all(w.islower() for line in s for w in line.split())


def test_cooccurrence_and_ppmi_by_hand():
    sents = la.tokenize(["a b c", "a b"])
    vocab, counts, C = la.cooccurrence(sents, window=1)
    assert vocab == ("a", "b", "c") and counts.tolist() == [2, 2, 1]
    np.testing.assert_array_equal(C, [[0, 2, 0], [2, 0, 1], [0, 1, 0]])
    P = la.ppmi(C, alpha=1.0)
    total = C.sum()
    pmi_ab = np.log((2 / total) / ((2 / total) * (3 / total)))
    assert P[0, 1] == pytest.approx(pmi_ab)
    assert P[0, 2] == 0  # never together: PMI = −∞, clipped to 0
    assert np.all(P >= 0)


def test_embeddings_are_the_truncated_svd_of_ppmi():
    E = la.embeddings(2, 40, 0.75)
    U, s, Vt = np.linalg.svd(E.ppmi)
    np.testing.assert_allclose(E.singular_values, s, rtol=1e-10)
    # W Wᵀ = U_k Σ_k U_kᵀ: the best rank-k approximation of the symmetric PPMI (Eckart–Young),
    # whatever the signs of the singular vectors
    approx = (U[:, :40] * s[:40]) @ Vt[:40]
    np.testing.assert_allclose(np.linalg.norm(E.ppmi - approx) ** 2, np.sum(s[40:] ** 2), rtol=1e-8)
    np.testing.assert_allclose(E.vectors @ E.vectors.T, (U[:, :40] * s[:40]) @ U[:, :40].T, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(E.unit, axis=1), 1)


def test_nearest_neighbours_by_brute_force_cosine():
    E = la.embeddings()
    i = E.vocab.index("paris")
    cos = [float(E.vectors[i] @ E.vectors[j] / np.linalg.norm(E.vectors[i]) / np.linalg.norm(E.vectors[j]))
           for j in range(len(E.vocab))]  # fmt: skip
    cos[i] = -np.inf
    want = sorted(range(len(cos)), key=lambda j: -cos[j])[:5]
    got = la.nearest(E, "paris", 5)
    # capitals tie (the corpus treats them alike), so compare the scores and each word's score
    np.testing.assert_allclose([c for _, c in got], [cos[j] for j in want], atol=1e-12)
    for w, c in got:
        assert c == pytest.approx(cos[E.vocab.index(w)], abs=1e-12)


@pytest.mark.parametrize("a,b,c,want", [
    ("king", "man", "woman", "queen"), ("prince", "boy", "girl", "princess"),
    ("paris", "france", "italy", "rome"), ("berlin", "germany", "spain", "madrid"),
    ("kitten", "cat", "dog", "puppy"), ("father", "man", "woman", "mother"),
])  # fmt: skip
def test_analogies_work_at_the_default_rank(a, b, c, want):
    assert la.analogy(la.embeddings(), a, b, c)[0][0] == want


def test_analogies_fail_when_the_rank_is_too_small():
    E = la.embeddings(rank=16)
    assert la.analogy(E, "king", "man", "woman")[0][0] != "queen"


def test_analogy_plane_keeps_the_parallelogram():
    E = la.embeddings()
    words = ["king", "man", "woman", "queen"]
    V = np.array([E.unit[E.vocab.index(w)] for w in words] + [la.analogy_target(E, "king", "man", "woman")])
    xy = la.project_2d(V)
    # the projection is linear, so the target a − b + c keeps the parallelogram in the plane
    np.testing.assert_allclose(xy[4] - xy[0], xy[2] - xy[1], atol=1e-12)


def test_unknown_word_names_it():
    with pytest.raises(ValueError, match="'zebra'"):
        la.nearest(la.embeddings(), "zebra")
