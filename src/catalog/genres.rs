//! Genres: every genre a track's tags name (several per track, see `library::Tags::genres`), one
//! per normalised name, with its tracks and albums; and each album's genres.

use std::collections::HashMap;

use super::names::{Key, Keys, sort_name};
use super::{Album, Genre, ids};
use crate::library::Track;

/// The genres of `tracks`, sorted by name; fills each album's [`Album::genres`] (in the order its
/// tracks first name them).
pub(super) fn build<'t>(
    tracks: &'t [Track],
    albums: &mut [Album],
    album_of: &[Option<u32>],
    keys: &mut Keys<'t>,
) -> Vec<Genre> {
    let mut genres: Vec<(Key, &'t str, Genre)> = Vec::new();
    let mut by_key: HashMap<Key, usize> = HashMap::new();
    for (i, track) in tracks.iter().enumerate() {
        for name in track.tags.genres.iter() {
            let key = keys.of(name);
            let at = *by_key.entry(key).or_insert_with(|| {
                let id = ids::genre(keys.normal(key));
                let genre = Genre {
                    id,
                    name: name.to_string(),
                    albums: Vec::new(),
                    tracks: Vec::new(),
                };
                genres.push((key, name, genre));
                genres.len() - 1
            });
            let genre = &mut genres[at].2;
            if genre.tracks.last() != Some(&i) {
                genre.tracks.push(i);
            }
            if let Some(album) = album_of[i] {
                genre.albums.push(album as usize);
            }
        }
    }
    genres.sort_by_cached_key(|(_, name, genre)| (sort_name(name), genre.id.clone()));
    let sorted: HashMap<Key, usize> = genres
        .iter()
        .enumerate()
        .map(|(at, (key, _, _))| (*key, at))
        .collect();
    for album in albums.iter_mut() {
        for &i in &album.tracks {
            for name in tracks[i].tags.genres.iter() {
                let id = &genres[sorted[&keys.of(name)]].2.id;
                if !album.genres.contains(id) {
                    album.genres.push(id.clone());
                }
            }
        }
    }
    genres
        .into_iter()
        .map(|(_, _, mut genre)| {
            genre.albums.sort_unstable();
            genre.albums.dedup();
            genre.albums.shrink_to_fit();
            genre.tracks.shrink_to_fit();
            genre
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::Catalog;
    use super::super::fixtures::track;

    #[test]
    fn genres_gather_their_tracks_and_albums_and_albums_their_genres() {
        let catalog = Catalog::build(&[
            track("a/1.mp3", "a")
                .artist("A")
                .album("One")
                .genres(&["Rock", "Blues"])
                .done(),
            track("a/2.mp3", "b")
                .artist("A")
                .album("One")
                .genres(&["Jazz", "rock"])
                .done(),
            track("b/1.mp3", "c")
                .artist("B")
                .album("Two")
                .genres(&["ROCK"])
                .done(),
            track("loose.mp3", "d").genres(&["Ambient"]).done(),
        ]);
        let names: Vec<&str> = catalog.genres().iter().map(|g| g.name.as_str()).collect();
        assert_eq!(
            names,
            ["Ambient", "Blues", "Jazz", "Rock"],
            "one genre per name, by name"
        );
        let genre = |name: &str| catalog.genres().iter().find(|g| g.name == name).unwrap();
        assert_eq!(genre("Rock").tracks, [0, 1, 2]);
        assert_eq!(genre("Rock").albums, [0, 1]);
        assert_eq!(genre("Ambient").tracks, [3]);
        assert!(genre("Ambient").albums.is_empty(), "a track of no album");
        let one = &catalog.albums()[0];
        let ids = |names: &[&str]| {
            names
                .iter()
                .map(|n| genre(n).id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            one.genres,
            ids(&["Rock", "Blues", "Jazz"]),
            "in the order its tracks give"
        );
        assert_eq!(catalog.albums()[1].genres, ids(&["Rock"]));
        assert_eq!(
            genre("Rock").id,
            crate::library::ids::hashed("ge", "name\0rock")
        );
    }
}
