//! A short soak: the release-shaped binary under mixed traffic from 200 connections, every byte
//! verified, no errors, and its memory back near where it started once the load ends. (The
//! footprint benchmark runs the same traffic for minutes: `FOOTPRINT_SCENARIOS=soak`.)

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 1)]
async fn mixed_traffic_for_seconds_has_no_errors_and_no_leak() {
    let fixture = testkit::Fixture::new();
    let tracks = Arc::new(vec![
        ("/audio/long".to_owned(), fixture.wav("long.wav", 120.0)),
        ("/audio/short".to_owned(), fixture.wav("short.wav", 10.0)),
    ]);
    let port = testkit::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_audio-streamer"))
        .args([
            "--port",
            &port.to_string(),
            "--stats-interval-ms",
            "100",
            "--audio-dir",
        ])
        .arg(fixture.audio_dir())
        .arg("--data-dir")
        .arg(fixture.root().join("data"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(20));
    }

    // Warm-up: the same traffic briefly, so lazily built state (pools, caches) exists before the
    // baseline is taken.
    let warm = testkit::load::soak(addr, Arc::clone(&tracks), 200, Duration::from_secs(2)).await;
    settle(addr).await;
    let baseline = testkit::status_kib(&[child.id()], "VmRSS");

    let report = testkit::load::soak(addr, Arc::clone(&tracks), 200, Duration::from_secs(6)).await;
    settle(addr).await;
    let after = testkit::status_kib(&[child.id()], "VmRSS");
    child.kill().ok();
    child.wait().ok();

    let errors = report.errors.load(Ordering::Relaxed) + warm.errors.load(Ordering::Relaxed);
    assert_eq!(
        errors,
        0,
        "first error: {:?}",
        report.first_error.lock().unwrap()
    );
    let requests = report.requests.load(Ordering::Relaxed);
    let verified = report.bytes_verified.load(Ordering::Relaxed);
    assert!(requests > 500, "only {requests} requests");
    assert!(verified > 50_000_000, "only {verified} bytes verified");
    eprintln!(
        "soak: {requests} requests, {} MB verified, RSS {baseline} KiB -> {after} KiB",
        verified / 1_000_000
    );
    assert!(
        after <= baseline + baseline / 10,
        "RSS grew from {baseline} KiB to {after} KiB over the soak"
    );
}

/// Waits until no stream or viewer is active and the sampler has had a tick to trim the heap.
async fn settle(addr: std::net::SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let stats: serde_json::Value = reqwest::get(format!("http://{addr}/api/stats"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if stats["active_streams"] == 0 && stats["sse_clients"] == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "streams still active: {stats}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
}
