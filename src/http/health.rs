//! For load balancers and orchestrators: `GET /healthz` (the process answers) and `GET /readyz`
//! (the library's first listing is done and its store answers now; else 503 with the reason; a
//! database that does not answer is named, but tracks still stream, so it stays 200).
//! Neither needs a session.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::error::Error;
use crate::state::AppState;

/// How long the store has to answer a readiness check.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

fn plain(text: &'static str) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body(text)
}

/// A `200` that says what does not work.
fn degraded(text: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type("text/plain; charset=utf-8")
        .body(text)
}

/// `GET /healthz`: the process is up and answering.
pub(super) async fn healthz() -> HttpResponse {
    plain("ok\n")
}

/// `GET /readyz`: ready to serve tracks, asked of the store on the blocking pool (a stalled mount
/// gets 503 after [`CHECK_TIMEOUT`], never a hung probe).
pub(super) async fn readyz(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    let library = Arc::clone(&state.library);
    let checked =
        actix_web::rt::time::timeout(CHECK_TIMEOUT, web::block(move || library.unready()))
            .await
            .map_err(|_| Error::NotReady("the music storage did not answer within 2 s".into()))?
            .map_err(|err| Error::Io(std::io::Error::other(err)))?;
    if let Some(reason) = checked {
        return Err(Error::NotReady(reason));
    }
    // Tracks stream without the database: a replica whose database is down stays in its load
    // balancer's pool, and says what is missing.
    let data = &state.data;
    match actix_web::rt::time::timeout(CHECK_TIMEOUT, data.health()).await {
        Ok(Ok(())) => Ok(plain("ready\n")),
        Ok(Err(err)) => Ok(degraded(format!(
            "ready to stream; but {} does not answer ({err}): stars, plays, playlists and queues answer 503 until it does\n",
            data.describe()
        ))),
        Err(_) => Ok(degraded(format!(
            "ready to stream; but {} did not answer within 2 s: stars, plays, playlists and queues answer 503 until it does\n",
            data.describe()
        ))),
    }
}
