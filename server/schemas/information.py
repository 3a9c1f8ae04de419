"""Request/response models of the information-theory labs: entropy, cross-entropy and KL
divergence (categorical and Gaussian), softmax with temperature, knowledge distillation."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from .common import Strict

Mass = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]
Dist = Annotated[list[Mass], Field(min_length=1, max_length=1000, description="non-negative weights; normalized to sum 1")]
Base = Annotated[float, Field(gt=1, le=1e6, allow_inf_nan=False)] | Literal["e"]
Logit = Annotated[float, Field(ge=-1e4, le=1e4, allow_inf_nan=False)]
Logits = Annotated[list[Logit], Field(min_length=2, max_length=1000, description="unnormalized scores z")]
Mu = Annotated[float, Field(ge=-100, le=100, allow_inf_nan=False, description="mean μ")]
Sigma = Annotated[float, Field(ge=0.01, le=100, allow_inf_nan=False, description="standard deviation σ", json_schema_extra={"log": True})]
Temperature = Annotated[float, Field(ge=0.01, le=100, allow_inf_nan=False, description="temperature T", json_schema_extra={"log": True})]


class DivergenceRequest(Strict):
    p: Dist
    q: Dist
    base: Base = Field(2, description="log base: 2 (bits), 'e' (nats) or any number > 1")

    model_config = Strict.model_config | {
        "json_schema_extra": {"examples": [{"p": [0.5, 0.3, 0.2], "q": [0.2, 0.3, 0.5], "base": 2}]}
    }


class DivergenceResponse(Strict):
    p: list[float] = Field(description="p normalized")
    q: list[float] = Field(description="q normalized")
    entropy_p: float
    entropy_q: float
    cross_entropy: float | None = Field(description="H(p, q); null when infinite")
    kl_pq: float | None = Field(description="D_KL(p‖q); null when infinite")
    kl_qp: float | None = Field(description="D_KL(q‖p); null when infinite")
    cross_entropy_infinite: bool
    kl_pq_infinite: bool
    kl_qp_infinite: bool
    kl_terms_pq: list[float | None] = Field(description="p_i log(p_i/q_i); null where infinite")


class EntropyRequest(Strict):
    p: Dist
    bernoulli_points: int = Field(101, ge=2, le=2001, description="points of the Bernoulli entropy curve on [0, 1]")

    model_config = Strict.model_config | {
        "json_schema_extra": {"examples": [{"p": [0.7, 0.2, 0.1], "bernoulli_points": 101}]}
    }


class EntropyResponse(Strict):
    p: list[float] = Field(description="p normalized")
    entropy_bits: float
    entropy_nats: float
    max_bits: float = Field(description="log₂ K: the entropy of the uniform over K classes")
    perplexity: float = Field(description="2^H: the number of equally likely classes with the same entropy")
    surprisal_bits: list[float | None] = Field(description="−log₂ p_i; null where p_i = 0")
    bernoulli_p: list[float]
    bernoulli_bits: list[float]


class GaussianKLRequest(Strict):
    mu_p: Mu = 0.0
    sigma_p: Sigma = 1.0
    mu_q: Mu = 0.0
    sigma_q: Sigma = 1.0
    n_points: int = Field(401, ge=2, le=5001, description="points of the density grid")

    model_config = Strict.model_config | {
        "json_schema_extra": {"examples": [{"mu_p": 1.0, "sigma_p": 0.5, "mu_q": 0.0, "sigma_q": 1.0}]}
    }


class GaussianKLResponse(Strict):
    kl_pq: float | None = Field(description="closed form, nats")
    kl_qp: float | None = Field(description="closed form, nats")
    kl_pq_quadrature: float | None
    kl_qp_quadrature: float | None
    x: list[float]
    pdf_p: list[float | None]
    pdf_q: list[float | None]
    integrand_pq: list[float | None]
    sigma_grid: list[float]
    kl_vs_sigma: list[float | None]
    mu_grid: list[float]
    kl_vs_mu: list[float | None]


class SoftmaxRequest(Strict):
    logits: Logits
    temperature: Temperature = 1.0
    student_logits: Logits | None = Field(None, description="a student's logits, same length; default: all zeros")
    label: int = Field(0, ge=0, le=999, description="index of the true class (the hard label)")

    model_config = Strict.model_config | {
        "json_schema_extra": {"examples": [{"logits": [5.0, 2.0, 1.0, -1.0], "temperature": 4.0,
                                             "student_logits": [1.0, 0.5, 0.0, 0.0], "label": 0}]}
    }


class SoftmaxResponse(Strict):
    probs: list[float] = Field(description="softmax(logits / T)")
    probs_t1: list[float] = Field(description="softmax(logits)")
    entropy_bits: float
    max_entropy_bits: float
    temperatures: list[float]
    entropy_curve: list[float]
    max_prob_curve: list[float]
    student_soft: list[float]
    student_probs: list[float]
    kl_soft: float | None = Field(description="D_KL(teacher_T ‖ student_T), nats")
    distill_loss: float | None = Field(description="T² · kl_soft")
    hard_ce: float | None = Field(description="−ln student_probs[label], nats")
    grad_soft: list[float | None]
    grad_hard: list[float | None]
