//! HTTPS on the real server: HTTP/2 and HTTP/1.1 by ALPN, with reqwest and curl; the chunk path
//! under TLS; the send timeout cutting off a stalled TLS listener; and, under HTTP/2, a stalled
//! stream that never takes down the connection carrying the others.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_TYPE, RANGE};
use reqwest::{Certificate, Client, Version};
use testkit::{Fixture, TestServer};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;

const CURL: &str = "/usr/bin/curl";

struct Tls {
    server: TestServer,
    fixture: Fixture,
    /// The server's self-signed certificate (PEM), for clients to trust.
    cert: String,
}

impl Tls {
    async fn start(edit: impl FnOnce(&mut audio_streamer::Config)) -> Self {
        let fixture = Fixture::new();
        let (files, cert) = fixture.tls();
        let mut config = fixture.config();
        config.tls = Some(files);
        edit(&mut config);
        fixture.wav("one.wav", 0.5);
        // 9.6 MB: more than the socket buffers and HTTP/2 windows hold.
        fixture.wav("big.wav", 600.0);
        let server = TestServer::start(&config).await;
        Self {
            server,
            fixture,
            cert,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.server.addr.port())
    }

    fn client(&self, http1: bool) -> Client {
        let mut builder = Client::builder()
            .add_root_certificate(Certificate::from_pem(self.cert.as_bytes()).unwrap())
            .tls_built_in_root_certs(false)
            .https_only(true);
        if http1 {
            builder = builder.http1_only();
        }
        builder.build().unwrap()
    }

    fn file(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.fixture.audio_dir().join(name)).unwrap()
    }
}

#[tokio::test]
async fn every_route_answers_over_http2_and_http11() {
    let tls = Tls::start(|_| {}).await;
    let one = tls.file("one.wav");
    for (http1, version) in [(false, Version::HTTP_2), (true, Version::HTTP_11)] {
        let client = tls.client(http1);
        let get = async |path: &str, range: Option<&str>| {
            let mut req = client.get(tls.url(path));
            if let Some(range) = range {
                req = req.header(RANGE, range);
            }
            let res = req.send().await.unwrap();
            assert_eq!(res.version(), version, "{path}");
            assert!(
                res.headers().contains_key("content-security-policy"),
                "{path}"
            );
            res
        };
        for path in [
            "/",
            "/static/app.css",
            "/api/library",
            "/api/stats",
            "/metrics",
        ] {
            assert_eq!(get(path, None).await.status(), 200, "{version:?} {path}");
        }
        assert_eq!(get("/audio/missing", None).await.status(), 404);

        let whole = get("/audio/one", None).await;
        assert_eq!(whole.status(), 200);
        assert_eq!(whole.bytes().await.unwrap(), one, "{version:?}");
        let part = get("/audio/one", Some("bytes=1000-1999")).await;
        assert_eq!(part.status(), 206);
        assert_eq!(part.bytes().await.unwrap(), one[1000..2000], "{version:?}");
        let suffix = get("/audio/one", Some("bytes=-77")).await;
        assert_eq!(suffix.bytes().await.unwrap(), one[one.len() - 77..]);
        let parts = get("/audio/one", Some("bytes=0-9,500-599")).await;
        let content_type = parts.headers()[CONTENT_TYPE].to_str().unwrap().to_owned();
        let body = parts.bytes().await.unwrap();
        let got: Vec<Vec<u8>> = testkit::multipart_parts(&content_type, &body)
            .into_iter()
            .map(|p| p.bytes)
            .collect();
        assert_eq!(got, vec![one[0..10].to_vec(), one[500..600].to_vec()]);
        let big = tls.file("big.wav");
        let res = get("/audio/big", None).await;
        assert!(res.bytes().await.unwrap() == big, "{version:?}: big.wav");

        let head = client.head(tls.url("/audio/one")).send().await.unwrap();
        assert_eq!(
            head.headers()["content-length"],
            one.len().to_string().as_str()
        );

        let mut events = get("/events", None).await;
        let first = tokio::time::timeout(Duration::from_secs(5), events.chunk())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let first = String::from_utf8_lossy(&first);
        assert!(
            first.contains("event: stats") || first.contains("retry:"),
            "{first}"
        );
    }
    // TLS stands between the server and the socket: no byte went by sendfile.
    assert_eq!(tls.server.state.counters.bytes_zero_copy(), 0);
    assert!(tls.server.state.counters.bytes_served() > 0);
}

#[tokio::test]
async fn small_answers_on_a_kept_alive_connection_are_not_held_back_by_nagle() {
    let tls = Tls::start(|_| {}).await;
    for http1 in [true, false] {
        let client = tls.client(http1);
        let mut took = Vec::new();
        // Compressed answers are streams: they leave as a head, then a body.
        for path in ["/api/stats", "/api/library"].repeat(5) {
            let started = Instant::now();
            let res = client
                .get(tls.url(path))
                .header(ACCEPT_ENCODING, "gzip")
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200, "{path}");
            assert_eq!(res.headers()[CONTENT_ENCODING], "gzip", "{path}");
            res.bytes().await.unwrap();
            took.push(started.elapsed());
        }
        took.sort();
        // Without TCP_NODELAY, each body after the first waited ~40 ms for a delayed ACK.
        let median = took[took.len() / 2];
        assert!(
            median < Duration::from_millis(30),
            "HTTP/1.1 only: {http1}; median answer took {median:?}: {took:?}"
        );
    }
}

/// Runs curl with `args` against the server; returns its `-w` output and the body.
async fn curl(tls: &Tls, args: &[&str], path: &str) -> (String, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("cert.pem");
    std::fs::write(&cert, &tls.cert).unwrap();
    let body = dir.path().join("body");
    let mut cmd = std::process::Command::new(CURL);
    cmd.arg("--cacert")
        .arg(&cert)
        .args([
            "-sS",
            "--max-time",
            "20",
            "-w",
            "%{http_version} %{http_code}",
        ])
        .arg("-o")
        .arg(&body)
        .args(args)
        .arg(tls.url(path));
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read(&body).unwrap_or_default();
    (String::from_utf8(out.stdout).unwrap(), written)
}

#[tokio::test]
async fn curl_gets_exact_bytes_over_http2_and_http11() {
    if !testkit::installed("the curl TLS test", &[CURL], "curl") {
        return;
    }
    let tls = Tls::start(|_| {}).await;
    let big = tls.file("big.wav");
    for (flag, version) in [("--http2", "2"), ("--http1.1", "1.1")] {
        let (said, body) = curl(&tls, &[flag], "/audio/big").await;
        assert_eq!(said, format!("{version} 200"));
        assert!(body == big, "{flag}: whole file differs");
        let (said, body) = curl(&tls, &[flag, "-r", "4096-1000000"], "/audio/big").await;
        assert_eq!(said, format!("{version} 206"));
        assert!(body == big[4096..=1_000_000], "{flag}: range differs");
        let (said, body) = curl(&tls, &[flag], "/").await;
        assert_eq!(said, format!("{version} 200"));
        assert!(String::from_utf8_lossy(&body).contains("<audio"));
    }
}

/// A TLS client on a raw connection offering `alpn`, for requests that then stop reading.
async fn tls_connect(
    tls: &Tls,
    alpn: &[u8],
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(tls.cert.as_bytes()).unwrap())
        .unwrap();
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let mut config = config;
    config.alpn_protocols = vec![alpn.to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    // A small receive buffer, so the server's socket fills soon after the client stops reading.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(16 * 1024).unwrap();
    let tcp = socket.connect(tls.server.addr).await.unwrap();
    connector
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_tls_listener_that_stops_reading_is_cut_off_by_the_send_timeout() {
    let tls = Tls::start(|c| c.send_timeout = Duration::from_secs(2)).await;
    let state = Arc::clone(&tls.server.state);
    let mut stalled = tls_connect(&tls, b"http/1.1").await;
    stalled
        .write_all(b"GET /audio/big HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut head = [0u8; 1024];
    let n = stalled.read(&mut head).await.unwrap();
    assert!(head[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &head[..n]);
    tls.server
        .wait_for("the stream to start", |s| s.counters.active_streams() == 1)
        .await;

    // Meanwhile a listener that reads gets the whole file, over TLS, past the timeout.
    let big = tls.file("big.wav");
    let reader = tls.client(true);
    let res = reader.get(tls.url("/audio/big")).send().await.unwrap();
    let mut got = Vec::new();
    let mut res = res;
    while let Some(chunk) = res.chunk().await.unwrap() {
        got.extend_from_slice(&chunk);
        // Slowly at first: 4 s for the first MB, past the 2 s timeout.
        if got.len() < 1_000_000 {
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }
    assert!(got == big, "the reading listener got every byte");

    let deadline = Instant::now() + Duration::from_secs(10);
    while state.counters.active_streams() > 0 {
        assert!(
            Instant::now() < deadline,
            "the stalled TLS stream was never cut off"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Its connection is closed: reading on finds the end (or a reset), never the rest of the file.
    let mut rest = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stalled.read_to_end(&mut rest)).await;
    assert!(
        rest.len() < big.len() - n,
        "the connection was cut off before the file was sent"
    );
}

#[tokio::test]
async fn under_http2_a_stalled_stream_never_takes_down_the_connection_carrying_others() {
    let tls = Tls::start(|c| c.send_timeout = Duration::from_secs(2)).await;
    let big = tls.file("big.wav");
    let one = tls.file("one.wav");
    // reqwest carries every request to one origin on one HTTP/2 connection.
    let client = tls.client(false);
    let mut stalled = client.get(tls.url("/audio/big")).send().await.unwrap();
    assert_eq!(stalled.version(), Version::HTTP_2);
    let first = stalled.chunk().await.unwrap().unwrap();

    // Well past the send timeout, the other streams on the connection go on.
    for _ in 0..8 {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let res = client
            .get(tls.url("/audio/one"))
            .header(RANGE, "bytes=100-299")
            .send()
            .await
            .unwrap();
        assert_eq!(res.version(), Version::HTTP_2);
        assert_eq!(res.bytes().await.unwrap(), one[100..300]);
        let stats = client.get(tls.url("/api/stats")).send().await.unwrap();
        assert_eq!(stats.status(), 200);
    }

    // It stalled (loopback sends 9.6 MB in far less than 4 s) and was not reset: still in flight.
    assert_eq!(tls.server.state.counters.active_streams(), 1);

    // And the stalled stream, resumed, delivers the rest: nothing was cut, nothing differs.
    let mut got = first.to_vec();
    while let Some(chunk) = stalled.chunk().await.unwrap() {
        got.extend_from_slice(&chunk);
    }
    assert!(got == big, "the resumed HTTP/2 stream got every byte");
}

/// An HTTP/2 frame: 9-byte header, then the payload.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut out = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

#[tokio::test]
async fn an_http2_client_that_stops_reading_altogether_is_cut_off() {
    let tls = Tls::start(|_| {}).await;
    let mut conn = tls_connect(&tls, b"h2").await;
    assert_eq!(conn.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    // The preface, empty SETTINGS, and one GET for the big track (HPACK literals, no Huffman);
    // then the client never reads again: no SETTINGS ack, no PING answer, no window updates.
    let mut headers = Vec::new();
    for (name, value) in [
        (":method", "GET"),
        (":scheme", "https"),
        (":path", "/audio/big"),
        (":authority", "localhost"),
    ] {
        headers.push(0);
        headers.push(name.len() as u8);
        headers.extend_from_slice(name.as_bytes());
        headers.push(value.len() as u8);
        headers.extend_from_slice(value.as_bytes());
    }
    let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    hello.extend(frame(4, 0, 0, &[]));
    hello.extend(frame(1, 0x5, 1, &headers));
    conn.write_all(&hello).await.unwrap();
    tls.server
        .wait_for("the stream to start", |s| s.counters.active_streams() == 1)
        .await;
    // The server's keep-alive PING goes unanswered: it closes the connection, ending the stream.
    let deadline = Instant::now() + Duration::from_secs(20);
    while tls.server.state.counters.active_streams() > 0 {
        assert!(
            Instant::now() < deadline,
            "the silent HTTP/2 client was never cut off"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "the connection was closed");
}
