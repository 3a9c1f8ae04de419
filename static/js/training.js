// Training lab: build a small network, train it as a job on the server's Dask cluster, and watch
// it learn live over Server-Sent Events. Every control's names, defaults and bounds come from the
// API contract itself (the JobConfig schema in /openapi.json); every number drawn comes from
// POST /api/v1/jobs, GET /api/v1/jobs/{id} and its /events stream. State lives in the URL.

import { getJSON, isAbort, latest, postJSON } from "./api.js";
import { Player } from "./player.js";
import {
  applyHide, dataTable, debounce, el, fmt, hiddenSet, parseNumber, readQuery, selectField, short,
  sliderField, writeQuery,
} from "./controls.js";
import { hookCopyLink } from "./lab-common.js";
import * as P from "./training-plots.js";

const Plotly = window.Plotly;
const $ = (s) => document.querySelector(s);

const JOBS = "/api/v1/jobs";
const PREVIEW_URL = "/api/v1/training/dataset"; // used only when the server offers it (see /openapi.json)
const TERMINAL = new Set(["succeeded", "failed", "cancelled", "interrupted"]);
const MAX_HIDDEN = 8;
const BOUNDARY_FRAMES = 100; // ask for a decision-boundary grid about this many times per run (the server sends at most 4 a second)
const GRID_SIZE = 50;

const DATA_NAMES = { moons: "Two moons", circles: "Circles", spirals: "Spirals", xor: "XOR", blobs: "Gaussian blobs", digits: "Handwritten digits (8×8)" };
const DATA_DESC = {
  moons: "Two interleaving half circles: not separable by a line.",
  circles: "A disc inside a ring: the boundary must close around the middle.",
  spirals: "Two interleaved spiral arms, TensorFlow Playground's hardest set.",
  xor: "The class is the sign of x₁·x₂: no single line separates it.",
  blobs: "k Gaussian blobs on a circle, one class each: k-way softmax.",
  digits: "8×8 grey-level handwritten digits 0–9 (scikit-learn's 1,797 images): 64 inputs, 10 classes.",
};
const OPT_NAMES = { sgd: "SGD", adagrad: "Adagrad", rmsprop: "RMSprop", adam: "Adam", adamw: "AdamW" };
const SCHED_NAMES = { constant: "Constant", step: "Step decay", exponential: "Exponential decay", cosine: "Cosine annealing", warmup_cosine: "Warmup + cosine", onecycle: "One-cycle" };
const ACT_NAMES = { relu: "ReLU", tanh: "tanh", sigmoid: "sigmoid", gelu: "GELU", linear: "linear (none)" };
const LABELS = {
  n_samples: "points in all (n_samples)", noise: "noise (std of the jitter)", centers: "classes (centers)",
  test_fraction: "test share (test_fraction)", dataset_seed: "dataset seed", dropout: "dropout p",
  lr: "learning rate η (lr)", momentum: "momentum μ", weight_decay: "L2: weight decay λ₂ (weight_decay)",
  l1: "L1: λ₁ (l1)", epochs: "epochs", batch_size: "batch size", seed: "seed (weights and shuffles)",
  step_size: "steps per decay (step_size)", gamma: "decay factor γ (gamma)", eta_min: "final lr (eta_min)",
  warmup_steps: "warmup steps", pct_start: "share rising (pct_start)", div_factor: "start = lr / div_factor",
  final_div_factor: "end = start / final_div_factor",
};
// Page defaults (not the API's): settings that learn visibly within a second or two.
const PAGE_LR = { sgd: 0.1, adagrad: 0.05, rmsprop: 0.01, adam: 0.01, adamw: 0.01 };
const PAGE = { dataset: "moons", n_samples: 500, hidden: [16, 16], activation: "tanh", optimizer: "adam", epochs: 200, batch_size: 32 };

// ----------------------------------------------------------------------------------- schema

let SCHEMA = null; // {datasets, optimizers, schedules, model, top}: name -> {param -> spec}
let HAS_PREVIEW = false;

function specOf(prop) {
  let p = prop;
  let nullable = false;
  if (prop.anyOf) {
    const nn = prop.anyOf.filter((a) => a.type !== "null");
    nullable = nn.length < prop.anyOf.length;
    p = nn[0] || {};
  }
  return {
    type: p.type, min: p.minimum ?? p.exclusiveMinimum ?? null, max: p.maximum ?? p.exclusiveMaximum ?? null,
    exclusive_min: p.exclusiveMinimum != null, exclusive_max: p.exclusiveMaximum != null,
    integer: p.type === "integer", default: prop.default ?? p.default, description: prop.description ?? p.description,
    enum: p.enum, items: p.items, minItems: p.minItems, maxItems: p.maxItems, nullable,
  };
}

function readSchema(oa) {
  const SCH = oa.components.schemas;
  const deref = (r) => SCH[r.$ref.split("/").pop()];
  const variants = (prop, key) => {
    const refs = prop.oneOf || (prop.anyOf || []).flatMap((a) => a.oneOf || (a.$ref ? [a] : []));
    const out = {};
    for (const s of refs.filter((r) => r.$ref).map(deref)) {
      const name = s.properties[key].const ?? s.properties[key].default;
      out[name] = {};
      for (const [k, v] of Object.entries(s.properties)) if (k !== key) out[name][k] = specOf(v);
    }
    return out;
  };
  const cfg = SCH.JobConfig.properties;
  const models = variants(cfg.model, "kind");
  const top = {};
  for (const [k, v] of Object.entries(cfg)) if (!["dataset", "model", "optimizer", "schedule"].includes(k)) top[k] = specOf(v);
  return {
    datasets: variants(cfg.dataset, "name"), optimizers: variants(cfg.optimizer, "name"),
    schedules: { constant: {}, ...variants(cfg.schedule, "name") }, model: models.mlp, top,
  };
}

// ----------------------------------------------------------------------------------- state

const S = {
  dataset: PAGE.dataset,
  data: {}, // dataset name -> {n_samples, noise, centers, test_fraction, seed}
  hidden: [...PAGE.hidden],
  activation: PAGE.activation,
  dropout: 0,
  loss: "cross_entropy",
  optimizer: PAGE.optimizer,
  opt: {}, // optimizer name -> {lr, momentum?, weight_decay}
  schedule: "constant",
  sched: {}, // schedule name -> params
  epochs: PAGE.epochs,
  batch_size: PAGE.batch_size,
  l1: 0,
  seed: 0,
  compare: true,
  probe: [0, 0],
};
const OPT_FIELDS = ["lr", "momentum", "weight_decay"];
let hidden = new Set();
let VIEW_ID = null; // ?job=<id>: a run opened by its id (shared by a student, or from the teacher's view)

const inBounds = (spec, v) => typeof v === "number" && Number.isFinite(v) && !(spec.integer && !Number.isInteger(v))
  && !(spec.min != null && (spec.exclusive_min ? v <= spec.min : v < spec.min))
  && !(spec.max != null && (spec.exclusive_max ? v >= spec.max : v > spec.max));

function qValue(q, name, spec) {
  if (!q.has(name)) return undefined;
  const v = parseNumber(q.get(name));
  return inBounds(spec, v) ? v : undefined;
}

function initDefaults() {
  for (const [name, params] of Object.entries(SCHEMA.datasets)) {
    S.data[name] = {};
    for (const [k, spec] of Object.entries(params)) S.data[name][k] = spec.default;
    if (params.n_samples) S.data[name].n_samples = Math.min(params.n_samples.max, name === "digits" ? params.n_samples.default : PAGE.n_samples);
  }
  for (const [name, params] of Object.entries(SCHEMA.optimizers)) {
    S.opt[name] = {};
    for (const k of OPT_FIELDS) if (params[k]) S.opt[name][k] = params[k].default;
    if (PAGE_LR[name] && params.lr && inBounds(params.lr, PAGE_LR[name])) S.opt[name].lr = PAGE_LR[name];
  }
  for (const [name, params] of Object.entries(SCHEMA.schedules)) {
    S.sched[name] = {};
    for (const [k, spec] of Object.entries(params)) S.sched[name][k] = spec.default;
  }
}

function readState() {
  const q = readQuery();
  hidden = hiddenSet(q);
  if (SCHEMA.datasets[q.get("dataset")]) S.dataset = q.get("dataset");
  const dp = SCHEMA.datasets[S.dataset];
  for (const [k, spec] of Object.entries(dp)) {
    const v = qValue(q, k === "seed" ? "dataset_seed" : k, spec);
    if (v !== undefined) S.data[S.dataset][k] = v;
  }
  const m = SCHEMA.model;
  if (q.has("hidden")) {
    const txt = q.get("hidden").trim();
    const ws = txt === "none" || txt === "" ? [] : txt.split(",").map(parseNumber);
    if (ws.length <= MAX_HIDDEN && ws.every((w) => inBounds(m.hidden.items ? specOf(m.hidden.items) : { integer: true, min: 1, max: 256 }, w))) S.hidden = ws;
  }
  if (m.activation.enum.includes(q.get("activation"))) S.activation = q.get("activation");
  const dr = qValue(q, "dropout", m.dropout);
  if (dr !== undefined) S.dropout = dr;
  if (SCHEMA.optimizers[q.get("optimizer")]) S.optimizer = q.get("optimizer");
  const op = SCHEMA.optimizers[S.optimizer];
  for (const k of OPT_FIELDS) {
    if (!op[k]) continue;
    const v = qValue(q, k, op[k]);
    if (v !== undefined) S.opt[S.optimizer][k] = v;
  }
  if (SCHEMA.schedules[q.get("schedule")]) S.schedule = q.get("schedule");
  for (const [k, spec] of Object.entries(SCHEMA.schedules[S.schedule])) {
    const v = qValue(q, k, spec);
    if (v !== undefined) S.sched[S.schedule][k] = v;
  }
  const T = SCHEMA.top;
  for (const k of ["epochs", "batch_size", "l1", "seed"]) {
    const v = qValue(q, k, T[k]);
    if (v !== undefined) S[k] = v;
  }
  if (T.loss.enum.includes(q.get("loss"))) S.loss = q.get("loss");
  if (q.get("compare") === "0") S.compare = false;
}

function writeState() {
  const e = [["dataset", S.dataset]];
  const d = S.data[S.dataset];
  for (const k of Object.keys(SCHEMA.datasets[S.dataset])) e.push([k === "seed" ? "dataset_seed" : k, d[k]]);
  e.push(["hidden", S.hidden.length ? S.hidden.join(",") : "none"], ["activation", S.activation]);
  if (S.dropout) e.push(["dropout", S.dropout]);
  e.push(["optimizer", S.optimizer]);
  for (const [k, v] of Object.entries(S.opt[S.optimizer])) e.push([k, v]);
  e.push(["schedule", S.schedule]);
  for (const [k, v] of Object.entries(S.sched[S.schedule])) e.push([k, v]);
  e.push(["epochs", S.epochs], ["batch_size", S.batch_size]);
  if (S.l1) e.push(["l1", S.l1]);
  if (S.loss !== "cross_entropy") e.push(["loss", S.loss]);
  e.push(["seed", S.seed]);
  if (!S.compare) e.push(["compare", "0"]);
  if (VIEW_ID) e.push(["job", VIEW_ID]);
  writeQuery(e);
}

/** The page's controls from a job's validated config (the inverse of buildConfig). */
function applyConfig(c) {
  const d = c.dataset || {};
  if (SCHEMA.datasets[d.name]) {
    S.dataset = d.name;
    for (const k of Object.keys(SCHEMA.datasets[d.name])) if (d[k] !== undefined) S.data[d.name][k] = d[k];
  }
  const m = c.model || {};
  if (Array.isArray(m.hidden)) S.hidden = m.hidden.slice(0, MAX_HIDDEN);
  if (SCHEMA.model.activation.enum.includes(m.activation)) S.activation = m.activation;
  S.dropout = m.dropout || 0;
  const o = c.optimizer || {};
  if (SCHEMA.optimizers[o.name]) {
    S.optimizer = o.name;
    for (const k of OPT_FIELDS) if (SCHEMA.optimizers[o.name][k] && o[k] !== undefined) S.opt[o.name][k] = o[k];
  }
  const sc = c.schedule;
  S.schedule = sc && SCHEMA.schedules[sc.name] ? sc.name : "constant";
  if (sc && SCHEMA.schedules[sc.name]) for (const k of Object.keys(SCHEMA.schedules[sc.name])) if (sc[k] !== undefined) S.sched[sc.name][k] = sc[k];
  for (const k of ["epochs", "batch_size", "l1", "seed"]) if (typeof c[k] === "number") S[k] = c[k];
  if (SCHEMA.top.loss.enum.includes(c.loss)) S.loss = c.loss;
}

// ----------------------------------------------------------------------------------- derived

function datasetBody() {
  return { name: S.dataset, ...S.data[S.dataset] };
}

function nClasses(ds = datasetBody()) {
  if (ds.name === "digits") return 10;
  if (ds.name === "blobs") return ds.centers;
  return 2;
}

function nFeatures(ds = datasetBody()) {
  return ds.name === "digits" ? 64 : 2;
}

function roundHalfEven(x) {
  // Python's round(): the split uses it, and steps per epoch follow from the split.
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function nTrain(ds = datasetBody()) {
  const n = ds.n_samples;
  return n - Math.min(n - 1, Math.max(1, roundHalfEven(n * ds.test_fraction)));
}

function stepsPerEpoch(config) {
  return Math.ceil(nTrain(config.dataset) / config.batch_size);
}

function buildConfig() {
  const sched = S.schedule === "constant" ? null : { name: S.schedule, ...S.sched[S.schedule] };
  return {
    dataset: datasetBody(),
    model: { kind: "mlp", hidden: [...S.hidden], activation: S.activation, dropout: S.dropout },
    optimizer: { name: S.optimizer, ...S.opt[S.optimizer] },
    schedule: sched,
    loss: S.loss,
    epochs: S.epochs,
    batch_size: S.batch_size,
    l1: S.l1,
    seed: S.seed,
    boundary_every: Math.max(1, Math.ceil(S.epochs / BOUNDARY_FRAMES)),
    grid_size: GRID_SIZE,
  };
}

/** [{name, out, in}] of the weight layers a config builds (torch stores W as out × in). */
function layerShapes(config) {
  const ds = config.dataset;
  const k = nClasses(ds);
  const nOut = config.loss === "mse" && k === 2 ? 1 : k;
  const widths = [nFeatures(ds), ...config.model.hidden, nOut];
  const out = [];
  for (let i = 1; i < widths.length; i++) out.push({ out: widths[i], in: widths[i - 1] });
  return out;
}

function layerNames(n) {
  return Array.from({ length: n }, (_, i) => P.layerSymbol(i, n));
}

function runLabel(config) {
  const o = config.optimizer;
  const arch = config.model.hidden.length ? config.model.hidden.join("-") : "no hidden";
  return `${OPT_NAMES[o.name] || o.name} lr ${fmt(o.lr, 3)}, ${arch} ${config.model.activation}, ${config.epochs} epochs`;
}

// ----------------------------------------------------------------------------------- controls

const ui = {};

function paramField(name, spec, value, onChange, extra = {}) {
  const ratio = spec.min > 0 && spec.max ? spec.max / spec.min : 0;
  return sliderField({
    name, label: LABELS[name] || name, min: spec.min, max: spec.max, exclusive_min: spec.exclusive_min,
    exclusive_max: spec.exclusive_max, integer: spec.integer, log: ratio >= 1000, value,
    description: spec.description, control: name, ...extra,
  }, onChange);
}

function changed({ data = false } = {}) {
  writeState();
  renderDerived();
  if (data) refreshPreview();
  else scheduleDraw();
}

function renderDataFields() {
  const box = $("#data-fields");
  const more = $("#more-fields");
  box.replaceChildren();
  ui.dataset = selectField({
    name: "dataset", label: "Dataset", control: "dataset", value: S.dataset,
    options: Object.keys(SCHEMA.datasets).map((n) => ({ value: n, label: DATA_NAMES[n] || n })),
  }, (v) => {
    S.dataset = v;
    renderDataFields();
    changed({ data: true });
  });
  box.append(ui.dataset.el);
  const params = SCHEMA.datasets[S.dataset];
  const d = S.data[S.dataset];
  const set = (k) => (v) => { d[k] = v; changed({ data: true }); };
  if (params.n_samples) box.append(paramField("n_samples", params.n_samples, d.n_samples, set("n_samples"), { log: true }).el);
  if (params.noise) box.append(paramField("noise", params.noise, d.noise, set("noise"), { step: 0.01 }).el);
  if (params.centers) box.append(paramField("centers", params.centers, d.centers, set("centers")).el);
  $("#data-desc").textContent = DATA_DESC[S.dataset] || "";
  // The "more" box holds the split, the seeds and the loss.
  more.replaceChildren();
  if (params.test_fraction) more.append(paramField("test_fraction", params.test_fraction, d.test_fraction, set("test_fraction"), { step: 0.05 }).el);
  if (params.seed) more.append(paramField("dataset_seed", params.seed, d.seed, set("seed"), { slider_max: 100, log: false, control: "dataset_seed" }).el);
  more.append(paramField("seed", SCHEMA.top.seed, S.seed, (v) => { S.seed = v; changed(); }, { slider_max: 100, log: false }).el);
  more.append(selectField({
    name: "loss", label: "Loss", control: "loss", value: S.loss,
    options: SCHEMA.top.loss.enum.map((v) => ({ value: v, label: v === "cross_entropy" ? "cross-entropy (softmax)" : "squared error on tanh outputs (mse)" })),
  }, (v) => { S.loss = v; changed(); }).el);
  applyHide(box, hidden);
  applyHide(more, hidden);
}

function renderLayers() {
  const list = $("#layer-list");
  list.replaceChildren();
  const spec = SCHEMA.model.hidden.items ? specOf(SCHEMA.model.hidden.items) : { integer: true, min: 1, max: 256 };
  S.hidden.forEach((w, i) => {
    const f = sliderField({ name: `hidden_${i}`, label: `Hidden layer ${i + 1}: width`, min: spec.min, max: spec.max, integer: true, log: true, value: w, control: "hidden" },
      (v) => { S.hidden[i] = v; changed(); });
    const rm = el("button", { type: "button", class: "tr-rm", "aria-label": `Remove hidden layer ${i + 1}`, title: "Remove this layer" }, "✕");
    rm.addEventListener("click", () => {
      S.hidden.splice(i, 1);
      renderLayers();
      changed();
      const next = list.querySelectorAll(".tr-rm")[Math.min(i, S.hidden.length - 1)];
      (next || $("#add-layer")).focus();
    });
    list.append(el("div", { class: "tr-layer", "data-control": "hidden" }, f.el, rm));
  });
  if (!S.hidden.length) list.append(el("p", { class: "note" }, "No hidden layer: a linear classifier (logistic regression). Add one to bend the boundary."));
  $("#add-layer").disabled = S.hidden.length >= MAX_HIDDEN;
  applyHide(list, hidden);
}

function renderNetFields() {
  const box = $("#net-fields");
  box.replaceChildren();
  const m = SCHEMA.model;
  box.append(selectField({
    name: "activation", label: "Activation σ", control: "activation", value: S.activation,
    options: m.activation.enum.map((a) => ({ value: a, label: ACT_NAMES[a] || a })),
  }, (v) => { S.activation = v; changed(); }).el);
  box.append(paramField("dropout", m.dropout, S.dropout, (v) => { S.dropout = v; changed(); }, { step: 0.05 }).el);
  applyHide(box, hidden);
}

function renderOptFields() {
  const box = $("#opt-fields");
  box.replaceChildren();
  box.append(selectField({
    name: "optimizer", label: "Optimizer", control: "optimizer", value: S.optimizer,
    options: Object.keys(SCHEMA.optimizers).map((n) => ({ value: n, label: OPT_NAMES[n] || n })),
  }, (v) => { S.optimizer = v; renderOptFields(); changed(); }).el);
  const params = SCHEMA.optimizers[S.optimizer];
  const o = S.opt[S.optimizer];
  box.append(paramField("lr", params.lr, o.lr, (v) => { o.lr = v; changed(); }, { slider_min: 1e-4, slider_max: 1 }).el);
  if (params.momentum) box.append(paramField("momentum", params.momentum, o.momentum, (v) => { o.momentum = v; changed(); }, { step: 0.01 }).el);
  applyHide(box, hidden);

  const sbox = $("#sched-fields");
  sbox.replaceChildren();
  sbox.append(selectField({
    name: "schedule", label: "Learning-rate schedule", control: "schedule", value: S.schedule,
    options: Object.keys(SCHEMA.schedules).map((n) => ({ value: n, label: SCHED_NAMES[n] || n })),
  }, (v) => { S.schedule = v; renderOptFields(); changed(); }).el);
  const sp = SCHEMA.schedules[S.schedule];
  const sv = S.sched[S.schedule];
  for (const [k, spec] of Object.entries(sp)) {
    const extra = { control: "schedule" };
    if (k === "step_size" || k === "warmup_steps") Object.assign(extra, { log: false, slider_max: 5000 });
    if (k === "eta_min") Object.assign(extra, { slider_max: 0.1, step: 0.001 });
    if (k === "gamma") extra.step = 0.001;
    sbox.append(paramField(k, spec, sv[k], (v) => { sv[k] = v; changed(); }, extra).el);
  }
  applyHide(sbox, hidden);

  const rbox = $("#run-fields");
  if (!rbox.childElementCount) {
    const T = SCHEMA.top;
    rbox.append(paramField("epochs", T.epochs, S.epochs, (v) => { S.epochs = v; changed(); }, { log: true }).el);
    rbox.append(paramField("batch_size", T.batch_size, S.batch_size, (v) => { S.batch_size = v; changed(); }, { log: true, slider_max: 1024 }).el);
    applyHide(rbox, hidden);
  }
  const reg = $("#reg-fields");
  reg.replaceChildren();
  if (params.weight_decay) {
    reg.append(paramField("weight_decay", params.weight_decay, o.weight_decay, (v) => { o.weight_decay = v; changed(); },
      { slider_max: 0.1, step: 0.0005, label: S.optimizer === "adamw" ? "L2: decoupled weight decay λ₂ (weight_decay)" : LABELS.weight_decay }).el);
  }
  reg.append(paramField("l1", SCHEMA.top.l1, S.l1, (v) => { S.l1 = v; changed(); }, { slider_max: 0.01, step: 0.0001 }).el);
  applyHide(reg, hidden);
}

function renderDerived() {
  const config = buildConfig();
  drawNetDiagram(config);
  const shapes = layerShapes(config);
  const nParams = shapes.reduce((a, s) => a + s.out * s.in + s.out, 0);
  $("#net-shape").textContent = `${[nFeatures(config.dataset), ...config.model.hidden, shapes[shapes.length - 1].out].join(" → ")} · ${nParams.toLocaleString("en")} parameters`;
  const n = nTrain(config.dataset);
  const spe = stepsPerEpoch(config);
  const total = spe * config.epochs;
  const note = $("#steps-note");
  note.textContent = `${n.toLocaleString("en")} training points ÷ batches of ${config.batch_size} = ${spe} steps per epoch × ${config.epochs} epochs = ${total.toLocaleString("en")} steps.`;
  const maxSteps = 2_000_000;
  note.classList.toggle("error", total > maxSteps);
  if (total > maxSteps) note.textContent += ` That is more than the ${maxSteps.toLocaleString("en")} a run may take: fewer epochs or bigger batches.`;
  if (!CUR) renderLenses(null);
}

// ----------------------------------------------------------------------------------- network diagram

const SVGNS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, text) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text != null) e.textContent = text;
  return e;
}

function drawNetDiagram(config) {
  const widths = [nFeatures(config.dataset), ...config.model.hidden, layerShapes(config).at(-1).out];
  const W = 290, H = 104, top = 8, bottom = 20, maxDots = 7;
  const cols = widths.length;
  const xs = widths.map((_, i) => 14 + (i * (W - 28)) / Math.max(1, cols - 1));
  const dots = widths.map((w, i) => {
    const m = Math.min(w, maxDots);
    const span = H - top - bottom;
    return Array.from({ length: m }, (_, j) => [xs[i], top + (m === 1 ? span / 2 : (j * span) / (m - 1))]);
  });
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", height: H, "aria-hidden": "true", focusable: "false" });
  const edges = svg("g", { stroke: "#c3cad6", "stroke-width": "0.6" });
  for (let i = 0; i + 1 < cols; i++) for (const a of dots[i]) for (const b of dots[i + 1]) edges.append(svg("line", { x1: a[0], y1: a[1], x2: b[0], y2: b[1] }));
  root.append(edges);
  widths.forEach((w, i) => {
    const color = i === 0 ? "#5b6475" : i === cols - 1 ? "#009E73" : "#0072B2";
    for (const [x, y] of dots[i]) root.append(svg("circle", { cx: x, cy: y, r: 3.6, fill: color }));
    const name = i === 0 ? "x" : i === cols - 1 ? "p" : `h${"₀₁₂₃₄₅₆₇₈₉"[i] || i}`;
    root.append(svg("text", { x: xs[i], y: H - 5, "text-anchor": "middle", "font-size": "10.5", fill: "#1d2433" }, `${name} ${w}`));
  });
  const box = $("#net-diagram");
  box.replaceChildren(root);
  box.setAttribute("aria-label", `Network: ${widths.join(" → ")} units, ${config.model.activation} between layers, softmax at the output`);
}

// ----------------------------------------------------------------------------------- preview

let PREVIEW = null; // {key, X_train, y_train, X_test, y_test, n_classes, grid_box, image_shape}
const previewSlot = latest();

async function refreshPreview() {
  const body = datasetBody();
  const key = JSON.stringify(body);
  if (!HAS_PREVIEW) {
    PREVIEW = { key, missing: true };
    scheduleDraw();
    return;
  }
  if (PREVIEW && PREVIEW.key === key) return;
  try {
    const d = await previewSlot.post(PREVIEW_URL, body);
    PREVIEW = { ...d, key };
    clearError();
  } catch (e) {
    if (isAbort(e)) return;
    PREVIEW = { key, missing: true, error: e.message };
    showError(`Could not load the dataset: ${e.message}`);
  }
  scheduleDraw();
  renderPreviewTable();
}

// ----------------------------------------------------------------------------------- runs

let CUR = null; // the run on screen
let PREV = null; // {label, curves} of the run before it, drawn dashed
let player = null;

function newRun(created, config) {
  return {
    id: created.id, config, label: runLabel(config), status: created.status, cached: !!created.cached,
    dataKey: JSON.stringify(config.dataset), spe: stepsPerEpoch(config), snaps: [], batch: { x: [], y: [] },
    step: 0, epoch: 0, lr: config.optimizer.lr, result: null, job: null, es: null, final: false, t0: performance.now(),
  };
}

function curvesOf(R) {
  if (!R) return null;
  const h = R.result && R.result.history;
  if (h && Array.isArray(h.loss) && h.loss.length) {
    return { epoch: h.loss.map((_, i) => i + 1), loss: h.loss, train_loss: h.train_loss, test_loss: h.test_loss,
      train_acc: h.train_acc, test_acc: h.test_acc, lr: h.lr, batch: R.batch };
  }
  const c = { epoch: [], loss: [], train_loss: [], test_loss: [], train_acc: [], test_acc: [], lr: [], batch: R.batch };
  for (const s of R.snaps) for (const k of Object.keys(c)) if (k !== "batch") c[k].push(s[k]);
  return c;
}

async function run() {
  if (CUR && !CUR.final) return;
  clearError();
  const config = buildConfig();
  setBusy(true);
  setStatus("Submitting the run…", "submitting");
  let created;
  try {
    created = await postJSON(JOBS, { config, fresh: false });
  } catch (e) {
    setBusy(false);
    setStatus("Not started.", "idle");
    showError(e.message);
    return;
  }
  if (CUR && curvesOf(CUR).epoch.length) PREV = { label: CUR.label, curves: curvesOf(CUR) };
  if (VIEW_ID) { VIEW_ID = null; writeState(); }
  CUR = newRun(created, config);
  $("#downloads").replaceChildren();
  setProgress(0, "queued");
  setStatus(created.cached ? "This exact run (seeds included) had already been trained: replaying it from the server's record…" : "Queued on the cluster…", created.cached ? "replaying" : created.status);
  player.setFrames(1, { restart: true });
  showPlayer(false);
  drawConfusion(null);
  follow(CUR);
  watchQueue(CUR);
  scheduleDraw();
}

/** While the run waits for a worker, says how many runs are ahead of it (GET the job every
 *  1.5 s; the event stream takes over once it runs). */
async function watchQueue(R) {
  while (CUR === R && !R.final && R.status === "queued") {
    let j;
    try {
      j = await getJSON(`${JOBS}/${encodeURIComponent(R.id)}`);
    } catch {
      return;
    }
    if (CUR !== R || R.final || R.status !== "queued" || j.status !== "queued" || !j.queue) return;
    const { ahead, running } = j.queue;
    setStatus(ahead
      ? `Queued: ${ahead} run${ahead === 1 ? "" : "s"} ahead of yours, ${running} training now…`
      : `Queued: yours is next (${running} training now)…`, "queued");
    await new Promise((r) => setTimeout(r, 1500));
  }
}

function follow(R) {
  const es = new EventSource(`${JOBS}/${encodeURIComponent(R.id)}/events`);
  R.es = es;
  const parse = (ev) => {
    try {
      return JSON.parse(ev.data);
    } catch {
      return null;
    }
  };
  es.addEventListener("status", (ev) => { const d = parse(ev); if (d && CUR === R) onStatus(R, d); });
  es.addEventListener("step", (ev) => { const d = parse(ev); if (d && CUR === R) onStep(R, d); });
  es.addEventListener("epoch", (ev) => { const d = parse(ev); if (d && CUR === R) onEpoch(R, d); });
  es.addEventListener("error", () => {
    if (R.final) { es.close(); return; }
    if (es.readyState === EventSource.CLOSED) {
      // The browser gave up (e.g. the job vanished): ask once what became of it.
      finish(R, { status: null });
    } else if (CUR === R) {
      setStatus("Connection to the server lost; reconnecting (no progress is lost)…", R.status);
    }
  });
}

function onStatus(R, d) {
  R.status = d.status;
  if (TERMINAL.has(d.status)) {
    // The server ends the stream right after this event; closing now would abort the request
    // mid-flight, so the stream's own end (its "error" event) closes it, or a timer does.
    R.final = true;
    setTimeout(() => R.es.close(), 10_000);
    finish(R, d);
    return;
  }
  if (d.status === "running") setStatus(R.cached ? "Replaying the recorded run…" : "Training on a Dask worker…", "running");
}

function onStep(R, d) {
  R.step = Math.max(R.step, d.step);
  R.lr = d.lr;
  if (d.loss != null) { R.batch.x.push(d.step / R.spe); R.batch.y.push(d.loss); }
  updateProgress(R);
  scheduleDraw();
}

function onEpoch(R, d) {
  R.snaps.push(d);
  R.epoch = d.epoch;
  R.step = Math.max(R.step, d.step);
  R.lr = d.lr;
  updateProgress(R);
  showPlayer(R.snaps.length > 1);
  player.setFrames(R.snaps.length);
  scheduleDraw();
}

async function finish(R, d) {
  R.final = true;
  let job = null;
  try {
    job = await getJSON(`${JOBS}/${encodeURIComponent(R.id)}`);
  } catch (e) {
    if (CUR === R) showError(`Could not read the finished run: ${e.message}`);
  }
  if (CUR !== R) return;
  R.job = job;
  R.status = (job && job.status) || d.status || "failed";
  R.result = job && job.result;
  const res = R.result || {};
  if (res.steps) R.step = res.steps;
  if (res.epochs) R.epoch = res.epochs;
  setBusy(false);
  updateProgress(R);
  const acc = (v) => (v == null ? "—" : `${(100 * v).toFixed(1)} %`);
  if (R.status === "succeeded") {
    const secs = res.elapsed_s != null ? ` in ${short(res.elapsed_s)} s` : "";
    const lanes = res.job && res.job.lanes > 1 ? `, one of ${res.job.lanes} queued runs trained together as lanes of one kernel` : "";
    const where = res.backend ? ` (${res.device || "cpu"}, ${res.backend} backend${lanes})` : "";
    let text = `Done${secs}${where}: test accuracy ${acc(res.test_accuracy)}, train accuracy ${acc(res.train_accuracy)}.`;
    if (res.diverged) text += ` The loss diverged at step ${res.diverged_step}: the learning rate is too large for this network.`;
    if (R.cached) text += " (Replayed: this exact run was already on record; change a seed to train afresh.)";
    setStatus(text, "succeeded");
  } else if (R.status === "cancelled") {
    setStatus(`Stopped (cancelled) at epoch ${R.epoch} of ${R.config.epochs}${res.test_accuracy != null ? `: test accuracy ${acc(res.test_accuracy)}` : ""}.`, "cancelled");
  } else {
    setStatus(`The run ${R.status || "failed"}.`, R.status || "failed");
    showError((job && job.error) || d.error || "The run did not finish.");
  }
  renderDownloads(R);
  drawConfusion(res.confusion || null);
  showPlayer(R.snaps.length > 1);
  scheduleDraw();
  renderTables();
}

async function stop() {
  const R = CUR;
  if (!R || R.final) return;
  $("#stop").disabled = true;
  setStatus("Stopping…", "stopping");
  try {
    const r = await fetch(`${JOBS}/${encodeURIComponent(R.id)}`, { method: "DELETE", headers: { Accept: "application/json" } });
    const j = await r.json().catch(() => null);
    if (!r.ok) throw new Error((j && (j.message || j.detail)) || `HTTP ${r.status}`);
    // The stream's final status event ends the run on the page; if the stream is gone, end it here.
    if (j && TERMINAL.has(j.status) && (!R.es || R.es.readyState === EventSource.CLOSED) && !R.final) finish(R, j);
  } catch (e) {
    showError(`Could not stop the run: ${e.message}`);
    $("#stop").disabled = false;
  }
}

function showPlayer(show) {
  // A teacher's hide=player keeps it hidden.
  $("#player").hidden = !show || hidden.has("player");
}

function setBusy(busy) {
  $("#run").disabled = busy;
  $("#stop").disabled = !busy;
  document.body.classList.toggle("busy", busy);
}

function setStatus(text, status) {
  const s = $("#run-status");
  s.textContent = text;
  s.dataset.status = status || "";
}

function setProgress(frac, text) {
  const p = $("#progress");
  p.value = Math.max(0, Math.min(1, frac));
  $("#progress-text").textContent = text;
}

function updateProgress(R) {
  const total = R.spe * R.config.epochs;
  const frac = R.status === "succeeded" ? 1 : Math.max(R.step / total, R.epoch / R.config.epochs);
  setProgress(frac, `epoch ${R.epoch} / ${R.config.epochs} · step ${R.step.toLocaleString("en")} / ${total.toLocaleString("en")}`);
}

function renderDownloads(R) {
  const box = $("#downloads");
  box.replaceChildren();
  const base = `${JOBS}/${encodeURIComponent(R.id)}`;
  if (R.result && R.result.history) box.append(el("a", { href: `${base}/history.csv`, download: `mathlens-${R.id}-history.csv` }, "History (CSV)"));
  if (R.job && R.job.has_weights) box.append(el("a", { href: `${base}/weights`, download: `mathlens-${R.id}.pt`, title: "torch.load(…) gives the state_dict" }, "Weights (.pt)"));
  box.append(el("a", { href: base, target: "_blank", rel: "noopener", title: "The job record from the API: config, progress, result" }, "Job (JSON)"));
}

// ----------------------------------------------------------------------------------- drawing

let drawQueued = false;
let readyOnce = false;

function scheduleDraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    drawAll();
  });
}

function shownIndex() {
  if (!CUR || !CUR.snaps.length) return -1;
  return Math.min(player.index, CUR.snaps.length - 1);
}

function boundaryAt(k) {
  if (!CUR || CUR.dataKey !== JSON.stringify(datasetBody())) return null;
  for (let i = k; i >= 0; i--) if (CUR.snaps[i] && CUR.snaps[i].boundary) return CUR.snaps[i].boundary;
  return null;
}

function probeValue(b) {
  if (!b || !S.probe) return null;
  const near = (arr, v) => {
    let best = 0;
    for (let i = 1; i < arr.length; i++) if (Math.abs(arr[i] - v) < Math.abs(arr[best] - v)) best = i;
    return best;
  };
  const j = near(b.x, S.probe[0]);
  const i = near(b.y, S.probe[1]);
  if (b.kind === "prob") return { kind: "prob", p1: b.z[i][j] };
  return { kind: "class", cls: b.z[i][j], p: b.confidence ? b.confidence[i][j] : null };
}

function drawAll() {
  const k = shownIndex();
  const snap = k >= 0 ? CUR.snaps[k] : null;
  const epochs = xRange();
  const cursorEpoch = snap && CUR && (k < CUR.snaps.length - 1 || CUR.final) ? snap.epoch : null;
  const ds = datasetBody();
  const jobs = [];

  // Data and boundary (2-D), or sample digits.
  const digits = ds.name === "digits";
  const missing = !PREVIEW || PREVIEW.missing;
  let bfig;
  if (digits) {
    $("#boundary-title").textContent = "Data: two handwritten digits of each class";
    bfig = P.digitsFigure(missing ? null : PREVIEW, { note: missing ? "This server offers no preview of the digits yet.<br>Press Run to train on them." : "" });
  } else {
    const b = boundaryAt(k);
    $("#boundary-title").textContent = b ? `Data and decision boundary${snap ? ` (epoch ${epochOfBoundary(k)})` : ""}` : "Data and decision boundary";
    bfig = P.boundaryFigure({
      preview: missing ? null : PREVIEW, boundary: b, nClasses: nClasses(ds), box: (!missing && PREVIEW.grid_box) || [-2, 2, -2, 2],
      probe: b ? S.probe : null, uirevision: ds.name,
      note: missing && !b ? "This server offers no dataset preview yet.<br>Press Run: the decision boundary appears here." : "",
    });
  }
  jobs.push(Plotly.react("boundary", bfig.traces, bfig.layout, P.PLOT_CONFIG));
  const bk = boundaryAt(k);
  const pts = missing ? "" : " ● train, ◆ test (never trained on).";
  $("#boundary-note").textContent = digits ? "64 inputs per image, 10 classes: the boundary lives in 64 dimensions, so the confusion matrix shows how the classes are told apart."
    : bk && bk.kind === "prob" ? `Shading: the network's P(class 1) at each point; the black line (p = 0.5) is its decision boundary. Click to move the probe ✕ (its softmax is in lens 3).${pts}`
      : bk ? `Colours: the class the network predicts at each point. Click to move the probe ✕ (lens 3 reads its probability).${pts}`
        : missing ? "Press Run to watch the decision boundary form." : `${pts.trim()} Press Run to watch the decision boundary form.`;

  const cur = curvesOf(CUR);
  const prev = S.compare && PREV ? PREV.curves : null;
  const uir = CUR ? CUR.id : "none";
  const lf = P.lossFigure(cur, prev, { epochs, cursorEpoch, uirevision: uir });
  jobs.push(Plotly.react("loss", lf.traces, lf.layout, P.PLOT_CONFIG));
  const af = P.accFigure(cur, prev, { epochs, cursorEpoch, uirevision: uir, chance: 1 / nClasses(CUR ? CUR.config.dataset : ds) });
  jobs.push(Plotly.react("acc", af.traces, af.layout, P.PLOT_CONFIG));

  const config = CUR ? CUR.config : buildConfig();
  const names = layerNames(layerShapes(config).length);
  const gf = P.gradsFigure(CUR ? CUR.snaps : [], { epochs, cursorEpoch, uirevision: uir, names });
  jobs.push(Plotly.react("grads", gf.traces, gf.layout, P.PLOT_CONFIG));
  const hf = P.histsFigure(snap, { names });
  jobs.push(Plotly.react("hists", hf.traces, hf.layout, P.PLOT_CONFIG));
  const cf = P.confidenceFigure(snap ? snap.outputs : null, { nClasses: nClasses(config.dataset) });
  jobs.push(Plotly.react("confidence", cf.traces, cf.layout, P.PLOT_CONFIG));
  if (!$("#confusion").data) drawConfusion(null);

  renderLenses(snap);
  Promise.all(jobs).then(() => {
    if (!readyOnce) {
      readyOnce = true;
      hookBoundaryClicks();
      renderPreviewTable();
      document.body.dataset.ready = "1";
    }
    document.body.dataset.snaps = String(CUR ? CUR.snaps.length : 0);
  }).catch((e) => showError(`Could not draw the plots: ${e.message || e}`));
}

/** The epoch axis: the planned run before one starts, growing with a live run, then what it did. */
function xRange() {
  if (!CUR) return S.epochs;
  let x = CUR.status === "succeeded" ? CUR.config.epochs
    : CUR.final ? Math.max(1, CUR.epoch) : Math.min(CUR.config.epochs, Math.max(10, Math.ceil(CUR.epoch * 1.3)));
  if (S.compare && PREV && PREV.curves.epoch.length) x = Math.max(x, PREV.curves.epoch[PREV.curves.epoch.length - 1]);
  return x;
}

function epochOfBoundary(k) {
  for (let i = k; i >= 0; i--) if (CUR.snaps[i] && CUR.snaps[i].boundary) return CUR.snaps[i].epoch;
  return "";
}

function drawConfusion(confusion) {
  const f = P.confusionFigure(confusion, {});
  Plotly.react("confusion", f.traces, f.layout, P.PLOT_CONFIG).catch(() => {});
  dataTable($("#confusion-data"), ["true class", "predicted class", "test points"], () => {
    const rows = [];
    (confusion || []).forEach((r, i) => r.forEach((v, j) => rows.push([i, j, v])));
    return rows;
  }, { caption: "Confusion matrix", filename: "confusion.csv" });
}

let hooked = false;

function hookBoundaryClicks() {
  if (hooked) return;
  hooked = true;
  const gd = $("#boundary");
  gd.on("plotly_click", (ev) => {
    if (datasetBody().name === "digits" || !ev || !ev.points || !ev.points.length) return;
    const pt = ev.points[0];
    if (typeof pt.x !== "number" || typeof pt.y !== "number") return;
    S.probe = [pt.x, pt.y];
    scheduleDraw();
  });
}

// ----------------------------------------------------------------------------------- lenses

function setLens(id, parts) {
  $(id).replaceChildren(...parts.map((p) => (typeof p === "string" ? document.createTextNode(p) : p)));
}

const b = (t) => el("strong", {}, t);

function renderLenses(snap) {
  const R = CUR;
  const config = R ? R.config : buildConfig();
  const ds = config.dataset;
  const K = nClasses(ds);
  const shapes = snap ? snap.layers.map((L) => ({ out: L.shape[0], in: L.shape[1] })) : layerShapes(config);
  const names = layerNames(shapes.length);
  const nParams = shapes.reduce((a, s) => a + s.out * s.in + s.out, 0);
  $("#lens-when").textContent = snap ? `· epoch ${snap.epoch} of ${config.epochs}${R.final ? "" : ", live"}` : R ? "· waiting for the first epoch" : "· before training (press Run)";

  // 1. Linear algebra: shapes.
  const la = [];
  shapes.forEach((s, i) => { la.push(b(`${names[i]}: ${s.out}×${s.in}`)); la.push(i < shapes.length - 1 ? ", " : ""); });
  const bs = Math.min(config.batch_size, nTrain(ds));
  setLens("#lens-la", [...la, ` (out × in), ${nParams.toLocaleString("en")} parameters with the biases. A batch of ${bs} is one product: `,
    b(`(${bs}×${shapes[0].in}) · W₁ᵀ (${shapes[0].in}×${shapes[0].out}) = ${bs}×${shapes[0].out}`), "."]);

  // 2. Calculus: per-layer gradient norms.
  if (snap) {
    const g = snap.layers.map((L) => L.grad_norm);
    const parts = [];
    g.forEach((v, i) => { parts.push(`‖∂L/∂${names[i]}‖ = `, b(short(v))); parts.push(i < g.length - 1 ? ", " : ""); });
    const first = g[0], last = g[g.length - 1];
    let tail = "";
    if (first > 0 && last > 0 && g.length > 1) {
      const r = first / last;
      tail = r < 1 ? ` The first layer gets ${short(1 / r)}× less gradient than the last: the chain rule multiplies factors on the way back.`
        : ` The first layer's gradient is ${short(r)}× the last one's.`;
    }
    setLens("#lens-calc", [...parts, ` on the epoch's last batch.${tail}`]);
  } else {
    setLens("#lens-calc", ["Backprop runs the chain rule from the loss back to ", b("every"), ` weight matrix: one gradient per layer (${shapes.length} here). Their sizes appear when training starts.`]);
  }

  // 3. Probability: softmax outputs.
  const uniform = 1 / K;
  if (snap && snap.outputs) {
    const o = snap.outputs;
    const parts = ["Mean largest softmax probability on the test set: ", b(short(o.mean_confidence)), ` (a uniform guess gives ${short(uniform)}). Mean entropy of p: `,
      b(`${short(o.mean_entropy)} nats`), "."];
    const pv = probeValue(boundaryAt(shownIndex()));
    if (pv && pv.kind === "prob") parts.push(` At the probe (${short(S.probe[0])}, ${short(S.probe[1])}): softmax = `, b(`(${(1 - pv.p1).toFixed(3)}, ${pv.p1.toFixed(3)})`), ".");
    else if (pv && pv.kind === "class") parts.push(` At the probe (${short(S.probe[0])}, ${short(S.probe[1])}): class `, b(String(pv.cls)), ` with p = ${pv.p == null ? "—" : pv.p.toFixed(3)}.`);
    if (config.loss === "mse") parts.push(" (Squared-error runs read tanh outputs as probabilities: (tanh z + 1)/2.)");
    setLens("#lens-prob", parts);
  } else {
    setLens("#lens-prob", [`The last layer's ${K} scores z become probabilities by softmax. Untrained, they sit near `, b(`1/${K} = ${short(uniform)}`), " each."]);
  }

  // 4. Optimization: the optimizer, lr now, step.
  const spe = stepsPerEpoch(config);
  const total = spe * config.epochs;
  const o = config.optimizer;
  const sched = config.schedule ? SCHED_NAMES[config.schedule.name] || config.schedule.name : "constant";
  const step = snap ? snap.step : R ? R.step : 0;
  const lrNow = snap ? snap.lr : o.lr;
  setLens("#lens-opt", [b(OPT_NAMES[o.name] || o.name), `, schedule ${sched.toLowerCase()}: `, b(`η = ${short(lrNow)}`), ` at step `, b(`${step.toLocaleString("en")}`),
    ` of ${total.toLocaleString("en")} (${spe} per epoch). λ₁ = ${short(config.l1)}, λ₂ = ${short(o.weight_decay ?? 0)}${o.name === "adamw" ? " (decoupled)" : ""}.`,
    o.name === "adam" || o.name === "adamw" ? " Adam divides each step by a running RMS of the gradient." : o.name === "sgd" && o.momentum ? ` Momentum μ = ${short(o.momentum)} averages the steps.` : ""]);

  // 5. Information theory: the loss in nats and bits.
  const ln2 = Math.LN2;
  if (snap && config.loss === "cross_entropy") {
    setLens("#lens-info", ["Train loss ", b(`${short(snap.train_loss)} nats = ${short(snap.train_loss / ln2)} bits`), " of surprise per point; test ",
      b(`${short(snap.test_loss)} nats = ${short(snap.test_loss / ln2)} bits`), `. Guessing uniformly costs ln ${K} = ${short(Math.log(K))} nats = ${short(Math.log2(K))} bits.`]);
  } else if (snap) {
    setLens("#lens-info", ["This run minimizes squared error (loss = mse), ", b(short(snap.train_loss)), `, which is not measured in nats. Switch the loss back to cross-entropy to read it in bits; guessing would cost ${short(Math.log2(K))} bits.`]);
  } else {
    setLens("#lens-info", ["Cross-entropy is the average surprise −log p of the true class. Guessing uniformly costs ", b(`ln ${K} = ${short(Math.log(K))} nats = ${short(Math.log2(K))} bits`), " per point; training drives it toward 0."]);
  }
}

// ----------------------------------------------------------------------------------- tables

function renderPreviewTable() {
  const p = PREVIEW;
  if (!p || p.missing) {
    dataTable($("#boundary-data"), ["split", "x1", "x2", "class"], [], { caption: "Dataset points", filename: "dataset.csv" });
    return;
  }
  const wide = p.X_train.length && p.X_train[0].length > 2;
  const cols = wide ? ["split", "class", ...Array.from({ length: p.X_train[0].length }, (_, i) => `pixel${i}`)] : ["split", "x1", "x2", "class"];
  dataTable($("#boundary-data"), cols, () => {
    const rows = [];
    for (const [split, X, y] of [["train", p.X_train, p.y_train], ["test", p.X_test, p.y_test]]) {
      for (let i = 0; i < y.length; i++) rows.push(wide ? [split, y[i], ...X[i]] : [split, X[i][0], X[i][1], y[i]]);
    }
    return rows;
  }, { caption: "Dataset points", filename: `${p.name || "dataset"}.csv` });
}

function renderTables() {
  const R = CUR;
  const c = curvesOf(R) || { epoch: [] };
  dataTable($("#curves-data"), ["epoch", "loss (mean over the epoch)", "train_loss", "test_loss", "train_acc", "test_acc", "lr"], () =>
    c.epoch.map((e, i) => [e, c.loss[i], c.train_loss[i], c.test_loss[i], c.train_acc[i], c.test_acc[i], c.lr[i]]),
  { caption: "Loss and accuracy per epoch", filename: "history.csv" });
  const names = R ? layerNames(layerShapes(R.config).length) : [];
  dataTable($("#grads-data"), ["epoch", "layer", "shape", "grad_norm", "weight_norm"], () => {
    const rows = [];
    for (const s of R ? R.snaps : []) s.layers.forEach((L, i) => rows.push([s.epoch, names[i] || L.name, L.shape.join("x"), L.grad_norm, L.weight_norm]));
    return rows;
  }, { caption: "Gradient and weight norms per layer", filename: "gradient-norms.csv" });
  const k = shownIndex();
  const snap = k >= 0 ? R.snaps[k] : null;
  dataTable($("#hists-data"), ["epoch", "layer", "from", "to", "weights"], () => {
    const rows = [];
    if (snap) snap.layers.forEach((L, i) => L.hist.counts.forEach((n, j) => rows.push([snap.epoch, names[i] || L.name, L.hist.edges[j], L.hist.edges[j + 1], n])));
    return rows;
  }, { caption: "Weight histograms (shown epoch)", filename: "weight-histograms.csv" });
  dataTable($("#confidence-data"), ["epoch", "max p from", "to", "test points"], () => {
    const rows = [];
    const h = snap && snap.outputs && snap.outputs.confidence_hist;
    if (h) h.counts.forEach((n, j) => rows.push([snap.epoch, h.edges[j], h.edges[j + 1], n]));
    return rows;
  }, { caption: "Largest softmax probability (shown epoch)", filename: "confidence.csv" });
}

const renderTablesSoon = debounce(renderTables, 300);

// ----------------------------------------------------------------------------------- errors

function showError(msg) {
  $("#error").textContent = msg;
}

function clearError() {
  $("#error").textContent = "";
}

/** Shows the run ``id`` (from ``?job=<id>``): its settings in the controls, then its recorded
 *  events replayed, or followed live while it runs. */
async function openJob(id) {
  let job;
  try {
    job = await getJSON(`${JOBS}/${encodeURIComponent(id)}`);
  } catch (e) {
    VIEW_ID = null;
    writeState();
    renderDerived();
    await refreshPreview();
    scheduleDraw();
    showError(`Could not open the run ${id}: ${e.message}`);
    return;
  }
  applyConfig(job.config || {});
  renderDataFields();
  renderLayers();
  renderNetFields();
  renderOptFields();
  writeState();
  renderDerived();
  await refreshPreview();
  CUR = newRun({ id: job.id, status: job.status }, buildConfig());
  CUR.config = { ...CUR.config, ...job.config };
  CUR.viewed = true;
  const live = !TERMINAL.has(job.status);
  setBusy(live);
  setProgress(0, job.status);
  setStatus(live ? "Following a run in progress (opened by its link)…" : "Replaying a recorded run (opened by its link)…", job.status);
  follow(CUR);
  watchQueue(CUR);
  scheduleDraw();
}

// ----------------------------------------------------------------------------------- boot

async function boot() {
  let oa;
  try {
    oa = await getJSON("/openapi.json");
    SCHEMA = readSchema(oa);
  } catch (e) {
    showError(`Could not read the API's description: ${e.message || e}`);
    return;
  }
  HAS_PREVIEW = !!(oa.paths && oa.paths[PREVIEW_URL] && oa.paths[PREVIEW_URL].post);
  initDefaults();
  readState();
  player = new Player($("#player"), { label: "Snapshot", fps: 12, autoplay: false, onFrame: () => { scheduleDraw(); renderTablesSoon(); } });
  showPlayer(false);
  renderDataFields();
  renderLayers();
  renderNetFields();
  renderOptFields();
  $("#add-layer").addEventListener("click", () => {
    if (S.hidden.length >= MAX_HIDDEN) return;
    S.hidden.push(S.hidden.length ? S.hidden[S.hidden.length - 1] : 16);
    renderLayers();
    changed();
  });
  const cmp = $("#compare");
  cmp.checked = S.compare;
  cmp.addEventListener("change", () => { S.compare = cmp.checked; writeState(); scheduleDraw(); });
  $("#run").addEventListener("click", run);
  $("#stop").addEventListener("click", stop);
  hookCopyLink();
  window.addEventListener("pagehide", () => {
    // A student leaving mid-run frees the worker for the next one (not a run opened by its id:
    // the teacher watching it must not stop it).
    if (CUR && !CUR.final && !CUR.viewed) {
      CUR.es && CUR.es.close();
      fetch(`${JOBS}/${encodeURIComponent(CUR.id)}`, { method: "DELETE", keepalive: true }).catch(() => {});
    }
  });
  applyHide(document.querySelector(".lab-grid"), hidden);
  VIEW_ID = readQuery().get("job") || null;
  if (VIEW_ID) {
    await openJob(VIEW_ID);
    renderTables();
    return;
  }
  writeState();
  renderDerived();
  renderTables();
  await refreshPreview();
  scheduleDraw();
}

boot();
