//! How much the kernel will take right now on a connection's socket: the fact the byte pump sizes
//! its chunks by, so that a chunk is either accepted whole or small enough to leave no large residue
//! in actix's per-connection write buffer when a listener stops reading.
//!
//! The kernel queries themselves live in `crate::sys`.

use std::os::fd::RawFd;

use socket2::{Domain, Protocol, Socket, Type};

/// Binds a listening socket whose accepted connections have a send buffer of `send_buffer` bytes
/// (the kernel doubles it for bookkeeping), or the kernel's autotuned default with `None`.
///
/// Without a cap, loopback and fast links autotune each connection's send buffer up to
/// `net.ipv4.tcp_wmem`'s maximum (4 MiB by default): a thousand paused listeners then hold gigabytes
/// of kernel memory and push TCP into memory pressure, where writes are cut short unpredictably.
pub(crate) fn listen(
    addr: std::net::SocketAddr,
    send_buffer: Option<usize>,
) -> std::io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if let Some(bytes) = send_buffer {
        socket.set_send_buffer_size(bytes)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(2048)?;
    Ok(socket.into())
}

/// The TCP socket of a connection, recorded when it is accepted, and whether TLS runs over it.
///
/// Valid for as long as the connection's dispatcher lives: actix drops a response body before the
/// socket it writes to, and only polls the body while the socket is open.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnSocket {
    fd: RawFd,
    encrypted: bool,
}

impl ConnSocket {
    /// The socket of a plain-TCP connection actix has just accepted (valid while it lives).
    pub(crate) fn plain(fd: RawFd) -> Self {
        Self {
            fd,
            encrypted: false,
        }
    }

    /// The TCP socket under a TLS connection actix has just accepted (valid while it lives).
    pub(crate) fn encrypted(fd: RawFd) -> Self {
        Self {
            fd,
            encrypted: true,
        }
    }

    /// Whether bytes written to the socket reach the client as they are (no TLS in between).
    pub(crate) fn is_plain(self) -> bool {
        !self.encrypted
    }

    /// The descriptor, for calls made while the connection is known to be open.
    pub(crate) fn fd(self) -> RawFd {
        self.fd
    }

    /// Bytes a write would be accepted right now without blocking, estimated from the send buffer's
    /// size and what is still queued in it; `None` when the kernel will not say.
    pub(crate) fn room(self) -> Option<usize> {
        let (sndbuf, queued) = self.send_queue()?;
        // The kernel charges each queued byte with its buffer overhead against `sndbuf`; halving
        // the remainder keeps the estimate on the safe side of what a write will accept.
        Some(sndbuf.saturating_sub(queued.saturating_mul(2)) / 2)
    }

    fn send_queue(self) -> Option<(usize, usize)> {
        crate::sys::send_queue(self.fd)
    }

    /// An owned handle to the same socket (a duplicate descriptor).
    pub(crate) fn duplicate(self) -> std::io::Result<std::os::fd::OwnedFd> {
        crate::sys::dup_socket(self.fd)
    }
}
