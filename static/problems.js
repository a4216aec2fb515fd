// A player that cannot load its track says why, in words, next to it: the server's answer for the
// track decides which sentence (gone, storage too slow, format this browser cannot play, server
// unreachable). The sentence stays with the track if its row is rebuilt.

import { library } from "./library.js";

/** Track name → the sentence shown. */
export const problems = new Map();

/** Shows `text` in the row `li` (once). */
export function showProblem(li, text) {
  let note = li.querySelector(".problem");
  if (!note) {
    note = document.createElement("p");
    note.className = "problem";
    note.dataset.testid = "problem";
    note.setAttribute("role", "status");
    li.append(note);
  }
  note.textContent = text;
}

async function explain(audio) {
  const li = audio.closest("[data-name]");
  const code = audio.error?.code;
  if (!li || !code || code === MediaError.MEDIA_ERR_ABORTED) return;
  const format = library.byName.get(li.dataset.name)?.format || "this kind of";
  let text;
  try {
    const response = await fetch(audio.currentSrc || audio.src, { method: "HEAD", cache: "no-store" });
    if (response.status === 404) text = "This file is no longer in the library folder.";
    else if (response.status === 401) text = "You are signed out: sign in again to play this track.";
    else if (response.status === 503) {
      text = "The server could not read this file in time (its storage is slow or busy). Press play to try again.";
    } else if (response.ok && code === MediaError.MEDIA_ERR_NETWORK) {
      text = "The connection dropped while this track was loading. Press play to try again.";
    } else if (response.ok) text = `This browser cannot play ${format} files.`;
    else text = `The server answered ${response.status} for this file.`;
  } catch (_) {
    text = "The server cannot be reached. Press play to try again once it is back.";
  }
  problems.set(li.dataset.name, text);
  showProblem(li, text);
  // The now-playing bar says it too: the row may be far away, or gone from the list.
  document.dispatchEvent(new CustomEvent("track-problem", { detail: { audio, name: li.dataset.name, text } }));
}

export function setUpProblems() {
  document.addEventListener("error", (event) => {
    if (event.target instanceof HTMLAudioElement) explain(event.target);
  }, true);
  document.addEventListener("playing", (event) => {
    const li = event.target instanceof HTMLAudioElement && event.target.closest("[data-name]");
    if (!li || !problems.delete(li.dataset.name)) return;
    li.querySelector("[role=status].problem")?.remove();
  }, true);
}
