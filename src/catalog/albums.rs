//! Tracks into albums: which album a track belongs to, who the album's artists are, and the
//! album's facts (year, discs, length, cover, when it was added).
//!
//! A track with an album tag belongs to the album of its MusicBrainz release if it names one;
//! else of its album artist and album name, normalised. The album artist is the album artist tag;
//! for a track without one it is "Various Artists" if the track is marked as a compilation, else
//! decided by the folder: tracks that share a folder and an album name but no album artist are a
//! compilation ("Various Artists") when their first artists differ, else that artist's album. An
//! album artist tag that normalises to "various artists" is the same compilation artist. A track
//! without an album tag belongs to no album.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::names::{Key, Keys, VARIOUS_ARTISTS, sort_name};
use super::{Album, ids};
use crate::library::{Mbid, Tags, Track, VARIOUS_ARTISTS as VARIOUS_ARTISTS_MBID};

/// Who an artist is, for grouping: their MusicBrainz id if the tags pair one with the name, else
/// the name's key. "Various Artists" is always the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum ArtistKey {
    /// A MusicBrainz artist.
    Mb(Mbid),
    /// A name, normalised.
    Name(Key),
}

/// An artist as one track or album credits them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Credit<'t> {
    /// Who.
    pub(super) key: ArtistKey,
    /// As the tags spell them.
    pub(super) name: &'t str,
}

impl<'t> Credit<'t> {
    /// The credit of `name`, paired with `mbid` when the tags give one for it.
    fn new(name: &'t str, mbid: Option<Mbid>, keys: &mut Keys<'t>) -> Self {
        let key = keys.of(name);
        if key == keys.various() || mbid == Some(VARIOUS_ARTISTS_MBID) {
            return Self::various(keys);
        }
        Self {
            key: mbid.map_or(ArtistKey::Name(key), ArtistKey::Mb),
            name,
        }
    }

    /// "Various Artists".
    fn various(keys: &Keys<'t>) -> Self {
        Self {
            key: ArtistKey::Name(keys.various()),
            name: VARIOUS_ARTISTS,
        }
    }
}

/// `names` as credits, each with the MBID at its place in `mbids` when there is one per name
/// (else the ids cannot be told apart, and none is used).
fn credits<'t>(
    names: impl Iterator<Item = &'t str>,
    mbids: &[Mbid],
    keys: &mut Keys<'t>,
) -> Vec<Credit<'t>> {
    let names: Vec<&str> = names.collect();
    let paired = names.len() == mbids.len();
    names
        .iter()
        .enumerate()
        .map(|(i, name)| Credit::new(name, paired.then(|| mbids[i]), keys))
        .collect()
}

/// The artists a track credits (its track artists), in their order.
pub(super) fn track_credits<'t>(tags: &'t Tags, keys: &mut Keys<'t>) -> Vec<Credit<'t>> {
    let mbids = tags.musicbrainz.as_ref().map_or(&[][..], |mb| &mb.artists);
    credits(tags.track_artists(), mbids, keys)
}

/// The album artists a track's tags name.
fn album_credits<'t>(tags: &'t Tags, keys: &mut Keys<'t>) -> Vec<Credit<'t>> {
    let mbids = tags
        .musicbrainz
        .as_ref()
        .map_or(&[][..], |mb| &mb.release_artists);
    credits(tags.album_artist_names(), mbids, keys)
}

/// What groups tracks into one album.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum AlbumKey {
    /// A MusicBrainz release.
    Release(Mbid),
    /// An album artist's key and the album name's key.
    Name(Key, Key),
}

/// Whose album it is, as decided for its first track.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Basis {
    /// The album artist tags.
    Tagged,
    /// A compilation: "Various Artists".
    Various,
    /// No album artist tag: the one artist of its folder's tracks.
    TrackArtist,
}

/// The albums of `tracks`, sorted; for each album the artists it credits; for each track its album.
pub(super) struct Albums<'t> {
    /// Sorted by album artist (sort name), then year (unknown last), then name.
    pub(super) albums: Vec<Album>,
    /// Each album's artists (the same order as `albums`).
    pub(super) credits: Vec<Vec<Credit<'t>>>,
    /// Each track's album, as an index into `albums`.
    pub(super) album_of: Vec<Option<u32>>,
}

/// The albums of `tracks` (see the module's rules).
pub(super) fn build<'t>(tracks: &'t [Track], keys: &mut Keys<'t>) -> Albums<'t> {
    let mut groups: HashMap<AlbumKey, (Basis, Vec<usize>)> = HashMap::new();
    // Tracks without an album artist, by folder and album name.
    let mut by_folder: HashMap<(&str, Key), Vec<usize>> = HashMap::new();
    for (i, track) in tracks.iter().enumerate() {
        let tags = &track.tags;
        let Some(album) = tags.album.as_deref() else {
            continue;
        };
        let album = keys.of(album);
        let album_artist = tags.album_artist.as_deref().map(|name| keys.of(name));
        let (key, basis) = match (release(tags), album_artist) {
            (Some(release), _) => (AlbumKey::Release(release), Basis::Tagged),
            (None, Some(artist)) if artist == keys.various() => {
                (AlbumKey::Name(artist, album), Basis::Various)
            }
            (None, Some(artist)) => (AlbumKey::Name(artist, album), Basis::Tagged),
            (None, None) if tags.compilation => {
                (AlbumKey::Name(keys.various(), album), Basis::Various)
            }
            (None, None) => {
                by_folder.entry((&track.folder, album)).or_default().push(i);
                continue;
            }
        };
        groups.entry(key).or_insert((basis, Vec::new())).1.push(i);
    }
    for ((_, album), members) in by_folder {
        let mut firsts = members
            .iter()
            .filter_map(|&i| tracks[i].tags.track_artists().next())
            .map(|name| keys.of(name));
        let artist = match firsts.next() {
            Some(first) if firsts.all(|other| other == first) => first,
            Some(_) => keys.various(),
            None => keys.nobody(),
        };
        let basis = if artist == keys.various() {
            Basis::Various
        } else {
            Basis::TrackArtist
        };
        let group = groups.entry(AlbumKey::Name(artist, album));
        match group {
            Entry::Occupied(mut group) => group.get_mut().1.extend(members),
            Entry::Vacant(slot) => {
                slot.insert((basis, members));
            }
        }
    }

    let mut drafts: Vec<(Album, Vec<Credit<'t>>)> = groups
        .into_iter()
        .map(|(key, (basis, mut members))| {
            members.sort_by(|&a, &b| order(&tracks[a]).cmp(&order(&tracks[b])).then(a.cmp(&b)));
            album(tracks, key, basis, members, keys)
        })
        .collect();
    drafts.sort_by_cached_key(|(album, _)| {
        (
            sort_name(&album.artist),
            album.year.is_none(),
            album.year,
            sort_name(&album.name),
            album.id.clone(),
        )
    });
    let mut album_of = vec![None; tracks.len()];
    let (albums, credits) = drafts
        .into_iter()
        .enumerate()
        .map(|(at, (album, credits))| {
            for &i in &album.tracks {
                album_of[i] = Some(at as u32);
            }
            (album, credits)
        })
        .unzip();
    Albums {
        albums,
        credits,
        album_of,
    }
}

/// The MusicBrainz release a track's tags name.
fn release(tags: &Tags) -> Option<Mbid> {
    tags.musicbrainz.as_ref()?.release
}

/// Album order: disc (none is the first), track number (none last), title.
fn order(track: &Track) -> (u16, u32, &str) {
    (
        track.tags.disc_number.unwrap_or(1),
        track.tags.track_number.unwrap_or(u32::MAX),
        &track.title,
    )
}

/// The album of `members` (in album order), grouped by `key`; its genres are filled later.
fn album<'t>(
    tracks: &'t [Track],
    key: AlbumKey,
    basis: Basis,
    members: Vec<usize>,
    keys: &mut Keys<'t>,
) -> (Album, Vec<Credit<'t>>) {
    let first = &tracks[members[0]];
    let tags = &first.tags;
    let credits = match basis {
        Basis::Various => vec![Credit::various(keys)],
        Basis::Tagged if tags.album_artist.is_some() => album_credits(tags, keys),
        Basis::Tagged if tags.compilation => vec![Credit::various(keys)],
        Basis::Tagged | Basis::TrackArtist => {
            track_credits(tags, keys).into_iter().take(1).collect()
        }
    };
    let various = credits
        .iter()
        .any(|c| c.key == ArtistKey::Name(keys.various()));
    let artist = match (tags.album_artist.as_deref(), credits.first()) {
        (_, Some(credit)) if various => credit.name.to_owned(),
        (Some(tagged), _) if basis == Basis::Tagged => tagged.to_owned(),
        (_, Some(credit)) => credit.name.to_owned(),
        (_, None) => String::new(),
    };
    let id = match key {
        AlbumKey::Release(release) => ids::of("al", "mb-release", &[&release.to_string()]),
        AlbumKey::Name(artist, album) => {
            ids::of("al", "name", &[keys.normal(artist), keys.normal(album)])
        }
    };
    let all = || members.iter().map(|&i| &tracks[i]);
    let mut artist_ids: Vec<String> = credits.iter().map(|c| ids::artist(c.key, keys)).collect();
    artist_ids.dedup();
    let album = Album {
        id,
        name: tags.album.clone().unwrap_or_default(),
        artist,
        artist_ids,
        year: all().filter_map(|t| t.tags.year).min().map(u32::from),
        genres: Vec::new(),
        compilation: various || all().any(|t| t.tags.compilation),
        discs: all()
            .flat_map(|t| [t.tags.disc_number, t.tags.disc_total])
            .flatten()
            .max()
            .map_or(1, |n| u32::from(n).max(1)),
        duration_secs: all().filter_map(|t| t.tags.duration_secs).sum(),
        cover: members
            .iter()
            .copied()
            .find(|&i| tracks[i].artwork.is_some()),
        musicbrainz_id: match key {
            AlbumKey::Release(release) => Some(release.to_string()),
            AlbumKey::Name(..) => None,
        },
        added: all().filter_map(|t| t.modified).max(),
        tracks: {
            // Grown a track at a time; kept for as long as the snapshot.
            let mut members = members;
            members.shrink_to_fit();
            members
        },
    };
    (album, credits)
}

#[cfg(test)]
mod tests {
    use super::super::Catalog;
    use super::super::fixtures::{album_names, track};

    const RELEASE: &str = "c3c3c3c3-0000-4000-8000-000000000003";

    #[test]
    fn tracks_group_by_release_else_by_album_artist_and_album_name() {
        let catalog = Catalog::build(&[
            track("x/1.mp3", "a").artist("Alice").album("Hits").done(),
            track("y/1.mp3", "b").artist("Bob").album("Hits").done(),
            // Another folder, spelled otherwise: the same album.
            track("z/2.mp3", "c").artist("alice").album(" HITS ").done(),
            // One release, whatever the names say.
            track("r/1.mp3", "d")
                .album_artist("Dee")
                .album("Live")
                .release(RELEASE)
                .done(),
            track("s/2.mp3", "e")
                .album_artist("Dee")
                .album("Live!")
                .release(RELEASE)
                .done(),
            // Same name, another album artist: another album.
            track("t/1.mp3", "f")
                .album_artist("Eve")
                .album("Live")
                .done(),
            // No album tag: no album.
            track("u/1.mp3", "g").artist("Alice").done(),
        ]);
        assert_eq!(
            album_names(&catalog),
            [
                ("Alice", "Hits"),
                ("Bob", "Hits"),
                ("Dee", "Live"),
                ("Eve", "Live")
            ]
        );
        let by_name = |artist: &str| {
            catalog
                .albums()
                .iter()
                .find(|a| a.artist == artist)
                .unwrap()
        };
        assert_eq!(by_name("Alice").tracks, [0, 2]);
        assert_eq!(by_name("Dee").tracks, [3, 4]);
        assert_eq!(by_name("Dee").musicbrainz_id.as_deref(), Some(RELEASE));
        assert_eq!(by_name("Eve").musicbrainz_id, None);
        assert!(catalog.albums().iter().all(|a| !a.tracks.contains(&6)));
    }

    #[test]
    fn compilations_are_filed_under_various_artists() {
        let catalog = Catalog::build(&[
            // No album artist, several artists in one folder.
            track("mix/1.mp3", "a").artist("Alice").album("Mix").done(),
            track("mix/2.mp3", "b").artist("Bob").album("Mix").done(),
            // No album artist, one artist in its folder (featuring someone): that artist's.
            track("solo/1.mp3", "c")
                .artist("Carol")
                .album("Solo")
                .done(),
            track("solo/2.mp3", "d")
                .artists(&["Carol", "Dan"])
                .album("Solo")
                .done(),
            // Marked, without an album artist.
            track("marked/1.mp3", "e")
                .artist("Eve")
                .album("Marked")
                .compilation()
                .done(),
            // "Various Artists" as the album artist, in any spelling.
            track("va/1.mp3", "f")
                .artist("Fay")
                .album_artist("VARIOUS  artists")
                .album("VA")
                .done(),
            // Marked, with an album artist: the album artist stays, the album is a compilation.
            track("dj/1.mp3", "g")
                .artist("Gus")
                .album_artist("DJ Hal")
                .album("Set")
                .compilation()
                .done(),
        ]);
        assert_eq!(
            album_names(&catalog),
            [
                ("Carol", "Solo"),
                ("DJ Hal", "Set"),
                ("Various Artists", "Marked"),
                ("Various Artists", "Mix"),
                ("Various Artists", "VA")
            ]
        );
        let albums = catalog.albums();
        let compilations: Vec<bool> = albums.iter().map(|a| a.compilation).collect();
        assert_eq!(compilations, [false, true, true, true, true]);
        let various = &albums[2].artist_ids;
        assert_eq!(various.len(), 1);
        assert!(
            albums[3..].iter().all(|a| a.artist_ids == *various),
            "one artist"
        );
        assert_eq!(albums[0].tracks, [2, 3]);
    }

    #[test]
    fn an_album_knows_its_order_discs_year_length_cover_and_age() {
        let catalog = Catalog::build(&[
            track("a/x.mp3", "Zed")
                .artist("A")
                .album("L")
                .number(Some(2), 1)
                .year(2001)
                .modified(50)
                .done(),
            track("a/y.mp3", "Bee")
                .artist("A")
                .album("L")
                .number(Some(1), 2)
                .year(1999)
                .cover()
                .modified(90)
                .done(),
            track("a/z.mp3", "Ant")
                .artist("A")
                .album("L")
                .number(Some(1), 2)
                .done(),
            track("a/w.mp3", "Unnumbered").artist("A").album("L").done(),
            track("a/v.mp3", "One")
                .artist("A")
                .album("L")
                .number(None, 1)
                .done(),
        ]);
        let album = &catalog.albums()[0];
        assert_eq!(
            album.tracks,
            [4, 2, 1, 3, 0],
            "disc (none is 1), number (none last), title"
        );
        assert_eq!(album.discs, 2);
        assert_eq!(album.year, Some(1999), "the earliest");
        assert_eq!(album.duration_secs, 5.0);
        assert_eq!(album.cover, Some(1));
        let secs = album
            .added
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap();
        assert_eq!(secs.as_secs(), 90, "the newest file");
        assert!(!album.compilation);
    }

    #[test]
    fn albums_sort_by_album_artist_without_the_then_year_then_name() {
        let catalog = Catalog::build(&[
            track("1.mp3", "a")
                .album_artist("The Zombies")
                .album("Odessey")
                .year(1968)
                .done(),
            track("2.mp3", "a")
                .album_artist("Zappa")
                .album("Hot Rats")
                .year(1969)
                .done(),
            track("3.mp3", "a")
                .album_artist("zappa")
                .album("Apostrophe")
                .year(1974)
                .done(),
            track("4.mp3", "a")
                .album_artist("Zappa")
                .album("Undated")
                .done(),
            track("5.mp3", "a")
                .album_artist("Zappa")
                .album("Absolutely Free")
                .year(1967)
                .done(),
            track("6.mp3", "a")
                .album_artist("ABBA")
                .album("Arrival")
                .done(),
        ]);
        let names: Vec<&str> = catalog.albums().iter().map(|a| a.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Arrival",
                "Absolutely Free",
                "Hot Rats",
                "Apostrophe",
                "Undated",
                "Odessey"
            ]
        );
    }
}
