// Monte Carlo: a running estimate with its standard-error band, and the RMS error over many runs
// against n on log–log axes (slope −1/2), from POST /api/v1/probability/monte-carlo.

import { dataTable } from "./controls.js";
import { $, C, PLOT_CONFIG, Plotly, fetcher, finishBoot, layout, num, readQuery, sliders, stats, writeQuery } from "./probability-common.js";

const TARGETS = ["pi", "exp_normal", "square_uniform"];
const S = { target: "pi", n_samples: 10000, seed: 0, n_repeats: 100 };
const ui = {};

async function draw(D) {
  const isPi = D.points !== null;
  $("#scatter").hidden = !isPi;
  $("#scatter-title").textContent = isPi ? `The first ${D.points.length} points: 4 × (share inside) ≈ π` : "Samples (shown for π only)";
  if (isPi) {
    const inside = D.points.filter((p) => p[0] * p[0] + p[1] * p[1] <= 1);
    const outside = D.points.filter((p) => p[0] * p[0] + p[1] * p[1] > 1);
    const arc = Array.from({ length: 101 }, (_, i) => (Math.PI / 2) * (i / 100));
    await Plotly.react("scatter", [
      { x: inside.map((p) => p[0]), y: inside.map((p) => p[1]), type: "scatter", mode: "markers", name: `inside (${inside.length})`, marker: { color: C.vermilion, size: 4 } },
      { x: outside.map((p) => p[0]), y: outside.map((p) => p[1]), type: "scatter", mode: "markers", name: `outside (${outside.length})`, marker: { color: C.blue, size: 4 } },
      { x: arc.map(Math.cos), y: arc.map(Math.sin), type: "scatter", mode: "lines", line: { color: C.black, width: 1.5 }, hoverinfo: "skip", showlegend: false },
    ], layout({ showlegend: true, legend: { orientation: "h", x: 0, y: 1.13 }, margin: { l: 44, r: 12, t: 30, b: 36 }, xaxis: { range: [0, 1], constrain: "domain" }, yaxis: { range: [0, 1], scaleanchor: "x" } }), PLOT_CONFIG);
  }
  const up = D.estimate.map((e, i) => e + 2 * D.std_error[i]);
  const lo = D.estimate.map((e, i) => e - 2 * D.std_error[i]);
  const start = D.n.findIndex((n) => n >= 10);
  const yr = [Math.min(...lo.slice(start)), Math.max(...up.slice(start))];
  await Plotly.react("running", [
    { x: D.n, y: up, type: "scatter", mode: "lines", line: { width: 0 }, showlegend: false, hoverinfo: "skip" },
    { x: D.n, y: lo, type: "scatter", mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(0,114,178,0.18)", name: "± 2 SE", hoverinfo: "skip" },
    { x: D.n, y: D.estimate, type: "scatter", mode: "lines", name: "estimate", line: { color: C.blue, width: 2.5 }, hovertemplate: "n = %{x}: %{y:.5f}<extra></extra>" },
    { x: [D.n[0], D.n[D.n.length - 1]], y: [D.truth, D.truth], type: "scatter", mode: "lines", name: "true value", line: { color: C.vermilion, dash: "dot", width: 2 }, hoverinfo: "skip" },
  ], layout({ showlegend: true, legend: { orientation: "h", x: 0, y: 1.13 }, margin: { l: 56, r: 12, t: 30, b: 44 }, xaxis: { type: "log", title: { text: "samples n" } }, yaxis: { range: [yr[0] - 0.05 * (yr[1] - yr[0]), yr[1] + 0.05 * (yr[1] - yr[0])], title: { text: "estimate" } } }), PLOT_CONFIG);
  const c = D.rmse[0] * Math.sqrt(D.error_n[0]);
  await Plotly.react("loglog", [
    { x: D.error_n, y: D.rmse, type: "scatter", mode: "markers+lines", name: `measured RMS error (${S.n_repeats} runs)`, line: { color: C.blue, width: 2 }, marker: { size: 6 }, hovertemplate: "n = %{x}: %{y:.3g}<extra></extra>" },
    { x: D.error_n, y: D.error_n.map((n) => c / Math.sqrt(n)), type: "scatter", mode: "lines", name: "σ/√n (slope −1/2)", line: { color: C.vermilion, dash: "dash", width: 2 }, hoverinfo: "skip" },
  ], layout({ showlegend: true, legend: { x: 0.7, y: 0.95 }, xaxis: { type: "log", title: { text: "samples n" } }, yaxis: { type: "log", title: { text: "RMS error" }, exponentformat: "power" } }), PLOT_CONFIG);
  $("#loglog-title").textContent = `RMS error over ${S.n_repeats} independent runs against n (log–log): fitted slope ${D.slope === null ? "—" : num(D.slope, 3)}, theory −0.5`;
  stats($("#stats"), [["estimate", D.final], ["standard error", D.final_std_error], ["true value", D.truth], ["error", D.final - D.truth]]);
  ui.table.update(["n", "estimate", "std_error"], () => D.n.map((n, i) => [n, D.estimate[i], D.std_error[i]]), { filename: `monte-carlo-${S.target}.csv` });
}

const fetch = fetcher(draw, 40);
const run = () => { writeQuery(S); fetch.run("/api/v1/probability/monte-carlo", { ...S }); };

function boot() {
  const q = readQuery();
  if (TARGETS.includes(q.get("target"))) S.target = q.get("target");
  $("#target").value = S.target;
  $("#target").addEventListener("change", (e) => { S.target = e.target.value; run(); });
  sliders($("#mc-controls"), [
    { name: "n_samples", label: "samples n", min: 10, max: 1000000, integer: true, log: true, value: S.n_samples },
    { name: "n_repeats", label: "independent runs (error curve)", min: 10, max: 200, integer: true, value: S.n_repeats },
    { name: "seed", label: "seed", min: 0, max: 1000, integer: true, value: S.seed },
  ], S, run, q);
  ui.table = dataTable($("#running-data"), [], [], { caption: "Running estimate", filename: "monte-carlo.csv" });
  finishBoot();
  run();
}

boot();
