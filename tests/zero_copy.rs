//! The sendfile path, over real sockets (plain-TCP HTTP/1.x is where the pump sends file bytes
//! around actix): every range shape byte for byte on one kept-alive connection, pipelined requests,
//! HTTP/1.0, and a client with a tiny window that pauses and resumes. The in-process tests in
//! `ranges.rs` cover the same cases on the chunk path.

use std::time::Duration;

use testkit::{Conn, Fixture, RawResponse, TestServer};

/// A request for `/audio/<name>` on a kept-alive connection, with an optional `Range`.
fn request(method: &str, name: &str, range: Option<&str>) -> Vec<u8> {
    let range = range.map_or(String::new(), |r| format!("Range: {r}\r\n"));
    format!("{method} /audio/{name} HTTP/1.1\r\nHost: x\r\n{range}\r\n").into_bytes()
}

/// Checks that `res` carries exactly the bytes of `file` it claims: the whole file, one range, or
/// every part of a multipart body.
fn assert_exact(res: &RawResponse, file: &[u8], what: &str) {
    let len = file.len() as u64;
    match res.status {
        200 => assert!(res.body == file, "{what}: 200 body differs from the file"),
        206 => match res.header("content-type") {
            Some(t) if t.starts_with("multipart/byteranges") => {
                let parts = testkit::multipart_parts(t, &res.body);
                assert!(parts.len() >= 2, "{what}: {} part(s)", parts.len());
                for part in parts {
                    assert_eq!(part.total, len, "{what}");
                    let (a, b) = (*part.range.start() as usize, *part.range.end() as usize);
                    assert!(part.bytes == file[a..=b], "{what}: part {a}-{b} differs");
                }
            }
            _ => {
                let range = res.header("content-range").expect("Content-Range");
                let (span, total) = range
                    .strip_prefix("bytes ")
                    .unwrap()
                    .split_once('/')
                    .unwrap();
                let (a, b) = span.split_once('-').unwrap();
                let (a, b): (usize, usize) = (a.parse().unwrap(), b.parse().unwrap());
                assert_eq!(total.parse::<u64>().unwrap(), len, "{what}");
                assert!(res.body == file[a..=b], "{what}: {range} differs");
            }
        },
        416 => assert_eq!(
            res.header("content-range"),
            Some(format!("bytes */{len}").as_str())
        ),
        other => panic!("{what}: status {other}"),
    }
}

/// A server whose sockets hold little (so streams fill them and take the one-byte path), serving
/// `small.wav` (16 KB) and `big.wav` (3.2 MB).
async fn server() -> (Fixture, TestServer, Vec<u8>, Vec<u8>) {
    let fixture = Fixture::new();
    let small = fixture.wav("small.wav", 1.0);
    let big = fixture.wav("big.wav", 200.0);
    let mut config = fixture.config();
    config.send_buffer = Some(64 * 1024);
    let server = TestServer::start(&config).await;
    (fixture, server, small, big)
}

#[actix_web::test]
async fn every_range_shape_is_exact_on_one_kept_alive_connection() {
    let (_fixture, server, small, big) = server().await;
    let mut conn = Conn::open(server.addr).await;
    for (name, file) in [("small", &small), ("big", &big)] {
        let len = file.len();
        let cases = [
            None,
            Some("bytes=0-1".to_owned()),
            Some("bytes=0-".to_owned()),
            Some("bytes=100-199".to_owned()),
            Some(format!("bytes={}-", len / 2)),
            Some("bytes=-500".to_owned()),
            Some(format!("bytes=-{}", len * 3)),
            Some(format!("bytes={}-{}", len - 10, len + 1000)),
            Some(format!("bytes={len}-")),
            Some("bytes=0-9,5000-5099,-100".to_owned()),
            Some(format!("bytes=1-1,{}-{},3000-", len / 3, len / 2)),
            Some("bytes=x".to_owned()),
        ];
        for range in &cases {
            let what = format!("{name} {range:?}");
            conn.send(&request("GET", name, range.as_deref())).await;
            let res = conn.response(false).await;
            assert_exact(&res, file, &what);
            conn.send(&request("HEAD", name, range.as_deref())).await;
            let head = conn.response(true).await;
            assert_eq!(head.status, 200, "HEAD {what}");
            assert_eq!(
                head.header("content-length"),
                Some(len.to_string().as_str())
            );
        }
    }
    server
        .wait_for("every stream to end", |s| s.counters.active_streams() == 0)
        .await;
}

#[actix_web::test]
async fn pipelined_requests_after_a_sendfile_response_and_a_head_are_answered_in_order() {
    let (_fixture, server, small, big) = server().await;
    let mut conn = Conn::open(server.addr).await;
    let mut all = Vec::new();
    all.extend(request("GET", "big", None));
    all.extend(request("GET", "small", Some("bytes=10-20")));
    all.extend(request("HEAD", "big", None));
    all.extend(request("GET", "big", Some("bytes=0-99,2000000-2000099")));
    all.extend(request("GET", "small", None));
    all.extend(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
    all.extend(b"GET /api/stats HTTP/1.1\r\nHost: x\r\n\r\n");
    conn.send(&all).await;
    assert_exact(&conn.response(false).await, &big, "1: big");
    let second = conn.response(false).await;
    assert_eq!(second.status, 206);
    assert_exact(&second, &small, "2: small 10-20");
    assert_eq!(conn.response(true).await.status, 200, "3: HEAD big");
    assert_exact(&conn.response(false).await, &big, "4: big, two parts");
    assert_exact(&conn.response(false).await, &small, "5: small");
    // HEAD answers carry no body whichever request actix decoded last (here a GET after it).
    let page = conn.response(true).await;
    assert_eq!(page.status, 200, "6: HEAD /");
    assert!(page.header("content-length").is_some(), "{}", page.head);
    let stats = conn.response(false).await;
    assert_eq!(stats.status, 200, "7: GET /api/stats");
    assert!(
        stats.body.starts_with(b"{"),
        "{:?}",
        String::from_utf8_lossy(&stats.body)
    );
}

#[actix_web::test]
async fn http_1_0_gets_the_whole_file_and_then_the_connection_closes() {
    let (_fixture, server, _small, big) = server().await;
    let mut conn = Conn::open(server.addr).await;
    conn.send(b"GET /audio/big HTTP/1.0\r\n\r\n").await;
    let res = conn.response(false).await;
    assert!(res.head.starts_with("HTTP/1.0 200"), "{}", res.head);
    assert_exact(&res, &big, "HTTP/1.0");
    assert!(conn.closed().await, "an HTTP/1.0 connection stays open");
    // The bytes went by sendfile (all but the odd byte handed over while the socket was full).
    let counters = &server.state.counters;
    let (served, zero_copy) = (counters.bytes_served(), counters.bytes_zero_copy());
    assert_eq!(served, big.len() as u64);
    assert!(
        zero_copy >= served * 9 / 10,
        "only {zero_copy} of {served} bytes by sendfile"
    );
}

/// The invariant sendfile relies on: actix polls a body only once everything written before it
/// (the head, a multipart part's header) is in the socket, so file bytes never overtake bytes
/// still in actix's buffer. A client with a tiny window that stops reading for seconds keeps
/// actix's buffer and the socket full at part boundaries; any overtaking garbles the answers.
#[actix_web::test]
async fn sendfile_bytes_never_overtake_what_actix_still_holds() {
    let (_fixture, server, small, big) = server().await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut conn = Conn::from(socket.connect(server.addr).await.unwrap());
    let parts: Vec<String> = (0..40)
        .map(|i| {
            let at = i * 79_000;
            format!("{at}-{}", at + 30_000)
        })
        .collect();
    let mut all = request("GET", "big", Some(&format!("bytes={}", parts.join(","))));
    all.extend(request("GET", "small", None));
    all.extend(request("GET", "big", Some("bytes=1000000-")));
    conn.send(&all).await;
    // Paused: the server fills its socket and ours, then waits.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let res = conn.response(false).await;
    assert_eq!(res.status, 206);
    assert_exact(&res, &big, "40 parts");
    assert_exact(&conn.response(false).await, &small, "small after the parts");
    assert_exact(&conn.response(false).await, &big, "the tail of big");
}

#[actix_web::test]
async fn a_track_out_of_the_page_cache_is_read_in_first_and_sent_exactly() {
    let (fixture, server, _small, big) = server().await;
    let path = fixture.audio_dir().join("big.wav");
    if !testkit::evict(&path) {
        eprintln!("skipped: the temp folder's filesystem keeps every page in memory");
        return;
    }
    let mut conn = Conn::open(server.addr).await;
    conn.send(&request("GET", "big", None)).await;
    assert_exact(&conn.response(false).await, &big, "cold, whole");
    assert!(testkit::evict(&path));
    conn.send(&request(
        "GET",
        "big",
        Some("bytes=1000000-1999999,3000000-"),
    ))
    .await;
    assert_exact(&conn.response(false).await, &big, "cold, two parts");
    let counters = &server.state.counters;
    assert_eq!(counters.bytes_zero_copy(), counters.bytes_served());
}
