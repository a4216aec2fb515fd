//! What a storage lists, whichever storage it is: its audio files, the cover images of its folders
//! and the `.lrc` lyrics files beside tracks, before any tag is read. The folder walk and the object
//! store's listing both fill a [`Listing`] through [`Listing::add`], so they sort files, choose
//! covers and match lyrics files by the same rules.

use std::collections::HashMap;
use std::hash::{Hash as _, Hasher as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::media::{AudioFormat, audio_format};

/// Image files that give their folder's tracks a cover when the tracks carry none, most preferred
/// first (matched without case, any of [`FOLDER_ART_EXTENSIONS`]).
const FOLDER_ART_NAMES: &[&str] = &["cover", "folder", "front", "album"];
const FOLDER_ART_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "webp", "gif"];

/// What one pass over a storage found.
#[derive(Debug, Default)]
pub(crate) struct Listing {
    /// Audio files; once [`Listing::sort`]ed, within a group sharing a stem the preferred format
    /// comes first.
    pub(crate) files: Vec<Listed>,
    /// Folders to watch for changes (a local folder's, the root first; none for a remote store).
    pub(crate) folders: Vec<PathBuf>,
    /// Per folder (`""` for the top), its preferred cover image: `(preference, artwork)`.
    pub(crate) folder_art: HashMap<String, (usize, Arc<Artwork>)>,
    /// `.lrc` files (extension in any case), by their path under the root without the extension:
    /// the [`Listed::key`] of the tracks they belong to.
    pub(crate) lyrics: HashMap<String, Arc<Path>>,
}

/// A listed audio file, before names are assigned.
#[derive(Debug)]
pub(crate) struct Listed {
    /// Path under the root, `/`-separated, with extension.
    pub(crate) relative: String,
    /// `relative` without the extension.
    pub(crate) key: String,
    /// What the storage opens it by.
    pub(crate) path: Arc<Path>,
    pub(crate) size: u64,
    pub(crate) modified: Option<SystemTime>,
    pub(crate) format: AudioFormat,
}

impl Listed {
    /// The folder it is in (`""` at the top).
    pub(crate) fn folder(&self) -> &str {
        folder_of(&self.relative)
    }
}

/// Where a track's cover is read from when `/art/<name>` is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artwork {
    /// The audio file itself (`embedded`), or the folder's image file.
    pub path: Arc<Path>,
    /// Whether the image is a picture inside the audio file's tags.
    pub embedded: bool,
    /// Changes when the file holding the image changes (size, modification time): the `v` of the
    /// art URL and the response's `ETag`.
    pub version: String,
}

impl Artwork {
    pub(crate) fn new(
        path: &Arc<Path>,
        embedded: bool,
        size: u64,
        modified: Option<SystemTime>,
    ) -> Self {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        (&**path, size, modified).hash(&mut hasher);
        Self {
            path: Arc::clone(path),
            embedded,
            version: format!("{:016x}", hasher.finish()),
        }
    }
}

impl Listing {
    /// Adds a file kept at `path` under the name `relative` (checked, `/`-separated, UTF-8):
    /// whether it was an audio file, a folder image or a lyrics file (anything else is ignored).
    pub(crate) fn add(
        &mut self,
        relative: &str,
        path: &Path,
        size: u64,
        modified: Option<SystemTime>,
    ) -> bool {
        let Some((key, extension)) = relative.rsplit_once('.') else {
            return false;
        };
        if extension.contains('/') {
            return false; // a dot in a folder's name, none in the file's
        }
        if let Some(format) = audio_format(extension) {
            self.files.push(Listed {
                relative: relative.to_owned(),
                key: key.to_owned(),
                path: path.into(),
                size,
                modified,
                format,
            });
            true
        } else if let Some(preference) = folder_art_preference(relative) {
            let folder = folder_of(relative);
            if self
                .folder_art
                .get(folder)
                .is_none_or(|(best, _)| *best > preference)
            {
                let art = Artwork::new(&path.into(), false, size, modified);
                self.folder_art
                    .insert(folder.to_owned(), (preference, Arc::new(art)));
            }
            true
        } else if extension.eq_ignore_ascii_case("lrc") {
            self.lyrics.insert(key.to_owned(), path.into());
            true
        } else {
            false
        }
    }

    /// Orders the files so that within a group sharing a stem the preferred format comes first.
    pub(crate) fn sort(&mut self) {
        self.files.sort_by(|a, b| {
            (&a.key, a.format.rank, &a.relative).cmp(&(&b.key, b.format.rank, &b.relative))
        });
    }
}

/// How much a file name is preferred as its folder's cover (lower is better), if it is one.
fn folder_art_preference(relative: &str) -> Option<usize> {
    let name = relative.rsplit_once('/').map_or(relative, |(_, name)| name);
    let (stem, extension) = name.rsplit_once('.')?;
    let (stem, extension) = (stem.to_ascii_lowercase(), extension.to_ascii_lowercase());
    let name = FOLDER_ART_NAMES.iter().position(|n| *n == stem)?;
    let kind = FOLDER_ART_EXTENSIONS.iter().position(|e| *e == extension)?;
    Some(name * FOLDER_ART_EXTENSIONS.len() + kind)
}

/// The folder part of a `/`-separated path under the root (`""` at the top).
fn folder_of(relative: &str) -> &str {
    relative.rsplit_once('/').map_or("", |(folder, _)| folder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_files_and_the_preferred_folder_image_are_kept_and_the_rest_ignored() {
        let mut listing = Listing::default();
        for (name, kept) in [
            ("b.flac", true),
            ("b.mp3", true),
            ("jazz/folder.png", true),
            ("jazz/Cover.JPG", true),
            ("jazz/notes.txt", false),
            ("jazz/take five.LRC", true),
            ("a.dir/README", false),
            ("noext", false),
        ] {
            assert_eq!(listing.add(name, Path::new(name), 1, None), kept, "{name}");
        }
        listing.sort();
        let files: Vec<_> = listing.files.iter().map(|f| f.relative.as_str()).collect();
        assert_eq!(files, ["b.mp3", "b.flac"], "MP3 first in a shared stem");
        let (_, art) = &listing.folder_art["jazz"];
        assert_eq!(
            &*art.path,
            Path::new("jazz/Cover.JPG"),
            "cover before folder"
        );
        assert_eq!(
            listing.lyrics.keys().collect::<Vec<_>>(),
            ["jazz/take five"],
            "an .lrc file is noted by the name its track has without extension"
        );
    }
}
