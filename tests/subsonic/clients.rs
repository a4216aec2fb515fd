//! Real Subsonic client libraries, installed from their registries into `tests/clients/` (a
//! Python venv and `node_modules`, by `.ci/run`), against a real server: `py-opensonic` with an
//! API key (JSON over posted forms, `.view`), `py-sonic` with token authentication (an app
//! password) and with the login password, and npm's `subsonic-api` with a token by GET and an API
//! key by POST. Each browses, syncs with an empty `search3`, streams or downloads a song and
//! compares its bytes with the file, stars, makes a playlist and saves a play queue.
//!
//! Without the clients installed this says how to install them and is skipped, except under
//! `CI=true`.

use std::path::{Path, PathBuf};
use std::process::Command;

use testkit::{Fixture, Tagger};

use super::protocol::user_command;
use super::server;

const CLIENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients");

/// Whether the clients are installed; says how to install them when not (panics under CI=true).
fn installed() -> bool {
    let dir = Path::new(CLIENTS);
    let missing: Vec<&str> = [
        ("venv/bin/python", "the Python venv"),
        ("node_modules/subsonic-api/package.json", "node_modules"),
    ]
    .into_iter()
    .filter(|(path, _)| !dir.join(path).exists())
    .map(|(_, what)| what)
    .chain(
        (!Path::new("/usr/bin/node").exists()).then_some("Node.js (apt-get install -y nodejs npm)"),
    )
    .collect();
    if missing.is_empty() {
        return true;
    }
    let hint = format!(
        "the Subsonic client tests skipped: {} missing (python3 -m venv tests/clients/venv && \
         tests/clients/venv/bin/pip install -r tests/clients/requirements.txt && \
         (cd tests/clients && npm ci), as .ci/run does)",
        missing.join(", ")
    );
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "CI=true: {hint}"
    );
    eprintln!("{hint}");
    false
}

/// The album "Blue" by Quartet (two songs) and one loose file; the first song's path.
fn library() -> (Fixture, PathBuf) {
    let fixture = Fixture::new();
    for (file, title, number) in [("blue/a.wav", "First", 1), ("blue/b.wav", "Second", 2)] {
        fixture.wav(file, 0.5);
        Tagger::default()
            .title(title)
            .artist("Quartet")
            .album("Blue")
            .track(number)
            .save(&fixture.audio_dir().join(file));
    }
    fixture.wav("loose.wav", 0.3);
    let first = fixture.audio_dir().join("blue/a.wav");
    (fixture, first)
}

/// Runs `program` with `args` in the clients' folder, off the runtime the server runs on; panics
/// with its output if it fails.
async fn run(program: &str, args: &[&str]) -> String {
    let (program, args): (String, Vec<String>) = (
        program.to_owned(),
        args.iter().map(|&a| a.to_owned()).collect(),
    );
    let (program, args, out) = tokio::task::spawn_blocking(move || {
        let out = Command::new(&program)
            .args(&args)
            .current_dir(CLIENTS)
            .output()
            .unwrap_or_else(|err| panic!("{program} runs: {err}"));
        (program, args, out)
    })
    .await
    .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{program} {args:?}:\n{said}");
    assert!(said.lines().any(|line| line == "ok"), "{said}");
    said
}

#[tokio::test]
async fn python_and_node_clients_browse_sync_stream_star_and_keep_playlists_and_queues() {
    if !installed() {
        return;
    }
    let (fixture, first) = library();
    let server = server(&fixture, true).await;
    let secret = |made: String| made.lines().last().unwrap().trim().to_owned();
    let key = secret(user_command(
        &fixture,
        &["key", "alice", "--label", "tests"],
    ));
    let app_password = secret(user_command(&fixture, &["app-password", "alice"]));
    let base = "http://127.0.0.1";
    let port = server.addr.port().to_string();
    let url = format!("{base}:{port}");
    let file = first.to_str().unwrap();
    let python = format!("{CLIENTS}/venv/bin/python");

    run(&python, &["opensonic_client.py", base, &port, &key, file]).await;
    run(
        &python,
        &[
            "pysonic_client.py",
            base,
            &port,
            "alice",
            &app_password,
            super::PASSWORD,
            file,
        ],
    )
    .await;
    run(
        "node",
        &[
            "subsonic_api_client.mjs",
            &url,
            "alice",
            &app_password,
            &key,
            file,
        ],
    )
    .await;
}
