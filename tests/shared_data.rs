//! Replicas sharing one real PostgreSQL (Debian's, started by the test in a temp folder) behind the
//! real nginx: what a listener saves through one replica is read through the other; signing out
//! and the login throttle count on every replica; and with PostgreSQL stopped, streaming, the page
//! and browsing go on while the listener's data answers 503 until it is back.

use std::time::{Duration, Instant};

use audio_streamer::auth::Users;
use audio_streamer::config::Database;
use reqwest::redirect::Policy;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use testkit::{Fixture, Nginx, Postgres, Tagger, TestServer};

const PASSWORD: &str = "correct horse battery";

/// Two replicas of one library, users and session key, on `postgres`.
async fn replicas(fixture: &Fixture, postgres: &Postgres) -> (TestServer, TestServer) {
    let users = fixture.root().join("users");
    if !users.exists() {
        let mut list = Users::default();
        list.add("alice", PASSWORD).unwrap();
        list.write(&users).unwrap();
        std::fs::write(fixture.root().join("session.key"), [9u8; 64]).unwrap();
    }
    let mut config = fixture.config();
    config.access = Some(audio_streamer::config::Access {
        users,
        session_key_file: Some(fixture.root().join("session.key")),
    });
    config.database = Database::Postgres(postgres.url());
    (
        TestServer::start(&config).await,
        TestServer::start(&config).await,
    )
}

fn library() -> (Fixture, Vec<u8>) {
    let fixture = Fixture::new();
    let bytes = fixture.wav("one.wav", 0.5);
    Tagger::default()
        .title("One")
        .artist("Quartet")
        .album("Blue")
        .save(&fixture.audio_dir().join("one.wav"));
    let bytes = std::fs::read(fixture.audio_dir().join("one.wav")).unwrap_or(bytes);
    (fixture, bytes)
}

fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

async fn sign_in(client: &Client, url: String, password: &str) -> StatusCode {
    client
        .post(url)
        .form(&[("name", "alice"), ("password", password)])
        .send()
        .await
        .unwrap()
        .status()
}

async fn json_of(res: reqwest::Response) -> (StatusCode, Value) {
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn what_one_replica_saves_the_other_reads_and_sign_outs_and_throttles_are_shared() {
    let Some(postgres) = Postgres::start() else {
        return;
    };
    if !Nginx::installed() {
        return;
    }
    let (fixture, _) = library();
    let (a, b) = replicas(&fixture, &postgres).await;
    let nginx = Nginx::start(&[a.addr, b.addr]);

    // Signed in through nginx, a session works on both replicas (one session key).
    let client = browser();
    assert_eq!(
        sign_in(&client, nginx.url("/login"), PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    let (_, tracks) = json_of(client.get(a.url("/api/tracks")).send().await.unwrap()).await;
    let track = tracks[0]["id"].as_str().unwrap().to_owned();

    // Starred on A, read on B; a playlist made on B, appended to on A, read through nginx.
    let res = client
        .put(a.url(&format!("/api/stars/{track}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (_, stars) = json_of(client.get(b.url("/api/stars")).send().await.unwrap()).await;
    assert!(stars["tracks"][&track].is_u64(), "B sees A's star: {stars}");
    let (status, made) = json_of(
        client
            .post(b.url("/api/playlists"))
            .json(&json!({"name": "shared", "tracks": [track]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let path = format!("/api/playlists/{}", made["id"].as_str().unwrap());
    let res = client
        .patch(a.url(&path))
        .json(&json!({"append": [track]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (_, list) = json_of(client.get(nginx.url(&path)).send().await.unwrap()).await;
    assert_eq!(list["tracks"].as_array().unwrap().len(), 2, "{list}");
    let queue = json!({"tracks": [track], "current": track, "position_ms": 4321});
    let res = client
        .put(a.url("/api/queue"))
        .json(&queue)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let (_, queue) = json_of(client.get(b.url("/api/queue")).send().await.unwrap()).await;
    assert_eq!(queue["position_ms"], 4321, "resumed on the other replica");

    // Signed out on A: a copy of the cookie kept from before is refused by B too.
    let cookie = client_cookie(&client, &a).await;
    let copy = Client::new();
    let before = copy
        .get(b.url("/api/stars"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        before.status(),
        StatusCode::OK,
        "the copy works on B before"
    );
    let res = client.post(a.url("/logout")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let status = copy
            .get(b.url("/api/stars"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .status();
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "B still takes the signed-out cookie: {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Login attempts from one address count on both replicas: two sign-ins so far (through
    // nginx, then on A), three wrong passwords spread over B, A and B fill the burst of five, and
    // the sixth attempt is throttled on either replica.
    let guesser = browser();
    for (i, server) in [&b, &a, &b].into_iter().enumerate() {
        let status = sign_in(&guesser, server.url("/login"), "wrong").await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "wrong attempt {}", i + 1);
    }
    for server in [&a, &b] {
        let status = sign_in(&guesser, server.url("/login"), PASSWORD).await;
        assert_eq!(
            status,
            StatusCode::TOO_MANY_REQUESTS,
            "throttled on {}",
            server.addr
        );
    }
}

/// The session cookie `client` holds for `server`, as a `Cookie` header.
async fn client_cookie(client: &Client, server: &TestServer) -> String {
    // The cookie store does not hand its cookies out; sign in once more to read a fresh one.
    let res = client
        .post(server.url("/login"))
        .form(&[("name", "alice"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let set = res.headers()["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

#[tokio::test]
async fn with_postgres_stopped_streams_and_browsing_go_on_and_the_data_answers_503_until_it_is_back()
 {
    let Some(mut postgres) = Postgres::start() else {
        return;
    };
    let (fixture, bytes) = library();
    let (a, _b) = replicas(&fixture, &postgres).await;
    let client = browser();
    assert_eq!(
        sign_in(&client, a.url("/login"), PASSWORD).await,
        StatusCode::SEE_OTHER
    );
    let (_, tracks) = json_of(client.get(a.url("/api/tracks")).send().await.unwrap()).await;
    let track = tracks[0]["id"].as_str().unwrap().to_owned();
    let star = a.url(&format!("/api/stars/{track}"));
    assert_eq!(
        client.put(&star).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );

    postgres.stop();
    let started = Instant::now();
    let res = client.get(a.url("/api/stars")).send().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered in {:?}",
        started.elapsed()
    );
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "5");
    let (_, body) = json_of(res).await;
    assert!(
        body["error"].as_str().unwrap().contains("unavailable"),
        "{body}"
    );
    assert_eq!(
        client.put(&star).send().await.unwrap().status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    // What needs no database goes on: the track, the page, browsing.
    let audio = client.get(a.url("/audio/one")).send().await.unwrap();
    assert_eq!(audio.status(), StatusCode::OK);
    assert_eq!(audio.bytes().await.unwrap(), bytes);
    assert_eq!(
        client.get(a.url("/")).send().await.unwrap().status(),
        StatusCode::OK
    );
    assert_eq!(
        client
            .get(a.url("/api/albums"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    let ready = reqwest::get(a.url("/readyz")).await.unwrap();
    let text = ready.text().await.unwrap();
    assert!(
        text.contains("PostgreSQL"),
        "/readyz names the database: {text}"
    );

    // Back: the same server, with no restart, reads and writes again.
    postgres.start_again();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let res = client.get(a.url("/api/stars")).send().await.unwrap();
        if res.status() == StatusCode::OK {
            let (_, stars) = json_of(res).await;
            assert!(
                stars["tracks"][&track].is_u64(),
                "the star from before: {stars}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "not back: {}", res.status());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        client.delete(&star).send().await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
}
