"""Linear algebra for the linear-algebra lens: eigen- and singular-value decompositions with
deterministic signs, 2×2 maps, PCA, low-rank images, LoRA updates and least squares.

Every function is pure: arrays and keyword parameters in, arrays or frozen dataclasses out;
random data comes from ``np.random.default_rng(seed)``.
"""

from __future__ import annotations

import hashlib
import io
import math
import struct
import warnings
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike

Array = np.ndarray

# ----------------------------------------------------------------------------------------------
# Orientation: eigen/singular vectors are defined up to sign (or a complex phase); fix one so
# that animation frames and repeated calls never flip.
# ----------------------------------------------------------------------------------------------

_TIE = 1e-9  # components within this relative margin of the largest count as tied: take the first


def orient_columns(V: ArrayLike) -> tuple[Array, Array]:
    """Scale each column by a unit phase so its largest-magnitude component is real and positive.

    ``V`` (n, k), real or complex → (V', phases) with ``V'[:, j] = V[:, j] * phases[j]``.
    Ties (|v_i| within 1e-9 of the max) go to the first index, so rounding noise cannot flip it.
    """
    V = np.asarray(V)
    if V.size == 0:
        return V.copy(), np.ones(V.shape[1], dtype=V.dtype)
    mag = np.abs(V)  # (n, k)
    top = mag.max(axis=0)  # (k,)
    idx = np.argmax(mag >= top * (1 - _TIE), axis=0)  # first near-maximal component per column
    pivot = V[idx, np.arange(V.shape[1])]
    if np.iscomplexobj(V):
        a = np.abs(pivot)
        phase = np.ones_like(pivot)
        nz = a > 0
        phase[nz] = np.conj(pivot[nz]) / a[nz]
    else:
        phase = np.where(pivot < 0, -1.0, 1.0).astype(V.dtype)
    return V * phase, phase


@dataclass(frozen=True)
class Eigen:
    """Eigen-decomposition ``A v_j = λ_j v_j``: ``eigvals`` (n,) complex, sorted by descending
    modulus (ties: larger real part, then larger imaginary part first); ``eigvecs`` (n, n)
    complex, unit-norm columns, largest component real positive."""

    eigvals: Array
    eigvecs: Array

    @property
    def is_real(self) -> bool:
        return bool(np.all(self.eigvals.imag == 0))


def _check_matrix(A: ArrayLike, name: str = "matrix", square: bool = False) -> Array:
    A = np.asarray(A, dtype=np.float64)
    if A.ndim != 2 or A.shape[0] == 0 or A.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array; got shape {A.shape}")
    if square and A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be square; got {A.shape[0]}×{A.shape[1]}")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} must hold finite numbers only")
    return A


def eigen(A: ArrayLike) -> Eigen:
    """Eigenvalues and right eigenvectors of a square real matrix (``numpy.linalg.eig``), sorted and
    oriented: ``A @ V = V @ diag(w)``; A (n, n) → w (n,), V (n, n), both complex."""
    A = _check_matrix(A, square=True)
    try:
        w, V = np.linalg.eig(A)
    except np.linalg.LinAlgError as e:
        raise ValueError(f"matrix: the eigen-decomposition did not converge ({e})") from e
    w = w.astype(np.complex128)
    V = V.astype(np.complex128)
    # Exact zeros in the imaginary part for real eigenvalues (LAPACK already gives them), so
    # conjugate pairs have equal moduli and sort by their sign of Im.
    scale = max(float(np.abs(w).max()), 1e-300)
    mod = np.round(np.abs(w) / scale, 12)  # equal moduli up to rounding tie, then Re, then Im
    order = np.lexsort((-w.imag, -w.real, -mod))
    w, V = w[order], V[:, order]
    V = V / np.linalg.norm(V, axis=0)
    V, _ = orient_columns(V)
    return Eigen(w, V)


@dataclass(frozen=True)
class SVD:
    """Thin SVD ``A = U diag(S) Vt`` with U (m, p), S (p,) descending, Vt (p, n), p = min(m, n);
    each left singular vector has its largest component positive (Vt's rows flipped to match).
    With ``rank`` k: ``approximation`` = the best rank-k matrix (Eckart–Young) and
    ``error_fro`` = ‖A − A_k‖_F, else both None."""

    U: Array
    S: Array
    Vt: Array
    approximation: Array | None = None
    error_fro: float | None = None


def svd(A: ArrayLike, rank: int | None = None) -> SVD:
    """Thin SVD with deterministic signs, and optionally the rank-k truncation and its error."""
    A = _check_matrix(A)
    p = min(A.shape)
    if rank is not None and not 0 <= rank <= p:
        raise ValueError(f"rank must be in [0, {p}] (min(m, n)); got {rank}")
    try:
        U, S, Vt = np.linalg.svd(A, full_matrices=False)
    except np.linalg.LinAlgError as e:
        raise ValueError(f"matrix: the SVD did not converge ({e})") from e
    U, sign = orient_columns(U)
    Vt = Vt * sign[:, None]
    if rank is None:
        return SVD(U, S, Vt)
    Ak = (U[:, :rank] * S[:rank]) @ Vt[:rank]  # (m, n)
    return SVD(U, S, Vt, Ak, float(np.linalg.norm(A - Ak)))


# ----------------------------------------------------------------------------------------------
# Lab 1: a 2×2 matrix as a map of the plane
# ----------------------------------------------------------------------------------------------


def rotation(theta: float) -> Array:
    """R(θ) = [[cos θ, −sin θ], [sin θ, cos θ]]."""
    c, s = math.cos(theta), math.sin(theta)
    return np.array([[c, -s], [s, c]])


@dataclass(frozen=True)
class Transform2:
    """A 2×2 map read three ways. ``eigen``: its eigenpairs. ``det``, ``trace``, ``rank``.
    ``svd``: A = U diag(S) Vt. ``theta_v``, ``stretch``, ``theta_u``: the same map as
    rotate · stretch · rotate, ``A = R(theta_u) diag(stretch) R(theta_v)`` where
    ``stretch = (σ₁, ±σ₂)``: the second factor is negative exactly when det A < 0 (a flip).
    ``defective``: one repeated eigenvalue with a single eigenvector direction (a shear)."""

    matrix: Array
    eigen: Eigen
    det: float
    trace: float
    rank: int
    svd: SVD
    theta_v: float
    stretch: Array
    theta_u: float
    defective: bool


def transform2(A: ArrayLike) -> Transform2:
    """Eigenpairs, determinant (the area factor), rank and the rotate·stretch·rotate form of A."""
    A = _check_matrix(A, square=True)
    if A.shape != (2, 2):
        raise ValueError(f"matrix must be 2×2; got {A.shape[0]}×{A.shape[1]}")
    e = eigen(A)
    d = svd(A)
    U, S, Vt = d.U.copy(), d.S.copy(), d.Vt.copy()
    stretch = S.copy()
    # Make U and Vt proper rotations; each reflection removed flips the sign of σ₂.
    if np.linalg.det(U) < 0:
        U[:, 1] *= -1
        stretch[1] *= -1
    if np.linalg.det(Vt) < 0:
        Vt[1, :] *= -1
        stretch[1] *= -1
    theta_u = math.atan2(U[1, 0], U[0, 0])
    theta_v = math.atan2(Vt[1, 0], Vt[0, 0])
    scale = max(float(S[0]), 1e-300)
    rank = int(np.sum(S > scale * 1e-12)) if S[0] > 0 else 0
    w = e.eigvals
    repeated = abs(w[0] - w[1]) <= 1e-9 * max(1.0, abs(w[0]))
    defective = bool(repeated and abs(np.linalg.det(e.eigvecs)) < 1e-6)
    return Transform2(A, e, float(np.linalg.det(A)), float(np.trace(A)), rank, d, theta_v,
                      stretch, theta_u, defective)  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Lab 2: PCA of a correlated Gaussian cloud
# ----------------------------------------------------------------------------------------------


def cloud_covariance(stds: ArrayLike, correlation: float) -> Array:
    """Σ_ij = ρ^|i−j| s_i s_j (positive definite for |ρ| < 1); stds (d,) → Σ (d, d)."""
    s = np.asarray(stds, dtype=np.float64)
    if s.ndim != 1 or not 1 <= s.size <= 16 or np.any(s <= 0) or not np.all(np.isfinite(s)):
        raise ValueError(f"stds must be 1 to 16 positive numbers; got {s.tolist()}")
    if not -1 < correlation < 1:
        raise ValueError(f"correlation must be in (-1, 1); got {correlation}")
    i = np.arange(s.size)
    return correlation ** np.abs(i[:, None] - i[None, :]) * np.outer(s, s)


def correlated_cloud(n_samples: int, stds: ArrayLike, correlation: float, seed: int) -> Array:
    """n samples of N(0, Σ) with Σ from ``cloud_covariance``: z ~ N(0, I), x = L z, Σ = L Lᵀ.
    → (n_samples, d)."""
    if not 2 <= n_samples <= 100_000:
        raise ValueError(f"n_samples must be in [2, 100000]; got {n_samples}")
    L = np.linalg.cholesky(cloud_covariance(stds, correlation))
    z = np.random.default_rng(seed).standard_normal((n_samples, L.shape[0]))
    return z @ L.T


@dataclass(frozen=True)
class PCA:
    """PCA of X (n, d) by the eigen-decomposition of its sample covariance (ddof = 1).

    ``mean`` (d,), ``covariance`` (d, d), ``eigvals`` (d,) descending (the explained variances),
    ``components`` (d, d): row j is the j-th principal axis (unit, largest entry positive),
    ``explained_variance_ratio`` (d,), ``scores`` (n, k) = (X − mean) W_kᵀ,
    ``reconstruction`` (n, d) = scores W_k + mean, ``reconstruction_mse``: mean over samples of
    ‖x − x̂‖², which equals (n−1)/n · Σ_{j>k} λ_j."""

    mean: Array
    covariance: Array
    eigvals: Array
    components: Array
    explained_variance_ratio: Array
    scores: Array
    reconstruction: Array
    reconstruction_mse: float


def pca(X: ArrayLike, n_components: int) -> PCA:
    """Principal components of the rows of X, projection onto the top k and reconstruction."""
    X = _check_matrix(X, "data")
    n, d = X.shape
    if n < 2:
        raise ValueError(f"data must have at least 2 rows; got {n}")
    if not 1 <= n_components <= d:
        raise ValueError(f"n_components must be in [1, {d}] (the data's columns); got {n_components}")
    mean = X.mean(axis=0)
    Xc = X - mean  # (n, d)
    C = Xc.T @ Xc / (n - 1)  # (d, d)
    lam, W = np.linalg.eigh(C)  # ascending
    lam, W = np.clip(lam[::-1], 0, None), W[:, ::-1]
    W, _ = orient_columns(W)
    comps = W.T  # (d, d) rows = axes
    total = lam.sum()
    ratio = lam / total if total > 0 else np.zeros_like(lam)
    scores = Xc @ comps[:n_components].T  # (n, k)
    recon = scores @ comps[:n_components] + mean  # (n, d)
    mse = float(np.mean(np.sum((X - recon) ** 2, axis=1)))
    return PCA(mean, C, lam, comps, ratio, scores, recon, mse)


# ----------------------------------------------------------------------------------------------
# Lab 3: SVD of an image
# ----------------------------------------------------------------------------------------------

MAX_IMAGE_SIDE = 2048  # accepted upload size (pixels per side)
WORK_SIDE = 512  # images are reduced to at most this per side before the SVD
IMAGE_FORMATS = ("PNG", "JPEG")


def pattern_image(height: int = 512, width: int = 512) -> Array:
    """A procedural test scene in [0, 1], (height, width): sky gradient, sun, hills, a checkered
    field and a striped tower: smooth parts need few singular values, edges and texture many."""
    y = np.linspace(0.0, 1.0, height)[:, None]  # (h, 1), 0 = top
    x = np.linspace(0.0, 1.0, width)[None, :]  # (1, w)
    img = 0.85 - 0.45 * y + 0.0 * x  # sky: brighter at the top
    sun = (x - 0.75) ** 2 + (y - 0.22) ** 2 < 0.011
    img = np.where(sun, 0.98, img)
    hill = 0.55 + 0.08 * np.sin(2 * np.pi * (1.3 * x + 0.1)) + 0.04 * np.sin(2 * np.pi * 4.1 * x)
    img = np.where(y > hill, 0.35 + 0.25 * (y - hill), img)
    field = y > 0.78
    checks = (np.floor(x * 16) + np.floor((y - 0.78) * 40)) % 2
    img = np.where(field, 0.15 + 0.55 * checks, img)
    tower = (np.abs(x - 0.22) < 0.05) & (y > 0.3) & (y <= 0.78)
    stripes = 0.25 + 0.5 * (np.floor(y * 48) % 2)
    img = np.where(tower, stripes, img)
    return np.clip(img, 0.0, 1.0)


def _sklearn_image(name: str) -> Path:
    spec = find_spec("sklearn")  # locate the bundled JPEG without importing scikit-learn
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f"image {name!r} needs scikit-learn, which is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "images" / name


# Built-in images: one made here, two that ship inside scikit-learn (no download).
IMAGES: dict[str, str] = {
    "pattern": "A procedural scene made by MathLens: smooth sky, hard edges, a checkered field.",
    "china": "A temple photograph bundled with scikit-learn (sklearn.datasets.load_sample_image).",
    "flower": "A flower photograph bundled with scikit-learn (sklearn.datasets.load_sample_image).",
}


def decode_image(data: bytes, max_side: int = MAX_IMAGE_SIDE, work_side: int = WORK_SIDE) -> Array:
    """PNG/JPEG bytes → grayscale (ITU-R 601 luma) in [0, 1], shrunk to ≤ work_side per side.

    The header is read first: anything not PNG/JPEG, larger than ``max_side`` per side (a
    decompression bomb included) or truncated raises ValueError before pixels are decoded."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)
            w, h = im.size
            if w > max_side or h > max_side or w < 1 or h < 1:
                raise ValueError(f"image must be at most {max_side}×{max_side} pixels; got {w}×{h}")
            im.draft("L", (work_side, work_side))  # JPEG: decode at reduced scale when possible
            im = im.convert("L")
            if max(im.size) > work_side:
                s = work_side / max(im.size)
                im = im.resize((max(1, round(im.width * s)), max(1, round(im.height * s))), Image.Resampling.LANCZOS)
            arr = np.asarray(im, dtype=np.float64) / 255.0
    except ValueError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ValueError(f"image must be at most {max_side}×{max_side} pixels (decompression bomb refused)") from e
    except UnidentifiedImageError as e:
        raise ValueError("file must be a PNG or JPEG image") from e
    except (OSError, SyntaxError, EOFError, MemoryError, struct.error) as e:
        raise ValueError(f"file could not be decoded as PNG or JPEG: {type(e).__name__}") from e
    return arr


def builtin_image(name: str, work_side: int = WORK_SIDE) -> Array:
    """A built-in image by name (see ``IMAGES``), grayscale in [0, 1], (h, w)."""
    if name not in IMAGES:
        raise ValueError(f"image must be one of {', '.join(IMAGES)}; got {name!r}")
    if name == "pattern":
        return pattern_image(work_side, work_side)
    return decode_image(_sklearn_image(f"{name}.jpg").read_bytes(), work_side=work_side)


def content_hash(data: bytes) -> str:
    """SHA-256 of the bytes, hex: the cache key of an uploaded image."""
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ImageSVD:
    """The SVD of a grayscale image, kept for fast rank changes: ``US`` = U·diag(S) and ``Vt``
    in float32 (the rank-k image is one small GEMM), ``S`` in float64, ``energy`` the cumulative
    Σ_{i≤k} σ_i² (k = 0..p) for the errors, ``image`` the image itself in float32 (a rank k above
    p/2 is rebuilt as the image minus its p − k smallest terms: the GEMM never exceeds p/2 terms)."""

    height: int
    width: int
    S: Array
    US: Array
    Vt: Array
    energy: Array
    image: Array


def image_svd(img: ArrayLike) -> ImageSVD:
    """Factor an image once: img (h, w) → ImageSVD."""
    d = svd(img)
    energy = np.concatenate([[0.0], np.cumsum(d.S**2)])  # (p + 1,)
    US = np.ascontiguousarray((d.U * d.S).astype(np.float32))
    Vt = np.ascontiguousarray(d.Vt.astype(np.float32))
    h, w = np.shape(img)
    return ImageSVD(h, w, d.S, US, Vt, energy, np.ascontiguousarray(img, dtype=np.float32))


@dataclass(frozen=True)
class LowRankImage:
    """Rank-k view of an ImageSVD: ``pixels`` (h, w) uint8 (0–255, clipped), ``rel_error`` =
    ‖A − A_k‖_F / ‖A‖_F = √(Σ_{i>k} σ_i²) / √(Σ σ_i²) (Eckart–Young), ``storage_ratio`` =
    k (h + w + 1) / (h w): numbers kept for U_k, σ_k, V_k against the raw pixels."""

    rank: int
    pixels: Array
    rel_error: float
    storage_ratio: float


def low_rank_image(f: ImageSVD, rank: int) -> LowRankImage:
    """Rebuild the rank-k image from a cached factorization: O(k·h·w), no new SVD."""
    p = f.S.size
    if not 0 <= rank <= p:
        raise ValueError(f"rank must be in [0, {p}] (min(height, width)); got {rank}")
    if rank <= p // 2:
        Ak = f.US[:, :rank] @ f.Vt[:rank]  # (h, w) float32
    else:  # A_k = A − Σ_{i>k} σ_i u_i v_iᵀ: fewer terms
        Ak = f.image - f.US[:, rank:] @ f.Vt[rank:]
    pixels = np.clip(np.rint(Ak * 255.0), 0, 255).astype(np.uint8)
    total = f.energy[-1]
    rel = math.sqrt(max(total - f.energy[rank], 0.0) / total) if total > 0 else 0.0
    return LowRankImage(rank, pixels, rel, rank * (f.height + f.width + 1) / (f.height * f.width))


def relative_errors(S: ArrayLike) -> Array:
    """‖A − A_k‖_F / ‖A‖_F for k = 0..p from the singular values alone; (p + 1,)."""
    S = np.asarray(S, dtype=np.float64)
    tail = np.concatenate([np.cumsum((S**2)[::-1])[::-1], [0.0]])  # Σ_{i≥k} σ_i², k = 0..p
    total = tail[0]
    return np.sqrt(tail / total) if total > 0 else np.zeros_like(tail)


# ----------------------------------------------------------------------------------------------
# Lab 4: LoRA, a rank-r update
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoRA:
    """A weight W (d, d), a fine-tuning update ΔW (d, d) with singular values σ_i = σ₀·decay^i,
    and its best rank-r factorization ΔW ≈ B A with B = U_r diag(σ_r) (d, r), A = V_rᵀ (r, d).

    ``S`` (d,) the spectrum of ΔW; ``rel_errors`` (d + 1,) ‖ΔW − B_r A_r‖_F / ‖ΔW‖_F for every r;
    ``params_lora`` = 2 d r, ``params_full`` = d²; ``output_rel_error`` = ‖(ΔW − BA) X‖_F /
    ‖ΔW X‖_F on a seeded batch X (d, 256) of inputs: how far the layer's outputs move."""

    W: Array
    delta: Array
    B: Array
    A: Array
    S: Array
    rel_errors: Array
    rel_error: float
    params_lora: int
    params_full: int
    output_rel_error: float


def lora(d: int, rank: int, decay: float, seed: int, update_scale: float = 0.1) -> LoRA:
    """W ~ N(0, 1/d); ΔW = Q₁ diag(σ) Q₂ᵀ (Q random orthogonal), ‖ΔW‖_F = update_scale·‖W‖_F;
    B A from the SVD of ΔW (Eckart–Young: the best rank-r update in Frobenius norm)."""
    if not 2 <= d <= 512:
        raise ValueError(f"d must be in [2, 512]; got {d}")
    if not 0 <= rank <= d:
        raise ValueError(f"rank must be in [0, {d}] (d); got {rank}")
    if not 0 < decay <= 1:
        raise ValueError(f"decay must be in (0, 1]; got {decay}")
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((d, d)) / math.sqrt(d)
    Q1, _ = np.linalg.qr(rng.standard_normal((d, d)))
    Q2, _ = np.linalg.qr(rng.standard_normal((d, d)))
    sigma = decay ** np.arange(d, dtype=np.float64)
    sigma *= update_scale * np.linalg.norm(W) / np.linalg.norm(sigma)
    delta = (Q1 * sigma) @ Q2.T
    f = svd(delta)
    B = f.U[:, :rank] * f.S[:rank]  # (d, r)
    A = f.Vt[:rank]  # (r, d)
    errs = relative_errors(f.S)
    X = rng.standard_normal((d, 256))
    num = np.linalg.norm((delta - B @ A) @ X)
    den = np.linalg.norm(delta @ X)
    return LoRA(W, delta, B, A, f.S, errs, float(errs[rank]), 2 * d * rank, d * d,
                float(num / den) if den > 0 else 0.0)  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Lab 5: least squares, normal equations, lstsq, pseudoinverse, ridge
# ----------------------------------------------------------------------------------------------

TRUE_COEFS = (0.5, 1.0, -0.8, 0.6)  # y = p(t) = 0.5 + t − 0.8 t² + 0.6 t³ with t = x − x_offset
METHODS = ("normal", "lstsq", "pinv", "ridge")


def design_matrix(x: ArrayLike, degree: int) -> Array:
    """Monomial (Vandermonde) design X_ij = x_i^j, j = 0..degree; x (n,) → (n, degree + 1)."""
    return np.vander(np.asarray(x, dtype=np.float64), degree + 1, increasing=True)


def true_curve(x: ArrayLike, x_offset: float) -> Array:
    """The noiseless curve the points come from, p(x − x_offset)."""
    t = np.asarray(x, dtype=np.float64) - x_offset
    return np.polynomial.polynomial.polyval(t, TRUE_COEFS)


def exact_lstsq(X: ArrayLike, y: ArrayLike, dps: int = 120) -> Array:
    """The least-squares solution computed in ``dps``-digit arithmetic (mpmath): the reference
    every float64 method is measured against. Float inputs are exact in mpmath, so XᵀX and Xᵀy
    carry no rounding; the normal equations are then solved with plenty of digits to spare."""
    import mpmath

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    with mpmath.workdps(dps):
        Xm = mpmath.matrix(X.tolist())
        ym = mpmath.matrix(y.tolist())
        XtX = Xm.T * Xm
        Xty = Xm.T * ym
        w = mpmath.lu_solve(XtX, Xty)
        return np.array([float(v) for v in w], dtype=np.float64)


@dataclass(frozen=True)
class LeastSquares:
    """Points (x, y), the design X (n, p), its singular values ``S`` and condition number κ(X)
    (κ(XᵀX) = κ(X)²), and per method in ``METHODS`` the coefficients (None when it failed),
    ``coef_error`` ‖w − w*‖/‖w*‖ against the exact LS solution w*, ``residual`` ‖X w − y‖,
    ``curve_rmse`` RMS distance of the fitted curve from the true one on ``grid``;
    ``fits`` (len(METHODS), grid) the fitted curves; ``filter`` σ²/(σ² + λ) ridge's factors;
    ``coef_norm`` ‖w‖ per method; ``column_angle`` the smallest angle (degrees) between a column
    of X and the span of the others, ``column_index`` that column's power of x."""

    x: Array
    y: Array
    S: Array
    cond: float
    coefs: dict[str, Array | None]
    coef_error: dict[str, float | None]
    residual: dict[str, float | None]
    curve_rmse: dict[str, float | None]
    grid: Array
    fits: dict[str, Array | None]
    true_fit: Array
    exact: Array
    filter: Array
    pinv_rank: int
    coef_norm: dict[str, float | None]
    column_angle: float
    column_index: int


def collinearity(X: ArrayLike) -> tuple[float, int]:
    """How close the columns of X (n, p ≥ 2) are to linear dependence: the smallest angle θ_j
    (degrees) between a column x_j and the span of the other columns, and that j.

    sin θ_j = ‖(I − Q Qᵀ) x_j‖ / ‖x_j‖ with Q an orthonormal basis of the others (Householder QR,
    accurate to ~1e-16 absolute in sin θ); 1/sin²θ_j is x_j's variance-inflation factor."""
    X = np.asarray(X, dtype=np.float64)
    p = X.shape[1]
    if p < 2:
        raise ValueError(f"X needs at least 2 columns; got {p}")
    norms = np.linalg.norm(X, axis=0)
    Xn = X / np.where(norms > 0, norms, 1.0)  # (n, p) unit columns
    sines = np.empty(p)
    for j in range(p):  # p ≤ 13 small QRs; not a hot path
        Q, _ = np.linalg.qr(np.delete(Xn, j, axis=1))
        r = Xn[:, j] - Q @ (Q.T @ Xn[:, j])
        sines[j] = min(float(np.linalg.norm(r)), 1.0)
    j = int(np.argmin(sines))
    return float(np.degrees(np.arcsin(sines[j]))), j


def least_squares(
    n_samples: int, degree: int, x_offset: float, noise: float, ridge: float, rcond: float, seed: int
) -> LeastSquares:
    """Fit a degree-p polynomial in raw monomials to seeded points near x_offset four ways.

    normal: solve(XᵀX, Xᵀy); lstsq: numpy's SVD-based ``lstsq``; pinv: V diag(1/σ_i, σ_i >
    rcond·σ₁) Uᵀ y; ridge: V diag(σ_i/(σ_i² + λ)) Uᵀ y. A large x_offset makes the columns
    1, x, x², … nearly collinear: κ(X) explodes and the normal equations (κ²) fail first."""
    if not degree + 1 <= n_samples <= 1000:
        raise ValueError(f"n_samples must be in [degree + 1, 1000] = [{degree + 1}, 1000]; got {n_samples}")
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(-1.0, 1.0, n_samples))
    x = x_offset + t
    y = true_curve(x, x_offset) + noise * rng.standard_normal(n_samples)
    X = design_matrix(x, degree)  # (n, p)
    U, S, Vt = np.linalg.svd(X, full_matrices=False)
    cond = float(S[0] / S[-1]) if S[-1] > 0 else math.inf
    Uty = U.T @ y
    coefs: dict[str, Array | None] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an ill-conditioned solve is the lesson, not an error
        try:
            coefs["normal"] = np.linalg.solve(X.T @ X, X.T @ y)
        except np.linalg.LinAlgError:
            coefs["normal"] = None
        coefs["lstsq"] = np.linalg.lstsq(X, y, rcond=None)[0]
    keep = S > rcond * S[0]
    inv = np.zeros_like(S)
    inv[keep] = 1.0 / S[keep]
    coefs["pinv"] = Vt.T @ (inv * Uty)
    coefs["ridge"] = Vt.T @ (S / (S**2 + ridge) * Uty)
    exact = exact_lstsq(X, y)
    grid = np.linspace(x_offset - 1.0, x_offset + 1.0, 121)
    Xg = design_matrix(grid, degree)
    true_fit = true_curve(grid, x_offset)
    fits, err, res, rmse, wnorm = {}, {}, {}, {}, {}
    en = np.linalg.norm(exact)
    with np.errstate(all="ignore"):
        for m in METHODS:
            w = coefs[m]
            if w is None or not np.all(np.isfinite(w)):
                fits[m] = err[m] = res[m] = rmse[m] = wnorm[m] = None
                coefs[m] = None
                continue
            fits[m] = Xg @ w
            err[m] = float(np.linalg.norm(w - exact) / en) if en > 0 else float(np.linalg.norm(w))
            res[m] = float(np.linalg.norm(X @ w - y))
            rmse[m] = float(np.sqrt(np.mean((fits[m] - true_fit) ** 2)))
            wnorm[m] = float(np.linalg.norm(w))
    angle, col = collinearity(X)
    return LeastSquares(x, y, S, cond, coefs, err, res, rmse, grid, fits, true_fit, exact,
                        S**2 / (S**2 + ridge), int(keep.sum()), wnorm, angle, col)  # fmt: skip
