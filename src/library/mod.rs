//! The music library: which files are tracks, what their tags say, which cover each has, and which
//! track a request name means. Framework-free.
//!
//! A request name resolves only by lookup in the scanned set, never by joining it onto a path, so no
//! name, however encoded, can reach a file outside the folder.
//!
//! - `storage`: the seam between the library and where the bytes live; `folder`: a local folder
//!   (the default); `store`: S3-compatible object storage, with the replica's bounded cache;
//! - `listing`: what a storage lists; `tags` and `media`: what one file is; `lyrics`: lyrics text
//!   into lines;
//! - `track`: a track as listed; `ids`: stable ids; this module: the snapshot, its name and id
//!   indexes, and its [`Catalog`] (built on first use);
//! - `shared`: the snapshot all workers share, rescanned in the background; `watcher`: when;
//!   `changes`: what changed from one version of the list to the next, for open pages.

mod changes;
mod folder;
pub(crate) mod ids;
mod listing;
pub mod lyrics;
mod media;
mod shared;
mod storage;
mod store;
mod tags;
mod track;
mod watcher;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{DefaultHasher, Hasher as _};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use percent_encoding::percent_decode_str;

use crate::catalog::Catalog;

pub use self::changes::{Delta, Placed};
pub use self::listing::Artwork;
use self::listing::Listing;
pub use self::shared::{Progress, SharedLibrary, Status};
pub use self::storage::SeekRead;
pub(crate) use self::storage::{Chunks, Content, LocalFile, Opened, RangedRead, read_nowait};
pub(crate) use self::store::ObjectLibrary;
pub use self::store::{Cache, Lease, StoreConfig};
pub(crate) use self::tags::VARIOUS_ARTISTS;
pub use self::tags::{Codec, Image, Mbid, MusicBrainz, ReplayGain, Stream, Tags};
pub use self::track::Track;
pub(crate) use self::watcher::{Watcher, list_every, watch_folder};

/// Locks `mutex`, also after a panic elsewhere while it was held (what it guards stays usable).
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Why the audio folder could not be scanned.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// The folder does not exist or cannot be read.
    // The OS's reason is part of the message, not a `source`: printed with its chain (`{:#}`),
    // it would otherwise appear twice.
    #[error("cannot read audio folder {}: {reason}", path.display())]
    Unreadable {
        /// The folder as configured.
        path: PathBuf,
        /// What the OS said.
        reason: io::Error,
    },
    /// The path exists but is a file.
    #[error("audio folder {} is not a directory", .0.display())]
    NotADirectory(PathBuf),
    /// The object store is misconfigured or does not answer.
    #[error("object store {location}: {reason}")]
    Store {
        /// The library's address (`s3://bucket/prefix`).
        location: String,
        /// What went wrong.
        reason: String,
    },
    /// The cache folder cannot be used.
    #[error("cache folder {}: {reason}", path.display())]
    Cache {
        /// The folder as configured.
        path: PathBuf,
        /// What the OS said.
        reason: io::Error,
    },
}

/// A scanned snapshot of the audio folder.
#[derive(Debug, Default)]
pub struct Library {
    tracks: Vec<Track>,
    /// Request names: `(hash of a name, track, which of its names)`, sorted. A hash and a check
    /// of the name rather than a map of owned names, which would copy every name and path.
    index: Vec<(u64, u32, NameKind)>,
    /// Track ids: `(the id's 64 bits, track)`, sorted.
    ids: Vec<(u64, u32)>,
    /// Every folder the scan walked (what the watcher watches).
    folders: Vec<PathBuf>,
    /// Albums, artists and genres, built when first asked for.
    catalog: OnceLock<Catalog>,
}

/// Which of a track's names an index entry stands for; in this order of precedence when two
/// tracks answer to one name (an exact name before any alias).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum NameKind {
    /// [`Track::name`].
    Name,
    /// Its path with the extension (when that is not its name).
    Path,
    /// Its path without the extension, when its name is its path (a shared stem).
    Stem,
}

/// The hash the name index files a name under, fed its parts in turn (SipHash reads bytes as a
/// stream, so parts hash as their concatenation does): the same within a process, which is all
/// it needs.
fn name_hash(parts: &[&str]) -> u64 {
    let mut hasher = DefaultHasher::new();
    for part in parts {
        hasher.write(part.as_bytes());
    }
    hasher.finish()
}

impl Library {
    /// Scans `root` and reads every file's tags, on this thread: the plain form of a
    /// [`SharedLibrary`] scan.
    #[cfg(test)]
    fn scan(root: &std::path::Path) -> Result<Self, LibraryError> {
        use self::storage::Storage as _;
        let mut walk = folder::Folder::new(root.to_owned())?.list()?;
        walk.sort();
        Ok(Self::build(&walk, |path| Some(Tags::read(path))))
    }

    /// Every track, sorted by folder, then track number, then title.
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// The track a request name means, if any. `name` is the fully percent-decoded path after
    /// `/audio/`; it matches a track's [`Track::name`], or its path with the extension.
    ///
    /// A stem shared by several files resolves to the group's preferred format (MP3 before the
    /// others); an exact name wins over any alias that equals it.
    pub fn get(&self, name: &str) -> Option<&Track> {
        let hash = name_hash(&[name]);
        let start = self.index.partition_point(|&(h, _, _)| h < hash);
        self.index[start..]
            .iter()
            .take_while(|&&(h, _, _)| h == hash)
            .map(|&(_, i, kind)| (&self.tracks[i as usize], kind))
            .filter(|(track, kind)| match kind {
                NameKind::Name => track.name == name,
                NameKind::Path => track.is_at(name, true),
                NameKind::Stem => track.is_at(name, false),
            })
            .min_by_key(|&(track, kind)| (kind != NameKind::Name, track.rank, kind))
            .map(|(track, _)| track)
    }

    /// The track whose [`Track::id`] is `id`, if any.
    pub fn by_id(&self, id: &str) -> Option<&Track> {
        self.index_of(id).map(|i| &self.tracks[i])
    }

    /// Where in [`Library::tracks`] the track whose id is `id` is, if it is.
    pub fn index_of(&self, id: &str) -> Option<usize> {
        let bits = ids::bits("tr", id)?;
        let start = self.ids.partition_point(|&(b, _)| b < bits);
        self.ids[start..]
            .iter()
            .take_while(|&&(b, _)| b == bits)
            .map(|&(_, i)| i as usize)
            .find(|&i| self.tracks[i].id == id)
    }

    /// The albums, artists and genres of this snapshot's tracks: built on the first call (so no
    /// one pays for it until someone browses), then kept with the snapshot.
    pub fn catalog(&self) -> &Catalog {
        self.catalog.get_or_init(|| Catalog::build(&self.tracks))
    }

    /// Whether [`Self::catalog`] is built already (answers at once, without building it).
    pub fn has_catalog(&self) -> bool {
        self.catalog.get().is_some()
    }

    /// Every folder the scan walked, the root first.
    pub fn folders(&self) -> &[PathBuf] {
        &self.folders
    }

    /// The track a raw (still percent-encoded) request name means: the path after `/audio/` or
    /// `/art/`, decoded in full. `%2F` becomes `/`, which is harmless: names are only looked up.
    pub fn find(&self, raw: &str) -> Option<&Track> {
        self.get(&percent_decode_str(raw).decode_utf8().ok()?)
    }

    /// The tracks of `walk`, with the tags `tags_of` gives for each file's path (a file it has
    /// none for is listed as pending).
    fn build(walk: &Listing, mut tags_of: impl FnMut(&Path) -> Option<Tags>) -> Self {
        let mut group_sizes: HashMap<&str, usize> = HashMap::new();
        for file in &walk.files {
            *group_sizes.entry(&file.key).or_default() += 1;
        }
        let mut folders: HashMap<&str, Arc<str>> = HashMap::new();
        // MIME types and labels: a few, each shared by all the tracks of its type.
        let mut formats: Vec<Arc<str>> = Vec::new();
        let mut share = |text: &str| -> Arc<str> {
            if let Some(known) = formats.iter().find(|known| ***known == *text) {
                return Arc::clone(known);
            }
            formats.push(text.into());
            Arc::clone(&formats[formats.len() - 1])
        };
        let mut tracks: Vec<Track> = walk
            .files
            .iter()
            .map(|file| {
                let tags = tags_of(&file.path);
                let artwork = match &tags {
                    Some(t) if t.has_cover => Some(Arc::new(Artwork::new(
                        &file.path,
                        true,
                        file.size,
                        file.modified,
                    ))),
                    _ => walk
                        .folder_art
                        .get(file.folder())
                        .map(|(_, art)| Arc::clone(art)),
                };
                let folder = folders
                    .entry(file.folder())
                    .or_insert_with_key(|folder| Arc::from(*folder));
                let shared = track::Shared {
                    mime: share(file.format.mime),
                    format: share(&file.format.label),
                    folder: Arc::clone(folder),
                    artwork,
                    lyrics_file: walk.lyrics.get(&file.key).map(Arc::clone),
                };
                Track::new(file, group_sizes[file.key.as_str()] > 1, tags, shared)
            })
            .collect();
        tracks.sort_by(|a, b| track::sort_key(a).cmp(&track::sort_key(b)));
        let ids = assign_ids(&mut tracks);
        Self {
            index: name_index(&tracks),
            ids,
            tracks,
            folders: walk.folders.clone(),
            catalog: OnceLock::new(),
        }
    }
}

/// Gives every track its id (see `docs/ids.md`), and returns the id index. An id that several
/// tracks derive from their tags (copies of one track) stays with the first of them by path; the
/// others are known by their paths. Decided by path, so ids never depend on the order of a scan.
fn assign_ids(tracks: &mut [Track]) -> Vec<(u64, u32)> {
    let tagged: Vec<Option<String>> = tracks
        .iter()
        .map(|track| ids::tag_key(track).map(|key| ids::hashed("tr", &key)))
        .collect();
    let mut owners: HashMap<u64, usize> = HashMap::with_capacity(tracks.len());
    for (i, id) in tagged.iter().enumerate() {
        let Some(id) = id else { continue };
        match owners.entry(ids::bits("tr", id).expect("ids are made of this form")) {
            Entry::Vacant(slot) => {
                slot.insert(i);
            }
            Entry::Occupied(mut owner) => {
                if tracks[i].relative_path() < tracks[*owner.get()].relative_path() {
                    owner.insert(i);
                }
            }
        }
    }
    let mut index = Vec::with_capacity(tracks.len());
    for (i, id) in tagged.into_iter().enumerate() {
        let id = match id {
            Some(id) if owners[&ids::bits("tr", &id).expect("checked above")] == i => id,
            _ => ids::hashed("tr", &ids::path_key(&tracks[i])),
        };
        index.push((
            ids::bits("tr", &id).expect("ids are made of this form"),
            i as u32,
        ));
        tracks[i].id = id;
    }
    index.sort_unstable();
    index
}

/// The name index of `tracks`: each track's name, its path with the extension, and for files
/// that share a stem, the stem. Hashed from the parts the track keeps, so that nothing is copied.
fn name_index(tracks: &[Track]) -> Vec<(u64, u32, NameKind)> {
    let mut index = Vec::with_capacity(tracks.len() * 2);
    for (i, track) in tracks.iter().enumerate() {
        let i = i as u32;
        index.push((name_hash(&[&track.name]), i, NameKind::Name));
        let (folder, file) = (&*track.folder, &*track.file_name);
        let path = |file: &str| match folder {
            "" => name_hash(&[file]),
            _ => name_hash(&[folder, "/", file]),
        };
        if track.name.len() == folder.len() + usize::from(!folder.is_empty()) + file.len() {
            // Named by its path (a shared stem): the stem is an alias.
            let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
            index.push((path(stem), i, NameKind::Stem));
        } else {
            index.push((path(file), i, NameKind::Path));
        }
    }
    index.sort_unstable_by_key(|&(hash, i, kind)| (hash, kind, i));
    index
}

/// Files for the library's unit tests, made with the shared test kit.
#[cfg(test)]
mod fixtures {
    use std::fs;
    use std::path::Path;

    /// Writes a file whose bytes are its own relative path (not audio: listed as unreadable).
    pub(super) fn touch(root: &Path, relative: &str) {
        let path = root.join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, relative.as_bytes()).unwrap();
    }

    /// The names of a snapshot's tracks, in page order.
    pub(super) fn names(library: &super::Library) -> Vec<&str> {
        library.tracks().iter().map(|t| t.name.as_str()).collect()
    }

    /// A real WAV file of `seconds` of noise.
    pub(super) fn wav(path: &Path, seconds: u32) {
        testkit::write_wav(path, seconds as f32);
    }

    /// Writes title, artist, album and track number into `path`.
    pub(super) fn tag(path: &Path, title: &str, artist: &str, album: &str, track: u32) {
        testkit::Tagger::default()
            .title(title)
            .artist(artist)
            .album(album)
            .track(track)
            .save(path);
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{names, tag, touch, wav};
    use super::*;
    use std::fs;

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
        assert_eq!((jazz.title.as_str(), &*jazz.folder), ("take five", "jazz"));
        assert_eq!(jazz.url, "/audio/jazz/take%20five");
        assert_eq!(&*jazz.file_name, "take five.ogg");
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
        assert_eq!(&*library.get("x").unwrap().file_name, "x.mp3");
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
        assert_eq!(track.tags.artist.as_deref(), Some("Quartet"));
        assert_eq!(track.tags.album.as_deref(), Some("Time Out"));
        assert_eq!(track.tags.track_number, Some(1));
        assert!(
            (track.tags.duration_secs.unwrap() - 3.0).abs() < 0.1,
            "{:?}",
            track.tags.duration_secs
        );
        assert!(!track.tags.unreadable);
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
            (plain.title.as_str(), plain.tags.artist.as_deref()),
            ("plain", None)
        );
        assert!(plain.tags.duration_secs.is_some() && !plain.tags.unreadable);
        for name in ["broken", "empty"] {
            let track = library.get(name).unwrap();
            assert_eq!(track.title, name);
            assert!(track.tags.unreadable, "{name} should be marked unreadable");
        }
    }

    /// Each track's id, by its path under the root.
    fn ids(library: &Library) -> HashMap<String, String> {
        library
            .tracks()
            .iter()
            .map(|t| (t.relative_path(), t.id.clone()))
            .collect()
    }

    #[test]
    fn ids_stay_across_scans_and_moves_and_copies_fall_back_to_their_paths() {
        let dir = tempfile::tempdir().unwrap();
        let song = dir.path().join("rock/01 song.wav");
        wav(&song, 1);
        tag(&song, "Song", "Band", "Record", 1);
        wav(&dir.path().join("plain.wav"), 1);
        let first = Library::scan(dir.path()).unwrap();
        let second = Library::scan(dir.path()).unwrap();
        assert_eq!(ids(&first), ids(&second), "the same folder, the same ids");
        let tagged = first.get("rock/01 song").unwrap().id.clone();
        let plain = first.get("plain").unwrap().id.clone();
        assert!(tagged.starts_with("tr-") && tagged.len() == 19, "{tagged}");
        assert_eq!(
            plain,
            ids::hashed("tr", "path\0plain\0wav"),
            "untagged: by its path"
        );
        assert_eq!(first.by_id(&tagged).unwrap().name, "rock/01 song");

        // Renamed into another folder: a tagged file keeps its id.
        fs::create_dir(dir.path().join("moved")).unwrap();
        fs::rename(&song, dir.path().join("moved/song.wav")).unwrap();
        let moved = Library::scan(dir.path()).unwrap();
        assert_eq!(moved.get("moved/song").unwrap().id, tagged);

        // A copy: the first by path keeps the id, the other is known by its path.
        fs::copy(
            dir.path().join("moved/song.wav"),
            dir.path().join("a copy.wav"),
        )
        .unwrap();
        let copied = Library::scan(dir.path()).unwrap();
        assert_eq!(
            copied.get("a copy").unwrap().id,
            tagged,
            "'a copy.wav' < 'moved/…'"
        );
        assert_eq!(
            copied.get("moved/song").unwrap().id,
            ids::hashed("tr", "path\0moved/song\0wav")
        );
        let all = ids(&copied);
        let mut unique: Vec<_> = all.values().collect();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), all.len(), "ids are unique");
    }

    #[test]
    fn ids_do_not_depend_on_the_order_files_are_listed_in() {
        let mut walk = Listing::default();
        let mut tags = HashMap::new();
        for (i, relative) in ["b/x.mp3", "a/x.mp3", "c.mp3", "a/y.flac", "a/y.mp3"]
            .into_iter()
            .enumerate()
        {
            let path = PathBuf::from("/music").join(relative);
            assert!(walk.add(relative, &path, 1, None));
            let same_song = Tags {
                title: Some("Same".into()),
                artist: Some("Band".into()),
                album: Some("Record".into()),
                track_number: Some(1 + (i as u32 % 2)),
                ..Tags::default()
            };
            tags.insert(path, same_song);
        }
        walk.sort();
        let sorted = ids(&Library::build(&walk, |path| tags.get(path).cloned()));
        walk.files.reverse();
        assert_eq!(
            ids(&Library::build(&walk, |path| tags.get(path).cloned())),
            sorted
        );
        walk.files.swap(0, 3);
        assert_eq!(
            ids(&Library::build(&walk, |path| tags.get(path).cloned())),
            sorted
        );
    }

    #[test]
    fn by_id_finds_only_the_ids_tracks_have() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "one.mp3");
        let library = Library::scan(dir.path()).unwrap();
        let id = library.tracks()[0].id.clone();
        assert_eq!(library.by_id(&id).unwrap().name, "one");
        for miss in [
            "",
            "tr-",
            "one",
            &id.to_uppercase(),
            &id.replace("tr-", "al-"),
            "tr-0000000000000000",
        ] {
            assert!(library.by_id(miss).is_none(), "{miss}");
        }
    }

    #[test]
    fn the_catalog_is_built_once_and_kept_with_its_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("01.wav");
        wav(&path, 1);
        tag(&path, "Song", "Band", "Record", 1);
        let library = Library::scan(dir.path()).unwrap();
        assert!(library.catalog.get().is_none(), "not built until asked for");
        let catalog = library.catalog();
        assert_eq!(catalog.albums()[0].name, "Record");
        assert!(std::ptr::eq(catalog, library.catalog()));
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
