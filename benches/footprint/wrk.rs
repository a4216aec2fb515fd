//! The server-bound rows: wrk, a multi-threaded C load generator (Debian package `wrk`), asks for
//! random ranges, or for the cheapest answer, so the rate measured is the server's rather than the
//! Rust client's.

use std::time::Duration;

use crate::scenarios::RANGE_BYTES;
use crate::servers::Server;

/// wrk (`-t2 -c100`) asks for random 64 KiB ranges of `/audio/bench` for `duration`: the request
/// rate a server-bound client sees. Returns (requests/s, requests, socket errors and 4xx/5xx);
/// bytes are not checked here (the `ranges` scenario does that).
pub(crate) fn wrk_ranges(server: &Server, len: usize, duration: Duration) -> (f64, u64, u64) {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("ranges.lua");
    std::fs::write(
        &script,
        format!(
            "math.randomseed(7)\n\
             request = function()\n\
               local first = math.random(0, {last})\n\
               return wrk.format(\"GET\", \"/audio/bench\", {{ [\"Range\"] = \"bytes=\" .. first .. \"-\" .. (first + {span}) }})\n\
             end\n",
            last = len as u64 - RANGE_BYTES,
            span = RANGE_BYTES - 1,
        ),
    )
    .unwrap();
    wrk(server, "/audio/bench", Some(&script), duration)
}

/// wrk (`-t2 -c100`) asks for `/healthz` for `duration`: the cheapest answer, what a request
/// costs before any file is touched (nginx answers it with `return 200`).
pub(crate) fn wrk_floor(server: &Server, duration: Duration) -> (f64, u64, u64) {
    wrk(server, "/healthz", None, duration)
}

fn wrk(
    server: &Server,
    path: &str,
    script: Option<&std::path::Path>,
    duration: Duration,
) -> (f64, u64, u64) {
    let url = format!("http://{}{path}", server.addr);
    let done = testkit::measure::wrk(2, 100, duration, script, &url);
    (done.rate, done.requests, done.errors)
}
