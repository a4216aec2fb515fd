//! Fixtures the tests make for themselves: a temp folder with a secret beside it, real audio
//! (WAV, MP3, sox tracks), real PNGs, tags written with lofty, and TLS certificates.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use audio_streamer::Config;
use audio_streamer::config::Database;
use tempfile::TempDir;

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

    /// A self-signed certificate for `localhost` and `127.0.0.1` with its key, written beside the
    /// audio folder: see [`self_signed`].
    pub fn tls(&self) -> (audio_streamer::config::TlsFiles, String) {
        self_signed(self.tmp.path())
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

    /// Settings for a server on this fixture's folder: a free port, samples every 100 ms, the
    /// listeners' data in `<tmp>/data` (beside the audio folder, gone with the fixture).
    pub fn config(&self) -> Config {
        let mut config = Config::for_dir(self.audio_dir());
        config.stats_interval = Duration::from_millis(100);
        config.database = Database::Sqlite(self.tmp.path().join("data"));
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

/// A self-signed certificate for `localhost` and `127.0.0.1` with its key, written into `dir`
/// (`cert.pem`, `key.pem`): the files for `--tls-cert`/`--tls-key`, and the certificate's PEM for
/// clients to trust.
pub fn self_signed(dir: &Path) -> (audio_streamer::config::TlsFiles, String) {
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let made = rcgen::generate_simple_self_signed(names).expect("certificate");
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    let pem = made.cert.pem();
    std::fs::write(&cert, &pem).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    (audio_streamer::config::TlsFiles { cert, key }, pem)
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

    /// Adds `value` under `key`, after any value already there (several make a multi-valued
    /// item: NUL-separated in ID3v2.4).
    pub fn item(mut self, key: lofty::tag::ItemKey, value: &str) -> Self {
        let value = lofty::tag::ItemValue::Text(value.to_owned());
        self.tag().push(lofty::tag::TagItem::new(key, value));
        self
    }

    /// Sets the artists one by one (several `TPE1` values, not one joined value).
    pub fn artists(self, artists: &[&str]) -> Self {
        artists.iter().fold(self, |tagger, artist| {
            tagger.item(lofty::tag::ItemKey::TrackArtist, artist)
        })
    }

    /// Sets the album artist.
    pub fn album_artist(self, artist: &str) -> Self {
        self.item(lofty::tag::ItemKey::AlbumArtist, artist)
    }

    /// Sets the genres, one value each.
    pub fn genres(self, genres: &[&str]) -> Self {
        genres.iter().fold(self, |tagger, genre| {
            tagger.item(lofty::tag::ItemKey::Genre, genre)
        })
    }

    /// Sets the disc number, and the number of discs if given.
    pub fn disc(mut self, number: u32, total: Option<u32>) -> Self {
        lofty::tag::Accessor::set_disk(self.tag(), number);
        if let Some(total) = total {
            lofty::tag::Accessor::set_disk_total(self.tag(), total);
        }
        self
    }

    /// Sets the number of tracks on the disc.
    pub fn track_total(mut self, total: u32) -> Self {
        lofty::tag::Accessor::set_track_total(self.tag(), total);
        self
    }

    /// Sets the recording date (`TDRC`), such as `1999` or `1999-03-01`.
    pub fn date(self, date: &str) -> Self {
        self.item(lofty::tag::ItemKey::RecordingDate, date)
    }

    /// Marks the track as part of a compilation (`TCMP`).
    pub fn compilation(self) -> Self {
        self.item(lofty::tag::ItemKey::FlagCompilation, "1")
    }

    /// Sets a MusicBrainz id: `key` is one of lofty's `MusicBrainz…Id` keys (the recording id is
    /// written as a `UFID` frame, the others as `TXXX` frames, as Picard writes them).
    pub fn musicbrainz(self, key: lofty::tag::ItemKey, id: &str) -> Self {
        self.item(key, id)
    }

    /// Sets the ReplayGain levels as taggers write them (`"-6.50 dB"`, `"0.988"`): track gain and
    /// peak, album gain and peak.
    pub fn replay_gain(self, track: (&str, &str), album: (&str, &str)) -> Self {
        use lofty::tag::ItemKey;
        self.item(ItemKey::ReplayGainTrackGain, track.0)
            .item(ItemKey::ReplayGainTrackPeak, track.1)
            .item(ItemKey::ReplayGainAlbumGain, album.0)
            .item(ItemKey::ReplayGainAlbumPeak, album.1)
    }

    /// Sets unsynchronised lyrics (`USLT`), plain or LRC text.
    pub fn lyrics(self, text: &str) -> Self {
        self.item(lofty::tag::ItemKey::UnsyncLyrics, text)
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

/// Writes a library of `files` one-second MP3s to `root`: `albums/album NNNN/NN track I.mp3`, ten
/// to an album, each with an ID3v2 tag and a `cover_kib` PNG front cover. The tags are those a
/// tagged collection has: title, artist, album artist, album, track and disc numbers with totals,
/// year, one or two genres, ReplayGain levels; every other album carries MusicBrainz ids
/// (recording, release track, release, release group, artist, album artist) as Picard writes
/// them, and one album in twenty is a compilation of several artists.
pub fn tagged_library(root: &Path, files: usize, cover_kib: usize) {
    let audio = silent_mp3(1.0);
    // A UUID of the form MusicBrainz uses, made of a kind and a number.
    let mbid = |kind: u32, n: usize| format!("{kind:08x}-0000-4000-8000-{n:012x}");
    for i in 0..files {
        let (album, number) = (i / 10, i % 10 + 1);
        let folder = root.join(format!("albums/album {album:04}"));
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join(format!("{number:02} track {i}.mp3"));
        std::fs::write(&path, &audio).unwrap();
        let compilation = album % 20 == 7;
        let album_artist = if compilation {
            "Various Artists".to_owned()
        } else {
            format!("Artist {}", album % 2003)
        };
        let artist = if compilation {
            format!("Artist {}", i % 3001)
        } else {
            album_artist.clone()
        };
        let genre = if album % 3 == 0 {
            format!("Genre {}; Genre {}", album % 40, (album + 1) % 40)
        } else {
            format!("Genre {}", album % 40)
        };
        let two_discs = album % 5 == 0;
        let (disc, track) = if two_discs {
            ((number as u32 - 1) / 5 + 1, (number as u32 - 1) % 5 + 1)
        } else {
            (1, number as u32)
        };
        let mut tagger = Tagger::default()
            .title(&format!("Track {i}"))
            .artist(&artist)
            .album_artist(&album_artist)
            .album(&format!("Album {album}"))
            .track(track)
            .track_total(if two_discs { 5 } else { 10 })
            .disc(disc, Some(if two_discs { 2 } else { 1 }))
            .date(&format!("{}-05-01", 1960 + album % 60))
            .genres(&[&genre])
            .replay_gain(("-6.50 dB", "0.988547"), ("-7.10 dB", "1.000000"));
        if compilation {
            tagger = tagger.compilation();
        }
        if album % 2 == 1 {
            tagger = tagger
                .musicbrainz(lofty::tag::ItemKey::MusicBrainzRecordingId, &mbid(1, i))
                .musicbrainz(lofty::tag::ItemKey::MusicBrainzTrackId, &mbid(2, i))
                .musicbrainz(lofty::tag::ItemKey::MusicBrainzReleaseId, &mbid(3, album))
                .musicbrainz(
                    lofty::tag::ItemKey::MusicBrainzReleaseGroupId,
                    &mbid(4, album),
                )
                .musicbrainz(lofty::tag::ItemKey::MusicBrainzArtistId, &mbid(5, i % 3001))
                .musicbrainz(
                    lofty::tag::ItemKey::MusicBrainzReleaseArtistId,
                    &mbid(6, album % 2003),
                );
        }
        tagger
            .picture(
                lofty::picture::PictureType::CoverFront,
                &noise_png(cover_kib, i as u32),
            )
            .save(&path);
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

/// Drops the file at `path` from the page cache (written out first), so that reading it waits for
/// the disk; whether it worked (a filesystem in memory, such as tmpfs, keeps every page). Tried a
/// few times: readahead the server asked for (`WILLNEED`) may still be filling pages back in.
pub fn evict(path: &Path) -> bool {
    use rustix::fs::{Advice, fadvise};
    use rustix::io::{Errno, IoSliceMut, ReadWriteFlags, preadv2};
    let file = std::fs::File::open(path).unwrap();
    file.sync_all().unwrap();
    (0..20).any(|attempt| {
        if attempt > 0 {
            std::thread::sleep(std::time::Duration::from_millis(25));
        }
        fadvise(&file, 0, None, Advice::DontNeed).unwrap();
        let mut byte = [0u8; 1];
        let probe = preadv2(
            &file,
            &mut [IoSliceMut::new(&mut byte)],
            0,
            ReadWriteFlags::NOWAIT,
        );
        matches!(probe, Err(Errno::AGAIN))
    })
}
