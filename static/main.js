// The page's script: wires the modules together once the document is parsed (module scripts run
// deferred). Each module opens with what it owns.

import { explainFailures, scheduleRefresh } from "./library.js";
import { setUpPlayer } from "./player.js";
import { setUpResume } from "./resume.js";
import { setUpSearch } from "./search.js";
import { connect } from "./stats.js";

explainFailures();
setUpSearch();
setUpPlayer();
setUpResume();
connect(scheduleRefresh);
