//! `GET`/`HEAD /audio/<name>`: streams one track, with actix-files' `NamedFile` negotiating
//! preconditions, ranges and headers, and this module closing the gaps it leaves:
//!
//! - names resolve only by lookup in the scanned library (a `%2F` in the request can never become a
//!   path separator on disk);
//! - `HEAD` never reads the file (`NamedFile` would poll its whole body and discard it);
//! - `Range` is dropped for an empty file (`NamedFile` overflows on `bytes=-N` with length 0), and
//!   when malformed or multiple (see [`crate::range`]);
//! - past `--max-streams` concurrent streams, a request gets 503 with `Retry-After` at once;
//! - the `Content-Type` comes from [`crate::media`] (`.m4a` is `audio/mp4`, which browsers accept);
//! - the bytes go out through [`crate::pump`], which is frugal with memory and counted in the stats.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_files::NamedFile;
use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::web::{self, Bytes};
use percent_encoding::percent_decode_str;

use crate::AppState;
use crate::error::Error;
use crate::library::Library;
use crate::pump::FileBody;
use crate::range;
use crate::socket::ConnSocket;

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
    let (path, mime) = find(&state, raw).await.ok_or(Error::NotFound)?;
    if state.counters.active_streams() >= state.limits.max_streams {
        return Err(Error::Busy);
    }

    // Opening is one syscall on an already-resolved path: cheaper inline than a blocking-pool hop.
    let file = NamedFile::open(&path).map_err(Error::from_open)?;
    let range = range::classify(req.headers().get(header::RANGE).map(|v| v.as_bytes()));
    // RFC 9110 §14.2 lets a server ignore Range. It is ignored when malformed or multiple (see
    // `range`), and for an empty file, where there is nothing to slice.
    if range.ignore() || file.metadata().len() == 0 {
        req.headers_mut().remove(header::RANGE);
    }
    // The pump reads through its own handle; NamedFile's is closed with the body it would have sent.
    let handle = file.file().try_clone()?;
    let file = file.set_content_type(mime.parse().unwrap_or(mime_guess::mime::STAR_STAR));
    let res = file.into_response(req.request());

    if *req.method() == Method::HEAD {
        let size = res.body().size();
        return Ok(res.map_body(|_, _| HeadBody(size).boxed()));
    }
    // 200 and 206 carry file bytes: send them with the pump instead of NamedFile's reader.
    let (BodySize::Sized(len), true) = (res.body().size(), res.status().is_success()) else {
        return Ok(res);
    };
    let offset = match res.headers().get(header::CONTENT_RANGE) {
        Some(range) => range_start(range.to_str().unwrap_or_default()).ok_or_else(|| {
            Error::Io(io::Error::other(
                "NamedFile produced an unreadable Content-Range",
            ))
        })?,
        None => 0,
    };
    let counters = Arc::clone(&state.counters);
    let socket = req.conn_data::<ConnSocket>().copied();
    let watch = socket
        .and_then(|s| s.duplicate().ok())
        .map(|fd| state.watchdog.watch(fd));
    Ok(res.map_body(|_, _| FileBody::new(handle, offset, len, socket, counters, watch).boxed()))
}

/// The first byte of a `Content-Range: bytes first-last/len` value.
fn range_start(value: &str) -> Option<u64> {
    value
        .strip_prefix("bytes ")?
        .split('-')
        .next()?
        .parse()
        .ok()
}

/// Looks `raw` up in the library: the track's file and `Content-Type`. On a miss, rescans once
/// (rate-limited, on the blocking pool) so a file added since the last scan is found.
async fn find(state: &AppState, raw: &str) -> Option<(PathBuf, String)> {
    let name = decode_name(raw)?;
    let found = |library: &Library| {
        let track = library.get(&name)?;
        Some((track.path.clone(), track.mime.clone()))
    };
    if let Some(found) = found(&state.library.snapshot()) {
        return Some(found);
    }
    let library = Arc::clone(&state.library);
    let rescanned = web::block(move || library.rescan_if_older_than(RESCAN_ON_MISS_AFTER))
        .await
        .ok()?;
    found(&rescanned)
}

/// A track name from the raw (still percent-encoded) path after `/audio/` or `/art/`, fully
/// decoded: `%2F` becomes `/`, which is harmless because names are only ever looked up.
pub fn decode_name(raw: &str) -> Option<String> {
    Some(percent_decode_str(raw).decode_utf8().ok()?.into_owned())
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
