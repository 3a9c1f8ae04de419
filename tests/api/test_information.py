"""The information-theory API: numbers against scipy / closed forms; 422s naming the field."""

import numpy as np
import pytest
from scipy import special, stats

P = "/api/v1/information"


def test_divergence_happy_path_bits(client):
    p, q = [0.5, 0.3, 0.2], [0.2, 0.3, 0.5]
    r = client.post(f"{P}/divergence", json={"p": p, "q": q, "base": 2})
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["entropy_p"] == pytest.approx(stats.entropy(p, base=2))
    assert j["entropy_q"] == pytest.approx(stats.entropy(q, base=2))
    assert j["kl_pq"] == pytest.approx(special.rel_entr(p, q).sum() / np.log(2))
    assert j["kl_qp"] == pytest.approx(stats.entropy(q, p, base=2))
    assert j["cross_entropy"] == pytest.approx(j["entropy_p"] + j["kl_pq"])
    assert not (j["kl_pq_infinite"] or j["kl_qp_infinite"] or j["cross_entropy_infinite"])


def test_divergence_normalizes_nats_and_infinite_flags(client):
    j = client.post(f"{P}/divergence", json={"p": [2, 2, 0], "q": [1, 0, 3], "base": "e"}).json()
    assert j["p"] == [0.5, 0.5, 0.0] and j["q"] == [0.25, 0.0, 0.75]
    assert j["kl_pq"] is None and j["kl_pq_infinite"] is True
    assert j["cross_entropy"] is None and j["cross_entropy_infinite"] is True
    assert j["kl_qp"] is None and j["kl_qp_infinite"] is True
    assert j["entropy_p"] == pytest.approx(np.log(2))
    assert j["kl_terms_pq"][1] is None and j["kl_terms_pq"][2] == 0.0
    j = client.post(f"{P}/divergence", json={"p": [1, 0], "q": [1, 1], "base": 10}).json()
    assert j["kl_pq"] == pytest.approx(np.log10(2)) and j["kl_qp_infinite"] is True


@pytest.mark.parametrize("body,field", [
    ({"p": [1, -1], "q": [1, 1]}, "p"),
    ({"p": [0, 0], "q": [1, 1]}, "p"),
    ({"p": [1, 1], "q": [0, 0]}, "q"),
    ({"p": [1, 1], "q": [1]}, "q"),
    ({"p": [], "q": []}, "p"),
    ({"p": [1] * 1001, "q": [1] * 1001}, "p"),
    ({"p": [1, 1], "q": [1, 1], "base": 1}, "base"),
    ({"p": [1, 1], "q": [1, 1], "base": "ten"}, "base"),
    ({"p": [1, 1], "q": [1, 1], "extra": 1}, "extra"),
])
def test_divergence_422_names_the_field(client, body, field):
    r = client.post(f"{P}/divergence", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["message"].startswith(field)


def test_entropy_endpoint(client):
    j = client.post(f"{P}/entropy", json={"p": [1] * 10}).json()
    assert j["entropy_bits"] == pytest.approx(np.log2(10)) and j["max_bits"] == pytest.approx(3.321928, abs=1e-6)
    assert j["entropy_nats"] == pytest.approx(np.log(10)) and j["perplexity"] == pytest.approx(10)
    j = client.post(f"{P}/entropy", json={"p": [0.9, 0.1, 0], "bernoulli_points": 11}).json()
    assert j["entropy_bits"] == pytest.approx(0.468996, abs=1e-6)
    assert j["surprisal_bits"][2] is None and j["surprisal_bits"][0] == pytest.approx(-np.log2(0.9))
    assert j["bernoulli_bits"][5] == 1.0 and j["bernoulli_bits"][9] == pytest.approx(0.468996, abs=1e-6)
    r = client.post(f"{P}/entropy", json={"p": [1], "bernoulli_points": 1})
    assert r.status_code == 422 and r.json()["message"].startswith("bernoulli_points")


def test_gaussian_kl_endpoint(client):
    j = client.post(f"{P}/gaussian-kl", json={"mu_p": 1.0, "sigma_p": 0.5}).json()
    ref = 0.5 * (1 + 0.25 - 1) - np.log(0.5)  # VAE term against N(0, 1)
    assert j["kl_pq"] == pytest.approx(ref) and j["kl_pq_quadrature"] == pytest.approx(ref, rel=1e-9)
    assert j["kl_qp"] == pytest.approx(np.log(0.5) + (1 + 1) / (2 * 0.25) - 0.5)
    assert len(j["x"]) == 401 and len(j["kl_vs_sigma"]) == len(j["sigma_grid"])
    r = client.post(f"{P}/gaussian-kl", json={"sigma_q": 0})
    assert r.status_code == 422 and r.json()["message"].startswith("sigma_q")


def test_softmax_endpoint(client):
    z = [5.0, 2.0, 1.0, -1.0]
    j = client.post(f"{P}/softmax", json={"logits": z, "temperature": 4.0, "label": 0}).json()
    e = np.exp(np.array(z) / 4)
    np.testing.assert_allclose(j["probs"], e / e.sum(), rtol=1e-12)
    assert j["entropy_bits"] == pytest.approx(stats.entropy(e / e.sum(), base=2))
    assert j["student_probs"] == pytest.approx([0.25] * 4)
    assert j["distill_loss"] == pytest.approx(16 * j["kl_soft"])
    assert j["hard_ce"] == pytest.approx(np.log(4))
    for body, field in [({"logits": z, "label": 4}, "label"), ({"logits": z, "temperature": 0}, "temperature"),
                        ({"logits": z, "student_logits": [1, 2]}, "student_logits"), ({"logits": [1]}, "logits")]:
        r = client.post(f"{P}/softmax", json=body)
        assert r.status_code == 422 and r.json()["message"].startswith(field), r.text
