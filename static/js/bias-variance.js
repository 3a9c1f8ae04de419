// Bias–variance: polynomial fits of degree 0..15 on many noisy resamples (POST …/bias-variance):
// the spread of fits, and bias², variance, noise and test error against degree.

import { dataTable } from "./controls.js";
import { $, C, PLOT_CONFIG, Plotly, fetcher, finishBoot, layout, sliders, stats, writeQuery } from "./probability-common.js";

const S = { degree: 3, noise: 0.3, n_train: 20, n_resamples: 200, seed: 0 };
const ui = {};

async function draw(D) {
  const d = S.degree;
  const fits = D.fits.map((f, i) => ({ x: D.x_test, y: f, type: "scatter", mode: "lines", line: { color: "rgba(0,114,178,0.25)", width: 1 }, showlegend: i === 0, name: "fits on resamples", hoverinfo: "skip" }));
  await Plotly.react("fits", [
    ...fits,
    { x: D.x, y: D.y_first, type: "scatter", mode: "markers", name: "one noisy sample", marker: { color: C.black, size: 5 } },
    { x: D.x_test, y: D.f_test, type: "scatter", mode: "lines", name: "true f", line: { color: C.vermilion, width: 3 } },
    { x: D.x_test, y: D.mean_fit, type: "scatter", mode: "lines", name: "average fit E f̂", line: { color: C.green, width: 3, dash: "dash" } },
  ], layout({ showlegend: true, legend: { orientation: "h", x: 0, y: 1.16 }, margin: { l: 48, r: 12, t: 40, b: 44 }, xaxis: { title: { text: "x" } }, yaxis: { range: [-2.2, 2.2], title: { text: "y" } } }), PLOT_CONFIG);
  const total = D.bias2.map((b, i) => b + D.variance[i] + D.noise);
  await Plotly.react("curves", [
    { x: D.degrees, y: D.bias2, type: "scatter", mode: "lines+markers", name: "bias²", line: { color: C.vermilion, width: 2.5 } },
    { x: D.degrees, y: D.variance, type: "scatter", mode: "lines+markers", name: "variance", line: { color: C.blue, width: 2.5 } },
    { x: D.degrees, y: D.degrees.map(() => D.noise), type: "scatter", mode: "lines", name: "noise σ²", line: { color: C.grey, dash: "dot", width: 2 } },
    { x: D.degrees, y: total, type: "scatter", mode: "lines", name: "bias² + variance + noise", line: { color: C.black, width: 2 } },
    { x: D.degrees, y: D.test_error, type: "scatter", mode: "markers", name: "measured test error", marker: { color: C.orange, size: 10, symbol: "diamond" } },
    { x: D.degrees, y: D.train_error, type: "scatter", mode: "lines", name: "training error", line: { color: C.green, dash: "dash", width: 1.5 } },
  ], layout({ showlegend: true, legend: { orientation: "h", x: 0, y: 1.22 }, margin: { l: 56, r: 12, t: 56, b: 44 }, xaxis: { title: { text: "polynomial degree" }, dtick: 1, range: [-0.5, 15.5] }, yaxis: { type: "log", title: { text: "mean squared error" }, exponentformat: "power" },
    shapes: [{ type: "line", x0: d, x1: d, yref: "paper", y0: 0, y1: 1, line: { color: C.black, dash: "dot", width: 1 } }] }), PLOT_CONFIG);
  $("#fits-title").textContent = `${D.fits.length} of ${S.n_resamples} degree-${d} fits on resampled noise`;
  stats($("#stats"), [[`bias² (degree ${d})`, D.bias2[d]], ["variance", D.variance[d]], ["noise σ²", D.noise], ["sum", D.bias2[d] + D.variance[d] + D.noise], ["measured test error", D.test_error[d]]]);
  ui.table.update(["degree", "bias2", "variance", "noise", "sum", "test_error", "train_error"], () => D.degrees.map((g, i) => [g, D.bias2[i], D.variance[i], D.noise, total[i], D.test_error[i], D.train_error[i]]), { filename: "bias-variance.csv" });
}

const fetch = fetcher(draw, 50);
const run = () => { writeQuery(S); fetch.run("/api/v1/probability/bias-variance", { ...S, max_degree: 15, n_show: 30 }); };

function boot() {
  sliders($("#bv-controls"), [
    { name: "degree", label: "degree shown", min: 0, max: 15, integer: true, value: S.degree },
    { name: "noise", label: "noise σ", min: 0.01, max: 2, value: S.noise, step: 0.01 },
    { name: "n_train", label: "training points", min: 16, max: 200, integer: true, value: S.n_train },
    { name: "n_resamples", label: "resamples", min: 10, max: 500, integer: true, value: S.n_resamples },
    { name: "seed", label: "seed", min: 0, max: 1000, integer: true, value: S.seed },
  ], S, run);
  ui.table = dataTable($("#curves-data"), [], [], { caption: "Decomposition", filename: "bias-variance.csv" });
  finishBoot();
  run();
}

boot();
