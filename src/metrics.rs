//! Metrics for Prometheus (`GET /metrics`), in its text format through `prometheus-client`.
//!
//! Requests and response bytes are counted as they are answered ([`Metrics::record`]); everything
//! else (streams, viewers, memory, bytes in flight, the scan) is read from the live counters, the
//! latest stats sample and the library when Prometheus scrapes, so nothing is counted twice.
//! Names and units follow Prometheus' conventions: `_total` for counters, `_bytes` and `_seconds`
//! for units, and the standard `process_*` names for the process's own figures.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeLabelSet, EncodeLabelValue, EncodeMetric as _, LabelValueEncoder,
};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use tokio::sync::watch;

use crate::library::{Cache, SharedLibrary};
use crate::stats::{Counters, Snapshot};

/// The `Content-Type` of the text format [`Metrics::encode`] writes.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a request asked for, as the `route` label names it: the route table's patterns, so the
/// label never grows with the library or with what clients make up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// `/`
    Index,
    /// `/audio/{name}`
    Audio,
    /// `/art/{name}`
    Art,
    /// `/events`
    Events,
    /// `/api/stats`, `/api/tracks` and `/api/library`
    Api,
    /// `/static/{file}`
    Static,
    /// `/metrics`
    Metrics,
    /// `/healthz`
    Health,
    /// `/readyz`
    Ready,
    /// Anything else (answered 404).
    Other,
}

/// The statuses most answers have (see [`Metrics::record`]).
const COMMON_STATUSES: [u16; 4] = [200, 206, 304, 404];

impl Route {
    /// Where the route is in [`Route::ALL`].
    fn index(self) -> usize {
        self as usize
    }

    const ALL: [Self; 10] = [
        Self::Index,
        Self::Audio,
        Self::Art,
        Self::Events,
        Self::Api,
        Self::Static,
        Self::Metrics,
        Self::Health,
        Self::Ready,
        Self::Other,
    ];

    fn label(self) -> &'static str {
        match self {
            Self::Index => "/",
            Self::Audio => "/audio/{name}",
            Self::Art => "/art/{name}",
            Self::Events => "/events",
            Self::Api => "/api",
            Self::Static => "/static/{file}",
            Self::Metrics => "/metrics",
            Self::Health => "/healthz",
            Self::Ready => "/readyz",
            Self::Other => "other",
        }
    }
}

impl EncodeLabelValue for Route {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), fmt::Error> {
        fmt::Write::write_str(encoder, self.label())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    route: Route,
    status: u16,
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    /// The counters of `requests` for the statuses most answers have, by route (indexed like
    /// [`Route::ALL`]) and status (like [`COMMON_STATUSES`]): kept once created, so that counting
    /// them takes no lock.
    common: [[OnceLock<Counter>; COMMON_STATUSES.len()]; Route::ALL.len()],
    /// Bytes of response bodies by route (indexed like [`Route::ALL`]); audio bodies are counted
    /// by the byte pump instead, as the socket takes them.
    body_bytes: Arc<[AtomicU64; Route::ALL.len()]>,
}

impl Metrics {
    /// Metrics reading the live figures from `counters`, `stats`, `library` and the object-store
    /// `cache` (if any) at each scrape.
    pub fn new(
        counters: Arc<Counters>,
        stats: watch::Receiver<Snapshot>,
        library: Arc<SharedLibrary>,
        cache: Option<Arc<Cache>>,
    ) -> Self {
        let mut registry = Registry::default();
        // The standard process metrics, unprefixed, as every exporter names them.
        registry.register_collector(Box::new(Process {
            stats: stats.clone(),
            started: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        }));
        let ours = registry.sub_registry_with_prefix("audio_streamer");
        let requests = Family::<RequestLabels, Counter>::default();
        ours.register(
            "http_requests",
            "HTTP requests answered, by route and status",
            requests.clone(),
        );
        let body_bytes = Arc::new(std::array::from_fn(|_| AtomicU64::new(0)));
        ours.register_collector(Box::new(Live {
            counters,
            stats,
            library,
            cache,
            body_bytes: Arc::clone(&body_bytes),
        }));
        Self {
            registry,
            requests,
            common: Default::default(),
            body_bytes,
        }
    }

    /// Counts one answered request.
    pub fn record(&self, route: Route, status: u16) {
        let labels = RequestLabels { route, status };
        let Some(common) = COMMON_STATUSES
            .iter()
            .position(|s| *s == status)
            .map(|s| &self.common[route.index()][s])
        else {
            self.requests.get_or_create(&labels).inc();
            return;
        };
        common
            .get_or_init(|| self.requests.get_or_create(&labels).clone())
            .inc();
    }

    /// Adds bytes of a response body sent for `route`.
    pub fn add_body_bytes(&self, route: Route, bytes: u64) {
        self.body_bytes[route.index()].fetch_add(bytes, Ordering::Relaxed);
    }

    /// Every metric, in Prometheus' text format ([`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        let mut text = String::with_capacity(4096);
        prometheus_client::encoding::prometheus_text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

/// The figures read at each scrape.
#[derive(Debug)]
struct Live {
    counters: Arc<Counters>,
    stats: watch::Receiver<Snapshot>,
    library: Arc<SharedLibrary>,
    cache: Option<Arc<Cache>>,
    body_bytes: Arc<[AtomicU64; Route::ALL.len()]>,
}

impl Collector for Live {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let c = &self.counters;
        let snapshot = self.stats.borrow().clone();
        let status = self.library.status();
        let tracks = self.library.snapshot().tracks().len() as u64;

        let mut family = encoder.encode_descriptor(
            "http_response_body_bytes",
            "Bytes of response bodies sent, by route (audio: as the sockets took them)",
            None,
            prometheus_client::metrics::MetricType::Counter,
        )?;
        for (i, route) in Route::ALL.iter().enumerate() {
            let bytes = match route {
                Route::Audio => c.bytes_served(),
                _ => self.body_bytes[i].load(Ordering::Relaxed),
            };
            let labels = [("route", route.label())];
            ConstCounter::new(bytes).encode(family.encode_family(&labels)?)?;
        }

        let counters: [(&str, &str, u64); 3] = [
            (
                "streams_started",
                "Audio responses started (whole files and ranges)",
                c.streams_started(),
            ),
            (
                "stream_zero_copy_bytes",
                "Audio bytes sent with sendfile(2), from the page cache to the socket without a copy",
                c.bytes_zero_copy(),
            ),
            (
                "stream_sent_bytes",
                "Audio bytes sent, by sendfile or through the process",
                c.bytes_served(),
            ),
        ];
        for (name, help, value) in counters {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(
                name,
                help,
                None,
                counter.metric_type(),
            )?)?;
        }

        let scan = status.scan.unwrap_or_default();
        let mut gauges: Vec<(&str, &str, f64)> = vec![
            (
                "streams_active",
                "Audio responses being sent",
                c.active_streams() as f64,
            ),
            (
                "viewers_active",
                "Live-stats viewers connected (/events)",
                c.sse_clients() as f64,
            ),
            (
                "in_flight_bytes",
                "Bytes queued in the sockets of streams and viewers that their clients have not taken yet",
                c.bytes_in_flight() as f64,
            ),
            (
                "socket_memory_bytes",
                "Kernel memory held by the sockets of streams and viewers",
                c.socket_memory() as f64,
            ),
            ("library_tracks", "Tracks in the library", tracks as f64),
            (
                "library_scan_in_progress",
                "1 while a scan is reading tags, else 0",
                f64::from(u8::from(status.scan.is_some())),
            ),
            (
                "library_scan_read_files",
                "Files whose tags the current scan has read",
                scan.read as f64,
            ),
            (
                "library_scan_files",
                "Files the current scan has to read",
                scan.total as f64,
            ),
            (
                "resident_memory_baseline_bytes",
                "Resident memory at start-up, the baseline of the per-stream figure",
                snapshot.baseline_rss_bytes as f64,
            ),
        ];
        if let Some(per_stream) = snapshot.rss_per_stream_bytes {
            gauges.push((
                "resident_memory_per_stream_bytes",
                "Resident memory above the start-up baseline, divided by the streams being sent",
                per_stream as f64,
            ));
        }
        if let Some(cache) = &self.cache {
            gauges.push((
                "cache_bytes",
                "Bytes of whole objects in this replica's cache",
                cache.used_bytes() as f64,
            ));
            gauges.push((
                "cache_max_bytes",
                "The cache's bound (--cache-max-bytes)",
                cache.max_bytes() as f64,
            ));
            put(
                &mut encoder,
                "cache_fills",
                "Objects fetched whole from the store into the cache",
                ConstCounter::new(cache.fills()),
            )?;
        }
        for (name, help, value) in gauges {
            put(&mut encoder, name, help, ConstGauge::new(value))?;
        }

        Ok(())
    }
}

/// Writes one metric with its name and help.
fn put(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    metric: impl prometheus_client::encoding::EncodeMetric,
) -> Result<(), fmt::Error> {
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

/// `process_*`: the process's memory and start time.
#[derive(Debug)]
struct Process {
    stats: watch::Receiver<Snapshot>,
    /// Start-up time, seconds since the Unix epoch.
    started: f64,
}

impl Collector for Process {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), fmt::Error> {
        let (rss, virt) = {
            let snapshot = self.stats.borrow();
            (snapshot.rss_bytes, snapshot.virtual_bytes)
        };
        for (name, help, value) in [
            (
                "process_resident_memory_bytes",
                "Resident memory size in bytes",
                rss as f64,
            ),
            (
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes",
                virt as f64,
            ),
            (
                "process_start_time_seconds",
                "Start time of the process since the Unix epoch in seconds",
                self.started,
            ),
        ] {
            put(&mut encoder, name, help, ConstGauge::new(value))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_indexes_its_own_place() {
        for (i, route) in Route::ALL.iter().enumerate() {
            assert_eq!(route.index(), i, "{route:?}");
        }
    }
}
