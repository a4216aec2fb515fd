//! The values read out of one lofty tag beyond title, artist and album: several artists and
//! genres, numbers given as `n/total`, the year out of a date, flags, ReplayGain levels, stream
//! facts. Each is a small pure function of the tag's text, so the rules are tested without files.
//!
//! Splitting one artist value into several is deliberately narrow. Tags that hold several values
//! (Picard's `ARTISTS`, repeated Vorbis fields, ID3v2.4's NUL-separated frames) are taken as they
//! are and never split further. Only a lone value is split, and only on separators that no band
//! name is known to contain: `;`, ` / ` with its spaces (so `AC/DC` stays whole), ` feat. ` and
//! ` ft. `. `&`, `,` and `and` are never separators (`Simon & Garfunkel`, `Earth, Wind & Fire`).
//! Navidrome splits on about the same set by default (`" / "`, `" feat. "`, `" ft. "`, `"; "`);
//! gonic does not split artists at all. Genres are split on `;` only (`Rock/Pop` may be one genre).

use std::collections::HashSet;
use std::sync::Arc;

use lofty::file::FileType;
use lofty::properties::FileProperties;
use lofty::tag::{ItemKey, Tag};

/// The non-blank text values of `key`, trimmed.
pub(super) fn texts(tag: &Tag, key: ItemKey) -> impl Iterator<Item = &str> + Clone {
    tag.get_strings(key)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Where a lone artist value is cut into several artists (matched without ASCII case).
const ARTIST_SEPARATORS: &[&str] = &[";", " / ", " feat. ", " ft. "];

/// The artists `tag` names under `list` (the multi-valued `ARTISTS` kind), else under `single`
/// (several items are several artists; one item is split on [`ARTIST_SEPARATORS`]).
pub(super) fn people(tag: &Tag, list: ItemKey, single: ItemKey) -> Vec<&str> {
    let listed: Vec<&str> = texts(tag, list).collect();
    if !listed.is_empty() {
        return dedup(listed);
    }
    let values: Vec<&str> = texts(tag, single).collect();
    match values.as_slice() {
        [one] => dedup(split_artists(one)),
        _ => dedup(values),
    }
}

/// One artist value cut on [`ARTIST_SEPARATORS`], each part trimmed, blank parts dropped.
pub(super) fn split_artists(value: &str) -> Vec<&str> {
    // ASCII lower-casing keeps every byte where it was, so cuts found in it fit `value`.
    let lower = value.to_ascii_lowercase();
    let mut parts = Vec::new();
    let mut start = 0;
    let mut at = 0;
    while at < lower.len() {
        let found = ARTIST_SEPARATORS
            .iter()
            .find(|separator| lower[at..].starts_with(*separator));
        match found {
            Some(separator) => {
                parts.push(&value[start..at]);
                at += separator.len();
                start = at;
            }
            None => at += lower[at..].chars().next().map_or(1, char::len_utf8),
        }
    }
    parts.push(&value[start..]);
    parts
        .into_iter()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// The genres of `tag`: every genre item, each split on `;`.
pub(super) fn genres(tag: &Tag) -> Vec<&str> {
    dedup(
        texts(tag, ItemKey::Genre)
            .flat_map(|g| g.split(';'))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect(),
    )
}

/// `values` without repeats (compared without case), in their first order.
fn dedup(values: Vec<&str>) -> Vec<&str> {
    let mut seen = HashSet::new();
    values
        .into_iter()
        .filter(|v| seen.insert(v.to_lowercase()))
        .collect()
}

/// A number and a total as tags write them: `3`, `3/12`, ` 3 / 12 `; a part that is not a number
/// is `None`.
pub(super) fn number_pair(text: &str) -> (Option<u32>, Option<u32>) {
    let number = |s: &str| s.trim().parse::<u32>().ok();
    match text.split_once('/') {
        Some((n, total)) => (number(n), number(total)),
        None => (number(text), None),
    }
}

/// The number of `key`, read as [`number_pair`] does, with the total it may carry.
pub(super) fn numbered(tag: &Tag, key: ItemKey) -> (Option<u32>, Option<u32>) {
    texts(tag, key).next().map_or((None, None), number_pair)
}

/// The first number under `key`.
pub(super) fn number(tag: &Tag, key: ItemKey) -> Option<u32> {
    numbered(tag, key).0
}

/// The year of a date or year value: its first four characters, if they are digits (`1999`,
/// `1999-03-01`, `1999-03`); `None` for `0000`.
pub(super) fn year_of(text: &str) -> Option<u16> {
    let digits = text.get(..4)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|&year| year > 0)
}

/// The year of `tag`: from the recording date, else the year, the release date, the original
/// release date, the first that has one.
pub(super) fn year(tag: &Tag) -> Option<u16> {
    [
        ItemKey::RecordingDate,
        ItemKey::Year,
        ItemKey::ReleaseDate,
        ItemKey::OriginalReleaseDate,
    ]
    .into_iter()
    .flat_map(|key| texts(tag, key))
    .find_map(year_of)
}

/// Whether a flag's value says yes: `1`, `true` or `yes` in any case (iTunes' `cpil` atom and
/// ID3v2's `TCMP` reach lofty's generic tag as `1` or `0`).
pub(super) fn flag(tag: &Tag, key: ItemKey) -> bool {
    texts(tag, key)
        .any(|v| v == "1" || v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("yes"))
}

/// A ReplayGain value as taggers write it: `-6.50 dB`, `+1.2 dB`, `0.988547` (a peak); `None` when
/// it is no finite number.
pub(super) fn level(text: &str) -> Option<f32> {
    let text = text.trim();
    let number = match text.len().checked_sub(2) {
        Some(cut) if text.is_char_boundary(cut) && text[cut..].eq_ignore_ascii_case("db") => {
            &text[..cut]
        }
        _ => text,
    };
    number
        .trim()
        .parse::<f32>()
        .ok()
        .filter(|level| level.is_finite())
}

/// ReplayGain levels (ReplayGain 2.0 tags): gains in dB, peaks as a fraction of full scale.
///
/// Kept in 8 bytes: gains to a hundredth of a dB (as taggers write them), peaks to a ten
/// thousandth, each with one value meaning "not tagged".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplayGain {
    track_gain: i16,
    track_peak: u16,
    album_gain: i16,
    album_peak: u16,
}

const NO_GAIN: i16 = i16::MIN;
const NO_PEAK: u16 = u16::MAX;

impl Default for ReplayGain {
    fn default() -> Self {
        Self::new([None; 4])
    }
}

impl ReplayGain {
    /// Levels as `[track gain, track peak, album gain, album peak]`; a gain beyond ±327 dB or a
    /// peak beyond 6.5 (no real file has either) counts as not tagged.
    pub fn new([track_gain, track_peak, album_gain, album_peak]: [Option<f32>; 4]) -> Self {
        let gain = |g: Option<f32>| {
            g.map(|g| (g * 100.0).round())
                .filter(|g| g.abs() < f32::from(i16::MAX))
                .map_or(NO_GAIN, |g| g as i16)
        };
        let peak = |p: Option<f32>| {
            p.map(|p| (p * 10_000.0).round())
                .filter(|p| (0.0..f32::from(NO_PEAK)).contains(p))
                .map_or(NO_PEAK, |p| p as u16)
        };
        Self {
            track_gain: gain(track_gain),
            track_peak: peak(track_peak),
            album_gain: gain(album_gain),
            album_peak: peak(album_peak),
        }
    }

    pub(super) fn read(tag: &Tag) -> Self {
        let read = |key| texts(tag, key).next().and_then(level);
        Self::new([
            read(ItemKey::ReplayGainTrackGain),
            read(ItemKey::ReplayGainTrackPeak),
            read(ItemKey::ReplayGainAlbumGain),
            read(ItemKey::ReplayGainAlbumPeak),
        ])
    }

    /// `REPLAYGAIN_TRACK_GAIN`, in dB.
    pub fn track_gain(&self) -> Option<f32> {
        gain(self.track_gain)
    }

    /// `REPLAYGAIN_TRACK_PEAK`.
    pub fn track_peak(&self) -> Option<f32> {
        peak(self.track_peak)
    }

    /// `REPLAYGAIN_ALBUM_GAIN`, in dB.
    pub fn album_gain(&self) -> Option<f32> {
        gain(self.album_gain)
    }

    /// `REPLAYGAIN_ALBUM_PEAK`.
    pub fn album_peak(&self) -> Option<f32> {
        peak(self.album_peak)
    }
}

fn gain(hundredths: i16) -> Option<f32> {
    (hundredths != NO_GAIN).then(|| f32::from(hundredths) / 100.0)
}

fn peak(ten_thousandths: u16) -> Option<f32> {
    (ten_thousandths != NO_PEAK).then(|| f32::from(ten_thousandths) / 10_000.0)
}

/// How the audio is encoded, as lofty tells it from the file's headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    /// Advanced Audio Coding: raw ADTS, or in an MP4 container.
    Aac,
    /// Apple Lossless, in an MP4 container.
    Alac,
    /// AIFF (PCM).
    Aiff,
    /// Monkey's Audio.
    Ape,
    /// Free Lossless Audio Codec.
    Flac,
    /// MPEG audio (MP3; MP1 and MP2 too).
    Mp3,
    /// Musepack.
    Musepack,
    /// Opus.
    Opus,
    /// Ogg Vorbis.
    Vorbis,
    /// Speex.
    Speex,
    /// RIFF WAVE (PCM, mostly).
    Wav,
    /// WavPack.
    WavPack,
}

impl Codec {
    /// What the file's type says; MP4 is ALAC when its headers give a bit depth (lofty reads one
    /// only from an `alac` sample entry, or the rare FLAC-in-MP4), else AAC.
    pub(super) fn of(file_type: FileType, properties: &FileProperties) -> Option<Self> {
        Some(match file_type {
            FileType::Aac => Self::Aac,
            FileType::Aiff => Self::Aiff,
            FileType::Ape => Self::Ape,
            FileType::Flac => Self::Flac,
            FileType::Mpeg => Self::Mp3,
            FileType::Mp4 if properties.bit_depth().is_some() => Self::Alac,
            FileType::Mp4 => Self::Aac,
            FileType::Mpc => Self::Musepack,
            FileType::Opus => Self::Opus,
            FileType::Vorbis => Self::Vorbis,
            FileType::Speex => Self::Speex,
            FileType::Wav => Self::Wav,
            FileType::WavPack => Self::WavPack,
            _ => return None,
        })
    }

    /// A short label (`"MP3"`, `"FLAC"`, `"AAC"`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Aac => "AAC",
            Self::Alac => "ALAC",
            Self::Aiff => "AIFF",
            Self::Ape => "APE",
            Self::Flac => "FLAC",
            Self::Mp3 => "MP3",
            Self::Musepack => "Musepack",
            Self::Opus => "Opus",
            Self::Vorbis => "Vorbis",
            Self::Speex => "Speex",
            Self::Wav => "WAV",
            Self::WavPack => "WavPack",
        }
    }
}

/// What the audio headers say of the stream, in 12 bytes (0 stands for "not told").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stream {
    bit_rate: u32,
    sample_rate: u32,
    channels: u8,
    bit_depth: u8,
    codec: Option<Codec>,
}

impl Stream {
    pub(super) fn read(file_type: FileType, properties: &FileProperties) -> Self {
        Self {
            bit_rate: properties
                .audio_bitrate()
                .filter(|&rate| rate > 0)
                .or(properties.overall_bitrate())
                .unwrap_or(0),
            sample_rate: properties.sample_rate().unwrap_or(0),
            channels: properties.channels().unwrap_or(0),
            bit_depth: properties.bit_depth().unwrap_or(0),
            codec: Codec::of(file_type, properties),
        }
    }

    /// Bit rate of the audio in kbit/s (of the whole file when the audio's own is not known).
    pub fn bit_rate(&self) -> Option<u32> {
        (self.bit_rate > 0).then_some(self.bit_rate)
    }

    /// Samples per second.
    pub fn sample_rate(&self) -> Option<u32> {
        (self.sample_rate > 0).then_some(self.sample_rate)
    }

    /// Number of channels.
    pub fn channels(&self) -> Option<u8> {
        (self.channels > 0).then_some(self.channels)
    }

    /// Bits per sample (lossless and PCM formats).
    pub fn bit_depth(&self) -> Option<u8> {
        (self.bit_depth > 0).then_some(self.bit_depth)
    }

    /// The codec.
    pub fn codec(&self) -> Option<Codec> {
        self.codec
    }
}

/// One copy of each name the scan has read (artists, album artists, genres): a library repeats
/// them over thousands of tracks, which then share one allocation.
#[derive(Debug, Default)]
pub(crate) struct Names(HashSet<Arc<str>>);

impl Names {
    /// The shared copy of `name`.
    pub(crate) fn get(&mut self, name: &str) -> Arc<str> {
        if let Some(known) = self.0.get(name) {
            return Arc::clone(known);
        }
        let name: Arc<str> = name.into();
        self.0.insert(Arc::clone(&name));
        name
    }

    /// The shared copies of `names`.
    pub(crate) fn all(&mut self, names: &[&str]) -> Box<[Arc<str>]> {
        names.iter().map(|name| self.get(name)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_artist_is_split_only_on_the_unambiguous_separators() {
        let table: &[(&str, &[&str])] = &[
            ("Alice; Bob", &["Alice", "Bob"]),
            ("Alice;Bob", &["Alice", "Bob"]),
            ("Alice / Bob", &["Alice", "Bob"]),
            ("Alice feat. Bob", &["Alice", "Bob"]),
            ("Alice Feat. Bob ft. Carol", &["Alice", "Bob", "Carol"]),
            ("AC/DC", &["AC/DC"]),
            ("Simon & Garfunkel", &["Simon & Garfunkel"]),
            ("Earth, Wind & Fire", &["Earth, Wind & Fire"]),
            ("Featherweight", &["Featherweight"]),
            (
                "Ólafur Arnalds; Nils Frahm",
                &["Ólafur Arnalds", "Nils Frahm"],
            ),
            ("; Alice ;; ", &["Alice"]),
        ];
        for &(value, want) in table {
            assert_eq!(split_artists(value), want, "{value:?}");
        }
    }

    #[test]
    fn several_values_are_taken_as_they_are_and_the_list_kind_comes_first() {
        let mut tag = Tag::new(lofty::tag::TagType::VorbisComments);
        tag.push(lofty::tag::TagItem::new(
            ItemKey::TrackArtist,
            lofty::tag::ItemValue::Text("Alice feat. Bob".into()),
        ));
        assert_eq!(
            people(&tag, ItemKey::TrackArtists, ItemKey::TrackArtist),
            ["Alice", "Bob"]
        );
        for artist in ["Carol; Dave", "Erin"] {
            tag.push(lofty::tag::TagItem::new(
                ItemKey::TrackArtist,
                lofty::tag::ItemValue::Text(artist.into()),
            ));
        }
        assert_eq!(
            people(&tag, ItemKey::TrackArtists, ItemKey::TrackArtist),
            ["Alice feat. Bob", "Carol; Dave", "Erin"],
            "several items are never split further"
        );
        for artist in ["Alice", "alice", "Bob"] {
            tag.push(lofty::tag::TagItem::new(
                ItemKey::TrackArtists,
                lofty::tag::ItemValue::Text(artist.into()),
            ));
        }
        assert_eq!(
            people(&tag, ItemKey::TrackArtists, ItemKey::TrackArtist),
            ["Alice", "Bob"],
            "ARTISTS wins, repeats dropped"
        );
    }

    #[test]
    fn numbers_years_flags_and_levels_are_read_as_taggers_write_them() {
        assert_eq!(number_pair("3"), (Some(3), None));
        assert_eq!(number_pair(" 3 / 12 "), (Some(3), Some(12)));
        assert_eq!(number_pair("/12"), (None, Some(12)));
        assert_eq!(number_pair("A"), (None, None));
        for (text, year) in [
            ("1999", Some(1999)),
            ("1999-03-01", Some(1999)),
            ("2003-11", Some(2003)),
            ("0000", None),
            ("99", None),
            ("c. 1999", None),
            ("１９９９", None),
        ] {
            assert_eq!(year_of(text), year, "{text:?}");
        }
        for (text, want) in [
            ("-6.5 dB", Some(-6.5)),
            ("+1.23 dB", Some(1.23)),
            ("-6.50dB", Some(-6.5)),
            ("0.988547", Some(0.988547)),
            (" -7.1 DB ", Some(-7.1)),
            ("loud", None),
            ("NaN dB", None),
            ("inf", None),
            ("", None),
            ("dB", None),
        ] {
            assert_eq!(level(text), want, "{text:?}");
        }
    }

    #[test]
    fn replay_gain_keeps_what_taggers_write_in_8_bytes() {
        let gain = ReplayGain::new([Some(-6.5), Some(0.988547), Some(12.34), Some(1.0)]);
        assert_eq!(gain.track_gain(), Some(-6.5));
        assert_eq!(gain.track_peak(), Some(0.9885));
        assert_eq!(
            (gain.album_gain(), gain.album_peak()),
            (Some(12.34), Some(1.0))
        );
        let beyond = ReplayGain::new([Some(400.0), Some(-0.5), None, Some(7.0)]);
        assert_eq!(beyond, ReplayGain::default(), "out of range: not tagged");
        assert_eq!(ReplayGain::default().track_gain(), None);
        assert_eq!(std::mem::size_of::<ReplayGain>(), 8);
        assert_eq!(std::mem::size_of::<Stream>(), 12);
    }

    #[test]
    fn names_read_twice_share_one_copy() {
        let mut names = Names::default();
        let (a, b) = (names.get("Rock"), names.get("Rock"));
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &names.get("rock")), "case is kept apart");
    }
}
