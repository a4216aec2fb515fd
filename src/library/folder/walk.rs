//! One pass over a local folder: which files it lists, with the rules that keep everything served
//! inside it (dot-files skipped, symlinks only to targets inside, UTF-8 names). Tags are read later,
//! by the scan in `library::shared`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::library::LibraryError;
use crate::library::listing::Listing;

/// How deep the scan descends into subfolders.
const MAX_DEPTH: usize = 16;

/// `root` made canonical, once it is known to be a folder this process can list.
pub(super) fn readable_folder(root: &Path) -> Result<PathBuf, LibraryError> {
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
pub(super) fn walk(root: &Path) -> Result<Listing, LibraryError> {
    let canonical_root = readable_folder(root)?;
    let mut listing = Listing::default();
    let mut pending = vec![(canonical_root.clone(), 0)];
    while let Some((dir, depth)) = pending.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) => {
                log::warn!("skipping unreadable folder {}: {err}", dir.display());
                continue;
            }
        };
        listing.folders.push(dir);
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            if file_type.is_dir() {
                if depth < MAX_DEPTH {
                    pending.push((path, depth + 1));
                }
                continue;
            }
            if path.extension().is_none() {
                continue;
            }
            if let Some((target, metadata, relative)) = resolve(&canonical_root, &path, file_type) {
                let modified = metadata.modified().ok();
                listing.add(&relative, &target, metadata.len(), modified);
            }
        }
    }
    Ok(listing)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::Library;
    use crate::library::fixtures::{names, touch};

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
