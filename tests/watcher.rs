//! The library follows the folder while the server runs: files added, removed, renamed and replaced
//! show up without a restart or a reload, open pages are told over `/events`, and a file still being
//! written is not listed until it stops growing.

use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use testkit::{Fixture, TestServer};

/// Waits (bounded) until the library's track names equal `want`.
async fn wait_names(server: &TestServer, want: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let names: Vec<String> = server
            .state
            .library
            .snapshot()
            .tracks()
            .iter()
            .map(|t| t.name.clone())
            .collect();
        if names == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "library is {names:?}, want {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
async fn added_removed_renamed_and_replaced_files_show_up_without_a_request() {
    let fixture = Fixture::new();
    fixture.wav("one.wav", 0.1);
    let server = TestServer::start(&fixture.config()).await;
    let dir = fixture.audio_dir();

    fixture.wav("two.wav", 0.1);
    wait_names(&server, &["one", "two"]).await;

    std::fs::create_dir(dir.join("live")).unwrap();
    fixture.wav("live/three.wav", 0.1);
    wait_names(&server, &["one", "two", "live/three"]).await;
    // The new folder is watched from then on: a file added to it later shows too.
    fixture.wav("live/four.wav", 0.1);
    wait_names(&server, &["one", "two", "live/four", "live/three"]).await;

    std::fs::rename(dir.join("two.wav"), dir.join("deux.wav")).unwrap();
    wait_names(&server, &["deux", "one", "live/four", "live/three"]).await;

    std::fs::remove_file(dir.join("one.wav")).unwrap();
    wait_names(&server, &["deux", "live/four", "live/three"]).await;

    let bigger = testkit::noise_wav(0.5, 7);
    std::fs::write(dir.join(".deux.part"), &bigger).unwrap();
    std::fs::rename(dir.join(".deux.part"), dir.join("deux.wav")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while server.state.library.snapshot().get("deux").unwrap().size != bigger.len() as u64 {
        assert!(
            Instant::now() < deadline,
            "the replaced file's new size never showed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
async fn open_pages_are_told_when_the_track_list_changes() {
    let fixture = Fixture::new();
    let server = TestServer::start(&fixture.config()).await;
    let res = reqwest::get(server.url("/events")).await.unwrap();
    let mut body = res.bytes_stream();
    // Let the subscription start before the change.
    let first = body.next().await.unwrap().unwrap();
    assert!(!first.is_empty());
    fixture.wav("new.wav", 0.1);
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !text.contains("event: library\ndata: ") {
        let chunk = tokio::time::timeout_at(deadline, body.next())
            .await
            .expect("a library event within 10 s")
            .unwrap()
            .unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
}

#[actix_web::test]
async fn a_file_still_being_written_is_listed_only_once_complete() {
    let fixture = Fixture::new();
    let server = TestServer::start(&fixture.config()).await;
    let full = testkit::noise_wav(2.0, 11);
    let path = fixture.audio_dir().join("copying.wav");
    let mut file = std::fs::File::create(&path).unwrap();
    // Written in ten pieces, 100 ms apart: a copy in progress.
    for piece in full.chunks(full.len() / 10 + 1) {
        use std::io::Write as _;
        file.write_all(piece).unwrap();
        file.flush().unwrap();
        if let Some(track) = server.state.library.snapshot().get("copying") {
            panic!(
                "listed half-written at {} of {} bytes",
                track.size,
                full.len()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(file);
    wait_names(&server, &["copying"]).await;
    assert_eq!(
        server.state.library.snapshot().get("copying").unwrap().size,
        full.len() as u64
    );
}
