//! The catalog over HTTP, as JSON for the page's browse views: `GET /api/albums`,
//! `/api/albums/{id}`, `/api/artists`, `/api/artists/{id}`, `/api/genres`, `/api/genres/{id}`.
//! What is sent is `super::wire::catalog`'s.
//!
//! A snapshot builds its catalog once, the first time someone browses it: on the blocking pool,
//! since at 100,000 tracks that is work a worker serving streams must not stop for.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Serialize;

use super::error::Error;
use super::wire::catalog::{AlbumList, AlbumPage, ArtistList, ArtistPage, GenreList, GenrePage};
use crate::catalog::Catalog;
use crate::data::Kind;
use crate::library::{Library, Track};
use crate::state::AppState;

/// What `id` names, by its prefix, if the library has it. Only an album or artist id asks the
/// catalog (for the page's own API, a track id needs no catalog built).
pub(super) fn kind_of(library: &Library, id: &str) -> Option<Kind> {
    match id.split_once('-').map(|(prefix, _)| prefix) {
        Some("tr") if library.index_of(id).is_some() => Some(Kind::Track),
        Some("al") if library.catalog().album_index(id).is_some() => Some(Kind::Album),
        Some("ar") if library.catalog().artist_index(id).is_some() => Some(Kind::Artist),
        _ => None,
    }
}

/// The current snapshot, its catalog built (on a blocking thread, the first time).
pub(super) async fn catalogued(state: &AppState) -> Result<Arc<Library>, Error> {
    let library = state.library.snapshot();
    if library.has_catalog() {
        return Ok(library);
    }
    web::block(move || {
        library.catalog();
        library
    })
    .await
    .map_err(|err| Error::Io(std::io::Error::other(err)))
}

/// `value` as JSON, never cached (the library changes under it).
fn json(value: &impl Serialize) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("application/json")
        .body(serde_json::to_string(value)?))
}

/// Runs `answer` over the current snapshot's catalog and tracks.
async fn with_catalog(
    state: &AppState,
    answer: impl FnOnce(&Catalog, &[Track]) -> Result<HttpResponse, Error>,
) -> Result<HttpResponse, Error> {
    let library = catalogued(state).await?;
    answer(library.catalog(), library.tracks())
}

/// `GET /api/albums`: every album.
pub(super) async fn albums(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    with_catalog(&state, |catalog, tracks| {
        json(&AlbumList::new(catalog, tracks))
    })
    .await
}

/// `GET /api/albums/{id}`: one album and its tracks, in disc and track order.
pub(super) async fn album(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    with_catalog(&state, |catalog, tracks| {
        let album = catalog.album(&id).ok_or(Error::NotFound)?;
        json(&AlbumPage::new(catalog, tracks, album))
    })
    .await
}

/// `GET /api/artists`: every artist.
pub(super) async fn artists(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    with_catalog(&state, |catalog, tracks| {
        json(&ArtistList::new(catalog, tracks))
    })
    .await
}

/// `GET /api/artists/{id}`: one artist and their albums.
pub(super) async fn artist(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    with_catalog(&state, |catalog, tracks| {
        let artist = catalog.artist(&id).ok_or(Error::NotFound)?;
        json(&ArtistPage::new(catalog, tracks, artist))
    })
    .await
}

/// `GET /api/genres`: every genre.
pub(super) async fn genres(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    with_catalog(&state, |catalog, _| json(&GenreList::from(catalog))).await
}

/// `GET /api/genres/{id}`: one genre, its albums and its tracks.
pub(super) async fn genre(
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    with_catalog(&state, |catalog, tracks| {
        let genre = catalog.genre(&id).ok_or(Error::NotFound)?;
        json(&GenrePage::new(catalog, tracks, genre))
    })
    .await
}
