//! The object-store deployment, measured: a real one-node Ceph S3 gateway (`scripts/ceph.sh`),
//! release replicas of the server, and nginx in front (`scripts/nginx-replicas.conf`).
//!
//!     cargo bench --bench store
//!
//! - time to first byte of a track not cached yet (from the store) and cached (warm), against a
//!   ranged GET straight from the gateway;
//! - a cold stream (a track that cannot be cached: larger than the cache) read at full speed, and
//!   the resident memory per cold stream of listeners that read its head and 64 KiB, then stop;
//! - fill throughput: a 64 MB object fetched whole into the cache, against reading it whole from
//!   the gateway with object_store;
//! - the failover gap: a listener streams through nginx, its replica is killed (SIGKILL), and it
//!   resumes with Range + If-Range: time from the kill to the next byte.
//!
//! Medians of `STORE_BENCH_RUNS` (default 7) runs where it says so. Needs Ceph and nginx from
//! Debian (see docs/tests.md); the results are in docs/benchmarks.md.

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use object_store::ObjectStoreExt as _;
use object_store::path::Path as Key;
use testkit::{Ceph, Nginx, Replica, noise_wav, status_kib};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;

const MB: f64 = 1_000_000.0;

fn main() {
    let runs: usize = std::env::var("STORE_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(7);
    let Some(ceph) = Ceph::start() else { return };
    if !Nginx::installed() {
        return;
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(run(&ceph, runs));
}

async fn run(ceph: &Ceph, runs: usize) {
    let bucket = "bench";
    ceph.bucket(bucket);
    // Tracks of 4 MB (250 s of 8 kHz mono), one per run, and one larger than any cache here.
    for i in 0..runs {
        ceph.put(bucket, &format!("t{i}.wav"), noise_wav(250.0, i as u32))
            .await;
    }
    let big = noise_wav(4000.0, 99); // 64 MB
    ceph.put(bucket, "big.wav", big.clone()).await;
    let tmp = tempfile::tempdir().unwrap();
    let binary = Path::new(env!("CARGO_BIN_EXE_audio-streamer"));

    println!("| figure | value |");
    println!("|---|---|");

    // Time to first byte: straight from the gateway, cold (from the store through the replica),
    // warm (the cached file).
    let replica = Replica::start(binary, ceph, bucket, &tmp.path().join("c0"), "1GB");
    let store = ceph.client(bucket);
    let mut direct = Vec::new();
    let (mut cold, mut warm) = (Vec::new(), Vec::new());
    for i in 0..runs {
        let started = Instant::now();
        let got = store
            .get_range(&Key::from(format!("t{i}.wav")), 0..65_536)
            .await
            .unwrap();
        assert_eq!(got.len(), 65_536);
        direct.push(started.elapsed());
        cold.push(first_byte(replica.addr, &format!("/audio/t{i}")).await);
        // The fill started by the cold request.
        let deadline = Instant::now() + Duration::from_secs(30);
        while !replica.cache.join(format!("t{i}.wav")).exists() {
            assert!(Instant::now() < deadline, "fill of t{i}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        warm.push(first_byte(replica.addr, &format!("/audio/t{i}")).await);
    }
    row(
        "64 KiB ranged GET straight from the gateway, median",
        median_ms(&mut direct),
    );
    row(
        "time to first byte, cold (from the store), median",
        median_ms(&mut cold),
    );
    row(
        "time to first byte, warm (cached), median",
        median_ms(&mut warm),
    );
    drop(replica);

    // Fill throughput: the big object whole into the cache, against object_store reading it.
    let started = Instant::now();
    let mut bytes = 0;
    let mut body = store
        .get(&Key::from("big.wav"))
        .await
        .unwrap()
        .into_stream();
    while let Some(piece) = body.next().await {
        bytes += piece.unwrap().len();
    }
    let read_rate = bytes as f64 / MB / started.elapsed().as_secs_f64();
    let replica = Replica::start(binary, ceph, bucket, &tmp.path().join("c1"), "1GB");
    let started = Instant::now();
    let _ = first_byte(replica.addr, "/audio/big").await;
    let cached = replica.cache.join("big.wav");
    while std::fs::metadata(&cached).map(|m| m.len()).unwrap_or(0) != big.len() as u64 {
        assert!(started.elapsed() < Duration::from_secs(120), "fill of big");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let fill_rate = big.len() as f64 / MB / started.elapsed().as_secs_f64();
    row(
        "object_store reading 64 MB from the gateway",
        format!("{read_rate:.0} MB/s"),
    );
    row(
        "fill of 64 MB into the cache",
        format!("{fill_rate:.0} MB/s"),
    );
    drop(replica);

    // Memory per cold stream: the big object cannot fit a 1 MB cache, so every stream of it is
    // read from the store.
    let replica = Replica::start(binary, ceph, bucket, &tmp.path().join("c2"), "1MB");
    let started = Instant::now();
    let got = reqwest::get(format!("http://{}/audio/big", replica.addr))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let cold_rate = got.len() as f64 / MB / started.elapsed().as_secs_f64();
    assert!(got == big, "a cold stream's bytes");
    row(
        "one cold stream of 64 MB read at full speed",
        format!("{cold_rate:.0} MB/s"),
    );
    let listeners = 200;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = status_kib(&[replica.pid()], "VmRSS");
    let mut paused = Vec::with_capacity(listeners);
    for _ in 0..listeners {
        paused.push(paused_listener(replica.addr, "/audio/big").await);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let during = status_kib(&[replica.pid()], "VmRSS");
    let per_stream = (during.saturating_sub(before)) as f64 / listeners as f64;
    row(
        &format!("resident memory per paused cold stream ({listeners} listeners)"),
        format!("{per_stream:.1} KiB (idle {before} KiB)"),
    );
    drop(paused);
    drop(replica);

    // The failover gap through nginx.
    let mut gaps = Vec::new();
    for run in 0..runs.min(5) {
        let mut replicas: Vec<Replica> = (0..2)
            .map(|i| {
                let cache = tmp.path().join(format!("f{run}-{i}"));
                Replica::start(binary, ceph, bucket, &cache, "1GB")
            })
            .collect();
        let nginx = Nginx::start(&replicas.iter().map(|r| r.addr).collect::<Vec<_>>());
        let failover = testkit::listen_through_a_failover(
            &nginx,
            &mut replicas,
            "/audio/big",
            &big,
            1_000_000,
        )
        .await;
        gaps.push(failover.gap);
    }
    row(
        "failover gap through nginx (kill to next byte), median",
        median_ms(&mut gaps),
    );
}

fn row(name: &str, value: String) {
    println!("| {name} | {value} |");
}

fn median_ms(samples: &mut [Duration]) -> String {
    samples.sort();
    format!(
        "{:.1} ms",
        samples[samples.len() / 2].as_secs_f64() * 1000.0
    )
}

/// Time from sending `GET path` (bytes 0-65535) to the first body byte.
async fn first_byte(addr: std::net::SocketAddr, path: &str) -> Duration {
    let started = Instant::now();
    let mut conn = BufReader::new(TcpStream::connect(addr).await.unwrap());
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: bench\r\nRange: bytes=0-65535\r\nConnection: close\r\n\r\n"
    );
    conn.get_mut().write_all(request.as_bytes()).await.unwrap();
    let mut line = String::new();
    loop {
        line.clear();
        conn.read_line(&mut line).await.unwrap();
        if line == "\r\n" {
            break;
        }
        assert!(!line.is_empty(), "{path}: no answer");
    }
    let mut byte = [0; 1];
    conn.read_exact(&mut byte).await.unwrap();
    let elapsed = started.elapsed();
    let mut rest = Vec::new();
    let _ = conn.read_to_end(&mut rest).await;
    elapsed
}

/// A listener that reads the head and 64 KiB, then stops reading (its connection stays open).
async fn paused_listener(addr: std::net::SocketAddr, path: &str) -> BufReader<TcpStream> {
    let mut conn = BufReader::with_capacity(64 * 1024, TcpStream::connect(addr).await.unwrap());
    let request = format!("GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n");
    conn.get_mut().write_all(request.as_bytes()).await.unwrap();
    let mut line = String::new();
    loop {
        line.clear();
        conn.read_line(&mut line).await.unwrap();
        if line == "\r\n" || line.is_empty() {
            break;
        }
    }
    let mut buf = vec![0; 64 * 1024];
    conn.read_exact(&mut buf).await.unwrap();
    conn
}
