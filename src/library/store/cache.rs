//! The bounded cache of an object-store library: whole objects kept as files under one folder
//! (`--cache-dir`), at most `--cache-max-bytes` of them, least recently used out first and never a
//! file that a response is reading (it holds a [`Lease`]).
//!
//! A file is filled under `.partial/` and moved into place only once complete, so a partial file
//! is never served as a track; a fill that fails leaves nothing behind. Where a file goes is decided
//! by [`relative_path`], which no object key, however hostile, can lead outside the folder.

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

/// Where fills are written until complete (skipped by everything that lists the folder).
const PARTIAL: &str = ".partial";

/// Longest object key (under the prefix) that is taken as a track.
const MAX_KEY_BYTES: usize = 1024;

/// The cache folder and what it holds.
#[derive(Debug)]
pub struct Cache {
    root: PathBuf,
    max_bytes: u64,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Complete files, by path.
    files: HashMap<PathBuf, Entry>,
    /// Bytes of complete files plus bytes reserved by fills in progress.
    used: u64,
    /// Paths being filled.
    filling: HashMap<PathBuf, u64>,
    /// Counts uses, to order them.
    clock: u64,
    /// Fills completed since start.
    fills: u64,
}

#[derive(Debug)]
struct Entry {
    size: u64,
    used_at: u64,
    leases: u32,
}

/// Keeps one cached file from eviction while a response reads it.
#[derive(Debug)]
pub struct Lease {
    cache: Arc<Cache>,
    path: PathBuf,
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut inner = self.cache.lock();
        if let Some(entry) = inner.files.get_mut(&self.path) {
            entry.leases -= 1;
        }
        self.cache.evict(&mut inner, 0);
    }
}

/// Room reserved for one file being filled: released when dropped, unless committed.
#[derive(Debug)]
pub(crate) struct Fill {
    cache: Arc<Cache>,
    path: PathBuf,
    size: u64,
}

impl Fill {
    /// Where the fill writes: a fresh temporary file under `.partial/`, removed when dropped.
    pub(crate) fn partial(&self) -> io::Result<tempfile::NamedTempFile> {
        tempfile::NamedTempFile::new_in(self.cache.root.join(PARTIAL))
    }

    /// Moves the complete `file` into place and counts it as cached.
    pub(crate) fn commit(self, file: tempfile::NamedTempFile) -> io::Result<()> {
        if let Some(parent) = self.path.parent() {
            fs::create_dir_all(parent)?;
        }
        file.persist(&self.path).map_err(|err| err.error)?;
        let mut inner = self.cache.lock();
        inner.clock += 1;
        let used_at = inner.clock;
        inner.filling.remove(&self.path);
        inner.fills += 1;
        let old = inner.files.insert(
            self.path.clone(),
            Entry {
                size: self.size,
                used_at,
                leases: 0,
            },
        );
        // The reservation becomes the file; a copy it replaced gives its bytes back.
        inner.used -= old.map_or(0, |old| old.size);
        drop(inner);
        std::mem::forget(self);
        Ok(())
    }
}

impl Drop for Fill {
    fn drop(&mut self) {
        let mut inner = self.cache.lock();
        if inner.filling.remove(&self.path).is_some() {
            inner.used -= self.size;
        }
    }
}

impl Cache {
    /// The cache in `root` (made if missing), counting the files already there and evicting down
    /// to `max_bytes`; leftovers of interrupted fills are removed.
    pub fn open(root: &Path, max_bytes: u64) -> io::Result<Arc<Self>> {
        fs::create_dir_all(root)?;
        let root = root.canonicalize()?;
        let partial = root.join(PARTIAL);
        if partial.exists() {
            fs::remove_dir_all(&partial)?;
        }
        fs::create_dir(&partial)?;
        let mut found = Vec::new();
        list_files(&root, &mut found);
        // Oldest first, so that what was used last stays.
        found.sort_by_key(|(_, metadata)| metadata.modified().ok());
        let mut inner = Inner::default();
        for (path, metadata) in found {
            inner.clock += 1;
            inner.used += metadata.len();
            let entry = Entry {
                size: metadata.len(),
                used_at: inner.clock,
                leases: 0,
            };
            inner.files.insert(path, entry);
        }
        let cache = Arc::new(Self {
            root,
            max_bytes,
            inner: Mutex::new(inner),
        });
        cache.evict(&mut cache.lock(), 0);
        Ok(cache)
    }

    /// The folder.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// Bytes of the complete files it holds now.
    pub fn used_bytes(&self) -> u64 {
        let inner = self.lock();
        inner.used - inner.filling.values().sum::<u64>()
    }

    /// The bound, in bytes.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Objects fetched whole into the cache since start.
    pub fn fills(&self) -> u64 {
        self.lock().fills
    }

    /// Whether no fill is in progress.
    pub fn idle(&self) -> bool {
        self.lock().filling.is_empty()
    }

    /// A lease on the complete file at `path` if the cache holds one (a use, for the LRU order).
    pub(crate) fn lease(self: &Arc<Self>, path: &Path) -> Option<Lease> {
        let mut inner = self.lock();
        inner.clock += 1;
        let clock = inner.clock;
        let entry = inner.files.get_mut(path)?;
        entry.used_at = clock;
        entry.leases += 1;
        Some(Lease {
            cache: Arc::clone(self),
            path: path.to_owned(),
        })
    }

    /// Forgets the file at `path` (it no longer matches its object), removing it unless leased.
    pub(crate) fn discard(&self, path: &Path) {
        let mut inner = self.lock();
        if inner.files.get(path).is_some_and(|e| e.leases == 0) {
            let entry = inner.files.remove(path).expect("just seen");
            inner.used -= entry.size;
            remove(&self.root, path);
        }
    }

    /// Reserves room for a `size`-byte file at `path`, evicting what it must; `None` when it is
    /// already cached or being filled, or when it cannot fit (larger than the cache, or the room
    /// is held by files being streamed).
    pub(crate) fn reserve(self: &Arc<Self>, path: &Path, size: u64) -> Option<Fill> {
        let mut inner = self.lock();
        if inner.files.contains_key(path) || inner.filling.contains_key(path) {
            return None;
        }
        if size > self.max_bytes || !self.evict(&mut inner, size) {
            return None;
        }
        inner.used += size;
        inner.filling.insert(path.to_owned(), size);
        Some(Fill {
            cache: Arc::clone(self),
            path: path.to_owned(),
            size,
        })
    }

    /// Removes least recently used files without leases until `extra` more bytes fit under the
    /// bound; whether they do (when they cannot, nothing is removed).
    fn evict(&self, inner: &mut Inner, extra: u64) -> bool {
        let held: u64 = inner
            .files
            .values()
            .filter(|e| e.leases > 0)
            .map(|e| e.size)
            .sum();
        let filling: u64 = inner.filling.values().sum();
        if extra > 0 && held + filling + extra > self.max_bytes {
            return false;
        }
        while inner.used + extra > self.max_bytes {
            let oldest = inner
                .files
                .iter()
                .filter(|(_, e)| e.leases == 0)
                .min_by_key(|(_, e)| e.used_at)
                .map(|(path, _)| path.clone());
            let Some(path) = oldest else {
                return false;
            };
            let entry = inner.files.remove(&path).expect("just found");
            inner.used -= entry.size;
            remove(&self.root, &path);
            log::debug!("cache: evicted {}", path.display());
        }
        true
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Removes a cached file, and the folders it leaves empty (up to the root).
fn remove(root: &Path, path: &Path) {
    if let Err(err) = fs::remove_file(path)
        && err.kind() != io::ErrorKind::NotFound
    {
        log::warn!("cache: cannot remove {}: {err}", path.display());
    }
    let mut folder = path.parent();
    while let Some(dir) = folder.filter(|d| *d != root && d.starts_with(root)) {
        if fs::remove_dir(dir).is_err() {
            break;
        }
        folder = dir.parent();
    }
}

/// Every regular file under `dir`, skipping dot-entries (and so `.partial`) and symlinks.
fn list_files(dir: &Path, found: &mut Vec<(PathBuf, fs::Metadata)>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let Ok(metadata) = entry.metadata() else {
            continue;
        };
        if metadata.is_dir() {
            list_files(&entry.path(), found);
        } else if metadata.is_file() {
            found.push((entry.path(), metadata));
        }
    }
}

/// The path under the cache folder for an object key (relative to the library's prefix), if the
/// key may be a track: `/`-separated normal names only (no empty, `.` or `..` component, nothing
/// absolute, no NUL or other control character, no name starting with `.`), at most
/// [`MAX_KEY_BYTES`] bytes and 255 per name.
pub(crate) fn relative_path(key: &str) -> Option<PathBuf> {
    if key.is_empty() || key.len() > MAX_KEY_BYTES || key.chars().any(char::is_control) {
        return None;
    }
    let mut path = PathBuf::new();
    for name in key.split('/') {
        if name.is_empty() || name.starts_with('.') || name.len() > 255 || name.contains('\\') {
            return None;
        }
        path.push(name);
    }
    // Belt and braces: only plain names made it through.
    path.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_keys_map_to_paths_inside() {
        assert_eq!(
            relative_path("jazz/take five.mp3"),
            Some(PathBuf::from("jazz/take five.mp3"))
        );
        let long = "a".repeat(300);
        for hostile in [
            "",
            "/abs.mp3",
            "../up.mp3",
            "a/../../up.mp3",
            "a/./b.mp3",
            "a//b.mp3",
            "a/",
            ".hidden.mp3",
            ".partial/x.mp3",
            "nul\0.mp3",
            "line\nbreak.mp3",
            "back\\slash.mp3",
            &long,
            &"a/".repeat(600),
        ] {
            assert_eq!(relative_path(hostile), None, "{hostile:?}");
        }
    }

    fn put(cache: &Arc<Cache>, name: &str, size: usize) -> PathBuf {
        let path = cache.root().join(name);
        let fill = cache.reserve(&path, size as u64).expect("room");
        let mut file = fill.partial().unwrap();
        io::Write::write_all(&mut file, &vec![1; size]).unwrap();
        fill.commit(file).unwrap();
        path
    }

    #[test]
    fn least_recently_used_goes_first_and_leased_files_stay() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), 100).unwrap();
        let a = put(&cache, "a.mp3", 40);
        let b = put(&cache, "f/b.mp3", 40);
        drop(cache.lease(&a)); // a is now the most recently used
        let _c = put(&cache, "c.mp3", 40);
        assert!(a.exists() && !b.exists(), "b was least recently used");
        assert!(!dir.path().join("f").exists(), "its empty folder went too");
        assert_eq!(cache.used_bytes(), 80);

        let lease = cache.lease(&a).unwrap();
        let c = cache.root().join("c.mp3");
        let _d = put(&cache, "d.mp3", 60);
        assert!(a.exists(), "leased: kept although least recently used");
        assert!(!c.exists());
        let e = cache.root().join("e.mp3");
        assert!(cache.reserve(&e, 61).is_none(), "no room while leased");
        assert!(
            cache.root().join("d.mp3").exists(),
            "and nothing evicted for nothing"
        );
        drop(lease);
        assert!(cache.reserve(&e, 61).is_some());
        assert!(cache.reserve(&cache.root().join("huge.mp3"), 101).is_none());
    }

    #[test]
    fn a_dropped_fill_leaves_nothing_and_reopening_counts_what_is_there() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), 100).unwrap();
        let path = cache.root().join("x.mp3");
        let fill = cache.reserve(&path, 30).unwrap();
        assert!(cache.reserve(&path, 30).is_none(), "one fill per file");
        let partial = fill.partial().unwrap();
        let partial_path = partial.path().to_owned();
        drop((partial, fill));
        assert!(!partial_path.exists() && !path.exists());
        assert_eq!(cache.used_bytes(), 0);
        put(&cache, "y.mp3", 30);
        put(&cache, "z/w.mp3", 30);
        fs::write(cache.root().join(".partial/left-over"), b"x").unwrap();
        drop(cache);
        let cache = Cache::open(dir.path(), 40).unwrap();
        assert_eq!(cache.used_bytes(), 30, "down to the new bound");
        assert!(!dir.path().join(".partial/left-over").exists());
    }
}
