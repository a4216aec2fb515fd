//! The walk: one pass over the audio folder that lists its audio files and folder images, with the
//! rules that keep everything served inside it (dot-files skipped, symlinks only to targets inside,
//! UTF-8 names). Tags are read later, by the scan in [`super::shared`].

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::LibraryError;
use super::media::{AudioFormat, audio_format};
use super::track::Artwork;

/// How deep the scan descends into subfolders.
const MAX_DEPTH: usize = 16;
/// Image files that give their folder's tracks a cover when the tracks carry none, most preferred
/// first (matched without case, any of [`FOLDER_ART_EXTENSIONS`]).
const FOLDER_ART_NAMES: &[&str] = &["cover", "folder", "front", "album"];
const FOLDER_ART_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "gif"];
/// What one pass over the folder found, before any tag is read.
#[derive(Debug, Default)]
pub(crate) struct Walk {
    /// Audio files, sorted so that within a group sharing a stem the preferred format comes first.
    pub(crate) files: Vec<Candidate>,
    /// Every folder walked, the root first.
    pub(crate) folders: Vec<PathBuf>,
    /// Per folder (`""` for the top), its preferred cover image: `(preference, artwork)`.
    pub(crate) folder_art: HashMap<String, (usize, Artwork)>,
}

/// `root` made canonical, once it is known to be a folder this process can list.
pub(crate) fn readable_folder(root: &Path) -> Result<PathBuf, LibraryError> {
    let unreadable = |reason| LibraryError::Unreadable {
        path: root.to_owned(),
        reason,
    };
    let canonical = root.canonicalize().map_err(unreadable)?;
    if !canonical.is_dir() {
        return Err(LibraryError::NotADirectory(root.to_owned()));
    }
    fs::read_dir(&canonical).map_err(unreadable)?;
    Ok(canonical)
}

/// Lists the audio files and folder images under `root`.
///
/// Dot-files and dot-folders are skipped, and so is a symlink whose target lies outside `root`
/// (symlinked folders are never entered, which also rules out loops). An unreadable subfolder is
/// logged and skipped; only an unreadable `root` is an error.
pub(crate) fn walk(root: &Path) -> Result<Walk, LibraryError> {
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
        walk.folders.push(dir);
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
    walk.sort();
    Ok(walk)
}

impl Walk {
    /// Orders the files so that within a group sharing a stem the preferred format comes first.
    pub(crate) fn sort(&mut self) {
        self.files.sort_by(|a, b| {
            (&a.key, a.format.rank, &a.relative).cmp(&(&b.key, b.format.rank, &b.relative))
        });
    }

    /// Adds a file listed by a store rather than walked: `relative` (a checked, `/`-separated
    /// name) kept at `path`. Whether it is an audio file or a folder image (else it is ignored).
    pub(crate) fn add_listed(
        &mut self,
        relative: &str,
        path: &Path,
        size: u64,
        modified: Option<SystemTime>,
    ) -> bool {
        let Some(extension) = path.extension().and_then(|e| e.to_str()) else {
            return false;
        };
        if let Some(format) = audio_format(extension) {
            let Some((key, _)) = relative.rsplit_once('.') else {
                return false;
            };
            self.files.push(Candidate {
                relative: relative.to_owned(),
                key: key.to_owned(),
                path: path.to_owned(),
                size,
                modified,
                format,
            });
            true
        } else if let Some(preference) = folder_art_preference(path) {
            let art = Artwork::new(path, false, size, modified);
            let folder = folder_of(relative);
            if self
                .folder_art
                .get(folder)
                .is_none_or(|(best, _)| *best > preference)
            {
                self.folder_art.insert(folder.to_owned(), (preference, art));
            }
            true
        } else {
            false
        }
    }

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
pub(crate) struct Candidate {
    /// Path under the root, `/`-separated, with extension.
    pub(crate) relative: String,
    /// `relative` without the extension.
    pub(crate) key: String,
    pub(crate) path: PathBuf,
    pub(crate) size: u64,
    pub(crate) modified: Option<SystemTime>,
    pub(crate) format: AudioFormat,
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

    pub(crate) fn folder(&self) -> &str {
        folder_of(&self.relative)
    }
}

/// The folder part of a `/`-separated path under the root (`""` at the top).
fn folder_of(relative: &str) -> &str {
    relative.rsplit_once('/').map_or("", |(folder, _)| folder)
}

#[cfg(test)]
mod tests {
    use super::super::Library;
    use super::super::fixtures::{names, touch};
    use super::*;

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
}
