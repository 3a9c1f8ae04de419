"""Chain rule and backpropagation: a typed expression as a computational graph, evaluated
forward and differentiated backward (reverse-mode accumulation), and a tiny 2-layer network's
backward pass with its delta per layer.

Reverse mode: with ``v_n = op_n(v_c for children c)`` and ``bar v = d f / d v``,
``bar v_root = 1`` and, visiting nodes from the root down (reverse topological order),
``bar v_c += bar v_n * d op_n / d v_c`` for each child ``c`` of ``n``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import sympy

from compute import expressions
from compute.expressions import parse_expression

GRAPH_VARIABLES = ("x", "y", "z")
MAX_GRAPH_NODES = 120
"""Most nodes a graph may have (a typed formula is at most 200 characters anyway)."""

_OP_NAMES = {
    "Add": "add", "Mul": "mul", "Pow": "pow", "Abs": "abs", "Max": "max", "Min": "min",
    "log": "log", "exp": "exp",
}  # fmt: skip


class PointError(ValueError):
    """A bad ``point``; ``variable`` names the coordinate at fault."""

    def __init__(self, message: str, variable: str):
        super().__init__(message)
        self.variable = variable


@dataclass(frozen=True)
class GraphNode:
    id: int
    op: str  # "var", "const", "add", "mul", "pow", "sin", ...
    label: str  # what the node shows: "x", "×", "( )²", "sin", "+ 3"
    latex: str  # the sub-expression this node computes
    level: int  # longest path from a leaf (leaves are 0)
    children: tuple[int, ...]  # ids of its inputs


@dataclass(frozen=True)
class Graph:
    """A formula as a DAG of operations; node ids are in topological order (root last)."""

    variables: tuple[str, ...]  # the variables the formula uses, sorted
    latex: str
    nodes: tuple[GraphNode, ...]
    edges: tuple[tuple[int, int], ...]  # (child, parent): value flows child -> parent
    evaluate: object  # callable(point: dict) -> (values (N,), edge locals (E,))


@dataclass(frozen=True)
class Backprop:
    value: float
    gradient: dict[str, float]
    values: np.ndarray  # (N,) forward value of each node
    grads: np.ndarray  # (N,) accumulated d f / d node
    local: np.ndarray  # (E,) d parent / d child along each edge
    order: tuple[int, ...]  # nodes in the order the backward pass finishes them (root first)


def _label(expr: sympy.Expr, consts: list[sympy.Expr]) -> tuple[str, str]:
    """(op, label) of an operation node; constant arguments are folded into the label."""
    name = type(expr).__name__
    op = _OP_NAMES.get(name, name.lower())
    c = consts[0] if consts else None
    if expr.is_Add:
        return op, "+" if c is None else f"+ {_num(c)}"
    if expr.is_Mul:
        if c is None:
            return op, "×"
        if c == -1:
            return op, "negate" if len([a for a in expr.args if a.free_symbols]) == 1 else "× (−1)"
        return op, f"× {_num(c)}"
    if expr.is_Pow:
        base, exponent = expr.args
        if not exponent.free_symbols:
            if exponent == -1:
                return op, "1/( )"
            if exponent == sympy.S.Half:
                return op, "√( )"
            return op, f"( )^{_num(exponent)}"
        if not base.free_symbols:
            return op, f"{_num(base)}^( )"
        return op, "( )^( )"
    return op, op


def _num(c: sympy.Expr) -> str:
    if c.is_Integer or (c.is_Rational and c.q <= 12):
        return str(c)
    return f"{float(c):.4g}"


def build_graph(text: str) -> Graph:
    """Parse ``text`` (variables x, y, z) with the safe parser and turn it into a graph.

    Identical sub-expressions become one node (its value is used by several parents, and its
    gradient sums their contributions). Constant sub-expressions are folded into the operation
    that uses them; a formula with no variable at all is one ``const`` node.
    """
    return _build_graph(text)


@functools.lru_cache(maxsize=64)
def _build_graph(text: str) -> Graph:
    expr = parse_expression(text, GRAPH_VARIABLES)
    used = tuple(sorted(s.name for s in expr.free_symbols))
    symbols = [sympy.Symbol(n, real=True) for n in GRAPH_VARIABLES]
    ids: dict[sympy.Basic, int] = {}
    exprs: list[sympy.Expr] = []
    nodes: list[GraphNode] = []
    edges: list[tuple[int, int]] = []
    local_exprs: list[sympy.Expr] = []

    def visit(e: sympy.Expr) -> int:
        # iterative post-order would be longer; depth is bounded by the parser (MAX_DEPTH)
        if e in ids:
            return ids[e]
        if not e.free_symbols:
            op, label, kids, latex = "const", _num(e), (), sympy.latex(e)
        elif e.is_Symbol:
            op, label, kids, latex = "var", e.name, (), e.name
        else:
            var_args = [a for a in e.args if a.free_symbols]
            const_args = [a for a in e.args if not a.free_symbols]
            kids_list: list[int] = []
            for a in var_args:
                k = visit(a)
                if k not in kids_list:
                    kids_list.append(k)
            kids = tuple(kids_list)
            op, label = _label(e, const_args)
            latex = sympy.latex(e)
            # d op / d child: the operation on fresh dummies, differentiated, then re-expressed
            dummies = {k: sympy.Dummy(f"c{k}", real=True) for k in kids}
            step = e.func(*(dummies[ids[a]] if a.free_symbols else a for a in e.args))
            back = {dummies[k]: exprs[k] for k in kids}
            for k in kids:
                d = expressions._drop_deltas(step.diff(dummies[k]))
                local_exprs.append(d.xreplace(back))
        if len(nodes) >= MAX_GRAPH_NODES:
            raise ValueError(f"expression must make at most {MAX_GRAPH_NODES} graph nodes; it makes more")
        level = 1 + max((nodes[k].level for k in kids), default=-1)
        i = len(nodes)
        nodes.append(GraphNode(i, op, label, latex, level, kids))
        exprs.append(e)
        edges.extend((k, i) for k in kids)
        ids[e] = i
        return i

    visit(expr)
    compiled = expressions._compile(symbols, [*exprs, *local_exprs])
    n_nodes = len(nodes)

    def evaluate(point: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
        args = [np.float64(point.get(n, 0.0)) for n in GRAPH_VARIABLES]
        out = np.array([float(v) for v in compiled(*args)])
        return out[:n_nodes], out[n_nodes:]

    return Graph(used, sympy.latex(expr), tuple(nodes), tuple(edges), evaluate)


def backprop(text: str, point: dict[str, float]) -> tuple[Graph, Backprop]:
    """Forward values of every node at ``point``, then reverse accumulation of d f / d node.

    ``point`` must give every variable the formula uses (``ValueError`` naming the missing one);
    a variable given but unused gets gradient 0.
    """
    graph = build_graph(text)
    missing = [v for v in graph.variables if v not in point]
    if missing:
        raise PointError(
            f"point is missing {', '.join(missing)}: the expression uses {', '.join(graph.variables)}",
            missing[0],
        )
    for k, v in point.items():
        if k not in GRAPH_VARIABLES:
            raise PointError(f"point has unknown variable {k!r}; use {', '.join(GRAPH_VARIABLES)}", k)
        if not np.isfinite(v):
            raise PointError(f"point.{k} must be finite; got {v}", k)
    values, local = graph.evaluate(point)
    n = len(graph.nodes)
    grads = np.zeros(n)
    grads[n - 1] = 1.0
    # edges were appended parent by parent in topological order; walk parents from the root down
    by_parent: dict[int, list[int]] = {}
    for e, (_, parent) in enumerate(graph.edges):
        by_parent.setdefault(parent, []).append(e)
    with np.errstate(all="ignore"):
        for node in range(n - 1, -1, -1):
            for e in by_parent.get(node, ()):
                child = graph.edges[e][0]
                grads[child] += grads[node] * local[e]
    gradient = {}
    for name in point:
        idx = next((nd.id for nd in graph.nodes if nd.op == "var" and nd.label == name), None)
        gradient[name] = float(grads[idx]) if idx is not None else 0.0
    return graph, Backprop(
        value=float(values[-1]),
        gradient=gradient,
        values=values,
        grads=grads,
        local=local,
        order=tuple(range(n - 1, -1, -1)),
    )


# --- a tiny 2-layer network ------------------------------------------------------------------

NET_ACTIVATIONS = ("sigmoid", "tanh", "relu")


@dataclass(frozen=True)
class NetworkBackprop:
    """x (d,) -> z1 = W1 x + b1 (h,) -> a1 = phi(z1) -> y_hat = W2 a1 + b2 (1,);
    loss = (y_hat - y)^2 / 2.  delta2 = y_hat - y;  delta1 = (W2^T delta2) * phi'(z1);
    dW2 = delta2 a1^T, db2 = delta2, dW1 = delta1 x^T, db1 = delta1."""

    x: np.ndarray  # (d,)
    W1: np.ndarray  # (h, d)
    b1: np.ndarray  # (h,)
    W2: np.ndarray  # (1, h)
    b2: np.ndarray  # (1,)
    z1: np.ndarray  # (h,)
    a1: np.ndarray  # (h,)
    y_hat: float
    loss: float
    delta2: np.ndarray  # (1,)
    delta1: np.ndarray  # (h,)
    dW1: np.ndarray  # (h, d)
    db1: np.ndarray  # (h,)
    dW2: np.ndarray  # (1, h)
    db2: np.ndarray  # (1,)


def network_backprop(
    x: np.ndarray, target: float, *, hidden: int = 3, activation: str = "tanh", seed: int = 0
) -> NetworkBackprop:
    """Forward and backward pass of a 2-layer MLP by hand (formulas in NetworkBackprop);
    weights ~ N(0, 1/fan_in) from ``seed``, biases ~ N(0, 0.1^2)."""
    if activation not in NET_ACTIVATIONS:
        raise ValueError(f"activation must be one of {', '.join(NET_ACTIVATIONS)}; got {activation!r}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or not 1 <= x.size <= 8:
        raise ValueError(f"x must be a vector of 1 to 8 numbers; got shape {x.shape}")
    if not 1 <= hidden <= 8:
        raise ValueError(f"hidden must be in 1..8; got {hidden}")
    rng = np.random.default_rng(seed)
    d = x.size
    W1 = rng.normal(0, 1 / np.sqrt(d), (hidden, d))
    b1 = rng.normal(0, 0.1, hidden)
    W2 = rng.normal(0, 1 / np.sqrt(hidden), (1, hidden))
    b2 = rng.normal(0, 0.1, 1)
    z1 = W1 @ x + b1
    if activation == "tanh":
        a1 = np.tanh(z1)
        d1 = 1 - a1**2
    elif activation == "sigmoid":
        a1 = 1 / (1 + np.exp(-z1))
        d1 = a1 * (1 - a1)
    else:
        a1 = np.maximum(z1, 0)
        d1 = (z1 > 0).astype(np.float64)
    y_hat = W2 @ a1 + b2  # (1,)
    loss = 0.5 * float((y_hat[0] - target) ** 2)
    delta2 = y_hat - target
    delta1 = (W2.T @ delta2) * d1
    return NetworkBackprop(
        x=x, W1=W1, b1=b1, W2=W2, b2=b2, z1=z1, a1=a1, y_hat=float(y_hat[0]), loss=loss,
        delta2=delta2, delta1=delta1, dW1=np.outer(delta1, x), db1=delta1,
        dW2=np.outer(delta2, a1), db2=delta2,
    )  # fmt: skip
