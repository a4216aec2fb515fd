//! Live updates for the page: `GET /events` (server-sent events: one `stats` event per sample, and a
//! `library` event carrying the new version whenever the audio folder's track list changes) and
//! `GET /api/stats` (the latest sample as JSON). Both read the sampler's `watch` channel, so a stalled
//! subscriber only delays itself.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, Responder, web};
use actix_web_lab::sse::{self, Sse};
use futures_util::stream;

use super::error::Error;
use crate::state::AppState;

/// How often an idle stream sends a comment, so proxies keep it open and dead peers are found.
const KEEP_ALIVE: Duration = Duration::from_secs(10);
/// Send buffer for an SSE connection (the kernel doubles it).
const SSE_SEND_BUFFER: usize = 8 * 1024;
/// How soon a browser reconnects after the stream drops.
const RETRY: Duration = Duration::from_secs(2);

/// `GET /events`: the current sample at once, then each new one as it is taken.
pub(super) async fn subscribe(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<impl Responder, Error> {
    if state.counters.sse_clients() >= state.limits.max_viewers {
        return Err(Error::Busy);
    }
    let client = state.counters.sse_client_connected();
    let watch = super::server::own_socket(&req).and_then(|socket| {
        let fd = socket.duplicate().ok()?;
        // A few KiB of events is plenty in flight; a small buffer lets the send timeout notice
        // a viewer that stopped reading within a minute rather than after hours of events.
        let _ = rustix::net::sockopt::set_socket_send_buffer_size(&fd, SSE_SEND_BUFFER);
        Some(state.watchdog.watch(fd))
    });
    let stats = state.stats.clone();
    let mut versions = state.library.subscribe();
    versions.mark_unchanged();
    // The guards live inside the stream: when the client goes away, actix drops the body, and
    // with it the guards, so the subscriber count drops at once.
    let guards = (client, watch);
    let events = stream::unfold(
        (stats, versions, guards, true),
        |(mut stats, mut versions, guards, first)| async move {
            let library_changed = if first {
                false
            } else {
                tokio::select! {
                    changed = stats.changed() => { changed.ok()?; false }
                    changed = versions.changed() => { changed.ok()?; true }
                }
            };
            // Asked for the next event: the socket took the previous ones.
            if let Some(watch) = &guards.1 {
                watch.progressed();
            }
            let event = if library_changed {
                let version = versions.borrow_and_update().version;
                sse::Data::new(version.to_string()).event("library")
            } else {
                let snapshot = stats.borrow_and_update().clone();
                sse::Data::new_json(&snapshot).ok()?.event("stats")
            };
            Some((sse::Event::from(event), (stats, versions, guards, false)))
        },
    );
    Ok(Sse::from_infallible_stream(events)
        .with_keep_alive(KEEP_ALIVE)
        .with_retry_duration(RETRY)
        .customize()
        // nginx and similar proxies buffer responses unless told not to.
        .insert_header(("X-Accel-Buffering", "no")))
}

/// `GET /api/stats`: the latest sample.
pub(super) async fn latest(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    let snapshot = state.stats.borrow().clone();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .content_type("application/json")
        .body(serde_json::to_string(&snapshot)?))
}
