//! The catalog: a snapshot's tracks as albums, artists and genres, each with a stable id.
//! Framework-free and without wire formats (what clients see of it is the HTTP layer's own
//! types); built from a `&[Track]` by [`Catalog::build`], once per snapshot, when first asked for
//! (`Library::catalog`).
//!
//! - `albums`: which album each track belongs to, and the album's facts; compilations;
//! - `artists`: album artists and track artists; `genres`: genres and each album's genres;
//! - `names`: names normalised once and numbered, sort names; `ids`: the ids and their index.
//!
//! Indexes into the tracks slice (`Album::tracks`, covers) refer to the slice it was built from:
//! a catalog belongs to one snapshot. The rules ids are derived by are in `docs/ids.md`.

mod albums;
mod artists;
mod genres;
mod ids;
mod names;

use std::time::SystemTime;

use self::ids::IdIndex;
use self::names::Keys;
use crate::library::Track;

/// A snapshot's albums, artists and genres.
#[derive(Debug, Default)]
pub struct Catalog {
    albums: Vec<Album>,
    artists: Vec<Artist>,
    genres: Vec<Genre>,
    album_ids: IdIndex,
    artist_ids: IdIndex,
    genre_ids: IdIndex,
}

/// An album: tracks that share a MusicBrainz release, or an album artist and an album name.
#[derive(Debug, Clone, PartialEq)]
pub struct Album {
    /// Its stable id (`al-` and 16 hex digits).
    pub id: String,
    /// Its name, as its first track's album tag spells it.
    pub name: String,
    /// The album artist to show: the album artist tag, "Various Artists" for a compilation, or the
    /// one artist of an album whose tracks name no album artist; empty if no one is named.
    pub artist: String,
    /// The ids of its album artists (several when the tags name several), in their order.
    pub artist_ids: Vec<String>,
    /// The earliest year its tracks give.
    pub year: Option<u32>,
    /// The ids of its genres, in the order its tracks first name them.
    pub genres: Vec<String>,
    /// A compilation: marked so by a track, or filed under "Various Artists".
    pub compilation: bool,
    /// Its tracks, as indexes into the tracks it was built from: by disc (none counts as the
    /// first), then track number (none last), then title.
    pub tracks: Vec<usize>,
    /// How many discs: the highest disc number or disc total its tracks give, at least 1.
    pub discs: u32,
    /// The sum of its tracks' lengths.
    pub duration_secs: f64,
    /// The first of its tracks (in album order) with a cover, embedded or from its folder: the
    /// album's cover is that track's.
    pub cover: Option<usize>,
    /// Its MusicBrainz release id, when its tracks are grouped by one.
    pub musicbrainz_id: Option<String>,
    /// When it was added: the newest modification time of its files.
    pub added: Option<SystemTime>,
}

/// An artist: an album artist, a track artist, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artist {
    /// Its stable id (`ar-` and 16 hex digits).
    pub id: String,
    /// Its name, as first spelled (album credits first, in album order, then tracks).
    pub name: String,
    /// The albums it is the album artist of, as indexes into [`Catalog::albums`], by year (unknown
    /// last), then name.
    pub albums: Vec<usize>,
    /// The albums it appears on only as a track artist (someone else's, or a compilation), in the
    /// same order.
    pub appears_on: Vec<usize>,
    /// How many tracks credit it, as a track artist or as their album's artist.
    pub tracks: usize,
    /// Its MusicBrainz artist id, when it is known by one.
    pub musicbrainz_id: Option<String>,
    /// A track whose cover stands for it (as an index into the tracks): the cover of its first
    /// album that has one, else of its first track with one.
    pub cover: Option<usize>,
}

/// A genre, with its tracks and albums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genre {
    /// Its stable id (`ge-` and 16 hex digits).
    pub id: String,
    /// Its name, as first spelled.
    pub name: String,
    /// The albums with a track of this genre, as indexes into [`Catalog::albums`], in album order.
    pub albums: Vec<usize>,
    /// Its tracks, as indexes into the tracks, in their order.
    pub tracks: Vec<usize>,
}

impl Catalog {
    /// The albums, artists and genres of `tracks` (a snapshot's tracks, in its order).
    pub fn build(tracks: &[Track]) -> Self {
        let mut keys = Keys::new();
        let albums::Albums {
            mut albums,
            credits,
            album_of,
        } = albums::build(tracks, &mut keys);
        let genres = genres::build(tracks, &mut albums, &album_of, &mut keys);
        let artists = artists::build(tracks, &albums, &credits, &album_of, &mut keys);
        Self {
            album_ids: IdIndex::new("al", albums.iter().map(|a| a.id.as_str())),
            artist_ids: IdIndex::new("ar", artists.iter().map(|a| a.id.as_str())),
            genre_ids: IdIndex::new("ge", genres.iter().map(|g| g.id.as_str())),
            albums,
            artists,
            genres,
        }
    }

    /// Every album, by album artist (sort name: without case or a leading "The "), then year
    /// (unknown last), then name.
    pub fn albums(&self) -> &[Album] {
        &self.albums
    }

    /// The album with id `id`.
    pub fn album(&self, id: &str) -> Option<&Album> {
        let at = self.album_ids.find("al", id, |i| self.albums[i].id == id)?;
        Some(&self.albums[at])
    }

    /// Every artist, by name without case or a leading "The ".
    pub fn artists(&self) -> &[Artist] {
        &self.artists
    }

    /// The artist with id `id`.
    pub fn artist(&self, id: &str) -> Option<&Artist> {
        let at = self
            .artist_ids
            .find("ar", id, |i| self.artists[i].id == id)?;
        Some(&self.artists[at])
    }

    /// Every genre, by name without case.
    pub fn genres(&self) -> &[Genre] {
        &self.genres
    }

    /// The genre with id `id`.
    pub fn genre(&self, id: &str) -> Option<&Genre> {
        let at = self.genre_ids.find("ge", id, |i| self.genres[i].id == id)?;
        Some(&self.genres[at])
    }
}
