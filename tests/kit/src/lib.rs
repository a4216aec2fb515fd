//! What audio-streamer's tests and benchmarks share: generated fixtures (WAV, MP3, PNG, tags, sox
//! tracks) in temp folders, the app in-process, the real server on an ephemeral port, a raw HTTP/1.1
//! client for requests no well-behaved client would send, and [`load`], the mixed soak traffic.

pub mod load;

use std::io::Cursor;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use std::process::Command;
use std::sync::Arc;

use actix_http::Request;
use actix_web::body::BoxBody;
use actix_web::dev::ServerHandle;
use actix_web::dev::{Service, ServiceResponse};
use audio_streamer::{AppState, Config};
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A temp folder laid out as `<tmp>/audio/` (served) beside `<tmp>/secret.mp3` (must never be served).
pub struct Fixture {
    tmp: TempDir,
}

/// Bytes that appear only in the file outside the audio folder.
pub const SECRET: &[u8] = b"TOP-SECRET-OUTSIDE-THE-AUDIO-FOLDER";

impl Fixture {
    /// A new temp folder with an empty `audio/` and the secret beside it.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(tmp.path().join("audio")).unwrap();
        let mut secret = SECRET.to_vec();
        secret.extend(noise_wav(0.05, 99));
        std::fs::write(tmp.path().join("secret.mp3"), &secret).unwrap();
        Self { tmp }
    }

    /// The served folder.
    pub fn audio_dir(&self) -> PathBuf {
        self.tmp.path().join("audio")
    }

    /// The temp root (parent of the audio folder).
    pub fn root(&self) -> &Path {
        self.tmp.path()
    }

    /// Writes `bytes` at `relative` under the audio folder, creating subfolders; returns the bytes.
    pub fn file(&self, relative: &str, bytes: &[u8]) -> Vec<u8> {
        let path = self.audio_dir().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        bytes.to_vec()
    }

    /// Writes a real WAV file of `seconds` of noise (every byte position distinct enough that an
    /// off-by-one range shows up as a mismatch) and returns its bytes.
    pub fn wav(&self, relative: &str, seconds: f32) -> Vec<u8> {
        let bytes = noise_wav(seconds, relative.len() as u32);
        self.file(relative, &bytes)
    }

    /// Settings for a server on this fixture's folder: a free port, samples every 100 ms.
    pub fn config(&self) -> Config {
        let mut config = Config::for_dir(self.audio_dir());
        config.stats_interval = Duration::from_millis(100);
        config
    }
}

/// A 16-bit mono 8 kHz WAV of pseudo-random noise, made with `hound`.
pub fn noise_wav(seconds: f32, seed: u32) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut out = Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut out, spec).unwrap();
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    for _ in 0..(seconds * 8000.0) as usize {
        // xorshift32: cheap, deterministic, no repeating short patterns.
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        writer.write_sample((x >> 16) as i16).unwrap();
    }
    writer.finalize().unwrap();
    out.into_inner()
}

/// Writes a WAV of `seconds` of noise at `path` (creating folders), as [`noise_wav`] makes it.
pub fn write_wav(path: &Path, seconds: f32) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, noise_wav(seconds, path.as_os_str().len() as u32)).unwrap();
}

/// Makes a real audio file at `dir/name` with sox (its type from the extension): `seconds` of a
/// rising tone, or of noise (which does not compress) for a big file.
pub fn sox(dir: &Path, name: &str, seconds: u32, noise: bool) {
    let mut cmd = Command::new("sox");
    cmd.args(["-q", "-n", "-r", "48000", "-b", "16", "-c", "2"]);
    cmd.arg(dir.join(name));
    cmd.args(["synth", &seconds.to_string()]);
    cmd.args(if noise {
        &["whitenoise"][..]
    } else {
        &["sine", "300-600"]
    });
    cmd.args(["gain", "-12"]);
    let status = cmd.status().expect("sox runs");
    assert!(status.success(), "sox failed to make {name}");
}

/// A real `width`×`height` PNG of a colour gradient, made with `png`.
pub fn png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().unwrap();
    let pixels: Vec<u8> = (0..width * height)
        .flat_map(|i| {
            let (x, y) = ((i % width) as u8, (i / width) as u8);
            [x.wrapping_mul(3), y.wrapping_mul(5), seed]
        })
        .collect();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    out
}

/// A PNG of noise of about `kib` KiB (noise does not compress, like a photo).
pub fn noise_png(kib: usize, seed: u32) -> Vec<u8> {
    let side = ((kib * 1024 / 3) as f64).sqrt() as u32;
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, side, side);
    encoder.set_color(png::ColorType::Rgb);
    let mut writer = encoder.write_header().unwrap();
    let mut x = seed.wrapping_mul(2_654_435_761) | 1;
    let pixels: Vec<u8> = (0..side * side * 3)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    writer.write_image_data(&pixels).unwrap();
    writer.finish().unwrap();
    out
}

/// `seconds` of MPEG-1 Layer III silence (128 kbit/s, 44.1 kHz): frames whose side information
/// is all zero, which every decoder plays as silence and lofty times exactly.
pub fn silent_mp3(seconds: f32) -> Vec<u8> {
    const FRAME: usize = 417; // 144 * 128000 / 44100, no padding
    let frames = (seconds * 44_100.0 / 1152.0).ceil() as usize;
    let mut frame = vec![0u8; FRAME];
    frame[..4].copy_from_slice(&[0xFF, 0xFB, 0x90, 0x00]);
    frame.repeat(frames)
}

/// Tags to write into a file with lofty (ID3v2 for MP3 and WAV, the file's own kind otherwise).
#[derive(Default)]
pub struct Tagger {
    tag: Option<lofty::tag::Tag>,
}

impl Tagger {
    fn tag(&mut self) -> &mut lofty::tag::Tag {
        self.tag
            .get_or_insert_with(|| lofty::tag::Tag::new(lofty::tag::TagType::Id3v2))
    }

    /// Sets the title.
    pub fn title(mut self, title: &str) -> Self {
        lofty::tag::Accessor::set_title(self.tag(), title.into());
        self
    }

    /// Sets the artist.
    pub fn artist(mut self, artist: &str) -> Self {
        lofty::tag::Accessor::set_artist(self.tag(), artist.into());
        self
    }

    /// Sets the album.
    pub fn album(mut self, album: &str) -> Self {
        lofty::tag::Accessor::set_album(self.tag(), album.into());
        self
    }

    /// Sets the track number.
    pub fn track(mut self, number: u32) -> Self {
        lofty::tag::Accessor::set_track(self.tag(), number);
        self
    }

    /// Adds a PNG picture of the given kind.
    pub fn picture(mut self, kind: lofty::picture::PictureType, png: &[u8]) -> Self {
        use lofty::picture::{MimeType, Picture};
        let picture = Picture::unchecked(png.to_vec())
            .pic_type(kind)
            .mime_type(MimeType::Png)
            .build();
        self.tag().push_picture(picture);
        self
    }

    /// Writes the tag into the file at `path`.
    pub fn save(mut self, path: &Path) {
        use lofty::tag::TagExt as _;
        self.tag()
            .save_to_path(path, lofty::config::WriteOptions::default())
            .unwrap();
    }
}

/// Writes an ID3v2 tag into the file at `path`: title, artist, album and, if given, a front cover.
pub fn tag_file(path: &Path, title: &str, artist: &str, album: &str, cover: Option<&[u8]>) {
    let mut tagger = Tagger::default().title(title).artist(artist).album(album);
    if let Some(cover) = cover {
        tagger = tagger.picture(lofty::picture::PictureType::CoverFront, cover);
    }
    tagger.save(path);
}

/// The app in-process (no socket), once the first scan of `config`'s folder is done, with its state.
pub async fn app(
    config: &Config,
) -> (
    impl Service<Request, Response = ServiceResponse<BoxBody>, Error = actix_web::Error> + use<>,
    Arc<AppState>,
) {
    let state = AppState::new(config).expect("audio folder opens");
    state.library.scanned().await;
    let app = actix_web::App::new().configure(audio_streamer::routes(Arc::clone(&state)));
    (actix_web::test::init_service(app).await, state)
}

/// The real server on `127.0.0.1:<ephemeral>`; stopped when dropped.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its shared state (counters, library).
    pub state: Arc<AppState>,
    handle: ServerHandle,
}

impl TestServer {
    /// Starts the server on `config` once the first scan is done.
    pub async fn start(config: &Config) -> Self {
        let state = AppState::new(config).expect("audio folder opens");
        state.library.scanned().await;
        let (server, addr) =
            audio_streamer::start(config, Arc::clone(&state)).expect("server binds");
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            addr,
            state,
            handle,
        }
    }

    /// `http://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Sends raw bytes as a request on a fresh connection and reads the whole response.
    pub async fn raw(&self, request: &[u8]) -> RawResponse {
        raw_request(self.addr, request).await
    }

    /// Waits (bounded) until `check` holds for the live counters.
    pub async fn wait_for(&self, what: &str, check: impl Fn(&AppState) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !check(&self.state) {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Fire and forget: the runtime ends with the test anyway.
        // The stop command is sent on call; the returned future only waits for completion.
        drop(self.handle.stop(false));
    }
}

/// A response as read off the wire.
#[derive(Debug)]
pub struct RawResponse {
    /// The status code.
    pub status: u16,
    /// The status line and headers, without the blank line.
    pub head: String,
    /// Everything after the head.
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The first header named `name` (any case), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (k, v) = line.split_once(':')?;
            k.eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// Sends `request` verbatim and reads until the server closes (requests should say
/// `Connection: close`), bounded to 10 s.
pub async fn raw_request(addr: SocketAddr, request: &[u8]) -> RawResponse {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut buf))
        .await
        .expect("server answered within 10 s")
        .ok();
    let split = head_end(&buf)
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(&buf)))
        - 4;
    let head = String::from_utf8_lossy(&buf[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status code");
    RawResponse {
        status,
        head,
        body: buf[split + 4..].to_vec(),
    }
}

/// Where the body starts: just past the blank line that ends the response head, if it has come.
pub fn head_end(received: &[u8]) -> Option<usize> {
    received
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| i + 4)
}

/// A port that was free a moment ago, for a server started as a separate process.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `GET` request line plus `Connection: close`.
pub fn get(target: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").into_bytes()
}

/// A field of `/proc/<pid>/status` summed over `pids`, KiB (`VmRSS`, `RssAnon`, ...).
pub fn status_kib(pids: &[u32], field: &str) -> u64 {
    pids.iter()
        .map(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/status"))
                .unwrap_or_default()
                .lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|v| v.trim().trim_end_matches(" kB").parse::<u64>().ok())
                .unwrap_or(0)
        })
        .sum()
}

/// One part of a `multipart/byteranges` body: the range its `Content-Range` states, the file
/// length it states, its `Content-Type`, and its bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Part {
    /// First and last byte, as stated.
    pub range: std::ops::RangeInclusive<u64>,
    /// The complete length, as stated.
    pub total: u64,
    /// The part's `Content-Type`.
    pub content_type: String,
    /// The part's bytes (exactly as many as the range states).
    pub bytes: Vec<u8>,
}

/// Splits a `multipart/byteranges` body by the boundary in `content_type` (RFC 9110 §14.6,
/// RFC 2046 §5.1.1), strictly: anything out of place is a panic naming it.
pub fn multipart_parts(content_type: &str, body: &[u8]) -> Vec<Part> {
    let boundary = content_type
        .strip_prefix("multipart/byteranges; boundary=")
        .unwrap_or_else(|| panic!("not multipart/byteranges: {content_type}"));
    let delimiter = format!("\r\n--{boundary}");
    let mut rest = body
        .strip_prefix(delimiter.as_bytes())
        .unwrap_or_else(|| panic!("body does not open with {delimiter:?}"));
    let mut parts = Vec::new();
    loop {
        if let Some(tail) = rest.strip_prefix(b"--") {
            assert_eq!(tail, b"\r\n", "bytes after the closing boundary");
            return parts;
        }
        rest = rest.strip_prefix(b"\r\n").expect("CRLF after a boundary");
        let end = head_end(rest).expect("a part's headers end");
        let head = std::str::from_utf8(&rest[..end - 4]).expect("ASCII part headers");
        let field = |name: &str| {
            head.lines()
                .find_map(|line| {
                    let (k, v) = line.split_once(':')?;
                    k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
                })
                .unwrap_or_else(|| panic!("part without {name}: {head}"))
        };
        let content_range = field("content-range");
        let (span, total) = content_range
            .strip_prefix("bytes ")
            .and_then(|s| s.split_once('/'))
            .unwrap_or_else(|| panic!("bad Content-Range {content_range}"));
        let (a, b) = span.split_once('-').expect("first-last");
        let (a, b): (u64, u64) = (a.parse().unwrap(), b.parse().unwrap());
        assert!(a <= b, "{content_range}");
        let len = (b - a + 1) as usize;
        let data = &rest[end..];
        assert!(data.len() >= len, "part cut short: {content_range}");
        parts.push(Part {
            range: a..=b,
            total: total.parse().unwrap(),
            content_type: field("content-type"),
            bytes: data[..len].to_vec(),
        });
        rest = data[len..]
            .strip_prefix(delimiter.as_bytes())
            .unwrap_or_else(|| panic!("no boundary after part {content_range}"));
    }
}
