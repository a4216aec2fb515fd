//! The library as Subsonic elements: a track as a song (`Child`), an album as an `AlbumID3` or as
//! a directory (`Child` with `isDir`), an artist as an `ArtistID3` or an `Artist`, a folder as a
//! directory; each with what the listener said about it (a star, a rating, plays).
//!
//! Attributes of the 1.16.1 schema come first; OpenSubsonic's additions (`played`, `bitDepth`,
//! `samplingRate`, `channelCount`, `musicBrainzId`, `displayArtist`, the `genres`, `artists`,
//! `albumArtists` lists, `replayGain`, …) follow, as the OpenSubsonic documentation names them.
//! Cover ids are the id of the item the cover belongs to (`tr-`, `al-` or `ar-`), which
//! `getCoverArt` resolves.

use std::collections::HashMap;
use std::time::SystemTime;

use chrono::{DateTime, SecondsFormat, Utc};

use super::Fault;
use super::envelope::Element;
use crate::catalog::{Album, Artist, Catalog};
use crate::data::{Annotation, Data, Kind};
use crate::library::{Library, Track, ids};

/// A time as the schema's `xs:dateTime`, in UTC with milliseconds.
pub(super) fn time(at: SystemTime) -> String {
    DateTime::<Utc>::from(at).to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Seconds as the whole number the schema wants.
fn seconds(secs: f64) -> i64 {
    secs.round() as i64
}

/// What the listener said about the items of one answer.
#[derive(Debug, Default)]
pub(super) struct Notes {
    tracks: HashMap<String, Annotation>,
    albums: HashMap<String, Annotation>,
    artists: HashMap<String, Annotation>,
}

impl Notes {
    /// `user`'s annotations of the tracks at `tracks`, the albums at `albums` and the artists at
    /// `artists` (indexes into the library's tracks and the catalog's lists).
    pub(super) async fn fetch(
        data: &Data,
        user: &str,
        view: (&Library, &Catalog),
        tracks: &[usize],
        albums: &[usize],
        artists: &[usize],
    ) -> Result<Self, Fault> {
        let (library, catalog) = view;
        let track_ids: Vec<&str> = tracks.iter().map(|&i| &*library.tracks()[i].id).collect();
        let album_ids: Vec<&str> = albums.iter().map(|&i| &*catalog.albums()[i].id).collect();
        let artist_ids: Vec<&str> = artists.iter().map(|&i| &*catalog.artists()[i].id).collect();
        let asked = [
            (Kind::Track, &track_ids[..]),
            (Kind::Album, &album_ids[..]),
            (Kind::Artist, &artist_ids[..]),
        ];
        if asked.iter().all(|(_, ids)| ids.is_empty()) {
            return Ok(Self::default());
        }
        let [tracks, albums, artists] = data.annotations_of(user, asked).await?;
        Ok(Self {
            tracks,
            albums,
            artists,
        })
    }
}

/// What an element is built from: the snapshot's tracks, its catalog, and the listener's notes.
pub(super) struct View<'a> {
    /// The snapshot's tracks.
    pub(super) tracks: &'a [Track],
    /// Its catalog.
    pub(super) catalog: &'a Catalog,
    /// The listener's notes on the items answered.
    pub(super) notes: Notes,
}

/// Adds `starred` and `userRating` from `note`.
fn noted(element: Element, note: Option<&Annotation>) -> Element {
    let Some(note) = note else {
        return element;
    };
    element
        .maybe("starred", note.starred.map(time))
        .maybe("userRating", note.rating.map(i64::from))
}

/// `{id, name}` elements named `name` for `artists` (OpenSubsonic's `artists`, `albumArtists`).
fn credits<'a>(name: &'static str, artists: impl Iterator<Item = &'a Artist>) -> Vec<Element> {
    artists
        .map(|artist| {
            Element::new(name)
                .attr("id", artist.id.as_str())
                .attr("name", artist.name.as_str())
        })
        .collect()
}

impl View<'_> {
    /// How often the listener played the track at `i`.
    pub(super) fn plays(&self, i: usize) -> u64 {
        let note = self.notes.tracks.get(&self.tracks[i].id);
        note.map_or(0, |note| note.play_count)
    }

    fn album_artists<'s>(&'s self, album: &'s Album) -> impl Iterator<Item = &'s Artist> {
        album
            .artist_ids
            .iter()
            .filter_map(|id| self.catalog.artist(id))
    }

    fn genre_names<'s>(&'s self, album: &'s Album) -> impl Iterator<Item = &'s str> {
        album
            .genres
            .iter()
            .filter_map(|id| self.catalog.genre(id))
            .map(|genre| genre.name.as_str())
    }

    /// The track at `i` as a song element called `name` (`song`, `child`, `entry`).
    pub(super) fn song(&self, name: &'static str, i: usize) -> Element {
        let track = &self.tracks[i];
        let tags = &track.tags;
        let stream = &tags.stream;
        let album = self.catalog.album_of(i);
        let artists: Vec<&Artist> = self.catalog.track_artists(i).collect();
        let note = self.notes.tracks.get(&track.id);
        let mut song = Element::with_room(name, 40)
            .attr("id", track.id.as_str())
            .attr("parent", ids::folder(&track.folder))
            .attr("isDir", false)
            .attr("title", track.title.as_str())
            .maybe("album", tags.album.as_deref())
            .maybe("artist", tags.artist.as_deref())
            .maybe("track", tags.track_number)
            .maybe("year", tags.year.map(u32::from))
            .maybe("genre", tags.genres.first().map(|g| &**g))
            .maybe(
                "coverArt",
                track.artwork.as_ref().map(|_| track.id.as_str()),
            )
            .attr("size", track.size)
            .attr("contentType", &*track.mime)
            .attr("suffix", track.extension().to_ascii_lowercase())
            .maybe("duration", tags.duration_secs.map(seconds))
            .maybe("bitRate", stream.bit_rate())
            .attr("path", track.relative_path())
            .attr("isVideo", false);
        song = noted(song, note)
            .attr("playCount", note.map_or(0, |n| n.play_count))
            .maybe("discNumber", tags.disc_number.map(u32::from))
            .maybe("created", track.modified.map(time))
            .maybe("albumId", album.map(|a| a.id.as_str()))
            .maybe("artistId", artists.first().map(|a| a.id.as_str()))
            .attr("type", "music")
            // OpenSubsonic's additions.
            .attr("mediaType", "song")
            .maybe("played", note.and_then(|n| n.last_played).map(time))
            .maybe("bitDepth", stream.bit_depth().map(i64::from))
            .maybe("samplingRate", stream.sample_rate())
            .maybe("channelCount", stream.channels().map(i64::from))
            .maybe(
                "musicBrainzId",
                tags.musicbrainz
                    .as_ref()
                    .and_then(|mb| mb.recording)
                    .map(|id| id.to_string()),
            )
            .maybe("displayArtist", tags.artist.as_deref())
            .maybe(
                "displayAlbumArtist",
                album.map(|a| a.artist.as_str()).filter(|a| !a.is_empty()),
            );
        let genres = tags
            .genres
            .iter()
            .map(|genre| Element::new("genres").attr("name", &**genre))
            .collect();
        let album_artists = album.map_or_else(Vec::new, |album| {
            credits("albumArtists", self.album_artists(album))
        });
        let gain = &tags.replay_gain;
        let replay_gain = Element::new("replayGain")
            .maybe("trackGain", gain.track_gain().map(f64::from))
            .maybe("trackPeak", gain.track_peak().map(f64::from))
            .maybe("albumGain", gain.album_gain().map(f64::from))
            .maybe("albumPeak", gain.album_peak().map(f64::from));
        song.list("genres", genres)
            .list("artists", credits("artists", artists.into_iter()))
            .list("albumArtists", album_artists)
            .child(replay_gain)
    }

    /// The album at `at` as an `AlbumID3` called `name`, with its songs when `songs`.
    pub(super) fn album(&self, name: &'static str, at: usize, songs: bool) -> Element {
        let album = &self.catalog.albums()[at];
        let note = self.notes.albums.get(&album.id);
        let mut element = Element::new(name)
            .attr("id", album.id.as_str())
            .attr("name", album.name.as_str())
            .maybe(
                "artist",
                Some(album.artist.as_str()).filter(|a| !a.is_empty()),
            )
            .maybe("artistId", album.artist_ids.first())
            .maybe("coverArt", album.cover.map(|_| album.id.as_str()))
            .attr("songCount", album.tracks.len())
            .attr("duration", seconds(album.duration_secs))
            .attr(
                "created",
                time(album.added.unwrap_or(SystemTime::UNIX_EPOCH)),
            )
            .maybe("starred", note.and_then(|n| n.starred).map(time))
            .maybe("year", album.year)
            .maybe("genre", self.genre_names(album).next())
            // OpenSubsonic's additions.
            .maybe("userRating", note.and_then(|n| n.rating).map(i64::from))
            .maybe("musicBrainzId", album.musicbrainz_id.as_deref())
            .attr("isCompilation", album.compilation)
            .attr("displayArtist", album.artist.as_str())
            .list(
                "genres",
                self.genre_names(album)
                    .map(|genre| Element::new("genres").attr("name", genre))
                    .collect(),
            )
            .list("artists", credits("artists", self.album_artists(album)));
        if songs {
            element = element.list(
                "song",
                album.tracks.iter().map(|&i| self.song("song", i)).collect(),
            );
        }
        element
    }

    /// The album at `at` as a directory (`Child` with `isDir`), for the folder-style calls
    /// (`getAlbumList`, `search2`, `getStarred`, an artist's `getMusicDirectory`).
    pub(super) fn album_directory(&self, name: &'static str, at: usize) -> Element {
        let album = &self.catalog.albums()[at];
        let note = self.notes.albums.get(&album.id);
        let element = Element::new(name)
            .attr("id", album.id.as_str())
            .maybe("parent", album.artist_ids.first())
            .attr("isDir", true)
            .attr("title", album.name.as_str())
            .attr("album", album.name.as_str())
            .maybe(
                "artist",
                Some(album.artist.as_str()).filter(|a| !a.is_empty()),
            )
            .maybe("year", album.year)
            .maybe("genre", self.genre_names(album).next())
            .maybe("coverArt", album.cover.map(|_| album.id.as_str()))
            .attr("duration", seconds(album.duration_secs));
        noted(element, note)
            .maybe("created", album.added.map(time))
            .maybe("artistId", album.artist_ids.first())
            .attr("mediaType", "album")
    }

    /// The artist at `at` as an `ArtistID3` called `name`.
    pub(super) fn artist(&self, name: &'static str, at: usize) -> Element {
        let artist = &self.catalog.artists()[at];
        let note = self.notes.artists.get(&artist.id);
        Element::new(name)
            .attr("id", artist.id.as_str())
            .attr("name", artist.name.as_str())
            .maybe("coverArt", artist.cover.map(|_| artist.id.as_str()))
            .attr("albumCount", artist.albums.len())
            .maybe("starred", note.and_then(|n| n.starred).map(time))
            .maybe("musicBrainzId", artist.musicbrainz_id.as_deref())
    }

    /// The artist at `at` as the folder-style `Artist` (`search2`, `getStarred`).
    pub(super) fn artist_entry(&self, name: &'static str, at: usize) -> Element {
        let artist = &self.catalog.artists()[at];
        let element = Element::new(name)
            .attr("id", artist.id.as_str())
            .attr("name", artist.name.as_str());
        noted(element, self.notes.artists.get(&artist.id))
    }
}
