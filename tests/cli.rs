//! The binary's start-up: bad configuration ends with one clear line and a non-zero exit; a good
//! one answers at once while the library is scanned in the background.

use std::process::{Command, Stdio};

fn run(args: &[&str]) -> (i32, String) {
    // The listeners' data of a run that gets that far, never in the working tree.
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_audio-streamer"))
        .args(args)
        .env("AUDIO_STREAMER_DATA_DIR", data.path())
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
    assert_eq!(
        stderr.matches("os error").count(),
        1,
        "said twice: {stderr}"
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
fn an_unusable_data_folder_is_one_line_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), b"").unwrap();
    let data = dir.path().join("file").join("data");
    let audio = dir.path().to_str().unwrap();
    let (code, stderr) = run(&[
        "--audio-dir",
        audio,
        "--port",
        "0",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot open the listeners' data at {}",
            data.display()
        )),
        "{stderr}"
    );
    let (code, stderr) = run(&["--database", "mysql://me@db/music"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("postgres://"), "{stderr}");
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
fn unusable_tls_files_are_one_line_and_exit_1() {
    let fixture = testkit::Fixture::new();
    let (files, _) = fixture.tls();
    let (cert, key) = (files.cert.to_str().unwrap(), files.key.to_str().unwrap());
    let other = testkit::Fixture::new();
    let (other_files, _) = other.tls();
    let other_key = other_files.key.to_str().unwrap();
    let dir = fixture.audio_dir();
    let dir = dir.to_str().unwrap();
    for (cert, key, says) in [
        (cert, other_key, "cannot use the TLS certificate"),
        (
            "/no/such/cert.pem",
            key,
            "cannot read the TLS certificate /no/such/cert.pem",
        ),
        (key, key, "no certificate in"),
        (cert, cert, "cannot read the TLS key"),
    ] {
        let (code, stderr) = run(&[
            "--audio-dir",
            dir,
            "--port",
            "0",
            "--tls-cert",
            cert,
            "--tls-key",
            key,
        ]);
        assert_eq!(code, 1, "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert!(
            stderr.matches("os error").count() <= 1,
            "said twice: {stderr}"
        );
    }
    let (code, stderr) = run(&["--audio-dir", dir, "--port", "0", "--tls-cert", cert]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--tls-key"), "{stderr}");
}

/// Runs the binary with `args` and `stdin`; returns its exit code, stdout and stderr.
fn run_with_input(args: &[&str], stdin: &str) -> (i32, String, String) {
    use std::io::Write as _;
    let mut child = Command::new(env!("CARGO_BIN_EXE_audio-streamer"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // A command that reads no password may exit before its input is written: a broken pipe then.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_user_subcommand_adds_lists_and_removes_users() {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users");
    let users = users.to_str().unwrap();
    let user = |args: &[&str], stdin: &str| {
        let mut all = vec!["--users", users, "user"];
        all.extend_from_slice(args);
        run_with_input(&all, stdin)
    };
    let (code, said, _) = user(&["add", "alice"], "correct horse\n");
    assert_eq!(
        (code, said.trim()),
        (0, format!("added alice to {users}").as_str())
    );
    let (code, _, said) = user(&["add", "alice"], "again\n");
    assert_eq!(code, 1);
    assert!(said.contains("already exists"), "{said}");
    let (code, _, said) = user(&["add", "bad name"], "pw\n");
    assert_eq!(code, 1);
    assert!(said.contains("user names are"), "{said}");
    let (code, _, said) = user(&["add", "bob"], "\n");
    assert_eq!(code, 1);
    assert!(said.contains("empty"), "{said}");
    user(&["add", "carol"], "another one\n");
    let (code, said, _) = user(&["list"], "");
    assert_eq!((code, said.as_str()), (0, "alice\ncarol\n"));
    let (code, _, said) = user(&["remove", "bob"], "");
    assert_eq!(code, 1);
    assert!(said.contains("no user \"bob\""), "{said}");
    assert_eq!(user(&["remove", "alice"], "").0, 0);
    assert_eq!(user(&["list"], "").1, "carol\n");
    let text = std::fs::read_to_string(users).unwrap();
    assert!(text.contains("carol:$argon2id$") && !text.contains("another one"));

    let (code, _, said) = run_with_input(&["user", "list"], "");
    assert_eq!(code, 2);
    assert!(said.contains("needs --users"), "{said}");
    // A users file the server cannot use: one line, exit 1.
    std::fs::write(dir.path().join("bad"), "alice:plaintext\n").unwrap();
    let (code, stderr) = run(&[
        "--users",
        dir.path().join("bad").to_str().unwrap(),
        "--audio-dir",
        dir.path().to_str().unwrap(),
        "--port",
        "0",
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("bad:1: not a user line"), "{stderr}");
}

#[test]
fn listening_beyond_loopback_without_users_warns() {
    // The folder is missing, so the server stops before it binds anything.
    let args = ["--audio-dir", "/no/such/folder", "--port", "0"];
    let (_, stderr) = run(&[&args[..], &["--bind", "0.0.0.0"]].concat());
    assert!(
        stderr.contains("without --users: anyone who can reach it"),
        "{stderr}"
    );
    let (_, stderr) = run(&args);
    assert!(!stderr.contains("without --users"), "{stderr}");
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

/// Starts the binary on a free port serving `dir`; returns it once it accepts connections.
fn spawn_server(dir: &std::path::Path) -> (std::process::Child, u16) {
    spawn_logging_to(dir, Stdio::null(), &[])
}

/// Like [`spawn_server`], with the log (stderr, level `info`) sent to `log`, and more flags.
fn spawn_logging_to(
    dir: &std::path::Path,
    log: Stdio,
    flags: &[&str],
) -> (std::process::Child, u16) {
    let port = testkit::free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_audio-streamer"))
        .args(["--port", &port.to_string(), "--audio-dir"])
        .arg(dir)
        // Inside the (temporary) audio folder, which skips dot-entries.
        .arg("--data-dir")
        .arg(dir.join(".data"))
        .args(flags)
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "server did not start");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    (child, port)
}

/// Sends `signal` (`-TERM`, `-INT`) to the server, with `kill(1)`.
fn send(signal: &str, child: &std::process::Child) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {signal}");
}

fn wait_exit(child: &mut std::process::Child, within: std::time::Duration) -> Option<i32> {
    let deadline = std::time::Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if std::time::Instant::now() > deadline {
            child.kill().ok();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn sigterm_and_sigint_stop_the_server_cleanly_with_exit_0_even_with_live_clients() {
    use std::io::{Read as _, Write as _};
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("big.mp3"), vec![5u8; 16 * 1024 * 1024]).unwrap();
    for signal in ["-TERM", "-INT"] {
        let (mut child, port) = spawn_server(dir.path());
        // A paused listener and a live-stats viewer are connected when the signal arrives.
        let mut listener = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        listener
            .write_all(b"GET /audio/big HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut buf = [0u8; 1024];
        listener.read_exact(&mut buf).unwrap();
        let mut viewer = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        viewer
            .write_all(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        assert!(viewer.read(&mut buf).unwrap() > 0);

        send(signal, &child);
        // Short requests get up to 5 s to finish; streams are then ended.
        let code = wait_exit(&mut child, std::time::Duration::from_secs(15));
        assert_eq!(code, Some(0), "{signal}: exit code");
        assert!(
            std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
            "still accepting"
        );
    }
}

/// `GET path` on a fresh connection; returns the status line and body.
fn http_get(port: u16, path: &str) -> (String, String) {
    use std::io::{Read as _, Write as _};
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    conn.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (
        head.lines().next().unwrap_or("").to_owned(),
        body.to_owned(),
    )
}

#[test]
fn start_up_answers_at_once_while_the_scan_reports_progress_and_a_summary() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.mp3", "b.mp3", "c.mp3"] {
        std::fs::write(dir.path().join(name), b"ID3").unwrap();
    }
    // A file lofty needs seconds to give up on: every byte looks like the start of an MP3 frame.
    std::fs::write(dir.path().join("slow.mp3"), vec![0xFF; 8 * 1024 * 1024]).unwrap();
    let (mut child, port) = spawn_logging_to(dir.path(), Stdio::piped(), &[]);
    let (log_tx, log_rx) = std::sync::mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = log_tx.send(line);
        }
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);

    // While the slow file's tags are read, the page says so and every track already plays.
    let (status, page) = http_get(port, "/");
    assert!(status.contains("200"), "{status}");
    assert!(page.contains("· scanning"), "no scan status while scanning");
    let (status, _) = http_get(port, "/audio/a");
    assert!(
        status.contains("200"),
        "a listed file plays mid-scan: {status}"
    );

    let mut log = Vec::new();
    let summary = loop {
        let line = log_rx
            .recv_timeout(deadline.saturating_duration_since(std::time::Instant::now()))
            .unwrap_or_else(|_| panic!("no summary in the log: {log:#?}"));
        log.push(line.clone());
        if line.contains("library: ") {
            break line;
        }
    };
    assert!(
        summary.contains("4 tracks") && summary.contains("read 4 files"),
        "{summary}"
    );
    assert!(
        log.iter()
            .any(|l| l.contains("scanning ") && l.contains(" of 4 files")),
        "a scan of over a second logs its progress: {log:#?}"
    );
    let (_, page) = http_get(port, "/");
    assert!(!page.contains("· scanning"), "scan status after the scan");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn a_fifo_or_a_folder_in_a_tracks_place_is_404_and_holds_up_no_one_even_with_one_worker() {
    use std::io::{Read as _, Write as _};
    use std::time::{Duration, Instant};
    let dir = tempfile::tempdir().unwrap();
    let big = testkit::noise_wav(600.0, 3); // 9.6 MB
    std::fs::write(dir.path().join("big.wav"), &big).unwrap();
    for name in ["fifo.wav", "folder.wav"] {
        std::fs::write(dir.path().join(name), testkit::noise_wav(0.5, 4)).unwrap();
    }
    let (mut child, port) = spawn_logging_to(dir.path(), Stdio::null(), &["--workers", "1"]);
    // A listener takes the first bytes of a long track, then pauses.
    let mut listener = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    listener
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    listener
        .write_all(b"GET /audio/big HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut received = vec![0u8; 4096];
    listener.read_exact(&mut received).unwrap();

    // Between scans, one track becomes a FIFO (opening it for reading would wait for a writer
    // forever) and another a folder.
    let fifo = dir.path().join("fifo.wav");
    std::fs::remove_file(&fifo).unwrap();
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let folder = dir.path().join("folder.wav");
    std::fs::remove_file(&folder).unwrap();
    std::fs::create_dir(&folder).unwrap();
    for path in [
        "/audio/fifo",
        "/audio/folder",
        "/audio/fifo",
        "/audio/folder",
    ] {
        let asked = Instant::now();
        let (status, _) = http_get(port, path);
        assert!(status.contains(" 404 "), "{path}: {status}");
        assert!(
            asked.elapsed() < Duration::from_secs(3),
            "{path} took {:?}",
            asked.elapsed()
        );
    }
    let (status, body) = http_get(port, "/api/stats");
    assert!(
        status.contains(" 200 ") && body.contains("active_streams"),
        "{status}"
    );

    // The paused listener resumes and gets the rest, every byte the file's.
    let head = testkit::head_end(&received).expect("the head came first");
    let mut body = received.split_off(head);
    while body.len() < big.len() {
        let mut chunk = vec![0u8; 256 * 1024];
        let n = listener.read(&mut chunk).unwrap();
        assert!(n > 0, "closed after {} bytes", body.len());
        body.extend_from_slice(&chunk[..n]);
    }
    assert!(body == big, "the listener's bytes differ from the file");

    send("-TERM", &child);
    assert_eq!(wait_exit(&mut child, Duration::from_secs(10)), Some(0));
}

/// Runs the binary on a folder with one track, sends `requests`, stops it and returns its log.
fn log_of(extra: &[&str], requests: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.wav"), testkit::noise_wav(0.5, 1)).unwrap();
    let (child, port) = spawn_logging_to(dir.path(), Stdio::piped(), extra);
    for path in requests {
        http_get(port, path);
    }
    send("-TERM", &child);
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn every_request_is_logged_in_the_common_log_format_unless_turned_off() {
    let log = log_of(&[], &["/audio/a", "/no/such/page", "/api/library"]);
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(" access] ")).collect();
    assert_eq!(lines.len(), 3, "{log}");
    // host ident user [time] "request line" status bytes
    let entry = lines[0].split_once(" access] ").unwrap().1;
    let (host, rest) = entry.split_once(" - - [").unwrap();
    let (_time, rest) = rest.split_once("] ").unwrap();
    assert_eq!(host, "127.0.0.1");
    assert_eq!(
        rest,
        format!(
            "\"GET /audio/a HTTP/1.1\" 200 {}",
            testkit::noise_wav(0.5, 1).len()
        )
    );
    assert!(
        lines[1].ends_with("\"GET /no/such/page HTTP/1.1\" 404 10"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].contains("\"GET /api/library HTTP/1.1\" 200 "),
        "{}",
        lines[2]
    );

    let quiet = log_of(&["--no-access-log"], &["/audio/a"]);
    assert!(!quiet.contains(" access] "), "{quiet}");
}

/// A password check's 19 MiB (argon2id's memory) goes back to the system when it is done, not at
/// the next periodic trim ten seconds later: four checks, on whichever of the blocking threads,
/// leave the server's RSS within a few MiB of where it was (glibc keeps each thread's freed
/// blocks resident otherwise: about 19 MiB more per thread that checked one).
#[test]
fn a_password_check_gives_its_memory_back_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users");
    let users = users.to_str().unwrap();
    let (code, _, err) = run_with_input(
        &["--users", users, "user", "add", "alice"],
        "pw 1234 five\n",
    );
    assert_eq!(code, 0, "{err}");
    let (mut child, port) = spawn_logging_to(dir.path(), Stdio::null(), &["--users", users]);
    let rss = || testkit::status_kib(&[child.id()], "VmRSS");
    let (status, _) = http_get(port, "/rest/ping?f=json");
    assert!(status.contains("200"), "{status}");
    let before = rss();
    for password in [
        "pw%201234%20five",
        "wrong",
        "pw%201234%20five",
        "also-wrong",
    ] {
        let (status, body) = http_get(port, &format!("/rest/ping?u=alice&p={password}&f=json"));
        assert!(
            status.contains("200") && body.contains("status"),
            "{status} {body}"
        );
    }
    let after = rss();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        after < before + 8 * 1024,
        "RSS went from {before} KiB to {after} KiB over four password checks"
    );
}
