//! What the HTTP layer sends about the catalog: albums, artists and genres as the page's browse
//! views read them (`/api/albums`, `/api/artists`, `/api/genres` and one of each by id), built
//! from [`crate::catalog`]'s types, which carry no serde. Tracks are named by their
//! [`Track::name`], which the page already holds with the rest of the track list, and by their id,
//! which the listeners' data uses.

use serde::Serialize;

use crate::catalog::{Album, Artist, Catalog, Genre};
use crate::library::Track;

/// An album in a list (a grid of covers, an artist's albums).
#[derive(Serialize)]
pub(in crate::http) struct AlbumJson<'a> {
    /// Its stable id (`al-…`).
    id: &'a str,
    /// The album tag.
    name: &'a str,
    /// The album artist as shown ("Various Artists" for a compilation).
    artist: &'a str,
    /// The album artists' ids.
    artist_ids: &'a [String],
    /// The year, when tagged.
    year: Option<u32>,
    /// Its genres' names.
    genres: Vec<&'a str>,
    /// Whether it is a compilation.
    compilation: bool,
    /// How many tracks it has.
    tracks: usize,
    /// How many discs.
    discs: u32,
    /// Its whole length.
    duration_secs: f64,
    /// The URL of its cover, if it has one.
    art: Option<&'a str>,
}

impl<'a> AlbumJson<'a> {
    /// `album` of `catalog`, whose track indexes point into `tracks`.
    pub(in crate::http) fn new(
        catalog: &'a Catalog,
        tracks: &'a [Track],
        album: &'a Album,
    ) -> Self {
        Self {
            id: &album.id,
            name: &album.name,
            artist: &album.artist,
            artist_ids: &album.artist_ids,
            year: album.year,
            genres: album
                .genres
                .iter()
                .filter_map(|id| catalog.genre(id))
                .map(|genre| genre.name.as_ref())
                .collect(),
            compilation: album.compilation,
            tracks: album.tracks.len(),
            discs: album.discs,
            duration_secs: album.duration_secs,
            art: album
                .cover
                .and_then(|i| tracks.get(i))
                .and_then(|track| track.art.as_deref()),
        }
    }
}

/// `/api/albums`: every album of the catalog, in its order.
#[derive(Serialize)]
pub(in crate::http) struct AlbumList<'a> {
    /// The albums.
    albums: Vec<AlbumJson<'a>>,
}

impl<'a> AlbumList<'a> {
    /// Every album of `catalog`.
    pub(in crate::http) fn new(catalog: &'a Catalog, tracks: &'a [Track]) -> Self {
        Self {
            albums: catalog
                .albums()
                .iter()
                .map(|album| AlbumJson::new(catalog, tracks, album))
                .collect(),
        }
    }
}

/// A track of an album, a genre or a playlist: where the page finds it and where it stands.
#[derive(Serialize)]
pub(in crate::http) struct EntryJson<'a> {
    /// Its stable id (`tr-…`).
    id: &'a str,
    /// [`Track::name`]: the key of the page's track list.
    name: &'a str,
    /// The disc it is on, when tagged.
    disc: Option<u32>,
    /// Its number on the disc, when tagged.
    track: Option<u32>,
}

impl<'a> From<&'a Track> for EntryJson<'a> {
    fn from(track: &'a Track) -> Self {
        Self {
            id: &track.id,
            name: &track.name,
            disc: track.tags.disc_number.map(u32::from),
            track: track.tags.track_number,
        }
    }
}

/// `/api/albums/{id}`: an album and its tracks in disc and track order.
#[derive(Serialize)]
pub(in crate::http) struct AlbumPage<'a> {
    /// The album.
    album: AlbumJson<'a>,
    /// Its tracks.
    tracks: Vec<EntryJson<'a>>,
}

impl<'a> AlbumPage<'a> {
    /// `album` with its tracks.
    pub(in crate::http) fn new(
        catalog: &'a Catalog,
        tracks: &'a [Track],
        album: &'a Album,
    ) -> Self {
        Self {
            album: AlbumJson::new(catalog, tracks, album),
            tracks: entries(tracks, &album.tracks),
        }
    }
}

/// The tracks at `indexes` of `tracks`.
fn entries<'a>(tracks: &'a [Track], indexes: &[usize]) -> Vec<EntryJson<'a>> {
    indexes
        .iter()
        .filter_map(|&i| tracks.get(i))
        .map(EntryJson::from)
        .collect()
}

/// An artist in a list.
#[derive(Serialize)]
pub(in crate::http) struct ArtistJson<'a> {
    /// Its stable id (`ar-…`).
    id: &'a str,
    /// The name as tagged.
    name: &'a str,
    /// How many albums are theirs.
    albums: usize,
    /// How many tracks they appear on.
    tracks: usize,
    /// The URL of a cover of theirs, if any.
    art: Option<&'a str>,
}

impl<'a> ArtistJson<'a> {
    fn new(tracks: &'a [Track], artist: &'a Artist) -> Self {
        Self {
            id: &artist.id,
            name: &artist.name,
            albums: artist.albums.len(),
            tracks: artist.tracks,
            art: artist
                .cover
                .and_then(|i| tracks.get(i))
                .and_then(|track| track.art.as_deref()),
        }
    }
}

/// `/api/artists`: every artist, in the catalog's order.
#[derive(Serialize)]
pub(in crate::http) struct ArtistList<'a> {
    /// The artists.
    artists: Vec<ArtistJson<'a>>,
}

impl<'a> ArtistList<'a> {
    /// Every artist of `catalog`.
    pub(in crate::http) fn new(catalog: &'a Catalog, tracks: &'a [Track]) -> Self {
        Self {
            artists: catalog
                .artists()
                .iter()
                .map(|artist| ArtistJson::new(tracks, artist))
                .collect(),
        }
    }
}

/// `/api/artists/{id}`: an artist and their albums.
#[derive(Serialize)]
pub(in crate::http) struct ArtistPage<'a> {
    /// The artist.
    artist: ArtistJson<'a>,
    /// Their albums, oldest first.
    albums: Vec<AlbumJson<'a>>,
}

impl<'a> ArtistPage<'a> {
    /// `artist` with their albums.
    pub(in crate::http) fn new(
        catalog: &'a Catalog,
        tracks: &'a [Track],
        artist: &'a Artist,
    ) -> Self {
        Self {
            artist: ArtistJson::new(tracks, artist),
            albums: artist
                .albums
                .iter()
                .filter_map(|&i| catalog.albums().get(i))
                .map(|album| AlbumJson::new(catalog, tracks, album))
                .collect(),
        }
    }
}

/// A genre in a list.
#[derive(Serialize)]
pub(in crate::http) struct GenreJson<'a> {
    /// Its stable id (`ge-…`).
    id: &'a str,
    /// The name as first tagged.
    name: &'a str,
    /// How many albums carry it.
    albums: usize,
    /// How many tracks carry it.
    tracks: usize,
}

impl<'a> From<&'a Genre> for GenreJson<'a> {
    fn from(genre: &'a Genre) -> Self {
        Self {
            id: &genre.id,
            name: &genre.name,
            albums: genre.albums.len(),
            tracks: genre.tracks.len(),
        }
    }
}

/// `/api/genres`: every genre, by name.
#[derive(Serialize)]
pub(in crate::http) struct GenreList<'a> {
    /// The genres.
    genres: Vec<GenreJson<'a>>,
}

impl<'a> From<&'a Catalog> for GenreList<'a> {
    fn from(catalog: &'a Catalog) -> Self {
        Self {
            genres: catalog.genres().iter().map(GenreJson::from).collect(),
        }
    }
}

/// `/api/genres/{id}`: a genre, its albums and its tracks.
#[derive(Serialize)]
pub(in crate::http) struct GenrePage<'a> {
    /// The genre.
    genre: GenreJson<'a>,
    /// Its albums.
    albums: Vec<AlbumJson<'a>>,
    /// Its tracks, in list order.
    tracks: Vec<EntryJson<'a>>,
}

impl<'a> GenrePage<'a> {
    /// `genre` with its albums and tracks.
    pub(in crate::http) fn new(
        catalog: &'a Catalog,
        tracks: &'a [Track],
        genre: &'a Genre,
    ) -> Self {
        Self {
            genre: GenreJson::from(genre),
            albums: genre
                .albums
                .iter()
                .filter_map(|&i| catalog.albums().get(i))
                .map(|album| AlbumJson::new(catalog, tracks, album))
                .collect(),
            tracks: entries(tracks, &genre.tracks),
        }
    }
}
