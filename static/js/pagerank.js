// PageRank by power iteration: an editable link graph, r_{t+1} = G r_t animated step by step,
// beside the dominant eigenvector of G from numpy.linalg.eig. Data: POST /api/v1/linalg/pagerank.
// URL state: n_nodes, edges (from-to,…), damping, seed.

import { Player } from "./player.js";
import { applyHide, dataTable, hiddenSet, qNumber, readQuery, sliderField, writeQuery } from "./controls.js";
import { $, BLUES, C, PLOT_CONFIG, Plotly, fetcher, heatmap, hookCopyLink, layout, num, rng } from "./lab-common.js";

const MAX_NODES = 50;
const PRESETS = {
  web: { n: 6, edges: "0-1,0-2,1-2,1-3,2-0,3-2,3-4,4-2,4-5,5-4" },
  dangling: { n: 4, edges: "0-1,0-2,1-2,2-0,2-3" },
  trap: { n: 5, edges: "0-1,0-2,1-2,2-0,1-3,3-4,4-3" },
  cycle: { n: 5, edges: "0-1,1-2,2-3,3-4,4-0" },
  star: { n: 6, edges: "1-0,2-0,3-0,4-0,5-0,0-1" },
};

const S = { n_nodes: 6, edges: [], damping: 0.85, seed: 1 };
let D = null; // the latest response
let selected = null; // node picked as a link's source
let player = null;
const ui = {};

function parseEdges(text, n) {
  const out = [];
  const seen = new Set();
  for (const part of String(text || "").split(/[,;\s]+/).filter(Boolean)) {
    const m = part.match(/^(\d+)\s*(?:-|>|->|→)\s*(\d+)$/);
    if (!m) return { error: `“${part}” is not a link: write from>to, e.g. 0>1` };
    const a = Number(m[1]), b = Number(m[2]);
    if (a >= n || b >= n) return { error: `link ${a}>${b} names a page outside 0…${n - 1}` };
    const key = `${a}-${b}`;
    if (!seen.has(key)) { seen.add(key); out.push([a, b]); }
  }
  return { edges: out };
}

const edgesText = (sep = ", ", arrow = ">") => S.edges.map(([a, b]) => `${a}${arrow}${b}`).join(sep);

function randomGraph(n, seed) {
  const r = rng(seed);
  const out = [];
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) if (a !== b && r() < Math.min(0.5, 2.2 / n)) out.push([a, b]);
  return out;
}

function readState() {
  const q = readQuery();
  S.n_nodes = Math.min(MAX_NODES, Math.max(1, Math.round(qNumber(q, "n_nodes", 6))));
  const d = qNumber(q, "damping", 0.85);
  S.damping = d >= 0 && d <= 1 ? d : 0.85;
  S.seed = Math.max(0, Math.round(qNumber(q, "seed", 1)));
  const p = parseEdges((q.get("edges") ?? PRESETS.web.edges).replace(/\./g, ","), S.n_nodes);
  S.edges = p.edges || parseEdges(PRESETS.web.edges, 6).edges;
  if (!q.has("n_nodes") && !q.has("edges")) S.n_nodes = 6;
  return q;
}

function writeState() {
  writeQuery([["n_nodes", S.n_nodes], ["edges", edgesText(",", "-")], ["damping", S.damping], ["seed", S.seed]]);
}

// ------------------------------------------------------------------------------ drawing

function positions(n) {
  const xs = [], ys = [];
  for (let i = 0; i < n; i++) {
    const t = Math.PI / 2 - (2 * Math.PI * i) / n;
    xs.push(n === 1 ? 0 : Math.cos(t));
    ys.push(n === 1 ? 0 : Math.sin(t));
  }
  return { xs, ys };
}

const sizeOf = (r, n) => (n <= 12 ? 16 + 34 * Math.sqrt(r * n) : 9 + 14 * Math.sqrt(r * n));

function arrows(n) {
  const { xs, ys } = positions(n);
  const set = new Set(S.edges.map(([a, b]) => `${a}-${b}`));
  // Arrows stop at the node's rim: its radius in pixels (at the final rank) in data units.
  const h = $("#graph").clientHeight || 520;
  const perUnit = (h - 8) / 2.5;
  const final = D && D.eigvec.length === n ? D.eigvec : new Array(n).fill(1 / n);
  const rim = (i) => (sizeOf(final[i], n) / 2 + 4) / perUnit;
  return S.edges.filter(([a, b]) => a !== b).map(([a, b]) => {
    const dx = xs[b] - xs[a], dy = ys[b] - ys[a];
    const L = Math.hypot(dx, dy) || 1;
    const ux = dx / L, uy = dy / L;
    // a link both ways: shift each arrow to its own side so both show
    const off = set.has(`${b}-${a}`) ? 0.035 : 0;
    const px = -uy * off, py = ux * off;
    return {
      x: xs[b] - ux * rim(b) + px, y: ys[b] - uy * rim(b) + py, ax: xs[a] + ux * rim(a) + px, ay: ys[a] + uy * rim(a) + py,
      xref: "x", yref: "y", axref: "x", ayref: "y", showarrow: true, arrowhead: 2, arrowsize: 1.1,
      arrowwidth: 1.4, arrowcolor: selected === a ? C.orange : "#6b7385", text: "",
    };
  });
}

// White digits on dark nodes, dark digits on pale ones.
const textColors = (r, cmax) => r.map((v) => (v / cmax > 0.45 ? "#ffffff" : "#1d2433"));

function drawGraph(k) {
  const n = S.n_nodes;
  const { xs, ys } = positions(n);
  const r = D ? D.iterates[Math.min(k, D.iterates.length - 1)] : new Array(n).fill(1 / n);
  const cmax = D ? Math.max(...D.eigvec, ...r) : 1;
  const dangling = D ? D.dangling : new Array(n).fill(false);
  const nodes = {
    type: "scatter", mode: "markers+text", x: xs, y: ys,
    text: xs.map((_, i) => String(i)), textfont: { color: textColors(r, cmax), size: n <= 12 ? 14 : 10 },
    hovertemplate: xs.map((_, i) => `page ${i}: rank %{customdata:.4f}${dangling[i] ? " (dangling)" : ""}<extra></extra>`),
    customdata: r,
    marker: {
      size: r.map((v) => sizeOf(v, n)), color: r, colorscale: BLUES, cmin: 0, cmax,
      line: { width: xs.map((_, i) => (i === selected ? 4 : dangling[i] ? 3 : 1)), color: xs.map((_, i) => (i === selected ? C.orange : dangling[i] ? C.vermilion : "#0b3d91")) },
      showscale: true, colorbar: { title: { text: "rank" }, thickness: 12, len: 0.6 },
    },
  };
  Plotly.react($("#graph"), [nodes], layout({
    xaxis: { visible: false, range: [-1.3, 1.3], fixedrange: true },
    yaxis: { visible: false, range: [-1.25, 1.25], scaleanchor: "x", fixedrange: true },
    annotations: arrows(n), margin: { l: 4, r: 4, t: 4, b: 4 }, dragmode: false,
  }), { ...PLOT_CONFIG, displayModeBar: false });
}

function drawAll() {
  const n = S.n_nodes;
  drawGraph(player.index);
  const idx = [...Array(n).keys()];
  Plotly.react($("#bars"), [
    { type: "bar", x: idx, y: D.iterates[player.index], name: "power iteration r_t", marker: { color: C.blue }, hovertemplate: "page %{x}: %{y:.4f}<extra>r_t</extra>" },
    { type: "scatter", mode: "markers", x: idx, y: D.eigvec, name: "eigenvector of G (numpy.linalg.eig)", marker: { color: C.orange, symbol: "diamond", size: 11, line: { color: "#000", width: 1 } }, hovertemplate: "page %{x}: %{y:.4f}<extra>eig</extra>" },
  ], layout({
    showlegend: true, legend: { orientation: "h", y: 1.12 }, margin: { l: 52, r: 12, t: 26, b: 40 },
    xaxis: { title: { text: "page" }, dtick: n <= 20 ? 1 : 5 }, yaxis: { title: { text: "rank" }, rangemode: "tozero", range: [0, 1.15 * Math.max(...D.eigvec, ...D.iterates.flat())] },
  }), PLOT_CONFIG);
  const steps = D.residuals.map((_, i) => i + 1);
  const ref = D.residuals.length ? steps.map((t) => D.residuals[0] * D.lambda2 ** (t - 1)) : [];
  Plotly.react($("#resid"), [
    { type: "scatter", mode: "lines+markers", x: steps, y: D.residuals.map((v) => Math.max(v, 1e-17)), name: "‖r_{t+1} − r_t‖₁", line: { color: C.blue }, marker: { size: 4 } },
    { type: "scatter", mode: "lines", x: steps, y: ref.map((v) => Math.max(v, 1e-17)), name: "∝ |λ₂|ᵗ", line: { color: C.vermilion, dash: "dash" } },
    { type: "scatter", mode: "markers", x: [1], y: [1], marker: { color: C.orange, size: 12, line: { color: "#000", width: 1 } }, hoverinfo: "skip", name: "now" },
  ], layout({ showlegend: true, legend: { orientation: "h", y: 1.2 }, margin: { l: 52, r: 12, t: 24, b: 40 },
    xaxis: { title: { text: "step t" } }, yaxis: { type: "log", exponentformat: "power" } }), PLOT_CONFIG);
  const small = n <= 10;
  Plotly.react($("#gmat"), [heatmap(D.google, {
    x: idx, y: idx, zmin: 0, zmax: 1, texttemplate: small ? "%{z:.3f}" : "", colorbar: { thickness: 12 },
    hovertemplate: "G[%{y}, %{x}] = %{z:.4f}: from page %{x} to page %{y}<extra></extra>",
  })], layout({ margin: { l: 60, r: 12, t: 10, b: 44 }, xaxis: { title: { text: "from page j (column)" }, dtick: n <= 20 ? 1 : 5, side: "bottom" },
    yaxis: { title: { text: "to page i (row)" }, autorange: "reversed", dtick: n <= 20 ? 1 : 5 } }), PLOT_CONFIG);
  dataTable($("#bars-data"), ["step", ...idx.map((i) => `page ${i}`)], () => D.iterates.map((r, t) => [t, ...r]).concat([["eig", ...D.eigvec]]),
    { caption: "Rank per step", filename: "pagerank-iterates.csv" });
  dataTable($("#gmat-data"), ["row", ...idx.map((i) => `col ${i}`)], () => D.google.map((r, i) => [i, ...r]),
    { caption: "Google matrix G", filename: "google-matrix.csv" });
  onFrame(player.index);
}

function onFrame(k) {
  if (!D) return;
  const t = Math.min(k, D.iterates.length - 1);
  const r = D.iterates[t];
  const n = S.n_nodes;
  const g = $("#graph");
  if (g.data && g.data.length) {
    const cmax = Math.max(...D.eigvec, ...r);
    Plotly.restyle(g, { "marker.size": [r.map((v) => sizeOf(v, n))], "marker.color": [r], "marker.cmax": cmax, customdata: [r], "textfont.color": [textColors(r, cmax)] }, [0]);
  }
  const b = $("#bars");
  if (b.data) Plotly.restyle(b, { y: [r] }, [0]);
  const rs = $("#resid");
  if (rs.data && D.residuals.length) {
    const j = Math.max(1, Math.min(t, D.residuals.length));
    Plotly.restyle(rs, { x: [[j]], y: [[Math.max(D.residuals[j - 1], 1e-17)]] }, [2]);
  }
  const err = r.reduce((s, v, i) => s + Math.abs(v - D.eigvec[i]), 0);
  const top = r.map((v, i) => [v, i]).sort((a, c) => c[0] - a[0])[0];
  $("#live").textContent = `step ${t} of ${D.n_iter}: top page ${top[1]} (rank ${num(top[0])}); distance to the eigenvector ‖r_t − v‖₁ = ${num(err, 3)}; |λ₂| = ${num(D.lambda2, 3)} ≤ d = ${num(S.damping, 3)}`
    + (t === D.n_iter ? (D.converged ? " — converged." : " — stopped at max_iter.") : "");
  $("#graph").dataset.frame = String(t);
}

// ------------------------------------------------------------------------------ compute

const fetch = fetcher((data) => {
  D = data;
  player.setFrames(D.iterates.length, { restart: true });
  drawAll();
});

function compute() {
  writeState();
  ui.edges.value = edgesText();
  fetch.run("/api/v1/linalg/pagerank", { n_nodes: S.n_nodes, edges: S.edges, damping: S.damping, max_iter: 200 });
}

function setNodes(n) {
  S.n_nodes = n;
  S.edges = S.edges.filter(([a, b]) => a < n && b < n);
  if (selected !== null && selected >= n) selected = null;
  compute();
}

function onGraphClick(ev) {
  const p = ev.points && ev.points[0];
  if (!p || p.curveNumber !== 0) return;
  const i = p.pointIndex;
  if (selected === null) { selected = i; drawGraph(player.index); return; }
  if (selected !== i) {
    const at = S.edges.findIndex(([a, b]) => a === selected && b === i);
    if (at >= 0) S.edges.splice(at, 1); else S.edges.push([selected, i]);
    $("#preset").value = "";
  }
  selected = null;
  compute();
}

function applyPreset(name) {
  if (name === "random") {
    const n = Math.max(S.n_nodes, 8);
    ui.n.value = n;
    S.n_nodes = n;
    S.edges = randomGraph(n, S.seed);
  } else if (PRESETS[name]) {
    S.n_nodes = PRESETS[name].n;
    ui.n.value = S.n_nodes;
    S.edges = parseEdges(PRESETS[name].edges, S.n_nodes).edges;
  } else return;
  selected = null;
  $("#seed-field").hidden = name !== "random";
  compute();
}

function boot() {
  const q = readState();
  hookCopyLink();
  player = new Player($("#player"), { onFrame, fps: 3, label: "Step" });
  ui.n = sliderField({ name: "n_nodes", label: "Pages n (n_nodes)", min: 1, max: MAX_NODES, integer: true, value: S.n_nodes,
    description: "number of pages; lowering it removes the links of the pages dropped" }, (v) => setNodes(v));
  $("#n-field").append(ui.n.el);
  ui.d = sliderField({ name: "damping", label: "Damping factor d", min: 0, max: 1, step: 0.01, value: S.damping,
    description: "probability of following a link rather than jumping to a random page" }, (v) => { S.damping = v; compute(); });
  $("#d-field").append(ui.d.el);
  ui.seed = sliderField({ name: "seed", label: "Seed of the random graph", min: 0, max: 999, integer: true, value: S.seed },
    (v) => { S.seed = v; applyPreset("random"); });
  $("#seed-field").append(ui.seed.el);
  $("#seed-field").hidden = true;
  ui.edges = $("#edges");
  ui.edges.addEventListener("input", () => {
    const p = parseEdges(ui.edges.value, S.n_nodes);
    $("#edges-error").textContent = p.error || "";
    ui.edges.setAttribute("aria-invalid", p.error ? "true" : "false");
    if (p.error) return;
    S.edges = p.edges;
    $("#preset").value = "";
    writeState();
    fetch.run("/api/v1/linalg/pagerank", { n_nodes: S.n_nodes, edges: S.edges, damping: S.damping, max_iter: 200 });
  });
  $("#preset").addEventListener("change", (e) => applyPreset(e.target.value));
  drawGraph(0);
  $("#graph").on("plotly_click", onGraphClick);
  applyHide(document.querySelector(".lab-grid"), hiddenSet(q));
  compute();
}

boot();
