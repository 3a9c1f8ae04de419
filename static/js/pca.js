// Eigenvectors and PCA: a seeded correlated cloud (or pasted CSV), its covariance, principal
// axes scaled by √λ, projection onto the top-k components, and the scree plot.
// Everything drawn comes from POST /api/v1/linalg/pca.

import { applyHide, dataTable, el, hiddenSet, qNumber, readQuery, sliderField, writeQuery } from "./controls.js";
import { $, C, PLOT_CONFIG, Plotly, fetcher, hookCopyLink, layout, num } from "./lab-common.js";

const AXIS_COLORS = [C.blue, C.vermilion, C.green];
const MAX_ROWS = 2000;
const S = { source: "cloud", dim: 2, n_samples: 300, stds: [2, 1.2, 0.5], correlation: 0.6, seed: 0, n_components: 1 };
let D = null;
let csvRows = null;
const ui = {};

function body() {
  const b = { n_components: Math.min(S.n_components, dim()) };
  if (S.source === "csv") b.data = csvRows;
  else Object.assign(b, { n_samples: S.n_samples, stds: S.stds.slice(0, S.dim), correlation: S.correlation, seed: S.seed });
  return b;
}
const dim = () => (S.source === "csv" && csvRows ? csvRows[0].length : S.dim);

function parseCSV(text) {
  const rows = [];
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
  for (const [i, line] of lines.entries()) {
    const cells = line.split(/[,;\s\t]+/).filter(Boolean);
    const v = cells.map(Number);
    if (v.some((x) => !Number.isFinite(x))) {
      if (i === 0) continue; // a header
      throw new Error(`line ${i + 1} is not numbers: “${line.slice(0, 40)}”`);
    }
    rows.push(v);
  }
  if (rows.length < 3) throw new Error("paste at least 3 points");
  if (rows.length > MAX_ROWS) throw new Error(`at most ${MAX_ROWS} points; got ${rows.length}`);
  const d = rows[0].length;
  if (d < 2 || d > 3) throw new Error(`each line needs 2 or 3 numbers; the first has ${d}`);
  const bad = rows.findIndex((r) => r.length !== d);
  if (bad >= 0) throw new Error(`point ${bad + 1} has ${rows[bad].length} numbers, the first has ${d}`);
  return rows;
}

// ------------------------------------------------------------------ drawing

function cloudFigure() {
  const d = D.mean.length;
  const k = D.scores[0].length;
  const X = D.data;
  const R = D.reconstruction;
  const col = (M, j) => M.map((r) => r[j]);
  const traces = [];
  if (d === 2) {
    const seg = { x: [], y: [] };
    X.forEach((p, i) => { seg.x.push(p[0], R[i][0], null); seg.y.push(p[1], R[i][1], null); });
    traces.push({ ...seg, type: "scatter", mode: "lines", line: { color: "rgba(230,159,0,0.35)", width: 1 }, hoverinfo: "skip", name: "error" });
    traces.push({ x: col(X, 0), y: col(X, 1), type: "scatter", mode: "markers", marker: { color: "#6b7585", size: 5, opacity: 0.6 }, name: "data", hovertemplate: "(%{x:.3f}, %{y:.3f})<extra>data</extra>" });
    traces.push({ x: col(R, 0), y: col(R, 1), type: "scatter", mode: "markers", marker: { color: C.orange, size: 5 }, name: `rank-${k} reconstruction`, hovertemplate: "(%{x:.3f}, %{y:.3f})<extra>reconstruction</extra>" });
    D.components.forEach((w, j) => {
      const s = Math.sqrt(D.eigvals[j]);
      traces.push({ x: [D.mean[0] - s * w[0], D.mean[0] + s * w[0]], y: [D.mean[1] - s * w[1], D.mean[1] + s * w[1]], type: "scatter", mode: "lines+markers",
        line: { color: AXIS_COLORS[j], width: j < k ? 5 : 3, dash: j < k ? "solid" : "dot" }, marker: { size: [0, 10], symbol: "arrow", angleref: "previous", color: AXIS_COLORS[j] },
        name: `axis ${j + 1}`, hovertemplate: `w${j + 1}·√λ${j + 1}, λ = ${num(D.eigvals[j])}<extra></extra>` });
    });
    const lay = layout({ margin: { l: 48, r: 10, t: 10, b: 40 }, xaxis: { title: { text: "x₁" }, zeroline: false }, yaxis: { title: { text: "x₂" }, scaleanchor: "x", scaleratio: 1, zeroline: false }, uirevision: "cloud2" });
    return { traces, lay };
  }
  traces.push({ x: col(X, 0), y: col(X, 1), z: col(X, 2), type: "scatter3d", mode: "markers", marker: { color: "#6b7585", size: 2.5, opacity: 0.6 }, name: "data" });
  traces.push({ x: col(R, 0), y: col(R, 1), z: col(R, 2), type: "scatter3d", mode: "markers", marker: { color: C.orange, size: 2.5 }, name: `rank-${k} reconstruction` });
  D.components.forEach((w, j) => {
    const s = Math.sqrt(D.eigvals[j]);
    traces.push({ x: [D.mean[0] - s * w[0], D.mean[0] + s * w[0]], y: [D.mean[1] - s * w[1], D.mean[1] + s * w[1]], z: [D.mean[2] - s * w[2], D.mean[2] + s * w[2]],
      type: "scatter3d", mode: "lines", line: { color: AXIS_COLORS[j], width: j < k ? 9 : 4 }, name: `axis ${j + 1}` });
  });
  return { traces, lay: { font: layout().font, margin: { l: 0, r: 0, t: 0, b: 0 }, showlegend: false, scene: { aspectmode: "data" }, uirevision: "cloud3" } };
}

function screeFigure() {
  const r = D.explained_variance_ratio;
  const k = D.scores[0].length;
  const labels = r.map((_, j) => `PC${j + 1}`);
  let c = 0;
  const cum = r.map((v) => (c += v));
  return {
    traces: [
      { x: labels, y: r, type: "bar", marker: { color: r.map((_, j) => (j < k ? AXIS_COLORS[j] : "#c5cbd6")) }, name: "explained", hovertemplate: "%{x}: %{y:.1%}<extra></extra>" },
      { x: labels, y: cum, type: "scatter", mode: "lines+markers", line: { color: C.black }, name: "cumulative", hovertemplate: "first %{x}: %{y:.1%}<extra>cumulative</extra>" },
    ],
    lay: layout({ margin: { l: 52, r: 10, t: 10, b: 34 }, yaxis: { range: [0, 1.05], tickformat: ".0%", title: { text: "share of variance" } } }),
  };
}

function readout() {
  const d = D.mean.length;
  const k = D.scores[0].length;
  const tbl = el("table", { class: "data" },
    el("caption", { class: "sr-only" }, "Covariance matrix"),
    el("tbody", {}, D.covariance.map((row) => el("tr", {}, row.map((v) => el("td", {}, num(v, 4)))))));
  $("#cov").replaceChildren(el("span", { class: "note" }, "Σ = "), tbl);
  const items = [];
  const add = (dt, dd) => items.push(el("dt", {}, dt), el("dd", {}, dd));
  D.eigvals.forEach((l, j) => add(`λ${j + 1} = ${num(l)}  (${num(100 * D.explained_variance_ratio[j], 3)}%)`, `axis w${j + 1} = (${D.components[j].map((v) => num(v, 3)).join(", ")})`));
  const kept = D.explained_variance_ratio.slice(0, k).reduce((a, b) => a + b, 0);
  add(`Keep k = ${k} of ${d}`, `${num(100 * kept, 3)}% of the variance kept; mean squared reconstruction error ${num(D.reconstruction_mse)} = (n−1)/n · (sum of the dropped λ).`);
  $("#facts").replaceChildren(...items);
}

async function draw(data) {
  D = data;
  const c = cloudFigure();
  const s = screeFigure();
  await Promise.all([Plotly.react("cloud", c.traces, c.lay, PLOT_CONFIG), Plotly.react("scree", s.traces, s.lay, PLOT_CONFIG)]);
  readout();
  const d = D.mean.length;
  const names = ["x1", "x2", "x3"].slice(0, d);
  ui.cloudTable.update([...names, ...names.map((n) => `${n}_hat`), ...D.scores[0].map((_, j) => `score${j + 1}`)],
    () => D.data.map((p, i) => [...p, ...D.reconstruction[i], ...D.scores[i]]));
  ui.screeTable.update(["component", "eigenvalue", "explained ratio"], () => D.eigvals.map((l, j) => [`PC${j + 1}`, l, D.explained_variance_ratio[j]]));
}

// ------------------------------------------------------------------ state

const fetch = fetcher(draw, 50);

function writeState() {
  writeQuery({ dim: S.dim, n_samples: S.n_samples, stds: S.stds.slice(0, S.dim), correlation: S.correlation, seed: S.seed, n_components: S.n_components, source: S.source === "csv" ? "csv" : null });
}

function readState() {
  const q = readQuery();
  S.dim = q.get("dim") === "3" ? 3 : 2;
  const n = qNumber(q, "n_samples", S.n_samples);
  if (Number.isInteger(n) && n >= 3 && n <= MAX_ROWS) S.n_samples = n;
  if (q.has("stds")) {
    const v = q.get("stds").split(",").map(Number);
    v.forEach((x, i) => { if (i < 3 && x > 0 && x <= 100) S.stds[i] = x; });
    if (v.length === 3) S.dim = 3;
  }
  const r = qNumber(q, "correlation", S.correlation);
  if (Math.abs(r) <= 0.99) S.correlation = r;
  const seed = qNumber(q, "seed", 0);
  if (Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32) S.seed = seed;
  const k = qNumber(q, "n_components", 1);
  if (Number.isInteger(k) && k >= 1 && k <= 3) S.n_components = k;
  if (q.get("source") === "csv") S.source = "csv";
}

function run() {
  writeState();
  if (S.source === "csv") {
    try {
      csvRows = parseCSV($("#csv").value);
      $("#csv-error").textContent = "";
    } catch (e) {
      $("#csv-error").textContent = e.message;
      return;
    }
  }
  ui.k.range.max = String(dim());
  ui.k.number.max = String(dim());
  if (S.n_components > dim()) { S.n_components = dim(); ui.k.value = S.n_components; }
  fetch.run("/api/v1/linalg/pca", body());
}

function buildCloud() {
  const box = $("#cloud-fields");
  box.replaceChildren();
  const add = (f) => box.append(f.el);
  add(sliderField({ name: "n_samples", label: "points n", min: 3, max: MAX_ROWS, integer: true, step: 1, value: S.n_samples }, (v) => { S.n_samples = v; run(); }));
  for (let i = 0; i < S.dim; i++) {
    add(sliderField({ name: `std${i + 1}`, label: `standard deviation s${i + 1}`, min: 0.05, max: 100, slider_min: 0.05, slider_max: 4, step: 0.05, value: S.stds[i], control: "stds" }, (v) => { S.stds[i] = v; run(); }));
  }
  add(sliderField({ name: "correlation", label: "correlation ρ (Σᵢⱼ = ρ^|i−j| sᵢ sⱼ)", min: -0.99, max: 0.99, step: 0.01, value: S.correlation }, (v) => { S.correlation = v; run(); }));
  add(sliderField({ name: "seed", label: "seed", min: 0, max: 2 ** 32 - 1, slider_min: 0, slider_max: 50, integer: true, step: 1, value: S.seed }, (v) => { S.seed = v; run(); }));
}

function boot() {
  readState();
  const hidden = hiddenSet();
  ui.k = sliderField({ name: "n_components", label: "keep the top k components", min: 1, max: 3, integer: true, step: 1, value: S.n_components }, (v) => { S.n_components = v; run(); });
  $("#k-box").append(ui.k.el);
  $("#dim").value = String(S.dim);
  $("#dim").addEventListener("change", (e) => { S.dim = Number(e.target.value); buildCloud(); run(); });
  $("#source").value = S.source;
  const showSource = () => { $("#cloud-box").hidden = S.source !== "cloud"; $("#csv-box").hidden = S.source !== "csv"; };
  $("#source").addEventListener("change", (e) => { S.source = e.target.value; showSource(); run(); });
  $("#csv").addEventListener("input", () => { if (S.source === "csv") run(); });
  showSource();
  buildCloud();
  ui.cloudTable = dataTable($("#cloud-data"), [], [], { caption: "Points, reconstructions and scores", filename: "pca-points.csv" });
  ui.screeTable = dataTable($("#scree-data"), [], [], { caption: "Eigenvalues", filename: "pca-eigenvalues.csv" });
  hookCopyLink();
  applyHide(document.querySelector(".lab-grid"), hidden);
  run();
}

boot();
