// The player: the current track, next and previous (shuffle and repeat included), the gapless
// hand-over, the now-playing bar, keyboard shortcuts and the Media Session (lock-screen) controls.

import { showBar } from "./bar.js";
import { queueAudio, queueTracks } from "./queue.js";
import { draw, kept, trackOf } from "./rows.js";
import { MODES, store } from "./store.js";

// The current track: the one that started playing last. Next and previous follow the list it was
// started from (queue.js): the whole folder list as shown (search filter included), not only the
// rows on screen, or a browse view's tracks; a track that ends hands over to the next one. The current player is kept in the document while the list scrolls.
let current = null;

/** The current track's player, or null. */
export const currentPlayer = () => current;

// Makes `audio` the current track (on play, or restored after a reload): kept in the document,
// shown in the bar.
export function setCurrent(audio) {
  if (current && current !== audio) kept.delete(current);
  current = audio;
  if (audio) kept.add(audio);
  showCurrent();
  draw();
}

function play(audio) {
  if (!audio) return;
  for (const other of document.querySelectorAll("audio")) if (other !== audio) other.pause();
  // Current at once, not when its `play` event arrives: a key pressed again right away moves on
  // from this track, not from the one before.
  if (audio !== current) {
    cancelHandoff();
    setCurrent(audio);
  }
  audio.play().catch(() => {});
}

let shuffle = false;
let repeat = "off"; // "off" | "all" | "one"

// The player of the track `offset` places away (a random other one when shuffling). At the end of
// the list, `wrap` decides whether to start over: buttons and keys always do; auto-advance only
// with repeat.
function pick(offset, wrap = true) {
  const list = queueTracks();
  if (list.length === 0) return null;
  const at = list.indexOf(trackOf(current));
  if (shuffle && list.length > 1) {
    let other = at;
    while (other === at) other = Math.floor(Math.random() * list.length);
    return queueAudio(list[other]);
  }
  const next = at === -1 ? 0 : at + offset;
  if (!wrap && (next < 0 || next >= list.length)) return null;
  return queueAudio(list[(next + list.length) % list.length]);
}
const step = (offset) => play(pick(offset));

// Gapless: some seconds before the current track ends, the one that follows is chosen and its
// player told to buffer it (preload="auto"); a timer, re-aimed on every tick of the current track,
// starts it at the moment the current one runs out, instead of waiting for `ended`, which fires
// late and then needs a request and a decoder start. Repeat-one loops the element itself.
const PRIME_SECONDS = 10;
let upcoming = null; // { audio, timer }

function cancelHandoff() {
  if (upcoming) {
    clearTimeout(upcoming.timer);
    if (upcoming.audio !== current) kept.delete(upcoming.audio);
  }
  upcoming = null;
}

function onTick() {
  if (!current || current.paused || current.loop) return cancelHandoff();
  const left = (current.duration - current.currentTime) / (current.playbackRate || 1);
  if (!Number.isFinite(left) || left > PRIME_SECONDS) return cancelHandoff();
  if (!upcoming) {
    const next = pick(1, repeat === "all");
    if (!next || next === current) return;
    next.preload = "auto";
    if (next.currentTime > 0) next.currentTime = 0;
    if (next.readyState === 0) next.load();
    upcoming = { audio: next, timer: 0 };
  }
  clearTimeout(upcoming.timer);
  upcoming.timer = setTimeout(handOff, Math.max(0, left * 1000));
}

function handOff() {
  const next = upcoming && upcoming.audio;
  upcoming = null;
  if (!next || !current || current.paused) return;
  // The finishing track plays out its last samples by itself (and so still records that it ended).
  // No seek when already at the start: a seek would throw away what was buffered.
  if (next.currentTime > 0) next.currentTime = 0;
  next.play().catch(() => {});
  setCurrent(next);
}

function trackEnded() {
  const next = upcoming ? upcoming.audio : pick(1, repeat === "all");
  cancelHandoff();
  if (next) { next.currentTime = 0; play(next); }
}

function showCurrent() {
  const track = trackOf(current);
  if (!track) return;
  showBar(current, track);
  applyRepeat();
  if ("mediaSession" in navigator) {
    const artwork = track.art ? [{ src: new URL(track.art, location.href).href }]
      : [{ src: "/static/favicon.svg", type: "image/svg+xml" }];
    navigator.mediaSession.metadata = new MediaMetadata({
      title: track.title, artist: track.artist || "", album: track.album || track.folder, artwork,
    });
  }
}

// Shuffle and repeat: shown on the bar's buttons and kept with the resume state.
export function setModes(modes) {
  shuffle = modes.shuffle === true;
  repeat = ["off", "all", "one"].includes(modes.repeat) ? modes.repeat : "off";
  const bar = document.querySelector("[data-testid=now-playing]");
  bar?.querySelector("[data-action=shuffle]").setAttribute("aria-pressed", String(shuffle));
  const button = bar?.querySelector("[data-action=repeat]");
  if (button) {
    button.dataset.repeat = repeat;
    button.setAttribute("aria-label", `Repeat: ${repeat === "one" ? "this track" : repeat}`);
  }
  store(MODES, { shuffle, repeat });
  cancelHandoff();
  applyRepeat();
}

// Repeat-one is the element's own loop: seamless, and no `ended` to handle.
function applyRepeat() {
  for (const audio of document.querySelectorAll("audio")) audio.loop = repeat === "one" && audio === current;
}

export function setUpPlayer() {
  document.addEventListener("play", (event) => {
    if (!(event.target instanceof HTMLAudioElement)) return;
    if (event.target === current) return;
    cancelHandoff();
    setCurrent(event.target);
  }, true);
  document.addEventListener("ended", (event) => {
    if (event.target === current) trackEnded();
  }, true);
  document.addEventListener("timeupdate", (event) => {
    if (event.target === current) onTick();
  }, true);
  for (const type of ["pause", "seeking"]) {
    document.addEventListener(type, (event) => {
      if (event.target === current) cancelHandoff();
    }, true);
  }
  // A player that stopped may leave the document once it scrolls away.
  document.addEventListener("pause", () => requestAnimationFrame(draw), true);
  const bar = document.querySelector("[data-testid=now-playing]");
  bar?.addEventListener("click", (event) => {
    const action = event.target.closest("button")?.dataset.action;
    if (action === "previous") step(-1);
    if (action === "next") step(1);
    if (action === "toggle" && current) current.paused ? play(current) : current.pause();
    if (action === "shuffle") setModes({ shuffle: !shuffle, repeat });
    if (action === "repeat") setModes({ shuffle, repeat: { off: "all", all: "one", one: "off" }[repeat] });
  });
  document.addEventListener("keydown", (event) => {
    const t = event.target;
    if (t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLButtonElement ||
        t instanceof HTMLAudioElement || event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    if (key === " " && current) { event.preventDefault(); current.paused ? play(current) : current.pause(); }
    else if (key === "ArrowLeft" && current) current.currentTime = Math.max(0, current.currentTime - 5);
    else if (key === "ArrowRight" && current) current.currentTime = Math.min(current.duration || Infinity, current.currentTime + 5);
    else if (key === "n" || key === "j") step(1);
    else if (key === "p" || key === "k") step(-1);
  });
  if ("mediaSession" in navigator) {
    // Next/previous rather than seek-forward/backward, so lock screens (iOS too) show skip buttons.
    const handlers = {
      play: () => current && play(current),
      pause: () => current && current.pause(),
      previoustrack: () => step(-1),
      nexttrack: () => step(1),
      seekto: (details) => { if (current) current.currentTime = details.seekTime; },
    };
    for (const [action, handler] of Object.entries(handlers)) {
      try { navigator.mediaSession.setActionHandler(action, handler); } catch (_) { /* unsupported */ }
    }
  }
}
