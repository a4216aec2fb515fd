//! The listeners' data: stars, ratings and plays, playlists, the play queue and bookmarks per user,
//! what each plays now, and what replicas share about signing in (sessions signed out early, the login throttle), in
//! SQLite (`<--data-dir>/audio-streamer.db`) or PostgreSQL (`--database`). No HTTP here: the HTTP
//! layer decides who the user is and maps each [`DataError`] to a status.
//!
//! Why sqlx: its `Any` driver runs one set of queries and one folder of migrations (`migrations/`,
//! embedded by `migrate!` and run at start) on SQLite and PostgreSQL alike, async on tokio, with
//! every value bound as a parameter (`$1`, which its SQLite driver binds by number too). diesel is
//! synchronous (diesel-async has no SQLite) and its typed DSL is generic over one backend at a
//! time, so two backends would mean two connection types through every function; sea-orm is built
//! on sqlx and adds entities, a code generator and a larger build for eight small tables; rusqlite
//! with tokio-postgres is two APIs with their own placeholders, rows and errors, every query twice.
//!
//! No query runs on the caller's runtime: [`Data`] owns a one-thread tokio runtime, its pool lives
//! there, and each call spawns its work there and awaits the task. Actix runs one single-threaded
//! runtime per worker, and a connection is driven by the runtime that opened it, so connections
//! opened on one worker would stall while that worker is busy, and break when it stops.

mod annotations;
mod check;
mod credentials;
mod open;
mod playing;
mod playlists;
mod queue;
mod sessions;
mod settings;

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;
use sqlx::{AnyConnection, AnyPool};

use crate::config::Database;

pub use self::annotations::{Annotation, Kind, Starred};
pub use self::check::{
    MAX_COMMENT_CHARS, MAX_ENTRIES, MAX_ID_BYTES, MAX_NAME_CHARS, MAX_QUEUE, MAX_RATING,
};
pub use self::credentials::{Credential, CredentialKind};
pub use self::playing::Playing;
pub use self::playlists::{Playlist, PlaylistEdit, PlaylistInfo};
pub use self::queue::{Bookmark, PlayQueue};
pub use self::settings::Quality;

/// The listeners' data, in SQLite or PostgreSQL. Cheap to clone (one pool, shared); each call runs
/// on the data's own runtime, so any runtime may await it.
#[derive(Clone)]
pub struct Data {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    /// `Some` until dropped: the thread the pool and every query run on.
    runtime: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
    /// "SQLite at …" or "PostgreSQL at …".
    place: String,
    /// Login attempts counted, to forget stale throttle rows every so often.
    attempts: AtomicU64,
}

/// What a job needs, cloned into each spawned task (never [`Inner`], which shuts the runtime down
/// when dropped and so must not be dropped on it).
#[derive(Clone)]
struct Db {
    /// Every read, and on PostgreSQL every write.
    pool: AnyPool,
    /// SQLite's one writing connection. SQLite lets one connection write at a time and makes the
    /// others poll with sleeps growing to 100 ms (`busy_timeout`); this server's writers take
    /// turns on this lock instead, in order, with no pool to go through. `None` for PostgreSQL,
    /// whose row locks queue writers themselves.
    writer: Option<Arc<tokio::sync::Mutex<Writer>>>,
}

/// SQLite's writing connection, opened again after a failure.
struct Writer {
    options: sqlx::any::AnyConnectOptions,
    conn: Option<AnyConnection>,
    /// Told after each write, to checkpoint the write-ahead log soon (see `open::checkpoints`).
    wrote: Arc<tokio::sync::Notify>,
}

/// Why the listeners' data could not be read or written. The HTTP layer maps each variant to one
/// status.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The database cannot be reached, or stayed busy past the timeout: worth retrying shortly
    /// (503 with Retry-After).
    #[error("the listeners' data is unavailable for now ({0}); try again shortly")]
    Unavailable(String),
    /// No such thing, or none the user may see (404): what it is, e.g. "playlist".
    #[error("no such {0}")]
    NotFound(&'static str),
    /// The playlist was changed since the version the client edits (409).
    #[error(
        "the playlist changed meanwhile (it is at version {current}, not {expected}): reload it and edit again"
    )]
    Conflict {
        /// The version the client said it edits.
        expected: i64,
        /// The version the playlist is at.
        current: i64,
    },
    /// A value past a limit or malformed, said in a way a person can act on (400).
    #[error("{0}")]
    Invalid(String),
    /// A public playlist the user may see but not change or delete (403). Another user's private
    /// playlist is [`DataError::NotFound`] instead, so its existence is not told.
    #[error("only its owner may change or delete this playlist")]
    Forbidden,
    /// The database could not be opened, made or brought up to date at start.
    #[error("cannot open the listeners' data at {at}: {reason}")]
    Start {
        /// The file, folder or server.
        at: String,
        /// What went wrong.
        reason: String,
    },
    /// The database refused a statement: a bug, or a schema this version does not know (500).
    #[error("the database failed: {0}")]
    Failed(String),
}

impl From<sqlx::Error> for DataError {
    fn from(err: sqlx::Error) -> Self {
        use sqlx::Error as E;
        match &err {
            E::Io(_)
            | E::Tls(_)
            | E::Protocol(_)
            | E::PoolTimedOut
            | E::PoolClosed
            | E::WorkerCrashed => Self::Unavailable(err.to_string()),
            E::Database(db)
                if db.code().is_some_and(|code| {
                    let sqlite = db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some();
                    transient(&code, sqlite)
                }) =>
            {
                Self::Unavailable(db.message().to_owned())
            }
            _ => Self::Failed(err.to_string()),
        }
    }
}

/// Whether a database error code says "not now" rather than "not this". SQLite's (a number):
/// busy, locked, read-only, I/O, full disk, cannot open (primary codes 5, 6, 8, 10, 13, 14; an
/// extended code carries its primary one in the low byte). PostgreSQL's (a SQLSTATE): connection
/// exceptions (class 08), shutting down or starting up (57P01–57P03), too many connections (53300).
fn transient(code: &str, sqlite: bool) -> bool {
    if sqlite {
        code.parse::<u32>()
            .is_ok_and(|n| matches!(n & 0xff, 5 | 6 | 8 | 10 | 13 | 14))
    } else {
        code.starts_with("08") || code.starts_with("57P") || code == "53300"
    }
}

impl Data {
    /// Opens the listeners' data where `database` says, made and brought up to date (the
    /// migrations run here); for SQLite, the folder is made first. Waits until it is open on the
    /// calling thread, which may be inside a runtime (the work runs on the data's own).
    pub fn open(database: &Database) -> Result<Self, DataError> {
        let place = open::describe(database);
        let start = |reason: String| DataError::Start {
            at: place.clone(),
            reason,
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("data")
            .enable_all()
            .build()
            .map_err(|err| start(format!("cannot start its thread: {err}")))?;
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        let database = database.clone();
        runtime.spawn(async move {
            let _ = tx.send(open::open(&database).await);
        });
        // A plain blocking wait: at start, before any request; `block_on` would panic inside the
        // caller's runtime.
        let opened = rx
            .recv()
            .unwrap_or_else(|_| Err(start("its thread stopped".to_owned())));
        let db = match opened {
            Ok(db) => db,
            Err(err) => {
                // Not a plain drop, which waits, and panics inside the caller's runtime.
                runtime.shutdown_background();
                return Err(err);
            }
        };
        let handle = runtime.handle().clone();
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                runtime: Some(runtime),
                handle,
                place,
                attempts: AtomicU64::new(0),
            }),
        })
    }

    /// Where the data is: "SQLite at data/audio-streamer.db" or "PostgreSQL at host:5432/db"
    /// (never a password).
    pub fn describe(&self) -> &str {
        &self.inner.place
    }

    /// Whether the database answers (`SELECT 1`), for `/readyz`.
    pub async fn health(&self) -> Result<(), DataError> {
        let db = self.db();
        self.spawn(async move {
            let one: i64 = sqlx::query_scalar("SELECT 1").fetch_one(&db.pool).await?;
            debug_assert_eq!(one, 1);
            Ok(())
        })
        .await
    }

    fn db(&self) -> Db {
        self.inner.db.clone()
    }

    /// Runs `job` on the data's runtime and waits for it. The job goes on if the caller stops
    /// waiting, so a transaction it began is finished either way.
    async fn spawn<T, F>(&self, job: F) -> Result<T, DataError>
    where
        F: Future<Output = Result<T, DataError>> + Send + 'static,
        T: Send + 'static,
    {
        match self.inner.handle.spawn(job).await {
            Ok(done) => done,
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(_) => Err(DataError::Unavailable("the server is stopping".to_owned())),
        }
    }
}

impl fmt::Debug for Data {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Data")
            .field("at", &self.inner.place)
            .finish_non_exhaustive()
    }
}

impl Drop for Inner {
    /// Stops the data's thread without waiting for it: dropping a runtime waits, which panics
    /// inside another runtime (where the last clone of `Data` may well be dropped).
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// One job's work on a connection (a closure returning a future that borrows it).
type Work<'c, T> = BoxFuture<'c, Result<T, DataError>>;

impl Db {
    /// Runs `work` as one transaction, committed if it returns `Ok`, rolled back otherwise. On
    /// SQLite, after this server's earlier writers.
    async fn transaction<T: Send>(
        &self,
        work: impl for<'c> FnOnce(&'c mut AnyConnection) -> Work<'c, T> + Send + 'static,
    ) -> Result<T, DataError> {
        self.write(|conn| {
            Box::pin(async move {
                let mut tx = sqlx::Connection::begin(conn).await?;
                match work(&mut tx).await {
                    Ok(done) => {
                        tx.commit().await?;
                        Ok(done)
                    }
                    Err(err) => {
                        // The work's error is the one to tell; a failed rollback ends the
                        // connection.
                        let _ = tx.rollback().await;
                        Err(err)
                    }
                }
            })
        })
        .await
    }

    /// Runs `work`, one writing statement (atomic by itself) or a transaction, on a writing
    /// connection: SQLite's own in its turn, or one of PostgreSQL's pool.
    async fn write<T>(
        &self,
        work: impl for<'c> FnOnce(&'c mut AnyConnection) -> Work<'c, T> + Send,
    ) -> Result<T, DataError> {
        let Some(writer) = &self.writer else {
            let mut conn = self.pool.acquire().await?;
            return work(&mut conn).await;
        };
        let mut writer = writer.lock().await;
        let Writer {
            options,
            conn,
            wrote,
        } = &mut *writer;
        let opened = match conn.take() {
            Some(opened) => opened,
            None => open::writer(options).await?,
        };
        let done = work(conn.insert(opened)).await;
        match &done {
            Ok(_) => wrote.notify_one(),
            // Busy past the timeout, or the file is failing: a new connection next time.
            Err(DataError::Unavailable(_)) => *conn = None,
            Err(_) => {}
        }
        done
    }
}

/// Rows a multi-row insert writes at once: 1,001 parameters, under SQLite's 32,766 and
/// PostgreSQL's 65,535.
const BATCH: usize = 500;

/// Inserts `tracks` as the rows (`key`, `start + i`, track) of a list table, `insert` being its
/// `INSERT INTO table (key, position, track_id) VALUES ` (the table's name is the code's, never a
/// caller's).
async fn insert_list(
    conn: &mut AnyConnection,
    insert: &'static str,
    key: &str,
    start: usize,
    tracks: &[String],
) -> Result<(), DataError> {
    use std::fmt::Write as _;
    for (n, chunk) in tracks.chunks(BATCH).enumerate() {
        let mut sql = String::from(insert);
        for i in 0..chunk.len() {
            let sep = if i == 0 { "" } else { ", " };
            let _ = write!(sql, "{sep}($1, ${}, ${})", 2 + 2 * i, 3 + 2 * i);
        }
        let mut query = sqlx::query(&sql).bind(key);
        for (i, track) in chunk.iter().enumerate() {
            query = query
                .bind(position(start + n * BATCH + i))
                .bind(track.as_str());
        }
        // A statement per length is prepared and kept: keep only the common ones.
        query
            .persistent(chunk.len() == 1 || chunk.len() == BATCH)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// A list position as stored (lists hold at most [`MAX_ENTRIES`]).
fn position(index: usize) -> i64 {
    i64::try_from(index).unwrap_or(i64::MAX)
}

/// Unix milliseconds, as times are stored (0 before 1970).
fn millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// A stored time back as a `SystemTime`.
fn time(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

fn now() -> i64 {
    millis(SystemTime::now())
}

/// A stored count or offset that is never negative.
fn unsigned(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sqlx::Row as _;

    /// SQLite through Any binds `$N` by its number, not by its place: a parameter used twice and
    /// out of order still gets its own value (the throttle's upsert relies on it).
    #[test]
    fn dollar_placeholders_bind_by_number_on_sqlite_through_any() {
        sqlx::any::install_default_drivers();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            use sqlx::Connection as _;
            let mut conn = AnyConnection::connect("sqlite::memory:").await.unwrap();
            let row = sqlx::query("SELECT $2, $1, $2 + $1, $3")
                .bind(10_i64)
                .bind(3_i64)
                .bind("it's")
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert_eq!(row.get::<i64, _>(0), 3);
            assert_eq!(row.get::<i64, _>(1), 10);
            assert_eq!(row.get::<i64, _>(2), 13);
            assert_eq!(row.get::<String, _>(3), "it's");
        });
    }

    #[test]
    fn connection_troubles_are_unavailable_and_mistakes_are_not() {
        for code in ["08006", "57P01", "57P03", "53300"] {
            assert!(transient(code, false), "{code}");
        }
        // 22021 (a NUL in text) would read as SQLite's "busy" by its low byte.
        for code in ["23505", "42P01", "22021", "40001"] {
            assert!(!transient(code, false), "{code}");
        }
        for code in ["5", "517", "6", "8", "10", "13", "14"] {
            assert!(transient(code, true), "{code}");
        }
        for code in ["19", "1555", "2067", "1", "11"] {
            assert!(!transient(code, true), "{code}");
        }
        assert!(matches!(
            DataError::from(sqlx::Error::PoolTimedOut),
            DataError::Unavailable(_)
        ));
        assert!(matches!(
            DataError::from(sqlx::Error::RowNotFound),
            DataError::Failed(_)
        ));
    }

    #[test]
    fn times_round_trip_in_milliseconds() {
        let at = UNIX_EPOCH + Duration::from_millis(1_767_225_600_123);
        assert_eq!(time(millis(at)), at);
        assert_eq!(millis(UNIX_EPOCH - Duration::from_secs(1)), 0);
    }
}
