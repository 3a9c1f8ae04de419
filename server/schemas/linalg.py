"""Request and response models of the linear-algebra lens (/api/v1/linalg/…)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from compute import linalg

from .common import Strict

Entry = Annotated[float, Field(ge=-1e9, le=1e9, allow_inf_nan=False)]
MAX_EIGEN = 64
MAX_SVD = 512
MAX_PCA_ROWS = 2000

ImageName = Literal["pattern", "china", "flower"]  # = compute.linalg.IMAGES (a test keeps them in sync)
Method = Literal["normal", "lstsq", "pinv", "ridge"]  # = compute.linalg.METHODS


class Request(Strict):
    """Request models: strict types (no true → 1.0, no "3" → 3), as the schema says."""

    model_config = Strict.model_config | {"strict": True}


def _shape(rows: list[list[float]], field: str, square: bool = False, max_side: int | None = None) -> tuple[int, int]:
    """Check a list of rows is a rectangular (optionally square) matrix; ValueError names the field."""
    m = len(rows)
    n = len(rows[0]) if m else 0
    for i, r in enumerate(rows):
        if len(r) != n:
            raise ValueError(f"{field} must be rectangular: row {i} has {len(r)} entries, row 0 has {n}")
    if n == 0:
        raise ValueError(f"{field} must have at least one column")
    if max_side is not None and n > max_side:
        raise ValueError(f"{field} must have at most {max_side} columns; got {n}")
    if square and m != n:
        raise ValueError(f"{field} must be square; got {m}×{n}")
    return m, n


class EigenRequest(Request):
    matrix: list[Annotated[list[Entry], Field(min_length=1, max_length=MAX_EIGEN)]] = Field(
        min_length=1, max_length=MAX_EIGEN, description=f"square, at most {MAX_EIGEN}×{MAX_EIGEN}, |entries| ≤ 1e9"
    )

    @model_validator(mode="after")
    def _square(self) -> EigenRequest:
        _shape(self.matrix, "matrix", square=True)
        return self

    model_config = Request.model_config | {"json_schema_extra": {"examples": [{"matrix": [[2, 1], [1, 3]]}]}}


class ComplexVector(Strict):
    real: list[float | None]
    imag: list[float | None]


class ComplexMatrix(Strict):
    real: list[list[float | None]]
    imag: list[list[float | None]]


class EigenResponse(Strict):
    eigenvalues: ComplexVector = Field(description="sorted by descending modulus")
    eigenvectors: ComplexMatrix = Field(description="unit columns (numpy's convention), largest component real positive")


class SVDRequest(Request):
    matrix: list[Annotated[list[Entry], Field(min_length=1, max_length=MAX_SVD)]] = Field(
        min_length=1, max_length=MAX_SVD, description=f"at most {MAX_SVD}×{MAX_SVD}, |entries| ≤ 1e9"
    )
    rank: int | None = Field(None, ge=0, le=MAX_SVD, description="k for the best rank-k approximation")

    @model_validator(mode="after")
    def _rect(self) -> SVDRequest:
        m, n = _shape(self.matrix, "matrix")
        if self.rank is not None and self.rank > min(m, n):
            raise ValueError(f"rank must be at most min(m, n) = {min(m, n)}; got {self.rank}")
        return self

    model_config = Request.model_config | {"json_schema_extra": {"examples": [{"matrix": [[3, 1, 1], [-1, 3, 1]], "rank": 1}]}}


class SVDResponse(Strict):
    U: list[list[float | None]]
    S: list[float | None]
    Vt: list[list[float | None]]
    approximation: list[list[float | None]] | None
    error_fro: float | None


class TransformRequest(Request):
    matrix: list[Annotated[list[Entry], Field(min_length=2, max_length=2)]] = Field(
        min_length=2, max_length=2, description="a 2×2 matrix [[a, b], [c, d]]"
    )

    model_config = Request.model_config | {"json_schema_extra": {"examples": [{"matrix": [[1, 1], [0, 1]]}]}}


class TransformResponse(EigenResponse):
    det: float | None = Field(description="the area factor")
    trace: float | None
    rank: int
    real_eigenvalues: bool
    defective: bool = Field(description="a repeated eigenvalue with one eigenvector direction")
    U: list[list[float | None]]
    S: list[float | None]
    Vt: list[list[float | None]]
    theta_v: float | None = Field(description="A = R(theta_u) · diag(stretch) · R(theta_v), radians")
    stretch: list[float | None] = Field(description="(σ₁, ±σ₂); σ₂'s sign is det's sign")
    theta_u: float | None


class PCARequest(Request):
    data: list[Annotated[list[Entry], Field(min_length=2, max_length=3)]] | None = Field(
        None, min_length=3, max_length=MAX_PCA_ROWS, description="your own points, 2 or 3 columns; none = a seeded cloud"
    )
    n_samples: int = Field(300, ge=3, le=MAX_PCA_ROWS)
    stds: list[Annotated[float, Field(gt=0, le=100, allow_inf_nan=False)]] = Field(
        [2.0, 0.7], min_length=2, max_length=3, description="standard deviation of each coordinate; 2 or 3 of them"
    )
    correlation: float = Field(0.8, ge=-0.99, le=0.99, allow_inf_nan=False, description="ρ: Σ_ij = ρ^|i−j| s_i s_j")
    seed: int = Field(0, ge=0, le=2**32 - 1)
    n_components: int = Field(1, ge=1, le=3, description="k: project onto the top-k axes")

    @model_validator(mode="after")
    def _dims(self) -> PCARequest:
        d = _shape(self.data, "data")[1] if self.data is not None else len(self.stds)
        if self.n_components > d:
            raise ValueError(f"n_components must be at most the dimension {d}; got {self.n_components}")
        return self

    model_config = Request.model_config | {
        "json_schema_extra": {"examples": [{"n_samples": 300, "stds": [2.0, 0.7], "correlation": 0.8, "seed": 0, "n_components": 1}]}
    }


class PCAResponse(Strict):
    data: list[list[float | None]]
    mean: list[float | None]
    covariance: list[list[float | None]]
    eigvals: list[float | None] = Field(description="variances along the principal axes, descending")
    components: list[list[float | None]] = Field(description="rows: unit principal axes")
    explained_variance_ratio: list[float | None]
    scores: list[list[float | None]]
    reconstruction: list[list[float | None]]
    reconstruction_mse: float | None


ImageId = Annotated[str, Field(pattern=r"^(pattern|china|flower|[0-9a-f]{64})$", description="a built-in name or an upload's id")]


class ImageInfo(Strict):
    image: str = Field(description="the id to send to /lowrank")
    height: int
    width: int
    S: list[float | None] = Field(description="singular values, descending")
    rel_errors: list[float | None] = Field(description="‖A − A_k‖_F / ‖A‖_F for k = 0..p")


class LowRankRequest(Request):
    image: ImageId = "pattern"
    rank: int = Field(20, ge=0, le=linalg.WORK_SIDE)
    encoding: Literal["list", "png"] = Field(
        "list", description="list: `pixels` as rows of integers; png: `png` holds the rank-k image as "
        "a base64 grayscale PNG and `pixels` is null (what the page uses: ~30× less to send)")

    model_config = Request.model_config | {"json_schema_extra": {"examples": [
        {"image": "china", "rank": 20}, {"image": "pattern", "rank": 5, "encoding": "png"}]}}


class LowRankResponse(Strict):
    image: str
    rank: int
    height: int
    width: int
    pixels: list[list[int]] | None = Field(description="the rank-k image, 0–255 grayscale (null with encoding png)")
    png: str | None = Field(None, description="with encoding png: the rank-k image as a base64 grayscale PNG")
    S: list[float | None] = Field(description="singular values, descending")
    rel_errors: list[float | None] = Field(description="‖A − A_k‖_F / ‖A‖_F for k = 0..p")
    rel_error: float | None
    storage_ratio: float | None


class LoRARequest(Request):
    d: int = Field(64, ge=4, le=128, description="W and ΔW are d×d")
    rank: int = Field(4, ge=0, le=128, description="r, the rank of B·A")
    decay: float = Field(0.8, gt=0, le=1, allow_inf_nan=False, description="σ_i ∝ decay^i: 1 = flat spectrum")
    seed: int = Field(0, ge=0, le=2**32 - 1)

    @model_validator(mode="after")
    def _rank(self) -> LoRARequest:
        if self.rank > self.d:
            raise ValueError(f"rank must be at most d = {self.d}; got {self.rank}")
        return self

    model_config = Request.model_config | {"json_schema_extra": {"examples": [{"d": 64, "rank": 4, "decay": 0.8, "seed": 0}]}}


class LoRAResponse(Strict):
    W: list[list[float | None]]
    delta: list[list[float | None]]
    BA: list[list[float | None]]
    B: list[list[float | None]]
    A: list[list[float | None]]
    S: list[float | None]
    rel_errors: list[float | None] = Field(description="‖ΔW − B_r A_r‖_F / ‖ΔW‖_F for r = 0..d")
    rel_error: float | None
    params_lora: int
    params_full: int
    output_rel_error: float | None


class LeastSquaresRequest(Request):
    n_samples: int = Field(30, ge=2, le=500)
    degree: int = Field(3, ge=1, le=12)
    x_offset: float = Field(0.0, ge=0, le=100, allow_inf_nan=False, description="points lie in [c − 1, c + 1]: a large c makes 1, x, x², … nearly collinear")
    noise: float = Field(0.1, ge=0, le=10, allow_inf_nan=False)
    ridge: float = Field(0.0, ge=0, le=1e6, allow_inf_nan=False, description="λ of ridge")
    rcond: float = Field(1e-15, ge=1e-17, le=1, allow_inf_nan=False, description="pinv drops σ_i ≤ rcond·σ₁")
    seed: int = Field(0, ge=0, le=2**32 - 1)

    @model_validator(mode="after")
    def _enough(self) -> LeastSquaresRequest:
        if self.n_samples < self.degree + 1:
            raise ValueError(f"n_samples must be at least degree + 1 = {self.degree + 1}; got {self.n_samples}")
        return self

    model_config = Request.model_config | {
        "json_schema_extra": {"examples": [{"n_samples": 30, "degree": 3, "x_offset": 20, "noise": 0.1, "ridge": 1e-6, "rcond": 1e-15, "seed": 0}]}
    }


class MethodResult(Strict):
    method: Method
    coefs: list[float | None] | None
    coef_error: float | None = Field(description="‖w − w*‖ / ‖w*‖, w* the exact least-squares solution")
    residual: float | None = Field(description="‖X w − y‖")
    curve_rmse: float | None = Field(description="RMS distance of the fit from the true curve")
    coef_norm: float | None = Field(description="‖w‖: ridge keeps it small, a 1/σ blow-up makes it huge")
    fit: list[float | None] | None


class LeastSquaresResponse(Strict):
    x: list[float | None]
    y: list[float | None]
    grid: list[float | None]
    true_fit: list[float | None]
    S: list[float | None]
    cond: float | None = Field(description="κ(X) = σ₁/σ_p; κ(XᵀX) = κ(X)²")
    cond_normal: float | None
    exact: list[float | None]
    filter: list[float | None] = Field(description="ridge's σ²/(σ² + λ) per singular value")
    pinv_rank: int = Field(description="how many σ_i pinv keeps (σ_i > rcond·σ₁)")
    column_angle: float | None = Field(description="smallest angle (degrees) between a column of X and the span of the others")
    column_index: int = Field(description="that column's power of x (0 = the constant column)")
    methods: list[MethodResult]
