// The playable rows of a browse view (an album, a genre, starred tracks): the folder list's row
// markup and players, laid out in order (no windowing: a view holds one album's or list's tracks).
// Next and previous follow the view a track was started from; a row still playing when its view
// is left moves to a hidden holder, so the music goes on, and comes back if its track is shown again.

import { library } from "./library.js";
import { followList, followView } from "./queue.js";
import { buildRow, kept } from "./rows.js";

const holder = document.querySelector("[data-testid=kept-players]");
let shown = null; // { tracks, rows: Map(name → <li>) } of the view on screen

const busy = (li) => {
  const audio = li.querySelector("audio");
  return !!audio && (kept.has(audio) || !audio.paused);
};

/** A row for `track`: the held one if its track still plays, else a new one. */
function rowOf(track) {
  for (const li of holder?.children || []) {
    if (li.dataset.name !== track.name) continue;
    li.querySelector(".entry-tools")?.remove(); // a playlist's, added again if this is one
    return li;
  }
  return buildRow(track);
}

/** Leaves the view on screen: its playing rows go to the holder, the rest are dropped. */
export function leaveRows() {
  if (!shown) return;
  for (const li of shown.rows.values()) if (li.isConnected && busy(li)) holder?.append(li);
  shown = null;
}

/** A list of playable rows for `tracks` (library tracks, in order); with `discs`, a heading before
 * each disc's first track (`disc(track)` says which). */
export function trackRows(tracks, { disc = null, label = "Tracks" } = {}) {
  leaveRows();
  const ul = document.createElement("ul");
  ul.className = "tracks view-tracks";
  ul.dataset.testid = "view-tracks";
  ul.setAttribute("aria-label", label);
  const rows = new Map();
  const playable = tracks.filter((t) => !t.unreadable);
  let lastDisc = null;
  tracks.forEach((track, i) => {
    if (disc && disc(track) !== lastDisc) {
      lastDisc = disc(track);
      const heading = document.createElement("li");
      heading.className = "folder";
      heading.dataset.testid = "disc";
      heading.innerHTML = "<h3></h3>";
      heading.firstChild.textContent = `Disc ${lastDisc ?? "?"}`;
      ul.append(heading);
    }
    const li = rowOf(track);
    li.hidden = false;
    li.style.transform = "";
    li.setAttribute("aria-setsize", tracks.length);
    li.setAttribute("aria-posinset", i + 1);
    rows.set(track.name, li);
    ul.append(li);
  });
  shown = { tracks: playable, rows };
  return ul;
}

/** The player of the view's first playable track, or null. */
export function firstPlayer() {
  const first = shown?.tracks[0];
  return first ? shown.rows.get(first.name)?.querySelector("audio") ?? null : null;
}

// The player of `track` in `view` (back from wherever its row went, into the holder if the view
// was left).
function playerIn(view, track) {
  let li = view.rows.get(track.name);
  if (!li) { li = buildRow(track); view.rows.set(track.name, li); }
  if (!li.isConnected) holder?.append(li);
  return li.querySelector("audio");
}

/** Follows, for next and previous, the list a track is started from. */
export function setUpViewRows() {
  document.addEventListener("play", (event) => {
    const audio = event.target;
    if (!(audio instanceof HTMLAudioElement)) return;
    if (audio.closest("[data-testid=view]") && shown) {
      const view = shown;
      followView(view.tracks, (track) => playerIn(view, track));
    } else if (audio.closest("[data-testid=tracks]")) {
      followList();
    }
    // Held rows that stopped (and are neither current nor next) are let go.
    for (const li of [...(holder?.children || [])]) if (li !== audio.closest("li") && !busy(li)) li.remove();
  }, true);
}

/** The library's tracks named by `entries` (`{ name }`), those the list holds, in order. */
export const tracksOf = (entries) => entries.map((e) => library.byName.get(e.name)).filter(Boolean);
