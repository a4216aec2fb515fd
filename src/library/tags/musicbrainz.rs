//! MusicBrainz identifiers as the tags carry them (Picard's `MUSICBRAINZ_*` items, `TXXX` frames,
//! the `UFID` recording id), kept as 16 bytes each rather than 36 characters of text.

use std::fmt;

/// A MusicBrainz identifier (MBID): a UUID, shown in its usual lower-case, hyphenated form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mbid([u8; 16]);

impl Mbid {
    /// Reads the usual form, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in either case, with spaces
    /// around it; `None` for anything else (a value that is not an MBID is not kept).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().as_bytes();
        if text.len() != 36 {
            return None;
        }
        let mut bytes = [0u8; 16];
        let mut digits = text
            .iter()
            .enumerate()
            .filter(|&(i, &c)| !(matches!(i, 8 | 13 | 18 | 23) && c == b'-'));
        for byte in &mut bytes {
            let (_, &high) = digits.next()?;
            let (_, &low) = digits.next()?;
            *byte = hex_value(high)? << 4 | hex_value(low)?;
        }
        // 32 digits and the four hyphens in their places, nothing else.
        digits.next().is_none().then_some(Self(bytes))
    }

    /// Every MBID in `text`: one, or several joined by any separator (`;`, `/`, `,`, spaces), as
    /// ID3v2.3 files written by Picard join several artist ids. A UUID holds only hex digits and
    /// hyphens, so splitting on anything else cannot cut one.
    pub(crate) fn parse_all(text: &str) -> impl Iterator<Item = Self> + '_ {
        text.split(|c: char| !(c.is_ascii_hexdigit() || c == '-'))
            .filter_map(Self::parse)
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    (digit as char).to_digit(16).map(|d| d as u8)
}

impl fmt::Display for Mbid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, byte) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Mbid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mbid({self})")
    }
}

/// The MusicBrainz identifiers a file is tagged with. Only files that carry at least one have
/// this (boxed behind [`super::Tags::musicbrainz`], so untagged files pay one pointer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MusicBrainz {
    /// The recording (`MUSICBRAINZ_TRACKID`, ID3v2's `UFID`): the same performance on any release.
    pub recording: Option<Mbid>,
    /// The track on one release (`MUSICBRAINZ_RELEASETRACKID`): this exact track of this release.
    pub release_track: Option<Mbid>,
    /// The release (`MUSICBRAINZ_ALBUMID`): the album as issued.
    pub release: Option<Mbid>,
    /// The release group (`MUSICBRAINZ_RELEASEGROUPID`): every issue of the album.
    pub release_group: Option<Mbid>,
    /// The track's artists (`MUSICBRAINZ_ARTISTID`), in the order of the artist tags.
    pub artists: Box<[Mbid]>,
    /// The release's artists (`MUSICBRAINZ_ALBUMARTISTID`), in the order of the album artist tags.
    pub release_artists: Box<[Mbid]>,
}

impl MusicBrainz {
    /// Whether no identifier is known.
    pub(crate) fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// MusicBrainz's own artist for compilations, "Various Artists".
pub(crate) const VARIOUS_ARTISTS: Mbid = Mbid([
    0x89, 0xad, 0x4a, 0xc3, 0x39, 0xf7, 0x47, 0x0e, 0x96, 0x3a, 0x56, 0x50, 0x9c, 0x54, 0x63, 0x77,
]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbids_are_read_in_either_case_and_shown_in_lower_case() {
        let id = Mbid::parse(" 89AD4AC3-39f7-470e-963a-56509c546377 ").unwrap();
        assert_eq!(id.to_string(), "89ad4ac3-39f7-470e-963a-56509c546377");
        assert_eq!(id, VARIOUS_ARTISTS);
    }

    #[test]
    fn anything_but_a_uuid_in_its_usual_form_is_refused() {
        for bad in [
            "",
            "89ad4ac339f7470e963a56509c546377",
            "89ad4ac3a39f7a470ea963aa56509c546377",
            "89ad4ac3-39f7-470e-963a-56509c54637",
            "89ad4ac3-39f7-470e-963a-56509c5463777",
            "89ad4ac3-39f7-470e-963a-56509c54637g",
            "89ad4ac3_39f7-470e-963a-56509c546377",
            "89ad4ac-339f7-470e-963a-56509c546377",
            "89ad4ac3-39f7-470e-963a-56509c5463-7",
            "not an id at all, but 36 chars long!",
        ] {
            assert_eq!(Mbid::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn several_ids_in_one_value_are_all_found() {
        let a = "11111111-1111-1111-1111-111111111111";
        let b = "22222222-2222-2222-2222-222222222222";
        for joined in [format!("{a}; {b}"), format!("{a}/{b}"), format!("{a},{b}")] {
            let ids: Vec<String> = Mbid::parse_all(&joined).map(|m| m.to_string()).collect();
            assert_eq!(ids, [a, b], "{joined}");
        }
        assert_eq!(Mbid::parse_all("junk; more junk").count(), 0);
    }
}
