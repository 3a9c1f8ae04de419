// Regularization geometry: a 2-weight least-squares loss with the L2 ball and the L1 diamond
// (POST /api/v1/optimization/regularization), and lasso / ridge coefficient paths on a regression
// with many features (POST /api/v1/optimization/regularization-path). Every control is in the URL.

import { applyHide, dataTable, hiddenSet, qNumber, readQuery, sliderField, writeQuery, PLOT_CONFIG } from "./controls.js";
import { $, C, Plotly, fetcher, hookCopyLink, layout, numExact as num, onPlotClick } from "./lab-common.js";

const S = { w_ols: [2, 0.8], rho: 0.5, r: 1, sigma: 1, n: 50, n_samples: 100, n_features: 20, n_informative: 5, path_rho: 0.5, noise: 1, path_seed: 0 };
// [low, high, low excluded]: the API's bounds (r > 0), so that any value a link carries comes back
const LIM = {
  rho: [-0.95, 0.95], r: [0, 10, true], sigma: [0.05, 10], n: [10, 200], n_samples: [20, 200], n_features: [2, 30],
  n_informative: [1, 30], path_rho: [0, 0.95], noise: [0, 10], path_seed: [0, 2 ** 31 - 1],
};
const INTS = new Set(["n", "n_samples", "n_features", "n_informative", "path_seed"]);
const PALETTE = [C.blue, C.vermilion, C.green, C.orange, C.purple, C.sky, C.black, "#b8860b"];
let G = null;
let P = null;
const ui = {};

function writeState() {
  writeQuery({ w_ols: S.w_ols, rho: S.rho, r: S.r, sigma: S.sigma, n: S.n, n_samples: S.n_samples, n_features: S.n_features,
    n_informative: S.n_informative, path_rho: S.path_rho, noise: S.noise, path_seed: S.path_seed });
}

function readState() {
  const q = readQuery();
  const w = (q.get("w_ols") || "").split(",").map(Number);
  if (w.length === 2 && w.every((v) => Number.isFinite(v) && Math.abs(v) <= 5)) S.w_ols = w;
  for (const [k, [lo, hi, open]] of Object.entries(LIM)) {
    const v = qNumber(q, k, S[k]);
    if ((open ? v > lo : v >= lo) && v <= hi && (!INTS.has(k) || Number.isInteger(v))) S[k] = v;
  }
}

// --- the 2-weight view ---------------------------------------------------------------------------

function levelTrace(level, color, name) {
  return { x: G.grid_x, y: G.grid_y, z: G.grid_loss, type: "contour", showscale: false, hoverinfo: "skip", name,
    colorscale: [[0, color], [1, color]], contours: { coloring: "lines", start: level, end: level, size: 1 },
    line: { width: 1.6, dash: "dot" } };
}

function drawGeo() {
  const r = S.r;
  const t = Array.from({ length: 181 }, (_, i) => (2 * Math.PI * i) / 180);
  const { l2, l1 } = G;
  const pt = (w, name, marker, extra = {}) => ({ x: [w[0]], y: [w[1]], type: "scatter", mode: "markers", name, marker,
    hovertemplate: `${name}<br>(%{x:.4f}, %{y:.4f})<extra></extra>`, ...extra });
  const traces = [
    { x: G.grid_x, y: G.grid_y, z: G.grid_loss, type: "contour", colorscale: [[0, "#f7f9fc"], [0.5, "#c9d5e3"], [1, "#6b7b92"]],
      showscale: false, ncontours: 22, contours: { coloring: "fill", showlines: true }, line: { color: "#9aa6b8", width: 0.6 },
      hovertemplate: "L(%{x:.2f}, %{y:.2f}) = %{z:.4g}<extra></extra>", name: "L(w)", showlegend: false },
    levelTrace(l2.loss, C.blue, "contour touching the ball"),
    levelTrace(l1.loss, C.vermilion, "contour touching the diamond"),
    { x: t.map((a) => r * Math.cos(a)), y: t.map((a) => r * Math.sin(a)), type: "scatter", mode: "lines", name: "L2 ball ‖w‖₂ ≤ r",
      line: { color: C.blue, width: 2.5 }, fill: "toself", fillcolor: "rgba(0,114,178,0.08)", hoverinfo: "skip" },
    { x: [r, 0, -r, 0, r], y: [0, r, 0, -r, 0], type: "scatter", mode: "lines", name: "L1 diamond ‖w‖₁ ≤ r",
      line: { color: C.vermilion, width: 2.5 }, fill: "toself", fillcolor: "rgba(213,94,0,0.08)", hoverinfo: "skip" },
    { x: G.ridge_path.map((w) => w[0]), y: G.ridge_path.map((w) => w[1]), type: "scatter", mode: "lines", name: "ridge path (all λ)",
      line: { color: C.blue, width: 1.3, dash: "dash" }, hoverinfo: "skip" },
    { x: G.lasso_path.map((w) => w[0]), y: G.lasso_path.map((w) => w[1]), type: "scatter", mode: "lines", name: "lasso path (all λ)",
      line: { color: C.vermilion, width: 1.3, dash: "dash" }, hoverinfo: "skip" },
    pt(G.w_ols, "ŵ (unconstrained)", { color: C.black, symbol: "star", size: 14 }),
    pt(l2.w, "L2-constrained (SLSQP)", { color: C.blue, size: 11, line: { color: "#fff", width: 1 } }),
    pt(l1.w, "L1-constrained (SLSQP)", { color: C.vermilion, size: 11, symbol: "square", line: { color: "#fff", width: 1 } }),
    pt(G.ridge_at_lam, "ridge at the matching λ", { color: "rgba(0,0,0,0)", size: 20, line: { color: C.blue, width: 2 } }),
    pt(G.lasso_at_lam, "lasso at the matching λ", { color: "rgba(0,0,0,0)", size: 20, symbol: "square", line: { color: C.vermilion, width: 2 } }),
    pt(G.map_gaussian, "MAP, Gaussian prior", { color: C.green, size: 9, symbol: "x-thin", line: { color: C.green, width: 2.5 } }),
    pt(G.map_laplace, "MAP, Laplace prior", { color: C.purple, size: 9, symbol: "cross-thin", line: { color: C.purple, width: 2.5 } }),
  ];
  const span = G.grid_x[G.grid_x.length - 1];
  return Plotly.react("geo", traces, layout({
    showlegend: true, legend: { orientation: "h", x: 0, y: -0.17, yanchor: "top", font: { size: 11 } },
    xaxis: { range: [-span, span], title: { text: "w₁" }, zeroline: true, zerolinecolor: "#555", constrain: "domain" },
    yaxis: { range: [-span, span], title: { text: "w₂" }, zeroline: true, zerolinecolor: "#555", scaleanchor: "x", scaleratio: 1 },
    margin: { l: 44, r: 10, t: 8, b: 8 }, uirevision: "geo",
  }), PLOT_CONFIG);
}

function drawPrior() {
  const span = G.grid_x[G.grid_x.length - 1];
  const xs = Array.from({ length: 401 }, (_, i) => -span + (2 * span * i) / 400);
  const traces = [];
  let peak = 0;
  if (G.tau !== null) {
    const tau = G.tau;
    const y = xs.map((w) => Math.exp(-(w * w) / (2 * tau * tau)) / (tau * Math.sqrt(2 * Math.PI)));
    peak = Math.max(peak, 1 / (tau * Math.sqrt(2 * Math.PI)));
    traces.push({ x: xs, y, type: "scatter", mode: "lines", name: `Gaussian N(0, τ²), τ = ${num(tau, 3)}`, line: { color: C.blue, width: 2 } });
  }
  if (G.b !== null) {
    const b = G.b;
    const y = xs.map((w) => Math.exp(-Math.abs(w) / b) / (2 * b));
    peak = Math.max(peak, 1 / (2 * b));
    traces.push({ x: xs, y, type: "scatter", mode: "lines", name: `Laplace(0, b), b = ${num(b, 3)}`, line: { color: C.vermilion, width: 2 } });
  }
  const lo = peak > 0 ? Math.log10(peak) - 6 : -3;
  const hi = peak > 0 ? Math.log10(peak) + 0.3 : 1;
  return Plotly.react("prior", traces, layout({
    showlegend: true, legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
    xaxis: { title: { text: "wᵢ" } }, yaxis: { type: "log", range: [lo, hi], title: { text: "p(wᵢ) (log)" }, exponentformat: "power" },
    margin: { l: 56, r: 10, t: 34, b: 40 },
    annotations: traces.length ? [] : [{ text: "r ≥ ‖ŵ‖: no constraint binds, λ = 0, a flat prior", showarrow: false, xref: "paper", yref: "paper", x: 0.5, y: 0.5 }],
  }), PLOT_CONFIG);
}

function drawPath2() {
  const k = G.path_lams.length - 1; // the last entry is λ = 0 (ŵ): off a log axis
  const lam = G.path_lams.slice(0, k);
  const tr = (path, j, color, dash, name) => ({ x: lam, y: path.slice(0, k).map((w) => w[j]), type: "scatter", mode: "lines", name,
    line: { color, dash, width: 2 }, hovertemplate: `${name}: %{y:.4f} at λ = %{x:.3g}<extra></extra>` });
  const vline = (x, color) => ({ type: "line", xref: "x", yref: "paper", x0: x, x1: x, y0: 0, y1: 1, line: { color, width: 1.5, dash: "dot" } });
  const shapes = [G.l2.active ? vline(G.l2.lam, C.blue) : null, G.l1.active ? vline(G.l1.lam, C.vermilion) : null].filter(Boolean);
  return Plotly.react("path2", [
    tr(G.ridge_path, 0, C.blue, "solid", "ridge w₁"), tr(G.ridge_path, 1, C.blue, "dash", "ridge w₂"),
    tr(G.lasso_path, 0, C.vermilion, "solid", "lasso w₁"), tr(G.lasso_path, 1, C.vermilion, "dash", "lasso w₂"),
  ], layout({
    showlegend: true, legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" }, shapes,
    xaxis: { type: "log", autorange: "reversed", title: { text: "λ (dotted: the matching λ of the current r)" }, exponentformat: "power" },
    yaxis: { title: { text: "weight" } }, margin: { l: 50, r: 10, t: 34, b: 44 },
  }), PLOT_CONFIG);
}

function facts() {
  const { l2, l1 } = G;
  const dt = (t, v, cls) => [Object.assign(document.createElement("dt"), { textContent: t }), Object.assign(document.createElement("dd"), { textContent: v, className: cls || "" })];
  const w = (v) => `(${num(v[0], 4)}, ${num(v[1], 4)})`;
  const gap = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1]);
  const zero = l1.w.map((v) => Math.abs(v) < 1e-9);
  const sparse = zero[0] && zero[1] ? "both weights are 0" : zero[0] ? "w₁ = 0 exactly: on the w₂ axis (sparse)" : zero[1] ? "w₂ = 0 exactly: on the w₁ axis (sparse)" : "no weight is 0 (the contour touches an edge)";
  $("#facts").replaceChildren(
    ...dt("L2: w_r, ‖w_r‖₂", l2.active ? `${w(l2.w)}, ${num(Math.hypot(...l2.w), 4)}` : `${w(l2.w)} = ŵ (inside the ball)`),
    ...dt("L2: λ from KKT / SLSQP multiplier", `${num(l2.lam, 5)} / ${num(l2.multiplier, 5)}`),
    ...dt("ridge at that λ (closed form)", `${w(G.ridge_at_lam)}, distance ${num(gap(G.ridge_at_lam, l2.w), 2)}`),
    ...dt("L1: w_r", l1.active ? `${w(l1.w)}: ${sparse}` : `${w(l1.w)} = ŵ (inside the diamond)`, l1.active && (zero[0] || zero[1]) ? "rg-good" : ""),
    ...dt("L1: λ from KKT / SLSQP multiplier", `${num(l1.lam, 5)} / ${num(l1.multiplier, 5)}`),
    ...dt("lasso at that λ (coordinate descent)", `${w(G.lasso_at_lam)}, distance ${num(gap(G.lasso_at_lam, l1.w), 2)}`),
  );
  $("#map-text").textContent = G.tau === null && G.b === null ? "Neither constraint binds: λ = 0 and the MAP is the least-squares ŵ (a flat prior)." :
    `With σ = ${num(G.sigma, 3)} and n = ${G.n}: the ridge λ = ${num(l2.lam, 4)} is the Gaussian prior τ = ${G.tau === null ? "∞" : num(G.tau, 4)}, ` +
    `whose MAP ${w(G.map_gaussian)} is the ridge point; the lasso λ = ${num(l1.lam, 4)} is the Laplace prior b = ${G.b === null ? "∞" : num(G.b, 4)}, ` +
    `whose MAP ${w(G.map_laplace)} is the lasso point (both MAPs found by minimizing −log posterior directly).`;
}

async function drawG(data) {
  G = data;
  await Promise.all([drawGeo(), drawPrior(), drawPath2()]);
  facts();
  ui.geoTable.update(["point", "w1", "w2", "lambda"], () => [
    ["w_ols", ...G.w_ols, 0], ["l2_constrained", ...G.l2.w, G.l2.lam], ["ridge_at_lambda", ...G.ridge_at_lam, G.l2.lam],
    ["map_gaussian", ...G.map_gaussian, G.l2.lam], ["l1_constrained", ...G.l1.w, G.l1.lam], ["lasso_at_lambda", ...G.lasso_at_lam, G.l1.lam],
    ["map_laplace", ...G.map_laplace, G.l1.lam],
  ]);
}

// --- many features ---------------------------------------------------------------------------------

function pathPlot(id, alphas, coefs, truth) {
  const p = truth.length;
  let c = 0;
  const traces = [];
  for (let j = 0; j < p; j++) {
    const informative = truth[j] !== 0;
    const color = informative ? PALETTE[c++ % PALETTE.length] : "#a3acb9";
    traces.push({ x: alphas, y: coefs.map((row) => row[j]), type: "scatter", mode: "lines", name: `x${j + 1}${informative ? "" : " (noise)"}`,
      line: { color, width: informative ? 2 : 1 }, hovertemplate: `x${j + 1}: %{y:.4f} at λ = %{x:.3g}<extra></extra>` });
  }
  const xEnd = alphas[alphas.length - 1];
  traces.push({ x: truth.map(() => xEnd), y: truth, type: "scatter", mode: "markers", name: "true coefficients",
    marker: { color: C.black, symbol: "line-ew-open", size: 12, line: { width: 2 } }, hovertemplate: "true: %{y:.3f}<extra></extra>" });
  return Plotly.react(id, traces, layout({
    xaxis: { type: "log", autorange: "reversed", title: { text: "λ (strong → weak)" }, exponentformat: "power" },
    yaxis: { title: { text: "coefficient" } }, margin: { l: 54, r: 10, t: 8, b: 44 },
  }), PLOT_CONFIG);
}

function drawMse() {
  const tr = (x, y, color, dash, name) => ({ x, y, type: "scatter", mode: "lines", name, line: { color, dash, width: 2 }, hovertemplate: `${name}: %{y:.4g} at λ = %{x:.3g}<extra></extra>` });
  return Plotly.react("mse", [
    tr(P.lasso_alphas, P.lasso_test_mse, C.vermilion, "solid", "lasso, held-out"), tr(P.lasso_alphas, P.lasso_train_mse, C.vermilion, "dot", "lasso, train"),
    tr(P.ridge_alphas, P.ridge_test_mse, C.blue, "solid", "ridge, held-out"), tr(P.ridge_alphas, P.ridge_train_mse, C.blue, "dot", "ridge, train"),
  ], layout({
    showlegend: true, legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom" },
    shapes: P.ols_test_mse === null ? [] : [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: P.ols_test_mse, y1: P.ols_test_mse, line: { color: C.black, dash: "dash", width: 1 } }],
    xaxis: { type: "log", autorange: "reversed", title: { text: "λ (strong → weak)" }, exponentformat: "power" },
    yaxis: { type: "log", title: { text: "MSE" }, exponentformat: "power" }, margin: { l: 60, r: 10, t: 26, b: 44 },
  }), PLOT_CONFIG);
}

async function drawP(data) {
  P = data;
  await Promise.all([pathPlot("lasso", P.lasso_alphas, P.lasso_coefs, P.true_coef), pathPlot("ridge", P.ridge_alphas, P.ridge_coefs, P.true_coef), drawMse()]);
  const best = (mse) => mse.reduce((b, v, i) => (v !== null && v < mse[b] ? i : b), 0);
  const bl = best(P.lasso_test_mse);
  const br = best(P.ridge_test_mse);
  $("#mse-note").textContent = `Least squares (dashed line): held-out MSE ${num(P.ols_test_mse, 4)}. Best lasso: ${num(P.lasso_test_mse[bl], 4)} at λ = ${num(P.lasso_alphas[bl], 3)} ` +
    `with ${P.lasso_nonzero[bl]} of ${P.true_coef.length} coefficients nonzero (truth: ${P.true_coef.filter((v) => v !== 0).length}). ` +
    `Best ridge: ${num(P.ridge_test_mse[br], 4)} at λ = ${num(P.ridge_alphas[br], 3)}, with every coefficient nonzero.` +
    (P.converged ? "" : " (Coordinate descent stopped short of its tolerance at some λ.)");
  const p = P.true_coef.length;
  ui.lassoTable.update(["lambda", "nonzero", ...Array.from({ length: p }, (_, j) => `x${j + 1}`)], () => P.lasso_alphas.map((a, k) => [a, P.lasso_nonzero[k], ...P.lasso_coefs[k]]));
}

const gFetch = fetcher(drawG, 40);
const pFetch = fetcher(drawP, 80);

function runG() {
  writeState();
  gFetch.run("/api/v1/optimization/regularization", { w_ols: S.w_ols, rho: S.rho, r: S.r, sigma: S.sigma, n: S.n });
}

function runP() {
  writeState();
  if (S.n_informative > S.n_features) {
    ui.n_informative.setError(`n_informative must be ≤ n_features (${S.n_features})`);
    return;
  }
  ui.n_informative.setError("");
  pFetch.run("/api/v1/optimization/regularization-path", { n_samples: S.n_samples, n_features: S.n_features, n_informative: S.n_informative,
    rho: S.path_rho, noise: S.noise, seed: S.path_seed });
}

function boot() {
  readState();
  const q = readQuery();
  const field = (spec, key, run) => sliderField({ name: key, value: S[key], ...spec }, (v) => { S[key] = v; run(); });
  const wField = (i) => sliderField({ name: `w${i + 1}`, label: `ŵ${i ? "₂" : "₁"} (unconstrained minimum)`, min: -5, max: 5, step: 0.05, value: S.w_ols[i], control: "w_ols" },
    (v) => { S.w_ols = i ? [S.w_ols[0], v] : [v, S.w_ols[1]]; runG(); });
  ui.w1 = wField(0);
  ui.w2 = wField(1);
  ui.r = field({ label: "radius r of ‖w‖ ≤ r", min: 0, max: 10, exclusive_min: true, slider_min: 0.05, slider_max: 5, step: 0.01 }, "r", runG);
  ui.rho = field({ label: "feature correlation ρ (tilts the ellipses)", min: -0.95, max: 0.95, step: 0.01 }, "rho", runG);
  ui.sigma = field({ label: "noise σ (for the prior scales)", min: 0.05, max: 10, step: 0.05 }, "sigma", runG);
  ui.n = field({ label: "samples n", min: 10, max: 200, integer: true }, "n", runG);
  $("#geo-fields").append(ui.w1.el, ui.w2.el, ui.r.el, ui.rho.el, ui.sigma.el, ui.n.el);
  ui.n_features = field({ label: "features p", min: 2, max: 30, integer: true }, "n_features", runP);
  ui.n_informative = field({ label: "informative features (true ≠ 0)", min: 1, max: 30, integer: true }, "n_informative", runP);
  ui.n_samples = field({ label: "training samples", min: 20, max: 200, integer: true }, "n_samples", runP);
  ui.path_rho = field({ label: "correlation of neighbouring features", min: 0, max: 0.95, step: 0.01 }, "path_rho", runP);
  ui.noise = field({ label: "noise std", min: 0, max: 10, step: 0.1 }, "noise", runP);
  ui.path_seed = field({ label: "seed", min: 0, max: 2 ** 31 - 1, integer: true, slider_max: 50 }, "path_seed", runP);
  $("#path-fields").append(ui.n_features.el, ui.n_informative.el, ui.n_samples.el, ui.path_rho.el, ui.noise.el, ui.path_seed.el);
  ui.geoTable = dataTable($("#geo-data"), [], [], { caption: "Solutions", filename: "regularization-points.csv" });
  ui.lassoTable = dataTable($("#lasso-data"), [], [], { caption: "Lasso path", filename: "lasso-path.csv" });
  hookCopyLink();
  applyHide(document.querySelector(".lab-grid"), hiddenSet(q));
  runG();
  runP();
  onPlotClick($("#geo"), (p) => {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) return;
    const c = (v) => Math.max(-5, Math.min(5, Number(v.toPrecision(3))));
    S.w_ols = [c(p.x), c(p.y)];
    ui.w1.value = S.w_ols[0];
    ui.w2.value = S.w_ols[1];
    runG();
  });
}

boot();
