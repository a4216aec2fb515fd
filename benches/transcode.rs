//! Transcoding, side by side with ffmpeg per stream (what Navidrome, gonic and Airsonic run), in
//! one sitting, on the same sources and bit rates: FLAC and MP3 in, Opus 128 and MP3 192 out.
//!
//! `cargo bench --bench transcode` makes a 60 s FLAC (44.1 kHz stereo) and a 60 s MP3 (320 kbit/s)
//! with ffmpeg, starts the release server on 127.0.0.1 over them, and measures, for each pair:
//! memory per active and per paused listener (RSS and private, the server's growth over its warm
//! idle divided by the listeners; one ffmpeg process each, Navidrome's command line), CPU seconds
//! per minute of audio (one whole transcode as fast as it is read), the listeners this machine
//! keeps in real time by that CPU figure, time to the first byte, time from a seek to the first
//! new byte (a `Range` for us, a new process with `-ss` for ffmpeg, as a peer restarts it), and
//! differences between two fetches of the same ranges. Every loop is bounded in time and count;
//! all traffic stays on loopback.
//!
//! `TRANSCODE_LISTENERS=N` sets the active listeners (default 20, paused ten times as many);
//! `FOOTPRINT_SERVER=<binary>` measures another build of the server.

#[allow(dead_code, unreachable_pub)]
#[path = "footprint/servers.rs"]
mod servers;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use servers::{Server, raise_fd_limit};

/// Seconds of audio in each source.
const SECONDS: f64 = 60.0;

/// A source and an output, as the request asks and as ffmpeg is told.
struct Case {
    source: &'static str,
    format: &'static str,
    kbps: u32,
}

const CASES: [Case; 4] = [
    Case {
        source: "flac",
        format: "opus",
        kbps: 128,
    },
    Case {
        source: "flac",
        format: "mp3",
        kbps: 192,
    },
    Case {
        source: "mp3",
        format: "opus",
        kbps: 128,
    },
    Case {
        source: "mp3",
        format: "mp3",
        kbps: 192,
    },
];

impl Case {
    fn file(&self) -> String {
        format!("{}.{}", self.source, self.source)
    }

    fn path(&self) -> String {
        format!(
            "/audio/{}?format={}&bitrate={}",
            self.source, self.format, self.kbps
        )
    }

    /// Bytes a listener takes per second at real time.
    fn pace(&self) -> usize {
        self.kbps as usize * 1000 / 8
    }

    /// Navidrome's default transcoding command for this output (`-ss` when seeking).
    fn ffmpeg(&self, audio: &Path, seek: Option<f64>) -> Command {
        let mut cmd = Command::new("ffmpeg");
        if let Some(at) = seek {
            cmd.args(["-ss", &format!("{at}")]);
        }
        let codec = if self.format == "opus" {
            "libopus"
        } else {
            "libmp3lame"
        };
        cmd.arg("-i").arg(audio.join(self.file()));
        cmd.args([
            "-map",
            "0:a:0",
            "-b:a",
            &format!("{}k", self.kbps),
            "-v",
            "0",
        ])
        .args(["-c:a", codec, "-f", self.format, "-"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
        cmd
    }
}

fn main() {
    raise_fd_limit();
    if !Path::new("/usr/bin/ffmpeg").exists() {
        eprintln!("transcode benchmark skipped: ffmpeg not installed (apt-get install -y ffmpeg)");
        return;
    }
    let listeners: usize = std::env::var("TRANSCODE_LISTENERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().expect("temp dir");
    let audio = dir.path().join("audio");
    std::fs::create_dir(&audio).unwrap();
    make_sources(&audio);
    let server = Server::ours_with(&audio, None, &["--max-transcodes", "10000"]);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());

    let mut rows = Vec::new();
    for case in &CASES {
        eprintln!("{} → {} {}", case.source, case.format, case.kbps);
        // Warm: the code, the threads' stacks and their allocator arenas are in place.
        fetch_all(server.addr, &case.path());
        // Paused first: its baseline is the warm idle, not what the active phase's allocations
        // leave behind.
        let paused = ours_memory(&server, case, listeners * 10, true);
        let ours = Figures {
            cpu_per_minute: median(5, || ours_cpu(&server, case)),
            active: ours_memory(&server, case, listeners, false),
            paused,
            first_byte: median(11, || first_byte(server.addr, &case.path(), None)),
            seek: median(11, || {
                let len = length(server.addr, &case.path());
                first_byte(server.addr, &case.path(), Some(len * 3 / 4))
            }),
            differences: differences(server.addr, &case.path()),
        };
        let theirs = Figures {
            cpu_per_minute: median(5, || ffmpeg_cpu(&audio, case)),
            active: ffmpeg_memory(&audio, case, listeners.min(8), false),
            paused: ffmpeg_memory(&audio, case, listeners.min(8), true),
            first_byte: median(5, || ffmpeg_first_byte(&audio, case, None)),
            seek: median(5, || ffmpeg_first_byte(&audio, case, Some(SECONDS * 0.75))),
            differences: 0,
        };
        rows.push((case, ours, theirs));
    }
    print_table(&rows, cores, listeners);
}

/// What one side measured for one case.
struct Figures {
    /// Microseconds.
    cpu_per_minute: u64,
    /// (RSS, private) KiB per listener.
    active: (f64, f64),
    paused: (f64, f64),
    first_byte: Duration,
    seek: Duration,
    differences: usize,
}

fn make_sources(audio: &Path) {
    let source = format!(
        "aevalsrc=0.3*sin(2*PI*(220+20*t)*t)+0.1*random(0)|0.3*sin(2*PI*(330+15*t)*t)+0.1*random(1):s=44100:d={SECONDS}"
    );
    for (name, args) in [
        ("flac.flac", &["-c:a", "flac"][..]),
        ("mp3.mp3", &["-c:a", "libmp3lame", "-b:a", "320k"][..]),
    ] {
        let status = Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-f", "lavfi", "-i", &source])
            .args(args)
            .arg(audio.join(name))
            .status()
            .expect("ffmpeg runs");
        assert!(status.success(), "ffmpeg made no {name}");
    }
}

fn median<T: Ord + Copy>(runs: usize, mut run: impl FnMut() -> T) -> T {
    let mut all: Vec<T> = (0..runs).map(|_| run()).collect();
    all.sort();
    all[runs / 2]
}

/// Seconds, ordered (f64 is not `Ord`), in microseconds.
fn micros(secs: f64) -> u64 {
    (secs * 1e6) as u64
}

// --- HTTP by hand (the benchmark counts the server's bytes, not a client library's) ---

fn request(addr: SocketAddr, path: &str, range: Option<u64>) -> TcpStream {
    let mut conn = TcpStream::connect(addr).expect("the server accepts");
    conn.set_nodelay(true).unwrap();
    let range = range.map_or(String::new(), |from| format!("Range: bytes={from}-\r\n"));
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: bench\r\n{range}Connection: close\r\n\r\n"
    )
    .unwrap();
    conn
}

/// Reads the head of the answer on `conn`; returns its length header and what came after it.
fn read_head(conn: &mut TcpStream) -> (u64, Vec<u8>) {
    let mut got = Vec::new();
    let mut buf = [0; 4096];
    loop {
        let n = conn.read(&mut buf).expect("an answer");
        assert!(n > 0, "the server closed before the head");
        got.extend_from_slice(&buf[..n]);
        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&got[..end]).to_ascii_lowercase();
            assert!(
                head.starts_with("http/1.1 200") || head.starts_with("http/1.1 206"),
                "{head}"
            );
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .expect("a length");
            return (len, got[end + 4..].to_vec());
        }
    }
}

fn fetch_range(addr: SocketAddr, path: &str, from: u64, len: u64) -> Vec<u8> {
    let mut conn = TcpStream::connect(addr).unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: bench\r\nRange: bytes={from}-{}\r\nConnection: close\r\n\r\n",
        from + len - 1
    )
    .unwrap();
    let (_, mut body) = read_head(&mut conn);
    conn.read_to_end(&mut body).unwrap();
    body
}

fn fetch_all(addr: SocketAddr, path: &str) -> Vec<u8> {
    let mut conn = request(addr, path, None);
    let (len, mut body) = read_head(&mut conn);
    conn.read_to_end(&mut body).unwrap();
    assert_eq!(body.len() as u64, len, "{path}: the whole body");
    body
}

fn length(addr: SocketAddr, path: &str) -> u64 {
    read_head(&mut request(addr, path, None)).0
}

/// From sending the request to the first body byte.
fn first_byte(addr: SocketAddr, path: &str, range: Option<u64>) -> Duration {
    let started = Instant::now();
    let mut conn = request(addr, path, range);
    let (_, mut body) = read_head(&mut conn);
    if body.is_empty() {
        let mut one = [0; 1];
        conn.read_exact(&mut one).unwrap();
        body.push(one[0]);
    }
    started.elapsed()
}

// --- ours ---

fn ours_cpu(server: &Server, case: &Case) -> u64 {
    let before = server.cpu_secs();
    fetch_all(server.addr, &case.path());
    micros((server.cpu_secs() - before) * 60.0 / SECONDS)
}

/// Private memory of `pids` (`Private_Clean` + `Private_Dirty` of their mappings), KiB.
fn private_kib(pids: &[u32]) -> u64 {
    pids.iter()
        .map(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
                .unwrap_or_default()
                .lines()
                .filter(|l| l.starts_with("Private_"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .sum::<u64>()
        })
        .sum()
}

/// `n` listeners of `case`, reading at real time (`paused`: the first second's bytes, then
/// nothing); the server's growth over its idle per listener, (RSS, private) KiB, taken as the
/// highest of samples over ten seconds (paused: once made bytes are given back).
fn ours_memory(server: &Server, case: &Case, n: usize, paused: bool) -> (f64, f64) {
    let pids = server.pids();
    let idle = (server.rss_kib(), private_kib(&pids));
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = (0..n)
        .map(|i| {
            let stop = std::sync::Arc::clone(&stop);
            let (addr, path, pace) = (server.addr, case.path(), case.pace());
            // Spread over the track, as listeners are.
            let from = (i as u64 * 7_919) % 200_000;
            std::thread::spawn(move || listen(addr, &path, from, pace, paused, &stop))
        })
        .collect();
    let mut peak = (0, 0);
    let until = Instant::now() + Duration::from_secs(if paused { 12 } else { 10 });
    while Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
        if paused && Instant::now() + Duration::from_secs(1) < until {
            continue; // after the made bytes' idle time (5 s) and the sweep
        }
        let now = (server.rss_kib(), private_kib(&pids));
        peak = (peak.0.max(now.0), peak.1.max(now.1));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        reader.join().unwrap();
    }
    let per = |now: u64, idle: u64| now.saturating_sub(idle) as f64 / n as f64;
    (per(peak.0, idle.0), per(peak.1, idle.1))
}

fn listen(
    addr: SocketAddr,
    path: &str,
    from: u64,
    pace: usize,
    paused: bool,
    stop: &std::sync::atomic::AtomicBool,
) {
    let mut conn = request(addr, path, Some(from));
    conn.set_read_timeout(Some(Duration::from_secs(1))).unwrap();
    let _ = read_head(&mut conn);
    let mut buf = vec![0; pace / 10];
    let mut taken = 0;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        if !paused || taken < pace {
            match conn.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => taken += n,
                Err(_) => {}
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn differences(addr: SocketAddr, path: &str) -> usize {
    let len = length(addr, path);
    let whole = fetch_all(addr, path);
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    (0..20)
        .filter(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let from = seed % len;
            let n = (1 + seed % 100_000).min(len - from);
            let (a, b) = (
                fetch_range(addr, path, from, n),
                fetch_range(addr, path, from, n),
            );
            a != b || a != whole[from as usize..(from + n) as usize]
        })
        .count()
}

// --- ffmpeg, one process per stream ---

/// Children's CPU time of this process so far (reaped children only), seconds.
fn children_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .collect();
    // cutime and cstime: fields 16 and 17 of stat(5).
    (fields[13].parse::<u64>().unwrap() + fields[14].parse::<u64>().unwrap()) as f64 / 100.0
}

fn ffmpeg_cpu(audio: &Path, case: &Case) -> u64 {
    let before = children_cpu();
    let mut child = case.ffmpeg(audio, None).spawn().expect("ffmpeg runs");
    std::io::copy(child.stdout.as_mut().unwrap(), &mut std::io::sink()).unwrap();
    assert!(child.wait().unwrap().success());
    micros((children_cpu() - before) * 60.0 / SECONDS)
}

/// `n` ffmpeg processes read at real time (`paused`: the first second's bytes, then nothing);
/// (RSS, private) KiB per process after eight seconds.
fn ffmpeg_memory(audio: &Path, case: &Case, n: usize, paused: bool) -> (f64, f64) {
    let mut children: Vec<Child> = (0..n)
        .map(|_| case.ffmpeg(audio, None).spawn().expect("ffmpeg runs"))
        .collect();
    let pace = case.pace();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let readers: Vec<_> = children
        .iter_mut()
        .map(|child| {
            let mut out = child.stdout.take().unwrap();
            let stop = std::sync::Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut buf = vec![0; pace / 10];
                let mut taken = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    if !paused || taken < pace {
                        match out.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => taken += n,
                        }
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(8));
    let pids: Vec<u32> = children.iter().map(Child::id).collect();
    let (rss, private) = (testkit::status_kib(&pids, "VmRSS"), private_kib(&pids));
    for child in &mut children {
        let _ = child.kill();
        let _ = child.wait();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for reader in readers {
        reader.join().unwrap();
    }
    (rss as f64 / n as f64, private as f64 / n as f64)
}

fn ffmpeg_first_byte(audio: &Path, case: &Case, seek: Option<f64>) -> Duration {
    let started = Instant::now();
    let mut child = case.ffmpeg(audio, seek).spawn().expect("ffmpeg runs");
    let mut one = [0; 1];
    child.stdout.as_mut().unwrap().read_exact(&mut one).unwrap();
    let took = started.elapsed();
    let _ = child.kill();
    let _ = child.wait();
    took
}

// --- the table ---

fn print_table(rows: &[(&Case, Figures, Figures)], cores: usize, listeners: usize) {
    println!(
        "\n{listeners} active / {} paused listeners for audio-streamer; ffmpeg: one process per listener; {cores} cores\n",
        listeners * 10
    );
    println!(
        "| source → output | | active RSS / private KiB | paused RSS / private KiB | CPU s per min of audio | real-time listeners ({cores} cores) | first byte | seek → bytes | range diffs |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (case, ours, theirs) in rows {
        for (name, f) in [("audio-streamer", ours), ("ffmpeg", theirs)] {
            let cpu = f.cpu_per_minute as f64 / 1e6;
            println!(
                "| {} → {} {} | {name} | {:.0} / {:.0} | {:.1} / {:.1} | {cpu:.3} | {:.0} | {:.1} ms | {:.1} ms | {} |",
                case.source,
                case.format,
                case.kbps,
                f.active.0,
                f.active.1,
                f.paused.0,
                f.paused.1,
                cores as f64 * 60.0 / cpu.max(1e-6),
                f.first_byte.as_secs_f64() * 1e3,
                f.seek.as_secs_f64() * 1e3,
                if name == "ffmpeg" {
                    "–".into()
                } else {
                    f.differences.to_string()
                },
            );
        }
        println!(
            "| | ratio | {:.3} / {:.3} | {:.3} / {:.3} | {:.2} | | {:.2} | {:.2} | |",
            ours.active.0 / theirs.active.0,
            ours.active.1 / theirs.active.1,
            ours.paused.0 / theirs.paused.0,
            ours.paused.1 / theirs.paused.1,
            ours.cpu_per_minute as f64 / theirs.cpu_per_minute as f64,
            ours.first_byte.as_secs_f64() / theirs.first_byte.as_secs_f64(),
            ours.seek.as_secs_f64() / theirs.seek.as_secs_f64(),
        );
    }
}
