//! `/audio/<name>` in-process: empty files, formats, names, duplicates, methods (and the `Allow`
//! of every route's 405), compression and files that come and go. Ranges and preconditions are in
//! `ranges.rs`.

use actix_web::http::{Method, StatusCode, header};
use actix_web::test::{self, TestRequest};
use testkit::Fixture;

async fn body_bytes(res: actix_web::dev::ServiceResponse) -> Vec<u8> {
    test::read_body(res).await.to_vec()
}

#[actix_web::test]
async fn empty_and_one_byte_files_are_served_without_overflow() {
    let fixture = Fixture::new();
    fixture.file("empty.mp3", b"");
    fixture.file("one.mp3", b"x");
    let (app, _) = testkit::app(&fixture.config()).await;
    for range in [
        None,
        Some("bytes=-5"),
        Some("bytes=0-"),
        Some("bytes=0-0"),
        Some("bytes=-1"),
    ] {
        let mut req = TestRequest::get().uri("/audio/empty");
        if let Some(range) = range {
            req = req.insert_header((header::RANGE, range));
        }
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), StatusCode::OK, "empty file, {range:?}");
        assert!(res.headers().get(header::CONTENT_RANGE).is_none());
        assert!(body_bytes(res).await.is_empty());
    }
    for (range, status, body) in [
        (None, StatusCode::OK, &b"x"[..]),
        (Some("bytes=-5"), StatusCode::PARTIAL_CONTENT, b"x"),
        (Some("bytes=0-0"), StatusCode::PARTIAL_CONTENT, b"x"),
        (Some("bytes=1-"), StatusCode::RANGE_NOT_SATISFIABLE, b""),
    ] {
        let mut req = TestRequest::get().uri("/audio/one");
        if let Some(range) = range {
            req = req.insert_header((header::RANGE, range));
        }
        let res = test::call_service(&app, req.to_request()).await;
        assert_eq!(res.status(), status, "one-byte file, {range:?}");
        assert_eq!(body_bytes(res).await, body, "one-byte file, {range:?}");
    }
}

#[actix_web::test]
async fn every_format_gets_the_content_type_browsers_accept() {
    let fixture = Fixture::new();
    let formats = [
        ("mp3", "audio/mpeg"),
        ("ogg", "audio/ogg"),
        ("opus", "audio/ogg"),
        ("flac", "audio/flac"),
        ("wav", "audio/wav"),
        ("m4a", "audio/mp4"),
        ("aac", "audio/aac"),
        ("webm", "audio/webm"),
    ];
    for (ext, _) in formats {
        fixture.wav(&format!("{ext}-track.{ext}"), 0.01);
    }
    fixture.file("notes.txt", b"not audio");
    let (app, _) = testkit::app(&fixture.config()).await;
    for (ext, mime) in formats {
        let res = test::call_service(
            &app,
            TestRequest::get()
                .uri(&format!("/audio/{ext}-track"))
                .to_request(),
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{ext}");
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            mime,
            "{ext}"
        );
    }
    let res = test::call_service(&app, TestRequest::get().uri("/audio/notes").to_request()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn names_with_spaces_unicode_and_subfolders_resolve_by_their_encoded_url() {
    let fixture = Fixture::new();
    let spaced = fixture.wav("My Song (live) – ü.wav", 0.02);
    let nested = fixture.wav("jazz/Take Five.wav", 0.02);
    let (app, _) = testkit::app(&fixture.config()).await;
    let unicode = "inline; filename*=UTF-8''My%20Song%20%28live%29%20%E2%80%93%20%C3%BC.wav";
    let plain = "inline; filename=\"Take Five.wav\"";
    for (url, want, disposition) in [
        (
            "/audio/My%20Song%20%28live%29%20%E2%80%93%20%C3%BC",
            &spaced,
            unicode,
        ),
        ("/audio/jazz/Take%20Five", &nested, plain),
        ("/audio/jazz%2FTake%20Five", &nested, plain),
        ("/audio/jazz/Take%20Five.wav", &nested, plain),
    ] {
        let res = test::call_service(&app, TestRequest::get().uri(url).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK, "{url}");
        // A saved track keeps its file's name (RFC 6266; RFC 8187 for the non-ASCII one).
        assert_eq!(
            res.headers().get(header::CONTENT_DISPOSITION).unwrap(),
            disposition,
            "{url}"
        );
        assert!(body_bytes(res).await == *want, "{url}");
    }
}

#[actix_web::test]
async fn files_sharing_a_stem_are_all_reachable_and_the_stem_prefers_mp3() {
    let fixture = Fixture::new();
    let ogg = fixture.wav("song.ogg", 0.02);
    let mp3 = fixture.wav("song.mp3", 0.03);
    let (app, _) = testkit::app(&fixture.config()).await;
    for (url, want) in [
        ("/audio/song", &mp3),
        ("/audio/song.mp3", &mp3),
        ("/audio/song.ogg", &ogg),
    ] {
        let res = test::call_service(&app, TestRequest::get().uri(url).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK, "{url}");
        assert!(body_bytes(res).await == *want, "{url}");
    }
    let res = test::call_service(&app, TestRequest::get().uri("/api/tracks").to_request()).await;
    let tracks: serde_json::Value = serde_json::from_slice(&body_bytes(res).await).unwrap();
    let urls: Vec<&str> = tracks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["url"].as_str().unwrap())
        .collect();
    assert_eq!(urls, ["/audio/song.mp3", "/audio/song.ogg"]);
}

#[actix_web::test]
async fn unknown_tracks_are_404_and_other_methods_are_405_with_allow() {
    let fixture = Fixture::new();
    fixture.wav("track.wav", 0.01);
    let (app, _) = testkit::app(&fixture.config()).await;
    for uri in [
        "/audio/nope",
        "/audio/",
        "/audio/track.mp3",
        "/audio/TRACK",
        "/nothing-here",
    ] {
        let res = test::call_service(&app, TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{uri}");
    }
    for method in [
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
    ] {
        for uri in ["/audio/track", "/", "/api/tracks", "/static/main.js"] {
            let req = TestRequest::default()
                .method(method.clone())
                .uri(uri)
                .to_request();
            let res = test::call_service(&app, req).await;
            assert_eq!(
                res.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {uri}"
            );
            assert_eq!(res.headers().get(header::ALLOW).unwrap(), "GET, HEAD");
        }
    }
}

#[actix_web::test]
async fn a_405_names_the_methods_its_route_answers() {
    let fixture = Fixture::new();
    fixture.wav("track.wav", 0.01);
    let (app, _) = testkit::app(&fixture.config()).await;
    for (uri, methods, allow) in [
        (
            "/logout",
            &[Method::GET, Method::HEAD, Method::PUT][..],
            "POST",
        ),
        ("/login", &[Method::PUT, Method::DELETE], "GET, HEAD, POST"),
        ("/events", &[Method::HEAD, Method::POST], "GET"),
        ("/audio/track", &[Method::POST, Method::PUT], "GET, HEAD"),
        ("/art/track", &[Method::POST], "GET, HEAD"),
        ("/api/stats", &[Method::POST], "GET, HEAD"),
        ("/api/link", &[Method::POST], "GET, HEAD"),
        ("/metrics", &[Method::POST], "GET, HEAD"),
        ("/healthz", &[Method::POST], "GET, HEAD"),
        ("/readyz", &[Method::DELETE], "GET, HEAD"),
        ("/api/albums", &[Method::POST], "GET, HEAD"),
        ("/api/albums/al-1", &[Method::DELETE], "GET, HEAD"),
        (
            "/api/stars/tr-1",
            &[Method::GET, Method::POST],
            "PUT, DELETE",
        ),
        ("/api/plays", &[Method::GET, Method::PUT], "POST"),
        ("/api/playlists", &[Method::PUT], "GET, HEAD, POST"),
        (
            "/api/playlists/pl-1",
            &[Method::POST, Method::PUT],
            "GET, HEAD, PATCH, DELETE",
        ),
        ("/api/playlists/pl-1/tracks", &[Method::GET], "PUT"),
        ("/api/queue", &[Method::POST], "GET, HEAD, PUT"),
        ("/api/bookmarks/tr-1", &[Method::GET], "PUT, DELETE"),
    ] {
        for method in methods {
            let req = TestRequest::default()
                .method(method.clone())
                .uri(uri)
                .to_request();
            let res = test::call_service(&app, req).await;
            assert_eq!(
                res.status(),
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {uri}"
            );
            assert_eq!(
                res.headers().get(header::ALLOW).unwrap(),
                allow,
                "{method} {uri}"
            );
        }
    }
}

#[actix_web::test]
async fn audio_is_never_compressed_even_when_the_client_asks() {
    let fixture = Fixture::new();
    let file = fixture.wav("track.wav", 0.2);
    let (app, _) = testkit::app(&fixture.config()).await;
    let req = TestRequest::get()
        .uri("/audio/track")
        .insert_header((header::ACCEPT_ENCODING, "gzip, br, zstd"))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert!(res.headers().get(header::CONTENT_ENCODING).is_none());
    assert!(body_bytes(res).await == file);
}

#[actix_web::test]
async fn a_file_deleted_after_the_scan_is_404_not_500() {
    let fixture = Fixture::new();
    fixture.wav("gone.wav", 0.01);
    let (app, _) = testkit::app(&fixture.config()).await;
    std::fs::remove_file(fixture.audio_dir().join("gone.wav")).unwrap();
    let res = test::call_service(&app, TestRequest::get().uri("/audio/gone").to_request()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_file_added_after_start_is_found_without_a_restart() {
    let fixture = Fixture::new();
    let (app, _) = testkit::app(&fixture.config()).await;
    let res = test::call_service(&app, TestRequest::get().uri("/audio/late").to_request()).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let late = fixture.wav("late.wav", 0.01);
    // Found by the watcher or, a second after the last scan, by the rescan a miss triggers.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let res = loop {
        let res =
            test::call_service(&app, TestRequest::get().uri("/audio/late").to_request()).await;
        if res.status() == StatusCode::OK || std::time::Instant::now() > deadline {
            break res;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(res.status(), StatusCode::OK);
    assert!(body_bytes(res).await == late);
    let res = test::call_service(&app, TestRequest::get().uri("/").to_request()).await;
    assert!(
        String::from_utf8(body_bytes(res).await)
            .unwrap()
            .contains("/audio/late")
    );
}
