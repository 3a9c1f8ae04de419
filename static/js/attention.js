// Attention as matrix products: seeded Q, K, V for a short token sequence, the score heatmap
// Q·Kᵀ·scale, the row-wise softmax, the causal mask, the output, every shape annotated.
// Data: POST /api/v1/linalg/attention. URL state: tokens, embed_dim, seed, causal, scale, query.

import { applyHide, checkboxField, dataTable, hiddenSet, qNumber, readQuery, selectField, sliderField, writeQuery } from "./controls.js";
import { $, BLUES, C, DIVERGING, PLOT_CONFIG, Plotly, fetcher, hookCopyLink, layout, num } from "./lab-common.js";

const DEFAULT_TOKENS = "the cat sat on the mat";
const S = { tokens: DEFAULT_TOKENS.split(" "), embed_dim: 4, seed: 0, causal: false, scale: null, query: 2 };
let D = null;
const ui = {};

function parseTokens(text) {
  const t = String(text || "").trim().split(/\s+/).filter(Boolean);
  if (!t.length) return { error: "type at least one token" };
  if (t.length > 16) return { error: `at most 16 tokens; got ${t.length}` };
  const long = t.find((w) => w.length > 20);
  if (long) return { error: `“${long.slice(0, 24)}…” is longer than 20 characters` };
  return { tokens: t };
}

function readState() {
  const q = readQuery();
  const p = parseTokens(q.get("tokens") ?? DEFAULT_TOKENS);
  S.tokens = p.tokens || DEFAULT_TOKENS.split(" ");
  S.embed_dim = Math.min(32, Math.max(1, Math.round(qNumber(q, "embed_dim", 4))));
  S.seed = Math.max(0, Math.round(qNumber(q, "seed", 0)));
  S.causal = q.get("causal") === "true" || q.get("causal") === "1";
  const sc = qNumber(q, "scale", NaN);
  S.scale = sc > 0 && sc <= 100 ? sc : null;
  S.query = Math.max(0, Math.round(qNumber(q, "query", 2)));
  return q;
}

function writeState() {
  writeQuery([["tokens", S.tokens.join(" ")], ["embed_dim", S.embed_dim], ["seed", S.seed], ["causal", S.causal ? "true" : "false"],
    ["scale", S.scale], ["query", S.query]]);
}

// ------------------------------------------------------------------------------ drawing

const ticks = () => ({ tickvals: S.tokens.map((_, i) => i), ticktext: D.tokens.map((t, i) => `${i}·${t}`) });

function matPlot(id, M, { xTitle = "", yTitle = "", square = false, scale = DIVERGING, text = true, zmin, zmax, xTokens = false } = {}) {
  const T = M.length;
  const absMax = Math.max(1e-9, ...M.flat().filter((v) => v !== null).map(Math.abs));
  const trace = {
    type: "heatmap", z: M, colorscale: scale, zmin: zmin ?? -absMax, zmax: zmax ?? absMax,
    x: M[0].map((_, j) => j), y: M.map((_, i) => i), xgap: 1, ygap: 1,
    texttemplate: text && M[0].length * T <= 256 ? "%{z:.2f}" : "", textfont: { size: 11 },
    hovertemplate: "row %{y}, col %{x}: %{z:.4f}<extra></extra>", colorbar: { thickness: 10 }, showscale: square,
  };
  const tk = ticks();
  Plotly.react($(id), [trace], layout({
    margin: { l: 70, r: square ? 10 : 6, t: 6, b: xTokens ? 64 : 36 },
    xaxis: { showgrid: false, zeroline: false, ...(xTokens ? { title: { text: xTitle }, ...tk, tickangle: -35 } : { title: { text: xTitle }, dtick: M[0].length <= 16 ? 1 : 4 }) },
    yaxis: { showgrid: false, zeroline: false, title: { text: yTitle }, autorange: "reversed", ...tk },
  }), { ...PLOT_CONFIG, displayModeBar: false });
}

function drawAll() {
  const b = 0; // batch item: one sequence
  const T = D.seq_len, d = D.embed_dim;
  const shp = (a, c) => `(${D.batch}, ${a}, ${c})`;
  $("#q-title").textContent = `Q  ${shp("seq_len", "embed_dim")} = ${shp(T, d)}`;
  $("#k-title").textContent = `K  ${shp(T, d)}`;
  $("#v-title").textContent = `V  ${shp(T, d)}`;
  for (const n of ["q", "k", "v"]) matPlot(`#${n}`, D[n][b], { xTitle: "embed_dim", text: d <= 8 });
  const sym = D.scale === 1 / Math.sqrt(d) ? `1/√${d}` : num(D.scale, 3);
  $("#scores-title").textContent = `Scores Q·Kᵀ × ${sym}  ${shp(T, T)}${S.causal ? " — causal mask: −∞ above the diagonal (blank)" : ""}`;
  matPlot("#scores", D.scores[b], { xTitle: "key j", yTitle: "query i", square: true, xTokens: true });
  $("#weights-title").textContent = `Weights = softmax of each row  ${shp(T, T)}: rows sum to 1`;
  matPlot("#weights", D.weights[b], { xTitle: "key j", yTitle: "query i", square: true, scale: BLUES, zmin: 0, zmax: 1, xTokens: true });
  $("#out-title").textContent = `Output = weights · V  ${shp(T, T)} · ${shp(T, d)} → ${shp(T, d)}`;
  matPlot("#out", D.output[b], { xTitle: "embed_dim", yTitle: "token", square: true, text: d <= 8 });
  $("#shapes").textContent = `X ${shp(T, d)} → Q, K, V ${shp(T, d)} → Q·Kᵀ ${shp(T, T)} → softmax ${shp(T, T)} → · V ${shp(T, d)}.  batch = ${D.batch}, seq_len = ${T}, embed_dim = ${d}.`;
  drawRow();
  dataTable($("#scores-data"), ["query", ...D.tokens.map((t, j) => `key ${j} ${t}`)], () => D.scores[b].map((r, i) => [`${i} ${D.tokens[i]}`, ...r]), { caption: "Scores", filename: "attention-scores.csv" });
  dataTable($("#weights-data"), ["query", ...D.tokens.map((t, j) => `key ${j} ${t}`)], () => D.weights[b].map((r, i) => [`${i} ${D.tokens[i]}`, ...r]), { caption: "Weights", filename: "attention-weights.csv" });
  dataTable($("#out-data"), ["token", ...Array.from({ length: d }, (_, c) => `dim ${c}`)], () => D.output[b].map((r, i) => [`${i} ${D.tokens[i]}`, ...r]), { caption: "Output", filename: "attention-output.csv" });
}

function drawRow() {
  const i = Math.min(S.query, D.seq_len - 1);
  const w = D.weights[0][i];
  const tk = ticks();
  Plotly.react($("#row"), [{
    type: "bar", x: w.map((_, j) => j), y: w, marker: { color: w.map((_, j) => (j > i && S.causal ? C.grey : C.blue)) },
    hovertemplate: "key %{x}: weight %{y:.4f}<extra></extra>", text: w.map((v) => num(v, 2)), textposition: "outside",
  }], layout({ margin: { l: 48, r: 8, t: 6, b: 64 }, xaxis: { ...tk, tickangle: -35, title: { text: "key j" } }, yaxis: { range: [0, 1.12], title: { text: `weight w${i}j` } } }), { ...PLOT_CONFIG, displayModeBar: false });
  $("#row-title").textContent = `Query ${i} “${D.tokens[i]}”: how much it takes from each token`;
  const top = w.map((v, j) => [v, j]).sort((a, b) => b[0] - a[0]).slice(0, 3);
  $("#row-formula").textContent = `output[${i}] = Σⱼ w${i}ⱼ · v_j = ${top.map(([v, j]) => `${num(v, 3)}·v${j}`).join(" + ")}${w.length > 3 ? " + …" : ""}   (weights sum to ${num(w.reduce((a, c) => a + c, 0), 6)})`;
  $("#row").dataset.query = String(i);
  if (ui.query && ui.query.value !== i) ui.query.value = i;
}

// ------------------------------------------------------------------------------ controls

const fetch = fetcher((data) => { D = data; rebuildQuery(); drawAll(); hookWeights(); });

function body() {
  const b = { tokens: S.tokens, embed_dim: S.embed_dim, seed: S.seed, causal: S.causal };
  if (S.scale !== null) b.scale = S.scale;
  return b;
}

function compute() {
  writeState();
  fetch.run("/api/v1/linalg/attention", body());
}

function rebuildQuery() {
  const opts = D.tokens.map((t, i) => ({ value: i, label: `${i}: ${t}` }));
  S.query = Math.min(S.query, D.tokens.length - 1);
  const f = selectField({ name: "query", label: "Follow query token", value: S.query, options: opts }, (v) => { S.query = Number(v); writeState(); drawRow(); });
  ui.query = f;
  $("#query-field").replaceChildren(f.el);
}

function boot() {
  const q = readState();
  hookCopyLink();
  const tok = $("#tokens");
  tok.value = S.tokens.join(" ");
  tok.addEventListener("input", () => {
    const p = parseTokens(tok.value);
    $("#tokens-error").textContent = p.error || "";
    tok.setAttribute("aria-invalid", p.error ? "true" : "false");
    if (p.error) return;
    S.tokens = p.tokens;
    compute();
  });
  ui.dim = sliderField({ name: "embed_dim", label: "Width d (embed_dim)", min: 1, max: 32, integer: true, value: S.embed_dim }, (v) => { S.embed_dim = v; compute(); });
  ui.seed = sliderField({ name: "seed", label: "Seed of X, W_Q, W_K, W_V", min: 0, max: 999, integer: true, value: S.seed }, (v) => { S.seed = v; compute(); });
  $("#dim-fields").append(ui.dim.el, ui.seed.el);
  ui.causal = checkboxField({ name: "causal", label: "causal mask (a token sees only itself and earlier tokens)", value: S.causal }, (v) => { S.causal = v; compute(); });
  ui.custom = checkboxField({ name: "custom_scale", label: "my own scale instead of 1/√d", value: S.scale !== null }, (v) => {
    S.scale = v ? ui.scale.value : null; ui.scale.el.hidden = !v; compute();
  });
  ui.scale = sliderField({ name: "scale", label: "scale (low: flat weights; high: one winner)", min: 0.01, max: 100, log: true, value: S.scale ?? 0.5 }, (v) => { S.scale = v; compute(); });
  ui.scale.el.hidden = S.scale === null;
  $("#mask-fields").append(ui.causal.el, ui.custom.el, ui.scale.el);
  applyHide(document.querySelector(".lab-grid"), hiddenSet(q));
  compute();
}

let hooked = false;
function hookWeights() {
  // Clicking a cell of the weights follows its query row.
  if (hooked) return;
  hooked = true;
  $("#weights").on("plotly_click", (ev) => {
    const p = ev.points && ev.points[0];
    if (!p) return;
    S.query = Number(p.y);
    writeState();
    drawRow();
  });
}

boot();
