//! The binary's start-up: bad configuration ends with one clear line and a non-zero exit.

use std::process::{Command, Stdio};

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_audio-streamer"))
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .output()
        .expect("binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_missing_audio_folder_is_one_line_and_exit_1() {
    let (code, stderr) = run(&["--audio-dir", "/no/such/folder", "--port", "0"]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("cannot read audio folder /no/such/folder"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
}

#[test]
fn an_audio_folder_that_is_a_file_is_rejected() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let (code, stderr) = run(&["--audio-dir", file.path().to_str().unwrap(), "--port", "0"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("is not a directory"), "{stderr}");
}

#[test]
fn a_port_in_use_is_one_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, stderr) = run(&["--audio-dir", dir.path().to_str().unwrap(), "--port", &port]);
    assert_eq!(code, 1, "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("error"))
        .unwrap_or_default();
    assert!(
        line.contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{stderr}"
    );
    assert!(line.contains("in use"), "{stderr}");
    assert!(!stderr.contains("panicked"));
}

#[test]
fn invalid_flag_values_exit_2_with_the_reason() {
    for (args, reason) in [
        (&["--port", "http"][..], "--port"),
        (&["--bind", "not-an-ip"], "--bind"),
        (&["--stats-interval-ms", "0"], "--stats-interval-ms"),
    ] {
        let (code, stderr) = run(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: invalid value"), "{stderr}");
        assert!(stderr.contains(reason), "{stderr}");
    }
}

#[test]
fn env_vars_configure_like_flags() {
    let out = Command::new(env!("CARGO_BIN_EXE_audio-streamer"))
        .env("AUDIO_STREAMER_AUDIO_DIR", "/no/such/env/folder")
        .env("AUDIO_STREAMER_PORT", "0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/env/folder"));
}
