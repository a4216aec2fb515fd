//! The HTTP layer, the only part of the crate that knows actix: the route table shared by `main`
//! and every test, the handlers (thin: parse the request, ask the domain, build the response), the
//! error-to-status map, conditional requests, the audio body, and the server.

mod access_log;
mod art;
mod assets;
mod audio;
mod auth;
mod body;

mod conditional;
mod error;
mod events;
mod health;
mod metrics;
mod pages;
mod server;
mod tls;
mod wire;

use std::sync::Arc;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse, fn_service};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, Route, guard, middleware, web};

use self::body::EmptyStream;
use self::error::Error;
pub use self::pages::{FIRST_SCREEN_ROWS, PRELOAD_METADATA_UP_TO};
pub use self::server::start;
pub use self::tls::{Tls, TlsError};
use crate::state::AppState;

/// The route table. `App::new().configure(routes(state))` is the whole application.
///
/// | route | what |
/// |---|---|
/// | `GET /` | the player page |
/// | `GET /audio/<name>` | a track, range-aware |
/// | `GET /art/<name>` | a track's cover (embedded, or its folder's `cover.jpg`) |
/// | `GET /events` | live stats (SSE) |
/// | `GET /api/stats` | the latest stats (JSON) |
/// | `GET /api/tracks` | the track list (JSON) |
/// | `GET /api/library?since=<version>` | the track list, or what changed since a version (JSON) |
/// | `GET /static/<file>` | embedded assets |
/// | `GET /metrics` | metrics in Prometheus' text format |
/// | `GET /healthz`, `GET /readyz` | the process answers; the library is listed and its store answers |
/// | `GET`, `POST /login`, `POST /logout` | signing in and out (with `--users`) |
/// | `GET /api/link?track=<name>&lifetime=<s>` | a signed link to a track (with `--link-secret`) |
///
/// Every route also answers `HEAD` (except `/events`); other methods get 405 with `Allow`, unknown
/// paths 404.
pub fn routes(state: Arc<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        // Off as well when the log level leaves its lines out: actix's logger would format every
        // line before the level filtered it (22,000 instructions per range request, measured).
        let log = state.access_log && log::log_enabled!(target: "access", log::Level::Info);
        let guarded = state.access.is_some() || state.links.is_some();
        let sessions = auth::sessions(&state);
        // Middlewares go on this scope, not on the App: the scope's answers are boxed, while each
        // App-level layer would grow the state actix-http keeps for every connection.
        let all = web::scope("")
            // Access control, inside the layers below so its answers get their headers too.
            .wrap(middleware::Condition::new(
                guarded,
                middleware::from_fn(auth::guard),
            ))
            .wrap(middleware::Condition::new(state.access.is_some(), sessions))
            .wrap(middleware::from_fn(edge))
            // The log outermost: it reads the length the note inside it recorded.
            .wrap(middleware::Condition::new(
                log,
                middleware::from_fn(access_log::note_length),
            ))
            .wrap(middleware::Condition::new(log, access_log::logger()))
            // First: the route most requests take, matched by its prefix.
            .service(web::scope(audio::PREFIX).default_service(fn_service(audio::serve)))
            .service(compressed("/").route(get_or_head().to(pages::index)))
            .service(compressed("/api/tracks").route(get_or_head().to(pages::tracks)))
            .service(compressed("/api/library").route(get_or_head().to(pages::library)))
            .service(compressed("/api/stats").route(get_or_head().to(events::latest)))
            .service(resource("/events").route(web::get().to(events::subscribe)))
            .service(compressed("/static/{file}").route(get_or_head().to(assets::serve)))
            .service(resource(art::ROUTE).route(get_or_head().to(art::serve)))
            .service(compressed("/metrics").route(get_or_head().to(metrics::serve)))
            .service(resource("/healthz").route(get_or_head().to(health::healthz)))
            .service(resource("/readyz").route(get_or_head().to(health::readyz)))
            .service(
                compressed("/login")
                    .route(get_or_head().to(auth::show))
                    .route(web::post().to(auth::login)),
            )
            .service(resource("/logout").route(web::post().to(auth::logout)))
            .service(resource("/api/link").route(get_or_head().to(auth::make_link)))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(Error::NotFound)
            }));
        cfg.app_data(web::Data::from(state)).service(all);
    }
}

/// What the page may load and do: its own scripts, styles, images, media and requests only; no
/// inline script or style, no plugins, and no framing by other sites.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; img-src 'self'; media-src 'self'; connect-src 'self'; manifest-src 'self'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Headers on every answer: the [`CONTENT_SECURITY_POLICY`], no MIME sniffing (a track or cover is
/// never run as a script or page), and no `Referer` sent to other sites (a signed link in a page's
/// address stays on this server).
const SECURITY_HEADERS: [(HeaderName, HeaderValue); 4] = [
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    ),
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    ),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
];

/// Largest request head (all header names and values) the server answers; nginx's default
/// `large_client_header_buffers` allows 8 KiB per line.
pub const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// The way every answer goes out, in one layer (each layer costs every request a boxed future and
/// moves of the request and response; four layers cost 4,100 of the 62,000 instructions of a
/// range request, measured with `scripts/range-instructions.sh`):
///
/// - a request whose headers add up to more than [`MAX_REQUEST_HEAD`] gets 431: actix-http reads
///   a single header line of any length it can buffer (64 KiB and more), and no route needs that;
/// - every answer gets the [`SECURITY_HEADERS`] its handler did not set;
/// - a `HEAD` answer gets an empty body ([`without_body`]);
/// - every answer is counted by route and status ([`metrics::count`]).
async fn edge(
    req: ServiceRequest,
    next: middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let mut res = if head_size(&req) > MAX_REQUEST_HEAD {
        req.error_response(Error::HeadTooLarge)
    } else if req.method() == Method::HEAD {
        without_body(next.call(req).await?)
    } else {
        next.call(req).await?.map_into_boxed_body()
    };
    let headers = res.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        if !headers.contains_key(&name) {
            headers.insert(name, value);
        }
    }
    Ok(metrics::count(res))
}

/// The size of a request's head as [`MAX_REQUEST_HEAD`] counts it.
fn head_size(req: &ServiceRequest) -> usize {
    req.headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum::<usize>()
        + req.uri().path_and_query().map_or(0, |p| p.as_str().len())
}

/// Gives a `HEAD` answer an empty body that states its length in the head.
///
/// actix-http decides whether to write a body from the *last request it decoded*: with pipelined
/// requests (`HEAD` then `GET` sent together), the `HEAD` answer's body was written, or expected and
/// missing, and the connection broke. An empty body that reports a stream, with chunking off and
/// an explicit `Content-Length`, is right whichever way that flag points.
fn without_body(res: ServiceResponse<impl MessageBody + 'static>) -> ServiceResponse<BoxBody> {
    res.map_body(|head, body| {
        // A 304 describes no body of its own (RFC 9110 §15.4.5): no length to state.
        if let (BodySize::Sized(len), false) =
            (body.size(), head.status == StatusCode::NOT_MODIFIED)
        {
            head.no_chunking(true);
            head.headers_mut()
                .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
        }
        EmptyStream.boxed()
    })
}

/// A resource whose unmatched methods get 405 with `Allow`.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(|| async {
        Err::<HttpResponse, _>(Error::MethodNotAllowed)
    }))
}

/// A [`resource`] whose answers are compressed (gzip) for clients that accept it: pages, JSON and
/// assets (which also come brotli-compressed at build time). Never audio (already compressed, and
/// ranges must count the file's bytes), covers or the event stream (each event must leave at once).
///
/// gzip only, as sent: a brotli encoder in the binary added ~0.45 MiB to the idle RSS.
fn compressed(
    path: &str,
) -> actix_web::Resource<
    impl actix_web::dev::ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    resource(path).wrap(middleware::Compress::default())
}

/// Routes that answer `GET` and `HEAD` alike.
fn get_or_head() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}
