// Live memory panel: subscribes to /events and updates every [data-stat] element in place.
"use strict";

const units = ["B", "KiB", "MiB", "GiB", "TiB"];
function bytes(n) {
  let value = n, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}
function duration(secs) {
  const h = Math.floor(secs / 3600), m = Math.floor((secs % 3600) / 60), s = secs % 60;
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s} s` : `${s} s`;
}
const formats = {
  rss_bytes: bytes, virtual_bytes: bytes, bytes_served: bytes, bytes_in_flight: bytes, uptime_secs: duration,
  rss_per_stream_bytes: (v) => (v === null || v === undefined ? "–" : bytes(v)),
};

// The last five minutes of RSS, drawn as a line: people would rather look than read.
const history = [];
const HISTORY_SECONDS = 300;
function drawSparkline(stats) {
  history.push({ at: stats.uptime_secs, rss: stats.rss_bytes });
  while (history.length > 1 && history[0].at < stats.uptime_secs - HISTORY_SECONDS) history.shift();
  const line = document.querySelector("[data-testid=rss-sparkline] polyline");
  if (!line) return;
  const values = history.map((h) => h.rss);
  const min = Math.min(...values), max = Math.max(...values);
  const span = Math.max(max - min, 1);
  const step = 300 / Math.max(history.length - 1, 1);
  line.setAttribute("points", history
    .map((h, i) => `${(i * step).toFixed(1)},${(38 - ((h.rss - min) / span) * 36).toFixed(1)}`)
    .join(" "));
  document.querySelector("[data-testid=rss-range]").textContent =
    `RSS over the last ${duration(Math.min(stats.uptime_secs, HISTORY_SECONDS))}: ${bytes(min)} – ${bytes(max)}`;
}

function render(stats) {
  for (const el of document.querySelectorAll("[data-stat]")) {
    const key = el.dataset.stat;
    const format = formats[key] || String;
    el.textContent = format(stats[key]);
  }
  drawSparkline(stats);
}

// Filters the track list as you type: every word must appear in the title, folder or file name.
function applySearch() {
  const input = document.querySelector("[data-testid=search]");
  const words = (input ? input.value : "").toLowerCase().split(/\s+/).filter(Boolean);
  for (const track of document.querySelectorAll("[data-testid=track]")) {
    track.hidden = !words.every((w) => track.dataset.search.includes(w));
  }
  for (const group of document.querySelectorAll("[data-testid=group]")) {
    group.hidden = !group.querySelector("[data-testid=track]:not([hidden])");
  }
}

function setUpSearch() {
  const input = document.querySelector("[data-testid=search]");
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

// The folder changed: fetch the page again and swap in its track list with fresh titles, tags and
// covers, moving every player that is still listed into it as it is (playing, paused, position and
// all: moved within one task, a media element does not pause). Changes that arrive during a
// refresh (a long scan sends one a second) are folded into one more refresh.
let refreshing = null, again = false;
function scheduleRefresh() {
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

function connect() {
  const status = document.querySelector("[data-testid=stats-status]");
  const source = new EventSource("/events");
  source.addEventListener("library", scheduleRefresh);
  source.addEventListener("stats", (event) => {
    render(JSON.parse(event.data));
    status.textContent = "live";
    status.classList.add("on");
  });
  source.addEventListener("error", () => {
    status.textContent = "reconnecting…";
    status.classList.remove("on");
  });
}

// A player that cannot load its track says so next to it, in words, instead of just greying out.
function explainFailures() {
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

// The current track: the one that started playing last. Next and previous follow the list as it is
// shown (search filter included); a track that ends hands over to the next one.
let current = null;
const players = () => [...document.querySelectorAll("[data-testid=track]:not([hidden]) audio")];

function play(audio) {
  if (!audio) return;
  for (const other of document.querySelectorAll("audio")) if (other !== audio) other.pause();
  audio.play().catch(() => {});
}

let shuffle = false;
let repeat = "off"; // "off" | "all" | "one"

// The track `offset` places away (a random other one when shuffling). At the end of the list,
// `wrap` decides whether to start over: buttons and keys always do; auto-advance only with repeat.
function pick(offset, wrap = true) {
  const list = players();
  const at = list.indexOf(current);
  if (shuffle && list.length > 1) {
    const others = list.filter((a) => a !== current);
    return others[Math.floor(Math.random() * others.length)];
  }
  const next = at === -1 ? 0 : at + offset;
  if (!wrap && (next < 0 || next >= list.length)) return null;
  return list[(next + list.length) % list.length];
}
const step = (offset) => play(pick(offset));

// Gapless: some seconds before the current track ends, the one that follows is chosen and its
// player told to buffer it (preload="auto"); a timer, re-aimed on every tick of the current track,
// starts it at the moment the current one runs out, instead of waiting for `ended`, which fires
// late and then needs a request and a decoder start. Repeat-one loops the element itself.
const PRIME_SECONDS = 10;
let upcoming = null; // { audio, timer }

function cancelHandoff() {
  if (upcoming) clearTimeout(upcoming.timer);
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
  current = next;
  showCurrent();
}

function trackEnded() {
  const next = upcoming ? upcoming.audio : pick(1, repeat === "all");
  cancelHandoff();
  if (next) { next.currentTime = 0; play(next); }
}

function showCurrent() {
  const bar = document.querySelector("[data-testid=now-playing]");
  const item = current && current.closest("[data-testid=track]");
  if (!bar || !item) return;
  bar.hidden = false;
  const title = item.querySelector(".title").textContent;
  const folder = item.closest("[data-testid=group]")?.querySelector(".folder")?.textContent || "";
  const artist = item.dataset.artist || "";
  const album = item.dataset.album || folder;
  const by = artist || folder;
  bar.querySelector("[data-testid=now-title]").textContent = by ? `${title} — ${by}` : title;
  const cover = bar.querySelector("[data-testid=now-cover]");
  const art = item.dataset.art;
  cover.hidden = !art;
  if (art) cover.src = art; else cover.removeAttribute("src");
  applyRepeat();
  if ("mediaSession" in navigator) {
    const artwork = art ? [{ src: new URL(art, location.href).href }]
      : [{ src: "/static/favicon.svg", type: "image/svg+xml" }];
    navigator.mediaSession.metadata = new MediaMetadata({ title, artist, album, artwork });
  }
}

// Shuffle and repeat: shown on the bar's buttons and kept with the resume state.
function setModes(modes) {
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

function setUpPlayer() {
  document.addEventListener("play", (event) => {
    if (!(event.target instanceof HTMLAudioElement)) return;
    if (event.target !== current) cancelHandoff();
    current = event.target;
    showCurrent();
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

// Resume: each track's position, the current track, and shuffle and repeat are kept in this
// browser (localStorage) and restored when the page loads again.
const POSITIONS = "audio-streamer.positions";
const CURRENT = "audio-streamer.current";
const MODES = "audio-streamer.modes";
function stored(key, fallback) {
  try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch (_) { return fallback; }
}
function store(key, value) {
  try { localStorage.setItem(key, JSON.stringify(value)); } catch (_) { /* private mode, full quota */ }
}
const nameOf = (audio) => audio.closest("[data-name]")?.dataset.name;

function rememberPosition(audio) {
  const name = nameOf(audio);
  if (!name || !Number.isFinite(audio.currentTime)) return;
  const positions = stored(POSITIONS, {});
  // A finished track starts from the beginning next time.
  positions[name] = audio.ended ? 0 : Math.floor(audio.currentTime * 10) / 10;
  store(POSITIONS, positions);
}

function setUpResume() {
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
  if (audio) { current = audio; showCurrent(); }
}

function restorePositions() {
  const positions = stored(POSITIONS, {});
  for (const audio of document.querySelectorAll("audio:not([data-restored])")) {
    audio.dataset.restored = "";
    const at = positions[nameOf(audio)];
    if (!at) continue;
    const seek = () => { if (audio.currentTime < 0.1 && at < (audio.duration || Infinity)) audio.currentTime = at; };
    if (audio.readyState >= 1) seek(); else audio.addEventListener("loadedmetadata", seek, { once: true });
  }
}

document.addEventListener("DOMContentLoaded", () => {
  explainFailures();
  setUpSearch();
  setUpPlayer();
  setUpResume();
  connect();
});
