//! Shared test support: generated audio fixtures in temp folders, the app in-process, the real server
//! on an ephemeral port, and a raw HTTP/1.1 client for requests no well-behaved client would send.

#![allow(dead_code)] // each test binary uses a different part of this module

use std::io::Cursor;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::web;
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

/// `seconds` of MPEG-1 Layer III silence (128 kbit/s, 44.1 kHz): frames whose side information
/// is all zero, which every decoder plays as silence and lofty times exactly.
pub fn silent_mp3(seconds: f32) -> Vec<u8> {
    const FRAME: usize = 417; // 144 * 128000 / 44100, no padding
    let frames = (seconds * 44_100.0 / 1152.0).ceil() as usize;
    let mut frame = vec![0u8; FRAME];
    frame[..4].copy_from_slice(&[0xFF, 0xFB, 0x90, 0x00]);
    frame.repeat(frames)
}

/// Writes an ID3v2 tag into the file at `path`: title, artist, album and, if given, a front cover.
pub fn tag_file(path: &Path, title: &str, artist: &str, album: &str, cover: Option<&[u8]>) {
    use lofty::config::WriteOptions;
    use lofty::picture::{MimeType, Picture, PictureType};
    use lofty::tag::{Accessor as _, Tag, TagExt as _, TagType};
    let mut tag = Tag::new(TagType::Id3v2);
    tag.set_title(title.into());
    tag.set_artist(artist.into());
    tag.set_album(album.into());
    if let Some(cover) = cover {
        tag.push_picture(
            Picture::unchecked(cover.to_vec())
                .pic_type(PictureType::CoverFront)
                .mime_type(MimeType::Png)
                .build(),
        );
    }
    tag.save_to_path(path, WriteOptions::default()).unwrap();
}

/// The real server on `127.0.0.1:<ephemeral>`; stopped when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub state: web::Data<AppState>,
    handle: ServerHandle,
}

impl TestServer {
    pub async fn start(config: &Config) -> Self {
        let state = AppState::new(config).expect("audio folder scans");
        state.library.scanned().await;
        let (server, addr) = audio_streamer::start(config, state.clone()).expect("server binds");
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            addr,
            state,
            handle,
        }
    }

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
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl RawResponse {
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
