// Talking to the console API: same-origin cookies, the CSRF header on every change, errors as
// readable sentences, and one place that notices an expired session.
import { sentence } from "./dom.js";

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);
let csrfToken = "";
let onExpired = () => {};

export class ApiError extends Error {
  constructor(status, detail, body = null) {
    super(detail);
    this.status = status;
    this.detail = detail;
    this.body = body; // the parsed answer, for fields besides `detail` (e.g. the login's `need`)
  }
}

export function setCsrf(token) {
  csrfToken = token || "";
}

/** Called with a message when a request comes back 401 (logged out, expired, disabled). */
export function whenSessionEnds(callback) {
  onExpired = callback;
}

function describe(status, body) {
  const detail = body && body.detail;
  if (typeof detail === "string" && detail) return sentence(detail);
  if (Array.isArray(detail) && detail.length) {
    // FastAPI validation errors: [{loc: ["body", "password"], msg: "..."}]
    return detail
      .map((d) => {
        const where = (d.loc || []).filter((p) => p !== "body" && p !== "query").join(" ");
        return sentence(where ? `${where}: ${d.msg}` : d.msg);
      })
      .join(" ");
  }
  if (status === 403) return "Your role does not allow this.";
  if (status === 404) return "This was not found. It may have been erased.";
  if (status >= 500) return `The server had a problem (HTTP ${status}). Please try again in a moment.`;
  return `The request failed (HTTP ${status}).`;
}

/** api("GET", "/api/conversations", undefined, {page: 2}) -> parsed JSON (null for 204). Throws ApiError. */
export async function api(method, path, body, params) {
  const headers = { Accept: "application/json" };
  const options = { method, credentials: "same-origin", headers, cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  if (UNSAFE.has(method)) headers["X-CSRF-Token"] = csrfToken;
  let response;
  try {
    response = await fetch(withQuery(path, params), options);
  } catch {
    throw new ApiError(0, "The console cannot reach the server. Check the connection and try again.");
  }
  let data = null;
  if ((response.headers.get("content-type") || "").includes("json")) {
    try {
      data = await response.json();
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, describe(response.status, data), data);
    if (response.status === 401 && path !== "/api/auth/login") onExpired(error.detail);
    throw error;
  }
  return response.status === 204 ? null : data;
}

/** "/api/export", {format: "csv", kind: ""} -> "/api/export?format=csv" (empty values left out). */
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

export const get = (path, params) => api("GET", path, undefined, params);
export const post = (path, body) => api("POST", path, body);
export const put = (path, body) => api("PUT", path, body);
export const patch = (path, body) => api("PATCH", path, body);
export const del = (path) => api("DELETE", path);
export const seg = (value) => encodeURIComponent(value);
