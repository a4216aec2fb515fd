//! The protocol: the envelope in XML (valid against the 1.16.1 schema), JSON and JSONP; GET and
//! posted forms, with and without `.view`; the credentials; hostile requests, which each get an
//! error code, never a 5xx; `stream` and `download`.

use reqwest::{Client, StatusCode};
use serde_json::Value;
use testkit::{Fixture, TestServer};

use super::{PASSWORD, code, get, json, server, validate, xmllint};

#[tokio::test]
async fn system_calls_answer_in_xml_the_schema_accepts_json_and_jsonp() {
    let fixture = Fixture::new();
    let server = server(&fixture, false).await;
    for call in [
        "ping",
        "ping.view",
        "getLicense",
        "getMusicFolders.view",
        "getMusicFolders",
    ] {
        let (status, kind, xml) = get(&server, call).await;
        assert_eq!(status, StatusCode::OK, "{call}");
        assert_eq!(kind, "text/xml; charset=utf-8");
        assert!(xml.contains("status=\"ok\""), "{call}: {xml}");
        if xmllint() {
            validate(&xml, fixture.root());
        }
    }
    assert_eq!(json(&server, "ping").await["status"], "ok");
    let license = json(&server, "getLicense.view").await;
    assert_eq!(license["license"]["valid"], true);
    let folders = json(&server, "getMusicFolders").await;
    assert_eq!(
        folders["musicFolders"]["musicFolder"],
        serde_json::json!([{ "id": 1, "name": "audio" }])
    );
    let (_, kind, body) = get(&server, "ping?f=jsonp&callback=window.got").await;
    assert_eq!(kind, "application/javascript");
    let called = body
        .strip_prefix("window.got(")
        .and_then(|rest| rest.strip_suffix(");"))
        .unwrap_or_else(|| panic!("{body}"));
    let value: Value = serde_json::from_str(called).unwrap();
    assert_eq!(value["subsonic-response"]["status"], "ok");

    // The same calls by a posted form (the formPost extension), parameters in the body.
    let res = Client::new()
        .post(server.url("/rest/getMusicFolders.view"))
        .form(&[("f", "json"), ("c", "test")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let value: Value = res.json().await.unwrap();
    assert_eq!(
        value["subsonic-response"]["musicFolders"]["musicFolder"][0]["id"],
        1
    );
}

#[tokio::test]
async fn the_extensions_are_listed_without_credentials() {
    let fixture = Fixture::new();
    let server = server(&fixture, true).await;
    let answer = json(&server, "getOpenSubsonicExtensions").await;
    assert_eq!(answer["status"], "ok", "{answer}");
    assert_eq!(
        answer["openSubsonicExtensions"],
        serde_json::json!([
            { "name": "apiKeyAuthentication", "versions": [1] },
            { "name": "formPost", "versions": [1] },
            { "name": "songLyrics", "versions": [1] },
            { "name": "transcodeOffset", "versions": [1] },
        ])
    );
    let (_, _, xml) = get(&server, "getOpenSubsonicExtensions.view").await;
    assert!(
        xml.contains("<openSubsonicExtensions name=\"formPost\"><versions>1</versions></openSubsonicExtensions>"),
        "{xml}"
    );
    // Anything else needs them.
    assert_eq!(code(&server, "ping").await, 10);
}

#[tokio::test]
async fn a_password_is_checked_once_then_known_and_other_mechanisms_get_their_codes() {
    let fixture = Fixture::new();
    let server = server(&fixture, true).await;
    let enc: String = PASSWORD.bytes().map(|b| format!("{b:02x}")).collect();
    let plain = format!("ping?u=alice&p={}", PASSWORD.replace(' ', "%20"));
    assert_eq!(json(&server, &plain).await["status"], "ok");
    assert_eq!(
        json(&server, &format!("ping?u=alice&p=enc:{enc}")).await["status"],
        "ok"
    );
    assert_eq!(code(&server, "ping?u=alice&p=wrong").await, 40);
    assert_eq!(code(&server, "ping?u=nobody&p=wrong").await, 40);
    assert_eq!(code(&server, "ping?u=alice&p=enc:zz").await, 40);
    assert_eq!(code(&server, "ping?u=alice").await, 10);
    assert_eq!(code(&server, "ping?p=wrong").await, 10);
    assert_eq!(code(&server, "ping?u=alice&t=abc&s=def").await, 41);
    assert_eq!(code(&server, "ping?apiKey=abc").await, 44);
    assert_eq!(code(&server, "ping?u=alice&p=x&t=abc&s=def").await, 43);
    assert_eq!(code(&server, "ping?apiKey=abc&u=alice&p=x").await, 43);

    // Past the sign-in page's burst of failures, the address waits; a password verified before
    // is still known (an app that is signed in keeps working).
    let mut throttled = None;
    for _ in 0..8 {
        let answer = json(&server, "ping?u=alice&p=wrong-again").await;
        let message = answer["error"]["message"].as_str().unwrap().to_owned();
        if message.contains("try again") {
            throttled = Some(answer["error"]["code"].as_i64().unwrap());
            break;
        }
    }
    assert_eq!(throttled, Some(0), "failed sign-ins are throttled");
    assert_eq!(json(&server, &plain).await["status"], "ok");
}

/// Token authentication without an app password (41) and an unknown API key (44) say where keys
/// and app passwords are made; other faults point nowhere.
#[tokio::test]
async fn the_faults_a_key_mends_point_at_the_apps_page() {
    let fixture = Fixture::new();
    let server = server(&fixture, true).await;
    let apps = format!("http://{}/#/apps", server.addr);
    for call in ["ping?u=alice&t=abc&s=def", "ping?apiKey=abc"] {
        assert_eq!(
            json(&server, call).await["error"]["helpUrl"],
            *apps,
            "{call}"
        );
    }
    let (_, _, xml) = get(&server, "ping.view?apiKey=abc").await;
    assert!(xml.contains(&format!("helpUrl=\"{apps}\"")), "{xml}");
    let wrong = json(&server, "ping?u=alice&p=wrong").await;
    assert!(wrong["error"].get("helpUrl").is_none(), "{wrong}");
}

#[tokio::test]
async fn unknown_unsupported_and_hostile_calls_get_an_error_code_never_a_5xx() {
    let fixture = Fixture::new();
    let server = server(&fixture, false).await;
    assert_eq!(code(&server, "noSuchMethod").await, 0);
    let answer = json(&server, "getPodcasts.view").await;
    assert_eq!(answer["error"]["code"], 0);
    assert!(
        answer["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not supported"),
        "{answer}"
    );
    for call in [
        "",
        "ping/extra",
        "%FF%FE?x=%FF",
        "ping?f=json&f=xml&u=%FF&p=%00",
        "ping?callback=%3C/script%3E&f=jsonp",
        "getMusicFolders?musicFolderId=-1&count=99999999999999999999",
        &format!("ping?{}", "a=1&".repeat(2000)),
        "ping?u=alice'%20OR%201=1--",
    ] {
        let (status, kind, body) = get(&server, call).await;
        assert_eq!(status, StatusCode::OK, "{call}: {body}");
        assert!(
            kind.starts_with("text/xml") || kind == "application/json",
            "{call}: {kind}"
        );
        assert!(body.contains("subsonic-response"), "{call}: {body}");
    }
    // A hostile callback is never written into a script.
    let (_, kind, body) = get(&server, "ping?f=jsonp&callback=alert(1)//").await;
    assert_eq!(kind, "application/json");
    assert!(!body.contains("alert"));
    // Another method: 405 with the envelope.
    let res = Client::new()
        .put(server.url("/rest/ping"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(res.text().await.unwrap().contains("status=\"failed\""));
    // A form too large to read.
    let res = Client::new()
        .post(server.url("/rest/ping?f=json"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![b'a'; 300 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let value: Value = res.json().await.unwrap();
    assert_eq!(value["subsonic-response"]["status"], "failed");
}

/// `GET /rest/<call>`: the status, the `ETag` and the body's bytes.
async fn bytes(
    server: &TestServer,
    call: &str,
    range: Option<&str>,
) -> (StatusCode, String, Vec<u8>) {
    let mut req = Client::new().get(server.url(call));
    if let Some(range) = range {
        req = req.header("range", range);
    }
    let res = req.send().await.unwrap();
    let etag = res
        .headers()
        .get("etag")
        .map_or(String::new(), |v| v.to_str().unwrap().to_owned());
    (res.status(), etag, res.bytes().await.unwrap().to_vec())
}

/// A server with users on `fixture` (whose one track is `one`): it, the track's id, and alice's
/// credentials for a query.
async fn one_track(fixture: &Fixture) -> (TestServer, String, String) {
    let server = server(fixture, true).await;
    let id = server
        .state
        .library
        .snapshot()
        .find("one")
        .unwrap()
        .id
        .clone();
    let auth = format!("u=alice&p={}", PASSWORD.replace(' ', "%20"));
    (server, id, auth)
}

#[tokio::test]
async fn stream_and_download_send_the_file_or_its_transcode_by_id_with_ranges() {
    let fixture = Fixture::new();
    let wav = fixture.wav("one.wav", 3.0);
    let (server, id, auth) = one_track(&fixture).await;
    for call in ["stream", "stream.view", "download", "download.view"] {
        let (status, _, body) = bytes(&server, &format!("/rest/{call}?id={id}&{auth}"), None).await;
        assert_eq!(status, StatusCode::OK, "{call}");
        assert!(body == wav, "{call}: the file's bytes");
    }
    let (status, _, body) = bytes(
        &server,
        &format!("/rest/stream?id={id}&{auth}"),
        Some("bytes=100-199"),
    )
    .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert!(body == wav[100..200]);
    // Raw is the original whatever the rate; download never transcodes.
    for call in [
        "stream?format=raw&maxBitRate=64",
        "download?format=opus&maxBitRate=64",
    ] {
        let (_, _, body) = bytes(&server, &format!("/rest/{call}&id={id}&{auth}"), None).await;
        assert!(body == wav, "{call}");
    }
    // A transcode is the one /audio/ makes (same bytes, same ETag): asked by format, or by a
    // rate under the original's (this WAV's 128 kbit/s).
    // (/audio/ asked of a server on the same folder without users: this one wants a session.)
    let open = self::server(&fixture, false).await;
    let (_, want_tag, want) = bytes(&open, "/audio/one?format=opus&bitrate=64", None).await;
    assert!(want_tag.ends_with("-opus64\""), "{want_tag}");
    for call in [
        "stream?format=opus&maxBitRate=64",
        "stream?maxBitRate=64",
        "stream?format=flv&maxBitRate=64",
    ] {
        let (status, tag, body) =
            bytes(&server, &format!("/rest/{call}&id={id}&{auth}"), None).await;
        assert_eq!(status, StatusCode::OK, "{call}");
        assert_eq!(tag, want_tag, "{call}");
        assert!(body == want, "{call}");
    }
    let (_, mp3_tag, _) = bytes(
        &server,
        &format!("/rest/stream?format=mp3&id={id}&{auth}"),
        None,
    )
    .await;
    assert!(mp3_tag.ends_with("-mp3192\""), "{mp3_tag}");
    assert_eq!(code(&server, &format!("stream?{auth}")).await, 10);
    assert_eq!(
        code(&server, &format!("stream?id=tr-0000000000000000&{auth}")).await,
        70
    );
    assert_eq!(code(&server, &format!("download?id={id}")).await, 10);
    assert_eq!(
        code(&server, &format!("stream?id={id}&u=alice&p=wrong")).await,
        40
    );
}

/// `timeOffset` (the `transcodeOffset` extension) starts a transcode that many seconds in, as a
/// file of its own: exactly the rest of the track when decoded, ranges of the same bytes, its own
/// ETag; past the end, the last part second. A stream that would be the original is made into Opus
/// for it; `raw` and `download` ignore it.
#[tokio::test]
async fn time_offset_starts_a_transcode_that_far_in() {
    if !testkit::installed("the timeOffset test", &["/usr/bin/ffmpeg"], "ffmpeg") {
        return;
    }
    let fixture = Fixture::new();
    let wav = fixture.wav("one.wav", 5.5);
    let (server, id, auth) = one_track(&fixture).await;
    let call = |query: &str| format!("/rest/stream?id={id}&{auth}&{query}");
    let out = tempfile::tempdir().unwrap();
    let decoded = |body: &[u8]| -> Vec<f64> {
        let file = out.path().join("made");
        std::fs::write(&file, body).unwrap();
        testkit::decoded(&file).into_iter().map(f64::from).collect()
    };
    // How alike two stretches of the (noise) track are: near 1 at the same point, near 0 apart.
    let alike = |a: &[f64], b: &[f64]| {
        let dot = |x: &[f64], y: &[f64]| x.iter().zip(y).map(|(x, y)| x * y).sum::<f64>();
        dot(a, b) / (dot(a, a) * dot(b, b)).sqrt()
    };
    for (query, whole, etag_end, seconds_in) in [
        (
            "format=mp3&timeOffset=2",
            "format=mp3",
            "-mp3192-from2\"",
            2,
        ),
        ("timeOffset=2", "format=opus", "-opus128-from2\"", 2),
        (
            "format=opus&maxBitRate=64&timeOffset=4",
            "format=opus&maxBitRate=64",
            "-opus64-from4\"",
            4,
        ),
        (
            "format=mp3&timeOffset=3600",
            "format=mp3",
            "-mp3192-from5\"",
            5,
        ),
    ] {
        let (status, tag, body) = bytes(&server, &call(query), None).await;
        assert_eq!(status, StatusCode::OK, "{query}");
        assert!(tag.ends_with(etag_end), "{query}: {tag}");
        let got = decoded(&body);
        let (_, _, whole) = bytes(&server, &call(whole), None).await;
        let whole = decoded(&whole);
        assert_eq!(whole.len(), 5 * 48_000 + 24_000, "{query}: the whole track");
        let skipped = seconds_in * 48_000;
        assert!(
            got.len().abs_diff(whole.len() - skipped) <= 1,
            "{query}: {} samples, the rest of the track is {}",
            got.len(),
            whole.len() - skipped
        );
        // The same sound as the whole transcode's from that second (past the first 50 ms, where
        // a pipeline starting cold differs).
        let span = 2_400..got.len().min(24_000);
        let shifted = span.start + skipped..span.end + skipped;
        let same = alike(&got[span.clone()], &whole[shifted]);
        assert!(
            same > 0.9,
            "{query}: {same:.2} alike to the track from {seconds_in} s"
        );
        let from = body.len() / 3;
        let (status, range_tag, tail) =
            bytes(&server, &call(query), Some(&format!("bytes={from}-"))).await;
        assert_eq!((status, range_tag), (StatusCode::PARTIAL_CONTENT, tag));
        assert!(
            tail == body[from..],
            "{query}: a range differs from the whole"
        );
    }
    for path in [
        call("format=raw&timeOffset=2"),
        format!("/rest/download?id={id}&{auth}&timeOffset=2"),
    ] {
        let (status, _, body) = bytes(&server, &path, None).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(body == wav, "{path}: the file");
    }
    for bad in ["soon", "-1", "1.5"] {
        assert_eq!(
            code(&server, &call(&format!("timeOffset={bad}"))[6..]).await,
            0,
            "{bad}"
        );
    }
}

/// Runs `audio-streamer user <args>` on `fixture`'s users file and data; its standard output.
pub(super) fn user_command(fixture: &Fixture, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_audio-streamer"))
        .arg("--users")
        .arg(fixture.root().join("users"))
        .arg("--data-dir")
        .arg(fixture.root().join("data"))
        .arg("user")
        .args(args)
        .output()
        .expect("the binary runs");
    assert!(
        out.status.success(),
        "user {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[tokio::test]
async fn apps_sign_in_with_api_keys_and_app_passwords_made_by_the_user_command() {
    let fixture = Fixture::new();
    let server = server(&fixture, true).await;
    let made = user_command(&fixture, &["key", "alice", "--label", "phone"]);
    let key = made.lines().last().unwrap().trim().to_owned();
    assert_eq!(key.len(), 64, "{made}");
    let answer = json(&server, &format!("getUser?username=alice&apiKey={key}")).await;
    assert_eq!(answer["status"], "ok", "{answer}");
    assert_eq!(
        code(&server, &format!("ping?apiKey={key}&u=alice")).await,
        43
    );
    assert_eq!(code(&server, &format!("ping?apiKey={key}x")).await, 44);

    // Token authentication: 41 until the user has an app password, then MD5 of it and the salt.
    let made = user_command(&fixture, &["app-password", "alice", "--label", "car"]);
    let secret = made.lines().last().unwrap().trim().to_owned();
    let token =
        |salt: &str| hex::encode(<md5::Md5 as md5::Digest>::digest(format!("{secret}{salt}")));
    let signed = format!("ping?u=alice&t={}&s=a1b2c3", token("a1b2c3"));
    assert_eq!(json(&server, &signed).await["status"], "ok");
    assert_eq!(
        code(
            &server,
            &format!("ping?u=alice&t={}&s=other", token("a1b2c3"))
        )
        .await,
        40,
        "the token of another salt"
    );
    assert_eq!(code(&server, "ping?u=alice&t=abc").await, 10);
    // The app password works as `p` too, and the login password still does.
    assert_eq!(
        json(&server, &format!("ping?u=alice&p={secret}")).await["status"],
        "ok"
    );
    let login = format!("ping?u=alice&p={}", PASSWORD.replace(' ', "%20"));
    assert_eq!(json(&server, &login).await["status"], "ok");

    // Neither is kept in the clear. Read by another process: closing a file of the database in
    // this one (the server's) would drop the locks its SQLite connections hold on it, and another
    // process's SQLite, finding none, would take the write-ahead log for its own and delete it.
    let data = fixture.root().join("data");
    let found = std::process::Command::new("grep")
        .args(["-s", "-l", "-a", "-F", "-e", &key, "-e", &secret])
        .arg(data.join("audio-streamer.db"))
        .arg(data.join("audio-streamer.db-wal"))
        .output()
        .expect("grep runs");
    assert_eq!(String::from_utf8_lossy(&found.stdout), "");
    assert!(data.join("audio-streamer.db").exists());

    // Listed with their last use, and revoked.
    let listed = user_command(&fixture, &["keys", "alice"]);
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 2, "{listed}");
    assert!(
        lines[0].contains("api-key") && lines[0].contains("phone") && lines[0].contains("used")
    );
    assert!(!lines[0].contains("never used"), "{listed}");
    let id = |line: &str| line.split_whitespace().next().unwrap().to_owned();
    user_command(&fixture, &["revoke", "alice", &id(lines[0])]);
    user_command(&fixture, &["revoke", "alice", &id(lines[1])]);
    assert_eq!(code(&server, &format!("ping?apiKey={key}")).await, 44);
    assert_eq!(code(&server, &signed).await, 41);
    assert!(user_command(&fixture, &["keys", "alice"]).trim().is_empty());
}
