//! What a file says about itself, read with lofty: title, artist, album, track number, duration and
//! whether it carries a cover, plus the cover's bytes on demand. Framework-free; the scan in
//! [`super::shared`] calls [`Tags::read`]; covers are read by [`super::SharedLibrary::cover`].
//!
//! The scan keeps only the fact that a cover exists: pictures are read, checked and dropped file by
//! file, so memory stays flat however many covers the library holds.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufReader, Read, Seek};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use lofty::config::ParseOptions;
use lofty::file::{AudioFile as _, FileType, TaggedFile, TaggedFileExt as _};
use lofty::picture::{Picture, PictureType};
use lofty::probe::Probe;
use lofty::tag::Accessor as _;

/// What a file's tags and headers say.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tags {
    /// The title tag, trimmed; `None` when missing or blank (the track's display title is sent).
    pub title: Option<String>,
    /// The artist tag.
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
}

impl Tags {
    /// Reads the primary (else first) tag and the duration. A file lofty cannot parse, or on which
    /// it panics, is marked unreadable: nothing here can stop the scan.
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
        let text =
            |v: Option<Cow<'_, str>>| v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let duration = file.properties().duration().as_secs_f64();
        let tag = file.primary_tag().or_else(|| file.first_tag());
        Self {
            title: tag.and_then(|t| text(t.title())),
            artist: tag.and_then(|t| text(t.artist())),
            album: tag.and_then(|t| text(t.album())),
            track_number: tag.and_then(|t| t.track()),
            duration_secs: (duration > 0.0).then_some(duration),
            has_cover: front_cover(&file).is_some_and(|p| image_type(p.data()).is_some()),
            unreadable: false,
        }
    }
}

/// An image ready to send: its bytes and the type they were recognised as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// `image/png`, `image/jpeg`, ...: taken from the bytes, never from the tag.
    pub mime: &'static str,
    /// The encoded image, as stored.
    pub data: Vec<u8>,
}

impl Image {
    /// Checks that `data` is an image of a known type; `None` for anything else.
    pub fn new(data: Vec<u8>) -> Option<Self> {
        Some(Self {
            mime: image_type(&data)?,
            data,
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
pub(crate) fn embedded_cover_from<R: Read + Seek>(reader: R, path: &Path) -> Option<Image> {
    let file = parse(reader, path, ParseOptions::new().read_properties(false))?;
    let picture = front_cover(&file)?;
    Image::new(picture.data().to_vec())
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
    use super::*;

    /// One second of WAV, tagged with a title and `pictures` (type, bytes), in a temp folder.
    fn wav_with(pictures: &[(PictureType, Vec<u8>)]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.wav");
        testkit::write_wav(&path, 1.0);
        let tagger = pictures.iter().fold(
            testkit::Tagger::default().title("T"),
            |tagger, (kind, data)| tagger.picture(*kind, data),
        );
        tagger.save(&path);
        (dir, path)
    }

    /// A real PNG.
    fn png(shade: u8) -> Vec<u8> {
        testkit::png(2, 2, shade)
    }

    #[test]
    fn the_front_cover_is_found_and_returned_byte_for_byte() {
        let (back, front) = (png(10), png(200));
        let (_dir, path) = wav_with(&[
            (PictureType::CoverBack, back.clone()),
            (PictureType::CoverFront, front.clone()),
        ]);
        let tags = Tags::read(&path);
        assert!(tags.has_cover && !tags.unreadable);
        assert_eq!(tags.title.as_deref(), Some("T"));
        let cover = embedded_cover(&path).unwrap();
        assert_eq!((cover.mime, cover.data), ("image/png", front));
    }

    #[test]
    fn without_a_front_cover_the_first_picture_serves_and_without_pictures_none() {
        let other = png(99);
        let (_dir, path) = wav_with(&[(PictureType::Artist, other.clone())]);
        assert!(Tags::read(&path).has_cover);
        assert_eq!(embedded_cover(&path).unwrap().data, other);
        let (_dir, bare) = wav_with(&[]);
        assert!(!Tags::read(&bare).has_cover);
        assert_eq!(embedded_cover(&bare), None);
    }

    #[test]
    fn a_picture_that_is_not_an_image_is_no_cover_and_corrupt_files_have_none() {
        let (_dir, path) = wav_with(&[(PictureType::CoverFront, b"<script>x</script>".to_vec())]);
        assert!(!Tags::read(&path).has_cover);
        assert_eq!(embedded_cover(&path), None);
        let dir = tempfile::tempdir().unwrap();
        let junk = dir.path().join("junk.mp3");
        std::fs::write(&junk, b"not audio at all").unwrap();
        let tags = Tags::read(&junk);
        assert!(tags.unreadable && !tags.has_cover);
        assert_eq!(embedded_cover(&junk), None);
        assert_eq!(embedded_cover(&dir.path().join("missing.mp3")), None);
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
