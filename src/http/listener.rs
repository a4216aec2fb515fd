//! A listener's own data over HTTP, as JSON for the page: stars (`/api/stars`), ratings
//! (`/api/ratings/{id}`), plays (`/api/plays`), playlists (`/api/playlists`), the play queue
//! (`/api/queue`) and bookmarks (`/api/bookmarks`). Kept by [`crate::data`] in SQLite or
//! PostgreSQL; what goes on the wire is `super::wire::listener`'s.
//!
//! Whose data: the signed-in user's, or, without `--users`, the one local listener's. Ids are
//! checked against the library before anything is stored (a 404 for one it does not have), and a
//! change must come from this server's own pages (`Origin`) as a JSON body.

use std::time::SystemTime;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Serialize;

use super::auth::{same_origin, user_of};
use super::browse::kind_of;
use super::error::Error;
use super::wire::listener::{
    BookmarkBody, BookmarksJson, EditBody, NewPlaylistBody, PlayBody, PlaylistInfoJson,
    PlaylistJson, PlaylistsJson, QueueBody, QueueJson, RatingBody, SettingsBody, SettingsJson,
    StarsJson, TracksBody, starred_map,
};
use crate::data::{DataError, Kind, Quality};
use crate::library::Library;
use crate::state::AppState;

/// Whose data the listener's requests are without access control: one listener, the person at
/// the machine. Not a valid user name (`auth::valid_name`), so no user added later shares it.
pub(crate) const LOCAL_LISTENER: &str = "~local";

/// Whose data this request reads and writes: the signed-in user, or the local listener.
fn listener(req: &HttpRequest, state: &AppState) -> Result<String, Error> {
    match &state.access {
        None => Ok(LOCAL_LISTENER.to_owned()),
        Some(_) => user_of(req, state).ok_or(Error::LoginRequired),
    }
}

/// A change: from this server's pages, by a listener.
fn changer(req: &HttpRequest, state: &AppState) -> Result<String, Error> {
    same_origin(req)?;
    listener(req, state)
}

/// `value` as JSON with `status`, never cached.
pub(super) fn json(status: StatusCode, value: &impl Serialize) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::build(status)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("application/json")
        .body(serde_json::to_string(value)?))
}

fn done() -> HttpResponse {
    HttpResponse::NoContent().finish()
}

/// Checks that every id of `tracks` is a track of the library.
fn known_tracks(library: &Library, tracks: &[String]) -> Result<(), Error> {
    match tracks.iter().find(|id| library.by_id(id).is_none()) {
        Some(_) => Err(Error::NotFound),
        None => Ok(()),
    }
}

/// The current snapshot, with its catalog built on the blocking pool when an album or artist id
/// may need it.
async fn library(state: &AppState, ids: &str) -> Result<std::sync::Arc<Library>, Error> {
    if ids.starts_with("tr-") {
        return Ok(state.library.snapshot());
    }
    super::browse::catalogued(state).await
}

/// `GET /api/stars`: every track, album and artist the listener starred, with when.
pub(super) async fn stars(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Error> {
    let user = listener(&req, &state)?;
    let data = &state.data;
    let stars = StarsJson {
        tracks: starred_map(data.starred(&user, Kind::Track).await?),
        albums: starred_map(data.starred(&user, Kind::Album).await?),
        artists: starred_map(data.starred(&user, Kind::Artist).await?),
    };
    json(StatusCode::OK, &stars)
}

/// `PUT /api/stars/{id}`: stars a track, album or artist.
pub(super) async fn star(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let user = changer(&req, &state)?;
    let library = library(&state, &id).await?;
    let kind = kind_of(&library, &id).ok_or(Error::NotFound)?;
    state.data.star(&user, kind, &id).await?;
    Ok(done())
}

/// `DELETE /api/stars/{id}`: takes a star back (done as well when there was none).
pub(super) async fn unstar(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let user = changer(&req, &state)?;
    let library = library(&state, &id).await?;
    let kind = kind_of(&library, &id).ok_or(Error::NotFound)?;
    state.data.unstar(&user, kind, &id).await?;
    Ok(done())
}

/// `PUT /api/ratings/{id}` with `{"rating": 1..5}`.
pub(super) async fn rate(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<RatingBody>,
) -> Result<HttpResponse, Error> {
    let user = changer(&req, &state)?;
    let library = library(&state, &id).await?;
    let kind = kind_of(&library, &id).ok_or(Error::NotFound)?;
    state.data.rate(&user, kind, &id, Some(body.rating)).await?;
    Ok(done())
}

/// `DELETE /api/ratings/{id}`: clears a rating.
pub(super) async fn unrate(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let user = changer(&req, &state)?;
    let library = library(&state, &id).await?;
    let kind = kind_of(&library, &id).ok_or(Error::NotFound)?;
    state.data.rate(&user, kind, &id, None).await?;
    Ok(done())
}

/// `POST /api/plays` with `{"track": id}`: one play counted, now.
pub(super) async fn play(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<PlayBody>,
) -> Result<HttpResponse, Error> {
    let user = changer(&req, &state)?;
    known_tracks(&state.library.snapshot(), std::slice::from_ref(&body.track))?;
    state
        .data
        .record_play(&user, &body.track, SystemTime::now())
        .await?;
    Ok(done())
}

/// `GET /api/playlists`: the listener's playlists and everyone's public ones.
pub(super) async fn playlists(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Error> {
    let user = listener(&req, &state)?;
    let all = state.data.playlists(&user).await?;
    let list = PlaylistsJson {
        playlists: all
            .iter()
            .map(|info| PlaylistInfoJson::new(info, &user))
            .collect(),
    };
    json(StatusCode::OK, &list)
}

/// `POST /api/playlists` with `{"name", "comment"?, "public"?, "tracks"?}`: a new playlist (201,
/// its `Location`).
pub(super) async fn create_playlist(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<NewPlaylistBody>,
) -> Result<HttpResponse, Error> {
    let user = changer(&req, &state)?;
    let body = body.into_inner();
    known_tracks(&state.library.snapshot(), &body.tracks)?;
    let data = &state.data;
    let mut info = data.create_playlist(&user, &body.name, body.tracks).await?;
    if body.comment.is_some() || body.public.is_some() {
        let edit = crate::data::PlaylistEdit {
            comment: body.comment,
            public: body.public,
            ..Default::default()
        };
        info = data.edit_playlist(&user, &info.id, edit).await?;
    }
    let mut res = json(StatusCode::CREATED, &PlaylistInfoJson::new(&info, &user))?;
    if let Ok(location) = header::HeaderValue::from_str(&format!("/api/playlists/{}", info.id)) {
        res.headers_mut().insert(header::LOCATION, location);
    }
    Ok(res)
}

/// `GET /api/playlists/{id}`: one playlist with its tracks.
pub(super) async fn playlist(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let user = listener(&req, &state)?;
    let playlist = state.data.playlist(&user, &id).await?;
    let library = state.library.snapshot();
    json(
        StatusCode::OK,
        &PlaylistJson::new(&playlist, &user, &library),
    )
}

/// `PATCH /api/playlists/{id}`: renames, comments, publishes, removes, moves and appends, in one
/// transaction (see [`EditBody`]).
pub(super) async fn edit_playlist(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<EditBody>,
) -> Result<HttpResponse, Error> {
    let user = changer(&req, &state)?;
    let body = body.into_inner();
    known_tracks(&state.library.snapshot(), &body.append)?;
    let info = state.data.edit_playlist(&user, &id, body.into()).await?;
    json(StatusCode::OK, &PlaylistInfoJson::new(&info, &user))
}

/// `PUT /api/playlists/{id}/tracks` with `{"tracks", "version"?}`: every entry replaced.
pub(super) async fn replace_tracks(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
    body: web::Json<TracksBody>,
) -> Result<HttpResponse, Error> {
    let user = changer(&req, &state)?;
    let body = body.into_inner();
    known_tracks(&state.library.snapshot(), &body.tracks)?;
    let info = state
        .data
        .replace_playlist_tracks(&user, &id, body.tracks, body.version)
        .await?;
    json(StatusCode::OK, &PlaylistInfoJson::new(&info, &user))
}

/// `DELETE /api/playlists/{id}`.
pub(super) async fn delete_playlist(
    req: HttpRequest,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let user = changer(&req, &state)?;
    state.data.delete_playlist(&user, &id).await?;
    Ok(done())
}

/// `GET /api/queue`: the play queue as last saved (404 when none was).
pub(super) async fn queue(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Error> {
    let user = listener(&req, &state)?;
    let queue = state.data.play_queue(&user).await?.ok_or(Error::NotFound)?;
    let library = state.library.snapshot();
    json(StatusCode::OK, &QueueJson::new(&queue, &library))
}

/// `PUT /api/queue` with `{"tracks", "current"?, "position_ms"?, "client"?}`.
pub(super) async fn save_queue(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<QueueBody>,
) -> Result<HttpResponse, Error> {
    let user = changer(&req, &state)?;
    let body = body.into_inner();
    let library = state.library.snapshot();
    known_tracks(&library, &body.tracks)?;
    known_tracks(&library, body.current.as_slice())?;
    let client = body.client.as_deref().unwrap_or("web");
    state
        .data
        .save_play_queue(&user, body.tracks, body.current, body.position_ms, client)
        .await?;
    Ok(done())
}

/// The highest bit rate the operator lets this request's user be streamed at, kbit/s.
pub(super) fn cap_of(req: &HttpRequest, state: &AppState) -> Option<u32> {
    let access = state.access.as_ref()?;
    access.users.cap(&user_of(req, state)?)
}

/// `GET /api/settings`: the listener's quality and cap.
pub(super) async fn settings(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Error> {
    let user = listener(&req, &state)?;
    let quality = state.data.quality(&user).await?;
    json(
        StatusCode::OK,
        &SettingsJson::new(quality, cap_of(&req, &state)),
    )
}

/// `PUT /api/settings` with `{"quality"}`.
pub(super) async fn save_settings(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<SettingsBody>,
) -> Result<HttpResponse, Error> {
    let user = changer(&req, &state)?;
    let quality = Quality::parse(&body.quality)
        .ok_or_else(|| DataError::Invalid("quality is original, high or low".to_owned()))?;
    state.data.set_quality(&user, quality).await?;
    Ok(done())
}

/// `GET /api/bookmarks`: every bookmark of the listener's.
pub(super) async fn bookmarks(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Error> {
    let user = listener(&req, &state)?;
    let bookmarks = state.data.bookmarks(&user).await?;
    let library = state.library.snapshot();
    json(StatusCode::OK, &BookmarksJson::new(&bookmarks, &library))
}

/// `PUT /api/bookmarks/{track}` with `{"position_ms", "comment"?}`.
pub(super) async fn set_bookmark(
    req: HttpRequest,
    state: web::Data<AppState>,
    track: web::Path<String>,
    body: web::Json<BookmarkBody>,
) -> Result<HttpResponse, Error> {
    let user = changer(&req, &state)?;
    known_tracks(&state.library.snapshot(), std::slice::from_ref(&track))?;
    let comment = body.comment.as_deref().unwrap_or("");
    state
        .data
        .set_bookmark(&user, &track, body.position_ms, comment)
        .await?;
    Ok(done())
}

/// `DELETE /api/bookmarks/{track}`.
pub(super) async fn delete_bookmark(
    req: HttpRequest,
    state: web::Data<AppState>,
    track: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let user = changer(&req, &state)?;
    state.data.delete_bookmark(&user, &track).await?;
    Ok(done())
}
