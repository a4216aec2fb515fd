//! Browsing: by folder (`getIndexes`, `getMusicDirectory`, over the library's real folders, for
//! the apps that browse that way) and by tags (`getArtists`, `getArtist`, `getAlbum`, `getSong`,
//! `getGenres`), with what the library knows of artists and albums (`getArtistInfo2`,
//! `getAlbumInfo2`) and songs found from it (`getTopSongs`, `getSimilarSongs2`).
//!
//! Folders are named by `fo-` ids (`docs/ids.md`); `getMusicDirectory` also opens an album or an
//! artist by its id, as the folder-style lists (`getAlbumList`, `search2`) hand those out.

use std::collections::BTreeSet;

use super::envelope::Element;
use super::items::{Notes, View};
use super::{Call, Fault};
use crate::catalog::Catalog;
use crate::library::{Library, Track, ids};

/// The articles the artists' index ignores (as the catalog's sort names do).
const IGNORED_ARTICLES: &str = "The";

/// Every folder that holds a track, with the folders above it, by path (`""` is the root).
fn folders(tracks: &[Track]) -> BTreeSet<&str> {
    let mut all = BTreeSet::from([""]);
    let mut last = None;
    for track in tracks {
        let folder = &*track.folder;
        if last == Some(folder) {
            continue;
        }
        last = Some(folder);
        let mut at = 0;
        while let Some(slash) = folder[at..].find('/') {
            all.insert(&folder[..at + slash]);
            at += slash + 1;
        }
        all.insert(folder);
    }
    all
}

/// The last part of a folder's path.
fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The folder above `path` (`None` for the root).
fn parent_of(path: &str) -> Option<&str> {
    match path.rsplit_once('/') {
        Some((parent, _)) => Some(parent),
        None if path.is_empty() => None,
        None => Some(""),
    }
}

/// The index letter a name files under: its sort name's first letter, upper-cased; `#` for
/// anything but a letter.
fn letter(name: &str) -> String {
    let trimmed = name.trim_start();
    let sort = trimmed
        .get(..4)
        .filter(|head| head.eq_ignore_ascii_case("the "))
        .map_or(trimmed, |_| &trimmed[4..]);
    match sort.chars().next() {
        Some(c) if c.is_alphabetic() => c.to_uppercase().collect(),
        _ => "#".to_owned(),
    }
}

/// `(letter, entries)` groups, in the order of `entries` (already by sort name).
fn indexed(entries: Vec<(String, Element)>) -> Vec<Element> {
    let mut groups: Vec<(String, Vec<Element>)> = Vec::new();
    for (name, element) in entries {
        let letter = letter(&name);
        match groups.iter_mut().find(|(l, _)| *l == letter) {
            Some((_, group)) => group.push(element),
            None => groups.push((letter, vec![element])),
        }
    }
    groups.sort_by(|(a, _), (b, _)| (a == "#").cmp(&(b == "#")).then(a.cmp(b)));
    groups
        .into_iter()
        .map(|(name, group)| {
            Element::new("index")
                .attr("name", name)
                .list("artist", group)
        })
        .collect()
}

/// A folder as a directory entry (`Child` with `isDir`).
fn folder_entry(path: &str) -> Element {
    Element::new("child")
        .attr("id", ids::folder(path))
        .attr("parent", ids::folder(parent_of(path).unwrap_or("")))
        .attr("isDir", true)
        .attr("title", base_name(path))
}

/// The folders right under `path`, and the tracks in it (as indexes).
fn contents<'a>(
    all: &BTreeSet<&'a str>,
    tracks: &[Track],
    path: &str,
) -> (Vec<&'a str>, Vec<usize>) {
    let under: Vec<&str> = all
        .iter()
        .copied()
        .filter(|&folder| !folder.is_empty() && parent_of(folder) == Some(path))
        .collect();
    let here = tracks
        .iter()
        .enumerate()
        .filter(|(_, track)| &*track.folder == path)
        .map(|(i, _)| i)
        .collect();
    (under, here)
}

impl Call<'_> {
    /// The view of `library` with `user`'s notes on the tracks, albums and artists given.
    pub(super) async fn view<'l>(
        &self,
        library: &'l Library,
        tracks: &[usize],
        albums: &[usize],
        artists: &[usize],
    ) -> Result<View<'l>, Fault> {
        let catalog = library.catalog();
        let notes = Notes::fetch(
            &self.state.data,
            self.user,
            (library, catalog),
            tracks,
            albums,
            artists,
        )
        .await?;
        Ok(View {
            tracks: library.tracks(),
            catalog,
            notes,
        })
    }

    /// `getIndexes`: the library's top folders by letter, and the tracks at its top.
    pub(super) async fn indexes(&self, library: &Library) -> Result<Element, Fault> {
        let tracks = library.tracks();
        let modified = tracks
            .iter()
            .filter_map(|track| track.modified)
            .max()
            .and_then(|at| at.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |since| {
                i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
            });
        let since: i64 = self.params.number("ifModifiedSince", 0)?;
        let mut indexes = Element::new("indexes")
            .attr("lastModified", modified)
            .attr("ignoredArticles", IGNORED_ARTICLES);
        if since > 0 && modified <= since {
            return Ok(indexes);
        }
        let all = folders(tracks);
        let (mut top, here) = contents(&all, tracks, "");
        top.sort_by_cached_key(|path| base_name(path).to_lowercase());
        let entries = top
            .into_iter()
            .map(|path| {
                let name = base_name(path);
                let artist = Element::new("artist")
                    .attr("id", ids::folder(path))
                    .attr("name", name);
                (name.to_owned(), artist)
            })
            .collect();
        let view = self.view(library, &here, &[], &[]).await?;
        indexes = indexes.list("index", indexed(entries));
        Ok(indexes.list(
            "child",
            here.iter().map(|&i| view.song("child", i)).collect(),
        ))
    }

    /// `getMusicDirectory`: a folder's folders and tracks; or an album's tracks, or an artist's
    /// albums, by their ids.
    pub(super) async fn directory(&self, library: &Library) -> Result<Element, Fault> {
        let id = self.params.required("id")?;
        let catalog = library.catalog();
        if let Some(at) = catalog.album_index(id) {
            let album = &catalog.albums()[at];
            let view = self.view(library, &album.tracks, &[at], &[]).await?;
            let songs = album
                .tracks
                .iter()
                .map(|&i| view.song("child", i))
                .collect();
            return Ok(Element::new("directory")
                .attr("id", id)
                .maybe("parent", album.artist_ids.first())
                .attr("name", album.name.as_str())
                .list("child", songs));
        }
        if let Some(at) = catalog.artist_index(id) {
            let artist = &catalog.artists()[at];
            let albums = albums_of(artist);
            let view = self.view(library, &[], &albums, &[at]).await?;
            let children = albums
                .iter()
                .map(|&a| view.album_directory("child", a))
                .collect();
            return Ok(Element::new("directory")
                .attr("id", id)
                .attr("name", artist.name.as_str())
                .list("child", children));
        }
        let tracks = library.tracks();
        let all = folders(tracks);
        let Some(path) = all.iter().copied().find(|path| ids::folder(path) == id) else {
            return Err(Fault::NotFound);
        };
        let (mut under, here) = contents(&all, tracks, path);
        under.sort_by_cached_key(|path| base_name(path).to_lowercase());
        let view = self.view(library, &here, &[], &[]).await?;
        let name = if path.is_empty() {
            super::folder_name(self.state)
        } else {
            base_name(path)
        };
        let children = under
            .into_iter()
            .map(folder_entry)
            .chain(here.iter().map(|&i| view.song("child", i)))
            .collect();
        Ok(Element::new("directory")
            .attr("id", id)
            .maybe("parent", parent_of(path).map(ids::folder))
            .attr("name", name)
            .list("child", children))
    }

    /// `getArtists`: every album artist, by letter.
    pub(super) async fn artists(&self, library: &Library) -> Result<Element, Fault> {
        let catalog = library.catalog();
        let listed: Vec<usize> = (0..catalog.artists().len())
            .filter(|&at| !catalog.artists()[at].albums.is_empty())
            .collect();
        let view = self.view(library, &[], &[], &listed).await?;
        let entries = listed
            .iter()
            .map(|&at| {
                (
                    catalog.artists()[at].name.clone(),
                    view.artist("artist", at),
                )
            })
            .collect();
        Ok(Element::new("artists")
            .attr("ignoredArticles", IGNORED_ARTICLES)
            .list("index", indexed(entries)))
    }

    /// `getArtist`: an artist and their albums (their own, then those they appear on).
    pub(super) async fn artist(&self, library: &Library) -> Result<Element, Fault> {
        let catalog = library.catalog();
        let at = artist_at(catalog, self.params.required("id")?)?;
        let artist = &catalog.artists()[at];
        let albums = albums_of(artist);
        let view = self.view(library, &[], &albums, &[at]).await?;
        let listed = albums
            .iter()
            .map(|&a| view.album("album", a, false))
            .collect();
        Ok(view.artist("artist", at).list("album", listed))
    }

    /// `getAlbum`: an album and its songs.
    pub(super) async fn album(&self, library: &Library) -> Result<Element, Fault> {
        let catalog = library.catalog();
        let id = self.params.required("id")?;
        let at = catalog.album_index(id).ok_or(Fault::NotFound)?;
        let tracks = &catalog.albums()[at].tracks;
        let view = self.view(library, tracks, &[at], &[]).await?;
        Ok(view.album("album", at, true))
    }

    /// `getSong`: one song.
    pub(super) async fn song(&self, library: &Library) -> Result<Element, Fault> {
        let i = track_at(library, self.params.required("id")?)?;
        let view = self.view(library, &[i], &[], &[]).await?;
        Ok(view.song("song", i))
    }

    /// `getGenres`: every genre with how many songs and albums it has.
    pub(super) fn genres(&self, library: &Library) -> Element {
        let genres = library
            .catalog()
            .genres()
            .iter()
            .map(|genre| {
                Element::new("genre")
                    .attr("songCount", genre.tracks.len())
                    .attr("albumCount", genre.albums.len())
                    .text(genre.name.as_str())
            })
            .collect();
        Element::new("genres").list("genre", genres)
    }

    /// `getArtistInfo2` (and `getArtistInfo`): what the library knows of an artist (its
    /// MusicBrainz id) and the artists who share its genres, the most shared first.
    pub(super) async fn artist_info(&self, library: &Library, two: bool) -> Result<Element, Fault> {
        let catalog = library.catalog();
        let at = artist_at(catalog, self.params.required("id")?)?;
        let count: usize = self.params.count("count", 20, 500)?;
        let artist = &catalog.artists()[at];
        let similar: Vec<usize> = similar_artists(catalog, at)
            .into_iter()
            .take(count)
            .collect();
        let view = self.view(library, &[], &[], &similar).await?;
        let mut info = Element::new(if two { "artistInfo2" } else { "artistInfo" });
        if let Some(mbid) = &artist.musicbrainz_id {
            info = info.child(Element::new("musicBrainzId").text(mbid.as_str()));
        }
        let listed = similar
            .iter()
            .map(|&a| {
                if two {
                    view.artist("similarArtist", a)
                } else {
                    view.artist_entry("similarArtist", a)
                }
            })
            .collect();
        Ok(info.list("similarArtist", listed))
    }

    /// `getAlbumInfo2` (and `getAlbumInfo`): what the library knows of an album (its MusicBrainz
    /// id).
    pub(super) fn album_info(&self, library: &Library) -> Result<Element, Fault> {
        let album = library
            .catalog()
            .album(self.params.required("id")?)
            .ok_or(Fault::NotFound)?;
        let mut info = Element::new("albumInfo");
        if let Some(mbid) = &album.musicbrainz_id {
            info = info.child(Element::new("musicBrainzId").text(mbid.as_str()));
        }
        Ok(info)
    }

    /// `getTopSongs`: an artist's songs (by name, as the call asks), the most played first.
    pub(super) async fn top_songs(&self, library: &Library) -> Result<Element, Fault> {
        let catalog = library.catalog();
        let name = self.params.required("artist")?;
        let count: usize = self.params.count("count", 50, 500)?;
        let wanted = ids::normalize(name);
        let mut songs: Vec<usize> = (0..library.tracks().len())
            .filter(|&i| {
                catalog
                    .track_artists(i)
                    .any(|a| ids::normalize(&a.name) == wanted)
            })
            .collect();
        let view = self.view(library, &songs, &[], &[]).await?;
        songs.sort_by_key(|&i| std::cmp::Reverse(view.plays(i)));
        songs.truncate(count);
        let listed = songs.iter().map(|&i| view.song("song", i)).collect();
        Ok(Element::new("topSongs").list("song", listed))
    }

    /// `getSimilarSongs2` (and `getSimilarSongs`): for an artist, album or song, songs from the
    /// library that share its artists or its genres, the same artist first.
    pub(super) async fn similar_songs(
        &self,
        library: &Library,
        two: bool,
    ) -> Result<Element, Fault> {
        let catalog = library.catalog();
        let id = self.params.required("id")?;
        let count: usize = self.params.count("count", 50, 500)?;
        let tracks = library.tracks();
        let (artists, genres, own): (Vec<&str>, Vec<&str>, Vec<usize>) =
            if let Some(at) = catalog.artist_index(id) {
                let artist = &catalog.artists()[at];
                (vec![artist.id.as_str()], Vec::new(), Vec::new())
            } else if let Some(album) = catalog.album(id) {
                let genres = album
                    .genres
                    .iter()
                    .filter_map(|g| catalog.genre(g))
                    .map(|g| g.name.as_str())
                    .collect();
                let artists = album.artist_ids.iter().map(String::as_str).collect();
                (artists, genres, album.tracks.clone())
            } else {
                let i = track_at(library, id)?;
                let artists = catalog.track_artists(i).map(|a| a.id.as_str()).collect();
                let genres = tracks[i].tags.genres.iter().map(|g| &**g).collect();
                (artists, genres, vec![i])
            };
        let mut same_artist = Vec::new();
        let mut same_genre = Vec::new();
        for (i, track) in tracks.iter().enumerate() {
            if own.contains(&i) {
                continue;
            }
            if catalog
                .track_artists(i)
                .any(|a| artists.contains(&a.id.as_str()))
            {
                same_artist.push(i);
            } else if track.tags.genres.iter().any(|g| genres.contains(&&**g)) {
                same_genre.push(i);
            }
        }
        super::lists::shuffle(&mut same_artist);
        super::lists::shuffle(&mut same_genre);
        let songs: Vec<usize> = same_artist
            .into_iter()
            .chain(same_genre)
            .take(count)
            .collect();
        let view = self.view(library, &songs, &[], &[]).await?;
        let listed = songs.iter().map(|&i| view.song("song", i)).collect();
        let name = if two { "similarSongs2" } else { "similarSongs" };
        Ok(Element::new(name).list("song", listed))
    }
}

/// Artists who share a genre with the artist at `at`, by how many of its genres they share.
fn similar_artists(catalog: &Catalog, at: usize) -> Vec<usize> {
    let artist = &catalog.artists()[at];
    let genres_of = |artist: &crate::catalog::Artist| -> BTreeSet<&str> {
        artist
            .albums
            .iter()
            .chain(&artist.appears_on)
            .flat_map(|&a| catalog.albums()[a].genres.iter().map(String::as_str))
            .collect()
    };
    let own = genres_of(artist);
    if own.is_empty() {
        return Vec::new();
    }
    let mut shared: Vec<(usize, usize)> = catalog
        .artists()
        .iter()
        .enumerate()
        .filter(|&(other, _)| other != at)
        .map(|(other, artist)| (other, genres_of(artist).intersection(&own).count()))
        .filter(|&(_, n)| n > 0)
        .collect();
    shared.sort_by_key(|&(other, n)| (std::cmp::Reverse(n), other));
    shared.into_iter().map(|(other, _)| other).collect()
}

/// An artist's albums: their own, then those they appear on.
fn albums_of(artist: &crate::catalog::Artist) -> Vec<usize> {
    artist
        .albums
        .iter()
        .chain(&artist.appears_on)
        .copied()
        .collect()
}

/// The artist with id `id`, or "not found".
fn artist_at(catalog: &Catalog, id: &str) -> Result<usize, Fault> {
    catalog.artist_index(id).ok_or(Fault::NotFound)
}

/// The track with id `id`, or "not found".
pub(super) fn track_at(library: &Library, id: &str) -> Result<usize, Fault> {
    library.index_of(id).ok_or(Fault::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_listed_with_their_parents_and_index_letters_skip_the() {
        assert_eq!(parent_of("a/b"), Some("a"));
        assert_eq!(parent_of("a"), Some(""));
        assert_eq!(parent_of(""), None);
        assert_eq!(base_name("a/b"), "b");
        assert_eq!(letter("The Beatles"), "B");
        assert_eq!(letter("élan"), "É");
        assert_eq!(letter("10cc"), "#");
        assert_eq!(letter(""), "#");
    }
}
