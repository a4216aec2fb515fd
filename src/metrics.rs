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
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric as _};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use tokio::sync::watch;

use crate::library::{Cache, SharedLibrary};
use crate::stats::{Counters, Snapshot};
use crate::transcode::Transcoder;

/// The `Content-Type` of the text format [`Metrics::encode`] writes.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A route as the metrics count it, declared with it in the route table: its `route` label (the
/// route table's pattern, so the label never grows with the library or with what clients make
/// up), and who counts its bodies' bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Route {
    /// The `route` label.
    label: &'static str,
    /// Whether the byte pump counts its bodies' bytes (see [`Route::streamed`]).
    streamed: bool,
}

impl Route {
    /// A route whose bodies' bytes are counted as they are sent.
    pub(crate) const fn new(label: &'static str) -> Self {
        Self {
            label,
            streamed: false,
        }
    }

    /// A route whose bodies are the streams' (audio): their bytes are the streams' own count,
    /// taken by the byte pump as the sockets take them.
    pub(crate) const fn streamed(label: &'static str) -> Self {
        Self {
            label,
            streamed: true,
        }
    }

    /// Its `route` label.
    pub(crate) fn label(self) -> &'static str {
        self.label
    }

    /// Whether its bodies' bytes are the streams' own count (see [`Route::streamed`]).
    pub(crate) fn is_streamed(self) -> bool {
        self.streamed
    }
}

/// The statuses most answers have (see [`Metrics::record`]).
const COMMON_STATUSES: [u16; 4] = [200, 206, 304, 404];

/// The labels of `http_requests_total`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    status: u16,
}

/// The counters of one declared route (see [`Metrics::declare`]).
#[derive(Debug)]
struct Slot {
    /// The route, as declared.
    route: Route,
    /// Its counters of `requests` for the statuses most answers have (like [`COMMON_STATUSES`]):
    /// kept once created, so that counting them takes no lock.
    common: [OnceLock<Counter>; COMMON_STATUSES.len()],
    /// Bytes of its response bodies (a streamed route's are counted by the byte pump instead, as
    /// the socket takes them).
    body_bytes: AtomicU64,
}

/// The server's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    /// The routes answers are counted by, in the route table's order ([`Metrics::declare`]).
    routes: Arc<OnceLock<Box<[Slot]>>>,
}

impl Metrics {
    /// Metrics reading the live figures from `counters`, `stats`, `library` and the object-store
    /// `cache` (if any) at each scrape.
    pub fn new(
        counters: Arc<Counters>,
        stats: watch::Receiver<Snapshot>,
        library: Arc<SharedLibrary>,
        cache: Option<Arc<Cache>>,
        transcoder: Arc<Transcoder>,
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
        let routes = Arc::new(OnceLock::new());
        ours.register_collector(Box::new(Live {
            counters,
            transcoder,
            stats,
            library,
            cache,
            routes: Arc::clone(&routes),
        }));
        Self {
            registry,
            requests,
            routes,
        }
    }

    /// Declares the routes answers are counted by: the route table's, entry by entry, so that
    /// [`Metrics::record`] and [`Metrics::add_body_bytes`] name a route by its place there.
    /// Entries may share a label (they share its counts). The first declaration stands: every
    /// worker's app is built from the same table.
    pub(crate) fn declare(&self, routes: &[Route]) {
        let slots = self.routes.get_or_init(|| {
            routes
                .iter()
                .map(|&route| Slot {
                    route,
                    common: Default::default(),
                    body_bytes: AtomicU64::new(0),
                })
                .collect()
        });
        debug_assert!(
            slots.iter().map(|s| s.route).eq(routes.iter().copied()),
            "one route table"
        );
    }

    /// The declared route at `place` (a place the route table never declared is a bug: it
    /// panics).
    fn slot(&self, place: usize) -> &Slot {
        let declared = self.routes.get().map_or(&[][..], |slots| slots);
        &declared[place]
    }

    /// Counts one answered request for the declared route at `place`.
    pub(crate) fn record(&self, place: usize, status: u16) {
        let slot = self.slot(place);
        let labels = RequestLabels {
            route: slot.route.label(),
            status,
        };
        let Some(common) = COMMON_STATUSES
            .iter()
            .position(|s| *s == status)
            .map(|s| &slot.common[s])
        else {
            self.requests.get_or_create(&labels).inc();
            return;
        };
        common
            .get_or_init(|| self.requests.get_or_create(&labels).clone())
            .inc();
    }

    /// Adds bytes of a response body sent for the declared route at `place`.
    pub(crate) fn add_body_bytes(&self, place: usize, bytes: u64) {
        self.slot(place)
            .body_bytes
            .fetch_add(bytes, Ordering::Relaxed);
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
    transcoder: Arc<Transcoder>,
    stats: watch::Receiver<Snapshot>,
    library: Arc<SharedLibrary>,
    cache: Option<Arc<Cache>>,
    routes: Arc<OnceLock<Box<[Slot]>>>,
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
        let slots = self.routes.get().map_or(&[][..], |slots| slots);
        // One sample per label, at its first route's place, summing the routes that share it.
        for (i, first) in slots.iter().enumerate() {
            let label = first.route.label();
            if slots[..i].iter().any(|s| s.route.label() == label) {
                continue;
            }
            let bytes: u64 = slots[i..]
                .iter()
                .filter(|s| s.route.label() == label)
                .map(|s| {
                    if s.route.is_streamed() {
                        c.bytes_served()
                    } else {
                        s.body_bytes.load(Ordering::Relaxed)
                    }
                })
                .sum();
            ConstCounter::new(bytes).encode(family.encode_family(&[("route", label)])?)?;
        }

        let transcodes = self.transcoder.counts();
        let counters: [(&str, &str, u64); 5] = [
            (
                "transcodes_refused",
                "Transcodes refused past --max-transcodes (answered 503)",
                transcodes.refused,
            ),
            (
                "transcodes_damaged",
                "Transcodes ended early by a corrupt or truncated source",
                transcodes.damaged,
            ),
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
                "transcodes_active",
                "Transcodes running (their answers being sent)",
                transcodes.running as f64,
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
    fn routes_sharing_a_label_share_its_counts_and_a_second_declaration_keeps_them() {
        let folder = tempfile::tempdir().unwrap();
        let metrics = Metrics::new(
            Arc::new(Counters::default()),
            watch::channel(Snapshot::default()).1,
            Arc::new(SharedLibrary::open(folder.path()).unwrap()),
            None,
            Arc::new(Transcoder::start(1, 1).unwrap()),
        );
        let routes = [
            Route::streamed("/s"),
            Route::new("/a"),
            Route::new("/b"),
            Route::new("/a"),
        ];
        metrics.declare(&routes);
        metrics.record(1, 200);
        metrics.record(3, 200);
        metrics.record(3, 500);
        metrics.record(2, 404);
        metrics.add_body_bytes(1, 10);
        // Another worker's app, built from the same table.
        metrics.declare(&routes);
        metrics.record(0, 206);
        metrics.add_body_bytes(3, 5);

        let text = metrics.encode();
        for line in [
            r#"audio_streamer_http_requests_total{route="/a",status="200"} 2"#,
            r#"audio_streamer_http_requests_total{route="/a",status="500"} 1"#,
            r#"audio_streamer_http_requests_total{route="/b",status="404"} 1"#,
            r#"audio_streamer_http_requests_total{route="/s",status="206"} 1"#,
            r#"audio_streamer_http_response_body_bytes_total{route="/s"} 0"#,
            r#"audio_streamer_http_response_body_bytes_total{route="/a"} 15"#,
            r#"audio_streamer_http_response_body_bytes_total{route="/b"} 0"#,
        ] {
            assert_eq!(
                text.lines().filter(|l| *l == line).count(),
                1,
                "{line} in\n{text}"
            );
        }
        assert_eq!(text.matches("_body_bytes_total{").count(), 3, "{text}");
    }
}
