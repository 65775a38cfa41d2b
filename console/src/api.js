// The public HTTP API, as the console calls it: the session cookie goes along
// (same origin), every state-changing request carries the session's CSRF token,
// and an error answer becomes an `ApiError` with the API's stable code.

let csrf = null;
// The server's clock minus the browser's, in seconds: deadlines count from the
// server's time (a rehearsal runs on a set clock; a browser's may be wrong).
let clockOffset = 0;

/** Now, by the server's clock, in seconds since the epoch. */
export function serverNow() {
  return Date.now() / 1000 + clockOffset;
}

function keepServerTime(s) {
  if (typeof s?.now === "number") clockOffset = s.now - Date.now() / 1000;
}

/** A session answer (sign-in or `GET /v1/session`): keep its CSRF token and the server's time. */
export function sessionStarted(s) {
  setCsrf(s.csrf_token);
  keepServerTime(s);
}

/** The session's CSRF token, from sign-in or `GET /v1/session`. */
export function setCsrf(token) {
  csrf = token;
}

/** An error answer of the API: HTTP status, stable code, bilingual message, details. */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code ?? "http_error";
    this.details = body?.details ?? null;
  }
  /** The Chinese half of the message (what a person reads). */
  get zh() {
    return this.message.split(" / ")[0];
  }
}

/** `fetch` a path of the API; JSON in and out. */
export async function call(method, path, body, { raw = false, headers = {} } = {}) {
  const h = { ...headers };
  if (method !== "GET" && method !== "HEAD" && csrf) h["X-CSRF-Token"] = csrf;
  let payload;
  if (body instanceof Blob || body instanceof ArrayBuffer) {
    payload = body;
    h["Content-Type"] = h["Content-Type"] ?? "application/octet-stream";
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    h["Content-Type"] = "application/json";
  }
  const r = await fetch(path, { method, headers: h, body: payload, credentials: "same-origin" });
  if (raw && r.ok) return r;
  const text = await r.text();
  const json = text ? JSON.parse(text) : null;
  if (!r.ok) {
    // The session ended (idle, signed out elsewhere, a new password): back to sign-in.
    if (r.status === 401 && !path.startsWith("/v1/session")) window.dispatchEvent(new Event("shenbao:signed-out"));
    throw new ApiError(r.status, json);
  }
  return json;
}

export const get = (path) => call("GET", path);
export const post = (path, body) => call("POST", path, body);
export const put = (path, body) => call("PUT", path, body);
export const del = (path) => call("DELETE", path);

/** Sign in: the server sets the session cookie; the CSRF token is kept here. */
export async function signIn(user, password) {
  const s = await post("/v1/session", { user, password });
  setCsrf(s.csrf_token);
  keepServerTime(s);
  return s.user;
}

/** The signed-in user, if the cookie still holds a session. */
export async function currentSession() {
  try {
    const s = await get("/v1/session");
    setCsrf(s.csrf_token);
    keepServerTime(s);
    return s.user;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return null;
    throw e;
  }
}

export async function signOut() {
  await del("/v1/session");
  setCsrf(null);
}
