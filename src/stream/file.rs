//! The bytes of a local file, made one of two ways ([`Delivery`]):
//!
//! - **sendfile** (plain-TCP HTTP/1.x): file bytes go from the page cache straight into the
//!   connection's socket with `sendfile(2)`, never through user space. This relies on actix-http
//!   polling a stream body (as this one reports) only once its write buffer is empty
//!   (`h1_write_buffer_size(1)`): every byte written before (the head, a multipart header) is then
//!   already in the socket, so the file's bytes land after it. When the socket is full, the
//!   producer registers a descriptor of its own with the reactor and sleeps until the socket
//!   drains, as nginx does; actix, seeing the body pending, writes nothing meanwhile. Pages that
//!   are not cached are read in on the blocking pool first, so a worker never waits for the disk.
//! - **chunks** (anything else, such as TLS, HTTP/2 and in-process tests): positioned reads from
//!   the page cache on the worker, sized by the socket's room (see `chunks`), copied by actix into
//!   its write buffer; reads that would wait for the disk go to the blocking pool.
//!
//! Either way, a file that shrinks mid-stream yields no bytes, and the pump ends the response with
//! an error (the connection closes) instead of padding or repeating data.

use std::future::Future as _;
use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use tokio::io::unix::AsyncFd;
use tokio::task::JoinHandle;

use super::chunks::{chunk_len, range_cached, read_blocking, warm};
use super::pump::{Piece, Producer};
use super::socket::ConnSocket;
use crate::library::LocalFile;

/// Most bytes one `sendfile` call is given: the default socket buffer's worth, checked to be in the
/// page cache first.
const SENDFILE_WINDOW: u64 = 512 * 1024;

/// How the file's bytes reach the client.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Delivery {
    /// `sendfile(2)` into this socket: only for a plain-TCP HTTP/1.x connection whose server polls
    /// bodies only with an empty write buffer.
    Sendfile(ConnSocket),
    /// Chunks handed to the HTTP layer, sized by the socket's room when it is known.
    Chunks(Option<ConnSocket>),
}

impl Delivery {
    /// The way for a connection's `socket` (when the request has it to itself): sendfile where
    /// actix speaks HTTP/1 on that very socket and no TLS stands between, chunks otherwise.
    pub(crate) fn for_socket(socket: Option<ConnSocket>) -> Self {
        match socket {
            Some(socket) if socket.is_plain() => Self::Sendfile(socket),
            socket => Self::Chunks(socket),
        }
    }
}

/// A blocking-pool task the producer waits for.
enum Pending {
    /// A read of uncached pages (the chunk path).
    Read(JoinHandle<io::Result<Bytes>>),
    /// Uncached pages being brought into the page cache before a sendfile.
    Warm(JoinHandle<io::Result<()>>),
}

/// Makes a local file's bytes.
pub(crate) struct FileProducer {
    /// Shared with the blocking pool's reads.
    file: Arc<LocalFile>,
    delivery: Delivery,
    /// Set once the socket fills (sendfile path): its readiness, through a descriptor of our own.
    writable: Option<AsyncFd<OwnedFd>>,
    pending: Option<Pending>,
    /// The window at the front was just read in by the blocking pool.
    warmed: bool,
}

impl FileProducer {
    /// The bytes of `file`, delivered as `delivery` says.
    pub(crate) fn new(file: LocalFile, delivery: Delivery) -> Self {
        Self {
            file: Arc::new(file),
            delivery,
            writable: None,
            pending: None,
            warmed: false,
        }
    }

    /// One `sendfile` of up to `len` bytes at `offset`. Once the socket has filled, only when the
    /// reactor says it has room again: `Pending` (woken by the reactor) until then.
    fn send(
        &self,
        cx: &mut Context<'_>,
        socket: ConnSocket,
        offset: u64,
        len: u64,
    ) -> Poll<io::Result<usize>> {
        let send = || crate::sys::sendfile(socket.fd(), self.file.file(), offset, len);
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

    /// The sendfile path: a window in the page cache is sent here. Otherwise the disk, not the
    /// socket, would make sendfile wait: the blocking pool reads the window in first. (Just after
    /// that, it is sent without asking again, so that a filesystem that cannot say what is
    /// cached still makes progress.)
    fn poll_send(
        &mut self,
        cx: &mut Context<'_>,
        socket: ConnSocket,
        offset: u64,
        len: u64,
    ) -> Poll<io::Result<Piece>> {
        let window = len.min(SENDFILE_WINDOW);
        let cached =
            std::mem::take(&mut self.warmed) || range_cached(self.file.file(), offset, window)?;
        if !cached {
            let file = Arc::clone(&self.file);
            self.pending = Some(Pending::Warm(tokio::task::spawn_blocking(move || {
                warm(file.file(), offset, window)
            })));
            return self.poll_range(cx, offset, len);
        }
        match ready!(self.send(cx, socket, offset, window)) {
            Ok(n) => Poll::Ready(Ok(Piece::Sent(n))),
            // Only before the reactor watches the socket: `send` waits through it after.
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => {
                self.writable = Some(crate::sys::writable(socket.duplicate()?)?);
                self.poll_range(cx, offset, len)
            }
            // A client that has gone (or a connection the send timeout shut down) just ends the
            // body: actix finds the connection closed on its next read or write, as it would
            // have on its own write.
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::BrokenPipe | io::ErrorKind::ConnectionReset
                ) =>
            {
                Poll::Ready(Ok(Piece::ClientGone))
            }
            Err(err) => Poll::Ready(Err(err)),
        }
    }

    /// The chunk path: the next chunk, read from the page cache here or from the disk on the
    /// blocking pool.
    fn poll_read(
        &mut self,
        cx: &mut Context<'_>,
        socket: Option<ConnSocket>,
        offset: u64,
        len: u64,
    ) -> Poll<io::Result<Piece>> {
        let len_now = chunk_len(len, socket.and_then(ConnSocket::room));
        match self.file.read_cached(offset, len_now)? {
            Some(bytes) => Poll::Ready(Ok(Piece::Data(bytes))),
            None => {
                let file = Arc::clone(&self.file);
                self.pending = Some(Pending::Read(tokio::task::spawn_blocking(move || {
                    read_blocking(file.file(), offset, len_now)
                })));
                self.poll_range(cx, offset, len)
            }
        }
    }
}

impl Producer for FileProducer {
    fn sends_directly(&self) -> bool {
        matches!(self.delivery, Delivery::Sendfile(_))
    }

    /// Chunks cannot tell when the socket is full: watched from the start. Sendfile is watched
    /// once the socket fills.
    fn watched_from_start(&self) -> bool {
        !self.sends_directly()
    }

    fn poll_range(
        &mut self,
        cx: &mut Context<'_>,
        offset: u64,
        len: u64,
    ) -> Poll<io::Result<Piece>> {
        match self.pending.take() {
            Some(Pending::Read(mut read)) => match Pin::new(&mut read).poll(cx) {
                Poll::Ready(done) => return Poll::Ready(joined(done).map(Piece::Data)),
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
        match self.delivery {
            Delivery::Chunks(socket) => self.poll_read(cx, socket, offset, len),
            Delivery::Sendfile(socket) => self.poll_send(cx, socket, offset, len),
        }
    }
}

/// A blocking task's result, its panic or cancellation as an I/O error.
fn joined<T>(done: Result<io::Result<T>, tokio::task::JoinError>) -> io::Result<T> {
    done.unwrap_or_else(|join| Err(io::Error::other(join)))
}
