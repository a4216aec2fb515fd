//! Names as the catalog compares and sorts them: each distinct text normalised once (the library's
//! [`normalize`]) and numbered, so that grouping hashes small numbers; and the sort name, without
//! case and without a leading "The ".

use std::collections::HashMap;

use crate::library::ids::normalize;

/// The display name of the one artist every compilation is filed under.
pub(super) const VARIOUS_ARTISTS: &str = "Various Artists";

/// A normalised name's number in a [`Keys`].
pub(super) type Key = u32;

/// Texts seen while building, each normalised once: equal normal forms get one [`Key`].
#[derive(Debug)]
pub(super) struct Keys<'t> {
    by_text: HashMap<&'t str, Key>,
    by_normal: HashMap<String, Key>,
    normal: Vec<String>,
}

impl<'t> Keys<'t> {
    /// An empty table but for "Various Artists" and the empty name.
    pub(super) fn new() -> Self {
        let mut keys = Self {
            by_text: HashMap::new(),
            by_normal: HashMap::new(),
            normal: Vec::new(),
        };
        keys.of(VARIOUS_ARTISTS);
        keys.of("");
        keys
    }

    /// The key of `text`.
    pub(super) fn of(&mut self, text: &'t str) -> Key {
        if let Some(&key) = self.by_text.get(text) {
            return key;
        }
        let normal = normalize(text);
        let next = self.normal.len() as Key;
        let key = *self.by_normal.entry(normal).or_insert_with_key(|normal| {
            self.normal.push(normal.clone());
            next
        });
        self.by_text.insert(text, key);
        key
    }

    /// The key of "Various Artists" (and of every spelling that normalises alike).
    pub(super) fn various(&self) -> Key {
        0
    }

    /// The key of a name that is not given.
    pub(super) fn nobody(&self) -> Key {
        1
    }

    /// The normal form of `key`: what ids are derived from.
    pub(super) fn normal(&self, key: Key) -> &str {
        &self.normal[key as usize]
    }
}

/// How a name sorts: normalised (so without case), a leading "the " dropped when something
/// follows it (`The The` sorts as "the").
pub(super) fn sort_name(name: &str) -> String {
    let normal = normalize(name);
    match normal.strip_prefix("the ") {
        Some(rest) if !rest.is_empty() => rest.to_owned(),
        _ => normal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_name_share_a_key_and_various_artists_is_known() {
        let mut keys = Keys::new();
        let a = keys.of("The Beatles");
        assert_eq!(keys.of(" the  BEATLES "), a);
        assert_ne!(keys.of("Beatles"), a);
        assert_eq!(keys.of("various artists"), keys.various());
        assert_eq!(keys.of("  "), keys.nobody());
        assert_eq!(keys.normal(a), "the beatles");
    }

    #[test]
    fn sort_names_ignore_case_and_a_leading_the() {
        for (name, sorted) in [
            ("The Beatles", "beatles"),
            ("the beatles", "beatles"),
            ("Theatre of Tragedy", "theatre of tragedy"),
            ("The", "the"),
            ("The The", "the"),
            ("ABBA", "abba"),
        ] {
            assert_eq!(sort_name(name), sorted, "{name}");
        }
    }
}
