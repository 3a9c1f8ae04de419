// Vanishing and exploding gradients: per-layer gradient norms of a deep MLP at initialization
// and over a few SGD steps, from POST /api/v1/calculus/gradient-flow. Every control is in the URL.

import { Player } from "./player.js";
import {
  applyHide, checkboxField, dataTable, hiddenSet, qNumber, readQuery, selectField, sliderField, writeQuery,
} from "./controls.js";
import { $, C, PLOT_CONFIG, Plotly, fetcher, hookCopyLink, layout, numExact as num, sci } from "./lab-common.js";

const MAX_WORK = 100 * 256 * 256 * 3; // = compute.calculus_flow.MAX_WORK
const DEFAULTS = {
  depth: 30, width: 64, activation: "sigmoid", init: "xavier", sigma: 0.1, residual: false, norm: "none",
  steps: 10, lr: 0.01, clip: false, clip_norm: 1, seed: 0,
};
const PRESETS = {
  vanish: { depth: 30, width: 64, activation: "sigmoid", init: "xavier", residual: false, norm: "none", steps: 10, lr: 0.1, clip: false },
  healthy: { depth: 30, width: 64, activation: "relu", init: "he", residual: true, norm: "layer", steps: 10, lr: 0.01, clip: false },
  explode: { depth: 30, width: 64, activation: "relu", init: "normal", sigma: 0.5, residual: false, norm: "none", steps: 10, lr: 0.01, clip: false },
  clip: { depth: 30, width: 64, activation: "relu", init: "normal", sigma: 0.5, residual: false, norm: "none", steps: 10, lr: 0.01, clip: true, clip_norm: 1 },
};
const ACT = [
  { value: "sigmoid", label: "sigmoid (φ′ ≤ 1/4)" }, { value: "tanh", label: "tanh (φ′ ≤ 1)" },
  { value: "relu", label: "ReLU (φ′ ∈ {0, 1})" }, { value: "gelu", label: "GELU" },
];
const INIT = [
  { value: "normal", label: "normal N(0, σ²)" }, { value: "xavier", label: "Xavier N(0, 1/n)" }, { value: "he", label: "He N(0, 2/n)" },
];
const NORM = [{ value: "none", label: "none" }, { value: "layer", label: "LayerNorm (pre-norm)" }];

const S = { ...DEFAULTS };
let D = null;
const ui = {};
let player = null;

function body() {
  const b = {
    depth: S.depth, width: S.width, activation: S.activation, init: S.init, residual: S.residual,
    norm: S.norm, steps: S.steps, lr: S.lr, seed: S.seed,
  };
  if (S.init === "normal") b.sigma = S.sigma;
  if (S.clip) b.clip_norm = S.clip_norm;
  return b;
}

function writeState() {
  const b = body();
  writeQuery({ ...b, residual: b.residual ? "true" : "false" });
}

function readState() {
  const q = readQuery();
  const int = (name, lo, hi) => {
    const v = qNumber(q, name, S[name]);
    if (Number.isInteger(v) && v >= lo && v <= hi) S[name] = v;
  };
  const pos = (name, hi) => {
    const v = qNumber(q, name, S[name]);
    if (v > 0 && v <= hi) S[name] = v;
  };
  int("depth", 1, 100); int("width", 1, 256); int("steps", 0, 50); int("seed", 0, 2 ** 31 - 1);
  pos("sigma", 10); pos("lr", 10);
  const pick = (name, list) => { if (list.some((o) => o.value === q.get(name))) S[name] = q.get(name); };
  pick("activation", ACT); pick("init", INIT); pick("norm", NORM);
  if (q.has("residual")) S.residual = q.get("residual") === "true" || q.get("residual") === "1";
  if (q.has("clip_norm")) { S.clip = true; pos("clip_norm", 1e6); }
}

function syncControls() {
  for (const k of ["depth", "width", "sigma", "steps", "lr", "clip_norm", "seed"]) ui[k].value = S[k];
  for (const k of ["activation", "init", "norm", "residual", "clip"]) ui[k].value = S[k];
  ui.sigma.el.hidden = S.init !== "normal";
  ui.clip_norm.el.hidden = !S.clip;
}

const work = () => S.depth * S.width * S.width * (S.steps + 1);

function run() {
  syncControls();
  writeState();
  const w = work();
  $("#budget-note").textContent = w > MAX_WORK
    ? `Too much work: depth × width² × (steps + 1) = ${w.toLocaleString("en")} is over ${MAX_WORK.toLocaleString("en")}; lower the steps, depth or width.`
    : `Work depth × width² × (steps + 1) = ${w.toLocaleString("en")} of ${MAX_WORK.toLocaleString("en")} allowed (a batch of 16 random inputs).`;
  if (w > MAX_WORK) return;
  fetch.run("/api/v1/calculus/gradient-flow", body());
}

const layers = () => D.layer_grad_norms.map((_, i) => i + 1);
const pos = (v) => (v !== null && v > 0 ? v : null); // a log axis cannot show 0

function drawNorms(k) {
  const x = layers();
  const traces = [{
    x, y: D.layer_grad_norms.map(pos), type: "scatter", mode: "lines+markers", name: "at initialization",
    line: { color: C.blue, width: 2.5 }, marker: { size: 5 }, hovertemplate: "layer %{x}: %{y:.3e}<extra>init</extra>",
  }];
  if (k > 0 && D.step_grad_norms[k]) {
    traces.push({
      x, y: D.step_grad_norms[k].map(pos), type: "scatter", mode: "lines+markers", name: `after ${k} SGD update${k === 1 ? "" : "s"}`,
      line: { color: C.vermilion, width: 2, dash: "dot" }, marker: { size: 4, symbol: "diamond" },
      hovertemplate: `layer %{x}: %{y:.3e}<extra>step ${k}</extra>`,
    });
  }
  return Plotly.react("norms", traces, layout({
    showlegend: true, legend: { orientation: "h", x: 0, y: 1.12 },
    xaxis: { title: { text: "layer l (1 = nearest the input)" }, range: [0.5, x.length + 0.5] },
    yaxis: { type: "log", title: { text: "‖∂ℒ/∂W_l‖" }, exponentformat: "power" },
    margin: { l: 64, r: 14, t: 30, b: 44 },
  }), PLOT_CONFIG);
}

function drawSteps(k) {
  const t = D.total_norm.map((_, i) => i);
  const traces = [
    { x: t, y: D.total_norm.map(pos), type: "scatter", mode: "lines+markers", name: "‖∇‖ before clipping", line: { color: C.vermilion, width: 2 }, hovertemplate: "step %{x}: %{y:.3e}<extra>before</extra>" },
    { x: t, y: D.clipped_norm.map(pos), type: "scatter", mode: "lines+markers", name: "‖∇‖ after clipping (the step taken)", line: { color: C.green, width: 2, dash: "dash" }, hovertemplate: "step %{x}: %{y:.3e}<extra>after</extra>" },
    { x: t, y: D.loss.map(pos), type: "scatter", mode: "lines", name: "loss", line: { color: C.grey, width: 1.5 }, yaxis: "y2", hovertemplate: "step %{x}: loss %{y:.3e}<extra></extra>" },
    { x: [k], y: [pos(D.total_norm[k])], type: "scatter", mode: "markers", marker: { color: C.black, size: 10, symbol: "circle-open", line: { width: 2 } }, hoverinfo: "skip", showlegend: false },
  ];
  return Plotly.react("steps", traces, layout({
    showlegend: true, legend: { orientation: "h", x: 0, y: 1.22 },
    xaxis: { title: { text: "SGD step" }, dtick: t.length > 12 ? undefined : 1 },
    yaxis: { type: "log", title: { text: "gradient norm" }, exponentformat: "power" },
    yaxis2: { type: "log", overlaying: "y", side: "right", title: { text: "loss" }, showgrid: false, exponentformat: "power" },
    margin: { l: 64, r: 60, t: 40, b: 44 },
  }), PLOT_CONFIG);
}

function gains() {
  // gain_l = ||dL/dh_{l-1}|| / ||dL/dh_l||, for l = 2..L (h_0 = x has no reported norm)
  const h = D.hidden_grad_norms;
  return h.map((v, i) => (i === 0 || !v || !h[i - 1] ? null : h[i - 1] / v));
}

function drawFactors() {
  const x = layers();
  return Plotly.react("factors", [
    { x, y: D.mean_derivative, type: "bar", name: "mean |φ′(z_l)|", marker: { color: C.orange }, hovertemplate: "layer %{x}: mean |φ′| = %{y:.3f}<extra></extra>" },
    { x, y: gains(), type: "scatter", mode: "lines+markers", name: "backward gain", line: { color: C.blue, width: 2 }, hovertemplate: "layer %{x}: gain %{y:.3f}<extra></extra>" },
  ], layout({
    showlegend: true, legend: { orientation: "h", x: 0, y: 1.2 },
    xaxis: { title: { text: "layer l" } }, yaxis: { title: { text: "factor" }, rangemode: "tozero" },
    shapes: [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: 1, y1: 1, line: { color: C.black, dash: "dot", width: 1 } }],
    margin: { l: 64, r: 14, t: 36, b: 44 },
  }), PLOT_CONFIG);
}

function live(k) {
  const n = D.layer_grad_norms;
  const first = n[0];
  const last = n[n.length - 1];
  const ratio = first && last ? first / last : null;
  const g = gains().filter((v) => v !== null && Number.isFinite(v));
  const gm = g.length ? Math.exp(g.reduce((a, b) => a + Math.log(b), 0) / g.length) : null;
  let verdict = "";
  if (ratio !== null) {
    if (ratio < 1e-3) verdict = "vanishing: the first layers barely learn";
    else if (ratio > 1e3) verdict = "exploding towards the input";
    else verdict = "healthy: within a factor of " + num(Math.max(...n) / Math.min(...n), 3) + " across layers";
  }
  const parts = [
    `‖∂ℒ/∂W₁‖ / ‖∂ℒ/∂W_L‖ = ${sci(ratio)} (${verdict})`,
    gm !== null ? `geometric-mean backward gain ${num(gm, 3)} per layer` : "",
    `weights N(0, ${num(D.init_std, 3)}²)`,
  ];
  if (D.total_norm.length > 1 || S.clip) {
    parts.push(`step ${k}: ‖∇‖ = ${sci(D.total_norm[k])}` + (S.clip ? ` → clipped to ${sci(D.clipped_norm[k])}` : ""));
  }
  if (D.diverged) parts.push(`the run diverged at step ${D.diverged_at} (loss or gradient not finite)`);
  $("#live").textContent = parts.filter(Boolean).join(" · ");
}

function onFrame(k) {
  if (!D) return;
  drawNorms(k);
  drawSteps(k);
  live(k);
}

async function draw(data) {
  D = data;
  await Promise.all([drawNorms(0), drawSteps(0), drawFactors()]);
  player.setFrames(D.step_grad_norms.length, { restart: true });
  ui.normsTable.update(["layer", "grad_norm_init", "mean_abs_dphi", "hidden_grad_norm", "activation_std"],
    () => D.layer_grad_norms.map((v, i) => [i + 1, v, D.mean_derivative[i], D.hidden_grad_norms[i], D.activation_std[i]]));
  ui.stepsTable.update(["step", "total_norm", "clipped_norm", "loss"], () => D.total_norm.map((v, i) => [i, v, D.clipped_norm[i], D.loss[i]]));
  ui.factorsTable.update(["layer", "mean_abs_dphi", "backward_gain"], () => gains().map((g, i) => [i + 1, D.mean_derivative[i], g]));
}

const fetch = fetcher(draw, 80);

function set(k, v) { S[k] = v; run(); }

function boot() {
  readState();
  const q = readQuery();
  const net = $("#net-fields");
  ui.depth = sliderField({ name: "depth", label: "depth L (hidden layers)", min: 1, max: 100, integer: true, value: S.depth }, (v) => set("depth", v));
  ui.width = sliderField({ name: "width", label: "width n (units per layer)", min: 1, max: 256, integer: true, value: S.width }, (v) => set("width", v));
  ui.activation = selectField({ name: "activation", label: "activation φ", options: ACT, value: S.activation }, (v) => set("activation", v));
  ui.init = selectField({ name: "init", label: "initialization", options: INIT, value: S.init }, (v) => set("init", v));
  ui.sigma = sliderField({ name: "sigma", label: "σ of the normal init", min: 0.001, max: 10, exclusive_min: true, log: true, value: S.sigma, slider_min: 0.01, slider_max: 2 }, (v) => set("sigma", v));
  ui.residual = checkboxField({ name: "residual", label: "residual connections hₗ = hₗ₋₁ + φ(zₗ)", value: S.residual }, (v) => set("residual", v));
  ui.norm = selectField({ name: "norm", label: "normalization", options: NORM, value: S.norm }, (v) => set("norm", v));
  ui.seed = sliderField({ name: "seed", label: "seed", min: 0, max: 2 ** 31 - 1, integer: true, value: S.seed, slider_max: 100 }, (v) => set("seed", v));
  net.append(ui.depth.el, ui.width.el, ui.activation.el, ui.init.el, ui.sigma.el, ui.residual.el, ui.norm.el, ui.seed.el);
  const tr = $("#train-fields");
  ui.steps = sliderField({ name: "steps", label: "SGD steps", min: 0, max: 50, integer: true, value: S.steps }, (v) => set("steps", v));
  ui.lr = sliderField({ name: "lr", label: "learning rate (lr)", min: 1e-4, max: 10, exclusive_min: true, log: true, value: S.lr, slider_min: 1e-4, slider_max: 1 }, (v) => set("lr", v));
  ui.clip = checkboxField({ name: "clip", label: "clip the gradient norm", control: "clip_norm", value: S.clip }, (v) => set("clip", v));
  ui.clip_norm = sliderField({ name: "clip_norm", label: "max norm (clip_norm)", min: 1e-6, max: 1e6, exclusive_min: true, log: true, value: S.clip_norm, slider_min: 0.01, slider_max: 100 }, (v) => set("clip_norm", v));
  tr.append(ui.steps.el, ui.lr.el, ui.clip.el, ui.clip_norm.el);
  for (const b of document.querySelectorAll("[data-preset]")) {
    b.addEventListener("click", () => { Object.assign(S, PRESETS[b.dataset.preset]); run(); });
  }
  player = new Player($("#player"), { label: "Step", fps: 4, autoplay: false, onFrame });
  ui.normsTable = dataTable($("#norms-data"), [], [], { caption: "Per-layer gradient norms", filename: "gradient-norms.csv" });
  ui.factorsTable = dataTable($("#factors-data"), [], [], { caption: "Per-layer factors", filename: "gradient-factors.csv" });
  ui.stepsTable = dataTable($("#steps-data"), [], [], { caption: "Gradient norm per step", filename: "gradient-steps.csv" });
  hookCopyLink();
  applyHide(document.querySelector(".lab-grid"), hiddenSet(q));
  run();
}

boot();
