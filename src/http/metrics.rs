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

/// Counts an answer by route (`place`: its entry's in the route table, whose metrics are
/// `metric`) and status, and the bytes of its body as they are sent (a streamed route's bodies
/// count their own, in the byte pump).
pub(super) fn count(
    res: ServiceResponse<BoxBody>,
    place: usize,
    metric: Route,
) -> ServiceResponse<BoxBody> {
    let Some(state) = res.request().app_data::<web::Data<AppState>>().cloned() else {
        return res;
    };
    state.metrics.record(place, res.status().as_u16());
    if metric.is_streamed() {
        return res;
    }
    res.map_body(|_, body| Counted { body, place, state }.boxed())
}

/// A body that adds its bytes to the metrics as they go out.
struct Counted {
    body: BoxBody,
    /// Its route's place in the route table.
    place: usize,
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
                .add_body_bytes(self.place, bytes.len() as u64);
        }
        polled
    }
}
