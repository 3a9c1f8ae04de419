"""The information-theory labs' API: entropy, divergences of categorical and Gaussian
distributions, softmax with temperature and distillation."""

from __future__ import annotations

import math

import numpy as np
from fastapi import APIRouter

from compute import info

from ..encoding import ORJSONResponse
from ..errors import ComputeError
from ..schemas.information import (
    DivergenceRequest,
    DivergenceResponse,
    EntropyRequest,
    EntropyResponse,
    GaussianKLRequest,
    GaussianKLResponse,
    SoftmaxRequest,
    SoftmaxResponse,
)

router = APIRouter(prefix="/api/v1/information", tags=["information"])


def _fin(v: float) -> float | None:
    return v if math.isfinite(v) else None


@router.post("/divergence", response_model=DivergenceResponse)
def divergence(req: DivergenceRequest) -> ORJSONResponse:
    """H(p), H(q), H(p, q), D_KL(p‖q), D_KL(q‖p) of normalized p and q; infinite values as null + flag."""
    if len(req.p) != len(req.q):
        raise ComputeError("q", f"q must have the same length as p; got {len(req.q)} and {len(req.p)}")
    try:
        d = info.divergence(req.p, req.q, req.base)
    except info.DistributionError as e:
        raise ComputeError(e.name, str(e)) from e
    return ORJSONResponse({
        "p": d.p, "q": d.q, "entropy_p": d.entropy_p, "entropy_q": d.entropy_q,
        "cross_entropy": _fin(d.cross_entropy), "kl_pq": _fin(d.kl_pq), "kl_qp": _fin(d.kl_qp),
        "cross_entropy_infinite": math.isinf(d.cross_entropy), "kl_pq_infinite": math.isinf(d.kl_pq),
        "kl_qp_infinite": math.isinf(d.kl_qp), "kl_terms_pq": d.kl_terms_pq,
    })  # fmt: skip


@router.post("/entropy", response_model=EntropyResponse)
def entropy(req: EntropyRequest) -> ORJSONResponse:
    """H(p) in bits and nats, the surprisal of each class, and the Bernoulli entropy curve."""
    try:
        p = info.normalize(req.p, "p")
    except info.DistributionError as e:
        raise ComputeError(e.name, str(e)) from e
    h = info.entropy(p, 2)
    with np.errstate(divide="ignore"):
        surprisal = -np.log2(p)
    bp = np.linspace(0, 1, req.bernoulli_points)
    return ORJSONResponse({
        "p": p, "entropy_bits": h, "entropy_nats": info.entropy(p, "e"), "max_bits": math.log2(p.size),
        "perplexity": 2.0**h, "surprisal_bits": surprisal, "bernoulli_p": bp, "bernoulli_bits": info.bernoulli_entropy(bp, 2),
    })  # fmt: skip


@router.post("/gaussian-kl", response_model=GaussianKLResponse)
def gaussian_kl(req: GaussianKLRequest) -> ORJSONResponse:
    """Closed-form and quadrature KL between two Gaussians (nats), densities, and KL as p moves."""
    g = info.gaussian_divergence(req.mu_p, req.sigma_p, req.mu_q, req.sigma_q, req.n_points)
    return ORJSONResponse({k: getattr(g, k) for k in GaussianKLResponse.model_fields})


@router.post("/softmax", response_model=SoftmaxResponse)
def softmax(req: SoftmaxRequest) -> ORJSONResponse:
    """softmax(z/T) and its entropy over T; a student distilled from these logits at T."""
    student = req.student_logits if req.student_logits is not None else [0.0] * len(req.logits)
    try:
        s = info.softmax_sweep(req.logits, req.temperature)
        d = info.distillation(req.logits, student, req.temperature, req.label)
    except info.DistributionError as e:
        raise ComputeError(e.name, str(e)) from e
    return ORJSONResponse({
        "probs": s.probs, "probs_t1": info.softmax(req.logits), "entropy_bits": s.entropy_bits,
        "max_entropy_bits": s.max_entropy_bits, "temperatures": s.temperatures, "entropy_curve": s.entropy_curve,
        "max_prob_curve": s.max_prob_curve, "student_soft": d.student_soft, "student_probs": d.student_probs,
        "kl_soft": _fin(d.kl_soft), "distill_loss": _fin(d.distill_loss), "hard_ce": _fin(d.hard_ce),
        "grad_soft": d.grad_soft, "grad_hard": d.grad_hard,
    })  # fmt: skip
