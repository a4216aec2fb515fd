//! Serving a track that a route has already found, by any route: first [`decide`] what the answer
//! is (a value), then [`render`] it. `/audio/<name>` is one route over this; any later route that
//! serves a track (a download, an API's stream) calls the same two.
//!
//! Deciding, in order:
//! 1. past `--max-streams` concurrent streams, 503 with `Retry-After` at once;
//! 2. the track is opened (here if that needs no waiting on the storage, else on the blocking
//!    pool, bounded so a stalled mount answers 503), with its validators;
//! 3. the entity-tag preconditions are judged against the track's own ETag (the same on every
//!    replica, never the inode; see `conditional`);
//! 4. the `Range` header is planned (see `stream::range`): malformed ones and empty files get the
//!    whole file, several ranges a `multipart/byteranges` answer;
//! 5. actix-files' `NamedFile` negotiates the rest as it always has (the date preconditions,
//!    `If-Range`, one range or 416), and its answer becomes a [`Decision`]; its response is not
//!    sent.
//!
//! Rendering builds the answer from the decision: the headers every track answer has (its own
//! `Content-Type`, the ETag, `Last-Modified`, `Accept-Ranges`, `Content-Disposition`), and a body
//! from the byte pump, which sends with `sendfile(2)` on plain-TCP HTTP/1.x connections and in
//! chunks otherwise. `HEAD` never opens a pump (`NamedFile` would have read the whole file).

use std::ops::RangeInclusive;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use actix_files::NamedFile;
use actix_web::body::MessageBody as _;
use actix_web::dev::ServiceRequest;
use actix_web::http::header::{self, ContentRangeSpec, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, HttpResponseBuilder, web};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::body::{EmptyStream, PumpBody};
use super::conditional::{Verdict, track_preconditions};
use super::error::Error;
use crate::library::{Opened, Track};
use crate::state::AppState;
use crate::stream::range::{self, Plan};
use crate::stream::{Multipart, Segment, track_pump};

/// How long opening a track may wait on the storage before the request gets 503.
const OPEN_TIMEOUT: Duration = Duration::from_secs(10);

/// What a request for a track gets.
#[derive(Debug)]
pub(super) enum Decision {
    /// 200: the whole track.
    Whole,
    /// 206: this one range.
    Range(RangeInclusive<u64>),
    /// 206 `multipart/byteranges`: these parts, laid out.
    Parts(Multipart),
    /// 304: the client's copy is current.
    NotModified,
    /// 412: the client's condition does not hold.
    PreconditionFailed,
    /// 416: no requested range is inside the track.
    Unsatisfiable,
}

/// A track opened for one request, and what its answer is to be.
#[derive(Debug)]
pub(super) struct Decided<'a> {
    /// The answer.
    pub(super) decision: Decision,
    track: &'a Track,
    opened: Opened,
    /// The track's own validator, as the preconditions were judged against it.
    etag: header::EntityTag,
}

/// Decides the answer to `req` for `track` (found by the route): opens it and judges the
/// request's preconditions and ranges against it. Edits `req`'s conditional and range headers as
/// it goes (what `NamedFile` is left to judge).
pub(super) async fn decide<'a>(
    req: &mut ServiceRequest,
    state: &AppState,
    track: &'a Track,
) -> Result<Decided<'a>, Error> {
    if state.counters.active_streams() >= state.limits.max_streams {
        return Err(Error::Busy);
    }
    let opened = open(state, &track.path).await?;
    let etag = header::EntityTag::new_strong(opened.etag.clone());
    let decision = match track_preconditions(req, &etag) {
        Verdict::Proceed => negotiate(req, &opened, &track.mime)?,
        Verdict::NotModified => Decision::NotModified,
        Verdict::Failed => Decision::PreconditionFailed,
    };
    Ok(Decided {
        decision,
        track,
        opened,
        etag,
    })
}

/// The ranges planned, then `NamedFile`'s negotiation of the rest, as a [`Decision`].
fn negotiate(req: &mut ServiceRequest, opened: &Opened, mime: &str) -> Result<Decision, Error> {
    let len = opened.len;
    let ranges = range::parse(req.headers().get(header::RANGE).map(HeaderValue::as_bytes));
    // A multipart answer is laid out once: to see that it is no larger than the file, then to send.
    let mut multipart = None;
    let plan = range::plan(ranges, len, |parts| {
        let layout = Multipart::new(parts, len, mime);
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
    // NamedFile reads the name only to guess the type and name the download, both set by render.
    let named = NamedFile::from_file(opened.metadata_file()?, "track")?
        .disable_content_disposition()
        .use_etag(false);
    let res = named.into_response(req.request());
    Ok(match res.status() {
        StatusCode::OK => Decision::Whole,
        StatusCode::PARTIAL_CONTENT => match (content_range(&res), multipart, plan) {
            (Some(_), Some(multipart), Plan::Parts(_)) => Decision::Parts(multipart),
            (Some(range), _, _) => Decision::Range(range),
            (None, _, _) => return Err(Error::Io(std::io::Error::other("206 without its range"))),
        },
        StatusCode::NOT_MODIFIED => Decision::NotModified,
        StatusCode::PRECONDITION_FAILED => Decision::PreconditionFailed,
        StatusCode::RANGE_NOT_SATISFIABLE => Decision::Unsatisfiable,
        status => {
            let unexpected = format!("NamedFile answered {status}");
            return Err(Error::Io(std::io::Error::other(unexpected)));
        }
    })
}

/// The range a 206 from `NamedFile` states.
fn content_range(res: &HttpResponse) -> Option<RangeInclusive<u64>> {
    let spec = res.headers().get(header::CONTENT_RANGE)?.to_str().ok()?;
    match spec.parse::<ContentRangeSpec>().ok()? {
        ContentRangeSpec::Bytes {
            range: Some((first, last)),
            ..
        } => Some(first..=last),
        _ => None,
    }
}

/// The answer `decided` says, for `req` (whose connection the body is sent on).
pub(super) async fn render(
    req: &ServiceRequest,
    state: &AppState,
    decided: Decided<'_>,
) -> Result<HttpResponse, Error> {
    let Decided {
        decision,
        track,
        opened,
        etag,
    } = decided;
    let len = opened.len;
    let last_modified = opened.modified.map(header::HttpDate::from);
    let (status, content_type, content_range, segments) = match decision {
        Decision::NotModified => {
            return Ok(validators(StatusCode::NOT_MODIFIED, etag, last_modified).finish());
        }
        Decision::PreconditionFailed => {
            return Ok(validators(StatusCode::PRECONDITION_FAILED, etag, last_modified).finish());
        }
        Decision::Unsatisfiable => {
            let mut res = track_head(StatusCode::RANGE_NOT_SATISFIABLE, etag, last_modified);
            let spec = ContentRangeSpec::Bytes {
                range: None,
                instance_length: Some(len),
            };
            res.insert_header((header::CONTENT_TYPE, track_type(&track.mime)))
                .insert_header(header::ContentRange(spec));
            return Ok(res.finish());
        }
        Decision::Whole => (
            StatusCode::OK,
            track_type(&track.mime),
            None,
            vec![Segment::Range { offset: 0, len }],
        ),
        Decision::Range(range) => (
            StatusCode::PARTIAL_CONTENT,
            track_type(&track.mime),
            Some(ContentRangeSpec::Bytes {
                range: Some((*range.start(), *range.end())),
                instance_length: Some(len),
            }),
            vec![Segment::Range {
                offset: *range.start(),
                len: range.end() - range.start() + 1,
            }],
        ),
        Decision::Parts(multipart) => (
            StatusCode::PARTIAL_CONTENT,
            HeaderValue::from_str(&multipart.content_type).expect("ASCII"),
            None,
            multipart.segments,
        ),
    };
    let mut res = track_head(status, etag, last_modified);
    res.insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CONTENT_DISPOSITION, disposition(&track.path)));
    if let Some(spec) = content_range {
        res.insert_header(header::ContentRange(spec));
    }
    if *req.method() == Method::HEAD {
        // Range is defined for GET only (RFC 9110 §14.2): the head of the 200, no body and no pump.
        return Ok(sized_without_body(res, len));
    }
    let socket = super::server::own_socket(req.request());
    let counters = Arc::clone(&state.counters);
    let watchdog = Arc::clone(&state.watchdog);
    let pump = track_pump(opened.content, segments, socket, counters, watchdog)
        .await
        .map_err(Error::from_open)?;
    if pump.sends_directly() {
        // actix neither counts nor chunks bytes it does not write: the length is declared here,
        // and the body is written as it comes (see `PumpBody::size`).
        return Ok(sized_without_body(res, pump.len()).set_body(PumpBody(pump).boxed()));
    }
    Ok(res.body(PumpBody(pump)))
}

/// The validators every answer about a track carries (a 304 and a 412 carry nothing else).
pub(super) fn validators(
    status: StatusCode,
    etag: header::EntityTag,
    last_modified: Option<header::HttpDate>,
) -> HttpResponseBuilder {
    let mut res = HttpResponse::build(status);
    res.insert_header(header::ETag(etag));
    if let Some(date) = last_modified {
        res.insert_header(header::LastModified(date));
    }
    res
}

/// The head every track answer with a representation has: the validators, and that ranges are
/// served.
fn track_head(
    status: StatusCode,
    etag: header::EntityTag,
    last_modified: Option<header::HttpDate>,
) -> HttpResponseBuilder {
    let mut res = validators(status, etag, last_modified);
    res.insert_header((header::ACCEPT_RANGES, "bytes"));
    res
}

/// `res` declaring a body of `len` bytes that it does not carry (a `HEAD` answer, or one whose
/// bytes go around actix): chunking off, the length in the head.
fn sized_without_body(mut res: HttpResponseBuilder, len: u64) -> HttpResponse {
    res.no_chunking(len).body(EmptyStream)
}

/// The track's `Content-Type` as a header value.
fn track_type(mime: &str) -> HeaderValue {
    HeaderValue::from_str(mime).unwrap_or(HeaderValue::from_static("application/octet-stream"))
}

/// `Content-Disposition: inline` with the file's name (RFC 6266), so that a saved track keeps its
/// name: quoted when it is plain ASCII, else in the RFC 8187 `filename*` form. Written here rather
/// than by `NamedFile`, whose formatter runs a regex over the name on every request (4,200 of the
/// 60,000 instructions of a range request, measured with `scripts/range-instructions.sh`).
pub(super) fn disposition(path: &Path) -> HeaderValue {
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

/// Opens the track: here if that needs no waiting on the storage (the usual case), else on the
/// blocking pool, bounded by [`OPEN_TIMEOUT`] so a stalled mount answers 503, not never.
pub(super) async fn open(state: &AppState, path: &Path) -> Result<Opened, Error> {
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
