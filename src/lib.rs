//! audio-streamer: a small, memory-frugal audio streaming server with its own web player.
//!
//! [`routes`] is the one route table, used by `main` and by every test; [`start`] binds and runs it.
//! The domain ([`library`], [`tags`], [`media`], [`stats`]) knows nothing of actix; the handlers in
//! [`audio`], [`art`], [`pages`], [`events`] and [`assets`] stay thin.

#![deny(unsafe_code)] // allowed in one module, `sys`, which says why each call is sound
#![deny(missing_docs)]

pub mod art;
pub mod assets;
pub mod audio;
pub mod config;
pub mod error;
pub mod events;
pub mod library;
pub mod media;
pub mod pages;
pub mod pump;
pub mod range;
pub mod socket;
pub mod stats;
pub mod sys;
pub mod tags;
pub mod watchdog;
pub mod watcher;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Server, ServiceRequest, ServiceResponse};
use actix_web::{App, HttpResponse, HttpServer, Route, guard, middleware, web};
use tokio::sync::watch;

pub use crate::config::Config;
use crate::error::Error;
use crate::library::{LibraryError, SharedLibrary};
use crate::stats::{Counters, Sampler, Snapshot};

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    /// The scanned audio folder.
    pub library: Arc<SharedLibrary>,
    /// Watches the audio folder (live updates stop when it is dropped); `None` when the OS would
    /// not watch it, and then page loads trigger rescans instead.
    watcher: Option<notify::RecommendedWatcher>,
    /// Live counters the handlers update.
    pub counters: Arc<Counters>,
    /// The latest stats sample.
    pub stats: watch::Receiver<Snapshot>,
    /// Caps on concurrent use.
    pub limits: config::Limits,
    /// Shuts down connections whose client stopped taking data.
    pub watchdog: Arc<watchdog::Watchdog>,
}

impl AppState {
    /// Checks the audio folder, then starts its first scan in the background (the library fills
    /// in while the server already answers), its watcher, and the stats sampler on the current
    /// runtime. The sampler stops by itself once the state (and every SSE subscriber) is gone.
    pub fn new(config: &Config) -> Result<web::Data<Self>, LibraryError> {
        let library = Arc::new(SharedLibrary::open(&config.audio_dir)?);
        log::info!("scanning {} in the background", config.audio_dir.display());
        let scanning = Arc::clone(&library);
        tokio::task::spawn_blocking(move || scanning.rescan());
        let watcher = watcher::watch_folder(&config.audio_dir, Arc::clone(&library))
            .map_err(|err| {
                log::warn!(
                    "not watching {}: {err}; reload the page to see new files",
                    config.audio_dir.display()
                )
            })
            .ok();
        let counters = Arc::new(Counters::default());
        let mut sampler = Sampler::new(Arc::clone(&counters));
        let (tx, rx) = watch::channel(sampler.sample());
        tokio::spawn(sampler.run(config.stats_interval, config.log_interval, tx));
        let watchdog = watchdog::Watchdog::new(config.send_timeout, Arc::clone(&counters));
        tokio::spawn(Arc::clone(&watchdog).run());
        Ok(web::Data::new(Self {
            library,
            watcher,
            counters,
            stats: rx,
            limits: config.limits,
            watchdog,
        }))
    }

    /// Without a watcher, asks for a rescan in the background (at most one a second), so a file
    /// dropped into the folder still shows up on the next page load; open pages hear of it over
    /// `/events`.
    pub fn refresh_if_unwatched(&self) {
        if self.watcher.is_none() {
            let library = Arc::clone(&self.library);
            tokio::task::spawn_blocking(move || {
                library.rescan_if_older_than(Duration::from_secs(1))
            });
        }
    }
}

/// The route table. `App::new().configure(routes(state))` is the whole application.
///
/// | route | what |
/// |---|---|
/// | `GET /` | the player page |
/// | `GET /audio/<name>` | a track, range-aware |
/// | `GET /art/<name>` | a track's cover (embedded, or its folder's `cover.jpg`) |
/// | `GET /events` | live stats (SSE) |
/// | `GET /api/stats` | the latest stats (JSON) |
/// | `GET /api/tracks` | the track list (JSON) |
/// | `GET /static/<file>` | embedded assets |
///
/// Every route also answers `HEAD` (except `/events`); other methods get 405 with `Allow`, unknown
/// paths 404.
pub fn routes(state: web::Data<AppState>) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        let all = web::scope("")
            .wrap(middleware::from_fn(limit_request_head))
            .service(resource("/").route(get_or_head().to(pages::index)))
            .service(resource("/api/tracks").route(get_or_head().to(pages::tracks)))
            .service(resource("/api/stats").route(get_or_head().to(events::latest)))
            .service(resource("/events").route(web::get().to(events::subscribe)))
            .service(resource("/static/{file}").route(get_or_head().to(assets::serve)))
            .service(resource(art::ROUTE).route(get_or_head().to(art::serve)))
            .service(web::service(audio::ROUTE).finish(actix_web::dev::fn_service(audio::serve)))
            .default_service(web::to(|| async {
                Err::<HttpResponse, _>(Error::NotFound)
            }));
        cfg.app_data(state).service(all);
    }
}

/// Largest request head (all header names and values) the server answers; nginx's default
/// `large_client_header_buffers` allows 8 KiB per line.
pub const MAX_REQUEST_HEAD: usize = 16 * 1024;

/// Answers 431 to requests whose headers add up to more than [`MAX_REQUEST_HEAD`]: actix-http reads
/// a single header line of any length it can buffer (64 KiB and more), and no route needs that.
async fn limit_request_head(
    req: ServiceRequest,
    next: middleware::Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let size: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum::<usize>()
        + req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if size > MAX_REQUEST_HEAD {
        return Ok(req.error_response(Error::HeadTooLarge));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// Starts the server on `config.addr` and returns it (to be awaited) with the address it got.
pub fn start(config: &Config, state: web::Data<AppState>) -> io::Result<(Server, SocketAddr)> {
    let app_state = state.clone();
    let mut server = HttpServer::new(move || App::new().configure(routes(app_state.clone())))
        // Bodies go out in chunks smaller than the response: without NODELAY, Nagle holds the tail
        // of each range response back ~40 ms.
        .tcp_nodelay(true)
        // Notice a closed SSE client within a fraction of a second instead of on the next write.
        .h1_allow_half_closed(false)
        .shutdown_timeout(5)
        .client_request_timeout(config.request_timeout)
        // The pump sizes chunks by the socket's free room; let it see the socket once per chunk.
        .on_connect(socket::record)
        // Ask the body for one chunk per write: several small chunks batched here would grow the
        // connection's buffer (and keep it grown) just as one mid-size chunk would.
        .h1_write_buffer_size(512);
    if let Some(workers) = config.workers {
        server = server.workers(workers);
    }
    let cannot_listen = |err: io::Error| {
        io::Error::new(
            err.kind(),
            format!("cannot listen on {}: {err}", config.addr),
        )
    };
    let listener = socket::listen(config.addr, config.send_buffer).map_err(cannot_listen)?;
    let server = server.listen(listener).map_err(cannot_listen)?;
    let addr = server.addrs()[0];
    Ok((server.run(), addr))
}

/// A resource whose unmatched methods get 405 with `Allow`.
fn resource(path: &str) -> actix_web::Resource {
    web::resource(path).default_service(web::to(|| async {
        Err::<HttpResponse, _>(Error::MethodNotAllowed)
    }))
}

/// Routes that answer `GET` and `HEAD` alike.
fn get_or_head() -> Route {
    web::route().guard(guard::Any(guard::Get()).or(guard::Head()))
}
