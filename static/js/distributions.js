// Distributions: pdf/pmf, cdf, a seeded sample histogram, moments and entropy of one family,
// from POST /api/v1/probability/distribution; families and bounds from GET …/families.

import { dataTable, sliderField } from "./controls.js";
import { $, C, PLOT_CONFIG, Plotly, fetcher, finishBoot, histogram, layout, loadFamilies, readQuery, stats, writeQuery } from "./probability-common.js";

const S = { family: "gaussian", params: {}, probs: [0.1, 0.2, 0.4, 0.2, 0.1], n_samples: 1000, seed: 0 };
let FAM = {};
const ui = {};

function body() {
  const params = S.family === "categorical" ? { probs: S.probs } : { ...S.params[S.family] };
  return { family: S.family, params, n_samples: S.n_samples, seed: S.seed };
}

function writeState() {
  const b = body();
  const q = { family: S.family, n_samples: S.n_samples, seed: S.seed };
  if (S.family === "categorical") q.probs = S.probs.map((p) => +p.toPrecision(4)).join(",");
  else Object.assign(q, b.params);
  writeQuery(q);
}

async function draw(D) {
  const f = FAM[D.family];
  const disc = D.discrete;
  const traces = [];
  if (disc) {
    const counts = new Map();
    for (const v of D.samples) counts.set(v, (counts.get(v) || 0) + 1);
    traces.push({ x: D.support, y: D.support.map((k) => (counts.get(k) || 0) / D.samples.length), type: "bar", name: "sample frequency", marker: { color: C.sky, opacity: 0.75 }, hovertemplate: "k = %{x}: %{y:.4f}<extra>sample</extra>" });
    traces.push({ x: D.support, y: D.density, type: "scatter", mode: "markers", name: "pmf P(X = k)", marker: { color: C.vermilion, size: D.support.length > 60 ? 5 : 9, symbol: "diamond" }, hovertemplate: "k = %{x}: %{y:.4f}<extra>pmf</extra>" });
  } else {
    const lo = D.support[0];
    const hi = D.support[D.support.length - 1];
    const h = histogram(D.samples, lo, hi, Math.min(80, Math.max(10, Math.round(Math.sqrt(D.samples.length)))));
    traces.push({ x: h.x, y: h.y, type: "bar", width: h.w, name: "sample histogram", marker: { color: C.sky, opacity: 0.6, line: { width: 0 } }, hovertemplate: "%{x:.3g}: %{y:.4f}<extra>sample density</extra>" });
    traces.push({ x: D.support, y: D.density, type: "scatter", mode: "lines", name: "pdf p(x)", line: { color: C.vermilion, width: 3 }, hovertemplate: "x = %{x:.4g}: %{y:.4g}<extra>pdf</extra>" });
  }
  const mean = { type: "line", x0: D.mean, x1: D.mean, yref: "paper", y0: 0, y1: 1, line: { color: C.black, dash: "dot", width: 1.5 } };
  const lay = layout({ margin: { l: 56, r: 12, t: 30, b: 44 }, showlegend: true, legend: { orientation: "h", x: 0, y: 1.13 }, bargap: disc ? 0.25 : 0, xaxis: { title: { text: disc ? "k" : "x" } }, yaxis: { title: { text: disc ? "probability" : "density" }, rangemode: "tozero" }, shapes: [mean],
    annotations: [{ x: D.mean, yref: "paper", y: 0.98, text: " mean", showarrow: false, xanchor: "left", yanchor: "top", font: { size: 11 } }] });
  const cdfTrace = disc
    ? { x: D.support, y: D.cdf, type: "scatter", mode: "lines+markers", line: { shape: "hv", color: C.blue, width: 2.5 }, marker: { size: D.support.length > 60 ? 3 : 6 }, hovertemplate: "P(X ≤ %{x}) = %{y:.4f}<extra></extra>" }
    : { x: D.support, y: D.cdf, type: "scatter", mode: "lines", line: { color: C.blue, width: 2.5 }, hovertemplate: "P(X ≤ %{x:.4g}) = %{y:.4f}<extra></extra>" };
  await Promise.all([
    Plotly.react("density", traces, lay, PLOT_CONFIG),
    Plotly.react("cdf", [cdfTrace], layout({ xaxis: { title: { text: disc ? "k" : "x" } }, yaxis: { range: [0, 1.05], title: { text: "F" } } }), PLOT_CONFIG),
  ]);
  $("#density-title").textContent = `${f.title}: ${disc ? "pmf" : "density"} and ${D.samples.length} seeded samples`;
  stats($("#stats"), [
    ["mean (theory)", D.mean], ["mean (sample)", D.sample_mean],
    ["variance (theory)", D.variance], ["variance (sample)", D.sample_variance],
    ["entropy H (nats)", D.entropy_nats], ["entropy H (bits)", D.entropy_nats / Math.LN2],
  ]);
  ui.table.update(["x", disc ? "pmf" : "pdf", "cdf"], () => D.support.map((x, i) => [x, D.density[i], D.cdf[i]]), { filename: `${D.family}.csv` });
}

const fetch = fetcher(draw, 40);

function run() {
  writeState();
  fetch.run("/api/v1/probability/distribution", body());
}

function buildParams() {
  const f = FAM[S.family];
  $("#family-formula").innerHTML = f.mathml;
  $("#family-ml").textContent = `${f.title} in ML: ${f.ml}`;
  const box = $("#params");
  box.replaceChildren();
  $("#probs-box").hidden = S.family !== "categorical";
  const P = S.params[S.family];
  for (const p of f.params) {
    const sf = sliderField({ name: p.name, label: p.description, min: p.min, max: p.max, integer: p.integer, log: p.name === "rate" || p.name === "n", value: P[p.name],
      slider_min: p.name === "mu" ? -10 : p.name === "low" || p.name === "high" ? -10 : undefined,
      slider_max: ["mu", "low", "high", "sigma", "b"].includes(p.name) ? 10 : ["alpha", "beta"].includes(p.name) ? 20 : undefined },
    (v) => { P[p.name] = v; run(); });
    box.append(sf.el);
  }
}

function parseProbs(text) {
  const v = text.split(/[,;\s]+/).filter(Boolean).map(Number);
  if (!v.length || v.length > 100 || v.some((x) => !Number.isFinite(x) || x < 0)) return "enter 1 to 100 non-negative numbers";
  const s = v.reduce((a, b) => a + b, 0);
  if (!(s > 0)) return "at least one probability must be positive";
  return v.map((x) => x / s);
}

async function boot() {
  const q = readQuery();
  const sel = $("#family");
  if (!(await loadFamilies(sel, FAM, S, q))) return;
  if (q.has("probs")) { const pr = parseProbs(q.get("probs")); if (Array.isArray(pr)) S.probs = pr; }
  const ns = Number(q.get("n_samples"));
  if (Number.isInteger(ns) && ns >= 1 && ns <= 100000) S.n_samples = ns;
  const sd = Number(q.get("seed"));
  if (Number.isInteger(sd) && sd >= 0 && sd <= 4294967295) S.seed = sd;
  sel.value = S.family;
  sel.addEventListener("change", () => { S.family = sel.value; buildParams(); run(); });
  $("#probs").value = S.probs.map((p) => +p.toPrecision(4)).join(", ");
  $("#probs").addEventListener("input", (e) => {
    const pr = parseProbs(e.target.value);
    $("#probs-error").textContent = typeof pr === "string" ? pr : "";
    if (Array.isArray(pr)) { S.probs = pr; run(); }
  });
  const n = sliderField({ name: "n_samples", label: "samples n", min: 1, max: 100000, integer: true, log: true, value: S.n_samples }, (v) => { S.n_samples = v; run(); });
  const seed = sliderField({ name: "seed", label: "seed", min: 0, max: 1000, integer: true, value: S.seed }, (v) => { S.seed = v; run(); });
  $("#sampling").append(n.el, seed.el);
  ui.table = dataTable($("#density-data"), [], [], { caption: "Density and cdf", filename: "distribution.csv" });
  buildParams();
  finishBoot();
  run();
}

boot();
