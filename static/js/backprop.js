// Chain rule and backpropagation: a typed formula as a computational graph, the backward pass
// animated node by node (POST /api/v1/calculus/backprop), and a 2-layer network's δ per layer
// (POST /api/v1/calculus/backprop/network). Every control is in the URL.

import { Player } from "./player.js";
import {
  applyHide, dataTable, hiddenSet, qNumber, readQuery, selectField, sliderField, writeQuery,
} from "./controls.js";
import { $, C, PLOT_CONFIG, Plotly, fetcher, hookCopyLink, hookExpression, layout, numExact as num } from "./lab-common.js";

const VARS = ["x", "y", "z"];
const S = { expression: "x*y + sin(x)", x: 1, y: 2, z: 0.5, net_activation: "tanh", x1: 1, x2: -0.5, target: 1, seed: 0 };
let D = null;
let N = null;
let player = null;
const ui = {};

// ------------------------------------------------------------------ URL

function writeState() {
  writeQuery({
    expression: S.expression, x: S.x, y: S.y, z: S.z,
    net_activation: S.net_activation, net_x: [S.x1, S.x2], target: S.target, seed: S.seed,
  });
}

function readState() {
  const q = readQuery();
  if (q.get("expression")) S.expression = q.get("expression").slice(0, 200);
  for (const v of VARS) {
    const n = qNumber(q, v, S[v]);
    if (Number.isFinite(n) && Math.abs(n) <= 1e6) S[v] = n;
  }
  if (["sigmoid", "tanh", "relu"].includes(q.get("net_activation"))) S.net_activation = q.get("net_activation");
  const xs = (q.get("net_x") || "").split(",").map(Number);
  if (xs.length === 2 && xs.every((v) => Number.isFinite(v) && Math.abs(v) <= 100)) [S.x1, S.x2] = xs;
  const t = qNumber(q, "target", S.target);
  if (Math.abs(t) <= 100) S.target = t;
  const s = qNumber(q, "seed", S.seed);
  if (Number.isInteger(s) && s >= 0 && s < 2 ** 31) S.seed = s;
}

// ------------------------------------------------------------------ graph layout

function positions(nodes) {
  // x: the node's level; y: leaves evenly spaced, a parent at the mean of its inputs, then
  // nodes on one level pushed apart to a minimum gap.
  const kids = nodes.map(() => []);
  for (const [c, p] of D.graph.edges) kids[p].push(c);
  const y = new Array(nodes.length).fill(0);
  const leaves = nodes.filter((n) => n.level === 0);
  leaves.forEach((n, i) => { y[n.id] = i - (leaves.length - 1) / 2; });
  const maxLevel = Math.max(...nodes.map((n) => n.level));
  for (let L = 1; L <= maxLevel; L++) {
    const row = nodes.filter((n) => n.level === L);
    for (const n of row) y[n.id] = kids[n.id].reduce((a, c) => a + y[c], 0) / Math.max(1, kids[n.id].length);
    row.sort((a, b) => y[a.id] - y[b.id] || a.id - b.id);
    for (let i = 1; i < row.length; i++) y[row[i].id] = Math.max(y[row[i].id], y[row[i - 1].id] + 1);
    const shift = row.length ? (y[row[0].id] + y[row[row.length - 1].id]) / 2 - row.reduce((a, n) => a + y[n.id], 0) / row.length : 0;
    for (const n of row) y[n.id] -= shift;
  }
  return nodes.map((n) => [n.level, y[n.id]]);
}

/** Gradients known after the backward pass has finished the first k nodes of `order`. */
function partialGrads(k) {
  const g = D.graph.nodes.map(() => null);
  const done = new Set(D.graph.order.slice(0, k));
  if (k > 0) g[D.graph.order[0]] = 1;
  D.graph.edges.forEach(([c, p], e) => {
    if (!done.has(p)) return;
    const add = D.graph.nodes[p].grad * D.graph.local[e];
    g[c] = (g[c] ?? 0) + add;
  });
  return { g, done };
}

function drawGraph(k) {
  const nodes = D.graph.nodes;
  const P = positions(nodes);
  const { g, done } = partialGrads(k);
  const current = k > 0 ? D.graph.order[k - 1] : null;
  const ex = [], ey = [], hx = [], hy = [], lx = [], ly = [], lt = [], lc = [];
  D.graph.edges.forEach(([c, p], e) => {
    const active = p === current;
    const [x0, y0] = P[c];
    const [x1, y1] = P[p];
    (active ? hx : ex).push(x0, x1, null);
    (active ? hy : ey).push(y0, y1, null);
    lx.push(0.55 * x0 + 0.45 * x1);
    ly.push(0.55 * y0 + 0.45 * y1);
    lt.push(`∂=${num(D.graph.local[e], 3)}`);
    lc.push(active ? C.vermilion : done.has(p) ? C.black : "#8a93a3");
  });
  const colors = nodes.map((n) => (n.id === current ? C.vermilion : g[n.id] !== null ? (n.op === "var" ? C.green : C.orange) : n.op === "var" ? "#cfe9df" : "#e8eef6"));
  const textColor = nodes.map((n) => (n.id === current || (g[n.id] !== null && n.op === "var") ? "#fff" : "#1d2433"));
  const info = nodes.map((n) => `v = ${num(n.value, 4)}` + (g[n.id] !== null ? `<br><b>∂f/∂v = ${num(g[n.id], 4)}</b>` : ""));
  const traces = [
    { x: ex, y: ey, type: "scatter", mode: "lines", line: { color: "#b8c2d1", width: 1.5 }, hoverinfo: "skip" },
    { x: hx, y: hy, type: "scatter", mode: "lines", line: { color: C.vermilion, width: 3.5 }, hoverinfo: "skip" },
    { x: lx, y: ly, type: "scatter", mode: "text", text: lt, textfont: { size: 10, color: lc }, hoverinfo: "skip" },
    {
      x: P.map((p) => p[0]), y: P.map((p) => p[1]), type: "scatter", mode: "markers+text", text: nodes.map((n) => n.label),
      textfont: { color: textColor, size: 13 }, marker: { size: 40, color: colors, line: { color: "#1d2433", width: 1 } },
      customdata: nodes.map((n) => [n.op, n.latex]), hovertemplate: "%{customdata[0]}: %{customdata[1]}<extra></extra>",
    },
    { x: P.map((p) => p[0]), y: P.map((p) => p[1] - 0.32), type: "scatter", mode: "text", text: info, textposition: "bottom center", textfont: { size: 10.5 }, hoverinfo: "skip" },
  ];
  const ys = P.map((p) => p[1]);
  return Plotly.react("graph", traces, layout({
    xaxis: { visible: false, range: [-0.5, Math.max(...P.map((p) => p[0])) + 0.5] },
    yaxis: { visible: false, range: [Math.min(...ys) - 1.1, Math.max(...ys) + 0.6] },
    margin: { l: 10, r: 10, t: 10, b: 10 }, uirevision: S.expression,
  }), PLOT_CONFIG);
}

function live(k) {
  const n = D.graph.nodes;
  let t;
  if (k === 0) t = `Forward pass done: f = ${num(D.value, 6)}. Press play to run the backward pass.`;
  else {
    const cur = n[D.graph.order[k - 1]];
    const kids = D.graph.edges.map((e, i) => [e, i]).filter(([e]) => e[1] === cur.id);
    t = `Node “${cur.label}” has its full gradient ∂f/∂v = ${num(cur.grad, 5)}` +
      (kids.length ? `; it sends ${kids.map(([e, i]) => `${num(cur.grad, 4)} × ${num(D.graph.local[i], 4)} to “${n[e[0]].label}”`).join(", ")}.` : " (a leaf: nothing further to send).");
  }
  $("#live").textContent = t;
}

function onFrame(k) {
  if (!D) return;
  drawGraph(k);
  live(k);
}

async function drawExpr(data) {
  D = data;
  $("#expr-error").textContent = "";
  for (const v of VARS) ui[v].el.hidden = !D.variables.includes(v);
  $("#grad-text").textContent = `f = ${num(D.value, 8)}; ` + D.variables.map((v) => `∂f/∂${v} = ${num(D.gradient[v], 8)}`).join(", ");
  await drawGraph(D.graph.nodes.length);
  player.setFrames(D.graph.nodes.length + 1, { restart: true });
  ui.graphTable.update(["id", "op", "sub-expression", "value", "grad"], () => D.graph.nodes.map((n) => [n.id, n.op, n.latex, n.value, n.grad]));
}

const exprFetch = fetcher(drawExpr, 150, (msg) => {
  if (msg.startsWith("expression")) $("#expr-error").textContent = msg;
  else $("#error").textContent = msg;
});

// ------------------------------------------------------------------ the 2-layer network

function drawNet(data) {
  N = data;
  const d = N.x.length;
  const h = N.a1.length;
  const col = (n, x) => Array.from({ length: n }, (_, i) => [x, (n - 1) / 2 - i]);
  const P = [...col(d, 0), ...col(h, 1), [2, 0]];
  const ex = [], ey = [], ew = [], lx = [], ly = [], lt = [];
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < d; i++) {
      ex.push([P[i][0], P[d + j][0]]); ey.push([P[i][1], P[d + j][1]]); ew.push(N.dW1[j][i]);
    }
    ex.push([P[d + j][0], 2]); ey.push([P[d + j][1], 0]); ew.push(N.dW2[0][j]);
  }
  const maxW = Math.max(1e-12, ...ew.map(Math.abs));
  const traces = ex.map((xx, e) => ({
    x: xx, y: ey[e], type: "scatter", mode: "lines", hoverinfo: "skip",
    line: { color: ew[e] >= 0 ? C.blue : C.vermilion, width: 1 + 6 * Math.abs(ew[e]) / maxW },
  }));
  const vals = [...N.x.map((v) => `x = ${num(v, 3)}`), ...N.a1.map((a, j) => `a = ${num(a, 3)}<br>δ₁ = ${num(N.delta1[j], 3)}`), `ŷ = ${num(N.y_hat, 3)}<br>δ₂ = ${num(N.delta2[0], 3)}`];
  traces.push({ x: P.map((p) => p[0]), y: P.map((p) => p[1]), type: "scatter", mode: "markers", marker: { size: 30, color: [...N.x.map(() => C.sky), ...N.a1.map(() => C.orange), C.green], line: { color: "#1d2433", width: 1 } }, hoverinfo: "skip" });
  traces.push({ x: P.map((p) => p[0] + 0.09), y: P.map((p) => p[1]), type: "scatter", mode: "text", text: vals, textposition: "middle right", textfont: { size: 11 }, hoverinfo: "skip" });
  lx.push(0, 1, 2); ly.push(Math.max(d, h) / 2 + 0.1, Math.max(d, h) / 2 + 0.1, Math.max(d, h) / 2 + 0.1);
  lt.push("input x", `hidden a = ${S.net_activation}(W₁x + b₁)`, `output ŷ = W₂a + b₂ (target ${num(S.target, 3)}, loss ${num(N.loss, 4)})`);
  traces.push({ x: lx, y: ly, type: "scatter", mode: "text", text: lt, textfont: { size: 12, color: "#55607a" }, hoverinfo: "skip" });
  Plotly.react("net", traces, layout({
    xaxis: { visible: false, range: [-0.3, 2.9] }, yaxis: { visible: false, range: [-Math.max(d, h) / 2 - 0.3, Math.max(d, h) / 2 + 0.4] },
    margin: { l: 10, r: 10, t: 6, b: 6 },
  }), PLOT_CONFIG);
  ui.netTable.update(["layer", "unit", "z", "a", "delta", "bias grad"], () => [
    ...N.z1.map((z, j) => ["hidden", j + 1, z, N.a1[j], N.delta1[j], N.db1[j]]),
    ["output", 1, N.y_hat, N.y_hat, N.delta2[0], N.db2[0]],
  ]);
}

const netFetch = fetcher(drawNet, 60);

function runNet() {
  writeState();
  netFetch.run("/api/v1/calculus/backprop/network", { x: [S.x1, S.x2], target: S.target, hidden: 3, activation: S.net_activation, seed: S.seed });
}

function runExpr() {
  writeState();
  exprFetch.run("/api/v1/calculus/backprop", { expression: S.expression, point: { x: S.x, y: S.y, z: S.z } });
}

function boot() {
  readState();
  const q = readQuery();
  hookExpression(S, runExpr, { empty: "Type a formula, e.g. x*y + sin(x).", ms: 250 });
  for (const v of VARS) {
    ui[v] = sliderField({ name: v, label: v, min: -1e6, max: 1e6, value: S[v], slider_min: -3, slider_max: 3, step: 0.01, control: "point" }, (val) => { S[v] = val; runExpr(); });
    $("#point-fields").append(ui[v].el);
  }
  const nf = $("#net-fields");
  ui.net_activation = selectField({ name: "net_activation", label: "activation φ", options: [{ value: "tanh" }, { value: "sigmoid" }, { value: "relu" }], value: S.net_activation }, (v) => { S.net_activation = v; runNet(); });
  ui.x1 = sliderField({ name: "x1", label: "x₁", min: -100, max: 100, value: S.x1, slider_min: -3, slider_max: 3, step: 0.01 }, (v) => { S.x1 = v; runNet(); });
  ui.x2 = sliderField({ name: "x2", label: "x₂", min: -100, max: 100, value: S.x2, slider_min: -3, slider_max: 3, step: 0.01 }, (v) => { S.x2 = v; runNet(); });
  ui.target = sliderField({ name: "target", label: "target y", min: -100, max: 100, value: S.target, slider_min: -3, slider_max: 3, step: 0.01 }, (v) => { S.target = v; runNet(); });
  ui.seed = sliderField({ name: "seed", label: "seed (weights)", min: 0, max: 2 ** 31 - 1, integer: true, value: S.seed, slider_max: 50 }, (v) => { S.seed = v; runNet(); });
  nf.append(ui.net_activation.el, ui.x1.el, ui.x2.el, ui.target.el, ui.seed.el);
  player = new Player($("#player"), { label: "Node", fps: 1.5, autoplay: true, onFrame });
  ui.graphTable = dataTable($("#graph-data"), [], [], { caption: "Graph nodes", filename: "backprop-graph.csv" });
  ui.netTable = dataTable($("#net-table"), [], [], { caption: "Network values and deltas", filename: "network-deltas.csv" });
  hookCopyLink();
  applyHide(document.querySelector(".lab-grid"), hiddenSet(q));
  runExpr();
  runNet();
}

boot();
