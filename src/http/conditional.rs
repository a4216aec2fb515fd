//! Conditional requests for what the server renders itself (assets, covers); audio tracks get the
//! full RFC 9110 §13.2.2 order from `NamedFile`.

use actix_web::HttpMessage as _;
use actix_web::HttpRequest;
use actix_web::http::header;

/// Whether the request's `If-None-Match` names `etag` (or `*`): the client's copy is current
/// (RFC 9110 §13.1.2, weak comparison).
pub(super) fn not_modified(req: &HttpRequest, etag: &header::EntityTag) -> bool {
    match req.get_header::<header::IfNoneMatch>() {
        Some(header::IfNoneMatch::Any) => true,
        Some(header::IfNoneMatch::Items(tags)) => tags.iter().any(|t| t.weak_eq(etag)),
        None => false,
    }
}
