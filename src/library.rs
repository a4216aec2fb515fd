//! The music library: which files under the audio folder are tracks, what their tags say, which
//! cover each has, and which track a request name means.
//!
//! A request name resolves only by lookup in the scanned set, never by joining it onto a path, so no
//! name, however encoded, can reach a file outside the folder. Framework-free; handlers call
//! [`Library::get`]. [`SharedLibrary`] scans on a blocking thread and publishes snapshots as it goes.

use std::collections::HashMap;
use std::fs;
use std::hash::{Hash as _, Hasher as _};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant, SystemTime};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;
use tokio::sync::watch;

use crate::media::{AudioFormat, audio_format};
use crate::tags::Tags;

/// How deep the scan descends into subfolders.
const MAX_DEPTH: usize = 16;

/// How often a long scan logs its progress and shows open pages what it has found so far.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Image files that give their folder's tracks a cover when the tracks carry none, most preferred
/// first (matched without case, any of [`FOLDER_ART_EXTENSIONS`]).
const FOLDER_ART_NAMES: &[&str] = &["cover", "folder", "front", "album"];
const FOLDER_ART_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "gif"];

/// Characters kept as-is in a URL path segment (RFC 3986 "unreserved"); everything else is encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Why the audio folder could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// The folder does not exist or cannot be read.
    #[error("cannot read audio folder {}: {source}", path.display())]
    Unreadable {
        /// The folder as configured.
        path: PathBuf,
        /// What the OS said.
        source: io::Error,
    },
    /// The path exists but is a file.
    #[error("audio folder {} is not a directory", .0.display())]
    NotADirectory(PathBuf),
}

/// One playable file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Track {
    /// The name the track is requested by: its path under the folder, `/`-separated, without extension
    /// (`jazz/take five`); with the extension when another file shares the stem (`test.mp3`).
    pub name: String,
    /// What the page shows: the title tag, or the file stem when there is none.
    pub title: String,
    /// The artist tag.
    pub artist: Option<String>,
    /// The album tag.
    pub album: Option<String>,
    /// The track-number tag.
    pub track_number: Option<u32>,
    /// Playing time, from the file's headers.
    pub duration_secs: Option<f64>,
    /// The file could not be parsed as audio (it is still listed and served as it is).
    pub unreadable: bool,
    /// The subfolder it lives in (`""` at the top level).
    pub folder: String,
    /// The file name with its extension.
    pub file_name: String,
    /// Size in bytes when scanned.
    pub size: u64,
    /// `Content-Type` it is served with.
    pub mime: String,
    /// Short format label (`"MP3"`).
    pub format: String,
    /// The URL that streams it, percent-encoded (`/audio/jazz/take%20five`).
    pub url: String,
    /// The URL of its cover (`/art/jazz/take%20five?v=…`), embedded or from its folder; the `v`
    /// changes whenever the image may have, so browsers may cache each version for good.
    pub art: Option<String>,
    /// Where the cover comes from (never sent to clients).
    #[serde(skip)]
    pub artwork: Option<Artwork>,
    /// Absolute path of the file (never sent to clients).
    #[serde(skip)]
    pub path: PathBuf,
    /// The scan has not read this file's tags yet: it is listed by file name meanwhile.
    #[serde(skip)]
    pending: bool,
    /// Preference among files sharing a stem.
    #[serde(skip)]
    rank: usize,
    /// Modification time when scanned: with `size`, decides whether tags must be read again.
    #[serde(skip)]
    modified: Option<SystemTime>,
}

/// Where a track's cover is read from when `/art/<name>` is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artwork {
    /// The audio file itself (`embedded`), or the folder's image file.
    pub path: PathBuf,
    /// Whether the image is a picture inside the audio file's tags.
    pub embedded: bool,
    /// Changes when the file holding the image changes (size, modification time): the `v` of the
    /// art URL and the response's `ETag`.
    pub version: String,
}

impl Artwork {
    fn new(path: &Path, embedded: bool, size: u64, modified: Option<SystemTime>) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (path, size, modified).hash(&mut hasher);
        Self {
            path: path.to_owned(),
            embedded,
            version: format!("{:016x}", hasher.finish()),
        }
    }
}

/// A scanned snapshot of the audio folder.
#[derive(Debug, Default)]
pub struct Library {
    tracks: Vec<Track>,
    index: HashMap<String, usize>,
}

impl Library {
    /// Scans `root` recursively for audio files and reads every file's tags, on this thread.
    ///
    /// Dot-files and dot-folders are skipped, and so is a symlink whose target lies outside `root`
    /// (symlinked folders are never entered, which also rules out loops). An unreadable subfolder is
    /// logged and skipped; only an unreadable `root` is an error.
    pub fn scan(root: &Path) -> Result<Self, LibraryError> {
        let walk = walk(root)?;
        let tags = walk
            .files
            .iter()
            .map(|f| (f.path.clone(), Tags::read(&f.path)))
            .collect();
        Ok(Self::build(&walk, &tags))
    }

    /// Every track, sorted by folder, then track number, then title.
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// The track a request name means, if any. `name` is the fully percent-decoded path after
    /// `/audio/`; it matches a track's [`Track::name`], or its path with the extension.
    pub fn get(&self, name: &str) -> Option<&Track> {
        self.index.get(name).map(|&i| &self.tracks[i])
    }

    /// The tracks of `walk`, with the tags in `tags` (a file missing there is listed as pending).
    fn build(walk: &Walk, tags: &HashMap<PathBuf, Tags>) -> Self {
        let mut group_sizes: HashMap<&str, usize> = HashMap::new();
        for file in &walk.files {
            *group_sizes.entry(&file.key).or_default() += 1;
        }
        let mut tracks: Vec<Track> = walk
            .files
            .iter()
            .map(|file| {
                let tags = tags.get(&file.path);
                let artwork = match tags {
                    Some(t) if t.has_cover => {
                        Some(Artwork::new(&file.path, true, file.size, file.modified))
                    }
                    _ => walk
                        .folder_art
                        .get(file.folder())
                        .map(|(_, art)| art.clone()),
                };
                Track::new(file, group_sizes[file.key.as_str()] > 1, tags, artwork)
            })
            .collect();
        tracks.sort_by(|a, b| sort_key(a).cmp(&sort_key(b)));

        let mut index = HashMap::with_capacity(tracks.len() * 2);
        // Aliases first, so that exact names overwrite any alias that happens to equal them.
        for (i, track) in tracks.iter().enumerate() {
            index.insert(track.relative_path(), i);
            if track.name.ends_with(&format!(".{}", track.extension())) {
                // A shared stem resolves to the group's preferred format (MP3 before the others).
                let stem = track.relative_path_without_extension();
                match index.get(&stem).map(|&j: &usize| tracks[j].rank) {
                    Some(rank) if rank <= track.rank => {}
                    _ => {
                        index.insert(stem, i);
                    }
                }
            }
        }
        for (i, track) in tracks.iter().enumerate() {
            index.insert(track.name.clone(), i);
        }
        Self { tracks, index }
    }
}

/// Page order: by folder, then track number (untagged last), then title.
fn sort_key(t: &Track) -> (&str, u32, &str, &str) {
    (
        &t.folder,
        t.track_number.unwrap_or(u32::MAX),
        &t.title,
        &t.name,
    )
}

/// What one pass over the folder found, before any tag is read.
#[derive(Debug, Default)]
struct Walk {
    /// Audio files, sorted so that within a group sharing a stem the preferred format comes first.
    files: Vec<Candidate>,
    /// Per folder (`""` for the top), its preferred cover image: `(preference, artwork)`.
    folder_art: HashMap<String, (usize, Artwork)>,
}

/// `root` made canonical, once it is known to be a folder this process can list.
fn readable_folder(root: &Path) -> Result<PathBuf, LibraryError> {
    let unreadable = |source| LibraryError::Unreadable {
        path: root.to_owned(),
        source,
    };
    let canonical = root.canonicalize().map_err(unreadable)?;
    if !canonical.is_dir() {
        return Err(LibraryError::NotADirectory(root.to_owned()));
    }
    fs::read_dir(&canonical).map_err(unreadable)?;
    Ok(canonical)
}

/// Lists the audio files and folder images under `root` (see [`Library::scan`] for the rules).
fn walk(root: &Path) -> Result<Walk, LibraryError> {
    let canonical_root = readable_folder(root)?;
    let mut walk = Walk::default();
    let mut pending = vec![(canonical_root.clone(), 0)];
    while let Some((dir, depth)) = pending.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) => {
                log::warn!("skipping unreadable folder {}: {err}", dir.display());
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            if file_type.is_dir() {
                if depth < MAX_DEPTH {
                    pending.push((path, depth + 1));
                }
                continue;
            }
            let Some(extension) = path.extension().and_then(|e| e.to_str()) else {
                continue;
            };
            if let Some(format) = audio_format(extension) {
                if let Some(file) = Candidate::new(&canonical_root, &path, file_type, format) {
                    walk.files.push(file);
                }
            } else if let Some(preference) = folder_art_preference(&path) {
                walk.add_folder_art(&canonical_root, &path, file_type, preference);
            }
        }
    }
    walk.files.sort_by(|a, b| {
        (&a.key, a.format.rank, &a.relative).cmp(&(&b.key, b.format.rank, &b.relative))
    });
    Ok(walk)
}

impl Walk {
    fn add_folder_art(
        &mut self,
        root: &Path,
        path: &Path,
        file_type: fs::FileType,
        preference: usize,
    ) {
        let Some((target, metadata, relative)) = resolve(root, path, file_type) else {
            return;
        };
        let folder = folder_of(&relative);
        let art = Artwork::new(&target, false, metadata.len(), metadata.modified().ok());
        match self.folder_art.get(folder) {
            Some((best, _)) if *best <= preference => {}
            _ => {
                self.folder_art.insert(folder.to_owned(), (preference, art));
            }
        }
    }
}

/// How much a file name is preferred as its folder's cover (lower is better), if it is one.
fn folder_art_preference(path: &Path) -> Option<usize> {
    let stem = path.file_stem()?.to_str()?.to_ascii_lowercase();
    let extension = path.extension()?.to_str()?.to_ascii_lowercase();
    let name = FOLDER_ART_NAMES.iter().position(|n| *n == stem)?;
    let kind = FOLDER_ART_EXTENSIONS.iter().position(|e| *e == extension)?;
    Some(name * FOLDER_ART_EXTENSIONS.len() + kind)
}

/// Checks one non-directory entry: a regular file, or a symlink to one inside `root`, with a UTF-8
/// path. Returns its target, metadata and `/`-separated path under `root`.
fn resolve(
    root: &Path,
    path: &Path,
    file_type: fs::FileType,
) -> Option<(PathBuf, fs::Metadata, String)> {
    let target = if file_type.is_symlink() {
        let target = path.canonicalize().ok()?;
        if !target.starts_with(root) {
            log::warn!(
                "skipping {}: it links outside the audio folder",
                path.display()
            );
            return None;
        }
        target
    } else {
        path.to_owned()
    };
    let metadata = fs::metadata(&target).ok()?;
    if !metadata.is_file() {
        return None;
    }
    let Some(relative) = path
        .strip_prefix(root)
        .ok()
        .and_then(Path::to_str)
        .map(|r| r.replace(std::path::MAIN_SEPARATOR, "/"))
    else {
        log::warn!("skipping {}: its name is not valid UTF-8", path.display());
        return None;
    };
    Some((target, metadata, relative))
}

/// An audio file that passed the walk's filters, before names are assigned.
#[derive(Debug)]
struct Candidate {
    /// Path under the root, `/`-separated, with extension.
    relative: String,
    /// `relative` without the extension.
    key: String,
    path: PathBuf,
    size: u64,
    modified: Option<SystemTime>,
    format: AudioFormat,
}

impl Candidate {
    fn new(root: &Path, path: &Path, file_type: fs::FileType, format: AudioFormat) -> Option<Self> {
        let (target, metadata, relative) = resolve(root, path, file_type)?;
        let key = relative.rsplit_once('.')?.0.to_owned();
        Some(Self {
            relative,
            key,
            path: target,
            size: metadata.len(),
            modified: metadata.modified().ok(),
            format,
        })
    }

    fn folder(&self) -> &str {
        folder_of(&self.relative)
    }
}

/// The folder part of a `/`-separated path under the root (`""` at the top).
fn folder_of(relative: &str) -> &str {
    relative.rsplit_once('/').map_or("", |(folder, _)| folder)
}

impl Track {
    fn new(
        file: &Candidate,
        shared_stem: bool,
        tags: Option<&Tags>,
        artwork: Option<Artwork>,
    ) -> Self {
        let name = if shared_stem {
            file.relative.clone()
        } else {
            file.key.clone()
        };
        let (folder, file_name) = match file.relative.rsplit_once('/') {
            Some((folder, file_name)) => (folder.to_owned(), file_name.to_owned()),
            None => (String::new(), file.relative.clone()),
        };
        let pending = tags.is_none();
        let tags = tags.cloned().unwrap_or_default();
        let title = tags.title.unwrap_or_else(|| {
            file_name
                .rsplit_once('.')
                .map_or(file_name.as_str(), |(stem, _)| stem)
                .to_owned()
        });
        let url = name
            .split('/')
            .map(|segment| utf8_percent_encode(segment, SEGMENT).to_string())
            .collect::<Vec<_>>()
            .join("/");
        Self {
            art: artwork
                .as_ref()
                .map(|art| format!("/art/{url}?v={}", art.version)),
            url: format!("/audio/{url}"),
            name,
            title,
            artist: tags.artist,
            album: tags.album,
            track_number: tags.track_number,
            duration_secs: tags.duration_secs,
            unreadable: tags.unreadable,
            folder,
            file_name,
            size: file.size,
            mime: file.format.mime.to_string(),
            format: file.format.label.clone(),
            artwork,
            pending,
            rank: file.format.rank,
            modified: file.modified,
            path: file.path.clone(),
        }
    }

    /// The tags this track was listed with, if they were read (not pending).
    fn tags(&self) -> Option<Tags> {
        (!self.pending).then(|| Tags {
            title: Some(self.title.clone()),
            artist: self.artist.clone(),
            album: self.album.clone(),
            track_number: self.track_number,
            duration_secs: self.duration_secs,
            has_cover: self.artwork.as_ref().is_some_and(|a| a.embedded),
            unreadable: self.unreadable,
        })
    }

    fn relative_path(&self) -> String {
        if self.folder.is_empty() {
            self.file_name.clone()
        } else {
            format!("{}/{}", self.folder, self.file_name)
        }
    }

    fn extension(&self) -> &str {
        self.file_name.rsplit_once('.').map_or("", |(_, ext)| ext)
    }

    fn relative_path_without_extension(&self) -> String {
        let relative = self.relative_path();
        let cut = relative.len() - self.extension().len() - 1;
        relative[..cut].to_owned()
    }
}

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
    root: PathBuf,
    current: RwLock<Arc<Library>>,
    /// Held for the length of a scan.
    scanning: Mutex<()>,
    last_scan: Mutex<Option<Instant>>,
    status: watch::Sender<Status>,
}

impl SharedLibrary {
    /// An empty library for `root`, to be filled by [`SharedLibrary::rescan`]; fails at once when
    /// `root` is not a readable folder.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, LibraryError> {
        let root = root.into();
        readable_folder(&root)?;
        let (status, _) = watch::channel(Status {
            version: 0,
            scan: Some(Progress::default()),
        });
        Ok(Self {
            root,
            current: RwLock::default(),
            scanning: Mutex::new(()),
            last_scan: Mutex::new(None),
            status,
        })
    }

    /// The folder being served.
    pub fn root(&self) -> &Path {
        &self.root
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

    /// Waits until no scan is reading tags (at once if none is).
    pub async fn scanned(&self) {
        let mut status = self.subscribe();
        // The sender lives as long as `self`.
        let _ = status.wait_for(|s| s.scan.is_none()).await;
    }

    /// Rescans the folder and returns the new snapshot; blocks for as long as it reads tags. New
    /// files are listed by name at once, their tags filled in as they are read (shown every
    /// [`PROGRESS_EVERY`]). If the folder has become unreadable, the previous snapshot stays (its
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
        let walk = match walk(&self.root) {
            Ok(walk) => walk,
            Err(err) => {
                log::warn!("{err}; keeping the previous track list");
                return self.publish(None, None);
            }
        };
        let previous = self.snapshot();
        let known: HashMap<&Path, &Track> = previous
            .tracks
            .iter()
            .map(|t| (t.path.as_path(), t))
            .collect();
        let mut tags: HashMap<PathBuf, Tags> = HashMap::with_capacity(walk.files.len());
        let mut todo = Vec::new();
        for file in &walk.files {
            let unchanged = known
                .get(file.path.as_path())
                .filter(|t| t.size == file.size && t.modified == file.modified)
                .and_then(|t| t.tags());
            match unchanged {
                Some(read) => {
                    tags.insert(file.path.clone(), read);
                }
                None => todo.push(file.path.as_path()),
            }
        }
        drop(known);

        let total = todo.len();
        let started = Instant::now();
        let mut shown = started;
        if total > 0 {
            self.publish(
                Some(Library::build(&walk, &tags)),
                Some(Progress { read: 0, total }),
            );
        }
        for (i, path) in todo.into_iter().enumerate() {
            tags.insert(path.to_owned(), Tags::read(path));
            if shown.elapsed() >= PROGRESS_EVERY {
                shown = Instant::now();
                log::info!(
                    "scanning {}: read {} of {total} files",
                    self.root.display(),
                    i + 1
                );
                let progress = Progress { read: i + 1, total };
                self.publish(Some(Library::build(&walk, &tags)), Some(progress));
            }
        }
        let library = self.publish(Some(Library::build(&walk, &tags)), None);
        drop((walk, tags, previous));
        if total > 0 {
            // Hand the scan's scratch memory back now rather than at the sampler's next trim.
            crate::sys::trim_heap();
        }
        if first || total > 0 {
            let secs = started.elapsed().as_secs_f64();
            log::info!(
                "library: {} tracks in {}; read {total} files in {secs:.2} s ({:.0} files/s)",
                library.tracks.len(),
                self.root.display(),
                total as f64 / secs.max(1e-6),
            );
        }
        library
    }

    /// Makes `library` (if any) the current snapshot and records `scan`; bumps the version when
    /// either changed what a page would show.
    fn publish(&self, library: Option<Library>, scan: Option<Progress>) -> Arc<Library> {
        let (library, tracks_changed) = match library {
            Some(library) => {
                let library = Arc::new(library);
                let old = std::mem::replace(
                    &mut *self.current.write().unwrap_or_else(|e| e.into_inner()),
                    Arc::clone(&library),
                );
                let changed = old.tracks != library.tracks;
                (library, changed)
            }
            None => (self.snapshot(), false),
        };
        self.status.send_if_modified(|s| {
            let changed = tracks_changed || s.scan != scan;
            if changed {
                s.scan = scan;
                s.version += 1;
            }
            changed
        });
        library
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, relative: &str) {
        let path = root.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, relative.as_bytes()).unwrap();
    }

    fn names(library: &Library) -> Vec<&str> {
        library.tracks().iter().map(|t| t.name.as_str()).collect()
    }

    #[test]
    fn scans_audio_files_recursively_and_skips_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "b.mp3",
            "a.flac",
            "jazz/take five.ogg",
            "notes.txt",
            ".hidden.mp3",
            ".cache/x.mp3",
        ] {
            touch(dir.path(), f);
        }
        let library = Library::scan(dir.path()).unwrap();
        assert_eq!(names(&library), ["a", "b", "jazz/take five"]);
        let jazz = library.get("jazz/take five").unwrap();
        assert_eq!(
            (jazz.title.as_str(), jazz.folder.as_str()),
            ("take five", "jazz")
        );
        assert_eq!(jazz.url, "/audio/jazz/take%20five");
        assert_eq!(jazz.file_name, "take five.ogg");
        assert_eq!(jazz.size, "jazz/take five.ogg".len() as u64);
    }

    #[test]
    fn names_resolve_only_by_exact_lookup() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "song.mp3");
        let library = Library::scan(dir.path()).unwrap();
        for hit in ["song", "song.mp3"] {
            assert!(library.get(hit).is_some(), "{hit}");
        }
        for miss in [
            "Song", "song.ogg", "./song", "song/", "/song", "../song", "", "song\0",
        ] {
            assert!(library.get(miss).is_none(), "{miss:?}");
        }
    }

    #[test]
    fn a_shared_stem_lists_both_files_and_prefers_mp3() {
        let dir = tempfile::tempdir().unwrap();
        for f in ["x.wav", "x.mp3", "x.flac"] {
            touch(dir.path(), f);
        }
        let library = Library::scan(dir.path()).unwrap();
        assert_eq!(names(&library), ["x.flac", "x.mp3", "x.wav"]);
        assert_eq!(library.get("x").unwrap().file_name, "x.mp3");
    }

    #[test]
    fn symlinks_out_of_the_folder_are_skipped() {
        let outside = tempfile::tempdir().unwrap();
        touch(outside.path(), "secret.mp3");
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "real.mp3");
        std::os::unix::fs::symlink(
            outside.path().join("secret.mp3"),
            dir.path().join("out.mp3"),
        )
        .unwrap();
        std::os::unix::fs::symlink(dir.path().join("real.mp3"), dir.path().join("in.mp3")).unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("linked-dir")).unwrap();
        let library = Library::scan(dir.path()).unwrap();
        assert_eq!(names(&library), ["in", "real"]);
    }

    #[test]
    fn an_unreadable_root_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        assert!(matches!(
            Library::scan(&missing),
            Err(LibraryError::Unreadable { .. })
        ));
        touch(dir.path(), "file.mp3");
        assert!(matches!(
            Library::scan(&dir.path().join("file.mp3")),
            Err(LibraryError::NotADirectory(_))
        ));
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

    /// A real WAV file of `seconds` of silence, made with hound.
    fn wav(path: &Path, seconds: u32) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut writer = hound::WavWriter::create(path, spec).unwrap();
        for _ in 0..seconds * 8000 {
            writer.write_sample(0i16).unwrap();
        }
        writer.finalize().unwrap();
    }

    /// Writes an ID3v2 tag into `path` with lofty.
    fn tag(path: &Path, title: &str, artist: &str, album: &str, track: u32) {
        use lofty::config::WriteOptions;
        use lofty::tag::{Accessor as _, Tag, TagExt as _, TagType};
        let mut tag = Tag::new(TagType::Id3v2);
        tag.set_title(title.into());
        tag.set_artist(artist.into());
        tag.set_album(album.into());
        tag.set_track(track);
        tag.save_to_path(path, WriteOptions::default()).unwrap();
    }

    #[test]
    fn tags_give_title_artist_album_track_and_duration() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jazz/01 take.wav");
        wav(&path, 3);
        tag(&path, "Take Five", "Quartet", "Time Out", 1);
        let library = Library::scan(dir.path()).unwrap();
        let track = library.get("jazz/01 take").unwrap();
        assert_eq!(track.title, "Take Five");
        assert_eq!(track.artist.as_deref(), Some("Quartet"));
        assert_eq!(track.album.as_deref(), Some("Time Out"));
        assert_eq!(track.track_number, Some(1));
        assert!(
            (track.duration_secs.unwrap() - 3.0).abs() < 0.1,
            "{:?}",
            track.duration_secs
        );
        assert!(!track.unreadable);
    }

    #[test]
    fn missing_tags_fall_back_to_the_file_name_and_corrupt_files_are_listed_as_such() {
        let dir = tempfile::tempdir().unwrap();
        wav(&dir.path().join("plain.wav"), 1);
        fs::write(
            dir.path().join("broken.mp3"),
            b"this is not an mp3 at all, just text",
        )
        .unwrap();
        fs::write(dir.path().join("empty.flac"), b"").unwrap();
        let library = Library::scan(dir.path()).unwrap();
        let plain = library.get("plain").unwrap();
        assert_eq!(
            (plain.title.as_str(), plain.artist.as_deref()),
            ("plain", None)
        );
        assert!(plain.duration_secs.is_some() && !plain.unreadable);
        for name in ["broken", "empty"] {
            let track = library.get(name).unwrap();
            assert_eq!(track.title, name);
            assert!(track.unreadable, "{name} should be marked unreadable");
        }
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

    proptest::proptest! {
        /// Whatever the request name (separators, dots, NUL, escapes, overlong UTF-8 look-alikes),
        /// lookup yields nothing or a track inside the folder: names never become paths.
        #[test]
        fn no_name_resolves_outside_the_folder(name in "(\\.\\.|/|\\\\|%2[eEfF]|%00|\\x00|[a-z]|secret|\\.mp3|\u{2215}){0,12}") {
            let outside = tempfile::tempdir().unwrap();
            touch(outside.path(), "secret.mp3");
            let root = outside.path().join("music");
            touch(&root, "a.mp3");
            touch(&root, "sub/b.mp3");
            let library = Library::scan(&root).unwrap();
            let canonical = root.canonicalize().unwrap();
            if let Some(track) = library.get(&name) {
                proptest::prop_assert!(track.path.starts_with(&canonical), "{name:?} -> {:?}", track.path);
            }
        }
    }
}
