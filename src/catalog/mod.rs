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
    /// Each track's album, as an index into `albums`.
    album_of: Vec<Option<u32>>,
    /// Each track's artists.
    track_artists: artists::TrackArtists,
    /// The albums by name without case (then catalog order), and the newest first: the orders
    /// album lists page through, sorted once.
    by_name: Vec<u32>,
    newest: Vec<u32>,
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
        let (artists, track_artists) =
            artists::build(tracks, &albums, &credits, &album_of, &mut keys);
        let mut by_name: Vec<u32> = (0..albums.len() as u32).collect();
        by_name.sort_by_cached_key(|&at| (albums[at as usize].name.to_lowercase(), at));
        let mut newest: Vec<u32> = (0..albums.len() as u32).collect();
        newest.sort_by_key(|&at| (std::cmp::Reverse(albums[at as usize].added), at));
        Self {
            by_name,
            newest,
            album_ids: IdIndex::new("al", albums.iter().map(|a| a.id.as_str())),
            artist_ids: IdIndex::new("ar", artists.iter().map(|a| a.id.as_str())),
            genre_ids: IdIndex::new("ge", genres.iter().map(|g| g.id.as_str())),
            albums,
            artists,
            genres,
            album_of,
            track_artists,
        }
    }

    /// The album of the track at `track` (an index into the tracks it was built from), if it has one.
    pub fn album_of(&self, track: usize) -> Option<&Album> {
        let at = (*self.album_of.get(track)?)?;
        self.albums.get(at as usize)
    }

    /// The artists the track at `track` credits, in its tags' order.
    pub fn track_artists(&self, track: usize) -> impl Iterator<Item = &Artist> {
        self.track_artists
            .of(track)
            .iter()
            .map(|&at| &self.artists[at as usize])
    }

    /// Every album (its index in [`Catalog::albums`]) by name, without case.
    pub fn albums_by_name(&self) -> impl Iterator<Item = usize> {
        self.by_name.iter().map(|&at| at as usize)
    }

    /// Every album (its index in [`Catalog::albums`]), the most recently added first.
    pub fn albums_newest(&self) -> impl Iterator<Item = usize> {
        self.newest.iter().map(|&at| at as usize)
    }

    /// Every album, by album artist (sort name: without case or a leading "The "), then year
    /// (unknown last), then name.
    pub fn albums(&self) -> &[Album] {
        &self.albums
    }

    /// The album with id `id`.
    pub fn album(&self, id: &str) -> Option<&Album> {
        Some(&self.albums[self.album_index(id)?])
    }

    /// Where in [`Catalog::albums`] the album with id `id` is.
    pub fn album_index(&self, id: &str) -> Option<usize> {
        self.album_ids.find("al", id, |i| self.albums[i].id == id)
    }

    /// Every artist, by name without case or a leading "The ".
    pub fn artists(&self) -> &[Artist] {
        &self.artists
    }

    /// The artist with id `id`.
    pub fn artist(&self, id: &str) -> Option<&Artist> {
        Some(&self.artists[self.artist_index(id)?])
    }

    /// Where in [`Catalog::artists`] the artist with id `id` is.
    pub fn artist_index(&self, id: &str) -> Option<usize> {
        self.artist_ids.find("ar", id, |i| self.artists[i].id == id)
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

/// Tracks for the catalog's unit tests, tagged in place (no files).
#[cfg(test)]
pub(super) mod fixtures {
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    use crate::library::{Artwork, Mbid, MusicBrainz, Tags, Track};

    /// A track being tagged.
    pub(crate) struct Tagged(Track);

    /// A track at `relative` titled `title`, of one second.
    pub(crate) fn track(relative: &str, title: &str) -> Tagged {
        let tags = Tags {
            title: Some(title.into()),
            duration_secs: Some(1.0),
            ..Tags::default()
        };
        Tagged(Track::for_tests(relative, tags))
    }

    impl Tagged {
        fn tags(&mut self) -> &mut Tags {
            &mut self.0.tags
        }
        fn mb(&mut self) -> &mut MusicBrainz {
            self.tags().musicbrainz.get_or_insert_default()
        }
        pub(crate) fn artist(mut self, artist: &str) -> Self {
            self.tags().artist = Some(artist.into());
            self
        }
        pub(crate) fn artists(mut self, artists: &[&str]) -> Self {
            self.tags().artist = Some(artists.join(" feat. "));
            self.tags().artists = artists.iter().map(|&a| a.into()).collect();
            self
        }
        pub(crate) fn album(mut self, album: &str) -> Self {
            self.tags().album = Some(album.into());
            self
        }
        pub(crate) fn album_artist(mut self, artist: &str) -> Self {
            self.tags().album_artist = Some(artist.into());
            self
        }
        pub(crate) fn genres(mut self, genres: &[&str]) -> Self {
            self.tags().genres = genres.iter().map(|&g| g.into()).collect();
            self
        }
        pub(crate) fn number(mut self, disc: Option<u16>, track: u32) -> Self {
            self.tags().disc_number = disc;
            self.tags().track_number = Some(track);
            self
        }
        pub(crate) fn year(mut self, year: u16) -> Self {
            self.tags().year = Some(year);
            self
        }
        pub(crate) fn compilation(mut self) -> Self {
            self.tags().compilation = true;
            self
        }
        pub(crate) fn release(mut self, id: &str) -> Self {
            self.mb().release = Mbid::parse(id);
            self
        }
        pub(crate) fn artist_ids(mut self, ids: &[&str]) -> Self {
            self.mb().artists = ids.iter().filter_map(|id| Mbid::parse(id)).collect();
            self
        }
        pub(crate) fn cover(mut self) -> Self {
            let path = Arc::clone(&self.0.path);
            self.0.artwork = Some(Arc::new(Artwork::new(&path, true, 1, None)));
            self
        }
        pub(crate) fn modified(mut self, secs: u64) -> Self {
            self.0.modified = Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs));
            self
        }
        pub(crate) fn done(self) -> Track {
            self.0
        }
    }

    /// The names of `albums`, in order.
    pub(crate) fn album_names(catalog: &super::Catalog) -> Vec<(&str, &str)> {
        catalog
            .albums()
            .iter()
            .map(|a| (a.artist.as_str(), a.name.as_str()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::track;
    use super::*;

    fn library() -> Vec<Track> {
        vec![
            track("a/1.mp3", "One")
                .artist("Alice")
                .album("First")
                .genres(&["Rock"])
                .done(),
            track("a/2.mp3", "Two")
                .artist("Alice")
                .album("First")
                .genres(&["Jazz"])
                .done(),
            track("b/1.mp3", "Three")
                .artist("Bob")
                .album("Second")
                .genres(&["rock"])
                .done(),
            track("loose.mp3", "Loose").artist("Carol").done(),
        ]
    }

    #[test]
    fn every_album_artist_and_genre_is_found_by_its_id_and_nothing_else_is() {
        let catalog = Catalog::build(&library());
        assert_eq!(catalog.albums().len(), 2);
        assert_eq!(catalog.artists().len(), 3);
        assert_eq!(catalog.genres().len(), 2, "rock and Rock are one");
        for album in catalog.albums() {
            assert!(album.id.starts_with("al-") && album.id.len() == 19);
            assert_eq!(catalog.album(&album.id), Some(album));
        }
        for artist in catalog.artists() {
            assert!(artist.id.starts_with("ar-") && artist.id.len() == 19);
            assert_eq!(catalog.artist(&artist.id), Some(artist));
        }
        for genre in catalog.genres() {
            assert!(genre.id.starts_with("ge-") && genre.id.len() == 19);
            assert_eq!(catalog.genre(&genre.id), Some(genre));
        }
        let album = &catalog.albums()[0].id;
        for miss in [
            "",
            "al-0000000000000000",
            &album.replace("al-", "ar-"),
            "al-",
        ] {
            assert_eq!(catalog.album(miss), None, "{miss}");
        }
        assert_eq!(catalog.artist(album), None, "an album's id is no artist's");
    }

    #[test]
    fn ids_depend_on_what_the_tags_say_not_on_the_order_of_the_tracks() {
        let tracks = library();
        let mut reversed = library();
        reversed.reverse();
        let (a, b) = (Catalog::build(&tracks), Catalog::build(&reversed));
        let ids = |c: &Catalog| {
            let mut ids: Vec<String> = (c.albums().iter().map(|a| a.id.clone()))
                .chain(c.artists().iter().map(|a| a.id.clone()))
                .chain(c.genres().iter().map(|g| g.id.clone()))
                .collect();
            ids.sort();
            ids
        };
        assert_eq!(ids(&a), ids(&b));
        assert_eq!(
            fixtures::album_names(&a),
            fixtures::album_names(&b),
            "and neither does the order of the lists"
        );
        let alice = |c: &Catalog| {
            c.artists()
                .iter()
                .find(|a| a.name == "Alice")
                .unwrap()
                .id
                .clone()
        };
        assert_eq!(alice(&a), crate::library::ids::hashed("ar", "name\0alice"));
    }
}
