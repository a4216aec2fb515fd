//! Keeps the library in step with the audio folder while the server runs: a `notify` watcher
//! (inotify on Linux) reports changes, and one task rescans (on the blocking pool) once they have
//! settled; the library then bumps the version that `/events` pushes to open pages.
//!
//! "Settled" means no change for [`QUIET`]: a file being copied in produces a stream of events, so
//! it is listed once the copy has stopped growing, not half-written.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};
use tokio::sync::mpsc;

use crate::library::SharedLibrary;

/// How long the folder must be quiet before it is rescanned.
pub const QUIET: Duration = Duration::from_millis(500);

/// Watches `root` and rescans `library` after each burst of changes. The returned watcher stops
/// everything when dropped.
pub fn watch_folder(
    root: &Path,
    library: Arc<SharedLibrary>,
) -> notify::Result<RecommendedWatcher> {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // Only the fact of a change matters; the rescan finds out what changed.
        if event.is_ok_and(|e| !e.kind.is_access()) {
            let _ = tx.send(());
        }
    })?;
    watcher.watch(root, RecursiveMode::Recursive)?;
    tokio::spawn(rescan_when_quiet(rx, library));
    Ok(watcher)
}

async fn rescan_when_quiet(mut changes: mpsc::UnboundedReceiver<()>, library: Arc<SharedLibrary>) {
    while changes.recv().await.is_some() {
        // Wait for the burst to end: every further change restarts the quiet period.
        loop {
            match tokio::time::timeout(QUIET, changes.recv()).await {
                Ok(Some(())) => continue,
                Ok(None) => return,
                Err(_) => break,
            }
        }
        let before = library.status().version;
        let scanning = Arc::clone(&library);
        let Ok(after) = tokio::task::spawn_blocking(move || scanning.rescan()).await else {
            continue;
        };
        if library.status().version != before {
            log::info!("audio folder changed: {} tracks", after.tracks().len());
        }
    }
}
