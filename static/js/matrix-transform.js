// Matrix as a transformation: a 2×2 matrix A bends the plane. The morph I → A plays on the
// shared player; eigenpairs, determinant and the SVD come from POST /api/v1/linalg/transform.

import { Player } from "./player.js";
import { applyHide, dataTable, el, hiddenSet, parseNumber, readQuery, sliderField, writeQuery } from "./controls.js";
import { $, C, FONT, PLOT_CONFIG, Plotly, complexText, fetcher, hookCopyLink, num } from "./lab-common.js";

const N_FRAMES = 61;
const PRESETS = {
  identity: [1, 0, 0, 1],
  rotation: [Math.SQRT1_2, -Math.SQRT1_2, Math.SQRT1_2, Math.SQRT1_2],
  shear: [1, 1, 0, 1],
  projection: [1, 0, 0, 0],
  reflection: [0, 1, 1, 0],
  scaling: [2, 0, 0, 0.5],
  symmetric: [2, 1, 1, 2],
  singular: [1, 2, 0.5, 1],
};
const NAMES = ["a", "b", "c", "d"];
const S = { m: [...PRESETS.symmetric], path: "linear", eig: true, shape: true };
let T = null; // the server's reading of A
let player = null;
let k = N_FRAMES - 1;
const ui = {};

// ------------------------------------------------------------------ geometry (client-side drawing)

const mul = (M, [x, y]) => [M[0] * x + M[1] * y, M[2] * x + M[3] * y];
const mm = (A, B) => [A[0] * B[0] + A[1] * B[2], A[0] * B[1] + A[1] * B[3], A[2] * B[0] + A[3] * B[2], A[2] * B[1] + A[3] * B[3]];
const rot = (t) => [Math.cos(t), -Math.sin(t), Math.sin(t), Math.cos(t)];
const lerp = (a, b, t) => a + (b - a) * t;

/** The matrix shown at frame k: the straight path (1 − t)I + tA, or R(θu)·Σ·R(θv) in three acts. */
function frameMatrix(kk) {
  const t = kk / (N_FRAMES - 1);
  const A = S.m;
  if (S.path !== "svd" || !T) return [lerp(1, A[0], t), lerp(0, A[1], t), lerp(0, A[2], t), lerp(1, A[3], t)];
  const s = Math.min(1, Math.max(0, t * 3));
  if (t <= 1 / 3) return rot(s * T.theta_v);
  const Rv = rot(T.theta_v);
  if (t <= 2 / 3) {
    const u = t * 3 - 1;
    return mm([lerp(1, T.stretch[0], u), 0, 0, lerp(1, T.stretch[1], u)], Rv);
  }
  const u = t * 3 - 2;
  return mm(rot(u * T.theta_u), mm([T.stretch[0], 0, 0, T.stretch[1]], Rv));
}

function stageText(kk) {
  const t = kk / (N_FRAMES - 1);
  if (S.path !== "svd" || !T) return `t = ${num(t, 2)}: showing (1 − t)·I + t·A`;
  const deg = (r) => `${num((r * 180) / Math.PI, 3)}°`;
  if (t <= 1 / 3) return `1 · rotate by Vᵀ: ${deg(T.theta_v)}`;
  if (t <= 2 / 3) return `2 · stretch by Σ: ×${num(T.stretch[0], 3)} along x, ×${num(T.stretch[1], 3)} along y${T.stretch[1] < 0 ? " (negative: a flip)" : ""}`;
  return `3 · rotate by U: ${deg(T.theta_u)}`;
}

const LETTER_F = [[-0.3, -0.6], [-0.3, 0.7], [0.45, 0.7], [0.45, 0.5], [-0.1, 0.5], [-0.1, 0.15], [0.3, 0.15], [0.3, -0.05], [-0.1, -0.05], [-0.1, -0.6], [-0.3, -0.6]];
const CIRCLE = Array.from({ length: 97 }, (_, i) => [Math.cos((i / 96) * 2 * Math.PI), Math.sin((i / 96) * 2 * Math.PI)]);
const G = 6;

function viewRadius() {
  const s1 = T ? T.S[0] : Math.hypot(...S.m);
  return Math.max(2.5, Math.min(12, 1.35 * Math.max(1, s1) + 0.6));
}

function xy(points) {
  const x = [];
  const y = [];
  for (const p of points) {
    if (p === null) { x.push(null); y.push(null); continue; }
    x.push(p[0]);
    y.push(p[1]);
  }
  return { x, y };
}

function figure(kk) {
  const M = frameMatrix(kk);
  const R = viewRadius();
  const grid = [];
  for (let i = -G; i <= G; i++) {
    grid.push(mul(M, [i, -G]), mul(M, [i, G]), null, mul(M, [-G, i]), mul(M, [G, i]), null);
  }
  const axes = [mul(M, [-G, 0]), mul(M, [G, 0]), null, mul(M, [0, -G]), mul(M, [0, G])];
  const e1 = mul(M, [1, 0]);
  const e2 = mul(M, [0, 1]);
  const traces = [
    { ...xy(grid), type: "scatter", mode: "lines", line: { color: "#b9c3d1", width: 1 }, hoverinfo: "skip", name: "grid" },
    { ...xy(axes), type: "scatter", mode: "lines", line: { color: "#7d889b", width: 1.6 }, hoverinfo: "skip", name: "axes" },
    { ...xy(CIRCLE), type: "scatter", mode: "lines", line: { color: C.grey, width: 1.2, dash: "dash" }, hoverinfo: "skip", name: "unit circle" },
    { ...xy(CIRCLE.map((p) => mul(M, p))), type: "scatter", mode: "lines", line: { color: C.black, width: 2 }, name: "image of the unit circle", hoverinfo: "skip" },
  ];
  if (S.shape) {
    traces.push({ ...xy(LETTER_F.map((p) => mul(M, p))), type: "scatter", mode: "lines", fill: "toself", fillcolor: "rgba(86,180,233,0.35)", line: { color: C.sky, width: 1.5 }, name: "F", hoverinfo: "skip" });
  }
  const ann = [];
  if (S.eig && T && T.real_eigenvalues) {
    const t = kk / (N_FRAMES - 1);
    const seen = [];
    T.eigenvalues.real.forEach((lam, j) => {
      const v = [T.eigenvectors.real[0][j], T.eigenvectors.real[1][j]];
      if (seen.some((w) => Math.abs(w[0] * v[1] - w[1] * v[0]) < 1e-9)) return; // same line
      seen.push(v);
      const color = j === 0 ? C.green : C.purple;
      traces.push({ x: [-2 * R * v[0], 2 * R * v[0]], y: [-2 * R * v[1], 2 * R * v[1]], type: "scatter", mode: "lines", line: { color, width: 2, dash: "dash" }, name: `eigenvector line ${j + 1}`, hoverinfo: "skip" });
      // Along the straight path every frame keeps these lines: (1 − t)I + tA has A's eigenvectors.
      const scale = S.path === "svd" ? lam : lerp(1, lam, t);
      const tip = [scale * v[0], scale * v[1]];
      traces.push({ x: [0, tip[0]], y: [0, tip[1]], type: "scatter", mode: "lines+markers", marker: { size: [0, 7], color }, line: { color, width: 4 }, name: `λ${j + 1} v${j + 1}`, hovertemplate: `λ${j + 1}·v${j + 1}<extra></extra>` });
      ann.push({ x: v[0] * R * 0.82, y: v[1] * R * 0.82, text: `λ${j + 1} = ${num(lam, 3)}`, showarrow: false, font: { color, size: 13 }, bgcolor: "rgba(255,255,255,0.85)" });
    });
  }
  traces.push(
    { x: [0, e1[0]], y: [0, e1[1]], type: "scatter", mode: "lines+markers", line: { color: C.blue, width: 3.5 }, marker: { size: [0, 14], color: C.blue, line: { color: "#fff", width: 2 } }, name: "A e₁", hovertemplate: "A e₁ = (%{x:.3f}, %{y:.3f})<extra>drag me</extra>" },
    { x: [0, e2[0]], y: [0, e2[1]], type: "scatter", mode: "lines+markers", line: { color: C.orange, width: 3.5 }, marker: { size: [0, 14], color: C.orange, line: { color: "#fff", width: 2 } }, name: "A e₂", hovertemplate: "A e₂ = (%{x:.3f}, %{y:.3f})<extra>drag me</extra>" },
  );
  ann.push({ x: e1[0], y: e1[1], text: "Ae₁", showarrow: false, xshift: 16, yshift: 10, font: { color: C.blue, size: 13 } },
    { x: e2[0], y: e2[1], text: "Ae₂", showarrow: false, xshift: 16, yshift: 10, font: { color: "#9a6a00", size: 13 } });
  const lay = {
    font: FONT, margin: { l: 36, r: 10, t: 10, b: 30 }, showlegend: false, dragmode: false, hovermode: "closest",
    xaxis: { range: [-R, R], zeroline: false, fixedrange: true, showgrid: false },
    yaxis: { range: [-R, R], zeroline: false, fixedrange: true, showgrid: false, scaleanchor: "x", scaleratio: 1 },
    annotations: ann, uirevision: "plane",
  };
  return { traces, lay, M };
}

function draw() {
  const { traces, lay, M } = figure(k);
  $("#stage").textContent = `${stageText(k)}  ·  M = [[${num(M[0], 3)}, ${num(M[1], 3)}], [${num(M[2], 3)}, ${num(M[3], 3)}]]`;
  return Plotly.react("plane", traces, lay, PLOT_CONFIG);
}

let raf = 0;
function onFrame(kk) {
  k = kk;
  if (raf) return;
  raf = requestAnimationFrame(() => { raf = 0; draw(); });
}

// ------------------------------------------------------------------ facts

function facts() {
  const dl = $("#facts");
  const items = [];
  const add = (dt, dd, cls) => items.push(el("dt", {}, dt), el("dd", { class: cls || null }, dd));
  const det = T.det;
  add("Determinant (area factor)", Math.abs(det) < 1e-12
    ? "0: A squashes the plane flat; areas become 0 and the map cannot be undone."
    : `${num(det)}: every area is multiplied by ${num(Math.abs(det))}${det < 0 ? ", and orientation flips (the F is mirrored)" : ""}.`);
  add("Rank", T.rank === 2 ? "2: the whole plane is reached." : T.rank === 1 ? "1: the plane collapses onto a line (singular)." : "0: everything lands on the origin.", T.rank < 2 ? "warn" : "");
  const ev = T.eigenvalues;
  if (T.real_eigenvalues) {
    const vec = (j) => `(${num(T.eigenvectors.real[0][j], 3)}, ${num(T.eigenvectors.real[1][j], 3)})`;
    let text = `λ₁ = ${num(ev.real[0])} along ${vec(0)}; λ₂ = ${num(ev.real[1])} along ${vec(1)}. Vectors on these lines only stretch${ev.real.some((l) => l < 0) ? " (a negative λ also reverses them)" : ""}.`;
    if (T.defective) text = `λ = ${num(ev.real[0])} twice, but only one eigenvector direction ${vec(0)}: A shears; no second line is kept.`;
    add("Eigenvalues (real)", text);
  } else {
    const r = Math.hypot(ev.real[0], ev.imag[0]);
    const ang = (Math.atan2(Math.abs(ev.imag[0]), ev.real[0]) * 180) / Math.PI;
    add("Eigenvalues (complex)", `λ = ${complexText(ev.real[0], ev.imag[0])} and ${complexText(ev.real[1], ev.imag[1])}: no real direction is kept. A turns every vector (about ${num(ang, 3)}° per application, in a suitable basis) and scales by |λ| = ${num(r)}.`);
  }
  add("Trace", `${num(T.trace)} = λ₁ + λ₂`);
  const deg = (r) => `${num((r * 180) / Math.PI, 3)}°`;
  add("SVD: rotate · stretch · rotate", `A = R(${deg(T.theta_u)}) · diag(${num(T.stretch[0], 3)}, ${num(T.stretch[1], 3)}) · R(${deg(T.theta_v)}). Singular values σ = ${num(T.S[0])}, ${num(T.S[1])}: the semi-axes of the black ellipse.${T.stretch[1] < 0 ? " The negative stretch is the flip." : ""}`);
  dl.replaceChildren(...items);
}

// ------------------------------------------------------------------ state, URL, server

function writeState() {
  writeQuery({ matrix: S.m, path: S.path === "linear" ? null : S.path, eig: S.eig ? null : "0", shape: S.shape ? null : "0" });
}

function readState() {
  const q = readQuery();
  if (q.has("matrix")) {
    const v = q.get("matrix").split(",").map(parseNumber);
    if (v.length === 4 && v.every((x) => Number.isFinite(x) && Math.abs(x) <= 10)) S.m = v;
  }
  if (q.get("path") === "svd") S.path = "svd";
  S.eig = q.get("eig") !== "0";
  S.shape = q.get("shape") !== "0";
}

const fetch = fetcher(async (data) => {
  T = data;
  facts();
  await draw();
}, 30);

function changed({ animate = false } = {}) {
  writeState();
  $("#preset").value = Object.entries(PRESETS).find(([, v]) => v.every((x, i) => Math.abs(x - S.m[i]) < 1e-9))?.[0] || "";
  ui.fields.forEach((f, i) => { if (Math.abs(f.value - S.m[i]) > 1e-12) f.value = S.m[i]; });
  if (animate) player.setFrames(N_FRAMES, { restart: true });
  else { player.pause(); player.seek(N_FRAMES - 1); draw(); }
  fetch.run("/api/v1/linalg/transform", { matrix: [[S.m[0], S.m[1]], [S.m[2], S.m[3]]] });
}

function buildEntries() {
  const box = $("#entries");
  box.append(el("h3", {}, "Entries (columns are Ae₁ and Ae₂)"));
  const labels = ["a (Ae₁ x)", "b (Ae₂ x)", "c (Ae₁ y)", "d (Ae₂ y)"];
  ui.fields = NAMES.map((n, i) => {
    const f = sliderField({ name: n, label: labels[i], min: -10, max: 10, slider_min: -3, slider_max: 3, step: 0.05, value: S.m[i], control: "matrix" },
      (v) => { S.m[i] = v; changed(); });
    box.append(f.el);
    return f;
  });
}

// Drag the tips of Ae₁ / Ae₂: pixel → data with the axes' own conversion.
function hookDrag() {
  const gd = $("#plane");
  let which = -1;
  const toData = (ev) => {
    const fl = gd._fullLayout;
    const r = gd.getBoundingClientRect();
    return [fl.xaxis.p2l(ev.clientX - r.left - fl._size.l), fl.yaxis.p2l(ev.clientY - r.top - fl._size.t)];
  };
  const toPx = (p) => {
    const fl = gd._fullLayout;
    return [fl.xaxis.l2p(p[0]), fl.yaxis.l2p(p[1])];
  };
  gd.addEventListener("pointerdown", (ev) => {
    if (!gd._fullLayout) return;
    const fl = gd._fullLayout;
    const r = gd.getBoundingClientRect();
    const px = [ev.clientX - r.left - fl._size.l, ev.clientY - r.top - fl._size.t];
    const M = frameMatrix(k);
    const tips = [mul(M, [1, 0]), mul(M, [0, 1])].map(toPx);
    const d = tips.map((t) => Math.hypot(t[0] - px[0], t[1] - px[1]));
    which = d[0] <= d[1] ? 0 : 1;
    if (d[which] > 16) { which = -1; return; }
    player.pause();
    player.seek(N_FRAMES - 1);
    gd.setPointerCapture(ev.pointerId);
    ev.preventDefault();
  });
  gd.addEventListener("pointermove", (ev) => {
    if (which < 0) return;
    const [x, y] = toData(ev).map((v) => Math.max(-10, Math.min(10, Math.round(v * 20) / 20)));
    S.m[which] = x;
    S.m[which + 2] = y;
    changed();
  });
  const end = () => { which = -1; };
  gd.addEventListener("pointerup", end);
  gd.addEventListener("pointercancel", end);
}

function boot() {
  readState();
  const hidden = hiddenSet();
  player = new Player($("#player"), { onFrame, fps: 30, label: "Frame", autoplay: true });
  buildEntries();
  ui.path = $("#path");
  ui.path.value = S.path;
  ui.path.addEventListener("change", () => { S.path = ui.path.value; changed({ animate: true }); });
  $("#show-eig").checked = S.eig;
  $("#show-eig").addEventListener("change", (e) => { S.eig = e.target.checked; writeState(); draw(); });
  $("#show-shape").checked = S.shape;
  $("#show-shape").addEventListener("change", (e) => { S.shape = e.target.checked; writeState(); draw(); });
  $("#preset").addEventListener("change", (e) => {
    if (!PRESETS[e.target.value]) return;
    S.m = [...PRESETS[e.target.value]];
    changed({ animate: true });
  });
  dataTable($("#plane-data"), ["vector", "x", "y"], () => {
    const rows = [["A e1", S.m[0], S.m[2]], ["A e2", S.m[1], S.m[3]]];
    if (T && T.real_eigenvalues) T.eigenvalues.real.forEach((l, j) => rows.push([`eigenvector ${j + 1} (λ = ${num(l)})`, T.eigenvectors.real[0][j], T.eigenvectors.real[1][j]]));
    return rows;
  }, { caption: "Basis images and eigenvectors", filename: "matrix-transform.csv" });
  hookCopyLink();
  applyHide(document.querySelector(".lab-grid"), hidden);
  hookDrag();
  writeState();
  $("#preset").value = Object.entries(PRESETS).find(([, v]) => v.every((x, i) => Math.abs(x - S.m[i]) < 1e-9))?.[0] || "";
  fetch.now("/api/v1/linalg/transform", { matrix: [[S.m[0], S.m[1]], [S.m[2], S.m[3]]] });
  player.setFrames(N_FRAMES);
}

boot();
