// Symbolic vs automatic vs numeric: f′(x0) from SymPy, torch.autograd, jax.grad and central
// differences side by side, then JAX's vmap and jit (POST /api/v1/calculus/autodiff).

import { applyHide, dataTable, el, hiddenSet, qNumber, readQuery, sliderField, writeQuery } from "./controls.js";
import { $, C, PLOT_CONFIG, Plotly, fetcher, hookCopyLink, hookExpression, layout, numExact as num, sci } from "./lab-common.js";

const S = { expression: "sin(x)*exp(x)", x0: 0.7 };
let D = null;
const ui = {};

function readState() {
  const q = readQuery();
  if (q.get("expression")) S.expression = q.get("expression").slice(0, 200);
  const x0 = qNumber(q, "x0", S.x0);
  if (Math.abs(x0) <= 1e4) S.x0 = x0;
}

async function draw(data) {
  D = data;
  $("#expr-error").textContent = "";
  $("#d-formula").innerHTML = `<span class="note">f(x) =</span> ${D.mathml}<span class="note">f′(x) =</span> ${D.derivative_mathml}`;
  const rows = [
    ["SymPy (symbolic, then evaluated)", D.sympy, 0, D.sympy2],
    ["PyTorch autograd", D.torch, Math.abs(D.torch - D.sympy), D.torch2],
    ["JAX grad", D.jax, D.jax === null ? null : Math.abs(D.jax - D.sympy), D.jax2],
    [`central difference, h = ${sci(D.h)}`, D.finite_difference, Math.abs(D.finite_difference - D.sympy), null],
  ];
  $("#methods tbody").replaceChildren(...rows.map((r, i) => el("tr", {}, el("td", { class: "method" }, r[0]), el("td", {}, r[1] === null ? "— (JAX not installed)" : num(r[1], 15)), el("td", {}, r[2] === null ? "—" : r[2] === 0 ? (i ? "0 (exact match)" : "reference") : sci(r[2])), el("td", {}, r[3] === null ? "—" : num(r[3], 12)))));
  $("#jax-note").textContent = D.jax_error ? `JAX is not available on this server, so its column is empty and the grid below comes from SymPy: ${D.jax_error}` : "";
  const names = ["autograd", "JAX", "finite diff."];
  const errs = [rows[1][2], rows[2][2], rows[3][2]];
  const floor = 1e-17;
  const jobs = [Plotly.react("errbars", [{
    x: names, y: errs.map((e) => (e === null ? null : Math.max(e, floor))), type: "bar",
    marker: { color: [C.blue, C.green, C.vermilion] }, text: errs.map((e) => (e === null ? "n/a" : e === 0 ? "0 (exact match)" : sci(e))), textposition: "outside",
    hovertemplate: "%{x}: %{text}<extra></extra>",
  }], layout({ yaxis: { type: "log", title: { text: "|error| (0 shown at 1e-17)" }, exponentformat: "power", range: [-17.5, 0] }, margin: { l: 64, r: 12, t: 10, b: 30 } }), PLOT_CONFIG)];
  jobs.push(Plotly.react("vmap", [
    { x: D.grid, y: D.grad_on_grid, type: "scatter", mode: "lines", line: { color: C.orange, width: 2.5 }, name: D.vmap_source, hovertemplate: "f′(%{x:.3f}) = %{y:.5g}<extra></extra>" },
    { x: [S.x0], y: [D.sympy], type: "scatter", mode: "markers", marker: { color: C.vermilion, size: 10 }, hoverinfo: "skip" },
  ], layout({ xaxis: { title: { text: `x (${D.grid.length} points in one ${D.vmap_source} call)` } }, yaxis: { title: { text: "f′(x)" } } }), PLOT_CONFIG));
  await Promise.all(jobs);
  const dt = (t, v) => [el("dt", {}, t), el("dd", {}, v)];
  $("#timing").replaceChildren(...(D.jit_s === null
    ? dt("jit", "needs JAX (pip install 'mathlens[jax]')")
    : [...dt("vmap(grad(f)), op by op", `${num(D.eager_s * 1e3, 3)} ms`), ...dt("jit(vmap(grad(f))), compiled", `${num(D.jit_s * 1e3, 3)} ms: ${num(D.eager_s / D.jit_s, 3)}× faster`), ...dt("first jitted call (trace + compile)", `${num(D.compile_s * 1e3, 3)} ms`)]));
  ui.table.update(["x", "dfdx"], () => D.grid.map((x, i) => [x, D.grad_on_grid[i]]));
}

const fetch = fetcher(draw, 80, (msg) => {
  if (msg.startsWith("expression") || msg.startsWith("x0")) $("#expr-error").textContent = msg;
  else $("#error").textContent = msg;
});

function run() {
  writeQuery({ expression: S.expression, x0: S.x0 });
  fetch.run("/api/v1/calculus/autodiff", { expression: S.expression, x0: S.x0 });
}

function boot() {
  readState();
  hookExpression(S, run, { empty: "Type a formula in x.", ms: 300 });
  ui.x0 = sliderField({ name: "x0", label: "point x₀", min: -1e4, max: 1e4, value: S.x0, slider_min: -3, slider_max: 3, step: 0.01 }, (v) => { S.x0 = v; run(); });
  $("#x0-field").append(ui.x0.el);
  ui.table = dataTable($("#vmap-data"), [], [], { caption: "f′ on the grid", filename: "grad-on-grid.csv" });
  hookCopyLink();
  applyHide(document.querySelector(".lab-grid"), hiddenSet(readQuery()));
  run();
}

boot();
