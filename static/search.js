// Search as you type, over the whole library (not only the rows on screen): every word must appear
// in the track's title, artist, album, folder or file name; "/" focuses the box and Escape clears
// it. An empty result says so.

import { matched, setFilter } from "./rows.js";

const input = document.querySelector("[data-testid=search]");
const haystacks = new WeakMap();
function haystack(track) {
  let text = haystacks.get(track);
  if (text === undefined) {
    text = [track.title, track.artist, track.album, track.folder, track.file_name].filter(Boolean).join(" ").toLowerCase();
    haystacks.set(track, text);
  }
  return text;
}

/** Prepares every track's search text while the page is idle, so the first keystroke does not. */
export function prepareSearch(tracks) {
  const idle = window.requestIdleCallback || ((fn) => setTimeout(fn, 50));
  idle(() => { for (const track of tracks) haystack(track); });
}

export function applySearch() {
  const query = input ? input.value.trim() : "";
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length) setFilter((track) => words.every((w) => haystack(track).includes(w)));
  else setFilter(() => true);
  const none = document.querySelector("[data-testid=no-match]");
  if (none) {
    none.hidden = !(words.length && matched === 0);
    none.querySelector("span").textContent = query;
  }
  const result = document.querySelector("[data-testid=search-result]");
  if (result) {
    const n = matched;
    result.textContent = words.length ? (n === 1 ? "1 track matches" : n ? `${n} tracks match` : "no tracks match") : "";
  }
}

export function setUpSearch() {
  if (!input) return;
  input.addEventListener("input", applySearch);
  document.addEventListener("keydown", (event) => {
    const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLTextAreaElement;
    if (event.key === "/" && !typing) {
      event.preventDefault();
      input.focus();
    } else if (event.key === "Escape" && event.target === input) {
      input.value = "";
      applySearch();
    }
  });
}
