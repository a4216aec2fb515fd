//! `stream` and `download`: a track by its id, answered as `/audio/<name>` answers it (ranges,
//! preconditions, the byte pump). `stream` transcodes when asked: `format` (`opus`, `mp3`) at
//! `maxBitRate` kbit/s; with another or no `format`, the original, or Opus where the original is
//! above `maxBitRate` (not for `raw`) or the cap the operator set for the user, which also lowers
//! an asked rate. The original is sent when it already is what was asked. `timeOffset` (seconds,
//! the `transcodeOffset` extension) starts a transcode that far in, as a file of its own (exact
//! length, ranges); a stream that would be the original is made into Opus for it, and `raw` and
//! `download` ignore it. Neither counts as a play (`scrobble` does).
//!
//! `getCoverArt`: the cover of a song, album or artist by the id the entries give as `coverArt`,
//! as stored, or fitted into `size`×`size` as JPEG, answered from memory when asked before
//! ([`crate::covers`]).

use std::sync::Arc;

use actix_web::dev::ServiceRequest;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};

use super::{Fault, Params};
use crate::covers::MAX_SIZE;
use crate::http::conditional::not_modified;
use crate::http::error::Error;
use crate::state::AppState;
use crate::transcode::{Format, Target};

/// The answer to `stream` (`download`: the original, always) of `params`'s `id`, for `user`.
pub(super) async fn answer(
    req: &mut ServiceRequest,
    state: &AppState,
    params: &Params,
    user: &str,
    download: bool,
) -> Result<Result<HttpResponse, Error>, Fault> {
    let id = params.get("id").ok_or(Fault::Missing("id"))?;
    let library = state.library.snapshot();
    let track = library.by_id(id).ok_or(Fault::NotFound)?;
    let cap = state
        .access
        .as_ref()
        .and_then(|access| access.users.cap(user));
    let format = params.get("format");
    let asked = params
        .get("maxBitRate")
        .and_then(|kbps| kbps.parse::<u32>().ok())
        .filter(|&kbps| kbps > 0)
        .filter(|_| format != Some("raw"));
    let kbps = match (asked, cap) {
        (Some(asked), Some(cap)) => Some(asked.min(cap)),
        (asked, cap) => asked.or(cap),
    };
    let seconds_in = match params.number::<u64>("timeOffset", 0)? {
        _ if download || format == Some("raw") => 0,
        secs => secs,
    };
    let over = |kbps: u32| track.tags.stream.bit_rate().is_none_or(|rate| rate > kbps);
    let made =
        |format: Format| Target::new(format, kbps.unwrap_or_else(|| format.default_bitrate()));
    let target = match format.and_then(Format::parse) {
        _ if download => None,
        Some(format) => Some(made(format)),
        // Opus from the offset asked.
        None if seconds_in > 0 => Some(made(Format::Opus)),
        // The original, or Opus where it is above the rate asked or the user's cap.
        None => kbps
            .filter(|&kbps| over(kbps))
            .map(|kbps| Target::new(Format::Opus, kbps)),
    };
    Ok(crate::http::transcoded::send(req, state, track, target, seconds_in).await)
}

/// The answer to `getCoverArt`: the image, or the fault (70 for an id without a cover).
pub(super) async fn cover(
    req: &HttpRequest,
    state: &web::Data<AppState>,
    params: &Params,
) -> Result<HttpResponse, Fault> {
    let id = params.required("id")?;
    let size = match params.get("size") {
        None => None,
        Some(_) => Some(params.number::<u32>("size", 0)?)
            .filter(|&size| size > 0)
            .ok_or_else(|| Fault::Invalid("size must be a whole number from 1".to_owned()))
            .map(|size| Some(size).filter(|&size| size <= MAX_SIZE))?,
    };
    let library = super::super::browse::catalogued(state)
        .await
        .map_err(|_| Fault::Busy)?;
    let catalog = library.catalog();
    let at = if let Some(album) = catalog.album(id) {
        album.cover
    } else if let Some(at) = catalog.artist_index(id) {
        catalog.artists()[at].cover
    } else {
        library.index_of(id)
    };
    let artwork = at
        .and_then(|i| library.tracks()[i].artwork.clone())
        .ok_or(Fault::NotFound)?;
    let version = match size {
        Some(size) => format!("{}-{size}", artwork.version),
        None => artwork.version.clone(),
    };
    let etag = header::EntityTag::new_strong(version);
    let mut res = HttpResponse::Ok();
    res.insert_header(header::ETag(etag.clone()))
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400"));
    if not_modified(req, &etag) {
        return Ok(res.status(StatusCode::NOT_MODIFIED).finish());
    }
    // From the cache; else read here if that needs no waiting, and sent from here if it needs no
    // resizing; else resized (what was read here), or read, on the blocking pool.
    let sent = match state.covers.cached(&artwork.version, size) {
        Some(image) => Some(Ok(image)),
        None => state.library.cover_cached(&artwork).map(|original| {
            state
                .covers
                .answer_as_stored(&artwork.version, original, size)
        }),
    };
    let image = match sent {
        Some(Ok(image)) => image,
        unsent => {
            let original = unsent.and_then(Result::err);
            let _turn = state.covers.turn().await;
            let (shared, held) = (Arc::clone(&state.library), web::Data::clone(state));
            web::block(move || {
                let original = original.or_else(|| shared.cover(&artwork))?;
                Some(held.covers.answer(&artwork.version, original, size))
            })
            .await
            .map_err(|_| Fault::Busy)?
            .ok_or(Fault::NotFound)?
        }
    };
    Ok(res
        .insert_header((header::CONTENT_TYPE, image.mime))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(image.data))
}
