"""Models for the neural-network lab: an MLP and a small CNN (torch.nn), seeded initialisation.

MLP hidden layer ``l``: ``h = act(LN(W_l a + b_l))``, dropout, then ``a' = a + h`` when
``residual`` and the widths match, else ``a' = h``; the output layer is linear (logits).
CNN: ``[conv3x3 -> act -> maxpool2] * len(channels) -> flatten -> linear``.
Weights are drawn from a local ``torch.Generator`` on the CPU (Glorot-uniform for
tanh/sigmoid/linear, He-uniform for relu/gelu, zero biases), so the same seed gives the same
network on every device and the global RNG is never touched.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .params import Param, validate_params

MAX_LAYERS = 8
MAX_WIDTH = 256
MAX_CONV_LAYERS = 3
MAX_CHANNELS = 64
ACTIVATIONS = ("relu", "tanh", "sigmoid", "gelu", "linear")

MODELS: dict[str, dict[str, Param]] = {
    "mlp": {
        "hidden": Param("hidden", "int_list", [16, 16], 1, MAX_WIDTH, min_len=0, max_len=MAX_LAYERS,
                        description="hidden layer widths"),
        "activation": Param("activation", "choice", "tanh", choices=ACTIVATIONS),
        "dropout": Param("dropout", "float", 0.0, 0.0, 0.9, description="dropout probability"),
        "layer_norm": Param("layer_norm", "bool", False, description="LayerNorm before activation"),
        "residual": Param("residual", "bool", False,
                          description="skip connection between same-width hidden layers"),
    },
    "cnn": {
        "channels": Param("channels", "int_list", [16, 32], 1, MAX_CHANNELS, min_len=1,
                          max_len=MAX_CONV_LAYERS, description="channels of each 3x3 conv layer"),
        "activation": Param("activation", "choice", "relu", choices=ACTIVATIONS),
        "dropout": Param("dropout", "float", 0.0, 0.0, 0.9, description="dropout before the head"),
    },
}


def validate_model(d: Mapping[str, Any]) -> dict[str, Any]:
    """Check a model spec (``{"kind": "mlp"|"cnn", ...}``, kind defaults to mlp); fill defaults."""
    if not isinstance(d, Mapping):
        raise ValueError(f"model must be an object; got {d!r}")
    kind = d.get("kind", "mlp")
    if kind not in MODELS:
        raise ValueError(f"model.kind must be one of {sorted(MODELS)}; got {kind!r}")
    return {"kind": kind, **validate_params("model", MODELS[kind], d, ignore=("kind",))}


def _act(name: str) -> nn.Module:
    return {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "gelu": nn.GELU,
            "linear": nn.Identity}[name]()


class SeededDropout(nn.Module):
    """Inverted dropout whose mask comes from ``self.generator`` (set by the trainer), not global RNG."""

    def __init__(self, p: float):
        super().__init__()
        self.p = float(p)
        self.generator: torch.Generator | None = None

    def mask_shape(self, x: torch.Tensor) -> tuple[int, ...]:
        """One keep/drop draw per element (a subclass may share draws across a dimension)."""
        return tuple(x.shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = torch.rand(self.mask_shape(x), generator=self.generator, device=x.device,
                          dtype=x.dtype) < keep
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"p={self.p}"


class MLP(nn.Module):
    """Multilayer perceptron on flattened inputs ``(B, n_features) -> (B, n_outputs)`` logits."""

    def __init__(self, n_features: int, n_outputs: int, hidden: list[int], activation: str = "tanh",
                 dropout: float = 0.0, layer_norm: bool = False, residual: bool = False):
        super().__init__()
        self.activation = activation
        widths = [n_features, *hidden]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:], strict=True))
        self.norms = nn.ModuleList(nn.LayerNorm(w) for w in hidden) if layer_norm else None
        self.acts = nn.ModuleList(_act(activation) for _ in hidden)
        self.drops = nn.ModuleList(SeededDropout(dropout) for _ in hidden) if dropout > 0 else None
        self.skip = _skips(widths, residual)
        self.head = nn.Linear(widths[-1], n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.flatten(1)
        for i, layer in enumerate(self.layers):
            h = layer(x)
            if self.norms is not None:
                h = self.norms[i](h)
            h = self.acts[i](h)
            if self.drops is not None:
                h = self.drops[i](h)
            x = x + h if self.skip[i] else h
        return self.head(x)


class CNN(nn.Module):
    """Small convnet for ``(B, H*W)`` or ``(B, 1, H, W)`` images -> ``(B, n_outputs)`` logits."""

    def __init__(self, image_shape: tuple[int, int], n_outputs: int, channels: list[int],
                 activation: str = "relu", dropout: float = 0.0):
        super().__init__()
        self.activation = activation
        self.image_shape = tuple(image_shape)
        h, w = self.image_shape
        convs, pools, c_in = [], [], 1
        for c in channels:
            convs.append(nn.Conv2d(c_in, c, kernel_size=3, padding=1))
            pool = h >= 2 and w >= 2  # pool while there is something left to halve
            pools.append(pool)
            if pool:
                h, w = h // 2, w // 2
            c_in = c
        self.convs = nn.ModuleList(convs)
        self.pools = pools
        self.acts = nn.ModuleList(_act(activation) for _ in channels)
        self.drop = SeededDropout(dropout) if dropout > 0 else None
        self.head = nn.Linear(c_in * h * w, n_outputs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(x.shape[0], 1, *self.image_shape)
        for conv, act, pool in zip(self.convs, self.acts, self.pools, strict=True):
            x = act(conv(x))
            if pool:
                x = F.max_pool2d(x, 2)
        x = x.flatten(1)
        if self.drop is not None:
            x = self.drop(x)
        return self.head(x)


@dataclass(frozen=True)
class MLPShape:
    """What the lean kernels need of an MLP without layer norm or dropout, no torch modules:
    ``sizes = (n_features, *hidden, n_outputs)``, the activation, and ``skip[l]`` for hidden
    layer ``l`` (``residual`` and equal widths, as ``MLP``)."""

    sizes: tuple[int, ...]
    activation: str
    skip: tuple[bool, ...]

    @classmethod
    def of(cls, spec: Mapping[str, Any], n_features: int, n_outputs: int) -> MLPShape:
        s = validate_model(spec)
        if s["kind"] != "mlp" or s["dropout"] > 0 or s["layer_norm"]:
            raise ValueError("MLPShape describes MLPs without dropout or layer norm")
        widths = [n_features, *s["hidden"]]
        skip = tuple(_skips(widths, bool(s["residual"])))
        return cls((*widths, n_outputs), s["activation"], skip)

    @property
    def names(self) -> tuple[str, ...]:
        """Layer names as in ``MLP`` (``layers.0`` ... then ``head``)."""
        return (*(f"layers.{i}" for i in range(len(self.sizes) - 2)), "head")

    @property
    def n_params(self) -> int:
        return sum(a * b + b for a, b in zip(self.sizes[:-1], self.sizes[1:], strict=True))

    def init(self, seed: int) -> list[np.ndarray]:
        """``[W_0, b_0, ..., W_head, b_head]`` float32, the numbers ``build_model`` draws (same
        generator, same init functions, same order), without building the modules: ~50 µs
        against ~1 ms."""
        g = torch.Generator().manual_seed(int(seed))
        out = []
        last = len(self.sizes) - 2
        for i, (a, b) in enumerate(zip(self.sizes[:-1], self.sizes[1:], strict=True)):
            w = _init_weight(torch.empty(b, a), self.activation, i == last, g)
            out += [w.numpy(), np.zeros(b, dtype=np.float32)]
        return out

    def layer_shapes(self) -> list[dict[str, Any]]:
        """``layer_shapes`` of the built model."""
        return [{"name": nm, "kind": "linear", "shape": [b, a], "matrix_shape": [b, a],
                 "n_params": a * b + b}
                for nm, a, b in zip(self.names, self.sizes[:-1], self.sizes[1:], strict=True)]

    def state_dict(self, params: list[np.ndarray]) -> dict[str, torch.Tensor]:
        """``params`` (``init``'s order) under the keys of the built model's ``state_dict``."""
        keys = [f"{nm}.{k}" for nm in self.names for k in ("weight", "bias")]
        return {k: torch.from_numpy(np.array(p)) for k, p in zip(keys, params, strict=True)}


def _init_weight(w: torch.Tensor, activation: str, is_head: bool,
                 g: torch.Generator) -> torch.Tensor:
    """He-uniform for relu/gelu hidden layers, else Glorot-uniform, drawn from ``g`` in place."""
    if activation in ("relu", "gelu") and not is_head:
        return nn.init.kaiming_uniform_(w, nonlinearity="relu", generator=g)
    return nn.init.xavier_uniform_(w, generator=g)


def _skips(widths: list[int], residual: bool) -> list[bool]:
    """Per hidden layer: a skip connection when ``residual`` and its in and out widths match."""
    return [residual and a == b for a, b in zip(widths[:-1], widths[1:], strict=True)]


def init_parameters(model: nn.Module, seed: int) -> nn.Module:
    """(Re)initialise every parameter from ``torch.Generator().manual_seed(seed)`` on the CPU."""
    g = torch.Generator().manual_seed(int(seed))
    act = getattr(model, "activation", "relu")
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, nn.Linear | nn.Conv2d):
                _init_weight(m.weight, act, name == "head", g)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
    return model


def build_model(spec: Mapping[str, Any], n_features: int, n_classes: int,
                image_shape: tuple[int, int] | None = None, *, n_outputs: int | None = None,
                seed: int = 0) -> nn.Module:
    """Build and seed-initialise a model on the CPU in float32.

    ``n_outputs`` defaults to ``n_classes`` (one logit per class); the squared-error loss on a
    two-class set uses a single output (TensorFlow Playground's network).
    """
    s = validate_model(spec)
    n_out = n_classes if n_outputs is None else n_outputs
    if s["kind"] == "cnn" and image_shape is None:
        raise ValueError("model.kind 'cnn' needs an image dataset (digits); got a dataset "
                         f"with {n_features} features and no image shape")
    key = (json.dumps(s, sort_keys=True), n_features, n_out,
           tuple(image_shape) if image_shape is not None else None)
    return init_parameters(copy.deepcopy(_template(key)), seed)


@functools.lru_cache(maxsize=64)
def _template(key: tuple) -> nn.Module:
    """An uninitialised model of one shape (``build_model``'s key), copied for each build: a
    copy costs half of constructing the modules (which runs their own init on the meta device)."""
    spec, n_features, n_out, image_shape = key
    s = json.loads(spec)
    with torch.device("meta"):  # no init work, no global RNG draws; real values come later
        if s["kind"] == "cnn":
            model: nn.Module = CNN(image_shape, n_out, s["channels"], s["activation"],
                                   s["dropout"])
        else:
            model = MLP(n_features, n_out, s["hidden"], s["activation"], s["dropout"],
                        s["layer_norm"], s["residual"])
    return model.to_empty(device="cpu")


def weight_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The layers with a weight matrix, in forward order: ``[(name, module)]`` (Linear, Conv2d)."""
    return [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear | nn.Conv2d)]


def layer_shapes(model: nn.Module) -> list[dict[str, Any]]:
    """Each layer's weight shape and the matrix it acts as (conv: ``out x (in*kh*kw)``)."""
    out = []
    for name, m in weight_layers(model):
        shape = list(m.weight.shape)
        out.append({"name": name, "kind": "conv2d" if isinstance(m, nn.Conv2d) else "linear",
                    "shape": shape, "matrix_shape": [shape[0], int(m.weight[0].numel())],
                    "n_params": int(m.weight.numel() + (m.bias.numel() if m.bias is not None else 0))})
    return out
