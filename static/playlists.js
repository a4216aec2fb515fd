// Playlists: the listener's (and others' public ones) as a list, one playlist's tracks as
// playable rows with move up, move down and remove, rename, delete, play; and "Add to playlist…"
// for the track in the now-playing bar. An edit that depends on positions (move, remove) names
// the version it was made against; if someone changed the playlist meanwhile (409), it is loaded
// again and the listener told.

import { getJSON, send } from "./api.js";
import { barTrack } from "./bar.js";
import { el } from "./catalog.js";
import { firstPlayer, trackRows } from "./viewrows.js";
import { library } from "./library.js";
import { showView } from "./views.js";

const note = document.querySelector("[data-testid=star-note]");
function say(text) {
  if (!note) return;
  note.textContent = text;
  note.hidden = false;
  clearTimeout(say.timer);
  say.timer = setTimeout(() => { note.hidden = true; }, 6000);
}

const heading = (text) => el("h2", { id: "view-title", tabindex: "-1", "data-testid": "view-title", text });
const plural = (n, one) => `${n} ${one}${n === 1 ? "" : "s"}`;

/** A new playlist named `name` holding `tracks` (ids); its info, or null. */
async function create(name, tracks = []) {
  const response = await send("POST", "/api/playlists", { name, tracks });
  if (!response?.ok) { say(`Could not make the playlist ${name}.`); return null; }
  return response.json();
}

function newForm(onMade) {
  const input = el("input", { id: "new-playlist", type: "text", required: true, maxlength: 200, "data-testid": "new-playlist-name", autocomplete: "off" });
  const form = el("form", { class: "new-playlist", "data-testid": "new-playlist" },
    el("label", { for: "new-playlist", text: "New playlist" }), input,
    el("button", { type: "submit", "data-testid": "new-playlist-make", text: "Make" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (!name) return;
    const made = await create(name);
    if (made) onMade(made);
  });
  return form;
}

async function playlists() {
  const data = await getJSON("/api/playlists");
  const list = el("ul", { class: "names", "data-testid": "playlists", "aria-label": "Playlists" });
  for (const p of data?.playlists || []) {
    list.append(el("li", {}, el("a", { href: `#/playlist/${p.id}`, "data-testid": "playlist", text: p.name }),
      el("span", { class: "count", text: `${plural(p.entries, "track")}${p.mine ? "" : ` · ${p.owner}'s`}` })));
  }
  return [heading("Playlists"), newForm((made) => { location.hash = `#/playlist/${made.id}`; }),
    data ? (data.playlists.length ? list : el("p", { class: "empty", text: "No playlists yet." }))
      : el("p", { class: "empty", text: "Playlists are unavailable right now." })];
}

// Sends an edit of playlist `id`; on a 409 (changed meanwhile) says so; then shows it again.
async function edit(id, change, what) {
  const response = await send("PATCH", `/api/playlists/${encodeURIComponent(id)}`, change);
  if (response?.status === 409) say(`The playlist changed elsewhere, so it was loaded again: ${what} again if still wanted.`);
  else if (!response?.ok) say(`Could not ${what}.`);
  showView();
}

function tools(p, position, count, title) {
  const button = (action, text, label, disabled, change) => {
    const b = el("button", { type: "button", "data-testid": `entry-${action}`, "aria-label": `${label} ${title}`, disabled, text });
    b.addEventListener("click", () => edit(p.id, { ...change, version: p.version }, `${label.toLowerCase()} ${title}`));
    return b;
  };
  return el("div", { class: "entry-tools" },
    button("up", "↑", "Move up", position === 0, { move: { from: position, to: position - 1 } }),
    button("down", "↓", "Move down", position === count - 1, { move: { from: position, to: position + 1 } }),
    button("remove", "Remove", "Remove", false, { remove: [position] }));
}

async function playlist(id) {
  const data = await getJSON(`/api/playlists/${encodeURIComponent(id)}`);
  if (!data) return [heading("Not found"), el("p", { class: "empty", text: "This playlist is not there (any more)." })];
  const p = data.playlist;
  // Each entry's place in the playlist, for moves and removals (entries whose track left the
  // library keep their places, unshown).
  const places = [];
  const tracks = [];
  data.tracks.forEach((entry, position) => {
    const track = entry.name && library.byName.get(entry.name);
    if (track) { tracks.push(track); places.push(position); }
  });
  const rows = trackRows(tracks, { label: `Tracks of ${p.name}` });
  rows.classList.add("playlist-tracks");
  if (p.mine) {
    [...rows.children].forEach((li, i) => li.append(tools(p, places[i], data.tracks.length, tracks[i].title)));
  }
  const play = el("button", { type: "button", class: "play", "data-testid": "play-view", text: "Play" });
  play.addEventListener("click", () => firstPlayer()?.play().catch(() => {}));
  const actions = el("div", { class: "actions" }, play);
  if (p.mine) {
    const rename = el("button", { type: "button", "data-testid": "playlist-rename", text: "Rename" });
    rename.addEventListener("click", () => {
      const name = prompt("New name", p.name)?.trim();
      if (name && name !== p.name) edit(p.id, { name }, "rename the playlist");
    });
    const remove = el("button", { type: "button", "data-testid": "playlist-delete", text: "Delete" });
    remove.addEventListener("click", async () => {
      if (!confirm(`Delete the playlist ${p.name}?`)) return;
      const response = await send("DELETE", `/api/playlists/${encodeURIComponent(p.id)}`);
      if (response?.ok) location.hash = "#/playlists"; else say("Could not delete the playlist.");
    });
    actions.append(rename, remove);
  }
  return [heading(p.name), el("p", { class: "facts", text: plural(data.tracks.length, "track") }), actions,
    tracks.length ? rows : el("p", { class: "empty", text: "No tracks yet: add some with “Add to playlist…” in the bar." })];
}

/** The playlists' views, for views.js. */
export const playlistViews = { playlists, playlist };

// "Add to playlist…": a dialog listing the listener's playlists, and a new one's name.
async function openAdd() {
  const track = barTrack();
  const dialog = document.querySelector("[data-testid=add-dialog]");
  if (!track?.id || !dialog) return;
  const data = await getJSON("/api/playlists");
  const list = dialog.querySelector("[data-testid=add-choices]");
  list.replaceChildren();
  for (const p of (data?.playlists || []).filter((p) => p.mine)) {
    const choose = el("button", { type: "button", "data-testid": "add-to", text: p.name });
    choose.addEventListener("click", async () => {
      dialog.close();
      const response = await send("PATCH", `/api/playlists/${encodeURIComponent(p.id)}`, { append: [track.id] });
      say(response?.ok ? `Added ${track.title} to ${p.name}.` : `Could not add ${track.title} to ${p.name}.`);
      if (location.hash === `#/playlist/${p.id}`) showView();
    });
    list.append(el("li", {}, choose));
  }
  dialog.querySelector("[data-testid=add-what]").textContent = track.title;
  dialog.showModal();
}

/** Wires the bar's "Add to playlist…" and its dialog. */
export function setUpPlaylists() {
  document.querySelector("[data-testid=now-add]")?.addEventListener("click", openAdd);
  const dialog = document.querySelector("[data-testid=add-dialog]");
  const form = dialog?.querySelector("form.new");
  form?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const track = barTrack();
    const input = form.querySelector("input");
    const name = input.value.trim();
    if (!name || !track?.id) return;
    dialog.close();
    const made = await create(name, [track.id]);
    if (made) { input.value = ""; say(`Added ${track.title} to ${name}.`); }
    if (location.hash === "#/playlists") showView();
  });
  dialog?.querySelector("[data-testid=add-cancel]")?.addEventListener("click", () => dialog.close());
}
