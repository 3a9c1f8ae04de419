"""The linear-algebra lens API: eigen, SVD, 2×2 maps, PCA, low-rank images, LoRA, least squares."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np
from fastapi import APIRouter, File, HTTPException, Request, UploadFile

from compute import linalg

from ..encoding import ORJSONResponse, png_base64
from ..errors import ComputeError
from ..schemas.linalg import (
    EigenRequest,
    EigenResponse,
    ImageInfo,
    LeastSquaresRequest,
    LeastSquaresResponse,
    LoRARequest,
    LoRAResponse,
    LowRankRequest,
    LowRankResponse,
    PCARequest,
    PCAResponse,
    SVDRequest,
    SVDResponse,
    TransformRequest,
    TransformResponse,
)

router = APIRouter(prefix="/api/v1/linalg", tags=["linear algebra"],
    responses={400: {"description": "the body is not valid JSON / multipart"}},
)
UPLOAD_PATH = "/api/v1/linalg/images"


def _complex(a: np.ndarray) -> dict:
    # + 0.0 turns -0.0 into 0.0: a reader sees "0", not "-0"
    return {"real": np.ascontiguousarray(a.real) + 0.0, "imag": np.ascontiguousarray(a.imag) + 0.0}


def _eigen_body(e: linalg.Eigen) -> dict:
    return {"eigenvalues": _complex(e.eigvals), "eigenvectors": _complex(e.eigvecs)}


@router.post("/eigen", response_model=EigenResponse)
def eigen(req: EigenRequest) -> ORJSONResponse:
    """Eigenvalues (descending modulus) and unit eigenvectors as columns, signs fixed."""
    try:
        e = linalg.eigen(np.asarray(req.matrix, dtype=np.float64))
    except ValueError as ex:
        raise ComputeError("matrix", str(ex)) from ex
    return ORJSONResponse(_eigen_body(e))


@router.post("/svd", response_model=SVDResponse)
def svd(req: SVDRequest) -> ORJSONResponse:
    """Thin SVD A = U diag(S) Vt; with ``rank`` k the best rank-k matrix and ‖A − A_k‖_F."""
    try:
        d = linalg.svd(np.asarray(req.matrix, dtype=np.float64), req.rank)
    except ValueError as ex:
        raise ComputeError("rank" if str(ex).startswith("rank") else "matrix", str(ex)) from ex
    return ORJSONResponse({"U": d.U, "S": d.S, "Vt": d.Vt, "approximation": d.approximation, "error_fro": d.error_fro})


@router.post("/transform", response_model=TransformResponse)
def transform(req: TransformRequest) -> ORJSONResponse:
    """A 2×2 map: eigenpairs, determinant, rank, and A = R(θ_u)·diag(stretch)·R(θ_v)."""
    try:
        t = linalg.transform2(np.asarray(req.matrix, dtype=np.float64))
    except ValueError as ex:
        raise ComputeError("matrix", str(ex)) from ex
    return ORJSONResponse({
        **_eigen_body(t.eigen), "det": t.det, "trace": t.trace, "rank": t.rank,
        "real_eigenvalues": t.eigen.is_real, "defective": t.defective,
        "U": t.svd.U, "S": t.svd.S, "Vt": t.svd.Vt,
        "theta_v": t.theta_v, "stretch": t.stretch, "theta_u": t.theta_u,
    })  # fmt: skip


@router.post("/pca", response_model=PCAResponse)
def pca(req: PCARequest) -> ORJSONResponse:
    """PCA of the posted points, or of a seeded correlated Gaussian cloud."""
    if req.data is not None:
        X = np.asarray(req.data, dtype=np.float64)
    else:
        X = linalg.correlated_cloud(req.n_samples, req.stds, req.correlation, req.seed)
    try:
        p = linalg.pca(X, req.n_components)
    except ValueError as ex:
        raise ComputeError("data", str(ex)) from ex
    return ORJSONResponse({"data": X, **{k: getattr(p, k) for k in PCAResponse.model_fields if k != "data"}})


# ---------------------------------------------------------------------------- image SVD cache


class SVDCache:
    """A bounded LRU of image factorizations keyed by name or content hash (thread-safe)."""

    def __init__(self, max_items: int = 16):
        self.max_items = max_items
        self._d: OrderedDict[str, linalg.ImageSVD] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> linalg.ImageSVD | None:
        with self._lock:
            f = self._d.get(key)
            if f is not None:
                self._d.move_to_end(key)
            return f

    def put(self, key: str, f: linalg.ImageSVD) -> None:
        with self._lock:
            self._d[key] = f
            self._d.move_to_end(key)
            while len(self._d) > self.max_items:
                self._d.popitem(last=False)

    def __len__(self) -> int:
        return len(self._d)


CACHE = SVDCache()


def image_factors(image: str) -> linalg.ImageSVD:
    """The cached factorization of a built-in (computed on first use) or an uploaded image."""
    f = CACHE.get(image)
    if f is None:
        if image not in linalg.IMAGES:
            raise HTTPException(404, f"no uploaded image {image[:12]}…: upload it again (the server keeps a few)")
        f = linalg.image_svd(linalg.builtin_image(image))
        CACHE.put(image, f)
    return f


def _info(image: str, f: linalg.ImageSVD) -> dict:
    return {"image": image, "height": f.height, "width": f.width, "S": f.S, "rel_errors": linalg.relative_errors(f.S)}


@router.post("/images", response_model=ImageInfo, responses={413: {"description": "file too large"}})
def upload_image(request: Request, file: UploadFile = File(description="PNG or JPEG, ≤ 5 MB, ≤ 2048×2048 px")) -> ORJSONResponse:
    """Upload a PNG/JPEG: decoded safely, made grayscale (≤ 512 px a side), factored once, cached."""
    limit = request.app.state.settings.max_upload_bytes
    data = file.file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(413, f"file must be at most {limit} bytes")
    key = linalg.content_hash(data)
    f = CACHE.get(key)
    if f is None:
        try:
            f = linalg.image_svd(linalg.decode_image(data))
        except ValueError as ex:
            raise ComputeError("file", str(ex)) from ex
        CACHE.put(key, f)
    return ORJSONResponse(_info(key, f))


@router.post("/lowrank", response_model=LowRankResponse, responses={404: {"description": "unknown uploaded image"}})
def lowrank(req: LowRankRequest) -> ORJSONResponse:
    """The rank-k image from the cached SVD (no new factorization), its error and storage."""
    f = image_factors(req.image)
    try:
        r = linalg.low_rank_image(f, req.rank)
    except ValueError as ex:
        raise ComputeError("rank", str(ex)) from ex
    png = req.encoding == "png"
    return ORJSONResponse({**_info(req.image, f), "rank": r.rank,
                           "pixels": None if png else r.pixels, "png": png_base64(r.pixels) if png else None,
                           "rel_error": r.rel_error, "storage_ratio": r.storage_ratio})  # fmt: skip


@router.post("/lora", response_model=LoRAResponse)
def lora(req: LoRARequest) -> ORJSONResponse:
    """ΔW and its best rank-r update B·A (from ΔW's SVD), parameters and errors for every r."""
    r = linalg.lora(req.d, req.rank, req.decay, req.seed)
    return ORJSONResponse({
        "W": r.W, "delta": r.delta, "BA": r.B @ r.A, "B": r.B, "A": r.A, "S": r.S,
        "rel_errors": r.rel_errors, "rel_error": r.rel_error, "params_lora": r.params_lora,
        "params_full": r.params_full, "output_rel_error": r.output_rel_error,
    })  # fmt: skip


@router.post("/least_squares", response_model=LeastSquaresResponse)
def least_squares(req: LeastSquaresRequest) -> ORJSONResponse:
    """Normal equations, lstsq, pinv and ridge on one polynomial fit, against the exact solution."""
    r = linalg.least_squares(req.n_samples, req.degree, req.x_offset, req.noise, req.ridge, req.rcond, req.seed)
    methods = [{"method": m, "coefs": r.coefs[m], "coef_error": r.coef_error[m], "residual": r.residual[m],
                "curve_rmse": r.curve_rmse[m], "coef_norm": r.coef_norm[m], "fit": r.fits[m]}
               for m in linalg.METHODS]  # fmt: skip
    return ORJSONResponse({
        "x": r.x, "y": r.y, "grid": r.grid, "true_fit": r.true_fit, "S": r.S, "cond": r.cond,
        "cond_normal": r.cond**2, "exact": r.exact, "filter": r.filter, "pinv_rank": r.pinv_rank,
        "column_angle": r.column_angle, "column_index": r.column_index, "methods": methods,
    })  # fmt: skip
