// The page's script: wires the modules together once the document is parsed (module scripts run
// deferred). Each module opens with what it owns:
//   library.js  the track list as the server has it (JSON, then diffs)
//   rows.js     the windowed list on screen; problems.js  why a track cannot play
//   search.js   the filter; player.js  current, next, previous, keys; bar.js  the now-playing bar
//   resume.js   what this browser remembers; stats.js  the live memory panel
//   share.js    signed links to the track in the bar

import { setUpBar } from "./bar.js";
import { library, onChange, refresh } from "./library.js";
import { setUpPlayer } from "./player.js";
import { setUpProblems } from "./problems.js";
import { restoreCurrent, setUpResume } from "./resume.js";
import { adoptRows, refreshRows } from "./rows.js";
import { applySearch, prepareSearch, setUpSearch } from "./search.js";
import { setUpShare } from "./share.js";
import { connect } from "./stats.js";

setUpProblems();
setUpBar();
setUpShare();
setUpResume();
setUpSearch();
setUpPlayer();
adoptRows();

let first = true;
onChange((changed, reset) => {
  refreshRows(reset ? null : changed);
  applySearch();
  prepareSearch(library.tracks);
  showCounts();
  if (first) {
    first = false;
    restoreCurrent();
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
