//! Response bodies for actix: the byte pump as a `MessageBody`, whatever produces its bytes, and
//! the empty body of every `HEAD` answer.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;

use crate::stream::{Producer, Pump};

/// A body sent by the pump, its bytes made by `P`.
pub(super) struct PumpBody<P>(pub(super) Pump<P>);

impl<P: Producer> MessageBody for PumpBody<P> {
    type Error = io::Error;

    /// A pump that sends around actix (sendfile) reports a stream: actix then writes what it is
    /// handed without counting it against the length (declared in the head), since most bytes
    /// bypass it.
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
