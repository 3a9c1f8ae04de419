// SVD and low-rank approximation: the server factors an image once (cached by name or content
// hash); each rank change asks POST /api/v1/linalg/lowrank for the rank-k image only, as a PNG.

import { errorMessage } from "./api.js";
import { applyHide, dataTable, el, hiddenSet, qNumber, readQuery, sliderField, writeQuery } from "./controls.js";
import { $, C, PLOT_CONFIG, Plotly, fetcher, hookCopyLink, layout, num } from "./lab-common.js";

const S = { image: "pattern", rank: 20 };
let D = null;
let specKey = "";
const ui = {};

async function draw(data) {
  D = data;
  const p = D.S.length;
  if (S.rank > p) { S.rank = p; ui.rank.value = p; writeState(); }
  ui.rank.range.max = String(p);
  ui.rank.number.max = String(p);
  $("#img-title").textContent = `Rank-${D.rank} image (${D.width}×${D.height}; full rank ≤ ${p})`;
  // The rank-k image arrives as a PNG (a few tens of kB, not 262 144 numbers in JSON).
  const jobs = [Plotly.react("picture", [{ source: `data:image/png;base64,${D.png}`, type: "image", hovertemplate: "row %{y}, col %{x}: %{z[0]}<extra></extra>" }],
    { ...layout({ margin: { l: 10, r: 10, t: 6, b: 6 } }), xaxis: { visible: false, constrain: "domain" }, yaxis: { visible: false, autorange: "reversed", scaleanchor: "x", scaleratio: 1, constrain: "domain" }, uirevision: D.image }, PLOT_CONFIG)];
  const k = D.rank;
  const idx = D.S.map((_, i) => i + 1);
  const pos = D.S.map((s) => Math.max(s, 1e-12));
  jobs.push(Plotly.react("spectrum", [
    { x: idx, y: pos, type: "scatter", mode: "lines", line: { color: "#c5cbd6", width: 2 }, name: "σ", hovertemplate: "σ%{x} = %{y:.4g}<extra></extra>" },
    { x: idx.slice(0, k), y: pos.slice(0, k), type: "scatter", mode: "lines", line: { color: C.blue, width: 3 }, name: "kept", hovertemplate: "σ%{x} = %{y:.4g}<extra>kept</extra>" },
  ], layout({ xaxis: { title: { text: "i" }, type: "log" }, yaxis: { type: "log", title: { text: "σᵢ" }, exponentformat: "power" }, shapes: [{ type: "line", x0: Math.max(k, 1), x1: Math.max(k, 1), yref: "paper", y0: 0, y1: 1, line: { color: C.vermilion, dash: "dot" } }] }), PLOT_CONFIG));
  const ks = D.rel_errors.map((_, i) => i);
  const store = ks.map((kk) => (kk * (D.height + D.width + 1)) / (D.height * D.width));
  jobs.push(Plotly.react("error-curve", [
    { x: ks, y: D.rel_errors, type: "scatter", mode: "lines", line: { color: C.vermilion, width: 2.5 }, name: "relative error", hovertemplate: "k = %{x}: error %{y:.2%}<extra></extra>" },
    { x: ks, y: store, type: "scatter", mode: "lines", line: { color: C.green, width: 2, dash: "dash" }, name: "storage ratio", hovertemplate: "k = %{x}: storage %{y:.2%}<extra></extra>" },
    { x: [k], y: [D.rel_error], type: "scatter", mode: "markers", marker: { color: C.vermilion, size: 10 }, name: "now", hoverinfo: "skip" },
  ], layout({ showlegend: true, legend: { x: 0.55, y: 0.95 }, xaxis: { title: { text: "rank k" } }, yaxis: { tickformat: ".0%", range: [0, 1.05] } }), PLOT_CONFIG));
  await Promise.all(jobs);
  const stat = (t, v) => el("div", {}, el("dt", {}, t), el("dd", {}, v));
  $("#stats").replaceChildren(
    stat("relative error ‖A−A_k‖/‖A‖", `${num(100 * D.rel_error, 3)}%`),
    stat("storage k(m+n+1)/(mn)", `${num(100 * D.storage_ratio, 3)}%`),
    stat("energy kept", `${num(100 * (1 - D.rel_error ** 2), 4)}%`),
  );
  const key = `${D.image}`;
  if (key !== specKey) {
    specKey = key;
    ui.table.update(["i", "sigma_i", "rel_error_if_k=i"], () => D.S.map((s, i) => [i + 1, s, D.rel_errors[i + 1]]));
  }
}

const fetch = fetcher(draw, 15);

function writeState() {
  writeQuery({ image: S.image, rank: S.rank });
}

function run() {
  writeState();
  fetch.run("/api/v1/linalg/lowrank", { image: S.image, rank: S.rank, encoding: "png" });
}

async function upload(file) {
  const err = $("#upload-error");
  err.textContent = "";
  if (file.size > 5 * 1024 * 1024) { err.textContent = "The file is over 5 MB."; return; }
  const form = new FormData();
  form.append("file", file);
  try {
    const r = await window.fetch("/api/v1/linalg/images", { method: "POST", body: form });
    const data = await r.json().catch(() => null);
    if (!r.ok) { err.textContent = errorMessage(r.status, data); return; }
    S.image = data.image;
    let opt = $("#image").querySelector("option[data-upload]");
    if (!opt) { opt = el("option", { "data-upload": "1" }); $("#image").append(opt); }
    opt.value = data.image;
    opt.textContent = `Uploaded: ${file.name.slice(0, 30)}`;
    $("#image").value = data.image;
    run();
  } catch {
    err.textContent = "Cannot reach the MathLens server.";
  }
}

function boot() {
  const q = readQuery();
  const img = q.get("image");
  if (img && /^(pattern|china|flower|[0-9a-f]{64})$/.test(img)) S.image = img;
  const r = qNumber(q, "rank", S.rank);
  if (Number.isInteger(r) && r >= 0 && r <= 512) S.rank = r;
  ui.rank = sliderField({ name: "rank", label: "rank k", min: 0, max: 512, integer: true, step: 1, value: S.rank }, (v) => { S.rank = v; run(); });
  $("#rank-box").append(ui.rank.el);
  if (!["pattern", "china", "flower"].includes(S.image)) {
    $("#image").append(el("option", { value: S.image, "data-upload": "1" }, "Uploaded image (from the link)"));
  }
  $("#image").value = S.image;
  $("#image").addEventListener("change", (e) => { S.image = e.target.value; run(); });
  $("#upload").addEventListener("change", (e) => { if (e.target.files[0]) upload(e.target.files[0]); });
  ui.table = dataTable($("#spectrum-data"), [], [], { caption: "Singular values", filename: "singular-values.csv" });
  hookCopyLink();
  applyHide(document.querySelector(".lab-grid"), hiddenSet(q));
  run();
}

boot();
