//! What an entry of the route table declares (its path, who may use it, how its errors read, what
//! the metrics call it, what answers it), how a request finds its entry, and how an entry becomes
//! an actix service. The table itself is [`super::TABLE`].

use std::future::ready;

use actix_web::body::BoxBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::{HttpResponse, Route, Scope, guard, middleware, web};

use super::error::{Error, Format};
use crate::metrics;

/// Who may use a route, declared with it in the route table and read by the guard (`auth::guard`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    /// Anyone: the login page, the page's assets, and the probes of load balancers.
    Open,
    /// A signed-in user, when access control (`--users`) is on; anyone otherwise.
    Session,
    /// A signed link (`?expires=…&signature=…`, with `--link-secret`) to the track the rest of the
    /// path names, checked whether or not access control is on; without one, as
    /// [`Access::Session`].
    Link,
    /// The metrics token (`Authorization: Bearer`, checked by the route itself) when
    /// `--metrics-token` is set; else as [`Access::Session`].
    Bearer,
    /// Credentials the route checks itself, in its own scheme (a Subsonic `/rest/` scope's): the
    /// guard lets every request through.
    Own,
}

/// One route: a path, who may use it, how its errors read, its metrics label, and what answers it.
#[derive(Debug)]
pub(super) struct Entry {
    /// A resource's actix pattern (`/static/{file}`), or a prefix (`/audio`: that path and every
    /// path under it) for [`Serve::Prefix`] and [`Serve::NotFound`].
    pub(super) path: &'static str,
    /// Who may use it.
    pub(super) access: Access,
    /// How its errors are written.
    pub(super) errors: Format,
    /// How the metrics count it (its `route` label).
    pub(super) metric: metrics::Route,
    /// What answers it.
    pub(super) serve: Serve,
}

/// What answers the requests of an [`Entry`].
#[derive(Debug)]
pub(super) enum Serve {
    /// Every path under the prefix, answered by one raw service (given the prefix's scope) that
    /// answers these methods and refuses others itself.
    Prefix {
        /// The methods it answers.
        methods: &'static [Methods],
        /// Adds the service to the prefix's scope.
        service: fn(Scope) -> Scope,
    },
    /// A resource: one handler per set of methods (each given its route, guarded by the
    /// methods); other methods get 405.
    Resource {
        /// The handlers, with the methods each answers.
        handlers: &'static [(Methods, Handler)],
        /// Whether its answers are compressed (gzip) for clients that accept it: pages, JSON
        /// and assets (which also come brotli-compressed at build time). Never audio (already
        /// compressed, and ranges must count the file's bytes), covers or the event stream (each
        /// event must leave at once). gzip only, as sent: a brotli encoder in the binary added
        /// ~0.45 MiB to the idle RSS.
        compressed: bool,
    },
    /// Every path under the prefix that no entry before it matched: 404.
    NotFound,
}

/// Gives a handler to the route that answers its methods: `|route| route.to(pages::index)`.
pub(super) type Handler = fn(Route) -> Route;

/// The methods one handler answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Methods {
    /// `GET` and `HEAD` alike (`edge` sends a `HEAD` answer without its body).
    GetHead,
    /// `GET` only: an answer that never ends (the event stream).
    Get,
    /// `POST`: a form, or a new item of a collection (JSON).
    Post,
    /// `PUT`: an item set whole (JSON).
    Put,
    /// `PATCH`: an item changed in part (JSON).
    Patch,
    /// `DELETE`: an item removed.
    Delete,
}

impl Methods {
    /// The methods as `Allow` lists them.
    fn names(self) -> &'static str {
        match self {
            Self::GetHead => "GET, HEAD",
            Self::Get => "GET",
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
            Self::Delete => "DELETE",
        }
    }

    /// A route answering these methods.
    fn route(self) -> Route {
        match self {
            Self::GetHead => web::route().guard(guard::Any(guard::Get()).or(guard::Head())),
            Self::Get => web::get(),
            Self::Post => web::post(),
            Self::Put => web::put(),
            Self::Patch => web::patch(),
            Self::Delete => web::delete(),
        }
    }
}

impl Entry {
    /// Whether `path` is this entry's: a resource's when it is the pattern, or (for a pattern
    /// with parameters) when it starts with the pattern's part before the first `{`; a prefix's
    /// when it is the prefix or lies under it.
    ///
    /// A path that only starts like a pattern (`/static/a/b`) is that entry's here, though actix
    /// answers it 404 from the table's last entry: it gets this entry's access and label.
    fn matches(&self, path: &str) -> bool {
        match self.serve {
            Serve::Prefix { .. } | Serve::NotFound => {
                path == self.path || self.rest(path).is_some()
            }
            Serve::Resource { .. } => match self.path.split_once('{') {
                Some((literal, _)) => path.starts_with(literal),
                None => path == self.path,
            },
        }
    }

    /// Whether actix routes `path` to this entry's own service: under its prefix, or its
    /// resource's pattern (never the 404 of a [`Serve::NotFound`]).
    fn routes(&self, path: &str) -> bool {
        match self.serve {
            Serve::Prefix { .. } => self.matches(path),
            Serve::Resource { .. } => pattern_matches(self.path, path),
            Serve::NotFound => false,
        }
    }

    /// What `path` names under this entry's prefix (`one` for `/audio/one`), if it lies under it.
    pub(super) fn rest<'a>(&self, path: &'a str) -> Option<&'a str> {
        path.strip_prefix(self.path)?.strip_prefix('/')
    }

    /// The methods it answers, as `Allow` lists them (none for [`Serve::NotFound`]).
    pub(super) fn allow(&self) -> Option<String> {
        let names: Vec<&str> = match self.serve {
            Serve::Prefix { methods, .. } => methods.iter().map(|m| m.names()).collect(),
            Serve::Resource { handlers, .. } => handlers.iter().map(|(m, _)| m.names()).collect(),
            Serve::NotFound => return None,
        };
        Some(names.join(", "))
    }

    /// The answer to `err` in this entry's error format.
    pub(super) fn refuse(&self, err: &Error) -> HttpResponse {
        err.answer(self.errors)
    }

    /// Adds this entry's service to `scope`.
    fn register(&'static self, scope: Scope) -> Scope {
        match self.serve {
            Serve::Prefix { service, .. } => scope.service(service(web::scope(self.path))),
            Serve::NotFound => {
                let not_found = move || ready(self.refuse(&Error::NotFound));
                scope.service(web::scope(self.path).default_service(web::to(not_found)))
            }
            Serve::Resource {
                handlers,
                compressed,
            } => {
                let refused = move || ready(self.refuse(&Error::MethodNotAllowed));
                let mut resource = web::resource(self.path).default_service(web::to(refused));
                for (methods, handler) in handlers {
                    resource = resource.route(self.in_format(handler(methods.route())));
                }
                if compressed {
                    scope.service(resource.wrap(middleware::Compress::default()))
                } else {
                    scope.service(resource)
                }
            }
        }
    }

    /// A handler's route whose errors are written in this entry's format (actix writes them with
    /// [`actix_web::ResponseError::error_response`], in plain text).
    fn in_format(&self, route: Route) -> Route {
        match self.errors {
            // A Subsonic scope is a prefix that writes its own answers.
            Format::Text | Format::Page | Format::Subsonic => route,
            Format::Json => route.wrap(middleware::from_fn(as_json)),
        }
    }
}

/// Writes a handler's error again as JSON, before any layer (compression) has taken its body.
async fn as_json(
    req: ServiceRequest,
    next: middleware::Next<BoxBody>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let res = next.call(req).await?;
    let answer = res
        .response()
        .error()
        .and_then(|err| err.as_error::<Error>())
        .map(|err| err.render(Format::Json));
    Ok(match answer {
        Some(answer) => res.into_response(answer),
        None => res,
    })
}

/// The entry of [`super::TABLE`] a request for `path` belongs to, and its place there: the first
/// that actix would route it to (a prefix, or a resource whose pattern matches segment by
/// segment); else the first that [`Entry::matches`] loosely (the table ends with one that
/// matches every path).
pub(super) fn find(path: &str) -> (usize, &'static Entry) {
    let table = super::TABLE;
    let place = table
        .iter()
        .position(|entry| entry.routes(path))
        .or_else(|| table.iter().position(|entry| entry.matches(path)))
        .unwrap_or(table.len() - 1);
    (place, &table[place])
}

/// Whether actix's pattern `pattern` matches `path`: literal segments equal, `{name}` any one
/// segment, `{name:.*}` whatever is left.
fn pattern_matches(pattern: &str, path: &str) -> bool {
    let (mut wanted, mut given) = (pattern.split('/'), path.split('/'));
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return true,
            (Some(w), Some(_)) if w.starts_with('{') && w.ends_with(":.*}") => return true,
            (Some(w), Some(g)) if w == g || (w.starts_with('{') && !g.is_empty()) => {}
            _ => return false,
        }
    }
}

/// Adds every entry of [`super::TABLE`] to `scope`, in its order (actix tries them in that order).
///
/// Service by service: `Scope::configure` would give the scope data of its own (empty), which
/// every request would then carry and search.
pub(super) fn register(scope: Scope) -> Scope {
    super::TABLE
        .iter()
        .fold(scope, |scope, entry| entry.register(scope))
}

/// How the metrics count each entry of [`super::TABLE`], in its order.
pub(super) fn metric_routes() -> Vec<metrics::Route> {
    super::TABLE.iter().map(|entry| entry.metric).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_the_route_table() {
        for (path, want) in [
            ("/", "/"),
            ("/audio/a/b.mp3", "/audio/{name}"),
            ("/audio", "/audio/{name}"),
            ("/art/x", "/art/{name}"),
            ("/events", "/events"),
            ("/api/stats", "/api"),
            ("/api/tracks", "/api"),
            ("/api/library", "/api"),
            ("/api/link", "/api"),
            ("/api/nothing", "/api"),
            ("/api/albums", "/api"),
            ("/api/albums/al-0123", "/api"),
            ("/api/playlists/pl-1/tracks", "/api"),
            ("/api/stars/tr-1", "/api"),
            ("/static/app.css", "/static/{file}"),
            ("/metrics", "/metrics"),
            ("/healthz", "/healthz"),
            ("/readyz", "/readyz"),
            ("/login", "/login"),
            ("/logout", "/logout"),
            ("/etc/passwd", "other"),
            ("/audiox", "other"),
            ("/apix", "other"),
        ] {
            assert_eq!(find(path).1.metric.label(), want, "{path}");
        }
    }

    #[test]
    fn patterns_match_segment_by_segment() {
        for (pattern, path, want) in [
            ("/api/playlists/{id}", "/api/playlists/pl-1", true),
            ("/api/playlists/{id}/tracks", "/api/playlists/pl-1", false),
            (
                "/api/playlists/{id}/tracks",
                "/api/playlists/pl-1/tracks",
                true,
            ),
            ("/api/playlists/{id}", "/api/playlists/pl-1/tracks", false),
            ("/api/playlists/{id}", "/api/playlists/", false),
            ("/art/{name:.*}", "/art/a/b", true),
            ("/static/{file}", "/static/a/b", false),
            ("/", "/", true),
            ("/", "//", false),
        ] {
            assert_eq!(pattern_matches(pattern, path), want, "{pattern} {path}");
        }
    }

    #[test]
    fn paths_get_their_routes_access_and_error_format() {
        for (path, access, errors) in [
            ("/", Access::Session, Format::Page),
            ("//", Access::Session, Format::Text),
            ("/audio/a%20b", Access::Link, Format::Text),
            ("/audio", Access::Link, Format::Text),
            ("/api/stats", Access::Session, Format::Json),
            ("/api", Access::Session, Format::Json),
            ("/api/x/y", Access::Session, Format::Json),
            ("/api/playlists/pl-1", Access::Session, Format::Json),
            ("/api/queue", Access::Session, Format::Json),
            ("/static/app.css", Access::Open, Format::Text),
            ("/static/a/b", Access::Open, Format::Text),
            ("/static", Access::Session, Format::Text),
            ("/login", Access::Open, Format::Text),
            ("/login/x", Access::Session, Format::Text),
            ("/healthz", Access::Open, Format::Text),
            ("/readyz", Access::Open, Format::Text),
            ("/metrics", Access::Bearer, Format::Text),
            ("/logout", Access::Session, Format::Text),
            ("/nothing", Access::Session, Format::Text),
        ] {
            let (_, entry) = find(path);
            assert_eq!((entry.access, entry.errors), (access, errors), "{path}");
        }
    }
}
