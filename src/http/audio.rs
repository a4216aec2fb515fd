//! `GET`/`HEAD /audio/<name>`: one track by its name, served as `http::track` decides and renders.
//!
//! Names resolve only by lookup in the scanned library (a `%2F` can never become a separator); a
//! name not found triggers one rate-limited rescan, so a file added since the last scan is found.
//! A raw service rather than a handler: deciding edits the request's conditional and range headers
//! before `NamedFile` reads them.

use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::{HttpResponse, web};

use super::error::Error;
use crate::library::Library;
use crate::state::AppState;

/// The route prefix: everything after it names the track (which may contain `/`). A prefix, not a
/// pattern, so that matching it runs no regex.
pub(super) const PREFIX: &str = "/audio";

/// How stale the track list may be before a request for an unknown name triggers a rescan.
const RESCAN_ON_MISS_AFTER: Duration = Duration::from_secs(1);

/// Serves one track.
pub(super) async fn serve(mut req: ServiceRequest) -> Result<ServiceResponse, actix_web::Error> {
    let res = match respond(&mut req).await {
        Ok(res) => res,
        Err(err) => actix_web::ResponseError::error_response(&err),
    };
    Ok(req.into_response(res))
}

async fn respond(req: &mut ServiceRequest) -> Result<HttpResponse, Error> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return Err(Error::MethodNotAllowed);
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        unreachable!("the route table always registers AppState");
    };
    let raw = req
        .match_info()
        .unprocessed()
        .strip_prefix('/')
        .unwrap_or_default()
        .to_owned();
    let snapshot = state.library.snapshot();
    let rescanned;
    let track = match snapshot.find(&raw) {
        Some(track) => track,
        None => {
            rescanned = rescan(&state).await.ok_or(Error::NotFound)?;
            rescanned.find(&raw).ok_or(Error::NotFound)?
        }
    };
    let cap = super::listener::cap_of(req.request(), &state);
    let target = super::transcoded::asked(req, track, cap)?;
    super::transcoded::send(req, &state, track, target, 0).await
}

/// The library rescanned after a miss (rate-limited, on the blocking pool), so that a file added
/// since the last scan is found.
async fn rescan(state: &AppState) -> Option<Arc<Library>> {
    let shared = Arc::clone(&state.library);
    web::block(move || shared.rescan_if_older_than(RESCAN_ON_MISS_AFTER))
        .await
        .ok()
}
