//! Footprint and speed, side by side with nginx, in one sitting.
//!
//! `cargo bench --bench footprint` starts the release server on 127.0.0.1 with a generated 50 MB
//! track and, when `nginx` is installed, nginx (sendfile on) serving the same file at the same URL
//! shape, then runs every scenario against each and prints one table with the ratio to nginx.
//! Every loop is bounded in time and count; all traffic stays on loopback.
//!
//! `FOOTPRINT_QUICK=1` shortens every phase (for a smoke run); `FOOTPRINT_ONLY=ours` skips nginx;
//! `FOOTPRINT_SCENARIOS=idle,paused,slow,ranges,full,sse,soak` runs only those;
//! `FOOTPRINT_SOAK_SECS` sets the soak's length (default 120 s).

#[path = "../tests/common/soak.rs"]
mod load;

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const TRACK_BYTES: usize = 50 * 1000 * 1000;
const RANGE_BYTES: u64 = 64 * 1024;

fn main() {
    raise_fd_limit();
    let quick = std::env::var("FOOTPRINT_QUICK").is_ok();
    let only_ours = std::env::var("FOOTPRINT_ONLY").as_deref() == Ok("ours");
    let dir = tempfile::tempdir().expect("temp dir");
    let audio = dir.path().join("audio");
    std::fs::create_dir(&audio).unwrap();
    let track = Arc::new(make_track(&audio.join("bench.wav")));
    std::fs::write(audio.join("soak.wav"), &track[..5_000_000]).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let ours = || Server::ours(&audio);
    let nginx = || Server::nginx(dir.path(), &audio).expect("nginx starts");
    let mut starters: Vec<(&str, &dyn Fn() -> Server)> = vec![("audio-streamer", &ours)];
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
        results.push(rt.block_on(run_all(*start, &track, &phases)));
    }
    let names: Vec<&str> = starters.iter().map(|(name, _)| *name).collect();
    print_table(&names, &results);
}

/// How long each phase runs.
struct Phases {
    quick: bool,
    settle: Duration,
    slow: Duration,
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
            slow: s(20),
            ranges: s(15),
            full: s(10),
            sse: s(15),
        }
    }
}

fn enabled(scenario: &str) -> bool {
    std::env::var("FOOTPRINT_SCENARIOS").map_or(true, |list| list.split(',').any(|s| s == scenario))
}

/// The kernel's TCP buffer memory, system-wide, KiB (from `/proc/net/sockstat`).
fn kernel_tcp_kib() -> u64 {
    let stat = std::fs::read_to_string("/proc/net/sockstat").unwrap_or_default();
    stat.lines()
        .find(|l| l.starts_with("TCP:"))
        .and_then(|l| l.split_whitespace().skip_while(|w| *w != "mem").nth(1))
        .and_then(|pages| pages.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

/// Every memory scenario runs on a freshly started server, so no phase inherits another's heap.
async fn run_all(
    start: &dyn Fn() -> Server,
    track: &Arc<Vec<u8>>,
    phases: &Phases,
) -> Vec<(String, f64)> {
    let mut rows = Vec::new();
    let mut row = |name: &str, value: f64| {
        eprintln!("  {name}: {value:.2}");
        rows.push((name.to_owned(), value));
    };
    let fresh = async || {
        let server = start();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let idle = server.rss_kib();
        (server, idle)
    };
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
        server.status_kib("RssAnon:") as f64,
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
        let (peak, kernel_peak) = paused(&server, clients, phases.settle).await;
        row(&format!("{clients} paused: peak RSS (KiB)"), peak as f64);
        row(
            &format!("{clients} paused: RSS per stream (KiB)"),
            peak.saturating_sub(idle) as f64 / clients as f64,
        );
        row(
            &format!("{clients} paused: kernel TCP memory per stream (KiB)"),
            kernel_peak.saturating_sub(kernel) as f64 / clients as f64,
        );
    }
    for clients in [100, 1000].into_iter().filter(|_| enabled("slow")) {
        let (server, idle) = fresh().await;
        let (peak, errors) = slow(&server, clients, phases.slow).await;
        row(
            &format!("{clients} slow (32 KB/s): peak RSS (KiB)"),
            peak as f64,
        );
        row(
            &format!("{clients} slow: RSS per stream (KiB)"),
            peak.saturating_sub(idle) as f64 / clients as f64,
        );
        row(&format!("{clients} slow: errors"), errors as f64);
    }
    if enabled("ranges") || enabled("full") {
        let (server, idle) = fresh().await;
        if enabled("ranges") {
            let (rps, mismatches, errors) = ranges(server.addr, track, phases.ranges).await;
            row("64 KiB ranges, 100 conns: req/s", rps);
            row("64 KiB ranges: mismatches", mismatches as f64);
            row("64 KiB ranges: errors", errors as f64);
        }
        if enabled("full") {
            let cpu_before = server.cpu_secs();
            let (bytes, secs, mismatches) = full_files(server.addr, track, phases.full).await;
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
    if enabled("soak") {
        let (server, _) = fresh().await;
        if server.is_ours {
            let secs = std::env::var("FOOTPRINT_SOAK_SECS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(if phases.quick { 20 } else { 120 });
            // A 5 MB slice of the track: full downloads stay short enough that the (single-threaded)
            // client keeps up with 200 connections.
            let tracks = Arc::new(vec![(
                "/audio/soak".to_owned(),
                track[..5_000_000].to_vec(),
            )]);
            // Warm up, then measure: memory after the soak against memory after the warm-up.
            load::soak(
                server.addr,
                Arc::clone(&tracks),
                200,
                Duration::from_secs(5),
            )
            .await;
            // Long enough for the server's periodic heap trim (every 10 s) to have run.
            tokio::time::sleep(Duration::from_secs(11)).await;
            let before = server.rss_kib();
            let report = load::soak(server.addr, tracks, 200, Duration::from_secs(secs)).await;
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

/// A 50 MB WAV of noise: real audio whose every range differs.
fn make_track(path: &Path) -> Vec<u8> {
    let samples = (TRACK_BYTES - 44) / 2;
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    let mut x: u32 = 0x9e37_79b9;
    for _ in 0..samples {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        writer.write_sample((x >> 16) as i16).unwrap();
    }
    writer.finalize().unwrap();
    std::fs::read(path).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Servers

struct Server {
    name: &'static str,
    addr: SocketAddr,
    child: Child,
    is_ours: bool,
}

impl Server {
    fn ours(audio: &Path) -> Self {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_audio-streamer"))
            .args(["--port", &port.to_string(), "--audio-dir"])
            .arg(audio)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("server starts");
        let server = Self {
            name: "audio-streamer",
            addr: ([127, 0, 0, 1], port).into(),
            child,
            is_ours: true,
        };
        server.wait_ready();
        server
    }

    fn nginx(tmp: &Path, audio: &Path) -> Option<Self> {
        let binary = ["/usr/sbin/nginx", "/usr/bin/nginx"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())?;
        let port = free_port();
        let conf = tmp.join("nginx.conf");
        std::fs::write(
            &conf,
            format!(
                "worker_processes 2;\nworker_rlimit_nofile 16384;\ndaemon off;\npid {tmp}/nginx.pid;\nerror_log {tmp}/nginx-error.log warn;\n\
                 events {{ worker_connections 8192; }}\n\
                 http {{\n  access_log off;\n  sendfile on;\n  tcp_nopush off;\n  tcp_nodelay on;\n  keepalive_requests 10000000;\n\
                 client_body_temp_path {tmp}/body;\n  proxy_temp_path {tmp}/proxy;\n  fastcgi_temp_path {tmp}/fastcgi;\n  uwsgi_temp_path {tmp}/uwsgi;\n  scgi_temp_path {tmp}/scgi;\n\
                 types {{ audio/wav wav; }}\n  server {{\n    listen 127.0.0.1:{port};\n    location /audio/ {{\n      root {audio};\n      rewrite ^/audio/(.+)$ /$1.wav break;\n    }}\n  }}\n}}\n",
                tmp = tmp.display(),
                audio = audio.display(),
            ),
        )
        .unwrap();
        let child = Command::new(binary)
            .args(["-p", &tmp.display().to_string(), "-c"])
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let server = Self {
            name: "nginx",
            addr: ([127, 0, 0, 1], port).into(),
            child,
            is_ours: false,
        };
        server.wait_ready();
        Some(server)
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(self.addr).is_err() {
            assert!(Instant::now() < deadline, "{} did not start", self.name);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's process and its children (nginx's workers).
    fn pids(&self) -> Vec<u32> {
        let mut pids = vec![self.pid()];
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            let after = &stat[stat.rfind(')').unwrap() + 2..];
            let ppid: u32 = after.split_whitespace().nth(1).unwrap().parse().unwrap();
            if ppid == self.pid() {
                pids.push(pid);
            }
        }
        pids
    }

    /// A `/proc/<pid>/status` figure summed over the server's processes, KiB.
    fn status_kib(&self, field: &str) -> u64 {
        status_kib(&self.pids(), field)
    }

    /// Resident memory of the server (all its processes), KiB.
    fn rss_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    /// CPU seconds (user + system) used by the server's processes so far.
    fn cpu_secs(&self) -> f64 {
        let ticks: u64 = self
            .pids()
            .iter()
            .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
            .map(|stat| {
                let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
                    .split_whitespace()
                    .collect();
                fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
            })
            .sum();
        ticks as f64 / 100.0
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// A `/proc/<pid>/status` figure (`"VmRSS:"`, `"RssAnon:"`) summed over `pids`, KiB.
fn status_kib(pids: &[u32], field: &str) -> u64 {
    pids.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok())
        .filter_map(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok())
        })
        .sum()
}

fn nginx_binary() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn raise_fd_limit() {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
}

// ---------------------------------------------------------------------------------------------
// Scenarios

/// Samples the server's RSS every 100 ms while `running`, returning the peak.
fn sample_peak(server: &Server, running: Arc<AtomicBool>) -> std::thread::JoinHandle<u64> {
    let pids = server.pids();
    std::thread::spawn(move || {
        let mut peak = 0;
        while running.load(Ordering::Relaxed) {
            peak = peak.max(status_kib(&pids, "VmRSS:"));
            std::thread::sleep(Duration::from_millis(100));
        }
        peak
    })
}

async fn use_page_and_sse(addr: SocketAddr) {
    for path in ["/", "/static/app.js", "/static/app.css", "/api/tracks"] {
        let mut conn = TcpStream::connect(addr).await.unwrap();
        conn.write_all(request(path, None, true).as_bytes())
            .await
            .unwrap();
        let mut sink = Vec::new();
        conn.read_to_end(&mut sink).await.unwrap();
    }
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(request("/events", None, true).as_bytes())
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    let end = Instant::now() + Duration::from_secs(2);
    while let Ok(Ok(n)) = tokio::time::timeout_at(end.into(), conn.read(&mut buf)).await {
        if n == 0 {
            break;
        }
    }
}

fn request(path: &str, range: Option<(u64, u64)>, close: bool) -> String {
    let mut req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if let Some((a, b)) = range {
        write!(req, "Range: bytes={a}-{b}\r\n").unwrap();
    }
    if close {
        req.push_str("Connection: close\r\n");
    }
    req.push_str("\r\n");
    req
}

/// Reads a response head; returns (status, content-length).
async fn read_head(reader: &mut BufReader<TcpStream>) -> std::io::Result<(u16, u64)> {
    let mut line = String::new();
    reader.read_line(&mut line).await?;
    let status = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(std::io::ErrorKind::InvalidData)?;
    let mut length = 0;
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let l = line.trim_end();
        if l.is_empty() {
            return Ok((status, length));
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
}

/// `clients` connections each fetch one byte of the track, then stay open and idle: the cost of a
/// connection itself, before any streaming.
async fn idle_connections(server: &Server, clients: usize, settle: Duration) -> u64 {
    let mut conns = Vec::with_capacity(clients);
    for _ in 0..clients {
        let Ok(conn) = TcpStream::connect(server.addr).await else {
            continue;
        };
        let mut reader = BufReader::with_capacity(1024, conn);
        let req = request("/audio/bench", Some((0, 0)), false);
        if reader.get_mut().write_all(req.as_bytes()).await.is_ok()
            && let Ok((206, 1)) = read_head(&mut reader).await
        {
            let mut byte = [0u8; 1];
            let _ = reader.read_exact(&mut byte).await;
        }
        conns.push(reader);
    }
    tokio::time::sleep(settle).await;
    let peak = server.rss_kib();
    drop(conns);
    tokio::time::sleep(settle).await;
    peak
}

/// `clients` listeners request the track, read its head and 64 KiB, then stop reading.
async fn paused(server: &Server, clients: usize, settle: Duration) -> (u64, u64) {
    let mut conns = Vec::with_capacity(clients);
    for _ in 0..clients {
        let Ok(conn) = TcpStream::connect(server.addr).await else {
            continue;
        };
        let mut reader = BufReader::with_capacity(64 * 1024, conn);
        reader
            .get_mut()
            .write_all(request("/audio/bench", None, false).as_bytes())
            .await
            .unwrap();
        if read_head(&mut reader).await.is_ok() {
            let mut buf = vec![0u8; 64 * 1024];
            let _ = reader.read_exact(&mut buf).await;
        }
        conns.push(reader);
    }
    tokio::time::sleep(settle).await;
    let running = Arc::new(AtomicBool::new(true));
    let sampler = sample_peak(server, Arc::clone(&running));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let kernel = kernel_tcp_kib();
    running.store(false, Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    drop(conns);
    (peak, kernel)
}

/// `clients` listeners read the track at 32 KB/s for `duration`. Returns (peak RSS, errors).
async fn slow(server: &Server, clients: usize, duration: Duration) -> (u64, u64) {
    let errors = Arc::new(AtomicU64::new(0));
    let running = Arc::new(AtomicBool::new(true));
    let sampler = sample_peak(server, Arc::clone(&running));
    let end = Instant::now() + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let addr = server.addr;
        let errors = Arc::clone(&errors);
        tasks.spawn(async move {
            let result: std::io::Result<()> = async {
                let conn = TcpStream::connect(addr).await?;
                let mut reader = BufReader::with_capacity(8 * 1024, conn);
                reader
                    .get_mut()
                    .write_all(request("/audio/bench", None, false).as_bytes())
                    .await?;
                let (status, _) = read_head(&mut reader).await?;
                if status != 200 {
                    return Err(std::io::ErrorKind::InvalidData.into());
                }
                let mut buf = vec![0u8; 8 * 1024];
                let mut tick = tokio::time::interval(Duration::from_millis(250));
                while Instant::now() < end {
                    tick.tick().await;
                    reader.read_exact(&mut buf).await?; // 8 KB every 250 ms = 32 KB/s
                }
                Ok(())
            }
            .await;
            if result.is_err() {
                errors.fetch_add(1, Ordering::Relaxed);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    running.store(false, Ordering::Relaxed);
    (sampler.join().unwrap(), errors.load(Ordering::Relaxed))
}

/// 100 keep-alive connections request random 64 KiB ranges; every byte is compared with the file.
async fn ranges(addr: SocketAddr, track: &Arc<Vec<u8>>, duration: Duration) -> (f64, u64, u64) {
    let done = Arc::new(AtomicU64::new(0));
    let mismatches = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let end = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for seed in 0..100u64 {
        let (track, done, mismatches, errors) = (
            Arc::clone(track),
            Arc::clone(&done),
            Arc::clone(&mismatches),
            Arc::clone(&errors),
        );
        tasks.spawn(async move {
            let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
            let mut body = vec![0u8; RANGE_BYTES as usize];
            'conn: while Instant::now() < end {
                let Ok(conn) = TcpStream::connect(addr).await else {
                    errors.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let mut reader = BufReader::with_capacity(128 * 1024, conn);
                while Instant::now() < end {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let start = x % (track.len() as u64 - RANGE_BYTES);
                    let req = request(
                        "/audio/bench",
                        Some((start, start + RANGE_BYTES - 1)),
                        false,
                    );
                    let ok = async {
                        reader.get_mut().write_all(req.as_bytes()).await?;
                        let (status, len) = read_head(&mut reader).await?;
                        if status != 206 || len != RANGE_BYTES {
                            return Err(std::io::Error::other(format!(
                                "status {status}, length {len}"
                            )));
                        }
                        reader.read_exact(&mut body).await?;
                        Ok::<_, std::io::Error>(())
                    }
                    .await;
                    if ok.is_err() {
                        errors.fetch_add(1, Ordering::Relaxed);
                        continue 'conn;
                    }
                    if body[..] != track[start as usize..(start + RANGE_BYTES) as usize] {
                        mismatches.fetch_add(1, Ordering::Relaxed);
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    let secs = started.elapsed().as_secs_f64();
    (
        done.load(Ordering::Relaxed) as f64 / secs,
        mismatches.load(Ordering::Relaxed),
        errors.load(Ordering::Relaxed),
    )
}

/// 8 connections download the whole file again and again. Returns (bytes, seconds, mismatches).
async fn full_files(addr: SocketAddr, track: &Arc<Vec<u8>>, duration: Duration) -> (u64, f64, u64) {
    let bytes = Arc::new(AtomicU64::new(0));
    let mismatches = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let end = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (track, bytes, mismatches) = (
            Arc::clone(track),
            Arc::clone(&bytes),
            Arc::clone(&mismatches),
        );
        tasks.spawn(async move {
            let mut buf = vec![0u8; 256 * 1024];
            while Instant::now() < end {
                let Ok(conn) = TcpStream::connect(addr).await else {
                    continue;
                };
                let mut reader = BufReader::with_capacity(256 * 1024, conn);
                if reader
                    .get_mut()
                    .write_all(request("/audio/bench", None, true).as_bytes())
                    .await
                    .is_err()
                {
                    continue;
                }
                let Ok((200, len)) = read_head(&mut reader).await else {
                    continue;
                };
                let mut offset = 0usize;
                // Every 16th download is compared byte for byte; the rest only counted, to keep the
                // client's CPU out of the server's way.
                let check = bytes.load(Ordering::Relaxed) / (track.len() as u64) % 16 == 0;
                while (offset as u64) < len {
                    let Ok(n) = reader.read(&mut buf).await else {
                        break;
                    };
                    if n == 0 {
                        break;
                    }
                    if check && buf[..n] != track[offset..offset + n] {
                        mismatches.fetch_add(1, Ordering::Relaxed);
                    }
                    offset += n;
                    bytes.fetch_add(n as u64, Ordering::Relaxed);
                }
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    (
        bytes.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64(),
        mismatches.load(Ordering::Relaxed),
    )
}

/// `clients` SSE subscribers read for `duration`. Returns (peak RSS, events delivered, events missed).
async fn sse(server: &Server, clients: usize, duration: Duration) -> (u64, u64, u64) {
    let delivered = Arc::new(AtomicU64::new(0));
    let missed = Arc::new(AtomicU64::new(0));
    let running = Arc::new(AtomicBool::new(true));
    let sampler = sample_peak(server, Arc::clone(&running));
    let end = Instant::now() + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (addr, delivered, missed) = (server.addr, Arc::clone(&delivered), Arc::clone(&missed));
        tasks.spawn(async move {
            let Ok(conn) = TcpStream::connect(addr).await else {
                missed.fetch_add(1, Ordering::Relaxed);
                return;
            };
            let mut reader = BufReader::new(conn);
            if reader
                .get_mut()
                .write_all(request("/events", None, false).as_bytes())
                .await
                .is_err()
            {
                return;
            }
            let mut last: Option<u64> = None;
            let mut line = String::new();
            loop {
                line.clear();
                match tokio::time::timeout_at(end.into(), reader.read_line(&mut line)).await {
                    Ok(Ok(n)) if n > 0 => {}
                    _ => break,
                }
                let Some(data) = line.strip_prefix("data: ") else {
                    continue;
                };
                let Some(seq) = data
                    .split("\"seq\":")
                    .nth(1)
                    .and_then(|s| s.trim_end().trim_end_matches('}').parse::<u64>().ok())
                else {
                    continue;
                };
                delivered.fetch_add(1, Ordering::Relaxed);
                if let Some(prev) = last {
                    missed.fetch_add(seq.saturating_sub(prev + 1), Ordering::Relaxed);
                }
                last = Some(seq);
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    running.store(false, Ordering::Relaxed);
    (
        sampler.join().unwrap(),
        delivered.load(Ordering::Relaxed),
        missed.load(Ordering::Relaxed),
    )
}
