//! The only `unsafe` in the crate: eight calls with no safe wrapper in a maintained crate, each
//! a measured win (see docs/benchmarks.md):
//! - [`send_queue`]: `getsockopt(SO_SNDBUF)` and `ioctl(TIOCOUTQ)`, so the byte pump can size chunks
//!   by the room in a connection's socket;
//! - [`socket_memory`]: `getsockopt(SO_MEMINFO)`, so the metrics can say what the kernel holds for
//!   the connections of listeners;
//! - [`trim_heap`]: `malloc_trim(0)`, so memory freed after a burst of listeners, or by a password
//!   check (argon2id's 19 MiB), goes back to the OS;
//! - [`dup_socket`]: borrows a connection's descriptor to duplicate it, so the send-timeout watchdog
//!   holds its own handle to the socket it may have to shut down;
//! - [`sendfile`]: borrows a connection's descriptor for `sendfile(2)`, so file bytes go from the
//!   page cache to the socket without a copy through user space;
//! - [`writable`]: registers a descriptor with tokio's reactor, so a pump whose socket is full
//!   sleeps until it drains;
//! - [`cached_pages`]: `cachestat(2)`, so the pump checks that a whole sendfile window is in the page
//!   cache with one call (two one-byte probe reads cost twice as much and see only its ends);
//! - [`lame_without_reservoir`]: `lame_set_disable_reservoir`, which `mp3lame-encoder` does not
//!   wrap, so that every MP3 frame of a transcode stands alone (see `transcode::encode`).
#![allow(unsafe_code)]

use std::os::fd::{BorrowedFd, OwnedFd, RawFd};

/// Turns LAME's bit reservoir off for the encoder `builder` will build.
pub(crate) fn lame_without_reservoir(builder: &mut mp3lame_encoder::Builder) {
    // SAFETY: the pointer is the builder's own, valid until it is built or dropped, neither of
    // which can happen during the call; the call only sets a field that `build` then reads.
    unsafe {
        mp3lame_encoder::ffi::lame_set_disable_reservoir(builder.as_ptr(), 1);
    }
}

/// A new descriptor for the socket `fd`, which must be open for the duration of the call.
pub(crate) fn dup_socket(fd: RawFd) -> std::io::Result<OwnedFd> {
    // SAFETY: callers pass the descriptor of the connection whose request they are handling; actix
    // keeps it open at least until that request's response is dropped, which outlives this call.
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    borrowed.try_clone_to_owned()
}

/// Sends up to `count` bytes of `file` from `offset` into the socket `socket` (non-blocking: a full
/// socket is `WouldBlock`); returns how many it took, 0 when `offset` is at or past the file's end.
pub(crate) fn sendfile(
    socket: RawFd,
    file: &std::fs::File,
    offset: u64,
    count: u64,
) -> std::io::Result<usize> {
    // SAFETY: callers pass the descriptor of a connection that stays open for the call: the
    // connection whose response body is being polled (actix closes a socket only after dropping
    // the body that writes to it), or a duplicate the caller owns.
    let socket = unsafe { BorrowedFd::borrow_raw(socket) };
    let mut offset = offset;
    // Linux moves at most 0x7ffff000 bytes per call.
    let count = usize::try_from(count)
        .unwrap_or(usize::MAX)
        .min(0x7fff_f000);
    Ok(rustix::fs::sendfile(
        socket,
        file,
        Some(&mut offset),
        count,
    )?)
}

/// `socket` registered with the current tokio reactor for write readiness.
pub(crate) fn writable(socket: OwnedFd) -> std::io::Result<tokio::io::unix::AsyncFd<OwnedFd>> {
    // SAFETY: an `OwnedFd` keeps its descriptor open, and `as_raw_fd` returns the same number, for
    // as long as it lives; the `AsyncFd` owns it until it is dropped.
    unsafe {
        tokio::io::unix::AsyncFd::register_with_interest(socket, tokio::io::Interest::WRITABLE)
    }
    .map_err(|err| err.into_parts().1)
}

/// How many of the pages holding `len` bytes of `file` from `offset` are in the page cache
/// (`cachestat(2)`, Linux 6.5+); `None` where the kernel will not say (older kernels, a filesystem
/// without a page cache, a sandbox that filters the call).
#[cfg(target_os = "linux")]
pub(crate) fn cached_pages(file: &std::fs::File, offset: u64, len: u64) -> Option<u64> {
    use linux_raw_sys::general::{__NR_cachestat, cachestat, cachestat_range};
    use std::os::fd::AsRawFd as _;
    let range = cachestat_range { off: offset, len };
    let mut stat = cachestat {
        nr_cache: 0,
        nr_dirty: 0,
        nr_writeback: 0,
        nr_evicted: 0,
        nr_recently_evicted: 0,
    };
    // SAFETY: the kernel reads one `cachestat_range` and writes one `cachestat`, both locals that
    // outlive the call, laid out as the kernel's headers declare them (linux-raw-sys is generated
    // from those headers); `file` keeps its descriptor open for the call; flags must be 0.
    let done = unsafe {
        libc::syscall(
            __NR_cachestat as libc::c_long,
            file.as_raw_fd(),
            &raw const range,
            &raw mut stat,
            0,
        )
    };
    (done == 0).then_some(stat.nr_cache)
}

/// Not available off Linux: the pump probes the ends of a window instead.
#[cfg(not(target_os = "linux"))]
pub fn cached_pages(_file: &std::fs::File, _offset: u64, _len: u64) -> Option<u64> {
    None
}

/// `(send buffer size, bytes queued in it)` for the socket `fd`, or `None` if the kernel will not say.
#[cfg(target_os = "linux")]
pub(crate) fn send_queue(fd: RawFd) -> Option<(usize, usize)> {
    let mut sndbuf: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    let mut queued: libc::c_int = 0;
    // SAFETY: both calls only write one `c_int` (and its length) through pointers to locals that
    // outlive the call. `fd` is a socket owned by a live connection (see `socket::ConnSocket`);
    // were it stale, the calls would fail or describe another descriptor, never touch memory.
    let ok = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_SNDBUF,
            (&raw mut sndbuf).cast(),
            &raw mut len,
        ) == 0
            && libc::ioctl(fd, libc::TIOCOUTQ, &raw mut queued) == 0
    };
    ok.then(|| (sndbuf.max(0) as usize, queued.max(0) as usize))
}

/// Kernel memory charged to the socket `fd` (receive and send queues with their overhead, and
/// memory reserved ahead), bytes; `None` if the kernel will not say.
#[cfg(target_os = "linux")]
pub(crate) fn socket_memory(fd: RawFd) -> Option<u64> {
    let mut info = [0u32; libc::SK_MEMINFO_DROPS as usize + 1];
    let mut len = std::mem::size_of_val(&info) as libc::socklen_t;
    // SAFETY: the kernel writes at most `len` bytes into `info`, a local that outlives the call;
    // `fd` is a socket the caller owns (see `send_queue`).
    let ok = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_MEMINFO,
            info.as_mut_ptr().cast(),
            &raw mut len,
        ) == 0
    };
    let field = |i: libc::c_int| u64::from(info[i as usize]);
    ok.then(|| {
        field(libc::SK_MEMINFO_RMEM_ALLOC)
            + field(libc::SK_MEMINFO_WMEM_QUEUED)
            + field(libc::SK_MEMINFO_FWD_ALLOC)
            + field(libc::SK_MEMINFO_OPTMEM)
    })
}

/// Not available off Linux.
#[cfg(not(target_os = "linux"))]
pub fn socket_memory(_fd: RawFd) -> Option<u64> {
    None
}

/// Not available off Linux: the pump then uses a fixed chunk size.
#[cfg(not(target_os = "linux"))]
pub fn send_queue(_fd: RawFd) -> Option<(usize, usize)> {
    None
}

/// Returns the allocator's free memory to the OS (glibc keeps freed pages of its per-thread arenas
/// resident otherwise, so RSS would stay at the high-water mark of the last burst of listeners).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn trim_heap() {
    // SAFETY: `malloc_trim` takes no pointers and is thread-safe; it only releases free pages.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Other allocators return memory on their own.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn trim_heap() {}
