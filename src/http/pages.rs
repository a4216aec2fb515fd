//! The index page (`GET /`, askama template `templates/index.html`) and the track list as JSON
//! (`GET /api/tracks`, and `GET /api/library` for the page). Both show the library as it stands,
//! mid-scan included: the watcher keeps it current, and open pages ask `/api/library` what changed
//! when `/events` says it did.
//!
//! The page's HTML carries only the first screen of rows, so its size does not grow with the
//! library; its script fetches the whole list as JSON and shows the rows near the viewport, built
//! from the blank row the page carries. What is sent of a track, in the HTML and the JSON alike, is
//! `super::wire`'s.

use actix_web::{HttpResponse, web};
use askama::Template;
use askama_web::WebTemplate;

use super::error::Error;
use super::wire::{DeltaJson, Row, TrackList};
use crate::library::Progress;
use crate::state::AppState;
use crate::stats::{Snapshot, human_bytes};

/// Up to this many tracks, each player fetches its track's metadata as the page loads; above it,
/// players fetch nothing until played (the page already shows each length from the tags), so opening
/// a large library does not send one request per track.
pub const PRELOAD_METADATA_UP_TO: usize = 100;

/// Rows (tracks) rendered into the HTML: a first screen on a tall display. The rest arrive as JSON.
pub const FIRST_SCREEN_ROWS: usize = 24;

#[derive(Template, WebTemplate)]
#[template(path = "index.html")]
struct IndexPage {
    /// The first screen of rows.
    rows: Vec<Row>,
    /// The row `static/rows.js` builds every other row from (its slots are empty, so the escaping
    /// of `data-blank` is the only one its text gets).
    blank: Row,
    track_count: usize,
    audio_dir: String,
    /// Set while the library is being scanned.
    scan: Option<Progress>,
    /// The players' `preload`: `metadata`, or `none` for a large library.
    preload: &'static str,
    stats: Snapshot,
    /// The signed-in user, when access control is on.
    user: Option<String>,
    /// Whether the page offers share links.
    links: bool,
}

impl IndexPage {
    fn human(&self, n: &u64) -> String {
        human_bytes(*n)
    }
}

/// `GET /`: every track with a player, and the live memory panel.
pub(super) async fn index(
    req: actix_web::HttpRequest,
    state: web::Data<AppState>,
) -> Result<impl actix_web::Responder, Error> {
    state.refresh_if_unwatched();
    let scan = state.library.status().scan;
    let library = state.library.snapshot();
    let tracks = library.tracks();
    let rows = tracks
        .iter()
        .enumerate()
        .take(FIRST_SCREEN_ROWS)
        .map(|(i, track)| {
            let starts_folder = i == 0 || tracks[i - 1].folder != track.folder;
            let heading = (starts_folder && !track.folder.is_empty()).then_some(&*track.folder);
            Row::new(track, i + 1, heading)
        })
        .collect();
    Ok(IndexPage {
        rows,
        blank: Row::blank(),
        track_count: library.tracks().len(),
        audio_dir: state.library.location().to_owned(),
        scan,
        preload: if library.tracks().len() > PRELOAD_METADATA_UP_TO {
            "none"
        } else {
            "metadata"
        },
        stats: state.stats.borrow().clone(),
        user: super::auth::user_of(&req, &state),
        links: state.links.is_some(),
    })
}

#[derive(serde::Deserialize)]
pub(super) struct Since {
    since: Option<String>,
}

/// `GET /api/library?since=<version>`: what the page's list needs to become current. Without
/// `since` (or for a version this run cannot diff from), the whole list; else only the tracks added
/// or changed since, each with the name of the track it follows, and the names removed.
pub(super) async fn library(
    state: web::Data<AppState>,
    query: web::Query<Since>,
) -> Result<HttpResponse, Error> {
    state.refresh_if_unwatched();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .content_type("application/json")
        .body(
            state
                .library
                .changes_since(query.since.as_deref(), |delta| {
                    serde_json::to_string(&DeltaJson::from(delta))
                })?,
        ))
}

/// `GET /api/tracks`: the library as a JSON array of tracks.
pub(super) async fn tracks(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    state.refresh_if_unwatched();
    let library = state.library.snapshot();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .content_type("application/json")
        .body(serde_json::to_string(&TrackList(library.tracks()))?))
}
