//! Lists and searches: `getAlbumList2` and `getAlbumList` with every type, `getRandomSongs`,
//! `getSongsByGenre`, `search3` and `search2` (an empty query pages through the whole library, as
//! apps sync), `getStarred2` and `getStarred`.
//!
//! A list is chosen as indexes into the snapshot's tracks or the catalog's albums and artists,
//! paged, and only then are the listener's notes fetched, for that page alone.

use std::collections::HashMap;
use std::time::SystemTime;

use rand::SeedableRng as _;
use rand::rngs::StdRng;
use rand::seq::SliceRandom as _;

use super::envelope::Element;
use super::items::View;
use super::{Call, Fault};
use crate::catalog::Catalog;
use crate::data::Kind;
use crate::library::{Library, ids};

/// The most entries one page of a list holds.
const PAGE_MAX: usize = 500;

/// Puts `list` in a random order.
pub(super) fn shuffle<T>(list: &mut [T]) {
    list.shuffle(&mut StdRng::from_os_rng());
}

/// `offset` and `size` applied to `list`.
fn page<T>(list: Vec<T>, offset: usize, size: usize) -> Vec<T> {
    list.into_iter().skip(offset).take(size).collect()
}

/// Whether `name` (as a person typed it) names the genre `genre`.
fn same_name(name: &str, genre: &str) -> bool {
    ids::normalize(name) == ids::normalize(genre)
}

impl Call<'_> {
    /// The years asked for: `fromYear` and `toYear`, either missing.
    fn years(&self) -> Result<(Option<u32>, Option<u32>), Fault> {
        let year = |name| {
            self.params
                .get(name)
                .map(|_| self.params.number(name, 0u32))
                .transpose()
        };
        Ok((year("fromYear")?, year("toYear")?))
    }

    /// The albums `getAlbumList2` asks for, in order, paged (indexes into the catalog's albums).
    async fn albums_listed(&self, library: &Library) -> Result<Vec<usize>, Fault> {
        let catalog = library.catalog();
        let kind = self.params.required("type")?;
        let size = self.params.count("size", 10, PAGE_MAX)?;
        let offset = self.params.count("offset", 0, usize::MAX)?;
        let all = 0..catalog.albums().len();
        let albums = catalog.albums();
        let mut list: Vec<usize> = match kind {
            "random" => {
                let mut list: Vec<usize> = all.collect();
                shuffle(&mut list);
                return Ok(page(list, 0, size));
            }
            "newest" => catalog.albums_newest().collect(),
            "alphabeticalByName" => catalog.albums_by_name().collect(),
            "alphabeticalByArtist" => all.collect(),
            "byYear" => {
                let (Some(from), Some(to)) = self.years()? else {
                    return Err(Fault::Missing("fromYear and toYear"));
                };
                let (low, high) = (from.min(to), from.max(to));
                let mut list: Vec<usize> = all
                    .filter(|&at| albums[at].year.is_some_and(|y| (low..=high).contains(&y)))
                    .collect();
                list.sort_by_key(|&at| (albums[at].year, at));
                if from > to {
                    list.reverse();
                }
                list
            }
            "byGenre" => {
                let genre = self.params.required("genre")?;
                match catalog.genres().iter().find(|g| same_name(genre, &g.name)) {
                    Some(genre) => genre.albums.clone(),
                    None => Vec::new(),
                }
            }
            "starred" => {
                let starred = self
                    .state
                    .data
                    .starred(self.user, Kind::Album)
                    .await
                    .map_err(Fault::Data)?;
                starred
                    .iter()
                    .filter_map(|item| catalog.album_index(&item.id))
                    .collect()
            }
            "highest" => {
                let rated = self.annotated(Kind::Album).await?;
                let mut list: Vec<(usize, u8)> = rated
                    .iter()
                    .filter_map(|(id, note)| Some((catalog.album_index(id)?, note.rating?)))
                    .collect();
                list.sort_by_key(|&(at, rating)| (std::cmp::Reverse(rating), at));
                list.into_iter().map(|(at, _)| at).collect()
            }
            "frequent" | "recent" => {
                let plays = album_plays(library, catalog, self.annotated(Kind::Track).await?);
                let mut list: Vec<(usize, (u64, Option<SystemTime>))> = plays.into_iter().collect();
                if kind == "frequent" {
                    list.sort_by_key(|&(at, (count, _))| (std::cmp::Reverse(count), at));
                } else {
                    list.sort_by_key(|&(at, (_, last))| (std::cmp::Reverse(last), at));
                }
                list.into_iter().map(|(at, _)| at).collect()
            }
            other => return Err(Fault::Invalid(format!("unknown album list type {other:?}"))),
        };
        if let Some(genre) = self.params.get("genre").filter(|_| kind != "byGenre") {
            list.retain(|&at| {
                let names = albums[at].genres.iter().filter_map(|id| catalog.genre(id));
                names.into_iter().any(|g| same_name(genre, &g.name))
            });
        }
        Ok(page(list, offset, size))
    }

    async fn annotated(&self, kind: Kind) -> Result<Vec<(String, crate::data::Annotation)>, Fault> {
        self.state
            .data
            .annotated(self.user, kind)
            .await
            .map_err(Fault::Data)
    }

    /// `getAlbumList2` (`AlbumID3` entries) and `getAlbumList` (directory entries).
    pub(super) async fn album_list(&self, library: &Library, two: bool) -> Result<Element, Fault> {
        let albums = self.albums_listed(library).await?;
        let view = self.view(library, &[], &albums, &[]).await?;
        let listed = albums
            .iter()
            .map(|&at| {
                if two {
                    view.album("album", at, false)
                } else {
                    view.album_directory("album", at)
                }
            })
            .collect();
        let name = if two { "albumList2" } else { "albumList" };
        Ok(Element::new(name).list("album", listed))
    }

    /// `getRandomSongs`: up to `size` songs, of `genre` and between the years if asked.
    pub(super) async fn random_songs(&self, library: &Library) -> Result<Element, Fault> {
        let size = self.params.count("size", 10, PAGE_MAX)?;
        let genre = self.params.get("genre");
        let (from, to) = self.years()?;
        let mut songs: Vec<usize> = library
            .tracks()
            .iter()
            .enumerate()
            .filter(|(_, track)| {
                let tags = &track.tags;
                let year = tags.year.map(u32::from);
                genre.is_none_or(|g| tags.genres.iter().any(|name| same_name(g, name)))
                    && from.is_none_or(|from| year.is_some_and(|y| y >= from))
                    && to.is_none_or(|to| year.is_some_and(|y| y <= to))
            })
            .map(|(i, _)| i)
            .collect();
        shuffle(&mut songs);
        songs.truncate(size);
        let view = self.view(library, &songs, &[], &[]).await?;
        let listed = songs.iter().map(|&i| view.song("song", i)).collect();
        Ok(Element::new("randomSongs").list("song", listed))
    }

    /// `getSongsByGenre`: a genre's songs, paged.
    pub(super) async fn songs_by_genre(&self, library: &Library) -> Result<Element, Fault> {
        let catalog = library.catalog();
        let genre = self.params.required("genre")?;
        let count = self.params.count("count", 10, PAGE_MAX)?;
        let offset = self.params.count("offset", 0, usize::MAX)?;
        let songs = match catalog.genres().iter().find(|g| same_name(genre, &g.name)) {
            Some(genre) => page(genre.tracks.clone(), offset, count),
            None => Vec::new(),
        };
        let view = self.view(library, &songs, &[], &[]).await?;
        let listed = songs.iter().map(|&i| view.song("song", i)).collect();
        Ok(Element::new("songsByGenre").list("song", listed))
    }

    /// `search3` (ID3 entries) and `search2` (folder-style entries): artists, albums and songs
    /// whose names hold every word of `query`, each list paged on its own. An empty query (or
    /// `""`, as some apps send) matches everything.
    pub(super) async fn search(&self, library: &Library, three: bool) -> Result<Element, Fault> {
        let catalog = library.catalog();
        let query = self.params.required("query")?;
        let terms: Vec<String> = ids::normalize(query.trim_matches(|c| c == '"' || c == '*'))
            .split(' ')
            .filter(|term| !term.is_empty())
            .map(str::to_owned)
            .collect();
        let matches = |text: &str| {
            let text = ids::normalize(text);
            terms.iter().all(|term| text.contains(term.as_str()))
        };
        let paging = |what: &'static str, offset: &'static str| -> Result<(usize, usize), Fault> {
            Ok((
                self.params.count(offset, 0, usize::MAX)?,
                self.params.count(what, 20, PAGE_MAX)?,
            ))
        };
        let (artist_offset, artist_count) = paging("artistCount", "artistOffset")?;
        let (album_offset, album_count) = paging("albumCount", "albumOffset")?;
        let (song_offset, song_count) = paging("songCount", "songOffset")?;
        // An empty query (a full sync, page by page) takes each page by its place, touching
        // nothing before it.
        let pick = |len: usize, offset: usize, count, hit: &dyn Fn(usize) -> bool| -> Vec<usize> {
            if terms.is_empty() {
                return (offset.min(len)..len).take(count).collect();
            }
            (0..len)
                .filter(|&i| hit(i))
                .skip(offset)
                .take(count)
                .collect()
        };
        let artists = pick(
            catalog.artists().len(),
            artist_offset,
            artist_count,
            &|at| matches(&catalog.artists()[at].name),
        );
        let albums = pick(catalog.albums().len(), album_offset, album_count, &|at| {
            let album = &catalog.albums()[at];
            matches(&format!("{} {}", album.name, album.artist))
        });
        let tracks = library.tracks();
        let songs = pick(tracks.len(), song_offset, song_count, &|i| {
            let tags = &tracks[i].tags;
            let (artist, album) = (tags.artist.as_deref(), tags.album.as_deref());
            matches(&format!(
                "{} {} {}",
                tracks[i].title,
                artist.unwrap_or_default(),
                album.unwrap_or_default()
            ))
        });
        let view = self.view(library, &songs, &albums, &artists).await?;
        let name = if three {
            "searchResult3"
        } else {
            "searchResult2"
        };
        Ok(found(&view, name, three, &artists, &albums, &songs))
    }

    /// `getStarred2` (ID3 entries) and `getStarred` (folder-style): what the listener starred,
    /// the latest first.
    pub(super) async fn starred(&self, library: &Library, two: bool) -> Result<Element, Fault> {
        let catalog = library.catalog();
        let data = &self.state.data;
        let get = async |kind| data.starred(self.user, kind).await.map_err(Fault::Data);
        let artists: Vec<usize> = get(Kind::Artist)
            .await?
            .iter()
            .filter_map(|item| catalog.artist_index(&item.id))
            .collect();
        let albums: Vec<usize> = get(Kind::Album)
            .await?
            .iter()
            .filter_map(|item| catalog.album_index(&item.id))
            .collect();
        let songs: Vec<usize> = get(Kind::Track)
            .await?
            .iter()
            .filter_map(|item| library.index_of(&item.id))
            .collect();
        let view = self.view(library, &songs, &albums, &artists).await?;
        let name = if two { "starred2" } else { "starred" };
        Ok(found(&view, name, two, &artists, &albums, &songs))
    }
}

/// An element `name` listing artists, albums and songs, as ID3 entries when `id3`, else
/// folder-style (`search2`, `getStarred`).
fn found(
    view: &View<'_>,
    name: &'static str,
    id3: bool,
    artists: &[usize],
    albums: &[usize],
    songs: &[usize],
) -> Element {
    let artist_list = artists
        .iter()
        .map(|&at| {
            if id3 {
                view.artist("artist", at)
            } else {
                view.artist_entry("artist", at)
            }
        })
        .collect();
    let album_list = albums
        .iter()
        .map(|&at| {
            if id3 {
                view.album("album", at, false)
            } else {
                view.album_directory("album", at)
            }
        })
        .collect();
    Element::new(name)
        .list("artist", artist_list)
        .list("album", album_list)
        .list(
            "song",
            songs.iter().map(|&i| view.song("song", i)).collect(),
        )
}

/// Each album's plays (the sum of its tracks') and the latest, from a listener's notes on tracks.
fn album_plays(
    library: &Library,
    catalog: &Catalog,
    notes: Vec<(String, crate::data::Annotation)>,
) -> HashMap<usize, (u64, Option<SystemTime>)> {
    let mut plays: HashMap<usize, (u64, Option<SystemTime>)> = HashMap::new();
    for (id, note) in notes {
        if note.play_count == 0 {
            continue;
        }
        let Some(at) = library
            .index_of(&id)
            .and_then(|i| catalog.album_of(i))
            .and_then(|album| catalog.album_index(&album.id))
        else {
            continue;
        };
        let entry = plays.entry(at).or_default();
        entry.0 += note.play_count;
        entry.1 = entry.1.max(note.last_played);
    }
    plays
}
