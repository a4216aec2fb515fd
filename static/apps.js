// The Apps view (`#/apps`): how to connect a Subsonic app to this server (its address and the
// listener's user name) and the listener's API keys and app passwords: made here (the secret shown
// once, with a copy button), listed with their last use, revoked.

import { getJSON, send } from "./api.js";
import { el } from "./catalog.js";
import { showView } from "./views.js";

const heading = (text) => el("h2", { id: "view-title", tabindex: "-1", "data-testid": "view-title", text });
const when = (ms) => new Date(ms).toLocaleString();
const kinds = { "api-key": "API key", "app-password": "App password" };

let made = null; // the credential just made, shown once with its secret

function shownOnce() {
  if (!made) return [];
  const secret = el("code", { class: "secret", "data-testid": "app-secret", text: made.secret });
  const copy = el("button", { type: "button", "data-testid": "app-secret-copy", text: "Copy" });
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(made.secret);
      copy.textContent = "Copied";
    } catch (_) {
      copy.textContent = "Select and copy it";
    }
  });
  const what = kinds[made.kind] || made.kind;
  const box = el("div", { class: "empty made", role: "status", "data-testid": "app-made" },
    el("p", { text: `${what} for “${made.label}”, shown only now:` }), secret, " ", copy);
  made = null;
  return [box];
}

function makeForm() {
  const input = el("input", { id: "app-label", type: "text", required: true, maxlength: 200, value: "phone", "data-testid": "app-label", autocomplete: "off" });
  const button = (kind, text) => {
    const b = el("button", { type: "button", "data-testid": `make-${kind}`, text });
    b.addEventListener("click", async () => {
      const label = input.value.trim();
      if (!label) return;
      const response = await send("POST", "/api/apps", { kind, label });
      if (response?.ok) made = await response.json();
      showView();
    });
    return b;
  };
  return el("form", { class: "new-playlist", "data-testid": "app-form" },
    el("label", { for: "app-label", text: "For" }), input,
    button("app-password", "Make an app password"), button("api-key", "Make an API key"));
}

function list(credentials) {
  if (!credentials.length) return el("p", { class: "empty", "data-testid": "apps-none", text: "No app passwords or API keys yet." });
  const ul = el("ul", { class: "names", "data-testid": "app-credentials", "aria-label": "App passwords and API keys" });
  for (const c of credentials) {
    const revoke = el("button", { type: "button", "data-testid": "app-revoke", "aria-label": `Revoke ${kinds[c.kind]} ${c.label}`, text: "Revoke" });
    revoke.addEventListener("click", async () => {
      await send("DELETE", `/api/apps/${encodeURIComponent(c.id)}`);
      showView();
    });
    ul.append(el("li", { "data-testid": "app-credential" },
      el("span", { text: `${c.label}` }),
      el("span", { class: "count", text: `${kinds[c.kind] || c.kind} · made ${when(c.created)} · ${c.used ? `used ${when(c.used)}` : "never used"}` }),
      revoke));
  }
  return ul;
}

async function apps() {
  const data = await getJSON("/api/apps");
  const address = el("code", { "data-testid": "app-server", text: location.origin });
  const nodes = [heading("Connect an app"),
    el("p", { text: "Subsonic apps (Symfonium, DSub, Ultrasonic, Substreamer, Tempo, Amperfy, Feishin, Supersonic, …) connect with this address: " }, address)];
  if (!data) return [...nodes, el("p", { class: "empty", text: "This is unavailable right now." })];
  if (!data.credentials_needed) {
    return [...nodes, el("p", { class: "empty", "data-testid": "apps-open", text: "This server has no users: apps sign in with any user name and password." })];
  }
  nodes.push(el("p", {}, "User name: ", el("code", { "data-testid": "app-user", text: data.user })));
  nodes.push(el("p", { text: "Apps that ask for a password can use yours, or, better, an app password made here (apps that use token authentication need one). Apps that offer API keys can use a key instead." }));
  return [...nodes, ...shownOnce(), makeForm(), list(data.credentials)];
}

export const appViews = { apps };
