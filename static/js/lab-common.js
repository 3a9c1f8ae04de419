// Shared pieces of the lab pages: plot style and colours, number text, the status line, the
// copy-link button, and a "fetch newest, draw, mark ready" loop. Each lab stays one ES module of
// its own and imports what it uses from here (and from controls.js, api.js, player.js).

import { isAbort, latest } from "./api.js";
import { PLOT_CONFIG, debounce, fmt } from "./controls.js";

export { PLOT_CONFIG };
export const Plotly = window.Plotly;
export const $ = (s) => document.querySelector(s);

// Okabe–Ito, colour-blind safe.
export const C = {
  blue: "#0072B2", orange: "#E69F00", green: "#009E73", vermilion: "#D55E00",
  purple: "#CC79A7", sky: "#56B4E9", black: "#000000", yellow: "#F0E442", grey: "#8a93a3",
};
export const METHOD_COLORS = [C.vermilion, C.blue, C.green, C.purple];
export const CLUSTER_COLORS = [C.blue, C.orange, C.green, C.purple];
export const FONT = { family: "system-ui, -apple-system, Segoe UI, Roboto, Noto Sans, sans-serif", size: 12, color: "#1d2433" };
// Colour scales: gray, sequential (white → blue) and diverging (blue ← white → vermilion).
export const BLUES = [[0, "#ffffff"], [0.5, "#9ecae1"], [1, "#08306b"]];
export const DIVERGING = [[0, "#0072B2"], [0.5, "#f7f7f7"], [1, "#D55E00"]];

/** Short text for a number: `d` significant digits, "—" for null, "0" for |v| < 1e-12
 *  (round-off residue in a matrix readout). */
export function num(v, d = 4) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  if (Math.abs(v) < 1e-12) return "0";
  return fmt(v, d);
}

/** As `num`, but tiny values are shown as they are (errors of 1e-17 are the point somewhere). */
export function numExact(v, d = 4) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  if (v === 0) return "0";
  return fmt(v, d);
}

/** Scientific text with a superscript exponent: sci(3.2e-17) → "3.2×10⁻¹⁷". */
const SUP = { "-": "⁻", 0: "⁰", 1: "¹", 2: "²", 3: "³", 4: "⁴", 5: "⁵", 6: "⁶", 7: "⁷", 8: "⁸", 9: "⁹" };
export function sci(v, d = 2) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "—";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e4) return fmt(v, d + 1);
  const e = Math.floor(Math.log10(a));
  const m = v / 10 ** e;
  return `${fmt(m, d)}×10${String(e).split("").map((c) => SUP[c]).join("")}`;
}

/** "3 + 2i" / "3 − 2i" / "3" for a complex number. */
export function complexText(re, im, d = 4) {
  if (Math.abs(im) < 1e-12) return num(re, d);
  const r = Math.abs(re) < 1e-12 ? "" : `${num(re, d)} `;
  return `${r}${im < 0 ? "−" : r ? "+" : ""} ${num(Math.abs(im), d)}i`.trim();
}

export function setStatus(text, isError = false) {
  const s = $("#status");
  const e = $("#error");
  if (s) s.textContent = isError ? "" : text;
  if (e) e.textContent = isError ? text : "";
}

/** The #copy-link button copies the page address (it holds every setting) and says so in #copy-msg. */
export function hookCopyLink() {
  const b = $("#copy-link");
  if (!b) return;
  b.addEventListener("click", async () => {
    const msg = $("#copy-msg");
    try {
      await navigator.clipboard.writeText(location.href);
      msg.textContent = "Link copied.";
    } catch {
      msg.textContent = "Copy the address bar: it holds every setting.";
    }
  });
}

/** One <div><dt>k</dt><dd>v</dd></div> of a stats <dl>, both set as plain text. */
export function statItem(k, v) {
  const d = document.createElement("div");
  d.innerHTML = "<dt></dt><dd></dd>";
  d.firstChild.textContent = k;
  d.lastChild.textContent = v;
  return d;
}

/**
 * Wires the formula box #expression and its #examples menu to S.expression: typing calls
 * `run()` after `ms` of quiet (an empty box shows `empty` in #expr-error instead), and picking
 * an example puts it in the box, resets the menu and calls `run()` at once.
 */
export function hookExpression(S, run, { empty, ms = 250 }) {
  const input = $("#expression");
  input.value = S.expression;
  input.addEventListener("input", debounce(() => {
    if (!input.value.trim()) { $("#expr-error").textContent = empty; return; }
    S.expression = input.value;
    run();
  }, ms));
  $("#examples").addEventListener("change", (e) => {
    if (!e.target.value) return;
    input.value = S.expression = e.target.value;
    e.target.value = "";
    run();
  });
}

/** Calls `onPoint(p)` with the first point of each plotly_click on `plot` (a Plotly div); waits
 *  until Plotly has attached its event methods to the div (after the first draw). */
export function onPlotClick(plot, onPoint) {
  const hook = () => {
    if (!plot.on) { setTimeout(hook, 100); return; }
    plot.on("plotly_click", (ev) => {
      const p = ev.points && ev.points[0];
      if (p) onPoint(p);
    });
  };
  hook();
}

/**
 * Keeps only the newest request in flight: `run(url, body)` posts (debounced by `ms`), then
 * calls `onData(data, body)`; errors go to `onError` (default: the status line), aborts are
 * ignored. After the first successful draw `document.body.dataset.ready = "1"`.
 */
export function fetcher(onData, ms = 40, onError = (msg) => setStatus(msg, true)) {
  const slot = latest();
  let firstDone = false;
  const go = async (url, body) => {
    document.body.classList.add("busy");
    try {
      const data = await slot.post(url, body);
      setStatus("");
      await onData(data, body);
      if (!firstDone) {
        firstDone = true;
        document.body.dataset.ready = "1";
      }
    } catch (e) {
      if (isAbort(e)) return;
      onError(e.message || String(e), e);
    } finally {
      if (!slot.busy) document.body.classList.remove("busy");
    }
  };
  const d = debounce(go, ms);
  return { run: d, now: d.flush };
}

/** A plain layout: our font, tight margins, no legend unless asked. */
export function layout(extra = {}) {
  return { font: FONT, margin: { l: 56, r: 12, t: 10, b: 44 }, hovermode: "closest", showlegend: false, ...extra };
}

/** A small deterministic PRNG (mulberry32) for page presets: same seed, same numbers. */
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A matrix heatmap trace with the values as hover text. */
export function heatmap(z, extra = {}) {
  return { type: "heatmap", z, colorscale: BLUES, hovertemplate: "row %{y}, col %{x}: %{z:.4g}<extra></extra>", ...extra };
}
