// The live memory panel: subscribes to /events, updates every [data-stat] element in place and
// draws the RSS sparkline; passes `library` events on to whoever keeps the track list.

import { bytes, duration } from "./format.js";

const formats = {
  rss_bytes: bytes, virtual_bytes: bytes, bytes_served: bytes, bytes_zero_copy: bytes, bytes_in_flight: bytes, uptime_secs: duration,
  rss_per_stream_bytes: (v) => (v === null || v === undefined ? "–" : bytes(v)),
};

// The last five minutes of RSS, drawn as a line on a stated scale from 0 (so that 0.1 MiB of
// change looks like what it is), started over when the server restarts.
const history = [];
const HISTORY_SECONDS = 300;
const MiB = 1024 * 1024;
function drawSparkline(stats) {
  if (history.length && stats.uptime_secs < history[history.length - 1].at) history.length = 0;
  history.push({ at: stats.uptime_secs, rss: stats.rss_bytes });
  while (history.length > 1 && history[0].at < stats.uptime_secs - HISTORY_SECONDS) history.shift();
  const line = document.querySelector("[data-testid=rss-sparkline] polyline");
  if (!line) return;
  const values = history.map((h) => h.rss);
  const min = Math.min(...values), max = Math.max(...values);
  // The scale's top: the next of 8, 16, 32… MiB above the highest sample.
  let top = 8 * MiB;
  while (top < max) top *= 2;
  const step = 300 / Math.max(history.length - 1, 1);
  line.setAttribute("points", history
    .map((h, i) => `${(i * step).toFixed(1)},${(39 - (h.rss / top) * 38).toFixed(1)}`)
    .join(" "));
  document.querySelector("[data-testid=rss-range]").textContent =
    `RSS over the last ${duration(Math.min(stats.uptime_secs, HISTORY_SECONDS))}: ${bytes(min)} – ${bytes(max)} (scale 0 – ${bytes(top)})`;
}

function render(stats) {
  for (const el of document.querySelectorAll("[data-stat]")) {
    const key = el.dataset.stat;
    const format = formats[key] || String;
    el.textContent = format(stats[key]);
  }
  drawSparkline(stats);
}

// Connects to /events; `onLibraryChange` runs whenever the track list may have changed: on a
// `library` event, and on every (re)connection, since changes made while the stream was down (or
// a restarted server) sent no event to this page.
export function connect(onLibraryChange) {
  const status = document.querySelector("[data-testid=stats-status]");
  const source = new EventSource("/events");
  source.addEventListener("library", onLibraryChange);
  source.addEventListener("open", onLibraryChange);
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
