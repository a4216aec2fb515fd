// The live memory panel: subscribes to /events, updates every [data-stat] element in place and
// draws the RSS sparkline; passes `library` events on to whoever refreshes the track list.

import { bytes, duration } from "./format.js";

const formats = {
  rss_bytes: bytes, virtual_bytes: bytes, bytes_served: bytes, bytes_zero_copy: bytes, bytes_in_flight: bytes, uptime_secs: duration,
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

// Connects to /events; `onLibraryChange` runs whenever the track list may have changed.
export function connect(onLibraryChange) {
  const status = document.querySelector("[data-testid=stats-status]");
  const source = new EventSource("/events");
  source.addEventListener("library", onLibraryChange);
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
