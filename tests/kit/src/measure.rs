//! What the benchmarks measure with: the peak of a sampled figure (RSS) while work runs, and wrk
//! (Debian's `wrk`, a multi-threaded C load generator) with its report read back.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// A thread that samples a figure every so often and keeps its highest value, until stopped.
pub struct Peak {
    peak: Arc<AtomicU64>,
    done: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Peak {
    /// Starts sampling `sample` every `every`, from its value now.
    pub fn start(sample: impl Fn() -> u64 + Send + 'static, every: Duration) -> Self {
        let peak = Arc::new(AtomicU64::new(sample()));
        let done = Arc::new(AtomicBool::new(false));
        let thread = {
            let (peak, done) = (Arc::clone(&peak), Arc::clone(&done));
            std::thread::spawn(move || {
                while !done.load(Ordering::Relaxed) {
                    peak.fetch_max(sample(), Ordering::Relaxed);
                    std::thread::sleep(every);
                }
            })
        };
        Self { peak, done, thread }
    }

    /// Stops sampling; the highest value seen.
    pub fn stop(self) -> u64 {
        self.done.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        self.peak.load(Ordering::Relaxed)
    }
}

/// What wrk said.
#[derive(Debug, Clone, Copy)]
pub struct Wrk {
    /// Requests per second.
    pub rate: f64,
    /// Requests answered.
    pub requests: u64,
    /// Socket errors (connect, read, write, timeout) and answers other than 2xx or 3xx.
    pub errors: u64,
    /// The median latency.
    pub p50: Duration,
    /// The 99th percentile latency.
    pub p99: Duration,
}

/// Where wrk is installed, if it is.
pub fn wrk_binary() -> Option<&'static Path> {
    ["/usr/bin/wrk", "/usr/local/bin/wrk"]
        .into_iter()
        .map(Path::new)
        .find(|p| p.exists())
}

/// Runs wrk (`-t<threads> -c<connections> -d<duration> --latency`, with the Lua `script` if any)
/// against `url`.
pub fn wrk(
    threads: u32,
    connections: u32,
    duration: Duration,
    script: Option<&Path>,
    url: &str,
) -> Wrk {
    let mut cmd = std::process::Command::new(wrk_binary().expect("wrk (apt-get install wrk)"));
    cmd.arg(format!("-t{threads}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", duration.as_secs().max(1)))
        .arg("--latency");
    if let Some(script) = script {
        cmd.arg("-s").arg(script);
    }
    let out = cmd.arg(url).output().expect("wrk runs");
    parse(&String::from_utf8_lossy(&out.stdout))
}

/// wrk's report read back.
fn parse(text: &str) -> Wrk {
    let field = |prefix: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(prefix))
            .and_then(|v| v.split_whitespace().next())
    };
    let requests = text
        .lines()
        .find_map(|l| l.trim().split_once(" requests in "))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or(0);
    let socket_errors: u64 = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Socket errors:"))
        .flat_map(|v| {
            v.split(',')
                .filter_map(|p| p.split_whitespace().last()?.parse::<u64>().ok())
        })
        .sum();
    let non_2xx: u64 = field("Non-2xx or 3xx responses:").map_or(0, |n| n.parse().unwrap_or(0));
    let latency = |prefix| field(prefix).map_or(Duration::ZERO, duration);
    Wrk {
        rate: field("Requests/sec:").map_or(0.0, |r| r.parse().unwrap_or(0.0)),
        requests,
        errors: socket_errors + non_2xx,
        p50: latency("50%"),
        p99: latency("99%"),
    }
}

/// `812.00us`, `1.25ms`, `2.01s`, `1.50m` as wrk prints them.
fn duration(text: &str) -> Duration {
    let at = text
        .find(|c: char| c.is_ascii_alphabetic())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(at);
    let number: f64 = number.parse().unwrap_or(0.0);
    Duration::from_secs_f64(match unit {
        "us" => number / 1e6,
        "ms" => number / 1e3,
        "m" => number * 60.0,
        _ => number,
    })
}
