// Cross-entropy and KL divergence: two editable categorical distributions p and q, the identity
// H(p, q) = H(p) + KL(p‖q), the asymmetry; two Gaussians with the closed-form KL checked by
// quadrature, and the VAE's KL(N(μ, σ²)‖N(0, 1)).
// Data: POST /api/v1/information/divergence and /gaussian-kl.
// URL state: k, p, q, base, mu_p, sigma_p, mu_q, sigma_q, vae.

import { applyHide, checkboxField, dataTable, hiddenSet, qNumber, readQuery, selectField, sliderField, writeQuery } from "./controls.js";
import { $, C, PLOT_CONFIG, Plotly, fetcher, hookCopyLink, layout, num } from "./lab-common.js";

const DEF_P = [0.5, 0.3, 0.15, 0.05];
const DEF_Q = [0.25, 0.25, 0.25, 0.25];
const S = { k: 4, p: DEF_P.slice(), q: DEF_Q.slice(), base: "2", mu_p: 1, sigma_p: 0.5, mu_q: 0, sigma_q: 1, vae: true };
const ui = {};
let ready = 0;
const unit = () => (S.base === "e" ? "nats" : "bits");

function readList(q, name, fallback) {
  if (!q.has(name)) return fallback;
  const v = q.get(name).split(",").map(Number);
  return v.length >= 2 && v.length <= 10 && v.every((x) => Number.isFinite(x) && x >= 0 && x <= 1e6) ? v : fallback;
}

function readState() {
  const q = readQuery();
  S.p = readList(q, "p", DEF_P.slice());
  S.q = readList(q, "q", DEF_Q.slice());
  S.k = Math.min(10, Math.max(2, S.p.length));
  while (S.q.length < S.k) S.q.push(0.1);
  S.q = S.q.slice(0, S.k);
  S.base = q.get("base") === "e" ? "e" : "2";
  const clamp = (v, lo, hi, d) => (Number.isFinite(v) && v >= lo && v <= hi ? v : d);
  S.mu_p = clamp(qNumber(q, "mu_p", 1), -10, 10, 1);
  S.sigma_p = clamp(qNumber(q, "sigma_p", 0.5), 0.05, 10, 0.5);
  S.mu_q = clamp(qNumber(q, "mu_q", 0), -10, 10, 0);
  S.sigma_q = clamp(qNumber(q, "sigma_q", 1), 0.05, 10, 1);
  S.vae = q.has("vae") ? q.get("vae") !== "false" : true;
  return q;
}

function writeState() {
  writeQuery([["k", S.k], ["p", S.p], ["q", S.q], ["base", S.base], ["mu_p", S.mu_p], ["sigma_p", S.sigma_p],
    ["mu_q", S.mu_q], ["sigma_q", S.sigma_q], ["vae", S.vae ? "true" : "false"]]);
}

const markReady = () => { if (++ready >= 2) document.body.dataset.ready = "1"; };
const cls = (i) => `class ${i}`;

// ------------------------------------------------------------------------------ categorical

function drawDivergence(D) {
  const x = D.p.map((_, i) => cls(i));
  Plotly.react($("#dist"), [
    { type: "bar", name: "p", x, y: D.p, marker: { color: C.blue }, hovertemplate: "p(%{x}) = %{y:.4f}<extra></extra>" },
    { type: "bar", name: "q", x, y: D.q, marker: { color: C.orange }, hovertemplate: "q(%{x}) = %{y:.4f}<extra></extra>" },
  ], layout({ barmode: "group", showlegend: true, legend: { orientation: "h", y: 1.1 }, yaxis: { title: { text: "probability" }, range: [0, 1] } }), PLOT_CONFIG);
  const u = unit();
  const inf = (v, flag) => (flag ? "∞" : num(v));
  const klv = D.kl_pq_infinite ? null : D.kl_pq;
  const cap = Math.max(D.entropy_p, D.entropy_q, klv ?? 0, D.kl_qp ?? 0) * 1.3 + 0.5;
  const infBar = (v, flag) => (flag ? cap : v);
  Plotly.react($("#decomp"), [
    { type: "bar", name: "H(p)", x: ["H(p, q)", "KL(q‖p)"], y: [D.entropy_p, 0], marker: { color: C.blue }, hovertemplate: `H(p) = %{y:.4f} ${u}<extra></extra>` },
    { type: "bar", name: "KL(p‖q)", x: ["H(p, q)", "KL(q‖p)"], y: [infBar(D.kl_pq, D.kl_pq_infinite), 0], marker: { color: C.vermilion, pattern: { shape: D.kl_pq_infinite ? "/" : "" } },
      text: [`KL(p‖q) = ${inf(D.kl_pq, D.kl_pq_infinite)}`, ""], textposition: "inside", hovertemplate: `KL(p‖q) = ${inf(D.kl_pq, D.kl_pq_infinite)} ${u}<extra></extra>` },
    { type: "bar", name: "KL(q‖p)", x: ["H(p, q)", "KL(q‖p)"], y: [0, infBar(D.kl_qp, D.kl_qp_infinite)], marker: { color: C.purple, pattern: { shape: D.kl_qp_infinite ? "/" : "" } },
      text: ["", `KL(q‖p) = ${inf(D.kl_qp, D.kl_qp_infinite)}`], textposition: "inside", hovertemplate: `KL(q‖p) = ${inf(D.kl_qp, D.kl_qp_infinite)} ${u}<extra></extra>` },
  ], layout({ barmode: "stack", showlegend: true, legend: { orientation: "h", y: 1.1 }, yaxis: { title: { text: u }, range: [0, cap] } }), PLOT_CONFIG);
  const stats = [["H(p)", num(D.entropy_p)], ["H(q)", num(D.entropy_q)], ["H(p, q)", inf(D.cross_entropy, D.cross_entropy_infinite)],
    ["KL(p‖q)", inf(D.kl_pq, D.kl_pq_infinite)], ["KL(q‖p)", inf(D.kl_qp, D.kl_qp_infinite)]];
  $("#stats").replaceChildren(...stats.map(([k, v]) => { const d = document.createElement("div"); d.innerHTML = `<dt>${k} (${u})</dt><dd></dd>`; d.querySelector("dd").textContent = v; return d; }));
  $("#stats").dataset.klpq = D.kl_pq_infinite ? "inf" : String(D.kl_pq);
  $("#identity").textContent = D.cross_entropy_infinite
    ? `q puts 0 where p does not: coding an event that “cannot happen” costs infinitely many ${u}, so H(p, q) = KL(p‖q) = ∞.`
    : `H(p, q) = ${num(D.cross_entropy)} = H(p) ${num(D.entropy_p)} + KL(p‖q) ${num(D.kl_pq)} ${u}.  KL(q‖p) = ${inf(D.kl_qp, D.kl_qp_infinite)}: ${D.kl_qp_infinite || Math.abs(D.kl_qp - D.kl_pq) > 1e-9 ? "not the same — KL is asymmetric" : "equal here"}.`;
  dataTable($("#dist-data"), ["class", "p", "q", `p·log(p/q) (${u})`], () => D.p.map((v, i) => [cls(i), v, D.q[i], D.kl_terms_pq[i] ?? "∞"]), { caption: "p and q", filename: "p-q.csv" });
}

const fetchDiv = fetcher((D) => { drawDivergence(D); markReady(); });
function computeDiv() {
  writeState();
  fetchDiv.run("/api/v1/information/divergence", { p: S.p, q: S.q, base: S.base === "e" ? "e" : 2 });
}

function buildBars() {
  for (const which of ["p", "q"]) {
    ui[which] = S[which].map((v, i) => sliderField({ name: `${which}${i}`, control: which, label: `${which}(class ${i}) weight`, min: 0, max: 1, step: 0.01, value: v },
      (nv) => { S[which][i] = nv; computeDiv(); }));
    $(`#${which}-fields`).replaceChildren(...ui[which].map((f) => f.el));
  }
  const n = document.createElement("p");
  n.className = "note";
  n.textContent = "Weights are normalized to sum to 1 by the server.";
  $("#q-fields").append(n);
}

function setK(k) {
  S.k = k;
  for (const w of ["p", "q"]) {
    while (S[w].length < k) S[w].push(0.1);
    S[w] = S[w].slice(0, k);
  }
  buildBars();
  computeDiv();
}

// ------------------------------------------------------------------------------ Gaussians

function drawGauss(G) {
  Plotly.react($("#gauss"), [
    { type: "scatter", mode: "lines", name: "p", x: G.x, y: G.pdf_p, line: { color: C.blue, width: 2.5 } },
    { type: "scatter", mode: "lines", name: "q", x: G.x, y: G.pdf_q, line: { color: C.orange, width: 2.5 } },
    { type: "scatter", mode: "lines", name: "p·ln(p/q)", x: G.x, y: G.integrand_pq, line: { color: C.vermilion, dash: "dot" }, fill: "tozeroy", fillcolor: "rgba(213,94,0,0.12)" },
  ], layout({ showlegend: true, legend: { orientation: "h", y: 1.1 }, xaxis: { title: { text: "x" } }, yaxis: { title: { text: "density" } } }), PLOT_CONFIG);
  const cur = G.kl_pq;
  Plotly.react($("#vae"), [
    { type: "scatter", mode: "lines", x: G.sigma_grid, y: G.kl_vs_sigma, line: { color: C.vermilion, width: 2.5 }, hovertemplate: "σ_p = %{x:.3g}: KL = %{y:.4g} nats<extra></extra>" },
    { type: "scatter", mode: "markers", x: [S.sigma_p], y: [cur], marker: { color: C.black, size: 10 }, hovertemplate: "now: KL = %{y:.4g}<extra></extra>" },
  ], layout({ xaxis: { type: "log", title: { text: "σ_p" } }, yaxis: { title: { text: "KL(p‖q), nats" }, range: [0, Math.max(4, cur * 1.3)] } }), PLOT_CONFIG);
  $("#vae-title").textContent = S.vae ? `VAE KL term KL(N(${num(S.mu_p, 3)}, σ²) ‖ N(0, 1)) as σ moves` : "KL(p‖q) as σ_p moves";
  $("#g-readout").textContent = `KL(p‖q) = ${num(G.kl_pq, 6)} nats (quadrature ${num(G.kl_pq_quadrature, 6)});  KL(q‖p) = ${num(G.kl_qp, 6)} nats (quadrature ${num(G.kl_qp_quadrature, 6)}).`;
  dataTable($("#gauss-data"), ["x", "p(x)", "q(x)", "p ln(p/q)"], () => G.x.map((x, i) => [x, G.pdf_p[i], G.pdf_q[i], G.integrand_pq[i]]), { caption: "Densities", filename: "gaussians.csv" });
}

const fetchGauss = fetcher((G) => { drawGauss(G); markReady(); });
function computeGauss() {
  writeState();
  fetchGauss.run("/api/v1/information/gaussian-kl", { mu_p: S.mu_p, sigma_p: S.sigma_p, mu_q: S.mu_q, sigma_q: S.sigma_q });
}

function buildGauss() {
  const mk = (name, label, min, max, log) => sliderField({ name, label, min, max, log, step: log ? undefined : 0.05, value: S[name] }, (v) => { S[name] = v; computeGauss(); });
  ui.mu_p = mk("mu_p", "μ_p (mean of p)", -10, 10, false);
  ui.sigma_p = mk("sigma_p", "σ_p (std of p)", 0.05, 10, true);
  ui.mu_q = mk("mu_q", "μ_q (mean of q)", -10, 10, false);
  ui.sigma_q = mk("sigma_q", "σ_q (std of q)", 0.05, 10, true);
  ui.vae = checkboxField({ name: "vae", label: "q = N(0, 1): the VAE prior", value: S.vae }, (v) => {
    S.vae = v;
    if (v) { S.mu_q = 0; S.sigma_q = 1; ui.mu_q.value = 0; ui.sigma_q.value = 1; }
    ui.mu_q.el.hidden = ui.sigma_q.el.hidden = v;
    computeGauss();
  });
  if (S.vae) { S.mu_q = 0; S.sigma_q = 1; ui.mu_q.value = 0; ui.sigma_q.value = 1; }
  ui.mu_q.el.hidden = ui.sigma_q.el.hidden = S.vae;
  $("#g-fields").append(ui.vae.el, ui.mu_p.el, ui.sigma_p.el, ui.mu_q.el, ui.sigma_q.el);
}

function boot() {
  const q = readState();
  hookCopyLink();
  ui.k = sliderField({ name: "k", label: "Number of classes", min: 2, max: 10, integer: true, value: S.k }, (v) => setK(v));
  ui.base = selectField({ name: "base", label: "Units", value: S.base, options: [{ value: "2", label: "bits (log₂)" }, { value: "e", label: "nats (ln)" }] }, (v) => { S.base = v; computeDiv(); });
  $("#k-fields").append(ui.k.el, ui.base.el);
  $("#preset-swap").addEventListener("click", () => { [S.p, S.q] = [S.q, S.p]; buildBars(); computeDiv(); });
  $("#preset-zero").addEventListener("click", () => { S.q = S.q.slice(); S.q[S.k - 1] = 0; if (S.p[S.k - 1] === 0) S.p[S.k - 1] = 0.1; buildBars(); computeDiv(); });
  $("#preset-same").addEventListener("click", () => { S.q = S.p.slice(); buildBars(); computeDiv(); });
  buildBars();
  buildGauss();
  for (const g of document.querySelectorAll(".lab-grid")) applyHide(g, hiddenSet(q));
  computeDiv();
  computeGauss();
}

boot();
