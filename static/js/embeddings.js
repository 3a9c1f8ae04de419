// Embeddings from co-occurrence: PPMI → truncated SVD word vectors from the project's corpus;
// nearest neighbours by cosine, analogies a − b + c, a 2-D map, the singular values.
// Data: POST /api/v1/linalg/embeddings. URL state: window, rank, alpha, word, analogy (a,b,c).

import { applyHide, dataTable, el, hiddenSet, qNumber, readQuery, selectField, sliderField, writeQuery } from "./controls.js";
import { $, C, PLOT_CONFIG, Plotly, fetcher, hookCopyLink, layout, num } from "./lab-common.js";

const PRESETS = [
  { v: "king,man,woman", label: "king − man + woman (works)", want: "queen" },
  { v: "paris,france,italy", label: "paris − france + italy (works)", want: "rome" },
  { v: "kitten,cat,dog", label: "kitten − cat + dog (works)", want: "puppy" },
  { v: "barks,dog,cat", label: "barks − dog + cat (works)", want: "meows" },
  { v: "italian,italy,russia", label: "italian − italy + russia (works)", want: "russian" },
  { v: "husband,wife,queen", label: "husband − wife + queen (works)", want: "king" },
  { v: "king,kingdom,empire", label: "king − kingdom + empire (fails: wants emperor)", want: "emperor" },
  { v: "boy,school,wedding", label: "boy − school + wedding (fails: wants husband)", want: "husband" },
  { v: "cold,snow,sun", label: "cold − snow + sun (fails: wants hot)", want: "hot" },
];
const GROUP_STYLE = {
  "royal (male)": [C.vermilion, "circle"], "royal (female)": [C.vermilion, "diamond"],
  "family (male)": [C.blue, "circle"], "family (female)": [C.blue, "diamond"],
  country: [C.green, "square"], capital: [C.orange, "square"], "adjective / language": [C.purple, "square"],
  animal: [C.sky, "triangle-up"], "young animal": [C.black, "triangle-up"], "animal sound": [C.sky, "x"],
  other: ["#b8c0cc", "circle-open"],
};

const S = { window: 2, rank: 80, alpha: 0.75, word: "king", analogy: ["king", "man", "woman"] };
let D = null;
const ui = {};

function readState() {
  const q = readQuery();
  const int = (n, lo, hi) => { const v = Math.round(qNumber(q, n, S[n])); S[n] = Math.min(hi, Math.max(lo, v)); };
  int("window", 1, 5);
  int("rank", 2, 160);
  const a = qNumber(q, "alpha", S.alpha);
  S.alpha = a >= 0.1 && a <= 1 ? a : S.alpha;
  if (q.get("word")) S.word = q.get("word").trim().toLowerCase().slice(0, 30);
  const an = (q.get("analogy") || "").split(",").map((w) => w.trim().toLowerCase()).filter(Boolean);
  if (an.length === 3) S.analogy = an.map((w) => w.slice(0, 30));
  return q;
}

function writeState() {
  writeQuery([["window", S.window], ["rank", S.rank], ["alpha", S.alpha], ["word", S.word], ["analogy", S.analogy.join(",")]]);
}

// ------------------------------------------------------------------------------ drawing

function bars(id, items, highlight) {
  const words = items.map((s) => s.word).reverse();
  const cos = items.map((s) => s.cosine).reverse();
  Plotly.react($(id), [{
    type: "bar", orientation: "h", y: words, x: cos, text: cos.map((v) => num(v, 3)), textposition: "auto",
    marker: { color: words.map((w) => (w === highlight ? C.green : C.blue)) }, hovertemplate: "%{y}: cosine %{x:.4f}<extra></extra>",
  }], layout({ margin: { l: 90, r: 12, t: 6, b: 36 }, xaxis: { title: { text: "cosine similarity" }, range: [Math.min(0, ...cos) - 0.05, 1.05] }, yaxis: { automargin: true } }), { ...PLOT_CONFIG, displayModeBar: false });
}

function drawAll() {
  $("#vocab").replaceChildren(...D.vocab.map((w) => el("option", { value: w })));
  $("#corpus-note").textContent = `${D.n_sentences} sentences written for this lab from templates (royalty and family with he/his, she/her; countries, capitals and languages; animals and their young), ${D.n_tokens} words after dropping small words (the, of, is…), ${D.vocab.length} distinct. Vectors: ${D.vocab.length} × ${D.rank}.`;
  const [a, b, c] = S.analogy;
  const preset = PRESETS.find((p) => p.v === S.analogy.join(","));
  if (D.analogy) {
    const best = D.analogy[0];
    $("#analogy-title").textContent = `${a} − ${b} + ${c} ≈ ?   (closest by cosine; a, b, c excluded)`;
    bars("#analogy", D.analogy, preset ? preset.want : best.word);
    let verdict = `Answer: “${best.word}” (cosine ${num(best.cosine, 3)}).`;
    if (preset) {
      verdict += best.word === preset.want
        ? ` That is the expected “${preset.want}”.`
        : ` Expected “${preset.want}”${D.vocab.includes(preset.want) ? "" : " (not in the corpus)"}: the corpus never states this relation consistently, so no direction encodes it${S.rank < 64 ? ", and at this rank the word groups are also squashed together" : ""}.`;
    }
    if (best.cosine > 0.999) verdict += " A cosine of 1.00 is an artefact of our template corpus, where pairs follow a pattern exactly; real text gives 0.5–0.8.";
    $("#analogy-verdict").textContent = verdict;
    drawPlane(best.word);
  }
  if (D.neighbours) {
    $("#nb-title").textContent = `Nearest neighbours of “${S.word}” by cosine`;
    bars("#neighbours", D.neighbours, null);
    dataTable($("#nb-data"), ["word", "cosine"], () => D.neighbours.map((n) => [n.word, n.cosine]), { caption: "Neighbours", filename: "neighbours.csv" });
  }
  const k = D.singular_values.map((_, i) => i + 1);
  Plotly.react($("#spectrum"), [
    { type: "scatter", mode: "lines", x: k, y: D.singular_values, line: { color: C.blue, width: 2 }, hovertemplate: "σ%{x} = %{y:.3f}<extra></extra>", fill: "tozeroy", fillcolor: "rgba(0,114,178,0.08)" },
  ], layout({ margin: { l: 48, r: 12, t: 6, b: 40 }, xaxis: { title: { text: "index i" } }, yaxis: { title: { text: "σᵢ" }, rangemode: "tozero" },
    shapes: [{ type: "line", x0: D.rank + 0.5, x1: D.rank + 0.5, yref: "paper", y0: 0, y1: 1, line: { color: C.vermilion, width: 2, dash: "dash" } }],
    annotations: [{ x: D.rank + 0.5, yref: "paper", y: 0.95, text: `k = ${D.rank}`, showarrow: false, xanchor: "left", font: { color: C.vermilion } }] }), PLOT_CONFIG);
  drawMap();
}

function drawPlane(answer) {
  const [a, b, c] = S.analogy;
  const P = D.analogy_xy; // a, b, c, a − b + c, answer
  const labels = [a, b, c, `${a} − ${b} + ${c}`, answer];
  const arrow = (i, j, color) => ({ x: P[j][0], y: P[j][1], ax: P[i][0], ay: P[i][1], xref: "x", yref: "y", axref: "x", ayref: "y", showarrow: true, arrowhead: 2, arrowwidth: 2, arrowcolor: color, text: "" });
  const span = (k) => { const v = P.map((p) => p[k]); const lo = Math.min(...v), hi = Math.max(...v), pad = 0.25 * (hi - lo || 1); return [lo - pad, hi + pad]; };
  Plotly.react($("#plane"), [{
    type: "scatter", mode: "markers+text", x: P.map((p) => p[0]), y: P.map((p) => p[1]), text: labels, textposition: "top center",
    marker: { size: [11, 11, 11, 14, 11], color: [C.blue, C.blue, C.orange, C.black, C.green], symbol: ["circle", "circle", "circle", "x", "diamond"] },
    hovertemplate: "%{text}<extra></extra>", cliponaxis: false,
  }], layout({ margin: { l: 30, r: 20, t: 24, b: 30 }, xaxis: { zeroline: false, showticklabels: false, range: span(0) }, yaxis: { zeroline: false, showticklabels: false, range: span(1) },
    annotations: [arrow(1, 0, C.blue), arrow(2, 3, C.orange)] }), { ...PLOT_CONFIG, displayModeBar: false });
}

function drawMap() {
  const shown = new Set([...S.analogy, S.word, ...(D.analogy || []).slice(0, 1).map((s) => s.word), ...(D.neighbours || []).slice(0, 3).map((s) => s.word)]);
  // Words the 2-D view puts on one spot share one label ("king · queen").
  const xs = D.xy.map((p) => p[0]), ys = D.xy.map((p) => p[1]);
  const cell = 0.04 * Math.max(Math.max(...xs) - Math.min(...xs), Math.max(...ys) - Math.min(...ys), 1e-9);
  const spot = (i) => `${Math.round(D.xy[i][0] / cell)},${Math.round(D.xy[i][1] / cell)}`;
  const labelAt = new Map();
  D.vocab.forEach((w, i) => { if (shown.has(w)) labelAt.set(spot(i), [...(labelAt.get(spot(i)) || []), w]); });
  const labelled = new Set();
  const label = (i) => {
    const k = spot(i);
    if (!labelAt.has(k) || labelled.has(k)) return "";
    labelled.add(k);
    return labelAt.get(k).join(" · ");
  };
  const groups = [...new Set(D.groups)].sort((x, y) => (x === "other") - (y === "other") || x.localeCompare(y));
  const traces = groups.map((g) => {
    const idx = D.vocab.map((_, i) => i).filter((i) => D.groups[i] === g);
    const [color, symbol] = GROUP_STYLE[g] || [C.grey, "circle"];
    return {
      type: "scatter", mode: "markers+text", name: g, x: idx.map((i) => D.xy[i][0]), y: idx.map((i) => D.xy[i][1]),
      text: idx.map(label), textposition: "top center", textfont: { size: 12 },
      customdata: idx.map((i) => D.vocab[i]), hovertemplate: "%{customdata}<extra>%{fullData.name}</extra>",
      marker: { color, symbol, size: g === "other" ? 6 : 9, line: { width: symbol.endsWith("open") ? 1 : 0.5, color: symbol.endsWith("open") ? color : "#fff" } },
    };
  });
  Plotly.react($("#map"), traces, layout({ showlegend: true, legend: { orientation: "v", x: 1.01, y: 1 }, margin: { l: 40, r: 12, t: 10, b: 36 },
    xaxis: { zeroline: false, title: { text: "principal axis 1" } }, yaxis: { zeroline: false, title: { text: "principal axis 2" } } }), PLOT_CONFIG);
  dataTable($("#map-data"), ["word", "count", "group", "x", "y"], () => D.vocab.map((w, i) => [w, D.counts[i], D.groups[i], D.xy[i][0], D.xy[i][1]]), { caption: "Words", filename: "word-map.csv" });
}

// ------------------------------------------------------------------------------ controls

/** Checks a typed word against the vocabulary before asking the server (which would answer 422). */
function known(w, errId, field) {
  const ok = !D || D.vocab.includes(w);
  $(errId).textContent = ok ? "" : `${field}: unknown word “${w}”: it is not in the corpus vocabulary (the list offers every word)`;
  return ok;
}

function showError(e) {
  // a 422 names the unknown word's field: put it beside that field
  const m = e.message || "";
  $("#word-error").textContent = m.startsWith("word") ? m : "";
  $("#analogy-error").textContent = m.startsWith("analogy") ? m : "";
}

const fetch = fetcher((data) => { D = data; $("#word-error").textContent = ""; $("#analogy-error").textContent = ""; drawAll(); });

function compute() {
  writeState();
  fetch.run("/api/v1/linalg/embeddings", { window: S.window, rank: S.rank, alpha: S.alpha, word: S.word, analogy: S.analogy, top_k: 8 });
}

function boot() {
  const q = readState();
  hookCopyLink();
  ui.window = sliderField({ name: "window", label: "Context window (words each side)", min: 1, max: 5, integer: true, value: S.window }, (v) => { S.window = v; compute(); });
  ui.rank = sliderField({ name: "rank", label: "Dimensions k (rank of the SVD)", min: 2, max: 160, integer: true, value: S.rank }, (v) => { S.rank = v; compute(); });
  ui.alpha = sliderField({ name: "alpha", label: "Context smoothing α", min: 0.1, max: 1, step: 0.05, value: S.alpha }, (v) => { S.alpha = v; compute(); });
  $("#vec-fields").append(ui.window.el, ui.rank.el, ui.alpha.el);
  const cur = S.analogy.join(",");
  ui.preset = selectField({ name: "analogy_preset", label: "Try", value: PRESETS.some((p) => p.v === cur) ? cur : "", options: [{ value: "", label: "— as typed —" }, ...PRESETS.map((p) => ({ value: p.v, label: p.label }))] }, (v) => {
    if (!v) return;
    S.analogy = v.split(",");
    ["a", "b", "c"].forEach((id, i) => { $(`#${id}`).value = S.analogy[i]; });
    compute();
  });
  $("#preset-field").append(ui.preset.el);
  ["a", "b", "c"].forEach((id, i) => {
    const box = $(`#${id}`);
    box.value = S.analogy[i];
    box.addEventListener("input", () => {
      const w = box.value.trim().toLowerCase();
      if (!w || !known(w, "#analogy-error", `analogy ${"abc"[i]}`)) return;
      S.analogy[i] = w;
      ui.preset.value = PRESETS.some((p) => p.v === S.analogy.join(",")) ? S.analogy.join(",") : "";
      compute();
    });
  });
  const word = $("#word");
  word.value = S.word;
  word.addEventListener("input", () => {
    const w = word.value.trim().toLowerCase();
    if (w && known(w, "#word-error", "word")) { S.word = w; compute(); }
  });
  // Errors (an unknown word) also go beside the field that named it.
  new MutationObserver(() => { const t = $("#error").textContent; if (t) showError({ message: t }); }).observe($("#error"), { childList: true, characterData: true, subtree: true });
  applyHide(document.querySelector(".lab-grid"), hiddenSet(q));
  compute();
}

boot();
