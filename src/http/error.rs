//! The HTTP layer's error type: every way a request can fail, mapped to exactly one status, and
//! written in the [`Format`] its route declares (plain text, or JSON for `/api/`).

use std::io;

use actix_web::error::JsonPayloadError;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};

use crate::data::DataError;

/// How a route writes its errors, declared with it in the route table.
///
/// [`Error::render`] matches on the format with no `_` arm: a new format cannot compile until its
/// answer is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Format {
    /// Plain text: the message and a newline.
    Text,
    /// A page: plain text like [`Format::Text`], but a page load refused for want of a session
    /// goes to the login page and comes back after (see `auth::guard`).
    Page,
    /// JSON for the page's scripts: `{"error": "<message>"}`, with the same status.
    Json,
    /// A failed Subsonic envelope in XML (code 0 and the message), with the same status: for the
    /// few errors raised before the API's own handling, which answers its own faults with 200.
    Subsonic,
}

/// Why a request was not answered with what it asked for.
#[derive(Debug, thiserror::Error)]
pub(super) enum Error {
    /// No track, asset or route by that name.
    #[error("not found")]
    NotFound,
    /// The route exists but not for this method (the edge adds `Allow` with the route's methods).
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The request's headers are larger than the server accepts.
    #[error("request headers too large")]
    HeadTooLarge,
    /// `/metrics` without the token `--metrics-token` set.
    #[error("this needs the metrics token")]
    MetricsToken,
    /// Access control is on and the request carries no valid session.
    #[error("sign in at /login first")]
    LoginRequired,
    /// A signed link that is expired or not valid for this track.
    #[error("{0}")]
    Link(crate::auth::LinkError),
    /// Too many login attempts from this address; this many seconds until the next.
    #[error("too many sign-in attempts; try again in {0} s")]
    Throttled(u64),
    /// A form posted from another site.
    #[error("this form cannot be sent from another site")]
    CrossSite,
    /// A share link's lifetime out of range.
    #[error("a link's lifetime is 60 seconds to 30 days")]
    BadLifetime,
    /// A query string that does not read as the route's parameters.
    #[error("{0}")]
    Query(#[from] actix_web::error::QueryPayloadError),
    /// A transcode asked in a format or at a bit rate the server does not make.
    #[error("format is opus, mp3 or raw; bitrate is in kbit/s")]
    UnknownFormat,
    /// The configured cap on concurrent streams or viewers is reached.
    #[error("the server is busy; try again in a few seconds")]
    Busy,
    /// `/readyz`: not ready to serve tracks, and why.
    #[error("not ready: {0}")]
    NotReady(String),
    /// The storage did not answer in time (a stalled network mount).
    #[error("the music storage is not answering; try again in a few seconds")]
    StorageStalled,
    /// Reading a file failed for a reason other than its absence.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// A page failed to render.
    #[error("template error: {0}")]
    Template(#[from] askama::Error),
    /// A JSON body that does not read as the route's (malformed, too large, not JSON).
    #[error("{0}")]
    Body(#[from] actix_web::error::JsonPayloadError),
    /// The listeners' data said no, or could not be reached.
    #[error("{0}")]
    Data(#[from] crate::data::DataError),
    /// The stats could not be encoded.
    #[error("encoding error: {0}")]
    Json(#[from] serde_json::Error),
}

impl Error {
    /// Opening a file that vanished since the scan is a 404, not a server failure; a store that
    /// cannot answer is a 503.
    pub(super) fn from_open(err: io::Error) -> Self {
        match err.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::IsADirectory => Self::NotFound,
            // The object store (or a mount) cannot answer now.
            io::ErrorKind::NotConnected | io::ErrorKind::TimedOut => Self::StorageStalled,
            _ => Self::Io(err),
        }
    }

    /// The answer to this error in `format`, logged when the server is at fault.
    pub(super) fn answer(&self, format: Format) -> HttpResponse {
        match self {
            // Said to whoever asks (a load balancer, every few seconds): not worth a log line each.
            Self::Busy | Self::NotReady(_) => {}
            Self::StorageStalled | Self::Data(DataError::Unavailable(_)) => log::warn!("{self}"),
            _ if self.status_code().is_server_error() => log::error!("{self}"),
            _ => {}
        }
        self.render(format)
    }

    /// The answer to this error in `format`, not logged: for an error [`Error::answer`] has
    /// already written once (a handler's, written again in its route's format).
    pub(super) fn render(&self, format: Format) -> HttpResponse {
        let status = self.status_code();
        let mut res = HttpResponse::build(status);
        match self {
            Self::Busy
            | Self::StorageStalled
            | Self::NotReady(_)
            | Self::Data(DataError::Unavailable(_)) => {
                res.insert_header((header::RETRY_AFTER, "5"));
            }
            Self::MetricsToken => {
                res.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"metrics\""));
            }
            Self::LoginRequired => {
                res.insert_header((
                    header::WWW_AUTHENTICATE,
                    "Session realm=\"audio-streamer\", login=\"/login\"",
                ));
            }
            Self::Throttled(secs) => {
                res.insert_header((header::RETRY_AFTER, secs.to_string()));
            }
            _ => {}
        }
        let message = if status.is_server_error()
            && !matches!(
                self,
                Self::Busy
                    | Self::StorageStalled
                    | Self::NotReady(_)
                    | Self::Data(DataError::Unavailable(_))
            ) {
            // Details stay in the log; the client learns only that it was not its fault.
            "internal server error".to_owned()
        } else {
            self.to_string()
        };
        match format {
            Format::Text | Format::Page => res
                .content_type("text/plain; charset=utf-8")
                .body(message + "\n"),
            Format::Json => res
                .content_type("application/json")
                .body(serde_json::json!({ "error": message }).to_string()),
            Format::Subsonic => {
                let (kind, body) = super::subsonic::failure(message);
                res.content_type(kind).body(body)
            }
        }
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::Busy | Self::StorageStalled | Self::NotReady(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            Self::HeadTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Self::MetricsToken | Self::LoginRequired => StatusCode::UNAUTHORIZED,
            Self::Link(_) | Self::CrossSite => StatusCode::FORBIDDEN,
            Self::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::BadLifetime | Self::Query(_) | Self::UnknownFormat => StatusCode::BAD_REQUEST,
            Self::Body(err) => match err {
                JsonPayloadError::Overflow { .. }
                | JsonPayloadError::OverflowKnownLength { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                JsonPayloadError::ContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                _ => StatusCode::BAD_REQUEST,
            },
            Self::Data(err) => match err {
                DataError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
                DataError::NotFound(_) => StatusCode::NOT_FOUND,
                DataError::Conflict { .. } => StatusCode::CONFLICT,
                DataError::Invalid(_) => StatusCode::BAD_REQUEST,
                DataError::Forbidden => StatusCode::FORBIDDEN,
                DataError::Start { .. } | DataError::Failed(_) => StatusCode::INTERNAL_SERVER_ERROR,
            },
            Self::Io(_) | Self::Template(_) | Self::Json(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The answer in plain text, for an error that no route's [`Format`] has written (yet):
    /// actix calls this when a handler returns it.
    fn error_response(&self) -> HttpResponse {
        self.answer(Format::Text)
    }
}
