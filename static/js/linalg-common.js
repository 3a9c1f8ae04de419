// Shared pieces of the linear-algebra labs: plot style, status line, copy-link, number text,
// and a "fetch newest, draw, mark ready" loop. Each lab stays one ES module of its own.

import { isAbort, latest } from "./api.js";
import { debounce, fmt } from "./controls.js";

export const Plotly = window.Plotly;
export const $ = (s) => document.querySelector(s);

// Okabe–Ito, colour-blind safe.
export const C = {
  blue: "#0072B2", orange: "#E69F00", green: "#009E73", vermilion: "#D55E00",
  purple: "#CC79A7", sky: "#56B4E9", black: "#000000", yellow: "#F0E442", grey: "#8a93a3",
};
export const METHOD_COLORS = [C.vermilion, C.blue, C.green, C.purple];
export const PLOT_CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
export const FONT = { family: "system-ui, -apple-system, Segoe UI, Roboto, Noto Sans, sans-serif", size: 12, color: "#1d2433" };
export const GRAYS = [[0, "#000000"], [1, "#ffffff"]];
export const DIVERGING = [[0, "#0072B2"], [0.5, "#f7f7f7"], [1, "#D55E00"]];

/** Short text for a number: 4 significant digits, "—" for null. */
export function num(v, d = 4) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  if (Math.abs(v) < 1e-12) return "0";
  return fmt(v, d);
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
  if (isError) {
    if (e) e.textContent = text;
    if (s) s.textContent = "";
  } else {
    if (s) s.textContent = text;
    if (e) e.textContent = "";
  }
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
 * calls `onData(data)`; errors go to the status line, aborts are ignored. After the first
 * successful draw `document.body.dataset.ready = "1"`.
 */
export function fetcher(onData, ms = 40) {
  const slot = latest();
  let firstDone = false;
  const go = async (url, body) => {
    document.body.classList.add("busy");
    try {
      const data = await slot.post(url, body);
      setStatus("");
      await onData(data);
      if (!firstDone) {
        firstDone = true;
        document.body.dataset.ready = "1";
      }
    } catch (e) {
      if (isAbort(e)) return;
      setStatus(e.message || String(e), true);
    } finally {
      if (!slot.busy) document.body.classList.remove("busy");
    }
  };
  const d = debounce(go, ms);
  return { run: d, now: d.flush };
}

/** A simple line / bar layout. */
export function layout(extra = {}) {
  return { font: FONT, margin: { l: 56, r: 12, t: 10, b: 44 }, hovermode: "closest", showlegend: false, ...extra };
}

export function renderMath(container, mathml) {
  container.innerHTML = mathml;
}

/** A matrix as rows of text, for readouts. */
export function matrixText(M, d = 3) {
  return M.map((r) => `[${r.map((v) => num(v, d)).join(", ")}]`).join(" ");
}
