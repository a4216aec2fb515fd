//! Command-line flags and environment variables, and the validated [`Config`] they become.
//!
//! Every flag's `///` line is its `--help` text; the README's table mirrors them.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

/// A small, memory-frugal audio streaming server with its own web player.
#[derive(Debug, Clone, Parser)]
#[command(version, about)]
pub struct Args {
    /// Manage the users file instead of serving
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address to listen on (use 0.0.0.0 to accept connections from other machines)
    #[arg(long, env = "AUDIO_STREAMER_BIND", default_value = "127.0.0.1")]
    pub bind: IpAddr,

    /// Port to listen on (0 picks a free port and logs it)
    #[arg(short, long, env = "AUDIO_STREAMER_PORT", default_value_t = 8080)]
    pub port: u16,

    /// Folder whose audio files are served (scanned recursively)
    #[arg(long, env = "AUDIO_STREAMER_AUDIO_DIR", default_value = "cached_audio")]
    pub audio_dir: PathBuf,

    /// Serve the objects of an S3 bucket instead of a folder: s3://bucket or s3://bucket/prefix
    /// (credentials from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)
    #[arg(long, env = "AUDIO_STREAMER_LIBRARY", value_parser = store_url)]
    pub library: Option<String>,

    /// The S3 endpoint, for storage other than AWS (Ceph's gateway, MinIO) [default: AWS_ENDPOINT]
    #[arg(long, env = "AUDIO_STREAMER_S3_ENDPOINT", requires = "library")]
    pub s3_endpoint: Option<String>,

    /// The S3 region [default: AWS_REGION, else us-east-1]
    #[arg(long, env = "AUDIO_STREAMER_S3_REGION", requires = "library")]
    pub s3_region: Option<String>,

    /// Seconds between listings of the bucket (new, changed and removed objects)
    #[arg(long, env = "AUDIO_STREAMER_REFRESH_SECS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub refresh_secs: u64,

    /// Where a --library replica keeps its copies of played objects [default: --audio-dir]
    #[arg(long, env = "AUDIO_STREAMER_CACHE_DIR", requires = "library")]
    pub cache_dir: Option<PathBuf>,

    /// Most bytes the cache holds (e.g. 500MiB, 20GB); least recently played go first
    #[arg(long, env = "AUDIO_STREAMER_CACHE_MAX_BYTES", default_value = "2GiB")]
    pub cache_max_bytes: bytesize::ByteSize,

    /// Milliseconds between the memory samples pushed to the page (50 to 60000)
    #[arg(
        long,
        env = "AUDIO_STREAMER_STATS_INTERVAL_MS",
        default_value_t = 1000,
        value_parser = clap::value_parser!(u64).range(50..=60_000)
    )]
    pub stats_interval_ms: u64,

    /// Seconds between the memory lines written to the terminal log (1 to 86400)
    #[arg(
        long,
        env = "AUDIO_STREAMER_LOG_INTERVAL_SECS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=86_400)
    )]
    pub log_interval_secs: u64,

    /// Send buffer per connection, KiB (0 leaves it to the kernel's autotuning, up to 4 MiB each)
    #[arg(
        long,
        env = "AUDIO_STREAMER_SEND_BUFFER_KIB",
        default_value_t = 256,
        value_parser = clap::value_parser!(u32).range(0..=65_536)
    )]
    pub send_buffer_kib: u32,

    /// Most audio streams served at once; past it, requests get 503 with Retry-After
    #[arg(long, env = "AUDIO_STREAMER_MAX_STREAMS", default_value_t = 4096, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_streams: u64,

    /// Most transcodes (`?format=opus|mp3`) running at once; past it, 503 with Retry-After
    #[arg(long, env = "AUDIO_STREAMER_MAX_TRANSCODES", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_transcodes: u64,

    /// Most live-stats viewers (SSE clients) at once; past it, 503 with Retry-After
    #[arg(long, env = "AUDIO_STREAMER_MAX_VIEWERS", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..))]
    pub max_viewers: u64,

    /// Seconds a client has to send its request head before the connection is closed (408)
    #[arg(long, env = "AUDIO_STREAMER_REQUEST_TIMEOUT_SECS", default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub request_timeout_secs: u64,

    /// Seconds a client may take no data before its connection is closed (nginx's send_timeout)
    #[arg(long, env = "AUDIO_STREAMER_SEND_TIMEOUT_SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub send_timeout_secs: u64,

    /// Worker threads [default: one per CPU core]
    #[arg(
        long,
        env = "AUDIO_STREAMER_WORKERS",
        value_parser = clap::value_parser!(u16).range(1..=256)
    )]
    pub workers: Option<u16>,

    /// Write no access log (by default one line per request, in the common log format)
    #[arg(long, env = "AUDIO_STREAMER_NO_ACCESS_LOG")]
    pub no_access_log: bool,

    /// Serve HTTPS (HTTP/2 and HTTP/1.1) with this certificate chain (PEM); needs --tls-key
    #[arg(long, env = "AUDIO_STREAMER_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1)
    #[arg(long, env = "AUDIO_STREAMER_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Users file (name:argon2id hash per line); with it, listening needs signing in
    #[arg(long, env = "AUDIO_STREAMER_USERS", global = true)]
    pub users: Option<PathBuf>,

    /// File of at least 32 random bytes that encrypts session cookies (shared by replicas); by
    /// default a new key at each start, which signs everyone out
    #[arg(long, env = "AUDIO_STREAMER_SESSION_KEY_FILE")]
    pub session_key_file: Option<PathBuf>,

    /// Secret (at least 32 characters) that signs stream links given out by the page; links
    /// carrying a valid signature are served without signing in
    #[arg(long, env = "AUDIO_STREAMER_LINK_SECRET", hide_env_values = true, value_parser = secret)]
    pub link_secret: Option<String>,

    /// Bearer token /metrics asks for (set it in the environment: flags show in `ps`)
    #[arg(long, env = "AUDIO_STREAMER_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Folder of the listeners' data (stars, plays, playlists, play queues), in SQLite; made at start
    #[arg(long, env = "AUDIO_STREAMER_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,

    /// Keep the listeners' data in PostgreSQL instead, shared by replicas:
    /// postgres://user[:password]@host[:port]/database (set a password in the environment)
    #[arg(long, env = "AUDIO_STREAMER_DATABASE", hide_env_values = true, value_parser = database_url)]
    pub database: Option<String>,
}

/// What to do instead of serving.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Add, remove or list users (needs --users)
    #[command(subcommand)]
    User(UserCommand),
}

/// `audio-streamer user ...`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from the terminal without echo (or one line of stdin)
    Add {
        /// 1 to 64 letters, digits, '.', '_' or '-'
        name: String,
    },
    /// Remove a user (signed-in sessions of that user end at their next request)
    Remove {
        /// The user's name
        name: String,
    },
    /// List the users' names
    List,
    /// Cap the bit rate a user is streamed at (higher tracks are transcoded down); `none` lifts it
    Cap {
        /// The user's name
        name: String,
        /// kbit/s (32 to 320), or `none`
        #[arg(value_parser = cap_value)]
        kbps: Cap,
    },
    /// Make an API key for a user's app (OpenSubsonic apiKey), shown once
    Key {
        /// The user's name
        name: String,
        /// What the key is for ("phone")
        #[arg(long, default_value = "app")]
        label: String,
    },
    /// Make an app password for a user's app (for apps that only speak token authentication),
    /// shown once
    AppPassword {
        /// The user's name
        name: String,
        /// What the password is for ("car")
        #[arg(long, default_value = "app")]
        label: String,
    },
    /// List a user's API keys and app passwords (never the keys themselves)
    Keys {
        /// The user's name
        name: String,
    },
    /// Revoke one of a user's API keys or app passwords by its id (see `keys`)
    Revoke {
        /// The user's name
        name: String,
        /// The id `keys` shows (`cr-…`)
        id: String,
    },
}

/// A bit rate cap, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cap(pub Option<u32>);

fn cap_value(value: &str) -> Result<Cap, String> {
    if value.eq_ignore_ascii_case("none") {
        return Ok(Cap(None));
    }
    match value.parse::<u32>() {
        Ok(kbps) if (32..=320).contains(&kbps) => Ok(Cap(Some(kbps))),
        _ => Err("a bit rate in kbit/s from 32 to 320, or none".to_owned()),
    }
}

fn store_url(value: &str) -> Result<String, String> {
    match value.strip_prefix("s3://") {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(value.to_owned()),
        _ => Err("use s3://bucket or s3://bucket/prefix".to_owned()),
    }
}

fn database_url(value: &str) -> Result<String, String> {
    let bad = || "use postgres://user@host:port/database (or postgresql://)".to_owned();
    let url = url::Url::parse(value).map_err(|_| bad())?;
    let named = url.path().len() > 1;
    match url.scheme() {
        "postgres" | "postgresql" if url.host_str().is_some_and(|h| !h.is_empty()) && named => {
            Ok(value.to_owned())
        }
        _ => Err(bad()),
    }
}

fn secret(value: &str) -> Result<String, String> {
    if value.chars().count() >= 32 {
        Ok(value.to_owned())
    } else {
        Err("use at least 32 characters (e.g. `openssl rand -base64 32`)".to_owned())
    }
}

/// The server's settings, checked and in the types the server uses.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub addr: SocketAddr,
    /// The audio folder.
    pub audio_dir: PathBuf,
    /// Time between stats samples.
    pub stats_interval: Duration,
    /// Time between memory lines in the log.
    pub log_interval: Duration,
    /// Worker threads; `None` lets actix pick one per core.
    pub workers: Option<usize>,
    /// Send buffer requested for each connection; `None` leaves it to the kernel.
    pub send_buffer: Option<usize>,
    /// Time allowed for a request head.
    pub request_timeout: Duration,
    /// Time a response may make no progress before its connection is closed.
    pub send_timeout: Duration,
    /// Caps on concurrent use.
    pub limits: Limits,
    /// Log one line per request.
    pub access_log: bool,
    /// The bearer token `/metrics` asks for, if any.
    pub metrics_token: Option<String>,
    /// Certificate and key to serve HTTPS with; plain HTTP without.
    pub tls: Option<TlsFiles>,
    /// Who may listen: `None` lets anyone who reaches the port.
    pub access: Option<Access>,
    /// The secret signed links are made and checked with.
    pub link_secret: Option<String>,
    /// An object store to serve instead of `audio_dir`.
    pub store: Option<StoreLibrary>,
    /// Where the listeners' data is kept.
    pub database: Database,
}

/// Where the listeners' data is kept.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file, `audio-streamer.db`, in this folder (made at start).
    Sqlite(PathBuf),
    /// A PostgreSQL database at this `postgres://` URL, which may hold a password.
    Postgres(String),
}

impl std::fmt::Debug for Database {
    /// Never the password: the `Config` is logged and shown in panics.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(dir) => f.debug_tuple("Sqlite").field(dir).finish(),
            Self::Postgres(url) => {
                let mut shown = url::Url::parse(url).map_err(|_| std::fmt::Error)?;
                if shown.password().is_some() {
                    let _ = shown.set_password(Some("***"));
                }
                f.debug_tuple("Postgres").field(&shown.as_str()).finish()
            }
        }
    }
}

/// A library in object storage, and the replica's cache of it.
#[derive(Debug, Clone)]
pub struct StoreLibrary {
    /// Where the objects are.
    pub store: crate::library::StoreConfig,
    /// The cache folder.
    pub cache_dir: PathBuf,
    /// The cache's bound.
    pub cache_max_bytes: u64,
    /// Time between listings.
    pub refresh: Duration,
}

/// Access control's settings.
#[derive(Debug, Clone)]
pub struct Access {
    /// The users file.
    pub users: PathBuf,
    /// The file holding the session-cookie key; `None` makes one per start.
    pub session_key_file: Option<PathBuf>,
}

/// Where the server's TLS certificate chain and private key are (PEM files).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// The private key.
    pub key: PathBuf,
}

/// Caps on concurrent use, checked when a stream or viewer starts.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Audio bodies in flight.
    pub max_streams: u64,
    /// SSE subscribers.
    pub max_viewers: u64,
    /// Transcodes running.
    pub max_transcodes: u64,
}

impl From<Args> for Config {
    fn from(args: Args) -> Self {
        Self {
            addr: SocketAddr::new(args.bind, args.port),
            stats_interval: Duration::from_millis(args.stats_interval_ms),
            log_interval: Duration::from_secs(args.log_interval_secs),
            workers: args.workers.map(usize::from),
            send_buffer: (args.send_buffer_kib > 0).then(|| args.send_buffer_kib as usize * 1024),
            request_timeout: Duration::from_secs(args.request_timeout_secs),
            send_timeout: Duration::from_secs(args.send_timeout_secs),
            limits: Limits {
                max_streams: args.max_streams,
                max_viewers: args.max_viewers,
                max_transcodes: args.max_transcodes,
            },
            access_log: !args.no_access_log,
            metrics_token: args.metrics_token.filter(|t| !t.is_empty()),
            tls: args
                .tls_cert
                .zip(args.tls_key)
                .map(|(cert, key)| TlsFiles { cert, key }),
            access: args.users.map(|users| Access {
                users,
                session_key_file: args.session_key_file,
            }),
            link_secret: args.link_secret,
            store: args.library.map(|url| StoreLibrary {
                store: crate::library::StoreConfig {
                    url,
                    endpoint: args.s3_endpoint,
                    region: args.s3_region,
                },
                cache_dir: args.cache_dir.unwrap_or_else(|| args.audio_dir.clone()),
                cache_max_bytes: args.cache_max_bytes.as_u64(),
                refresh: Duration::from_secs(args.refresh_secs),
            }),
            audio_dir: args.audio_dir,
            database: match args.database {
                Some(url) => Database::Postgres(url),
                None => Database::Sqlite(args.data_dir),
            },
        }
    }
}

impl Config {
    /// Settings for a server on `127.0.0.1` at a free port, serving `audio_dir`: what tests use.
    /// The listeners' data goes beside the folder, in `<audio_dir>.data`, so no two test folders
    /// share it and none of it lands in the folder being watched.
    pub fn for_dir(audio_dir: impl Into<PathBuf>) -> Self {
        let audio_dir = audio_dir.into();
        let mut data_dir = audio_dir.clone().into_os_string();
        data_dir.push(".data");
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            database: Database::Sqlite(data_dir.into()),
            audio_dir,
            stats_interval: Duration::from_secs(1),
            log_interval: Duration::from_secs(30),
            workers: Some(2),
            send_buffer: Some(256 * 1024),
            request_timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(60),
            limits: Limits {
                max_streams: 4096,
                max_viewers: 1024,
                max_transcodes: 64,
            },
            access_log: false,
            metrics_token: None,
            tls: None,
            access: None,
            link_secret: None,
            store: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_readme() {
        let config = Config::from(Args::try_parse_from(["audio-streamer"]).unwrap());
        assert_eq!(config.addr, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.audio_dir, PathBuf::from("cached_audio"));
        assert_eq!(config.stats_interval, Duration::from_secs(1));
        assert_eq!(config.workers, None);
        assert_eq!(config.send_buffer, Some(256 * 1024));
        assert!(config.access_log);
        assert!(config.store.is_none());
        assert_eq!(config.database, Database::Sqlite(PathBuf::from("data")));
        let config = Config::from(
            Args::try_parse_from(["x", "--library", "s3://b/p", "--cache-max-bytes", "1 MiB"])
                .unwrap(),
        );
        let store = config.store.unwrap();
        assert_eq!(store.cache_dir, PathBuf::from("cached_audio"));
        assert_eq!(store.cache_max_bytes, 1024 * 1024);
        assert_eq!(store.refresh, Duration::from_secs(30));
    }

    #[test]
    fn out_of_range_values_are_rejected() {
        for bad in [
            &["x", "--port", "70000"][..],
            &["x", "--bind", "localhost:80"],
            &["x", "--stats-interval-ms", "0"],
            &["x", "--workers", "0"],
            &["x", "--tls-cert", "cert.pem"],
            &["x", "--tls-key", "key.pem"],
            &["x", "--link-secret", "too short"],
            &["x", "user", "add"],
            &["x", "--library", "bucket"],
            &["x", "--library", "s3://"],
            &["x", "--library", "s3:///prefix"],
            &["x", "--cache-max-bytes", "lots"],
            &["x", "--cache-dir", "c"],
            &["x", "--database", "mysql://u@h/db"],
            &["x", "--database", "sqlite://data.db"],
            &["x", "--database", "postgres://"],
            &["x", "--database", "postgres://u@h"],
            &["x", "--database", "h:5432/db"],
        ] {
            assert!(Args::try_parse_from(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_postgres_url_is_taken_and_its_password_never_shown() {
        for url in ["postgres://u@h:5432/db", "postgresql://u:hunter2@h/db"] {
            let config = Config::from(Args::try_parse_from(["x", "--database", url]).unwrap());
            assert_eq!(config.database, Database::Postgres(url.to_owned()));
            assert!(!format!("{config:?}").contains("hunter2"), "{config:?}");
        }
        let shown = format!(
            "{:?}",
            Database::Postgres("postgres://u:pw@h/db".to_owned())
        );
        assert_eq!(shown, r#"Postgres("postgres://u:***@h/db")"#);
    }

    #[test]
    fn cli_debug_asserts() {
        use clap::CommandFactory;
        Args::command().debug_assert();
    }
}
