// Bayes' theorem: a diagnostic test as natural frequencies (POST …/bayes/diagnostic) and a coin's
// Beta posterior flip by flip (POST …/bayes/coin), animated with the shared player.

import { dataTable } from "./controls.js";
import { Player } from "./player.js";
import { $, C, PLOT_CONFIG, Plotly, el, fetcher, finishBoot, layout, num, sliders, writeQuery } from "./probability-common.js";

const S = { prevalence: 0.01, sensitivity: 0.9, specificity: 0.95, alpha: 1, beta: 1, true_p: 0.7, n_flips: 100, seed: 0, level: 0.95 };
const TEST = ["prevalence", "sensitivity", "specificity"];
const COIN = ["alpha", "beta", "true_p", "n_flips", "seed", "level"];
let COINDATA = null;
let player = null;
const ui = {};
const ready = { test: false, coin: false };

function writeState() {
  writeQuery(Object.fromEntries([...TEST, ...COIN].map((k) => [k, S[k]])));
}

const mn = (v) => `<mn>${v}</mn>`;
const mi = (v) => `<mi>${v}</mi>`;
const mo = (v) => `<mo>${v}</mo>`;
const frac = (a, b) => `<mfrac><mrow>${a}</mrow><mrow>${b}</mrow></mfrac>`;

async function drawTest(D) {
  const c = D.counts;
  const kinds = [["tp", c.true_positive], ["fn", c.false_negative], ["fp", c.false_positive], ["tn", c.true_negative]];
  const spans = [];
  for (const [k, n] of kinds) for (let i = 0; i < n; i++) spans.push(el("span", { class: k }));
  $("#icons").replaceChildren(...spans);
  $("#icons").setAttribute("aria-label", `Of ${D.population} people: ${c.true_positive} sick and test positive, ${c.false_negative} sick and test negative, ${c.false_positive} healthy but test positive, ${c.true_negative} healthy and test negative.`);
  $("#icons-title").textContent = `${D.population} people: ${c.true_positive + c.false_negative} sick, ${c.true_positive + c.false_positive} test positive`;
  const p = S.prevalence, se = S.sensitivity, sp = S.specificity;
  const top = `${mn(num(se, 3))}${mo("×")}${mn(num(p, 3))}`;
  const bot = `${top}${mo("+")}${mn(num(1 - sp, 3))}${mo("×")}${mn(num(1 - p, 3))}`;
  const ppv = D.ppv === null ? "undefined" : num(D.ppv, 4);
  $("#bayes-formula").innerHTML = `<math display="block"><mrow>${mi("P")}${mo("(")}${mi("D")}${mo("|")}${mo("+")}${mo(")")}${mo("=")}${frac(top, bot)}${mo("=")}${mn(ppv)}</mrow></math>`;
  const pos = c.true_positive + c.false_positive;
  $("#bayes-words").textContent = pos
    ? `Counting instead: of the ${pos} people who test positive, ${c.true_positive} are sick — about ${num((100 * c.true_positive) / pos, 3)}%. Exactly, P(D | +) = ${ppv}.`
    : "No one tests positive at these settings.";
  await Plotly.react("bars", [
    { y: ["test +"], x: [c.true_positive], type: "bar", orientation: "h", name: "sick", marker: { color: C.vermilion }, hovertemplate: "%{x} sick<extra></extra>" },
    { y: ["test +"], x: [c.false_positive], type: "bar", orientation: "h", name: "healthy", marker: { color: C.blue }, hovertemplate: "%{x} healthy<extra></extra>" },
  ], layout({ barmode: "stack", showlegend: true, legend: { orientation: "h", y: -0.35 }, margin: { l: 56, r: 12, t: 10, b: 60 }, xaxis: { title: { text: "people who test positive" } } }), PLOT_CONFIG);
  ui.iconTable.update(["group", "people"], [["sick, test +", c.true_positive], ["sick, test −", c.false_negative], ["healthy, test +", c.false_positive], ["healthy, test −", c.true_negative]]);
  markReady("test");
}

function drawFrame(t) {
  const D = COINDATA;
  if (!D) return;
  const heads = D.alpha[t] - D.alpha[0];
  const top = Math.max(...D.density[t].filter((v) => v !== null && Number.isFinite(v)), 1);
  const cap = Math.min(top * 1.1, 60);
  const inBand = D.x.map((x, i) => (x >= D.lower[t] && x <= D.upper[t] ? Math.min(D.density[t][i], cap) : null));
  Plotly.react("posterior", [
    { x: D.x, y: D.density[0].map((v) => Math.min(v, cap)), type: "scatter", mode: "lines", name: "prior", line: { color: C.grey, dash: "dash", width: 2 }, hoverinfo: "skip" },
    { x: D.x, y: inBand, type: "scatter", mode: "lines", fill: "tozeroy", name: `${Math.round(S.level * 100)}% credible interval`, line: { width: 0 }, fillcolor: "rgba(0,114,178,0.18)", hoverinfo: "skip", connectgaps: false },
    { x: D.x, y: D.density[t].map((v) => Math.min(v, cap)), type: "scatter", mode: "lines", name: `posterior after ${t} flips`, line: { color: C.blue, width: 3 }, hovertemplate: "θ = %{x:.3f}: %{y:.3g}<extra></extra>" },
  ], layout({ margin: { l: 56, r: 12, t: 30, b: 44 }, showlegend: true, legend: { orientation: "h", x: 0, y: 1.14 }, xaxis: { title: { text: "bias θ = P(heads)" }, range: [0, 1] }, yaxis: { title: { text: "density" }, range: [0, cap] },
    shapes: [{ type: "line", x0: S.true_p, x1: S.true_p, yref: "paper", y0: 0, y1: 1, line: { color: C.vermilion, dash: "dot", width: 2 } }],
    annotations: [{ x: S.true_p, yref: "paper", y: 0.98, text: " true θ", showarrow: false, xanchor: "left", yanchor: "top", font: { color: C.vermilion, size: 11 } }] }), PLOT_CONFIG);
  const last = t > 0 ? (D.flips[t - 1] ? "heads" : "tails") : "—";
  $("#coin-live").textContent = `After ${t} flips (${heads} heads, last: ${last}): posterior Beta(${num(D.alpha[t])}, ${num(D.beta[t])}), mean ${num(D.mean[t], 4)}, ${Math.round(S.level * 100)}% interval [${num(D.lower[t], 4)}, ${num(D.upper[t], 4)}].`;
  Plotly.relayout("trace", { shapes: [{ type: "line", x0: t, x1: t, yref: "paper", y0: 0, y1: 1, line: { color: C.black, dash: "dot", width: 1 } }] });
}

async function drawCoin(D) {
  COINDATA = D;
  const t = D.mean.map((_, i) => i);
  await Plotly.react("trace", [
    { x: t, y: D.upper, type: "scatter", mode: "lines", line: { width: 0 }, showlegend: false, hoverinfo: "skip" },
    { x: t, y: D.lower, type: "scatter", mode: "lines", line: { width: 0 }, fill: "tonexty", fillcolor: "rgba(0,114,178,0.18)", name: "credible interval", hovertemplate: "after %{x}: lower %{y:.3f}<extra></extra>" },
    { x: t, y: D.mean, type: "scatter", mode: "lines", name: "posterior mean", line: { color: C.blue, width: 2.5 }, hovertemplate: "after %{x}: mean %{y:.3f}<extra></extra>" },
    { x: [0, t.length - 1], y: [S.true_p, S.true_p], type: "scatter", mode: "lines", name: "true θ", line: { color: C.vermilion, dash: "dot" }, hoverinfo: "skip" },
  ], layout({ showlegend: true, legend: { orientation: "h", y: 1.15 }, margin: { l: 56, r: 12, t: 30, b: 44 }, xaxis: { title: { text: "flips" } }, yaxis: { range: [0, 1], title: { text: "θ" } } }), PLOT_CONFIG);
  player.setFrames(D.mean.length);
  drawFrame(player.index);
  ui.coinTable.update(["flip", "outcome", "alpha", "beta", "mean", "lower", "upper"], () => D.mean.map((m, i) => [i, i ? (D.flips[i - 1] ? "H" : "T") : "prior", D.alpha[i], D.beta[i], m, D.lower[i], D.upper[i]]), { filename: "coin-posterior.csv" });
  markReady("coin");
}

function markReady(k) {
  ready[k] = true;
  if (ready.test && ready.coin) document.body.dataset.ready = "1";
}

const fetchTest = fetcher(drawTest, 30);
const fetchCoin = fetcher(drawCoin, 60);
const runTest = () => { writeState(); fetchTest.run("/api/v1/probability/bayes/diagnostic", { prevalence: S.prevalence, sensitivity: S.sensitivity, specificity: S.specificity, population: 1000 }); };
const runCoin = () => { writeState(); fetchCoin.run("/api/v1/probability/bayes/coin", Object.fromEntries(COIN.map((k) => [k, S[k]]))); };

function boot() {
  sliders($("#test-controls"), [
    { name: "prevalence", label: "prevalence P(D)", min: 0, max: 1, step: 0.001, value: S.prevalence },
    { name: "sensitivity", label: "sensitivity P(+ | D)", min: 0, max: 1, step: 0.001, value: S.sensitivity },
    { name: "specificity", label: "specificity P(− | not D)", min: 0, max: 1, step: 0.001, value: S.specificity },
  ], S, runTest);
  sliders($("#coin-controls"), [
    { name: "true_p", label: "true bias θ (hidden from the prior)", min: 0, max: 1, step: 0.01, value: S.true_p },
    { name: "n_flips", label: "flips", min: 0, max: 1000, integer: true, value: S.n_flips, slider_max: 500 },
    { name: "alpha", label: "prior α", min: 0.1, max: 100, value: S.alpha, slider_max: 20, step: 0.1 },
    { name: "beta", label: "prior β", min: 0.1, max: 100, value: S.beta, slider_max: 20, step: 0.1 },
    { name: "level", label: "credible level", min: 0.5, max: 0.999, step: 0.001, value: S.level },
    { name: "seed", label: "seed", min: 0, max: 1000, integer: true, value: S.seed },
  ], S, runCoin);
  player = new Player($("#player"), { label: "Flip", fps: 12, onFrame: drawFrame });
  ui.iconTable = dataTable($("#icons-data"), [], [], { caption: "Natural frequencies", filename: "diagnostic.csv" });
  ui.coinTable = dataTable($("#posterior-data"), [], [], { caption: "Posterior after each flip", filename: "coin.csv" });
  finishBoot();
  runTest();
  runCoin();
}

boot();
