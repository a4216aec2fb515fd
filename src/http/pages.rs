//! The index page (`GET /`, askama template `templates/index.html`) and the track list as JSON
//! (`GET /api/tracks`). Both show the library as it stands, mid-scan included: the watcher keeps it
//! current, and open pages refresh when `/events` says it changed.

use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;

use super::error::Error;
use crate::library::{Progress, Track};
use crate::state::AppState;
use crate::stats::{Snapshot, human_bytes};

/// Up to this many tracks, each player fetches its track's metadata as the page loads; above it,
/// players fetch nothing until played (the page already shows each length from the tags), so opening
/// a large library does not send one request per track.
pub const PRELOAD_METADATA_UP_TO: usize = 100;

/// One folder's tracks, in page order.
struct Group {
    folder: String,
    tracks: Vec<Row>,
}

/// One track as the page shows it.
struct Row {
    track: Track,
    size: String,
    artist: String,
    album: String,
    /// "Artist — Album", whichever are known.
    byline: String,
    /// "3:07", when the duration is known.
    length: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "index.html")]
struct IndexPage {
    groups: Vec<Group>,
    track_count: usize,
    audio_dir: String,
    /// Set while the library is being scanned.
    scan: Option<Progress>,
    /// The players' `preload`: `metadata`, or `none` for a large library.
    preload: &'static str,
    stats: Snapshot,
}

impl IndexPage {
    fn human(&self, n: &u64) -> String {
        human_bytes(*n)
    }
}

/// `GET /`: every track with a player, and the live memory panel.
pub(super) async fn index(state: web::Data<AppState>) -> Result<impl actix_web::Responder, Error> {
    state.refresh_if_unwatched();
    let scan = state.library.status().scan;
    let library = state.library.snapshot();
    let mut groups: Vec<Group> = Vec::new();
    for track in library.tracks() {
        let artist = track.tags.artist.clone().unwrap_or_default();
        let album = track.tags.album.clone().unwrap_or_default();
        let byline = [artist.as_str(), album.as_str()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" — ");
        let length = track.tags.duration_secs.map_or_else(String::new, |secs| {
            let secs = secs.round() as u64;
            format!("{}:{:02}", secs / 60, secs % 60)
        });
        let row = Row {
            size: human_bytes(track.size),
            track: track.clone(),
            artist,
            album,
            byline,
            length,
        };
        match groups.last_mut() {
            Some(group) if group.folder == track.folder => group.tracks.push(row),
            _ => groups.push(Group {
                folder: track.folder.clone(),
                tracks: vec![row],
            }),
        }
    }
    Ok(IndexPage {
        groups,
        track_count: library.tracks().len(),
        audio_dir: state.library.location().to_owned(),
        scan,
        preload: if library.tracks().len() > PRELOAD_METADATA_UP_TO {
            "none"
        } else {
            "metadata"
        },
        stats: state.stats.borrow().clone(),
    })
}

/// `GET /api/tracks`: the library as a JSON array of tracks.
pub(super) async fn tracks(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    state.refresh_if_unwatched();
    let library = state.library.snapshot();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .content_type("application/json")
        .body(serde_json::to_string(library.tracks())?))
}
