// Figures of the training lab: pure functions from data to Plotly {traces, layout}. They fetch
// nothing and keep no state, so the page decides what to draw and when.

export const FONT = { family: "system-ui, -apple-system, Segoe UI, Roboto, Noto Sans, sans-serif", size: 12, color: "#1d2433" };
export const PLOT_CONFIG = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"] };

// Okabe–Ito, one colour per class (class 0 orange, class 1 blue: the two-class heatmap runs
// between their light tints through white at p = 0.5). Yellow last: low contrast on white.
export const CLASS_COLORS = ["#E69F00", "#0072B2", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442", "#999999", "#7a5195"];
// Layers: blue, orange, green, vermilion, purple, sky, black, grey (at most 9 weight layers).
export const LAYER_COLORS = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#999999", "#F0E442"];
const TRAIN_C = "#0072B2";
const TEST_C = "#D55E00";
const BATCH_C = "rgba(91,100,117,0.35)";
const PROB_SCALE = [[0, "#f6d49a"], [0.5, "#ffffff"], [1, "#a9cfeb"]];
const SUB = "₀₁₂₃₄₅₆₇₈₉";
const sub = (n) => String(n).split("").map((d) => SUB[Number(d)] ?? d).join("");

/** "W₁", "W₂", …; the head (last layer) is W_out. */
export function layerSymbol(i, n) {
  return i === n - 1 ? "W_out" : `W${sub(i + 1)}`;
}

function tint(hex, t) {
  // Mix a colour with white: t = 0 keeps it, t = 1 is white.
  const n = parseInt(hex.slice(1), 16);
  const c = [(n >> 16) & 255, (n >> 8) & 255, n & 255].map((v) => Math.round(v + (255 - v) * t));
  return `rgb(${c.join(",")})`;
}

/** Decade ticks only when the values span more than a decade and a half (else Plotly's own). */
function logDtick(...lists) {
  let lo = Infinity, hi = -Infinity;
  for (const l of lists) for (const v of l || []) if (v > 0) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  return !(hi > 0) || Math.log10(hi / lo) > 1.5 ? { dtick: 1 } : {};
}

const CURSOR_AXIS = { overlaying: "y", range: [0, 1], visible: false, fixedrange: true };

function cursor(epoch) {
  // The shown epoch as a trace on a hidden [0, 1] overlay axis (cheap to move, unlike a shape).
  return { type: "scatter", mode: "lines", x: epoch == null ? [] : [epoch, epoch], y: epoch == null ? [] : [0, 1], yaxis: "y2",
    name: "shown epoch", line: { color: "#1d2433", width: 1, dash: "dot" }, hoverinfo: "skip", showlegend: false };
}

function base(extra = {}) {
  return { font: FONT, paper_bgcolor: "#ffffff", plot_bgcolor: "#ffffff", hovermode: "closest", ...extra };
}

function emptyNote(text) {
  return { text, xref: "paper", yref: "paper", x: 0.5, y: 0.5, showarrow: false, font: { size: 13, color: "#5b6475" }, bgcolor: "rgba(255,255,255,0.85)" };
}

// ------------------------------------------------------------------------- data and boundary

/**
 * Points (train ● / test ◆, one colour per class) over the model's prediction grid.
 * preview: {X_train, y_train, X_test, y_test, n_classes, grid_box} | null
 * boundary: {x, y, kind: "prob" | "class", z, confidence?} | null
 */
export function boundaryFigure({ preview, boundary, nClasses, box, probe, note, uirevision }) {
  const traces = [];
  const [x0, x1, y0, y1] = box || [-2, 2, -2, 2];
  if (boundary && boundary.kind === "prob") {
    traces.push({ type: "heatmap", x: boundary.x, y: boundary.y, z: boundary.z, zmin: 0, zmax: 1, zsmooth: "best",
      colorscale: PROB_SCALE, showscale: true, name: "P(class 1)",
      colorbar: { thickness: 8, len: 0.55, outlinewidth: 0, tickfont: { size: 10 }, title: { text: "P(class 1)", side: "right" }, tickvals: [0, 0.5, 1], xpad: 4 },
      hovertemplate: "(%{x:.2f}, %{y:.2f})<br>P(class 1) = %{z:.3f}<extra>click: probe here</extra>" });
    traces.push({ type: "contour", x: boundary.x, y: boundary.y, z: boundary.z, showscale: false, name: "boundary (p = 0.5)",
      contours: { start: 0.5, end: 0.5, size: 1, coloring: "none" }, line: { color: "#1d2433", width: 2 }, hoverinfo: "skip" });
  } else if (boundary && boundary.kind === "class") {
    const k = Math.max(2, nClasses);
    const scale = [];
    for (let i = 0; i < k; i++) {
      const c = tint(CLASS_COLORS[i % CLASS_COLORS.length], 0.62);
      scale.push([i / k, c], [(i + 1) / k, c]);
    }
    traces.push({ type: "heatmap", x: boundary.x, y: boundary.y, z: boundary.z, zmin: -0.5, zmax: k - 0.5, colorscale: scale,
      showscale: false, name: "predicted class", customdata: boundary.confidence,
      hovertemplate: "(%{x:.2f}, %{y:.2f})<br>predicted class %{z}, p = %{customdata:.3f}<extra>click: probe here</extra>" });
  }
  if (preview && preview.X_train) {
    const k = Math.max(2, nClasses);
    for (const [split, X, y, symbol] of [["train", preview.X_train, preview.y_train, "circle"], ["test", preview.X_test, preview.y_test, "diamond"]]) {
      for (let c = 0; c < k; c++) {
        const xs = [], ys = [];
        for (let i = 0; i < y.length; i++) if (y[i] === c) { xs.push(X[i][0]); ys.push(X[i][1]); }
        traces.push({ type: "scatter", mode: "markers", x: xs, y: ys,
          name: split === "train" ? `class ${c}` : `class ${c} (test)`, legendgroup: `c${c}`, showlegend: split === "train",
          marker: { symbol, size: split === "train" ? 6 : 6.5, color: CLASS_COLORS[c % CLASS_COLORS.length],
            line: { color: "#1d2433", width: split === "train" ? 0.5 : 1 } },
          hovertemplate: `class ${c} (${split})<br>(%{x:.2f}, %{y:.2f})<extra></extra>` });
      }
    }
  }
  if (probe) {
    traces.push({ type: "scatter", mode: "markers", x: [probe[0]], y: [probe[1]], name: "probe", showlegend: false,
      marker: { symbol: "x-thin", size: 14, color: "#1d2433", line: { width: 3, color: "#1d2433" } },
      hovertemplate: "probe (%{x:.2f}, %{y:.2f})<extra></extra>" });
  }
  const layout = base({
    margin: { l: 34, r: 6, t: 6, b: 30 }, uirevision,
    xaxis: { range: [x0, x1], zeroline: false, constrain: "domain", title: { text: "x₁", standoff: 2 } },
    yaxis: { range: [y0, y1], zeroline: false, scaleanchor: "x", constrain: "domain", title: { text: "x₂", standoff: 2 } },
    legend: { orientation: "h", x: 0, y: -0.1, yanchor: "top", font: { size: 11 }, itemclick: "toggle" },
    showlegend: !!(preview && preview.X_train),
    annotations: note ? [emptyNote(note)] : [],
  });
  return { traces, layout };
}

/** A few 8×8 digits as one tiled grey image, each tile labelled with its class. */
export function digitsFigure(preview, { perClass = 2, note } = {}) {
  if (!preview || !preview.X_train) {
    return { traces: [], layout: base({ margin: { l: 6, r: 6, t: 6, b: 6 }, xaxis: { visible: false }, yaxis: { visible: false }, annotations: [emptyNote(note || "")] }) };
  }
  const picks = [];
  const k = preview.n_classes || 10;
  for (let c = 0; c < k; c++) {
    let got = 0;
    for (let i = 0; i < preview.y_train.length && got < perClass; i++) if (preview.y_train[i] === c) { picks.push(i); got++; }
  }
  const cols = Math.min(10, picks.length);
  const rows = Math.ceil(picks.length / cols);
  const H = rows * 9 + 3 * rows, W = cols * 9 - 1;
  const z = Array.from({ length: H }, () => new Array(W).fill(null));
  const annotations = [];
  // Column c shows class c (two of each, one per row): the tiles read like a table of digits.
  picks.forEach((idx, n) => {
    const c = preview.y_train[idx];
    const col = c % cols;
    const row = Math.floor(n % perClass);
    const top = row * 12 + 3;
    const img = preview.X_train[idx];
    for (let r = 0; r < 8; r++) for (let q = 0; q < 8; q++) z[top + r][col * 9 + q] = img[r * 8 + q];
    if (row === 0) annotations.push({ x: col * 9 + 3.5, y: 0.5, text: String(c), showarrow: false, font: { size: 12, color: "#1d2433" } });
  });
  const traces = [{ type: "heatmap", z, zmin: 0, zmax: 1, colorscale: [[0, "#ffffff"], [1, "#1d2433"]], showscale: false,
    hovertemplate: "ink %{z:.2f}<extra></extra>", xgap: 0, ygap: 0 }];
  const layout = base({
    margin: { l: 6, r: 6, t: 6, b: 6 },
    xaxis: { visible: false, range: [-0.5, W - 0.5], constrain: "domain" },
    yaxis: { visible: false, autorange: "reversed", scaleanchor: "x", constrain: "domain" },
    annotations: [...annotations, ...(note ? [{ ...emptyNote(note), y: 0.02, yanchor: "bottom" }] : [])],
  });
  return { traces, layout };
}

// ------------------------------------------------------------------------- curves

/**
 * cur, prev: {epoch: [...], train_loss, test_loss, train_acc, test_acc, batch: {x, y}} | null.
 */
export function lossFigure(cur, prev, { epochs, cursorEpoch, uirevision }) {
  const traces = [];
  if (cur && cur.batch && cur.batch.x.length) {
    traces.push({ type: "scatter", mode: "lines", x: cur.batch.x, y: cur.batch.y, name: "batch loss", line: { color: BATCH_C, width: 1 },
      hovertemplate: "epoch %{x:.2f}<br>batch loss %{y:.4g}<extra></extra>" });
  }
  if (prev) {
    traces.push({ type: "scatter", mode: "lines", x: prev.epoch, y: prev.train_loss, name: "previous: train", line: { color: TRAIN_C, width: 1.5, dash: "dash" },
      hovertemplate: "previous run<br>epoch %{x}<br>train loss %{y:.4g}<extra></extra>" });
    traces.push({ type: "scatter", mode: "lines", x: prev.epoch, y: prev.test_loss, name: "previous: test", line: { color: TEST_C, width: 1.5, dash: "dash" },
      hovertemplate: "previous run<br>epoch %{x}<br>test loss %{y:.4g}<extra></extra>" });
  }
  const c = cur || { epoch: [], train_loss: [], test_loss: [] };
  traces.push({ type: "scatter", mode: "lines+markers", x: c.epoch, y: c.train_loss, name: "train", line: { color: TRAIN_C, width: 2 }, marker: { size: c.epoch.length > 60 ? 0.1 : 4 },
    hovertemplate: "epoch %{x}<br>train loss %{y:.4g} nats<extra></extra>" });
  traces.push({ type: "scatter", mode: "lines+markers", x: c.epoch, y: c.test_loss, name: "test", line: { color: TEST_C, width: 2 }, marker: { size: c.epoch.length > 60 ? 0.1 : 4, symbol: "diamond" },
    hovertemplate: "epoch %{x}<br>test loss %{y:.4g} nats<extra></extra>" });
  traces.push(cursor(cursorEpoch));
  const layout = base({
    margin: { l: 52, r: 8, t: 24, b: 34 }, uirevision,
    xaxis: { title: { text: "epoch", standoff: 4 }, range: [0, Math.max(1, epochs)], zeroline: false },
    yaxis: { title: { text: "loss (nats, log)" }, type: "log", exponentformat: "power", ...logDtick(c.train_loss, c.test_loss, prev && prev.train_loss, cur && cur.batch && cur.batch.y),
      ...(c.epoch.length || prev ? {} : { range: [-2, 0.5] }) },
    yaxis2: CURSOR_AXIS,
    legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom", font: { size: 11 } },
  });
  return { traces, layout };
}

export function accFigure(cur, prev, { epochs, cursorEpoch, uirevision, chance }) {
  const traces = [];
  if (prev) {
    traces.push({ type: "scatter", mode: "lines", x: prev.epoch, y: prev.train_acc, name: "previous: train", line: { color: TRAIN_C, width: 1.5, dash: "dash" },
      hovertemplate: "previous run<br>epoch %{x}<br>train %{y:.1%}<extra></extra>" });
    traces.push({ type: "scatter", mode: "lines", x: prev.epoch, y: prev.test_acc, name: "previous: test", line: { color: TEST_C, width: 1.5, dash: "dash" },
      hovertemplate: "previous run<br>epoch %{x}<br>test %{y:.1%}<extra></extra>" });
  }
  const c = cur || { epoch: [], train_acc: [], test_acc: [] };
  traces.push({ type: "scatter", mode: "lines+markers", x: c.epoch, y: c.train_acc, name: "train", line: { color: TRAIN_C, width: 2 }, marker: { size: c.epoch.length > 60 ? 0.1 : 4 },
    hovertemplate: "epoch %{x}<br>train accuracy %{y:.1%}<extra></extra>" });
  traces.push({ type: "scatter", mode: "lines+markers", x: c.epoch, y: c.test_acc, name: "test", line: { color: TEST_C, width: 2 }, marker: { size: c.epoch.length > 60 ? 0.1 : 4, symbol: "diamond" },
    hovertemplate: "epoch %{x}<br>test accuracy %{y:.1%}<extra></extra>" });
  if (chance) {
    traces.push({ type: "scatter", mode: "lines", x: [0, Math.max(1, epochs)], y: [chance, chance], name: "chance", showlegend: false,
      line: { color: "#999999", width: 1, dash: "dot" }, hovertemplate: `guessing: ${(chance * 100).toFixed(0)}%<extra></extra>` });
  }
  traces.push(cursor(cursorEpoch));
  const layout = base({
    margin: { l: 52, r: 8, t: 24, b: 34 }, uirevision,
    xaxis: { title: { text: "epoch", standoff: 4 }, range: [0, Math.max(1, epochs)], zeroline: false },
    yaxis: { title: { text: "accuracy" }, range: [0, 1.02], tickformat: ".0%" },
    yaxis2: CURSOR_AXIS,
    legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom", font: { size: 11 } },
  });
  return { traces, layout };
}

// ------------------------------------------------------------------------- gradients, weights

/** snaps: epoch events in order; one line per weight layer, log y. */
export function gradsFigure(snaps, { epochs, cursorEpoch, uirevision, names }) {
  const n = snaps.length ? snaps[snaps.length - 1].layers.length : names.length;
  const traces = [];
  for (let i = 0; i < n; i++) {
    const x = [], y = [];
    for (const s of snaps) {
      const L = s.layers[i];
      if (!L) continue;
      x.push(s.epoch);
      y.push(L.grad_norm > 0 ? L.grad_norm : null);
    }
    const label = names[i] || layerSymbol(i, n);
    traces.push({ type: "scatter", mode: x.length > 40 ? "lines" : "lines+markers", x, y, name: label,
      line: { color: LAYER_COLORS[i % LAYER_COLORS.length], width: 2 }, marker: { size: 5 },
      hovertemplate: `${label}<br>epoch %{x}<br>‖∂L/∂W‖ = %{y:.3g}<extra></extra>` });
  }
  traces.push(cursor(cursorEpoch));
  const layout = base({
    margin: { l: 52, r: 8, t: 24, b: 34 }, uirevision,
    xaxis: { title: { text: "epoch", standoff: 4 }, range: [0, Math.max(1, epochs)], zeroline: false },
    yaxis: { title: { text: "‖∂L/∂W‖ (log)" }, type: "log", exponentformat: "power", ...logDtick(...traces.map((t) => t.y)), ...(snaps.length ? {} : { range: [-3, 1] }) },
    yaxis2: CURSOR_AXIS,
    legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom", font: { size: 11 } },
    annotations: snaps.length ? [] : [emptyNote("Per-layer gradient norms appear here while it trains.")],
  });
  return { traces, layout };
}

/** One small histogram per weight layer, side by side (wrapping after three). */
export function histsFigure(snap, { names }) {
  const layers = snap ? snap.layers : [];
  const n = layers.length;
  const cols = Math.min(3, Math.max(1, n));
  const rows = Math.max(1, Math.ceil(n / cols));
  const traces = [];
  const layout = base({ margin: { l: 34, r: 8, t: 20, b: 26 }, showlegend: false, bargap: 0, annotations: [] });
  const gx = 0.06, gy = rows > 1 ? 0.16 : 0;
  layers.forEach((L, i) => {
    const col = i % cols, row = Math.floor(i / cols);
    const ax = i === 0 ? "" : String(i + 1);
    const e = L.hist.edges;
    const x = [], w = [];
    for (let j = 0; j + 1 < e.length; j++) { x.push((e[j] + e[j + 1]) / 2); w.push(e[j + 1] - e[j]); }
    const label = names[i] || layerSymbol(i, n);
    traces.push({ type: "bar", x, y: L.hist.counts, width: w, xaxis: `x${ax}`, yaxis: `y${ax}`, name: label,
      marker: { color: LAYER_COLORS[i % LAYER_COLORS.length], line: { width: 0 } },
      hovertemplate: `${label} (‖W‖ = ${L.weight_norm == null ? "—" : L.weight_norm.toPrecision(3)})<br>w ≈ %{x:.3g}: %{y} weights<extra></extra>` });
    const xd = [col / cols + (col ? gx / 2 : 0), (col + 1) / cols - (col < cols - 1 ? gx / 2 : 0)];
    const yd = [1 - (row + 1) / rows + (row < rows - 1 ? gy / 2 : 0), 1 - row / rows - (row ? gy / 2 : 0)];
    layout[`xaxis${ax}`] = { domain: xd, anchor: `y${ax}`, zeroline: false, tickfont: { size: 10 }, nticks: 4, exponentformat: "power" };
    layout[`yaxis${ax}`] = { domain: yd, anchor: `x${ax}`, tickfont: { size: 10 }, nticks: 4, rangemode: "tozero" };
    layout.annotations.push({ text: `${label} ${L.shape.join("×")}`,
      xref: "paper", yref: "paper", x: (xd[0] + xd[1]) / 2, y: yd[1], yanchor: "bottom", showarrow: false, font: { size: 11 } });
  });
  if (!n) {
    layout.xaxis = { visible: false };
    layout.yaxis = { visible: false };
    layout.annotations.push(emptyNote("Each layer's weights appear here while it trains."));
  }
  return { traces, layout };
}

// ------------------------------------------------------------------------- outputs

export function confusionFigure(confusion, { note } = {}) {
  if (!confusion || !confusion.length) {
    return { traces: [], layout: base({ margin: { l: 40, r: 8, t: 8, b: 36 }, xaxis: { visible: false }, yaxis: { visible: false },
      annotations: [emptyNote(note || "The confusion matrix appears when a run ends.")] }) };
  }
  const k = confusion.length;
  const labels = Array.from({ length: k }, (_, i) => String(i));
  let max = 1;
  for (const r of confusion) for (const v of r) max = Math.max(max, v);
  const traces = [{ type: "heatmap", x: labels, y: labels, z: confusion, zmin: 0, zmax: max,
    colorscale: [[0, "#ffffff"], [1, "#0072B2"]], showscale: false, xgap: 1, ygap: 1,
    texttemplate: "%{z}", textfont: { size: k > 6 ? 10 : 13 },
    hovertemplate: "true %{y}, predicted %{x}: %{z} test points<extra></extra>" }];
  const layout = base({
    margin: { l: 52, r: 8, t: 8, b: 40 },
    xaxis: { title: { text: "predicted class", standoff: 4 }, type: "category", side: "bottom", constrain: "domain" },
    yaxis: { title: { text: "true class" }, type: "category", autorange: "reversed", scaleanchor: "x", constrain: "domain" },
  });
  return { traces, layout };
}

export function confidenceFigure(outputs, { nClasses }) {
  const traces = [];
  const bars = (o, name, color, opacity) => {
    const e = o.confidence_hist.edges;
    const x = [], w = [];
    for (let j = 0; j + 1 < e.length; j++) { x.push((e[j] + e[j + 1]) / 2); w.push(e[j + 1] - e[j]); }
    return { type: "bar", x, y: o.confidence_hist.counts, width: w, name, marker: { color, opacity, line: { color: "#ffffff", width: 1 } },
      hovertemplate: `${name}<br>max p in [%{x:.2f} ± 0.05]: %{y} test points<extra></extra>` };
  };
  if (outputs) traces.push(bars(outputs, "this run", "#009E73", 0.85));
  const uniform = 1 / Math.max(2, nClasses || 2);
  const layout = base({
    margin: { l: 44, r: 8, t: 8, b: 36 }, barmode: "overlay", showlegend: false,
    xaxis: { title: { text: "largest softmax probability of a test point", standoff: 4 }, range: [0, 1], tickformat: ".1f" },
    yaxis: { title: { text: "test points" }, rangemode: "tozero", ...(outputs ? {} : { range: [0, 1], showticklabels: false }) },
    shapes: [{ type: "line", x0: uniform, x1: uniform, y0: 0, y1: 1, yref: "paper", line: { color: "#5b6475", width: 1, dash: "dot" } }],
    annotations: [{ x: uniform, y: 1, yref: "paper", text: `uniform guess 1/${Math.max(2, nClasses || 2)}`, showarrow: false, xanchor: "left", yanchor: "top", font: { size: 10, color: "#5b6475" } },
      ...(outputs ? [] : [emptyNote("Appears while it trains.")])],
  });
  return { traces, layout };
}
