// The teacher's view: every training job on the server, refreshed while the tab is visible.
// GET /api/v1/jobs needs the teacher token (Authorization: Bearer ...); the token lives in this
// tab's sessionStorage only, never in the URL. Stop is DELETE /api/v1/jobs/{id}.

import { errorMessage } from "./api.js";

const $ = (s) => document.querySelector(s);
const KEY = "mathlens-teacher-token";
const JOBS = "/api/v1/jobs";
const REFRESH_MS = 2000;
const LIVE = new Set(["queued", "running"]);
let timer = null;
let inflight = null;

function showError(text) {
  $("#teacher-error").textContent = text;
}

function td(text, cls = "") {
  const c = document.createElement("td");
  c.textContent = text;
  if (cls) c.className = cls;
  return c;
}

/** "moons, 1000 points" · "16-16 tanh" · "adam lr 0.01" from a job's validated config. */
function describe(c) {
  const d = c.dataset || {};
  const m = c.model || {};
  const o = c.optimizer || {};
  const data = `${d.name ?? "?"}${d.n_samples ? `, ${d.n_samples} points` : ""}`;
  const net = m.kind === "cnn" ? "small CNN" : `${(m.hidden || []).join("-") || "linear"} ${m.activation ?? ""}`.trim();
  return [data, net, `${o.name ?? "?"} lr ${o.lr ?? "?"}`];
}

function statusCell(job) {
  const c = document.createElement("td");
  const s = document.createElement("span");
  s.className = `st st-${job.status}`;
  s.textContent = job.status;
  if (job.error) s.title = job.error;
  c.append(s);
  if (job.gpu) c.append(" (GPU)");
  return c;
}

function row(job) {
  const tr = document.createElement("tr");
  tr.dataset.id = job.id;
  tr.dataset.status = job.status;
  const [data, net, opt] = describe(job.config || {});
  const p = job.progress || {};
  const epochs = (job.config || {}).epochs;
  const acc = typeof p.test_acc === "number" ? `${(100 * p.test_acc).toFixed(1)} %` : "—";
  const created = job.created ? new Date(job.created).toLocaleTimeString() : "—";
  tr.append(td(created), statusCell(job), td(data), td(net), td(opt),
    td(`${p.epoch ?? 0} / ${epochs ?? "?"}`, "num"), td(acc, "num"));
  const idCell = document.createElement("td");
  const a = document.createElement("a");
  a.href = `/labs/training?job=${encodeURIComponent(job.id)}`;
  a.textContent = job.id.slice(0, 8) + "…";
  a.title = "watch this run in the training lab (watching never stops it)";
  idCell.append(a);
  const act = document.createElement("td");
  if (LIVE.has(job.status)) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "stop";
    b.textContent = "Stop";
    b.setAttribute("aria-label", `Stop job ${job.id.slice(0, 8)}`);
    b.addEventListener("click", () => stopJob(job.id, b));
    act.append(b);
  }
  tr.append(idCell, act);
  return tr;
}

function render(body) {
  const jobs = body.jobs || [];
  const count = (s) => jobs.filter((j) => j.status === s).length;
  const parts = [`${count("running")} running`, `${count("queued")} queued`,
    `${count("succeeded")} succeeded`];
  for (const s of ["failed", "cancelled", "interrupted"]) if (count(s)) parts.push(`${count(s)} ${s}`);
  $("#jobs-summary").textContent = jobs.length
    ? `${jobs.length} job${jobs.length === 1 ? "" : "s"}: ${parts.join(", ")}. Queue: ${body.active} of ${body.queue_limit} places in use.`
    : `No jobs yet. Queue: ${body.active} of ${body.queue_limit} places in use.`;
  $("#jobs-table tbody").replaceChildren(...jobs.map(row));
  $("#jobs-panel").hidden = false;
  $("#forget").hidden = false;
}

async function load() {
  const token = sessionStorage.getItem(KEY);
  if (!token) return;
  inflight?.abort();
  inflight = new AbortController();
  let r;
  try {
    r = await fetch(`${JOBS}?limit=200`, {
      headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
      signal: inflight.signal,
    });
  } catch (e) {
    if (e.name !== "AbortError") showError("The server could not be reached; retrying.");
    return;
  }
  const body = await r.json().catch(() => null);
  if (!r.ok) {
    if (r.status === 401 || r.status === 403) forget();
    showError(r.status === 401 ? "That is not the teacher token." : errorMessage(r.status, body));
    return;
  }
  showError("");
  render(body);
}

async function stopJob(id, button) {
  button.disabled = true;
  try {
    const r = await fetch(`${JOBS}/${encodeURIComponent(id)}`, { method: "DELETE", headers: { Accept: "application/json" } });
    if (!r.ok) showError(errorMessage(r.status, await r.json().catch(() => null)));
  } catch {
    showError("The server could not be reached.");
  }
  load();
}

function start() {
  clearInterval(timer);
  load();
  timer = setInterval(() => { if (document.visibilityState === "visible") load(); }, REFRESH_MS);
}

function forget() {
  clearInterval(timer);
  timer = null;
  sessionStorage.removeItem(KEY);
  $("#jobs-panel").hidden = true;
  $("#forget").hidden = true;
}

$("#token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const token = $("#token").value.trim();
  if (!token) return;
  sessionStorage.setItem(KEY, token);
  $("#token").value = "";
  start();
});
$("#forget").addEventListener("click", () => { forget(); showError(""); $("#token").focus(); });
document.addEventListener("visibilitychange", () => { if (document.visibilityState === "visible" && timer) load(); });

if (sessionStorage.getItem(KEY)) start();
document.body.dataset.ready = "1";
