//! Stable ids: a kind prefix and 16 hex digits of a SHA-256 of a normalised key (`tr-…`, `al-…`,
//! `ar-…`, `ge-…`). This module holds the form, the normalisation and the track's key; the catalog
//! derives the keys of albums, artists and genres with the same parts. The rules, and why each
//! is as it is, are in `docs/ids.md`: they are fixed once shipped, since clients keep ids.

use sha2::{Digest as _, Sha256};
use unicode_normalization::UnicodeNormalization as _;

use super::Track;

/// Separates the fields of a key; [`normalize`] leaves no control character in a field.
const SEP: char = '\0';

/// A name as ids see it: Unicode compatibility form (NFKC), each character lower-cased on its own
/// (a final `ς` too becomes `σ`), runs of whitespace made one space, the ends trimmed, other
/// control characters dropped. `The Beatles`, ` the  beatles ` and `ＴＨＥ ＢＥＡＴＬＥＳ` are one.
pub(crate) fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    // Every ASCII character is its own compatibility form: only other text needs NFKC's pass.
    if text.is_ascii() {
        push_normalized(&mut out, text.chars());
    } else {
        push_normalized(&mut out, text.nfkc());
    }
    out
}

fn push_normalized(out: &mut String, chars: impl Iterator<Item = char>) {
    let mut space = false;
    for c in chars {
        if c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if c.is_control() {
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        for lower in c.to_lowercase() {
            out.push(if lower == 'ς' { 'σ' } else { lower });
        }
    }
}

/// The id of `key` for a kind (`"tr"`, `"al"`, `"ar"`, `"ge"`): `tr-` and the first 8 bytes of
/// the key's SHA-256 in lower-case hex.
pub(crate) fn hashed(kind: &str, key: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::digest(key.as_bytes());
    let mut id = String::with_capacity(kind.len() + 17);
    id.push_str(kind);
    id.push('-');
    for byte in &digest[..8] {
        id.push(char::from(HEX[usize::from(byte >> 4)]));
        id.push(char::from(HEX[usize::from(byte & 15)]));
    }
    id
}

/// The 64 bits an id of `kind` carries (its 16 hex digits), for indexes; `None` if `id` is not of
/// that form.
pub(crate) fn bits(kind: &str, id: &str) -> Option<u64> {
    let hex = id.strip_prefix(kind)?.strip_prefix('-')?;
    let lower = hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    (hex.len() == 16 && lower)
        .then(|| u64::from_str_radix(hex, 16).ok())
        .flatten()
}

/// A key of fields, each already in its final form, joined by [`SEP`] after `kind`.
pub(crate) fn key<'a>(kind: &str, fields: impl IntoIterator<Item = &'a str>) -> String {
    let mut key = String::from(kind);
    for field in fields {
        key.push(SEP);
        key.push_str(field);
    }
    key
}

/// The key of a track from its tags, if they say enough (in this order): its MusicBrainz release
/// track; its recording on its release; its album artist (else artist), album, disc, track number
/// and title. Each with the file's extension in lower case, so that `song.mp3` and `song.flac`
/// side by side are two tracks. `None` for a file whose tags are not read yet, or say less: it is
/// known by its path ([`path_key`]).
pub(crate) fn tag_key(track: &Track) -> Option<String> {
    let tags = track.read_tags()?;
    let extension = track.extension().to_lowercase();
    if let Some(mb) = &tags.musicbrainz {
        if let Some(release_track) = mb.release_track {
            let release_track = release_track.to_string();
            return Some(key("mb-release-track", [&*release_track, &extension]));
        }
        if let (Some(recording), Some(release)) = (mb.recording, mb.release) {
            let (recording, release) = (recording.to_string(), release.to_string());
            let fields = [&*recording, &release, &extension];
            return Some(key("mb-recording-release", fields));
        }
    }
    let artist = tags.album_artist.as_deref().or(tags.artist.as_deref());
    let (Some(title), Some(album), Some(artist)) = (&tags.title, &tags.album, artist) else {
        return None;
    };
    let number = |n: Option<u32>| n.map_or_else(String::new, |n| n.to_string());
    let fields = [
        normalize(artist),
        normalize(album),
        number(tags.disc_number.map(u32::from)),
        number(tags.track_number),
        normalize(title),
        extension,
    ];
    Some(key("tags", fields.iter().map(String::as_str)))
}

/// The key of a track by where it is: its path under the root without extension, and the
/// extension, as they are (not normalised: two files are two paths).
pub(crate) fn path_key(track: &Track) -> String {
    key(
        "path",
        [&*track.relative_path_without_extension(), track.extension()],
    )
}

/// The id of a folder (`fo-`), from its path under the root as tracks give it (`""` for the root
/// itself), as it is: two folders are two paths.
pub(crate) fn folder(path: &str) -> String {
    hashed("fo", &key("folder", [path]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_differ_only_in_case_width_spacing_or_composition_are_one() {
        let table = [
            ("The Beatles", "the beatles"),
            ("  The \t Beatles\n", "the beatles"),
            ("ＴＨＥ ＢＥＡＴＬＥＳ", "the beatles"),
            ("Beyonce\u{301}", "beyoncé"),
            ("Beyoncé", "beyoncé"),
            ("ΟΔΥΣΣΕΥΣ", "οδυσσευσ"),
            ("Οδυσσευς", "οδυσσευσ"),
            ("ﬁve", "five"),
            ("a\u{0}b\u{7}c", "abc"),
            ("Sigur Rós", "sigur rós"),
            ("", ""),
        ];
        for (name, normal) in table {
            assert_eq!(normalize(name), normal, "{name:?}");
        }
    }

    #[test]
    fn ids_are_a_prefix_and_16_hex_digits_of_the_keys_sha256() {
        // SHA-256("abc") = ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad
        assert_eq!(hashed("tr", "abc"), "tr-ba7816bf8f01cfea");
        assert_eq!(bits("tr", "tr-ba7816bf8f01cfea"), Some(0xba7816bf8f01cfea));
        for bad in [
            "al-ba7816bf8f01cfea",
            "tr-ba7816bf8f01cfe",
            "tr-BA7816BF8F01CFEA",
            "tr-+a7816bf8f01cfea",
            "trba7816bf8f01cfea",
        ] {
            assert_eq!(bits("tr", bad), None, "{bad}");
        }
    }

    #[test]
    fn a_track_is_known_by_musicbrainz_else_by_its_tags_else_by_its_path() {
        use crate::library::{Mbid, MusicBrainz, Tags};
        let tagged = || Tags {
            title: Some("Song".into()),
            album: Some("Record".into()),
            artist: Some("Alice".into()),
            track_number: Some(3),
            ..Tags::default()
        };
        let id = |relative: &str, tags: Tags| {
            let track = Track::for_tests(relative, tags);
            tag_key(&track).unwrap_or_else(|| path_key(&track))
        };
        let by_tags = id("a/song.mp3", tagged());
        assert_eq!(by_tags, "tags\x00alice\x00record\x00\x003\x00song\x00mp3");
        assert_eq!(
            id("elsewhere/renamed.MP3", tagged()),
            by_tags,
            "moved, renamed"
        );
        assert_ne!(
            id("a/song.flac", tagged()),
            by_tags,
            "another format beside it"
        );
        let with_album_artist = Tags {
            album_artist: Some("Band".into()),
            disc_number: Some(2),
            ..tagged()
        };
        assert_eq!(
            id("a/song.mp3", with_album_artist),
            "tags\x00band\x00record\x002\x003\x00song\x00mp3"
        );
        let mbid = |n: u8| Mbid::parse(&format!("{n:08x}-0000-4000-8000-000000000000"));
        let mb = |mb: MusicBrainz| Tags {
            musicbrainz: Some(Box::new(mb)),
            ..tagged()
        };
        let release_track = MusicBrainz {
            release_track: mbid(1),
            recording: mbid(2),
            release: mbid(3),
            ..MusicBrainz::default()
        };
        assert_eq!(
            id("x.mp3", mb(release_track)),
            "mb-release-track\x0000000001-0000-4000-8000-000000000000\x00mp3"
        );
        let recording = MusicBrainz {
            recording: mbid(2),
            release: mbid(3),
            ..MusicBrainz::default()
        };
        assert!(id("x.mp3", mb(recording)).starts_with("mb-recording-release\0"));
        let recording_only = MusicBrainz {
            recording: mbid(2),
            ..MusicBrainz::default()
        };
        assert_eq!(id("x.mp3", mb(recording_only)), id("y.mp3", tagged()));
        let untitled = Tags {
            title: None,
            ..tagged()
        };
        assert_eq!(id("a/b/Song.Mp3", untitled), "path\0a/b/Song\0Mp3");
    }

    #[test]
    fn key_fields_cannot_run_into_each_other() {
        assert_ne!(key("tags", ["ab", "c"]), key("tags", ["a", "bc"]));
        assert_eq!(key("path", ["a", "mp3"]), "path\0a\0mp3");
    }
}
