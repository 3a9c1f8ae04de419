// Shared pieces of the calculus labs: plot style, status line, copy-link, number text, and a
// "fetch newest, draw, mark ready" loop. Each lab stays one ES module of its own.

import { isAbort, latest } from "./api.js";
import { debounce, fmt } from "./controls.js";

export const Plotly = window.Plotly;
export const $ = (s) => document.querySelector(s);

// Okabe–Ito, colour-blind safe.
export const C = {
  blue: "#0072B2", orange: "#E69F00", green: "#009E73", vermilion: "#D55E00",
  purple: "#CC79A7", sky: "#56B4E9", black: "#000000", yellow: "#F0E442", grey: "#8a93a3",
};
export const PLOT_CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
export const FONT = { family: "system-ui, -apple-system, Segoe UI, Roboto, Noto Sans, sans-serif", size: 12, color: "#1d2433" };

/** Short text for a number: 4 significant digits, "—" for null. */
export function num(v, d = 4) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  if (v === 0) return "0";
  return fmt(v, d);
}

/** 10^k as "10^k" text with a superscript exponent: sci(3.2e-17) → "3.2×10⁻¹⁷". */
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

export function setStatus(text, isError = false) {
  const s = $("#status");
  const e = $("#error");
  if (s) s.textContent = isError ? "" : text;
  if (e) e.textContent = isError ? text : "";
}

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

/**
 * Keeps only the newest request in flight: `run(url, body)` posts (debounced by `ms`), then
 * calls `onData(data)`; errors go to `onError` (default: the status line), aborts are ignored.
 * After the first successful draw `document.body.dataset.ready = "1"`.
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

/** A simple line / bar layout. */
export function layout(extra = {}) {
  return { font: FONT, margin: { l: 60, r: 14, t: 10, b: 44 }, hovermode: "closest", showlegend: false, ...extra };
}
