//! The bytes of a transcode: asked of its job (`transcode::jobs`) range by range, as the listener
//! takes them. Dropping the producer (the listener left) stops the job at its next piece.

use std::io;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::pump::{Piece, Producer};
use crate::transcode::Job;

/// Makes a transcode's bytes.
#[derive(Debug)]
pub(crate) struct TranscodeProducer(pub(crate) Arc<Job>);

impl Producer for TranscodeProducer {
    fn poll_range(
        &mut self,
        cx: &mut Context<'_>,
        offset: u64,
        len: u64,
    ) -> Poll<io::Result<Piece>> {
        self.0
            .poll_bytes(cx, offset, len)
            .map(|made| made.map(Piece::Data).map_err(io::Error::other))
    }
}

impl Drop for TranscodeProducer {
    fn drop(&mut self) {
        self.0.close();
    }
}
