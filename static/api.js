// The JSON routes of the catalog and the listener's data: a 401 sends the listener to sign in (as
// library.js does), and a 503 (the database is down) shows one small note while the rest of the
// page goes on playing and browsing.

const note = document.querySelector("[data-testid=data-note]");

function signIn() {
  location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search + location.hash)}`);
}

/** Shows or hides the "unavailable" note. */
export function unavailable(yes) {
  if (note) note.hidden = !yes;
}

/** `fetch(url, init)`, answering the response when it is a success, else null (401 and 503 handled). */
export async function call(url, init = {}) {
  let response;
  try {
    response = await fetch(url, { cache: "no-store", ...init });
  } catch (_) {
    return null;
  }
  if (response.status === 401) { signIn(); return null; }
  if (response.status === 503) { unavailable(true); return null; }
  if (response.ok) unavailable(false); // back (the server recovers by itself)
  return response;
}

/** The JSON at `url`, or null when it could not be had. */
export async function getJSON(url) {
  const response = await call(url);
  return response && response.ok ? response.json() : null;
}

/** Sends `body` as JSON with `method`; answers the response (null when unreachable, 401 or 503). */
export function send(method, url, body, init = {}) {
  const headers = body === undefined ? {} : { "Content-Type": "application/json" };
  return call(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), ...init });
}
