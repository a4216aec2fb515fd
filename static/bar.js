// The now-playing bar's display: title, cover and star, elapsed and total time, a seek bar and a volume
// slider, and the play/pause button's state. Its buttons are wired in player.js.

import { clock } from "./format.js";
import { onNewAudio } from "./rows.js";
import { paintStar } from "./stars.js";
import { VOLUME, store, stored } from "./store.js";

const bar = document.querySelector("[data-testid=now-playing]");
const part = (id) => bar?.querySelector(`[data-testid=${id}]`);
let shown = null; // the player the bar follows
let shownTrack = null; // and its track
let volume = Math.min(1, Math.max(0, Number(stored(VOLUME, 1)) || 0));
let dragging = false;

/** The track the bar shows, or null. */
export function barTrack() {
  return shownTrack;
}

/** Shows `audio` (playing `track`) in the bar. */
export function showBar(audio, track) {
  if (!bar) return;
  shown = audio;
  shownTrack = track;
  bar.hidden = false;
  const by = track.artist || track.folder;
  part("now-title").textContent = by ? `${track.title} — ${by}` : track.title;
  const cover = part("now-cover");
  cover.hidden = !track.art;
  if (track.art) cover.src = track.art; else cover.removeAttribute("src");
  const star = part("now-star");
  star.dataset.star = track.id;
  star.dataset.starName = track.title;
  paintStar(star);
  const problem = part("now-problem");
  if (problem.dataset.for !== track.name) problem.hidden = true;
  showTime();
  showState();
}

function showTime() {
  if (!shown) return;
  const seek = part("seek");
  const total = Number.isFinite(shown.duration) ? shown.duration : 0;
  seek.max = String(total);
  if (!dragging) seek.value = String(Math.min(shown.currentTime, total));
  seek.setAttribute("aria-valuetext", `${clock(shown.currentTime)} of ${clock(total)}`);
  part("elapsed").textContent = clock(shown.currentTime);
  part("total").textContent = clock(total);
}

function showState() {
  const toggle = part("toggle");
  const playing = !!shown && !shown.paused;
  toggle.dataset.playing = String(playing);
  toggle.setAttribute("aria-label", playing ? "Pause" : "Play");
}

export function setUpBar() {
  if (!bar) return;
  for (const type of ["timeupdate", "durationchange", "loadedmetadata", "seeked"]) {
    document.addEventListener(type, (event) => { if (event.target === shown) showTime(); }, true);
  }
  for (const type of ["play", "pause", "ended"]) {
    document.addEventListener(type, (event) => { if (event.target === shown) showState(); }, true);
  }
  // A track that cannot play says why in the bar as well (see problems.js).
  const problem = part("now-problem");
  document.addEventListener("track-problem", (event) => {
    if (event.detail.audio !== shown) return;
    problem.textContent = event.detail.text;
    problem.dataset.for = event.detail.name;
    problem.hidden = false;
  });
  document.addEventListener("playing", (event) => { if (event.target === shown) problem.hidden = true; }, true);
  const seek = part("seek");
  seek.addEventListener("input", () => {
    dragging = true;
    part("elapsed").textContent = clock(Number(seek.value));
  });
  seek.addEventListener("change", () => {
    dragging = false;
    if (shown && Number.isFinite(shown.duration)) shown.currentTime = Number(seek.value);
  });
  // One volume for every player: the slider, or a player's own control, sets it for all.
  const slider = part("volume");
  slider.value = String(volume);
  const setVolume = (value) => {
    volume = value;
    slider.value = String(value);
    store(VOLUME, value);
    for (const audio of document.querySelectorAll("audio")) if (audio.volume !== value) audio.volume = value;
  };
  slider.addEventListener("input", () => setVolume(Number(slider.value)));
  document.addEventListener("volumechange", (event) => {
    if (event.target instanceof HTMLAudioElement && event.target.volume !== volume) setVolume(event.target.volume);
  }, true);
  onNewAudio((audio) => { audio.volume = volume; });
}
