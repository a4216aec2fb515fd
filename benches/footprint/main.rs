//! Footprint and speed, side by side with nginx, in one sitting.
//!
//! `cargo bench --bench footprint` starts the release server on 127.0.0.1 with a generated 50 MB
//! track and, when `nginx` is installed, nginx (sendfile on) serving the same file at the same URL
//! shape, then runs every scenario against each and prints one table with the ratio to nginx.
//! Every loop is bounded in time and count; all traffic stays on loopback.
//!
//! `FOOTPRINT_QUICK=1` shortens every phase (for a smoke run); `FOOTPRINT_ONLY=ours` skips nginx;
//! `FOOTPRINT_SCENARIOS=idle,paused,steady,ranges,wrk,floor,full,tls,sse,soak` runs only those (`tls`:
//! both servers over HTTPS, where neither can use sendfile);
//! `FOOTPRINT_SOAK_SECS` sets the soak's length (default 120 s); `FOOTPRINT_SERVER=<binary>`
//! measures another build of the server (by default the one `cargo build --release` makes).
//!
//! This file runs the phases and prints the table; `servers.rs` starts and measures the servers,
//! `scenarios.rs` holds the clients of each phase, `wrk.rs` drives wrk for the server-bound rows.

mod scenarios;
mod servers;
mod wrk;

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use scenarios::*;
use servers::{Server, Tls, kernel_tcp_kib, nginx_binary, raise_fd_limit};
use wrk::{wrk_floor, wrk_ranges};

/// Seconds of 8 kHz 16-bit noise in the benchmark track: 50 MB.
const TRACK_SECONDS: f32 = 3125.0;

fn main() {
    raise_fd_limit();
    let quick = std::env::var("FOOTPRINT_QUICK").is_ok();
    let only_ours = std::env::var("FOOTPRINT_ONLY").as_deref() == Ok("ours");
    let dir = tempfile::tempdir().expect("temp dir");
    let audio = dir.path().join("audio");
    std::fs::create_dir(&audio).unwrap();
    let track = Arc::new(testkit::noise_wav(TRACK_SECONDS, 7));
    std::fs::write(audio.join("bench.wav"), &track[..]).unwrap();
    // A 5 MB track for the soak: full downloads stay short enough that the (single-threaded) client
    // keeps up with 200 connections.
    let soak_track = testkit::noise_wav(312.5, 8);
    std::fs::write(audio.join("soak.wav"), &soak_track).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let (cert_files, cert) = testkit::self_signed(dir.path());
    let tls = Certificate {
        files: cert_files,
        transport: Transport::tls(&cert),
    };
    let ours = |tls: Tls| Server::ours(&audio, tls);
    let nginx = |tls: Tls| Server::nginx(dir.path(), &audio, tls).expect("nginx starts");
    let mut starters: Vec<(&str, &Start<'_>)> = vec![("audio-streamer", &ours)];
    if !only_ours {
        if nginx_binary().is_some() {
            starters.push(("nginx", &nginx));
        } else {
            eprintln!("nginx not found: install it (apt-get install nginx) for the comparison");
        }
    }
    let phases = Phases::new(quick);
    let mut results: Vec<Vec<(String, f64)>> = Vec::new();
    for (_, start) in &starters {
        results.push(rt.block_on(run_all(*start, &track, &soak_track, &tls, &phases)));
    }
    let names: Vec<&str> = starters.iter().map(|(name, _)| *name).collect();
    print_table(&names, &results);
}

/// Starts a server, over TLS when given the files.
type Start<'a> = dyn Fn(Tls) -> Server + 'a;

/// The certificate both servers speak TLS with, and a client transport that trusts it.
struct Certificate {
    files: audio_streamer::config::TlsFiles,
    transport: Transport,
}

/// How long each phase runs.
struct Phases {
    quick: bool,
    settle: Duration,
    steady: Duration,
    wrk: Duration,
    ranges: Duration,
    full: Duration,
    sse: Duration,
}

impl Phases {
    fn new(quick: bool) -> Self {
        let s = |secs: u64| Duration::from_secs(if quick { secs.div_ceil(5) } else { secs });
        Self {
            quick,
            settle: s(3),
            steady: s(30),
            wrk: s(10),
            ranges: s(15),
            full: s(10),
            sse: s(15),
        }
    }
}

fn enabled(scenario: &str) -> bool {
    std::env::var("FOOTPRINT_SCENARIOS").map_or(true, |list| list.split(',').any(|s| s == scenario))
}

/// Every memory scenario runs on a freshly started server, so no phase inherits another's heap.
async fn run_all(
    start: &Start<'_>,
    track: &Arc<Vec<u8>>,
    soak_track: &[u8],
    tls: &Certificate,
    phases: &Phases,
) -> Vec<(String, f64)> {
    let mut rows = Vec::new();
    let mut row = |name: &str, value: f64| {
        eprintln!("  {name}: {value:.2}");
        rows.push((name.to_owned(), value));
    };
    let fresh_with = async |tls: Tls<'_>| {
        let server = start(tls);
        tokio::time::sleep(Duration::from_secs(1)).await;
        let idle = server.rss_kib();
        (server, idle)
    };
    let fresh = async || fresh_with(None).await;
    let (server, idle) = fresh().await;
    eprintln!(
        "== {} (pid {}) at {}",
        server.name,
        server.pid(),
        server.addr
    );
    row("idle RSS (KiB)", idle as f64);
    row(
        "idle RSS, anonymous part (KiB)",
        server.status_kib("RssAnon") as f64,
    );
    if server.is_ours {
        use_page_and_sse(server.addr).await;
        row("RSS after page + SSE (KiB)", server.rss_kib() as f64);
    }
    drop(server);
    if enabled("idle") {
        let (server, idle) = fresh().await;
        let peak = idle_connections(&server, 1000, phases.settle).await;
        row(
            "1000 idle keep-alive conns: RSS per conn (KiB)",
            peak.saturating_sub(idle) as f64 / 1000.0,
        );
    }
    for clients in [100, 1000].into_iter().filter(|_| enabled("paused")) {
        let (server, idle) = fresh().await;
        let kernel = kernel_tcp_kib();
        let (peak, kernel_peak) = paused(&server, &Transport::Plain, clients, phases.settle).await;
        row(&format!("{clients} paused: peak RSS (KiB)"), peak as f64);
        row(
            &format!("{clients} paused: RSS per stream (KiB)"),
            peak.saturating_sub(idle) as f64 / clients as f64,
        );
        let kernel_per_stream = kernel_peak.saturating_sub(kernel) as f64 / clients as f64;
        row(
            &format!("{clients} paused: kernel TCP memory per stream (KiB)"),
            kernel_per_stream,
        );
        row(
            &format!("{clients} paused: total memory per stream, RSS + kernel (KiB)"),
            peak.saturating_sub(idle) as f64 / clients as f64 + kernel_per_stream,
        );
    }
    for clients in [100, 1000].into_iter().filter(|_| enabled("steady")) {
        let (server, idle) = fresh().await;
        let (peak, errors) = steady(&server, clients, phases.steady).await;
        row(
            &format!("{clients} steady (320 KB/s): peak RSS (KiB)"),
            peak as f64,
        );
        row(
            &format!("{clients} steady: RSS per stream (KiB)"),
            peak.saturating_sub(idle) as f64 / clients as f64,
        );
        row(&format!("{clients} steady: errors"), errors as f64);
    }
    if ["ranges", "wrk", "floor", "full"].into_iter().any(enabled) {
        let (server, idle) = fresh().await;
        if enabled("ranges") {
            let (rps, mismatches, errors) = ranges(server.addr, track, phases.ranges).await;
            row("64 KiB ranges, 100 conns: req/s", rps);
            row("64 KiB ranges: mismatches", mismatches as f64);
            row("64 KiB ranges: errors", errors as f64);
        }
        if enabled("wrk") && testkit::measure::wrk_binary().is_some() {
            let cpu_before = server.cpu_secs();
            let (rps, requests, errors) = wrk_ranges(&server, track.len(), phases.wrk);
            let cpu = server.cpu_secs() - cpu_before;
            row("64 KiB ranges, wrk -t2 -c100: req/s", rps);
            row(
                "wrk: server CPU ms per 1000 requests",
                cpu * 1e6 / requests.max(1) as f64,
            );
            row("wrk: socket errors and 4xx/5xx answers", errors as f64);
        }
        if enabled("floor") && testkit::measure::wrk_binary().is_some() {
            let cpu_before = server.cpu_secs();
            let (rps, requests, errors) = wrk_floor(&server, phases.wrk);
            let cpu = server.cpu_secs() - cpu_before;
            row("cheapest answer (/healthz), wrk -t2 -c100: req/s", rps);
            row(
                "cheapest answer: server CPU ms per 1000 requests",
                cpu * 1e6 / requests.max(1) as f64,
            );
            row(
                "cheapest answer: socket errors and 4xx/5xx answers",
                errors as f64,
            );
        }
        if enabled("full") {
            let cpu_before = server.cpu_secs();
            let (bytes, secs, mismatches) =
                full_files(server.addr, &Transport::Plain, track, phases.full).await;
            let cpu = server.cpu_secs() - cpu_before;
            row("full file, 8 conns: MB/s", bytes as f64 / 1e6 / secs);
            row("full file: server CPU s per GB", cpu / (bytes as f64 / 1e9));
            row("full file: mismatches", mismatches as f64);
        }
        tokio::time::sleep(phases.settle).await;
        row(
            "RSS after the load ends, over idle (KiB)",
            server.rss_kib().saturating_sub(idle) as f64,
        );
    }
    if enabled("tls") {
        let (server, idle) = fresh_with(Some(&tls.files)).await;
        row("TLS: idle RSS (KiB)", idle as f64);
        let (peak, _) = paused(&server, &tls.transport, 1000, phases.settle).await;
        row(
            "TLS, 1000 paused: RSS per stream (KiB)",
            peak.saturating_sub(idle) as f64 / 1000.0,
        );
        drop(server);
        let (server, _) = fresh_with(Some(&tls.files)).await;
        let cpu_before = server.cpu_secs();
        let (bytes, secs, mismatches) =
            full_files(server.addr, &tls.transport, track, phases.full).await;
        let cpu = server.cpu_secs() - cpu_before;
        row("TLS full file, 8 conns: MB/s", bytes as f64 / 1e6 / secs);
        row(
            "TLS full file: server CPU s per GB",
            cpu / (bytes as f64 / 1e9),
        );
        row("TLS full file: mismatches", mismatches as f64);
    }
    if enabled("soak") {
        let (server, _) = fresh().await;
        if server.is_ours {
            let secs = std::env::var("FOOTPRINT_SOAK_SECS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(if phases.quick { 20 } else { 120 });
            let tracks = Arc::new(vec![("/audio/soak".to_owned(), soak_track.to_vec())]);
            // Warm up, then measure: memory after the soak against memory after the warm-up.
            testkit::load::soak(
                server.addr,
                Arc::clone(&tracks),
                200,
                Duration::from_secs(5),
            )
            .await;
            // Long enough for the server's periodic heap trim (every 10 s) to have run.
            tokio::time::sleep(Duration::from_secs(11)).await;
            let before = server.rss_kib();
            let report =
                testkit::load::soak(server.addr, tracks, 200, Duration::from_secs(secs)).await;
            // Long enough for the server's periodic heap trim (every 10 s) to have run.
            tokio::time::sleep(Duration::from_secs(11)).await;
            let after = server.rss_kib();
            row(
                &format!("soak {secs} s, 200 conns: requests"),
                report.requests.load(Ordering::Relaxed) as f64,
            );
            row(
                "soak: MB verified",
                report.bytes_verified.load(Ordering::Relaxed) as f64 / 1e6,
            );
            row("soak: errors", report.errors.load(Ordering::Relaxed) as f64);
            row("soak: RSS before (KiB)", before as f64);
            row("soak: RSS after (KiB)", after as f64);
            if let Some(first) = report.first_error.lock().unwrap().as_ref() {
                eprintln!("  soak: first error: {first}");
            }
        }
    }
    if enabled("sse") {
        let (server, idle) = fresh().await;
        if server.is_ours {
            let (peak, delivered, missed) = sse(&server, 1000, phases.sse).await;
            row(
                "1000 SSE: RSS growth (KiB)",
                peak.saturating_sub(idle) as f64,
            );
            row("1000 SSE: events delivered", delivered as f64);
            row("1000 SSE: events missed", missed as f64);
        }
    }
    rows
}

fn print_table(servers: &[&str], results: &[Vec<(String, f64)>]) {
    let mut out = String::from("\n| scenario |");
    for name in servers {
        write!(out, " {name} |").unwrap();
    }
    if servers.len() > 1 {
        out.push_str(" ratio |");
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(servers.len() + usize::from(servers.len() > 1)));
    out.push('\n');
    for (name, ours) in &results[0] {
        write!(out, "| {name} | {} |", fmt(*ours)).unwrap();
        if let Some(theirs) = results.get(1) {
            match theirs.iter().find(|(n, _)| n == name) {
                Some((_, v)) => {
                    let ratio = if *v == 0.0 {
                        String::from("–")
                    } else {
                        format!("{:.2}×", ours / v)
                    };
                    write!(out, " {} | {ratio} |", fmt(*v)).unwrap();
                }
                None => out.push_str(" n/a | – |"),
            }
        }
        out.push('\n');
    }
    println!("{out}");
}

fn fmt(v: f64) -> String {
    if v.fract() == 0.0 || v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}
