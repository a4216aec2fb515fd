// The track list kept current: when the folder changes, the list is swapped for a fresh one
// without stopping what plays; a player that cannot load its track says so in words.

import { restorePositions } from "./resume.js";
import { applySearch } from "./search.js";

// The folder changed: fetch the page again and swap in its track list with fresh titles, tags and
// covers, moving every player that is still listed into it as it is (playing, paused, position and
// all: moved within one task, a media element does not pause). Changes that arrive during a
// refresh (a long scan sends one a second) are folded into one more refresh.
let refreshing = null, again = false;
export function scheduleRefresh() {
  if (refreshing) { again = true; return; }
  refreshing = refreshLibrary().catch(() => {}).finally(() => {
    refreshing = null;
    if (again) { again = false; scheduleRefresh(); }
  });
}
async function refreshLibrary() {
  const response = await fetch("/", { cache: "no-store" });
  if (!response.ok) return;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  const main = fresh.querySelector("main");
  for (const item of main.querySelectorAll("[data-testid=track]")) {
    const name = CSS.escape(item.dataset.name);
    const live = document.querySelector(`main [data-testid=track][data-name="${name}"]`);
    if (!live) continue;
    item.querySelector("audio").replaceWith(live.querySelector("audio"));
    const problem = live.querySelector(".problem");
    if (problem) item.append(problem);
  }
  document.querySelector("main").replaceWith(document.adoptNode(main));
  const subtitle = fresh.querySelector(".subtitle");
  if (subtitle) document.querySelector(".subtitle").replaceWith(document.adoptNode(subtitle));
  explainFailures();
  restorePositions();
  applySearch();
}

// A player that cannot load its track says so next to it, in words, instead of just greying out.
export function explainFailures() {
  for (const audio of document.querySelectorAll("audio:not([data-explained])")) {
    audio.dataset.explained = "";
    audio.addEventListener("error", () => {
      const track = audio.closest("[data-testid=track]");
      if (!track || track.querySelector(".problem")) return;
      const note = document.createElement("p");
      note.className = "problem";
      note.setAttribute("role", "status");
      note.textContent = "This track could not be loaded. The server may be busy or the file may " +
        "have changed; reload the page or try again in a few seconds.";
      track.append(note);
    });
  }
}
