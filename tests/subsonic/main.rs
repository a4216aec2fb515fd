//! The Subsonic / OpenSubsonic API under `/rest/` on a real socket.
//!
//! - `protocol`: the envelope in XML (checked by `xmllint` against the Subsonic 1.16.1 schema, after
//!   removing OpenSubsonic's additions, which it does not know), JSON and JSONP; GET and posted
//!   forms, with and without `.view`; the credentials (`u`+`p` plain and `enc:`, errors 10, 40, 41,
//!   42, 43, the throttle); hostile requests, which each get an error code, never a 5xx; `stream`
//!   and `download`.
//! - `browsing`: browsing by folder and by tags, the lists and the searches, over a tagged library.
//! - `clients`: real client libraries (Python and Node.js) against the server.
//! - `listener`: stars, ratings, plays, playlists, the play queue, bookmarks, the account, the scan.
//!
//! The schema check needs `xmllint` (`apt-get install libxml2-utils`); without it, that part says so
//! and is skipped, except under `CI=true`.

mod browsing;
mod clients;
mod listener;
mod protocol;

use std::path::Path;
use std::process::Command;

use audio_streamer::auth::Users;
use quick_xml::events::{BytesStart, Event};
use reqwest::{Client, StatusCode};
use serde_json::Value;
use testkit::{Fixture, TestServer};

const PASSWORD: &str = "correct horse battery";
const SCHEMA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/schema/subsonic-rest-api-1.16.1.xsd"
);
/// A server on `fixture`, with a users file holding `alice` when `users`.
async fn server(fixture: &Fixture, users: bool) -> TestServer {
    let mut config = fixture.config();
    if users {
        let path = fixture.root().join("users");
        let mut list = Users::default();
        list.add("alice", PASSWORD).unwrap();
        list.write(&path).unwrap();
        config.access = Some(audio_streamer::config::Access {
            users: path,
            session_key_file: None,
        });
    }
    TestServer::start(&config).await
}

/// `GET /rest/<call>`: the status, the content type and the body.
async fn get(server: &TestServer, call: &str) -> (StatusCode, String, String) {
    let res = Client::new()
        .get(server.url(&format!("/rest/{call}")))
        .send()
        .await
        .unwrap();
    let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
    (res.status(), kind, res.text().await.unwrap())
}

/// The JSON answer of `call` (which must not set `f`).
async fn json(server: &TestServer, call: &str) -> Value {
    let sep = if call.contains('?') { '&' } else { '?' };
    let (status, kind, body) = get(server, &format!("{call}{sep}f=json")).await;
    assert_eq!(status, StatusCode::OK, "{call}: {body}");
    assert_eq!(kind, "application/json", "{call}");
    let value: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{call}: {body}"));
    let answer = value["subsonic-response"].clone();
    assert_eq!(answer["version"], "1.16.1", "{call}");
    assert_eq!(answer["type"], "audio-streamer");
    assert_eq!(answer["openSubsonic"], true);
    assert!(answer["serverVersion"].is_string());
    answer
}

/// The error code of a failed JSON answer.
async fn code(server: &TestServer, call: &str) -> i64 {
    let answer = json(server, call).await;
    assert_eq!(answer["status"], "failed", "{call}: {answer}");
    assert!(answer["error"]["message"].is_string(), "{call}");
    answer["error"]["code"].as_i64().unwrap()
}

/// Whether `xmllint` is installed (see the module's note).
fn xmllint() -> bool {
    testkit::installed(
        "the Subsonic schema check",
        &["/usr/bin/xmllint"],
        "libxml2-utils",
    )
}

/// OpenSubsonic's attributes, which the 1.16.1 schema does not know, on any element.
const ADDED_ATTRIBUTES: &[&str] = &[
    "type",
    "serverVersion",
    "openSubsonic",
    "played",
    "bitDepth",
    "samplingRate",
    "channelCount",
    "mediaType",
    "musicBrainzId",
    "displayArtist",
    "displayAlbumArtist",
    "isCompilation",
    "sortName",
    "helpUrl",
];

/// OpenSubsonic's elements inside an item (not the answers of the same names, `genres` of
/// `getGenres` and `artists` of `getArtists`, which sit right under the envelope).
const ADDED_ELEMENTS: &[&str] = &[
    "genres",
    "artists",
    "albumArtists",
    "replayGain",
    "contributors",
    "moods",
    "discTitles",
    "recordLabels",
    "releaseTypes",
];

/// Whether `attribute` of `element` (inside `parent`) is an OpenSubsonic addition.
fn added(element: &str, parent: &str, attribute: &str) -> bool {
    let id3_album = element == "album"
        && matches!(
            parent,
            "albumList2" | "searchResult3" | "starred2" | "artist" | "subsonic-response"
        );
    match attribute {
        // The schema keeps the root's `type`; an item's `type` (`music`) is its own.
        "type" => element == "subsonic-response",
        "userRating" => id3_album,
        // A string id in OpenSubsonic, an int in the schema.
        "current" => element == "playQueue",
        _ => ADDED_ATTRIBUTES.contains(&attribute),
    }
}

/// `xml` without OpenSubsonic's additions (see [`added`] and [`ADDED_ELEMENTS`]).
fn strip(xml: &str) -> String {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut writer = quick_xml::Writer::new(Vec::new());
    let mut open: Vec<String> = Vec::new();
    let mut skipping = 0usize;
    loop {
        let event = reader.read_event().expect("the answer is well-formed XML");
        let (start, empty) = match &event {
            Event::Eof => break,
            Event::Start(start) => (Some(start), false),
            Event::Empty(start) => (Some(start), true),
            _ => (None, false),
        };
        let parent = open.last().cloned().unwrap_or_default();
        if let Some(start) = start {
            let name = String::from_utf8(start.name().as_ref().to_vec()).unwrap();
            if skipping > 0
                || (parent != "subsonic-response"
                    && !parent.is_empty()
                    && ADDED_ELEMENTS.contains(&name.as_str()))
            {
                if !empty {
                    skipping += 1;
                    open.push(name);
                }
                continue;
            }
            let mut kept = BytesStart::new(name.clone());
            for attribute in start.attributes() {
                let attribute = attribute.unwrap();
                let key = std::str::from_utf8(attribute.key.as_ref()).unwrap();
                if !added(&name, &parent, key) {
                    kept.push_attribute(attribute);
                }
            }
            if empty {
                writer.write_event(Event::Empty(kept)).unwrap();
            } else {
                open.push(name);
                writer.write_event(Event::Start(kept)).unwrap();
            }
            continue;
        }
        if let Event::End(_) = event {
            open.pop();
            if skipping > 0 {
                skipping -= 1;
                continue;
            }
        }
        if skipping == 0 {
            writer.write_event(event).unwrap();
        }
    }
    String::from_utf8(writer.into_inner()).unwrap()
}

/// Checks `xml` against the 1.16.1 schema, without OpenSubsonic's additions.
fn validate(xml: &str, dir: &Path) {
    let stripped = strip(xml);
    let file = dir.join("answer.xml");
    std::fs::write(&file, &stripped).unwrap();
    let out = Command::new("xmllint")
        .args(["--noout", "--schema", SCHEMA])
        .arg(&file)
        .output()
        .expect("xmllint runs");
    assert!(
        out.status.success(),
        "{stripped}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Keeps `answer` (the JSON answer of `call`) in `fixture`'s folder for [`check_json`].
fn keep_json(fixture: &Fixture, call: &str, answer: &Value) {
    let dir = fixture.root().join("json");
    std::fs::create_dir_all(&dir).unwrap();
    let method = call.split('?').next().unwrap().trim_end_matches(".view");
    let n = std::fs::read_dir(&dir).unwrap().count();
    let whole = serde_json::json!({ "subsonic-response": answer });
    std::fs::write(dir.join(format!("{method}.{n}.json")), whole.to_string()).unwrap();
}

/// Checks every JSON answer kept in `fixture`'s folder against the OpenSubsonic OpenAPI schemas,
/// with Python's jsonschema from `tests/clients/venv` (skipped, saying how to install it, when it
/// is not there; a failure under `CI=true`).
fn check_json(fixture: &Fixture) {
    let root = env!("CARGO_MANIFEST_DIR");
    let python = format!("{root}/tests/clients/venv/bin/python");
    if !Path::new(&python).exists() {
        let hint = "the OpenAPI schema check skipped: tests/clients/venv missing (python3 -m venv \
                    tests/clients/venv && tests/clients/venv/bin/pip install -r \
                    tests/clients/requirements.txt, as .ci/run does)";
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true: {hint}"
        );
        eprintln!("{hint}");
        return;
    }
    let out = Command::new(python)
        .arg(format!("{root}/tests/clients/validate_json.py"))
        .arg(format!("{root}/tests/schema/openapi"))
        .arg(fixture.root().join("json"))
        .output()
        .expect("python runs");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!said.starts_with("0 answers"), "{said}");
}
