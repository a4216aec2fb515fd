//! `/healthz` and `/readyz` on the real server: ready once listed, 503 with the reason while the
//! music folder cannot be read, ready again when it is back, without a restart; open without a
//! session.

use std::time::{Duration, Instant};

use testkit::{Fixture, TestServer};

async fn get(server: &TestServer, path: &str) -> (u16, String, Option<String>) {
    let res = reqwest::get(server.url(path)).await.unwrap();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    (res.status().as_u16(), res.text().await.unwrap(), retry)
}

/// Polls `/readyz` until its status is `want` (bounded).
async fn readyz_becomes(server: &TestServer, want: u16) -> (String, Option<String>) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body, retry) = get(server, "/readyz").await;
        if status == want {
            return (body, retry);
        }
        assert!(Instant::now() < deadline, "/readyz stayed {status}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn readiness_follows_the_music_folder_and_health_does_not() {
    let fixture = Fixture::new();
    fixture.wav("one.wav", 0.05);
    let server = TestServer::start(&fixture.config()).await;
    assert_eq!(get(&server, "/healthz").await.0, 200);
    let (body, _) = readyz_becomes(&server, 200).await;
    assert_eq!(body, "ready\n");

    // The folder goes away (an unmounted disk): not ready, and why; the process is still healthy.
    let audio = fixture.audio_dir();
    let away = fixture.root().join("away");
    std::fs::rename(&audio, &away).unwrap();
    let (body, retry) = readyz_becomes(&server, 503).await;
    assert!(
        body.starts_with("not ready: cannot read audio folder"),
        "{body}"
    );
    assert_eq!(retry.as_deref(), Some("5"));
    assert_eq!(get(&server, "/healthz").await.0, 200);

    // Back: ready again, no restart.
    std::fs::rename(&away, &audio).unwrap();
    readyz_becomes(&server, 200).await;
    assert_eq!(get(&server, "/audio/one").await.0, 200);
}

#[tokio::test]
async fn health_and_readiness_need_no_session() {
    let fixture = Fixture::new();
    fixture.wav("one.wav", 0.05);
    let users = fixture.root().join("users");
    audio_streamer::auth::Users::default()
        .write(&users)
        .unwrap();
    let mut config = fixture.config();
    config.access = Some(audio_streamer::config::Access {
        users,
        session_key_file: None,
    });
    let server = TestServer::start(&config).await;
    assert_eq!(get(&server, "/api/stats").await.0, 401);
    assert_eq!(get(&server, "/healthz").await.0, 200);
    readyz_becomes(&server, 200).await;
}
