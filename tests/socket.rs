//! The real server on a real socket: hostile request targets, SSE delivery and clean-up, stream
//! accounting, and concurrent downloads.

use std::time::Duration;

use futures_util::StreamExt as _;
use testkit::{Conn, Fixture, SECRET, TestServer, get};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[actix_web::test]
async fn hostile_paths_are_404_and_never_serve_a_byte_from_outside_the_folder() {
    let fixture = Fixture::new();
    fixture.wav("inside.wav", 0.05);
    fixture.file(".hidden.mp3", SECRET);
    fixture.file(".private/deep.mp3", SECRET);
    std::os::unix::fs::symlink(
        fixture.root().join("secret.mp3"),
        fixture.audio_dir().join("escape.mp3"),
    )
    .unwrap();
    std::os::unix::fs::symlink(fixture.root(), fixture.audio_dir().join("up")).unwrap();
    let server = TestServer::start(&fixture.config()).await;

    let long = "a".repeat(10 * 1024);
    let targets = [
        "/audio/..%2Fsecret".to_owned(),
        "/audio/..%2fsecret.mp3".to_owned(),
        "/audio/../secret".to_owned(),
        "/audio/%2e%2e%2fsecret".to_owned(),
        "/audio/%2E%2E/secret".to_owned(),
        "/audio/..%5csecret".to_owned(),
        "/audio/..%5Csecret.mp3".to_owned(),
        "/audio/%00".to_owned(),
        "/audio/inside%00".to_owned(),
        "/audio/inside%00.mp3".to_owned(),
        "/audio/.hidden".to_owned(),
        "/audio/.hidden.mp3".to_owned(),
        "/audio/.private/deep".to_owned(),
        "/audio/escape".to_owned(),
        "/audio/escape.mp3".to_owned(),
        "/audio/up/secret".to_owned(),
        "/audio/up/audio/inside".to_owned(),
        "/audio//etc/passwd".to_owned(),
        "/audio/%2Fetc%2Fpasswd".to_owned(),
        format!("/audio/{}", fixture.root().join("secret").display()),
        "/audio/%c0%ae%c0%ae%2fsecret".to_owned(),
        "/audio/%ff%fe".to_owned(),
        format!("/audio/{long}"),
        "/static/..%2F..%2FCargo.toml".to_owned(),
        "/static/../../Cargo.toml".to_owned(),
        "/../secret.mp3".to_owned(),
        "/audio/inside/..%2F..%2Fsecret".to_owned(),
    ];
    for target in &targets {
        let res = server.raw(&get(target)).await;
        assert_eq!(res.status, 404, "{target}: {}", res.head);
        assert!(
            !res.body.windows(SECRET.len()).any(|w| w == SECRET),
            "{target} leaked the secret"
        );
    }
    // Bytes no HTTP parser accepts in a target: a 4xx, and the server keeps serving.
    for target in ["/audio/..\\secret", "/audio/a b", "/audio/\0"] {
        let res = server.raw(&get(target)).await;
        assert!((400..500).contains(&res.status), "{target:?}: {}", res.head);
    }
    let res = server.raw(&get("/audio/inside")).await;
    assert_eq!(res.status, 200);
}

#[actix_web::test]
async fn small_answers_on_a_kept_alive_connection_are_not_held_back_by_nagle() {
    let fixture = Fixture::new();
    let track = fixture.wav("track.wav", 1.0);
    let server = TestServer::start(&fixture.config()).await;
    let mut conn = Conn::open(server.addr).await;
    // Short ranges go out as a head, then a small body sent with sendfile. Without TCP_NODELAY the
    // body waits for the client's ACK of the head, which it delays 40 ms: every answer after the
    // first took 40-44 ms.
    let mut took = Vec::new();
    for i in 0..15 {
        let started = std::time::Instant::now();
        let (first, last) = (i * 100, i * 100 + 99);
        let request =
            format!("GET /audio/track HTTP/1.1\r\nHost: x\r\nRange: bytes={first}-{last}\r\n\r\n");
        conn.send(request.as_bytes()).await;
        let res = conn.response(false).await;
        took.push(started.elapsed());
        assert_eq!(res.status, 206, "{}", res.head);
        assert_eq!(res.body, track[first..=last]);
    }
    took.sort();
    let median = took[took.len() / 2];
    assert!(
        median < Duration::from_millis(30),
        "median answer took {median:?}: {took:?}"
    );
}

#[actix_web::test]
async fn a_small_answer_leaves_in_one_segment_with_its_head() {
    let fixture = Fixture::new();
    fixture.wav("track.wav", 0.05);
    let server = TestServer::start(&fixture.config()).await;
    let mut conn = Conn::open(server.addr).await;
    // A small body of known size is written with its head: one write, one segment. (actix writes a
    // head on its own first when the body is a stream, which the sendfile path needs.)
    for target in ["/healthz", "/api/stats", "/static/app.css", "/nowhere"].repeat(3) {
        let before = conn.data_segments_in();
        conn.send(&get_kept_alive(target)).await;
        let res = conn.response(false).await;
        assert!(!res.body.is_empty(), "{target}: {}", res.head);
        // Every segment of the answer has arrived: its body is complete.
        let segments = conn.data_segments_in() - before;
        assert_eq!(segments, 1, "{target}: {} body bytes", res.body.len());
    }
}

/// A `GET` that keeps the connection open.
fn get_kept_alive(target: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").into_bytes()
}

#[actix_web::test]
async fn symlinks_inside_the_folder_are_followed_and_listed() {
    let fixture = Fixture::new();
    let bytes = fixture.wav("real.wav", 0.05);
    std::os::unix::fs::symlink(
        fixture.audio_dir().join("real.wav"),
        fixture.audio_dir().join("alias.wav"),
    )
    .unwrap();
    let server = TestServer::start(&fixture.config()).await;
    let res = server.raw(&get("/audio/alias")).await;
    assert_eq!(res.status, 200);
    assert!(res.body == bytes);
}

#[actix_web::test]
async fn malformed_headers_get_a_4xx_and_the_server_keeps_serving() {
    let fixture = Fixture::new();
    fixture.wav("inside.wav", 0.05);
    let server = TestServer::start(&fixture.config()).await;
    let requests: [&[u8]; 5] = [
        b"GET /audio/inside HTTP/1.1\r\nHost: x\r\nRange bytes=0-1\r\nConnection: close\r\n\r\n",
        b"GET /audio/inside HTTP/1.1\r\nHost: x\r\nIf-None-Match: \x01\x02\r\nConnection: close\r\n\r\n",
        b"GARBAGE\r\n\r\n",
        b"GET /audio/inside HTTP/9.9\r\nConnection: close\r\n\r\n",
        b"GET /audio/inside HTTP/1.1\r\nContent-Length: -1\r\nConnection: close\r\n\r\n",
    ];
    for request in requests {
        let res = server.raw(request).await;
        assert!(
            (400..500).contains(&res.status),
            "{:?}: {}",
            String::from_utf8_lossy(request),
            res.head
        );
    }
    assert_eq!(server.raw(&get("/audio/inside")).await.status, 200);
}

#[actix_web::test]
async fn sse_delivers_stats_events_and_forgets_clients_that_leave() {
    let fixture = Fixture::new();
    let server = TestServer::start(&fixture.config()).await;
    let res = reqwest::get(server.url("/events")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    assert_eq!(res.headers()["cache-control"], "no-cache");
    assert_eq!(res.headers()["x-accel-buffering"], "no");

    let mut body = res.bytes_stream();
    let mut text = String::new();
    let mut events = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while events.len() < 3 {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("three events within 10 s")
            .expect("stream open")
            .unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            if block.starts_with("event: stats\n") {
                let data = block
                    .lines()
                    .find_map(|l| l.strip_prefix("data: "))
                    .unwrap();
                events.push(serde_json::from_str::<serde_json::Value>(data).unwrap());
            } else {
                assert!(
                    block.starts_with("retry:") || block.starts_with(':'),
                    "{block:?}"
                );
            }
        }
    }
    for pair in events.windows(2) {
        assert!(
            pair[1]["seq"].as_u64() > pair[0]["seq"].as_u64(),
            "events in order"
        );
    }
    let last = events.last().unwrap();
    assert!(last["rss_bytes"].as_u64().unwrap() > 1024 * 1024);
    assert!(last["virtual_bytes"].as_u64().unwrap() >= last["rss_bytes"].as_u64().unwrap());
    assert!(last["uptime_secs"].as_u64().unwrap() < 60);
    assert_eq!(last["sse_clients"], 1);
    assert_eq!(server.state.counters.sse_clients(), 1);

    drop(body);
    server
        .wait_for("the SSE client to be removed", |s| {
            s.counters.sse_clients() == 0
        })
        .await;
}

#[actix_web::test]
async fn a_paused_listener_counts_as_an_active_stream_with_bytes_in_flight_until_it_disconnects() {
    let fixture = Fixture::new();
    // Larger than the socket buffers can absorb, so the body is still in flight while we do not read.
    fixture.file("big.mp3", &vec![7u8; 48 * 1024 * 1024]);
    let server = TestServer::start(&fixture.config()).await;
    let mut conn = TcpStream::connect(server.addr).await.unwrap();
    conn.write_all(&get("/audio/big")).await.unwrap();
    let mut first = [0u8; 1024];
    let n = conn.read(&mut first).await.unwrap();
    assert!(first[..n].starts_with(b"HTTP/1.1 200 OK"));
    server
        .wait_for("the stream to be counted", |s| {
            s.counters.active_streams() == 1
        })
        .await;
    // What the kernel holds for the listener shows as bytes in flight (capped send buffer: 256 KiB
    // requested, doubled by the kernel).
    server
        .wait_for("bytes in flight", |s| {
            (64 * 1024..=1024 * 1024).contains(&s.counters.bytes_in_flight())
        })
        .await;
    drop(conn);
    server
        .wait_for("the stream to be released", |s| {
            s.counters.active_streams() == 0
        })
        .await;
    server
        .wait_for("nothing in flight", |s| s.counters.bytes_in_flight() == 0)
        .await;
    assert!(server.state.counters.bytes_served() < 48 * 1024 * 1024);
}

#[actix_web::test]
async fn concurrent_listeners_each_get_every_byte() {
    let fixture = Fixture::new();
    let file = fixture.wav("track.wav", 30.0); // ~480 KB
    let server = TestServer::start(&fixture.config()).await;
    let client = reqwest::Client::new();
    let downloads = (0..24).map(|i| {
        let client = client.clone();
        let url = server.url("/audio/track");
        async move {
            let mut req = client.get(url);
            if i % 2 == 1 {
                req = req.header("Range", format!("bytes={}-", i * 1000));
            }
            let res = req.send().await.unwrap();
            (i, res.status().as_u16(), res.bytes().await.unwrap())
        }
    });
    for (i, status, body) in futures_util::future::join_all(downloads).await {
        let want = if i % 2 == 1 {
            &file[i * 1000..]
        } else {
            &file[..]
        };
        assert_eq!(status, if i % 2 == 1 { 206 } else { 200 });
        assert!(body == want, "download {i} differs from the file");
    }
    server
        .wait_for("all streams to finish", |s| {
            s.counters.active_streams() == 0
        })
        .await;
    let expected: usize = (0..24)
        .map(|i| {
            if i % 2 == 1 {
                file.len() - i * 1000
            } else {
                file.len()
            }
        })
        .sum();
    assert_eq!(server.state.counters.bytes_served(), expected as u64);
}

/// Descriptors this process has open.
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[actix_web::test]
async fn a_listener_that_pauses_and_resumes_gets_every_byte_in_order() {
    let fixture = Fixture::new();
    let file = fixture.wav("long.wav", 600.0); // ~9.6 MB: more than the socket buffers hold
    let server = TestServer::start(&fixture.config()).await;
    let mut conn = TcpStream::connect(server.addr).await.unwrap();
    conn.write_all(&get("/audio/long")).await.unwrap();
    let mut received = Vec::with_capacity(file.len() + 1024);
    let mut buf = vec![0u8; 64 * 1024];
    // Read a little, stall long enough for the socket to fill (the pump drops to small chunks),
    // then read the rest as fast as possible (it climbs back to large ones).
    let n = conn.read(&mut buf).await.unwrap();
    received.extend_from_slice(&buf[..n]);
    tokio::time::sleep(Duration::from_millis(400)).await;
    tokio::time::timeout(Duration::from_secs(20), conn.read_to_end(&mut received))
        .await
        .unwrap()
        .unwrap();
    let body_start = testkit::head_end(&received).unwrap();
    assert!(received[..body_start].starts_with(b"HTTP/1.1 200 OK"));
    assert_eq!(received.len() - body_start, file.len());
    assert!(
        received[body_start..] == file[..],
        "bytes differ from the file"
    );
}

#[actix_web::test]
async fn ranges_over_a_real_socket_are_exact_for_every_size_class() {
    let fixture = Fixture::new();
    let file = fixture.wav("long.wav", 300.0); // ~4.8 MB
    let len = file.len();
    let server = TestServer::start(&fixture.config()).await;
    let client = reqwest::Client::new();
    for (first, last) in [
        (0, 1),
        (0, 3071),
        (1, 3072),
        (100, 65_635),
        (len - 200_000, len - 1),
        (12_345, 12_345 + 600_000),
        (0, len - 1),
        (len / 2, len - 1),
    ] {
        let res = client
            .get(server.url("/audio/long"))
            .header("Range", format!("bytes={first}-{last}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 206);
        assert_eq!(
            res.headers()["content-range"],
            format!("bytes {first}-{last}/{len}").as_str()
        );
        let body = res.bytes().await.unwrap();
        assert!(
            body[..] == file[first..=last],
            "bytes {first}-{last} differ"
        );
    }
}

#[actix_web::test]
async fn a_listener_leaving_mid_stream_releases_its_file_and_stream() {
    let fixture = Fixture::new();
    fixture.file("big.mp3", &vec![3u8; 32 * 1024 * 1024]);
    let server = TestServer::start(&fixture.config()).await;
    // Warm up the server's own descriptors (workers, listeners) before counting.
    assert_eq!(server.raw(&get("/api/stats")).await.status, 200);
    let before = open_fds();
    for _ in 0..5 {
        let mut conn = TcpStream::connect(server.addr).await.unwrap();
        conn.write_all(&get("/audio/big")).await.unwrap();
        let mut buf = [0u8; 4096];
        conn.read_exact(&mut buf).await.unwrap();
        server
            .wait_for("the stream to start", |s| s.counters.active_streams() == 1)
            .await;
        drop(conn);
        server
            .wait_for("the stream to be released", |s| {
                s.counters.active_streams() == 0
            })
            .await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while open_fds() > before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "descriptors leaked: {} > {before}",
            open_fds()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
async fn a_file_truncated_mid_stream_ends_the_response_without_foreign_bytes() {
    let fixture = Fixture::new();
    let file = fixture.wav("shrinking.wav", 600.0); // ~9.6 MB
    let server = TestServer::start(&fixture.config()).await;
    let mut conn = TcpStream::connect(server.addr).await.unwrap();
    conn.write_all(&get("/audio/shrinking")).await.unwrap();
    let mut received = vec![0u8; 64 * 1024];
    conn.read_exact(&mut received).await.unwrap();
    // Let the socket fill, then cut the file to 1 MB while the response is in flight.
    tokio::time::sleep(Duration::from_millis(200)).await;
    std::fs::OpenOptions::new()
        .write(true)
        .open(fixture.audio_dir().join("shrinking.wav"))
        .unwrap()
        .set_len(1024 * 1024)
        .unwrap();
    tokio::time::timeout(Duration::from_secs(20), conn.read_to_end(&mut received))
        .await
        .expect("the server ends the response instead of hanging")
        .ok();
    let body_start = testkit::head_end(&received).unwrap();
    let body = &received[body_start..];
    assert!(
        body.len() < file.len(),
        "the response claimed more bytes than the file held"
    );
    assert!(
        body == &file[..body.len()],
        "every byte sent is the file's byte at that offset"
    );
    server
        .wait_for("the stream to end", |s| s.counters.active_streams() == 0)
        .await;
}
