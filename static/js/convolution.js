// Convolution as a Toeplitz matrix: a 1-D signal and kernel, the matrix T built from the kernel,
// T·x beside numpy.convolve for full/same/valid; a small image with its doubly block-Toeplitz
// matrix beside scipy.signal.convolve2d. Data: POST /api/v1/linalg/convolution.
// URL state: signal, kernel, mode, image, image_kernel (rows separated by ";"), row.

import { applyHide, dataTable, fmt, hiddenSet, parseNumber, qNumber, readQuery, selectField, sliderField, writeQuery } from "./controls.js";
import { $, C, DIVERGING, PLOT_CONFIG, Plotly, fetcher, hookCopyLink, layout, num, rng } from "./lab-common.js";

const r2 = (v) => Math.round(v * 100) / 100;
const SIGNALS = {
  step: { label: "Step", x: [...Array(8).fill(0), ...Array(8).fill(1), ...Array(8).fill(0)] },
  noisy: { label: "Noisy sine (seeded)", x: (() => { const r = rng(7); return Array.from({ length: 24 }, (_, t) => r2(Math.sin((2 * Math.PI * t) / 12) + 0.6 * (r() - 0.5))); })() },
  impulse: { label: "Impulse (shows the kernel itself)", x: Array.from({ length: 16 }, (_, t) => (t === 5 ? 1 : 0)) },
  ramp: { label: "Ramp then drop", x: Array.from({ length: 20 }, (_, t) => (t < 12 ? r2(t / 11) : 0)) },
};
const KERNELS = {
  box: { label: "Moving average (3)", h: [0.33, 0.33, 0.33] },
  gauss: { label: "Gaussian blur (5)", h: [0.0625, 0.25, 0.375, 0.25, 0.0625] },
  diff: { label: "Difference x_i − x_{i−1}", h: [1, -1] },
  sharpen: { label: "Sharpen", h: [-0.5, 2, -0.5] },
  shift: { label: "Delay by 2", h: [0, 0, 1] },
};
const sq = (n, f) => Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => f(i, j)));
const IMAGES = {
  plus: { label: "A plus sign", m: sq(8, (i, j) => ((i === 3 || i === 4) && j > 0 && j < 7) || ((j === 3 || j === 4) && i > 0 && i < 7) ? 1 : 0) },
  square: { label: "A square", m: sq(8, (i, j) => (i >= 2 && i <= 5 && j >= 2 && j <= 5 ? 1 : 0)) },
  diagonal: { label: "A diagonal line", m: sq(8, (i, j) => (i === j ? 1 : 0)) },
  dot: { label: "One bright pixel", m: sq(6, (i, j) => (i === 2 && j === 3 ? 1 : 0)) },
};
const IMG_KERNELS = {
  blur: { label: "Box blur 3×3", k: sq(3, () => 0.11) },
  sobel: { label: "Sobel (vertical edges)", k: [[1, 0, -1], [2, 0, -2], [1, 0, -1]] },
  laplace: { label: "Laplacian (edges, all directions)", k: [[0, 1, 0], [1, -4, 1], [0, 1, 0]] },
  sharpen: { label: "Sharpen", k: [[0, -1, 0], [-1, 5, -1], [0, -1, 0]] },
  diff: { label: "2×2 difference", k: [[1, -1], [1, -1]] },
};

const S = { signal: SIGNALS.step.x, kernel: KERNELS.box.h, mode: "full", image: IMAGES.plus.m, image_kernel: IMG_KERNELS.sobel.k, row: 9 };
let D = null;
const ui = {};

function parseList(text, max, what) {
  const parts = String(text || "").split(/[,\s]+/).filter(Boolean);
  if (!parts.length) return { error: `${what}: type at least one number` };
  if (parts.length > max) return { error: `${what}: at most ${max} numbers; got ${parts.length}` };
  const v = parts.map(parseNumber);
  const bad = v.findIndex((x) => !Number.isFinite(x) || Math.abs(x) > 1e6);
  if (bad >= 0) return { error: `${what}: “${parts[bad]}” is not a number within ±1e6` };
  return { value: v };
}

function parseMatrix(text, maxRows, maxCols) {
  const rows = String(text || "").split(";").map((r) => r.split(",").map(parseNumber));
  if (!rows.length || rows.length > maxRows || rows.some((r) => r.length !== rows[0].length || r.length > maxCols || r.some((x) => !Number.isFinite(x)))) return null;
  return rows;
}
const matText = (M) => M.map((r) => r.map((v) => fmt(v, 6)).join(",")).join(";");

function readState() {
  const q = readQuery();
  const s = q.has("signal") && parseList(q.get("signal"), 64, "signal");
  if (s && s.value) S.signal = s.value;
  const k = q.has("kernel") && parseList(q.get("kernel"), 16, "kernel");
  if (k && k.value) S.kernel = k.value;
  if (["full", "same", "valid"].includes(q.get("mode"))) S.mode = q.get("mode");
  const im = q.has("image") && parseMatrix(q.get("image"), 16, 16);
  if (im) S.image = im;
  const ik = q.has("image_kernel") && parseMatrix(q.get("image_kernel"), 7, 7);
  if (ik) S.image_kernel = ik;
  S.row = Math.max(0, Math.round(qNumber(q, "row", S.row)));
  return q;
}

function writeState() {
  writeQuery([["signal", S.signal], ["kernel", S.kernel], ["mode", S.mode], ["image", matText(S.image)], ["image_kernel", matText(S.image_kernel)], ["row", S.row]]);
}

// ------------------------------------------------------------------------------ drawing

function heat(id, z, { text = true, zsym = true, showscale = false, shapes = [], xTitle = "", yTitle = "", margin, title = "" } = {}) {
  const m = Math.max(1e-9, ...z.flat().map(Math.abs));
  Plotly.react($(id), [{
    type: "heatmap", z, colorscale: DIVERGING, zmin: zsym ? -m : undefined, zmax: zsym ? m : undefined, xgap: z[0].length > 40 ? 0 : 1, ygap: z.length > 40 ? 0 : 1,
    texttemplate: text ? "%{z:.2~f}" : "", textfont: { size: 10 }, showscale, colorbar: { thickness: 10 },
    hovertemplate: "row %{y}, col %{x}: %{z:.4g}<extra></extra>",
  }], layout({
    margin: margin || { l: 44, r: 8, t: title ? 26 : 6, b: 40 }, shapes,
    title: title ? { text: title, font: { size: 13 }, x: 0.02, y: 0.98 } : undefined,
    xaxis: { showgrid: false, zeroline: false, title: { text: xTitle }, side: "bottom", constrain: "domain", dtick: z[0].length <= 16 ? 1 : undefined },
    yaxis: { showgrid: false, zeroline: false, title: { text: yTitle }, autorange: "reversed", scaleanchor: "x", constrain: "domain", dtick: z.length <= 16 ? 1 : undefined },
  }), { ...PLOT_CONFIG, displayModeBar: false });
}

function drawAll() {
  const T = D.toeplitz;
  const n = S.signal.length, m = S.kernel.length;
  S.row = Math.min(S.row, T.length - 1);
  ui.row.el.querySelector("input[type=range]").max = String(T.length - 1);
  ui.row.number.max = String(T.length - 1);
  ui.row.value = S.row;
  $("#t-title").textContent = `Toeplitz matrix T: ${T.length} × ${n} (mode “${S.mode}”) — constant along each diagonal`;
  drawToeplitz();
  drawSignals();
  if (D.block_toeplitz) {
    const [H, W] = [S.image.length, S.image[0].length];
    const [ho, wo] = [D.output_2d.length, D.output_2d[0].length];
    heat("#image", S.image, { text: H * W <= 100, title: `image (${H}×${W})` });
    heat("#kernel2d", S.image_kernel, { text: true, title: "kernel K" });
    heat("#out2d", D.output_2d, { text: ho * wo <= 100, showscale: true, title: `output = B·vec(image) (${ho}×${wo})` });
    $("#b-title").textContent = `2-D: image ${H}×${W} ⊛ kernel ${S.image_kernel.length}×${S.image_kernel[0].length} = B · vec(image) → ${ho}×${wo}`;
    const B = D.block_toeplitz;
    heat("#block", B, { text: false, showscale: true, xTitle: `input pixel (row-major, ${H * W})`, yTitle: `output pixel (${ho * wo})`, margin: { l: 56, r: 8, t: 6, b: 44 } });
    const nz = B.flat().filter((v) => v !== 0).length;
    $("#b-note").textContent = `B is ${B.length} × ${B[0].length} with ${nz} nonzero entries (${num((100 * nz) / (B.length * B[0].length), 3)}%): ${H} × ${H} blocks of size ${wo} × ${W}, each block a Toeplitz matrix built from one kernel row, and the blocks repeat down the diagonals. Largest |B·vec(image) − scipy.signal.convolve2d| = ${num(D.max_abs_diff_2d, 3)}.`;
    dataTable($("#block-data"), ["output row", ...Array.from({ length: wo }, (_, j) => `col ${j}`)], () => D.output_2d.map((r, i) => [i, ...r]), { caption: "2-D output", filename: "convolve2d-output.csv" });
  }
  dataTable($("#toeplitz-data"), ["row", ...S.signal.map((_, j) => `x${j}`)], () => T.map((r, i) => [i, ...r]), { caption: "Toeplitz matrix", filename: "toeplitz.csv" });
  dataTable($("#signals-data"), ["i", "T·x", "numpy.convolve"], () => D.output.map((v, i) => [i, v, D.numpy_output[i]]), { caption: "Outputs", filename: "convolution-output.csv" });
}

function drawToeplitz() {
  const T = D.toeplitz;
  const small = T.length * T[0].length <= 500;
  const i = S.row;
  heat("#toeplitz", T, {
    text: small, xTitle: "input index j (multiplies x_j)", yTitle: "output index i",
    shapes: [{ type: "rect", x0: -0.5, x1: T[0].length - 0.5, y0: i - 0.5, y1: i + 0.5, line: { color: C.black, width: 2.5 } }],
  });
}

function drawSignals() {
  const T = D.toeplitz;
  const i = S.row;
  const n = S.signal.length;
  const used = T[i].map((v, j) => (v !== 0 ? j : null)).filter((j) => j !== null);
  // y is drawn against the position of its output window in the full convolution
  const off = { full: 0, same: Math.floor((Math.min(n, S.kernel.length) - 1) / 2), valid: Math.min(n, S.kernel.length) - 1 }[S.mode];
  const yi = D.output.map((_, k) => k + off);
  Plotly.react($("#signals"), [
    { type: "bar", x: S.signal.map((_, j) => j), y: S.signal, name: "signal x", marker: { color: S.signal.map((_, j) => (used.includes(j) ? C.orange : "#c9d3e0")) }, hovertemplate: "x%{x} = %{y:.4g}<extra></extra>" },
    { type: "scatter", mode: "lines+markers", x: yi, y: D.output, name: "y = T·x", line: { color: C.blue, width: 2 }, marker: { size: 6 } },
    { type: "scatter", mode: "markers", x: yi, y: D.numpy_output, name: "numpy.convolve", marker: { color: "rgba(0,0,0,0)", size: 12, line: { color: C.vermilion, width: 2 } } },
    { type: "scatter", mode: "markers", x: [yi[i]], y: [D.output[i]], name: `y${i}`, marker: { color: C.black, size: 13, symbol: "star" }, hoverinfo: "skip" },
  ], layout({ showlegend: true, legend: { orientation: "h", y: 1.13 }, margin: { l: 44, r: 10, t: 24, b: 40 },
    xaxis: { title: { text: "position (outputs placed where their window ends)" } }, yaxis: { zeroline: true } }), PLOT_CONFIG);
  const terms = used.map((j) => `${num(T[i][j], 3)}·${num(S.signal[j], 3)}`);
  $("#row-formula").textContent = `y${i} = row ${i} of T · x = ${terms.length ? terms.join(" + ") : "0"} = ${num(D.output[i], 4)}   (numpy.convolve: ${num(D.numpy_output[i], 4)}; largest difference anywhere ${num(D.max_abs_diff, 2)})`;
}

// ------------------------------------------------------------------------------ controls

const fetch = fetcher((data) => { D = data; drawAll(); });

function compute() {
  writeState();
  fetch.run("/api/v1/linalg/convolution", { signal: S.signal, kernel: S.kernel, mode: S.mode, image: S.image, image_kernel: S.image_kernel });
}

function presetOf(table, value, key) {
  const hit = Object.entries(table).find(([, p]) => JSON.stringify(p[key]) === JSON.stringify(value));
  return hit ? hit[0] : "";
}

function boot() {
  const q = readState();
  hookCopyLink();
  const sigBox = $("#signal"), kerBox = $("#kernel");
  sigBox.value = S.signal.map((v) => fmt(v, 6)).join(", ");
  kerBox.value = S.kernel.map((v) => fmt(v, 6)).join(", ");
  const opts = (t) => [{ value: "", label: "— as typed —" }, ...Object.entries(t).map(([value, p]) => ({ value, label: p.label }))];
  ui.sig = selectField({ name: "signal_preset", label: "Signal", value: presetOf(SIGNALS, S.signal, "x"), options: opts(SIGNALS) }, (v) => {
    if (!SIGNALS[v]) return;
    S.signal = SIGNALS[v].x; sigBox.value = S.signal.join(", "); $("#signal-error").textContent = ""; compute();
  });
  ui.ker = selectField({ name: "kernel_preset", label: "Kernel", value: presetOf(KERNELS, S.kernel, "h"), options: opts(KERNELS) }, (v) => {
    if (!KERNELS[v]) return;
    S.kernel = KERNELS[v].h; kerBox.value = S.kernel.join(", "); $("#kernel-error").textContent = ""; compute();
  });
  $("#sig-preset").append(ui.sig.el);
  $("#ker-preset").append(ui.ker.el);
  const typed = (box, errId, max, what, key, sel) => box.addEventListener("input", () => {
    const p = parseList(box.value, max, what);
    $(errId).textContent = p.error || "";
    box.setAttribute("aria-invalid", p.error ? "true" : "false");
    if (p.error) return;
    S[key] = p.value;
    sel.value = "";
    compute();
  });
  typed(sigBox, "#signal-error", 64, "signal", "signal", ui.sig);
  typed(kerBox, "#kernel-error", 16, "kernel", "kernel", ui.ker);
  ui.mode = selectField({ name: "mode", label: "Mode", value: S.mode, options: [{ value: "full", label: "full" }, { value: "same", label: "same" }, { value: "valid", label: "valid" }] }, (v) => { S.mode = v; compute(); });
  $("#mode-field").append(ui.mode.el);
  ui.row = sliderField({ name: "row", label: "Follow output y_i (row i of T)", min: 0, max: 63, integer: true, value: S.row }, (v) => {
    S.row = v; writeState(); if (D) { drawToeplitz(); drawSignals(); }
  });
  $("#row-field").append(ui.row.el);
  ui.img = selectField({ name: "image_preset", label: "Image", value: presetOf(IMAGES, S.image, "m"), options: opts(IMAGES) }, (v) => { if (IMAGES[v]) { S.image = IMAGES[v].m; compute(); } });
  ui.ik = selectField({ name: "image_kernel_preset", label: "2-D kernel", value: presetOf(IMG_KERNELS, S.image_kernel, "k"), options: opts(IMG_KERNELS) }, (v) => { if (IMG_KERNELS[v]) { S.image_kernel = IMG_KERNELS[v].k; compute(); } });
  $("#img-preset").append(ui.img.el);
  $("#img-ker-preset").append(ui.ik.el);
  applyHide(document.querySelector(".lab-grid"), hiddenSet(q));
  compute();
}

boot();
