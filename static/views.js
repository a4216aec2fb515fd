// The browse views and the tab bar above them: the hash (`#/albums`, `#/album/<id>`, …) says which
// view shows, so Back, reload and links work; no hash is the folder list (Tracks), which stays
// built underneath while another view shows. A view's data is fetched when it opens.

import { catalogViews } from "./catalog.js";
import { onChange } from "./library.js";
import { draw } from "./rows.js";
import { leaveRows } from "./viewrows.js";

const section = document.querySelector("[data-testid=view]");
const tracksView = document.querySelector("[data-testid=tracks-view]");
const tabs = document.querySelector("[data-testid=tabs]");
const views = { ...catalogViews };
// Which tab each view belongs to.
const tabOf = { album: "albums", artist: "artists", genre: "genres" };

/** Adds views (name → `async (param) => nodes`) and the tab they sit under. */
export function addViews(more, tabsOf = {}) {
  Object.assign(views, more);
  Object.assign(tabOf, tabsOf);
}

// The library is needed to show a view's tracks: views wait for its first answer.
let loaded;
const libraryLoaded = new Promise((resolve) => { loaded = resolve; });
onChange(() => loaded());

let shown = 0; // the number of the latest route, so a slow answer does not replace a newer view

async function route(focus) {
  const [, name = "", param = ""] = location.hash.match(/^#\/([a-z]*)\/?(.*)$/) || [];
  const view = views[name];
  const tab = view ? (tabOf[name] ?? name) : "tracks";
  for (const link of tabs?.querySelectorAll("a") || []) {
    if (link.dataset.tab === tab) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  const number = ++shown;
  tracksView.hidden = !!view;
  section.hidden = !view;
  leaveRows();
  if (!view) {
    section.replaceChildren();
    draw();
    return;
  }
  section.setAttribute("aria-busy", "true");
  await libraryLoaded;
  const nodes = await view(decodeURIComponent(param)).catch(() => null);
  if (number !== shown) return;
  section.removeAttribute("aria-busy");
  if (!nodes) return;
  section.replaceChildren(...nodes);
  document.dispatchEvent(new CustomEvent("view-shown", { detail: { section } }));
  if (focus) section.querySelector("[data-testid=view-title]")?.focus();
}

/** Draws the view on screen again (after an edit). */
export function showView() { route(false); }

/** Shows the view the hash names now, and again whenever it changes. */
export function setUpViews() {
  if (!section || !tracksView) return;
  addEventListener("hashchange", () => route(true));
  route(false);
}
