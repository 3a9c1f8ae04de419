// Softmax, temperature and distillation: logits → softmax(z/T), its entropy over T, a teacher's
// soft targets against a one-hot label and the student's T²-scaled KL with its gradient.
// Data: POST /api/v1/information/softmax. URL state: logits, temperature, student_logits, label.

import { applyHide, dataTable, hiddenSet, qNumber, readQuery, selectField, sliderField, writeQuery } from "./controls.js";
import { $, C, PLOT_CONFIG, Plotly, fetcher, hookCopyLink, layout, num, statItem } from "./lab-common.js";

const DEF_T = [5, 2, 1, -1, -2];
const DEF_S = [1, 0.5, 0, 0, 0];
const S = { logits: DEF_T.slice(), temperature: 4, student_logits: DEF_S.slice(), label: 0 };
const ui = {};

function parseList(text, n) {
  const v = String(text || "").split(/[,\s]+/).filter(Boolean).map(Number);
  if (v.length < 2 || v.length > 20) return { error: `give 2 to 20 numbers; got ${v.length}` };
  if (!v.every((x) => Number.isFinite(x) && Math.abs(x) <= 1e4)) return { error: "every logit must be a number within ±10000" };
  if (n && v.length !== n) return { error: `give ${n} numbers, one per class; got ${v.length}` };
  return { v };
}

function readState() {
  const q = readQuery();
  const t = parseList(q.get("logits") ?? DEF_T.join(","));
  S.logits = t.v || DEF_T.slice();
  const s = parseList(q.get("student_logits") ?? "", S.logits.length);
  S.student_logits = s.v || Array.from({ length: S.logits.length }, (_, i) => DEF_S[i] ?? 0);
  const T = qNumber(q, "temperature", 4);
  S.temperature = T >= 0.01 && T <= 100 ? T : 4;
  const l = Math.round(qNumber(q, "label", 0));
  S.label = l >= 0 && l < S.logits.length ? l : 0;
  return q;
}

const writeState = () => writeQuery([["logits", S.logits], ["temperature", S.temperature], ["student_logits", S.student_logits], ["label", S.label]]);

function draw(D) {
  const x = D.probs.map((_, i) => `class ${i}`);
  const T = S.temperature;
  const bar = (name, y, color) => ({ type: "bar", name, x, y, marker: { color }, hovertemplate: `${name}: %{y:.4f}<extra></extra>` });
  const legend = { showlegend: true, legend: { orientation: "h", y: 1.12 } };
  Plotly.react($("#probs"), [bar(`T = ${num(T, 3)}`, D.probs, C.blue), bar("T = 1", D.probs_t1, C.grey)],
    layout({ ...legend, barmode: "group", yaxis: { title: { text: "probability" }, range: [0, 1] } }), PLOT_CONFIG);
  Plotly.react($("#entropy-t"), [
    { type: "scatter", mode: "lines", x: D.temperatures, y: D.entropy_curve, line: { color: C.blue, width: 2.5 }, hovertemplate: "T = %{x:.3g}: H = %{y:.4f} bits<extra></extra>" },
    { type: "scatter", mode: "lines", x: [0.01, 100], y: [D.max_entropy_bits, D.max_entropy_bits], line: { color: C.grey, dash: "dash" }, hovertemplate: "log₂ K = %{y:.4f}<extra></extra>" },
    { type: "scatter", mode: "markers", x: [T], y: [D.entropy_bits], marker: { color: C.vermilion, size: 11 }, hovertemplate: "now: H = %{y:.4f} bits<extra></extra>" },
  ], layout({ xaxis: { type: "log", title: { text: "temperature T" } }, yaxis: { title: { text: "H, bits" }, range: [0, D.max_entropy_bits * 1.08] } }), PLOT_CONFIG);
  const onehot = x.map((_, i) => (i === S.label ? 1 : 0));
  Plotly.react($("#targets"), [bar("one-hot label (0 bits)", onehot, C.grey), bar(`teacher soft, T = ${num(T, 3)}`, D.probs, C.blue), bar(`student soft, T = ${num(T, 3)}`, D.student_soft, C.orange)],
    layout({ ...legend, barmode: "group", yaxis: { title: { text: "probability" }, range: [0, 1] } }), PLOT_CONFIG);
  Plotly.react($("#grads"), [bar("∂ hard CE / ∂s", D.grad_hard, C.grey), bar("∂ T²·KL / ∂s", D.grad_soft, C.blue)],
    layout({ ...legend, barmode: "group", yaxis: { title: { text: "gradient in student logit" }, zeroline: true } }), PLOT_CONFIG);
  $("#probs-title").textContent = `softmax(z / ${num(T, 3)}) against softmax(z): entropy ${num(D.entropy_bits)} bits of at most ${num(D.max_entropy_bits)}`;
  $("#stats").replaceChildren(statItem("H(teacher_T), bits", num(D.entropy_bits)), statItem("KL(teacher_T‖student_T), nats", num(D.kl_soft)),
    statItem("T² · KL (distillation loss)", num(D.distill_loss)), statItem("hard CE −ln s_label, nats", num(D.hard_ce)));
  $("#entropy-t").dataset.h = String(D.entropy_bits);
  dataTable($("#probs-data"), ["class", "logit", `softmax(z/T)`, "softmax(z)", "student soft", "grad soft", "grad hard"],
    () => x.map((c, i) => [c, S.logits[i], D.probs[i], D.probs_t1[i], D.student_soft[i], D.grad_soft[i], D.grad_hard[i]]), { caption: "Softmax", filename: "softmax.csv" });
}

const fetch = fetcher(draw);
function compute() {
  writeState();
  fetch.run("/api/v1/information/softmax", { logits: S.logits, temperature: S.temperature, student_logits: S.student_logits, label: S.label });
}

function buildLabel() {
  ui.label = selectField({ name: "label", label: "True class (hard label)", value: S.label, options: S.logits.map((_, i) => ({ value: i, label: `class ${i}` })) },
    (v) => { S.label = Number(v); compute(); });
  $("#label-field").replaceChildren(ui.label.el);
}

function hookText(id, errId, onOk, n) {
  const box = $(id);
  box.addEventListener("input", () => {
    const p = parseList(box.value, n && n());
    $(errId).textContent = p.error || "";
    box.setAttribute("aria-invalid", p.error ? "true" : "false");
    if (!p.error) onOk(p.v);
  });
}

function boot() {
  const q = readState();
  hookCopyLink();
  $("#logits").value = S.logits.join(", ");
  $("#student").value = S.student_logits.join(", ");
  hookText("#logits", "#logits-error", (v) => {
    S.logits = v;
    if (S.student_logits.length !== v.length) {
      S.student_logits = v.map((_, i) => S.student_logits[i] ?? 0);
      $("#student").value = S.student_logits.join(", ");
    }
    if (S.label >= v.length) S.label = 0;
    buildLabel();
    compute();
  });
  hookText("#student", "#student-error", (v) => { S.student_logits = v; compute(); }, () => S.logits.length);
  ui.t = sliderField({ name: "temperature", label: "Temperature T", min: 0.01, max: 100, log: true, value: S.temperature }, (v) => { S.temperature = v; compute(); });
  $("#t-field").append(ui.t.el);
  buildLabel();
  applyHide(document.querySelector(".lab-grid"), hiddenSet(q));
  compute();
}

boot();
