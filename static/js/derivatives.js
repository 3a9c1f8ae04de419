// Derivatives and the tangent line: f, f′, the tangent at x0, and the finite-difference slope
// against h (POST /api/v1/calculus/derivatives). Every control is in the URL.

import { applyHide, dataTable, hiddenSet, qNumber, readQuery, sliderField, writeQuery } from "./controls.js";
import { $, C, PLOT_CONFIG, Plotly, fetcher, hookCopyLink, hookExpression, layout, numExact as num, onPlotClick, sci } from "./lab-common.js";

const S = { expression: "sin(x)", x0: 1, h: 0.5, x_range: [-4, 4] };
let D = null;
const ui = {};

function writeState() {
  writeQuery({ expression: S.expression, x0: S.x0, h: S.h, x_range: S.x_range });
}

function readState() {
  const q = readQuery();
  if (q.get("expression")) S.expression = q.get("expression").slice(0, 200);
  const x0 = qNumber(q, "x0", S.x0);
  if (Math.abs(x0) <= 1e4) S.x0 = x0;
  const h = qNumber(q, "h", S.h);
  if (h >= 1e-16 && h <= 10) S.h = h;
  const r = (q.get("x_range") || "").split(",").map(Number);
  if (r.length === 2 && r.every((v) => Number.isFinite(v) && Math.abs(v) <= 1e4) && r[0] < r[1]) S.x_range = r;
}

function interpLog(xs, ys, x) {
  // ys at x on a log-log scale, for the "you are here" marker
  const lx = Math.log10(x);
  for (let i = 1; i < xs.length; i++) {
    if (xs[i] >= x) {
      const a = ys[i - 1], b = ys[i];
      if (!(a > 0) || !(b > 0)) return b ?? a;
      const t = (lx - Math.log10(xs[i - 1])) / (Math.log10(xs[i]) - Math.log10(xs[i - 1]));
      return 10 ** (Math.log10(a) + t * (Math.log10(b) - Math.log10(a)));
    }
  }
  return ys[ys.length - 1];
}

async function draw(data) {
  D = data;
  $("#expr-error").textContent = "";
  $("#f-formula").innerHTML = `<span class="note">f(x) =</span> ${D.mathml}`;
  $("#df-formula").innerHTML = `<span class="note">f′(x) =</span> ${D.derivative_mathml}`;
  const fin = D.f.filter((v) => v !== null && Number.isFinite(v));
  const lo = Math.min(...fin), hi = Math.max(...fin);
  const pad = 0.15 * (hi - lo || 1);
  const sx = [S.x0 - S.h, S.x0 + S.h + 0.0];
  const secant = sx.map((x) => D.f0 + D.secant_forward * (x - S.x0));
  const jobs = [];
  jobs.push(Plotly.react("fplot", [
    { x: D.x, y: D.f, type: "scatter", mode: "lines", name: "f", line: { color: C.blue, width: 2.5 }, hovertemplate: "f(%{x:.3f}) = %{y:.4g}<extra></extra>" },
    { x: D.x, y: D.tangent, type: "scatter", mode: "lines", name: "tangent", line: { color: C.vermilion, width: 2 }, hovertemplate: "tangent: %{y:.4g}<extra></extra>" },
    { x: sx, y: secant, type: "scatter", mode: "lines", name: `forward secant, h = ${sci(S.h)}`, line: { color: C.green, width: 2, dash: "dash" }, hoverinfo: "skip" },
    { x: [S.x0, S.x0 + S.h], y: [D.f0, D.f0 + D.secant_forward * S.h], type: "scatter", mode: "markers", marker: { color: C.green, size: 8 }, hoverinfo: "skip", showlegend: false },
    { x: [S.x0], y: [D.f0], type: "scatter", mode: "markers", name: "x₀", marker: { color: C.vermilion, size: 12, line: { color: "#fff", width: 2 } }, hovertemplate: "x₀ = %{x:.4g}<extra></extra>" },
  ], layout({
    showlegend: true, legend: { orientation: "h", x: 0, y: 1.14 }, margin: { l: 56, r: 12, t: 30, b: 40 },
    xaxis: { title: { text: "x" }, range: S.x_range }, yaxis: { range: [lo - pad, hi + pad] },
  }), PLOT_CONFIG));
  jobs.push(Plotly.react("dfplot", [
    { x: D.x, y: D.df, type: "scatter", mode: "lines", name: "f′", line: { color: C.orange, width: 2.5 }, hovertemplate: "f′(%{x:.3f}) = %{y:.4g}<extra></extra>" },
    { x: [S.x0], y: [D.df0], type: "scatter", mode: "markers", marker: { color: C.vermilion, size: 11 }, hovertemplate: "f′(x₀) = %{y:.6g}: the tangent's slope<extra></extra>" },
    { x: [S.x0], y: [D.secant_forward], type: "scatter", mode: "markers", marker: { color: C.green, size: 9, symbol: "diamond" }, hovertemplate: "secant slope = %{y:.6g}<extra></extra>" },
  ], layout({ xaxis: { title: { text: "x" }, range: S.x_range }, yaxis: { title: { text: "f′(x)" } } }), PLOT_CONFIG));
  const pos = (a) => a.map((v) => (v > 0 ? v : null));
  const fe = interpLog(D.h, D.forward_error, S.h);
  const ymin = 1e-17;
  jobs.push(Plotly.react("errplot", [
    { x: D.h, y: pos(D.forward_error), type: "scatter", mode: "lines+markers", name: "forward difference", line: { color: C.green, width: 2 }, marker: { size: 4 }, hovertemplate: "h = %{x:.1e}: error %{y:.2e}<extra>forward</extra>" },
    { x: D.h, y: pos(D.central_error), type: "scatter", mode: "lines+markers", name: "central difference", line: { color: C.purple, width: 2 }, marker: { size: 4, symbol: "square" }, hovertemplate: "h = %{x:.1e}: error %{y:.2e}<extra>central</extra>" },
    { x: D.h, y: pos(D.forward_model), type: "scatter", mode: "lines", name: "model |f″|h/2 + 2ε|f|/h", line: { color: C.grey, width: 1.5, dash: "dot" }, hoverinfo: "skip" },
    { x: [S.h], y: [fe > 0 ? fe : null], type: "scatter", mode: "markers", name: "the h drawn above", marker: { color: C.green, size: 12, symbol: "circle-open", line: { width: 3 } }, hoverinfo: "skip" },
  ], layout({
    showlegend: true, legend: { x: 0.99, xanchor: "right", y: 0.99, bgcolor: "rgba(255,255,255,.8)" },
    xaxis: { type: "log", title: { text: "step h" }, exponentformat: "power", dtick: 2 },
    yaxis: { type: "log", title: { text: "|slope − f′(x₀)|" }, exponentformat: "power" },
    shapes: [D.h_forward_opt, D.h_central_opt].map((h, i) => ({ type: "line", x0: h, x1: h, yref: "paper", y0: 0, y1: 1, line: { color: i ? C.purple : C.green, dash: "dash", width: 1.5 } })),
    annotations: [
      { x: Math.log10(D.h_forward_opt), y: 1, yref: "paper", text: "h ≈ √ε", showarrow: false, yanchor: "bottom", font: { color: C.green } },
      { x: Math.log10(D.h_central_opt), y: 1, yref: "paper", text: "h ≈ ∛ε", showarrow: false, yanchor: "bottom", font: { color: C.purple } },
    ],
    margin: { l: 64, r: 12, t: 24, b: 44 },
  }), PLOT_CONFIG));
  await Promise.all(jobs);
  void ymin;
  const dt = (t, v) => [Object.assign(document.createElement("dt"), { textContent: t }), Object.assign(document.createElement("dd"), { textContent: v })];
  $("#facts").replaceChildren(
    ...dt("f′(x₀), exact (SymPy)", num(D.df0, 12)),
    ...dt(`forward slope at h = ${sci(S.h)}`, `${num(D.secant_forward, 12)} (error ${sci(Math.abs(D.secant_forward - D.df0))})`),
    ...dt(`central slope at h = ${sci(S.h)}`, `${num(D.secant_central, 12)} (error ${sci(Math.abs(D.secant_central - D.df0))})`),
    ...dt("smallest error seen", `forward ${sci(Math.min(...D.forward_error.filter((v) => v !== null)))}, central ${sci(Math.min(...D.central_error.filter((v) => v !== null)))}`),
  );
  ui.fTable.update(["x", "f", "df", "tangent"], () => D.x.map((x, i) => [x, D.f[i], D.df[i], D.tangent[i]]));
  ui.errTable.update(["h", "forward", "central", "forward_error", "central_error"], () => D.h.map((h, i) => [h, D.forward[i], D.central[i], D.forward_error[i], D.central_error[i]]));
}

const fetch = fetcher(draw, 60, (msg) => {
  if (msg.startsWith("expression") || msg.startsWith("x0")) $("#expr-error").textContent = msg;
  else $("#error").textContent = msg;
});

function run() {
  writeState();
  fetch.run("/api/v1/calculus/derivatives", { expression: S.expression, x0: S.x0, x_range: S.x_range, h: S.h });
}

function boot() {
  readState();
  const q = readQuery();
  hookExpression(S, run, { empty: "Type a formula in x, e.g. sin(x).", ms: 250 });
  ui.x0 = sliderField({ name: "x0", label: "point x₀", min: -1e4, max: 1e4, value: S.x0, slider_min: S.x_range[0], slider_max: S.x_range[1], step: 0.01 }, (v) => { S.x0 = v; run(); });
  ui.h = sliderField({ name: "h", label: "step h (log scale)", min: 1e-16, max: 10, log: true, value: S.h, slider_min: 1e-16, slider_max: 1 }, (v) => { S.h = v; run(); });
  $("#pt-fields").append(ui.x0.el, ui.h.el);
  ui.fTable = dataTable($("#f-data"), [], [], { caption: "f, f′ and the tangent", filename: "derivative.csv" });
  ui.errTable = dataTable($("#err-data"), [], [], { caption: "Finite-difference errors", filename: "finite-difference-errors.csv" });
  hookCopyLink();
  applyHide(document.querySelector(".lab-grid"), hiddenSet(q));
  run();
  // click on the plot of f: move x0 there (Plotly reports the nearest point on a trace)
  onPlotClick($("#fplot"), (p) => {
    if (!Number.isFinite(p.x)) return;
    S.x0 = Number(p.x.toPrecision(6));
    ui.x0.value = S.x0;
    run();
  });
}

boot();
