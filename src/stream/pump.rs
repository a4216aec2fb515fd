//! The byte pump: what every streamed body runs. It walks the body's [`Cursor`], sends its text,
//! asks a [`Producer`] for the bytes of each range, counts them, reports progress to the send
//! timeout and holds the stream's slot; producers only say how the next piece of a range is made.
//!
//! A producer's piece either is data for the HTTP layer to write ([`Piece::Data`]), or went
//! straight to the socket ([`Piece::Sent`], the sendfile path): then the pump carries on with the
//! next piece in the same poll, up to [`YIELD_AFTER`] bytes, so one fast stream does not hold its
//! worker.

use std::io;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;

use super::cursor::{Cursor, Next};
use super::socket::ConnSocket;
use super::watchdog::{Watch, Watchdog};
use crate::stats::{ActiveGuard, Counters};

/// Bytes one poll may send around the HTTP layer before it yields to the worker's other
/// connections.
const YIELD_AFTER: u64 = 4 * 1024 * 1024;

/// What a producer made of the front range.
#[derive(Debug)]
pub(crate) enum Piece {
    /// The range's next bytes, for the HTTP layer to write.
    Data(Bytes),
    /// This many of the range's next bytes were written to the socket directly.
    Sent(usize),
    /// The client has gone: the body ends here, and nothing is logged as a server error.
    ClientGone,
}

/// Makes the bytes of a track's ranges, one piece at a time.
pub(crate) trait Producer: Unpin {
    /// Whether pieces go to the socket directly ([`Piece::Sent`]), around the HTTP layer: it then
    /// neither counts nor chunks them, and the length is declared in the head instead.
    fn sends_directly(&self) -> bool {
        false
    }

    /// Whether the send timeout should watch the stream from its start. Otherwise it is watched
    /// from the first time the producer waits (a producer that writes to the socket itself knows
    /// when it is full; one that hands data to the HTTP layer cannot tell).
    fn watched_from_start(&self) -> bool {
        true
    }

    /// The next piece of the range of `len` (at least one) bytes at `offset`.
    fn poll_range(
        &mut self,
        cx: &mut Context<'_>,
        offset: u64,
        len: u64,
    ) -> Poll<io::Result<Piece>>;
}

/// Sends a body of segments with the bytes of `P`, counted as one active stream until dropped.
pub(crate) struct Pump<P> {
    cursor: Cursor,
    producer: P,
    counters: Arc<Counters>,
    _active: ActiveGuard,
    socket: Option<ConnSocket>,
    watchdog: Arc<Watchdog>,
    /// Set once the stream may stall on its client.
    watch: Option<Watch>,
}

impl<P: Producer> Pump<P> {
    /// A pump sending `cursor`'s segments, the ranges' bytes made by `producer`, over the
    /// connection's `socket` (when known, the send timeout watches it).
    pub(crate) fn new(
        cursor: Cursor,
        producer: P,
        socket: Option<ConnSocket>,
        counters: Arc<Counters>,
        watchdog: Arc<Watchdog>,
    ) -> Self {
        let active = counters.stream_started();
        let mut pump = Self {
            cursor,
            counters,
            _active: active,
            socket,
            watchdog,
            watch: None,
            producer,
        };
        if pump.producer.watched_from_start() {
            pump.start_watching();
        }
        pump
    }

    /// The body's length in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.cursor.len()
    }

    /// Whether the bytes go to the socket directly (see [`Producer::sends_directly`]).
    pub(crate) fn sends_directly(&self) -> bool {
        self.producer.sends_directly()
    }

    /// The next piece for the HTTP layer to write; `None` once the body is complete.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Bytes>>> {
        // Being asked for more means the socket took what came before.
        if let Some(watch) = &self.watch {
            watch.progressed();
        }
        let mut sent = 0;
        loop {
            let (offset, len) = match self.cursor.next() {
                None => return Poll::Ready(None),
                Some(Next::Text(text)) => return Poll::Ready(Some(Ok(text))),
                Some(Next::Range { offset, len }) => (offset, len),
            };
            if sent >= YIELD_AFTER {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            let piece = match self.producer.poll_range(cx, offset, len) {
                Poll::Ready(piece) => piece?,
                Poll::Pending => {
                    self.start_watching();
                    return Poll::Pending;
                }
            };
            match piece {
                Piece::Data(bytes) => {
                    let n = bytes.len() as u64;
                    self.cursor.advance(n)?;
                    self.counters.add_bytes_served(n, false);
                    return Poll::Ready(Some(Ok(bytes)));
                }
                Piece::Sent(n) => {
                    let n = n as u64;
                    self.cursor.advance(n)?;
                    self.counters.add_bytes_served(n, true);
                    sent += n;
                }
                Piece::ClientGone => return Poll::Ready(None),
            }
        }
    }

    /// Registers the stream with the send timeout (once): it may now stall on its client.
    fn start_watching(&mut self) {
        if let (None, Some(socket)) = (&self.watch, self.socket) {
            self.watch = socket.duplicate().ok().map(|fd| self.watchdog.watch(fd));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::super::cursor::Segment;
    use super::*;

    /// A producer of bytes from memory, `piece` bytes at a time (a stand-in for any third kind:
    /// it only makes the next piece, the pump does the rest).
    struct Memory {
        data: Vec<u8>,
        piece: usize,
    }

    impl Producer for Memory {
        fn poll_range(
            &mut self,
            _: &mut Context<'_>,
            offset: u64,
            len: u64,
        ) -> Poll<io::Result<Piece>> {
            let start = (offset as usize).min(self.data.len());
            let end = (start + self.piece.min(len as usize)).min(self.data.len());
            Poll::Ready(Ok(Piece::Data(Bytes::copy_from_slice(
                &self.data[start..end],
            ))))
        }
    }

    fn drain(pump: &mut Pump<Memory>) -> io::Result<Vec<u8>> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let mut out = Vec::new();
        for _ in 0..10_000 {
            match pump.poll_next(&mut cx) {
                Poll::Ready(Some(piece)) => out.extend_from_slice(&piece?),
                Poll::Ready(None) => return Ok(out),
                Poll::Pending => unreachable!("memory never waits"),
            }
        }
        panic!("the body never ended")
    }

    #[test]
    fn any_producer_gets_the_walk_the_counters_and_the_stream_slot() {
        let counters = Arc::new(Counters::default());
        let watchdog = Watchdog::new(Duration::from_secs(10), Arc::clone(&counters));
        let segments = vec![
            Segment::Text(Bytes::from_static(b"[")),
            Segment::Range { offset: 2, len: 5 },
            Segment::Text(Bytes::from_static(b"|")),
            Segment::Range { offset: 8, len: 2 },
            Segment::Text(Bytes::from_static(b"]")),
        ];
        let memory = Memory {
            data: b"0123456789".to_vec(),
            piece: 2,
        };
        let mut pump = Pump::new(
            Cursor::new(segments.clone()),
            memory,
            None,
            Arc::clone(&counters),
            Arc::clone(&watchdog),
        );
        assert_eq!(pump.len(), 10);
        assert_eq!(counters.active_streams(), 1);
        assert_eq!(drain(&mut pump).unwrap(), b"[23456|89]");
        assert_eq!(
            counters.bytes_served(),
            7,
            "the ranges' bytes, not the text"
        );
        drop(pump);
        assert_eq!(counters.active_streams(), 0);

        // A source shorter than the ranges (a file that shrank) ends the body with an error.
        let short = Memory {
            data: b"01234".to_vec(),
            piece: 64,
        };
        let mut pump = Pump::new(Cursor::new(segments), short, None, counters, watchdog);
        let err = drain(&mut pump).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof, "{err}");
    }
}
