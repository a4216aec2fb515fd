//! `Range` and preconditions on `/audio/<name>`, in-process, GET and HEAD, bytes compared with the
//! file: single ranges, several ranges as `multipart/byteranges`, 304, 412 and `If-Range`.

use actix_web::body::MessageBody;
use actix_web::http::{Method, StatusCode, header};
use actix_web::test::{self, TestRequest};
use testkit::Fixture;

enum Expect {
    Full,
    Partial(u64, u64),
    Unsatisfiable,
}

async fn body_bytes(res: actix_web::dev::ServiceResponse) -> Vec<u8> {
    test::read_body(res).await.to_vec()
}

#[actix_web::test]
async fn every_range_case_returns_exact_bytes_on_get_and_ignores_range_on_head() {
    let fixture = Fixture::new();
    let file = fixture.wav("track.wav", 1.0);
    let len = file.len() as u64;
    let (app, state) = testkit::app(&fixture.config()).await;
    let cases = [
        (None, Expect::Full),
        (Some("bytes=0-1".to_owned()), Expect::Partial(0, 1)), // Safari's probe
        (Some("bytes=0-".to_owned()), Expect::Partial(0, len - 1)), // Chromium's first request
        (Some("bytes=100-199".to_owned()), Expect::Partial(100, 199)),
        (
            Some(format!("bytes={}-", len / 2)),
            Expect::Partial(len / 2, len - 1),
        ),
        (
            Some("bytes=-500".to_owned()),
            Expect::Partial(len - 500, len - 1),
        ),
        (
            Some(format!("bytes=-{}", len * 3)),
            Expect::Partial(0, len - 1),
        ),
        (
            Some(format!("bytes={}-{}", len - 10, len + 1000)),
            Expect::Partial(len - 10, len - 1),
        ),
        (
            Some(format!("bytes={}-{}", len - 1, len - 1)),
            Expect::Partial(len - 1, len - 1),
        ),
        (Some(format!("bytes={len}-")), Expect::Unsatisfiable),
        (
            Some(format!("bytes={}-{}", len + 5, len + 10)),
            Expect::Unsatisfiable,
        ),
        (Some("bytes=-0".to_owned()), Expect::Unsatisfiable),
        (Some("BYTES=10-19".to_owned()), Expect::Partial(10, 19)),
        (Some("items=0-1".to_owned()), Expect::Full), // unknown unit: ignored (RFC 9110 §14.2)
    ];
    for method in [Method::GET, Method::HEAD] {
        for (range, expect) in &cases {
            let mut req = TestRequest::default()
                .method(method.clone())
                .uri("/audio/track");
            if let Some(range) = range {
                req = req.insert_header((header::RANGE, range.as_str()));
            }
            let res = test::call_service(&app, req.to_request()).await;
            let what = format!("{method} {range:?}");
            let headers = res.headers().clone();
            let status = res.status();
            let declared = res.response().body().size();
            let body = body_bytes(res).await;
            assert_eq!(
                headers.get(header::ACCEPT_RANGES).unwrap(),
                "bytes",
                "{what}"
            );
            assert_eq!(
                headers.get(header::CONTENT_TYPE).unwrap(),
                "audio/wav",
                "{what}"
            );
            assert!(headers.get(header::CONTENT_ENCODING).is_none(), "{what}");
            // HEAD ignores Range (RFC 9110 §14.2 defines it for GET only) and sends no body.
            let expect = if method == Method::HEAD {
                &Expect::Full
            } else {
                expect
            };
            match expect {
                Expect::Full => {
                    assert_eq!(status, StatusCode::OK, "{what}");
                    assert!(headers.get(header::CONTENT_RANGE).is_none(), "{what}");
                    if method == Method::GET {
                        assert_eq!(declared, actix_web::body::BodySize::Sized(len), "{what}");
                        assert!(body == file, "{what}: body differs from the file");
                    } else {
                        let stated = headers.get(header::CONTENT_LENGTH).unwrap();
                        assert_eq!(stated.to_str().unwrap(), len.to_string(), "{what}");
                    }
                }
                Expect::Partial(first, last) => {
                    assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{what}");
                    assert_eq!(
                        headers.get(header::CONTENT_RANGE).unwrap(),
                        &format!("bytes {first}-{last}/{len}"),
                        "{what}"
                    );
                    let want = &file[*first as usize..=*last as usize];
                    assert!(body == want, "{what}: body differs from the file's bytes");
                }
                Expect::Unsatisfiable => {
                    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE, "{what}");
                    assert_eq!(
                        headers.get(header::CONTENT_RANGE).unwrap(),
                        &format!("bytes */{len}"),
                        "{what}"
                    );
                }
            }
            if method == Method::HEAD {
                assert!(body.is_empty(), "{what}: HEAD sent a body");
            }
        }
    }
    // In-process there is no socket: every byte went through the chunk path.
    assert!(state.counters.bytes_served() > 0);
    assert_eq!(state.counters.bytes_zero_copy(), 0);
}

#[actix_web::test]
async fn several_ranges_get_every_part_as_multipart_byteranges_and_head_the_whole_length() {
    let fixture = Fixture::new();
    let file = fixture.wav("track.wav", 1.0);
    let len = file.len() as u64;
    let (app, _) = testkit::app(&fixture.config()).await;
    // (Range, the parts expected, sorted and coalesced)
    let cases: [(String, Vec<(u64, u64)>); 4] = [
        ("bytes=0-99,1000-1099".into(), vec![(0, 99), (1000, 1099)]),
        // Out of order, overlapping, a suffix and an unsatisfiable one.
        (
            format!("bytes=-100,5000-5999,200-299,5500-6500,{len}-"),
            vec![(200, 299), (5000, 6500), (len - 100, len - 1)],
        ),
        (
            "bytes=0-0, 4000-4000 ,8000-".into(),
            vec![(0, 0), (4000, 4000), (8000, len - 1)],
        ),
        (
            "bytes=10-19,15-30,3000-3009".into(),
            vec![(10, 30), (3000, 3009)],
        ),
    ];
    for (range, want) in &cases {
        for method in [Method::GET, Method::HEAD] {
            let req = TestRequest::default()
                .method(method.clone())
                .uri("/audio/track")
                .insert_header((header::RANGE, range.as_str()))
                .to_request();
            let res = test::call_service(&app, req).await;
            let what = format!("{method} {range}");
            let status = res.status();
            let headers = res.headers().clone();
            let declared = res.response().body().size();
            let body = body_bytes(res).await;
            if method == Method::HEAD {
                // Range is defined for GET only (RFC 9110 §14.2): the whole file's head.
                assert_eq!(status, StatusCode::OK, "{what}");
                let stated = headers.get(header::CONTENT_LENGTH).unwrap();
                assert_eq!(stated.to_str().unwrap(), len.to_string(), "{what}");
                assert!(body.is_empty(), "{what}: HEAD sent a body");
                continue;
            }
            assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{what}");
            assert!(headers.get(header::CONTENT_RANGE).is_none(), "{what}");
            assert!(headers.get(header::ETAG).is_some(), "{what}");
            let content_type = headers.get(header::CONTENT_TYPE).unwrap().to_str().unwrap();
            assert_eq!(
                declared,
                actix_web::body::BodySize::Sized(body.len() as u64),
                "{what}"
            );
            let parts = testkit::multipart_parts(content_type, &body);
            let got: Vec<(u64, u64)> = parts
                .iter()
                .map(|p| (*p.range.start(), *p.range.end()))
                .collect();
            assert_eq!(&got, want, "{what}");
            for part in &parts {
                assert_eq!(
                    (part.total, part.content_type.as_str()),
                    (len, "audio/wav"),
                    "{what}"
                );
                let (a, b) = (*part.range.start() as usize, *part.range.end() as usize);
                assert!(
                    part.bytes == file[a..=b],
                    "{what}: part {a}-{b} differs from the file"
                );
            }
        }
    }
}

#[actix_web::test]
async fn several_ranges_that_merge_fail_if_range_or_cost_more_than_the_file_get_one_plain_answer() {
    let fixture = Fixture::new();
    let file = fixture.wav("track.wav", 1.0);
    let tiny = fixture.file("tiny.wav", &file[..6_000]);
    let len = file.len() as u64;
    let (app, _) = testkit::app(&fixture.config()).await;
    let get = |range: String, if_range: Option<&str>| {
        let mut req = TestRequest::get()
            .uri("/audio/track")
            .insert_header((header::RANGE, range));
        if let Some(v) = if_range {
            req = req.insert_header((header::IF_RANGE, v.to_owned()));
        }
        req.to_request()
    };
    // Coalesced into one: a plain 206.
    let res = test::call_service(&app, get("bytes=100-199,150-299".into(), None)).await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        res.headers().get(header::CONTENT_RANGE).unwrap(),
        &format!("bytes 100-299/{len}")
    );
    assert!(body_bytes(res).await == file[100..=299]);
    // A stale If-Range: the whole file.
    let res = test::call_service(&app, get("bytes=0-9,500-509".into(), Some("\"stale\""))).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(body_bytes(res).await == file);
    // None satisfiable: 416.
    let res = test::call_service(&app, get(format!("bytes={len}-,{}-", len + 9), None)).await;
    assert_eq!(res.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        res.headers().get(header::CONTENT_RANGE).unwrap(),
        &format!("bytes */{len}")
    );
    // Nearly every byte in parts: the multipart body would be larger than the file, so 200.
    let most: Vec<String> = (0..60)
        .map(|i| format!("{}-{}", i * 100, i * 100 + 9))
        .collect();
    let res = test::call_service(&app, get(format!("bytes={}", most.join(",")), None)).await;
    assert_eq!(
        res.status(),
        StatusCode::PARTIAL_CONTENT,
        "60 parts of a large file fit"
    );
    let content_type = res.headers().get(header::CONTENT_TYPE).unwrap().clone();
    let body = body_bytes(res).await;
    let parts = testkit::multipart_parts(content_type.to_str().unwrap(), &body);
    assert_eq!(parts.len(), 60);
    let req = TestRequest::get()
        .uri("/audio/tiny")
        .insert_header((header::RANGE, format!("bytes={}", most.join(","))))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "60 parts of a 6 kB file cost more than the file"
    );
    assert!(body_bytes(res).await == tiny);
}

#[actix_web::test]
async fn preconditions_give_304_412_and_if_range_falls_back_to_the_full_file() {
    let fixture = Fixture::new();
    let file = fixture.wav("track.wav", 0.5);
    let (app, _) = testkit::app(&fixture.config()).await;
    let res = test::call_service(&app, TestRequest::get().uri("/audio/track").to_request()).await;
    let etag = res
        .headers()
        .get(header::ETAG)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let modified = res
        .headers()
        .get(header::LAST_MODIFIED)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert!(etag.starts_with('"'), "strong ETag: {etag}");

    for method in [Method::GET, Method::HEAD] {
        let cases: Vec<(Vec<(header::HeaderName, String)>, StatusCode)> = vec![
            (
                vec![(header::IF_NONE_MATCH, etag.clone())],
                StatusCode::NOT_MODIFIED,
            ),
            (
                vec![(header::IF_NONE_MATCH, "\"other\"".into())],
                StatusCode::OK,
            ),
            (
                vec![(header::IF_MODIFIED_SINCE, modified.clone())],
                StatusCode::NOT_MODIFIED,
            ),
            (
                vec![(
                    header::IF_MODIFIED_SINCE,
                    "Mon, 01 Jan 2001 00:00:00 GMT".into(),
                )],
                StatusCode::OK,
            ),
            (
                vec![(header::IF_MATCH, "\"other\"".into())],
                StatusCode::PRECONDITION_FAILED,
            ),
            (vec![(header::IF_MATCH, etag.clone())], StatusCode::OK),
            (
                vec![(
                    header::IF_UNMODIFIED_SINCE,
                    "Mon, 01 Jan 2001 00:00:00 GMT".into(),
                )],
                StatusCode::PRECONDITION_FAILED,
            ),
            // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
            (
                vec![
                    (header::IF_NONE_MATCH, "\"other\"".into()),
                    (header::IF_MODIFIED_SINCE, modified.clone()),
                ],
                StatusCode::OK,
            ),
            // ...and If-Match over If-Unmodified-Since.
            (
                vec![
                    (header::IF_MATCH, etag.clone()),
                    (
                        header::IF_UNMODIFIED_SINCE,
                        "Mon, 01 Jan 2001 00:00:00 GMT".into(),
                    ),
                ],
                StatusCode::OK,
            ),
            (vec![(header::IF_MATCH, "*".into())], StatusCode::OK),
            (
                vec![(header::IF_NONE_MATCH, "*".into())],
                StatusCode::NOT_MODIFIED,
            ),
            // If-None-Match compares weakly, If-Match strongly.
            (
                vec![(header::IF_NONE_MATCH, format!("\"x\", W/{etag}"))],
                StatusCode::NOT_MODIFIED,
            ),
            (
                vec![(header::IF_MATCH, format!("W/{etag}"))],
                StatusCode::PRECONDITION_FAILED,
            ),
        ];
        for (headers, want) in cases {
            let mut req = TestRequest::default()
                .method(method.clone())
                .uri("/audio/track");
            for (name, value) in &headers {
                req = req.insert_header((name.clone(), value.as_str()));
            }
            let res = test::call_service(&app, req.to_request()).await;
            assert_eq!(res.status(), want, "{method} {headers:?}");
            assert_eq!(
                res.headers().get(header::ETAG).unwrap(),
                etag.as_str(),
                "{method} {headers:?}: every answer names the validator"
            );
            let body = body_bytes(res).await;
            if want != StatusCode::OK || method == Method::HEAD {
                assert!(body.is_empty(), "{method} {headers:?}: unexpected body");
            } else {
                assert!(body == file);
            }
        }
    }

    // A seek from a browser: Range with If-Range. Current validator → 206; stale → the whole file.
    let seek = |if_range: &str| {
        TestRequest::get()
            .uri("/audio/track")
            .insert_header((header::RANGE, "bytes=1000-1999"))
            .insert_header((header::IF_RANGE, if_range.to_owned()))
            .to_request()
    };
    let res = test::call_service(&app, seek(&etag)).await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert!(body_bytes(res).await == file[1000..2000]);
    let res = test::call_service(&app, seek(&modified)).await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    let res = test::call_service(&app, seek("\"stale\"")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(body_bytes(res).await == file);
    let res = test::call_service(&app, seek("Mon, 01 Jan 2001 00:00:00 GMT")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = test::call_service(&app, seek(&format!("W/{etag}"))).await;
    assert_eq!(res.status(), StatusCode::OK, "If-Range compares strongly");
}

/// A player that resumes on another replica sends the validators the first one gave: a copy of the
/// same file (same length and time, another inode) must give the same ones, so that the resume is a
/// 206, not the whole file again.
#[actix_web::test]
async fn copies_of_a_file_on_two_servers_share_validators_and_honour_each_others_if_range() {
    let first = Fixture::new();
    let file = first.wav("track.wav", 0.5);
    let second = Fixture::new();
    let copy = second.audio_dir().join("track.wav");
    std::fs::copy(first.audio_dir().join("track.wav"), &copy).unwrap();
    let modified = std::fs::metadata(first.audio_dir().join("track.wav"))
        .unwrap()
        .modified()
        .unwrap();
    std::fs::File::options()
        .write(true)
        .open(&copy)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    let (one, _) = testkit::app(&first.config()).await;
    let (two, _) = testkit::app(&second.config()).await;
    let validators = |res: &actix_web::dev::ServiceResponse| {
        let get = |name| res.headers().get(name).unwrap().clone();
        (get(header::ETAG), get(header::LAST_MODIFIED))
    };
    let res = test::call_service(&one, TestRequest::get().uri("/audio/track").to_request()).await;
    let (etag, _) = validators(&res);
    let res_two =
        test::call_service(&two, TestRequest::get().uri("/audio/track").to_request()).await;
    assert_eq!(validators(&res), validators(&res_two));

    let resume = TestRequest::get()
        .uri("/audio/track")
        .insert_header((header::RANGE, "bytes=2000-"))
        .insert_header((header::IF_RANGE, etag))
        .to_request();
    let res = test::call_service(&two, resume).await;
    assert_eq!(res.status(), StatusCode::PARTIAL_CONTENT);
    assert!(body_bytes(res).await == file[2000..]);
}
