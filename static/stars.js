// Stars: the listener's starred tracks, albums and artists, loaded once from `/api/stars`, shown
// on every star toggle (a track row's, the now-playing bar's, an album's or artist's page) and
// changed at once on a press, put back with a note if the server refuses.

import { getJSON, send } from "./api.js";
import { albumGrid, el } from "./catalog.js";
import { library } from "./library.js";
import { trackRows } from "./viewrows.js";

/** Id → when it was starred (ms), for tracks, albums and artists alike (their ids differ by prefix). */
export const starred = new Map();
const note = document.querySelector("[data-testid=star-note]");

// A toggle names what it stars: a row's by its track (`data-name` of the row), any other by
// `data-star` (an id) and `data-star-name`.
function target(button) {
  if (button.dataset.star) return { id: button.dataset.star, name: button.dataset.starName || "" };
  const track = library.byName.get(button.closest("[data-name]")?.dataset.name);
  return track?.id ? { id: track.id, name: track.title } : null;
}

/** Shows on `button` whether what it names is starred. */
export function paintStar(button) {
  const what = target(button);
  if (!what) return;
  button.setAttribute("aria-pressed", String(starred.has(what.id)));
  if (button.dataset.star) button.setAttribute("aria-label", `Star ${what.name}`);
}

function paintAll(root = document) {
  for (const button of root.querySelectorAll("[data-testid=star], [data-star]")) paintStar(button);
}

async function toggle(button) {
  const what = target(button);
  if (!what) return;
  const was = starred.has(what.id);
  if (was) starred.delete(what.id); else starred.set(what.id, Date.now());
  paintAll();
  const response = await send(was ? "DELETE" : "PUT", `/api/stars/${encodeURIComponent(what.id)}`);
  if (response?.ok) { if (note) note.hidden = true; return; }
  // Refused or unreachable: as it was, and said.
  if (was) starred.set(what.id, Date.now()); else starred.delete(what.id);
  paintAll();
  if (note) {
    note.textContent = `Could not ${was ? "unstar" : "star"} ${what.name}: the server did not take it.`;
    note.hidden = false;
  }
}

/** Loads the starred set once and wires every toggle (present and future) to it. */
export async function setUpStars(onNewRow) {
  document.addEventListener("click", (event) => {
    const button = event.target.closest?.("[data-testid=star], [data-star]");
    if (button instanceof HTMLButtonElement) toggle(button);
  });
  onNewRow((li) => { const b = li.querySelector("[data-testid=star]"); if (b) paintStar(b); });
  document.addEventListener("view-shown", (event) => paintAll(event.detail.section));
  const data = await getJSON("/api/stars");
  if (!data) return;
  for (const kind of ["tracks", "albums", "artists"]) {
    for (const [id, at] of Object.entries(data[kind] || {})) starred.set(id, at);
  }
  paintAll();
}

// The Starred view: starred tracks as playable rows, then albums and artists, newest first.
async function starredView() {
  const [stars, albums, artists] = await Promise.all([getJSON("/api/stars"), getJSON("/api/albums"), getJSON("/api/artists")]);
  const heading = el("h2", { id: "view-title", tabindex: "-1", "data-testid": "view-title", text: "Starred" });
  if (!stars) return [heading, el("p", { class: "empty", text: "Stars are unavailable right now." })];
  const newest = (kind) => Object.entries(stars[kind] || {}).sort((a, b) => b[1] - a[1]).map(([id]) => id);
  const byId = new Map(library.tracks.map((t) => [t.id, t]));
  const tracks = newest("tracks").map((id) => byId.get(id)).filter(Boolean);
  const pick = (list, kind) => { const ids = new Map(list.map((x) => [x.id, x])); return newest(kind).map((id) => ids.get(id)).filter(Boolean); };
  const starredAlbums = pick(albums?.albums || [], "albums");
  const starredArtists = pick(artists?.artists || [], "artists");
  const names = el("ul", { class: "names", "data-testid": "artists", "aria-label": "Starred artists" });
  for (const a of starredArtists) names.append(el("li", {}, el("a", { href: `#/artist/${a.id}`, "data-testid": "artist", text: a.name })));
  const none = (text) => el("p", { class: "empty", text });
  return [heading,
    el("h3", { text: "Tracks" }), tracks.length ? trackRows(tracks, { label: "Starred tracks" }) : none("No starred tracks."),
    el("h3", { text: "Albums" }), starredAlbums.length ? albumGrid(starredAlbums, "Starred albums") : none("No starred albums."),
    el("h3", { text: "Artists" }), starredArtists.length ? names : none("No starred artists.")];
}

/** The Starred view, for views.js. */
export const starredViews = { starred: starredView };
