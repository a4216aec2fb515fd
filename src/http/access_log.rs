//! The access log: one line per request in the common log format, written through actix's
//! `Logger` (target `access`), when `--no-access-log` is not given.

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header;
use actix_web::middleware::{self, Logger};

/// One line per request in the common log format: client, `[time]`, request line, status, and the
/// body's length ([`BodyLength`]: `-` for a compressed or streamed body of unknown length). Audio
/// goes out around actix (sendfile), so for a track it is the length answered, not what a client
/// that left early received.
pub(super) fn logger() -> Logger {
    Logger::new(r#"%a - - [%t] "%r" %s %{length}xo"#)
        .custom_response_replace("length", |res| {
            res.response()
                .extensions()
                .get::<BodyLength>()
                .map_or_else(|| "-".to_owned(), |len| len.0.to_string())
        })
        .log_target("access")
}

/// The length of an answer's body as the access log shows it, when known before it is sent: a
/// fixed-length body, or the `Content-Length` declared for a body sent around actix (sendfile).
#[derive(Debug, Clone, Copy)]
struct BodyLength(u64);

/// Notes each answer's [`BodyLength`] in its extensions (for the access log, which sees neither
/// the body nor the bytes sendfile moves).
pub(super) async fn note_length(
    req: ServiceRequest,
    next: middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let head = req.method() == Method::HEAD;
    let mut res = next.call(req).await?;
    let length = match res.response().body().size() {
        _ if head => Some(0),
        BodySize::Sized(len) => Some(len),
        BodySize::None => Some(0),
        BodySize::Stream => res
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse().ok()),
    };
    if let Some(len) = length {
        res.response_mut().extensions_mut().insert(BodyLength(len));
    }
    Ok(res.map_into_boxed_body())
}
