// Least squares and the pseudoinverse: one polynomial fit solved four ways (normal equations,
// numpy's lstsq, the SVD pseudoinverse, ridge), each against the exact solution, as the design
// turns nearly collinear. Everything drawn comes from POST /api/v1/linalg/least_squares.

import { applyHide, dataTable, el, hiddenSet, qNumber, readQuery, sliderField, writeQuery } from "./controls.js";
import { $, C, METHOD_COLORS, PLOT_CONFIG, Plotly, fetcher, hookCopyLink, layout, num } from "./lab-common.js";

const EPS = 2.220446049250313e-16;
const NAMES = {
  normal: "normal equations",
  lstsq: "lstsq (numpy, SVD)",
  pinv: "pseudoinverse X⁺y",
  ridge: "ridge",
};
const COLOR = { normal: METHOD_COLORS[0], lstsq: METHOD_COLORS[1], pinv: METHOD_COLORS[2], ridge: METHOD_COLORS[3] };
const DASH = { normal: "solid", lstsq: "dash", pinv: "dot", ridge: "dashdot" };
const FIELDS = {
  n_samples: { label: "points n", min: 2, max: 500, integer: true },
  degree: { label: "polynomial degree p", min: 1, max: 12, integer: true },
  noise: { label: "noise σ", min: 0, max: 10, step: 0.01 },
  seed: { label: "random seed", min: 0, max: 2 ** 32 - 1, slider_max: 50, integer: true },
  x_offset: { label: "centre c of the x-range", min: 0, max: 100, step: 0.5, description: "a large c makes 1, x, x², … nearly collinear" },
  ridge: { label: "ridge λ", min: 0, max: 1e6, log: true, slider_min: 1e-14, description: "0 = no ridge: plain 1/σ for every σ" },
  rcond: { label: "pinv cutoff rcond", min: 1e-17, max: 1, log: true, description: "pinv drops σᵢ ≤ rcond·σ₁" },
};
const S = { n_samples: 30, degree: 3, x_offset: 0, noise: 0.1, ridge: 0, rcond: 1e-15, seed: 0 };
const PRESETS = {
  easy: { degree: 3, x_offset: 0, ridge: 0, rcond: 1e-15 },
  collinear: { degree: 3, x_offset: 30, ridge: 0, rcond: 1e-15 },
  broken: { degree: 9, x_offset: 10, ridge: 0, rcond: 1e-15 },
  ridge: { degree: 9, x_offset: 10, ridge: 1e-8, rcond: 1e-15 },
};
let D = null;
const ui = {};

const sci = (v) => (v === null || v === undefined ? "—" : Number.isFinite(v) ? v.toExponential(1).replace("e+", "e").replace(/e0$/, "") : "∞");
const SUP = "⁰¹²³⁴⁵⁶⁷⁸⁹";
const power = (k) => (k === 0 ? "1" : k === 1 ? "x" : `x${String(k).split("").map((c) => SUP[Number(c)]).join("")}`);
const SHORT = { normal: "normal eq.", lstsq: "lstsq", pinv: "pinv", ridge: "ridge" };
const degText = (v) => (v === null ? "—" : v >= 0.1 ? `${num(v, 3)}°` : `${v.toExponential(1).replace("e+", "e")}°`);

// ------------------------------------------------------------------ drawing

function fitFigure() {
  const ys = D.y.filter((v) => v !== null);
  const lo = Math.min(...ys, ...D.true_fit);
  const hi = Math.max(...ys, ...D.true_fit);
  const pad = 0.25 * (hi - lo || 1);
  const traces = [
    { x: D.x, y: D.y, type: "scatter", mode: "markers", marker: { color: "#6b7585", size: 6 }, name: "points", hovertemplate: "(%{x:.4g}, %{y:.3f})<extra>point</extra>" },
    { x: D.grid, y: D.true_fit, type: "scatter", mode: "lines", line: { color: C.black, width: 1.5, dash: "dot" }, name: "true curve" },
  ];
  for (const m of D.methods) {
    if (!m.fit) continue;
    const off = m.fit.some((v) => v === null || v < lo - 2 * pad || v > hi + 2 * pad);
    traces.push({ x: D.grid, y: m.fit, type: "scatter", mode: "lines", line: { color: COLOR[m.method], width: 2.5, dash: DASH[m.method] }, name: NAMES[m.method] + (off ? " (runs off the plot)" : ""), hovertemplate: `x = %{x:.4g}: %{y:.3f}<extra>${NAMES[m.method]}</extra>` });
  }
  return {
    traces,
    layout: layout({
      showlegend: true, legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 11 } }, margin: { l: 56, r: 12, t: 40, b: 44 },
      xaxis: { title: { text: "x" } }, yaxis: { title: { text: "y" }, range: [lo - pad, hi + pad] },
    }),
  };
}

function errorFigure() {
  const floor = 1e-17;
  const names = D.methods.map((m) => SHORT[m.method]);
  const vals = D.methods.map((m) => (m.coef_error === null ? null : Math.max(m.coef_error, floor)));
  const kEps = D.cond === null ? null : D.cond * EPS;
  const k2Eps = D.cond_normal === null ? null : D.cond_normal * EPS;
  const top = 10;
  const line = (y, text, color) => (y === null || y > top ? [] : [{
    shape: { type: "line", xref: "paper", x0: 0, x1: 1, y0: y, y1: y, line: { color, dash: "dash", width: 1.5 } },
    note: { xref: "paper", x: 1, y: Math.log10(y), xanchor: "right", yanchor: "bottom", text, showarrow: false, font: { size: 11, color } },
  }]);
  const refs = [...line(kEps, "κε", C.blue), ...line(k2Eps, "κ²ε", C.vermilion)];
  return {
    traces: [{
      x: names, y: vals, type: "bar", marker: { color: D.methods.map((m) => COLOR[m.method]) },
      text: D.methods.map((m) => (m.coef_error === null ? "failed" : sci(m.coef_error))), textposition: "outside", cliponaxis: false,
      hovertemplate: "%{x}: ‖w − w*‖/‖w*‖ = %{y:.3g}<extra></extra>",
    }],
    layout: layout({
      margin: { l: 60, r: 12, t: 16, b: 36 },
      yaxis: { type: "log", range: [-17, 1.3], title: { text: "‖w − w*‖ / ‖w*‖" }, exponentformat: "power" },
      shapes: refs.map((r) => r.shape), annotations: refs.map((r) => r.note),
    }),
  };
}

function spectrumFigure() {
  const idx = D.S.map((_, i) => i + 1);
  const s1 = D.S[0];
  const shapes = [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: S.rcond * s1, y1: S.rcond * s1, line: { color: C.green, dash: "dash", width: 1.5 } }];
  const notes = [{ xref: "paper", x: 0, y: Math.log10(S.rcond * s1), xanchor: "left", yanchor: "bottom", text: "pinv cutoff rcond·σ₁", showarrow: false, font: { size: 11, color: C.green } }];
  if (S.ridge > 0) {
    const r = Math.sqrt(S.ridge);
    shapes.push({ type: "line", xref: "paper", x0: 0, x1: 1, y0: r, y1: r, line: { color: C.purple, dash: "dot", width: 1.5 } });
    notes.push({ xref: "paper", x: 1, y: Math.log10(r), xanchor: "right", yanchor: "bottom", text: "√λ: ridge halves σ below here", showarrow: false, font: { size: 11, color: C.purple } });
  }
  const ys = D.S.filter((v) => v > 0);
  const lo = Math.log10(Math.min(...ys, S.rcond * s1, S.ridge > 0 ? Math.sqrt(S.ridge) : Infinity)) - 0.5;
  const hi = Math.log10(Math.max(...ys, S.ridge > 0 ? Math.sqrt(S.ridge) : 0)) + 0.5;
  return {
    traces: [
      { x: idx, y: D.S.map((s) => Math.max(s, 1e-300)), type: "bar", name: "σᵢ", marker: { color: idx.map((i) => (i <= D.pinv_rank ? C.sky : "#c5cbd6")) }, hovertemplate: "σ%{x} = %{y:.3g}<extra></extra>" },
      { x: idx, y: D.filter, type: "scatter", mode: "lines+markers", yaxis: "y2", name: "ridge filter σ²/(σ²+λ)", line: { color: C.purple, width: 2 }, marker: { size: 7 }, hovertemplate: "σ%{x}: filter %{y:.3g}<extra></extra>" },
    ],
    layout: layout({
      showlegend: true, legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 11 } }, margin: { l: 60, r: 56, t: 40, b: 44 }, bargap: 0.2,
      xaxis: { title: { text: "i (pinv keeps the blue ones)" }, dtick: 1 },
      yaxis: { type: "log", range: [lo, hi], title: { text: "σᵢ" }, exponentformat: "power" },
      yaxis2: { overlaying: "y", side: "right", range: [-0.03, 1.08], tickvals: [0, 0.25, 0.5, 0.75, 1], title: { text: "filter factor" }, showgrid: false },
      shapes, annotations: notes,
    }),
  };
}

function methodTable() {
  const head = el("tr", {}, ["method", "‖w − w*‖/‖w*‖", "‖Xw − y‖", "curve error", "‖w‖"].map((t, i) => el("th", { scope: "col", class: i ? null : "method" }, t)));
  const rows = D.methods.map((m) => el("tr", { dataset: { method: m.method } },
    el("td", { class: "method" }, el("span", { class: "ps-swatch", style: `background:${COLOR[m.method]}` }), NAMES[m.method]),
    el("td", {}, m.coef_error === null ? "failed" : sci(m.coef_error)),
    el("td", {}, num(m.residual, 4)),
    el("td", {}, num(m.curve_rmse, 3)),
    el("td", {}, m.coef_norm === null ? "—" : sci(m.coef_norm))));
  $("#methods").replaceChildren(el("thead", {}, head), el("tbody", {}, rows));
}

function verdict() {
  const m = Object.fromEntries(D.methods.map((r) => [r.method, r]));
  const lost = D.cond_normal === null ? null : Math.log10(Math.max(D.cond_normal, 1));
  const parts = [];
  if (D.cond === null || D.cond * EPS >= 1) {
    parts.push(`κ(X) ≈ ${sci(D.cond)} is beyond 1/ε: in float64 some combination of columns is indistinguishable from zero.`
      + " lstsq, and pinv below its cutoff, drop those directions (a different w with the same residual)"
      + (S.ridge === 0 ? "; ridge with λ = 0 is the plain 1/σ, which blows them up." : "; ridge damps them instead of dividing by them."));
  } else if (lost !== null && lost > 3) {
    const ratio = m.normal.coef_error !== null && m.lstsq.coef_error > 0 ? m.normal.coef_error / m.lstsq.coef_error : null;
    parts.push(`Normal equations: error ${sci(m.normal.coef_error)} (rounding can cost up to κ²ε ≈ ${sci(D.cond_normal * EPS)}); `
      + `lstsq: ${sci(m.lstsq.coef_error)} (up to κε ≈ ${sci(D.cond * EPS)}).`
      + (ratio !== null && ratio > 10 ? ` Forming XᵀX squares κ, and here costs ${sci(ratio)} times the error.` : ""));
  } else {
    parts.push(`κ(X) ≈ ${num(D.cond, 3)}: every method agrees to about ${num(Math.floor(16 - lost), 2)} digits or better.`);
  }
  if (S.ridge > 0 && m.ridge.coef_norm !== null && m.lstsq.coef_norm !== null) {
    parts.push(`Ridge (λ = ${sci(S.ridge)}) shrinks ‖w‖ from ${sci(m.lstsq.coef_norm)} to ${sci(m.ridge.coef_norm)} by damping the σᵢ below √λ.`);
  }
  $("#verdict").textContent = parts.join(" ");
}

async function draw(data) {
  D = data;
  const f = fitFigure();
  const e = errorFigure();
  const s = spectrumFigure();
  await Promise.all([
    Plotly.react("fit", f.traces, f.layout, PLOT_CONFIG),
    Plotly.react("errors", e.traces, e.layout, PLOT_CONFIG),
    Plotly.react("spectrum", s.traces, s.layout, PLOT_CONFIG),
  ]);
  methodTable();
  verdict();
  const stat = (t, v, id) => el("div", {}, el("dt", {}, t), el("dd", { id }, v));
  const p = D.S.length;
  $("#stats").replaceChildren(
    stat("κ(X) = σ₁/σₚ", sci(D.cond), "cond"),
    stat("κ(XᵀX) = κ²", sci(D.cond_normal), "cond-normal"),
    stat(`angle from column ${power(D.column_index)} to the others' span`, degText(D.column_angle), "angle"),
    stat("pinv keeps", `${D.pinv_rank} of ${p} σ`, "pinv-rank"),
  );
  ui.fitTable.update(["x", "y"], () => D.x.map((x, i) => [x, D.y[i]]), { filename: "least-squares-points.csv" });
  ui.specTable.update(["i", "sigma_i", "ridge_filter", "kept_by_pinv"], () => D.S.map((v, i) => [i + 1, v, D.filter[i], i < D.pinv_rank ? "yes" : "no"]));
}

const fetch = fetcher(draw, 60);

function run() {
  writeQuery({ ...S });
  fetch.run("/api/v1/linalg/least_squares", { ...S });
}

function setDegreeLimits() {
  // n ≥ p + 1 points for a degree-p fit.
  if (S.n_samples < S.degree + 1) { S.n_samples = S.degree + 1; ui.n_samples.value = S.n_samples; }
}

function boot() {
  const q = readQuery();
  for (const [k, spec] of Object.entries(FIELDS)) {
    const v = qNumber(q, k, S[k]);
    if (Number.isFinite(v) && v >= spec.min && v <= spec.max && (!spec.integer || Number.isInteger(v))) S[k] = v;
  }
  for (const [k, spec] of Object.entries(FIELDS)) {
    ui[k] = sliderField({ name: k, ...spec, value: S[k] }, (v) => {
      S[k] = v;
      if (k === "degree" || k === "n_samples") setDegreeLimits();
      run();
    });
  }
  setDegreeLimits();
  $("#data-fields").append(ui.n_samples.el, ui.degree.el, ui.noise.el, ui.seed.el);
  $("#offset-field").append(ui.x_offset.el);
  $("#reg-fields").append(ui.ridge.el, ui.rcond.el);
  for (const b of document.querySelectorAll(".ps-presets button")) {
    b.addEventListener("click", () => {
      Object.assign(S, PRESETS[b.dataset.preset]);
      for (const k of Object.keys(PRESETS[b.dataset.preset])) ui[k].value = S[k];
      setDegreeLimits();
      run();
    });
  }
  ui.fitTable = dataTable($("#fit-data"), [], [], { caption: "The points", filename: "least-squares-points.csv" });
  ui.specTable = dataTable($("#spectrum-data"), [], [], { caption: "Singular values and filter factors", filename: "singular-values.csv" });
  hookCopyLink();
  applyHide(document.querySelector(".lab-grid"), hiddenSet(q));
  run();
}

boot();
