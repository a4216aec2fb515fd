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

/// Each track's artists, in its credits' order, as indexes into the sorted artists: track `i`'s
/// are `artists[starts[i]..starts[i + 1]]` (one list for all, not one allocation per track).
#[derive(Debug, Default)]
pub(super) struct TrackArtists {
    starts: Vec<u32>,
    artists: Vec<u32>,
}

impl TrackArtists {
    /// The artists of track `i` (none for a track it does not know).
    pub(super) fn of(&self, i: usize) -> &[u32] {
        match (self.starts.get(i), self.starts.get(i + 1)) {
            (Some(&from), Some(&to)) => &self.artists[from as usize..to as usize],
            _ => &[],
        }
    }
}

/// The artists of `tracks` and `albums` (`credits` and `album_of` as [`super::albums::Albums`]
/// gives them), sorted by sort name; and each track's artists.
pub(super) fn build<'t>(
    tracks: &'t [Track],
    albums: &[Album],
    credits: &[Vec<Credit<'t>>],
    album_of: &[Option<u32>],
    keys: &mut Keys<'t>,
) -> (Vec<Artist>, TrackArtists) {
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
    for &(artist, album, _) in &played {
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
        list.shrink_to_fit();
    };
    let artists: Vec<Artist> = drafts
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
    let mut order: Vec<usize> = (0..artists.len()).collect();
    order.sort_by_cached_key(|&at| (sort_name(&artists[at].name), artists[at].id.clone()));
    let mut sorted_at = vec![0u32; artists.len()];
    for (to, &from) in order.iter().enumerate() {
        sorted_at[from] = to as u32;
    }
    // `played` is in track order, each track's credits in theirs.
    let mut by_track = TrackArtists {
        starts: Vec::with_capacity(tracks.len() + 1),
        artists: Vec::with_capacity(played.len()),
    };
    let mut credited = played.iter().peekable();
    for i in 0..tracks.len() {
        by_track.starts.push(by_track.artists.len() as u32);
        while let Some(&(artist, _, _)) = credited.next_if(|&&(_, _, track)| track == i) {
            let artist = sorted_at[artist];
            if !by_track.artists[by_track.starts[i] as usize..].contains(&artist) {
                by_track.artists.push(artist);
            }
        }
    }
    by_track.starts.push(by_track.artists.len() as u32);
    let mut slots: Vec<Option<Artist>> = artists.into_iter().map(Some).collect();
    let artists = order
        .into_iter()
        .filter_map(|at| slots[at].take())
        .collect();
    (artists, by_track)
}

#[cfg(test)]
mod tests {
    use super::super::Catalog;
    use super::super::fixtures::track;

    const ALICE: &str = "e5e5e5e5-0000-4000-8000-000000000005";
    const OTHER_ALICE: &str = "e5e5e5e5-0000-4000-8000-000000000006";

    #[test]
    fn a_track_artist_on_someone_elses_album_is_an_artist_who_appears_on_it() {
        let catalog = Catalog::build(&[
            track("a/1.mp3", "a")
                .artist("Alice")
                .album("Own")
                .year(2000)
                .cover()
                .done(),
            track("b/1.mp3", "b")
                .artists(&["Bob", "Alice"])
                .album_artist("Bob")
                .album("Duets")
                .year(1990)
                .done(),
            track("b/2.mp3", "c")
                .artist("Bob")
                .album_artist("Bob")
                .album("Duets")
                .done(),
            track("c/1.mp3", "d").artist("Carol").album("Mix").done(),
            track("c/2.mp3", "e").artist("Alice").album("Mix").done(),
            track("loose.mp3", "f").artist("Alice").done(),
        ]);
        let names: Vec<&str> = catalog.artists().iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["Alice", "Bob", "Carol", "Various Artists"]);
        let [alice, bob, carol, various] = catalog.artists() else {
            unreachable!()
        };
        let album = |at: usize| catalog.albums()[at].name.as_str();
        let albums = |list: &[usize]| list.iter().map(|&at| album(at)).collect::<Vec<_>>();
        assert_eq!(albums(&alice.albums), ["Own"]);
        assert_eq!(
            albums(&alice.appears_on),
            ["Duets", "Mix"],
            "by year, unknown last"
        );
        assert_eq!(
            alice.tracks, 4,
            "her own, a duet, a compilation track, a loose one"
        );
        assert_eq!(alice.cover, Some(0), "her album's cover");
        let credited = |i: usize| {
            let names = catalog.track_artists(i).map(|a| a.name.as_str());
            names.collect::<Vec<_>>()
        };
        assert_eq!(credited(1), ["Bob", "Alice"], "in the tags' order");
        assert_eq!(credited(3), ["Carol"]);
        assert_eq!(credited(5), ["Alice"]);
        assert!(credited(6).is_empty(), "no such track");
        assert_eq!(catalog.album_of(1).map(|a| a.name.as_str()), Some("Duets"));
        assert_eq!(catalog.album_of(5), None, "a loose track");
        assert_eq!((albums(&bob.albums), bob.tracks), (vec!["Duets"], 2));
        assert!(bob.appears_on.is_empty());
        assert!(carol.albums.is_empty(), "only ever a track artist");
        assert_eq!((albums(&carol.appears_on), carol.tracks), (vec!["Mix"], 1));
        assert_eq!((albums(&various.albums), various.tracks), (vec!["Mix"], 2));
        assert_eq!(carol.cover, None);
    }

    #[test]
    fn musicbrainz_ids_tell_namesakes_apart_and_various_artists_is_one() {
        let catalog = Catalog::build(&[
            track("1.mp3", "a")
                .artist("Alice")
                .artist_ids(&[ALICE])
                .done(),
            track("2.mp3", "b")
                .artist("Alice")
                .artist_ids(&[OTHER_ALICE])
                .done(),
            track("3.mp3", "c").artist("alice").done(),
            // Two names, one id: which is whose cannot be told, so neither is used.
            track("4.mp3", "d")
                .artists(&["Alice", "Bob"])
                .artist_ids(&[ALICE])
                .done(),
            track("5.mp3", "e").artist("Various Artists").done(),
            track("6.mp3", "f")
                .artist("VA")
                .artist_ids(&["89ad4ac3-39f7-470e-963a-56509c546377"])
                .done(),
        ]);
        let alices: Vec<_> = catalog
            .artists()
            .iter()
            .filter(|a| a.name.eq_ignore_ascii_case("alice"))
            .map(|a| (a.musicbrainz_id.as_deref(), a.tracks))
            .collect();
        assert_eq!(alices.len(), 3);
        assert!(alices.contains(&(Some(ALICE), 1)));
        assert!(alices.contains(&(Some(OTHER_ALICE), 1)));
        assert!(alices.contains(&(None, 2)), "by name: tracks 3 and 4");
        let various: Vec<_> = catalog
            .artists()
            .iter()
            .filter(|a| a.name == "Various Artists")
            .collect();
        assert_eq!(various.len(), 1);
        assert_eq!(
            (various[0].tracks, various[0].musicbrainz_id.as_deref()),
            (2, None)
        );
        let alice_id = &catalog
            .artists()
            .iter()
            .find(|a| a.musicbrainz_id.is_some())
            .unwrap()
            .id;
        assert!(alice_id.starts_with("ar-"));
    }

    #[test]
    fn artists_sort_without_case_or_a_leading_the() {
        let catalog = Catalog::build(&[
            track("1.mp3", "a").artist("The Beatles").done(),
            track("2.mp3", "a").artist("abba").done(),
            track("3.mp3", "a").artist("Bach").done(),
            track("4.mp3", "a").artist("The The").done(),
            track("5.mp3", "a").artist("Coldplay").done(),
        ]);
        let names: Vec<&str> = catalog.artists().iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            ["abba", "Bach", "The Beatles", "Coldplay", "The The"]
        );
    }
}
