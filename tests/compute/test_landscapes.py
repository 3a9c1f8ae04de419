"""compute.landscapes against independent references: numpy and torch.nn losses, torch.autograd,
torch.optim.SGD, and the closed-form facts of f(x, y) = x² − y² + y⁴/4."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from compute import landscapes as L


def numpy_logistic_loss(theta: np.ndarray, X: np.ndarray, y: np.ndarray) -> float:
    s = X @ theta[:2] + theta[2]
    return float(np.mean(np.log1p(np.exp(-np.abs(s))) + np.maximum(s, 0) - y * s))


def torch_mlp(theta: np.ndarray, shapes, activation: str) -> nn.Sequential:
    """The same network as an nn.Sequential of nn.Linear layers, weights copied from the flat θ."""
    layers, k = [], 0
    for n, (o, i) in enumerate(shapes):
        lin = nn.Linear(i, o).double()
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(theta[k : k + o * i].reshape(o, i)))
            lin.bias.copy_(torch.from_numpy(theta[k + o * i : k + o * i + o]))
        k += o * i + o
        layers.append(lin)
        if n < len(shapes) - 1:
            layers.append(nn.Tanh() if activation == "tanh" else nn.ReLU())
    return nn.Sequential(*layers)


def torch_loss(theta: np.ndarray, X: np.ndarray, y: np.ndarray, shapes, activation: str) -> float:
    net = torch_mlp(theta, shapes, activation)
    with torch.no_grad():
        z = net(torch.from_numpy(X))[:, 0]
        return float(nn.BCEWithLogitsLoss()(z, torch.from_numpy(y)))


@pytest.mark.parametrize(("dataset", "seed", "directions"), [("moons", 0, "random"), ("circles", 3, "random"),
                                                              ("xor", 1, "pca"), ("spirals", 7, "random")])  # fmt: skip
def test_logistic_slice_is_convex_and_equals_numpy(dataset, seed, directions):
    r = L.landscape(model="logistic", dataset=dataset, seed=seed, n_samples=120, steps=80, span=3.0,
                    resolution=21, directions=directions)  # fmt: skip
    z = r.z
    tol = 1e-10
    # a convex function restricted to any line is convex: rows, columns, both diagonals, the θ₀ → θ* line
    for lines in (z, z.T, np.array([np.diagonal(z)]), np.array([np.diagonal(z[:, ::-1])])):
        assert L.second_differences(lines).min() >= -tol
    assert L.second_differences(r.line_loss).min() >= -tol
    assert r.nonconvex_fraction == 0.0 and r.line_nonconvex_fraction == 0.0
    X, y = L.load_data(dataset, 120, 0.2, seed)
    for i, j in [(0, 0), (3, 17), (10, 10), (20, 5), (20, 20)]:
        theta = r.theta_star + r.alphas[j] * r.d1 + r.betas[i] * r.d2
        assert z[i, j] == pytest.approx(numpy_logistic_loss(theta, X, y), rel=1e-12, abs=1e-14)
    for k in (0, 20, 40, 80):
        lam = r.line_t[k]
        assert r.line_loss[k] == pytest.approx(numpy_logistic_loss((1 - lam) * r.theta0 + lam * r.theta_star, X, y), rel=1e-12)
    assert r.perm_loss is None


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_mlp_slice_equals_torch_nn_and_is_not_convex(activation):
    r = L.landscape(model="mlp", hidden=6, depth=2, activation=activation, n_samples=100, steps=120,
                    resolution=15, span=1.5, seed=2)  # fmt: skip
    X, y = L.load_data("moons", 100, 0.2, 2)
    for i, j in [(0, 0), (7, 7), (3, 12), (14, 1)]:
        theta = r.theta_star + r.alphas[j] * r.d1 + r.betas[i] * r.d2
        assert r.z[i, j] == pytest.approx(torch_loss(theta, X, y, r.shapes, activation), rel=1e-12)
    assert r.z[7, 7] == pytest.approx(r.train_loss[-1], rel=1e-12)  # the centre is θ* itself
    assert r.nonconvex_fraction > 0  # some second difference of the slice is negative
    # swapping two hidden units: the same loss at both ends, higher in between — no convex function does that
    a, mid, b = r.perm_loss[0], r.perm_loss[L.PERM_LINE.size // 2], r.perm_loss[-1]
    assert a == pytest.approx(b, rel=1e-12)
    assert mid > max(a, b) + 1e-6


def test_swap_hidden_units_is_the_same_function():
    shapes = L.layer_shapes("mlp", 5, 3)
    theta = np.random.default_rng(0).standard_normal(L.n_params(shapes))
    X = np.random.default_rng(1).standard_normal((30, 2))
    swapped = L.swap_hidden_units(theta, shapes, 1, 3)
    assert not np.allclose(swapped, theta)
    with torch.no_grad():
        z1 = torch_mlp(theta, shapes, "tanh")(torch.from_numpy(X))
        z2 = torch_mlp(swapped, shapes, "tanh")(torch.from_numpy(X))
    np.testing.assert_allclose(z1.numpy(), z2.numpy(), rtol=1e-13, atol=1e-13)


def test_filter_normalization_row_norms():
    shapes = L.layer_shapes("mlp", 7, 3)
    rng = np.random.default_rng(4)
    theta = rng.standard_normal(L.n_params(shapes)) * rng.uniform(0.1, 3, L.n_params(shapes))
    d = L.filter_normalize(rng.standard_normal(theta.size), theta, shapes)
    k = 0
    for o, i in shapes:
        np.testing.assert_allclose(np.linalg.norm(d[k : k + o * i].reshape(o, i), axis=1),
                                   np.linalg.norm(theta[k : k + o * i].reshape(o, i), axis=1), rtol=1e-13)  # fmt: skip
        assert np.all(d[k + o * i : k + o * i + o] == 0)  # biases: direction 0
        k += o * i + o
    assert k == theta.size


def test_landscape_directions_are_filter_normalized():
    r = L.landscape(model="mlp", hidden=5, depth=2, steps=30, resolution=5, seed=9)
    k = 0
    for o, i in r.shapes:
        tn = np.linalg.norm(r.theta_star[k : k + o * i].reshape(o, i), axis=1)
        for d in (r.d1, r.d2):
            np.testing.assert_allclose(np.linalg.norm(d[k : k + o * i].reshape(o, i), axis=1), tn, rtol=1e-12)
            assert not d[k + o * i : k + o * i + o].any()
        k += o * i + o
    assert not np.allclose(r.d1, r.d2)


def test_projection_recovers_in_plane_paths_and_ends_at_theta_star():
    rng = np.random.default_rng(0)
    theta_star, d1, d2 = rng.standard_normal((3, 40))
    a, b = rng.standard_normal((2, 25))
    a[-1] = b[-1] = 0
    traj = theta_star + a[:, None] * d1 + b[:, None] * d2  # (25, 40): a path inside the plane
    pa, pb, res = L.project(traj, theta_star, d1, d2)
    np.testing.assert_allclose(pa, a, atol=1e-12)
    np.testing.assert_allclose(pb, b, atol=1e-12)
    assert res.max() < 1e-12
    # off-plane parts are the normal-equations residual
    off = traj + rng.standard_normal(traj.shape)
    pa, pb, res = L.project(off, theta_star, d1, d2)
    D = np.stack([d1, d2], 1)
    coef = np.linalg.solve(D.T @ D, D.T @ (off - theta_star).T)
    np.testing.assert_allclose(np.stack([pa, pb]), coef, atol=1e-10)
    r = L.landscape(model="mlp", steps=60, resolution=5)
    assert r.traj_alpha[-1] == 0 and r.traj_beta[-1] == 0  # θ* + 0·d₁ + 0·d₂ = θ*
    np.testing.assert_allclose(r.theta_star + r.traj_alpha[-1] * r.d1 + r.traj_beta[-1] * r.d2, r.theta_star)
    assert 0 <= r.trajectory_captured <= 1


def test_pca_directions_hold_the_path():
    rnd = L.landscape(model="mlp", steps=150, resolution=5, directions="random")
    pca = L.landscape(model="mlp", steps=150, resolution=5, directions="pca")
    assert pca.trajectory_captured > 0.9 > rnd.trajectory_captured
    assert abs(float(pca.d1 @ pca.d2)) < 1e-9 * np.linalg.norm(pca.d1) ** 2  # orthogonal principal axes


@pytest.mark.parametrize(("model", "activation", "momentum"), [("mlp", "tanh", 0.9), ("mlp", "relu", 0.0),
                                                               ("logistic", "tanh", 0.5)])  # fmt: skip
def test_training_matches_torch_optim_sgd(model, activation, momentum):
    shapes = L.layer_shapes(model, 4, 2)
    X, y = L.load_data("moons", 60, 0.2, 1)
    theta0 = L.init_theta(shapes, activation, 1)
    traj, losses, div = L.train(theta0, X, y, shapes, activation, 25, 0.3, momentum)
    assert div is None and traj.shape == (26, L.n_params(shapes)) and losses.shape == (26,)
    net = torch_mlp(theta0, shapes, activation)
    opt = torch.optim.SGD(net.parameters(), lr=0.3, momentum=momentum)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    for t in range(26):
        flat = torch.cat([p.detach().reshape(-1) for p in net.parameters()]).numpy()
        np.testing.assert_allclose(traj[t], flat, rtol=1e-10, atol=1e-12)
        opt.zero_grad()
        loss = nn.BCEWithLogitsLoss()(net(Xt)[:, 0], yt)
        assert losses[t] == pytest.approx(loss.item(), rel=1e-12)
        loss.backward()
        opt.step()


def test_gradient_matches_autograd():
    shapes = L.layer_shapes("mlp", 5, 3)
    X, y = L.load_data("xor", 50, 0.1, 0)
    for act in L.ACTIVATIONS:
        theta = L.init_theta(shapes, act, 3) + 0.1
        loss, g = L.loss_and_grad(theta, X, y, shapes, act)
        net = torch_mlp(theta, shapes, act)
        lt = nn.BCEWithLogitsLoss()(net(torch.from_numpy(X))[:, 0], torch.from_numpy(y))
        lt.backward()
        ref = torch.cat([p.grad.reshape(-1) for p in net.parameters()]).numpy()
        assert loss == pytest.approx(lt.item(), rel=1e-13)
        np.testing.assert_allclose(g, ref, rtol=1e-10, atol=1e-15)


def test_landscape_is_deterministic():
    a = L.landscape(model="mlp", steps=40, resolution=7, seed=5)
    b = L.landscape(model="mlp", steps=40, resolution=7, seed=5)
    c = L.landscape(model="mlp", steps=40, resolution=7, seed=6)
    assert np.array_equal(a.z, b.z) and np.array_equal(a.theta_star, b.theta_star)
    assert not np.array_equal(a.z, c.z)


@pytest.mark.parametrize(("kw", "word"), [({"steps": 0}, "steps"), ({"resolution": 42}, "resolution"),
                                          ({"span": 0}, "span"), ({"hidden": 13}, "hidden"),
                                          ({"dataset": "digits"}, "dataset"), ({"directions": "hessian"}, "directions")])  # fmt: skip
def test_landscape_rejects_out_of_bounds(kw, word):
    with pytest.raises(ValueError, match=word):
        L.landscape(**kw)


# ------------------------------------------------------------------------------ saddle


def test_saddle_gd_stalls_on_the_stable_manifold_noise_escapes():
    r = L.saddle(start=(1.5, 0.0), lr=0.02, steps=400, noise_std=0.2, n_noisy=8, seed=0)
    gd, mom, noisy = r.runs[0], r.runs[1], r.runs[2:]
    assert gd.name == "gd" and mom.name == "momentum" and all(n.name == "noisy" for n in noisy)
    assert np.abs(gd.y).max() < 1e-12 and gd.escaped_at is None  # exactly 0: ∂f/∂y = 0 on y = 0
    assert np.abs(mom.y).max() < 1e-12  # deterministic momentum cannot leave y = 0 either
    assert abs(gd.x[-1]) < 1e-3 and gd.loss[-1] == pytest.approx(0, abs=1e-6)  # it slid into the saddle
    for n in noisy:
        assert n.escaped_at is not None and np.nanmax(np.abs(n.y)) > 1
        assert n.loss[-1] < -0.9  # and reached a minimum's basin (f* = −1)


def test_saddle_momentum_escapes_while_gd_stays_near():
    r = L.saddle(start=(1.5, 1e-8), lr=0.02, steps=300, momentum=0.9, noise_std=0.2, n_noisy=5, seed=1)
    gd, mom = r.runs[0], r.runs[1]
    assert np.abs(gd.y).max() < 1e-2 and gd.escaped_at is None
    assert mom.escaped_at is not None and np.abs(mom.y).max() > 1
    assert all(n.escaped_at is not None for n in r.runs[2:])
    # the heavy-ball growth factor: larger root of z² − (1 + μ + 2η) z + μ
    roots = np.roots([1, -(1 + 0.9 + 0.04), 0.9])
    assert r.growth_momentum == pytest.approx(roots.real.max(), rel=1e-12) and r.growth_gd == pytest.approx(1.04)


def test_saddle_gd_escape_time_matches_the_linearization():
    r = L.saddle(start=(1.0, 1e-6), lr=0.05, steps=600, n_noisy=1)
    pred = math.log(1e6) / math.log(1.1)
    assert r.predicted_escape_gd == pytest.approx(pred)
    # while |y| is small, y_t = (1 + 2η)^t y₀ exactly up to the cubic term
    gd = r.runs[0]
    np.testing.assert_allclose(gd.y[:60], 1e-6 * 1.1 ** np.arange(60), rtol=1e-3)
    assert pred < gd.escaped_at < pred + 15  # the cubic only slows the last stretch


def test_saddle_momentum_matches_torch_optim_sgd():
    r = L.saddle(start=(1.2, 0.3), lr=0.05, steps=40, momentum=0.8, noise_std=0.0, n_noisy=1)
    p = torch.tensor([1.2, 0.3], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=0.05, momentum=0.8)
    for t in range(41):
        assert r.runs[1].x[t] == pytest.approx(p[0].item(), rel=1e-12, abs=1e-15)
        assert r.runs[1].y[t] == pytest.approx(p[1].item(), rel=1e-12, abs=1e-15)
        opt.zero_grad()
        f = p[0] ** 2 - p[1] ** 2 + p[1] ** 4 / 4
        assert r.runs[1].loss[t] == pytest.approx(f.item(), rel=1e-12, abs=1e-15)
        f.backward()
        opt.step()
    # with σ = 0 the noisy run is plain GD
    np.testing.assert_array_equal(r.runs[2].y, r.runs[0].y)


def test_saddle_noise_is_seeded_and_divergence_is_data():
    a = L.saddle(seed=3, n_noisy=3)
    b = L.saddle(seed=3, n_noisy=3)
    c = L.saddle(seed=4, n_noisy=3)
    assert np.array_equal(a.runs[2].y, b.runs[2].y) and not np.array_equal(a.runs[2].y, c.runs[2].y)
    d = L.saddle(lr=0.5, noise_std=2.0, steps=200, momentum=0.99, n_noisy=10, seed=0)
    hit = [r for r in d.runs if r.diverged_at is not None]
    assert hit, "expected at least one run to diverge at lr = 0.5, σ = 2"
    for r in hit:
        assert np.isnan(r.y[r.diverged_at:]).all() and np.isfinite(r.y[: r.diverged_at]).all()


def test_saddle_surface_and_bounds():
    r = L.saddle(steps=5)
    gx, gy = np.meshgrid(r.grid, r.grid)
    np.testing.assert_allclose(r.z, gx**2 - gy**2 + gy**4 / 4)
    assert L.saddle_f(np.array(0.0), np.sqrt(2.0)) == pytest.approx(-1)
    with pytest.raises(ValueError, match="steps"):
        L.saddle(steps=0)
    with pytest.raises(ValueError, match="n_noisy"):
        L.saddle(n_noisy=21)


def test_nonconvex_fraction_counts_negative_second_differences():
    g = np.linspace(-2, 2, 9)
    X, Y = np.meshgrid(g, g)
    assert L.nonconvex_fraction(X**2 + 3 * Y**2) == 0.0
    assert L.nonconvex_fraction(-(X**2) - Y**2) == 1.0
    assert L.nonconvex_fraction(X**2 - Y**2) == 0.5  # convex along rows, concave along columns
    assert L.nonconvex_fraction(np.array([0.0, 1.0, 0.0, 1.0, 0.0])) == pytest.approx(2 / 3)
