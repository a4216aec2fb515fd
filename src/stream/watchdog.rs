//! The send timeout: a connection whose response has made no progress (the client took no bytes)
//! for `--send-timeout-secs` is shut down, releasing its buffers, descriptors and stream slot, as
//! nginx's `send_timeout` does. actix has no such timeout while a response is being written.
//!
//! Bodies report progress each time they are asked for more data (which actix does only once the
//! socket has taken what it had); one task checks every second and shuts down the stalled sockets.
//! The body that is then dropped removes its own entry.
//!
//! The same check adds up what the watched sockets still hold for their clients: the "bytes in
//! flight" of the stats, and the kernel memory their sockets hold.

use std::collections::HashMap;
use std::os::fd::{AsRawFd as _, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::stats::Counters;

/// The registry of streams being watched.
#[derive(Debug)]
pub(crate) struct Watchdog {
    timeout: Duration,
    counters: Arc<Counters>,
    started: Instant,
    next_id: AtomicU64,
    entries: Mutex<HashMap<u64, Entry>>,
}

#[derive(Debug)]
struct Entry {
    socket: OwnedFd,
    progress: Arc<AtomicU64>,
    /// Bytes queued in the socket at the last check.
    queued: usize,
}

/// One watched stream; unregisters itself when dropped.
#[derive(Debug)]
pub(crate) struct Watch {
    id: u64,
    progress: Arc<AtomicU64>,
    dog: Arc<Watchdog>,
}

impl Watchdog {
    /// A watchdog that shuts down streams idle for longer than `timeout` and reports the bytes
    /// queued in their sockets to `counters`.
    pub(crate) fn new(timeout: Duration, counters: Arc<Counters>) -> Arc<Self> {
        Arc::new(Self {
            timeout,
            counters,
            started: Instant::now(),
            next_id: AtomicU64::new(0),
            entries: Mutex::new(HashMap::new()),
        })
    }

    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }

    /// Starts watching the stream written to `socket` (an owned duplicate of the connection's).
    pub(crate) fn watch(self: &Arc<Self>, socket: OwnedFd) -> Watch {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let progress = Arc::new(AtomicU64::new(self.now_ms()));
        let entry = Entry {
            socket,
            progress: Arc::clone(&progress),
            queued: 0,
        };
        self.lock().insert(id, entry);
        Watch {
            id,
            progress,
            dog: Arc::clone(self),
        }
    }

    /// Streams being watched.
    pub(crate) fn len(&self) -> usize {
        self.lock().len()
    }

    /// Shuts down every stream idle for longer than the timeout; returns how many.
    ///
    /// A stream made progress if its body was asked for data since the last check, or if its
    /// socket's queue is empty or shorter than at the last check (the client is still draining
    /// what the kernel holds, as a listener reading at audio pace does for many seconds).
    pub(crate) fn reap(&self) -> usize {
        let now = self.now_ms();
        let limit = self.timeout.as_millis() as u64;
        let mut entries = self.lock();
        let mut reaped = 0;
        let mut in_flight = 0;
        let mut memory = 0;
        for entry in entries.values_mut() {
            memory += crate::sys::socket_memory(entry.socket.as_raw_fd()).unwrap_or(0);
            let queued = crate::sys::send_queue(entry.socket.as_raw_fd()).map(|(_, q)| q);
            if let Some(queued) = queued {
                in_flight += queued as u64;
                if queued == 0 || queued < entry.queued {
                    entry.progress.store(now, Ordering::Relaxed);
                }
                entry.queued = queued;
            }
            if now.saturating_sub(entry.progress.load(Ordering::Relaxed)) > limit {
                // The connection's next write fails and actix drops it; its body then unregisters.
                if rustix::net::shutdown(&entry.socket, rustix::net::Shutdown::Both).is_ok() {
                    reaped += 1;
                }
            }
        }
        self.counters.set_bytes_in_flight(in_flight);
        self.counters.set_socket_memory(memory);
        reaped
    }

    /// Checks once a second, for as long as the server runs.
    pub(crate) async fn run(self: Arc<Self>) {
        let mut ticks = tokio::time::interval(Duration::from_secs(1).min(self.timeout / 2));
        loop {
            ticks.tick().await;
            let reaped = self.reap();
            if reaped > 0 {
                log::info!(
                    "closed {reaped} connection(s) that took no data for {:?}",
                    self.timeout
                );
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Entry>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Watch {
    /// Records that the client took data just now.
    pub(crate) fn progressed(&self) {
        self.progress.store(self.dog.now_ms(), Ordering::Relaxed);
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.dog.lock().remove(&self.id);
    }
}
