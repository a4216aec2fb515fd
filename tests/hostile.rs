//! Hostile and broken input: odd `Range` values, amplification, caps, slow and oversized request
//! heads, files replaced underneath a listener. Each protection has a test that fails without it.

use std::time::Duration;

use actix_web::http::{Method, StatusCode, header};
use actix_web::test::{self, TestRequest};
use testkit::{Fixture, TestServer, get};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[actix_web::test]
async fn malformed_and_reversed_ranges_get_the_whole_file() {
    let fixture = Fixture::new();
    let file = fixture.wav("track.wav", 0.5);
    let (app, _) = testkit::app(&fixture.config()).await;
    for range in [
        "bytes=5-1",
        "bytes=abc",
        "bytes=",
        "bytes=-",
        "bytes=0-1,",
        "bytes=99999999999999999999-",
        "bytes=1-2-3",
    ] {
        for method in [Method::GET, Method::HEAD] {
            let req = TestRequest::default()
                .method(method.clone())
                .uri("/audio/track")
                .insert_header((header::RANGE, range))
                .to_request();
            let res = test::call_service(&app, req).await;
            assert_eq!(res.status(), StatusCode::OK, "{method} {range}");
            assert!(
                res.headers().get(header::CONTENT_RANGE).is_none(),
                "{range}"
            );
            let body = test::read_body(res).await;
            if method == Method::GET {
                assert!(body == file, "{range}: body is not the file");
            } else {
                assert!(body.is_empty());
            }
        }
    }
}

#[actix_web::test]
async fn hundreds_of_overlapping_ranges_cost_one_plain_download() {
    let fixture = Fixture::new();
    let file = fixture.wav("track.wav", 2.0);
    let server = TestServer::start(&fixture.config()).await;
    // The 2011 "Apache killer" shape: many overlapping ranges, each nearly the whole file.
    let ranges: Vec<String> = (0..800).map(|i| format!("{i}-")).collect();
    let header_value = format!("bytes={}", ranges.join(","));
    let request = format!(
        "GET /audio/track HTTP/1.1\r\nHost: x\r\nRange: {header_value}\r\nConnection: close\r\n\r\n"
    );
    let res = server.raw(request.as_bytes()).await;
    assert_eq!(res.status, 200, "{}", res.head);
    assert_eq!(res.body.len(), file.len(), "body larger than the file");
    assert!(res.body == file);
    assert_eq!(server.raw(&get("/audio/track")).await.status, 200);
}

#[actix_web::test]
async fn every_response_carries_a_date() {
    let fixture = Fixture::new();
    fixture.wav("track.wav", 0.1);
    let server = TestServer::start(&fixture.config()).await;
    for target in [
        "/",
        "/audio/track",
        "/audio/missing",
        "/static/app.css",
        "/api/stats",
        "/nope",
    ] {
        let res = server.raw(&get(target)).await;
        let date = res
            .header("date")
            .unwrap_or_else(|| panic!("{target}: no Date"));
        assert!(date.ends_with(" GMT"), "{target}: {date}");
    }
}

#[actix_web::test]
async fn past_the_stream_cap_requests_get_503_with_retry_after_then_recover() {
    let fixture = Fixture::new();
    fixture.file("big.mp3", &vec![1u8; 32 * 1024 * 1024]);
    let mut config = fixture.config();
    config.limits.max_streams = 1;
    config.limits.max_viewers = 1;
    let server = TestServer::start(&config).await;

    let mut first = TcpStream::connect(server.addr).await.unwrap();
    first.write_all(&get("/audio/big")).await.unwrap();
    let mut buf = [0u8; 1024];
    first.read_exact(&mut buf).await.unwrap();
    server
        .wait_for("one stream", |s| s.counters.active_streams() == 1)
        .await;

    let busy = server.raw(&get("/audio/big")).await;
    assert_eq!(busy.status, 503, "{}", busy.head);
    assert_eq!(busy.header("retry-after"), Some("5"));
    assert!(String::from_utf8_lossy(&busy.body).contains("busy"));

    drop(first);
    server
        .wait_for("the stream to end", |s| s.counters.active_streams() == 0)
        .await;
    let mut again = TcpStream::connect(server.addr).await.unwrap();
    again.write_all(&get("/audio/big")).await.unwrap();
    again.read_exact(&mut buf).await.unwrap();
    assert!(buf.starts_with(b"HTTP/1.1 200 OK"));
    drop(again);

    let mut viewer = TcpStream::connect(server.addr).await.unwrap();
    viewer.write_all(&get("/events")).await.unwrap();
    assert!(viewer.read(&mut buf).await.unwrap() > 0);
    server
        .wait_for("one viewer", |s| s.counters.sse_clients() == 1)
        .await;
    let busy = server.raw(&get("/events")).await;
    assert_eq!(busy.status, 503);
    assert_eq!(busy.header("retry-after"), Some("5"));
}

#[actix_web::test]
async fn a_request_head_that_never_finishes_is_cut_off_and_others_are_served() {
    let fixture = Fixture::new();
    fixture.wav("track.wav", 0.1);
    let mut config = fixture.config();
    config.request_timeout = Duration::from_secs(1);
    let server = TestServer::start(&config).await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /audio/track HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    assert_eq!(server.raw(&get("/audio/track")).await.status, 200);
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut answer))
        .await
        .expect("the server closes a stalled request head within the timeout")
        .ok();
    let text = String::from_utf8_lossy(&answer);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
}

#[actix_web::test]
async fn oversized_and_numerous_headers_get_a_4xx_and_the_next_request_is_served() {
    let fixture = Fixture::new();
    fixture.wav("track.wav", 0.1);
    let server = TestServer::start(&fixture.config()).await;
    let huge = format!(
        "GET /audio/track HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let many: String = (0..300).map(|i| format!("X-H{i}: v\r\n")).collect();
    let many = format!("GET /audio/track HTTP/1.1\r\nHost: x\r\n{many}Connection: close\r\n\r\n");
    for request in [huge, many] {
        let mut conn = TcpStream::connect(server.addr).await.unwrap();
        // The server may answer and close before reading everything: a failed write is fine.
        let _ = conn.write_all(request.as_bytes()).await;
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), conn.read_to_end(&mut answer)).await;
        let text = String::from_utf8_lossy(&answer);
        let status: u16 = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        assert!(
            answer.is_empty() || (400..500).contains(&status),
            "{}",
            text.lines().next().unwrap_or_default()
        );
    }
    assert_eq!(server.raw(&get("/audio/track")).await.status, 200);
}

#[actix_web::test]
async fn a_request_head_past_16_kib_gets_431_with_the_security_headers() {
    let fixture = Fixture::new();
    fixture.wav("track.wav", 0.1);
    let server = TestServer::start(&fixture.config()).await;
    // 20 lines of 1 KiB: each within actix-http's own limits, together past the server's.
    let lines = |n: usize| -> String {
        (0..n)
            .map(|i| format!("X-H{i}: {}\r\n", "v".repeat(1024)))
            .collect()
    };
    for (lines, want) in [(lines(20), 431), (lines(12), 200)] {
        let request =
            format!("GET /audio/track HTTP/1.1\r\nHost: x\r\n{lines}Connection: close\r\n\r\n");
        let res = server.raw(request.as_bytes()).await;
        assert_eq!(res.status, want, "{}", res.head);
        assert_eq!(res.header("x-content-type-options"), Some("nosniff"));
    }
    let metrics = server.raw(&get("/metrics")).await;
    let metrics = String::from_utf8_lossy(&metrics.body);
    assert!(
        metrics.contains(
            r#"audio_streamer_http_requests_total{route="/audio/{name}",status="431"} 1"#
        ),
        "{metrics}"
    );
}

#[actix_web::test]
async fn a_replaced_file_gets_new_validators_and_if_range_sends_the_new_file_whole() {
    let fixture = Fixture::new();
    fixture.wav("track.wav", 0.5);
    let (app, _) = testkit::app(&fixture.config()).await;
    let res = test::call_service(&app, TestRequest::get().uri("/audio/track").to_request()).await;
    let old_etag = res.headers().get(header::ETAG).unwrap().clone();

    // Replace the file the way a copy tool does: write a new file, rename it over the old one.
    let new = testkit::noise_wav(0.7, 4242);
    let tmp = fixture.audio_dir().join(".track.wav.part");
    std::fs::write(&tmp, &new).unwrap();
    std::fs::rename(&tmp, fixture.audio_dir().join("track.wav")).unwrap();

    let req = TestRequest::get()
        .uri("/audio/track")
        .insert_header((header::RANGE, "bytes=100-199"))
        .insert_header((header::IF_RANGE, old_etag.clone()))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "a stale If-Range gets the whole new file"
    );
    assert_ne!(res.headers().get(header::ETAG).unwrap(), &old_etag);
    assert!(test::read_body(res).await == new);
}

#[actix_web::test]
async fn a_listener_that_stops_reading_is_disconnected_and_a_slow_one_is_not() {
    let fixture = Fixture::new();
    fixture.file("big.mp3", &vec![9u8; 32 * 1024 * 1024]);
    let file = fixture.wav("slow.wav", 60.0);
    let mut config = fixture.config();
    config.send_timeout = Duration::from_secs(1);
    let server = TestServer::start(&config).await;

    let mut stalled = TcpStream::connect(server.addr).await.unwrap();
    stalled.write_all(&get("/audio/big")).await.unwrap();
    let mut buf = vec![0u8; 16 * 1024];
    stalled.read_exact(&mut buf).await.unwrap();

    // A slow but steady reader: 16 KiB every 100 ms for 3.5 s.
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(&get("/audio/slow")).await.unwrap();
    let mut received = Vec::new();
    for _ in 0..35 {
        let n = slow.read(&mut buf).await.unwrap();
        assert!(n > 0, "the slow reader was cut off");
        received.extend_from_slice(&buf[..n]);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::timeout(Duration::from_secs(20), slow.read_to_end(&mut received))
        .await
        .unwrap()
        .unwrap();
    let body_start = testkit::head_end(&received).unwrap();
    assert!(
        received[body_start..] == file[..],
        "the slow reader got every byte"
    );

    // The stalled one, never read since its first 16 KiB, has been shut down and released.
    server
        .wait_for("the stalled stream to be closed", |s| {
            s.counters.active_streams() == 0
        })
        .await;
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stalled.read_to_end(&mut rest))
        .await
        .expect("the stalled connection is closed, not left open")
        .ok();
    assert!(
        rest.len() < 32 * 1024 * 1024 - 16 * 1024,
        "the stalled listener got the whole file"
    );
    server
        .wait_for("no watched streams", |s| s.watched() == 0)
        .await;
}

#[actix_web::test]
async fn a_live_stats_viewer_that_stops_reading_is_dropped() {
    let fixture = Fixture::new();
    let mut config = fixture.config();
    config.send_timeout = Duration::from_secs(1);
    config.stats_interval = Duration::from_millis(50);
    let server = TestServer::start(&config).await;
    // A viewer with a tiny receive window that never reads after the first bytes.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut viewer = socket.connect(server.addr).await.unwrap();
    viewer.write_all(&get("/events")).await.unwrap();
    let mut buf = [0u8; 256];
    assert!(viewer.read(&mut buf).await.unwrap() > 0);
    server
        .wait_for("the viewer to be counted", |s| {
            s.counters.sse_clients() == 1
        })
        .await;
    server
        .wait_for("the stalled viewer to be dropped", |s| {
            s.counters.sse_clients() == 0
        })
        .await;
}
