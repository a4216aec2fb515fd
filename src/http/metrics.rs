//! `GET /metrics` (Prometheus' text format, behind a bearer token when `--metrics-token` is set),
//! and the count of every answer by route and status, and of its body's bytes.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::ServiceResponse;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use subtle::ConstantTimeEq as _;

use super::error::Error;
use crate::metrics::{CONTENT_TYPE, Route};
use crate::state::AppState;

/// `GET /metrics`: every metric, for a scraper that presents the token when one is set.
pub(super) async fn serve(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Error> {
    if let Some(token) = &state.metrics_token {
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !bool::from(presented.as_bytes().ct_eq(token.as_bytes())) {
            return Err(Error::MetricsToken);
        }
    }
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .content_type(CONTENT_TYPE)
        .body(state.metrics.encode()))
}

/// Which route a path belongs to, for the `route` label.
fn route(path: &str) -> Route {
    let first = path.split('/').nth(1).unwrap_or_default();
    match first {
        "" => Route::Index,
        "audio" => Route::Audio,
        "art" => Route::Art,
        "events" => Route::Events,
        "api" => Route::Api,
        "static" => Route::Static,
        "metrics" => Route::Metrics,
        "healthz" => Route::Health,
        "readyz" => Route::Ready,
        _ => Route::Other,
    }
}

/// Counts an answer by route and status, and the bytes of its body as they are sent (audio bodies
/// count their own, in the byte pump).
pub(super) fn count(res: ServiceResponse<BoxBody>) -> ServiceResponse<BoxBody> {
    let route = route(res.request().path());
    let Some(state) = res.request().app_data::<web::Data<AppState>>().cloned() else {
        return res;
    };
    state.metrics.record(route, res.status().as_u16());
    if route == Route::Audio {
        return res;
    }
    res.map_body(|_, body| Counted { body, route, state }.boxed())
}

/// A body that adds its bytes to the metrics as they go out.
struct Counted {
    body: BoxBody,
    route: Route,
    state: web::Data<AppState>,
}

impl MessageBody for Counted {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let polled = Pin::new(&mut self.body).poll_next(cx);
        if let Poll::Ready(Some(Ok(bytes))) = &polled {
            self.state
                .metrics
                .add_body_bytes(self.route, bytes.len() as u64);
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_the_route_table() {
        for (path, want) in [
            ("/", Route::Index),
            ("/audio/a/b.mp3", Route::Audio),
            ("/art/x", Route::Art),
            ("/events", Route::Events),
            ("/api/stats", Route::Api),
            ("/static/app.css", Route::Static),
            ("/metrics", Route::Metrics),
            ("/healthz", Route::Health),
            ("/readyz", Route::Ready),
            ("/etc/passwd", Route::Other),
            ("/audiox", Route::Other),
        ] {
            assert_eq!(route(path), want, "{path}");
        }
    }
}
