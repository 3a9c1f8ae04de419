// Stability and curvature: gradient descent on a quadratic whose Hessian eigenvalues you set
// (POST /api/v1/calculus/stability/quadratic), and the critical points of f(x, y) classified by
// the Hessian (POST /api/v1/calculus/stability/critical-points). Every control is in the URL.

import { Player } from "./player.js";
import { applyHide, dataTable, hiddenSet, qNumber, readQuery, sliderField, writeQuery } from "./controls.js";
import { $, C, PLOT_CONFIG, Plotly, fetcher, hookCopyLink, hookExpression, layout, numExact as num, onPlotClick, sci } from "./lab-common.js";

const S = { l1: 1, l2: 10, theta: 30, lr: 0.15, steps: 40, start: [2, 1.5], expression: "x^3 - 3*x + y^2" };
let Q = null;
let CP = null;
let player = null;
const ui = {};
const KIND = {
  minimum: { color: C.green, symbol: "circle", label: "minimum (λ₁, λ₂ > 0)" },
  maximum: { color: C.vermilion, symbol: "triangle-up", label: "maximum (λ₁, λ₂ < 0)" },
  saddle: { color: C.blue, symbol: "x", label: "saddle (λ₁ < 0 < λ₂)" },
  degenerate: { color: C.grey, symbol: "diamond", label: "degenerate (some λ = 0)" },
};

function writeState() {
  writeQuery({ eigvals: [S.l1, S.l2], theta: S.theta, lr: S.lr, steps: S.steps, start: S.start, expression: S.expression });
}

function readState() {
  const q = readQuery();
  const pair = (name, lo, hi) => {
    const v = (q.get(name) || "").split(",").map(Number);
    return v.length === 2 && v.every((a) => Number.isFinite(a) && a >= lo && a <= hi) ? v : null;
  };
  const e = pair("eigvals", -10, 100);
  if (e) [S.l1, S.l2] = e;
  const st = pair("start", -100, 100);
  if (st) S.start = st;
  const th = qNumber(q, "theta", S.theta);
  if (Math.abs(th) <= 180) S.theta = th;
  const lr = qNumber(q, "lr", S.lr);
  if (lr > 0 && lr <= 10) S.lr = lr;
  const n = qNumber(q, "steps", S.steps);
  if (Number.isInteger(n) && n >= 1 && n <= 2000) S.steps = n;
  if (q.get("expression")) S.expression = q.get("expression").slice(0, 200);
}

const R = 3; // the quadratic's view window: [-R, R]²

function quadGrid() {
  const n = 81;
  const xs = Array.from({ length: n }, (_, i) => -R + (2 * R * i) / (n - 1));
  const [[a, b], [, d]] = Q.hessian;
  const z = xs.map((y) => xs.map((x) => 0.5 * (a * x * x + 2 * b * x * y + d * y * y)));
  return { xs, z };
}

function drawQuad(k) {
  const { xs, z } = quadGrid();
  const kk = Math.min(k, Q.x.length - 1);
  const V = Q.eigvecs;
  const eig = [0, 1].map((i) => ({ x: [-R * 1.5 * V[0][i], R * 1.5 * V[0][i]], y: [-R * 1.5 * V[1][i], R * 1.5 * V[1][i]], type: "scatter", mode: "lines", line: { color: i ? C.purple : C.orange, dash: "dash", width: 1.5 }, name: `eigenvector ${i + 1} (λ = ${num(Q.eigvals[i], 3)})`, hoverinfo: "skip" }));
  const clip = (a) => a.slice(0, kk + 1).map((v) => (v !== null && Math.abs(v) <= 1e3 ? v : null));
  return Plotly.react("quad", [
    { x: xs, y: xs, z, type: "contour", colorscale: [[0, "#f7f9fc"], [0.5, "#bccbdc"], [1, "#5f6f86"]], showscale: false, contours: { coloring: "fill", showlines: true }, ncontours: 18, hoverinfo: "skip" },
    ...eig,
    { x: clip(Q.x), y: clip(Q.y), type: "scatter", mode: "lines+markers", name: "x_t", line: { color: C.vermilion, width: 2 }, marker: { size: 5 }, hovertemplate: "(%{x:.3g}, %{y:.3g})<extra></extra>" },
    { x: [Q.x[kk]], y: [Q.y[kk]], type: "scatter", mode: "markers", marker: { color: C.black, size: 10 }, hoverinfo: "skip", showlegend: false },
  ], layout({
    showlegend: true, legend: { orientation: "h", x: 0, y: -0.12 },
    xaxis: { range: [-R, R], constrain: "domain" }, yaxis: { range: [-R, R], scaleanchor: "x", scaleratio: 1 },
    margin: { l: 40, r: 10, t: 10, b: 30 }, uirevision: "quad",
  }), PLOT_CONFIG);
}

function drawDist(k) {
  const t = Q.x.map((_, i) => i);
  const d = Q.x.map((x, i) => (x === null || Q.y[i] === null ? null : Math.hypot(x, Q.y[i]) || null));
  const cf = Q.closed_form.map(([x, y]) => (x === null || y === null ? null : Math.hypot(x, y) || null));
  const kk = Math.min(k, t.length - 1);
  return Plotly.react("dist", [
    { x: t, y: d, type: "scatter", mode: "markers", name: "gradient descent", marker: { color: C.vermilion, size: 6 }, hovertemplate: "step %{x}: %{y:.3e}<extra></extra>" },
    { x: t, y: cf, type: "scatter", mode: "lines", name: "closed form R·diag((1−ηλ)ᵗ)·Rᵀx₀", line: { color: C.blue, width: 1.5 }, hoverinfo: "skip" },
    { x: [kk], y: [d[kk]], type: "scatter", mode: "markers", marker: { color: C.black, size: 11, symbol: "circle-open", line: { width: 2 } }, hoverinfo: "skip", showlegend: false },
  ], layout({ showlegend: true, legend: { orientation: "h", x: 0, y: 1.12 }, xaxis: { title: { text: "step t" } }, yaxis: { type: "log", title: { text: "‖x_t‖" }, exponentformat: "power" }, margin: { l: 60, r: 12, t: 30, b: 44 } }), PLOT_CONFIG);
}

function quadFacts(k) {
  const words = { converges: "converges monotonically", oscillates: "converges while oscillating (sign flips along the stiff direction)", diverges: "diverges", stalls: "neither converges nor diverges (|1 − ηλ| = 1)" };
  const dt = (t, v, warn) => [Object.assign(document.createElement("dt"), { textContent: t }), Object.assign(document.createElement("dd"), { textContent: v, className: warn ? "warn" : "" })];
  $("#q-facts").replaceChildren(
    ...dt("2 / λ_max", Q.lr_critical === null ? "— (λ_max ≤ 0: no minimum)" : num(Q.lr_critical, 4)),
    ...dt("η / (2/λ_max)", Q.lr_critical === null ? "—" : num(S.lr / Q.lr_critical, 3)),
    ...dt("factors 1 − ηλᵢ", Q.factors.map((f) => num(f, 4)).join(", ")),
    ...dt("the run", words[Q.regime] + (Q.diverged ? ` (left |x| ≤ 10¹² at step ${Q.diverged_at})` : ""), Q.regime === "diverges"),
  );
  const kk = Math.min(k, Q.x.length - 1);
  $("#live").textContent = `step ${kk}: x = (${num(Q.x[kk], 4)}, ${num(Q.y[kk], 4)}), f = ${sci(Q.loss[kk])}; ` +
    `each step multiplies the eigen-coordinates by ${Q.factors.map((f) => num(f, 3)).join(" and ")}.`;
}

function onFrame(k) {
  if (!Q) return;
  drawQuad(k);
  drawDist(k);
  quadFacts(k);
}

async function drawQ(data) {
  Q = data;
  await Promise.all([drawQuad(Q.x.length - 1), drawDist(Q.x.length - 1)]);
  player.setFrames(Q.x.length, { restart: false });
  quadFacts(player.index);
  ui.qTable.update(["t", "x", "y", "f"], () => Q.x.map((x, i) => [i, x, Q.y[i], Q.loss[i]]));
}

async function drawCP(data) {
  CP = data;
  $("#expr-error").textContent = "";
  const byKind = {};
  for (const p of CP.points) (byKind[p.kind] ||= []).push(p);
  const traces = [{ x: CP.x, y: CP.y, z: CP.z, type: "contour", colorscale: [[0, "#f7f9fc"], [0.5, "#bccbdc"], [1, "#5f6f86"]], ncontours: 24, contours: { coloring: "fill" }, showscale: false, hovertemplate: "f(%{x:.2f}, %{y:.2f}) = %{z:.3g}<extra></extra>" }];
  for (const [kind, pts] of Object.entries(byKind)) {
    traces.push({
      x: pts.map((p) => p.x), y: pts.map((p) => p.y), type: "scatter", mode: "markers", name: KIND[kind].label,
      marker: { color: KIND[kind].color, symbol: KIND[kind].symbol, size: 14, line: { color: "#fff", width: 1.5 } },
      customdata: pts.map((p) => [p.eigvals[0], p.eigvals[1], p.f]),
      hovertemplate: `${kind} (%{x:.4g}, %{y:.4g})<br>f = %{customdata[2]:.4g}<br>Hessian eigenvalues %{customdata[0]:.3g}, %{customdata[1]:.3g}<extra></extra>`,
    });
  }
  await Plotly.react("cp", traces, layout({
    showlegend: true, legend: { orientation: "h", x: 0, y: 1.06 },
    xaxis: { title: { text: "x" } }, yaxis: { title: { text: "y" }, scaleanchor: "x", scaleratio: 1 },
    margin: { l: 50, r: 12, t: 30, b: 44 },
  }), PLOT_CONFIG);
  $("#cp-note").textContent = `${CP.points.length} critical point${CP.points.length === 1 ? "" : "s"} in the window; ${CP.note}.`;
  ui.cpTable.update(["x", "y", "f", "lambda_1", "lambda_2", "kind"], () => CP.points.map((p) => [p.x, p.y, p.f, p.eigvals[0], p.eigvals[1], p.kind]));
}

const qFetch = fetcher(drawQ, 40);
const cpFetch = fetcher(drawCP, 100, (msg) => {
  if (msg.startsWith("expression")) $("#expr-error").textContent = msg;
  else $("#error").textContent = msg;
});

function runQ() {
  writeState();
  qFetch.run("/api/v1/calculus/stability/quadratic", { eigvals: [S.l1, S.l2], theta: S.theta, lr: S.lr, start: S.start, steps: S.steps });
}

function runCP() {
  writeState();
  cpFetch.run("/api/v1/calculus/stability/critical-points", { expression: S.expression, x_range: [-3, 3], y_range: [-3, 3] });
}

function boot() {
  readState();
  const q = readQuery();
  const f = $("#q-fields");
  ui.l1 = sliderField({ name: "l1", label: "λ₁ (eigenvalue 1)", min: -10, max: 100, value: S.l1, slider_min: -2, slider_max: 20, step: 0.1, control: "eigvals" }, (v) => { S.l1 = v; runQ(); });
  ui.l2 = sliderField({ name: "l2", label: "λ₂ (eigenvalue 2)", min: -10, max: 100, value: S.l2, slider_min: -2, slider_max: 20, step: 0.1, control: "eigvals" }, (v) => { S.l2 = v; runQ(); });
  ui.theta = sliderField({ name: "theta", label: "rotation θ of the eigenvectors (°)", min: -180, max: 180, value: S.theta, step: 1 }, (v) => { S.theta = v; runQ(); });
  ui.lr = sliderField({ name: "lr", label: "step size η (lr)", min: 1e-4, max: 10, exclusive_min: true, log: true, value: S.lr, slider_min: 1e-3, slider_max: 2 }, (v) => { S.lr = v; runQ(); });
  ui.steps = sliderField({ name: "steps", label: "steps", min: 1, max: 2000, integer: true, value: S.steps, slider_max: 200 }, (v) => { S.steps = v; runQ(); });
  f.append(ui.l1.el, ui.l2.el, ui.theta.el, ui.lr.el, ui.steps.el);
  hookExpression(S, runCP, { empty: "Type a formula in x and y.", ms: 300 });
  player = new Player($("#player"), { label: "Step", fps: 6, autoplay: false, onFrame });
  ui.qTable = dataTable($("#quad-data"), [], [], { caption: "Gradient-descent path", filename: "gd-quadratic.csv" });
  ui.cpTable = dataTable($("#cp-data"), [], [], { caption: "Critical points", filename: "critical-points.csv" });
  hookCopyLink();
  applyHide(document.querySelector(".lab-grid"), hiddenSet(q));
  runQ();
  runCP();
  onPlotClick($("#quad"), (p) => {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) return;
    S.start = [Number(p.x.toPrecision(4)), Number(p.y.toPrecision(4))];
    runQ();
  });
}

boot();
