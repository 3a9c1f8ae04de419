// Gradient descent and optimizers: many optimizers × many starts race down a 2-D loss surface.
// Everything drawn comes from POST /api/v1/optimize (or /optimize/tune in fair-race mode),
// /api/v1/optimize/line-search (inside L-BFGS) and /api/v1/surface; the controls are built from
// GET /api/v1/catalog (names, defaults, bounds), and every control lives in the URL.

import { getJSON, isAbort, latest } from "./api.js";
import { Player } from "./player.js";
import {
  PLOT_CONFIG, applyHide, checkboxField, dataTable, debounce, el, fmt, formatPairs, hiddenSet, parseNumber,
  parsePairs, qNumber, readQuery, selectField, short, sliderField, writeQuery,
} from "./controls.js";
import { hookCopyLink } from "./lab-common.js";

const Plotly = window.Plotly;
const $ = (s) => document.querySelector(s);

// Okabe–Ito: distinguishable with every common colour-vision deficiency. Yellow last (low
// contrast on white); past eight optimizers the colours repeat with dotted lines.
const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"];
const COLOR_NAMES = ["blue", "orange", "green", "vermilion", "purple", "sky blue", "black", "yellow"];
const MAX_OPTS = 10;
const MAX_STARTS = 256;
const MAX_POINTS = 2_000_000;
const MAX_DRAW_POINTS = 60_000; // drawn per plot; the data tables and CSV keep every point
const RESOLUTION = 161;
const DEBOUNCE_MS = 60;
const FONT = { family: "system-ui, -apple-system, Segoe UI, Roboto, Noto Sans, sans-serif", size: 12, color: "#1d2433" };
// A pale blue-grey colour scale, so the Okabe–Ito paths stay the strongest marks on the plot.
const SURFACE_SCALE = [[0, "#f7f9fc"], [0.25, "#dde6f0"], [0.5, "#bccbdc"], [0.75, "#95a7bd"], [1, "#5f6f86"]];

const NICE_NAMES = { sgd: "SGD", adagrad: "Adagrad", rmsprop: "RMSprop", adam: "Adam", adamw: "AdamW", lbfgs: "L-BFGS" };
const FN_NAMES = { quadratic: "Quadratic bowl", rosenbrock: "Rosenbrock valley", beale: "Beale", himmelblau: "Himmelblau (four minima)", saddle: "Saddle", booth: "Booth", rastrigin: "Rastrigin (many local minima)" };
const HP_LABELS = {
  // Symbols as in each card's update rule (torch.optim's notation: γ is the learning rate).
  lr: "learning rate γ (lr)", momentum: "momentum μ", dampening: "dampening τ", nesterov: "Nesterov momentum",
  weight_decay: "weight decay λ", betas: ["β₁ (betas[0])", "β₂ (betas[1])"], eps: "ε (eps)", amsgrad: "AMSGrad",
  alpha: "smoothing α (alpha)", centered: "centered", lr_decay: "lr decay η (lr_decay)", initial_accumulator_value: "initial accumulator s₀",
  max_iter: "iterations per step (max_iter)", history_size: "history size", tolerance_grad: "gradient tolerance",
  tolerance_change: "change tolerance", line_search_fn: "line search",
};
const PRIMARY_HP = new Set(["lr", "momentum", "betas", "alpha", "line_search_fn", "nesterov"]);
const SCHED_NAMES = { constant: "Constant", step: "Step decay", exponential: "Exponential decay", cosine: "Cosine annealing", warmup_cosine: "Warmup + cosine", onecycle: "One-cycle" };
// Page defaults (not the API's): settings that show the differences within a few hundred steps.
const DEFAULT_OPTS = [
  { name: "sgd", hp: { lr: 0.001, momentum: 0.9 } },
  { name: "rmsprop", hp: { lr: 0.01 } },
  { name: "adam", hp: { lr: 0.05 } },
];
// Offered when one is added or picked: lr values that move visibly on the built-in surfaces.
const EXTRA_PRESETS = {
  adagrad: { hp: { lr: 0.5 } }, adamw: { hp: { lr: 0.05 } }, lbfgs: { hp: { lr: 1, line_search_fn: "strong_wolfe" } },
};
const DEFAULT_STARTS = {
  quadratic: [[-2.5, 2]], rosenbrock: [[-1.5, 2]], beale: [[1, 1.5]], himmelblau: [[-0.5, 0.5]],
  saddle: [[-1.8, 0.05]], booth: [[-7, 8]], rastrigin: [[3.3, -2.6]], custom: [[-2, 2]],
};
const DEFAULT_EXPRESSION = "sin(x)*cos(y) + 0.1*(x**2 + y**2)";

// ----------------------------------------------------------------------------------- state

let CAT = null; // the catalog
const FN = Object.create(null); // name -> catalog function (no prototype: URL text is untrusted)
const OPT = Object.create(null); // name -> catalog optimizer
const SCHED = Object.create(null); // name -> catalog schedule

const S = {
  fn: "rosenbrock", // a catalog name, or "custom" for a typed expression
  fnParams: {}, // name -> {param: value}
  expression: "",
  exprOk: false, // the typed expression parsed on the server
  xr: null, // [a, b] view window, null: the function's own
  yr: null,
  steps: 500,
  schedule: "constant",
  schedParams: {}, // schedule name -> {param: value}
  opts: [], // [{name, hp: {...}, color}]
  starts: [],
  view: "contour", // or "3d"
  levels: "auto", // contour levels: auto | log | linear
  fair: false, // fair race: tune each optimizer's lr on a log grid first (/optimize/tune)
  lr_min: 1e-4,
  lr_max: 1,
  n_lrs: 13,
  criterion: "final", // the tuning score: final | area
  ls_iter: 1, // the L-BFGS iteration whose line search is shown (1-based)
};
const FAIR_BOUNDS = { lr_min: [1e-6, 10], lr_max: [1e-6, 10], n_lrs: [2, 25] };
const CRITERIA = { final: "final f (mean over starts)", area: "area under the loss curve (mean f over all steps)" };
const LS_STEPS_MAX = 1000; // /optimize/line-search runs at most this many steps
const STEPS_MAX = 10000; // a run's steps; a schedule's step counts may be larger (API), not its slider
const STEP_COUNTS = new Set(["step_size", "T_max", "warmup_steps"]);

let D = null; // the latest results, ready to draw
let LS = null; // the latest L-BFGS line-search trace {iterations, c1, c2, ...} with {opt: index}
const lsSlot = latest();
let SURF = null; // {key, x, y, z, zt, log, fmin, ...}
const surfSlot = latest();
const optSlot = latest();
let surfPending = null; // {key, promise}
let player = null;
let hidden = new Set();
const ui = {}; // handles of built controls

// ----------------------------------------------------------------------------------- helpers

function defaultsOf(list) {
  const o = {};
  for (const p of list || []) o[p.name] = Array.isArray(p.default) ? [...p.default] : p.default;
  return o;
}

function nextColor() {
  const used = new Set(S.opts.map((o) => o.color));
  for (let i = 0; i < PALETTE.length; i++) if (!used.has(i)) return i;
  return S.opts.length % PALETTE.length;
}

function optLabel(o, i) {
  let s = NICE_NAMES[o.name] || o.name;
  if (o.name === "sgd" && o.hp.momentum > 0) s += o.hp.nesterov ? "+Nesterov" : "+momentum";
  if (o.name === "lbfgs" && o.hp.line_search_fn) s += " (Wolfe)";
  s += ` lr=${fmt(o.hp.lr, 3)}`;
  const same = S.opts.filter((p) => p.name === o.name && fmt(p.hp.lr, 3) === fmt(o.hp.lr, 3)).length > 1;
  return same ? `${i + 1}: ${s}` : s;
}

// Colours of the optimizers being drawn (D.opts: the controls may already have changed).
const drawnOpts = () => (D ? D.opts : S.opts);
const colorOf = (i, opts = drawnOpts()) => PALETTE[opts[i].color % PALETTE.length];
const dashOf = (i, opts = drawnOpts()) => (opts.slice(0, i).filter((o) => o.color === opts[i].color).length ? "dot" : "solid");

function fnRange() {
  if (S.fn === "custom") return { x: S.xr || [-3, 3], y: S.yr || [-3, 3] };
  const f = FN[S.fn];
  return { x: S.xr || f.x_range, y: S.yr || f.y_range };
}

function fnRef() {
  if (S.fn === "custom") return { expression: S.expression };
  const ref = { name: S.fn };
  for (const p of FN[S.fn].params || []) ref[p.name] = S.fnParams[S.fn][p.name];
  return ref;
}

function schedBody() {
  const sc = { name: S.schedule };
  for (const p of SCHED[S.schedule].params || []) {
    const v = S.schedParams[S.schedule][p.name];
    if (v !== null && v !== undefined) sc[p.name] = v;
  }
  return sc;
}

function hpOk(spec, v) {
  if (spec.type === "boolean") return typeof v === "boolean";
  if (spec.type === "choice") return spec.choices.includes(v);
  const one = (x) => typeof x === "number" && Number.isFinite(x)
    && !(spec.min != null && (spec.exclusive_min ? x <= spec.min : x < spec.min))
    && !(spec.max != null && (spec.exclusive_max ? x >= spec.max : x > spec.max))
    && !(spec.type === "integer" && !Number.isInteger(x));
  if (spec.type === "pair") return Array.isArray(v) && v.length === 2 && v.every(one);
  if (v === null && spec.nullable) return true;
  return one(v);
}

function hpFromText(spec, text) {
  if (text === null) return undefined;
  let v;
  if (spec.type === "boolean") v = text === "1" || text === "true" ? true : text === "0" || text === "false" ? false : undefined;
  else if (spec.type === "choice") v = text === "none" ? null : text;
  else if (spec.type === "pair") v = text.split(",").map(parseNumber);
  else if (text === "none" && spec.nullable) v = null;
  else v = parseNumber(text);
  return v !== undefined && hpOk(spec, v) ? v : undefined;
}

function hpToText(spec, v) {
  if (spec.type === "boolean") return v ? "true" : "false";
  if (v === null) return "none";
  if (spec.type === "pair") return v.map((x) => fmt(x, 8)).join(",");
  return typeof v === "number" ? fmt(v, 8) : String(v);
}

const sameValue = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// ----------------------------------------------------------------------------------- URL

function readState() {
  const q = readQuery();
  hidden = hiddenSet(q);
  if (q.has("expression") && q.get("expression").trim()) {
    S.fn = "custom";
    S.expression = q.get("expression").slice(0, 200);
  } else if (q.has("function") && (FN[q.get("function")] || q.get("function") === "custom")) {
    S.fn = q.get("function");
  }
  for (const f of CAT.functions) {
    S.fnParams[f.name] = defaultsOf(f.params);
    if (f.name === S.fn) {
      for (const p of f.params) {
        const v = qNumber(q, p.name, p.default);
        if (v >= p.min && v <= p.max) S.fnParams[f.name][p.name] = v;
      }
    }
  }
  const pair = (name) => {
    const v = (q.get(name) || "").split(",").map(parseNumber);
    return v.length === 2 && v.every(Number.isFinite) && v[0] < v[1] ? v : null;
  };
  S.xr = pair("x_range");
  S.yr = pair("y_range");
  const steps = Math.round(qNumber(q, "steps", S.steps));
  if (steps >= 1 && steps <= STEPS_MAX) S.steps = steps;
  for (const sc of CAT.schedules) S.schedParams[sc.name] = defaultsOf(sc.params);
  if (q.has("schedule") && SCHED[q.get("schedule")]) S.schedule = q.get("schedule");
  for (const p of SCHED[S.schedule].params) {
    const v = hpFromText(p, q.get(`schedule_${p.name}`));
    if (v !== undefined) S.schedParams[S.schedule][p.name] = v;
  }
  S.opts = [];
  if (q.has("opt0_name")) {
    for (let i = 0; i < MAX_OPTS && q.has(`opt${i}_name`); i++) {
      const name = q.get(`opt${i}_name`);
      if (!OPT[name]) continue;
      const hp = defaultsOf(OPT[name].hyperparameters);
      for (const spec of OPT[name].hyperparameters) {
        const v = hpFromText(spec, q.get(`opt${i}_${spec.name}`));
        if (v !== undefined) hp[spec.name] = v;
      }
      S.opts.push({ name, hp, color: nextColor() });
    }
  }
  if (!S.opts.length) {
    for (const d of DEFAULT_OPTS) {
      if (!OPT[d.name]) continue;
      S.opts.push({ name: d.name, hp: { ...defaultsOf(OPT[d.name].hyperparameters), ...d.hp }, color: nextColor() });
    }
  }
  const starts = parsePairs(q.get("starts") || "").slice(0, MAX_STARTS).filter(([x, y]) => Math.abs(x) <= 1e6 && Math.abs(y) <= 1e6);
  S.starts = starts.length ? starts : (DEFAULT_STARTS[S.fn] || [[0, 0]]).map((p) => [...p]);
  S.fair = q.get("fair") === "1";
  for (const k of ["lr_min", "lr_max", "n_lrs"]) {
    const v = qNumber(q, k, S[k]);
    const [lo, hi] = FAIR_BOUNDS[k];
    if (v >= lo && v <= hi && (k !== "n_lrs" || Number.isInteger(v))) S[k] = v;
  }
  if (CRITERIA[q.get("criterion")]) S.criterion = q.get("criterion");
  const li = Math.round(qNumber(q, "ls_iter", 1));
  if (li >= 1 && li <= 500) S.ls_iter = li;
  if (q.get("view") === "3d") S.view = "3d";
  if (["log", "linear"].includes(q.get("levels"))) S.levels = q.get("levels");
  if (S.fn === "custom" && !S.expression) S.expression = DEFAULT_EXPRESSION;
}

function writeState() {
  const e = [];
  if (S.fn === "custom") e.push(["expression", S.expression]);
  else {
    e.push(["function", S.fn]);
    for (const p of FN[S.fn].params) e.push([p.name, S.fnParams[S.fn][p.name]]);
  }
  if (S.xr) e.push(["x_range", S.xr]);
  if (S.yr) e.push(["y_range", S.yr]);
  e.push(["steps", S.steps]);
  e.push(["schedule", S.schedule]);
  for (const p of SCHED[S.schedule].params) {
    const v = S.schedParams[S.schedule][p.name];
    if (!sameValue(v, p.default)) e.push([`schedule_${p.name}`, hpToText(p, v)]);
  }
  S.opts.forEach((o, i) => {
    e.push([`opt${i}_name`, o.name]);
    for (const spec of OPT[o.name].hyperparameters) {
      const v = o.hp[spec.name];
      if (spec.name === "lr" || !sameValue(v, spec.default)) e.push([`opt${i}_${spec.name}`, hpToText(spec, v)]);
    }
  });
  e.push(["starts", formatPairs(S.starts)]);
  if (S.fair) {
    e.push(["fair", 1]);
    for (const k of ["lr_min", "lr_max", "n_lrs", "criterion"]) e.push([k, S[k]]);
  }
  if (S.ls_iter !== 1) e.push(["ls_iter", S.ls_iter]);
  if (S.view === "3d") e.push(["view", "3d"]);
  if (S.levels !== "auto") e.push(["levels", S.levels]);
  writeQuery(e);
}

// ----------------------------------------------------------------------------------- controls

function buildFunctionControls() {
  const options = CAT.functions.map((f) => ({ value: f.name, label: FN_NAMES[f.name] || f.name }));
  options.push({ value: "custom", label: "Your own f(x, y)…" });
  ui.fn = selectField({ id: "function", name: "function", label: "Function", options, value: S.fn, control: "function" }, (v) => {
    S.fn = v;
    S.xr = S.yr = null;
    if (v === "custom" && !S.expression) S.expression = DEFAULT_EXPRESSION;
    if (v === "custom") $("#expression").value = S.expression;
    // Keep the starts where they still lie in the new window, else use this function's own.
    const r = fnRange();
    const inside = S.starts.filter(([x, y]) => x >= r.x[0] && x <= r.x[1] && y >= r.y[0] && y <= r.y[1]);
    S.starts = inside.length ? inside : (DEFAULT_STARTS[v] || [[0, 0]]).map((p) => [...p]);
    syncStartsText();
    renderFunctionDetails();
    renderRangeInputs();
    if (v === "custom") checkExpression.flush();
    else recompute();
  });
  $("#fn-picker").replaceChildren(ui.fn.el);

  const input = $("#expression");
  input.value = S.expression;
  input.addEventListener("input", () => {
    S.expression = input.value;
    S.exprOk = false;
    checkExpression();
  });
  input.addEventListener("keydown", (e) => { if (e.key === "Enter") checkExpression.flush(); });
  renderFunctionDetails();
}

function renderFunctionDetails() {
  const custom = S.fn === "custom";
  $("#expr-box").hidden = !custom || hidden.has("expression");
  const formula = $("#fn-formula");
  const params = $("#fn-params");
  params.replaceChildren();
  if (custom) {
    formula.replaceChildren();
    $("#fn-desc").textContent = "Type any smooth f(x, y); its gradient is worked out symbolically on the server.";
    return;
  }
  const f = FN[S.fn];
  formula.innerHTML = f.mathml;
  fitMath(formula);
  $("#fn-desc").textContent = f.description;
  for (const p of f.params) {
    const fld = sliderField({
      id: p.name, name: p.name, label: `${p.name} — ${p.description || "parameter"}`, min: p.min, max: p.max,
      log: p.max / Math.max(p.min, 1e-9) >= 100, value: S.fnParams[S.fn][p.name], control: p.name,
      description: p.description,
    }, (v) => { S.fnParams[S.fn][p.name] = v; recompute(); });
    params.append(fld.el);
  }
  applyHide(params, hidden);
}

function renderRangeInputs() {
  const r = fnRange();
  const box = $("#range-fields");
  box.replaceChildren();
  const err = $("#range-error");
  err.textContent = "";
  const mk = (axis, idx, label) => {
    const id = `range-${axis}${idx}`;
    const inp = el("input", { type: "number", id, step: "any", value: fmt(r[axis][idx], 6), "aria-describedby": "range-error" });
    inp.addEventListener("input", () => {
      const a = parseNumber($(`#range-${axis}0`).value);
      const b = parseNumber($(`#range-${axis}1`).value);
      if (!(Number.isFinite(a) && Number.isFinite(b) && a < b && Math.abs(a) <= 1e6 && Math.abs(b) <= 1e6)) {
        err.textContent = `${axis} range: enter two numbers with “from” < “to”.`;
        return;
      }
      err.textContent = "";
      if (axis === "x") S.xr = [a, b];
      else S.yr = [a, b];
      recompute();
    });
    return el("div", { class: "range-cell" }, el("label", { for: id }, label), inp);
  };
  box.append(mk("x", 0, "x from"), mk("x", 1, "x to"), mk("y", 0, "y from"), mk("y", 1, "y to"));
}

function buildStepsAndSchedule() {
  ui.steps = sliderField({ id: "steps", name: "steps", label: "Steps", min: 1, max: STEPS_MAX, integer: true, log: true, value: S.steps, control: "steps",
    description: "how many updates each optimizer makes" }, (v) => { S.steps = v; recompute(); });
  $("#steps-field").replaceChildren(ui.steps.el);
  ui.sched = selectField({
    id: "schedule", name: "schedule", label: "Learning-rate schedule", control: "schedule",
    options: CAT.schedules.map((s) => ({ value: s.name, label: SCHED_NAMES[s.name] || s.name })), value: S.schedule,
  }, (v) => { S.schedule = v; renderScheduleParams(); recompute(); });
  $("#sched-field").replaceChildren(ui.sched.el);
  renderScheduleParams();
}

function renderScheduleParams() {
  const sc = SCHED[S.schedule];
  $("#sched-desc").textContent = sc.description || "";
  const box = $("#sched-params");
  box.replaceChildren();
  for (const p of sc.params) {
    box.append(hpControl(p, S.schedParams[S.schedule][p.name], (v) => { S.schedParams[S.schedule][p.name] = v; recompute(); },
      `schedule_${p.name}`, `schedule_${p.name}`).el);
  }
  applyHide(box, hidden);
}

/** One control for a catalog parameter spec (number, integer, boolean, pair, choice). */
function hpControl(spec, value, onChange, idBase, control) {
  const label = HP_LABELS[spec.name] || spec.name.replace(/_/g, " ");
  if (spec.type === "boolean") {
    return checkboxField({ id: idBase, name: spec.name, label, value, description: spec.description, control }, onChange);
  }
  if (spec.type === "choice") {
    return selectField({ id: idBase, name: spec.name, label, control, description: spec.description, value,
      options: spec.choices.map((c) => ({ value: c, label: c === null ? "none" : c })) }, onChange);
  }
  const num = (s, v, lbl, id, cb) => {
    const nullable = !!s.nullable;
    const log = !!s.log || (s.min != null && s.max != null && s.min > 0 && s.max / s.min >= 1000);
    const f = sliderField({
      id, name: s.name, label: lbl + (nullable ? " (blank: all steps)" : ""), min: s.min, max: s.max,
      slider_max: STEP_COUNTS.has(s.name) ? STEPS_MAX : undefined, exclusive_min: s.exclusive_min, exclusive_max: s.exclusive_max, integer: s.type === "integer", log,
      step: s.type === "integer" ? 1 : s.max != null && s.max <= 1 && !log ? 0.001 : undefined,
      value: v, nullable, placeholder: nullable ? "all steps" : undefined,
      description: s.description, control,
    }, cb);
    return f;
  };
  if (spec.type === "pair") {
    const labels = Array.isArray(label) ? label : [`${label}[0]`, `${label}[1]`];
    const cur = [...value];
    const wrap = el("div", { class: "pair", "data-control": control });
    [0, 1].forEach((j) => {
      const f = num(spec, cur[j], labels[j], `${idBase}-${j}`, (v) => { cur[j] = v; onChange([...cur]); });
      f.el.dataset.control = `${control}_${j}`;
      wrap.append(f.el);
    });
    return { el: wrap };
  }
  return num(spec, value, label, idBase, onChange);
}

function renderCards() {
  const box = $("#opt-cards");
  box.replaceChildren();
  S.opts.forEach((o, i) => {
    const cat = OPT[o.name];
    const c = colorOf(i, S.opts);
    const card = el("fieldset", { class: "opt-card", "data-control": `opt${i}`, style: `--c:${c}`, "data-index": i });
    const title = `Optimizer ${i + 1}`;
    card.append(el("legend", { class: "sr-only" }, `${title}: ${NICE_NAMES[o.name] || o.name}, colour ${COLOR_NAMES[o.color % PALETTE.length]}`));
    const sel = selectField({ id: `opt${i}_name`, name: `opt${i}_name`, label: title, control: `opt${i}_name`,
      options: CAT.optimizers.map((x) => ({ value: x.name, label: NICE_NAMES[x.name] || x.name })), value: o.name }, (v) => {
      // A new kind of optimizer starts from this page's preset for it (else the API defaults).
      o.name = v;
      o.hp = presetHp(v);
      renderCards();
      $(`#opt${i}_name`).focus();
      recompute();
    });
    const swatch = el("span", { class: "swatch", "aria-hidden": "true", title: COLOR_NAMES[o.color % PALETTE.length] });
    const rm = el("button", { type: "button", class: "remove", "aria-label": `Remove optimizer ${i + 1} (${NICE_NAMES[o.name] || o.name})`,
      title: "Remove", disabled: S.opts.length <= 1, "data-control": "add" }, "✕");
    rm.addEventListener("click", () => {
      S.opts.splice(i, 1);
      renderCards();
      const next = $(`#opt${Math.min(i, S.opts.length - 1)}_name`);
      (next || $("#add-opt")).focus();
      recompute();
    });
    card.append(el("div", { class: "head" }, swatch, sel.el, rm));
    const rule = el("div", { class: "formula update-rule", "data-control": "rules" });
    rule.innerHTML = cat.update_mathml;
    splitMath(rule);
    card.append(rule);
    const more = el("details", { class: "more-hp" }, el("summary", {}, "More hyperparameters"));
    for (const spec of cat.hyperparameters) {
      const ctl = hpControl(spec, o.hp[spec.name], (v) => { o.hp[spec.name] = v; recompute(); },
        `opt${i}_${spec.name}`, `opt${i}_${spec.name} ${spec.name}`);
      (PRIMARY_HP.has(spec.name) ? card : more).append(ctl.el);
    }
    if (more.children.length > 1) card.append(more);
    box.append(card);
  });
  const add = $("#add-opt");
  add.disabled = S.opts.length >= MAX_OPTS;
  add.textContent = S.opts.length >= MAX_OPTS ? `At most ${MAX_OPTS} optimizers` : "+ Add optimizer";
  applyHide(box, hidden);
}

function presetHp(name) {
  const preset = DEFAULT_OPTS.find((d) => d.name === name) || EXTRA_PRESETS[name];
  return { ...defaultsOf(OPT[name].hyperparameters), ...(preset ? preset.hp : {}) };
}

function addOptimizer() {
  if (S.opts.length >= MAX_OPTS) return;
  // Offer the first optimizer not on the board yet, with its catalog defaults.
  const used = new Set(S.opts.map((o) => o.name));
  const name = (CAT.optimizers.find((o) => !used.has(o.name)) || CAT.optimizers[0]).name;
  S.opts.push({ name, hp: presetHp(name), color: nextColor() });
  renderCards();
  $(`#opt${S.opts.length - 1}_name`).focus();
  recompute();
}

// ------------------------------------------------------------------ fair race

function buildFair() {
  ui.fair = checkboxField({ id: "fair", name: "fair", label: "Fair race: tune each learning rate first", value: S.fair, control: "fair",
    description: "run every optimizer over a log grid of learning rates and race each at its best one" }, (v) => {
    S.fair = v;
    renderFairParams();
    recompute();
  });
  $("#fair-field").replaceChildren(ui.fair.el);
  renderFairParams();
}

function renderFairParams() {
  const box = $("#fair-params");
  box.replaceChildren();
  document.body.classList.toggle("fair-on", S.fair);
  $("#fair-more").hidden = !S.fair;
  if (!S.fair) return;
  const lr = (k, label) => sliderField({ id: k, name: k, label, min: FAIR_BOUNDS[k][0], max: FAIR_BOUNDS[k][1], log: true, value: S[k], control: k,
    description: `${label} of the grid` }, (v) => { S[k] = v; recompute(); });
  box.append(
    lr("lr_min", "smallest γ (lr_min)").el,
    lr("lr_max", "largest γ (lr_max)").el,
    sliderField({ id: "n_lrs", name: "n_lrs", label: "grid points (n_lrs)", min: 2, max: 25, integer: true, value: S.n_lrs, control: "n_lrs",
      description: "learning rates tried, evenly spaced in log γ" }, (v) => { S.n_lrs = v; recompute(); }).el,
    selectField({ id: "criterion", name: "criterion", label: "Score to minimize", control: "criterion", value: S.criterion,
      options: Object.entries(CRITERIA).map(([value, label]) => ({ value, label })) }, (v) => { S.criterion = v; recompute(); }).el,
  );
  applyHide(box, hidden);
}

// ------------------------------------------------------------------ start points

function syncStartsText() {
  const ta = $("#starts");
  if (document.activeElement !== ta) ta.value = S.starts.map(([x, y]) => `${fmt(x, 4)}, ${fmt(y, 4)}`).join("\n");
  $("#starts-count").textContent = `${S.starts.length} start${S.starts.length === 1 ? "" : "s"} (at most ${MAX_STARTS})`;
}

function buildStarts() {
  const ta = $("#starts");
  const err = $("#starts-error");
  const parse = debounce(() => {
    const lines = ta.value.split("\n").map((l) => l.trim()).filter(Boolean);
    const pts = [];
    for (let n = 0; n < lines.length; n++) {
      const p = parsePairs(lines[n]);
      if (p.length !== 1) { err.textContent = `Line ${n + 1}: write two numbers, x, y.`; ta.setAttribute("aria-invalid", "true"); return; }
      if (Math.abs(p[0][0]) > 1e6 || Math.abs(p[0][1]) > 1e6) { err.textContent = `Line ${n + 1}: keep |x|, |y| ≤ 1e6.`; ta.setAttribute("aria-invalid", "true"); return; }
      pts.push(p[0]);
    }
    if (!pts.length) { err.textContent = "Add at least one start point (or click the contour plot)."; ta.setAttribute("aria-invalid", "true"); return; }
    if (pts.length > MAX_STARTS) { err.textContent = `At most ${MAX_STARTS} start points; you have ${pts.length}.`; ta.setAttribute("aria-invalid", "true"); return; }
    err.textContent = "";
    ta.setAttribute("aria-invalid", "false");
    S.starts = pts;
    $("#starts-count").textContent = `${S.starts.length} start${S.starts.length === 1 ? "" : "s"} (at most ${MAX_STARTS})`;
    recompute();
  }, 250);
  ta.addEventListener("input", parse);
  ta.addEventListener("blur", () => { if (ta.getAttribute("aria-invalid") !== "true") syncStartsText(); });
  $("#starts-clear").addEventListener("click", () => {
    S.starts = (DEFAULT_STARTS[S.fn] || [[0, 0]]).map((p) => [...p]);
    err.textContent = "";
    syncStartsText();
    recompute();
  });
  $("#starts-grid").addEventListener("click", () => {
    // A 5 × 5 grid over the view window: which basin does each start fall into?
    const r = fnRange();
    const pts = [];
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) {
      pts.push([r.x[0] + ((i + 0.5) / 5) * (r.x[1] - r.x[0]), r.y[0] + ((j + 0.5) / 5) * (r.y[1] - r.y[0])].map((v) => Number(v.toPrecision(4))));
    }
    S.starts = pts;
    err.textContent = "";
    syncStartsText();
    recompute();
  });
  syncStartsText();
}

function onContourClick(ev) {
  const gd = $("#contour");
  const e = ev && ev.event;
  const fl = gd._fullLayout;
  if (!e || !fl || !fl.xaxis) return;
  const box = gd.querySelector(".nsewdrag") || gd.querySelector(".draglayer");
  const rect = box.getBoundingClientRect();
  const x = fl.xaxis.p2l(e.clientX - rect.left);
  const y = fl.yaxis.p2l(e.clientY - rect.top);
  if (!Number.isFinite(x) || !Number.isFinite(y)) return;
  const p = [Number(x.toPrecision(4)), Number(y.toPrecision(4))];
  if (e.shiftKey) S.starts = [p];
  else if (S.starts.length >= MAX_STARTS) {
    $("#starts-error").textContent = `At most ${MAX_STARTS} start points: Shift-click to start over from one.`;
    return;
  } else S.starts = [...S.starts, p];
  $("#starts-error").textContent = "";
  syncStartsText();
  recompute();
}

// ------------------------------------------------------------------ custom expression

const exprSlot = latest();
const checkExpression = debounce(async () => {
  const err = $("#expr-error");
  const grad = $("#expr-gradient");
  const input = $("#expression");
  const text = S.expression.trim();
  if (!text) {
    err.textContent = "Type a function of x and y, e.g. x**2 + 10*y**2.";
    input.setAttribute("aria-invalid", "true");
    return;
  }
  try {
    const r = await exprSlot.post("/api/v1/expression", { expression: text });
    if (text !== S.expression.trim()) return; // typed on since: a newer check is coming
    err.textContent = "";
    input.setAttribute("aria-invalid", "false");
    S.exprOk = true;
    grad.innerHTML = "";
    grad.append(
      el("div", { class: "grad-row" }, el("span", { class: "grad-lhs" }, "f(x, y) ="), mathNode(r.mathml)),
      el("div", { class: "grad-row" }, el("span", { class: "grad-lhs" }, "∂f/∂x ="), mathNode(r.gradient_mathml[0])),
      el("div", { class: "grad-row" }, el("span", { class: "grad-lhs" }, "∂f/∂y ="), mathNode(r.gradient_mathml[1])),
    );
    if (S.fn === "custom") recompute();
  } catch (e) {
    if (isAbort(e) || text !== S.expression.trim()) return;
    S.exprOk = false;
    // "function.expression: character … is not allowed" → the part a student needs.
    err.textContent = String(e.message).replace(/^(body\.)?(function\.)?expression:\s*/i, "");
    input.setAttribute("aria-invalid", "true");
  }
}, 300);

/** Breaks a one-line MathML rule at its \quad gaps (and a trailing "\ \ (…)" remark) into
 *  one <math> per line, so a long update rule fits a narrow card instead of scrolling. */
function splitMath(container) {
  const math = container.querySelector("math");
  if (!math) return;
  const row = math.children.length === 1 && math.firstElementChild.tagName.toLowerCase() === "mrow" ? math.firstElementChild : math;
  const parts = [[]];
  const kids = [...row.children];
  for (let i = 0; i < kids.length; i++) {
    const c = kids[i];
    const tag = c.tagName.toLowerCase();
    const w = tag === "mspace" ? parseFloat(c.getAttribute("width") || "0") : 0;
    const nbsp2 = tag === "mtext" && c.textContent === "\u00a0" && kids[i + 1] && kids[i + 1].tagName.toLowerCase() === "mtext" && kids[i + 1].textContent === "\u00a0";
    if ((tag === "mspace" && w >= 1 && /em$/.test(c.getAttribute("width") || "")) || nbsp2) {
      const cur = parts[parts.length - 1];
      const last = cur[cur.length - 1];
      if (last && last.tagName.toLowerCase() === "mo" && last.textContent === ",") cur.pop();
      if (nbsp2) i++;
      parts.push([]);
      continue;
    }
    parts[parts.length - 1].push(c);
  }
  const lines = parts.filter((p) => p.length);
  // Inline math in its own line box sits flush left (block math is always centred), with
  // math-style: normal (CSS) keeping display-size fractions.
  const ns = "http://www.w3.org/1998/Math/MathML";
  container.replaceChildren(...lines.map((p) => {
    const m = document.createElementNS(ns, "math");
    const r = document.createElementNS(ns, "mrow");
    r.append(...p);
    m.append(r);
    return el("div", { class: "math-line" }, m);
  }));
}

/** Shrinks a formula's font (down to 70 %) until it fits its box, instead of clipping it. */
function fitMath(box) {
  box.style.fontSize = "";
  for (let size = 100; size > 70 && box.scrollWidth > box.clientWidth + 1; size -= 5) box.style.fontSize = `${size - 5}%`;
}

function mathNode(mathml) {
  const span = el("span", { class: "math-inline" });
  span.innerHTML = mathml;
  const m = span.querySelector("math");
  if (m) m.setAttribute("display", "inline");
  return span;
}

// ------------------------------------------------------------------ compute

const recompute = debounce(() => { compute(); }, DEBOUNCE_MS);

function surfaceKey() {
  const r = fnRange();
  return JSON.stringify([fnRef(), r.x, r.y]);
}

function setStatus(text, isError = false) {
  const st = $("#status");
  const er = $("#error");
  if (isError) { er.textContent = text; st.textContent = ""; }
  else { er.textContent = ""; st.textContent = text; }
}

async function compute() {
  writeState();
  if (S.fn === "custom" && !S.exprOk) return; // checkExpression() calls back once it parses
  const lanes = S.fair ? S.n_lrs : 1;
  const n = S.opts.length * lanes * S.starts.length * (S.steps + 1);
  if (n > MAX_POINTS) {
    const grid = S.fair ? ` × ${S.n_lrs} learning rates` : "";
    setStatus(`Too much to compute: ${S.opts.length} optimizers${grid} × ${S.starts.length} starts × ${S.steps + 1} steps = ${n.toLocaleString("en")} points (the limit is ${MAX_POINTS.toLocaleString("en")}). Lower the steps or the starts.`, true);
    return;
  }
  if (S.fair && !(S.lr_min < S.lr_max)) {
    setStatus("Fair race: the smallest γ (lr_min) must be below the largest (lr_max).", true);
    return;
  }
  if (S.fair && S.starts.length > 64) {
    setStatus(`Fair race: at most 64 start points; you have ${S.starts.length}.`, true);
    return;
  }
  // The one cross-field rule the catalog states in words (torch.optim.SGD's): checked here so a
  // student sees it at once, before any request.
  const bad = S.opts.findIndex((o) => o.name === "sgd" && o.hp.nesterov && !(o.hp.momentum > 0 && o.hp.dampening === 0));
  if (bad >= 0) {
    setStatus(`Optimizer ${bad + 1} (SGD): Nesterov momentum needs momentum > 0 and dampening = 0.`, true);
    return;
  }
  const key = surfaceKey();
  let surf;
  if (SURF && SURF.key === key) surf = SURF;
  else if (surfPending && surfPending.key === key) surf = surfPending.promise;
  else {
    const r = fnRange();
    const promise = surfSlot.post("/api/v1/surface", { function: fnRef(), x_range: r.x, y_range: r.y, resolution: RESOLUTION })
      .then((s) => prepareSurface(s, key));
    surfPending = { key, promise };
    promise.catch(() => {}).finally(() => { if (surfPending && surfPending.promise === promise) surfPending = null; });
    surf = promise;
  }
  const body = {
    function: fnRef(), optimizers: S.opts.map((o) => ({ name: o.name, ...o.hp })),
    starts: S.starts, steps: S.steps, schedule: schedBody(),
  };
  let opts = S.opts.map((o) => ({ ...o, hp: { ...o.hp } }));
  const fair = S.fair;
  const req = fair
    ? optSlot.post("/api/v1/optimize/tune", { ...body, lr_min: S.lr_min, lr_max: S.lr_max, n_lrs: S.n_lrs, criterion: S.criterion })
    : optSlot.post("/api/v1/optimize", body);
  document.body.classList.add("busy");
  $("#plots").setAttribute("aria-busy", "true");
  try {
    const [s, r] = await Promise.all([surf, req]);
    SURF = s;
    const userLr = opts.map((o) => o.hp.lr);
    // Fair race: the runs drawn are the tuned ones, so each label carries its tuned lr.
    if (fair) opts = opts.map((o, i) => ({ ...o, hp: { ...o.hp, lr: r.curves[i].lr } }));
    D = prepareData(r, opts, body);
    D.tune = fair ? { ...r, userLr } : null;
    setStatus("");
    drawAll();
    fetchLineSearch();
  } catch (e) {
    if (isAbort(e)) return;
    setStatus(e.message || String(e), true);
  } finally {
    if (!optSlot.busy) {
      document.body.classList.remove("busy");
      $("#plots").setAttribute("aria-busy", "false");
    }
  }
}

function prepareSurface(s, key) {
  let fmin = Infinity, fmax = -Infinity;
  const vals = [];
  for (const row of s.z) for (const v of row) if (v !== null) { if (v < fmin) fmin = v; if (v > fmax) fmax = v; vals.push(v); }
  vals.sort((a, b) => a - b);
  const med = vals.length ? vals[vals.length >> 1] : 0;
  // Log levels when most of the grid sits far below its peaks (Rosenbrock's valley, Beale's
  // plateaus): log10(1 + f − f_min) spreads the levels where the paths actually travel.
  const autoLog = vals.length > 0 && fmax - fmin > 0 && (fmax - fmin) / Math.max(med - fmin, 1e-12) > 15;
  return { key, x: s.x, y: s.y, z: s.z, fmin, fmax, autoLog, transformed: null };
}

function useLog() {
  if (!SURF) return false;
  return S.levels === "log" ? true : S.levels === "linear" ? false : SURF.autoLog;
}

function T(v) {
  // The contour / 3-D height transform, applied to the surface and to lifted trajectories.
  if (v === null || v === undefined || !useLog()) return v;
  const u = 1 + v - SURF.fmin;
  return u > 0 ? Math.log10(u) : null;
}

function lifted(v) {
  // Height of a path point on the 3-D plot: just above the surface, so it is not hidden in it.
  const t = T(v);
  if (t === null || t === undefined) return null;
  const zr = SURF.transformed ? SURF.transformed.span : 0;
  return t + 0.012 * zr;
}

function surfaceZ() {
  const log = useLog();
  if (SURF.transformed && SURF.transformed.log === log) return SURF.transformed.z;
  const z = log ? SURF.z.map((row) => row.map(T)) : SURF.z;
  let lo = Infinity, hi = -Infinity;
  for (const row of z) for (const v of row) if (v !== null) { if (v < lo) lo = v; if (v > hi) hi = v; }
  SURF.transformed = { log, z, span: hi > lo ? hi - lo : 0 };
  return z;
}

function prepareData(resp, opts, body) {
  const trajs = resp.trajectories;
  const byOpt = opts.map(() => []);
  let total = 0, nFrames = 1;
  for (const t of trajs) {
    byOpt[t.optimizer].push(t);
    total += t.x.length;
    nFrames = Math.max(nFrames, t.x.length);
    // Last index with a finite point: where a diverged run's marker stays.
    let g = t.x.length - 1;
    while (g > 0 && (t.x[g] === null || t.y[g] === null)) g--;
    t.good = g;
  }
  const stride = Math.max(1, Math.ceil(total / MAX_DRAW_POINTS));
  return { trajs, byOpt, opts, stride, nFrames, body, labels: opts.map((o, i) => optLabel(o, i)) };
}

// ------------------------------------------------------------------ drawing

function pathArrays(list, k, stride, lift) {
  const xs = [], ys = [], zs = [];
  for (const t of list) {
    const end = Math.min(k, t.x.length - 1);
    for (let j = 0; j <= end; j += stride) {
      xs.push(t.x[j]); ys.push(t.y[j]);
      if (lift) zs.push(lifted(t.loss[j]));
    }
    if (end % stride) {
      xs.push(t.x[end]); ys.push(t.y[end]);
      if (lift) zs.push(lifted(t.loss[end]));
    }
    xs.push(null); ys.push(null);
    if (lift) zs.push(null);
  }
  return lift ? { x: xs, y: ys, z: zs } : { x: xs, y: ys };
}

function heads(list, k, lift) {
  // The marker of each start at step k; a diverged run keeps its last finite point.
  const x = [], y = [], z = [];
  for (const t of list) {
    const j = Math.min(k, t.x.length - 1, t.good);
    x.push(t.x[j]); y.push(t.y[j]);
    if (lift) z.push(lifted(t.loss[j]));
  }
  return { x, y, z };
}

function deadMarks(k) {
  // One trace for every optimizer: a cross where a run blew up, once the animation gets there.
  const x = [], y = [], color = [], text = [];
  D.opts.forEach((_, i) => {
    for (const t of D.byOpt[i]) {
      if (!t.diverged) continue;
      const on = k >= t.x.length - 1;
      x.push(on ? t.x[t.good] : null); y.push(on ? t.y[t.good] : null);
      color.push(colorOf(i));
      text.push(`${D.labels[i]}, start ${t.start + 1}: diverged at step ${t.diverged_at}`);
    }
  });
  return { x, y, color, text };
}

function contourFigure(k) {
  const log = useLog();
  const z = surfaceZ();
  const r = fnRange();
  const traces = [];
  const colorbar = { thickness: 10, len: 0.9, outlinewidth: 0, tickfont: { size: 10 }, title: { text: "f", side: "top" } };
  if (log) {
    // Ticks labelled in f itself, placed on the log10(1 + f − f_min) scale.
    const vals = [], text = [];
    for (let d = 0, e = -1; ; e++) {
      d = e < 0 ? 0 : 10 ** e;
      const t = Math.log10(1 + d);
      if (t > Math.log10(1 + SURF.fmax - SURF.fmin) + 1e-9) break;
      vals.push(t); text.push(fmt(SURF.fmin + d, d === 0 ? 2 : 3));
    }
    Object.assign(colorbar, { tickvals: vals, ticktext: text, title: { text: "f (log)", side: "top" } });
  }
  traces.push({
    type: "contour", x: SURF.x, y: SURF.y, z, name: "f", colorscale: SURFACE_SCALE, reversescale: false,
    ncontours: 28, contours: { coloring: "fill", showlines: true }, line: { width: 0.5, color: "rgba(40,50,70,0.35)" },
    colorbar, connectgaps: false, hoverinfo: "x+y", hovertemplate: "x = %{x:.3f}<br>y = %{y:.3f}<br>click to start here<extra></extra>",
  });
  const minima = S.fn === "custom" ? [] : FN[S.fn].minima;
  traces.push({
    type: "scatter", mode: "markers", name: "minimum", x: minima.map((m) => m[0]), y: minima.map((m) => m[1]),
    marker: { symbol: "star", size: 14, color: "#ffffff", line: { color: "#1d2433", width: 1.5 } },
    hovertemplate: "minimum (%{x}, %{y})<extra></extra>", showlegend: false,
  });
  traces.push({
    type: "scatter", mode: "markers", name: "starts", x: S.starts.map((p) => p[0]), y: S.starts.map((p) => p[1]),
    marker: { symbol: "circle-open", size: 9, color: "#1d2433", line: { width: 2 } }, hovertemplate: "start (%{x}, %{y})<extra></extra>", showlegend: false,
  });
  // The full route of every run, faint and static (hover it to read any step). The part
  // travelled so far and the current positions are painted on a canvas over the plot
  // (ContourOverlay): moving them through Plotly would repaint the filled contour every frame.
  D.opts.forEach((o, i) => {
    const r = routeArrays(D.byOpt[i], D.stride);
    traces.push({ type: "scatter", mode: "lines", name: D.labels[i], x: r.x, y: r.y, customdata: r.cd,
      line: { color: colorOf(i), width: 1.5, dash: dashOf(i) }, opacity: 0.45, showlegend: false,
      hovertemplate: `${D.labels[i]}<br>start %{customdata[0]}, step %{customdata[1]}<br>(%{x:.4g}, %{y:.4g}), f = %{customdata[2]:.4g}<extra></extra>` });
  });
  const dm = deadMarks(Infinity);
  traces.push({ type: "scatter", mode: "markers", name: "diverged", x: dm.x, y: dm.y, text: dm.text,
    marker: { symbol: "x-thin", size: 16, color: dm.color, line: { color: dm.color, width: 3 } },
    hovertemplate: "%{text}<extra></extra>", showlegend: false });
  const layout = {
    font: FONT, margin: { l: 46, r: 8, t: 8, b: 40 }, uirevision: SURF.key, hovermode: "closest",
    xaxis: { title: { text: "x" }, range: r.x, constrain: "domain", zeroline: false },
    yaxis: { title: { text: "y" }, range: r.y, zeroline: false },
    plot_bgcolor: "#ffffff", paper_bgcolor: "#ffffff", showlegend: false,
  };
  return { traces, layout };
}

function routeArrays(list, stride) {
  const x = [], y = [], cd = [];
  for (const t of list) {
    const n = t.x.length;
    for (let j = 0; j < n; j += stride) { x.push(t.x[j]); y.push(t.y[j]); cd.push([t.start + 1, j, t.loss[j]]); }
    if ((n - 1) % stride) { x.push(t.x[n - 1]); y.push(t.y[n - 1]); cd.push([t.start + 1, n - 1, t.loss[n - 1]]); }
    x.push(null); y.push(null); cd.push(null);
  }
  return { x, y, cd };
}

function surface3dFigure(k) {
  const z = surfaceZ();
  // WebGL cost grows with the grid: 3-D uses every n-th point (at most ~81 per side).
  const step = Math.max(1, Math.ceil(SURF.x.length / 81));
  const pick = (a) => a.filter((_, i) => i % step === 0 || i === a.length - 1);
  const traces = [{
    type: "surface", x: pick(SURF.x), y: pick(SURF.y), z: pick(z).map(pick), colorscale: SURFACE_SCALE, showscale: false, opacity: 0.9,
    contours: { z: { show: true, usecolormap: true, project: { z: false }, width: 1 } },
    hovertemplate: "x = %{x:.3f}<br>y = %{y:.3f}<extra></extra>", name: "f",
  }];
  D.opts.forEach((o, i) => {
    const color = colorOf(i);
    traces.push({ type: "scatter3d", mode: "lines", name: D.labels[i], ...pathArrays(D.byOpt[i], k, D.stride, true), line: { color, width: 6 }, hoverinfo: "skip", showlegend: false });
    const h = heads(D.byOpt[i], k, true);
    traces.push({ type: "scatter3d", mode: "markers", name: `${D.labels[i]} now`, x: h.x, y: h.y, z: h.z, customdata: D.byOpt[i].map((t) => t.start + 1),
      marker: { color, size: 5, line: { color: "#ffffff", width: 1 } }, hovertemplate: `${D.labels[i]}, start %{customdata}<extra></extra>`, showlegend: false });
  });
  const r = fnRange();
  const layout = {
    font: FONT, margin: { l: 0, r: 0, t: 0, b: 0 }, uirevision: SURF.key, showlegend: false,
    scene: {
      xaxis: { title: { text: "x" }, range: r.x }, yaxis: { title: { text: "y" }, range: r.y },
      zaxis: { title: { text: useLog() ? "log₁₀(1 + f − min f)" : "f" } },
      camera: { eye: { x: 1.5, y: -1.6, z: 1.1 } }, aspectmode: "manual", aspectratio: { x: 1, y: 1, z: 0.6 },
    },
  };
  return { traces, layout };
}

function lossFigure(k) {
  let pos = true, neg = false;
  for (const t of D.trajs) for (const v of t.loss) if (v !== null) { if (v < 0) neg = true; if (v <= 0) pos = pos && v === 0; }
  const logY = !neg;
  D.lossLog = logY;
  const traces = D.opts.map((o, i) => {
    const x = [], y = [], cd = [];
    for (const t of D.byOpt[i]) {
      const n = t.loss.length;
      for (let j = 0; j < n; j += D.stride) { x.push(j); y.push(logY && t.loss[j] === 0 ? null : t.loss[j]); cd.push(t.start + 1); }
      if ((n - 1) % D.stride) { x.push(n - 1); y.push(t.loss[n - 1]); cd.push(t.start + 1); }
      x.push(null); y.push(null); cd.push(null);
    }
    return { type: "scatter", mode: "lines", name: D.labels[i], x, y, customdata: cd, line: { color: colorOf(i), width: 2, dash: dashOf(i) },
      hovertemplate: `${D.labels[i]} · start %{customdata}<br>step %{x}<br>f = %{y:.4g}<extra></extra>` };
  });
  const layout = {
    font: FONT, margin: { l: 58, r: 10, t: 28, b: 40 }, hovermode: "closest",
    xaxis: { title: { text: "step" }, range: [0, Math.max(1, D.body.steps)], zeroline: false },
    yaxis: { title: { text: logY ? "f(x, y)  (log scale)" : "f(x, y)" }, type: logY ? "log" : "linear", exponentformat: logY ? "power" : "e", automargin: true },
    showlegend: true, legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 11 } },
    uirevision: "loss",
  };
  return { traces, layout };
}

function lrFigure(k) {
  const traces = [];
  let lo = Infinity, hi = 0;
  D.opts.forEach((o, i) => {
    const t = D.byOpt[i][0];
    if (!t) return;
    const x = [], y = [];
    const n = t.lr.length;
    const stride = Math.max(1, Math.ceil(n / 2000));
    for (let j = 0; j < n; j += stride) { x.push(j); y.push(t.lr[j]); }
    if ((n - 1) % stride) { x.push(n - 1); y.push(t.lr[n - 1]); }
    for (const v of y) if (v > 0) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    traces.push({ type: "scatter", mode: "lines", name: D.labels[i], x, y, line: { color: colorOf(i), width: 2, dash: dashOf(i) },
      hovertemplate: `${D.labels[i]}<br>step %{x}<br>γ = %{y:.4g}<extra></extra>`, showlegend: false });
  });
  const logY = hi / lo > 20;
  const layout = {
    font: FONT, margin: { l: 58, r: 10, t: 10, b: 40 }, hovermode: "closest",
    xaxis: { title: { text: "step" }, range: [0, Math.max(1, D.body.steps)], zeroline: false },
    yaxis: { title: { text: logY ? "learning rate γ (log)" : "learning rate γ" }, type: logY ? "log" : "linear", rangemode: logY ? undefined : "tozero", exponentformat: logY ? "power" : "e", automargin: true },
    uirevision: "lr",
  };
  return { traces, layout };
}

function drawAll() {
  const first = !player.n;
  const k = first ? 0 : Math.min(player.index, D.nFrames - 1);
  surfaceZ();
  const c = contourFigure(k);
  const l = lossFigure(k);
  const s = lrFigure(k);
  Promise.all([
    Plotly.react("contour", c.traces, c.layout, PLOT_CONFIG),
    // Small plots: no mode bar over the legend (drag still zooms; double-click resets).
    Plotly.react("loss", l.traces, l.layout, { ...PLOT_CONFIG, displayModeBar: false }),
    Plotly.react("lr", s.traces, s.layout, { ...PLOT_CONFIG, displayModeBar: false }),
  ]).then(() => {
    if (first) hookPlots();
    overlays.contour.sync();
    renderSummary();
    renderTables();
    drawTune();
    // A run of any length plays in about 8 s at 1× (never slower than 30 steps a second).
    player.fps = Math.max(30, D.nFrames / 8);
    player.setFrames(D.nFrames);
    document.body.dataset.ready = "1";
    draw3d();
  }).catch((e) => setStatus(`Could not draw the plots: ${e.message || e}`, true));
}

function draw3d() {
  if (S.view !== "3d" || !webgl() || !D || !SURF) return;
  const f = surface3dFigure(player.index);
  busy3d = true;
  Promise.resolve(Plotly.react("surface3d", f.traces, f.layout, PLOT_CONFIG))
    .catch((e) => setStatus(`Could not draw the 3-D view: ${e.message || e}`, true))
    .finally(() => { busy3d = false; });
}

// Each 3-D update re-renders the WebGL scene; on a slow GPU that takes longer than a frame.
// Keep one update in flight and skip to the newest step when it finishes.
let busy3d = false;
let want3d = null;

function update3d(k) {
  want3d = k;
  if (busy3d) return;
  const g3 = $("#surface3d");
  if (!D || !g3.data || g3.data.length !== 1 + 2 * D.opts.length) return;
  busy3d = true;
  const kk = want3d;
  want3d = null;
  const x3 = [], y3 = [], z3 = [], ids = [];
  D.opts.forEach((_, i) => {
    const p = pathArrays(D.byOpt[i], kk, D.stride, true);
    const h = heads(D.byOpt[i], kk, true);
    x3.push(p.x, h.x); y3.push(p.y, h.y); z3.push(p.z, h.z); ids.push(1 + 2 * i, 2 + 2 * i);
  });
  Promise.resolve(Plotly.restyle(g3, { x: x3, y: y3, z: z3 }, ids))
    .catch(() => {})
    .then(() => new Promise((r) => requestAnimationFrame(r)))
    .finally(() => {
      busy3d = false;
      if (want3d !== null) update3d(want3d);
    });
}

let frameBusy = false;
let pendingFrame = 0;
let lastDrawn = -1;
let lastData = null;

function onFrame(k) {
  // Draw at once, but at most once per animation frame (a dragged scrubber fires faster than
  // the screen refreshes); a step that arrives meanwhile is drawn on the next frame.
  pendingFrame = k;
  if (frameBusy) return;
  frameBusy = true;
  drawFrame(k);
  lastDrawn = k;
  lastData = D;
  requestAnimationFrame(() => {
    frameBusy = false;
    if (pendingFrame !== lastDrawn || lastData !== D) onFrame(pendingFrame);
  });
}

// ------------------------------------------------------------------ animation overlays
// Plotly redraws and repaints a whole plot for any change, and a filled contour is costly to
// paint. So the animated marks live outside Plotly: a canvas over the contour's plot area
// (travelled paths, current positions) and a thin line over the loss and lr plots (the step
// cursor). Both follow Plotly's axes and re-sync after every redraw, zoom or resize.

function plotArea(gd) {
  const fl = gd._fullLayout;
  if (!fl || !fl.xaxis || !fl.yaxis || !fl.xaxis._length) return null;
  const xa = fl.xaxis, ya = fl.yaxis;
  return {
    left: gd.offsetLeft + xa._offset, top: gd.offsetTop + ya._offset, width: xa._length, height: ya._length,
    px: (v) => xa.c2p(v), py: (v) => ya.c2p(v),
  };
}

class PathOverlay {
  constructor(gd) {
    this.gd = gd;
    this.canvas = el("canvas", { class: "plot-overlay", "aria-hidden": "true" });
    gd.parentElement.append(this.canvas);
    this.k = 0;
    this.area = null;
    gd.on("plotly_afterplot", () => { this.canvas.style.visibility = ""; this.sync(); this.draw(this.k); });
    // While the user pans or zooms, Plotly moves its own layer; hide ours until it settles.
    gd.on("plotly_relayouting", () => { this.canvas.style.visibility = "hidden"; });
  }

  sync() {
    const a = plotArea(this.gd);
    this.area = a;
    if (!a) return;
    const dpr = window.devicePixelRatio || 1;
    const c = this.canvas;
    Object.assign(c.style, { left: `${a.left}px`, top: `${a.top}px`, width: `${a.width}px`, height: `${a.height}px` });
    const w = Math.round(a.width * dpr), h = Math.round(a.height * dpr);
    if (c.width !== w || c.height !== h) { c.width = w; c.height = h; }
    this.dpr = dpr;
  }

  draw(k) {
    this.k = k;
    const a = this.area;
    const ctx = this.canvas.getContext("2d");
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    if (!a || !D) return;
    ctx.setTransform(this.dpr, 0, 0, this.dpr, 0, 0);
    ctx.lineJoin = "round";
    ctx.lineCap = "round";
    const { px, py } = a;
    D.opts.forEach((_, i) => {
      const color = colorOf(i);
      ctx.strokeStyle = color;
      ctx.lineWidth = 2.5;
      ctx.setLineDash(dashOf(i) === "dot" ? [2, 4] : []);
      ctx.beginPath();
      for (const t of D.byOpt[i]) {
        const end = Math.min(k, t.x.length - 1);
        let pen = false;
        const visit = (j) => {
          const x = t.x[j], y = t.y[j];
          if (x === null || y === null) { pen = false; return; }
          const X = px(x), Y = py(y);
          if (!Number.isFinite(X) || !Number.isFinite(Y)) { pen = false; return; }
          if (pen) ctx.lineTo(X, Y); else ctx.moveTo(X, Y);
          pen = true;
        };
        for (let j = 0; j <= end; j += D.stride) visit(j);
        if (end % D.stride) visit(end);
      }
      ctx.stroke();
      ctx.setLineDash([]);
      const h = heads(D.byOpt[i], k, false);
      ctx.fillStyle = color;
      ctx.strokeStyle = "#ffffff";
      ctx.lineWidth = 1.5;
      for (let s = 0; s < h.x.length; s++) {
        if (h.x[s] === null || h.y[s] === null) continue;
        ctx.beginPath();
        ctx.arc(px(h.x[s]), py(h.y[s]), 5.5, 0, 2 * Math.PI);
        ctx.fill();
        ctx.stroke();
      }
    });
    // For tests and assistive tech: where the first run is now, in data coordinates.
    const t = D.byOpt[0] && D.byOpt[0][0];
    if (t) {
      const j = Math.min(k, t.x.length - 1, t.good);
      this.gd.dataset.head = `${t.x[j]},${t.y[j]}`;
    }
    this.gd.dataset.frame = String(k);
  }
}

class CursorLine {
  constructor(gd) {
    this.gd = gd;
    this.line = el("div", { class: "cursor-line", "aria-hidden": "true" });
    gd.parentElement.append(this.line);
    this.k = 0;
    this.area = null;
    // Geometry is read once per redraw, never per frame (reading layout each frame forces reflow).
    gd.on("plotly_afterplot", () => { this.area = plotArea(gd); this.place(); this.draw(this.k); });
  }

  place() {
    const a = this.area;
    if (!a) return;
    Object.assign(this.line.style, { left: `${a.left}px`, top: `${a.top}px`, height: `${a.height}px` });
  }

  draw(k) {
    this.k = k;
    if (!this.area) { this.area = plotArea(this.gd); this.place(); }
    const a = this.area;
    if (!a) return;
    const x = a.px(k);
    const on = x >= 0 && x <= a.width;
    this.line.style.visibility = on ? "" : "hidden";
    this.line.style.transform = `translateX(${on ? x : 0}px)`;
  }
}

const overlays = {};

function drawFrame(k) {
  if (!D) return;
  if (overlays.contour) overlays.contour.draw(k);
  if (overlays.loss) overlays.loss.draw(k);
  if (overlays.lr) overlays.lr.draw(k);
  if (S.view === "3d") update3d(k);
  updateReadout(k);
}

function hookPlots() {
  const gd = $("#contour");
  gd.on("plotly_click", onContourClick);
  overlays.contour = new PathOverlay(gd);
  overlays.loss = new CursorLine($("#loss"));
  overlays.lr = new CursorLine($("#lr"));
}

let webglOk = null;
function webgl() {
  if (webglOk === null) {
    try {
      const c = document.createElement("canvas");
      webglOk = !!(c.getContext("webgl2") || c.getContext("webgl"));
    } catch {
      webglOk = false;
    }
  }
  return webglOk;
}

function setView(v) {
  S.view = v;
  const is3d = v === "3d";
  $("#contour-wrap").hidden = is3d;
  $("#surface3d").hidden = !is3d;
  $("#view-note").textContent = is3d ? "Drag to turn the surface; the paths ride just above it at height f." : "Click to add a start point; Shift-click to start over from one point.";
  for (const b of document.querySelectorAll("input[name=view]")) b.checked = b.value === v;
  if (is3d && !webgl()) {
    $("#surface3d").replaceChildren(el("p", { class: "note" }, "The 3-D view needs WebGL, which this browser has switched off. The contour view shows the same data."));
  } else if (is3d) {
    draw3d();
  } else if ($("#contour").data) {
    // A plot drawn while hidden has the wrong size: fit it to its box again.
    Plotly.Plots.resize("contour").catch(() => {});
  }
  writeState();
}

// ------------------------------------------------------------------ summary and tables

function runStatus(list) {
  const dead = list.filter((t) => t.diverged);
  if (!dead.length) return null;
  const t = dead.reduce((a, b) => (b.diverged_at < a.diverged_at ? b : a));
  // Why: f heading to −∞ means the surface has no bottom that way (a saddle); f growing means
  // the steps overshoot the valley further each time (lr above 2 / curvature).
  const last = t.loss[t.good];
  const reason = last !== null && last < 0
    ? "f fell below −10¹²: the surface has no minimum in that direction, so descent never stops"
    : "f grew past 10¹² (or became NaN): each step overshot the valley by more than the last, so the learning rate is too large for this curvature";
  return { n: dead.length, first: t.diverged_at, reason };
}

function renderSummary() {
  const tb = $("#summary tbody");
  tb.replaceChildren();
  const many = D.body.starts.length > 1;
  $("#summary caption").textContent = many ? `How each optimizer did (best of its ${D.body.starts.length} starts)` : "How each optimizer did";
  D.opts.forEach((o, i) => {
    const list = D.byOpt[i];
    let best = null;
    for (const t of list) {
      const v = t.loss[t.good];
      if (!t.diverged && v !== null && (best === null || v < best.loss[best.good])) best = t;
    }
    const st = runStatus(list);
    const status = st
      ? el("span", { class: "diverged" }, `Diverged at step ${st.first}${many ? ` (${st.n} of ${list.length} starts)` : ""}: ${st.reason}.`)
      : el("span", {}, "ran all steps");
    tb.append(el("tr", { "data-index": i },
      el("th", { scope: "row" }, el("span", { class: "swatch", style: `--c:${colorOf(i)}`, "aria-hidden": "true" }), ` ${D.labels[i]}`),
      el("td", { class: "now" }, "—"),
      el("td", {}, best ? short(best.loss[best.good]) : "—"),
      el("td", {}, best ? short(best.grad_norm[best.good]) : "—"),
      el("td", {}, String(Math.max(...list.map((t) => t.x.length - 1)))),
      el("td", { class: "status" }, status)));
  });
  updateReadout(player.index);
}

function updateReadout(k) {
  if (!D) return;
  $("#summary-now").textContent = `f at step ${k}`;
  const rows = $("#summary tbody").children;
  D.opts.forEach((o, i) => {
    let best = null;
    for (const t of D.byOpt[i]) {
      const j = Math.min(k, t.good);
      const v = t.loss[j];
      if (v !== null && (best === null || v < best)) best = v;
    }
    const cell = rows[i] && rows[i].querySelector(".now");
    if (cell) cell.textContent = short(best);
  });
  const live = $("#live-rule");
  const t = D.byOpt[0] && D.byOpt[0][0];
  if (live && t) {
    const j = Math.min(k, t.good);
    const dead = t.diverged && k > t.good ? ` — diverged at step ${t.diverged_at}` : "";
    live.textContent = `${D.labels[0]}, start 1, step ${j}: θ = (${short(t.x[j])}, ${short(t.y[j])}), f(θ) = ${short(t.loss[j])}, ‖∇f(θ)‖ = ${short(t.grad_norm[j])}, γ = ${short(t.lr[j])}${dead}`;
  }
}

function renderTables() {
  const tcols = ["optimizer", "start", "step", "x", "y", "f", "grad_norm", "lr"];
  dataTable($("#loss-data"), tcols, () => {
    const rows = [];
    for (const t of D.trajs) for (let j = 0; j < t.x.length; j++) {
      rows.push([D.labels[t.optimizer], t.start + 1, j, t.x[j], t.y[j], t.loss[j], t.grad_norm[j], t.lr[j]]);
    }
    return rows;
  }, { caption: "Trajectories", filename: "trajectories.csv" });
  const lcols = ["step", ...D.labels.map((l) => `lr: ${l}`)];
  dataTable($("#lr-data"), lcols, () => {
    const rows = [];
    for (let j = 0; j < D.nFrames; j++) rows.push([j, ...D.opts.map((_, i) => (D.byOpt[i][0] ? D.byOpt[i][0].lr[j] ?? null : null))]);
    return rows;
  }, { caption: "Learning rate per step", filename: "learning-rate.csv" });
  const s = SURF;
  dataTable($("#contour-data"), ["x", "y", "f"], () => {
    const rows = [];
    for (let i = 0; i < s.y.length; i++) for (let j = 0; j < s.x.length; j++) rows.push([s.x[j], s.y[i], s.z[i][j]]);
    return rows;
  }, { caption: "Surface grid", filename: "surface.csv" });
}

// ------------------------------------------------------------------ fair race: tuning curves

function drawTune() {
  const box = $("#tune-box");
  const T = D.tune;
  box.hidden = !T;
  if (!T) {
    if ($("#tune").data) Plotly.purge("tune");
    return;
  }
  let allPos = true;
  for (const c of T.curves) for (const v of c.score) if (v !== null && !(v > 0)) allPos = false;
  const traces = [];
  T.curves.forEach((c, i) => {
    const name = NICE_NAMES[D.opts[i].name] || D.opts[i].name;
    traces.push({ type: "scatter", mode: "lines+markers", name: `${i + 1}: ${name}`, x: T.lrs, y: c.score,
      customdata: c.diverged, line: { color: colorOf(i), width: 2, dash: dashOf(i) }, marker: { size: 5, color: colorOf(i) },
      hovertemplate: `${name}<br>γ = %{x:.3g}<br>score = %{y:.4g}<extra></extra>` });
    traces.push({ type: "scatter", mode: "markers", name: `${name} tuned`, x: [c.lr], y: [c.score[c.best]], showlegend: false,
      marker: { size: 13, color: colorOf(i), line: { color: "#ffffff", width: 2 } },
      hovertemplate: `${name}: tuned γ = %{x:.3g}<br>score = %{y:.4g}<extra></extra>` });
  });
  const crit = T.criterion === "final" ? "final f" : "mean f over the steps";
  const layout = {
    font: FONT, margin: { l: 62, r: 10, t: 28, b: 42 }, hovermode: "closest", uirevision: "tune",
    xaxis: { title: { text: "learning rate γ (log)" }, type: "log", exponentformat: "power" },
    yaxis: { title: { text: `score: ${crit}${allPos ? " (log)" : ""}` }, type: allPos ? "log" : "linear", exponentformat: allPos ? "power" : "e", automargin: true },
    showlegend: true, legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 11 } },
  };
  Plotly.react("tune", traces, layout, { ...PLOT_CONFIG, displayModeBar: false }).catch((e) => setStatus(`Could not draw the tuning plot: ${e.message || e}`, true));
  const list = $("#tuned-lrs");
  list.replaceChildren(...T.curves.map((c, i) => {
    const name = NICE_NAMES[D.opts[i].name] || D.opts[i].name;
    const dead = c.diverged.filter((v) => v > 0).length;
    return el("li", { "data-index": i },
      el("span", { class: "swatch", style: `--c:${colorOf(i)}`, "aria-hidden": "true" }),
      el("strong", {}, ` ${i + 1}: ${name}`), ` tuned γ = ${fmt(c.lr, 3)}`,
      el("span", { class: "note" }, ` (your slider: ${fmt(T.userLr[i], 3)}; diverged at ${dead} of ${T.lrs.length} γ)`));
  }));
  dataTable($("#tune-data"), ["optimizer", "lr", "score", "starts diverged"], () => {
    const rows = [];
    T.curves.forEach((c, i) => T.lrs.forEach((lr, g) => rows.push([`${i + 1}: ${D.opts[i].name}`, lr, c.score[g], c.diverged[g]])));
    return rows;
  }, { caption: "Tuning curves", filename: "tuning.csv" });
}

// ------------------------------------------------------------------ L-BFGS line search

async function fetchLineSearch() {
  const i = D.opts.findIndex((o) => o.name === "lbfgs");
  const box = $("#ls-box");
  if (i < 0) {
    box.hidden = true;
    LS = null;
    lsSlot.abort();
    return;
  }
  const body = {
    function: D.body.function, optimizer: { name: "lbfgs", ...D.opts[i].hp }, start: D.body.starts[0],
    steps: Math.min(D.body.steps, LS_STEPS_MAX), schedule: D.body.schedule, n_phi: 61, max_iters: 200,
  };
  try {
    const r = await lsSlot.post("/api/v1/optimize/line-search", body);
    LS = { ...r, opt: i };
    box.hidden = false;
    buildLsSlider();
    drawLineSearch();
  } catch (e) {
    if (isAbort(e)) return;
    box.hidden = false;
    $("#ls-info").textContent = `Could not trace L-BFGS: ${e.message || e}`;
  }
}

function buildLsSlider() {
  const K = LS.iterations.length;
  const fld = $("#ls-iter-field");
  if (!K) { fld.replaceChildren(); return; }
  if (S.ls_iter > K) S.ls_iter = K;
  ui.lsIter = sliderField({ id: "ls_iter", name: "ls_iter", label: `Iteration (1 – ${K}${LS.truncated ? ", the first ones" : ""})`,
    min: 1, max: Math.max(K, 2), integer: true, value: S.ls_iter, control: "ls_iter",
    description: "which L-BFGS iteration's line search to show" }, (v) => {
    S.ls_iter = Math.min(Math.max(1, Math.round(v)), K);
    writeState();
    drawLineSearch();
  });
  fld.replaceChildren(ui.lsIter.el);
  applyHide(fld, hidden);
}

const mark = (ok) => (ok ? "✓" : "✗");

function drawLineSearch() {
  if (!LS) return;
  const info = $("#ls-info");
  const K = LS.iterations.length;
  const label = D && D.labels[LS.opt] ? D.labels[LS.opt] : "L-BFGS";
  if (!K) {
    info.textContent = `${label} made no iteration: at the start the gradient is already below tolerance_grad.`;
    Plotly.react("lsplot", [], { font: FONT }, { ...PLOT_CONFIG, displayModeBar: false }).catch(() => {});
    return;
  }
  const k = Math.min(Math.max(S.ls_iter, 1), K) - 1;
  const it = LS.iterations[k];
  const tr = it.trials;
  const tmax = it.phi_t[it.phi_t.length - 1];
  const ok = tr.t.map((_, j) => tr.armijo[j] && tr.curvature[j]);
  const traces = [
    { type: "scatter", mode: "lines", name: "φ(t) = f(θ + t·d)", x: it.phi_t, y: it.phi, line: { color: "#1d2433", width: 2 },
      hovertemplate: "t = %{x:.4g}<br>φ(t) = %{y:.5g}<extra></extra>" },
    { type: "scatter", mode: "lines", name: "sufficient decrease: φ(0) + c₁·t·φ′(0)", x: [0, tmax],
      y: [it.f, it.f + LS.c1 * tmax * it.gtd], line: { color: PALETTE[1], width: 2, dash: "dash" }, hoverinfo: "skip" },
    { type: "scatter", mode: "markers+text", name: "trial steps (in order)", x: tr.t, y: tr.f,
      text: tr.t.map((_, j) => String(j + 1)), textposition: "top center", textfont: { size: 11 },
      customdata: tr.t.map((_, j) => [mark(tr.armijo[j]), mark(tr.curvature[j]), tr.gtd[j]]),
      marker: { size: 10, symbol: ok.map((v) => (v ? "circle" : "circle-open")), color: ok.map((v) => (v ? PALETTE[2] : PALETTE[3])), line: { width: 2 } },
      hovertemplate: "trial %{text}: t = %{x:.4g}<br>φ(t) = %{y:.5g}, φ′(t) = %{customdata[2]:.3g}<br>sufficient decrease %{customdata[0]}, curvature %{customdata[1]}<extra></extra>" },
  ];
  if (it.t !== null && it.f_t !== null) {
    traces.push({ type: "scatter", mode: "markers", name: "accepted t", x: [it.t], y: [it.f_t],
      marker: { size: 17, symbol: "star", color: PALETTE[2], line: { color: "#1d2433", width: 1 } },
      hovertemplate: "accepted t = %{x:.4g}<br>φ(t) = %{y:.5g}<extra></extra>" });
  }
  // φ can be huge far along d (a long first trial): keep the view near φ(0) and the trials.
  const ys = [...tr.f, it.f, it.f_t].filter((v) => v !== null && Number.isFinite(v));
  const lo = Math.min(...ys), hi = Math.max(...ys);
  const pad = Math.max((hi - lo) * 0.12, Math.abs(hi) * 1e-9, 1e-12);
  const layout = {
    font: FONT, margin: { l: 62, r: 10, t: 28, b: 42 }, hovermode: "closest", uirevision: `ls-${k}`,
    xaxis: { title: { text: "step size t along d" }, range: [0, tmax], zeroline: false },
    yaxis: { title: { text: "φ(t)" }, range: [lo - pad, hi + pad], automargin: true, exponentformat: "e" },
    showlegend: true, legend: { orientation: "h", x: 0, y: 1.02, yanchor: "bottom", font: { size: 11 } },
  };
  Plotly.react("lsplot", traces, layout, { ...PLOT_CONFIG, displayModeBar: false }).catch((e) => setStatus(`Could not draw the line search: ${e.message || e}`, true));
  const tried = tr.t.map((t) => fmt(t, 3)).join(", ");
  const how = LS.line_search
    ? `tried t = ${tried || "—"}; accepted t = ${short(it.t)}`
    : `no line search (line_search_fn = none): a fixed step t = ${short(it.t)}${tr.t.length ? "" : ", not evaluated (the step's last iteration)"}`;
  const conds = it.f_t === null ? "" : ` At the accepted t: sufficient decrease ${mark(it.armijo)}, curvature ${mark(it.curvature)}.`;
  info.textContent = `${label}, start 1 — iteration ${k + 1} of ${K}${LS.truncated ? "+" : ""} (in optimizer step ${it.step + 1}): `
    + `from θ = (${short(it.x[0])}, ${short(it.x[1])}) along d = (${short(it.d[0])}, ${short(it.d[1])}), φ(0) = ${short(it.f)}, φ′(0) = ${short(it.gtd)}; ${how}.${conds}`;
  dataTable($("#ls-data"), ["trial", "t", "phi(t)", "phi'(t)", "sufficient decrease", "curvature"],
    () => tr.t.map((t, j) => [j + 1, t, tr.f[j], tr.gtd[j], tr.armijo[j], tr.curvature[j]]),
    { caption: `Line-search trials of iteration ${k + 1}`, filename: `line-search-${k + 1}.csv` });
}

// ------------------------------------------------------------------ boot

async function boot() {
  try {
    CAT = await getJSON("/api/v1/catalog");
  } catch (e) {
    setStatus(`Could not load the catalog: ${e.message}`, true);
    return;
  }
  for (const f of CAT.functions) FN[f.name] = f;
  for (const o of CAT.optimizers) OPT[o.name] = o;
  for (const s of CAT.schedules) SCHED[s.name] = s;
  readState();
  player = new Player($("#player"), { onFrame, fps: 60, label: "Step" });
  buildFunctionControls();
  renderRangeInputs();
  buildStepsAndSchedule();
  renderCards();
  buildFair();
  buildStarts();
  $("#add-opt").addEventListener("click", addOptimizer);
  for (const b of document.querySelectorAll("input[name=view]")) b.addEventListener("change", () => b.checked && setView(b.value));
  ui.levels = $("#levels");
  ui.levels.value = S.levels;
  ui.levels.addEventListener("change", () => { S.levels = ui.levels.value; if (SURF) SURF.transformed = null; writeState(); if (D && SURF) drawAll(); });
  $("#range-reset").addEventListener("click", () => { S.xr = S.yr = null; renderRangeInputs(); recompute(); });
  hookCopyLink();
  applyHide(document.querySelector(".lab-grid"), hidden);
  // A section whose every control is hidden by the preset goes too (no orphan heading).
  for (const sec of document.querySelectorAll(".ctl-group")) {
    const ctl = [...sec.querySelectorAll("[data-control]")];
    if (ctl.length && ctl.every((e) => e.hidden || e.closest("[hidden]"))) sec.hidden = true;
  }
  setView(S.view);
  if (S.fn === "custom") {
    $("#expression").value = S.expression;
    checkExpression.flush();
  } else {
    compute();
  }
}

boot();
