//! The ids of albums, artists and genres, in the library's id form (`library::ids`), and the
//! index that finds an item by its id. The keys each is derived from are in `docs/ids.md`.

use super::albums::ArtistKey;
use super::names::Keys;
use crate::library::ids::{bits, hashed, key};

/// The id of kind `kind` (`"al"`, `"ar"`, `"ge"`) for the key `form` with `fields`.
pub(super) fn of(kind: &str, form: &str, fields: &[&str]) -> String {
    hashed(kind, &key(form, fields.iter().copied()))
}

/// An artist's id: from their MusicBrainz id, else from their normalised name.
pub(super) fn artist(who: ArtistKey, keys: &Keys<'_>) -> String {
    match who {
        ArtistKey::Mb(mbid) => of("ar", "mb-artist", &[&mbid.to_string()]),
        ArtistKey::Name(name) => of("ar", "name", &[keys.normal(name)]),
    }
}

/// A genre's id, from its normalised name.
pub(super) fn genre(normal: &str) -> String {
    of("ge", "name", &[normal])
}

/// Items of one kind found by id: `(the id's 64 bits, index)`, sorted.
#[derive(Debug, Default)]
pub(super) struct IdIndex(Vec<(u64, u32)>);

impl IdIndex {
    /// The index of `ids` (of kind `kind`), in their order.
    pub(super) fn new<'a>(kind: &str, ids: impl Iterator<Item = &'a str>) -> Self {
        let mut index: Vec<(u64, u32)> = ids
            .enumerate()
            .map(|(i, id)| (bits(kind, id).expect("ids are made of this form"), i as u32))
            .collect();
        index.sort_unstable();
        Self(index)
    }

    /// Where the item with id `id` (of kind `kind`) is, checked by `is`.
    pub(super) fn find(&self, kind: &str, id: &str, is: impl Fn(usize) -> bool) -> Option<usize> {
        let wanted = bits(kind, id)?;
        let start = self.0.partition_point(|&(b, _)| b < wanted);
        self.0[start..]
            .iter()
            .take_while(|&&(b, _)| b == wanted)
            .map(|&(_, i)| i as usize)
            .find(|&i| is(i))
    }
}
