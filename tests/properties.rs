//! Property tests of range and precondition handling over a real socket: whatever the `Range`,
//! `If-Range` and `If-None-Match` values, the answer is a valid status, every byte sent is the
//! file's byte at that offset, and nothing panics or answers 5xx.

use std::io::{Read as _, Write as _};
use std::net::SocketAddr;
use std::sync::OnceLock;

use proptest::prelude::*;

struct Shared {
    addr: SocketAddr,
    file: Vec<u8>,
    etag: String,
}

/// One server for all cases, on its own thread and runtime.
fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let fixture = testkit::Fixture::new();
                let file = fixture.wav("track.wav", 1.0);
                let server = testkit::TestServer::start(&fixture.config()).await;
                let head = server.raw(&testkit::get("/audio/track")).await;
                let etag = head.header("etag").unwrap().to_owned();
                tx.send(Shared {
                    addr: server.addr,
                    file,
                    etag,
                })
                .unwrap();
                // Keep the server (and its folder) alive for the rest of the test process.
                std::future::pending::<()>().await;
                drop((server, fixture));
            });
        });
        rx.recv().unwrap()
    })
}

fn request(addr: SocketAddr, headers: &[(String, String)]) -> (u16, String, Vec<u8>) {
    let mut conn = std::net::TcpStream::connect(addr).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut req = String::from("GET /audio/track HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    req.push_str("\r\n");
    conn.write_all(req.as_bytes()).unwrap();
    let mut buf = Vec::new();
    conn.read_to_end(&mut buf).unwrap();
    let body = testkit::head_end(&buf).expect("a response head");
    let head = String::from_utf8_lossy(&buf[..body - 4]).into_owned();
    let status = head.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, head, buf[body..].to_vec())
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Range values: mostly well-formed numbers around the file's size, several ranges, plus garbage.
fn range_value() -> impl Strategy<Value = String> {
    let n = || prop_oneof![0u64..20_000, 15_900u64..16_100, Just(u64::MAX)];
    prop_oneof![
        (n(), n()).prop_map(|(a, b)| format!("bytes={a}-{b}")),
        n().prop_map(|a| format!("bytes={a}-")),
        n().prop_map(|a| format!("bytes=-{a}")),
        (n(), n(), n()).prop_map(|(a, b, c)| format!("bytes={a}-{b},{c}-")),
        proptest::collection::vec((n(), 0u64..3000), 2..6).prop_map(|spans| {
            let list: Vec<String> = spans
                .iter()
                .map(|(a, n)| format!("{a}-{}", a.saturating_add(*n)))
                .collect();
            format!("bytes={}", list.join(","))
        }),
        "[ -~]{0,24}".prop_map(|s| s),
        "bytes=[0-9,\\- ]{0,16}".prop_map(|s| s),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Every answer is 200, 206, 304, 412 or 416, and carries exactly the bytes it claims: a
    /// multipart answer's every part, sorted, apart, and never more bytes than the file.
    #[test]
    fn every_answer_carries_exactly_the_bytes_it_claims(
        range in proptest::option::of(range_value()),
        if_range in proptest::option::of(prop_oneof![Just("current"), Just("\"stale\""), Just("Mon, 01 Jan 2001 00:00:00 GMT")]),
        if_none_match in proptest::option::of(prop_oneof![Just("current"), Just("\"other\""), Just("*")]),
    ) {
        let shared = shared();
        let len = shared.file.len() as u64;
        let resolve = |v: &str| if v == "current" { shared.etag.clone() } else { v.to_owned() };
        let mut headers = Vec::new();
        if let Some(range) = &range { headers.push(("Range".to_owned(), range.clone())); }
        if let Some(v) = if_range { headers.push(("If-Range".to_owned(), resolve(v))); }
        if let Some(v) = if_none_match { headers.push(("If-None-Match".to_owned(), resolve(v))); }

        let (status, head, body) = request(shared.addr, &headers);
        prop_assert!(matches!(status, 200 | 206 | 304 | 412 | 416), "{status} for {headers:?}");
        match status {
            200 => prop_assert!(body == shared.file, "200 body differs for {headers:?}"),
            206 if header(&head, "content-type").is_some_and(|t| t.starts_with("multipart/")) => {
                let parts = testkit::multipart_parts(header(&head, "content-type").unwrap(), &body);
                prop_assert!(parts.len() >= 2, "a multipart answer of {} part(s)", parts.len());
                prop_assert!(body.len() as u64 <= len, "multipart larger than the file");
                prop_assert!(parts.windows(2).all(|w| w[0].range.end() < w[1].range.start()), "parts overlap or are unsorted");
                for part in parts {
                    prop_assert_eq!(part.total, len);
                    prop_assert_eq!(part.content_type.as_str(), "audio/wav");
                    let (a, b) = (*part.range.start() as usize, *part.range.end() as usize);
                    prop_assert!(part.bytes == shared.file[a..=b], "part {a}-{b} differs");
                }
            }
            206 => {
                let content_range = header(&head, "content-range").unwrap();
                let spec = content_range.strip_prefix("bytes ").unwrap();
                let (span, total) = spec.split_once('/').unwrap();
                let (a, b) = span.split_once('-').unwrap();
                let (a, b): (u64, u64) = (a.parse().unwrap(), b.parse().unwrap());
                prop_assert_eq!(total.parse::<u64>().unwrap(), len);
                prop_assert!(a <= b && b < len, "{content_range}");
                prop_assert!(body == shared.file[a as usize..=b as usize], "206 bytes differ: {content_range}");
            }
            416 => {
                let want = format!("bytes */{len}");
                prop_assert_eq!(header(&head, "content-range"), Some(want.as_str()));
            }
            _ => prop_assert!(body.is_empty()),
        }
    }
}
