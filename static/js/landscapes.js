// Convex vs non-convex: logistic regression and a small MLP trained on the same data, their losses
// on a 2-D slice and on lines through weight space (POST /api/v1/optimization/landscape, once per
// model), and GD, momentum and noisy GD at a saddle (POST /api/v1/optimization/saddle).
// Every control is in the URL; the saddle's fields carry a saddle_ prefix where names would clash.

import { isAbort, latest } from "./api.js";
import { applyHide, dataTable, debounce, hiddenSet, qNumber, readQuery, selectField, sliderField, writeQuery } from "./controls.js";
import { $, C, PLOT_CONFIG, Plotly, hookCopyLink, layout, numExact as num, sci } from "./lab-common.js";

const MODELS = ["logistic", "mlp"];
const L = {
  dataset: "moons", n_samples: 200, noise: 0.2, seed: 0,
  hidden: 8, depth: 2, activation: "tanh",
  steps: 200, lr: 0.5, momentum: 0.9,
  directions: "random", span: 1, resolution: 31,
};
const S = { x0: 1.5, y0: 1e-8, saddle_lr: 0.02, saddle_steps: 300, saddle_momentum: 0.9, noise_std: 0.2, n_noisy: 5, saddle_seed: 0 };
const Y0_CHOICES = [0, 1e-12, 1e-8, 1e-4, 1e-2];
const LAND = {};
const ui = {};
const pending = new Set(["logistic", "mlp", "saddle"]); // ready once each has drawn once

// ---------------------------------------------------------------- URL state

const INT = new Set(["n_samples", "seed", "hidden", "depth", "steps", "resolution", "saddle_steps", "n_noisy", "saddle_seed"]);
const BOUNDS = {
  n_samples: [20, 300], noise: [0, 0.5], seed: [0, 2 ** 31 - 1], hidden: [1, 12], depth: [1, 3], steps: [1, 300],
  lr: [1e-6, 10], momentum: [0, 0.99], span: [1e-3, 5], resolution: [3, 41],
  saddle_lr: [1e-6, 0.5], saddle_steps: [1, 2000], saddle_momentum: [0, 0.99], noise_std: [0, 2], n_noisy: [1, 20], saddle_seed: [0, 2 ** 31 - 1],
};
const CHOICES = { dataset: ["moons", "circles", "xor", "spirals"], activation: ["tanh", "relu"], directions: ["random", "pca"] };

function readState() {
  const q = readQuery();
  for (const [k, [lo, hi]] of Object.entries(BOUNDS)) {
    const target = k in L ? L : S;
    const v = qNumber(q, k, target[k]);
    if (Number.isFinite(v) && v >= lo && v <= hi && (!INT.has(k) || Number.isInteger(v))) target[k] = v;
  }
  for (const [k, opts] of Object.entries(CHOICES)) if (opts.includes(q.get(k))) L[k] = q.get(k);
  const st = (q.get("start") || "").split(",").map(Number);
  if (st.length === 2 && st.every((v) => Number.isFinite(v) && Math.abs(v) <= 2)) [S.x0, S.y0] = st;
}

function writeState() {
  writeQuery({ ...L, start: [S.x0, S.y0], saddle_lr: S.saddle_lr, saddle_steps: S.saddle_steps, saddle_momentum: S.saddle_momentum,
    noise_std: S.noise_std, n_noisy: S.n_noisy, saddle_seed: S.saddle_seed });
}

// ---------------------------------------------------------------- requests

function markDrawn(name) {
  pending.delete(name);
  if (!pending.size) document.body.dataset.ready = "1";
}

function runner(url, onData, onError) {
  const slot = latest();
  const go = async (body, name) => {
    document.body.classList.add("busy");
    try {
      const data = await slot.post(url, body);
      onError("");
      await onData(data);
      markDrawn(name);
    } catch (e) {
      if (!isAbort(e)) onError(e.message || String(e));
    } finally {
      if (!slot.busy) document.body.classList.remove("busy");
    }
  };
  return debounce(go, 60);
}

const landErr = (m) => { $("#error").textContent = m; };
const landRun = Object.fromEntries(MODELS.map((m) => [m, runner("/api/v1/optimization/landscape", (d) => drawModel(m, d), landErr)]));
const saddleRun = runner("/api/v1/optimization/saddle", drawSaddle, (m) => { $("#saddle-error").textContent = m; });

function landscapeBody(model) {
  return { model, ...L };
}

function runLandscape(models = MODELS) {
  writeState();
  for (const m of models) landRun[m](landscapeBody(m), m);
}

function runSaddle() {
  writeState();
  saddleRun({ start: [S.x0, S.y0], lr: S.saddle_lr, steps: S.saddle_steps, momentum: S.saddle_momentum,
    noise_std: S.noise_std, n_noisy: S.n_noisy, seed: S.saddle_seed }, "saddle");
}

// ---------------------------------------------------------------- landscape plots

const pct = (v) => (v === null || v === undefined ? "—" : `${num(100 * v, 3)} %`);
const log10 = (v) => (v === null || !(v > 0) ? null : Math.log10(v));

/** Colorbar ticks at 1, 2, 5 × 10^k inside [lo, hi] (log10 units), labelled with L itself. */
function logTicks(zlog) {
  const flat = zlog.flat().filter((v) => v !== null);
  const lo = Math.min(...flat);
  const hi = Math.max(...flat);
  const vals = [];
  for (let e = Math.floor(lo) - 1; e <= Math.ceil(hi); e++) for (const m of [1, 2, 5]) {
    const v = Math.log10(m) + e;
    if (v >= lo - 1e-9 && v <= hi + 1e-9) vals.push(v);
  }
  return { tickvals: vals, ticktext: vals.map((v) => num(10 ** v, 2)) };
}

function drawSlice(model, d) {
  const zlog = d.z.map((row) => row.map(log10));
  const t = d.trajectory;
  const n = t.alpha.length;
  return Plotly.react(`slice-${model}`, [
    { x: d.alphas, y: d.betas, z: zlog, customdata: d.z, type: "contour", colorscale: "Viridis", ncontours: 22,
      contours: { coloring: "heatmap", showlines: true }, line: { color: "rgba(255,255,255,.45)", width: 0.6 },
      colorbar: { title: { text: "L (log scale)", side: "right" }, thickness: 12, len: 0.9, ...logTicks(zlog) },
      hovertemplate: "α = %{x:.2f}, β = %{y:.2f}<br>L = %{customdata:.4g}<extra></extra>" },
    { x: t.alpha, y: t.beta, type: "scatter", mode: "lines", name: "training path (projected)", line: { color: C.vermilion, width: 2 },
      customdata: t.residual, hovertemplate: "projected θ_t<br>α = %{x:.3f}, β = %{y:.3f}<br>off the plane: %{customdata:.0%}<extra></extra>" },
    { x: [t.alpha[0]], y: [t.beta[0]], type: "scatter", mode: "markers", name: "θ₀ (init)",
      marker: { color: "#fff", size: 10, line: { color: C.black, width: 2 } }, hovertemplate: "θ₀ projected: (%{x:.3f}, %{y:.3f})<extra></extra>" },
    { x: [t.alpha[n - 1]], y: [t.beta[n - 1]], type: "scatter", mode: "markers", name: "θ* (trained)",
      marker: { color: C.orange, symbol: "star", size: 15, line: { color: "#fff", width: 1.2 } }, hovertemplate: "θ* = (0, 0)<extra></extra>" },
  ], layout({
    showlegend: true, legend: { orientation: "h", x: 0, y: -0.2 },
    xaxis: { title: { text: "α (along d₁)" }, range: [d.alphas[0], d.alphas[d.alphas.length - 1]], constrain: "domain", zeroline: false },
    yaxis: { title: { text: "β (along d₂)" }, range: [d.betas[0], d.betas[d.betas.length - 1]], scaleanchor: "x", scaleratio: 1, zeroline: false },
    margin: { l: 52, r: 8, t: 8, b: 40 }, uirevision: `slice-${model}`,
  }), PLOT_CONFIG);
}

function drawLine(model, d) {
  const at = (lam) => d.line_loss[d.line_t.findIndex((v) => Math.abs(v - lam) < 1e-9)];
  return Plotly.react(`line-${model}`, [
    { x: d.line_t, y: d.line_loss, type: "scatter", mode: "lines", name: "L((1−λ)θ₀ + λθ*)", line: { color: C.blue, width: 2 },
      hovertemplate: "λ = %{x:.3f}<br>L = %{y:.4g}<extra></extra>" },
    { x: [0, 1], y: [at(0), at(1)], type: "scatter", mode: "markers+text", text: ["θ₀", "θ*"], textposition: "top center",
      marker: { color: [C.black, C.orange], size: 10, symbol: ["circle-open", "star"] }, hoverinfo: "skip", cliponaxis: false },
  ], layout({ xaxis: { title: { text: "λ" }, zeroline: false }, yaxis: { title: { text: "loss L" }, rangemode: "tozero" }, margin: { l: 52, r: 10, t: 14, b: 40 } }), PLOT_CONFIG);
}

function drawPerm(d) {
  const note = $("#perm-note");
  if (!d.perm_t) {
    note.textContent = "With one hidden unit there is nothing to swap: set hidden units ≥ 2.";
    return Plotly.react("perm", [], layout({ xaxis: { visible: false }, yaxis: { visible: false } }), PLOT_CONFIG);
  }
  const a = d.perm_loss[0];
  const b = d.perm_loss[d.perm_loss.length - 1];
  const mid = d.perm_loss[(d.perm_loss.length - 1) / 2];
  const [u, v] = d.perm_units.map((k) => k + 1);
  note.textContent = `Units ${u} and ${v} of the first hidden layer (the pair that differs most) trade places with their weights in and out. ` +
    `L(θ*) = ${num(a, 6)} and L(swapped θ*) = ${num(b, 6)}: the same network, listed in another order. ` +
    `Convexity would force the midpoint to L ≤ ${num(Math.max(a, b), 6)}; it is ${num(mid, 6)}` +
    (mid > Math.max(a, b) + 1e-12 ? ", so the loss is not convex." : ".");
  return Plotly.react("perm", [
    { x: d.perm_t, y: d.perm_loss, type: "scatter", mode: "lines", name: "L((1 − λ)θ* + λ·swap(θ*))", line: { color: C.purple, width: 2.5 },
      hovertemplate: "λ = %{x:.3f}<br>L = %{y:.4g}<extra></extra>" },
    { x: [0, 1], y: [a, b], type: "scatter", mode: "lines", name: "chord: the most a convex loss could be", line: { color: C.grey, dash: "dash", width: 1.5 }, hoverinfo: "skip" },
  ], layout({ showlegend: true, legend: { orientation: "h", x: 0, y: 1.18 }, xaxis: { title: { text: `λ (0: θ*, 1: θ* with hidden units ${d.perm_units[0] + 1} ↔ ${d.perm_units[1] + 1})` } },
    yaxis: { title: { text: "loss L" }, rangemode: "tozero" }, margin: { l: 52, r: 10, t: 30, b: 40 } }), PLOT_CONFIG);
}

function facts(model, d) {
  const dt = (t, v, warn) => [Object.assign(document.createElement("dt"), { textContent: t }), Object.assign(document.createElement("dd"), { textContent: v, className: warn ? "warn" : "" })];
  const shapes = d.layer_shapes.map(([o, i]) => `${i}→${o}`).join(", ");
  $(`#facts-${model}`).replaceChildren(
    ...dt("parameters", `${d.n_params} (layers ${shapes})`),
    ...dt("after training", `L = ${sci(d.final_loss)}, accuracy ${pct(d.accuracy)}` + (d.diverged ? ` (diverged at step ${d.diverged_at}; θ* is the last finite iterate)` : ""), d.diverged),
    ...dt("second differences < 0", `slice ${pct(d.nonconvex_fraction)}, line θ₀→θ* ${pct(d.line_nonconvex_fraction)}`, d.nonconvex_fraction > 0),
    ...dt("the plane holds", `${pct(d.trajectory_captured)} of the path's squared distance to θ*`),
  );
  if (model === "mlp") $("#n-params").textContent = String(d.n_params);
}

async function drawModel(model, d) {
  LAND[model] = d;
  const jobs = [drawSlice(model, d), drawLine(model, d)];
  if (model === "mlp") jobs.push(drawPerm(d));
  await Promise.all(jobs);
  facts(model, d);
  ui[`table-${model}`].update(["alpha", "beta", "loss"], () => d.betas.flatMap((b, i) => d.alphas.map((a, j) => [a, b, d.z[i][j]])));
  if (LAND.logistic && LAND.mlp) {
    ui.lineTable.update(["lambda", "loss_logistic", "loss_mlp"], () => LAND.mlp.line_t.map((t, i) => [t, LAND.logistic.line_loss[i], LAND.mlp.line_loss[i]]));
  }
}

// ---------------------------------------------------------------- saddle plots

const RUN_STYLE = {
  gd: { color: C.vermilion, width: 3, label: "plain GD" },
  momentum: { color: C.blue, width: 2.5, label: "momentum" },
  noisy: { color: C.green, width: 1.2, label: "noisy GD" },
};

function runLabel(r, k) {
  return r.name === "noisy" ? `noisy GD, run ${k - 1}` : RUN_STYLE[r.name].label;
}

async function drawSaddle(d) {
  const runs = d.runs;
  const order = [...runs.keys()].sort((a, b) => (runs[a].name === "noisy" ? 0 : 1) - (runs[b].name === "noisy" ? 0 : 1)); // GD on top
  const pathTraces = order.map((k) => {
    const r = runs[k];
    const st = RUN_STYLE[r.name];
    const name = r.name === "noisy" && k === 2 ? `noisy GD (${runs.length - 2} runs)` : runLabel(r, k);
    return { x: r.x, y: r.y, type: "scatter", mode: "lines", name, legendgroup: r.name, showlegend: r.name !== "noisy" || k === 2,
      line: { color: st.color, width: st.width }, opacity: r.name === "noisy" ? 0.75 : 1, hovertemplate: `${runLabel(r, k)}<br>(%{x:.3g}, %{y:.3g})<extra></extra>` };
  });
  const landmarks = [
    { x: [0], y: [0], type: "scatter", mode: "markers", name: "saddle", marker: { symbol: "x", size: 12, color: C.black }, showlegend: false, hovertemplate: "saddle (0, 0), f = 0<extra></extra>" },
    { x: [0, 0], y: d.minima.map((m) => m[1]), type: "scatter", mode: "markers", name: "minima", marker: { symbol: "circle", size: 10, color: C.black }, showlegend: false, hovertemplate: "minimum (0, %{y:.4f}), f = −1<extra></extra>" },
    { x: [S.x0], y: [S.y0], type: "scatter", mode: "markers", name: "start", marker: { symbol: "circle-open", size: 12, color: C.black, line: { width: 2 } }, showlegend: false, hovertemplate: "start (%{x}, %{y:.3g})<extra></extra>" },
  ];
  const contour = { x: d.grid, y: d.grid, z: d.z, type: "contour", colorscale: [[0, "#f7f9fc"], [0.5, "#bccbdc"], [1, "#5f6f86"]], showscale: false,
    contours: { coloring: "fill", start: -1, end: 8, size: 0.5 }, hovertemplate: "f(%{x:.2f}, %{y:.2f}) = %{z:.3g}<extra></extra>" };
  const steps = runs[0].x.map((_, i) => i);
  const lossTraces = order.map((k) => {
    const r = runs[k];
    return { x: steps, y: r.loss, type: "scatter", mode: "lines", name: runLabel(r, k), legendgroup: r.name, showlegend: false,
      line: { color: RUN_STYLE[r.name].color, width: RUN_STYLE[r.name].width }, opacity: r.name === "noisy" ? 0.75 : 1, hovertemplate: `${runLabel(r, k)}: step %{x}, f = %{y:.4g}<extra></extra>` };
  });
  const yTraces = order.map((k) => {
    const r = runs[k];
    return { x: steps, y: r.y.map((v) => (v === null || v === 0 ? null : Math.abs(v))), type: "scatter", mode: "lines", name: runLabel(r, k), legendgroup: r.name,
      showlegend: false, line: { color: RUN_STYLE[r.name].color, width: RUN_STYLE[r.name].width }, opacity: r.name === "noisy" ? 0.75 : 1,
      hovertemplate: `${runLabel(r, k)}: step %{x}, |y| = %{y:.3g}<extra></extra>` };
  });
  const y0 = Math.abs(S.y0);
  if (y0 > 0) {
    const pred = steps.map((t) => { const v = y0 * d.growth_gd ** t; return v <= 3 ? v : null; });
    yTraces.push({ x: steps, y: pred, type: "scatter", mode: "lines", name: "|y₀|(1 + 2η)ᵗ", line: { color: C.vermilion, dash: "dot", width: 1.5 }, hoverinfo: "skip", showlegend: true });
  }
  await Promise.all([
    Plotly.react("saddle-paths", [contour, ...pathTraces, ...landmarks], layout({
      showlegend: true, legend: { orientation: "h", x: 0, y: -0.2 },
      xaxis: { range: [-2, 2], title: { text: "x" }, constrain: "domain", zeroline: false },
      yaxis: { range: [-2, 2], scaleanchor: "x", scaleratio: 1, title: { text: "y" }, zeroline: false },
      margin: { l: 44, r: 8, t: 8, b: 40 }, uirevision: "saddle",
    }), PLOT_CONFIG),
    Plotly.react("saddle-loss", lossTraces, layout({ xaxis: { title: { text: "step t" } }, yaxis: { title: { text: "f(θ_t)" } }, margin: { l: 52, r: 10, t: 10, b: 40 } }), PLOT_CONFIG),
    Plotly.react("saddle-y", [
      ...yTraces,
      { x: [0, steps.length - 1], y: [1, 1], type: "scatter", mode: "lines", name: "|y| = 1: escaped", line: { color: C.grey, dash: "dash", width: 1 }, hoverinfo: "skip", showlegend: true },
    ], layout({ showlegend: true, legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" }, xaxis: { title: { text: "step t" } },
      yaxis: { type: "log", title: { text: "|y_t|" }, exponentformat: "power" }, margin: { l: 60, r: 10, t: 34, b: 40 } }), PLOT_CONFIG),
  ]);
  saddleFacts(d);
  ui.saddleTable.update(["step", "run", "x", "y", "f"], () => runs.flatMap((r, k) => r.x.map((x, t) => [t, runLabel(r, k), x, r.y[t], r.loss[t]])));
}

function saddleFacts(d) {
  const dt = (t, v, warn) => [Object.assign(document.createElement("dt"), { textContent: t }), Object.assign(document.createElement("dd"), { textContent: v, className: warn ? "warn" : "" })];
  const desc = (r) => {
    if (r.diverged_at !== null) return `diverged at step ${r.diverged_at}`;
    if (r.escaped_at !== null) return `escaped at step ${r.escaped_at}`;
    const maxY = Math.max(...r.y.filter((v) => v !== null).map(Math.abs));
    return maxY === 0 ? `stuck: y = 0 exactly at every step (ends at f = ${sci(r.loss[r.loss.length - 1])})` : `not escaped: |y| ≤ ${sci(maxY)} after ${r.y.length - 1} steps`;
  };
  const noisy = d.runs.filter((r) => r.name === "noisy");
  const esc = noisy.filter((r) => r.escaped_at !== null).map((r) => r.escaped_at).sort((a, b) => a - b);
  const div = noisy.filter((r) => r.diverged_at !== null).length;
  $("#saddle-facts").replaceChildren(
    ...dt("plain GD", desc(d.runs[0]) + (d.predicted_escape_gd !== null ? `; predicted ≈ ${Math.round(d.predicted_escape_gd)} steps` : "")),
    ...dt("momentum", desc(d.runs[1]) + ` (y grows ×${num(d.growth_momentum, 4)} per step vs GD's ×${num(d.growth_gd, 4)})`, d.runs[1].diverged_at !== null),
    ...dt("noisy GD", `${esc.length} of ${noisy.length} escaped` + (esc.length ? `, median step ${esc[(esc.length - 1) >> 1]}` : "") + (div ? `; ${div} diverged` : ""), div > 0),
  );
}

// ---------------------------------------------------------------- controls

function boot() {
  readState();
  const q = readQuery();
  const fld = (spec, target, after) => sliderField({ value: target[spec.name], ...spec }, (v) => { target[spec.name] = v; after(); });
  const sel = (name, label, options, after) => selectField({ name, label, options, value: L[name] }, (v) => { L[name] = v; after(); });
  const both = () => runLandscape();
  const mlpOnly = () => runLandscape(["mlp"]);
  $("#data-fields").append(
    sel("dataset", "data set", CHOICES.dataset.map((v) => ({ value: v, label: v })), both).el,
    fld({ name: "n_samples", label: "points n", min: 20, max: 300, integer: true }, L, both).el,
    fld({ name: "noise", label: "noise σ", min: 0, max: 0.5, step: 0.01 }, L, both).el,
    fld({ name: "seed", label: "seed (data, θ₀, directions)", min: 0, max: 2 ** 31 - 1, integer: true, slider_max: 50 }, L, both).el,
  );
  $("#net-fields").append(
    fld({ name: "hidden", label: "hidden units per layer", min: 1, max: 12, integer: true }, L, mlpOnly).el,
    fld({ name: "depth", label: "hidden layers", min: 1, max: 3, integer: true }, L, mlpOnly).el,
    sel("activation", "activation φ", [{ value: "tanh", label: "tanh" }, { value: "relu", label: "ReLU" }], mlpOnly).el,
  );
  $("#train-fields").append(
    fld({ name: "steps", label: "steps", min: 1, max: 300, integer: true }, L, both).el,
    fld({ name: "lr", label: "learning rate η", min: 0, exclusive_min: true, max: 10, log: true, slider_min: 1e-3, slider_max: 10 }, L, both).el,
    fld({ name: "momentum", label: "momentum μ", min: 0, max: 0.99, step: 0.01 }, L, both).el,
  );
  $("#slice-fields").append(
    sel("directions", "directions d₁, d₂", [{ value: "random", label: "random, filter-normalized" }, { value: "pca", label: "PCA of the training path" }], both).el,
    fld({ name: "span", label: "span: α, β ∈ [−span, span]", min: 0, exclusive_min: true, max: 5, slider_min: 0.1, step: 0.05 }, L, both).el,
    fld({ name: "resolution", label: "grid points per axis", min: 3, max: 41, integer: true }, L, both).el,
  );

  const y0Options = Y0_CHOICES.includes(S.y0) ? Y0_CHOICES : [...Y0_CHOICES, S.y0].sort((a, b) => a - b);
  const y0 = selectField({ name: "y0", label: "y₀: distance from the stable manifold", control: "start",
    options: y0Options.map((v) => ({ value: v, label: v === 0 ? "0 (exactly on it)" : sci(v, 1) })), value: S.y0 },
  (v) => { S.y0 = Number(v); runSaddle(); });
  $("#start-fields").append(
    fld({ name: "x0", label: "x₀", min: -2, max: 2, step: 0.05, control: "start" }, S, runSaddle).el,
    y0.el,
  );
  $("#saddle-fields").append(
    fld({ name: "saddle_lr", label: "learning rate η", min: 0, exclusive_min: true, max: 0.5, log: true, slider_min: 1e-3, slider_max: 0.5 }, S, runSaddle).el,
    fld({ name: "saddle_momentum", label: "momentum μ (momentum run)", min: 0, max: 0.99, step: 0.01 }, S, runSaddle).el,
    fld({ name: "noise_std", label: "gradient noise σ (noisy runs)", min: 0, max: 2, step: 0.01 }, S, runSaddle).el,
    fld({ name: "n_noisy", label: "noisy runs", min: 1, max: 20, integer: true }, S, runSaddle).el,
    fld({ name: "saddle_steps", label: "steps", min: 1, max: 2000, integer: true, slider_max: 1000 }, S, runSaddle).el,
    fld({ name: "saddle_seed", label: "noise seed", min: 0, max: 2 ** 31 - 1, integer: true, slider_max: 50 }, S, runSaddle).el,
  );

  for (const m of MODELS) ui[`table-${m}`] = dataTable($(`#slice-${m}-data`), [], [], { caption: `${m === "mlp" ? "MLP" : "Logistic"} slice`, filename: `landscape-${m}.csv` });
  ui.lineTable = dataTable($("#line-data"), [], [], { caption: "Both lines θ₀ → θ*", filename: "landscape-lines.csv" });
  ui.saddleTable = dataTable($("#saddle-data"), [], [], { caption: "Saddle paths", filename: "saddle-paths.csv" });
  hookCopyLink();
  for (const g of document.querySelectorAll(".lab-grid")) applyHide(g, hiddenSet(q));
  runLandscape();
  runSaddle();
}

boot();
