// The page's script: wires the modules together once the document is parsed (module scripts run
// deferred). Each module opens with what it owns:
//   library.js  the track list as the server has it (JSON, then diffs)
//   rows.js     the windowed list on screen; problems.js  why a track cannot play
//   search.js   the filter; player.js  current, next, previous, keys; bar.js  the now-playing bar
//   resume.js   what this browser remembers; stats.js  the live memory panel
//   share.js    signed links to the track in the bar
//   views.js    the tab bar and which view the hash shows; catalog.js  albums, artists, genres
//   viewrows.js a view's playable rows; queue.js  which list next/previous follow
//   plays.js    plays counted; queuesync.js  the play queue kept on the server, resumed on load
//   api.js      the data routes' JSON, sign-in and "unavailable" handling
//   stars.js    stars and the Starred view; playlists.js  playlists and "Add to playlist…"
//   quality.js  original or transcoded (high, low), kept for the listener
//   apps.js     connecting a Subsonic app: the address, app passwords and API keys

import { appViews } from "./apps.js";
import { setUpBar } from "./bar.js";
import { library, onChange, refresh } from "./library.js";
import { setUpPlayer } from "./player.js";
import { setUpProblems } from "./problems.js";
import { setUpQuality } from "./quality.js";
import { playlistViews, setUpPlaylists } from "./playlists.js";
import { setUpPlays } from "./plays.js";
import { resumeQueue, setUpQueueSync } from "./queuesync.js";
import { setUpResume } from "./resume.js";
import { adoptRows, onNewRow, refreshRows } from "./rows.js";
import { applySearch, prepareSearch, setUpSearch } from "./search.js";
import { setUpShare } from "./share.js";
import { setUpStars, starredViews } from "./stars.js";
import { connect } from "./stats.js";
import { setUpViewRows } from "./viewrows.js";
import { addViews, setUpViews } from "./views.js";

setUpProblems();
setUpBar();
setUpShare();
setUpResume();
setUpSearch();
setUpPlayer();
setUpStars(onNewRow);
adoptRows();
setUpViewRows();
setUpPlays();
setUpQueueSync();
setUpPlaylists();
addViews(starredViews);
addViews(playlistViews, { playlist: "playlists" });
addViews(appViews);
setUpViews();
setUpQuality();

let first = true;
onChange((changed, reset) => {
  refreshRows(reset ? null : changed);
  applySearch();
  prepareSearch(library.tracks);
  showCounts();
  if (first) {
    first = false;
    resumeQueue();
    performance.mark("list-ready"); // for the browser benchmark
  }
});
connect(refresh);
refresh();

// The subtitle's track count and scan progress, and the empty-folder note.
function showCounts() {
  const n = library.tracks.length;
  const count = document.querySelector("[data-testid=track-count]");
  if (count) count.textContent = `${n} track${n === 1 ? "" : "s"}`;
  const scan = document.querySelector("[data-testid=scan-status]");
  if (scan) {
    scan.hidden = !library.scan;
    const { read = 0, total = 0 } = library.scan || {};
    scan.textContent = library.scan ? `· scanning${total > 0 ? `: read ${read} of ${total} files` : ""}…` : "";
  }
  const empty = document.querySelector("[data-testid=empty-state]");
  if (empty) empty.hidden = n > 0;
}
