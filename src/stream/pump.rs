//! The byte pump: what every audio response body sends, reading the file with positioned reads
//! straight from the page cache on the worker thread, in chunks sized for memory, not just speed.
//!
//! `NamedFile` decides *which* bytes (status, `Content-Range`); the pump sends them, as a list of
//! [`Segment`]s (one file range, or the parts and headers of a multipart body). Compared with
//! `NamedFile`'s own body (a fresh 64 KiB `Vec` and a blocking-pool hop per chunk) it:
//! - reads with `preadv2(RWF_NOWAIT)`, which copies cached pages without blocking and says
//!   `EAGAIN` instead of waiting for the disk; only then does a read go to the blocking pool;
//! - allocates each chunk on the worker that sends it and frees it as soon as actix has copied it
//!   into the connection's write buffer, so chunks never pile up per stream;
//! - never sends a byte beyond what the file holds: a file that shrinks mid-stream ends the response
//!   with an error (the connection closes) instead of padding or repeating data.

use std::collections::VecDeque;
use std::fs::File;
use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Bytes, BytesMut};
use rustix::io::{Errno, IoSliceMut, ReadWriteFlags};
use tokio::task::JoinHandle;

use super::socket::ConnSocket;
use super::watchdog::Watch;
use crate::stats::{ActiveGuard, Counters};

/// A chunk that fits actix's initial 8 KiB connection write buffer beside a response head, so it
/// never makes that buffer grow: what a stalled listener can leave behind.
pub(crate) const SMALL_CHUNK: usize = 3 * 1024;
/// The smallest large chunk: above actix's 128 KiB write-buffer retention limit, so the buffer that
/// held it is released as soon as the socket has taken it all, instead of staying with the
/// connection.
pub(crate) const LARGE_CHUNK_MIN: usize = 136 * 1024;
/// The largest chunk read at once.
pub(crate) const LARGE_CHUNK_MAX: usize = 512 * 1024;
/// The chunk size when the socket cannot be asked (in-process tests, other platforms).
pub(crate) const FALLBACK_CHUNK: usize = 64 * 1024;

/// How many bytes to read next, given what is left to send and the room in the socket.
///
/// Chunk sizes between [`SMALL_CHUNK`] and [`LARGE_CHUNK_MIN`] would grow actix's write buffer and
/// keep it grown for the life of the connection, so they are used only when a whole short response
/// fits the socket at once. A large chunk is used only when the socket will take it whole.
pub(crate) fn chunk_len(remaining: u64, room: Option<usize>) -> usize {
    let remaining = usize::try_from(remaining).unwrap_or(usize::MAX);
    let Some(room) = room else {
        return remaining.min(FALLBACK_CHUNK);
    };
    if remaining <= SMALL_CHUNK || (remaining < LARGE_CHUNK_MIN && remaining <= room) {
        remaining
    } else if room >= LARGE_CHUNK_MIN && remaining >= LARGE_CHUNK_MIN {
        remaining.min(room).min(LARGE_CHUNK_MAX)
    } else {
        SMALL_CHUNK
    }
}

/// One piece of a response body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Bytes made by the server (a multipart part's header).
    Text(Bytes),
    /// `len` bytes of the file from `offset`.
    File {
        /// Where in the file.
        offset: u64,
        /// How many bytes.
        len: u64,
    },
}

impl Segment {
    /// Bytes this segment adds to the body.
    pub(crate) fn len(&self) -> u64 {
        match self {
            Self::Text(text) => text.len() as u64,
            Self::File { len, .. } => *len,
        }
    }
}

/// Sends a list of segments of one file, counted as one active stream until it is dropped.
pub(crate) struct Pump {
    file: Arc<File>,
    segments: VecDeque<Segment>,
    len: u64,
    socket: Option<ConnSocket>,
    counters: Arc<Counters>,
    _active: ActiveGuard,
    watch: Option<Watch>,
    /// A read that found the pages uncached, running on the blocking pool.
    pending: Option<JoinHandle<io::Result<Bytes>>>,
}

impl Pump {
    /// A pump for `segments` of `file`, written to `socket` (when known) and reported to `watch`.
    pub(crate) fn new(
        file: File,
        segments: Vec<Segment>,
        socket: Option<ConnSocket>,
        counters: Arc<Counters>,
        watch: Option<Watch>,
    ) -> Self {
        let active = counters.stream_started();
        Self {
            file: Arc::new(file),
            len: segments.iter().map(Segment::len).sum(),
            segments: segments.into(),
            socket,
            counters,
            _active: active,
            watch,
            pending: None,
        }
    }

    /// The body's length in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The next chunk of the body; `None` once it is all sent. A file that shrank mid-stream ends
    /// it with an error, so the connection closes instead of sending a byte the file does not hold.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Bytes>>> {
        // Being asked for more means the socket took what came before.
        if let Some(watch) = &self.watch {
            watch.progressed();
        }
        if let Some(pending) = &mut self.pending {
            let read = ready!(Pin::new(pending).poll(cx));
            self.pending = None;
            let read = read.unwrap_or_else(|join| Err(io::Error::other(join)));
            return Poll::Ready(Some(self.deliver(read)));
        }
        let (offset, remaining) = match self.segments.front_mut() {
            None => return Poll::Ready(None),
            Some(Segment::Text(text)) => {
                let text = std::mem::take(text);
                self.segments.pop_front();
                return Poll::Ready(Some(Ok(text)));
            }
            Some(Segment::File { len: 0, .. }) => {
                self.segments.pop_front();
                return self.poll_next(cx);
            }
            Some(Segment::File { offset, len }) => (*offset, *len),
        };
        let len = chunk_len(remaining, self.socket.and_then(ConnSocket::room));
        match read_cached(&self.file, offset, len) {
            Ok(Some(bytes)) => Poll::Ready(Some(self.deliver(Ok(bytes)))),
            Ok(None) => {
                let file = Arc::clone(&self.file);
                self.pending = Some(tokio::task::spawn_blocking(move || {
                    read_blocking(&file, offset, len)
                }));
                self.poll_next(cx)
            }
            Err(err) => Poll::Ready(Some(Err(err))),
        }
    }

    /// Takes a read of the front file segment into account.
    fn deliver(&mut self, read: io::Result<Bytes>) -> io::Result<Bytes> {
        let bytes = read?;
        let Some(Segment::File { offset, len }) = self.segments.front_mut() else {
            unreachable!("reads are only made for a file segment");
        };
        if bytes.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file shrank while it was being streamed",
            ));
        }
        *offset += bytes.len() as u64;
        *len -= bytes.len() as u64;
        self.counters.add_bytes_served(bytes.len() as u64);
        Ok(bytes)
    }
}

/// Reads up to `len` bytes at `offset` if they are in the page cache; `Ok(None)` if that would block.
fn read_cached(file: &File, offset: u64, len: usize) -> io::Result<Option<Bytes>> {
    let mut buf = BytesMut::zeroed(len);
    match rustix::io::preadv2(
        file,
        &mut [IoSliceMut::new(&mut buf)],
        offset,
        ReadWriteFlags::NOWAIT,
    ) {
        Ok(n) => {
            buf.truncate(n);
            Ok(Some(buf.freeze()))
        }
        // Not cached, or a filesystem without RWF_NOWAIT: take the blocking path.
        Err(Errno::AGAIN | Errno::OPNOTSUPP | Errno::NOSYS | Errno::INVAL) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// Reads up to `len` bytes at `offset`, waiting for the disk if need be.
fn read_blocking(file: &File, offset: u64, len: usize) -> io::Result<Bytes> {
    let mut buf = BytesMut::zeroed(len);
    let n = rustix::io::pread(file, &mut buf[..], offset)?;
    buf.truncate(n);
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: usize = 1024;

    #[test]
    fn chunks_are_small_or_large_never_in_between_unless_a_short_response_fits_whole() {
        let table: &[(u64, Option<usize>, usize)] = &[
            // (remaining, room, chunk)
            (100, Some(0), 100),
            (3 * K as u64, Some(0), 3 * K),
            (64 * K as u64, Some(1024 * K), 64 * K), // a 64 KiB range into an empty socket: one write
            (64 * K as u64, Some(32 * K), SMALL_CHUNK), // would not fit: stay small
            (50_000_000, Some(4096 * K), LARGE_CHUNK_MAX),
            (50_000_000, Some(200 * K), 200 * K),
            (50_000_000, Some(135 * K), SMALL_CHUNK), // mid-size room: small, not mid-size
            (50_000_000, Some(0), SMALL_CHUNK),       // full socket: a small probe
            (150 * K as u64, Some(4096 * K), 150 * K),
            (50_000_000, None, FALLBACK_CHUNK),
            (10, None, 10),
        ];
        for &(remaining, room, want) in table {
            assert_eq!(
                chunk_len(remaining, room),
                want,
                "remaining {remaining}, room {room:?}"
            );
        }
    }

    proptest::proptest! {
        /// A chunk is never empty, never beyond what is left, and never in the band that makes
        /// actix keep a grown write buffer unless it is the whole rest of a response that fits.
        #[test]
        fn chunk_sizes_stay_in_their_bands(remaining in 1u64..100_000_000, room in proptest::option::of(0usize..8_000_000)) {
            let n = chunk_len(remaining, room);
            proptest::prop_assert!(n >= 1 && n as u64 <= remaining);
            if let Some(room) = room {
                let whole_fit = n as u64 == remaining && n <= room;
                proptest::prop_assert!(n <= SMALL_CHUNK || n >= LARGE_CHUNK_MIN || whole_fit);
                proptest::prop_assert!(n <= SMALL_CHUNK || n <= room);
                proptest::prop_assert!(n <= LARGE_CHUNK_MAX.max(SMALL_CHUNK));
            }
        }
    }
}
