//! What audio-streamer's tests and benchmarks share: generated fixtures (WAV, MP3, PNG, tags, sox
//! tracks) in temp folders, the app in-process, the real server on an ephemeral port, a raw HTTP/1.1
//! client for requests no well-behaved client would send, [`load`], the mixed soak traffic, and
//! [`browser`], Chromium launched as the browser tests and the browser benchmark use it.

pub mod browser;
mod fixtures;
pub mod load;
mod server;

pub use fixtures::*;
pub use server::*;

/// A field of `/proc/<pid>/status` summed over `pids`, KiB (`VmRSS`, `RssAnon`, ...).
pub fn status_kib(pids: &[u32], field: &str) -> u64 {
    pids.iter()
        .map(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/status"))
                .unwrap_or_default()
                .lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum()
}
