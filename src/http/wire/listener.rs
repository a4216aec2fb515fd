//! What the HTTP layer sends and takes of a listener's own data (stars, playlists, the play queue,
//! bookmarks): bodies read from the page's requests and answers built from [`crate::data`]'s
//! types, which carry no serde. Times are Unix milliseconds; tracks are named by id, with the
//! name the page's track list knows them by (`null` for a track no longer in the library).

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::data::{Bookmark, PlayQueue, Playlist, PlaylistEdit, PlaylistInfo, Quality, Starred};
use crate::library::Library;

/// Unix milliseconds.
pub(in crate::http) fn millis(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `GET /api/stars`: what the listener starred, by kind, each id with when.
#[derive(Serialize)]
pub(in crate::http) struct StarsJson {
    /// Track ids.
    pub(in crate::http) tracks: BTreeMap<String, u64>,
    /// Album ids.
    pub(in crate::http) albums: BTreeMap<String, u64>,
    /// Artist ids.
    pub(in crate::http) artists: BTreeMap<String, u64>,
}

/// Starred items as an id → time map.
pub(in crate::http) fn starred_map(items: Vec<Starred>) -> BTreeMap<String, u64> {
    items
        .into_iter()
        .map(|item| (item.id, millis(item.at)))
        .collect()
}

/// `PUT /api/ratings/{id}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct RatingBody {
    /// 1 to 5.
    pub(in crate::http) rating: u8,
}

/// `POST /api/plays`: a play the page counted (past half the track or four minutes).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct PlayBody {
    /// The track's id.
    pub(in crate::http) track: String,
}

/// A track of a list (playlist, queue) on the wire.
#[derive(Serialize)]
pub(in crate::http) struct ListedJson<'a> {
    /// Its id.
    id: &'a str,
    /// Its name in the track list, if it is still in the library.
    name: Option<&'a str>,
}

/// `ids` with the names `library` has for them.
fn listed<'a>(library: &'a Library, ids: &'a [String]) -> Vec<ListedJson<'a>> {
    ids.iter()
        .map(|id| ListedJson {
            id,
            name: library.by_id(id).map(|track| track.name.as_str()),
        })
        .collect()
}

/// A playlist without its entries.
#[derive(Serialize)]
pub(in crate::http) struct PlaylistInfoJson<'a> {
    id: &'a str,
    owner: &'a str,
    name: &'a str,
    comment: &'a str,
    public: bool,
    created: u64,
    changed: u64,
    /// Goes up with every edit; an edit may name the version it was made against.
    version: i64,
    /// How many entries.
    entries: usize,
    /// Whether the listener asking owns it (and so may change it).
    mine: bool,
}

impl<'a> PlaylistInfoJson<'a> {
    /// `info` as `user` sees it.
    pub(in crate::http) fn new(info: &'a PlaylistInfo, user: &str) -> Self {
        Self {
            id: &info.id,
            owner: &info.owner,
            name: &info.name,
            comment: &info.comment,
            public: info.public,
            created: millis(info.created),
            changed: millis(info.changed),
            version: info.version,
            entries: info.entries,
            mine: info.owner == user,
        }
    }
}

/// `GET /api/playlists`.
#[derive(Serialize)]
pub(in crate::http) struct PlaylistsJson<'a> {
    /// The listener's own and others' public ones.
    pub(in crate::http) playlists: Vec<PlaylistInfoJson<'a>>,
}

/// `GET /api/playlists/{id}`: a playlist and its entries, in order.
#[derive(Serialize)]
pub(in crate::http) struct PlaylistJson<'a> {
    playlist: PlaylistInfoJson<'a>,
    tracks: Vec<ListedJson<'a>>,
}

impl<'a> PlaylistJson<'a> {
    /// `playlist` as `user` sees it, its tracks named from `library`.
    pub(in crate::http) fn new(playlist: &'a Playlist, user: &str, library: &'a Library) -> Self {
        Self {
            playlist: PlaylistInfoJson::new(&playlist.info, user),
            tracks: listed(library, &playlist.tracks),
        }
    }
}

/// `POST /api/playlists`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct NewPlaylistBody {
    pub(in crate::http) name: String,
    #[serde(default)]
    pub(in crate::http) comment: Option<String>,
    #[serde(default)]
    pub(in crate::http) public: Option<bool>,
    /// Track ids.
    #[serde(default)]
    pub(in crate::http) tracks: Vec<String>,
}

/// A move of one entry.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct MoveBody {
    from: usize,
    to: usize,
}

/// `PATCH /api/playlists/{id}`: what to change, applied in one transaction in this order: name,
/// comment and public flag; entries removed (positions as before the edit); the move; tracks
/// appended.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct EditBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    public: Option<bool>,
    #[serde(default)]
    remove: Vec<usize>,
    #[serde(default, rename = "move")]
    moved: Option<MoveBody>,
    /// Track ids.
    #[serde(default)]
    pub(in crate::http) append: Vec<String>,
    /// Only if the playlist is still at this version (else 409).
    #[serde(default)]
    version: Option<i64>,
}

impl From<EditBody> for PlaylistEdit {
    fn from(body: EditBody) -> Self {
        Self {
            name: body.name,
            comment: body.comment,
            public: body.public,
            remove: body.remove,
            moved: body.moved.map(|m| (m.from, m.to)),
            append: body.append,
            expected_version: body.version,
        }
    }
}

/// `PUT /api/playlists/{id}/tracks`: every entry replaced.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct TracksBody {
    /// Track ids, in order.
    pub(in crate::http) tracks: Vec<String>,
    /// Only if the playlist is still at this version (else 409).
    #[serde(default)]
    pub(in crate::http) version: Option<i64>,
}

/// `PUT /api/queue`: the play queue as one device leaves it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct QueueBody {
    /// Track ids, in order.
    pub(in crate::http) tracks: Vec<String>,
    /// The one playing (one of `tracks`).
    #[serde(default)]
    pub(in crate::http) current: Option<String>,
    /// Where in it, in milliseconds.
    #[serde(default)]
    pub(in crate::http) position_ms: u64,
    /// Which device or app saved it ("web" when not said).
    #[serde(default)]
    pub(in crate::http) client: Option<String>,
}

/// `GET /api/queue`: the play queue as last saved, from whichever device.
#[derive(Serialize)]
pub(in crate::http) struct QueueJson<'a> {
    tracks: Vec<ListedJson<'a>>,
    current: Option<&'a str>,
    /// The current track's name in the track list, if it is still in the library.
    current_name: Option<&'a str>,
    position_ms: u64,
    changed: u64,
    changed_by: &'a str,
}

impl<'a> QueueJson<'a> {
    /// `queue`, its tracks named from `library`.
    pub(in crate::http) fn new(queue: &'a PlayQueue, library: &'a Library) -> Self {
        let current = queue.current.as_deref();
        Self {
            tracks: listed(library, &queue.tracks),
            current,
            current_name: current
                .and_then(|id| library.by_id(id))
                .map(|track| track.name.as_str()),
            position_ms: queue.position_ms,
            changed: millis(queue.changed),
            changed_by: &queue.changed_by,
        }
    }
}

/// `PUT /api/bookmarks/{track}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct BookmarkBody {
    pub(in crate::http) position_ms: u64,
    #[serde(default)]
    pub(in crate::http) comment: Option<String>,
}

/// One bookmark on the wire.
#[derive(Serialize)]
pub(in crate::http) struct BookmarkJson<'a> {
    track: &'a str,
    name: Option<&'a str>,
    position_ms: u64,
    comment: &'a str,
    created: u64,
    changed: u64,
}

/// `GET /api/bookmarks`.
#[derive(Serialize)]
pub(in crate::http) struct BookmarksJson<'a> {
    bookmarks: Vec<BookmarkJson<'a>>,
}

impl<'a> BookmarksJson<'a> {
    /// `bookmarks`, their tracks named from `library`.
    pub(in crate::http) fn new(bookmarks: &'a [Bookmark], library: &'a Library) -> Self {
        Self {
            bookmarks: bookmarks
                .iter()
                .map(|b| BookmarkJson {
                    track: &b.track,
                    name: library.by_id(&b.track).map(|t| t.name.as_str()),
                    position_ms: b.position_ms,
                    comment: &b.comment,
                    created: millis(b.created),
                    changed: millis(b.changed),
                })
                .collect(),
        }
    }
}

/// `GET /api/settings`: the listener's quality, and the operator's cap on their bit rate.
#[derive(Serialize)]
pub(in crate::http) struct SettingsJson {
    /// `original`, `high` or `low`.
    pub(in crate::http) quality: &'static str,
    /// The highest bit rate they are streamed at, kbit/s; `null` without a cap.
    pub(in crate::http) max_bitrate: Option<u32>,
}

impl SettingsJson {
    pub(in crate::http) fn new(quality: Quality, max_bitrate: Option<u32>) -> Self {
        Self {
            quality: quality.as_str(),
            max_bitrate,
        }
    }
}

/// `PUT /api/settings`: `{"quality": "original" | "high" | "low"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct SettingsBody {
    /// The quality's name.
    pub(in crate::http) quality: String,
}

/// One of the listener's app credentials, as `/api/apps` lists it (never the key or secret).
#[derive(Serialize)]
pub(in crate::http) struct CredentialJson {
    /// `cr-…`, what revoking names.
    pub(in crate::http) id: String,
    /// `api-key` or `app-password`.
    pub(in crate::http) kind: &'static str,
    /// What the listener called it.
    pub(in crate::http) label: String,
    /// When it was made, Unix milliseconds.
    pub(in crate::http) created: u64,
    /// When an app last signed in with it, Unix milliseconds; `null` if never.
    pub(in crate::http) used: Option<u64>,
}

impl From<&crate::data::Credential> for CredentialJson {
    fn from(c: &crate::data::Credential) -> Self {
        Self {
            id: c.id.clone(),
            kind: c.kind.as_str(),
            label: c.label.clone(),
            created: millis(c.created),
            used: c.used.map(millis),
        }
    }
}

/// `GET /api/apps`: what an app needs to connect, and the listener's credentials.
#[derive(Serialize)]
pub(in crate::http) struct AppsJson {
    /// The user name apps sign in with; `null` without `--users` (any name does).
    pub(in crate::http) user: Option<String>,
    /// Whether apps need credentials at all (`--users`).
    pub(in crate::http) credentials_needed: bool,
    /// The listener's API keys and app passwords, the oldest first.
    pub(in crate::http) credentials: Vec<CredentialJson>,
}

/// `POST /api/apps`: `{"kind": "api-key" | "app-password", "label": "…"}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::http) struct NewCredentialBody {
    /// `api-key` or `app-password`.
    pub(in crate::http) kind: String,
    /// What it is for.
    pub(in crate::http) label: String,
}

/// The answer to `POST /api/apps`: the credential and, this once, its secret.
#[derive(Serialize)]
pub(in crate::http) struct MadeJson {
    /// The credential as listed.
    #[serde(flatten)]
    pub(in crate::http) credential: CredentialJson,
    /// The key or the app password: shown now, never again.
    pub(in crate::http) secret: String,
}
