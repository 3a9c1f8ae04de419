"""Linear algebra at work: PageRank by power iteration, spectral clustering, attention as matrix
products, convolution as a Toeplitz matrix, and word embeddings from a co-occurrence matrix.

Every function is pure: arrays and keyword parameters in, arrays or frozen dataclasses out;
random data comes from ``np.random.default_rng(seed)`` (or sklearn's ``random_state=seed``).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

from . import corpus as _corpus

Array = np.ndarray

MAX_NODES = 50
DATASETS = ("moons", "circles")
AFFINITIES = ("knn", "rbf")
CONV_MODES = ("full", "same", "valid")


def _orient(v: Array) -> Array:
    """Flip a vector (or each column) so its largest-magnitude component is positive."""
    v = np.asarray(v, float)
    if v.ndim == 1:
        return v if v[np.argmax(np.abs(v))] >= 0 else -v
    idx = np.argmax(np.abs(v), axis=0)
    signs = np.sign(v[idx, np.arange(v.shape[1])])
    signs[signs == 0] = 1
    return v * signs


# ----------------------------------------------------------------------------------------------
# 6. PageRank
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageRank:
    link: Array  # (n, n) column-stochastic link matrix M, dangling columns uniform
    google: Array  # (n, n) G = d·M + (1 − d)/n · 11ᵀ
    iterates: Array  # (n_iter + 1, n) r_0 = 1/n, r_{t+1} = G r_t
    residuals: Array  # (n_iter,) ‖r_{t+1} − r_t‖₁
    ranks: Array  # (n,) the last iterate
    eigvals: Array  # (n,) complex eigenvalues of G, by decreasing modulus
    eigvec: Array  # (n,) dominant eigenvector of G from numpy.linalg.eig, scaled to sum 1
    dangling: Array  # (n,) bool: nodes with no out-link
    converged: bool
    n_iter: int


def link_matrix(n_nodes: int, edges: ArrayLike) -> tuple[Array, Array]:
    """Column-stochastic M with M[j, i] = 1/outdeg(i) for each edge i → j; a dangling node
    (no out-links) links to every node with 1/n (the standard fix). Duplicate edges count once.
    Returns (M (n, n), dangling (n,) bool)."""
    if not 1 <= n_nodes <= MAX_NODES:
        raise ValueError(f"n_nodes must be in 1..{MAX_NODES}; got {n_nodes}")
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if e.size and (e.min() < 0 or e.max() >= n_nodes):
        bad = e[(e < 0).any(1) | (e >= n_nodes).any(1)][0]
        raise ValueError(f"edge {bad.tolist()} names a node outside 0..{n_nodes - 1}")
    A = np.zeros((n_nodes, n_nodes))  # A[j, i] = 1 for an edge i → j
    A[e[:, 1], e[:, 0]] = 1.0
    out = A.sum(axis=0)
    dangling = out == 0
    M = np.where(dangling, 1.0 / n_nodes, A / np.where(dangling, 1.0, out))
    return M, dangling


def pagerank(
    n_nodes: int, edges: ArrayLike, damping: float = 0.85, tol: float = 1e-10, max_iter: int = 200
) -> PageRank:
    """PageRank by power iteration: r_{t+1} = G r_t with G = d·M + (1 − d)/n·11ᵀ, from r_0 = 1/n,
    until ‖r_{t+1} − r_t‖₁ < tol or max_iter steps. G is column-stochastic, so every iterate
    sums to 1 and the fixed point is G's eigenvector for λ = 1; the error shrinks like |λ₂|ᵗ ≤ dᵗ."""
    if not 0 <= damping <= 1:
        raise ValueError(f"damping must be in [0, 1]; got {damping}")
    if not 1 <= max_iter <= 10_000:
        raise ValueError(f"max_iter must be in 1..10000; got {max_iter}")
    M, dangling = link_matrix(n_nodes, edges)
    n = n_nodes
    G = damping * M + (1.0 - damping) / n
    r = np.full(n, 1.0 / n)
    its = [r]
    res = []
    converged = False
    for _ in range(max_iter):
        nxt = G @ r
        nxt /= nxt.sum()  # guards against round-off drift; G already preserves the sum
        res.append(float(np.abs(nxt - r).sum()))
        its.append(nxt)
        r = nxt
        if res[-1] < tol:
            converged = True
            break
    w, V = np.linalg.eig(G)
    order = np.lexsort((-w.real, -np.abs(w)))
    w, V = w[order], V[:, order]
    v = np.real(V[:, 0])
    v = v / v.sum()
    return PageRank(M, G, np.array(its), np.array(res), r, w, v, dangling, converged, len(res))


# ----------------------------------------------------------------------------------------------
# 7. Spectral clustering
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spectral:
    X: Array  # (n, 2) points
    y_true: Array  # (n,) the generating labels
    W: Array  # (n, n) symmetric similarity (affinity) matrix
    laplacian: Array  # (n, n) L = I − D^{-1/2} W D^{-1/2} (normalized) or D − W
    eigvals: Array  # (n_eig,) smallest eigenvalues of L, ascending
    eigvecs: Array  # (n, n_eig) their eigenvectors, oriented
    fiedler: Array  # (n,) eigenvector of the second-smallest eigenvalue
    labels_spectral: Array  # (n,) k-means on the rows of the first k eigenvectors
    labels_kmeans: Array  # (n,) k-means on the raw points
    acc_spectral: float  # share of points put with their true group (best label matching)
    acc_kmeans: float
    n_components: int  # connected components of the similarity graph


def make_dataset(dataset: str, n_samples: int, noise: float, seed: int) -> tuple[Array, Array]:
    """Two moons or two concentric circles from sklearn, seeded. Returns (X (n, 2), y (n,))."""
    from sklearn.datasets import make_circles, make_moons

    if dataset == "moons":
        return make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    if dataset == "circles":
        return make_circles(n_samples=n_samples, noise=noise, factor=0.45, random_state=seed)
    raise ValueError(f"dataset must be one of {DATASETS}; got {dataset!r}")


def affinity_matrix(X: Array, affinity: str = "knn", n_neighbors: int = 10, gamma: float = 20.0) -> Array:
    """Symmetric similarity W (n, n), zero diagonal: k-NN connectivity made symmetric
    (W_ij = 1 if j is among i's k nearest or i among j's), or RBF W_ij = exp(−γ‖x_i − x_j‖²)."""
    n = len(X)
    d2 = np.sum((X[:, None, :] - X[None, :, :]) ** 2, axis=-1)  # (n, n)
    if affinity == "knn":
        if not 1 <= n_neighbors < n:
            raise ValueError(f"n_neighbors must be in 1..{n - 1}; got {n_neighbors}")
        np.fill_diagonal(d2, np.inf)
        nn = np.argsort(d2, axis=1, kind="stable")[:, :n_neighbors]  # (n, k)
        A = np.zeros((n, n))
        A[np.repeat(np.arange(n), n_neighbors), nn.ravel()] = 1.0
        return np.maximum(A, A.T)
    if affinity == "rbf":
        W = np.exp(-gamma * d2)
        np.fill_diagonal(W, 0.0)
        return W
    raise ValueError(f"affinity must be one of {AFFINITIES}; got {affinity!r}")


def laplacian(W: Array, normalized: bool = True) -> Array:
    """L = D − W, or the symmetric normalized L = I − D^{-1/2} W D^{-1/2} (isolated nodes keep
    a 1 on the diagonal in neither form's degree; D^{-1/2} is taken as 0 there)."""
    deg = W.sum(axis=1)
    if not normalized:
        return np.diag(deg) - W
    with np.errstate(divide="ignore"):
        s = np.where(deg > 0, 1.0 / np.sqrt(deg), 0.0)
    L = -W * s[:, None] * s[None, :]
    L[np.diag_indices_from(L)] += (deg > 0).astype(float)
    return L


def best_match_accuracy(y_true: Array, y_pred: Array) -> float:
    """Share of points whose predicted cluster maps to their true label under the best one-to-one
    matching of cluster ids to labels (Hungarian algorithm)."""
    from scipy.optimize import linear_sum_assignment

    k = int(max(y_true.max(), y_pred.max())) + 1
    C = np.zeros((k, k))
    np.add.at(C, (y_true, y_pred), 1)
    r, c = linear_sum_assignment(-C)
    return float(C[r, c].sum() / len(y_true))


def spectral_clustering(
    dataset: str = "moons", n_samples: int = 300, noise: float = 0.05, seed: int = 0,
    affinity: str = "knn", n_neighbors: int = 8, gamma: float = 20.0, normalized: bool = True,
    n_clusters: int = 2, n_eig: int = 10,
) -> Spectral:
    """Spectral clustering (Ng–Jordan–Weiss): the similarity graph W, its Laplacian L, the
    eigenvectors of L's k smallest eigenvalues as new coordinates (rows normalized to unit length
    when L is normalized), then k-means there. Beside it, k-means on the raw points."""
    from scipy.linalg import eigh
    from scipy.sparse.csgraph import connected_components
    from sklearn.cluster import KMeans
    from threadpoolctl import threadpool_limits

    X, y = make_dataset(dataset, n_samples, noise, seed)
    W = affinity_matrix(X, affinity, n_neighbors, gamma)
    L = laplacian(W, normalized)
    n_eig = min(n_eig, n_samples)
    # One thread: for these small problems, thread start-up costs more than it saves (and
    # sklearn's OpenMP pool spins on a busy machine).
    with threadpool_limits(1):
        w, V = eigh(L, subset_by_index=[0, n_eig - 1])
    V = _orient(V)
    U = V[:, :n_clusters]
    if normalized:
        norms = np.linalg.norm(U, axis=1, keepdims=True)
        U = U / np.where(norms > 0, norms, 1.0)
    with warnings.catch_warnings(), threadpool_limits(1):
        # A graph with more components than clusters gives repeated rows: k-means warns, and
        # the page reports the component count instead.
        warnings.simplefilter("ignore")
        lab_s = KMeans(n_clusters, n_init=10, random_state=seed).fit_predict(U)
        lab_k = KMeans(n_clusters, n_init=10, random_state=seed).fit_predict(X)
    n_comp = int(connected_components(W > 0, directed=False)[0])
    return Spectral(
        X, y, W, L, w, V, V[:, 1], lab_s, lab_k,
        best_match_accuracy(y, lab_s), best_match_accuracy(y, lab_k), n_comp,
    )  # fmt: skip


# ----------------------------------------------------------------------------------------------
# 8. Attention
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attention:
    q: Array  # (batch, seq_len, embed_dim)
    k: Array
    v: Array
    scores: Array  # (batch, seq_len, seq_len) Q Kᵀ · scale, −inf where masked
    weights: Array  # (batch, seq_len, seq_len) row-wise softmax of the scores
    output: Array  # (batch, seq_len, embed_dim) weights · V
    scale: float


def softmax(z: Array, axis: int = -1) -> Array:
    """exp(z − max z) / Σ exp(z − max z): subtracting the row maximum keeps exp from overflowing
    and leaves the result unchanged; −inf entries get weight 0."""
    m = np.max(z, axis=axis, keepdims=True)
    e = np.exp(z - m)
    return e / e.sum(axis=axis, keepdims=True)


def token_qkv(tokens: list[str], embed_dim: int, seed: int) -> tuple[Array, Array, Array, Array]:
    """Seeded embeddings X (1, T, d), one row per distinct token (a repeated token gets the same
    row), and Q = X W_Q, K = X W_K, V = X W_V with seeded W (d, d) ~ N(0, 1/d)."""
    rng = np.random.default_rng(seed)
    vocab = sorted(set(tokens))
    table = rng.standard_normal((len(vocab), embed_dim))
    Wq, Wk, Wv = rng.standard_normal((3, embed_dim, embed_dim)) / math.sqrt(embed_dim)
    X = table[[vocab.index(t) for t in tokens]][None]  # (1, T, d)
    return X, X @ Wq, X @ Wk, X @ Wv


def attention(q: ArrayLike, k: ArrayLike, v: ArrayLike, causal: bool = False, scale: float | None = None) -> Attention:
    """Scaled dot-product attention, softmax(Q Kᵀ · scale + mask) V with scale = 1/√d by default;
    the causal mask puts −inf above the diagonal (token i sees tokens ≤ i). Shapes
    q, k: (..., T, d), v: (..., T, d_v) → output (..., T, d_v)."""
    q, k, v = (np.asarray(a, float) for a in (q, k, v))
    if q.shape != k.shape or q.shape[:-1] != v.shape[:-1]:
        raise ValueError(f"q and k must share a shape and v its (…, T); got {q.shape}, {k.shape}, {v.shape}")
    d = q.shape[-1]
    s = 1.0 / math.sqrt(d) if scale is None else float(scale)
    scores = q @ np.swapaxes(k, -1, -2) * s  # (..., T, T)
    if causal:
        T = q.shape[-2]
        scores = np.where(np.triu(np.ones((T, T), bool), 1), -np.inf, scores)
    w = softmax(scores)
    return Attention(q, k, v, scores, w, w @ v, s)


# ----------------------------------------------------------------------------------------------
# 9. Convolution as a Toeplitz matrix
# ----------------------------------------------------------------------------------------------


def _rows(n: int, m: int, mode: str) -> slice:
    """Which rows of the full convolution each mode keeps (as numpy.convolve / scipy do):
    same: max(n, m) outputs starting at (min(n, m) − 1)//2; valid: from min − 1 to max."""
    lo, hi = min(n, m), max(n, m)
    if mode == "full":
        return slice(0, n + m - 1)
    if mode == "same":
        s = (lo - 1) // 2
        return slice(s, s + hi)
    if mode == "valid":
        return slice(lo - 1, hi)
    raise ValueError(f"mode must be one of {CONV_MODES}; got {mode!r}")


def toeplitz_matrix(kernel: ArrayLike, n: int, mode: str = "full") -> Array:
    """The matrix T with T @ x = numpy.convolve(x, kernel, mode) for every x of length n:
    T[i, j] = h[i − j] (0 outside the kernel) — constant along each diagonal (Toeplitz).
    Shape (n + m − 1, n) for full, (max(n, m), n) for same, (max − min + 1, n) for valid."""
    h = np.asarray(kernel, float)
    m = len(h)
    i = np.arange(n + m - 1)[:, None]
    j = np.arange(n)[None, :]
    d = i - j
    T = np.where((d >= 0) & (d < m), h[np.clip(d, 0, m - 1)], 0.0)  # (n + m − 1, n)
    return T[_rows(n, m, mode)]


def _rows_2d(n: int, m: int, mode: str) -> slice:
    """scipy.signal.convolve2d's window of the full output along one axis (n image, m kernel):
    same keeps n outputs from (m − 1)//2; valid needs m ≤ n and keeps n − m + 1 from m − 1."""
    if mode == "full":
        return slice(0, n + m - 1)
    if mode == "same":
        s = (m - 1) // 2
        return slice(s, s + n)
    if mode == "valid":
        if m > n:
            raise ValueError(f"valid mode needs the kernel to fit inside the image; got kernel {m} > image {n}")
        return slice(m - 1, n)
    raise ValueError(f"mode must be one of {CONV_MODES}; got {mode!r}")


def block_toeplitz_matrix(kernel: ArrayLike, shape: tuple[int, int], mode: str = "full") -> tuple[Array, tuple[int, int]]:
    """The doubly block-Toeplitz matrix B with B @ image.ravel() = convolve2d(image, kernel,
    mode).ravel() (row-major). B[(r, c), (i, j)] = K[r − i, c − j]: a block Toeplitz matrix
    whose blocks are themselves Toeplitz. Returns (B (H_out·W_out, H·W), (H_out, W_out))."""
    K = np.asarray(kernel, float)
    H, Wd = shape
    kh, kw = K.shape
    rs, cs = _rows_2d(H, kh, mode), _rows_2d(Wd, kw, mode)
    r = np.arange(H + kh - 1)[rs]
    c = np.arange(Wd + kw - 1)[cs]
    dr = r[:, None, None, None] - np.arange(H)[None, None, :, None]  # (Ho, 1, H, 1)
    dc = c[None, :, None, None] - np.arange(Wd)[None, None, None, :]  # (1, Wo, 1, W)
    ok = (dr >= 0) & (dr < kh) & (dc >= 0) & (dc < kw)
    B = np.where(ok, K[np.clip(dr, 0, kh - 1), np.clip(dc, 0, kw - 1)], 0.0)  # (Ho, Wo, H, W)
    return B.reshape(len(r) * len(c), H * Wd), (len(r), len(c))


# ----------------------------------------------------------------------------------------------
# 10. Embeddings from a co-occurrence matrix
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Embeddings:
    vocab: tuple[str, ...]  # (V,) by decreasing count, ties alphabetical
    counts: Array  # (V,) word counts
    cooc: Array  # (V, V) symmetric window co-occurrence counts
    ppmi: Array  # (V, V) positive pointwise mutual information
    singular_values: Array  # (V,) of the PPMI matrix, descending
    vectors: Array  # (V, rank) U_k · Σ_k^{1/2}
    unit: Array  # (V, rank) the vectors scaled to unit length (cosine = dot product)
    xy: Array  # (V, 2) the unit vectors projected on their two principal axes


def tokenize(sentences: tuple[str, ...] | list[str], stopwords: frozenset[str] = frozenset()) -> list[list[str]]:
    """Lower-case words of each sentence, stop words dropped (so 'king of the kingdom' puts
    kingdom right beside king)."""
    return [[w for w in s.lower().split() if w not in stopwords] for s in sentences]


def cooccurrence(sents: list[list[str]], window: int = 2) -> tuple[tuple[str, ...], Array, Array]:
    """Vocabulary, counts (V,) and symmetric co-occurrence counts C (V, V): C[a, b] counts the
    times b appears within `window` words of a in the same sentence."""
    from collections import Counter

    cnt = Counter(w for s in sents for w in s)
    vocab = tuple(sorted(cnt, key=lambda w: (-cnt[w], w)))
    index = {w: i for i, w in enumerate(vocab)}
    rows, cols = [], []
    for s in sents:
        ids = np.array([index[w] for w in s])
        for off in range(1, window + 1):
            rows.append(ids[:-off])
            cols.append(ids[off:])
    r = np.concatenate(rows) if rows else np.zeros(0, int)
    c = np.concatenate(cols) if cols else np.zeros(0, int)
    C = np.zeros((len(vocab), len(vocab)))
    np.add.at(C, (r, c), 1.0)
    return vocab, np.array([cnt[w] for w in vocab], float), C + C.T


def ppmi(C: Array, alpha: float = 0.75) -> Array:
    """PPMI_ab = max(0, log P(a, b) / (P(a) P_α(b))) with P(a, b) = C_ab / ΣC, P(a) the row
    share and P_α(b) = c_b^α / Σ c^α the context share smoothed by α (Levy et al., 2015)."""
    total = C.sum()
    pa = C.sum(axis=1) / total
    cb = C.sum(axis=0) ** alpha
    pb = cb / cb.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log((C / total) / (pa[:, None] * pb[None, :]))
    return np.where(np.isfinite(pmi) & (pmi > 0), pmi, 0.0)


@lru_cache(maxsize=32)
def embeddings(window: int = 2, rank: int = 80, alpha: float = 0.75) -> Embeddings:
    """Word vectors from the project corpus: co-occurrence → PPMI → truncated SVD,
    W = U_k Σ_k^{1/2} (rows are words). Cached: the corpus is fixed, so the result is too."""
    vocab, counts, C = cooccurrence(tokenize(_corpus.sentences(), _corpus.STOPWORDS), window)
    if not 2 <= rank <= len(vocab):
        raise ValueError(f"rank must be in 2..{len(vocab)}; got {rank}")
    P = ppmi(C, alpha)
    U, s, _ = np.linalg.svd(P)
    U = _orient(U[:, :rank])
    vec = U * np.sqrt(s[:rank])
    norms = np.linalg.norm(vec, axis=1, keepdims=True)
    unit = vec / np.where(norms > 0, norms, 1.0)
    centred = unit - unit.mean(axis=0)
    _, _, Vt = np.linalg.svd(centred, full_matrices=False)
    axes = _orient(Vt[:2].T)  # (rank, 2)
    for a in (vocab, counts, C, P, s, vec, unit):
        if isinstance(a, np.ndarray):
            a.setflags(write=False)
    return Embeddings(vocab, counts, C, P, s, vec, unit, centred @ axes)


def _index(E: Embeddings, word: str) -> int:
    try:
        return E.vocab.index(word.strip().lower())
    except ValueError:
        raise ValueError(f"unknown word {word!r}: it is not in the corpus vocabulary") from None


def nearest(E: Embeddings, word: str, top_k: int = 8) -> list[tuple[str, float]]:
    """The top_k words with the highest cosine similarity to `word` (itself excluded)."""
    i = _index(E, word)
    sim = E.unit @ E.unit[i]
    sim[i] = -np.inf
    order = np.argsort(-sim, kind="stable")[:top_k]
    return [(E.vocab[j], float(sim[j])) for j in order]


def analogy_target(E: Embeddings, a: str, b: str, c: str) -> Array:
    """u_a − u_b + u_c (unit word vectors), the point an analogy looks near. Shape (rank,)."""
    ids = [_index(E, w) for w in (a, b, c)]
    return E.unit[ids[0]] - E.unit[ids[1]] + E.unit[ids[2]]


def project_2d(vectors: Array) -> Array:
    """The rows of `vectors` (m, k) on their own two principal axes (centred, oriented): the
    plane that shows an analogy's parallelogram best. Shape (m, 2)."""
    c = vectors - vectors.mean(axis=0)
    _, _, Vt = np.linalg.svd(c, full_matrices=False)
    axes = _orient(Vt[:2].T) if Vt.shape[0] >= 2 else np.eye(vectors.shape[1], 2)
    return c @ axes


def analogy(E: Embeddings, a: str, b: str, c: str, top_k: int = 5) -> list[tuple[str, float]]:
    """a − b + c (e.g. king − man + woman): the words whose unit vectors have the highest cosine
    with u_a − u_b + u_c (3CosAdd), the three input words excluded."""
    ids = [_index(E, w) for w in (a, b, c)]
    t = analogy_target(E, a, b, c)
    nt = np.linalg.norm(t)
    sim = E.unit @ (t / nt if nt > 0 else t)
    sim[ids] = -np.inf
    order = np.argsort(-sim, kind="stable")[:top_k]
    return [(E.vocab[j], float(sim[j])) for j in order]
