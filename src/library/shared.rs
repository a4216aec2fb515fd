//! The library shared by all workers: scans run on a blocking thread, one at a time, and publish
//! whole snapshots as they go; a `watch` channel tells open pages that something changed.

use std::collections::HashMap;
use std::io::{self, Read as _, Seek as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::changes::{ChangeLog, Delta, changed_names};
use super::folder::Folder;
use super::listing::Artwork;
use super::lyrics::Lyrics;
use super::storage::{Content, Opened, SeekRead, Storage};
use super::tags::{self, Image, Names, Tags};
use super::{Library, LibraryError, Track, lock};

/// The largest tag [`SharedLibrary::cover_cached`] reads and parses on the worker; a larger one
/// (a cover of several megabytes) is read on the blocking pool.
const MAX_TAG_HERE: usize = 1 << 20;

/// Largest folder image served; a bigger `cover.jpg` is not a cover.
const MAX_IMAGE_BYTES: u64 = 16 * 1024 * 1024;

/// Largest `.lrc` file read; lyrics are a few KiB.
const MAX_LYRICS_BYTES: u64 = 1024 * 1024;

/// How often a long scan logs its progress and shows open pages what it has found so far: at
/// least this often apart...
const PROGRESS_EVERY: Duration = Duration::from_secs(1);
/// ...and at least this many times as long apart as the last snapshot took to build and publish,
/// so that a large library spends its scan reading tags, not building snapshots (each of which
/// also leaves the heap more fragmented).
const PROGRESS_BUILD_RATIO: u32 = 10;
/// Where the library stands: bumped `version` whenever the track list or the scan's progress
/// changes, so open pages know to refresh.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Status {
    /// Counts changes since start-up.
    pub version: u64,
    /// Set while a scan is reading tags (and before the first scan has finished).
    pub scan: Option<Progress>,
}

/// How far a scan has got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Files whose tags have been read.
    pub read: usize,
    /// Files this scan has to read (new or changed since the last one).
    pub total: usize,
}

/// The library shared by all workers: a snapshot replaced whole as scans progress.
///
/// Scans run one at a time on the calling (blocking) thread; a rescan reads tags only of files
/// that are new or whose size or modification time changed.
#[derive(Debug)]
pub struct SharedLibrary {
    storage: Box<dyn Storage>,
    /// Where the tracks live, for logs and the page.
    location: String,
    current: RwLock<Arc<Library>>,
    /// Held for the length of a scan.
    scanning: Mutex<()>,
    last_scan: Mutex<Option<Instant>>,
    status: watch::Sender<Status>,
    /// What changed at each recent version; held while a snapshot is published.
    changes: Mutex<ChangeLog>,
    /// Set once the first listing of the store has been published.
    listed: std::sync::atomic::AtomicBool,
}

impl SharedLibrary {
    /// An empty library of the folder `root` (the default storage), to be filled by
    /// [`SharedLibrary::rescan`]; fails at once when `root` is not a readable folder.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, LibraryError> {
        Ok(Self::new(Box::new(Folder::new(root.into())?)))
    }

    /// An empty library of what `storage` holds, to be filled by [`SharedLibrary::rescan`].
    pub(crate) fn new(storage: Box<dyn Storage>) -> Self {
        let (status, _) = watch::channel(Status {
            version: 0,
            scan: Some(Progress::default()),
        });
        Self {
            location: storage.location(),
            storage,
            current: RwLock::default(),
            scanning: Mutex::new(()),
            last_scan: Mutex::new(None),
            status,
            changes: Mutex::new(ChangeLog::new(epoch())),
            listed: Default::default(),
        }
    }

    /// Why the library cannot serve yet, if it cannot: its first listing is not done, or its store
    /// does not answer now. May block on the store: call it on a blocking thread.
    pub fn unready(&self) -> Option<String> {
        if !self.listed.load(std::sync::atomic::Ordering::Acquire) {
            return Some(format!("still listing {}", self.location));
        }
        self.storage.check().err().map(|err| err.to_string())
    }

    /// Where the tracks live (the folder's path).
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Opens a track (by its [`Track::path`]) for reading; `NotFound` when it has gone or is no
    /// longer a regular file. May block: call it on a blocking thread.
    pub(crate) fn open_track(&self, path: &Path) -> io::Result<Opened> {
        self.storage.open(path)
    }

    /// [`SharedLibrary::open_track`] if it needs no waiting on the storage; `None` otherwise.
    pub(crate) fn open_track_cached(&self, path: &Path) -> Option<io::Result<Opened>> {
        self.storage.open_cached(path)
    }

    /// A reader that can seek anywhere in a listed file (by its [`Track::path`]): what tag
    /// readers and decoders read from. May block.
    pub fn reader(&self, path: &Path) -> io::Result<Box<dyn SeekRead>> {
        self.storage.reader(path)
    }

    /// Reads `artwork` now; `None` if it has gone, grown too big, or is not an image. May block.
    pub fn cover(&self, artwork: &Artwork) -> Option<Image> {
        let mut reader = self.storage.reader(&artwork.path).ok()?;
        if artwork.embedded {
            return tags::embedded_cover_from(reader, &artwork.path);
        }
        let len = reader.seek(io::SeekFrom::End(0)).ok()?;
        if len > MAX_IMAGE_BYTES {
            log::warn!("not serving {}: larger than 16 MiB", artwork.path.display());
            return None;
        }
        reader.rewind().ok()?;
        let mut data = Vec::with_capacity(len as usize);
        reader.take(MAX_IMAGE_BYTES).read_to_end(&mut data).ok()?;
        Image::new(data)
    }

    /// [`SharedLibrary::cover`] when it can be read without waiting on the storage: an MP3's front
    /// cover in its leading ID3v2 tag, the file opened ([`Storage::open_cached`]) and the tag read
    /// from the page cache alone. `None` when it cannot be read so (not cached, another kind of
    /// file or cover, no front cover in that tag, an error): [`SharedLibrary::cover`] then answers,
    /// on a blocking thread. Never waits; parses a tag of at most 1 MiB (tens of microseconds for a
    /// small one).
    pub fn cover_cached(&self, artwork: &Artwork) -> Option<Image> {
        if !artwork.embedded || !tags::leads_with_id3v2(&artwork.path) {
            return None;
        }
        let Content::Local(file) = self.storage.open_cached(&artwork.path)?.ok()?.content else {
            return None;
        };
        let head = file.read_cached(0, tags::ID3V2_HEADER).ok()??;
        let len = tags::id3v2_len(&head).filter(|&len| len <= MAX_TAG_HERE)?;
        let tag = file.read_cached(0, len).ok()??;
        (tag.len() == len).then(|| tags::id3v2_front_cover(&tag))?
    }

    /// The lyrics of `track`, read now: its `.lrc` file if it has one that holds lyrics, else the
    /// lyrics in its tags; `None` when neither has any. May block.
    pub fn lyrics(&self, track: &Track) -> Option<Lyrics> {
        let from_file = || {
            let path = track.lyrics_file.as_deref()?;
            let mut data = Vec::new();
            let reader = self.storage.reader(path).ok()?;
            reader.take(MAX_LYRICS_BYTES).read_to_end(&mut data).ok()?;
            Lyrics::parse(&String::from_utf8_lossy(&data))
        };
        let embedded = || {
            let reader = self.storage.reader(&track.path).ok()?;
            Lyrics::parse(&tags::embedded_lyrics_from(reader, &track.path)?)
        };
        from_file().or_else(|| track.tags.has_lyrics.then(embedded).flatten())
    }

    /// The current snapshot.
    pub fn snapshot(&self) -> Arc<Library> {
        Arc::clone(&self.current.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Where the library stands now.
    pub fn status(&self) -> Status {
        *self.status.borrow()
    }

    /// A receiver that sees every change of [`SharedLibrary::status`].
    pub fn subscribe(&self) -> watch::Receiver<Status> {
        self.status.subscribe()
    }

    /// What a page that has version `since` needs (`None`: a page that has nothing yet): what
    /// changed since then, or the whole list (see [`super::Delta`]), handed to `write` while the
    /// change log and the snapshot agree.
    pub fn changes_since<T>(&self, since: Option<&str>, write: impl FnOnce(&Delta<'_>) -> T) -> T {
        let changes = lock(&self.changes);
        let library = self.snapshot();
        let status = self.status();
        write(&changes.delta(&library, status.version, status.scan, since))
    }
    /// Waits until no scan is reading tags (at once if none is).
    pub async fn scanned(&self) {
        let mut status = self.subscribe();
        // The sender lives as long as `self`.
        let _ = status.wait_for(|s| s.scan.is_none()).await;
    }

    /// Rescans the folder and returns the new snapshot; blocks for as long as it reads tags. New
    /// files are listed by name at once, their tags filled in as they are read (shown every
    /// `PROGRESS_EVERY`, or less often if snapshots take long to build). If the folder has become unreadable, the previous snapshot stays (its
    /// files then answer 404 one by one) and the problem is logged.
    pub fn rescan(&self) -> Arc<Library> {
        let guard = lock(&self.scanning);
        self.rescan_holding(guard)
    }

    /// Rescans only if no scan is running and the last one is older than `min_age`: bounds the cost
    /// of requests for names that do not exist while still finding files added since.
    pub fn rescan_if_older_than(&self, min_age: Duration) -> Arc<Library> {
        let Ok(guard) = self.scanning.try_lock() else {
            return self.snapshot();
        };
        if lock(&self.last_scan).is_some_and(|last| last.elapsed() < min_age) {
            return self.snapshot();
        }
        self.rescan_holding(guard)
    }

    fn rescan_holding(&self, _scanning: MutexGuard<'_, ()>) -> Arc<Library> {
        let first = lock(&self.last_scan).replace(Instant::now()).is_none();
        let mut walk = match self.storage.list() {
            Ok(walk) => walk,
            Err(err) => {
                log::warn!("{err}; keeping the previous track list");
                return self.publish(None, None);
            }
        };
        walk.sort();
        let previous = self.snapshot();
        let known: HashMap<&Path, &Track> = previous.tracks.iter().map(|t| (&*t.path, t)).collect();
        let mut tags: HashMap<PathBuf, Tags> = HashMap::with_capacity(walk.files.len());
        // One copy of each artist and genre name for the whole library.
        let mut names = Names::default();
        let mut todo = Vec::new();
        for file in &walk.files {
            let unchanged = known
                .get(&*file.path)
                .filter(|t| t.size == file.size && t.modified == file.modified)
                .and_then(|t| t.read_tags());
            match unchanged {
                Some(read) => {
                    let mut read = read.clone();
                    read.share_names(&mut names);
                    tags.insert(file.path.to_path_buf(), read);
                }
                None => todo.push(&*file.path),
            }
        }
        drop(known);

        let total = todo.len();
        let started = Instant::now();
        let mut shown = started;
        let mut every = PROGRESS_EVERY;
        if total > 0 {
            self.publish(
                Some(Library::build(&walk, |path| tags.get(path).cloned())),
                Some(Progress { read: 0, total }),
            );
            self.listed
                .store(true, std::sync::atomic::Ordering::Release);
            shown = Instant::now();
        }
        for (i, path) in todo.into_iter().enumerate() {
            let mut read = Tags::read_from(self.storage.reader(path), path);
            read.share_names(&mut names);
            tags.insert(path.to_owned(), read);
            if shown.elapsed() >= every {
                log::info!(
                    "scanning {}: read {} of {total} files",
                    self.location,
                    i + 1
                );
                let progress = Progress { read: i + 1, total };
                let building = Instant::now();
                let library = Library::build(&walk, |path| tags.get(path).cloned());
                self.publish(Some(library), Some(progress));
                // Counted from the end of the publish, and longer for slower builds.
                every = PROGRESS_EVERY.max(building.elapsed() * PROGRESS_BUILD_RATIO);
                shown = Instant::now();
            }
        }
        // The last snapshot takes the tags rather than copying them.
        let library = Library::build(&walk, |path| tags.remove(path));
        let library = self.publish(Some(library), None);
        self.listed
            .store(true, std::sync::atomic::Ordering::Release);
        drop((walk, tags, names, previous));
        if total > 0 {
            // Hand the scan's scratch memory back now rather than at the sampler's next trim.
            crate::sys::trim_heap();
        }
        if first || total > 0 {
            let secs = started.elapsed().as_secs_f64();
            log::info!(
                "library: {} tracks in {}; read {total} files in {secs:.2} s ({:.0} files/s)",
                library.tracks.len(),
                self.location,
                total as f64 / secs.max(1e-6),
            );
        }
        library
    }

    /// Makes `library` (if any) the current snapshot and records `scan`; bumps the version when
    /// either changed what a page would show.
    fn publish(&self, library: Option<Library>, scan: Option<Progress>) -> Arc<Library> {
        let mut changes = lock(&self.changes);
        let (library, names) = match library {
            Some(library) => {
                let old = self.snapshot();
                if old.tracks == library.tracks && old.folders == library.folders {
                    // The same list: the snapshot in use stays, with its catalog, and the new
                    // copy goes (it is the younger one, allocated wherever the heap had room).
                    (old, Vec::new())
                } else {
                    let library = Arc::new(library);
                    *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::clone(&library);
                    let names = changed_names(&old, &library);
                    (library, names)
                }
            }
            None => (self.snapshot(), Vec::new()),
        };
        self.status.send_if_modified(|s| {
            let changed = !names.is_empty() || s.scan != scan;
            if changed {
                s.scan = scan;
                s.version += 1;
                changes.record(s.version, names, library.tracks.len());
            }
            changed
        });
        library
    }
}

/// Tells this run of the server from others (page versions start again from 0 at each start).
fn epoch() -> String {
    let since_1970 = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{:x}", since_1970.as_nanos())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::super::fixtures::{names, tag, touch, wav};
    use super::*;

    #[test]
    fn ready_once_listed_and_while_the_folder_answers() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("music");
        fs::create_dir(&root).unwrap();
        let shared = SharedLibrary::open(&root).unwrap();
        let before = shared.unready().unwrap();
        assert!(before.starts_with("still listing"), "{before}");
        shared.rescan();
        assert_eq!(shared.unready(), None, "an empty folder listed is ready");
        fs::remove_dir(&root).unwrap();
        assert!(shared.unready().is_some());
    }

    #[test]
    fn rescans_pick_up_changes_and_keep_the_last_list_if_the_folder_vanishes() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("music");
        touch(&root, "one.mp3");
        let shared = SharedLibrary::open(&root).unwrap();
        assert!(
            shared.snapshot().tracks().is_empty(),
            "opening does not scan"
        );
        assert!(shared.status().scan.is_some(), "not scanned yet");
        assert_eq!(names(&shared.rescan()), ["one"]);
        assert_eq!(shared.status().scan, None);
        touch(&root, "two.mp3");
        assert_eq!(names(&shared.snapshot()), ["one"]);
        assert_eq!(names(&shared.rescan()), ["one", "two"]);
        fs::remove_dir_all(&root).unwrap();
        assert_eq!(names(&shared.rescan()), ["one", "two"]);
    }

    #[test]
    fn the_version_moves_only_when_the_list_or_the_scan_changes() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "one.mp3");
        let shared = SharedLibrary::open(dir.path()).unwrap();
        shared.rescan();
        let after_first = shared.status().version;
        assert!(after_first > 0);
        shared.rescan();
        assert_eq!(shared.status().version, after_first, "nothing changed");
        touch(dir.path(), "two.mp3");
        shared.rescan();
        assert!(shared.status().version > after_first);
    }

    #[test]
    fn a_rescan_that_finds_nothing_new_keeps_the_snapshot_and_its_catalog() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "one.mp3");
        let shared = SharedLibrary::open(dir.path()).unwrap();
        let first = shared.rescan();
        let catalog: *const _ = first.catalog();
        let again = shared.rescan();
        assert!(Arc::ptr_eq(&first, &again));
        assert!(std::ptr::eq(catalog, again.catalog()), "not built again");
        touch(dir.path(), "two.mp3");
        assert!(!Arc::ptr_eq(&first, &shared.rescan()));
    }

    #[test]
    fn rescans_on_a_miss_are_rate_limited() {
        let dir = tempfile::tempdir().unwrap();
        let shared = SharedLibrary::open(dir.path()).unwrap();
        assert!(
            shared
                .rescan_if_older_than(Duration::from_secs(60))
                .tracks()
                .is_empty()
        );
        touch(dir.path(), "late.mp3");
        // Scanned just now: not again within the minute.
        assert!(
            shared
                .rescan_if_older_than(Duration::from_secs(60))
                .tracks()
                .is_empty()
        );
        assert_eq!(
            names(&shared.rescan_if_older_than(Duration::ZERO)),
            ["late"]
        );
    }

    #[test]
    fn lyrics_come_from_the_lrc_file_beside_a_track_else_from_its_tags() {
        let dir = tempfile::tempdir().unwrap();
        let (synced, embedded, bare) = (
            dir.path().join("a/synced.wav"),
            dir.path().join("a/embedded.wav"),
            dir.path().join("a/bare.wav"),
        );
        for path in [&synced, &embedded, &bare] {
            wav(path, 1);
        }
        testkit::Tagger::default()
            .title("E")
            .lyrics("Plain words\nand more")
            .save(&embedded);
        fs::write(dir.path().join("a/synced.LRC"), "[ti:x]\n[00:01.50]Hi").unwrap();
        let shared = SharedLibrary::open(dir.path()).unwrap();
        let library = shared.rescan();
        let lyrics = |name: &str| shared.lyrics(library.get(name).unwrap());
        let from_file = lyrics("a/synced").unwrap();
        assert!(from_file.synced);
        assert_eq!(from_file.lines[0].start_ms, Some(1500));
        let from_tags = lyrics("a/embedded").unwrap();
        assert!(!from_tags.synced);
        assert_eq!(from_tags.lines.len(), 2);
        assert!(library.get("a/embedded").unwrap().tags.has_lyrics);
        assert_eq!(lyrics("a/bare"), None);
    }

    #[test]
    fn an_mp3s_cover_is_read_without_waiting_and_others_are_left_to_the_pool() {
        let dir = tempfile::tempdir().unwrap();
        let front = testkit::png(3, 2, 40);
        // A PNG's signature and 1.5 MiB more: a picture too large to parse on a worker.
        let mut large = front.clone();
        large.resize(3 << 19, 0);
        let (mp3, wav_file, big) = (
            dir.path().join("a/one.mp3"),
            dir.path().join("b/two.wav"),
            dir.path().join("c/big.mp3"),
        );
        for (path, picture) in [(&mp3, &front), (&wav_file, &front), (&big, &large)] {
            if path == &wav_file {
                wav(path, 1);
            } else {
                fs::create_dir_all(path.parent().unwrap()).unwrap();
                fs::write(path, testkit::silent_mp3(0.5)).unwrap();
            }
            testkit::Tagger::default()
                .title("T")
                .picture(lofty::picture::PictureType::CoverFront, picture)
                .save(path);
        }
        fs::write(dir.path().join("a/cover.png"), testkit::png(5, 5, 1)).unwrap();
        let shared = SharedLibrary::open(dir.path()).unwrap();
        let library = shared.rescan();
        let artwork = |name: &str| library.get(name).unwrap().artwork.clone().unwrap();
        let (one, two) = (artwork("a/one"), artwork("b/two"));
        assert!(one.embedded && two.embedded);
        // Just written, so in the page cache: read here, and what the pool would read.
        let here = shared.cover_cached(&one).expect("read without waiting");
        assert_eq!((here.mime, &here.data[..]), ("image/png", &front[..]));
        assert_eq!(Some(here), shared.cover(&one));
        assert_eq!(shared.cover_cached(&two), None, "a WAV: the pool reads it");
        assert_eq!(shared.cover(&two).unwrap().data, front);
        let big = artwork("c/big");
        assert_eq!(
            shared.cover_cached(&big),
            None,
            "over 1 MiB: the pool reads it"
        );
        assert_eq!(shared.cover(&big).unwrap().data, large);
        let folder = Artwork {
            embedded: false,
            path: dir.path().join("a/cover.png").into(),
            ..(*one).clone()
        };
        assert_eq!(
            shared.cover_cached(&folder),
            None,
            "a folder's image: the pool reads it"
        );
    }

    #[test]
    fn a_rescan_reads_tags_again_only_for_changed_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("song.wav");
        wav(&path, 1);
        tag(&path, "First", "A", "B", 1);
        let shared = SharedLibrary::open(dir.path()).unwrap();
        assert_eq!(shared.rescan().get("song").unwrap().title, "First");
        // Same size and time, new title: the previous snapshot's tags are reused, not read again.
        let modified = fs::metadata(&path).unwrap().modified().unwrap();
        tag(&path, "Other", "A", "B", 1);
        fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        assert_eq!(shared.rescan().get("song").unwrap().title, "First");
        // Changed (new size and time): read again.
        std::thread::sleep(Duration::from_millis(20));
        wav(&path, 2);
        tag(&path, "Second", "A", "B", 1);
        assert_eq!(shared.rescan().get("song").unwrap().title, "Second");
    }
}
