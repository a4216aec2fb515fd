//! What a track is: its request name, what the page shows of it, where its bytes and its cover
//! live. Built from one walked file and its tags; framework-free, and no wire format: what clients
//! see of it is the HTTP layer's own types (`http::wire`).

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::listing::{Artwork, Listed};
use super::tags::Tags;

/// Characters kept as-is in a URL path segment (RFC 3986 "unreserved"); everything else is encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One playable file.
///
/// What many tracks have alike is shared rather than copied: the folder's name, the MIME type and
/// format label, a folder cover's [`Artwork`]; the path is one allocation for the track and its
/// embedded cover.
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// Its stable id (`tr-` and 16 hex digits), derived from its tags, else from its path: see
    /// `docs/ids.md`. Unique within a snapshot.
    pub id: String,
    /// The name the track is requested by: its path under the folder, `/`-separated, without extension
    /// (`jazz/take five`); with the extension when another file shares the stem (`test.mp3`).
    pub name: String,
    /// What the page shows: the title tag, or the file stem when there is none.
    pub title: String,
    /// What the file's tags and headers say (pending or unreadable files: all `None`).
    pub tags: Tags,
    /// The subfolder it lives in (`""` at the top level); one copy for the folder's tracks.
    pub folder: Arc<str>,
    /// The file name with its extension.
    pub file_name: Box<str>,
    /// Size in bytes when scanned.
    pub size: u64,
    /// `Content-Type` it is served with; one copy for every track of its type.
    pub mime: Arc<str>,
    /// Short format label (`"MP3"`); one copy for every track of its type.
    pub format: Arc<str>,
    /// The URL that streams it, percent-encoded (`/audio/jazz/take%20five`).
    pub url: String,
    /// The URL of its cover (`/art/jazz/take%20five?v=…`), embedded or from its folder; the `v`
    /// changes whenever the image may have, so browsers may cache each version for good.
    pub art: Option<String>,
    /// Where the cover comes from (never sent to clients); one copy for a folder's cover.
    pub artwork: Option<Arc<Artwork>>,
    /// Absolute path of the file (never sent to clients).
    pub path: Arc<Path>,
    /// The `.lrc` lyrics file beside it (same name, `.lrc` extension), if there is one (never sent
    /// to clients).
    pub lyrics_file: Option<Arc<Path>>,
    /// The scan has not read this file's tags yet: it is listed by file name meanwhile.
    pub(crate) pending: bool,
    /// Preference among files sharing a stem.
    pub(crate) rank: u8,
    /// Modification time when scanned: with `size`, decides whether tags must be read again.
    pub(crate) modified: Option<SystemTime>,
}

/// Page order: by folder, then track number (untagged last), then title.
pub(crate) fn sort_key(t: &Track) -> (&str, u32, &str, &str) {
    (
        &t.folder,
        t.tags.track_number.unwrap_or(u32::MAX),
        &t.title,
        &t.name,
    )
}

/// What a track shares with others, made once per folder, format or file by the snapshot's build.
#[derive(Debug, Clone)]
pub(crate) struct Shared {
    /// The MIME type.
    pub(crate) mime: Arc<str>,
    /// The format's label.
    pub(crate) format: Arc<str>,
    /// The folder's name.
    pub(crate) folder: Arc<str>,
    /// Where the cover comes from.
    pub(crate) artwork: Option<Arc<Artwork>>,
    /// The `.lrc` file beside it.
    pub(crate) lyrics_file: Option<Arc<Path>>,
}

impl Track {
    /// The track of `file`, its id still to be given (see `Library::build`).
    pub(crate) fn new(
        file: &Listed,
        shared_stem: bool,
        tags: Option<Tags>,
        shared: Shared,
    ) -> Self {
        let name = if shared_stem {
            file.relative.clone()
        } else {
            file.key.clone()
        };
        let file_name = file
            .relative
            .rsplit_once('/')
            .map_or(file.relative.as_str(), |(_, file_name)| file_name);
        let pending = tags.is_none();
        let tags = tags.unwrap_or_default();
        let title = tags.title.clone().unwrap_or_else(|| {
            file_name
                .rsplit_once('.')
                .map_or(file_name, |(stem, _)| stem)
                .to_owned()
        });
        let url = name
            .split('/')
            .map(|segment| utf8_percent_encode(segment, SEGMENT).to_string())
            .collect::<Vec<_>>()
            .join("/");
        Self {
            id: String::new(),
            art: shared
                .artwork
                .as_ref()
                .map(|art| format!("/art/{url}?v={}", art.version)),
            url: format!("/audio/{url}"),
            name,
            title,
            tags,
            folder: shared.folder,
            file_name: file_name.into(),
            size: file.size,
            mime: shared.mime,
            format: shared.format,
            artwork: shared.artwork,
            lyrics_file: shared.lyrics_file,
            pending,
            rank: u8::try_from(file.format.rank).unwrap_or(u8::MAX),
            modified: file.modified,
            path: Arc::clone(&file.path),
        }
    }

    /// A track at `relative` (a path under the root) with `tags`, as a scan would list it, for
    /// tests that need tracks without files: 1000 bytes, no cover, no lyrics file.
    #[cfg(test)]
    pub(crate) fn for_tests(relative: &str, tags: Tags) -> Self {
        let mut listing = super::listing::Listing::default();
        assert!(
            listing.add(relative, Path::new(relative), 1000, None),
            "{relative}"
        );
        let file = &listing.files[0];
        let shared = Shared {
            mime: file.format.mime.into(),
            format: (&*file.format.label).into(),
            folder: file.folder().into(),
            artwork: None,
            lyrics_file: None,
        };
        Self::new(file, false, Some(tags), shared)
    }

    /// The tags this track was listed with, if they were read (not pending).
    pub(crate) fn read_tags(&self) -> Option<&Tags> {
        (!self.pending).then_some(&self.tags)
    }

    pub(crate) fn relative_path(&self) -> String {
        if self.folder.is_empty() {
            self.file_name.to_string()
        } else {
            format!("{}/{}", self.folder, self.file_name)
        }
    }

    /// Whether `path` is this track's path under the root, with its extension or without.
    pub(crate) fn is_at(&self, path: &str, with_extension: bool) -> bool {
        let file = if with_extension {
            &*self.file_name
        } else {
            self.file_name
                .rsplit_once('.')
                .map_or(&*self.file_name, |(stem, _)| stem)
        };
        if self.folder.is_empty() {
            return path == file;
        }
        path.strip_prefix(&*self.folder)
            .and_then(|rest| rest.strip_prefix('/'))
            == Some(file)
    }

    pub(crate) fn extension(&self) -> &str {
        self.file_name.rsplit_once('.').map_or("", |(_, ext)| ext)
    }

    pub(crate) fn relative_path_without_extension(&self) -> String {
        let relative = self.relative_path();
        let cut = relative.len() - self.extension().len() - 1;
        relative[..cut].to_owned()
    }
}
