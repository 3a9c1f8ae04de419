// Spectral clustering: two moons / two circles, a k-NN or RBF similarity graph, the Laplacian's
// smallest eigenvalues and the Fiedler vector, and the clusters beside those of k-means.
// Data: POST /api/v1/linalg/spectral-clustering. URL state: the request fields + colour.

import { applyHide, checkboxField, dataTable, el, hiddenSet, qNumber, readQuery, selectField, sliderField, writeQuery } from "./controls.js";
import { $, C, CLUSTER_COLORS, DIVERGING, PLOT_CONFIG, Plotly, fetcher, hookCopyLink, layout, num } from "./lab-common.js";

const S = { dataset: "moons", n_samples: 300, noise: 0.05, seed: 0, affinity: "knn", n_neighbors: 8, gamma: 20, normalized: true, colour: "clusters" };
let D = null;
const ui = {};

function readState() {
  const q = readQuery();
  const pick = (name, allowed) => (allowed.includes(q.get(name)) ? q.get(name) : S[name]);
  S.dataset = pick("dataset", ["moons", "circles"]);
  S.affinity = pick("affinity", ["knn", "rbf"]);
  S.colour = pick("colour", ["clusters", "fiedler"]);
  const int = (name, lo, hi) => { const v = Math.round(qNumber(q, name, S[name])); S[name] = Math.min(hi, Math.max(lo, v)); };
  int("n_samples", 20, 600);
  int("seed", 0, 2 ** 31 - 1);
  int("n_neighbors", 1, 50);
  const noise = qNumber(q, "noise", S.noise);
  S.noise = noise >= 0 && noise <= 0.3 ? noise : S.noise;
  const g = qNumber(q, "gamma", S.gamma);
  S.gamma = g > 0 && g <= 1000 ? g : S.gamma;
  if (q.has("normalized")) S.normalized = q.get("normalized") !== "false" && q.get("normalized") !== "0";
  return q;
}

function writeState() {
  writeQuery([["dataset", S.dataset], ["n_samples", S.n_samples], ["noise", S.noise], ["seed", S.seed], ["affinity", S.affinity],
    ["n_neighbors", S.n_neighbors], ["gamma", S.gamma], ["normalized", S.normalized ? "true" : "false"], ["colour", S.colour]]);
}

function body() {
  const b = { dataset: S.dataset, n_samples: S.n_samples, noise: S.noise, seed: S.seed, affinity: S.affinity, normalized: S.normalized };
  if (S.affinity === "knn") b.n_neighbors = Math.min(S.n_neighbors, S.n_samples - 1);
  else b.gamma = S.gamma;
  return b;
}

// ------------------------------------------------------------------------------ drawing

function edgeTrace() {
  const xs = [], ys = [];
  for (const [i, j] of D.edges) { xs.push(D.x[i], D.x[j], null); ys.push(D.y[i], D.y[j], null); }
  return { type: "scatter", mode: "lines", x: xs, y: ys, line: { color: "rgba(120,130,150,0.35)", width: 0.8 }, hoverinfo: "skip", name: "graph edges" };
}

const SYMBOLS = ["circle", "diamond", "square", "triangle-up"];

function pointsTrace(labels, { fiedler = false } = {}) {
  const marker = fiedler
    ? { color: D.fiedler, colorscale: DIVERGING, cmid: 0, size: 7, line: { color: "#333", width: 0.4 }, showscale: true, colorbar: { title: { text: "v₂" }, thickness: 10, len: 0.6 } }
    : { color: labels.map((c) => CLUSTER_COLORS[c % 4]), symbol: labels.map((c) => SYMBOLS[c % 4]), size: 7, line: { color: "#fff", width: 0.6 } };
  return {
    type: "scatter", mode: "markers", x: D.x, y: D.y, marker, name: "points",
    customdata: D.x.map((_, i) => [labels[i], D.fiedler[i], D.y_true[i]]),
    hovertemplate: "(%{x:.2f}, %{y:.2f})<br>cluster %{customdata[0]} · true group %{customdata[2]}<br>Fiedler v₂ = %{customdata[1]:.4f}<extra></extra>",
  };
}

function sq(extra = {}) {
  return layout({ xaxis: { zeroline: false, ...extra.xaxis }, yaxis: { zeroline: false, scaleanchor: "x", ...extra.yaxis }, margin: { l: 40, r: 10, t: 8, b: 30 } });
}

function drawAll() {
  const fied = S.colour === "fiedler";
  Plotly.react($("#spectral"), [edgeTrace(), pointsTrace(D.labels_spectral, { fiedler: fied })], sq(), PLOT_CONFIG);
  Plotly.react($("#kmeans"), [pointsTrace(D.labels_kmeans)], sq(), PLOT_CONFIG);
  $("#spec-title").textContent = `Spectral clustering: ${pct(D.acc_spectral)} of points in their true group${fied ? " (colour: Fiedler vector v₂)" : ""}`;
  $("#km-title").textContent = `k-means on the raw points: ${pct(D.acc_kmeans)}`;
  const k = D.eigvals.map((_, i) => i + 1);
  Plotly.react($("#eigvals"), [{
    type: "scatter", mode: "markers+lines", x: k, y: D.eigvals, line: { color: C.grey, width: 1 },
    marker: { size: 10, color: k.map((i) => (i === 2 ? C.vermilion : C.blue)) }, hovertemplate: "λ%{x} = %{y:.3g}<extra></extra>",
  }], layout({ xaxis: { title: { text: "index i (λ₂ in vermilion)" }, dtick: 1 }, yaxis: { title: { text: "λᵢ" }, rangemode: "tozero" } }), PLOT_CONFIG);
  const order = D.fiedler.map((v, i) => [v, i]).sort((a, b) => a[0] - b[0]).map((p) => p[1]);
  Plotly.react($("#fiedler"), [0, 1].map((g) => {
    const idx = order.map((i, r) => [i, r]).filter(([i]) => D.y_true[i] === g);
    return {
      type: "scatter", mode: "markers", x: idx.map(([, r]) => r), y: idx.map(([i]) => D.fiedler[i]), name: `true group ${g}`,
      marker: { color: [C.sky, C.vermilion][g], symbol: ["circle", "diamond"][g], size: 5 }, hovertemplate: "rank %{x}: v₂ = %{y:.4f}<extra>%{fullData.name}</extra>",
    };
  }), layout({ showlegend: true, legend: { orientation: "h", y: 1.15 }, margin: { l: 52, r: 12, t: 22, b: 40 },
    xaxis: { title: { text: "points, sorted by v₂" } }, yaxis: { title: { text: "v₂" }, zeroline: true } }), PLOT_CONFIG);
  renderStats();
  dataTable($("#spectral-data"), ["x", "y", "true group", "spectral cluster", "k-means cluster", "fiedler"],
    () => D.x.map((x, i) => [x, D.y[i], D.y_true[i], D.labels_spectral[i], D.labels_kmeans[i], D.fiedler[i]]),
    { caption: "Points and clusters", filename: "spectral-clustering.csv" });
  dataTable($("#eig-data"), ["i", "eigenvalue"], () => D.eigvals.map((v, i) => [i + 1, v]), { caption: "Eigenvalues", filename: "laplacian-eigenvalues.csv" });
}

const pct = (v) => `${(100 * v).toFixed(1)}%`;

function renderStats() {
  const items = [
    ["spectral accuracy", pct(D.acc_spectral)],
    ["k-means accuracy", pct(D.acc_kmeans)],
    ["λ₂ (algebraic connectivity)", num(D.eigvals[1], 3)],
    ["connected pieces of the graph", String(D.n_components)],
  ];
  $("#stats").replaceChildren(...items.map(([k, v]) => el("div", {}, el("dt", {}, k), el("dd", {}, v))));
  const warn = D.n_components > 2
    ? `The graph falls into ${D.n_components} pieces: more zero eigenvalues than clusters, so the clusters follow the pieces. Raise k (n_neighbors) or lower γ.`
    : D.n_components === 2
      ? "The graph is already in two separate pieces: λ₁ = λ₂ = 0, and the first two eigenvectors are constant on each piece, so any split along them is exact."
      : "";
  $("#status").textContent = warn;
}

// ------------------------------------------------------------------------------ controls

const fetch = fetcher((data) => { D = data; drawAll(); });

function compute() {
  writeState();
  ui.k.el.hidden = S.affinity !== "knn";
  ui.gamma.el.hidden = S.affinity !== "rbf";
  fetch.run("/api/v1/linalg/spectral-clustering", body());
}

function boot() {
  const q = readState();
  hookCopyLink();
  const set = (k) => (v) => { S[k] = v; compute(); };
  ui.dataset = selectField({ name: "dataset", label: "Shape", value: S.dataset, options: [{ value: "moons", label: "Two moons" }, { value: "circles", label: "Two concentric circles" }] }, set("dataset"));
  ui.n = sliderField({ name: "n_samples", label: "Points (n_samples)", min: 20, max: 600, integer: true, value: S.n_samples }, set("n_samples"));
  ui.noise = sliderField({ name: "noise", label: "Noise", min: 0, max: 0.3, step: 0.01, value: S.noise }, set("noise"));
  ui.seed = sliderField({ name: "seed", label: "Seed", min: 0, max: 999, integer: true, value: S.seed }, set("seed"));
  $("#data-fields").append(ui.dataset.el, ui.n.el, ui.noise.el, ui.seed.el);
  ui.aff = selectField({ name: "affinity", label: "Graph", value: S.affinity, options: [{ value: "knn", label: "k nearest neighbours" }, { value: "rbf", label: "RBF (Gaussian) weights" }] }, set("affinity"));
  ui.k = sliderField({ name: "n_neighbors", label: "k (n_neighbors)", min: 1, max: 50, integer: true, value: S.n_neighbors }, set("n_neighbors"));
  ui.gamma = sliderField({ name: "gamma", label: "γ (gamma): W = exp(−γ‖xᵢ − xⱼ‖²)", min: 0.1, max: 1000, log: true, value: S.gamma }, set("gamma"));
  ui.norm = checkboxField({ name: "normalized", label: "normalized Laplacian I − D^−½ W D^−½", value: S.normalized }, set("normalized"));
  $("#graph-fields").append(ui.aff.el, ui.k.el, ui.gamma.el, ui.norm.el);
  ui.colour = selectField({ name: "colour", label: "Colour the left plot by", value: S.colour, options: [{ value: "clusters", label: "spectral clusters" }, { value: "fiedler", label: "Fiedler vector v₂ (sign = split)" }] },
    (v) => { S.colour = v; writeState(); if (D) drawAll(); });
  $("#show-fields").append(ui.colour.el);
  applyHide(document.querySelector(".lab-grid"), hiddenSet(q));
  compute();
}

boot();
