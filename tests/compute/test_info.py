"""compute/info.py against scipy, torch and closed forms."""

import numpy as np
import pytest
import torch
from scipy import integrate, special, stats

from compute import info


def test_bernoulli_entropy_closed_form_values():
    h = info.bernoulli_entropy([0.0, 0.5, 0.9, 1.0])
    np.testing.assert_allclose(h, [0.0, 1.0, 0.4689955935892812, 0.0], atol=1e-15)
    p = np.linspace(0.01, 0.99, 50)
    np.testing.assert_allclose(info.bernoulli_entropy(p, "e"), [stats.entropy([x, 1 - x]) for x in p], rtol=1e-12)


def test_entropy_matches_scipy_and_uniform_is_log_k():
    rng = np.random.default_rng(0)
    for base in (2, "e", 10, 3.7):
        p = rng.random(17) * (rng.random(17) > 0.3)
        ref = stats.entropy(p, base=None if base == "e" else base)
        assert info.entropy(p, base) == pytest.approx(ref, rel=1e-12)
    assert info.entropy(np.ones(10)) == pytest.approx(np.log2(10), rel=1e-14)  # 3.3219 bits


def test_divergence_against_scipy_rel_entr_and_the_identity():
    rng = np.random.default_rng(1)
    p, q = rng.random(30), rng.random(30)
    d = info.divergence(p, q, 2)
    pn, qn = p / p.sum(), q / q.sum()
    assert d.kl_pq == pytest.approx(special.rel_entr(pn, qn).sum() / np.log(2), rel=1e-12)
    assert d.kl_qp == pytest.approx(stats.entropy(qn, pn, base=2), rel=1e-12)
    assert d.kl_pq == pytest.approx(special.kl_div(pn, qn).sum() / np.log(2), rel=1e-10)
    assert d.cross_entropy == pytest.approx(d.entropy_p + d.kl_pq, rel=1e-12)
    assert d.cross_entropy == pytest.approx(-(pn * np.log2(qn)).sum(), rel=1e-12)
    assert d.kl_pq != pytest.approx(d.kl_qp)  # asymmetric


def test_zeros_follow_0_log_0_and_infinite_kl():
    d = info.divergence([0.5, 0.5, 0.0], [0.5, 0.25, 0.25], "e")
    assert d.kl_pq == pytest.approx(special.rel_entr([0.5, 0.5, 0], [0.5, 0.25, 0.25]).sum())
    assert np.isinf(d.kl_qp) and np.isinf(info.kl([0.5, 0.25, 0.25], [0.5, 0.5, 0.0]))
    assert np.isinf(info.divergence([1, 1], [1, 0]).cross_entropy)
    assert info.kl([1, 2, 3], [2, 4, 6]) == 0.0  # normalized first


@pytest.mark.parametrize("bad,name", [([1, -1], "p"), ([0, 0], "p"), ([np.nan, 1], "p")])
def test_bad_distributions_name_the_argument(bad, name):
    with pytest.raises(info.DistributionError, match=name) as e:
        info.entropy(bad)
    assert e.value.name == name


def test_gaussian_kl_closed_form_matches_scipy_quad_and_simpson():
    for mp, sp, mq, sq in [(1.0, 0.5, 0.0, 1.0), (-3.0, 2.0, 1.0, 0.3), (0.0, 1.0, 0.0, 1.0)]:
        def f(x, mp=mp, sp=sp, mq=mq, sq=sq):
            return stats.norm.pdf(x, mp, sp) * (stats.norm.logpdf(x, mp, sp) - stats.norm.logpdf(x, mq, sq))

        ref, _ = integrate.quad(f, mp - 15 * sp, mp + 15 * sp, points=[mp], limit=200)
        assert float(info.gaussian_kl(mp, sp, mq, sq)) == pytest.approx(ref, rel=1e-8, abs=1e-12)
        assert info.gaussian_kl_quadrature(mp, sp, mq, sq) == pytest.approx(ref, rel=1e-8, abs=1e-12)
    # VAE term: KL(N(μ, σ²) ‖ N(0, 1)) = ½(μ² + σ² − 1) − ln σ
    mu, s = np.array([0.0, 1.0, -2.0]), np.array([1.0, 0.5, 3.0])
    np.testing.assert_allclose(info.gaussian_kl(mu, s, 0, 1), 0.5 * (mu**2 + s**2 - 1) - np.log(s), rtol=1e-14)


def test_gaussian_divergence_bundle():
    g = info.gaussian_divergence(1.0, 0.5, 0.0, 1.0)
    assert g.kl_pq == pytest.approx(g.kl_pq_quadrature, rel=1e-9)
    assert g.kl_qp == pytest.approx(g.kl_qp_quadrature, rel=1e-9)
    assert g.kl_pq == pytest.approx(0.5 * (1 + 0.25 - 1) - np.log(0.5))
    assert integrate.trapezoid(g.pdf_p, g.x) == pytest.approx(1, abs=1e-4)


def test_softmax_matches_torch_at_every_temperature():
    z = np.array([3.0, 1.0, 0.2, -1.0, 800.0, -800.0])
    for t in (0.01, 0.5, 1.0, 4.0, 100.0):
        ref = torch.softmax(torch.tensor(z, dtype=torch.float64) / t, dim=-1).numpy()
        np.testing.assert_allclose(info.softmax(z, t), ref, rtol=1e-12, atol=1e-300)


def test_softmax_sweep_entropy_limits():
    s = info.softmax_sweep([2.0, 1.0, 0.0, -1.0], 1.0)
    assert s.entropy_curve[0] == pytest.approx(0, abs=1e-12)  # T → 0: one-hot
    assert s.entropy_curve[-1] == pytest.approx(2.0, abs=1e-3)  # T → ∞: uniform, log2 4
    assert np.all(np.diff(s.entropy_curve) >= -1e-12)
    assert s.entropy_bits == pytest.approx(stats.entropy(s.probs, base=2), rel=1e-12)


def test_distillation_against_torch_autograd():
    t = np.array([5.0, 2.0, 1.0, -1.0])
    s = np.array([1.0, 0.5, 0.0, 0.3])
    T, label = 3.0, 0
    d = info.distillation(t, s, T, label)
    zs = torch.tensor(s, dtype=torch.float64, requires_grad=True)
    pt = torch.softmax(torch.tensor(t, dtype=torch.float64) / T, -1)
    loss = T**2 * torch.nn.functional.kl_div(torch.log_softmax(zs / T, -1), pt, reduction="sum")
    loss.backward()
    assert d.distill_loss == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(d.grad_soft, zs.grad.numpy(), rtol=1e-10, atol=1e-14)
    zs2 = torch.tensor(s, dtype=torch.float64, requires_grad=True)
    ce = torch.nn.functional.cross_entropy(zs2[None], torch.tensor([label]))
    ce.backward()
    assert d.hard_ce == pytest.approx(ce.item(), rel=1e-12)
    np.testing.assert_allclose(d.grad_hard, zs2.grad.numpy(), rtol=1e-12)
    assert d.teacher_entropy_bits > 0  # a one-hot label carries 0 bits
