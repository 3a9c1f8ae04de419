// Shared pieces of the probability labs: plot style and fetch loop (from the linear-algebra
// helpers), URL-backed slider groups, and stat readouts. Each lab stays one ES module.

import { getJSON } from "./api.js";
import { el, qNumber, readQuery, sliderField, boundError, writeQuery, applyHide, hiddenSet } from "./controls.js";
import { $, C, PLOT_CONFIG, Plotly, fetcher, hookCopyLink, layout, num, setStatus } from "./lab-common.js";

export { $, C, PLOT_CONFIG, Plotly, fetcher, hookCopyLink, layout, num, setStatus, el, readQuery, writeQuery };

/** Sliders for `specs` ([{name, label, min, max, integer, log, value}]) into `container`; the
 *  starting values come from the URL when valid there. S[name] holds each value; onChange() fires. */
export function sliders(container, specs, S, onChange, q = readQuery()) {
  const ui = {};
  for (const sp of specs) {
    const v = qNumber(q, sp.name, NaN);
    const bounds = { min: sp.min, max: sp.max, integer: !!sp.integer };
    S[sp.name] = Number.isFinite(v) && !boundError(v, bounds) ? v : (S[sp.name] ?? sp.value);
    ui[sp.name] = sliderField({ ...sp, value: S[sp.name] }, (x) => { S[sp.name] = x; onChange(sp.name); });
    container.append(ui[sp.name].el);
  }
  return ui;
}

/** A <dl> of [label, value] pairs (numbers shown with 4 significant digits). */
export function stats(container, pairs) {
  container.replaceChildren(...pairs.map(([t, v]) => el("div", {}, el("dt", {}, t), el("dd", {}, typeof v === "number" ? num(v) : v))));
}

/** Hide controls listed in ?hide= and wire the copy-link button. */
export function finishBoot(root = document.querySelector(".lab-grid")) {
  hookCopyLink();
  applyHide(root, hiddenSet(readQuery()));
}

/**
 * Fetches the distribution families into FAM (by name), their default parameters into S.params,
 * and an <option> each into the <select> `sel`; then takes S.family and its parameters from the
 * URL query `q` where valid (`key(name)` is a parameter's query name; `skip(f)` leaves a family
 * out). Returns false, with the error on the status line, when the families cannot be fetched.
 */
export async function loadFamilies(sel, FAM, S, q, { key = (name) => name, skip = () => false } = {}) {
  let fams;
  try {
    fams = (await getJSON("/api/v1/probability/families")).families;
  } catch (e) {
    setStatus(e.message, true);
    return false;
  }
  for (const f of fams) {
    if (skip(f)) continue;
    FAM[f.name] = f;
    S.params[f.name] = Object.fromEntries(f.params.map((p) => [p.name, p.default]));
    sel.append(el("option", { value: f.name }, f.title));
  }
  if (FAM[q.get("family")]) S.family = q.get("family");
  for (const p of FAM[S.family].params) {
    const v = Number(q.get(key(p.name)));
    if (q.has(key(p.name)) && Number.isFinite(v) && v >= p.min && v <= p.max && (!p.integer || Number.isInteger(v))) S.params[S.family][p.name] = v;
  }
  return true;
}

/** Evenly spaced bin counts → densities (so the histogram sits on the pdf). */
export function histogram(values, lo, hi, nBins) {
  const w = (hi - lo) / nBins;
  const counts = new Float64Array(nBins);
  for (const v of values) {
    const i = Math.floor((v - lo) / w);
    if (i >= 0 && i < nBins) counts[i] += 1;
    else if (v === hi) counts[nBins - 1] += 1;
  }
  const x = Array.from({ length: nBins }, (_, i) => lo + (i + 0.5) * w);
  const y = Array.from(counts, (c) => c / (values.length * w));
  return { x, y, w };
}

/** The normal density N(m, s²) at x. */
export const normalPdf = (x, m, s) => Math.exp(-0.5 * ((x - m) / s) ** 2) / (s * Math.sqrt(2 * Math.PI));
