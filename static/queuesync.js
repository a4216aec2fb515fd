// The play queue on the server: the tracks next and previous follow, the current one and its
// position, saved when a track starts, on pause and seek, every 15 s while playing and when the
// page goes away; on load, the page resumes from it, so a listener picks up on another device
// where they left off. Without one (none saved yet, or the database down) resume.js's
// localStorage is the fallback.

import { getJSON, send } from "./api.js";
import { library } from "./library.js";
import { currentPlayer as current, setCurrent } from "./player.js";
import { followView, queueTracks } from "./queue.js";
import { restoreCurrent } from "./resume.js";
import { audioFor, trackOf } from "./rows.js";

const EVERY_MS = 15000;
// A body sent as the page goes away (`keepalive`) must stay under 64 KiB: then only the tracks
// around the current one go.
const KEEPALIVE_TRACKS = 1000;
const MAX_TRACKS = 10000; // the server's limit for a queue

function body(around) {
  const audio = current();
  const track = trackOf(audio);
  if (!track?.id) return null;
  let tracks = queueTracks();
  if (tracks.length > around) {
    const at = Math.max(0, tracks.indexOf(track));
    tracks = tracks.slice(Math.max(0, at - around / 2), at + around / 2);
  }
  return {
    tracks: tracks.map((t) => t.id).filter(Boolean),
    current: track.id,
    position_ms: Math.floor((audio.currentTime || 0) * 1000),
  };
}

// One save in flight at a time, so that a pause and the seek right after it arrive in order; a
// save asked for meanwhile goes next, with what is current then.
let sending = false, again = false;
async function save(keepalive = false) {
  if (keepalive) {
    const queue = body(KEEPALIVE_TRACKS);
    if (queue) send("PUT", "/api/queue", queue, { keepalive });
    return;
  }
  if (sending) { again = true; return; }
  sending = true;
  do {
    again = false;
    const queue = body(MAX_TRACKS);
    if (queue) await send("PUT", "/api/queue", queue);
  } while (again);
  sending = false;
}

/** Saves the queue as the current track plays. */
export function setUpQueueSync() {
  let timer = 0;
  const isCurrent = (event) => event.target instanceof HTMLAudioElement && event.target === current();
  document.addEventListener("playing", (event) => {
    if (!isCurrent(event)) return;
    save();
    clearInterval(timer);
    timer = setInterval(() => { if (current() && !current().paused) save(); }, EVERY_MS);
  }, true);
  for (const type of ["pause", "seeked"]) {
    document.addEventListener(type, (event) => { if (isCurrent(event) && !event.target.ended) save(); }, true);
  }
  addEventListener("pagehide", () => save(true));
}

/** Makes the server's current track current again (not playing) at its position, and next and
 * previous follow its queue; without one, what this browser remembers. */
export async function resumeQueue() {
  const queue = await getJSON("/api/queue");
  const track = queue && library.byName.get(queue.current_name);
  if (!track || track.unreadable || current()) { if (!current()) restoreCurrent(); return; }
  const byId = new Map(library.tracks.map((t) => [t.id, t]));
  const tracks = queue.tracks.map((id) => byId.get(id)).filter((t) => t && !t.unreadable);
  if (tracks.includes(track)) followView(tracks, audioFor);
  const audio = audioFor(track);
  const at = queue.position_ms / 1000;
  // Before its metadata, this sets where the player will start (its default start position).
  if (at > 0 && at < (audio.duration || Infinity)) audio.currentTime = at;
  setCurrent(audio);
}
