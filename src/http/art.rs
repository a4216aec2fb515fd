//! `GET`/`HEAD /art/<name>`: a track's cover, the picture embedded in its tags or its folder's
//! `cover.jpg` (see [`crate::library`]), read when asked for (on the worker when that needs no
//! waiting, see [`crate::library::SharedLibrary::cover_cached`]) and never kept in memory.
//!
//! Track URLs carry the cover's version (`?v=`): a request naming the current version may be cached
//! for good (`immutable`); any other is revalidated with the `ETag`. The `Content-Type` is taken
//! from the image's bytes, so a tag cannot make the server send a page.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use super::conditional::not_modified;
use super::error::Error;
use crate::state::AppState;

/// The route pattern; `name` is a track's name, which may contain `/`.
pub(super) const ROUTE: &str = "/art/{name:.*}";

/// `GET /art/{name}`.
pub(super) async fn serve(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Error> {
    let artwork = state
        .library
        .snapshot()
        .find(req.match_info().get("name").unwrap_or_default())
        .and_then(|track| track.artwork.clone())
        .ok_or(Error::NotFound)?;
    let etag = header::EntityTag::new_strong(artwork.version.clone());
    let current = web::Query::<Version>::from_query(req.query_string())
        .is_ok_and(|q| q.v.as_deref() == Some(artwork.version.as_str()));
    let mut res = HttpResponse::Ok();
    res.insert_header(header::ETag(etag.clone()))
        .insert_header((
            header::CACHE_CONTROL,
            if current {
                "public, max-age=31536000, immutable"
            } else {
                "no-cache"
            },
        ));
    if not_modified(&req, &etag) {
        return Ok(res
            .status(actix_web::http::StatusCode::NOT_MODIFIED)
            .finish());
    }
    let image = match state.library.cover_cached(&artwork) {
        Some(image) => image,
        None => {
            let library = Arc::clone(&state.library);
            web::block(move || library.cover(&artwork))
                .await
                .map_err(|err| Error::Io(std::io::Error::other(err)))?
                .ok_or(Error::NotFound)?
        }
    };
    Ok(res
        .insert_header((header::CONTENT_TYPE, image.mime))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(image.data))
}

/// The `?v=` of an art URL.
#[derive(serde::Deserialize)]
struct Version {
    v: Option<String>,
}
