//! What changed in the track list from one version to the next, so that an open page patches the
//! rows that changed instead of fetching the whole list again. Framework-free, and no wire format:
//! the HTTP layer decides how a [`Delta`] is sent (`http::wire`).
//!
//! Only the names that changed are kept per version (a few versions back); the tracks themselves
//! are taken from the current snapshot when a page asks, so a diff is always consistent with it.

use std::collections::{HashMap, HashSet, VecDeque};

use super::{Library, Progress, Track};

/// How many versions back a page can ask for a diff; older pages get the whole list.
const VERSIONS_KEPT: usize = 64;

/// The names that changed at each recent version.
#[derive(Debug)]
pub(crate) struct ChangeLog {
    /// Tells one run of the server from the next, whose versions start again from 0.
    epoch: String,
    /// `(version, names added, changed or removed at that version)`, oldest first; `None` once
    /// no page could be sent a diff from before that version (see [`ChangeLog::record`]).
    versions: VecDeque<(u64, Option<Vec<String>>)>,
}

/// A page's view of the library brought up to date: the whole list, or what changed since the
/// version the page has.
#[derive(Debug)]
pub struct Delta<'a> {
    /// Where the page's list now stands: `epoch.version`, to send back as `since`.
    pub version: String,
    /// `true`: `tracks` is the whole list, in order. `false`: only tracks added or changed, each
    /// with the name of the track it now follows.
    pub reset: bool,
    /// Tracks in list order.
    pub tracks: Vec<Placed<'a>>,
    /// Names no longer listed.
    pub removed: Vec<String>,
    /// The scan's progress, while one is reading tags.
    pub scan: Option<Progress>,
}

/// A track and where it goes.
#[derive(Debug)]
pub struct Placed<'a> {
    /// The track.
    pub track: &'a Track,
    /// Where it goes: `Some(Some(name))` right after the track `name`, `Some(None)` first; `None` in
    /// a reset, whose list is in order already.
    pub after: Option<Option<&'a str>>,
}

impl ChangeLog {
    pub(crate) fn new(epoch: String) -> Self {
        Self {
            epoch,
            versions: VecDeque::new(),
        }
    }

    /// Records the names that changed at `version` (none when only the scan's progress moved), in
    /// a list of `listed` tracks.
    ///
    /// A page whose diff would name more than half the list is sent the whole list instead
    /// ([`ChangeLog::delta`]), so once the versions after one add up to more names than that, the
    /// names of that version and older are never read again: they are dropped (a first scan of a
    /// large library would otherwise keep every name twice over).
    pub(crate) fn record(&mut self, version: u64, names: Vec<String>, listed: usize) {
        if self.versions.len() == VERSIONS_KEPT {
            self.versions.pop_front();
        }
        self.versions.push_back((version, Some(names)));
        let limit = diff_limit(listed);
        let mut newer: usize = 0;
        for (_, names) in self.versions.iter_mut().rev() {
            newer = newer.saturating_add(names.as_ref().map_or(usize::MAX, Vec::len));
            if newer > limit {
                *names = None;
            }
        }
    }

    /// `library` (which is `version`) as seen by a page that has `since` (`epoch.version`, as a
    /// [`Delta`] gave it); the whole list when `since` is `None`, from another run, or too old,
    /// or when most of the list changed.
    pub(crate) fn delta<'a>(
        &self,
        library: &'a Library,
        version: u64,
        scan: Option<Progress>,
        since: Option<&str>,
    ) -> Delta<'a> {
        let version_text = format!("{}.{version}", self.epoch);
        let changed = since.and_then(|since| self.names_since(since, version));
        let Some(changed) = changed.filter(|c| c.len() <= diff_limit(library.tracks.len())) else {
            return Delta {
                version: version_text,
                reset: true,
                tracks: library
                    .tracks
                    .iter()
                    .map(|track| Placed { track, after: None })
                    .collect(),
                removed: Vec::new(),
                scan,
            };
        };
        let mut tracks = Vec::new();
        let mut listed = HashSet::new();
        for (i, track) in library.tracks.iter().enumerate() {
            if changed.contains(track.name.as_str()) {
                listed.insert(track.name.as_str());
                let after = i.checked_sub(1).map(|p| library.tracks[p].name.as_str());
                tracks.push(Placed {
                    track,
                    after: Some(after),
                });
            }
        }
        let mut removed: Vec<String> = changed
            .difference(&listed)
            .map(|name| (*name).to_owned())
            .collect();
        removed.sort_unstable();
        Delta {
            version: version_text,
            reset: false,
            tracks,
            removed,
            scan,
        }
    }

    /// Every name changed after `since` up to `version`; `None` when that cannot be told.
    fn names_since(&self, since: &str, version: u64) -> Option<HashSet<&str>> {
        let (epoch, since) = since.rsplit_once('.')?;
        let since: u64 = since.parse().ok()?;
        if epoch != self.epoch || since > version {
            return None;
        }
        // Every version after `since` must still be in the log.
        let oldest = self.versions.front().map_or(version + 1, |(v, _)| *v);
        if since + 1 < oldest && since != version {
            return None;
        }
        let mut changed = HashSet::new();
        for (_, names) in self.versions.iter().filter(|(v, _)| *v > since) {
            changed.extend(names.as_ref()?.iter().map(String::as_str));
        }
        Some(changed)
    }
}

/// The most names a diff of a list of `listed` tracks carries; a page that would need more gets
/// the whole list.
fn diff_limit(listed: usize) -> usize {
    listed / 2 + 16
}

/// The names of tracks added, changed or removed from `old` to `new`.
pub(crate) fn changed_names(old: &Library, new: &Library) -> Vec<String> {
    let before: HashMap<&str, &Track> = old.tracks.iter().map(|t| (t.name.as_str(), t)).collect();
    let now: HashSet<&str> = new.tracks.iter().map(|t| t.name.as_str()).collect();
    let changed = new
        .tracks
        .iter()
        .filter(|t| before.get(t.name.as_str()) != Some(t));
    let gone = old.tracks.iter().filter(|t| !now.contains(t.name.as_str()));
    changed.chain(gone).map(|t| t.name.clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::fixtures::touch;

    fn scan(dir: &std::path::Path) -> Library {
        Library::scan(dir).unwrap()
    }

    fn names<'a>(delta: &'a Delta<'a>) -> Vec<(&'a str, Option<Option<&'a str>>)> {
        delta
            .tracks
            .iter()
            .map(|p| (p.track.name.as_str(), p.after))
            .collect()
    }

    #[test]
    fn a_page_gets_what_changed_since_its_version_and_where_it_goes() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["a.mp3", "c.mp3", "e.mp3"] {
            touch(dir.path(), name);
        }
        let v1 = scan(dir.path());
        let mut log = ChangeLog::new("7".into());
        log.record(1, changed_names(&Library::default(), &v1), v1.tracks.len());
        touch(dir.path(), "b.mp3");
        let v2 = scan(dir.path());
        log.record(2, changed_names(&v1, &v2), v2.tracks.len());
        std::fs::remove_file(dir.path().join("e.mp3")).unwrap();
        touch(dir.path(), "d.mp3");
        let v3 = scan(dir.path());
        log.record(3, changed_names(&v2, &v3), v3.tracks.len());

        let whole = log.delta(&v3, 3, None, None);
        assert!(whole.reset);
        assert_eq!(whole.version, "7.3");
        assert_eq!(whole.tracks.len(), 4);

        let from_1 = log.delta(&v3, 3, None, Some("7.1"));
        assert!(!from_1.reset);
        assert_eq!(
            names(&from_1),
            [("b", Some(Some("a"))), ("d", Some(Some("c")))]
        );
        assert_eq!(from_1.removed, ["e"]);

        let from_2 = log.delta(&v3, 3, None, Some("7.2"));
        assert_eq!(names(&from_2), [("d", Some(Some("c")))]);
        let current = log.delta(&v3, 3, None, Some("7.3"));
        assert!(!current.reset && current.tracks.is_empty() && current.removed.is_empty());

        for stale in ["6.2", "7.9", "7", "x.1", "7.-1", ""] {
            assert!(log.delta(&v3, 3, None, Some(stale)).reset, "{stale}");
        }
    }

    #[test]
    fn names_no_diff_could_send_are_not_kept() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "a.mp3");
        let lib = scan(dir.path());
        let mut log = ChangeLog::new("1".into());
        let names = |n: usize| (0..n).map(|i| format!("t{i}")).collect::<Vec<_>>();
        log.record(1, names(100), 100);
        assert_eq!(
            log.versions[0].1, None,
            "most of the list: a page before it gets all"
        );
        log.record(2, names(40), 100);
        log.record(3, names(40), 100);
        let kept: Vec<_> = log
            .versions
            .iter()
            .map(|(_, n)| n.as_ref().map(Vec::len))
            .collect();
        assert_eq!(kept, [None, None, Some(40)], "40 + 40 > 100 / 2 + 16");
        assert!(log.delta(&lib, 3, None, Some("1.1")).reset);
        assert_eq!(log.names_since("1.1", 3), None);
        assert_eq!(log.names_since("1.2", 3).map(|n| n.len()), Some(40));
    }

    #[test]
    fn a_page_too_far_behind_gets_the_whole_list() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "a.mp3");
        let lib = scan(dir.path());
        let mut log = ChangeLog::new("1".into());
        for v in 1..=(VERSIONS_KEPT as u64 + 5) {
            log.record(v, Vec::new(), 0);
        }
        let last = VERSIONS_KEPT as u64 + 5;
        assert!(log.delta(&lib, last, None, Some("1.1")).reset);
        assert!(
            !log.delta(&lib, last, None, Some(&format!("1.{}", last - 3)))
                .reset
        );
    }
}
