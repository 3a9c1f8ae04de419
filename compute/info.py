"""Information theory: entropy, cross-entropy, KL divergence (categorical and Gaussian), softmax
with temperature and knowledge distillation. Pure numpy/scipy; 0·log 0 = 0 throughout."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.integrate import simpson


class DistributionError(ValueError):
    """A bad distribution argument; ``name`` is the argument it is about."""

    def __init__(self, name: str, message: str):
        super().__init__(message)
        self.name = name


def log_base(base: float | str) -> float:
    """ln(base); ``"e"`` means nats. Raises ValueError unless base > 1."""
    b = np.e if base == "e" else float(base)
    if not (np.isfinite(b) and b > 1):
        raise DistributionError("base", f"base must be 'e' or a finite number > 1; got {base!r}")
    return float(np.log(b))


def normalize(x, name: str = "p") -> np.ndarray:
    """x / Σx for a non-negative, finite, not-all-zero 1-D vector. Shape (n,)."""
    a = np.asarray(x, dtype=float)
    if a.ndim != 1 or a.size == 0:
        raise DistributionError(name, f"{name} must be a non-empty 1-D list; got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise DistributionError(name, f"{name} must be finite")
    if np.any(a < 0):
        i = int(np.argmax(a < 0))
        raise DistributionError(name, f"{name} must be non-negative; got {name}[{i}] = {a[i]}")
    s = a.sum()
    if not s > 0:
        raise DistributionError(name, f"{name} must not be all zero")
    if not np.isfinite(s):
        a = a / a.max()  # sums past float max: rescale first
        s = a.sum()
    return a / s


def _xlogx_ratio(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Elementwise p·ln(p/q) with 0·ln(0/q) = 0 and p·ln(p/0) = +inf for p > 0."""
    out = np.zeros_like(p)
    pos = p > 0
    with np.errstate(divide="ignore"):
        out[pos] = p[pos] * (np.log(p[pos]) - np.log(q[pos]))
    return out


def entropy(p, base: float | str = 2) -> float:
    """H(p) = −Σ p_i log p_i (p normalized first)."""
    p = normalize(p, "p")
    nz = p[p > 0]
    return float(-(nz * np.log(nz)).sum() / log_base(base))


def cross_entropy(p, q, base: float | str = 2) -> float:
    """H(p, q) = −Σ p_i log q_i; +inf when some q_i = 0 where p_i > 0."""
    p, q = normalize(p, "p"), normalize(q, "q")
    pos = p > 0
    with np.errstate(divide="ignore"):
        return float(-(p[pos] * np.log(q[pos])).sum() / log_base(base))


def kl(p, q, base: float | str = 2) -> float:
    """D_KL(p‖q) = Σ p_i log(p_i / q_i) ≥ 0; +inf when q_i = 0 where p_i > 0."""
    p, q = normalize(p, "p"), normalize(q, "q")
    return float(max(_xlogx_ratio(p, q).sum(), 0.0) / log_base(base))


@dataclass(frozen=True)
class Divergence:
    p: np.ndarray  # (n,) normalized
    q: np.ndarray  # (n,) normalized
    entropy_p: float
    entropy_q: float
    cross_entropy: float  # may be inf
    kl_pq: float  # may be inf
    kl_qp: float  # may be inf
    kl_terms_pq: np.ndarray  # (n,) p_i log(p_i/q_i) in the base; inf where q_i = 0 < p_i


def divergence(p, q, base: float | str = 2) -> Divergence:
    """H(p), H(q), H(p, q) = H(p) + D_KL(p‖q), D_KL(p‖q) and D_KL(q‖p), all in `base`."""
    pn, qn = normalize(p, "p"), normalize(q, "q")
    if pn.shape != qn.shape:
        raise DistributionError("q", f"q must have the same length as p; got {qn.size} and {pn.size}")
    lb = log_base(base)
    terms = _xlogx_ratio(pn, qn) / lb
    return Divergence(
        p=pn, q=qn, entropy_p=entropy(pn, base), entropy_q=entropy(qn, base),
        cross_entropy=cross_entropy(pn, qn, base), kl_pq=kl(pn, qn, base), kl_qp=kl(qn, pn, base),
        kl_terms_pq=terms,
    )  # fmt: skip


def bernoulli_entropy(p, base: float | str = 2) -> np.ndarray:
    """H(p) = −p log p − (1−p) log(1−p), elementwise for p in [0, 1]. Shape of p."""
    p = np.asarray(p, dtype=float)
    if np.any((p < 0) | (p > 1)):
        raise DistributionError("p", "Bernoulli p must lie in [0, 1]")
    with np.errstate(divide="ignore", invalid="ignore"):
        h = -np.where(p > 0, p * np.log(p), 0.0) - np.where(p < 1, (1 - p) * np.log1p(-p), 0.0)
    return h / log_base(base)


# ------------------------------------------------------------------------------ Gaussians


def gaussian_kl(mu_p, sigma_p, mu_q, sigma_q):
    """D_KL(N(μp, σp²) ‖ N(μq, σq²)) = ln(σq/σp) + (σp² + (μp − μq)²)/(2σq²) − ½, in nats.
    Broadcasts over its arguments."""
    mu_p, sigma_p, mu_q, sigma_q = (np.asarray(a, dtype=float) for a in (mu_p, sigma_p, mu_q, sigma_q))
    if np.any(sigma_p <= 0) or np.any(sigma_q <= 0):
        raise DistributionError("sigma_p" if np.any(sigma_p <= 0) else "sigma_q", "σ must be > 0")
    return np.log(sigma_q / sigma_p) + (sigma_p**2 + (mu_p - mu_q) ** 2) / (2 * sigma_q**2) - 0.5


def _norm_logpdf(x, mu, sigma):
    return -0.5 * ((x - mu) / sigma) ** 2 - np.log(sigma) - 0.5 * np.log(2 * np.pi)


def gaussian_kl_quadrature(mu_p, sigma_p, mu_q, sigma_q, n: int = 4001) -> float:
    """∫ p(x) ln(p(x)/q(x)) dx by Simpson's rule on μp ± 12σp (the tails beyond hold < e⁻⁷²)."""
    x = np.linspace(mu_p - 12 * sigma_p, mu_p + 12 * sigma_p, n)
    lp = _norm_logpdf(x, mu_p, sigma_p)
    return float(simpson(np.exp(lp) * (lp - _norm_logpdf(x, mu_q, sigma_q)), x=x))


@dataclass(frozen=True)
class GaussianDivergence:
    kl_pq: float
    kl_qp: float
    kl_pq_quadrature: float
    kl_qp_quadrature: float
    x: np.ndarray  # (n_points,)
    pdf_p: np.ndarray  # (n_points,)
    pdf_q: np.ndarray  # (n_points,)
    integrand_pq: np.ndarray  # (n_points,) p(x) ln(p(x)/q(x))
    sigma_grid: np.ndarray  # (n_sigma,)
    kl_vs_sigma: np.ndarray  # (n_sigma,) D_KL(N(μp, s²) ‖ q)
    mu_grid: np.ndarray  # (n_mu,)
    kl_vs_mu: np.ndarray  # (n_mu,) D_KL(N(m, σp²) ‖ q)


def gaussian_divergence(mu_p: float, sigma_p: float, mu_q: float, sigma_q: float, n_points: int = 401) -> GaussianDivergence:
    """Both KLs of two Gaussians in closed form and by quadrature (nats), their densities on a
    shared grid, and KL(p‖q) as p's σ or μ moves alone (the VAE term when q = N(0, 1))."""
    lo = min(mu_p - 4 * sigma_p, mu_q - 4 * sigma_q)
    hi = max(mu_p + 4 * sigma_p, mu_q + 4 * sigma_q)
    x = np.linspace(lo, hi, n_points)
    lp, lq = _norm_logpdf(x, mu_p, sigma_p), _norm_logpdf(x, mu_q, sigma_q)
    sg = np.geomspace(0.01, 100, 161)
    mg = mu_q + np.linspace(-5, 5, 161) * max(sigma_q, sigma_p)
    return GaussianDivergence(
        kl_pq=float(gaussian_kl(mu_p, sigma_p, mu_q, sigma_q)), kl_qp=float(gaussian_kl(mu_q, sigma_q, mu_p, sigma_p)),
        kl_pq_quadrature=gaussian_kl_quadrature(mu_p, sigma_p, mu_q, sigma_q),
        kl_qp_quadrature=gaussian_kl_quadrature(mu_q, sigma_q, mu_p, sigma_p),
        x=x, pdf_p=np.exp(lp), pdf_q=np.exp(lq), integrand_pq=np.exp(lp) * (lp - lq),
        sigma_grid=sg, kl_vs_sigma=gaussian_kl(mu_p, sg, mu_q, sigma_q),
        mu_grid=mg, kl_vs_mu=gaussian_kl(mg, sigma_p, mu_q, sigma_q),
    )  # fmt: skip


# ------------------------------------------------------------------------------ softmax


def softmax(logits, temperature: float = 1.0, axis: int = -1) -> np.ndarray:
    """softmax(z / T)_i = exp(z_i/T) / Σ_j exp(z_j/T), max-shifted so it never overflows."""
    if not temperature > 0:
        raise DistributionError("temperature", f"temperature must be > 0; got {temperature}")
    z = np.asarray(logits, dtype=float) / temperature
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def _entropy_rows(P: np.ndarray, base: float | str = 2) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(P > 0, P * np.log(np.where(P > 0, P, 1.0)), 0.0)
    return -t.sum(axis=-1) / log_base(base)


@dataclass(frozen=True)
class SoftmaxSweep:
    probs: np.ndarray  # (K,) at the temperature asked
    entropy_bits: float
    max_entropy_bits: float  # log2 K
    temperatures: np.ndarray  # (n_t,)
    entropy_curve: np.ndarray  # (n_t,) bits
    max_prob_curve: np.ndarray  # (n_t,)
    probs_curve: np.ndarray  # (n_t, K)


def softmax_sweep(logits, temperature: float = 1.0, n_t: int = 121) -> SoftmaxSweep:
    """softmax(z/T) at T and over T ∈ [0.01, 100] (log-spaced): its entropy and largest probability."""
    z = np.asarray(logits, dtype=float)
    ts = np.geomspace(0.01, 100, n_t)
    P = softmax(z[None, :] / ts[:, None], 1.0)  # (n_t, K)
    p = softmax(z, temperature)
    return SoftmaxSweep(
        probs=p, entropy_bits=float(_entropy_rows(p)), max_entropy_bits=float(np.log2(z.size)),
        temperatures=ts, entropy_curve=_entropy_rows(P), max_prob_curve=P.max(axis=1), probs_curve=P,
    )  # fmt: skip


@dataclass(frozen=True)
class Distillation:
    teacher_soft: np.ndarray  # (K,) softmax(teacher / T)
    student_soft: np.ndarray  # (K,) softmax(student / T)
    student_probs: np.ndarray  # (K,) softmax(student), T = 1
    kl_soft: float  # D_KL(teacher_T ‖ student_T), nats
    distill_loss: float  # T² · kl_soft (Hinton et al. 2015)
    hard_ce: float  # −ln student_probs[label], nats
    teacher_entropy_bits: float  # bits a soft target carries per example; a one-hot label: 0
    grad_soft: np.ndarray  # (K,) ∂(T²·KL)/∂z_student = T (student_T − teacher_T)
    grad_hard: np.ndarray  # (K,) ∂CE/∂z_student = student_probs − onehot(label)


def distillation(teacher_logits, student_logits, temperature: float, label: int) -> Distillation:
    """The soft-target loss T²·KL(softmax(t/T) ‖ softmax(s/T)) and the hard-label cross-entropy,
    with their gradients in the student's logits."""
    t = np.asarray(teacher_logits, dtype=float)
    s = np.asarray(student_logits, dtype=float)
    if t.shape != s.shape:
        raise DistributionError("student_logits", f"student_logits must have the length of logits; got {s.size} and {t.size}")
    if not 0 <= label < t.size:
        raise DistributionError("label", f"label must be in [0, {t.size - 1}]; got {label}")
    pt, ps, p1 = softmax(t, temperature), softmax(s, temperature), softmax(s, 1.0)
    k = float(max(_xlogx_ratio(pt, ps).sum(), 0.0))
    onehot = np.zeros_like(p1)
    onehot[label] = 1.0
    with np.errstate(divide="ignore"):
        ce = float(-np.log(p1[label]))
    return Distillation(
        teacher_soft=pt, student_soft=ps, student_probs=p1, kl_soft=k, distill_loss=temperature**2 * k,
        hard_ce=ce, teacher_entropy_bits=float(_entropy_rows(pt)),
        grad_soft=temperature * (ps - pt), grad_hard=p1 - onehot,
    )  # fmt: skip
