//! `stream` and `download`: a track by its id, answered as `/audio/<name>` answers it (ranges,
//! preconditions, the byte pump). `stream` transcodes when asked: `format` (`opus`, `mp3`) at
//! `maxBitRate` kbit/s; with another or no `format`, the original, or Opus where the original is
//! above `maxBitRate` (not for `raw`) or the cap the operator set for the user, which also lowers
//! an asked rate. The
//! original is sent when it already is what was asked. Neither counts as a play (`scrobble` does).

use actix_web::HttpResponse;
use actix_web::dev::ServiceRequest;

use super::{Fault, Params};
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
    let over = |kbps: u32| track.tags.stream.bit_rate().is_none_or(|rate| rate > kbps);
    let target = match format.and_then(Format::parse) {
        _ if download => None,
        Some(format) => Some(Target::new(
            format,
            kbps.unwrap_or_else(|| format.default_bitrate()),
        )),
        // The original, or Opus where it is above the rate asked or the user's cap.
        None => kbps
            .filter(|&kbps| over(kbps))
            .map(|kbps| Target::new(Format::Opus, kbps)),
    };
    Ok(crate::http::transcoded::send(req, state, track, target).await)
}
