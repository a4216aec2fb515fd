//! What the HTTP layer sends about tracks, apart from the library's own types: the JSON track of
//! `/api/tracks` and `/api/library` ([`TrackJson`]), the diff around it, and the row the page's
//! template prints ([`Row`]); each is built from a [`Track`] (or a [`Delta`]).
//!
//! A row is defined once. Its markup is `templates/row.html`: the page prints the first screen of
//! rows with it, and prints it once more, blank ([`Row::blank`]: every slot empty, every variant
//! present), as the list's `data-blank` attribute, which `static/rows.js` parses once, copies and
//! fills through its `data-slot`s for every other row. (Escaped text rather than a `<template>`:
//! the page then holds no player but its tracks', not even an inert one, however many or few it
//! lists.) Its text is formatted once, here ([`Byline`], [`Details`], [`Label`]): the template
//! prints it and the JSON carries it (`byline`, `details`, `label`), so the script only places
//! text, and the rows it builds cannot come out different from the server's.

pub(super) mod catalog;
pub(super) mod listener;

use std::fmt::{self, Display};

use serde::{Serialize, Serializer};

use crate::library::{Delta, Placed, Progress, Tags, Track};
use crate::stats::human_bytes;

/// One track as `/api/tracks` lists it and `/api/library` sends it: the fields clients and the
/// page's script read, named and ordered as they always were, then the row's text.
#[derive(Serialize)]
pub(super) struct TrackJson<'a> {
    /// [`Track::name`]: what `/audio/` and `/art/` are asked for.
    name: &'a str,
    /// [`Track::title`].
    title: &'a str,
    /// The artist tag.
    artist: Option<&'a str>,
    /// The album tag.
    album: Option<&'a str>,
    /// The track-number tag.
    track_number: Option<u32>,
    /// Playing time from the audio headers.
    duration_secs: Option<f64>,
    /// The file could not be parsed as audio: the page offers no player for it.
    unreadable: bool,
    /// [`Track::folder`].
    folder: &'a str,
    /// [`Track::file_name`].
    file_name: &'a str,
    /// Bytes.
    size: u64,
    /// [`Track::mime`].
    mime: &'a str,
    /// [`Track::format`].
    format: &'a str,
    /// [`Track::url`].
    url: &'a str,
    /// [`Track::art`].
    art: Option<&'a str>,
    /// The row's byline.
    #[serde(serialize_with = "text")]
    byline: Byline<'a>,
    /// The row's details line.
    #[serde(serialize_with = "text")]
    details: Details<'a>,
    /// The player's accessible name.
    #[serde(serialize_with = "text")]
    label: Label<'a>,
    /// [`Track::id`]: what the listener's data names it by (stable, see `docs/ids.md`). Last, so
    /// that every field before it stays where clients have read it.
    id: &'a str,
}

impl<'a> From<&'a Track> for TrackJson<'a> {
    fn from(track: &'a Track) -> Self {
        let tags = &track.tags;
        Self {
            name: &track.name,
            title: &track.title,
            artist: tags.artist.as_deref(),
            album: tags.album.as_deref(),
            track_number: tags.track_number,
            duration_secs: tags.duration_secs,
            unreadable: tags.unreadable,
            folder: &track.folder,
            file_name: &track.file_name,
            size: track.size,
            mime: &track.mime,
            format: &track.format,
            url: &track.url,
            art: track.art.as_deref(),
            byline: Byline(tags),
            details: Details(track),
            label: Label(track),
            id: &track.id,
        }
    }
}

/// Writes a [`Display`] value as a JSON string as it formats, with no `String` in between.
fn text<T: Display, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// `/api/tracks`: every track, in list order, as [`TrackJson`], converted as it is written.
pub(super) struct TrackList<'a>(pub(super) &'a [Track]);

impl Serialize for TrackList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(TrackJson::from))
    }
}

/// A [`Delta`] on the wire.
#[derive(Serialize)]
pub(super) struct DeltaJson<'a> {
    /// Where the page's list now stands (`epoch.version`), to send back as `since`.
    version: &'a str,
    /// `true`: `tracks` is the whole list.
    reset: bool,
    /// The tracks sent, each with where it goes.
    tracks: PlacedList<'a>,
    /// Names no longer listed.
    removed: &'a [String],
    /// The scan's progress, while one is reading tags.
    scan: Option<ProgressJson>,
}

impl<'a> From<&'a Delta<'a>> for DeltaJson<'a> {
    fn from(delta: &'a Delta<'a>) -> Self {
        Self {
            version: &delta.version,
            reset: delta.reset,
            tracks: PlacedList(&delta.tracks),
            removed: &delta.removed,
            scan: delta.scan.map(ProgressJson::from),
        }
    }
}

/// The tracks of a [`Delta`], converted as they are written.
struct PlacedList<'a>(&'a [Placed<'a>]);

impl Serialize for PlacedList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|placed| PlacedJson {
            track: TrackJson::from(placed.track),
            after: placed.after,
        }))
    }
}

/// A track of a diff: its [`TrackJson`] and, outside a reset, the name of the track it follows.
#[derive(Serialize)]
struct PlacedJson<'a> {
    /// The track.
    #[serde(flatten)]
    track: TrackJson<'a>,
    /// The name of the track before it (`null`: first); absent in a reset.
    #[serde(skip_serializing_if = "Option::is_none")]
    after: Option<Option<&'a str>>,
}

/// A scan's [`Progress`] on the wire.
#[derive(Serialize)]
struct ProgressJson {
    /// Files whose tags have been read.
    read: usize,
    /// Files this scan has to read.
    total: usize,
}

impl From<Progress> for ProgressJson {
    fn from(progress: Progress) -> Self {
        Self {
            read: progress.read,
            total: progress.total,
        }
    }
}

/// "Artist — Album", whichever of the two the tags name; empty when neither.
pub(super) struct Byline<'a>(&'a Tags);

impl Display for Byline<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known = [&self.0.artist, &self.0.album]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty());
        for (i, part) in known.enumerate() {
            if i > 0 {
                f.write_str(" — ")?;
            }
            f.write_str(part)?;
        }
        Ok(())
    }
}

/// "MP3 · 1.2 MiB · 3:07": format, size, and the length when the tags tell it.
pub(super) struct Details<'a>(&'a Track);

impl Display for Details<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} · {}", self.0.format, human_bytes(self.0.size))?;
        match self.0.tags.duration_secs {
            Some(secs) => write!(f, " · {}", Length(secs)),
            None => Ok(()),
        }
    }
}

/// A track's length as players show it: whole seconds, rounded down (`3:07`, `1:02:03`).
struct Length(f64);

impl Display for Length {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.max(0.0) as u64;
        match secs / 3600 {
            0 => write!(f, "{}:{:02}", secs / 60, secs % 60),
            hours => write!(f, "{hours}:{:02}:{:02}", secs / 60 % 60, secs % 60),
        }
    }
}

/// A player's accessible name: "Take Five (MP3)".
pub(super) struct Label<'a>(&'a Track);

impl Display for Label<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.0.title, self.0.format)
    }
}

/// One row of the page's track list as `templates/row.html` prints it: a track's, with the heading
/// of the folder it starts if it starts one; or the blank the page's script builds the others from.
///
/// Owned: the page is rendered after its handler has let go of the library's snapshot.
pub(super) struct Row {
    /// The heading of the folder this row starts (the blank: an empty one).
    pub(super) heading: Option<String>,
    /// [`Track::name`] (`data-name`).
    pub(super) name: String,
    /// 1-based place in the whole list (`aria-posinset`; the blank: 0, set by the script).
    pub(super) position: usize,
    /// [`Track::title`].
    pub(super) title: String,
    /// [`Byline`].
    pub(super) byline: String,
    /// [`Details`].
    pub(super) details: String,
    /// [`Label`].
    pub(super) label: String,
    /// The cover's URL, if there is one (the blank: none, the script sets it).
    pub(super) art: Option<String>,
    /// The URL that streams it (the blank: none, the script sets it).
    pub(super) url: Option<String>,
    /// Whether the row shows a cover image.
    pub(super) cover: bool,
    /// Whether it shows the placeholder of a track without a cover.
    pub(super) no_cover: bool,
    /// Whether it says the file cannot be read.
    pub(super) unreadable: bool,
    /// Whether it has a player.
    pub(super) player: bool,
}

impl Row {
    /// The row of `track`, at `position` (1-based) in the list, starting the folder `heading`.
    pub(super) fn new(track: &Track, position: usize, heading: Option<&str>) -> Self {
        let unreadable = track.tags.unreadable;
        Self {
            heading: heading.map(str::to_owned),
            name: track.name.clone(),
            position,
            title: track.title.clone(),
            byline: Byline(&track.tags).to_string(),
            details: Details(track).to_string(),
            label: Label(track).to_string(),
            art: track.art.clone(),
            url: (!unreadable).then(|| track.url.clone()),
            cover: track.art.is_some(),
            no_cover: track.art.is_none(),
            unreadable,
            player: !unreadable,
        }
    }

    /// The row with every slot empty and every variant present (cover and placeholder, the
    /// unreadable note and the player), for the script to fill and prune.
    pub(super) fn blank() -> Self {
        Self {
            heading: Some(String::new()),
            name: String::new(),
            position: 0,
            title: String::new(),
            byline: String::new(),
            details: String::new(),
            label: String::new(),
            art: None,
            url: None,
            cover: true,
            no_cover: true,
            unreadable: true,
            player: true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_whole_seconds_rounded_down() {
        for (secs, shown) in [
            (0.0, "0:00"),
            (-3.0, "0:00"),
            (f64::NAN, "0:00"),
            (59.99, "0:59"),
            (65.5, "1:05"),
            (187.0, "3:07"),
            (3599.9, "59:59"),
            (3723.0, "1:02:03"),
            (36_000.0, "10:00:00"),
        ] {
            assert_eq!(Length(secs).to_string(), shown, "{secs}");
        }
    }

    #[test]
    fn a_byline_names_what_the_tags_know() {
        let tags = |artist: Option<&str>, album: Option<&str>| Tags {
            artist: artist.map(str::to_owned),
            album: album.map(str::to_owned),
            ..Tags::default()
        };
        for (artist, album, shown) in [
            (Some("Quartet"), Some("Time Out"), "Quartet — Time Out"),
            (Some("Quartet"), None, "Quartet"),
            (None, Some("Time Out"), "Time Out"),
            (Some(""), Some("Time Out"), "Time Out"),
            (None, None, ""),
        ] {
            assert_eq!(Byline(&tags(artist, album)).to_string(), shown);
        }
    }

    #[test]
    fn a_scan_in_progress_is_sent_as_read_and_total() {
        let json = serde_json::to_string(&ProgressJson::from(Progress { read: 3, total: 7 }));
        assert_eq!(json.unwrap(), r#"{"read":3,"total":7}"#);
    }
}
