//! Transcodes through the real server and checked by the real tools: every input format made into
//! Opus and MP3 that `opusinfo`, `oggz-validate`, `ffprobe` and `ffmpeg` accept with the source's
//! exact length, mpv seeking in one; ranges fetched in any order, from another server process,
//! equal to one whole fetch; preconditions, `HEAD` and bad parameters; the cap; a listener leaving;
//! damaged sources; and plain streams at full speed beside 100 transcodes.
//!
//! The fixtures are made with ffmpeg (`apt-get install ffmpeg opus-tools oggz-tools mpv`); without
//! the tools the tests say so and pass, except under `CI=true`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use reqwest::header::{self, HeaderMap};
use reqwest::{Client, StatusCode};
use testkit::{Fixture, TestServer, free_port, multipart_parts};

/// Held shared by each test, and alone by the two that measure the transcoding threads' time and
/// the plain streams' speed (the tests of this file run at once, in one process).
static ALONE: tokio::sync::RwLock<()> = tokio::sync::RwLock::const_new(());

/// Whether ffmpeg and the checking tools are installed (see the module's note).
fn tools() -> bool {
    testkit::installed(
        "transcode test",
        &[
            "/usr/bin/ffmpeg",
            "/usr/bin/ffprobe",
            "/usr/bin/opusinfo",
            "/usr/bin/oggz-validate",
            "/usr/bin/mpv",
        ],
        "ffmpeg opus-tools oggz-tools mpv",
    )
}

/// Makes `dir/name` with ffmpeg: `seconds` of a stereo 44.1 kHz tone (a sweep, so no two seconds
/// are alike) encoded by `args`. Returns its path.
fn make(dir: &Path, name: &str, seconds: f32, args: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let source = format!(
        "aevalsrc=0.4*sin(2*PI*(300+40*t)*t)|0.4*sin(2*PI*(500+30*t)*t):s=44100:d={seconds}"
    );
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i", &source])
        .args(args)
        .arg(&path)
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg made no {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// The sample frames ffmpeg decodes from `file` at 48 kHz (as a player would: Opus pre-skip and
/// end trimming, the LAME tag's delay and padding).
fn decoded_frames(file: &Path) -> usize {
    testkit::decoded(file).len()
}

/// Runs `tool` on `file`; its output when it succeeds, a failure naming it otherwise.
fn check(tool: &str, args: &[&str], file: &Path) -> String {
    let out = Command::new(tool)
        .args(args)
        .arg(file)
        .output()
        .expect("the tool runs");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{tool} rejects {}: {said}",
        file.display()
    );
    said
}

async fn fetch(
    url: &str,
    headers: &[(header::HeaderName, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    fetch_with(&Client::new(), reqwest::Method::GET, url, headers).await
}

async fn fetch_with(
    client: &Client,
    method: reqwest::Method,
    url: &str,
    headers: &[(header::HeaderName, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = client.request(method, url);
    for (name, value) in headers {
        req = req.header(name, *value);
    }
    let res = req.send().await.expect("the server answers");
    let (status, head) = (res.status(), res.headers().clone());
    let body = res.bytes().await.expect("the whole body").to_vec();
    (status, head, body)
}

fn header(head: &HeaderMap, name: header::HeaderName) -> &str {
    head.get(&name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
}

/// A server on `fixture`'s folder with the settings `adjust` makes.
async fn server(fixture: &Fixture, adjust: impl FnOnce(&mut audio_streamer::Config)) -> TestServer {
    let mut config = fixture.config();
    adjust(&mut config);
    TestServer::start(&config).await
}

#[tokio::test]
async fn every_input_format_is_made_into_opus_and_mp3_the_tools_accept_at_the_exact_length() {
    let _alone = ALONE.read().await;
    if !tools() {
        return;
    }
    let fixture = Fixture::new();
    let dir = fixture.audio_dir();
    let seconds = 6.0;
    // (name, how ffmpeg encodes it).
    let sources: [(&str, &[&str]); 9] = [
        ("flac.flac", &["-c:a", "flac"]),
        ("wav.wav", &["-c:a", "pcm_s16le"]),
        ("alac.m4a", &["-c:a", "alac"]),
        (
            "surround.flac",
            &["-af", "pan=5.1|FL=c0|FR=c1|FC=c0|LFE=c1|BL=c0|BR=c1"],
        ),
        ("mono.flac", &["-ac", "1", "-ar", "22050"]),
        ("mp3.mp3", &["-c:a", "libmp3lame", "-b:a", "320k"]),
        ("aac.m4a", &["-c:a", "aac", "-b:a", "256k"]),
        ("vorbis.ogg", &["-c:a", "libvorbis", "-q:a", "8"]),
        ("opus.opus", &["-c:a", "libopus", "-b:a", "256k"]),
    ];
    for (name, args) in sources {
        make(&dir, name, seconds, args);
    }
    let server = server(&fixture, |_| {}).await;
    let out = tempfile::tempdir().unwrap();
    for (name, _) in sources {
        let stem = name.split('.').next().unwrap();
        // The source's own length as ffmpeg decodes it, at 48 kHz.
        let want = decoded_frames(&dir.join(name));
        for (format, kbps, mime) in [("opus", 128, "audio/ogg"), ("mp3", 192, "audio/mpeg")] {
            let url = server.url(&format!("/audio/{stem}?format={format}&bitrate={kbps}"));
            let (status, head, body) = fetch(&url, &[]).await;
            assert_eq!(status, StatusCode::OK, "{name} as {format}");
            assert!(
                header(&head, header::CONTENT_TYPE).starts_with(mime),
                "{name}"
            );
            assert_eq!(header(&head, header::ACCEPT_RANGES), "bytes");
            assert_eq!(
                header(&head, header::CONTENT_LENGTH),
                body.len().to_string()
            );
            let file = out.path().join(format!("{stem}.{format}"));
            std::fs::write(&file, &body).unwrap();
            if format == "opus" {
                let said = check("opusinfo", &[], &file);
                assert!(said.contains("Pre-skip: 312"), "{name}: {said}");
                assert!(said.contains("hard-CBR"), "{name}: {said}");
                check("oggz-validate", &[], &file);
            }
            let probed = check(
                "ffprobe",
                &[
                    "-v",
                    "error",
                    "-show_entries",
                    "stream=codec_name,sample_rate",
                    "-of",
                    "csv=p=0",
                ],
                &file,
            );
            let codec = if format == "opus" { "opus" } else { "mp3" };
            assert_eq!(
                probed.trim(),
                format!("{codec},48000"),
                "{name} as {format}"
            );
            // From a later segment on: a pipeline started there (a seek in the source) makes the
            // same bytes as the whole.
            let from = body.len() * 2 / 3;
            let (status, _, tail) =
                fetch(&url, &[(header::RANGE, &format!("bytes={from}-"))]).await;
            assert_eq!(status, StatusCode::PARTIAL_CONTENT);
            assert!(
                tail == body[from..],
                "{name} as {format}: a range differs from the whole"
            );
            let got = decoded_frames(&file);
            // AAC in MP4 states its encoder's lead-in in an edit list that the decoder does not
            // read: those 1024 samples (21 ms of near-silence) stay; every other source is exact.
            let slack = if stem == "aac" { 1200 } else { 1 };
            assert!(
                got.abs_diff(want) <= slack,
                "{name} as {format}: {got} frames decoded, the source has {want}"
            );
        }
    }
}

#[tokio::test]
async fn mpv_plays_a_transcode_from_where_it_seeks() {
    let _alone = ALONE.read().await;
    if !tools() {
        return;
    }
    let fixture = Fixture::new();
    make(&fixture.audio_dir(), "long.flac", 30.0, &[]);
    let server = server(&fixture, |_| {}).await;
    for format in ["opus", "mp3"] {
        let url = server.url(&format!("/audio/long?format={format}"));
        let out = tokio::task::spawn_blocking(move || {
            Command::new("mpv")
                .args([
                    "--no-config",
                    "--ao=null",
                    "--vo=null",
                    "--start=22",
                    "--length=1",
                ])
                .arg("--term-playing-msg=started at ${=time-pos}")
                .arg(url)
                .output()
                .expect("mpv runs")
        })
        .await
        .unwrap();
        let said = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "mpv: {said}");
        let at: f64 = said
            .lines()
            .find_map(|line| line.strip_prefix("started at "))
            .unwrap_or_else(|| panic!("mpv did not play: {said}"))
            .trim()
            .parse()
            .unwrap();
        assert!((at - 22.0).abs() < 0.1, "{format}: mpv started at {at}");
    }
    // mpv seeked with ranges (it would read up to the point otherwise).
    let metrics = server.state.metrics.encode();
    let ranged = "audio_streamer_http_requests_total{route=\"/audio/{name}\",status=\"206\"}";
    let count: f64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix(ranged))
        .map_or(0.0, |n| n.trim().parse().unwrap());
    assert!(count >= 2.0, "mpv asked for no ranges:\n{metrics}");
}

/// A server as its own process (another replica on the same files), stopped when dropped.
struct Process(Child, u16);

impl Process {
    fn start(fixture: &Fixture) -> Self {
        let port = free_port();
        let child = Command::new(env!("CARGO_BIN_EXE_audio-streamer"))
            .arg("--audio-dir")
            .arg(fixture.audio_dir())
            .arg("--data-dir")
            .arg(fixture.root().join("data-process"))
            .args(["--port", &port.to_string(), "--no-access-log"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .expect("the server starts");
        let process = Self(child, port);
        let deadline = Instant::now() + Duration::from_secs(30);
        while testkit::status(([127, 0, 0, 1], port).into(), "/readyz") != Some(200) {
            assert!(Instant::now() < deadline, "the second server is not ready");
            std::thread::sleep(Duration::from_millis(100));
        }
        process
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.1)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A small deterministic generator for the ranges.
fn ranges(len: u64, count: usize, mut seed: u64) -> Vec<(u64, u64)> {
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut out: Vec<(u64, u64)> = (0..count)
        .map(|_| {
            let start = next() % len;
            let size = 1 + next() % 60_000;
            (start, (start + size).min(len) - 1)
        })
        .collect();
    // The first and last bytes, and a range across the whole.
    out.extend([(0, 0), (len - 1, len - 1), (0, len - 1)]);
    out
}

#[tokio::test]
async fn ranges_in_random_order_from_another_process_equal_one_whole_fetch() {
    let _alone = ALONE.read().await;
    if !tools() {
        return;
    }
    let fixture = Fixture::new();
    make(&fixture.audio_dir(), "piece.flac", 40.0, &[]);
    let server = server(&fixture, |_| {}).await;
    let other = Process::start(&fixture);
    for (query, seed) in [
        ("format=opus&bitrate=96", 7),
        ("format=mp3&bitrate=128", 11),
    ] {
        let (status, head, whole) = fetch(&server.url(&format!("/audio/piece?{query}")), &[]).await;
        assert_eq!(status, StatusCode::OK);
        let etag = header(&head, header::ETAG).to_owned();
        let len = whole.len() as u64;
        for (start, end) in ranges(len, 24, seed) {
            let range = format!("bytes={start}-{end}");
            let (status, head, part) = fetch(
                &other.url(&format!("/audio/piece?{query}")),
                &[(header::RANGE, &range), (header::IF_RANGE, &etag)],
            )
            .await;
            assert_eq!(status, StatusCode::PARTIAL_CONTENT, "{query} {range}");
            assert_eq!(
                header(&head, header::CONTENT_RANGE),
                format!("bytes {start}-{end}/{len}")
            );
            assert!(
                part == whole[start as usize..=end as usize],
                "{query} {range}: the bytes differ from the whole fetch"
            );
        }
    }
}

#[tokio::test]
async fn a_transcode_answers_head_preconditions_and_several_ranges_like_a_file() {
    let _alone = ALONE.read().await;
    if !tools() {
        return;
    }
    let fixture = Fixture::new();
    make(&fixture.audio_dir(), "song.flac", 12.0, &[]);
    let server = server(&fixture, |_| {}).await;
    let url = server.url("/audio/song?format=opus&bitrate=64");
    let client = Client::new();
    let (status, head, whole) = fetch(&url, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let etag = header(&head, header::ETAG).to_owned();
    assert!(
        etag.starts_with('"') && etag.ends_with("-opus64\""),
        "{etag}"
    );
    let len = whole.len();

    let (status, head_only, body) = fetch_with(&client, reqwest::Method::HEAD, &url, &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.is_empty());
    for name in [
        header::CONTENT_LENGTH,
        header::ETAG,
        header::CONTENT_TYPE,
        header::LAST_MODIFIED,
    ] {
        assert_eq!(header(&head_only, name.clone()), header(&head, name));
    }
    // Another bit rate or format is another representation.
    let (_, mp3, _) = fetch_with(
        &client,
        reqwest::Method::HEAD,
        &server.url("/audio/song?format=mp3&bitrate=64"),
        &[],
    )
    .await;
    assert_ne!(header(&mp3, header::ETAG), etag);

    let (status, head, body) = fetch(&url, &[(header::IF_NONE_MATCH, &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(header(&head, header::ETAG), etag);

    let (status, _, body) = fetch(
        &url,
        &[(header::RANGE, "bytes=1000-"), (header::IF_RANGE, &etag)],
    )
    .await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    assert!(body == whole[1000..]);
    let (status, _, body) = fetch(
        &url,
        &[
            (header::RANGE, "bytes=1000-"),
            (header::IF_RANGE, "\"changed-opus64\""),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "a stale If-Range gets the whole");
    assert!(body == whole);

    let (status, head, body) = fetch(&url, &[(header::RANGE, "bytes=0-99,50000-50999,-10")]).await;
    assert_eq!(status, StatusCode::PARTIAL_CONTENT);
    let parts = multipart_parts(header(&head, header::CONTENT_TYPE), &body);
    let want = [(0, 99), (50_000, 50_999), (len - 10, len - 1)];
    assert_eq!(parts.len(), want.len());
    for (part, (start, end)) in parts.iter().zip(want) {
        assert_eq!(part.range, start as u64..=end as u64);
        assert_eq!(part.total, len as u64);
        assert!(part.bytes == whole[start..=end]);
    }

    let (status, head, _) = fetch(&url, &[(header::RANGE, &format!("bytes={len}-"))]).await;
    assert_eq!(status, StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        header(&head, header::CONTENT_RANGE),
        format!("bytes */{len}")
    );
}

#[tokio::test]
async fn bad_parameters_get_a_clear_answer_and_the_original_is_sent_when_it_already_fits() {
    let _alone = ALONE.read().await;
    if !tools() {
        return;
    }
    let fixture = Fixture::new();
    let dir = fixture.audio_dir();
    make(&dir, "lossless.flac", 5.0, &[]);
    make(
        &dir,
        "small.mp3",
        5.0,
        &["-c:a", "libmp3lame", "-b:a", "128k"],
    );
    make(
        &dir,
        "small-opus.opus",
        5.0,
        &["-c:a", "libopus", "-b:a", "64k"],
    );
    let server = server(&fixture, |_| {}).await;
    for query in [
        "format=wav",
        "format=%FF%FE",
        "bitrate=abc",
        "bitrate=-5",
        "bitrate=0",
        "bitrate=99999999999999",
        "format=opus&format=mp3",
        "bitrate=1e3",
    ] {
        let (status, _, body) = fetch(&server.url(&format!("/audio/lossless?{query}")), &[]).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}");
        assert!(!body.is_empty(), "{query}: a reason is given");
    }
    let (status, _, _) = fetch(&server.url("/audio/nothing?format=opus"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _, _) = fetch(&server.url("/audio/..%2Fsecret?format=opus"), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A bit rate beyond what the encoder makes is the highest it makes; the format's case and
    // an unknown extra parameter do not matter.
    let (status, head, _) = fetch(
        &server.url("/audio/lossless?format=OPUS&bitrate=100000&extra=1"),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(header(&head, header::ETAG).ends_with("-opus256\""));

    // The original when it already is what was asked, or when raw is asked.
    let original = std::fs::read(dir.join("small.mp3")).unwrap();
    for query in [
        "format=mp3&bitrate=192",
        "format=raw",
        "format=raw&bitrate=64",
    ] {
        let (status, _, body) = fetch(&server.url(&format!("/audio/small?{query}")), &[]).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body == original, "{query}: the original");
    }
    let (_, _, body) = fetch(&server.url("/audio/small?format=mp3&bitrate=96"), &[]).await;
    assert!(body != original && !body.is_empty(), "a lower rate is made");
    let opus = std::fs::read(dir.join("small-opus.opus")).unwrap();
    let (_, _, body) = fetch(
        &server.url("/audio/small-opus?format=opus&bitrate=128"),
        &[],
    )
    .await;
    assert!(body == opus, "Opus at 64 asked for at 128: the original");
}

#[tokio::test]
async fn past_max_transcodes_a_request_gets_503_with_retry_after_and_then_a_place() {
    let _alone = ALONE.read().await;
    if !tools() {
        return;
    }
    let fixture = Fixture::new();
    make(&fixture.audio_dir(), "long.flac", 60.0, &[]);
    let server = server(&fixture, |config| config.limits.max_transcodes = 1).await;
    let url = server.url("/audio/long?format=opus");
    let first = reqwest::get(&url).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let second = reqwest::get(&url).await.unwrap();
    assert_eq!(second.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(second.headers().contains_key(header::RETRY_AFTER));
    // Plain streams are not transcodes: they still play.
    let plain = reqwest::get(server.url("/audio/long")).await.unwrap();
    assert_eq!(plain.status(), StatusCode::OK);
    drop(first);
    server
        .wait_for("the place given back", |state| {
            state.transcoder.counts().running == 0
        })
        .await;
    let third = reqwest::get(&url).await.unwrap();
    assert_eq!(third.status(), StatusCode::OK);
    assert_eq!(server.state.transcoder.counts().refused, 1);
}

/// CPU time (clock ticks) used so far by this process's transcoding threads.
fn transcoding_ticks() -> u64 {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| {
            let task = task.ok()?.path();
            let name = std::fs::read_to_string(task.join("comm")).ok()?;
            if !name.starts_with("transcode-") || name.starts_with("transcode-idle") {
                return None;
            }
            let stat = std::fs::read_to_string(task.join("stat")).ok()?;
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            // utime and stime: fields 14 and 15 of stat(5), 12 and 13 after the name.
            Some(fields[11].parse::<u64>().ok()? + fields[12].parse::<u64>().ok()?)
        })
        .sum()
}

#[tokio::test]
async fn a_listener_leaving_mid_transcode_frees_its_place_and_stops_the_work() {
    let _alone = ALONE.write().await;
    if !tools() {
        return;
    }
    let fixture = Fixture::new();
    make(&fixture.audio_dir(), "long.flac", 600.0, &[]);
    let server = server(&fixture, |_| {}).await;
    let before = transcoding_ticks();
    let res = reqwest::get(server.url("/audio/long?format=mp3&bitrate=320"))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut body = res.bytes_stream();
    let mut got = 0;
    while got < 300_000 {
        got += body.next().await.unwrap().unwrap().len();
    }
    assert_eq!(server.state.transcoder.counts().running, 1);
    drop(body);
    server
        .wait_for("the transcode to stop", |state| {
            state.transcoder.counts().running == 0
        })
        .await;
    // Its last piece may still be in hand: then nothing at all.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stopped = transcoding_ticks();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let idle = transcoding_ticks() - stopped;
    assert!(
        stopped > before,
        "the transcode ran on the transcoding threads"
    );
    assert!(idle <= 2, "{idle} ticks spent transcoding for nobody");
}

#[tokio::test]
async fn a_damaged_source_ends_cleanly_at_its_last_good_frame_and_is_counted() {
    let _alone = ALONE.read().await;
    if !tools() {
        return;
    }
    let fixture = Fixture::new();
    let dir = fixture.audio_dir();
    let flac = std::fs::read(make(&dir, "whole.flac", 20.0, &[])).unwrap();
    // Cut in half, and garbage over a stretch in the middle.
    std::fs::write(dir.join("cut.flac"), &flac[..flac.len() / 2]).unwrap();
    let mut garbled = flac.clone();
    let middle = garbled.len() / 2;
    for (i, byte) in garbled[middle..middle + 20_000].iter_mut().enumerate() {
        *byte = (i as u32).wrapping_mul(2_654_435_761).to_le_bytes()[3];
    }
    std::fs::write(dir.join("garbled.flac"), &garbled).unwrap();
    let mp3 = std::fs::read(make(&dir, "whole.mp3", 20.0, &["-c:a", "libmp3lame"])).unwrap();
    std::fs::write(dir.join("cut-mp3.mp3"), &mp3[..mp3.len() / 3]).unwrap();
    std::fs::write(
        dir.join("noise.flac"),
        b"fLaC not really a flac file at all",
    )
    .unwrap();
    let server = server(&fixture, |_| {}).await;
    let out = tempfile::tempdir().unwrap();
    for name in ["cut", "garbled", "cut-mp3", "noise"] {
        let url = server.url(&format!("/audio/{name}?format=opus&bitrate=96"));
        let res = tokio::time::timeout(Duration::from_secs(30), async {
            let res = reqwest::get(&url).await.unwrap();
            let status = res.status();
            let mut body = Vec::new();
            let mut stream = res.bytes_stream();
            let mut ended_early = false;
            while let Some(piece) = stream.next().await {
                match piece {
                    Ok(piece) => body.extend_from_slice(&piece),
                    Err(_) => {
                        ended_early = true;
                        break;
                    }
                }
            }
            (status, body, ended_early)
        })
        .await
        .unwrap_or_else(|_| panic!("{name}: the answer hung"));
        let (status, body, _ended_early) = res;
        assert!(status.is_success(), "{name}: {status}");
        if name != "noise" {
            // What was sent is well-formed Opus up to where the source broke.
            let file = out.path().join(format!("{name}.opus"));
            std::fs::write(&file, &body).unwrap();
            assert!(
                decoded_frames(&file) > 48_000,
                "{name}: a good first second"
            );
        }
    }
    assert!(
        server.state.transcoder.counts().damaged >= 1,
        "damaged transcodes are counted"
    );
    // The server is well after all of it.
    let (status, _, _) = fetch(&server.url("/audio/whole?format=opus"), &[]).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn plain_streams_keep_their_speed_while_100_transcodes_run() {
    let _alone = ALONE.write().await;
    if !tools() {
        return;
    }
    let fixture = Fixture::new();
    make(&fixture.audio_dir(), "tune.flac", 8.0, &[]);
    let big = fixture.wav("big.wav", 1200.0); // 19 MB
    let server = server(&fixture, |config| config.limits.max_transcodes = 200).await;
    let client = Client::new();

    let plain = async || {
        let started = Instant::now();
        let mut total = 0;
        for _ in 0..5 {
            let (status, _, body) = fetch_with(
                &client,
                reqwest::Method::GET,
                &server.url("/audio/big"),
                &[],
            )
            .await;
            assert_eq!(status, StatusCode::OK);
            assert!(body == big, "a plain stream's bytes differ from the file");
            total += body.len();
        }
        total as f64 / started.elapsed().as_secs_f64()
    };
    let alone = plain().await;

    let (_, _, reference) = fetch(&server.url("/audio/tune?format=opus&bitrate=128"), &[]).await;
    let started = Instant::now();
    let transcodes = futures_util::future::join_all((0..100).map(|_| {
        let client = client.clone();
        let url = server.url("/audio/tune?format=opus&bitrate=128");
        tokio::spawn(async move { fetch_with(&client, reqwest::Method::GET, &url, &[]).await })
    }));
    let transcodes = tokio::spawn(transcodes);
    server
        .wait_for("the transcodes to start", |state| {
            state.transcoder.counts().running >= 50
        })
        .await;
    let beside = plain().await;
    let done = transcodes.await.unwrap();
    let took = started.elapsed();
    for (i, answer) in done.into_iter().enumerate() {
        let (status, _, body) = answer.unwrap();
        assert_eq!(status, StatusCode::OK, "transcode {i}");
        assert!(body == reference, "transcode {i} differs from the first");
    }
    eprintln!(
        "plain streams: {:.0} MB/s alone, {:.0} MB/s beside 100 transcodes (all done in {took:.1?})",
        alone / 1e6,
        beside / 1e6
    );
    assert!(
        beside >= alone / 2.0,
        "plain streams slowed to {:.0} from {:.0} MB/s",
        beside / 1e6,
        alone / 1e6
    );
}
