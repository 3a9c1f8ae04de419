"""Request/response models of the linear-algebra-at-work labs: PageRank, spectral clustering,
attention, convolution as a Toeplitz matrix, and embeddings (/api/v1/linalg/…)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from .common import Strict

Entry = Annotated[float, Field(ge=-1e6, le=1e6, allow_inf_nan=False)]
Seed = Annotated[int, Field(ge=0, le=2**31 - 1, description="random seed: same seed, same data")]

MAX_NODES = 50  # = compute.linalg_apps.MAX_NODES (a test keeps them in sync)
Dataset = Literal["moons", "circles"]  # = compute.linalg_apps.DATASETS
Affinity = Literal["knn", "rbf"]  # = compute.linalg_apps.AFFINITIES
ConvMode = Literal["full", "same", "valid"]  # = compute.linalg_apps.CONV_MODES


class Request(Strict):
    """Strict types: no true → 1.0, no "3" → 3, as the schema says."""

    model_config = Strict.model_config | {"strict": True}


def check_matrix(rows: list[list[float]] | None, field: str) -> tuple[int, int] | None:
    """A list of rows must be rectangular; the ValueError names the field."""
    if rows is None:
        return None
    n = len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != n:
            raise ValueError(f"{field} must be rectangular: row {i} has {len(r)} entries, row 0 has {n}")
    return len(rows), n


# ---------------------------------------------------------------------------------- PageRank

Node = Annotated[int, Field(ge=0, lt=MAX_NODES)]


class PageRankRequest(Request):
    n_nodes: int = Field(6, ge=1, le=MAX_NODES, description="nodes 0 … n_nodes − 1")
    edges: list[Annotated[list[Node], Field(min_length=2, max_length=2)]] = Field(
        max_length=MAX_NODES * MAX_NODES, description="directed links [from, to]; duplicates count once"
    )
    damping: float = Field(0.85, ge=0, le=1, allow_inf_nan=False, description="damping factor d: follow a link with probability d")
    max_iter: int = Field(100, ge=1, le=1000, description="most power-iteration steps")
    tol: float = Field(1e-10, ge=1e-15, le=1, allow_inf_nan=False, description="stop when ‖r_{t+1} − r_t‖₁ < tol")

    @model_validator(mode="after")
    def _nodes(self) -> PageRankRequest:
        for i, (a, b) in enumerate(self.edges):
            if a >= self.n_nodes or b >= self.n_nodes:
                raise ValueError(f"edges[{i}] = [{a}, {b}] names a node outside 0..{self.n_nodes - 1} (n_nodes = {self.n_nodes})")
        return self

    model_config = Request.model_config | {
        "json_schema_extra": {"examples": [{"n_nodes": 4, "edges": [[0, 1], [1, 2], [2, 0], [0, 2]], "damping": 0.85}]}
    }


class PageRankResponse(Strict):
    ranks: list[float] = Field(description="the last power-iteration iterate (sums to 1)")
    iterates: list[list[float]] = Field(description="r_t for t = 0 … n_iter; r_0 = 1/n")
    residuals: list[float] = Field(description="‖r_{t+1} − r_t‖₁ per step")
    eigvec: list[float] = Field(description="dominant eigenvector of G from numpy.linalg.eig, scaled to sum 1")
    eigvals_real: list[float]
    eigvals_imag: list[float] = Field(description="eigenvalues of G by decreasing modulus")
    lambda2: float = Field(description="|λ₂|: the error shrinks like |λ₂|ᵗ")
    link: list[list[float]] = Field(description="column-stochastic link matrix M (dangling columns 1/n)")
    google: list[list[float]] = Field(description="G = d·M + (1 − d)/n · 11ᵀ")
    dangling: list[bool] = Field(description="nodes with no out-link")
    converged: bool
    n_iter: int


# ---------------------------------------------------------------------------------- spectral


class SpectralRequest(Request):
    dataset: Dataset = "moons"
    n_samples: int = Field(300, ge=20, le=600)
    noise: float = Field(0.05, ge=0, le=0.3, allow_inf_nan=False, description="std of the Gaussian noise")
    seed: Seed = 0
    affinity: Affinity = Field("knn", description="k-nearest-neighbour graph or RBF (Gaussian) similarity")
    n_neighbors: int = Field(8, ge=1, le=50, description="k of the k-NN graph")
    gamma: float = Field(20.0, gt=0, le=1000, allow_inf_nan=False, description="RBF width: W_ij = exp(−γ‖x_i − x_j‖²)")
    normalized: bool = Field(True, description="L = I − D^{-1/2} W D^{-1/2}; false: L = D − W")

    @model_validator(mode="after")
    def _k(self) -> SpectralRequest:
        if self.n_neighbors >= self.n_samples:
            raise ValueError(f"n_neighbors must be < n_samples = {self.n_samples}; got {self.n_neighbors}")
        return self

    model_config = Request.model_config | {
        "json_schema_extra": {"examples": [{"dataset": "moons", "n_samples": 300, "noise": 0.05, "seed": 0, "affinity": "knn", "n_neighbors": 8}]}
    }


class SpectralResponse(Strict):
    x: list[float]
    y: list[float]
    y_true: list[int]
    labels_spectral: list[int]
    labels_kmeans: list[int]
    acc_spectral: float = Field(description="share of points in their true group (best matching of cluster ids)")
    acc_kmeans: float
    eigvals: list[float] = Field(description="the smallest eigenvalues of L, ascending")
    eigvecs: list[list[float]] = Field(description="eigvecs[j] = the eigenvector of eigvals[j] (first three)")
    fiedler: list[float] = Field(description="eigenvector of the second-smallest eigenvalue")
    edges: list[list[int]] = Field(description="graph edges i < j drawn on the page (RBF: the strongest)")
    n_components: int = Field(description="connected components of the similarity graph")


# ---------------------------------------------------------------------------------- attention

Token = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^\S+$")]
MAX_SEQ = 16
MAX_DIM = 32
Row = Annotated[list[Entry], Field(min_length=1, max_length=MAX_DIM)]
Mat = Annotated[list[Row], Field(min_length=1, max_length=MAX_SEQ)]


class AttentionRequest(Request):
    tokens: list[Token] = Field(min_length=1, max_length=MAX_SEQ, description="the sequence, one token per position")
    embed_dim: int = Field(4, ge=1, le=MAX_DIM, description="d: width of Q, K and V")
    seed: Seed = 0
    causal: bool = Field(False, description="mask the future: token i attends only to tokens ≤ i")
    scale: float | None = Field(None, gt=0, le=100, allow_inf_nan=False, description="score scale; default 1/√d")
    q: Mat | None = Field(None, description="optional Q (seq_len × embed_dim) instead of the seeded one")
    k: Mat | None = Field(None, description="optional K (seq_len × embed_dim)")
    v: Mat | None = Field(None, description="optional V (seq_len × embed_dim)")

    @model_validator(mode="after")
    def _qkv(self) -> AttentionRequest:
        given = [f for f in ("q", "k", "v") if getattr(self, f) is not None]
        if given and len(given) != 3:
            raise ValueError(f"give all of q, k, v or none; got only {', '.join(given)}")
        want = (len(self.tokens), self.embed_dim)
        for f in given:
            shape = check_matrix(getattr(self, f), f)
            if shape != want:
                raise ValueError(f"{f} must be seq_len × embed_dim = {want[0]}×{want[1]}; got {shape[0]}×{shape[1]}")
        return self

    model_config = Request.model_config | {
        "json_schema_extra": {"examples": [{"tokens": ["the", "cat", "sat", "on", "the", "mat"], "embed_dim": 4, "seed": 0, "causal": True}]}
    }


class AttentionResponse(Strict):
    tokens: list[str]
    batch: int = Field(description="1: one sequence")
    seq_len: int
    embed_dim: int
    scale: float
    x: list[list[list[float]]] | None = Field(description="(batch, seq_len, embed_dim) token embeddings; null when q, k, v were given")
    q: list[list[list[float]]] = Field(description="(batch, seq_len, embed_dim)")
    k: list[list[list[float]]]
    v: list[list[list[float]]]
    scores: list[list[list[float | None]]] = Field(description="(batch, seq_len, seq_len) Q·Kᵀ·scale; null where masked (−∞)")
    weights: list[list[list[float]]] = Field(description="row-wise softmax of the scores; rows sum to 1")
    output: list[list[list[float]]] = Field(description="(batch, seq_len, embed_dim) weights · V")


# ---------------------------------------------------------------------------------- convolution

Row2 = Annotated[list[Entry], Field(min_length=1, max_length=16)]
KRow = Annotated[list[Entry], Field(min_length=1, max_length=7)]


class ConvolutionRequest(Request):
    signal: list[Entry] = Field(min_length=1, max_length=64, description="1-D signal x")
    kernel: list[Entry] = Field(min_length=1, max_length=16, description="1-D kernel h")
    mode: ConvMode = Field("full", description="as numpy.convolve / scipy.signal.convolve2d")
    image: list[Row2] | None = Field(None, min_length=1, max_length=16, description="optional 2-D image, at most 16×16")
    image_kernel: list[KRow] | None = Field(None, min_length=1, max_length=7, description="2-D kernel, at most 7×7")

    @model_validator(mode="after")
    def _shapes(self) -> ConvolutionRequest:
        if (self.image is None) != (self.image_kernel is None):
            raise ValueError("give image and image_kernel together, or neither")
        si = check_matrix(self.image, "image")
        sk = check_matrix(self.image_kernel, "image_kernel")
        if self.mode == "valid" and si and (sk[0] > si[0] or sk[1] > si[1]):
            raise ValueError(f"image_kernel {sk[0]}×{sk[1]} must fit inside image {si[0]}×{si[1]} for mode 'valid'")
        return self

    model_config = Request.model_config | {
        "json_schema_extra": {"examples": [{"signal": [0, 0, 1, 1, 1, 0, 0], "kernel": [1, 0, -1], "mode": "same",
                                            "image": [[0, 0, 0], [0, 1, 0], [0, 0, 0]], "image_kernel": [[1, 2], [3, 4]]}]}
    }  # fmt: skip


class ConvolutionResponse(Strict):
    toeplitz: list[list[float]] = Field(description="T with T·x = numpy.convolve(x, h, mode)")
    output: list[float] = Field(description="T · signal")
    numpy_output: list[float] = Field(description="numpy.convolve(signal, kernel, mode), for comparison")
    max_abs_diff: float
    block_toeplitz: list[list[float]] | None = Field(description="B with B·vec(image) = vec(convolve2d(image, K, mode)), row-major")
    output_2d: list[list[float]] | None = Field(description="B · vec(image), reshaped")
    scipy_output_2d: list[list[float]] | None = Field(description="scipy.signal.convolve2d(image, image_kernel, mode)")
    max_abs_diff_2d: float | None


# ---------------------------------------------------------------------------------- embeddings

Word = Annotated[str, Field(min_length=1, max_length=30)]


class EmbeddingsRequest(Request):
    window: int = Field(2, ge=1, le=5, description="context: words within this distance (stop words dropped)")
    rank: int = Field(80, ge=2, le=160, description="k: dimensions kept by the truncated SVD")
    alpha: float = Field(0.75, ge=0.1, le=1, allow_inf_nan=False, description="context-distribution smoothing of PPMI")
    word: Word | None = Field("king", description="show this word's nearest neighbours")
    analogy: Annotated[list[Word], Field(min_length=3, max_length=3)] | None = Field(
        ["king", "man", "woman"], description="[a, b, c] of a − b + c"
    )
    top_k: int = Field(8, ge=1, le=20)

    model_config = Request.model_config | {
        "json_schema_extra": {"examples": [{"window": 2, "rank": 80, "word": "paris", "analogy": ["paris", "france", "italy"]}]}
    }


class Scored(Strict):
    word: str
    cosine: float


class EmbeddingsResponse(Strict):
    vocab: list[str] = Field(description="by decreasing count")
    counts: list[int]
    groups: list[str] = Field(description="each word's group in the corpus ('other' for the rest)")
    xy: list[list[float]] = Field(description="2-D projection: the unit word vectors on their two principal axes")
    singular_values: list[float] = Field(description="of the PPMI matrix, descending")
    rank: int
    n_sentences: int
    n_tokens: int
    neighbours: list[Scored] | None
    analogy: list[Scored] | None
    analogy_xy: list[list[float]] | None = Field(
        description="a, b, c, the point a − b + c and the best answer, on their own two principal axes"
    )
