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
    let mut cmd = std::process::Command::new(crate::servers::wrk_binary().unwrap());
    cmd.args(["-t2", "-c100", &format!("-d{}s", duration.as_secs().max(1))]);
    if let Some(script) = script {
        cmd.arg("-s").arg(script);
    }
    let out = cmd
        .arg(format!("http://{}{path}", server.addr))
        .output()
        .expect("wrk runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let number = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    let requests = text
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.parse::<u64>().ok())
        .unwrap_or(0);
    let socket_errors: u64 = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Socket errors:"))
        .map(|v| {
            v.split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    let non_2xx = number("Non-2xx or 3xx responses:").unwrap_or(0.0) as u64;
    (
        number("Requests/sec:").unwrap_or(0.0),
        requests,
        socket_errors + non_2xx,
    )
}
