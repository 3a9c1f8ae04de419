// Entropy: the Bernoulli curve (a fair coin is 1 bit), a categorical distribution edited by a
// slider per class with its entropy in bits and nats, and a classifier's softmax entropy as its
// confidence. Data: POST /api/v1/information/entropy and /softmax.
// URL state: coin, k, p, margin.

import { applyHide, dataTable, hiddenSet, qNumber, readQuery, sliderField, writeQuery } from "./controls.js";
import { $, C, PLOT_CONFIG, Plotly, fetcher, hookCopyLink, layout, num, statItem } from "./lab-common.js";

const DEF_P = [0.4, 0.3, 0.2, 0.1];
const S = { coin: 0.9, k: 4, p: DEF_P.slice(), margin: 2 };
const ui = {};
let ready = 0;
const markReady = () => { if (++ready >= 3) document.body.dataset.ready = "1"; };

function readState() {
  const q = readQuery();
  const c = qNumber(q, "coin", 0.9);
  S.coin = c >= 0 && c <= 1 ? c : 0.9;
  if (q.has("p")) {
    const v = q.get("p").split(",").map(Number);
    if (v.length >= 2 && v.length <= 10 && v.every((x) => Number.isFinite(x) && x >= 0 && x <= 1e6)) S.p = v;
  }
  S.k = S.p.length;
  const m = qNumber(q, "margin", 2);
  S.margin = m >= 0 && m <= 20 ? m : 2;
  return q;
}

const writeState = () => writeQuery([["coin", S.coin], ["k", S.k], ["p", S.p], ["margin", S.margin]]);

// ------------------------------------------------------------------------------ coin

const fetchCoin = fetcher((D) => {
  const h = D.entropy_bits;
  Plotly.react($("#bernoulli"), [
    { type: "scatter", mode: "lines", x: D.bernoulli_p, y: D.bernoulli_bits, line: { color: C.blue, width: 2.5 }, hovertemplate: "p = %{x:.2f}: H = %{y:.4f} bits<extra></extra>" },
    { type: "scatter", mode: "markers", x: [S.coin], y: [h], marker: { color: C.vermilion, size: 11 }, hovertemplate: "now: H = %{y:.4f} bits<extra></extra>" },
  ], layout({ xaxis: { title: { text: "P(heads) = p" }, range: [0, 1] }, yaxis: { title: { text: "H(p), bits" }, range: [0, 1.08] } }), PLOT_CONFIG);
  $("#coin-title").textContent = `Bernoulli entropy: p = ${num(S.coin, 3)} gives H = ${num(h, 4)} bits`;
  $("#bernoulli").dataset.h = String(h);
  dataTable($("#bernoulli-data"), ["p", "H (bits)"], () => D.bernoulli_p.map((x, i) => [x, D.bernoulli_bits[i]]), { caption: "Bernoulli entropy", filename: "bernoulli-entropy.csv" });
  markReady();
});
function computeCoin() {
  writeState();
  fetchCoin.run("/api/v1/information/entropy", { p: [S.coin, 1 - S.coin], bernoulli_points: 201 });
}

// ------------------------------------------------------------------------------ categorical

const fetchCat = fetcher((D) => {
  const x = D.p.map((_, i) => `class ${i}`);
  Plotly.react($("#cat"), [
    { type: "bar", x, y: D.p, name: "p", marker: { color: C.blue }, hovertemplate: "p(%{x}) = %{y:.4f}<extra></extra>" },
    { type: "scatter", mode: "markers+text", x, y: D.surprisal_bits.map((s) => s ?? null), yaxis: "y2", name: "surprise −log₂ p",
      marker: { color: C.orange, size: 10, symbol: "diamond" }, text: D.surprisal_bits.map((s) => (s === null ? "∞" : `${num(s, 3)} b`)), textposition: "top center",
      hovertemplate: "−log₂ p = %{y:.4f} bits<extra></extra>" },
  ], layout({ showlegend: true, legend: { orientation: "h", y: 1.12 }, yaxis: { title: { text: "probability" }, range: [0, 1] },
    yaxis2: { title: { text: "surprise, bits" }, overlaying: "y", side: "right", rangemode: "tozero", showgrid: false }, margin: { l: 52, r: 52, t: 10, b: 40 } }), PLOT_CONFIG);
  $("#stats").replaceChildren(statItem("H(p), bits", num(D.entropy_bits)), statItem("H(p), nats", num(D.entropy_nats)),
    statItem(`max: log₂ ${D.p.length}, bits`, num(D.max_bits)), statItem("perplexity 2^H", num(D.perplexity)));
  $("#stats").dataset.bits = String(D.entropy_bits);
  $("#cat-title").textContent = `Categorical p: H = ${num(D.entropy_bits)} bits = ${num(D.entropy_nats)} nats (at most ${num(D.max_bits)})`;
  dataTable($("#cat-data"), ["class", "p", "surprise (bits)"], () => D.p.map((v, i) => [x[i], v, D.surprisal_bits[i] ?? "∞"]), { caption: "Categorical", filename: "categorical.csv" });
  markReady();
});
function computeCat() {
  writeState();
  fetchCat.run("/api/v1/information/entropy", { p: S.p, bernoulli_points: 2 });
}

function buildBars() {
  ui.p = S.p.map((v, i) => sliderField({ name: `p${i}`, control: "p", label: `weight of class ${i}`, min: 0, max: 1, step: 0.01, value: v }, (nv) => { S.p[i] = nv; computeCat(); }));
  $("#p-fields").replaceChildren(...ui.p.map((f) => f.el));
}
function setP(p) { S.p = p; S.k = p.length; ui.k.value = S.k; buildBars(); computeCat(); }

// ------------------------------------------------------------------------------ classifier

const fetchConf = fetcher((D) => {
  // The softmax's curve over T traces every (confidence, entropy) pair of these logits' shape.
  const top = D.probs[0];
  Plotly.react($("#conf"), [
    { type: "scatter", mode: "lines", x: D.max_prob_curve, y: D.entropy_curve, line: { color: C.blue, width: 2.5 }, hovertemplate: "top p = %{x:.3f}: H = %{y:.3f} bits<extra></extra>" },
    { type: "scatter", mode: "markers", x: [top], y: [D.entropy_bits], marker: { color: C.vermilion, size: 12 }, hovertemplate: "now: top p = %{x:.3f}, H = %{y:.3f} bits<extra></extra>" },
  ], layout({ xaxis: { title: { text: "confidence: largest softmax probability" }, range: [0.09, 1.01] }, yaxis: { title: { text: "entropy of the softmax, bits" }, range: [0, 3.5] } }), PLOT_CONFIG);
  $("#conf-title").textContent = `A 10-class classifier: margin ${num(S.margin, 3)} → top probability ${num(top, 3)}, entropy ${num(D.entropy_bits, 3)} bits (max log₂ 10 = 3.32)`;
  markReady();
});
function computeConf() {
  writeState();
  fetchConf.run("/api/v1/information/softmax", { logits: [S.margin, 0, 0, 0, 0, 0, 0, 0, 0, 0], temperature: 1 });
}

function boot() {
  const q = readState();
  hookCopyLink();
  ui.coin = sliderField({ name: "coin", label: "P(heads) = p", min: 0, max: 1, step: 0.01, value: S.coin }, (v) => { S.coin = v; computeCoin(); });
  $("#coin-field").append(ui.coin.el);
  ui.k = sliderField({ name: "k", label: "Number of classes K", min: 2, max: 10, integer: true, value: S.k }, (k) => {
    const p = S.p.slice(0, k);
    while (p.length < k) p.push(0.1);
    setP(p);
  });
  $("#k-field").append(ui.k.el);
  $("#preset-uniform").addEventListener("click", () => setP(Array(S.k).fill(1 / S.k)));
  $("#preset-peaked").addEventListener("click", () => setP(Array.from({ length: S.k }, (_, i) => (i === 0 ? 0.9 : 0.1 / (S.k - 1)))));
  $("#preset-onehot").addEventListener("click", () => setP(Array.from({ length: S.k }, (_, i) => (i === 0 ? 1 : 0))));
  buildBars();
  ui.margin = sliderField({ name: "margin", label: "Logit margin of the top class", min: 0, max: 20, step: 0.1, value: S.margin }, (v) => { S.margin = v; computeConf(); });
  $("#margin-field").append(ui.margin.el);
  applyHide(document.querySelector(".lab-grid"), hiddenSet(q));
  computeCoin();
  computeCat();
  computeConf();
}

boot();
