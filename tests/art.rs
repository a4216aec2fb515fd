//! Covers: embedded pictures and folder images at `/art/<name>`, typed by their bytes, cached by
//! version, and listed in the JSON API and the page.

use actix_web::http::{StatusCode, header};
use actix_web::test::{self, TestRequest};
use testkit::{Fixture, png, silent_mp3, tag_file};

/// A fixture with every kind of cover, and the PNGs it used.
struct Covers {
    fixture: Fixture,
    embedded: Vec<u8>,
    folder: Vec<u8>,
}

fn covers() -> Covers {
    let fixture = Fixture::new();
    let dir = fixture.audio_dir();
    let embedded = png(32, 32, 1);
    let folder = png(24, 24, 2);
    fixture.file("with cover.mp3", &silent_mp3(1.0));
    tag_file(
        &dir.join("with cover.mp3"),
        "With",
        "A",
        "B",
        Some(&embedded),
    );
    fixture.file("plain.mp3", &silent_mp3(1.0));
    tag_file(&dir.join("plain.mp3"), "Plain", "A", "B", None);
    // A "picture" that is a page: never served as one.
    fixture.file("sneaky.mp3", &silent_mp3(1.0));
    tag_file(
        &dir.join("sneaky.mp3"),
        "Sneaky",
        "A",
        "B",
        Some(b"<html><script>alert(1)</script></html>"),
    );
    // A folder image covers the folder's tracks that carry none; an embedded cover wins.
    fixture.file("album/one.mp3", &silent_mp3(1.0));
    fixture.file("album/two.mp3", &silent_mp3(1.0));
    tag_file(&dir.join("album/two.mp3"), "Two", "A", "B", Some(&embedded));
    fixture.file("album/Cover.PNG", &folder);
    fixture.file("album/notes.txt", b"not a cover");
    Covers {
        fixture,
        embedded,
        folder,
    }
}

macro_rules! json {
    ($app:expr, $uri:expr) => {{
        let res = test::call_service(&$app, TestRequest::get().uri($uri).to_request()).await;
        serde_json::from_slice::<serde_json::Value>(&test::read_body(res).await).unwrap()
    }};
}

/// The `art` URL of each track, by name.
fn art_urls(tracks: &serde_json::Value) -> Vec<(String, Option<String>)> {
    tracks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["art"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

#[actix_web::test]
async fn each_track_gets_its_embedded_cover_else_its_folder_image_else_none() {
    let covers = covers();
    let (app, _) = testkit::app(&covers.fixture.config()).await;
    let tracks = json!(app, "/api/tracks");
    let urls = art_urls(&tracks);
    let url = |name: &str| urls.iter().find(|(n, _)| n == name).unwrap().1.clone();
    assert_eq!(url("plain"), None);
    assert_eq!(url("sneaky"), None, "a non-image picture is no cover");
    for (name, want) in [
        ("with cover", &covers.embedded),
        ("album/one", &covers.folder),
        ("album/two", &covers.embedded),
    ] {
        let src = url(name).unwrap_or_else(|| panic!("{name} has no art"));
        assert!(src.starts_with("/art/") && src.contains("?v="), "{src}");
        for method in [actix_web::http::Method::GET, actix_web::http::Method::HEAD] {
            let req = TestRequest::default()
                .method(method.clone())
                .uri(&src)
                .to_request();
            let res = test::call_service(&app, req).await;
            assert_eq!(res.status(), StatusCode::OK, "{method} {src}");
            let headers = res.headers().clone();
            assert_eq!(headers.get(header::CONTENT_TYPE).unwrap(), "image/png");
            assert_eq!(
                headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
                "nosniff"
            );
            assert_eq!(
                headers.get(header::CACHE_CONTROL).unwrap(),
                "public, max-age=31536000, immutable",
                "the current version may be cached for good"
            );
            let body = test::read_body(res).await;
            if method == actix_web::http::Method::GET {
                assert!(
                    body == want.as_slice(),
                    "{name}: the cover's bytes, exactly"
                );
            }
        }
    }
}

#[actix_web::test]
async fn covers_revalidate_with_their_etag_and_unversioned_urls_are_not_cached() {
    let covers = covers();
    let (app, _) = testkit::app(&covers.fixture.config()).await;
    let res = test::call_service(
        &app,
        TestRequest::get().uri("/art/with%20cover").to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-cache"
    );
    let etag = res.headers().get(header::ETAG).unwrap().clone();
    let req = TestRequest::get()
        .uri("/art/with%20cover?v=stale")
        .insert_header((header::IF_NONE_MATCH, etag))
        .to_request();
    let res = test::call_service(&app, req).await;
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(
        res.headers().get(header::CACHE_CONTROL).unwrap(),
        "no-cache"
    );
    assert!(test::read_body(res).await.is_empty());
}

#[actix_web::test]
async fn a_changed_cover_gets_a_new_url_and_the_new_bytes() {
    let covers = covers();
    let (app, state) = testkit::app(&covers.fixture.config()).await;
    let before = art_urls(&json!(app, "/api/tracks"));
    let path = covers.fixture.audio_dir().join("with cover.mp3");
    let newer = png(40, 40, 9);
    std::thread::sleep(std::time::Duration::from_millis(20));
    tag_file(&path, "With", "A", "B", Some(&newer));
    state.library.rescan();
    let after = art_urls(&json!(app, "/api/tracks"));
    let find = |urls: &[(String, Option<String>)]| {
        urls.iter()
            .find(|(n, _)| n == "with cover")
            .and_then(|(_, u)| u.clone())
            .unwrap()
    };
    assert_ne!(find(&before), find(&after), "a new version in the URL");
    let res = test::call_service(&app, TestRequest::get().uri(&find(&after)).to_request()).await;
    assert!(test::read_body(res).await == newer.as_slice());
}

#[actix_web::test]
async fn tracks_without_covers_unknown_names_and_hostile_paths_are_404() {
    let covers = covers();
    let (app, _) = testkit::app(&covers.fixture.config()).await;
    for uri in [
        "/art/plain",
        "/art/sneaky",
        "/art/nope",
        "/art/",
        "/art/..%2Fsecret",
        "/art/album%2F..%2F..%2Fsecret",
        "/art/album/Cover.PNG",
        "/art/album",
    ] {
        let res = test::call_service(&app, TestRequest::get().uri(uri).to_request()).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{uri}");
    }
    let res = test::call_service(
        &app,
        TestRequest::post().uri("/art/with%20cover").to_request(),
    )
    .await;
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[actix_web::test]
async fn the_page_shows_covers_lazily_and_a_placeholder_otherwise() {
    let covers = covers();
    let (app, _) = testkit::app(&covers.fixture.config()).await;
    let res = test::call_service(&app, TestRequest::get().uri("/").to_request()).await;
    let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert_eq!(html.matches("data-testid=\"cover\"").count(), 3, "{html}");
    assert!(html.contains("src=\"/art/with%20cover?v="));
    assert!(html.contains("loading=\"lazy\""));
    assert_eq!(html.matches("class=\"cover none\"").count(), 2);
}
