// Small helpers every lab shares: URL state, teacher presets (hide=), labelled controls built
// from catalog bounds, and plot data as a table / CSV.
//
// URL state uses the API's request-field names (function, steps, opt0_lr, ...), so a link
// reproduces the view. `?hide=a,b` hides the controls whose data-control names a or b.

/** Plotly config for every lab: responsive, and no button that would reach outside the server
 *  ("Share chart…" uploads to Plotly Cloud; the logo links to plotly.com). */
export const PLOT_CONFIG = {
  responsive: true,
  displaylogo: false,
  showSendToCloud: false,
  showEditInChartStudio: false,
  modeBarButtonsToRemove: ["sendChartToCloud", "sendDataToCloud", "editInChartStudio", "select2d", "lasso2d"],
};

let uid = 0;
const nextId = (p) => `${p}-${++uid}`;

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v == null) continue;
    if (k === "class") e.className = v;
    else if (k === "dataset") Object.assign(e.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c == null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

export function debounce(fn, ms) {
  let t = 0;
  const d = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
  d.cancel = () => clearTimeout(t);
  d.flush = (...args) => {
    clearTimeout(t);
    fn(...args);
  };
  return d;
}

// ---------------------------------------------------------------- numbers

/** Compact, round-trippable-enough text for a number: 6 significant digits, no trailing zeros. */
export function fmt(v, digits = 6) {
  if (v === null || v === undefined || Number.isNaN(v)) return "";
  if (typeof v !== "number") return String(v);
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e6 || a < 1e-4) return v.toExponential(Math.max(0, digits - 1)).replace(/\.?0+e/, "e").replace("e+", "e");
  return String(Number(v.toPrecision(digits)));
}

/** Short human text for a number (tables, readouts): 4 significant digits. */
export function short(v) {
  if (v === null || v === undefined) return "—";
  return fmt(v, 4);
}

export function parseNumber(text) {
  if (typeof text === "number") return text;
  const s = String(text ?? "").trim().toLowerCase();
  if (s === "") return NaN;
  if (s === "inf" || s === "+inf" || s === "infinity") return Infinity;
  if (s === "-inf" || s === "-infinity") return -Infinity;
  // Number("") is 0 and Number("0x10") is 16: accept plain decimals / exponents only.
  if (!/^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/.test(s)) return NaN;
  return Number(s);
}

/** Why v is outside a catalog bound, or "" when it is inside. */
export function boundError(v, { min = null, max = null, exclusive_min = false, exclusive_max = false, integer = false } = {}) {
  if (!Number.isFinite(v)) return "enter a number";
  if (integer && !Number.isInteger(v)) return "enter a whole number";
  if (min != null && (exclusive_min ? v <= min : v < min)) return `must be ${exclusive_min ? ">" : "≥"} ${fmt(min)}`;
  if (max != null && (exclusive_max ? v >= max : v > max)) return `must be ${exclusive_max ? "<" : "≤"} ${fmt(max)}`;
  return "";
}

// ---------------------------------------------------------------- URL state

/** The current query string as URLSearchParams. */
export function readQuery(search = location.search) {
  return new URLSearchParams(search);
}

/** Replaces the query string with `entries` ([[name, value], ...] or an object), dropping
 *  null / undefined / "" values; keeps hide= so a teacher preset survives interaction. */
export function writeQuery(entries, { keep = ["hide"] } = {}) {
  const cur = readQuery();
  const q = new URLSearchParams();
  const list = Array.isArray(entries) ? entries : Object.entries(entries);
  for (const [k, v] of list) {
    if (v === null || v === undefined || v === "") continue;
    q.set(k, typeof v === "number" ? fmt(v, 8) : Array.isArray(v) ? v.map((x) => (typeof x === "number" ? fmt(x, 8) : String(x))).join(",") : String(v));
  }
  for (const k of keep) if (cur.has(k) && !q.has(k)) q.set(k, cur.get(k));
  // Commas, semicolons, colons and parentheses read better unescaped and are legal in a query.
  const qs = q.toString().replace(/%2C/gi, ",").replace(/%3B/gi, ";").replace(/%3A/gi, ":").replace(/%28/gi, "(").replace(/%29/gi, ")");
  const url = location.pathname + (qs ? `?${qs}` : "") + location.hash;
  if (url !== location.pathname + location.search + location.hash) history.replaceState(history.state, "", url);
  return url;
}

/** A number from the query (or `fallback` when missing / not a number). */
export function qNumber(q, name, fallback) {
  if (!q.has(name)) return fallback;
  const v = parseNumber(q.get(name));
  return Number.isNaN(v) ? fallback : v;
}

/** "x,y;x,y" → [[x, y], ...]; invalid pairs are skipped. */
export function parsePairs(text) {
  const out = [];
  for (const part of String(text || "").split(/[;\n]+/)) {
    const m = part.trim().replace(/[()[\]]/g, "").split(/[,\s]+/).filter(Boolean);
    if (m.length !== 2) continue;
    const x = parseNumber(m[0]);
    const y = parseNumber(m[1]);
    if (Number.isFinite(x) && Number.isFinite(y)) out.push([x, y]);
  }
  return out;
}

export function formatPairs(pairs, sep = ";") {
  return pairs.map(([x, y]) => `${fmt(x, 6)},${fmt(y, 6)}`).join(sep);
}

// ---------------------------------------------------------------- hide= presets

/** The set of control names listed in ?hide=a,b,c. */
export function hiddenSet(q = readQuery()) {
  return new Set((q.get("hide") || "").split(",").map((s) => s.trim()).filter(Boolean));
}

/** Hides every [data-control] element under root whose names (space-separated) meet `hidden`. */
export function applyHide(root, hidden) {
  if (!hidden || !hidden.size) return;
  for (const e of root.querySelectorAll("[data-control]")) {
    const names = e.dataset.control.split(/\s+/);
    if (names.some((n) => hidden.has(n))) {
      e.hidden = true;
      e.classList.add("preset-hidden");
    }
  }
}

// ---------------------------------------------------------------- labelled controls

const LOG_STEPS_PER_DECADE = 20; // each arrow press multiplies by 10^(1/20) ≈ 1.12

function roundSig(v, d = 3) {
  return v === 0 ? 0 : Number(v.toPrecision(d));
}

/**
 * A labelled slider with a number box, both editing one value, bounds from the catalog.
 * Returns { el, range, number, value (get/set), setError(msg) }. onChange(v) fires on every
 * valid edit (dragging fires continuously). Invalid typing is shown inline, never sent.
 *
 * spec: { name, label, min, max, exclusive_min, exclusive_max, log, integer, step, value,
 *         description, control (data-control names), unit }
 */
export function sliderField(spec, onChange) {
  const id = spec.id || nextId(spec.name || "f");
  const integer = !!spec.integer;
  const log = !!spec.log;
  const bounds = { min: spec.min ?? null, max: spec.max ?? null, exclusive_min: !!spec.exclusive_min, exclusive_max: !!spec.exclusive_max, integer };
  const nullable = !!spec.nullable; // blank box = null = "not set" (the API's own default)
  const dflt = spec.value ?? spec.default ?? (nullable ? null : 0);
  const rest = dflt ?? (integer ? Math.round(((spec.min ?? 0) + (spec.max ?? 100)) / 2) : 0); // slider position when null
  // Slider span: the catalog bounds where finite, else around the default.
  let hi = bounds.max != null ? bounds.max : log ? Math.max(Math.abs(rest) * 1000, 1) : Math.max(Math.abs(rest) * 10, 10);
  let lo = bounds.min != null ? bounds.min : log ? hi * 1e-7 : -hi;
  if (spec.slider_min != null) lo = spec.slider_min;
  if (spec.slider_max != null) hi = spec.slider_max;
  // A log slider cannot reach 0: start a little below the default, or 7 decades under the top.
  if (log && lo <= 0) lo = rest > 0 ? Math.min(rest / 10, hi * 1e-6) : hi * 1e-7;
  const lgLo = log ? Math.log10(lo) : 0;
  const lgHi = log ? Math.log10(hi) : 0;
  const nLog = log ? Math.max(1, Math.round((lgHi - lgLo) * LOG_STEPS_PER_DECADE)) : 0;
  const step = spec.step ?? (integer ? 1 : niceStep((hi - lo) / 1000));
  const toPos = (v) => (log ? Math.round(((Math.log10(Math.max(v, lo)) - lgLo) / (lgHi - lgLo)) * nLog) : v);
  const fromPos = (p) => {
    if (!log) return integer ? Math.round(p) : p;
    const v = roundSig(10 ** (lgLo + (p / nLog) * (lgHi - lgLo)), 3);
    return integer ? Math.max(1, Math.round(v)) : v;
  };

  const errId = `${id}-err`;
  const descId = spec.description ? `${id}-desc` : null;
  const label = el("label", { for: id }, spec.label ?? spec.name);
  const range = el("input", {
    type: "range", id: `${id}-range`, tabindex: spec.range_tabindex,
    min: log ? 0 : lo, max: log ? nLog : hi, step: log ? 1 : step,
    "aria-label": `${spec.label ?? spec.name} slider${log ? " (log scale)" : ""}`,
  });
  const number = el("input", {
    type: "number", id, name: spec.name, inputmode: integer ? "numeric" : "decimal",
    min: bounds.min ?? undefined, max: bounds.max ?? undefined, step: integer ? 1 : "any", placeholder: spec.placeholder,
    "aria-describedby": [descId, errId].filter(Boolean).join(" "),
  });
  const err = el("span", { class: "field-error", id: errId, "aria-live": "polite" });
  const wrap = el("div", { class: "field slider-field", "data-control": spec.control || spec.name },
    label,
    el("div", { class: "row" }, range, number),
    descId ? el("span", { class: "sr-only", id: descId }, spec.description) : null,
    err);
  if (spec.description) label.title = spec.description;

  let value = dflt;
  const show = (v, { skipNumber = false } = {}) => {
    range.value = String(toPos(v ?? rest));
    range.setAttribute("aria-valuetext", v === null ? spec.placeholder || "not set" : fmt(v, 4));
    if (!skipNumber) number.value = v === null ? "" : fmt(v, 6);
  };
  const setError = (msg) => {
    err.textContent = msg || "";
    number.setAttribute("aria-invalid", msg ? "true" : "false");
    wrap.classList.toggle("invalid", !!msg);
  };
  const commit = (v, opts) => {
    value = v;
    setError("");
    show(v, opts);
    onChange && onChange(v);
  };
  range.addEventListener("input", () => commit(fromPos(Number(range.value))));
  number.addEventListener("input", () => {
    if (nullable && number.value.trim() === "") { commit(null, { skipNumber: true }); return; }
    const v = parseNumber(number.value);
    const e = Number.isNaN(v) ? (number.value.trim() === "" ? "enter a number" : "enter a number") : boundError(v, bounds);
    if (e) setError(`${spec.label ?? spec.name} ${e}`);
    else commit(v, { skipNumber: true });
  });
  number.addEventListener("change", () => {
    // On blur / Enter an invalid entry snaps back to the last good value.
    if (wrap.classList.contains("invalid")) { setError(""); show(value); }
  });
  if (log) {
    // Arrow keys in a log-scaled box move by ratio, not by a fixed step.
    number.addEventListener("keydown", (e) => {
      if (e.key !== "ArrowUp" && e.key !== "ArrowDown") return;
      e.preventDefault();
      const cur = Number.isFinite(value) && value > 0 ? value : lo;
      let v = roundSig(cur * 10 ** ((e.key === "ArrowUp" ? 1 : -1) / LOG_STEPS_PER_DECADE), 3);
      if (integer) v = Math.max(1, Math.round(v) === Math.round(cur) ? Math.round(cur) + (e.key === "ArrowUp" ? 1 : -1) : Math.round(v));
      if (boundError(v, bounds)) return;
      commit(v);
    });
  }
  show(value);
  return {
    el: wrap, range, number, setError,
    get value() { return value; },
    set value(v) { value = v; setError(""); show(v); },
  };
}

function niceStep(raw) {
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const p = 10 ** Math.floor(Math.log10(raw));
  return Number(p.toPrecision(1));
}

/** A labelled checkbox. */
export function checkboxField(spec, onChange) {
  const id = spec.id || nextId(spec.name || "c");
  const box = el("input", { type: "checkbox", id, name: spec.name });
  box.checked = !!(spec.value ?? spec.default);
  box.addEventListener("change", () => onChange && onChange(box.checked));
  const wrap = el("div", { class: "field check-field", "data-control": spec.control || spec.name },
    el("label", { for: id, title: spec.description || null }, box, " ", spec.label ?? spec.name));
  return { el: wrap, input: box, get value() { return box.checked; }, set value(v) { box.checked = !!v; } };
}

/** A labelled select; options [{value, label}] (value null is sent as the text "none"). */
export function selectField(spec, onChange) {
  const id = spec.id || nextId(spec.name || "s");
  const sel = el("select", { id, name: spec.name });
  for (const o of spec.options) {
    const opt = el("option", { value: o.value === null ? "none" : String(o.value) }, o.label ?? String(o.value ?? "none"));
    sel.append(opt);
  }
  const enc = (v) => (v === null || v === undefined ? "none" : String(v));
  sel.value = enc(spec.value ?? spec.default);
  const dec = (s) => {
    const o = spec.options.find((x) => enc(x.value) === s);
    return o ? o.value : s;
  };
  sel.addEventListener("change", () => onChange && onChange(dec(sel.value)));
  const wrap = el("div", { class: "field select-field", "data-control": spec.control || spec.name },
    el("label", { for: id, title: spec.description || null }, spec.label ?? spec.name), sel);
  return { el: wrap, select: sel, get value() { return dec(sel.value); }, set value(v) { sel.value = enc(v); } };
}

// ---------------------------------------------------------------- data as table / CSV

function csvCell(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : v > 0 ? "inf" : v < 0 ? "-inf" : "nan";
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCSV(columns, rows) {
  const lines = [columns.map(csvCell).join(",")];
  for (const r of rows) lines.push(r.map(csvCell).join(","));
  return lines.join("\n") + "\n";
}

/** Saves rows as a CSV file through a blob: link (nothing leaves the machine). */
export function downloadCSV(filename, columns, rows) {
  const blob = new Blob([toCSV(columns, rows)], { type: "text/csv" });
  const url = URL.createObjectURL(blob);
  const a = el("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/**
 * A plot's data as a <details> table with a CSV download button, built inside `container`.
 * `rows` is an array of arrays, or a function returning one (called only when needed, so a
 * plot that redraws on every slider move does not rebuild a hidden table).
 * Calling it again on the same container updates the data. Returns { update(columns, rows) }.
 */
export function dataTable(container, columns, rows, { caption = "Plot data", filename = "data.csv", maxRows = 400 } = {}) {
  if (!container._dataTable) {
    const details = el("details", { class: "datatable" });
    const summary = el("summary", {}, `${caption}: table and CSV`);
    const btn = el("button", { type: "button", class: "csv" }, "Download CSV");
    const note = el("p", { class: "note" });
    const scroller = el("div", { class: "table-scroll", tabindex: "0", role: "region", "aria-label": `${caption} table` });
    details.append(summary, el("div", { class: "datatable-bar" }, btn, note), scroller);
    container.replaceChildren(details);
    const st = { details, btn, note, scroller, columns: [], rows: [], caption, filename, maxRows };
    const getRows = () => (typeof st.rows === "function" ? (st.rows = st.rows()) : st.rows);
    st.render = () => {
      if (!details.open) return;
      const all = getRows();
      const shown = all.length > st.maxRows ? all.slice(0, st.maxRows) : all;
      const table = el("table", { class: "data" },
        el("caption", { class: "sr-only" }, st.caption),
        el("thead", {}, el("tr", {}, st.columns.map((c) => el("th", { scope: "col" }, c)))),
        el("tbody", {}, shown.map((r) => el("tr", {}, r.map((v) => el("td", {}, typeof v === "number" ? fmt(v, 6) : v ?? "—"))))));
      st.scroller.replaceChildren(table);
      st.note.textContent = all.length > shown.length ? `Showing the first ${shown.length} of ${all.length} rows; the CSV has them all.` : `${all.length} rows.`;
    };
    details.addEventListener("toggle", () => st.render());
    btn.addEventListener("click", () => downloadCSV(st.filename, st.columns, getRows()));
    container._dataTable = st;
  }
  const st = container._dataTable;
  const update = (cols, rws, opts = {}) => {
    st.columns = cols;
    st.rows = rws;
    if (opts.filename) st.filename = opts.filename;
    st.render();
  };
  update(columns, rows, { filename });
  return { update };
}
