"""Linear algebra at work (/api/v1/linalg/…): PageRank, spectral clustering, attention,
convolution as a Toeplitz matrix, embeddings from co-occurrence."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter

from compute import corpus
from compute import linalg_apps as la

from ..encoding import ORJSONResponse
from ..errors import ComputeError
from ..schemas.linalg_apps import (
    AttentionRequest,
    AttentionResponse,
    ConvolutionRequest,
    ConvolutionResponse,
    EmbeddingsRequest,
    EmbeddingsResponse,
    PageRankRequest,
    PageRankResponse,
    SpectralRequest,
    SpectralResponse,
)

router = APIRouter(prefix="/api/v1/linalg", tags=["linear algebra at work"])

MAX_DRAWN_EDGES = 6000


@router.post("/pagerank", response_model=PageRankResponse)
def pagerank(req: PageRankRequest) -> ORJSONResponse:
    """PageRank by power iteration from r₀ = 1/n, beside the dominant eigenvector of G."""
    try:
        r = la.pagerank(req.n_nodes, req.edges, req.damping, req.tol, req.max_iter)
    except ValueError as e:
        raise ComputeError("edges", str(e)) from e
    return ORJSONResponse({
        "ranks": r.ranks, "iterates": r.iterates, "residuals": r.residuals, "eigvec": r.eigvec,
        "eigvals_real": r.eigvals.real, "eigvals_imag": r.eigvals.imag,
        "lambda2": float(np.abs(r.eigvals[1])) if len(r.eigvals) > 1 else 0.0,
        "link": r.link, "google": r.google, "dangling": r.dangling, "converged": r.converged, "n_iter": r.n_iter,
    })  # fmt: skip


@router.post("/spectral-clustering", response_model=SpectralResponse)
def spectral_clustering(req: SpectralRequest) -> ORJSONResponse:
    """Similarity graph → Laplacian → eigenvectors → k-means, beside k-means on the raw points."""
    r = la.spectral_clustering(req.dataset, req.n_samples, req.noise, req.seed, req.affinity,
                               req.n_neighbors, req.gamma, req.normalized)  # fmt: skip
    iu = np.argwhere(np.triu(r.W, 1) > (0.0 if req.affinity == "knn" else 0.5))
    if len(iu) > MAX_DRAWN_EDGES:  # the strongest, for the drawing only
        iu = iu[np.argsort(-r.W[iu[:, 0], iu[:, 1]], kind="stable")[:MAX_DRAWN_EDGES]]
    return ORJSONResponse({
        "x": r.X[:, 0], "y": r.X[:, 1], "y_true": r.y_true, "labels_spectral": r.labels_spectral,
        "labels_kmeans": r.labels_kmeans, "acc_spectral": r.acc_spectral, "acc_kmeans": r.acc_kmeans,
        "eigvals": r.eigvals, "eigvecs": r.eigvecs[:, :3].T, "fiedler": r.fiedler, "edges": iu,
        "n_components": r.n_components,
    })  # fmt: skip


@router.post("/attention", response_model=AttentionResponse)
def attention(req: AttentionRequest) -> ORJSONResponse:
    """softmax(Q·Kᵀ·scale + mask)·V for one sequence, every intermediate returned."""
    if req.q is not None:
        x, q, k, v = None, *(np.asarray(m, float)[None] for m in (req.q, req.k, req.v))
    else:
        x, q, k, v = la.token_qkv(req.tokens, req.embed_dim, req.seed)
    a = la.attention(q, k, v, req.causal, req.scale)
    return ORJSONResponse({
        "tokens": req.tokens, "batch": 1, "seq_len": len(req.tokens), "embed_dim": req.embed_dim,
        "scale": a.scale, "x": x, "q": a.q, "k": a.k, "v": a.v, "scores": a.scores,
        "weights": a.weights, "output": a.output,
    })  # fmt: skip


@router.post("/convolution", response_model=ConvolutionResponse)
def convolution(req: ConvolutionRequest) -> ORJSONResponse:
    """The Toeplitz matrix of the kernel and its product with the signal, beside numpy.convolve;
    with an image, the doubly block-Toeplitz matrix beside scipy.signal.convolve2d."""
    from scipy.signal import convolve2d

    x = np.asarray(req.signal, float)
    T = la.toeplitz_matrix(req.kernel, len(x), req.mode)
    y, ref = T @ x, np.convolve(x, np.asarray(req.kernel, float), req.mode)
    out = {"toeplitz": T, "output": y, "numpy_output": ref, "max_abs_diff": float(np.max(np.abs(y - ref))),
           "block_toeplitz": None, "output_2d": None, "scipy_output_2d": None, "max_abs_diff_2d": None}  # fmt: skip
    if req.image is not None:
        img, K = np.asarray(req.image, float), np.asarray(req.image_kernel, float)
        try:
            B, shape = la.block_toeplitz_matrix(K, img.shape, req.mode)
        except ValueError as e:
            raise ComputeError("image_kernel", str(e)) from e
        y2, ref2 = (B @ img.ravel()).reshape(shape), convolve2d(img, K, req.mode)
        out.update(block_toeplitz=B, output_2d=y2, scipy_output_2d=ref2, max_abs_diff_2d=float(np.max(np.abs(y2 - ref2))))
    return ORJSONResponse(out)


@router.post("/embeddings", response_model=EmbeddingsResponse)
def embeddings(req: EmbeddingsRequest) -> ORJSONResponse:
    """Co-occurrence → PPMI → truncated SVD word vectors; neighbours and a − b + c."""
    try:
        E = la.embeddings(req.window, req.rank, req.alpha)
    except ValueError as e:
        raise ComputeError("rank", str(e)) from e
    nb = an = plane_xy = None
    try:
        if req.word is not None:
            nb = [{"word": w, "cosine": c} for w, c in la.nearest(E, req.word, req.top_k)]
    except ValueError as e:
        raise ComputeError("word", str(e)) from e
    if req.analogy is not None:
        for i, w in enumerate(req.analogy):
            if w.strip().lower() not in E.vocab:
                raise ComputeError(("analogy", i), f"unknown word {w!r}: it is not in the corpus vocabulary")
        an = [{"word": w, "cosine": c} for w, c in la.analogy(E, *req.analogy, top_k=req.top_k)]
        plane = [E.unit[E.vocab.index(w.strip().lower())] for w in (*req.analogy, an[0]["word"])]
        plane_xy = la.project_2d(np.array([*plane[:3], la.analogy_target(E, *req.analogy), plane[3]]))
    return ORJSONResponse({
        "vocab": E.vocab, "counts": E.counts.astype(int), "groups": [corpus.GROUPS.get(w, "other") for w in E.vocab],
        "xy": E.xy, "singular_values": E.singular_values, "rank": req.rank, "n_sentences": len(corpus.sentences()),
        "n_tokens": int(E.counts.sum()), "neighbours": nb, "analogy": an, "analogy_xy": plane_xy,
    })  # fmt: skip
