// Resume: each track's position, the current track, and shuffle and repeat are kept in this
// browser and restored when the page loads again.

import { setCurrent, setModes } from "./player.js";
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
  restorePositions();
  setModes(stored(MODES, {}));
  const name = stored(CURRENT, null);
  const audio = name && document.querySelector(`[data-name="${CSS.escape(name)}"] audio`);
  if (audio) setCurrent(audio);
}

export function restorePositions() {
  const positions = stored(POSITIONS, {});
  for (const audio of document.querySelectorAll("audio:not([data-restored])")) {
    audio.dataset.restored = "";
    const at = positions[nameOf(audio)];
    if (!at) continue;
    const seek = () => { if (audio.currentTime < 0.1 && at < (audio.duration || Infinity)) audio.currentTime = at; };
    if (audio.readyState >= 1) seek(); else audio.addEventListener("loadedmetadata", seek, { once: true });
  }
}
