"""compute.linalg against independent references: numpy/scipy/sklearn and closed forms."""

import io
import math

import numpy as np
import pytest
import scipy.linalg

from compute import linalg as L

RNG = np.random.default_rng(1234)


@pytest.mark.parametrize("n", [2, 3, 7, 20])
def test_eigen_matches_scipy_and_is_sorted_and_oriented(n):
    A = RNG.standard_normal((n, n))
    e = L.eigen(A)
    np.testing.assert_allclose(A @ e.eigvecs, e.eigvecs * e.eigvals, atol=1e-10)
    ref = scipy.linalg.eigvals(A)
    np.testing.assert_allclose(np.sort_complex(e.eigvals), np.sort_complex(ref), atol=1e-10)
    mod = np.abs(e.eigvals)
    assert np.all(np.diff(mod) <= 1e-12 * mod[0])
    np.testing.assert_allclose(np.linalg.norm(e.eigvecs, axis=0), 1, atol=1e-12)
    pivots = e.eigvecs[np.argmax(np.abs(e.eigvecs), axis=0), np.arange(n)]
    assert np.all(pivots.real > 0) and np.allclose(pivots.imag, 0)


def test_eigen_is_deterministic_under_sign_flips_of_the_input_vectors():
    # The same symmetric matrix built from flipped eigenvectors orients identically.
    Q, _ = np.linalg.qr(RNG.standard_normal((4, 4)))
    lam = np.array([4.0, -3.0, 2.0, 1.0])
    a = L.eigen((Q * lam) @ Q.T)
    b = L.eigen(((-Q) * lam) @ (-Q).T)
    np.testing.assert_allclose(a.eigvecs, b.eigvecs, atol=1e-10)
    np.testing.assert_allclose(a.eigvals.real, [4, -3, 2, 1], atol=1e-12)


def test_rotation_has_a_conjugate_pair_positive_imaginary_first():
    e = L.eigen(L.rotation(0.3))
    np.testing.assert_allclose(e.eigvals, [np.exp(0.3j), np.exp(-0.3j)], atol=1e-14)
    assert not e.is_real


def test_eigen_rejects_non_square():
    with pytest.raises(ValueError, match="square; got 2×3"):
        L.eigen(np.ones((2, 3)))


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (40, 40)])
def test_svd_matches_numpy_and_eckart_young(shape):
    A = RNG.standard_normal(shape)
    d = L.svd(A)
    np.testing.assert_allclose(d.S, scipy.linalg.svdvals(A), rtol=1e-12)
    np.testing.assert_allclose((d.U * d.S) @ d.Vt, A, atol=1e-12)
    assert np.all(d.U[np.argmax(np.abs(d.U), axis=0), np.arange(d.U.shape[1])] > 0)
    for k in range(min(shape) + 1):
        r = L.svd(A, k)
        assert np.linalg.matrix_rank(r.approximation) == k
        assert r.error_fro == pytest.approx(math.sqrt(np.sum(d.S[k:] ** 2)), rel=1e-9, abs=1e-12)
    with pytest.raises(ValueError, match="rank must be in"):
        L.svd(A, min(shape) + 1)


def test_transform2_rotate_stretch_rotate():
    for A in (RNG.standard_normal((2, 2)) for _ in range(20)):
        t = L.transform2(A)
        rebuilt = L.rotation(t.theta_u) @ np.diag(t.stretch) @ L.rotation(t.theta_v)
        np.testing.assert_allclose(rebuilt, A, atol=1e-12)
        assert t.det == pytest.approx(np.linalg.det(A))
        assert np.sign(t.stretch[1]) == np.sign(t.det)
    assert L.transform2([[1, 0], [0, 0]]).rank == 1
    assert L.transform2([[0, 0], [0, 0]]).rank == 0
    assert L.transform2([[1, 1], [0, 1]]).defective
    assert not L.transform2([[2, 0], [0, 2]]).defective


def test_pca_matches_sklearn():
    from sklearn.decomposition import PCA as SkPCA

    X = L.correlated_cloud(500, [2.0, 1.0, 0.5], 0.7, seed=3)
    p = L.pca(X, 2)
    sk = SkPCA(n_components=3, svd_solver="full").fit(X)
    np.testing.assert_allclose(p.eigvals, sk.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(p.explained_variance_ratio, sk.explained_variance_ratio_, rtol=1e-10)
    np.testing.assert_allclose(np.abs(p.components @ sk.components_.T), np.eye(3), atol=1e-10)
    sk2 = SkPCA(n_components=2, svd_solver="full").fit(X)
    signs = np.sign(np.sum(p.components[:2] * sk2.components_, axis=1))
    np.testing.assert_allclose(p.scores, sk2.transform(X) * signs, atol=1e-10)
    np.testing.assert_allclose(p.reconstruction, sk2.inverse_transform(sk2.transform(X)), atol=1e-10)
    np.testing.assert_allclose(p.covariance, np.cov(X, rowvar=False), atol=1e-12)
    assert p.reconstruction_mse == pytest.approx(499 / 500 * p.eigvals[2], rel=1e-10)


def test_cloud_is_seeded_and_has_its_covariance():
    a = L.correlated_cloud(20000, [2.0, 0.5], -0.6, seed=7)
    np.testing.assert_array_equal(a, L.correlated_cloud(20000, [2.0, 0.5], -0.6, seed=7))
    np.testing.assert_allclose(np.cov(a, rowvar=False), [[4, -0.6], [-0.6, 0.25]], atol=0.08)


def test_low_rank_image_error_is_eckart_young():
    img = L.pattern_image(96, 128)
    f = L.image_svd(img)
    S = scipy.linalg.svdvals(img)
    np.testing.assert_allclose(f.S, S, rtol=1e-10, atol=1e-12 * S[0])
    for k in (0, 1, 5, 30, 48, 49, 70, 95, 96):  # above p/2 = 48: the image minus the tail
        r = L.low_rank_image(f, k)
        exact = (np.linalg.svd(img)[0][:, :k] * S[:k]) @ np.linalg.svd(img)[2][:k]
        assert r.rel_error == pytest.approx(np.linalg.norm(img - exact) / np.linalg.norm(img), abs=1e-7)
        assert r.rel_error == pytest.approx(math.sqrt(np.sum(S[k:] ** 2) / np.sum(S**2)), abs=1e-12)
        assert np.max(np.abs(r.pixels / 255.0 - np.clip(exact, 0, 1))) <= 0.5 / 255 + 1e-4
        assert r.storage_ratio == pytest.approx(k * (96 + 128 + 1) / (96 * 128))
    np.testing.assert_allclose(L.relative_errors(S)[[0, -1]], [1, 0], atol=1e-12)


def _png(w, h, mode="L"):
    from PIL import Image

    buf = io.BytesIO()
    Image.new(mode, (w, h), (128,) * len(mode)).save(buf, "PNG")
    return buf.getvalue()


def test_decode_image_checks_type_size_and_shrinks():
    img = L.decode_image(_png(1000, 500, "RGB"))
    assert img.shape == (256, 512) and np.allclose(img, 128 / 255)
    with pytest.raises(ValueError, match="at most 2048×2048 pixels; got 3000×10"):
        L.decode_image(_png(3000, 10))
    with pytest.raises(ValueError, match="PNG or JPEG"):
        L.decode_image(b"GIF89a not really")
    with pytest.raises(ValueError, match="PNG or JPEG"):
        L.decode_image(_png(100, 100)[:60])  # truncated
    for name in L.IMAGES:
        im = L.builtin_image(name)
        assert max(im.shape) == 512 and im.min() >= 0 and im.max() <= 1


def test_decompression_bomb_is_refused_before_decoding():
    # A tiny PNG whose header claims 30000×30000 pixels (the classic bomb): refused on the header.
    import struct
    import zlib

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    raw = zlib.compress(b"\x00" * 30001 * 16)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 0, 0, 0, 0)) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")
    with pytest.raises(ValueError, match="at most 2048×2048 pixels"):
        L.decode_image(png)


def test_lora_is_the_truncated_svd_and_counts_parameters():
    r = L.lora(48, 6, 0.7, seed=2)
    U, S, Vt = np.linalg.svd(r.delta)
    best = (U[:, :6] * S[:6]) @ Vt[:6]
    np.testing.assert_allclose(r.B @ r.A, best, atol=1e-12)
    assert r.B.shape == (48, 6) and r.A.shape == (6, 48)
    assert r.params_lora == 2 * 48 * 6 and r.params_full == 48 * 48
    assert r.rel_error == pytest.approx(np.linalg.norm(r.delta - best) / np.linalg.norm(r.delta), rel=1e-9)
    np.testing.assert_allclose(S[1:] / S[:-1], 0.7, rtol=1e-8)
    assert np.linalg.norm(r.delta) == pytest.approx(0.1 * np.linalg.norm(r.W))
    # any other rank-6 update does worse (Eckart–Young), e.g. a random one fitted by least squares
    B2 = RNG.standard_normal((48, 6))
    A2 = np.linalg.lstsq(B2, r.delta, rcond=None)[0]
    assert np.linalg.norm(r.delta - B2 @ A2) > np.linalg.norm(r.delta - best)
    assert L.lora(48, 6, 1.0, seed=2).rel_error > 0.9  # a flat spectrum needs full rank


def test_least_squares_methods_against_exact_and_numpy():
    r = L.least_squares(40, 3, 0.0, 0.1, 0.0, 1e-15, seed=0)
    X = L.design_matrix(r.x, 3)
    ref = np.linalg.lstsq(X, r.y, rcond=None)[0]
    np.testing.assert_allclose(r.exact, ref, rtol=1e-10)
    for m in L.METHODS:
        np.testing.assert_allclose(r.coefs[m], ref, rtol=1e-8)
        assert r.coef_error[m] < 1e-10
    assert r.cond == pytest.approx(np.linalg.cond(X), rel=1e-10)
    np.testing.assert_allclose(r.grid, np.linspace(-1, 1, 121))
    # Far from the origin the monomials are nearly collinear: normal equations lose ~κ² digits.
    bad = L.least_squares(40, 3, 30.0, 0.1, 0.0, 1e-15, seed=0)
    assert bad.cond > 1e6
    assert bad.coef_error["normal"] > 1e3 * bad.coef_error["lstsq"]
    ridge = L.least_squares(40, 3, 30.0, 0.1, 1e-2, 1e-15, seed=0)
    U, S, Vt = np.linalg.svd(L.design_matrix(ridge.x, 3), full_matrices=False)
    Xr = L.design_matrix(ridge.x, 3)
    w_ridge = np.linalg.solve(Xr.T @ Xr + 1e-2 * np.eye(4), Xr.T @ ridge.y)
    np.testing.assert_allclose(ridge.coefs["ridge"], w_ridge, rtol=1e-4)
    np.testing.assert_allclose(ridge.filter, S**2 / (S**2 + 1e-2))


def test_pinv_matches_numpy_pinv():
    r = L.least_squares(25, 6, 8.0, 0.05, 0.0, 1e-10, seed=4)
    X = L.design_matrix(r.x, 6)
    np.testing.assert_allclose(r.coefs["pinv"], np.linalg.pinv(X, rcond=1e-10) @ r.y, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(("degree", "x_offset"), [(1, 0.0), (3, 1.0), (3, 10.0), (5, 3.0), (7, 0.0)])
def test_collinearity_is_scipy_subspace_angle(degree, x_offset):
    r = L.least_squares(30, degree, x_offset, 0.1, 0.0, 1e-15, seed=1)
    X = L.design_matrix(r.x, degree)
    angles = [np.degrees(scipy.linalg.subspace_angles(X[:, [j]], np.delete(X, j, axis=1))[0]) for j in range(degree + 1)]
    assert r.column_angle == pytest.approx(min(angles), rel=1e-6)
    assert angles[r.column_index] == pytest.approx(min(angles), rel=1e-6)  # ties (p = 2) either way
    # 1/sin²θ_j is column j's variance-inflation factor: the (j, j) entry of the inverse Gram of unit columns
    Xn = X / np.linalg.norm(X, axis=0)
    vif = np.linalg.inv(Xn.T @ Xn)[r.column_index, r.column_index]
    assert 1 / math.sin(math.radians(r.column_angle)) ** 2 == pytest.approx(vif, rel=1e-5)


def test_collinearity_shrinks_as_the_points_move_away_from_zero():
    angles = [L.least_squares(40, 3, c, 0.1, 0.0, 1e-15, seed=0).column_angle for c in (0.0, 1.0, 3.0, 10.0, 30.0)]
    assert all(a > b for a, b in zip(angles, angles[1:], strict=False))
    assert angles[0] > 10 and angles[-1] < 1e-3
    # two orthogonal columns are 90° apart; a repeated column is 0° away from the others' span
    assert L.collinearity(np.eye(3)[:, :2]) == (pytest.approx(90.0), 0)
    assert L.collinearity(np.array([[1.0, 2.0], [2.0, 4.0], [0.5, 1.0]]))[0] == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ValueError, match="at least 2 columns; got 1"):
        L.collinearity(np.ones((4, 1)))


def test_least_squares_coef_norms_and_ridge_shrinks_them():
    r0 = L.least_squares(30, 9, 3.0, 0.1, 0.0, 1e-15, seed=0)
    for m in L.METHODS:
        assert r0.coef_norm[m] == pytest.approx(np.linalg.norm(r0.coefs[m]), rel=1e-12)
    norms = [L.least_squares(30, 9, 3.0, 0.1, lam, 1e-15, seed=0).coef_norm["ridge"] for lam in (0.0, 1e-8, 1e-4, 1e-1)]
    assert all(a > b for a, b in zip(norms, norms[1:], strict=False))  # ‖w_λ‖ falls as λ grows
