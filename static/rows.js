// The track list on screen, windowed: only the rows near the viewport exist, each track with its
// own <audio> player, so the page costs the same for 10 tracks or 10,000. Rows of tracks that
// play, or are about to, stay however far the list scrolls (a media element pauses when it leaves
// the document). The first screen of rows comes in the HTML; they are adopted, not rebuilt.
//
// Every other row is a copy of the blank row the list carries (escaped, in `data-blank`:
// templates/row.html, the markup's only definition), its data-slot elements filled with text the
// server formatted (the track's `byline`, `details` and `label`): this script only places it, so
// its rows are the server's, attribute for attribute.
//
// Heights are fixed, set in app.css (`--row`, `--folder-row`, in rem) and read here, so each
// row's place is a sum, not a measurement.

import { library } from "./library.js";
import { problems, showProblem } from "./problems.js";
import { setSource } from "./quality.js";

const list = document.querySelector("[data-testid=tracks]");
// The blank rows (a track's and a folder heading's) every other row is a copy of.
const blank = document.createElement("template");
blank.innerHTML = list?.dataset.blank ?? "";
const blanks = { track: blank.content.querySelector("li.track"), folder: blank.content.querySelector("li.folder") };
/** Audio elements that stay in the document wherever they are in the list (current, upcoming). */
export const kept = new Set();
const newAudioHooks = [];
/** `fn(audio, track)` runs for every player created. */
export function onNewAudio(fn) { newAudioHooks.push(fn); }
const newRowHooks = [];
/** `fn(li)` runs for every track row built or adopted. */
export function onNewRow(fn) { newRowHooks.push(fn); }

let filter = () => true;
let items = []; // { track, index } or { folder }, in list order, after the filter
let tops = [];
let indexOf = new Map(); // key → place in `items`
let height = 0;
/** The tracks shown (the filter applied), in order, without unreadable ones: what next/previous walk. */
export let shownTracks = [];
/** How many tracks the filter lets through (unreadable ones included). */
export let matched = 0;
const rows = new Map(); // key → <li>
const key = (item) => (item.track ? `t:${item.track.name}` : `f:${item.folder}`);

function sizes() {
  const style = getComputedStyle(list);
  const rem = parseFloat(getComputedStyle(document.documentElement).fontSize);
  return {
    row: parseFloat(style.getPropertyValue("--row")) * rem,
    folder: parseFloat(style.getPropertyValue("--folder-row")) * rem,
  };
}

/** Lays the list out again (after the library or the filter changed) and redraws it. */
function layout() {
  if (!list) return;
  const { row, folder } = sizes();
  items = []; tops = []; shownTracks = [];
  let y = 0, lastFolder = "", count = 0;
  for (const track of library.tracks) {
    if (!filter(track)) continue;
    if (track.folder !== lastFolder || items.length === 0) {
      if (track.folder) { items.push({ folder: track.folder }); tops.push(y); y += folder; }
      lastFolder = track.folder;
    }
    items.push({ track, index: count++ });
    tops.push(y); y += row;
    if (!track.unreadable) shownTracks.push(track);
  }
  height = y;
  matched = count;
  indexOf = new Map(items.map((item, i) => [key(item), i]));
  list.classList.add("windowed");
  list.style.height = `${height}px`;
  draw();
}

/** Sets which tracks show (`fn(track)`) and lays out again. */
export function setFilter(fn) { filter = fn; layout(); }

// Rows within this many pixels above and below the viewport exist too, so a scroll shows rows
// already built.
const OVERSCAN = 400;

/** Builds the rows near the viewport (and kept ones), drops the others. */
export function draw() {
  // Not while another view shows (the list is hidden then; it is drawn again when it returns).
  if (!list || !list.classList.contains("windowed") || list.closest("[hidden]")) return;
  const top = -list.getBoundingClientRect().top - OVERSCAN;
  const bottom = top + innerHeight + 2 * OVERSCAN;
  let lo = 0, hi = items.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if ((tops[mid + 1] ?? height) <= top) lo = mid + 1; else hi = mid; }
  const want = new Map();
  for (let i = lo; i < items.length && tops[i] < bottom; i++) want.set(key(items[i]), i);
  for (const [k, el] of rows) if (!want.has(k) && indexOf.has(k) && isKept(el)) want.set(k, indexOf.get(k));
  for (const [k, el] of rows) {
    if (want.has(k)) continue;
    if (isKept(el)) { el.hidden = true; continue; } // filtered out, still playing
    el.remove();
    rows.delete(k);
  }
  const order = [...want].sort((a, b) => a[1] - b[1]);
  let at = 0;
  for (const [k, i] of order) {
    const item = items[i];
    let el = rows.get(k);
    if (!el) { el = item.track ? trackRow(item.track) : folderRow(item.folder); rows.set(k, el); }
    el.hidden = false;
    el.style.transform = `translateY(${tops[i]}px)`;
    if (item.track) {
      // Of the tracks listed (unreadable ones too, as the server counts them).
      el.setAttribute("aria-setsize", matched);
      el.setAttribute("aria-posinset", item.index + 1);
    }
    // Keep document order = list order (Tab order); a move within one task does not pause a player.
    if (list.children[at] !== el) list.insertBefore(el, list.children[at] || null);
    at += 1;
  }
}

const isKept = (el) => {
  const audio = el.querySelector("audio");
  return !!audio && (kept.has(audio) || !audio.paused);
};

/** The player of `track`, its row built (and kept) if it was not. */
export function audioFor(track) {
  const k = `t:${track.name}`;
  let el = rows.get(k);
  if (!el) { el = trackRow(track); rows.set(k, el); list.append(el); }
  const audio = el.querySelector("audio");
  if (audio) { kept.add(audio); draw(); }
  return audio;
}

/** The track a player plays. */
export const trackOf = (audio) => library.byName.get(audio?.closest("[data-name]")?.dataset.name);

/** Rebuilds the rows of `names` (every row when null) in place (new tags, titles, covers), keeping
 * their players. */
export function refreshRows(names) {
  names ??= [...rows.keys()].filter((k) => k.startsWith("t:")).map((k) => k.slice(2));
  for (const name of names) {
    const el = rows.get(`t:${name}`);
    const track = library.byName.get(name);
    if (!el) continue;
    if (!track) { if (!isKept(el)) { el.remove(); rows.delete(`t:${name}`); } continue; }
    const fresh = trackRow(track, el.querySelector("audio"));
    el.replaceWith(fresh);
    rows.set(`t:${name}`, fresh);
  }
}

/** Adopts the rows the server rendered. */
export function adoptRows() {
  for (const el of list?.children || []) {
    rows.set(el.dataset.name ? `t:${el.dataset.name}` : `f:${el.dataset.folder}`, el);
    if (el.dataset.name) for (const fn of newRowHooks) fn(el);
    const audio = el.querySelector("audio");
    if (audio) for (const fn of newAudioHooks) fn(audio);
  }
}

/** A copy of the blank row of `kind` ("track" or "folder"), and a lookup of its slots. */
function copy(kind) {
  const el = document.importNode(blanks[kind], true);
  return [el, (name) => el.querySelector(`[data-slot=${name}]`)];
}

function folderRow(folder) {
  const [li, slot] = copy("folder");
  li.dataset.folder = folder;
  slot("folder").textContent = folder;
  return li;
}

/** A new row for `track`, the list's markup with its player, for a browse view's list. */
export const buildRow = (track) => trackRow(track);

// One track's row: cover, title, byline, details, and its player (`audio`, when it has one
// already) or, for a file the server could not read, a sentence saying so. Of each pair the
// blank holds both; the one this track does not show is removed.
function trackRow(track, audio = null) {
  const [li, slot] = copy("track");
  li.dataset.name = track.name;
  if (track.art) {
    slot("cover").setAttribute("src", track.art);
    slot("no-cover").remove();
  } else {
    slot("cover").remove();
  }
  slot("title").textContent = track.title;
  slot("byline").textContent = track.byline;
  slot("details").textContent = track.details;
  slot("star").setAttribute("aria-label", `Star ${track.title}`);
  for (const fn of newRowHooks) fn(li);
  if (track.unreadable) {
    slot("player").remove();
    return li;
  }
  slot("unreadable").remove();
  if (audio) {
    audio.setAttribute("aria-label", track.label);
    slot("player").replaceWith(audio);
  } else {
    audio = slot("player");
    audio.setAttribute("aria-label", track.label);
    setSource(audio, track.url);
    for (const fn of newAudioHooks) fn(audio, track);
  }
  if (problems.has(track.name)) showProblem(li, problems.get(track.name));
  return li;
}

let scheduled = false;
addEventListener("scroll", () => {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => { scheduled = false; draw(); });
}, { passive: true });
addEventListener("resize", () => layout());
