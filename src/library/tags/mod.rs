//! What a file says about itself, read with lofty: title, artists, album, numbers, year, genres,
//! MusicBrainz ids, ReplayGain levels, the stream's facts, and whether it carries a cover or lyrics,
//! plus the cover's bytes and the lyrics' text on demand. Framework-free; the scan in
//! [`super::shared`] calls [`Tags::read`]; covers are read by [`super::SharedLibrary::cover`],
//! lyrics by [`super::SharedLibrary::lyrics`].
//!
//! The scan keeps only the fact that a cover or lyrics exist: pictures and lyrics are read, checked
//! and dropped file by file, so memory stays flat however many the library holds. `fields` reads
//! the values out of a lofty tag; `musicbrainz` keeps MusicBrainz ids as 16 bytes each.

mod fields;
mod musicbrainz;

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, Cursor, Read, Seek};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use lofty::config::ParseOptions;
use lofty::file::{AudioFile as _, FileType, TaggedFile, TaggedFileExt as _};
use lofty::id3::v2::Frame;
use lofty::id3::v2::util::synchsafe::SynchsafeInteger as _;
use lofty::mpeg::MpegFile;
use lofty::picture::{Picture, PictureType};
use lofty::probe::Probe;
use lofty::tag::{Accessor as _, ItemKey, Tag};

pub(crate) use self::fields::Names;
pub use self::fields::{Codec, ReplayGain, Stream};
pub(crate) use self::musicbrainz::VARIOUS_ARTISTS;
pub use self::musicbrainz::{Mbid, MusicBrainz};

/// What a file's tags and headers say.
///
/// Names that recur over a library (album artists, several artists, genres) are shared
/// (`Arc<str>`, one copy per scan, see [`Tags::share_names`]); rare data is boxed
/// ([`Tags::musicbrainz`]); lyrics are only noted ([`Tags::has_lyrics`]), never kept.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tags {
    /// The title tag, trimmed; `None` when missing or blank (the track's display title is sent).
    pub title: Option<String>,
    /// The artist tag, as written (`Alice feat. Bob`): what a track's byline shows.
    pub artist: Option<String>,
    /// The album tag.
    pub album: Option<String>,
    /// The track-number tag.
    pub track_number: Option<u32>,
    /// Playing time from the audio headers.
    pub duration_secs: Option<f64>,
    /// Whether a picture is embedded (the front cover, or any picture when none is marked so).
    pub has_cover: bool,
    /// lofty could not parse the file as audio.
    pub unreadable: bool,
    /// The album artist tag, as written (the first, when several are).
    pub album_artist: Option<Arc<str>>,
    /// The track's artists one by one, when that is not just [`Tags::artist`]: Picard's `ARTISTS`,
    /// several artist values, or one value split (see [`Tags::track_artists`]). Else empty.
    pub artists: Box<[Arc<str>]>,
    /// The album's artists one by one, when that is not just [`Tags::album_artist`] (as
    /// [`Tags::artists`]). Else empty.
    pub album_artists: Box<[Arc<str>]>,
    /// The genres: every genre value, each split on `;`, repeats dropped.
    pub genres: Box<[Arc<str>]>,
    /// The disc number (`TPOS`, `DISCNUMBER`, `disk`).
    pub disc_number: Option<u16>,
    /// How many discs the release has.
    pub disc_total: Option<u16>,
    /// How many tracks its disc has.
    pub track_total: Option<u16>,
    /// The year: the first four digits of the recording date, else the year, the release date or
    /// the original release date.
    pub year: Option<u16>,
    /// Marked as part of a compilation (`TCMP`, `cpil`, `COMPILATION`).
    pub compilation: bool,
    /// Whether the tags hold lyrics (`USLT`, `LYRICS`, `©lyr`); read them with
    /// [`embedded_lyrics_from`].
    pub has_lyrics: bool,
    /// The MusicBrainz ids, when the file has any.
    pub musicbrainz: Option<Box<MusicBrainz>>,
    /// ReplayGain levels.
    pub replay_gain: ReplayGain,
    /// Bit rate, sample rate, channels, bit depth and codec.
    pub stream: Stream,
}

impl Tags {
    /// Reads the primary (else first) tag and the audio properties. A file lofty cannot parse, or
    /// on which it panics, is marked unreadable: nothing here can stop the scan.
    pub fn read(path: &Path) -> Self {
        Self::read_from(File::open(path).map(BufReader::new), path)
    }

    /// [`Tags::read`] from `reader` (the file's bytes, or what of them could be fetched), `path`
    /// naming it in the log.
    pub(crate) fn read_from<R: Read + Seek>(reader: std::io::Result<R>, path: &Path) -> Self {
        let Some(file) = reader
            .ok()
            .and_then(|r| parse(r, path, ParseOptions::new()))
        else {
            log::warn!(
                "cannot read tags of {}; listing it by file name",
                path.display()
            );
            return Self {
                unreadable: true,
                ..Self::default()
            };
        };
        let properties = file.properties();
        let duration = properties.duration().as_secs_f64();
        let mut tags = match file.primary_tag().or_else(|| file.first_tag()) {
            Some(tag) => Self::from_tag(tag, &mut Names::default()),
            None => Self::default(),
        };
        tags.duration_secs = (duration > 0.0).then_some(duration);
        tags.has_cover = front_cover(&file).is_some_and(|p| image_type(p.data()).is_some());
        tags.stream = Stream::read(file.file_type(), properties);
        tags
    }

    /// What one lofty tag says (no audio properties, no cover).
    fn from_tag(tag: &Tag, names: &mut Names) -> Self {
        let text =
            |v: Option<Cow<'_, str>>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let artist = text(tag.artist());
        let album_artist = fields::texts(tag, ItemKey::AlbumArtist).next();
        let artists = fields::people(tag, ItemKey::TrackArtists, ItemKey::TrackArtist);
        let album_artists = fields::people(tag, ItemKey::AlbumArtists, ItemKey::AlbumArtist);
        let (disc_number, disc_in_pair) = fields::numbered(tag, ItemKey::DiscNumber);
        let (_, tracks_in_pair) = fields::numbered(tag, ItemKey::TrackNumber);
        let small = |n: Option<u32>| n.and_then(|n| u16::try_from(n).ok());
        let musicbrainz = musicbrainz_of(tag);
        Self {
            title: text(tag.title()),
            album: text(tag.album()),
            track_number: tag.track(),
            artists: only_if_several(&artists, artist.as_deref(), names),
            album_artists: only_if_several(&album_artists, album_artist, names),
            album_artist: album_artist.map(|name| names.get(name)),
            artist,
            genres: names.all(&fields::genres(tag)),
            disc_number: small(disc_number),
            disc_total: small(fields::number(tag, ItemKey::DiscTotal).or(disc_in_pair)),
            track_total: small(fields::number(tag, ItemKey::TrackTotal).or(tracks_in_pair)),
            year: fields::year(tag),
            compilation: fields::flag(tag, ItemKey::FlagCompilation),
            has_lyrics: lyrics_in(tag).is_some(),
            musicbrainz: (!musicbrainz.is_empty()).then(|| Box::new(musicbrainz)),
            replay_gain: ReplayGain::read(tag),
            ..Self::default()
        }
    }

    /// Makes this track's names (album artist, artists, genres) the copies in `names`, so that a
    /// library holds each name once.
    pub(crate) fn share_names(&mut self, names: &mut Names) {
        let share = |list: &mut Box<[Arc<str>]>, names: &mut Names| {
            for name in list.iter_mut() {
                *name = names.get(name);
            }
        };
        if let Some(name) = &mut self.album_artist {
            *name = names.get(name);
        }
        share(&mut self.artists, names);
        share(&mut self.album_artists, names);
        share(&mut self.genres, names);
    }

    /// The track's artists one by one: [`Tags::artists`], else the artist tag.
    pub fn track_artists(&self) -> impl Iterator<Item = &str> {
        listed_or(&self.artists, self.artist.as_deref())
    }

    /// The album's artists one by one: [`Tags::album_artists`], else the album artist tag.
    pub fn album_artist_names(&self) -> impl Iterator<Item = &str> {
        listed_or(&self.album_artists, self.album_artist.as_deref())
    }
}

/// `list` when it has names, else `single`.
fn listed_or<'a>(list: &'a [Arc<str>], single: Option<&'a str>) -> impl Iterator<Item = &'a str> {
    let single = single.filter(|_| list.is_empty());
    list.iter().map(|name| &**name).chain(single)
}

/// `people` as shared names, or nothing when they are just `single` (most tracks: one artist).
fn only_if_several(people: &[&str], single: Option<&str>, names: &mut Names) -> Box<[Arc<str>]> {
    match (people, single) {
        ([], _) => Box::default(),
        ([one], Some(single)) if *one == single => Box::default(),
        _ => names.all(people),
    }
}

/// The MusicBrainz ids of `tag` (values that are no MBID are dropped).
fn musicbrainz_of(tag: &Tag) -> MusicBrainz {
    let one = |key| fields::texts(tag, key).find_map(Mbid::parse);
    let all = |key| {
        let mut ids: Vec<Mbid> = fields::texts(tag, key).flat_map(Mbid::parse_all).collect();
        ids.dedup();
        ids.into_boxed_slice()
    };
    MusicBrainz {
        recording: one(ItemKey::MusicBrainzRecordingId),
        release_track: one(ItemKey::MusicBrainzTrackId),
        release: one(ItemKey::MusicBrainzReleaseId),
        release_group: one(ItemKey::MusicBrainzReleaseGroupId),
        artists: all(ItemKey::MusicBrainzArtistId),
        release_artists: all(ItemKey::MusicBrainzReleaseArtistId),
    }
}

/// The first non-blank lyrics `tag` holds (synchronised lyrics in ID3v2 `SYLT` frames are not read).
fn lyrics_in(tag: &Tag) -> Option<&str> {
    fields::texts(tag, ItemKey::Lyrics)
        .chain(fields::texts(tag, ItemKey::UnsyncLyrics))
        .next()
}

/// The lyrics embedded in the audio file `reader` reads (`path` naming it), as text (LRC or plain:
/// [`super::lyrics::Lyrics::parse`] reads either). Reads tags only; `None` when there are none or
/// the file cannot be parsed.
pub(crate) fn embedded_lyrics_from<R: Read + Seek>(reader: R, path: &Path) -> Option<String> {
    let file = parse(reader, path, ParseOptions::new().read_properties(false))?;
    let tag = file.primary_tag().or_else(|| file.first_tag())?;
    lyrics_in(tag).map(str::to_owned)
}

/// An image ready to send: its bytes and the type they were recognised as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// `image/png`, `image/jpeg`, ...: taken from the bytes, never from the tag.
    pub mime: &'static str,
    /// The encoded image, as stored (shared, not copied, by clones).
    pub data: Bytes,
}

impl Image {
    /// Checks that `data` is an image of a known type; `None` for anything else.
    pub fn new(data: Vec<u8>) -> Option<Self> {
        Some(Self {
            mime: image_type(&data)?,
            data: data.into(),
        })
    }
}

/// The cover embedded in the audio file at `path`, if any: the picture marked as the front cover,
/// else the first one. Reads tags only (no audio properties). `None` when there is none, when it is
/// not an image of a known type, or when the file cannot be parsed.
#[cfg(test)]
pub(super) fn embedded_cover(path: &Path) -> Option<Image> {
    embedded_cover_from(BufReader::new(File::open(path).ok()?), path)
}

/// [`embedded_cover`] from `reader`, the file at `path`.
pub(crate) fn embedded_cover_from<R: Read + Seek>(mut reader: R, path: &Path) -> Option<Image> {
    if leads_with_id3v2(path) {
        if let Some(front) = leading_id3v2_front_cover(&mut reader) {
            return Some(front);
        }
        reader.rewind().ok()?;
    }
    let file = parse(reader, path, ParseOptions::new().read_properties(false))?;
    let picture = front_cover(&file)?;
    Image::new(picture.data().to_vec())
}

/// The length of an ID3v2 tag's header.
pub(crate) const ID3V2_HEADER: usize = 10;

/// Whether the file at `path` is an MP3, which keeps its ID3v2 tag at its start. A whole file's
/// parse finds that tag first, so the front cover in it is the file's front cover: it can be read
/// from the tag alone ([`id3v2_len`], [`id3v2_front_cover`]), without searching the file's end for
/// ID3v1 and APE tags.
pub(crate) fn leads_with_id3v2(path: &Path) -> bool {
    FileType::from_path(path) == Some(FileType::Mpeg)
}

/// The length of the ID3v2 tag whose first [`ID3V2_HEADER`] bytes are `head` (its footer too, when
/// its flags announce one); `None` when `head` does not start one, or it is too large to read here
/// (over 32 MiB: the whole file's parse reads it).
pub(crate) fn id3v2_len(head: &[u8]) -> Option<usize> {
    const MOST: usize = 32 << 20;
    let head = head.get(..ID3V2_HEADER)?;
    if !head.starts_with(b"ID3") {
        return None;
    }
    let size = u32::from_be_bytes(head[6..].try_into().ok()?).unsynch() as usize;
    let footer = if head[5] & 0x10 != 0 { ID3V2_HEADER } else { 0 };
    Some(ID3V2_HEADER + size + footer).filter(|&len| len <= MOST)
}

/// The front cover in `tag`, a whole ID3v2 tag ([`id3v2_len`] bytes), parsed by lofty in memory;
/// `None` when it has none (or it is not an image, or lofty cannot parse the tag).
pub(crate) fn id3v2_front_cover(tag: &[u8]) -> Option<Image> {
    let options = ParseOptions::new().read_properties(false);
    let mut file = catch_unwind(|| MpegFile::read_from(&mut Cursor::new(tag), options))
        .ok()?
        .ok()?;
    let front = file
        .remove_id3v2()?
        .into_iter()
        .find_map(|frame| match frame {
            Frame::Picture(frame) if frame.picture.pic_type() == PictureType::CoverFront => {
                Some(frame.picture.into_owned().into_data())
            }
            _ => None,
        })?;
    Image::new(front)
}

/// The front cover in the ID3v2 tag `reader` starts with, the tag read in one go; `None` when it
/// starts otherwise or the tag has no front cover.
fn leading_id3v2_front_cover<R: Read>(reader: &mut R) -> Option<Image> {
    let mut tag = vec![0; ID3V2_HEADER];
    reader.read_exact(&mut tag).ok()?;
    let len = id3v2_len(&tag)?;
    reader
        .take((len - ID3V2_HEADER) as u64)
        .read_to_end(&mut tag)
        .ok()?;
    id3v2_front_cover(&tag)
}

/// Parses a file with lofty, its type told by its bytes, else by `path`'s extension; `None` if it
/// cannot, or panics trying.
fn parse<R: Read + Seek>(reader: R, path: &Path, options: ParseOptions) -> Option<TaggedFile> {
    catch_unwind(AssertUnwindSafe(|| {
        let probe = Probe::new(reader);
        let probe = match FileType::from_path(path) {
            Some(by_name) => probe.set_file_type(by_name),
            None => probe,
        };
        probe.guess_file_type()?.options(options).read()
    }))
    .ok()?
    .ok()
}

fn front_cover(file: &TaggedFile) -> Option<&Picture> {
    let pictures = || file.tags().iter().flat_map(|tag| tag.pictures());
    pictures()
        .find(|p| p.pic_type() == PictureType::CoverFront)
        .or_else(|| pictures().next())
}

/// The type of an image, recognised by its leading bytes. A tag's own MIME field is not trusted:
/// serving what a tag calls `text/html` as such would let a file inject a page.
pub(super) fn image_type(data: &[u8]) -> Option<&'static str> {
    const SIGNATURES: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"BM", "image/bmp"),
    ];
    if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    SIGNATURES
        .iter()
        .find(|(magic, _)| data.starts_with(magic))
        .map(|&(_, mime)| mime)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// One second of audio as `ext` (`wav` or `mp3`), tagged with a title and `pictures` (type,
    /// bytes), in a temp folder.
    fn tagged(ext: &str, pictures: &[(PictureType, Vec<u8>)]) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("t.{ext}"));
        match ext {
            "mp3" => std::fs::write(&path, testkit::silent_mp3(1.0)).unwrap(),
            _ => testkit::write_wav(&path, 1.0),
        }
        let tagger = pictures.iter().fold(
            testkit::Tagger::default().title("T"),
            |tagger, (kind, data)| tagger.picture(*kind, data),
        );
        tagger.save(&path);
        (dir, path)
    }

    /// A reader that counts the bytes read through it.
    struct Counted<R> {
        inner: R,
        read: usize,
    }

    impl<R: Read> Read for Counted<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.read += n;
            Ok(n)
        }
    }

    impl<R: Seek> Seek for Counted<R> {
        fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
            self.inner.seek(pos)
        }
    }

    /// A real PNG.
    fn png(shade: u8) -> Vec<u8> {
        testkit::png(2, 2, shade)
    }

    #[test]
    fn the_front_cover_is_found_and_returned_byte_for_byte() {
        let (back, front) = (png(10), png(200));
        for ext in ["wav", "mp3"] {
            let (_dir, path) = tagged(
                ext,
                &[
                    (PictureType::CoverBack, back.clone()),
                    (PictureType::CoverFront, front.clone()),
                ],
            );
            let tags = Tags::read(&path);
            assert!(tags.has_cover && !tags.unreadable, "{ext}");
            assert_eq!(tags.title.as_deref(), Some("T"));
            let cover = embedded_cover(&path).unwrap();
            let want = ("image/png", Bytes::from(front.clone()));
            assert_eq!((cover.mime, cover.data), want, "{ext}");
        }
    }

    #[test]
    fn an_mp3s_front_cover_is_read_from_its_leading_tag_alone() {
        let front = png(200);
        let (_dir, path) = tagged("mp3", &[(PictureType::CoverFront, front.clone())]);
        let audio = testkit::silent_mp3(1.0).len();
        let tag = std::fs::metadata(&path).unwrap().len() as usize - audio;
        let mut file = Counted {
            inner: File::open(&path).unwrap(),
            read: 0,
        };
        let cover = embedded_cover_from(&mut file, &path).unwrap();
        assert_eq!(cover.data, front);
        assert!(
            file.read <= tag,
            "read {} bytes of a file whose tag is {tag} bytes",
            file.read
        );
    }

    #[test]
    fn without_a_front_cover_the_first_picture_serves_and_without_pictures_none() {
        let other = png(99);
        for ext in ["wav", "mp3"] {
            let (_dir, path) = tagged(ext, &[(PictureType::Artist, other.clone())]);
            assert!(Tags::read(&path).has_cover, "{ext}");
            assert_eq!(embedded_cover(&path).unwrap().data, other, "{ext}");
            let (_dir, bare) = tagged(ext, &[]);
            assert!(!Tags::read(&bare).has_cover, "{ext}");
            assert_eq!(embedded_cover(&bare), None, "{ext}");
        }
    }

    #[test]
    fn a_picture_that_is_not_an_image_is_no_cover_and_corrupt_files_have_none() {
        for ext in ["wav", "mp3"] {
            let script = b"<script>x</script>".to_vec();
            let (_dir, path) = tagged(ext, &[(PictureType::CoverFront, script)]);
            assert!(!Tags::read(&path).has_cover, "{ext}");
            assert_eq!(embedded_cover(&path), None, "{ext}");
        }
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.mp3");
        std::fs::write(&junk, b"not audio at all").unwrap();
        let tags = Tags::read(&junk);
        assert!(tags.unreadable && !tags.has_cover);
        assert_eq!(embedded_cover(&junk), None);
        assert_eq!(embedded_cover(&dir.path().join("missing.mp3")), None);
    }

    const RECORDING: &str = "a1a1a1a1-0000-4000-8000-000000000001";
    const RELEASE_TRACK: &str = "b2b2b2b2-0000-4000-8000-000000000002";
    const RELEASE: &str = "c3c3c3c3-0000-4000-8000-000000000003";
    const GROUP: &str = "d4d4d4d4-0000-4000-8000-000000000004";
    const ALICE: &str = "e5e5e5e5-0000-4000-8000-000000000005";
    const BOB: &str = "f6f6f6f6-0000-4000-8000-000000000006";

    #[test]
    fn every_tag_the_catalog_uses_is_read_back_from_a_tagged_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.wav");
        testkit::write_wav(&path, 1.0);
        testkit::Tagger::default()
            .title("Song")
            .artists(&["Alice", "Bob"])
            .album("Record")
            .album_artist("Alice")
            .genres(&["Rock; Blues", "Jazz", "rock"])
            .track(3)
            .track_total(9)
            .disc(2, Some(3))
            .date("1999-03-01")
            .compilation()
            .musicbrainz(ItemKey::MusicBrainzRecordingId, RECORDING)
            .musicbrainz(ItemKey::MusicBrainzTrackId, RELEASE_TRACK)
            .musicbrainz(ItemKey::MusicBrainzReleaseId, RELEASE)
            .musicbrainz(ItemKey::MusicBrainzReleaseGroupId, GROUP)
            .musicbrainz(ItemKey::MusicBrainzArtistId, ALICE)
            .musicbrainz(ItemKey::MusicBrainzArtistId, BOB)
            .musicbrainz(ItemKey::MusicBrainzReleaseArtistId, ALICE)
            .replay_gain(("-6.50 dB", "0.988"), ("-7.25 dB", "1.000000"))
            .lyrics("[00:01.00]La la")
            .save(&path);
        let tags = Tags::read(&path);
        let names = |list: &[Arc<str>]| list.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(
            tags.artist.as_deref(),
            Some("Alice"),
            "the first, as before"
        );
        assert_eq!(names(&tags.artists), ["Alice", "Bob"]);
        assert_eq!(tags.track_artists().collect::<Vec<_>>(), ["Alice", "Bob"]);
        assert_eq!(tags.album_artist.as_deref(), Some("Alice"));
        assert!(tags.album_artists.is_empty(), "one album artist: no list");
        assert_eq!(tags.album_artist_names().collect::<Vec<_>>(), ["Alice"]);
        assert_eq!(names(&tags.genres), ["Rock", "Blues", "Jazz"]);
        assert_eq!((tags.track_number, tags.track_total), (Some(3), Some(9)));
        assert_eq!((tags.disc_number, tags.disc_total), (Some(2), Some(3)));
        assert_eq!(tags.year, Some(1999));
        assert!(tags.compilation && tags.has_lyrics);
        let mb = tags.musicbrainz.as_deref().unwrap();
        let id = |text| Some(Mbid::parse(text).unwrap());
        assert_eq!(mb.recording, id(RECORDING));
        assert_eq!(mb.release_track, id(RELEASE_TRACK));
        assert_eq!(mb.release, id(RELEASE));
        assert_eq!(mb.release_group, id(GROUP));
        assert_eq!(*mb.artists, [id(ALICE).unwrap(), id(BOB).unwrap()]);
        assert_eq!(*mb.release_artists, [id(ALICE).unwrap()]);
        let gain = tags.replay_gain;
        assert_eq!(
            (gain.track_gain(), gain.track_peak()),
            (Some(-6.5), Some(0.988))
        );
        assert_eq!(
            (gain.album_gain(), gain.album_peak()),
            (Some(-7.25), Some(1.0))
        );
        let reader = BufReader::new(File::open(&path).unwrap());
        assert_eq!(
            embedded_lyrics_from(reader, &path).as_deref(),
            Some("[00:01.00]La la")
        );
    }

    #[test]
    fn the_stream_is_described_by_its_headers() {
        let (_dir, path) = tagged("wav", &[]);
        let tags = Tags::read(&path);
        // testkit's WAV: 16-bit mono PCM at 8 kHz.
        let stream = tags.stream;
        assert_eq!(
            (stream.bit_rate(), stream.sample_rate(), stream.channels()),
            (Some(128), Some(8000), Some(1))
        );
        assert_eq!(
            (stream.bit_depth(), stream.codec()),
            (Some(16), Some(Codec::Wav))
        );
        assert_eq!(Codec::Wav.label(), "WAV");
        let (_dir, mp3) = {
            let dir = tempfile::tempdir().unwrap();
            let mp3 = dir.path().join("s.mp3");
            std::fs::write(&mp3, testkit::silent_mp3(1.0)).unwrap();
            (dir, mp3)
        };
        let stream = Tags::read(&mp3).stream;
        assert_eq!(
            (stream.codec(), stream.sample_rate(), stream.channels()),
            (Some(Codec::Mp3), Some(44_100), Some(2))
        );
    }

    #[test]
    fn untagged_files_have_nothing_more_and_no_lyrics() {
        let (_dir, path) = tagged("wav", &[]);
        let tags = Tags::read(&path);
        assert_eq!(tags.album_artist, None);
        assert!(tags.artists.is_empty() && tags.genres.is_empty());
        assert_eq!((tags.year, tags.disc_number), (None, None));
        assert!(!tags.compilation && !tags.has_lyrics);
        assert_eq!(tags.musicbrainz, None);
        assert_eq!(tags.replay_gain, ReplayGain::default());
        let reader = BufReader::new(File::open(&path).unwrap());
        assert_eq!(embedded_lyrics_from(reader, &path), None);
    }

    #[test]
    fn shared_names_are_one_copy_across_tracks() {
        let tags = || Tags {
            album_artist: Some("Alice".into()),
            genres: vec!["Rock".into()].into(),
            ..Tags::default()
        };
        let (mut a, mut b) = (tags(), tags());
        let mut names = Names::default();
        a.share_names(&mut names);
        b.share_names(&mut names);
        assert!(Arc::ptr_eq(
            a.album_artist.as_ref().unwrap(),
            b.album_artist.as_ref().unwrap()
        ));
        assert!(Arc::ptr_eq(&a.genres[0], &b.genres[0]));
        assert_eq!(a, tags(), "sharing changes no value");
    }

    #[test]
    fn images_are_recognised_by_their_bytes_not_their_names() {
        let table: &[(&[u8], Option<&str>)] = &[
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", Some("image/png")),
            (b"\xff\xd8\xff\xe0\0\x10JFIF", Some("image/jpeg")),
            (b"GIF89a\x01\0", Some("image/gif")),
            (b"RIFF\0\0\0\0WEBPVP8 ", Some("image/webp")),
            (b"BM\0\0", Some("image/bmp")),
            (b"<html><script>alert(1)</script>", None),
            (b"RIFF\0\0\0\0WAVEfmt ", None),
            (b"", None),
            (b"\x89PN", None),
        ];
        for &(bytes, want) in table {
            assert_eq!(image_type(bytes), want, "{bytes:?}");
            assert_eq!(Image::new(bytes.to_vec()).map(|i| i.mime), want);
        }
    }
}
