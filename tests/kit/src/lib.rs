//! What audio-streamer's tests and benchmarks share: generated fixtures (WAV, MP3, PNG, tags, sox
//! tracks) in temp folders, the app in-process, the real server on an ephemeral port, a raw HTTP/1.1
//! client for requests no well-behaved client would send, [`load`], the mixed soak traffic,
//! [`browser`], Chromium launched as the browser tests and the browser benchmark use it,
//! [`measure`], a peak sampler and wrk for the benchmarks,
//! [`Ceph`], a real one-node Ceph S3 gateway, and [`Postgres`], a PostgreSQL server of its own.

pub mod browser;
mod ceph;
mod deploy;
mod fixtures;
pub mod load;
pub mod measure;
mod postgres;
mod server;

pub use ceph::*;
pub use deploy::*;
pub use fixtures::*;
pub use postgres::*;
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

/// The audio of `file` as ffmpeg decodes it: mono 16-bit samples at 48 kHz.
pub fn decoded(file: &std::path::Path) -> Vec<i16> {
    let out = std::process::Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(file)
        .args(["-f", "s16le", "-ac", "1", "-ar", "48000", "-"])
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg cannot decode {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
        .chunks_exact(2)
        .map(|s| i16::from_le_bytes([s[0], s[1]]))
        .collect()
}

/// Whether every one of `tools` (absolute paths) is installed; prints one line saying what is
/// skipped and how to install `packages` when not, and panics instead under `CI=true`.
pub fn installed(what: &str, tools: &[&str], packages: &str) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|path| !std::path::Path::new(path).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    let hint = format!(
        "{what} skipped: {} not installed (apt-get install -y {packages})",
        missing.join(" and ")
    );
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true: {hint}"
    );
    eprintln!("{hint}");
    false
}
