//! Conditional requests. For what the server renders itself (assets, covers): [`not_modified`].
//! For tracks: [`track_preconditions`] judges the entity-tag forms against the track's own ETag
//! (the same on every replica, never the inode) and `NamedFile` judges the date forms and ranges.

use actix_web::HttpMessage as _;
use actix_web::HttpRequest;
use actix_web::dev::ServiceRequest;
use actix_web::http::{Method, header};

/// Whether the request's `If-None-Match` names `etag` (or `*`): the client's copy is current
/// (RFC 9110 §13.1.2, weak comparison).
pub(super) fn not_modified(req: &HttpRequest, etag: &header::EntityTag) -> bool {
    match req.get_header::<header::IfNoneMatch>() {
        Some(header::IfNoneMatch::Any) => true,
        Some(header::IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(etag)),
        None => false,
    }
}

/// What a track request's entity-tag preconditions decide.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Go on (the date forms and the range are `NamedFile`'s to judge).
    Proceed,
    /// 304: the client's copy is current.
    NotModified,
    /// 412: the client's condition does not hold.
    Failed,
}

/// Evaluates `If-Match`, `If-None-Match` and the entity-tag form of `If-Range` against `etag`
/// (RFC 9110 §13.2.2), then removes what it decided, and what those decisions make moot
/// (`If-Unmodified-Since` after an `If-Match`, `If-Modified-Since` after an `If-None-Match`), so
/// that `NamedFile`, which has no ETag here, judges only the rest. A failed `If-Range` removes the
/// `Range` itself: the answer is the whole track.
pub(super) fn track_preconditions(req: &mut ServiceRequest, etag: &header::EntityTag) -> Verdict {
    let headers = req.headers();
    let if_match = headers
        .contains_key(header::IF_MATCH)
        .then(|| req.get_header::<header::IfMatch>());
    let if_none_match = headers
        .contains_key(header::IF_NONE_MATCH)
        .then(|| req.get_header::<header::IfNoneMatch>());
    let if_range = req.get_header::<header::IfRange>();
    let get_or_head = matches!(*req.method(), Method::GET | Method::HEAD);

    let headers = req.headers_mut();
    match &if_match {
        None => {}
        Some(Some(header::IfMatch::Any)) => {}
        Some(Some(header::IfMatch::Items(tags))) if tags.iter().any(|t| t.strong_eq(etag)) => {}
        // No tag matches, or the header cannot be read.
        Some(_) => return Verdict::Failed,
    }
    if if_match.is_some() {
        headers.remove(header::IF_MATCH);
        headers.remove(header::IF_UNMODIFIED_SINCE);
    }
    if let Some(if_none_match) = if_none_match {
        let current = match if_none_match {
            Some(header::IfNoneMatch::Any) => true,
            Some(header::IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(etag)),
            None => false,
        };
        if current {
            return if get_or_head {
                Verdict::NotModified
            } else {
                Verdict::Failed
            };
        }
        headers.remove(header::IF_NONE_MATCH);
        headers.remove(header::IF_MODIFIED_SINCE);
    }
    if let Some(header::IfRange::EntityTag(tag)) = if_range {
        if !tag.strong_eq(etag) {
            headers.remove(header::RANGE);
        }
        headers.remove(header::IF_RANGE);
    }
    Verdict::Proceed
}
