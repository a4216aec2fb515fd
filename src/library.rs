//! The music library: which files under the audio folder are tracks, and which track a request name means.
//!
//! A request name resolves only by lookup in the scanned set, never by joining it onto a path, so no
//! name, however encoded, can reach a file outside the folder. Framework-free; handlers call [`Library::get`].

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Serialize;

use crate::media::{AudioFormat, audio_format};

/// How deep the scan descends into subfolders.
const MAX_DEPTH: usize = 16;

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
    /// Absolute path of the file (never sent to clients).
    #[serde(skip)]
    pub path: PathBuf,
    /// Preference among files sharing a stem.
    #[serde(skip)]
    rank: usize,
    /// Modification time when scanned: with `size`, decides whether tags must be read again.
    #[serde(skip)]
    modified: Option<SystemTime>,
}

/// A scanned snapshot of the audio folder.
#[derive(Debug, Default)]
pub struct Library {
    tracks: Vec<Track>,
    index: HashMap<String, usize>,
}

impl Library {
    /// Scans `root` recursively for audio files.
    ///
    /// Dot-files and dot-folders are skipped, and so is a symlink whose target lies outside `root`
    /// (symlinked folders are never entered, which also rules out loops). An unreadable subfolder is
    /// logged and skipped; only an unreadable `root` is an error.
    pub fn scan(root: &Path) -> Result<Self, LibraryError> {
        Self::rescan(root, &Self::default())
    }

    /// Like [`Library::scan`], reusing `previous`'s tags for files whose size and modification time
    /// have not changed, so a rescan reads tags only from new or changed files.
    pub fn rescan(root: &Path, previous: &Library) -> Result<Self, LibraryError> {
        let unreadable = |source| LibraryError::Unreadable {
            path: root.to_owned(),
            source,
        };
        let canonical_root = root.canonicalize().map_err(unreadable)?;
        if !canonical_root.is_dir() {
            return Err(LibraryError::NotADirectory(root.to_owned()));
        }
        fs::read_dir(&canonical_root).map_err(unreadable)?;

        let mut found = Vec::new();
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
                } else if let Some(file) = candidate(&canonical_root, &path, file_type.is_symlink())
                {
                    found.push(file);
                }
            }
        }
        Ok(Self::from_files(found, previous))
    }

    /// Every track, sorted by folder then title.
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// The track a request name means, if any. `name` is the fully percent-decoded path after
    /// `/audio/`; it matches a track's [`Track::name`], or its path with the extension.
    pub fn get(&self, name: &str) -> Option<&Track> {
        self.index.get(name).map(|&i| &self.tracks[i])
    }

    fn from_files(mut files: Vec<Candidate>, previous: &Library) -> Self {
        let known: HashMap<&Path, &Track> = previous
            .tracks
            .iter()
            .map(|t| (t.path.as_path(), t))
            .collect();
        // Within a group of files sharing a stem, the preferred format comes first.
        files.sort_by(|a, b| {
            (&a.key, a.format.rank, &a.relative).cmp(&(&b.key, b.format.rank, &b.relative))
        });
        let mut group_sizes: HashMap<String, usize> = HashMap::new();
        for file in &files {
            *group_sizes.entry(file.key.clone()).or_default() += 1;
        }
        let mut tracks: Vec<Track> = files
            .into_iter()
            .map(|file| {
                let shared = group_sizes[&file.key] > 1;
                let tags = match known.get(file.path.as_path()) {
                    Some(t) if t.size == file.size && t.modified == file.modified => Tags::of(t),
                    _ => Tags::read(&file.path),
                };
                Track::new(file, shared, tags)
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

/// A file that passed the scan's filters, before names are assigned.
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

/// What a file's tags and headers say, read with lofty.
#[derive(Debug, Default)]
struct Tags {
    title: Option<String>,
    artist: Option<String>,
    album: Option<String>,
    track_number: Option<u32>,
    duration_secs: Option<f64>,
    unreadable: bool,
}

impl Tags {
    /// Reads the primary (else first) tag and the duration. A file lofty cannot parse is marked
    /// unreadable and keeps its file name; nothing here can stop the scan.
    fn read(path: &Path) -> Self {
        use lofty::file::{AudioFile as _, TaggedFileExt as _};
        use lofty::tag::Accessor as _;
        let Ok(file) = lofty::read_from_path(path) else {
            log::warn!(
                "cannot read tags of {}; listing it by file name",
                path.display()
            );
            return Self {
                unreadable: true,
                ..Self::default()
            };
        };
        let text = |v: Option<std::borrow::Cow<'_, str>>| {
            v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
        };
        let duration = file.properties().duration().as_secs_f64();
        let tag = file.primary_tag().or_else(|| file.first_tag());
        Self {
            title: tag.and_then(|t| text(t.title())),
            artist: tag.and_then(|t| text(t.artist())),
            album: tag.and_then(|t| text(t.album())),
            track_number: tag.and_then(|t| t.track()),
            duration_secs: (duration > 0.0).then_some(duration),
            unreadable: false,
        }
    }

    /// The tags already read for `track`.
    fn of(track: &Track) -> Self {
        Self {
            title: Some(track.title.clone()),
            artist: track.artist.clone(),
            album: track.album.clone(),
            track_number: track.track_number,
            duration_secs: track.duration_secs,
            unreadable: track.unreadable,
        }
    }
}

/// Checks one non-directory entry: an audio file (or a symlink to one inside `root`) with a UTF-8 path.
fn candidate(root: &Path, path: &Path, is_symlink: bool) -> Option<Candidate> {
    let format = audio_format(path.extension()?.to_str()?)?;
    let target = if is_symlink {
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
    let key = relative.rsplit_once('.')?.0.to_owned();
    Some(Candidate {
        relative,
        key,
        path: target,
        size: metadata.len(),
        modified: metadata.modified().ok(),
        format,
    })
}

impl Track {
    fn new(file: Candidate, shared_stem: bool, tags: Tags) -> Self {
        let name = if shared_stem {
            file.relative.clone()
        } else {
            file.key.clone()
        };
        let (folder, file_name) = match file.relative.rsplit_once('/') {
            Some((folder, file_name)) => (folder.to_owned(), file_name.to_owned()),
            None => (String::new(), file.relative.clone()),
        };
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
            format: file.format.label,
            rank: file.format.rank,
            modified: file.modified,
            path: file.path,
        }
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

/// The library shared by all workers: a snapshot that is replaced whole when the folder is rescanned.
#[derive(Debug)]
pub struct SharedLibrary {
    root: PathBuf,
    current: RwLock<Arc<Library>>,
    last_scan: Mutex<Instant>,
}

impl SharedLibrary {
    /// Scans `root` once; fails when it cannot be read.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, LibraryError> {
        let root = root.into();
        let library = Library::scan(&root)?;
        Ok(Self {
            root,
            current: RwLock::new(Arc::new(library)),
            last_scan: Mutex::new(Instant::now()),
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

    /// Rescans the folder and returns the new snapshot. If the folder has become unreadable, the
    /// previous snapshot stays (its files then answer 404 one by one) and the problem is logged.
    pub fn rescan(&self) -> Arc<Library> {
        *self.last_scan.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        match Library::rescan(&self.root, &self.snapshot()) {
            Ok(library) => {
                let library = Arc::new(library);
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = Arc::clone(&library);
                library
            }
            Err(err) => {
                log::warn!("{err}; keeping the previous track list");
                self.snapshot()
            }
        }
    }

    /// Rescans only if the last scan is older than `min_age`: bounds the cost of requests for names
    /// that do not exist while still finding files added since the last scan.
    pub fn rescan_if_older_than(&self, min_age: Duration) -> Arc<Library> {
        let last = *self.last_scan.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() >= min_age {
            self.rescan()
        } else {
            self.snapshot()
        }
    }
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
        touch(&root, "two.mp3");
        assert_eq!(names(&shared.snapshot()), ["one"]);
        assert_eq!(names(&shared.rescan()), ["one", "two"]);
        fs::remove_dir_all(&root).unwrap();
        assert_eq!(names(&shared.rescan()), ["one", "two"]);
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
        let first = Library::scan(dir.path()).unwrap();
        assert_eq!(first.get("song").unwrap().title, "First");
        // Unchanged: the previous snapshot's tags are reused (even if reading would differ now).
        let mut stale = Library::rescan(dir.path(), &first).unwrap();
        assert_eq!(stale.get("song").unwrap().title, "First");
        // Changed (new size and time): read again.
        std::thread::sleep(Duration::from_millis(20));
        wav(&path, 2);
        tag(&path, "Second", "A", "B", 1);
        stale = Library::rescan(dir.path(), &stale).unwrap();
        assert_eq!(stale.get("song").unwrap().title, "Second");
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
