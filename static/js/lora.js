// LoRA: a synthetic fine-tuning update ΔW with a decaying spectrum, its best rank-r factors
// B (d×r) and A (r×d) from the SVD, the error and the parameter count 2dr against d².
// Everything drawn comes from POST /api/v1/linalg/lora.

import { applyHide, dataTable, el, hiddenSet, qNumber, readQuery, sliderField, writeQuery } from "./controls.js";
import { $, C, DIVERGING, PLOT_CONFIG, Plotly, fetcher, hookCopyLink, layout, num } from "./lab-common.js";

const LIMITS = { d: [4, 128], decay: [0.05, 1] };
const S = { d: 64, rank: 6, decay: 0.6, seed: 0 };
let D = null;
const ui = {};

const maxAbs = (M) => M.reduce((m, r) => r.reduce((a, v) => Math.max(a, Math.abs(v ?? 0)), m), 0) || 1;
const pct = (v, d = 3) => (v === null || v === undefined ? "—" : `${num(100 * v, d)}%`);
const intText = (n) => n.toLocaleString("en-US");

/** The smallest r whose relative error is at most `tol`. */
const rankFor = (errs, tol) => errs.findIndex((e) => e !== null && e <= tol);

// ------------------------------------------------------------------ the factor picture

function factorFigure() {
  const d = D.delta.length;
  const r = D.A.length;
  const residual = D.delta.map((row, i) => row.map((v, j) => v - D.BA[i][j]));
  // One cell = one unit on every panel, so B's width and A's height are r cells against d.
  const gap = Math.max(3, Math.round(d * 0.14));
  const bw = Math.max(r, 0.6);
  const widths = [d, bw, d, d];
  const total = widths.reduce((a, b) => a + b, 0) + 3 * gap;
  const x0 = [];
  let at = 0;
  widths.forEach((w) => { x0.push(at); at += w + gap; });
  const dom = (i) => [x0[i] / total, (x0[i] + widths[i]) / total];
  const aH = Math.max(r, 0.6) / d;
  const zD = maxAbs(D.delta);
  const zB = r ? maxAbs(D.B) : 1;
  const zA = r ? maxAbs(D.A) : 1;
  const hm = (z, zmax, n, name, tmpl) => ({
    z, type: "heatmap", colorscale: DIVERGING, zmin: -zmax, zmax, zmid: 0, showscale: false,
    xaxis: `x${n}`, yaxis: `y${n}`, name, hovertemplate: `${tmpl}<extra>${name}</extra>`,
  });
  const traces = [
    hm(D.delta, zD, "", "ΔW", "row %{y}, col %{x}: %{z:.3g}"),
    hm(r ? D.B : [[null]], zB, 2, "B", "row %{y}, col %{x}: %{z:.3g}"),
    hm(r ? D.A : [[null]], zA, 3, "A", "row %{y}, col %{x}: %{z:.3g}"),
    hm(residual, zD, 4, "ΔW − BA", "row %{y}, col %{x}: %{z:.3g}"),
  ];
  const ax = (domain) => ({ domain, visible: false, fixedrange: true });
  const yax = (domain) => ({ domain, visible: false, autorange: "reversed", fixedrange: true });
  const mid = (i) => (x0[i] + widths[i] + gap / 2) / total;
  const label = (i, text) => ({ x: (x0[i] + widths[i] / 2) / total, y: 1, xref: "paper", yref: "paper", yanchor: "bottom", text, showarrow: false, font: { size: 12 } });
  const sign = (i, text) => ({ x: mid(i), y: 0.5, xref: "paper", yref: "paper", text, showarrow: false, font: { size: 26, color: "#1d2433" } });
  const box = document.getElementById("factors");
  const width = box.clientWidth || 900;
  const plotW = width - 20;
  const height = Math.max(190, Math.min(420, Math.round((plotW * d) / total) + 40));
  return {
    traces,
    layout: {
      ...layout({ margin: { l: 10, r: 10, t: 30, b: 8 } }), height,
      xaxis: ax(dom(0)), yaxis: yax([0, 1]),
      xaxis2: ax(dom(1)), yaxis2: yax([0, 1]),
      xaxis3: ax(dom(2)), yaxis3: yax([0.5 - aH / 2, 0.5 + aH / 2]),
      xaxis4: ax(dom(3)), yaxis4: yax([0, 1]),
      annotations: [
        label(0, `ΔW (${d}×${d})`), label(1, `B (${d}×${r})`), label(2, `A (${r}×${d})`), label(3, "ΔW − BA"),
        sign(0, "≈"), sign(1, "·"),
      ],
    },
  };
}

// ------------------------------------------------------------------ drawing

async function draw(data) {
  D = data;
  const d = D.delta.length;
  const r = D.A.length;
  const f = factorFigure();
  const jobs = [Plotly.react("factors", f.traces, f.layout, { ...PLOT_CONFIG, responsive: false })];

  const rs = D.rel_errors.map((_, i) => i);
  const flat = rs.map((k) => Math.sqrt(Math.max(0, 1 - k / d)));
  const params = rs.map((k) => (2 * k) / d);
  jobs.push(Plotly.react("error-curve", [
    { x: rs, y: flat, type: "scatter", mode: "lines", line: { color: C.grey, width: 2, dash: "dot" }, name: "flat spectrum √(1 − r/d)", hovertemplate: "r = %{x}: %{y:.2%}<extra>flat spectrum</extra>" },
    { x: rs, y: D.rel_errors, type: "scatter", mode: "lines", line: { color: C.vermilion, width: 2.5 }, name: "‖ΔW − BA‖ / ‖ΔW‖ (this ΔW)", hovertemplate: "r = %{x}: error %{y:.3%}<extra></extra>" },
    { x: rs, y: params, type: "scatter", mode: "lines", line: { color: C.green, width: 2, dash: "dash" }, name: "trainable 2dr / d²", yaxis: "y2", hovertemplate: "r = %{x}: %{y:.1%} of d²<extra>parameters</extra>" },
    { x: [r], y: [D.rel_error], type: "scatter", mode: "markers", marker: { color: C.vermilion, size: 11 }, name: "now", showlegend: false, hoverinfo: "skip" },
  ], layout({
    showlegend: true, legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 11 } }, margin: { l: 56, r: 56, t: 56, b: 44 },
    xaxis: { title: { text: "rank r" }, range: [0, d] },
    yaxis: { title: { text: "relative error" }, tickformat: ".0%", range: [0, 1.05] },
    yaxis2: { title: { text: "parameters / d²" }, overlaying: "y", side: "right", tickformat: ".0%", range: [0, 2.1], showgrid: false },
    shapes: [
      { type: "line", x0: r, x1: r, yref: "paper", y0: 0, y1: 1, line: { color: C.vermilion, dash: "dot", width: 1 } },
      { type: "line", x0: 0, x1: d, yref: "y2", y0: 1, y1: 1, line: { color: C.green, width: 1 } },
    ],
    annotations: [{ x: d, y: 1, yref: "y2", xanchor: "right", yanchor: "bottom", text: "as many as full fine-tuning (r = d/2)", showarrow: false, font: { size: 11, color: C.green } }],
  }), PLOT_CONFIG));

  const idx = D.S.map((_, i) => i + 1);
  const pos = D.S.map((s) => Math.max(s, 1e-300));
  jobs.push(Plotly.react("spectrum", [
    { x: idx, y: pos, type: "bar", marker: { color: idx.map((i) => (i <= r ? C.blue : "#c5cbd6")) }, name: "σᵢ", hovertemplate: "σ%{x} = %{y:.4g}<extra></extra>" },
  ], layout({
    bargap: 0.15, xaxis: { title: { text: "i (kept: blue)" } },
    yaxis: { type: "log", title: { text: "σᵢ" }, exponentformat: "power" },
  }), PLOT_CONFIG));
  await Promise.all(jobs);

  const stat = (t, v) => el("div", {}, el("dt", {}, t), el("dd", {}, v));
  const r5 = rankFor(D.rel_errors, 0.05);
  $("#stats").replaceChildren(
    stat("trainable 2dr", `${intText(D.params_lora)} (${pct(D.params_lora / D.params_full, 3)} of d²)`),
    stat("full fine-tune d²", intText(D.params_full)),
    stat("weight error ‖ΔW−BA‖/‖ΔW‖", pct(D.rel_error)),
    stat("output error on 256 inputs", pct(D.output_rel_error)),
    stat("rank for ≤ 5% error", r5 < 0 ? "—" : `r = ${r5}`),
  );
  const saved = 1 - D.params_lora / D.params_full;

  $("#verdict").textContent = r === 0
    ? "r = 0: no adapter, the layer stays W and misses all of ΔW."
    : saved > 0
      ? `With r = ${r}, B·A trains ${pct(D.params_lora / D.params_full, 3)} of the ${intText(D.params_full)} numbers in ΔW and misses ${pct(D.rel_error)} of it. `
        + (S.decay === 1 ? "A flat spectrum has no shortcut: every direction of ΔW matters equally, so the error only falls like √(1 − r/d)."
          : D.rel_error <= 0.1 ? `Because σᵢ falls as ${num(S.decay, 3)}ⁱ, the first ${r} directions already carry ${pct(1 - D.rel_error ** 2, 3)} of ΔW's energy (Σσᵢ²).`
            : `σᵢ falls as ${num(S.decay, 3)}ⁱ: ` + (r5 > 0 ? `r = ${r5} (${pct((2 * r5) / d, 3)} of d²) would bring the error under 5%.` : "no r below d brings the error under 5%."))
      : `With r = ${r} ≥ d/2, B and A hold ${intText(D.params_lora)} numbers, ${saved === 0 ? "as many as" : "more than"} ΔW itself (${intText(D.params_full)}). LoRA only pays off for small r.`;
  ui.table.update(["r", "sigma_r", "rel_error", "params_2dr", "params_over_d2"],
    () => D.rel_errors.map((e, k) => [k, k ? D.S[k - 1] : null, e, 2 * d * k, (2 * k) / d]));
}

const fetch = fetcher(draw, 40);

function writeState() {
  writeQuery({ d: S.d, rank: S.rank, decay: S.decay, seed: S.seed });
}

function run() {
  writeState();
  fetch.run("/api/v1/linalg/lora", { d: S.d, rank: S.rank, decay: S.decay, seed: S.seed });
}

function setRankMax(d) {
  ui.rank.range.max = String(d);
  ui.rank.number.max = String(d);
  if (S.rank > d) { S.rank = d; ui.rank.value = d; }
}

function boot() {
  const q = readQuery();
  const d = qNumber(q, "d", S.d);
  if (Number.isInteger(d) && d >= LIMITS.d[0] && d <= LIMITS.d[1]) S.d = d;
  const decay = qNumber(q, "decay", S.decay);
  if (decay > 0 && decay <= 1) S.decay = decay;
  const seed = qNumber(q, "seed", S.seed);
  if (Number.isInteger(seed) && seed >= 0 && seed <= 2 ** 32 - 1) S.seed = seed;
  const r = qNumber(q, "rank", S.rank);
  if (Number.isInteger(r) && r >= 0) S.rank = Math.min(r, S.d);

  ui.d = sliderField({ name: "d", label: "size d (W and ΔW are d×d)", min: 4, max: 128, integer: true, value: S.d }, (v) => { S.d = v; setRankMax(v); run(); });
  ui.decay = sliderField({ name: "decay", label: "spectrum decay (σᵢ ∝ decayⁱ)", min: 0, max: 1, exclusive_min: true, slider_min: 0.05, step: 0.01, value: S.decay,
    description: "1 = a flat spectrum: every direction of ΔW equally strong" }, (v) => { S.decay = v; run(); });
  ui.seed = sliderField({ name: "seed", label: "random seed", min: 0, max: 2 ** 32 - 1, slider_max: 50, integer: true, value: S.seed }, (v) => { S.seed = v; run(); });
  $("#delta-fields").append(ui.d.el, ui.decay.el, ui.seed.el);
  ui.rank = sliderField({ name: "rank", label: "rank r of B·A", min: 0, max: 128, integer: true, value: S.rank,
    description: "B is d×r and A is r×d" }, (v) => {
    S.rank = Math.min(v, S.d);
    if (S.rank !== v) ui.rank.value = S.rank;
    run();
  });
  $("#rank-box").append(ui.rank.el);
  setRankMax(S.d);
  for (const b of document.querySelectorAll(".lr-presets button")) {
    b.addEventListener("click", () => { S.decay = Number(b.dataset.decay); ui.decay.value = S.decay; run(); });
  }
  ui.table = dataTable($("#error-data"), [], [], { caption: "Error and parameters for every r", filename: "lora-rank.csv" });
  hookCopyLink();
  applyHide(document.querySelector(".lab-grid"), hiddenSet(q));
  run();
}

boot();
