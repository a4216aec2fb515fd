// The quality the page plays at: the original files, or transcoded by the server (high or low,
// for a slow or metered connection). Kept on the server for the listener (it follows them to
// another device) and in this browser (so the first rows need not wait for it). Opus where the
// browser plays it, else MP3. An operator's cap on the listener's bit rate is the server's to
// apply; the page only shows it.

import { getJSON, send } from "./api.js";
import { QUALITY, store, stored } from "./store.js";
const opus = document.createElement("audio").canPlayType('audio/ogg; codecs="opus"') !== "";
const format = opus ? "opus" : "mp3";
const RATES = { high: opus ? 128 : 192, low: opus ? 64 : 96 };
const select = document.querySelector("[data-testid=quality]");
const note = document.querySelector("[data-testid=quality-cap]");

let quality = RATES[stored(QUALITY, "original")] ? stored(QUALITY, "original") : "original";

/** The URL `url` (a track's own) is played from at the chosen quality. */
export function srcOf(url) {
  const kbps = RATES[quality];
  if (!kbps) return url;
  return `${url}${url.includes("?") ? "&" : "?"}format=${format}&bitrate=${kbps}`;
}

// Each player's track URL (kept out of the DOM: a row the script builds must be the row the
// server prints, attribute for attribute).
const urls = new WeakMap();

/** Sets `audio`'s source to `url` (a track's own) at the chosen quality. */
export function setSource(audio, url) {
  urls.set(audio, url);
  audio.setAttribute("src", srcOf(url));
}

// Every player on the page to the chosen quality; the one playing goes on from where it was.
function apply() {
  for (const audio of document.querySelectorAll("audio[src]")) {
    if (!urls.has(audio)) urls.set(audio, audio.getAttribute("src"));
    const url = urls.get(audio);
    const src = srcOf(url);
    if (audio.getAttribute("src") === src) continue;
    const at = audio.currentTime;
    const playing = !audio.paused;
    audio.setAttribute("src", src);
    if (at > 0 || playing) {
      audio.addEventListener("loadedmetadata", () => {
        audio.currentTime = at;
        if (playing) audio.play().catch(() => {});
      }, { once: true });
    }
    audio.load();
  }
}

function choose(next, save) {
  quality = RATES[next] ? next : "original";
  store(QUALITY, quality);
  if (select) select.value = quality;
  apply();
  if (save) send("PUT", "/api/settings", { quality });
}

export async function setUpQuality() {
  if (select) {
    select.value = quality;
    select.addEventListener("change", () => choose(select.value, true));
  }
  apply();
  const settings = await getJSON("/api/settings");
  if (!settings) return;
  if (settings.quality !== quality) choose(settings.quality, false);
  if (note) {
    note.hidden = settings.max_bitrate == null;
    note.textContent = settings.max_bitrate == null ? "" : `at most ${settings.max_bitrate} kbit/s`;
  }
}
