//! The HTTP layer, the only part of the crate that knows actix: the route table shared by `main`
//! and every test (each entry declaring a route whole, see `table`), the handlers (thin: parse the
//! request, ask the domain, build the response), the error-to-status map, conditional requests,
//! the audio body, and the server.

mod access_log;
mod apps;
mod art;
mod assets;
mod audio;
mod auth;
mod body;
mod browse;
mod conditional;
mod error;
mod events;
mod health;
mod listener;
mod metrics;
mod pages;
mod server;
mod subsonic;
mod table;
mod tls;
mod track;
mod transcoded;
mod wire;

use std::sync::Arc;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse, fn_service};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{middleware, web};

use self::body::EmptyStream;
use self::error::{Error, Format};
pub use self::pages::{FIRST_SCREEN_ROWS, PRELOAD_METADATA_UP_TO};
pub use self::server::start;
use self::table::Access;
use self::table::{Entry, Methods, Serve};
pub use self::tls::{Tls, TlsError};
use crate::metrics::Route as Metric;
use crate::state::AppState;

/// The route table: every route, in the order actix tries them. An entry is the whole of a route:
/// its path, what answers it (a handler per method, or one service for everything under a
/// prefix), who may use it ([`Access`], read by the guard), how its errors are written
/// ([`Format`]), and its `route` label in the metrics. A new route is one more entry: the guard,
/// the error format, the `Allow` of a 405 and the metrics all read it from here.
///
/// | route | what |
/// |---|---|
/// | `GET /audio/<name>` | a track, range-aware (a signed link opens it without a session) |
/// | `GET /` | the player page (without a session: to the login page and back) |
/// | `GET /api/tracks` | the track list (JSON) |
/// | `GET /api/library?since=<version>` | the track list, or what changed since a version (JSON) |
/// | `GET /api/stats` | the latest stats (JSON) |
/// | `GET /api/link?track=<name>&lifetime=<s>` | a signed link to a track (with `--link-secret`) |
/// | `GET /api/albums`, `/api/artists`, `/api/genres` (and `/{id}`) | the catalog (JSON) |
/// | `/api/stars`, `/api/ratings`, `/api/plays`, `/api/playlists`, `/api/queue`, `/api/bookmarks` | the listener's own data (JSON; see `listener`) |
/// | `GET /events` | live stats (SSE) |
/// | `GET /static/<file>` | embedded assets |
/// | `GET /art/<name>` | a track's cover (embedded, or its folder's `cover.jpg`) |
/// | `GET /metrics` | metrics in Prometheus' text format (a bearer token instead of a session) |
/// | `GET /healthz`, `GET /readyz` | the process answers; the library is listed and its store answers |
/// | `GET`, `POST /login`, `POST /logout` | signing in and out (with `--users`) |
///
/// `GET` routes also answer `HEAD` (except `/events`); other methods get 405 with `Allow` naming
/// the route's methods, unknown paths 404 (in JSON under `/api`).
static TABLE: &[Entry] = &[
    // First: the route most requests take, matched by its prefix.
    Entry {
        path: audio::PREFIX,
        access: Access::Link,
        errors: Format::Text,
        metric: Metric::streamed("/audio/{name}"),
        serve: Serve::Prefix {
            methods: &[Methods::GetHead],
            service: |scope| scope.default_service(fn_service(audio::serve)),
        },
    },
    Entry {
        path: subsonic::PREFIX,
        access: Access::Own,
        errors: Format::Subsonic,
        metric: Metric::new("/rest"),
        serve: Serve::Prefix {
            methods: &[Methods::GetHead, Methods::Post],
            service: |scope| scope.default_service(fn_service(subsonic::serve)),
        },
    },
    Entry {
        path: "/",
        access: Access::Session,
        errors: Format::Page,
        metric: Metric::new("/"),
        serve: Serve::Resource {
            handlers: &[(Methods::GetHead, |route| route.to(pages::index))],
            compressed: true,
        },
    },
    Entry {
        path: "/api/tracks",
        access: Access::Session,
        errors: Format::Json,
        metric: Metric::new(API),
        serve: Serve::Resource {
            handlers: &[(Methods::GetHead, |route| route.to(pages::tracks))],
            compressed: true,
        },
    },
    Entry {
        path: "/api/library",
        access: Access::Session,
        errors: Format::Json,
        metric: Metric::new(API),
        serve: Serve::Resource {
            handlers: &[(Methods::GetHead, |route| route.to(pages::library))],
            compressed: true,
        },
    },
    Entry {
        path: "/api/stats",
        access: Access::Session,
        errors: Format::Json,
        metric: Metric::new(API),
        serve: Serve::Resource {
            handlers: &[(Methods::GetHead, |route| route.to(events::latest))],
            compressed: true,
        },
    },
    Entry {
        path: "/api/link",
        access: Access::Session,
        errors: Format::Json,
        metric: Metric::new(API),
        serve: Serve::Resource {
            handlers: &[(Methods::GetHead, |route| route.to(auth::make_link))],
            compressed: false,
        },
    },
    // The catalog.
    api(
        "/api/albums",
        &[(Methods::GetHead, |r| r.to(browse::albums))],
    ),
    api(
        "/api/albums/{id}",
        &[(Methods::GetHead, |r| r.to(browse::album))],
    ),
    api(
        "/api/artists",
        &[(Methods::GetHead, |r| r.to(browse::artists))],
    ),
    api(
        "/api/artists/{id}",
        &[(Methods::GetHead, |r| r.to(browse::artist))],
    ),
    api(
        "/api/genres",
        &[(Methods::GetHead, |r| r.to(browse::genres))],
    ),
    api(
        "/api/genres/{id}",
        &[(Methods::GetHead, |r| r.to(browse::genre))],
    ),
    // The listener's own data.
    api(
        "/api/stars",
        &[(Methods::GetHead, |r| r.to(listener::stars))],
    ),
    api(
        "/api/stars/{id}",
        &[
            (Methods::Put, |r| r.to(listener::star)),
            (Methods::Delete, |r| r.to(listener::unstar)),
        ],
    ),
    api(
        "/api/ratings/{id}",
        &[
            (Methods::Put, |r| r.to(listener::rate)),
            (Methods::Delete, |r| r.to(listener::unrate)),
        ],
    ),
    api("/api/plays", &[(Methods::Post, |r| r.to(listener::play))]),
    api(
        "/api/playlists",
        &[
            (Methods::GetHead, |r| r.to(listener::playlists)),
            (Methods::Post, |r| r.to(listener::create_playlist)),
        ],
    ),
    api(
        "/api/playlists/{id}/tracks",
        &[(Methods::Put, |r| r.to(listener::replace_tracks))],
    ),
    api(
        "/api/playlists/{id}",
        &[
            (Methods::GetHead, |r| r.to(listener::playlist)),
            (Methods::Patch, |r| r.to(listener::edit_playlist)),
            (Methods::Delete, |r| r.to(listener::delete_playlist)),
        ],
    ),
    api(
        "/api/queue",
        &[
            (Methods::GetHead, |r| r.to(listener::queue)),
            (Methods::Put, |r| r.to(listener::save_queue)),
        ],
    ),
    api(
        "/api/bookmarks",
        &[(Methods::GetHead, |r| r.to(listener::bookmarks))],
    ),
    api(
        "/api/settings",
        &[
            (Methods::GetHead, |r| r.to(listener::settings)),
            (Methods::Put, |r| r.to(listener::save_settings)),
        ],
    ),
    api(
        "/api/apps",
        &[
            (Methods::GetHead, |r| r.to(apps::list)),
            (Methods::Post, |r| r.to(apps::make)),
        ],
    ),
    api(
        "/api/apps/{id}",
        &[(Methods::Delete, |r| r.to(apps::revoke))],
    ),
    api(
        "/api/bookmarks/{id}",
        &[
            (Methods::Put, |r| r.to(listener::set_bookmark)),
            (Methods::Delete, |r| r.to(listener::delete_bookmark)),
        ],
    ),
    Entry {
        path: "/api",
        access: Access::Session,
        errors: Format::Json,
        metric: Metric::new(API),
        serve: Serve::NotFound,
    },
    Entry {
        path: "/events",
        access: Access::Session,
        errors: Format::Text,
        metric: Metric::new("/events"),
        serve: Serve::Resource {
            handlers: &[(Methods::Get, |route| route.to(events::subscribe))],
            compressed: false,
        },
    },
    Entry {
        path: "/static/{file}",
        access: Access::Open,
        errors: Format::Text,
        metric: Metric::new("/static/{file}"),
        serve: Serve::Resource {
            handlers: &[(Methods::GetHead, |route| route.to(assets::serve))],
            compressed: true,
        },
    },
    Entry {
        path: art::ROUTE,
        access: Access::Session,
        errors: Format::Text,
        metric: Metric::new("/art/{name}"),
        serve: Serve::Resource {
            handlers: &[(Methods::GetHead, |route| route.to(art::serve))],
            compressed: false,
        },
    },
    Entry {
        path: "/metrics",
        access: Access::Bearer,
        errors: Format::Text,
        metric: Metric::new("/metrics"),
        serve: Serve::Resource {
            handlers: &[(Methods::GetHead, |route| route.to(metrics::serve))],
            compressed: true,
        },
    },
    Entry {
        path: "/healthz",
        access: Access::Open,
        errors: Format::Text,
        metric: Metric::new("/healthz"),
        serve: Serve::Resource {
            handlers: &[(Methods::GetHead, |route| route.to(health::healthz))],
            compressed: false,
        },
    },
    Entry {
        path: "/readyz",
        access: Access::Open,
        errors: Format::Text,
        metric: Metric::new("/readyz"),
        serve: Serve::Resource {
            handlers: &[(Methods::GetHead, |route| route.to(health::readyz))],
            compressed: false,
        },
    },
    Entry {
        path: "/login",
        access: Access::Open,
        errors: Format::Text,
        metric: Metric::new("/login"),
        serve: Serve::Resource {
            handlers: &[
                (Methods::GetHead, |route| route.to(auth::show)),
                (Methods::Post, |route| route.to(auth::login)),
            ],
            compressed: true,
        },
    },
    Entry {
        path: "/logout",
        access: Access::Session,
        errors: Format::Text,
        metric: Metric::new("/logout"),
        serve: Serve::Resource {
            handlers: &[(Methods::Post, |route| route.to(auth::logout))],
            compressed: false,
        },
    },
    // Last: every path no entry above matched.
    Entry {
        path: "",
        access: Access::Session,
        errors: Format::Text,
        metric: Metric::new("other"),
        serve: Serve::NotFound,
    },
];

/// Largest JSON body the API reads: a playlist of 10,000 ids (20 bytes each, quoted) fits four
/// times over.
const MAX_JSON_BODY: usize = 1024 * 1024;

/// The `route` label of everything under `/api`.
const API: &str = "/api";

/// An entry of the JSON API: for a signed-in user, errors in JSON, counted as [`API`], compressed.
const fn api(path: &'static str, handlers: &'static [(Methods, table::Handler)]) -> Entry {
    Entry {
        path,
        access: Access::Session,
        errors: Format::Json,
        metric: Metric::new(API),
        serve: Serve::Resource {
            handlers,
            compressed: true,
        },
    }
}

/// The application: `App::new().configure(routes(state))` is all of it, [`TABLE`] behind the
/// layers every answer goes through.
pub fn routes(state: Arc<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        state.metrics.declare(&table::metric_routes());
        // Off as well when the log level leaves its lines out: actix's logger would format every
        // line before the level filtered it (22,000 instructions per range request, measured).
        let log = state.access_log && log::log_enabled!(target: "access", log::Level::Info);
        let guarded = state.access.is_some() || state.links.is_some();
        let sessions = auth::sessions(&state);
        // Middlewares go on this scope, not on the App: the scope's answers are boxed, while each
        // App-level layer would grow the state actix-http keeps for every connection.
        let all = table::register(web::scope(""))
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
            .wrap(middleware::Condition::new(log, access_log::logger()));
        // A query string that does not parse is the request's error, written in its route's
        // format like any other.
        let queries = web::QueryConfig::default().error_handler(|err, _| Error::Query(err).into());
        // A JSON body likewise; the largest a listener sends is a playlist of 10,000 ids.
        let bodies = web::JsonConfig::default()
            .limit(MAX_JSON_BODY)
            .error_handler(|err, _| Error::Body(err).into());
        cfg.app_data(web::Data::from(state))
            .app_data(queries)
            .app_data(bodies)
            .service(all);
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
pub(crate) const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// The way every answer goes out, in one layer (each layer costs every request a boxed future and
/// moves of the request and response; four layers cost 4,100 of the 62,000 instructions of a
/// range request, measured with `scripts/range-instructions.sh`):
///
/// - a request whose headers add up to more than [`MAX_REQUEST_HEAD`] gets 431: actix-http reads
///   a single header line of any length it can buffer (64 KiB and more), and no route needs that;
/// - every answer gets the [`SECURITY_HEADERS`] its handler did not set;
/// - a `HEAD` answer gets an empty body ([`without_body`]);
/// - a 405 gets the `Allow` its route's methods make (RFC 9110 §15.5.6: it must list them);
/// - every answer is counted by route and status ([`metrics::count`]).
async fn edge(
    req: ServiceRequest,
    next: middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let (place, route) = table::find(req.path());
    let mut res = if head_size(&req) > MAX_REQUEST_HEAD {
        req.into_response(route.refuse(&Error::HeadTooLarge))
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
    if res.status() == StatusCode::METHOD_NOT_ALLOWED
        && let Some(allow) = route.allow()
        && let Ok(allow) = HeaderValue::from_str(&allow)
    {
        res.headers_mut().insert(header::ALLOW, allow);
    }
    Ok(metrics::count(res, place, route.metric))
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
