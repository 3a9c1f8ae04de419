// Maximum likelihood: the Gaussian log-likelihood surface with its maximum (POST …/mle/gaussian),
// and a logistic model whose NLL is exactly binary cross-entropy (POST …/mle/logistic).

import { dataTable } from "./controls.js";
import { $, C, PLOT_CONFIG, Plotly, fetcher, finishBoot, histogram, layout, normalPdf, num, sliders, stats, writeQuery } from "./probability-common.js";

const S = { mu: 1, sigma: 2, n_samples: 50, seed: 0, w: 2, b: -0.5, n: 60, lseed: 0, probe_w: 0.5, probe_b: 0 };
const G = ["mu", "sigma", "n_samples", "seed"];
const L = ["w", "b", "n", "lseed", "probe_w", "probe_b"];
const ui = {};
let LD = null;

const writeState = () => writeQuery(Object.fromEntries([...G, ...L].map((k) => [k, S[k]])));

async function drawGaussian(D) {
  const top = D.max_loglik;
  await Plotly.react("surface", [
    { x: D.mu_grid, y: D.sigma_grid, z: D.loglik, type: "contour", colorscale: [[0, "#f7f9fc"], [0.5, "#bccbdc"], [1, "#3f5573"]], zmin: top - 40, zmax: top, contours: { coloring: "heatmap", start: top - 40, end: top, size: 4 }, line: { width: 0.5, color: "#5f6f86" }, colorbar: { title: { text: "ℓ" }, thickness: 12 }, hovertemplate: "μ = %{x:.3f}, σ = %{y:.3f}: ℓ = %{z:.2f}<extra></extra>" },
    { x: [D.mle_mu], y: [D.mle_sigma], type: "scatter", mode: "markers", name: "MLE (x̄, σ̂)", marker: { color: C.vermilion, size: 13, symbol: "star", line: { color: "#fff", width: 1 } }, hovertemplate: "MLE μ̂ = %{x:.4f}, σ̂ = %{y:.4f}<extra></extra>" },
    { x: [S.mu], y: [S.sigma], type: "scatter", mode: "markers", name: "true (μ, σ)", marker: { color: C.black, size: 10, symbol: "x" }, hovertemplate: "true μ = %{x}, σ = %{y}<extra></extra>" },
  ], layout({ showlegend: true, legend: { orientation: "h", x: 0, y: 1.13 }, margin: { l: 56, r: 12, t: 30, b: 44 }, xaxis: { title: { text: "μ" } }, yaxis: { title: { text: "σ" } } }), PLOT_CONFIG);
  const lo = Math.min(...D.samples), hi = Math.max(...D.samples);
  const pad = 0.1 * (hi - lo || 1);
  const h = histogram(D.samples, lo - pad, hi + pad, Math.min(40, Math.max(6, Math.round(Math.sqrt(D.samples.length)))));
  const xs = Array.from({ length: 200 }, (_, i) => lo - pad + ((hi - lo + 2 * pad) * i) / 199);
  await Plotly.react("fit", [
    { x: h.x, y: h.y, type: "bar", width: h.w, name: "sample", marker: { color: C.sky, opacity: 0.6 }, hovertemplate: "%{x:.3g}: %{y:.3f}<extra></extra>" },
    { x: xs, y: xs.map((x) => normalPdf(x, D.mle_mu, D.mle_sigma)), type: "scatter", mode: "lines", name: "N(μ̂, σ̂²) — the MLE", line: { color: C.vermilion, width: 3 } },
    { x: xs, y: xs.map((x) => normalPdf(x, S.mu, S.sigma)), type: "scatter", mode: "lines", name: "N(μ, σ²) — the truth", line: { color: C.black, width: 1.5, dash: "dot" } },
  ], layout({ showlegend: true, legend: { orientation: "h", x: 0, y: 1.13 }, margin: { l: 56, r: 12, t: 30, b: 44 }, xaxis: { title: { text: "x" } }, yaxis: { title: { text: "density" } } }), PLOT_CONFIG);
  stats($("#g-stats"), [["μ̂ = sample mean", D.mle_mu], ["σ̂ (MLE, ÷n)", D.mle_sigma], ["s (unbiased, ÷(n−1))", D.unbiased_sigma], ["max log-likelihood", D.max_loglik]]);
  ui.gTable.update(["i", "x_i"], () => D.samples.map((x, i) => [i, x]), { filename: "gaussian-sample.csv" });
}

async function drawLogistic(D) {
  LD = D;
  const xs = Array.from({ length: 200 }, (_, i) => -6 + (12 * i) / 199);
  const sig = (z) => 1 / (1 + Math.exp(-z));
  await Plotly.react("logistic", [
    { x: D.x, y: D.y.map((y, i) => y + 0.04 * Math.sin(i * 12.9898)), type: "scatter", mode: "markers", name: "labels y", marker: { color: D.y.map((y) => (y ? C.vermilion : C.blue)), size: 7, opacity: 0.7 }, hovertemplate: "x = %{x:.3f}<extra></extra>" },
    { x: xs, y: xs.map((x) => sig(S.probe_w * x + S.probe_b)), type: "scatter", mode: "lines", name: `probe σ(${num(S.probe_w, 3)}x + ${num(S.probe_b, 3)})`, line: { color: C.orange, width: 3 } },
    { x: xs, y: xs.map((x) => sig(D.mle_w * x + D.mle_b)), type: "scatter", mode: "lines", name: "MLE fit", line: { color: C.green, width: 2.5, dash: "dash" } },
  ], layout({ showlegend: true, legend: { orientation: "h", x: 0, y: 1.13 }, margin: { l: 56, r: 12, t: 30, b: 44 }, xaxis: { title: { text: "x" }, range: [-6, 6] }, yaxis: { title: { text: "y, p(y = 1 | x)" }, range: [-0.1, 1.1] } }), PLOT_CONFIG);
  const ymax = Math.max(...D.nll_curve.filter((v) => v !== null));
  await Plotly.react("nll", [
    { x: D.w_grid, y: D.nll_curve, type: "scatter", mode: "lines", name: "NLL(w)", line: { color: C.blue, width: 2.5 }, hovertemplate: "w = %{x:.2f}: %{y:.4f}<extra></extra>" },
    { x: [D.mle_w], y: [D.mle_nll], type: "scatter", mode: "markers", name: "MLE", marker: { color: C.green, size: 12, symbol: "star" } },
    { x: [S.probe_w], y: [D.probe_nll], type: "scatter", mode: "markers", name: "probe (its own b)", marker: { color: C.orange, size: 11 } },
  ], layout({ showlegend: true, legend: { orientation: "h", x: 0, y: 1.13 }, margin: { l: 56, r: 12, t: 30, b: 44 }, xaxis: { title: { text: "w" } }, yaxis: { title: { text: "mean NLL (nats)" }, range: [0, Math.min(ymax, 4) * 1.05] } }), PLOT_CONFIG);
  const n = D.x.length;
  const i0 = D.y.indexOf(1), i1 = D.y.indexOf(0);
  $("#nll-formula").innerHTML = `<math display="block"><mrow><mo>−</mo><mfrac><mn>1</mn><mn>${n}</mn></mfrac><mi>ln</mi><mo>⁡</mo><munderover><mo>∏</mo><mrow><mi>i</mi><mo>=</mo><mn>1</mn></mrow><mn>${n}</mn></munderover><mi>p</mi><mo>(</mo><msub><mi>y</mi><mi>i</mi></msub><mo>|</mo><msub><mi>x</mi><mi>i</mi></msub><mo>)</mo><mo>=</mo><mn>${num(D.probe_nll, 8)}</mn></mrow></math>`
    + `<math display="block"><mrow><mo>−</mo><mfrac><mn>1</mn><mn>${n}</mn></mfrac><munderover><mo>∑</mo><mrow><mi>i</mi><mo>=</mo><mn>1</mn></mrow><mn>${n}</mn></munderover><mo>[</mo><msub><mi>y</mi><mi>i</mi></msub><mi>ln</mi><msub><mi>p</mi><mi>i</mi></msub><mo>+</mo><mo>(</mo><mn>1</mn><mo>−</mo><msub><mi>y</mi><mi>i</mi></msub><mo>)</mo><mi>ln</mi><mo>(</mo><mn>1</mn><mo>−</mo><msub><mi>p</mi><mi>i</mi></msub><mo>)</mo><mo>]</mo><mo>=</mo><mn>${num(D.probe_cross_entropy, 8)}</mn></mrow></math>`
    + `<p class="note">Top: the likelihood of all ${n} labels at the probe (w, b) = (${num(S.probe_w, 3)}, ${num(S.probe_b, 3)}); bottom: the cross-entropy loss on the same numbers — e.g. a y = 1 point contributes −ln pᵢ${i0 >= 0 ? ` = −ln ${num(D.probe_p[i0], 4)}` : ""}, a y = 0 point −ln(1 − pᵢ)${i1 >= 0 ? ` = −ln(1 − ${num(D.probe_p[i1], 4)})` : ""}. The MLE (w, b) = (${num(D.mle_w, 4)}, ${num(D.mle_b, 4)}) minimizes both: NLL ${num(D.mle_nll, 6)}.</p>`;
  ui.lTable.update(["x", "y", "p_probe"], () => D.x.map((x, i) => [x, D.y[i], D.probe_p[i]]), { filename: "logistic.csv" });
}

const fetchG = fetcher(drawGaussian, 40);
const fetchL = fetcher(drawLogistic, 40);
const runG = () => { writeState(); fetchG.run("/api/v1/probability/mle/gaussian", { mu: S.mu, sigma: S.sigma, n_samples: S.n_samples, seed: S.seed }); };
const runL = () => { writeState(); fetchL.run("/api/v1/probability/mle/logistic", { w: S.w, b: S.b, n_samples: S.n, seed: S.lseed, probe_w: S.probe_w, probe_b: S.probe_b }); };

function boot() {
  sliders($("#g-controls"), [
    { name: "mu", label: "true μ", min: -100, max: 100, value: S.mu, slider_min: -10, slider_max: 10, step: 0.1 },
    { name: "sigma", label: "true σ", min: 0.05, max: 100, value: S.sigma, slider_max: 10, step: 0.05 },
    { name: "n_samples", label: "sample size n", min: 2, max: 10000, integer: true, log: true, value: S.n_samples },
    { name: "seed", label: "seed", min: 0, max: 1000, integer: true, value: S.seed },
  ], S, runG);
  sliders($("#l-controls"), [
    { name: "probe_w", label: "probe slope w (move me)", min: -10, max: 10, value: S.probe_w, step: 0.05 },
    { name: "probe_b", label: "probe intercept b", min: -10, max: 10, value: S.probe_b, step: 0.05 },
    { name: "w", label: "true w (makes the data)", min: -10, max: 10, value: S.w, step: 0.1 },
    { name: "b", label: "true b (makes the data)", min: -10, max: 10, value: S.b, step: 0.1 },
    { name: "n", label: "labelled points n", min: 2, max: 5000, integer: true, log: true, value: S.n },
    { name: "lseed", label: "seed", min: 0, max: 1000, integer: true, value: S.lseed },
  ], S, runL);
  ui.gTable = dataTable($("#surface-data"), [], [], { caption: "The sample", filename: "sample.csv" });
  ui.lTable = dataTable($("#logistic-data"), [], [], { caption: "Labelled points", filename: "logistic.csv" });
  finishBoot();
  runG();
  runL();
}

boot();
