// The one fetch wrapper every lab uses: JSON in, JSON out, readable errors, silent aborts.
//
//   const cat = await getJSON("/api/v1/catalog");
//   try { const r = await postJSON("/api/v1/optimize", body, { signal }); }
//   catch (e) { if (!isAbort(e)) showError(e.message); }

/** An error a person can read: the server's message (422 names the field), or what went wrong. */
export class ApiError extends Error {
  constructor(message, { status = 0, detail = null, url = "" } = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status; // HTTP status, 0 when the server could not be reached
    this.detail = detail; // FastAPI's [{loc, msg, type}] list when there is one
    this.url = url;
  }
}

/** True for an aborted request (a newer request replaced it): callers ignore these. */
export function isAbort(err) {
  return !!err && (err.name === "AbortError" || (err instanceof DOMException && err.code === 20));
}

/** "optimizers → 0 → lr" from FastAPI's loc, without the leading "body". */
function locText(loc) {
  if (!Array.isArray(loc)) return "";
  const parts = loc.filter((p, i) => !(i === 0 && (p === "body" || p === "query" || p === "path")));
  return parts.map(String).join(" → ");
}

/** Turns an error body into one readable sentence. Exported for tests and other labs. */
export function errorMessage(status, body) {
  if (body && typeof body === "object") {
    if (typeof body.message === "string" && body.message) return body.message;
    const d = body.detail;
    if (Array.isArray(d) && d.length) {
      return d
        .slice(0, 3)
        .map((e) => {
          const where = locText(e.loc);
          return where ? `${where}: ${e.msg}` : String(e.msg);
        })
        .join("; ") + (d.length > 3 ? ` (and ${d.length - 3} more)` : "");
    }
    if (typeof d === "string" && d) return d;
  }
  if (status === 413) return "The request is too large for the server.";
  if (status === 429) return "The server is busy; try again in a moment.";
  if (status >= 500) return `The server failed (HTTP ${status}).`;
  return `Request failed (HTTP ${status}).`;
}

async function request(method, url, body, { signal } = {}) {
  let resp;
  try {
    resp = await fetch(url, {
      method,
      headers: body === undefined ? { Accept: "application/json" } : { "Content-Type": "application/json", Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new ApiError("Cannot reach the MathLens server. Is it still running?", { url });
  }
  let data = null;
  const text = await resp.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!resp.ok) {
    throw new ApiError(errorMessage(resp.status, data), {
      status: resp.status,
      detail: data && data.detail,
      url,
    });
  }
  return data;
}

/** GET a JSON document. */
export function getJSON(url, opts) {
  return request("GET", url, undefined, opts);
}

/** POST a JSON body, resolve to the parsed JSON reply; rejects with ApiError or an AbortError. */
export function postJSON(url, body, opts) {
  return request("POST", url, body, opts);
}

/**
 * A request slot that keeps only the newest call: starting a new one aborts the one in flight.
 *   const slot = latest();  const data = await slot.post(url, body);  // AbortError if superseded
 */
export function latest() {
  let ctrl = null;
  return {
    post(url, body) {
      if (ctrl) ctrl.abort();
      const mine = new AbortController();
      ctrl = mine;
      return postJSON(url, body, { signal: mine.signal }).finally(() => {
        if (ctrl === mine) ctrl = null;
      });
    },
    get busy() {
      return ctrl !== null;
    },
    abort() {
      if (ctrl) ctrl.abort();
      ctrl = null;
    },
  };
}
