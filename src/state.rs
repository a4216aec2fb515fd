//! What every handler shares, and how it starts: the library with its first scan and its watcher,
//! the stats sampler, and the send-timeout watchdog. No HTTP here: `http` wraps this for actix.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::auth::{Access, AuthError, LinkSigner};
use crate::config::{Config, Limits};
use crate::covers::Covers;
use crate::data::{Data, DataError};
use crate::library::{
    Cache, LibraryError, ObjectLibrary, SharedLibrary, Watcher, list_every, watch_folder,
};
use crate::metrics::Metrics;
use crate::stats::{Counters, Sampler, Snapshot};
use crate::stream::Watchdog;
use crate::transcode::Transcoder;

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The audio folder.
    #[error(transparent)]
    Library(#[from] LibraryError),
    /// The users file or the session key.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The listeners' data (its folder or file, or the PostgreSQL server).
    #[error(transparent)]
    Data(#[from] DataError),
    /// The transcoding threads.
    #[error("starting the transcoding threads: {0}")]
    Transcoder(std::io::Error),
}

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    /// The scanned audio folder.
    pub library: Arc<SharedLibrary>,
    /// Watches the audio folder, or lists the object store on an interval (live updates stop when
    /// it is dropped); `None` when the OS would not watch the folder, and then page loads trigger
    /// rescans instead.
    watcher: Option<Watcher>,
    /// Live counters the handlers update.
    pub counters: Arc<Counters>,
    /// The latest stats sample.
    pub stats: watch::Receiver<Snapshot>,
    /// Caps on concurrent use.
    pub limits: Limits,
    /// What `/metrics` shows.
    pub metrics: Metrics,
    /// The bearer token `/metrics` asks for, if any.
    pub metrics_token: Option<String>,
    /// Who may listen; `None`: anyone who reaches the port.
    pub access: Option<Access>,
    /// Signs and checks stream links, when a secret is set.
    pub links: Option<LinkSigner>,
    /// Whether the server speaks TLS (session cookies are then `Secure`).
    pub tls: bool,
    /// Log one line per request.
    pub access_log: bool,
    /// Shuts down connections whose client stopped taking data.
    pub(crate) watchdog: Arc<Watchdog>,
    /// The replica's cache of an object-store library.
    pub cache: Option<Arc<Cache>>,
    /// The listeners' stars, plays, playlists and play queues; sign-outs and the login throttle
    /// shared with other replicas.
    pub data: Data,
    /// Where transcodes run, and their cap.
    pub transcoder: Arc<Transcoder>,
    /// Covers resized for apps, and their cache.
    pub covers: Covers,
}

impl AppState {
    /// Checks the audio folder and opens the listeners' data (made and migrated if need be), then
    /// starts the folder's first scan in the background (the library fills in while the server
    /// already answers), its watcher, and the stats sampler on the current runtime. The sampler
    /// stops by itself once the state (and every SSE subscriber) is gone.
    pub fn new(config: &Config) -> Result<Arc<Self>, StartError> {
        let access = config.access.as_ref().map(Access::open).transpose()?;
        if access.is_none() && !config.addr.ip().is_loopback() {
            log::warn!(
                "listening on {} without --users: anyone who can reach it can list and stream every track",
                config.addr.ip()
            );
        }
        let (library, cache) = match &config.store {
            Some(store) => {
                let cache =
                    Cache::open(&store.cache_dir, store.cache_max_bytes).map_err(|reason| {
                        LibraryError::Cache {
                            path: store.cache_dir.clone(),
                            reason,
                        }
                    })?;
                let storage = ObjectLibrary::new(&store.store, Arc::clone(&cache))?;
                (Arc::new(SharedLibrary::new(Box::new(storage))), Some(cache))
            }
            None => (Arc::new(SharedLibrary::open(&config.audio_dir)?), None),
        };
        // After the library, whose mistakes are the likelier. Opened on the data's own thread;
        // this one waits (a few milliseconds for SQLite).
        let data = Data::open(&config.database)?;
        log::info!("listeners' data: {}", data.describe());
        log::info!("scanning {} in the background", library.location());
        let scanning = Arc::clone(&library);
        tokio::task::spawn_blocking(move || scanning.rescan());
        let watcher = match &config.store {
            Some(store) => Some(list_every(store.refresh, Arc::clone(&library))),
            None => watch_folder(&config.audio_dir, Arc::clone(&library))
                .map_err(|err| {
                    log::warn!(
                        "not watching {}: {err}; reload the page to see new files",
                        library.location()
                    )
                })
                .ok(),
        };
        let counters = Arc::new(Counters::default());
        let mut sampler = Sampler::new(Arc::clone(&counters));
        let (tx, rx) = watch::channel(sampler.sample());
        tokio::spawn(sampler.run(config.stats_interval, config.log_interval, tx));
        let watchdog = Watchdog::new(config.send_timeout, Arc::clone(&counters));
        tokio::spawn(Arc::clone(&watchdog).run());
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let max = usize::try_from(config.limits.max_transcodes).unwrap_or(usize::MAX);
        let transcoder = Arc::new(Transcoder::start(threads, max).map_err(StartError::Transcoder)?);
        let metrics = Metrics::new(
            Arc::clone(&counters),
            rx.clone(),
            Arc::clone(&library),
            cache.clone(),
            Arc::clone(&transcoder),
        );
        let state = Arc::new(Self {
            transcoder,
            metrics,
            metrics_token: config.metrics_token.clone(),
            access,
            links: config
                .link_secret
                .as_ref()
                .map(|s| LinkSigner::new(s.as_bytes())),
            tls: config.tls.is_some(),
            library,
            watcher,
            counters,
            stats: rx,
            limits: config.limits,
            access_log: config.access_log,
            watchdog,
            cache,
            data,
            covers: Covers::default(),
        });
        if state.access.is_some() {
            tokio::spawn(follow_sign_outs(Arc::downgrade(&state)));
        }
        Ok(state)
    }

    /// Streams and viewers the send timeout is watching (for tests).
    #[doc(hidden)]
    pub fn watched(&self) -> usize {
        self.watchdog.len()
    }

    /// Without a watcher, asks for a rescan in the background (at most one a second), so a file
    /// dropped into the folder still shows up on the next page load; open pages hear of it over
    /// `/events`.
    pub(crate) fn refresh_if_unwatched(&self) {
        if self.watcher.is_none() {
            let library = Arc::clone(&self.library);
            tokio::task::spawn_blocking(move || {
                library.rescan_if_older_than(Duration::from_secs(1))
            });
        }
    }
}

/// How often a server reads the sessions signed out through other replicas.
const SIGN_OUTS_EVERY: Duration = Duration::from_secs(2);
/// How much further back than its last read it reads each time, for replicas whose clocks are a
/// little apart.
const SIGN_OUTS_OVERLAP: Duration = Duration::from_secs(60);

/// Keeps this server's set of signed-out sessions (which the guard reads on every request, with
/// no query) current with the database's, where every replica writes its sign-outs: a cookie
/// signed out on one replica is refused by the others within [`SIGN_OUTS_EVERY`]. Ends with the
/// state. While the database does not answer, sign-outs made here still hold here.
async fn follow_sign_outs(state: std::sync::Weak<AppState>) {
    let mut since = std::time::UNIX_EPOCH;
    let mut every = tokio::time::interval(SIGN_OUTS_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let Some(state) = state.upgrade() else { return };
        let asked = std::time::SystemTime::now();
        match state.data.signed_out_since(since).await {
            Ok(sessions) => {
                if let Some(access) = &state.access {
                    let now = asked
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_secs());
                    for (id, expires) in sessions {
                        access.sign_out(&id, expires, now);
                    }
                }
                since = asked
                    .checked_sub(SIGN_OUTS_OVERLAP)
                    .unwrap_or(std::time::UNIX_EPOCH);
            }
            Err(err) => log::debug!("sign-outs of other replicas not read: {err}"),
        }
    }
}
