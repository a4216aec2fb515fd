//! `GET /metrics` on the real server: what it counts, its token, `promtool check metrics` on its
//! output, and a real Prometheus server scraping it.

use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use testkit::{Fixture, TestServer};

const PROMTOOL: &str = "/usr/bin/promtool";
const PROMETHEUS: &str = "/usr/bin/prometheus";

/// Every sample of a scrape: `name{labels}` (as written) → value.
fn samples(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (name, value) = l.rsplit_once(' ').unwrap();
            (name.to_owned(), value.parse().unwrap())
        })
        .collect()
}

async fn scrape(server: &TestServer, token: Option<&str>) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(server.url("/metrics"));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn requests_are_counted_by_route_and_status_and_bodies_by_their_bytes() {
    let fixture = Fixture::new();
    let track = fixture.wav("one.wav", 0.2);
    let server = TestServer::start(&fixture.config()).await;
    let client = reqwest::Client::new();
    let get = async |path: &str, range: Option<&str>| {
        let mut req = client.get(server.url(path));
        if let Some(range) = range {
            req = req.header("Range", range);
        }
        let res = req.send().await.unwrap();
        (res.status().as_u16(), res.bytes().await.unwrap().len())
    };
    let (_, page) = get("/", None).await;
    assert_eq!(get("/audio/one", None).await, (200, track.len()));
    assert_eq!(get("/audio/one", Some("bytes=0-99")).await, (206, 100));
    assert_eq!(get("/audio/one", Some("bytes=0-99")).await, (206, 100));
    assert_eq!(get("/audio/missing", None).await.0, 404);
    assert_eq!(get("/no/such/page", None).await.0, 404);
    let (_, css) = get("/static/app.css", None).await;

    let res = scrape(&server, None).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = res.text().await.unwrap();
    let m = samples(&text);
    let value = |key: &str| *m.get(key).unwrap_or_else(|| panic!("no {key} in\n{text}"));
    let requests = |route: &str, status: u16| {
        value(&format!(
            "audio_streamer_http_requests_total{{route=\"{route}\",status=\"{status}\"}}"
        ))
    };
    assert_eq!(requests("/", 200), 1.0);
    assert_eq!(requests("/audio/{name}", 200), 1.0);
    assert_eq!(requests("/audio/{name}", 206), 2.0);
    assert_eq!(requests("/audio/{name}", 404), 1.0);
    assert_eq!(requests("other", 404), 1.0);
    assert_eq!(requests("/static/{file}", 200), 1.0);
    let body = |route: &str| {
        value(&format!(
            "audio_streamer_http_response_body_bytes_total{{route=\"{route}\"}}"
        ))
    };
    assert_eq!(body("/"), page as f64);
    assert_eq!(body("/static/{file}"), css as f64);
    assert_eq!(body("/audio/{name}"), (track.len() + 200) as f64);
    assert_eq!(
        value("audio_streamer_stream_sent_bytes_total"),
        (track.len() + 200) as f64
    );
    assert_eq!(value("audio_streamer_streams_started_total"), 3.0);
    assert_eq!(value("audio_streamer_streams_active"), 0.0);
    assert_eq!(value("audio_streamer_library_tracks"), 1.0);
    assert_eq!(value("audio_streamer_library_scan_in_progress"), 0.0);
    assert!(value("process_resident_memory_bytes") > 1024.0 * 1024.0);
    assert!(value("process_start_time_seconds") > 1.7e9);
    for line in text.lines().filter(|l| l.starts_with("# TYPE")) {
        let (name, kind) = line[7..].split_once(' ').unwrap();
        assert_eq!(
            name.ends_with("_total"),
            kind == "counter",
            "counters and only counters end in _total: {line}"
        );
    }

    // The scrape itself is counted (by the next one).
    let again = samples(&scrape(&server, None).await.text().await.unwrap());
    assert_eq!(
        again["audio_streamer_http_requests_total{route=\"/metrics\",status=\"200\"}"],
        1.0
    );
}

#[tokio::test]
async fn each_route_is_counted_under_the_label_its_entry_declares() {
    let fixture = Fixture::new();
    fixture.wav("one.wav", 0.05);
    let server = TestServer::start(&fixture.config()).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let want = [
        ("/", "/", 200),
        ("/audio/one", "/audio/{name}", 200),
        ("/art/one", "/art/{name}", 404),
        ("/events", "/events", 200),
        ("/api/tracks", "/api", 200),
        ("/api/library", "/api", 200),
        ("/api/stats", "/api", 200),
        ("/api/link?track=one&lifetime=600", "/api", 404),
        ("/api/nothing", "/api", 404),
        ("/static/app.css", "/static/{file}", 200),
        ("/metrics", "/metrics", 200),
        ("/healthz", "/healthz", 200),
        ("/readyz", "/readyz", 200),
        ("/login", "/login", 303),
        ("/logout", "/logout", 405),
        ("/rest/ping.view", "/rest", 200),
        ("/no/such/page", "other", 404),
    ];
    let mut counts = HashMap::<(&str, u16), f64>::new();
    for (path, label, status) in want {
        let res = client.get(server.url(path)).send().await.unwrap();
        assert_eq!(res.status(), status, "{path}");
        // The event stream never ends: its answer is counted once its head is out.
        drop(res);
        *counts.entry((label, status)).or_default() += 1.0;
    }

    let text = server.state.metrics.encode();
    let m = samples(&text);
    for ((label, status), count) in counts {
        let key =
            format!("audio_streamer_http_requests_total{{route=\"{label}\",status=\"{status}\"}}");
        assert_eq!(m.get(&key), Some(&count), "{key} in\n{text}");
    }
    // One body-bytes sample per label, each route's under its own.
    let mut labels: Vec<&str> = m
        .keys()
        .filter_map(|k| k.strip_prefix("audio_streamer_http_response_body_bytes_total{route=\""))
        .map(|k| k.trim_end_matches("\"}"))
        .collect();
    labels.sort_unstable();
    let mut declared: Vec<&str> = want.iter().map(|(_, label, _)| *label).collect();
    declared.sort_unstable();
    declared.dedup();
    assert_eq!(labels, declared);
}

#[tokio::test]
async fn with_a_token_only_a_scraper_presenting_it_is_answered() {
    let fixture = Fixture::new();
    fixture.wav("one.wav", 0.05);
    let mut config = fixture.config();
    config.metrics_token = Some("s3cret-token".into());
    let server = TestServer::start(&config).await;
    for token in [
        None,
        Some("wrong"),
        Some("s3cret-toke"),
        Some("s3cret-token2"),
    ] {
        let res = scrape(&server, token).await;
        assert_eq!(res.status(), 401, "{token:?}");
        assert_eq!(
            res.headers()["www-authenticate"],
            "Bearer realm=\"metrics\""
        );
        assert!(!res.text().await.unwrap().contains("audio_streamer_"));
    }
    let res = scrape(&server, Some("s3cret-token")).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("audio_streamer_library_tracks 1")
    );
    // Other routes do not ask for it.
    let page = reqwest::get(server.url("/")).await.unwrap();
    assert_eq!(page.status(), 200);
}

#[tokio::test]
async fn promtool_finds_nothing_to_fix_while_a_stream_is_paused() {
    if !testkit::installed("promtool check", &[PROMTOOL], "prometheus") {
        return;
    }
    let fixture = Fixture::new();
    fixture.wav("big.wav", 60.0);
    let server = TestServer::start(&fixture.config()).await;
    // A listener that reads the head and stops: a stream in flight, so every gauge is present.
    let mut conn = testkit::Conn::open(server.addr).await;
    conn.send(b"GET /audio/big HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    server
        .wait_for("the stream to start", |s| s.counters.active_streams() == 1)
        .await;
    let text = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let text = scrape(&server, None).await.text().await.unwrap();
            if text.contains("audio_streamer_resident_memory_per_stream_bytes")
                && !text.contains("audio_streamer_socket_memory_bytes 0")
            {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await
    .expect("a sample with the stream and its socket's memory");

    let mut promtool = Command::new(PROMTOOL)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    promtool
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = promtool.wait_with_output().unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "{said}\n{text}"
    );
    drop(conn);
}

/// A Prometheus server on a free port, scraping `target` every second with `token`; killed when
/// dropped.
struct Prometheus {
    child: std::process::Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(target: std::net::SocketAddr, token: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n  - job_name: audio-streamer\n    authorization:\n      credentials: {token}\n    \
             static_configs:\n      - targets: ['{target}']\n"
        );
        std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
        let port = testkit::free_port();
        let child = Command::new(PROMETHEUS)
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("log")).unwrap())
            .spawn()
            .expect("prometheus starts");
        Self {
            child,
            port,
            _dir: dir,
        }
    }

    /// The value of an instant query's single sample, if there is one.
    async fn query(&self, query: &str) -> Option<f64> {
        let res = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{}/api/v1/query", self.port))
            .query(&[("query", query)])
            .send()
            .await
            .ok()?;
        let json: serde_json::Value = res.json().await.ok()?;
        json["data"]["result"][0]["value"][1].as_str()?.parse().ok()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

#[tokio::test]
async fn a_real_prometheus_scrapes_the_server_with_its_token() {
    if !testkit::installed("the Prometheus scrape test", &[PROMETHEUS], "prometheus") {
        return;
    }
    let fixture = Fixture::new();
    for name in ["a.wav", "b.wav", "c.wav"] {
        fixture.wav(name, 0.05);
    }
    let mut config = fixture.config();
    config.metrics_token = Some("scrape-me".into());
    let server = TestServer::start(&config).await;
    reqwest::get(server.url("/audio/a")).await.unwrap();
    let prometheus = Prometheus::start(server.addr, "scrape-me");

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let up = prometheus.query("up{job=\"audio-streamer\"}").await;
        let tracks = prometheus.query("audio_streamer_library_tracks").await;
        let audio = prometheus
            .query("audio_streamer_http_requests_total{route=\"/audio/{name}\",status=\"200\"}")
            .await;
        if (up, tracks, audio) == (Some(1.0), Some(3.0), Some(1.0)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus did not scrape the server: up {up:?}, tracks {tracks:?}, audio {audio:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    // It presented the token: its scrapes are counted as answered, none refused.
    let scraped = server.state.metrics.encode();
    assert!(
        !scraped.contains("route=\"/metrics\",status=\"401\""),
        "{scraped}"
    );
}
