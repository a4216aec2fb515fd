//! The body of a track that is not cached yet: its segments read from the object store range by
//! range, as the listener takes them. At most the store reader's one piece and the piece the HTTP
//! layer is writing are in memory; a listener who stops taking data stops the reads, and is cut off
//! by the send timeout like any other.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;

use super::pump::Segment;
use super::socket::ConnSocket;
use super::watchdog::{Watch, Watchdog};
use crate::library::{Chunks, Reader};
use crate::stats::{ActiveGuard, Counters};

type Opening = Pin<Box<dyn Future<Output = io::Result<Chunks>> + Send>>;

/// Sends a list of segments of an object, counted as one active stream until it is dropped.
pub(crate) struct StorePump {
    reader: Reader,
    segments: VecDeque<Segment>,
    len: u64,
    /// The front file segment's bytes, once the store has answered for them.
    current: Option<Chunks>,
    opening: Option<Opening>,
    counters: Arc<Counters>,
    _active: ActiveGuard,
    watch: Option<Watch>,
}

impl StorePump {
    /// Starts sending `segments`: ready once the store has answered for the first file segment,
    /// so that a store that cannot serve gives an error before any header is sent.
    pub(crate) async fn start(
        reader: Reader,
        segments: Vec<Segment>,
        socket: Option<ConnSocket>,
        counters: Arc<Counters>,
        watchdog: &Arc<Watchdog>,
    ) -> io::Result<Self> {
        let active = counters.stream_started();
        let mut pump = Self {
            reader,
            len: segments.iter().map(Segment::len).sum(),
            segments: segments.into(),
            current: None,
            opening: None,
            counters,
            _active: active,
            watch: None,
        };
        let first = pump.segments.iter().find_map(|s| match s {
            Segment::File { offset, len } if *len > 0 => Some(*offset..offset + len),
            _ => None,
        });
        if let Some(range) = first {
            pump.current = Some(pump.reader.read(range).await?);
        }
        pump.watch = socket
            .and_then(|s| s.duplicate().ok())
            .map(|fd| watchdog.watch(fd));
        Ok(pump)
    }

    /// The body's length in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The next piece for the HTTP layer to write; `None` once the body is complete.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Bytes>>> {
        if let Some(watch) = &self.watch {
            watch.progressed();
        }
        loop {
            let remaining = match self.segments.front_mut() {
                None => return Poll::Ready(None),
                Some(Segment::Text(text)) => {
                    let text = std::mem::take(text);
                    self.segments.pop_front();
                    return Poll::Ready(Some(Ok(text)));
                }
                Some(Segment::File { len: 0, .. }) => {
                    self.segments.pop_front();
                    continue;
                }
                Some(Segment::File { offset, len }) => (*offset, *len),
            };
            if let Some(opening) = &mut self.opening {
                self.current = Some(ready!(opening.as_mut().poll(cx))?);
                self.opening = None;
            }
            let Some(current) = &mut self.current else {
                let (offset, len) = remaining;
                self.opening = Some(Box::pin(self.reader.read(offset..offset + len)));
                continue;
            };
            let piece = match ready!(current.poll_next(cx)) {
                Some(piece) => piece?,
                None => {
                    return Poll::Ready(Some(Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the store sent less than asked",
                    ))));
                }
            };
            let Some(Segment::File { offset, len }) = self.segments.front_mut() else {
                unreachable!("a file segment is at the front");
            };
            let n = piece.len() as u64;
            if n > *len {
                return Poll::Ready(Some(Err(io::Error::other(
                    "the store sent more than asked",
                ))));
            }
            *offset += n;
            *len -= n;
            if *len == 0 {
                // The next file segment is another range.
                self.current = None;
            }
            self.counters.add_bytes_served(n, false);
            return Poll::Ready(Some(Ok(piece)));
        }
    }
}
