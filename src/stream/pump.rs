//! The byte pump: what every audio response body sends, as a list of [`Segment`]s (one file range,
//! or the parts and headers of a multipart body). `NamedFile` decides *which* bytes; the pump sends
//! them one of two ways ([`Delivery`]):
//!
//! - **sendfile** (plain-TCP HTTP/1.x): file bytes go from the page cache straight into the
//!   connection's socket with `sendfile(2)`, never through user space. This relies on actix-http
//!   polling a stream body (as this one reports) only once its write buffer is empty
//!   (`h1_write_buffer_size(1)`): every byte written before (the head, a multipart header) is then
//!   already in the socket, so the file's bytes land after it. When the socket is full, the pump
//!   registers a descriptor of its own with the reactor and sleeps until the socket drains, as
//!   nginx does; actix, seeing the body pending, writes nothing meanwhile. Pages that are not
//!   cached are read in on the blocking pool first, so a worker never waits for the disk.
//! - **chunks** (anything else, such as in-process tests): positioned reads from the page cache on
//!   the worker, sized by the socket's room (see `chunks`), copied by actix into its write buffer.
//!
//! Either way, a file that shrinks mid-stream ends the response with an error (the connection
//! closes) instead of padding or repeating data, and a stream that fills its socket is watched by
//! the send timeout.

use std::collections::VecDeque;
use std::fs::File;
use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use tokio::io::unix::AsyncFd;
use tokio::task::JoinHandle;

use std::os::fd::OwnedFd;

use super::chunks::{chunk_len, range_cached, read_blocking, read_cached, warm};
use super::socket::ConnSocket;
use super::watchdog::{Watch, Watchdog};
use crate::stats::{ActiveGuard, Counters};

/// Most bytes one `sendfile` call is given: the default socket buffer's worth, checked to be in the
/// page cache first.
const SENDFILE_WINDOW: u64 = 512 * 1024;

/// Bytes one poll may send with sendfile before it yields to the worker's other connections.
const YIELD_AFTER: u64 = 4 * 1024 * 1024;

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

/// How the file's bytes reach the client.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Delivery {
    /// `sendfile(2)` into this socket: only for a plain-TCP HTTP/1.x connection whose server polls
    /// bodies only with an empty write buffer.
    Sendfile(ConnSocket),
    /// Chunks handed to the HTTP layer, sized by the socket's room when it is known.
    Chunks(Option<ConnSocket>),
}

/// A blocking-pool task the pump waits for.
enum Pending {
    /// A read of uncached pages (the chunk path).
    Read(JoinHandle<io::Result<Bytes>>),
    /// Uncached pages being brought into the page cache before a sendfile.
    Warm(JoinHandle<io::Result<()>>),
}

/// Sends a list of segments of one file, counted as one active stream until it is dropped.
pub(crate) struct Pump {
    file: Arc<File>,
    segments: VecDeque<Segment>,
    len: u64,
    delivery: Delivery,
    counters: Arc<Counters>,
    _active: ActiveGuard,
    watchdog: Arc<Watchdog>,
    /// Set once the stream fills its socket (or from the start on the chunk path).
    watch: Option<Watch>,
    /// Set once the socket fills (sendfile path): its readiness, through a descriptor of our own.
    writable: Option<AsyncFd<OwnedFd>>,
    pending: Option<Pending>,
    /// The window at the front was just read in by the blocking pool.
    warmed: bool,
}

impl Pump {
    /// A pump for `segments` of `file`, delivered as `delivery` says.
    pub(crate) fn new(
        file: File,
        segments: Vec<Segment>,
        delivery: Delivery,
        counters: Arc<Counters>,
        watchdog: Arc<Watchdog>,
    ) -> Self {
        let active = counters.stream_started();
        let mut pump = Self {
            file: Arc::new(file),
            len: segments.iter().map(Segment::len).sum(),
            segments: segments.into(),
            delivery,
            counters,
            _active: active,
            watchdog,
            watch: None,
            writable: None,
            pending: None,
            warmed: false,
        };
        if let Delivery::Chunks(Some(socket)) = delivery {
            // Chunks cannot tell when the socket is full: watch from the start.
            pump.start_watching(socket);
        }
        pump
    }

    /// The body's length in bytes.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// Whether the bytes go out with sendfile, around the HTTP layer's own accounting.
    pub(crate) fn sends_directly(&self) -> bool {
        matches!(self.delivery, Delivery::Sendfile(_))
    }

    /// The next chunk for the HTTP layer to write; `None` once the body is complete.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<io::Result<Bytes>>> {
        // Being asked for more means the socket took what came before.
        if let Some(watch) = &self.watch {
            watch.progressed();
        }
        match self.pending.take() {
            Some(Pending::Read(mut read)) => match Pin::new(&mut read).poll(cx) {
                Poll::Ready(done) => return Poll::Ready(Some(self.deliver(joined(done)))),
                Poll::Pending => {
                    self.pending = Some(Pending::Read(read));
                    return Poll::Pending;
                }
            },
            Some(Pending::Warm(mut warm)) => match Pin::new(&mut warm).poll(cx) {
                Poll::Ready(done) => {
                    joined(done)?;
                    self.warmed = true;
                }
                Poll::Pending => {
                    self.pending = Some(Pending::Warm(warm));
                    return Poll::Pending;
                }
            },
            None => {}
        }
        let mut sent = 0;
        loop {
            let (offset, remaining) = match self.segments.front_mut() {
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
            let socket = match self.delivery {
                Delivery::Chunks(socket) => return self.read_chunk(cx, socket, offset, remaining),
                Delivery::Sendfile(socket) => socket,
            };
            if sent >= YIELD_AFTER {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            // A window in the page cache is sent here. Otherwise the disk, not the socket, would
            // make sendfile wait: the blocking pool reads the window in first. (Just after that,
            // it is sent without asking again, so that a filesystem that cannot say what is
            // cached still makes progress.)
            let window = remaining.min(SENDFILE_WINDOW);
            let cached =
                std::mem::take(&mut self.warmed) || range_cached(&self.file, offset, window)?;
            if !cached {
                let file = Arc::clone(&self.file);
                self.pending = Some(Pending::Warm(tokio::task::spawn_blocking(move || {
                    warm(&file, offset, window)
                })));
                return self.poll_next(cx);
            }
            match self.send(cx, socket, offset, window) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(n)) => {
                    self.advance(n, true)?;
                    sent += n as u64;
                }
                // Only before the reactor watches the socket: `send` waits through it after.
                Poll::Ready(Err(err)) if err.kind() == io::ErrorKind::WouldBlock => {
                    self.socket_filled(socket)?;
                }
                Poll::Ready(Err(err)) => return client_gone_or(err),
            }
        }
    }

    /// One `sendfile` of up to `len` bytes of the front segment. Once the socket has filled, only
    /// when the reactor says it has room again: `Pending` (woken by the reactor) until then.
    fn send(
        &self,
        cx: &mut Context<'_>,
        socket: ConnSocket,
        offset: u64,
        len: u64,
    ) -> Poll<io::Result<usize>> {
        let send = || crate::sys::sendfile(socket.fd(), &self.file, offset, len);
        let Some(writable) = &self.writable else {
            return Poll::Ready(send());
        };
        loop {
            let mut ready = ready!(writable.poll_write_ready(cx))?;
            // A `WouldBlock` inside `try_io` clears the readiness it was given, and only that, so
            // a drain that happens meanwhile is never missed.
            if let Ok(sent) = ready.try_io(|_| send()) {
                return Poll::Ready(sent);
            }
        }
    }

    /// The socket filled for the first time: from now on the stream is watched by the send timeout
    /// and waits for room through the reactor, with a descriptor of the pump's own.
    fn socket_filled(&mut self, socket: ConnSocket) -> io::Result<()> {
        self.start_watching(socket);
        self.writable = Some(crate::sys::writable(socket.duplicate()?)?);
        Ok(())
    }

    /// The chunk path: the next chunk of the front file segment, read from the page cache here or
    /// from the disk on the blocking pool.
    fn read_chunk(
        &mut self,
        cx: &mut Context<'_>,
        socket: Option<ConnSocket>,
        offset: u64,
        remaining: u64,
    ) -> Poll<Option<io::Result<Bytes>>> {
        let len = chunk_len(remaining, socket.and_then(ConnSocket::room));
        self.read(cx, offset, len)
    }

    fn read(
        &mut self,
        cx: &mut Context<'_>,
        offset: u64,
        len: usize,
    ) -> Poll<Option<io::Result<Bytes>>> {
        match read_cached(&self.file, offset, len) {
            Ok(Some(bytes)) => Poll::Ready(Some(self.deliver(Ok(bytes)))),
            Ok(None) => {
                let file = Arc::clone(&self.file);
                self.pending = Some(Pending::Read(tokio::task::spawn_blocking(move || {
                    read_blocking(&file, offset, len)
                })));
                self.poll_next(cx)
            }
            Err(err) => Poll::Ready(Some(Err(err))),
        }
    }

    /// Takes a read of the front file segment into account and hands its bytes on.
    fn deliver(&mut self, read: io::Result<Bytes>) -> io::Result<Bytes> {
        let bytes = read?;
        self.advance(bytes.len(), false)?;
        Ok(bytes)
    }

    /// Moves the front file segment on by `n` bytes sent (with sendfile if `zero_copy`); none at
    /// all means the file shrank.
    fn advance(&mut self, n: usize, zero_copy: bool) -> io::Result<()> {
        let Some(Segment::File { offset, len }) = self.segments.front_mut() else {
            unreachable!("bytes are only sent from a file segment");
        };
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file shrank while it was being streamed",
            ));
        }
        *offset += n as u64;
        *len -= n as u64;
        self.counters.add_bytes_served(n as u64, zero_copy);
        Ok(())
    }

    /// Registers the stream with the send timeout (once): it may now stall on its client.
    fn start_watching(&mut self, socket: ConnSocket) {
        if self.watch.is_none() {
            self.watch = socket.duplicate().ok().map(|fd| self.watchdog.watch(fd));
        }
    }
}

/// A sendfile error as the body's answer. A client that has gone (or a connection the send timeout
/// shut down) just ends the body: actix finds the connection closed on its next read or write,
/// as it would have on its own write, and nothing is logged as a server error.
fn client_gone_or(err: io::Error) -> Poll<Option<io::Result<Bytes>>> {
    match err.kind() {
        io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset => Poll::Ready(None),
        _ => Poll::Ready(Some(Err(err))),
    }
}

/// A blocking task's result, its panic or cancellation as an I/O error.
fn joined<T>(done: Result<io::Result<T>, tokio::task::JoinError>) -> io::Result<T> {
    done.unwrap_or_else(|join| Err(io::Error::other(join)))
}
