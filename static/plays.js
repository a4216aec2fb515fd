// Plays: one `POST /api/plays` per play of a track, once it has been heard for half its length or
// four minutes, whichever comes first, as scrobblers count. Only time heard counts: a seek past
// the half is not a play.

import { send } from "./api.js";
import { trackOf } from "./rows.js";

const FOUR_MINUTES = 240;
const heard = new WeakMap(); // audio → { secs, at, sent }

function tick(audio) {
  let play = heard.get(audio);
  if (!play) { play = { secs: 0, at: audio.currentTime, sent: false }; heard.set(audio, play); }
  const step = audio.currentTime - play.at;
  play.at = audio.currentTime;
  // Time updates come every quarter second or so; a bigger step is a seek (or a stall), not listening.
  if (audio.paused || step <= 0 || step > 1.5) return;
  play.secs += step;
  const needed = Math.min(audio.duration / 2, FOUR_MINUTES);
  if (play.sent || !Number.isFinite(needed) || play.secs < needed) return;
  const track = trackOf(audio);
  if (!track?.id) return;
  play.sent = true;
  send("POST", "/api/plays", { track: track.id });
}

/** Counts plays of every player. */
export function setUpPlays() {
  document.addEventListener("timeupdate", (event) => {
    if (event.target instanceof HTMLAudioElement) tick(event.target);
  }, true);
  document.addEventListener("seeked", (event) => {
    const play = event.target instanceof HTMLAudioElement && heard.get(event.target);
    if (play) play.at = event.target.currentTime;
  }, true);
  // A track played to its end (or looped) and started again is another play.
  document.addEventListener("ended", (event) => heard.delete(event.target), true);
  document.addEventListener("play", (event) => {
    const play = heard.get(event.target);
    if (play?.sent && event.target.currentTime < 1) heard.delete(event.target);
  }, true);
}
