"""Seeded classification datasets for the neural-network lab.

Two-dimensional sets (moons, circles, spirals, xor, blobs) are mapped by a fixed affine map into
roughly ``[-1.5, 1.5]^2`` so one decision-boundary box (``GRID_BOX``) fits them all; ``noise`` is
the standard deviation of Gaussian jitter in those output units. ``digits`` is scikit-learn's
bundled 8x8 handwritten digits (1797 images, nothing downloaded), scaled to ``[0, 1]``.
Every set is a pure function of its parameters and ``seed``: same input, same arrays, bit for bit.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from .params import Param, params_to_dict, validate_params

MAX_SAMPLES = 5000
MAX_SEED = 2**31 - 1
DIGITS_SAMPLES = 1797
GRID_BOX: tuple[float, float, float, float] = (-2.0, 2.0, -2.0, 2.0)  # (x_min, x_max, y_min, y_max)


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train/test split: ``X_*`` float32 ``(n, n_features)``, ``y_*`` int64 ``(n,)`` in ``[0, n_classes)``."""

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    n_features: int
    image_shape: tuple[int, int] | None = None
    grid_box: tuple[float, float, float, float] | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {"name": self.name, "n_train": int(self.X_train.shape[0]),
                "n_test": int(self.X_test.shape[0]), "n_classes": self.n_classes,
                "n_features": self.n_features,
                "image_shape": list(self.image_shape) if self.image_shape else None,
                "grid_box": list(self.grid_box) if self.grid_box else None,
                "params": dict(self.params)}


@dataclass(frozen=True)
class DatasetSpec:
    """Registry entry: parameters with defaults and bounds, and what the set looks like."""

    name: str
    title: str
    description: str
    params: Mapping[str, Param]
    n_features: int
    n_classes: int | None  # None: given by the ``centers`` parameter
    image_shape: tuple[int, int] | None
    grid_box: tuple[float, float, float, float] | None
    make: Callable[..., tuple[np.ndarray, np.ndarray]] = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "description": self.description,
                "params": params_to_dict(self.params), "n_features": self.n_features,
                "n_classes": self.n_classes,
                "image_shape": list(self.image_shape) if self.image_shape else None,
                "grid_box": list(self.grid_box) if self.grid_box else None}


def _common(noise: float | None, n_default: int = 500, n_max: int = MAX_SAMPLES) -> dict[str, Param]:
    p = {"n_samples": Param("n_samples", "int", n_default, 20, n_max, description="points in all"),
         "test_fraction": Param("test_fraction", "float", 0.3, 0.05, 0.9,
                                description="share held out for testing"),
         "seed": Param("seed", "int", 0, 0, MAX_SEED, description="random seed")}
    if noise is not None:
        p["noise"] = Param("noise", "float", noise, 0.0, 1.0,
                           description="std of Gaussian jitter (output units)")
    return p


# Generators: (n, noise, rng/seed, extra) -> (X float64 (n, 2), y int64 (n,)), before the split.

def _moons(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_moons

    X, y = make_moons(n_samples=n, noise=noise if noise > 0 else None, random_state=seed)
    return X - np.array([0.5, 0.25]), y  # x in [-1, 2] -> [-1.5, 1.5], aspect kept


def _circles(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import make_circles

    X, y = make_circles(n_samples=n, noise=noise / 1.5 if noise > 0 else None, factor=0.5,
                        random_state=seed)
    return 1.5 * X, y  # outer radius 1.5, inner 0.75


def _spirals(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    # TensorFlow Playground's spiral: r = t, angle = 1.75 * 2 pi t + class * pi, t in [0, 1).
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    t = (np.arange(n) // 2) / max(1, (n + 1) // 2)
    angle = 1.75 * 2 * np.pi * t + np.pi * y
    X = 1.5 * t[:, None] * np.stack([np.sin(angle), np.cos(angle)], axis=1)
    X += noise * rng.standard_normal(X.shape)
    order = rng.permutation(n)
    return X[order], y[order]


def _xor(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    u = rng.uniform(-1.4, 1.4, size=(n, 2))
    u += np.where(u >= 0, 0.1, -0.1)  # keep clean points off the axes (Playground's padding)
    y = (u[:, 0] * u[:, 1] > 0).astype(np.int64)
    return u + noise * rng.standard_normal(u.shape), y


def _blobs(n: int, noise: float, seed: int, centers: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    angle = 2 * np.pi * np.arange(centers) / centers + np.pi / 4
    mu = np.stack([np.cos(angle), np.sin(angle)], axis=1)  # (centers, 2) on the unit circle
    y = rng.permutation(np.arange(n) % centers)
    return mu[y] + noise * rng.standard_normal((n, 2)), y


def _digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    idx = np.sort(np.random.default_rng(seed).permutation(X.shape[0])[:n])
    return X[idx] / 16.0, y[idx]


_BLOB_PARAMS = {**_common(0.3), "centers": Param("centers", "int", 3, 2, 8,
                                                 description="number of blobs (classes)")}

DATASETS: dict[str, DatasetSpec] = {
    "moons": DatasetSpec("moons", "Two moons", "Two interleaving half circles.",
                         _common(0.2), 2, 2, None, GRID_BOX, _moons),
    "circles": DatasetSpec("circles", "Circles", "A disc inside a ring.",
                           _common(0.1), 2, 2, None, GRID_BOX, _circles),
    "spirals": DatasetSpec("spirals", "Spirals", "Two interleaved spiral arms (TensorFlow Playground).",
                           _common(0.05), 2, 2, None, GRID_BOX, _spirals),
    "xor": DatasetSpec("xor", "XOR", "Quadrants: the class is the sign of x*y.",
                       _common(0.1), 2, 2, None, GRID_BOX, _xor),
    "blobs": DatasetSpec("blobs", "Gaussian blobs", "k Gaussian blobs on a circle, one class each.",
                         _BLOB_PARAMS, 2, None, None, GRID_BOX, _blobs),
    "digits": DatasetSpec("digits", "Handwritten digits",
                          "8x8 grey-level digits 0-9 bundled with scikit-learn, scaled to [0, 1].",
                          _common(None, n_default=DIGITS_SAMPLES, n_max=DIGITS_SAMPLES), 64, 10,
                          (8, 8), None, _digits),
}


def validate_dataset(d: Mapping[str, Any]) -> dict[str, Any]:
    """Check a ``{"name": ..., **params}`` mapping; return it with defaults filled."""
    if not isinstance(d, Mapping):
        raise ValueError(f"dataset must be an object; got {d!r}")
    name = d.get("name", "moons")
    if name not in DATASETS:
        raise ValueError(f"dataset.name must be one of {sorted(DATASETS)}; got {name!r}")
    params = validate_params("dataset", DATASETS[name].params, d, ignore=("name",))
    return {"name": name, **params}


def make_dataset(name: str, **params: Any) -> Dataset:
    """Build dataset ``name`` from its parameters (defaults filled, bounds checked), split train/test.

    The split is a seeded permutation: ``round(n_samples * test_fraction)`` test points. A set is
    a function of its parameters and read-only, so the last few built are shared (a class
    training on the same set builds it once; moons through scikit-learn costs ~1 ms).
    """
    p = validate_dataset({"name": name, **params})
    return _build(tuple(sorted(p.items())))


@functools.lru_cache(maxsize=32)
def _build(items: tuple[tuple[str, Any], ...]) -> Dataset:
    p = dict(items)
    name = p["name"]
    spec = DATASETS[name]
    n, seed = p["n_samples"], p["seed"]
    if name == "digits":
        X, y = _digits(n, seed)
    elif name == "blobs":
        X, y = _blobs(n, p["noise"], seed, p["centers"])
    else:
        X, y = spec.make(n, p["noise"], seed)
    n_classes = spec.n_classes if spec.n_classes is not None else int(p["centers"])
    n_test = min(n - 1, max(1, round(n * p["test_fraction"])))
    order = np.random.default_rng([seed, 1]).permutation(n)
    test, train = order[:n_test], order[n_test:]
    X = np.ascontiguousarray(X, dtype=np.float32)
    y = np.ascontiguousarray(y, dtype=np.int64)
    arrays = [np.ascontiguousarray(a) for a in (X[train], y[train], X[test], y[test])]
    for a in arrays:
        a.flags.writeable = False
    return Dataset(name=name, X_train=arrays[0], y_train=arrays[1], X_test=arrays[2],
                   y_test=arrays[3], n_classes=n_classes, n_features=spec.n_features,
                   image_shape=spec.image_shape, grid_box=spec.grid_box,
                   params=MappingProxyType({k: v for k, v in p.items() if k != "name"}))


def decision_grid(box: tuple[float, float, float, float], size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Grid over ``box``: ``xs (size,)``, ``ys (size,)``, points ``(size*size, 2)`` float32, row i = ys[i]."""
    xs = np.linspace(box[0], box[1], size)
    ys = np.linspace(box[2], box[3], size)
    gx, gy = np.meshgrid(xs, ys)  # (size, size): z[i][j] is at (xs[j], ys[i]) as Plotly heatmaps draw
    pts = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float32)
    return xs, ys, pts


def datasets_catalog() -> list[dict[str, Any]]:
    return [spec.to_dict() for spec in DATASETS.values()]
