//! `GET`/`HEAD /audio/<name>`: streams one track, with actix-files' `NamedFile` negotiating
//! preconditions, ranges and headers, and this module closing the gaps it leaves:
//!
//! - names resolve only by lookup in the scanned library (a `%2F` in the request can never become a
//!   path separator on disk);
//! - `HEAD` never reads the file (`NamedFile` would poll its whole body and discard it);
//! - `Range` is dropped for an empty file (`NamedFile` overflows on `bytes=-N` with length 0);
//! - the `Content-Type` comes from [`crate::media`] (`.m4a` is `audio/mp4`, which browsers accept);
//! - every body is counted into the live stats.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_files::NamedFile;
use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::web::{self, Bytes};
use percent_encoding::percent_decode_str;

use crate::AppState;
use crate::error::Error;
use crate::library::Track;
use crate::stats::{ActiveGuard, Counters};

/// The route pattern; `name` may contain `/` (tracks in subfolders).
pub const ROUTE: &str = "/audio/{name:.*}";

/// How stale the track list may be before a request for an unknown name triggers a rescan.
const RESCAN_ON_MISS_AFTER: Duration = Duration::from_secs(1);

/// Serves one track. A raw service rather than a handler, because closing `NamedFile`'s gaps needs
/// to edit the request's headers before `NamedFile` reads them.
pub async fn serve(mut req: ServiceRequest) -> Result<ServiceResponse, actix_web::Error> {
    let res = match respond(&mut req).await {
        Ok(res) => res,
        Err(err) => actix_web::ResponseError::error_response(&err),
    };
    Ok(req.into_response(res))
}

async fn respond(req: &mut ServiceRequest) -> Result<actix_web::HttpResponse, Error> {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return Err(Error::MethodNotAllowed);
    }
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        unreachable!("the route table always registers AppState");
    };
    let raw = req.match_info().get("name").unwrap_or_default();
    let track = find(&state, raw).ok_or(Error::NotFound)?;

    // Opening is one syscall on an already-resolved path: cheaper inline than a blocking-pool hop.
    let file = NamedFile::open(&track.path).map_err(Error::from_open)?;
    if file.metadata().len() == 0 {
        // RFC 9110 §14.2 lets a server ignore Range; for an empty file there is nothing to slice.
        req.headers_mut().remove(header::RANGE);
    }
    let file = file.set_content_type(track.mime.parse().unwrap_or(mime_guess::mime::STAR_STAR));
    let res = file.into_response(req.request());

    let is_body = res.status().is_success();
    if *req.method() == Method::HEAD {
        let size = res.body().size();
        return Ok(res.map_body(|_, _| HeadBody(size).boxed()));
    }
    if !is_body {
        return Ok(res);
    }
    let counters = Arc::clone(&state.counters);
    Ok(res.map_body(|_, body| CountedBody::new(body, counters).boxed()))
}

/// Looks `raw` up in the library, rescanning once (rate-limited) on a miss so new files are found.
fn find(state: &AppState, raw: &str) -> Option<Track> {
    let name = percent_decode_str(raw).decode_utf8().ok()?;
    if let Some(track) = state.library.snapshot().get(&name) {
        return Some(track.clone());
    }
    state
        .library
        .rescan_if_older_than(RESCAN_ON_MISS_AFTER)
        .get(&name)
        .cloned()
}

/// The body of a `HEAD` response: announces the size, sends nothing, reads nothing.
struct HeadBody(BodySize);

impl MessageBody for HeadBody {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        self.0
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(None)
    }
}

/// Passes a body through while counting it as an active stream and adding its bytes to the stats.
struct CountedBody {
    inner: BoxBody,
    counters: Arc<Counters>,
    _active: ActiveGuard,
}

impl CountedBody {
    fn new(inner: BoxBody, counters: Arc<Counters>) -> Self {
        let active = counters.stream_started();
        Self {
            inner,
            counters,
            _active: active,
        }
    }
}

impl MessageBody for CountedBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_next(cx);
        if let Poll::Ready(Some(Ok(chunk))) = &polled {
            self.counters.add_bytes_served(chunk.len() as u64);
        }
        polled
    }
}
