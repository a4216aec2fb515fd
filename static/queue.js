// What next and previous walk: the tracks of the view the current track was started from (the
// folder list with its search, an album, an artist's or a genre's tracks), and where each one's
// player is.

import { audioFor as listAudioFor, shownTracks } from "./rows.js";

let source = null; // { tracks, audioFor } of a browse view, or null for the folder list

/** Next and previous follow `tracks` (a view's), whose players `audioFor(track)` gives. */
export function followView(tracks, audioFor) { source = { tracks, audioFor }; }

/** Next and previous follow the folder list as shown (its search applied). */
export function followList() { source = null; }

/** The tracks next and previous walk, in order. */
export const queueTracks = () => (source ? source.tracks : shownTracks);

/** The player of `track`, one of `queueTracks()`. */
export const queueAudio = (track) => (source ? source.audioFor(track) : listAudioFor(track));
