"""Dropout compute against independent references: the same weights in a plain torch net, the
closed-form expectation of inverted dropout, masks replayed by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from compute import dropout_lab as D

CFG = dict(n_points=30, gap=3.0, noise=0.1, width=32, depth=1, activation="relu", p=0.3, steps=150, lr=0.01, seed=4)


def test_data_leave_the_gap_empty_and_are_deterministic():
    x, y = D.make_data(50, gap=3.0, noise=0.1, seed=1)
    assert np.all(np.abs(x) >= 1.5) and np.all(np.abs(x) <= 3.0) and np.all(np.diff(x) >= 0)
    assert (x < 0).any() and (x > 0).any()
    x2, y2 = D.make_data(50, gap=3.0, noise=0.1, seed=1)
    assert np.array_equal(x, x2) and np.array_equal(y, y2)
    assert np.std(y - D.target(x)) == pytest.approx(0.1, rel=0.3)


def test_inverted_dropout_keeps_the_expectation():
    d = D.ThinningDropout(0.25)
    d.generator = torch.Generator().manual_seed(0)
    out = d(torch.ones(400, 500, dtype=torch.float64))
    assert set(np.unique(out.numpy()).round(12)) == {0.0, round(1 / 0.75, 12)}
    assert out.mean().item() == pytest.approx(1.0, abs=0.01)  # 2e5 draws: SE ≈ 0.0013
    d.eval()
    x = torch.randn(3, 4, dtype=torch.float64)
    assert torch.equal(d(x), x)


@pytest.mark.parametrize("depth", [1, 2])
def test_eval_prediction_is_the_same_net_without_dropout(depth):
    net, _ = D.trained_net(**{**CFG, "depth": depth})
    plain = D.build_mlp(CFG["width"], depth, CFG["activation"], 0.0, seed=99, dropout=False)
    assert not any(isinstance(m, D.ThinningDropout) for m in plain)
    with torch.no_grad():
        for a, b in zip([m for m in net if isinstance(m, nn.Linear)], [m for m in plain if isinstance(m, nn.Linear)], strict=True):
            b.weight.copy_(a.weight)
            b.bias.copy_(a.bias)
    x = np.linspace(-6, 6, 101)
    with torch.no_grad():
        ref = plain(torch.from_numpy(x)[:, None])[:, 0].numpy()
    np.testing.assert_array_equal(D.eval_predict(net, x), ref)


def test_mc_mean_equals_eval_output_when_only_linear_layers_follow_dropout():
    # depth 1: dropout → Linear, so E[f_m(x)] = f_eval(x) exactly (E[m/(1−p)] = 1)
    net, _ = D.trained_net(**CFG)
    x = np.array([-5.0, -2.0, 0.0, 2.5, 5.0])
    s = D.mc_samples(net, x, 20_000, seed=7)
    se = s.std(0) / np.sqrt(len(s))
    assert np.all(se > 0)
    assert np.all(np.abs(s.mean(0) - D.eval_predict(net, x)) < 4.5 * se)


def test_samples_are_thinned_networks_replayed_from_their_masks():
    net, _ = D.trained_net(**CFG)
    x = np.linspace(-4, 4, 9)
    s = D.mc_samples(net, x, 12, seed=3)
    masks = D._masks(net, 12, seed=3)  # (12, width)
    w1, b1 = net[0].weight.detach().numpy(), net[0].bias.detach().numpy()
    w2, b2 = net[3].weight.detach().numpy(), net[3].bias.detach().numpy()
    h = np.maximum(x[:, None] * w1[:, 0] + b1, 0)  # (G, width)
    ref = (h[None] * masks[:, None, :] / (1 - CFG["p"])) @ w2[0] + b2[0]  # (T, G)
    np.testing.assert_allclose(s, ref, rtol=1e-12, atol=1e-12)
    assert masks.mean() == pytest.approx(0.7, abs=0.08)


def test_training_lowers_the_loss_and_fits_the_data():
    r = D.dropout_run(**{**CFG, "depth": 2, "width": 64, "p": 0.2, "steps": 300}, n_samples=50)
    assert r.losses[-1] < 0.2 * r.losses[0]
    assert r.train_mse_eval < 0.05
    assert r.samples.shape == (20, 201) and r.masks.shape == (20, 64)


def test_spread_away_from_the_data_exceeds_the_spread_on_it():
    r = D.dropout_run(n_samples=200, seed=0)  # the lab's defaults: 2 ReLU layers of 64, p = 0.2, gap 3
    assert r.std_off_data > 1.2 * r.std_on_data
    in_gap = r.mc_std[np.abs(r.x_grid) < 0.3].mean()
    far = r.mc_std[np.abs(r.x_grid) > 4.5].mean()
    assert in_gap > r.std_on_data and far > r.std_on_data


def test_no_dropout_gives_one_network_and_runs_are_deterministic():
    r = D.dropout_run(**{**CFG, "p": 0.0}, n_samples=10)
    assert np.all(np.ptp(r.samples, axis=0) < 1e-15) and np.all(r.mc_std < 1e-15)  # every pass: one net (to rounding)
    np.testing.assert_allclose(r.mc_mean, r.eval_pred, rtol=0, atol=1e-14)
    D._train.cache_clear()
    a = D.dropout_run(**CFG, n_samples=30)
    D._train.cache_clear()
    b = D.dropout_run(**CFG, n_samples=30)
    np.testing.assert_array_equal(a.samples, b.samples)
    np.testing.assert_array_equal(a.losses, b.losses)


def test_bad_arguments_raise_with_the_values():
    with pytest.raises(ValueError, match="p must be in"):
        D.dropout_run(p=1.0)
    with pytest.raises(ValueError, match="gap"):
        D.make_data(10, gap=7.0)
    with pytest.raises(ValueError, match="activation"):
        D.build_mlp(8, 1, "gelu", 0.1, 0)
    with pytest.raises(ValueError, match="steps"):
        D.dropout_run(steps=10_000)
