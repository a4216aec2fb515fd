//! Server statistics: live counters updated by the handlers, and the sampler that turns them plus the
//! process's memory into one [`Snapshot`] per interval, published to every subscriber through a
//! `tokio::sync::watch` channel (a slow subscriber only ever misses intermediate values; it never blocks).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::watch;

/// How often the sampler returns freed memory to the OS even when no stream ended.
const TRIM_EVERY: Duration = Duration::from_secs(10);

/// Counters shared by every worker. Cheap to update: relaxed atomics.
#[derive(Debug, Default)]
pub struct Counters {
    active_streams: AtomicU64,
    sse_clients: AtomicU64,
    bytes_served: AtomicU64,
    bytes_zero_copy: AtomicU64,
    bytes_in_flight: AtomicU64,
    socket_memory: AtomicU64,
    streams_started: AtomicU64,
}

impl Counters {
    /// Marks one audio response body as in flight until the returned guard is dropped.
    pub fn stream_started(self: &Arc<Self>) -> ActiveGuard {
        self.streams_started.fetch_add(1, Ordering::Relaxed);
        ActiveGuard::new(Arc::clone(self), Gauge::Streams)
    }

    /// Marks one SSE subscriber as connected until the returned guard is dropped.
    pub fn sse_client_connected(self: &Arc<Self>) -> ActiveGuard {
        ActiveGuard::new(Arc::clone(self), Gauge::SseClients)
    }

    /// Adds audio body bytes handed to the connection; `zero_copy` when they went from the page
    /// cache to the socket with `sendfile(2)`, never through the process.
    pub fn add_bytes_served(&self, n: u64, zero_copy: bool) {
        self.bytes_served.fetch_add(n, Ordering::Relaxed);
        if zero_copy {
            self.bytes_zero_copy.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Audio body bytes sent with `sendfile(2)` since start-up.
    pub fn bytes_zero_copy(&self) -> u64 {
        self.bytes_zero_copy.load(Ordering::Relaxed)
    }

    /// Records the bytes the server's sockets hold that their clients have not taken yet.
    pub fn set_bytes_in_flight(&self, n: u64) {
        self.bytes_in_flight.store(n, Ordering::Relaxed);
    }

    /// Records the kernel memory the sockets of streams and viewers hold.
    pub fn set_socket_memory(&self, n: u64) {
        self.socket_memory.store(n, Ordering::Relaxed);
    }

    /// Kernel memory held by the sockets of streams and viewers, as last measured.
    pub fn socket_memory(&self) -> u64 {
        self.socket_memory.load(Ordering::Relaxed)
    }

    /// Bytes queued in the sockets of streams and viewers, as last measured.
    pub fn bytes_in_flight(&self) -> u64 {
        self.bytes_in_flight.load(Ordering::Relaxed)
    }

    /// Audio bodies currently being sent.
    pub fn active_streams(&self) -> u64 {
        self.active_streams.load(Ordering::Relaxed)
    }

    /// SSE subscribers currently connected.
    pub fn sse_clients(&self) -> u64 {
        self.sse_clients.load(Ordering::Relaxed)
    }

    /// Audio body bytes sent since start-up.
    pub fn bytes_served(&self) -> u64 {
        self.bytes_served.load(Ordering::Relaxed)
    }

    /// Audio bodies started since start-up (ranges and full files alike).
    pub fn streams_started(&self) -> u64 {
        self.streams_started.load(Ordering::Relaxed)
    }

    fn gauge(&self, gauge: Gauge) -> &AtomicU64 {
        match gauge {
            Gauge::Streams => &self.active_streams,
            Gauge::SseClients => &self.sse_clients,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Gauge {
    Streams,
    SseClients,
}

/// Holds one unit of a gauge; releases it on drop, however the owner ends (finished, error, client gone).
#[derive(Debug)]
pub struct ActiveGuard {
    counters: Arc<Counters>,
    gauge: Gauge,
}

impl ActiveGuard {
    fn new(counters: Arc<Counters>, gauge: Gauge) -> Self {
        counters.gauge(gauge).fetch_add(1, Ordering::Relaxed);
        Self { counters, gauge }
    }
}

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.counters
            .gauge(self.gauge)
            .fetch_sub(1, Ordering::Relaxed);
    }
}

/// One sample of the server's state, as sent to the page.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Snapshot {
    /// Resident set size, bytes (what the process occupies in RAM).
    pub rss_bytes: u64,
    /// Virtual memory size, bytes.
    pub virtual_bytes: u64,
    /// RSS at start-up, bytes: the baseline the per-stream figure is measured from.
    pub baseline_rss_bytes: u64,
    /// `(rss - baseline) / active_streams`, bytes; `None` with no stream playing.
    pub rss_per_stream_bytes: Option<u64>,
    /// Audio bodies in flight.
    pub active_streams: u64,
    /// Audio bodies started since start-up.
    pub streams_started: u64,
    /// Connected SSE subscribers.
    pub sse_clients: u64,
    /// Audio body bytes sent since start-up.
    pub bytes_served: u64,
    /// Of those, bytes that went from the page cache to the socket without a copy (`sendfile`).
    pub bytes_zero_copy: u64,
    /// Bytes sent to the network that listeners have not received yet (queued in the sockets of
    /// streams and live viewers; measured once a second).
    pub bytes_in_flight: u64,
    /// Seconds since start-up.
    pub uptime_secs: u64,
    /// Sample number, counting from 0: lets a client see that it missed none.
    pub seq: u64,
}

/// Reads the process's memory: `(rss, virtual)` in bytes, or zeros where the platform cannot say.
pub fn memory() -> (u64, u64) {
    memory_stats::memory_stats().map_or((0, 0), |m| (m.physical_mem as u64, m.virtual_mem as u64))
}

/// Produces snapshots from the counters and the process's memory.
#[derive(Debug)]
pub struct Sampler {
    counters: Arc<Counters>,
    started: Instant,
    baseline_rss: u64,
    seq: u64,
}

impl Sampler {
    /// A sampler whose baseline is the RSS right now.
    pub fn new(counters: Arc<Counters>) -> Self {
        Self {
            counters,
            started: Instant::now(),
            baseline_rss: memory().0,
            seq: 0,
        }
    }

    /// Takes the next sample.
    pub fn sample(&mut self) -> Snapshot {
        let (rss, virt) = memory();
        let streams = self.counters.active_streams();
        let snapshot = Snapshot {
            rss_bytes: rss,
            virtual_bytes: virt,
            baseline_rss_bytes: self.baseline_rss,
            rss_per_stream_bytes: (streams > 0)
                .then(|| rss.saturating_sub(self.baseline_rss) / streams),
            active_streams: streams,
            streams_started: self.counters.streams_started(),
            sse_clients: self.counters.sse_clients(),
            bytes_served: self.counters.bytes_served(),
            bytes_zero_copy: self.counters.bytes_zero_copy(),
            bytes_in_flight: self.counters.bytes_in_flight(),
            uptime_secs: self.started.elapsed().as_secs(),
            seq: self.seq,
        };
        self.seq += 1;
        snapshot
    }

    /// Samples every `interval` and publishes to `tx` until every receiver is gone; logs memory to
    /// the terminal every `log_every`.
    pub async fn run(
        mut self,
        interval: Duration,
        log_every: Duration,
        tx: watch::Sender<Snapshot>,
    ) {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last_log: Option<Instant> = None;
        let mut last_streams = 0;
        let mut last_trim = Instant::now();
        loop {
            ticks.tick().await;
            let snapshot = self.sample();
            // Listeners left (or time passed): give what their buffers used back to the OS, so the
            // process's memory follows its load down as well as up. Closed keep-alive connections
            // free memory too without changing any gauge, hence the periodic trim.
            if snapshot.active_streams < last_streams || last_trim.elapsed() >= TRIM_EVERY {
                crate::sys::trim_heap();
                last_trim = Instant::now();
            }
            last_streams = snapshot.active_streams;
            if last_log.is_none_or(|t| t.elapsed() >= log_every) {
                last_log = Some(Instant::now());
                log::info!(
                    "memory: rss {} (baseline {}), virtual {}; {} streams, {} SSE clients, {} served, {} in flight",
                    human_bytes(snapshot.rss_bytes),
                    human_bytes(snapshot.baseline_rss_bytes),
                    human_bytes(snapshot.virtual_bytes),
                    snapshot.active_streams,
                    snapshot.sse_clients,
                    human_bytes(snapshot.bytes_served),
                    human_bytes(snapshot.bytes_in_flight),
                );
            }
            if tx.send(snapshot).is_err() {
                break;
            }
        }
    }
}

/// Formats a byte count for people: `1.5 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guards_release_their_gauge_on_drop() {
        let counters = Arc::new(Counters::default());
        let a = counters.stream_started();
        let b = counters.stream_started();
        let c = counters.sse_client_connected();
        assert_eq!((counters.active_streams(), counters.sse_clients()), (2, 1));
        drop(a);
        drop(c);
        assert_eq!((counters.active_streams(), counters.sse_clients()), (1, 0));
        drop(b);
        assert_eq!(counters.active_streams(), 0);
        assert_eq!(counters.streams_started(), 2);
    }

    #[test]
    fn samples_report_real_memory_and_count_up() {
        let counters = Arc::new(Counters::default());
        let mut sampler = Sampler::new(Arc::clone(&counters));
        let first = sampler.sample();
        assert!(first.rss_bytes > 1024 * 1024, "rss {}", first.rss_bytes);
        assert!(first.virtual_bytes >= first.rss_bytes);
        assert_eq!(first.rss_per_stream_bytes, None);
        let _stream = counters.stream_started();
        counters.add_bytes_served(4096, true);
        let second = sampler.sample();
        assert_eq!(
            (second.seq, second.active_streams, second.bytes_served),
            (1, 1, 4096)
        );
        assert_eq!(second.bytes_zero_copy, 4096);
        assert!(second.rss_per_stream_bytes.is_some());
    }

    #[test]
    fn human_bytes_picks_a_readable_unit() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(5 * 1024 * 1024), "5.0 MiB");
    }
}
