//! Artists: everyone an album credits as its artist, and everyone a track credits as one of its
//! artists, each once (by MusicBrainz id where the tags pair one with the name, else by the name
//! normalised; "Various Artists" always by name).
//!
//! An artist's `albums` are the albums they are the album artist of; `appears_on` the albums they
//! only play on (a track artist on someone else's album, or on a compilation). Someone who is
//! only ever a track artist still has an [`Artist`], with `albums` empty.

use std::collections::HashMap;

use super::albums::{ArtistKey, Credit, track_credits};
use super::names::{Keys, sort_name};
use super::{Album, Artist, ids};
use crate::library::Track;

/// An artist while the catalog is being built.
struct Draft<'t> {
    key: ArtistKey,
    name: &'t str,
    albums: Vec<usize>,
    appears_on: Vec<usize>,
    tracks: usize,
    /// The first of their tracks that has a cover.
    track_cover: Option<usize>,
}

/// The artists of `tracks` and `albums` (`credits` and `album_of` as [`super::albums::Albums`]
/// gives them), sorted by sort name.
pub(super) fn build<'t>(
    tracks: &'t [Track],
    albums: &[Album],
    credits: &[Vec<Credit<'t>>],
    album_of: &[Option<u32>],
    keys: &mut Keys<'t>,
) -> Vec<Artist> {
    let mut drafts: Vec<Draft<'t>> = Vec::new();
    let mut by_key: HashMap<ArtistKey, usize> = HashMap::new();
    let mut draft = |credit: &Credit<'t>| {
        *by_key.entry(credit.key).or_insert_with(|| {
            drafts.push(Draft {
                key: credit.key,
                name: credit.name,
                albums: Vec::new(),
                appears_on: Vec::new(),
                tracks: 0,
                track_cover: None,
            });
            drafts.len() - 1
        })
    };
    let mut album_artists: Vec<Vec<usize>> = Vec::with_capacity(albums.len());
    let mut owned: Vec<(usize, usize)> = Vec::new();
    for (at, credits) in credits.iter().enumerate() {
        let mut artists: Vec<usize> = credits.iter().map(&mut draft).collect();
        artists.dedup();
        owned.extend(artists.iter().map(|&artist| (artist, at)));
        album_artists.push(artists);
    }
    let mut played: Vec<(usize, Option<u32>, usize)> = Vec::new();
    for (i, track) in tracks.iter().enumerate() {
        for credit in track_credits(&track.tags, keys) {
            played.push((draft(&credit), album_of[i], i));
        }
    }
    for (artist, at) in owned {
        drafts[artist].albums.push(at);
    }
    // Each track counts once for each artist it credits, as track artist or album artist.
    let mut counted: Vec<(usize, usize)> = played.iter().map(|&(a, _, i)| (a, i)).collect();
    for (i, album) in album_of.iter().enumerate() {
        if let Some(at) = album {
            counted.extend(album_artists[*at as usize].iter().map(|&a| (a, i)));
        }
    }
    counted.sort_unstable();
    counted.dedup();
    for &(artist, i) in &counted {
        let draft = &mut drafts[artist];
        draft.tracks += 1;
        if draft.track_cover.is_none() && tracks[i].artwork.is_some() {
            draft.track_cover = Some(i);
        }
    }
    for (artist, album, _) in played {
        if let Some(at) = album.map(|at| at as usize)
            && !album_artists[at].contains(&artist)
        {
            drafts[artist].appears_on.push(at);
        }
    }

    let by_year = |list: &mut Vec<usize>| {
        list.sort_by_cached_key(|&at| {
            let album = &albums[at];
            (album.year.is_none(), album.year, sort_name(&album.name), at)
        });
        list.dedup();
    };
    let mut artists: Vec<Artist> = drafts
        .into_iter()
        .map(|mut draft| {
            by_year(&mut draft.albums);
            by_year(&mut draft.appears_on);
            let cover = draft
                .albums
                .iter()
                .chain(&draft.appears_on)
                .find_map(|&at| albums[at].cover)
                .or(draft.track_cover);
            Artist {
                id: ids::artist(draft.key, keys),
                name: draft.name.to_owned(),
                albums: draft.albums,
                appears_on: draft.appears_on,
                tracks: draft.tracks,
                musicbrainz_id: match draft.key {
                    ArtistKey::Mb(mbid) => Some(mbid.to_string()),
                    ArtistKey::Name(_) => None,
                },
                cover,
            }
        })
        .collect();
    artists.sort_by_cached_key(|artist| (sort_name(&artist.name), artist.id.clone()));
    artists
}
