// Resume: each track's position, the current track, and shuffle and repeat are kept in this
// browser and restored when the page loads again (positions as each player is built).

import { setCurrent, setModes } from "./player.js";
import { audioFor, onNewAudio } from "./rows.js";
import { library } from "./library.js";
import { CURRENT, MODES, POSITIONS, store, stored } from "./store.js";

const nameOf = (audio) => audio.closest("[data-name]")?.dataset.name;

function rememberPosition(audio) {
  const name = nameOf(audio);
  if (!name || !Number.isFinite(audio.currentTime)) return;
  const positions = stored(POSITIONS, {});
  // A finished track starts from the beginning next time.
  positions[name] = audio.ended ? 0 : Math.floor(audio.currentTime * 10) / 10;
  store(POSITIONS, positions);
}

// Seeks a new player to where its track was left, once it knows its length.
function restorePosition(audio) {
  const name = nameOf(audio);
  const at = name && stored(POSITIONS, {})[name];
  if (!at) return;
  const seek = () => { if (audio.currentTime < 0.1 && at < (audio.duration || Infinity)) audio.currentTime = at; };
  if (audio.readyState >= 1) seek(); else audio.addEventListener("loadedmetadata", seek, { once: true });
}

export function setUpResume() {
  let lastSave = 0;
  document.addEventListener("timeupdate", (event) => {
    if (!(event.target instanceof HTMLAudioElement) || Date.now() - lastSave < 1000) return;
    lastSave = Date.now();
    rememberPosition(event.target);
  }, true);
  for (const type of ["pause", "seeked", "ended"]) {
    document.addEventListener(type, (event) => {
      if (event.target instanceof HTMLAudioElement) rememberPosition(event.target);
    }, true);
  }
  document.addEventListener("play", (event) => {
    if (event.target instanceof HTMLAudioElement) store(CURRENT, nameOf(event.target));
  }, true);
  // A new row is not in the document yet: look its name up once it is.
  onNewAudio((audio) => queueMicrotask(() => restorePosition(audio)));
  setModes(stored(MODES, {}));
}

/** Makes the track that was current last time current again (not playing), once the list is in. */
export function restoreCurrent() {
  const track = library.byName.get(stored(CURRENT, null));
  if (track && !track.unreadable) setCurrent(audioFor(track));
}
