//! A track transcoded on the fly (`?format=opus|mp3&bitrate=<kbit/s>`), served like a file: an
//! exact `Content-Length`, `Accept-Ranges: bytes`, a strong ETag of its own, 206 for any range
//! (several as `multipart/byteranges`), `If-Range`, 304, `HEAD`. The bytes come from
//! `transcode`, whose layout is known before any audio is encoded.
//!
//! The original is sent instead when it already is what was asked (the same format at or under
//! the bit rate), or when no decoder reads it: the client gets playable audio either way, and the
//! reason is logged. A track in object storage not cached on this replica is read from the store.

use std::sync::Arc;

use actix_web::HttpMessage as _;
use actix_web::body::MessageBody as _;
use actix_web::dev::ServiceRequest;
use actix_web::http::header::{self, ContentRangeSpec, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::body::{EmptyStream, PumpBody};
use super::conditional::{Verdict, track_preconditions};
use super::error::Error;
use super::track::validators;
use crate::library::{Codec, Content, Track};
use crate::state::AppState;
use crate::stream::range::{self, Plan as RangePlan};
use crate::stream::{Multipart, Segment, transcode_pump};
use crate::transcode::{Format, Plan, RATE, ReadAt, Source, Target};

/// The query of a track request.
#[derive(Debug, Deserialize)]
struct Query {
    format: Option<String>,
    bitrate: Option<u32>,
}

/// What a request for `track` asks to be made, if anything: `None` for the original. A user
/// capped at `cap` kbit/s gets nothing above it: a higher bit rate asked is lowered, and an
/// original above it (or of unknown bit rate) is made into Opus at the cap.
pub(super) fn asked(
    req: &ServiceRequest,
    track: &Track,
    cap: Option<u32>,
) -> Result<Option<Target>, Error> {
    let query = web::Query::<Query>::from_query(req.query_string())?.into_inner();
    let raw = query
        .format
        .as_deref()
        .is_some_and(|name| name.eq_ignore_ascii_case("raw"));
    let format = match query.format.as_deref() {
        _ if raw => None,
        None | Some("") if query.bitrate.is_none() => None,
        None | Some("") => Some(Format::Opus),
        Some(name) => Some(Format::parse(name).ok_or(Error::UnknownFormat)?),
    };
    if query.bitrate == Some(0) {
        return Err(Error::UnknownFormat);
    }
    let Some(format) = format else {
        let over = |cap: u32| track.tags.stream.bit_rate().is_none_or(|kbps| kbps > cap);
        return Ok(cap
            .filter(|&cap| over(cap))
            .map(|cap| Target::new(Format::Opus, cap)));
    };
    let kbps = query.bitrate.unwrap_or_else(|| format.default_bitrate());
    Ok(Some(Target::new(
        format,
        cap.map_or(kbps, |cap| kbps.min(cap)),
    )))
}

/// Whether `track` already is `target`: the same codec, at or under its bit rate.
fn already(track: &Track, target: Target) -> bool {
    let stream = &track.tags.stream;
    let same = matches!(
        (stream.codec(), target.format),
        (Some(Codec::Opus), Format::Opus) | (Some(Codec::Mp3), Format::Mp3)
    );
    same && stream.bit_rate().is_some_and(|kbps| kbps <= target.kbps)
}

/// The answer to `req` for `track`: made into `target` when one is asked and the original is not
/// already it (or the answer is to begin `seconds_in` seconds into the track), else the original
/// (as `track` decides and renders it).
pub(super) async fn send(
    req: &mut ServiceRequest,
    state: &AppState,
    track: &Track,
    target: Option<Target>,
    seconds_in: u64,
) -> Result<HttpResponse, Error> {
    if let Some(target) = target
        && let Some(res) = respond(req, state, track, target, seconds_in).await?
    {
        return Ok(res);
    }
    let decided = super::track::decide(req, state, track).await?;
    super::track::render(req, state, decided).await
}

/// The answer to `req` for `track` made into `target` from `seconds_in` seconds in (up to its
/// last whole second); `None` when the original is to be sent.
async fn respond(
    req: &mut ServiceRequest,
    state: &AppState,
    track: &Track,
    target: Target,
    seconds_in: u64,
) -> Result<Option<HttpResponse>, Error> {
    if seconds_in == 0 && already(track, target) {
        return Ok(None);
    }
    if state.counters.active_streams() >= state.limits.max_streams {
        return Err(Error::Busy);
    }
    let permit = state.transcoder.admit().ok_or(Error::Busy)?;
    let opened = super::track::open(state, &track.path).await?;
    let extension = track.path.extension().and_then(|e| e.to_str());
    let bytes: Arc<dyn ReadAt> = match opened.content {
        Content::Local(file) => Arc::new(Kept(file)),
        // Not cached on this replica: read from the storage, block by block, on the
        // transcoding threads (the same bytes, so the same transcode, as a cached copy's).
        Content::Ranged(_) => {
            let library = Arc::clone(&state.library);
            let path = Arc::clone(&track.path);
            let reader = web::block(move || library.reader(&path))
                .await
                .map_err(|err| Error::Io(std::io::Error::other(err)))?
                .map_err(Error::from_open)?;
            Arc::new(Stored(std::sync::Mutex::new(reader)))
        }
    };
    let source = Source::new(bytes, opened.len, extension);
    let key = format!("{}\0{}", track.path.display(), opened.etag);
    let facts = match state.transcoder.facts(&key, source.clone()).await {
        Ok(facts) => facts,
        Err(err) => {
            log::info!("{}: sent as it is: {err}", track.name);
            return Ok(None);
        }
    };
    let seconds_in = seconds_in.min(facts.output_samples() / u64::from(RATE));
    let start = seconds_in * u64::from(RATE);
    let plan = Plan::new(target, facts, start, serial(&track.id), &comments(track));
    let len = plan.layout.len();
    let from = match seconds_in {
        0 => String::new(),
        secs => format!("-from{secs}"),
    };
    let etag = header::EntityTag::new_strong(format!(
        "{}-{}{}{from}",
        opened.etag,
        target.format.name(),
        target.kbps
    ));
    let last_modified = opened.modified.map(header::HttpDate::from);
    match track_preconditions(req, &etag) {
        Verdict::Proceed => {}
        Verdict::NotModified => {
            return Ok(Some(
                validators(StatusCode::NOT_MODIFIED, etag, last_modified).finish(),
            ));
        }
        Verdict::Failed => {
            let mut res = validators(StatusCode::PRECONDITION_FAILED, etag, last_modified);
            return Ok(Some(res.finish()));
        }
    }
    // `track_preconditions` judged an entity-tag `If-Range`; a date one holds only for the exact
    // date the answer states.
    let if_range_date = req.get_header::<header::IfRange>().and_then(|v| match v {
        header::IfRange::Date(date) => Some(date),
        header::IfRange::EntityTag(_) => None,
    });
    if let Some(date) = if_range_date
        && Some(date) != last_modified
    {
        req.headers_mut().remove(header::RANGE);
    }
    let ranges = range::parse(req.headers().get(header::RANGE).map(HeaderValue::as_bytes));
    let mime = target.format.mime();
    let mut multipart = None;
    let planned = range::plan(ranges.clone(), len, |parts| {
        let layout = Multipart::new(parts, len, mime);
        let fits = layout.len() <= len;
        multipart = Some(layout);
        fits
    });
    let one = |range: std::ops::RangeInclusive<u64>| {
        let spec = ContentRangeSpec::Bytes {
            range: Some((*range.start(), *range.end())),
            instance_length: Some(len),
        };
        let segment = Segment::Range {
            offset: *range.start(),
            len: range.end() - range.start() + 1,
        };
        (
            StatusCode::PARTIAL_CONTENT,
            mime.to_owned(),
            Some(spec),
            vec![segment],
        )
    };
    let whole = (
        StatusCode::OK,
        mime.to_owned(),
        None,
        vec![Segment::Range { offset: 0, len }],
    );
    let (status, content_type, content_range, segments) = match planned {
        RangePlan::Whole => whole,
        RangePlan::One(range) => one(range),
        RangePlan::Parts(_) => {
            let multipart = multipart.expect("laid out by the plan");
            (
                StatusCode::PARTIAL_CONTENT,
                multipart.content_type,
                None,
                multipart.segments,
            )
        }
        RangePlan::AsAsked => {
            let first = match ranges {
                Some(Ok(ranges)) if ranges.len() == 1 => ranges[0].bounds(len),
                _ => None,
            };
            match first {
                Some(range) => one(range),
                None => {
                    let mut res =
                        validators(StatusCode::RANGE_NOT_SATISFIABLE, etag, last_modified);
                    res.insert_header((header::ACCEPT_RANGES, "bytes"))
                        .insert_header(header::ContentRange(ContentRangeSpec::Bytes {
                            range: None,
                            instance_length: Some(len),
                        }));
                    return Ok(Some(res.finish()));
                }
            }
        }
    };
    let mut res = validators(status, etag, last_modified);
    res.insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CONTENT_DISPOSITION, disposition(track, target)));
    if let Some(spec) = content_range {
        res.insert_header(header::ContentRange(spec));
    }
    if *req.method() == Method::HEAD {
        return Ok(Some(res.no_chunking(len).body(EmptyStream)));
    }
    let job = state.transcoder.job(plan, source, permit);
    let socket = super::server::own_socket(req.request());
    let counters = Arc::clone(&state.counters);
    let watchdog = Arc::clone(&state.watchdog);
    let pump = transcode_pump(job, segments, socket, counters, watchdog);
    Ok(Some(res.body(PumpBody(pump).boxed())))
}

/// A track's opened file, kept (with its cache lease) while a transcode reads it.
struct Kept(crate::library::LocalFile);

impl ReadAt for Kept {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        std::os::unix::fs::FileExt::read_at(self.0.file(), buf, offset)
    }
}

/// A track read from its storage (object storage, not cached here). One job reads it, one segment
/// at a time: the lock is never contended.
struct Stored(std::sync::Mutex<Box<dyn crate::library::SeekRead>>);

impl ReadAt for Stored {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        use std::io::{Read as _, Seek as _};
        let mut reader = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        reader.seek(std::io::SeekFrom::Start(offset))?;
        reader.read(buf)
    }
}

/// The Ogg stream's serial number: from the track's id, so every replica numbers it alike.
fn serial(id: &str) -> u32 {
    let hex = id.rsplit('-').next().unwrap_or_default();
    u32::from_str_radix(hex.get(..8).unwrap_or("0"), 16).unwrap_or(0)
}

/// The tags an Opus transcode carries.
fn comments(track: &Track) -> Vec<String> {
    let tags = &track.tags;
    let mut out = vec![format!("TITLE={}", track.title)];
    if let Some(artist) = &tags.artist {
        out.push(format!("ARTIST={artist}"));
    }
    if let Some(album) = &tags.album {
        out.push(format!("ALBUM={album}"));
    }
    out
}

/// `inline`, with the file's stem and the new extension.
fn disposition(track: &Track, target: Target) -> HeaderValue {
    let name = track.path.with_extension(target.format.name());
    super::track::disposition(&name)
}
