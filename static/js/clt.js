// The CLT and mini-batches: means of n draws (POST …/clt/means) against N(μ, σ²/n) with a Q–Q
// plot, and the variance of a mini-batch gradient against B (POST …/clt/minibatch).

import { dataTable, sliderField } from "./controls.js";
import { $, C, PLOT_CONFIG, Plotly, fetcher, finishBoot, histogram, layout, loadFamilies, normalPdf, num, readQuery, sliders, stats, writeQuery } from "./probability-common.js";

const S = { family: "exponential", params: {}, n: 5, n_means: 4000, seed: 0, n_batches: 400, noise: 1 };
let FAM = {};
const ui = {};

// A binomial's own n is called "trials" here: n is the number of draws per mean.
const key = (name) => (name === "n" ? "trials" : name);

function state() {
  const own = Object.fromEntries(Object.entries(S.params[S.family]).map(([k, v]) => [key(k), v]));
  const q = { family: S.family, ...own, n: S.n, n_means: S.n_means, seed: S.seed, n_batches: S.n_batches, noise: S.noise };
  writeQuery(q);
}

async function drawMeans(D) {
  const lo = Math.min(...D.means), hi = Math.max(...D.means);
  const pad = 0.05 * (hi - lo || 1);
  const h = histogram(D.means, lo - pad, hi + pad, 60);
  const xs = Array.from({ length: 300 }, (_, i) => lo - pad + ((hi - lo + 2 * pad) * i) / 299);
  await Plotly.react("hist", [
    { x: h.x, y: h.y, type: "bar", width: h.w, name: `${D.means.length} means`, marker: { color: C.sky, opacity: 0.65 }, hovertemplate: "%{x:.4g}: %{y:.4g}<extra></extra>" },
    { x: xs, y: xs.map((x) => normalPdf(x, D.mean, D.sd)), type: "scatter", mode: "lines", name: "N(μ, σ²/n)", line: { color: C.vermilion, width: 3 } },
  ], layout({ showlegend: true, legend: { orientation: "h", x: 0, y: 1.13 }, margin: { l: 56, r: 12, t: 30, b: 44 }, bargap: 0, xaxis: { title: { text: "mean of n draws" } }, yaxis: { title: { text: "density" } } }), PLOT_CONFIG);
  const a = Math.min(D.qq_theory[0], D.qq_sample[0]), b = Math.max(D.qq_theory.at(-1), D.qq_sample.at(-1));
  await Plotly.react("qq", [
    { x: [a, b], y: [a, b], type: "scatter", mode: "lines", name: "y = x (perfectly normal)", line: { color: C.grey, dash: "dash" }, hoverinfo: "skip" },
    { x: D.qq_theory, y: D.qq_sample, type: "scatter", mode: "markers", name: "means", marker: { color: C.blue, size: 5 }, hovertemplate: "normal %{x:.4g}, sample %{y:.4g}<extra></extra>" },
  ], layout({ showlegend: true, legend: { orientation: "h", x: 0, y: 1.13 }, margin: { l: 56, r: 12, t: 30, b: 44 }, xaxis: { title: { text: "normal quantile" } }, yaxis: { title: { text: "sample quantile" } } }), PLOT_CONFIG);
  $("#hist-title").textContent = `Means of n = ${S.n} draws from ${FAM[S.family].title} against the CLT's normal`;
  stats($("#stats"), [["E[X̄] = μ", D.mean], ["sd(X̄) = σ/√n", D.sd], ["sd of the means (measured)", sd(D.means)], ["skewness of the means", D.skewness ?? "—"]]);
  ui.meansTable.update(["i", "mean"], () => D.means.map((m, i) => [i, m]), { filename: "means.csv" });
}

function sd(v) {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
}

async function drawMinibatch(D) {
  await Plotly.react("minibatch", [
    { x: D.batch_sizes, y: D.theory, type: "scatter", mode: "lines", name: "tr Σ / B", line: { color: C.vermilion, dash: "dash", width: 2 } },
    { x: D.batch_sizes, y: D.measured, type: "scatter", mode: "markers", name: `measured over ${S.n_batches} batches`, marker: { color: C.blue, size: 10 }, hovertemplate: "B = %{x}: %{y:.4g}<extra></extra>" },
  ], layout({ showlegend: true, legend: { x: 0.7, y: 0.95 }, xaxis: { type: "log", title: { text: "batch size B" }, dtick: Math.log10(2) }, yaxis: { type: "log", title: { text: "E‖ĝ_B − ∇L‖²" }, exponentformat: "power" } }), PLOT_CONFIG);
  ui.mbTable.update(["B", "measured", "trace_sigma_over_B"], () => D.batch_sizes.map((b, i) => [b, D.measured[i], D.theory[i]]), { filename: "minibatch.csv" });
}

const fetchM = fetcher(drawMeans, 50);
const fetchB = fetcher(drawMinibatch, 50);
const runM = () => { state(); fetchM.run("/api/v1/probability/clt/means", { family: S.family, params: { ...S.params[S.family] }, n: S.n, n_means: S.n_means, seed: S.seed }); };
const runB = () => { state(); fetchB.run("/api/v1/probability/clt/minibatch", { n_batches: S.n_batches, noise: S.noise, seed: S.seed }); };

function buildParams() {
  const box = $("#params");
  box.replaceChildren();
  const P = S.params[S.family];
  for (const p of FAM[S.family].params) {
    box.append(sliderField({ name: key(p.name), label: p.description, min: p.min, max: p.max, integer: p.integer, value: P[p.name], log: p.name === "rate" || p.name === "n",
      slider_min: ["mu", "low", "high"].includes(p.name) ? -10 : undefined, slider_max: ["mu", "low", "high", "sigma", "b"].includes(p.name) ? 10 : ["alpha", "beta"].includes(p.name) ? 20 : undefined }, (v) => { P[p.name] = v; runM(); }).el);
  }
}

async function boot() {
  const q = readQuery();
  // categorical: its class indices have no natural mean to show here
  if (!(await loadFamilies($("#family"), FAM, S, q, { key, skip: (f) => f.name === "categorical" }))) return;
  $("#family").value = S.family;
  $("#family").addEventListener("change", (e) => { S.family = e.target.value; buildParams(); runM(); });
  buildParams();
  sliders($("#mean-controls"), [
    { name: "n", label: "draws per mean n", min: 1, max: 1000, integer: true, log: true, value: S.n },
    { name: "n_means", label: "number of means", min: 10, max: 20000, integer: true, log: true, value: S.n_means },
    { name: "seed", label: "seed", min: 0, max: 1000, integer: true, value: S.seed },
  ], S, (k) => { if (k === "seed") runB(); runM(); }, q);
  sliders($("#mb-controls"), [
    { name: "n_batches", label: "batches per B", min: 20, max: 2000, integer: true, log: true, value: S.n_batches },
    { name: "noise", label: "label noise σ", min: 0, max: 10, value: S.noise, step: 0.05 },
  ], S, runB, q);
  ui.meansTable = dataTable($("#hist-data"), [], [], { caption: "Means", filename: "means.csv" });
  ui.mbTable = dataTable($("#minibatch-data"), [], [], { caption: "Gradient variance", filename: "minibatch.csv" });
  finishBoot();
  runM();
  runB();
}

boot();
