// Learning-rate schedules: each schedule's γ_t, and the same small MLP trained once per schedule
// (POST /api/v1/optimization/lr-schedules). Every control is in the URL under its request-field
// name; a schedule's settings are "<schedule>.<param>" (step.gamma=0.3).

import { PLOT_CONFIG, applyHide, checkboxField, dataTable, el, hiddenSet, qNumber, readQuery, selectField, sliderField, writeQuery } from "./controls.js";
import { $, C, Plotly, fetcher, hookCopyLink, layout, numExact as num } from "./lab-common.js";

const URL_API = "/api/v1/optimization/lr-schedules";

const SCHED = {
  constant: { label: "constant", color: C.black, dash: "solid", params: [] },
  step: { label: "step decay", color: C.orange, dash: "solid", params: [
    { name: "step_size", label: "step_size s (steps between decays)", min: 1, max: 100000, integer: true, slider_max: 600, value: 150 },
    { name: "gamma", label: "gamma g (factor per decay)", min: 0, exclusive_min: true, max: 1, slider_min: 0.01, step: 0.01, value: 0.3 },
  ] },
  exponential: { label: "exponential", color: C.sky, dash: "solid", params: [
    { name: "gamma", label: "gamma g (factor per step)", min: 0, exclusive_min: true, max: 1, slider_min: 0.95, step: 0.0005, value: 0.995 },
  ] },
  cosine: { label: "cosine", color: C.green, dash: "solid", params: [
    { name: "eta_min", label: "eta_min (lowest lr)", min: 0, max: 10, slider_max: 0.5, step: 0.005, value: 0 },
  ] },
  warmup_cosine: { label: "warmup + cosine", color: C.blue, dash: "solid", params: [
    { name: "warmup_steps", label: "warmup_steps W", min: 0, max: 100000, integer: true, slider_max: 600, value: 60 },
    { name: "eta_min", label: "eta_min (lowest lr)", min: 0, max: 10, slider_max: 0.5, step: 0.005, value: 0 },
  ] },
  onecycle: { label: "one-cycle", color: C.vermilion, dash: "solid", params: [
    { name: "pct_start", label: "pct_start p (share rising)", min: 0.01, max: 0.99, step: 0.01, value: 0.3 },
    { name: "div_factor", label: "div_factor d (start = γ/d)", min: 1, max: 1e4, log: true, slider_min: 1, slider_max: 1e3, value: 25 },
    { name: "final_div_factor", label: "final_div_factor d_f (end = γ/(d·d_f))", min: 1, max: 1e6, log: true, slider_min: 1, slider_max: 1e6, value: 1e4 },
  ] },
};
const NAMES = Object.keys(SCHED);

const RUN = [
  { name: "lr", label: "learning rate γ (base / peak)", min: 1e-4, max: 10, log: true, slider_min: 1e-3, slider_max: 10, value: 0.7 },
  { name: "momentum", label: "momentum (SGD)", min: 0, max: 0.99, step: 0.01, value: 0.9 },
  { name: "epochs", label: "epochs", min: 1, max: 200, integer: true, value: 60 },
  { name: "batch_size", label: "batch size", min: 8, max: 128, integer: true, value: 16 },
  { name: "n_samples", label: "points (30% held out)", min: 40, max: 400, integer: true, step: 10, value: 200 },
  { name: "noise", label: "noise", min: 0, max: 1, step: 0.01, value: 0.2 },
  { name: "width", label: "hidden width", min: 2, max: 32, integer: true, value: 16, control: "hidden" },
  { name: "layers", label: "hidden layers", min: 1, max: 2, integer: true, value: 1, control: "hidden" },
  { name: "seed", label: "seed (data, weights, batch order)", min: 0, max: 2 ** 31 - 1, integer: true, slider_max: 50, value: 0 },
];
const CHOICES = {
  optimizer: { label: "optimizer", options: [{ value: "sgd", label: "SGD (+ momentum)" }, { value: "adam", label: "Adam" }], value: "sgd" },
  dataset: { label: "dataset", options: ["moons", "circles", "xor", "spirals"].map((v) => ({ value: v, label: v })), value: "moons" },
  activation: { label: "activation", options: [{ value: "tanh", label: "tanh" }, { value: "relu", label: "ReLU" }], value: "tanh" },
};

const PRESETS = {
  default: { run: { lr: 0.7, optimizer: "sgd", momentum: 0.9, epochs: 60, batch_size: 16, n_samples: 200, noise: 0.2, width: 16, layers: 1, activation: "tanh", dataset: "moons", seed: 0 }, on: NAMES },
  toohigh: { run: { lr: 2.0, optimizer: "sgd", momentum: 0.9 }, on: NAMES },
  adam: { run: { lr: 0.5, optimizer: "adam" }, on: ["constant", "cosine", "warmup_cosine"] },
  tiny: { run: { lr: 0.003, optimizer: "sgd", momentum: 0.9 }, on: NAMES },
};


// State: the request fields (hidden split into width × layers for the sliders) and the view.
const S = { on: new Set(NAMES), params: {}, run: {}, lr_axis: "linear", show_test: false };
for (const n of NAMES) S.params[n] = Object.fromEntries(SCHED[n].params.map((p) => [p.name, p.value]));
for (const f of RUN) S.run[f.name] = f.value;
for (const [k, c] of Object.entries(CHOICES)) S.run[k] = c.value;

const ui = { checks: {}, run: {} };
let D = null;

function inBounds(v, f) {
  if (!Number.isFinite(v)) return false;
  if (f.integer && !Number.isInteger(v)) return false;
  if (f.exclusive_min ? v <= f.min : v < f.min) return false;
  return v <= f.max;
}

function readState() {
  const q = readQuery();
  if (q.has("schedules")) {
    const on = q.get("schedules").split(",").filter((n) => NAMES.includes(n));
    if (on.length) S.on = new Set(on);
  }
  for (const n of NAMES) {
    for (const p of SCHED[n].params) {
      const v = qNumber(q, `${n}.${p.name}`, NaN);
      if (inBounds(v, p)) S.params[n][p.name] = v;
    }
  }
  for (const f of RUN) {
    if (f.control === "hidden") continue;
    const v = qNumber(q, f.name, NaN);
    if (inBounds(v, f)) S.run[f.name] = v;
  }
  const hidden = (q.get("hidden") || "").split(",").map(Number);
  if (hidden.length >= 1 && hidden.length <= 2 && hidden.every((h) => Number.isInteger(h) && h >= 2 && h <= 32)) {
    S.run.width = hidden[0];
    S.run.layers = hidden.length;
  }
  for (const [k, c] of Object.entries(CHOICES)) {
    if (c.options.some((o) => o.value === q.get(k))) S.run[k] = q.get(k);
  }
  if (["linear", "log"].includes(q.get("lr_axis"))) S.lr_axis = q.get("lr_axis");
  S.show_test = q.get("show_test") === "1";
}

function hidden() {
  return Array(S.run.layers).fill(S.run.width);
}

function body() {
  const run = { ...S.run };
  delete run.width;
  delete run.layers;
  return { schedules: NAMES.filter((n) => S.on.has(n)).map((n) => ({ name: n, ...S.params[n] })), ...run, hidden: hidden() };
}

function writeState() {
  const e = [["schedules", NAMES.filter((n) => S.on.has(n))]];
  for (const n of NAMES) if (S.on.has(n)) for (const [k, v] of Object.entries(S.params[n])) e.push([`${n}.${k}`, v]);
  for (const [k, v] of Object.entries(S.run)) if (k !== "width" && k !== "layers") e.push([k, v]);
  e.push(["hidden", hidden()], ["lr_axis", S.lr_axis === "linear" ? null : S.lr_axis], ["show_test", S.show_test ? 1 : null]);
  writeQuery(e);
}

// ------------------------------------------------------------------------------------ drawing

const label = (r) => SCHED[r.name].label;

function drawLR() {
  const traces = D.runs.map((r) => ({
    x: r.lr.map((_, t) => t), y: r.lr, customdata: r.lr.map((_, t) => t / D.steps_per_epoch),
    type: "scatter", mode: "lines", name: label(r), line: { color: SCHED[r.name].color, width: 2, shape: r.name === "step" ? "hv" : "linear" },
    hovertemplate: `${label(r)}<br>step %{x} (epoch %{customdata:.2f})<br>γ = %{y:.4g}<extra></extra>`,
  }));
  return Plotly.react("lr-plot", traces, layout({
    xaxis: { title: { text: `optimizer step t (${D.steps_per_epoch} per epoch)` }, range: [0, D.total_steps] },
    yaxis: S.lr_axis === "log" ? { title: { text: "γ_t" }, type: "log", exponentformat: "power" }
      : { title: { text: "γ_t" }, type: "linear", range: [0, 1.06 * Math.max(...D.runs.map((r) => Math.max(...r.lr)))] },
    margin: { l: 60, r: 12, t: 30, b: 44 }, uirevision: S.lr_axis,
  }), PLOT_CONFIG);
}

function clipLoss(v) {
  return v === null || !(v > 0) ? null : v;
}

function drawLoss() {
  const traces = [];
  for (const r of D.runs) {
    const tag = r.status === "diverged" || r.status === "unstable" ? ` (${r.status})` : "";
    traces.push({
      x: D.epoch_steps, y: r.train_loss.map(clipLoss), customdata: D.epoch_steps.map((_, e) => e),
      type: "scatter", mode: "lines", name: label(r) + tag, legendgroup: r.name,
      line: { color: SCHED[r.name].color, width: 2 },
      hovertemplate: `${label(r)}: train loss %{y:.4g}<br>epoch %{customdata} (step %{x})<extra></extra>`,
    });
    if (S.show_test) {
      traces.push({
        x: D.epoch_steps, y: r.test_loss.map(clipLoss), customdata: D.epoch_steps.map((_, e) => e),
        type: "scatter", mode: "lines", name: `${label(r)} (test)`, legendgroup: r.name, showlegend: false,
        line: { color: SCHED[r.name].color, width: 1.5, dash: "dash" },
        hovertemplate: `${label(r)}: test loss %{y:.4g}<br>epoch %{customdata}<extra></extra>`,
      });
    }
  }
  return Plotly.react("loss-plot", traces, layout({
    xaxis: { title: { text: "optimizer step t (one point per epoch)" }, range: [0, D.total_steps] },
    yaxis: { title: { text: "cross-entropy" }, type: "log", exponentformat: "power", dtick: "D2" },
    margin: { l: 60, r: 12, t: 30, b: 44 },
  }), PLOT_CONFIG);
}

function drawAcc() {
  const traces = D.runs.map((r) => ({
    x: D.epoch_steps.map((_, e) => e), y: r.test_acc, type: "scatter", mode: "lines", name: label(r),
    line: { color: SCHED[r.name].color, width: 2 },
    hovertemplate: `${label(r)}: test accuracy %{y:.1%}<br>epoch %{x}<extra></extra>`,
  }));
  return Plotly.react("acc-plot", traces, layout({
    xaxis: { title: { text: "epoch" } }, yaxis: { title: { text: "test accuracy" }, range: [0.4, 1.02], tickformat: ".0%" },
    margin: { l: 60, r: 12, t: 30, b: 44 },
  }), PLOT_CONFIG);
}

function drawFinal() {
  const names = D.runs.map((r) => label(r).replace(" + ", "<br>+ ").replace("step decay", "step<br>decay"));
  const bar = (key, name, opacity, pattern) => ({
    x: names, y: D.runs.map((r) => r[key]), type: "bar", name,
    marker: { color: D.runs.map((r) => SCHED[r.name].color), opacity, pattern: { shape: pattern, fgcolor: "#fff", solidity: 0.3 } },
    text: D.runs.map((r) => (r[key] === null ? "—" : `${(100 * r[key]).toFixed(1)}%`)), textposition: "outside", cliponaxis: false,
    hovertemplate: `%{x}: ${name} %{y:.1%}<extra></extra>`,
  });
  return Plotly.react("final-plot", [bar("final_train_acc", "train", 0.45, "/"), bar("final_test_acc", "test", 1, "")], layout({
    barmode: "group",
    xaxis: { tickangle: 0, tickfont: { size: 11 } },
    yaxis: { title: { text: "accuracy after the last epoch" }, range: [0, 1.12], tickformat: ".0%" },
    margin: { l: 60, r: 12, t: 30, b: 52 },
  }), PLOT_CONFIG);
}

function drawLegend() {
  $("#legend").replaceChildren(...D.runs.map((r) => el("li", { class: `lr-${r.status}` },
    el("span", { class: "lr-swatch", style: `background:${SCHED[r.name].color}`, "aria-hidden": "true" }),
    label(r), r.status === "trained" ? null : el("span", { class: "lr-tag" }, r.status))));
}

function drawSummary() {
  const rows = D.runs.map((r) => el("tr", {},
    el("th", { scope: "row" }, el("span", { class: "lr-swatch", style: `background:${SCHED[r.name].color}`, "aria-hidden": "true" }), label(r)),
    el("td", {}, num(r.lr[r.lr.length - 1], 3)),
    el("td", {}, num(r.final_train_loss, 3)),
    el("td", {}, num(r.final_test_loss, 3)),
    el("td", {}, r.final_train_acc === null ? "—" : `${(100 * r.final_train_acc).toFixed(1)}%`),
    el("td", {}, r.final_test_acc === null ? "—" : `${(100 * r.final_test_acc).toFixed(1)}%`),
    el("td", { class: `status lr-${r.status}` }, r.status + (r.blowup_epoch !== null ? ` (blow-up at epoch ${r.blowup_epoch})` : ""))));
  $("#summary tbody").replaceChildren(...rows);
}

function tables() {
  const names = D.runs.map((r) => r.name);
  ui.lrTable.update(["step", ...names], () => D.runs[0].lr.map((_, t) => [t, ...D.runs.map((r) => r.lr[t])]));
  ui.lossTable.update(["epoch", "step", ...names.flatMap((n) => [`${n} train loss`, `${n} test loss`])],
    () => D.epoch_steps.map((s, e) => [e, s, ...D.runs.flatMap((r) => [r.train_loss[e], r.test_loss[e]])]));
  ui.accTable.update(["epoch", ...names.flatMap((n) => [`${n} train acc`, `${n} test acc`])],
    () => D.epoch_steps.map((_, e) => [e, ...D.runs.flatMap((r) => [r.train_acc[e], r.test_acc[e]])]));
}

function facts() {
  const h = hidden();
  $("#run-facts").textContent = `${D.n_train} training and ${D.n_test} test points; ${D.steps_per_epoch} steps per epoch × ${D.epochs} epochs = ` +
    `${D.total_steps} steps. MLP 2 → ${h.join(" → ")} → 2 (${D.n_params} parameters), softmax cross-entropy. ` +
    `Cost ${Math.round((100 * D.work) / D.max_work)}% of the per-request budget.`;
}

async function draw(data) {
  D = data;
  await Promise.all([drawLR(), drawLoss(), drawAcc(), drawFinal()]);
  drawLegend();
  drawSummary();
  tables();
  facts();
}

const fetchRuns = fetcher(draw, 60);

function run() {
  writeState();
  if (!S.on.size) {
    $("#error").textContent = "Tick at least one schedule.";
    return;
  }
  fetchRuns.run(URL_API, body());
}

function redraw() {
  writeState();
  if (D) { drawLR(); drawLoss(); }
}

// ------------------------------------------------------------------------------------ controls

function buildSchedules() {
  const box = $("#sched-cards");
  for (const n of NAMES) {
    const paramsBox = el("div", { class: "lr-params" });
    for (const p of SCHED[n].params) {
      const f = sliderField({ ...p, value: S.params[n][p.name], control: `${n}.${p.name}`, name: `${n}.${p.name}` }, (v) => { S.params[n][p.name] = v; run(); });
      paramsBox.append(f.el);
    }
    const check = checkboxField({ name: n, label: SCHED[n].label, value: S.on.has(n), control: n }, (v) => {
      if (v) S.on.add(n); else S.on.delete(n);
      paramsBox.hidden = !v;
      run();
    });
    check.el.querySelector("label").prepend(el("span", { class: "lr-swatch", style: `background:${SCHED[n].color}`, "aria-hidden": "true" }));
    ui.checks[n] = { check, paramsBox };
    paramsBox.hidden = !S.on.has(n) || !SCHED[n].params.length;
    box.append(el("div", { class: "lr-sched", "data-control": n }, check.el, SCHED[n].params.length ? paramsBox : null));
  }
}

function buildRun() {
  const box = $("#run-fields");
  const order = ["lr", "optimizer", "momentum", "epochs", "batch_size", "dataset", "n_samples", "noise", "width", "layers", "activation", "seed"];
  for (const name of order) {
    if (CHOICES[name]) {
      const c = CHOICES[name];
      const f = selectField({ name, label: c.label, options: c.options, value: S.run[name] }, (v) => { S.run[name] = v; syncMomentum(); run(); });
      ui.run[name] = f;
      box.append(f.el);
    } else {
      const spec = RUN.find((f) => f.name === name);
      const f = sliderField({ ...spec, value: S.run[name] }, (v) => { S.run[name] = v; run(); });
      ui.run[name] = f;
      box.append(f.el);
    }
  }
  syncMomentum();
}

function syncMomentum() {
  const sgd = S.run.optimizer === "sgd";
  for (const input of ui.run.momentum.el.querySelectorAll("input")) input.disabled = !sgd;
  ui.run.momentum.el.classList.toggle("lr-off", !sgd);
}

function applyPreset(key) {
  const p = PRESETS[key];
  Object.assign(S.run, PRESETS.default.run, p.run);
  S.on = new Set(p.on);
  for (const [k, f] of Object.entries(ui.run)) f.value = S.run[k];
  for (const n of NAMES) {
    ui.checks[n].check.value = S.on.has(n);
    ui.checks[n].paramsBox.hidden = !S.on.has(n) || !SCHED[n].params.length;
  }
  syncMomentum();
  run();
}

function colourCards() {
  for (const card of document.querySelectorAll(".lr-card[data-schedule]")) {
    const sw = card.querySelector(".lr-swatch");
    if (sw) sw.style.background = SCHED[card.dataset.schedule].color;
  }
}

function boot() {
  readState();
  buildSchedules();
  buildRun();
  colourCards();
  const axis = $("#lr_axis");
  axis.value = S.lr_axis;
  axis.addEventListener("change", () => { S.lr_axis = axis.value; redraw(); });
  const showTest = $("#show_test");
  showTest.checked = S.show_test;
  showTest.addEventListener("change", () => { S.show_test = showTest.checked; redraw(); });
  for (const b of document.querySelectorAll("[data-preset]")) b.addEventListener("click", () => applyPreset(b.dataset.preset));
  ui.lrTable = dataTable($("#lr-data"), [], [], { caption: "Learning rate per step", filename: "lr-schedules.csv" });
  ui.lossTable = dataTable($("#loss-data"), [], [], { caption: "Loss per epoch", filename: "lr-schedule-losses.csv" });
  ui.accTable = dataTable($("#acc-data"), [], [], { caption: "Accuracy per epoch", filename: "lr-schedule-accuracy.csv" });
  hookCopyLink();
  applyHide(document.querySelector(".lab-grid"), hiddenSet(readQuery()));
  run();
}

boot();
