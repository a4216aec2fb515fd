//! The catalog and a listener's own data over HTTP, on the real server with its default SQLite
//! file: browsing albums, artists and genres; stars, ratings, plays, playlists, the queue and
//! bookmarks kept across a restart; and every kind of bad input answered with a 4xx.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use testkit::{Fixture, Tagger, TestServer};

/// A library of two albums by two artists, plus one untagged file:
/// "Blue" by Quartet (tracks 2 then 1 on disc 1, 1 on disc 2) and "Red" by Trio.
fn library() -> Fixture {
    let fixture = Fixture::new();
    for (file, title, artist, album, disc, number) in [
        ("blue/b.wav", "Second", "Quartet", "Blue", 1, 2),
        ("blue/a.wav", "First", "Quartet", "Blue", 1, 1),
        ("blue/c.wav", "Encore", "Quartet", "Blue", 2, 1),
        ("red/x.wav", "Only", "Trio", "Red", 1, 1),
    ] {
        fixture.wav(file, 0.2);
        Tagger::default()
            .title(title)
            .artist(artist)
            .album(album)
            .disc(disc, None)
            .track(number)
            .genres(&["Jazz"])
            .save(&fixture.audio_dir().join(file));
    }
    fixture.wav("loose.wav", 0.2);
    fixture
}

async fn get(client: &Client, server: &TestServer, path: &str) -> (StatusCode, Value) {
    let res = client.get(server.url(path)).send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// Sends `body` as JSON with `method` to `path`; the status and the JSON answer, if any.
async fn send(
    client: &Client,
    server: &TestServer,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = client.request(method, server.url(path));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The ids of the tracks of the track list, by name.
async fn track_ids(
    client: &Client,
    server: &TestServer,
) -> std::collections::HashMap<String, String> {
    let (_, tracks) = get(client, server, "/api/tracks").await;
    tracks
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn albums_artists_and_genres_are_browsed_in_disc_and_track_order() {
    let fixture = library();
    let server = TestServer::start(&fixture.config()).await;
    let client = Client::new();

    let (status, albums) = get(&client, &server, "/api/albums").await;
    assert_eq!(status, StatusCode::OK);
    let albums = albums["albums"].as_array().unwrap();
    let names: Vec<&str> = albums.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["Blue", "Red"],
        "by album artist: Quartet, then Trio"
    );
    let blue = &albums[0];
    assert_eq!(blue["artist"], "Quartet");
    assert_eq!(blue["tracks"], 3);
    assert_eq!(blue["discs"], 2);
    assert_eq!(blue["genres"], json!(["Jazz"]));
    assert!(blue["id"].as_str().unwrap().starts_with("al-"));
    assert!((blue["duration_secs"].as_f64().unwrap() - 0.6).abs() < 0.05);

    let (status, page) = get(
        &client,
        &server,
        &format!("/api/albums/{}", blue["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let order: Vec<&str> = page["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["blue/a", "blue/b", "blue/c"],
        "disc 1 track 1, 2, then disc 2"
    );

    let (_, artists) = get(&client, &server, "/api/artists").await;
    let artists = artists["artists"].as_array().unwrap();
    let quartet = artists.iter().find(|a| a["name"] == "Quartet").unwrap();
    let (_, page) = get(
        &client,
        &server,
        &format!("/api/artists/{}", quartet["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(page["albums"][0]["name"], "Blue");

    let (_, genres) = get(&client, &server, "/api/genres").await;
    let jazz = &genres["genres"][0];
    assert_eq!(
        (
            jazz["name"].as_str(),
            jazz["albums"].as_u64(),
            jazz["tracks"].as_u64()
        ),
        (Some("Jazz"), Some(2), Some(4))
    );

    for path in [
        "/api/albums/al-0000000000000000",
        "/api/artists/nope",
        "/api/genres/ge-x",
        "/api/albums/%00",
    ] {
        let (status, body) = get(&client, &server, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(body["error"], "not found", "{path}");
    }
}

#[tokio::test]
async fn stars_plays_playlists_queue_and_bookmarks_outlive_a_restart() {
    let fixture = library();
    let config = fixture.config();
    let client = Client::new();
    let (first, playlist) = {
        let server = TestServer::start(&config).await;
        let ids = track_ids(&client, &server).await;
        let (_, albums) = get(&client, &server, "/api/albums").await;
        let album = albums["albums"][0]["id"].as_str().unwrap().to_owned();
        let first = ids["blue/a"].clone();
        use reqwest::Method as M;
        for path in [format!("/api/stars/{first}"), format!("/api/stars/{album}")] {
            assert_eq!(
                send(&client, &server, M::PUT, &path, None).await.0,
                StatusCode::NO_CONTENT
            );
        }
        assert_eq!(
            send(
                &client,
                &server,
                M::PUT,
                &format!("/api/ratings/{first}"),
                Some(json!({"rating": 4}))
            )
            .await
            .0,
            StatusCode::NO_CONTENT
        );
        assert_eq!(
            send(
                &client,
                &server,
                M::POST,
                "/api/plays",
                Some(json!({"track": first}))
            )
            .await
            .0,
            StatusCode::NO_CONTENT
        );
        let name = "'; DROP TABLE playlists; -- \"quoted\" ünïcode 🎷";
        let (status, made) = send(
            &client,
            &server,
            M::POST,
            "/api/playlists",
            Some(json!({"name": name, "comment": "for later", "tracks": [first, ids["red/x"]]})),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{made}");
        assert_eq!(made["name"], name, "stored as typed");
        let playlist = made["id"].as_str().unwrap().to_owned();
        let (status, edited) = send(
            &client,
            &server,
            M::PATCH,
            &format!("/api/playlists/{playlist}"),
            Some(json!({"move": {"from": 1, "to": 0}, "append": [ids["blue/c"]]})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{edited}");
        assert_eq!(edited["entries"], 3);
        let queue = json!({"tracks": [first, ids["blue/b"]], "current": ids["blue/b"], "position_ms": 1234, "client": "phone"});
        assert_eq!(
            send(&client, &server, M::PUT, "/api/queue", Some(queue))
                .await
                .0,
            StatusCode::NO_CONTENT
        );
        let mark = json!({"position_ms": 99, "comment": "the solo"});
        assert_eq!(
            send(
                &client,
                &server,
                M::PUT,
                &format!("/api/bookmarks/{first}"),
                Some(mark)
            )
            .await
            .0,
            StatusCode::NO_CONTENT
        );
        (first, playlist)
    };

    // A new server on the same data folder: everything is still there, under the same ids.
    let server = TestServer::start(&config).await;
    let ids = track_ids(&client, &server).await;
    assert_eq!(ids["blue/a"], first, "ids are the same after a restart");
    let (_, stars) = get(&client, &server, "/api/stars").await;
    assert!(stars["tracks"][&first].as_u64().unwrap() > 0, "{stars}");
    assert_eq!(stars["albums"].as_object().unwrap().len(), 1);
    let (status, list) = get(&client, &server, &format!("/api/playlists/{playlist}")).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = list["tracks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["red/x", "blue/a", "blue/c"]);
    assert_eq!(list["playlist"]["comment"], "for later");
    let (_, queue) = get(&client, &server, "/api/queue").await;
    assert_eq!(
        (
            queue["current_name"].as_str(),
            queue["position_ms"].as_u64(),
            queue["changed_by"].as_str()
        ),
        (Some("blue/b"), Some(1234), Some("phone"))
    );
    let (_, marks) = get(&client, &server, "/api/bookmarks").await;
    assert_eq!(marks["bookmarks"][0]["comment"], "the solo");

    // Unstarred and deleted, the same way.
    use reqwest::Method as M;
    assert_eq!(
        send(
            &client,
            &server,
            M::DELETE,
            &format!("/api/stars/{first}"),
            None
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        send(
            &client,
            &server,
            M::DELETE,
            &format!("/api/playlists/{playlist}"),
            None
        )
        .await
        .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        get(&client, &server, &format!("/api/playlists/{playlist}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    let (_, stars) = get(&client, &server, "/api/stars").await;
    assert!(stars["tracks"].as_object().unwrap().is_empty());
}

#[tokio::test]
async fn two_clients_appending_to_one_playlist_at_once_lose_nothing() {
    let fixture = library();
    let server = TestServer::start(&fixture.config()).await;
    let client = Client::new();
    let ids = track_ids(&client, &server).await;
    let track = ids["blue/a"].clone();
    let (_, made) = send(
        &client,
        &server,
        reqwest::Method::POST,
        "/api/playlists",
        Some(json!({"name": "both"})),
    )
    .await;
    let path = format!("/api/playlists/{}", made["id"].as_str().unwrap());
    let edits = (0..100).map(|i| {
        let (client, url, track) = (Client::new(), server.url(&path), track.clone());
        async move {
            let body = if i % 10 == 0 {
                json!({"name": format!("renamed {i}"), "append": [track]})
            } else {
                json!({"append": [track, track]})
            };
            client.patch(url).json(&body).send().await.unwrap().status()
        }
    });
    let statuses = futures_util::future::join_all(edits).await;
    assert!(
        statuses.iter().all(|s| *s == StatusCode::OK),
        "{statuses:?}"
    );
    let (_, list) = get(&client, &server, &path).await;
    assert_eq!(
        list["tracks"].as_array().unwrap().len(),
        10 + 90 * 2,
        "no append lost"
    );
    let created = made["version"].as_i64().unwrap();
    assert_eq!(
        list["playlist"]["version"],
        created + 100,
        "one version per edit"
    );
}

#[tokio::test]
async fn bad_input_gets_a_4xx_that_says_why_and_nothing_is_stored() {
    let fixture = library();
    let server = TestServer::start(&fixture.config()).await;
    let client = Client::new();
    let ids = track_ids(&client, &server).await;
    let track = ids["blue/a"].clone();
    use reqwest::Method as M;
    let many: Vec<&str> = vec![track.as_str(); 20_000];
    let rating = format!("/api/ratings/{track}");
    let cases: Vec<(M, &str, Option<Value>, StatusCode)> = vec![
        (
            M::PUT,
            "/api/stars/tr-0000000000000000",
            None,
            StatusCode::NOT_FOUND,
        ),
        (M::PUT, "/api/stars/nonsense", None, StatusCode::NOT_FOUND),
        (
            M::POST,
            "/api/plays",
            Some(json!({"track": "tr-ffffffffffffffff"})),
            StatusCode::NOT_FOUND,
        ),
        (
            M::POST,
            "/api/plays",
            Some(json!({"trak": track})),
            StatusCode::BAD_REQUEST,
        ),
        (
            M::POST,
            "/api/plays",
            Some(json!([1, 2])),
            StatusCode::BAD_REQUEST,
        ),
        (
            M::PUT,
            &rating,
            Some(json!({"rating": 6})),
            StatusCode::BAD_REQUEST,
        ),
        (
            M::PUT,
            &rating,
            Some(json!({"rating": 0})),
            StatusCode::BAD_REQUEST,
        ),
        (
            M::PUT,
            &rating,
            Some(json!({"rating": -1})),
            StatusCode::BAD_REQUEST,
        ),
        (
            M::POST,
            "/api/playlists",
            Some(json!({"name": "x".repeat(100_000)})),
            StatusCode::BAD_REQUEST,
        ),
        (
            M::POST,
            "/api/playlists",
            Some(json!({"name": ""})),
            StatusCode::BAD_REQUEST,
        ),
        (
            M::POST,
            "/api/playlists",
            Some(json!({"name": "nul\u{0}"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            M::POST,
            "/api/playlists",
            Some(json!({"name": "big", "tracks": many})),
            StatusCode::BAD_REQUEST,
        ),
        (
            M::POST,
            "/api/playlists",
            Some(json!({"name": "ghost", "tracks": ["tr-0123456789abcdef"]})),
            StatusCode::NOT_FOUND,
        ),
        (
            M::PATCH,
            "/api/playlists/pl-0000000000000000",
            Some(json!({"name": "y"})),
            StatusCode::NOT_FOUND,
        ),
        (
            M::GET,
            "/api/playlists/pl-%27%3B--",
            None,
            StatusCode::NOT_FOUND,
        ),
        (
            M::PUT,
            "/api/queue",
            Some(json!({"tracks": [track], "position_ms": "soon"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            M::PUT,
            "/api/bookmarks/tr-nope",
            Some(json!({"position_ms": 1})),
            StatusCode::NOT_FOUND,
        ),
        (M::POST, "/api/stars", None, StatusCode::METHOD_NOT_ALLOWED),
    ];
    for (method, path, body, want) in cases {
        let (status, answer) = send(&client, &server, method.clone(), path, body).await;
        assert_eq!(status, want, "{method} {path}: {answer}");
        assert!(answer["error"].is_string(), "{method} {path}: {answer}");
    }
    // Not JSON at all, the wrong type, too large.
    let raw = |body: &'static str, kind: &'static str| {
        client
            .post(server.url("/api/playlists"))
            .header("content-type", kind)
            .body(body)
            .send()
    };
    assert_eq!(
        raw("{\"name\": ", "application/json")
            .await
            .unwrap()
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        raw("name=x", "application/x-www-form-urlencoded")
            .await
            .unwrap()
            .status(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    let huge = client
        .post(server.url("/api/playlists"))
        .json(&json!({"name": "y".repeat(2 * 1024 * 1024)}))
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // From another site: refused before anything is stored.
    let res = client
        .put(server.url(&format!("/api/stars/{track}")))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (_, playlists) = get(&client, &server, "/api/playlists").await;
    assert_eq!(playlists["playlists"], json!([]), "nothing was made");
    let (_, stars) = get(&client, &server, "/api/stars").await;
    assert_eq!(stars["tracks"], json!({}), "nothing was starred");

    // Without users, apps need no credentials: none are made, and the page says so.
    let (status, apps) = get(&client, &server, "/api/apps").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        apps,
        json!({"user": null, "credentials_needed": false, "credentials": []})
    );
    for (method, path, body, want) in [
        (
            M::POST,
            "/api/apps",
            Some(json!({"kind": "api-key", "label": "phone"})),
            StatusCode::BAD_REQUEST,
        ),
        (
            M::POST,
            "/api/apps",
            Some(json!({"kind": "api-key", "label": "phone", "extra": 1})),
            StatusCode::BAD_REQUEST,
        ),
        (
            M::DELETE,
            "/api/apps/cr-0000000000000000",
            None,
            StatusCode::NOT_FOUND,
        ),
    ] {
        let (status, answer) = send(&client, &server, method, path, body).await;
        assert_eq!(status, want, "{path}: {answer}");
    }
}
