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
            genre
        })
        .collect()
}
