//! What a track is: its request name, what the page shows of it, where its bytes and its cover
//! live. Built from one walked file and its tags; framework-free, and no wire format: what clients
//! see of it is the HTTP layer's own types (`http::wire`).

use std::path::PathBuf;
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
#[derive(Debug, Clone, PartialEq)]
pub struct Track {
    /// The name the track is requested by: its path under the folder, `/`-separated, without extension
    /// (`jazz/take five`); with the extension when another file shares the stem (`test.mp3`).
    pub name: String,
    /// What the page shows: the title tag, or the file stem when there is none.
    pub title: String,
    /// What the file's tags and headers say (pending or unreadable files: all `None`).
    pub tags: Tags,
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
    pub artwork: Option<Artwork>,
    /// Absolute path of the file (never sent to clients).
    pub path: PathBuf,
    /// The scan has not read this file's tags yet: it is listed by file name meanwhile.
    pub(crate) pending: bool,
    /// Preference among files sharing a stem.
    pub(crate) rank: usize,
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

impl Track {
    pub(crate) fn new(
        file: &Listed,
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
        let title = tags.title.clone().unwrap_or_else(|| {
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
            tags,
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
    pub(crate) fn read_tags(&self) -> Option<&Tags> {
        (!self.pending).then_some(&self.tags)
    }

    pub(crate) fn relative_path(&self) -> String {
        if self.folder.is_empty() {
            self.file_name.clone()
        } else {
            format!("{}/{}", self.folder, self.file_name)
        }
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
