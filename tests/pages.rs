//! The index page, the JSON APIs and the embedded assets, in-process.

use actix_web::http::{StatusCode, header};
use actix_web::test::{self, TestRequest};
use testkit::Fixture;

/// Every `attr="..."` value in `html`.
fn attribute_values<'a>(html: &'a str, attr: &str) -> Vec<&'a str> {
    let needle = format!("{attr}=\"");
    html.match_indices(&needle)
        .map(|(i, _)| {
            let rest = &html[i + needle.len()..];
            &rest[..rest.find('"').unwrap()]
        })
        .collect()
}

#[actix_web::test]
async fn the_index_lists_every_track_with_a_player_whose_src_streams_it() {
    let fixture = Fixture::new();
    let mut files = vec![
        ("one.wav", fixture.wav("one.wav", 0.05)),
        ("Two & <three>.mp3", fixture.wav("Two & <three>.mp3", 0.05)),
        (
            "live/encore ü.flac",
            fixture.wav("live/encore ü.flac", 0.05),
        ),
    ];
    files.sort();
    let (app, _) = testkit::app(&fixture.config()).await;
    let res = test::call_service(&app, TestRequest::get().uri("/").to_request()).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers().get(header::CONTENT_TYPE).unwrap(),
        "text/html; charset=utf-8"
    );
    let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();

    assert_eq!(
        html.matches("<audio controls preload=\"metadata\"").count(),
        3
    );
    assert!(html.contains("Two &#38; &#60;three&#62;") || html.contains("Two &amp; &lt;three&gt;"));
    assert!(!html.contains("<three>"), "track names are HTML-escaped");
    assert!(html.contains("live"), "subfolder shown as a group");

    let mut served = Vec::new();
    for src in attribute_values(&html, "src")
        .into_iter()
        .filter(|s| s.starts_with("/audio/"))
    {
        let res = test::call_service(&app, TestRequest::get().uri(src).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK, "{src}");
        served.push(test::read_body(res).await.to_vec());
    }
    served.sort();
    let mut want: Vec<Vec<u8>> = files.into_iter().map(|(_, bytes)| bytes).collect();
    want.sort();
    assert!(
        served == want,
        "every player's src streams exactly one of the files"
    );
}

#[actix_web::test]
async fn the_page_loads_nothing_from_other_hosts() {
    let fixture = Fixture::new();
    fixture.wav("one.wav", 0.01);
    let (app, _) = testkit::app(&fixture.config()).await;
    let res = test::call_service(&app, TestRequest::get().uri("/").to_request()).await;
    let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    for attr in ["src", "href"] {
        for value in attribute_values(&html, attr) {
            // A place on this page (the tabs of the browse views): nothing is loaded.
            if value.starts_with('#') {
                continue;
            }
            assert!(value.starts_with('/'), "{attr}={value} is not a local path");
            let res = test::call_service(&app, TestRequest::get().uri(value).to_request()).await;
            assert_eq!(res.status(), StatusCode::OK, "{attr}={value}");
        }
    }
}

#[actix_web::test]
async fn an_empty_folder_shows_where_to_put_files() {
    let fixture = Fixture::new();
    let (app, _) = testkit::app(&fixture.config()).await;
    let res = test::call_service(&app, TestRequest::get().uri("/").to_request()).await;
    let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(html.contains("data-testid=\"empty-state\""));
    assert!(html.contains(&fixture.audio_dir().display().to_string()));
    assert!(!html.contains("<audio"));
}

#[actix_web::test]
async fn assets_are_embedded_typed_and_revalidated_with_an_etag() {
    let fixture = Fixture::new();
    let (app, _) = testkit::app(&fixture.config()).await;
    for (path, mime) in [
        ("/static/main.js", "text/javascript"),
        ("/static/app.css", "text/css"),
        ("/static/favicon.svg", "image/svg+xml"),
    ] {
        let res = test::call_service(&app, TestRequest::get().uri(path).to_request()).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(
            res.headers().get(header::CONTENT_TYPE).unwrap(),
            mime,
            "{path}"
        );
        assert_eq!(
            res.headers().get(header::CACHE_CONTROL).unwrap(),
            "no-cache"
        );
        let etag = res.headers().get(header::ETAG).unwrap().clone();
        assert!(!test::read_body(res).await.is_empty());
        let req = TestRequest::get()
            .uri(path)
            .insert_header((header::IF_NONE_MATCH, etag))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{path}");
    }
    for path in [
        "/static/nope.js",
        "/static/..%2FCargo.toml",
        "/static/%2e%2e%2fCargo.toml",
        "/static/",
    ] {
        let res = test::call_service(&app, TestRequest::get().uri(path).to_request()).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

#[actix_web::test]
async fn the_json_apis_describe_tracks_and_stats() {
    let fixture = Fixture::new();
    let bytes = fixture.wav("a/b.wav", 0.01);
    let (app, _) = testkit::app(&fixture.config()).await;
    let res = test::call_service(&app, TestRequest::get().uri("/api/tracks").to_request()).await;
    let tracks: serde_json::Value = serde_json::from_slice(&test::read_body(res).await).unwrap();
    let track = &tracks[0];
    assert_eq!(track["name"], "a/b");
    assert_eq!(track["title"], "b");
    assert_eq!(track["folder"], "a");
    assert_eq!(track["url"], "/audio/a/b");
    assert_eq!(track["mime"], "audio/wav");
    assert_eq!(track["size"], bytes.len() as u64);
    assert!(track.get("path").is_none(), "server paths stay private");
    assert!(track["artist"].is_null() && track["album"].is_null());
    assert_eq!(track["unreadable"], false);
    assert!((track["duration_secs"].as_f64().unwrap() - 0.01).abs() < 0.005);

    let res = test::call_service(&app, TestRequest::get().uri("/api/stats").to_request()).await;
    let stats: serde_json::Value = serde_json::from_slice(&test::read_body(res).await).unwrap();
    assert!(stats["rss_bytes"].as_u64().unwrap() > 1024 * 1024);
    assert!(stats["virtual_bytes"].as_u64().unwrap() >= stats["rss_bytes"].as_u64().unwrap());
    assert_eq!(stats["active_streams"], 0);
}

#[actix_web::test]
async fn tagged_tracks_show_their_title_artist_album_and_length() {
    use lofty::config::WriteOptions;
    use lofty::tag::{Accessor as _, Tag, TagExt as _, TagType};
    let fixture = Fixture::new();
    fixture.wav("01.wav", 65.0);
    let mut tag = Tag::new(TagType::Id3v2);
    tag.set_title("So What".into());
    tag.set_artist("Sextet".into());
    tag.set_album("Kind of Blue".into());
    tag.save_to_path(fixture.audio_dir().join("01.wav"), WriteOptions::default())
        .unwrap();
    let (app, _) = testkit::app(&fixture.config()).await;
    let res = test::call_service(&app, TestRequest::get().uri("/").to_request()).await;
    let html = String::from_utf8(test::read_body(res).await.to_vec()).unwrap();
    assert!(html.contains(">So What<"), "title from the tag");
    assert!(html.contains("Sextet — Kind of Blue"), "byline");
    assert!(html.contains("1:05"), "length");
    assert!(
        html.contains("src=\"/audio/01\""),
        "still streamed by its file name"
    );
}

#[actix_web::test]
async fn a_large_library_sends_one_screen_of_rows_and_loads_no_track_until_it_is_played() {
    let fixture = Fixture::new();
    let limit = audio_streamer::PRELOAD_METADATA_UP_TO;
    let first_screen = audio_streamer::FIRST_SCREEN_ROWS;
    for i in 0..limit {
        fixture.wav(&format!("t{i:04}.wav"), 0.01);
    }
    let (app, _) = testkit::app(&fixture.config()).await;
    let get = async |app, uri: &'static str| {
        let res = test::call_service(app, TestRequest::get().uri(uri).to_request()).await;
        String::from_utf8(test::read_body(res).await.to_vec()).unwrap()
    };
    let small = get(&app, "/").await;
    assert_eq!(
        small
            .matches("<audio controls preload=\"metadata\"")
            .count(),
        first_screen
    );

    for i in limit..1000 {
        fixture.wav(&format!("t{i:04}.wav"), 0.01);
    }
    let (app, _) = testkit::app(&fixture.config()).await;
    let big = get(&app, "/").await;
    assert_eq!(
        big.matches("<audio controls preload=\"none\"").count(),
        first_screen
    );
    assert!(!big.contains("preload=\"metadata\""));
    assert!(big.contains("0:00"), "lengths shown from the tags");
    assert!(big.contains("1000 tracks"));
    // The page does not grow with the library: ten times the tracks, the same HTML but a few
    // attributes (preload, the set size).
    assert!(
        big.len().abs_diff(small.len()) < 400,
        "{} vs {}",
        big.len(),
        small.len()
    );
    let list: serde_json::Value = serde_json::from_str(&get(&app, "/api/library").await).unwrap();
    assert_eq!(list["reset"], true);
    assert_eq!(list["tracks"].as_array().unwrap().len(), 1000);
    assert_eq!(list["tracks"][999]["name"], "t0999");
}

#[actix_web::test]
async fn pages_json_and_assets_are_compressed_and_audio_never_is() {
    let fixture = Fixture::new();
    for i in 0..50 {
        fixture.wav(&format!("track {i}.wav"), 0.2);
    }
    let (app, _) = testkit::app(&fixture.config()).await;
    for (uri, encoding) in [
        ("/", "gzip"),
        ("/api/library", "gzip"),
        ("/api/tracks", "gzip"),
        ("/static/app.css", "gzip"),
        ("/static/rows.js", "br"),
        ("/static/app.css", "br"),
    ] {
        let req = TestRequest::get()
            .uri(uri)
            .insert_header((header::ACCEPT_ENCODING, encoding))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::OK, "{uri}");
        assert_eq!(
            res.headers().get(header::CONTENT_ENCODING).unwrap(),
            encoding,
            "{uri}"
        );
    }
    for uri in ["/audio/track%201", "/events"] {
        let req = TestRequest::get()
            .uri(uri)
            .insert_header((header::ACCEPT_ENCODING, "br, gzip"))
            .to_request();
        let res = test::call_service(&app, req).await;
        assert_eq!(res.status(), StatusCode::OK, "{uri}");
        let encoding = res.headers().get(header::CONTENT_ENCODING);
        assert!(encoding.is_none_or(|e| e == "identity"), "{uri} compressed");
    }
    let res = test::call_service(&app, TestRequest::get().uri("/api/library").to_request()).await;
    assert!(
        res.headers().get(header::CONTENT_ENCODING).is_none(),
        "nothing compressed for a client that did not ask"
    );
    // The brotli copies made at build time are the assets, byte for byte.
    for asset in ["/static/app.css", "/static/rows.js", "/static/main.js"] {
        let get = |encoding: &'static str| {
            TestRequest::get()
                .uri(asset)
                .insert_header((header::ACCEPT_ENCODING, encoding))
                .to_request()
        };
        let plain = test::read_body(test::call_service(&app, get("identity")).await).await;
        let res = test::call_service(&app, get("br")).await;
        assert_eq!(res.headers().get(header::CONTENT_ENCODING).unwrap(), "br");
        let compressed = test::read_body(res).await;
        assert!(compressed.len() < plain.len() / 2, "{asset}");
        let mut unpacked = Vec::new();
        brotli::BrotliDecompress(&mut &compressed[..], &mut unpacked).unwrap();
        assert!(unpacked == plain, "{asset} differs once decompressed");
    }
}

#[actix_web::test]
async fn the_library_api_answers_what_changed_since_a_version() {
    let fixture = Fixture::new();
    fixture.wav("a.wav", 0.05);
    fixture.wav("c.wav", 0.05);
    let (app, state) = testkit::app(&fixture.config()).await;
    let get = |uri: String| {
        let app = &app;
        async move {
            let res = test::call_service(app, TestRequest::get().uri(&uri).to_request()).await;
            assert_eq!(res.status(), StatusCode::OK, "{uri}");
            serde_json::from_slice::<serde_json::Value>(&test::read_body(res).await).unwrap()
        }
    };
    let whole = get("/api/library".into()).await;
    let version = whole["version"].as_str().unwrap().to_owned();
    fixture.wav("b.wav", 0.05);
    std::fs::remove_file(fixture.audio_dir().join("c.wav")).unwrap();
    state.library.rescan();
    let delta = get(format!("/api/library?since={version}")).await;
    assert_eq!(delta["reset"], false);
    assert_eq!(delta["tracks"].as_array().unwrap().len(), 1);
    assert_eq!(delta["tracks"][0]["name"], "b");
    assert_eq!(delta["tracks"][0]["after"], "a");
    assert_eq!(delta["removed"], serde_json::json!(["c"]));
    assert_ne!(delta["version"], version.as_str());
    let unchanged = get(format!(
        "/api/library?since={}",
        delta["version"].as_str().unwrap()
    ))
    .await;
    assert!(unchanged["tracks"].as_array().unwrap().is_empty());
    let unknown = get("/api/library?since=another-run.3".into()).await;
    assert_eq!(unknown["reset"], true);
    assert_eq!(unknown["tracks"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn every_answer_carries_the_security_headers() {
    let fixture = Fixture::new();
    fixture.wav("one.wav", 0.01);
    let (app, _) = testkit::app(&fixture.config()).await;
    for (method, uri) in [
        ("GET", "/"),
        ("HEAD", "/"),
        ("GET", "/api/tracks"),
        ("GET", "/api/library"),
        ("GET", "/api/stats"),
        ("GET", "/static/app.css"),
        ("GET", "/audio/one"),
        ("GET", "/audio/missing"),
        ("GET", "/no/such/page"),
        ("POST", "/"),
    ] {
        let req = TestRequest::default()
            .method(method.parse().unwrap())
            .uri(uri)
            .to_request();
        let res = test::call_service(&app, req).await;
        let headers = res.headers();
        let csp = headers
            .get(header::CONTENT_SECURITY_POLICY)
            .unwrap_or_else(|| panic!("{method} {uri}: no Content-Security-Policy"))
            .to_str()
            .unwrap();
        assert!(!csp.contains("unsafe-"), "{method} {uri}: {csp}");
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "frame-ancestors 'none'",
        ] {
            assert!(csp.contains(directive), "{method} {uri}: {csp}");
        }
        assert_eq!(
            headers.get(header::X_CONTENT_TYPE_OPTIONS).unwrap(),
            "nosniff"
        );
        assert_eq!(headers.get(header::REFERRER_POLICY).unwrap(), "same-origin");
        assert_eq!(headers.get(header::X_FRAME_OPTIONS).unwrap(), "DENY");
    }
}

/// A track tagged with title, artist, album, number and cover (`jazz/01 take five`), a file that
/// cannot be read (`broken`) and one with characters to escape (`plain & <odd> ü`).
fn three_kinds_of_track(fixture: &Fixture) {
    fixture.wav("jazz/01 take five.wav", 1.0);
    testkit::Tagger::default()
        .title("Take Five")
        .artist("Quartet")
        .album("Time Out")
        .track(1)
        .picture(
            lofty::picture::PictureType::CoverFront,
            &testkit::png(2, 2, 9),
        )
        .save(&fixture.audio_dir().join("jazz/01 take five.wav"));
    fixture.file("broken.mp3", &[0u8; 4096]);
    fixture.wav("plain & <odd> ü.wav", 65.5);
}

/// Asserts that `json` holds each of `objects` in order, each as it was sent before the page's
/// JSON got its own types: the same fields, in the same order, with the same values, followed by
/// the end of the object or by fields added since.
fn holds_as_before(json: &str, objects: &[String]) {
    let mut rest = json;
    for object in objects {
        let at = rest
            .find(object.as_str())
            .unwrap_or_else(|| panic!("{object}\nnot in\n{rest}"));
        rest = &rest[at + object.len()..];
        assert!(
            rest.starts_with('}') || rest.starts_with(",\""),
            "{object} followed by {rest}"
        );
    }
}

#[actix_web::test]
async fn the_json_of_a_track_keeps_every_field_name_order_and_value() {
    let fixture = Fixture::new();
    three_kinds_of_track(&fixture);
    let (app, state) = testkit::app(&fixture.config()).await;
    let get = async |uri: &str| {
        let res = test::call_service(&app, TestRequest::get().uri(uri).to_request()).await;
        String::from_utf8(test::read_body(res).await.to_vec()).unwrap()
    };
    let tracks = get("/api/tracks").await;
    let parsed: serde_json::Value = serde_json::from_str(&tracks).unwrap();
    let art = parsed[2]["art"].as_str().unwrap();
    assert!(art.starts_with("/art/jazz/01%20take%20five?v="), "{art}");
    let before = [
        r#"{"name":"broken","title":"broken","artist":null,"album":null,"track_number":null,"duration_secs":null,"unreadable":true,"folder":"","file_name":"broken.mp3","size":4096,"mime":"audio/mpeg","format":"MP3","url":"/audio/broken","art":null"#.to_owned(),
        r#"{"name":"plain & <odd> ü","title":"plain & <odd> ü","artist":null,"album":null,"track_number":null,"duration_secs":65.5,"unreadable":false,"folder":"","file_name":"plain & <odd> ü.wav","size":1048044,"mime":"audio/wav","format":"WAV","url":"/audio/plain%20%26%20%3Codd%3E%20%C3%BC","art":null"#.to_owned(),
        format!(r#"{{"name":"jazz/01 take five","title":"Take Five","artist":"Quartet","album":"Time Out","track_number":1,"duration_secs":1.0,"unreadable":false,"folder":"jazz","file_name":"01 take five.wav","size":17256,"mime":"audio/wav","format":"WAV","url":"/audio/jazz/01%20take%20five","art":"{art}""#),
    ];
    assert!(tracks.starts_with("[{") && tracks.ends_with("}]"));
    assert_eq!(parsed.as_array().unwrap().len(), 3);
    holds_as_before(&tracks, &before);

    let whole = get("/api/library").await;
    let version = serde_json::from_str::<serde_json::Value>(&whole).unwrap()["version"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        whole.starts_with(&format!(
            r#"{{"version":"{version}","reset":true,"tracks":[{{"name""#
        )),
        "{whole}"
    );
    assert!(
        whole.ends_with(r#"}],"removed":[],"scan":null}"#),
        "{whole}"
    );
    holds_as_before(&whole, &before);

    fixture.wav("b.wav", 0.05);
    std::fs::remove_file(fixture.audio_dir().join("broken.mp3")).unwrap();
    state.library.rescan();
    let delta = get(&format!("/api/library?since={version}")).await;
    assert!(
        delta.contains(r#"","reset":false,"tracks":[{"name":"b","#),
        "{delta}"
    );
    holds_as_before(
        &delta,
        &[
            r#"{"name":"b","title":"b","artist":null,"album":null,"track_number":null,"duration_secs":0.05,"unreadable":false,"folder":"","file_name":"b.wav","size":844,"mime":"audio/wav","format":"WAV","url":"/audio/b","art":null"#.to_owned(),
        ],
    );
    assert!(
        delta.ends_with(r#","after":null}],"removed":["broken"],"scan":null}"#),
        "{delta}"
    );
}

#[actix_web::test]
async fn a_row_s_text_is_formatted_once_and_the_list_carries_the_blank_row_for_the_rest() {
    let fixture = Fixture::new();
    three_kinds_of_track(&fixture);
    let (app, _) = testkit::app(&fixture.config()).await;
    let get = async |uri: &str| {
        let res = test::call_service(&app, TestRequest::get().uri(uri).to_request()).await;
        String::from_utf8(test::read_body(res).await.to_vec()).unwrap()
    };
    let tracks: serde_json::Value = serde_json::from_str(&get("/api/tracks").await).unwrap();
    let text = |i: usize| {
        ["byline", "details", "label"].map(|field| tracks[i][field].as_str().unwrap().to_owned())
    };
    assert_eq!(text(0), ["", "MP3 · 4.0 KiB", "broken (MP3)"]);
    assert_eq!(
        text(1),
        ["", "WAV · 1023.5 KiB · 1:05", "plain & <odd> ü (WAV)"]
    );
    assert_eq!(
        text(2),
        [
            "Quartet — Time Out",
            "WAV · 16.9 KiB · 0:01",
            "Take Five (WAV)"
        ]
    );

    let html = get("/").await;
    let blank = attribute_values(&html, "data-blank");
    assert_eq!(blank.len(), 1);
    let blank = [
        ("&#60;", "<"),
        ("&#62;", ">"),
        ("&#34;", "\""),
        ("&#39;", "'"),
    ]
    .into_iter()
    .fold(blank[0].to_owned(), |text, (escaped, plain)| {
        text.replace(escaped, plain)
    })
    .replace("&#38;", "&");
    let rows = &html[html.find("data-blank=").unwrap()..];
    for shown in [
        "data-slot=\"byline\">Quartet — Time Out</span>",
        "data-slot=\"details\">WAV · 16.9 KiB · 0:01</span>",
        "aria-label=\"Take Five (WAV)\"",
        "data-slot=\"details\">MP3 · 4.0 KiB</span>",
    ] {
        assert!(rows.contains(shown), "{shown}");
    }
    // The blank row holds every slot, empty, and both of each pair the script picks from.
    for slot in [
        "data-folder=\"\"><h2 data-slot=\"folder\"></h2>",
        "data-name=\"\"",
        "data-slot=\"cover\"",
        "data-slot=\"no-cover\"",
        "data-slot=\"title\"></span>",
        "data-slot=\"byline\"></span>",
        "data-slot=\"details\"></span>",
        "data-slot=\"unreadable\"",
        "data-slot=\"player\" aria-label=\"\"></audio>",
    ] {
        assert!(blank.contains(slot), "{slot} not in {blank}");
    }
    assert!(!blank.contains("src="), "the blank loads nothing: {blank}");
}
