//! Keeps the library in step with the audio folder while the server runs: inotify watches every
//! folder the last scan walked, and one task rescans (on the blocking pool) once changes have
//! settled; the library then bumps the version that `/events` pushes to open pages.
//!
//! The watches ask only for changes to what a folder holds (created, written, moved, deleted), not
//! for files being opened: serving a track opens it, and a watch that heard every open (as `notify`'s
//! does, unconditionally) woke a thread per request, which cost 18% of the range-request rate.
//!
//! "Settled" means no change for [`QUIET`]: a file being copied in produces a stream of events, so
//! it is listed once the copy has stopped growing, not half-written.

use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use inotify::{EventStream, Inotify, WatchMask, Watches};
use tokio::task::AbortHandle;

use super::SharedLibrary;

/// How long the folder must be quiet before it is rescanned.
pub(super) const QUIET: Duration = Duration::from_millis(500);

/// Changes to a folder's contents, and the folder itself going away.
const MASK: WatchMask = WatchMask::CREATE
    .union(WatchMask::DELETE)
    .union(WatchMask::MODIFY)
    .union(WatchMask::CLOSE_WRITE)
    .union(WatchMask::ATTRIB)
    .union(WatchMask::MOVED_FROM)
    .union(WatchMask::MOVED_TO)
    .union(WatchMask::DELETE_SELF)
    .union(WatchMask::MOVE_SELF)
    .union(WatchMask::ONLYDIR);

/// The running watch: stops when dropped.
#[derive(Debug)]
pub(crate) struct Watcher(AbortHandle);

impl Drop for Watcher {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Watches `root`, and every folder each scan of `library` walks, and rescans after each burst of
/// changes. Fails when `root` cannot be watched (then page loads trigger rescans instead).
pub(crate) fn watch_folder(root: &Path, library: Arc<SharedLibrary>) -> io::Result<Watcher> {
    let inotify = Inotify::init()?;
    let mut watches = inotify.watches();
    watches.add(root, MASK)?;
    let events = inotify.into_event_stream(vec![0u8; 4096])?;
    let task = tokio::spawn(rescan_when_quiet(events, watches, library));
    Ok(Watcher(task.abort_handle()))
}

/// Rescans `library` every `interval` (an object store, which tells of no changes).
pub(crate) fn list_every(interval: Duration, library: Arc<SharedLibrary>) -> Watcher {
    let task = tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticks.tick().await; // the first scan runs already
        loop {
            ticks.tick().await;
            let scanning = Arc::clone(&library);
            let _ = tokio::task::spawn_blocking(move || scanning.rescan()).await;
        }
    });
    Watcher(task.abort_handle())
}

async fn rescan_when_quiet(
    mut events: EventStream<Vec<u8>>,
    mut watches: Watches,
    library: Arc<SharedLibrary>,
) {
    // The first scan runs already: watch its folders as soon as they are walked (long before
    // every tag is read), and again when it ends.
    let mut status = library.subscribe();
    loop {
        watch_every_folder(&mut watches, &library);
        if library.status().scan.is_none() || status.changed().await.is_err() {
            break;
        }
    }
    while events.next().await.is_some() {
        // Wait for the burst to end: every further change restarts the quiet period.
        loop {
            match tokio::time::timeout(QUIET, events.next()).await {
                Ok(Some(_)) => continue,
                Ok(None) => return,
                Err(_) => break,
            }
        }
        let before = library.status().version;
        let scanning = Arc::clone(&library);
        let Ok(after) = tokio::task::spawn_blocking(move || scanning.rescan()).await else {
            continue;
        };
        // Folders created since are watched from now on (their files were found by the rescan).
        watch_every_folder(&mut watches, &library);
        if library.status().version != before {
            log::info!("audio folder changed: {} tracks", after.tracks().len());
        }
    }
}

/// Adds a watch for every folder of the current snapshot (adding one twice changes nothing).
fn watch_every_folder(watches: &mut Watches, library: &SharedLibrary) {
    let snapshot = library.snapshot();
    let mut failed = snapshot
        .folders()
        .iter()
        .filter_map(|folder| watches.add(folder, MASK).err().map(|err| (folder, err)));
    if let Some((folder, err)) = failed.next() {
        let more = failed.count();
        log::warn!(
            "not watching {} (and {more} more folders): {err}; changes there show on the next page load \
             (more watches: sysctl fs.inotify.max_user_watches)",
            folder.display()
        );
    }
}
