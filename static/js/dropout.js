// Dropout: a small MLP trained with dropout on 1-D data with a gap, then Monte Carlo dropout at test
// time (POST /api/v1/optimization/dropout): mean ± 2σ of T thinned networks beside the eval-mode net.
// Every control is in the URL.

import { applyHide, dataTable, hiddenSet, qNumber, readQuery, selectField, sliderField, writeQuery, PLOT_CONFIG } from "./controls.js";
import { $, C, Plotly, fetcher, hookCopyLink, layout, numExact as num } from "./lab-common.js";

const FIELDS = {
  p: { label: "dropout probability p", min: 0, max: 0.9, step: 0.05, value: 0.2, group: "net" },
  width: { label: "units per hidden layer", min: 4, max: 64, integer: true, value: 64, group: "net" },
  depth: { label: "hidden layers", min: 1, max: 2, integer: true, value: 2, group: "net" },
  steps: { label: "Adam steps", min: 10, max: 400, integer: true, value: 300, group: "net" },
  lr: { label: "learning rate", min: 1e-4, max: 0.1, log: true, value: 0.01, group: "net" },
  n_points: { label: "training points", min: 10, max: 100, integer: true, value: 40, group: "data" },
  gap: { label: "width of the empty gap", min: 0, max: 4, step: 0.1, value: 3, group: "data" },
  noise: { label: "noise std", min: 0, max: 1, step: 0.01, value: 0.1, group: "data" },
  seed: { label: "seed", min: 0, max: 2 ** 31 - 1, integer: true, slider_max: 50, value: 0, group: "data" },
  n_samples: { label: "T, stochastic passes", min: 2, max: 200, integer: true, value: 100, group: "mc" },
};
const S = Object.fromEntries(Object.entries(FIELDS).map(([k, f]) => [k, f.value]));
S.activation = "relu";
let R = null;
const ui = {};

function readState() {
  const q = readQuery();
  for (const [k, f] of Object.entries(FIELDS)) {
    const v = qNumber(q, k, S[k]);
    if (v >= f.min && v <= f.max && (!f.integer || Number.isInteger(v))) S[k] = v;
  }
  if (["relu", "tanh"].includes(q.get("activation"))) S.activation = q.get("activation");
}

function dataShapes() {
  // the training inputs fill [−3, −gap/2] and [gap/2, 3]
  const g = S.gap / 2;
  const band = (x0, x1) => ({ type: "rect", xref: "x", yref: "paper", x0, x1, y0: 0, y1: 1, fillcolor: "rgba(0,158,115,0.08)", line: { width: 0 }, layer: "below" });
  return [band(-3, -g), band(g, 3)];
}

function drawPred() {
  const x = R.x_grid;
  const up = R.mc_mean.map((m, i) => m + 2 * R.mc_std[i]);
  const lo = R.mc_mean.map((m, i) => m - 2 * R.mc_std[i]);
  const thin = R.samples.slice(0, 12).map((y, k) => ({ x, y, type: "scatter", mode: "lines", name: "thinned networks (first 12)",
    legendgroup: "thin", showlegend: k === 0, line: { color: "rgba(90,100,120,0.35)", width: 1 }, hoverinfo: "skip" }));
  const ys = [...up, ...lo, ...R.y_train].filter((v) => v !== null);
  const pad = 0.3;
  return Plotly.react("pred", [
    { x: [...x, ...x.slice().reverse()], y: [...up, ...lo.slice().reverse()], type: "scatter", mode: "lines", fill: "toself",
      fillcolor: "rgba(0,114,178,0.18)", line: { width: 0 }, name: "mean ± 2σ", hoverinfo: "skip" },
    ...thin,
    { x, y: R.truth, type: "scatter", mode: "lines", name: "true curve sin x + 0.2x", line: { color: C.black, dash: "dot", width: 1.5 }, hoverinfo: "skip" },
    { x, y: R.mc_mean, type: "scatter", mode: "lines", name: "MC mean of T passes", line: { color: C.blue, width: 2.5 },
      customdata: R.mc_std, hovertemplate: "x = %{x:.2f}: mean %{y:.3f}, σ %{customdata:.3f}<extra></extra>" },
    { x, y: R.eval_pred, type: "scatter", mode: "lines", name: "eval mode (dropout off)", line: { color: C.vermilion, width: 2, dash: "dash" },
      hovertemplate: "eval: %{y:.3f}<extra></extra>" },
    { x: R.x_train, y: R.y_train, type: "scatter", mode: "markers", name: "training points", marker: { color: C.black, size: 6 },
      hovertemplate: "(%{x:.2f}, %{y:.2f})<extra></extra>" },
  ], layout({
    showlegend: true, legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" }, shapes: dataShapes(),
    xaxis: { title: { text: "x (green: where the training data lie)" }, range: [-6, 6] },
    yaxis: { title: { text: "y" }, range: [Math.max(Math.min(...ys), -6) - pad, Math.min(Math.max(...ys), 6) + pad] },
    margin: { l: 50, r: 10, t: 34, b: 44 },
  }), PLOT_CONFIG);
}

function drawStd() {
  return Plotly.react("std", [
    { x: R.x_grid, y: R.mc_std, type: "scatter", mode: "lines", name: "σ(x)", line: { color: C.blue, width: 2 }, hovertemplate: "x = %{x:.2f}: σ = %{y:.4f}<extra></extra>" },
  ], layout({
    shapes: [...dataShapes(), { type: "line", xref: "paper", x0: 0, x1: 1, y0: R.std_on_data, y1: R.std_on_data, line: { color: C.green, dash: "dash", width: 1.5 } }],
    xaxis: { title: { text: "x" }, range: [-6, 6] }, yaxis: { title: { text: "σ(x)" }, rangemode: "tozero" },
    annotations: [{ xref: "paper", x: 0.01, y: R.std_on_data, yanchor: "bottom", xanchor: "left", showarrow: false, text: "mean σ on the data", font: { size: 11, color: "#006b4f" } }],
    margin: { l: 54, r: 10, t: 8, b: 44 },
  }), PLOT_CONFIG);
}

function drawMasks() {
  const k = R.masks.length;
  return Plotly.react("masks", [{
    z: R.masks, type: "heatmap", colorscale: [[0, "#ffffff"], [0.5, "#ffffff"], [0.5, C.blue], [1, C.blue]], zmin: 0, zmax: 1, showscale: false,
    xgap: 1, ygap: 1, hovertemplate: "pass %{y}, unit %{x}: %{z}<extra>1 = kept</extra>",
  }], layout({
    xaxis: { title: { text: `unit of the last hidden layer (blue: kept, white: dropped)` } },
    yaxis: { title: { text: `pass t (first ${k})` }, autorange: "reversed" },
    margin: { l: 54, r: 10, t: 8, b: 44 },
  }), PLOT_CONFIG);
}

function drawLoss() {
  const steps = R.losses.map((_, i) => i + 1);
  return Plotly.react("loss", [{ x: steps, y: R.losses, type: "scatter", mode: "lines", line: { color: C.orange, width: 1.5 }, name: "MSE", hovertemplate: "step %{x}: %{y:.4g}<extra></extra>" }],
    layout({ xaxis: { title: { text: "Adam step" } }, yaxis: { type: "log", title: { text: "MSE" }, exponentformat: "power" }, margin: { l: 60, r: 10, t: 8, b: 44 } }), PLOT_CONFIG);
}

function facts() {
  const units = S.width * S.depth;
  const onData = R.distance.map((d, i) => (d <= 0.25 ? i : -1)).filter((i) => i >= 0);
  const diff = Math.max(...onData.map((i) => Math.abs(R.mc_mean[i] - R.eval_pred[i])));
  const ratio = R.std_on_data > 0 ? R.std_off_data / R.std_on_data : null;
  const dt = (t, v, cls) => [Object.assign(document.createElement("dt"), { textContent: t }), Object.assign(document.createElement("dd"), { textContent: v, className: cls || "" })];
  $("#facts").replaceChildren(
    ...dt("thinned networks possible", `2${String(units).split("").map((c) => "⁰¹²³⁴⁵⁶⁷⁸⁹"[c]).join("")} (each of ${units} hidden units kept or dropped), sharing ${R.n_params} weights`),
    ...dt("mean σ on the data / away from it", `${num(R.std_on_data, 3)} / ${num(R.std_off_data, 3)}` + (ratio === null ? "" : ` (× ${num(ratio, 3)})`), ratio !== null && ratio > 1 ? "do-good" : ""),
    ...dt("|MC mean − eval| on the data (max)", `${num(diff, 3)}` + (S.depth === 1 ? " (one layer: equal in expectation)" : " (two layers: not equal even in expectation)")),
    ...dt("training MSE of the eval net", num(R.train_mse_eval, 4)),
  );
}

async function draw(data) {
  R = data;
  await Promise.all([drawPred(), drawStd(), drawMasks(), drawLoss()]);
  facts();
  ui.table.update(["x", "mc_mean", "mc_std", "eval", "truth"], () => R.x_grid.map((x, i) => [x, R.mc_mean[i], R.mc_std[i], R.eval_pred[i], R.truth[i]]));
}

const req = fetcher(draw, 120);

function run() {
  writeQuery({ ...S });
  req.run("/api/v1/optimization/dropout", { ...S });
}

function boot() {
  readState();
  const q = readQuery();
  for (const [k, f] of Object.entries(FIELDS)) {
    ui[k] = sliderField({ name: k, ...f, value: S[k] }, (v) => { S[k] = v; run(); });
    $(`#${f.group}-fields`).append(ui[k].el);
  }
  ui.activation = selectField({ name: "activation", label: "activation", options: [{ value: "relu", label: "ReLU" }, { value: "tanh", label: "tanh" }], value: S.activation },
    (v) => { S.activation = v; run(); });
  $("#net-fields").insertBefore(ui.activation.el, ui.steps.el);
  ui.table = dataTable($("#pred-data"), [], [], { caption: "Predictions", filename: "mc-dropout.csv" });
  hookCopyLink();
  applyHide(document.querySelector(".lab-grid"), hiddenSet(q));
  run();
}

boot();
