//! `GET`/`HEAD /audio/<name>`: streams one track, with actix-files' `NamedFile` negotiating
//! preconditions, `If-Range`, ranges and headers, and this module closing the gaps it leaves:
//!
//! - names resolve only by lookup in the scanned library (a `%2F` can never become a separator);
//! - the file is opened only if it is still a regular file, and never by waiting on a worker;
//! - the `Range` header is planned first (see `stream::range`): malformed ones and empty files get
//!   the whole file, several ranges a `multipart/byteranges` answer;
//! - `HEAD` never reads the file (`NamedFile` would poll its whole body and discard it): the body
//!   is dropped unpolled by `http::without_body`;
//! - past `--max-streams` concurrent streams, a request gets 503 with `Retry-After` at once;
//! - the ETag is the track's own (length and time, or the object's): the same on every replica,
//!   where `NamedFile`'s names the inode; its forms of the preconditions are judged here;
//! - the `Content-Type` comes from the library (`.m4a` is `audio/mp4`, which browsers accept);
//! - the bytes go out through the pump: with `sendfile(2)` on plain-TCP HTTP/1.x connections,
//!   in chunks otherwise (TLS, HTTP/2); a track of an object-store library not cached yet is read
//!   from the store range by range (503 with `Retry-After` when the store cannot answer).

use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use actix_files::NamedFile;
use actix_web::body::{BodySize, MessageBody as _};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, ContentRangeSpec, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::body::{PumpBody, StoreBody};
use super::conditional::{Verdict, track_preconditions};
use super::error::Error;
use crate::library::{Library, Opened, Source};
use crate::state::AppState;
use crate::stream::range::{self, Plan};
use crate::stream::{Delivery, Multipart, Pump, Segment, StorePump};

/// The route prefix: everything after it names the track (which may contain `/`). A prefix, not a
/// pattern, so that matching it runs no regex.
pub(super) const PREFIX: &str = "/audio";

/// How long opening a track may wait on the storage before the request gets 503.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);

/// How stale the track list may be before a request for an unknown name triggers a rescan.
const RESCAN_ON_MISS_AFTER: Duration = Duration::from_secs(1);

/// Serves one track. A raw service rather than a handler, because closing `NamedFile`'s gaps needs
/// to edit the request's headers before `NamedFile` reads them.
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
        .unwrap_or_default();
    let (path, mime) = find(&state, raw).await.ok_or(Error::NotFound)?;
    if state.counters.active_streams() >= state.limits.max_streams {
        return Err(Error::Busy);
    }

    let opened = open(&state, &path).await?;
    let len = opened.metadata.len();
    let etag = header::EntityTag::new_strong(opened.etag.clone());
    let etag_value = HeaderValue::from_str(&etag.to_string()).map_err(std::io::Error::other)?;
    match track_preconditions(req, &etag) {
        Verdict::Proceed => {}
        Verdict::NotModified => {
            return Ok(HttpResponse::NotModified()
                .insert_header((header::ETAG, etag_value))
                .finish());
        }
        Verdict::Failed => {
            return Ok(HttpResponse::PreconditionFailed()
                .insert_header((header::ETAG, etag_value))
                .finish());
        }
    }

    let ranges = range::parse(req.headers().get(header::RANGE).map(HeaderValue::as_bytes));
    // A multipart answer is laid out once: to see that it is no larger than the file, then to send.
    let mut multipart = None;
    let plan = range::plan(ranges, len, |parts| {
        let layout = Multipart::new(parts, len, &mime);
        let fits = layout.len() <= len;
        multipart = Some(layout);
        fits
    });
    // NamedFile checks validators and `If-Range` with one range: its 206 lets all parts through.
    let ask = match &plan {
        Plan::Whole | Plan::AsAsked => None,
        Plan::One(first) => Some(first),
        Plan::Parts(parts) => parts.first(),
    };
    if let Some(first) = ask {
        let value = format!("bytes={}-{}", first.start(), first.end());
        let value = HeaderValue::from_str(&value).expect("digits and a dash");
        req.headers_mut().insert(header::RANGE, value);
    } else if plan == Plan::Whole {
        req.headers_mut().remove(header::RANGE);
    }
    // The pump reads through its own handle; NamedFile's is closed with the body it would have sent.
    let Opened { file, source, .. } = opened;
    let handle = match source {
        Source::File(_) => Some(file.try_clone()?),
        Source::Store(_) => None,
    };
    // NamedFile reads the name only to guess the type and name the download, both set here.
    let named = NamedFile::from_file(file, "track")?
        .disable_content_disposition()
        .use_etag(false);
    let mut res = named.into_response(req.request());
    let content_type = HeaderValue::from_str(&mime)
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    res.headers_mut().insert(header::CONTENT_TYPE, content_type);
    res.headers_mut().insert(header::ETAG, etag_value);
    if res.status().is_success() {
        res.headers_mut()
            .insert(header::CONTENT_DISPOSITION, disposition(&path));
    }
    if *req.method() == Method::HEAD {
        // Range is defined for GET only (RFC 9110 §14.2): NamedFile's 200 head, its body dropped
        // unread by `http::without_body`.
        return Ok(res);
    }

    let segments = match (answer(&res), plan) {
        (Answer::Keep, _) => return Ok(res),
        (Answer::Part(_), Plan::Parts(_)) => {
            let multipart = multipart.expect("a plan of parts was laid out");
            let headers = res.headers_mut();
            headers.remove(header::CONTENT_RANGE);
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(&multipart.content_type).expect("ASCII"),
            );
            multipart.segments
        }
        (Answer::Part(part), _) => vec![Segment::File {
            offset: *part.start(),
            len: part.end() - part.start() + 1,
        }],
        (Answer::Whole(len), _) => vec![Segment::File { offset: 0, len }],
    };
    let socket = super::server::own_socket(req.request());
    let counters = Arc::clone(&state.counters);
    let (handle, lease) = match (handle, source) {
        (Some(handle), Source::File(lease)) => (handle, lease),
        (_, Source::Store(reader)) => {
            // Boxed: its state would otherwise size every audio request's future.
            let start = StorePump::start(reader, segments, socket, counters, &state.watchdog);
            let pump = Box::pin(start).await.map_err(Error::from_open)?;
            return Ok(res.map_body(|_, _| StoreBody(pump).boxed()));
        }
        (None, Source::File(_)) => unreachable!("a file source has a handle"),
    };
    let delivery = match socket {
        // sendfile writes around actix: only where actix speaks HTTP/1 on that very socket, and
        // no TLS stands between.
        Some(socket) if socket.is_plain() => Delivery::Sendfile(socket),
        socket => Delivery::Chunks(socket),
    };
    let pump = Pump::new(
        handle,
        segments,
        delivery,
        counters,
        Arc::clone(&state.watchdog),
    );
    if pump.sends_directly() {
        // actix neither counts nor chunks bytes it does not write: the length is declared here,
        // and the body is written as it comes (see `PumpBody::size`).
        res.head_mut().no_chunking(true);
        res.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(pump.len()));
    }
    Ok(res.map_body(|_, _| PumpBody(pump, lease).boxed()))
}

/// `Content-Disposition: inline` with the file's name (RFC 6266), so that a saved track keeps its
/// name: quoted when it is plain ASCII, else in the RFC 8187 `filename*` form. Written here rather
/// than by `NamedFile`, whose formatter runs a regex over the name on every request (4,200 of the
/// 60,000 instructions of a range request, measured with `scripts/range-instructions.sh`).
fn disposition(path: &Path) -> HeaderValue {
    /// RFC 8187 `attr-char`: what stays as it is in an extended value.
    const ATTR: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'!')
        .remove(b'#')
        .remove(b'$')
        .remove(b'&')
        .remove(b'+')
        .remove(b'-')
        .remove(b'.')
        .remove(b'^')
        .remove(b'_')
        .remove(b'`')
        .remove(b'|')
        .remove(b'~');
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let plain = name
        .bytes()
        .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\');
    let value = if plain {
        format!("inline; filename=\"{name}\"")
    } else {
        format!(
            "inline; filename*=UTF-8''{}",
            utf8_percent_encode(name, ATTR)
        )
    };
    HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("inline"))
}

/// Opens the track's file: here if that needs no waiting on the storage (the usual case), else on
/// the blocking pool, bounded by [`OPEN_TIMEOUT`] so a stalled mount answers 503, not never.
async fn open(state: &AppState, path: &Path) -> Result<Opened, Error> {
    if let Some(opened) = state.library.open_track_cached(path) {
        return opened.map_err(Error::from_open);
    }
    let library = Arc::clone(&state.library);
    let path = path.to_owned();
    let opening = web::block(move || library.open_track(&path));
    actix_web::rt::time::timeout(OPEN_TIMEOUT, opening)
        .await
        .map_err(|_| Error::StorageStalled)?
        .map_err(|err| Error::Io(std::io::Error::other(err)))?
        .map_err(Error::from_open)
}

/// What `NamedFile` decided, read from its typed status and `Content-Range`.
#[derive(Debug, PartialEq, Eq)]
enum Answer {
    /// 200: the whole file, this many bytes.
    Whole(u64),
    /// 206: this range.
    Part(RangeInclusive<u64>),
    /// Anything else (304, 412, 416, or a 206 whose range it did not state): its answer stands.
    Keep,
}

fn answer(res: &HttpResponse) -> Answer {
    match (res.status(), res.body().size()) {
        (StatusCode::OK, BodySize::Sized(len)) => Answer::Whole(len),
        (StatusCode::PARTIAL_CONTENT, _) => {
            let spec = res
                .headers()
                .get(header::CONTENT_RANGE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<ContentRangeSpec>().ok());
            match spec {
                Some(ContentRangeSpec::Bytes {
                    range: Some((first, last)),
                    ..
                }) => Answer::Part(first..=last),
                _ => Answer::Keep,
            }
        }
        _ => Answer::Keep,
    }
}

/// Looks `raw` up in the library: the track's file and `Content-Type`. On a miss, rescans once
/// (rate-limited, on the blocking pool) so a file added since the last scan is found.
async fn find(state: &AppState, raw: &str) -> Option<(PathBuf, String)> {
    let found = |library: &Library| {
        let track = library.find(raw)?;
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
