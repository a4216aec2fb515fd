//! audio-streamer: a small, memory-frugal audio streaming server with its own web player.
//!
//! - `http`: the route table, every handler and the server; the only module that knows actix;
//! - `stream`: which bytes of a track go out and how (ranges, the pump, sockets, the send timeout);
//! - [`library`]: what a track is and where its bytes live; [`catalog`]: its albums, artists and
//!   genres; [`auth`]: users, signed links, throttle; [`covers`]: covers resized for apps;
//! - [`transcode`]: tracks made into Opus or MP3 in the server, seekable like files;
//! - [`data`]: the listeners' data (stars, plays, playlists, play queues, what plays now) in
//!   SQLite or PostgreSQL;
//! - [`stats`]: counters and memory samples; [`metrics`]: them for Prometheus; [`config`]: flags into settings;
//! - `state`: what the handlers share and how it starts.

// Lints are set in Cargo.toml's [lints]: `unsafe` is allowed in one module, `sys`, which says why
// each call is sound.

pub mod auth;
pub mod catalog;
pub mod config;
pub mod covers;
pub mod data;
mod http;
pub mod library;
pub mod manage;
pub mod metrics;
mod state;
pub mod stats;
mod stream;
mod sys;
pub mod transcode;

pub use crate::config::Config;
pub use crate::http::{Tls, TlsError, routes, start};
pub use crate::state::AppState;

#[doc(hidden)] // re-exported for the benchmarks and tests
pub use crate::http::{FIRST_SCREEN_ROWS, PRELOAD_METADATA_UP_TO};
#[doc(hidden)] // re-exported for the benchmarks
pub use crate::sys::trim_heap;
