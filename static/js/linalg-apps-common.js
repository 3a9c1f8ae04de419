// Shared pieces of the "linear algebra at work" labs (PageRank, spectral clustering, attention,
// convolution, embeddings): plot style, status line, copy-link, number text, and a
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
export const CLUSTER_COLORS = [C.blue, C.orange, C.green, C.purple];
export const PLOT_CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"] };
export const FONT = { family: "system-ui, -apple-system, Segoe UI, Roboto, Noto Sans, sans-serif", size: 12, color: "#1d2433" };
// Sequential (white → blue) and diverging (blue ← white → vermilion) scales, both colour-blind safe.
export const BLUES = [[0, "#ffffff"], [0.5, "#9ecae1"], [1, "#08306b"]];
export const DIVERGING = [[0, "#0072B2"], [0.5, "#f7f7f7"], [1, "#D55E00"]];

/** Short text for a number: 4 significant digits, "—" for null. */
export function num(v, d = 4) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  if (Math.abs(v) < 1e-12) return "0";
  return fmt(v, d);
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

/** A plain layout: our font, tight margins, no legend unless asked. */
export function layout(extra = {}) {
  return { font: FONT, margin: { l: 52, r: 12, t: 10, b: 40 }, hovermode: "closest", showlegend: false, ...extra };
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
