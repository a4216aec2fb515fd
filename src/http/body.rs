//! Response bodies for actix: the byte pumps as `MessageBody`s, and the empty body of every `HEAD`
//! answer.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;

use crate::library::Lease;
use crate::stream::{Pump, StorePump};

/// The bytes `NamedFile` chose (or a multipart body), sent by the pump; a cached copy of an object
/// stays leased (not evicted) until the body is dropped.
pub(super) struct PumpBody(
    pub(super) Pump,
    #[allow(dead_code, reason = "held, not read")] pub(super) Option<Lease>,
);

impl MessageBody for PumpBody {
    type Error = io::Error;

    /// A pump that sends with sendfile reports a stream: actix then writes what it is handed
    /// without counting it against the length (declared in the head), since most bytes bypass it.
    fn size(&self) -> BodySize {
        if self.0.sends_directly() {
            BodySize::Stream
        } else {
            BodySize::Sized(self.0.len())
        }
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        self.get_mut().0.poll_next(cx)
    }
}

/// The same bytes of a track not cached yet, read from the object store.
pub(super) struct StoreBody(pub(super) StorePump);

impl MessageBody for StoreBody {
    type Error = io::Error;

    fn size(&self) -> BodySize {
        BodySize::Sized(self.0.len())
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        self.get_mut().0.poll_next(cx)
    }
}

/// What a `HEAD` answer sends: nothing, reported as a stream so that actix writes the head's
/// `Content-Length` as set and expects no bytes (see `http::without_body`).
pub(super) struct EmptyStream;

impl MessageBody for EmptyStream {
    type Error = std::convert::Infallible;

    fn size(&self) -> BodySize {
        BodySize::Stream
    }

    fn poll_next(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Poll::Ready(None)
    }
}
