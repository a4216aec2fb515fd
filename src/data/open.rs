//! Opening the database: SQLite's file and its settings, or PostgreSQL's server; the migrations run
//! on one connection, then the pool every query takes its connection from.

use std::path::Path;
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use sqlx::AnyConnection;
use sqlx::ConnectOptions as _;
use sqlx::Connection as _;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;

use super::{DataError, Db, Writer};
use crate::config::Database;

/// The SQLite file in `--data-dir`.
pub(super) const FILE: &str = "audio-streamer.db";

/// How long a query waits for a connection: short, so that when PostgreSQL is down the answer is a
/// quick 503 rather than a hung request (the pool keeps trying to connect for this long).
const ACQUIRE: Duration = Duration::from_secs(2);

/// How long SQLite waits for another process's write to end before saying it is busy.
const BUSY: Duration = Duration::from_secs(5);

/// How long after a write the write-ahead log is checkpointed (writes meanwhile join it).
const CHECKPOINT_AFTER: Duration = Duration::from_millis(200);

/// Connections per pool. SQLite: readers, beside the one writing connection (WAL lets them read
/// while it writes).
const SQLITE_READERS: u32 = 3;
/// PostgreSQL: small, since every replica has its own pool and the server's default cap is 100.
const POSTGRES_CONNECTIONS: u32 = 8;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Where `database` is, for logs and errors: never its password.
pub(super) fn describe(database: &Database) -> String {
    match database {
        Database::Sqlite(dir) => format!("SQLite at {}", dir.join(FILE).display()),
        Database::Postgres(url) => match url::Url::parse(url) {
            Ok(url) => format!(
                "PostgreSQL at {}:{}{}",
                url.host_str().unwrap_or("localhost"),
                url.port().unwrap_or(5432),
                url.path()
            ),
            Err(_) => "PostgreSQL at an unreadable URL".to_owned(),
        },
    }
}

/// Opens `database`, brought up to date.
pub(super) async fn open(database: &Database) -> Result<Db, DataError> {
    sqlx::any::install_default_drivers();
    match database {
        Database::Sqlite(dir) => sqlite(dir).await,
        Database::Postgres(url) => postgres(url, &describe(database)).await,
    }
}

fn start(at: impl std::fmt::Display, reason: impl std::fmt::Display) -> DataError {
    DataError::Start {
        at: at.to_string(),
        reason: reason.to_string(),
    }
}

async fn sqlite(dir: &Path) -> Result<Db, DataError> {
    std::fs::create_dir_all(dir).map_err(|err| start(dir.display(), err))?;
    let file = dir.join(FILE);
    // SQLite opens a file it may not write read-only and says so only at the first write; ask
    // the system first, so a read-only folder or file stops the start, naming it.
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&file)
        .map_err(|err| start(file.display(), err))?;
    let url = SqliteConnectOptions::new()
        .filename(&file)
        .create_if_missing(true)
        .to_url_lossy();
    let options = AnyConnectOptions::from_url(&url).map_err(|err| start(file.display(), err))?;
    let at = |err: sqlx::Error| start(file.display(), err);
    let mut conn = AnyConnection::connect_with(&options).await.map_err(at)?;
    // WAL: readers do not wait for the writer, and a commit is one append to the log. The mode is
    // kept in the file; changing it needs the only connection, so it is set here, before the pool.
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode = WAL")
        .fetch_one(&mut conn)
        .await
        .map_err(at)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(start(
            file.display(),
            format!("it cannot keep a write-ahead log (journal mode {mode})"),
        ));
    }
    MIGRATOR
        // `run_direct`: `run` takes an `Acquire` whose future is not `Send` for any lifetime.
        .run_direct(&mut conn)
        .await
        .map_err(|err| start(file.display(), err))?;
    settings(&mut conn, true).await.map_err(at)?;
    // Readers: a local file does not go away, so a kept connection is handed out unpinged.
    let pool = AnyPoolOptions::new()
        .max_connections(SQLITE_READERS)
        .acquire_timeout(ACQUIRE)
        .test_before_acquire(false)
        .after_connect(|conn, _| Box::pin(settings(conn, false)))
        .connect_lazy_with(options.clone());
    let wrote = Arc::new(tokio::sync::Notify::new());
    tokio::spawn(checkpoints(pool.clone(), Arc::clone(&wrote)));
    Ok(Db {
        pool,
        writer: Some(Arc::new(tokio::sync::Mutex::new(Writer {
            options,
            conn: Some(conn),
            wrote,
        }))),
    })
}

/// Copies the write-ahead log back into the database file a moment after writes, on a reading
/// connection. SQLite would otherwise do it inside the commit that fills the log past 1,000
/// pages, holding up that write and every one queued behind it for the copy and its fsyncs (the
/// writing connection has `wal_autocheckpoint` off). PASSIVE: it neither waits for nor blocks
/// readers and the writer. Idle, it sleeps until the next write. Ends with the data's runtime.
async fn checkpoints(pool: sqlx::AnyPool, wrote: Arc<tokio::sync::Notify>) {
    loop {
        wrote.notified().await;
        // The writes of the next moment join this checkpoint.
        tokio::time::sleep(CHECKPOINT_AFTER).await;
        if let Err(err) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&pool)
            .await
        {
            log::warn!("listeners' data: cannot checkpoint the write-ahead log: {err}");
        }
    }
}

/// SQLite's writing connection, again (after one failed).
pub(super) async fn writer(options: &AnyConnectOptions) -> Result<AnyConnection, DataError> {
    let mut conn = AnyConnection::connect_with(options).await?;
    settings(&mut conn, true).await?;
    Ok(conn)
}

/// The settings of a SQLite connection, which last as long as it does.
async fn settings(conn: &mut AnyConnection, writes: bool) -> Result<(), sqlx::Error> {
    // NORMAL: in WAL mode a commit survives a crash of the process, and the last ones may be lost
    // only if the machine itself stops (no fsync at each commit). The page cache: at most 1 MiB
    // a connection (2 MiB by default); the system's cache holds the file anyway.
    let mut pragmas = vec![
        format!("PRAGMA busy_timeout = {}", BUSY.as_millis()),
        "PRAGMA synchronous = NORMAL".to_owned(),
        "PRAGMA foreign_keys = ON".to_owned(),
        "PRAGMA cache_size = -1024".to_owned(),
    ];
    if writes {
        // `checkpoints` does it instead; after one, the log file is cut back to 4 MiB.
        pragmas.push("PRAGMA wal_autocheckpoint = 0".to_owned());
        pragmas.push("PRAGMA journal_size_limit = 4194304".to_owned());
    }
    for pragma in pragmas {
        sqlx::query(&pragma).execute(&mut *conn).await?;
    }
    Ok(())
}

async fn postgres(url: &str, place: &str) -> Result<Db, DataError> {
    let options = AnyConnectOptions::from_str(url).map_err(|err| start(place, err))?;
    // One connection first, so a wrong host, password or database is said as it is (a pool would
    // only time out), and the migrations run on it (under PostgreSQL's advisory lock, so replicas
    // starting together do not run them twice).
    let mut conn = AnyConnection::connect_with(&options)
        .await
        .map_err(|err| start(place, err))?;
    MIGRATOR
        // `run_direct`: `run` takes an `Acquire` whose future is not `Send` for any lifetime.
        .run_direct(&mut conn)
        .await
        .map_err(|err| start(place, err))?;
    conn.close().await.map_err(|err| start(place, err))?;
    // Lazily: a connection is made when a query needs one. A kept one is pinged before it is
    // handed out (sqlx's default, relied on here), so once a restarted server is back the first
    // query already gets a new connection instead of a dead one.
    let pool = AnyPoolOptions::new()
        .max_connections(POSTGRES_CONNECTIONS)
        .test_before_acquire(true)
        .acquire_timeout(ACQUIRE)
        .connect_lazy_with(options);
    Ok(Db { pool, writer: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_is_told_without_its_password() {
        assert_eq!(
            describe(&Database::Postgres(
                "postgres://me:secret@db.example:6543/music".to_owned()
            )),
            "PostgreSQL at db.example:6543/music"
        );
        assert_eq!(
            describe(&Database::Postgres("postgresql://me@db/music".to_owned())),
            "PostgreSQL at db:5432/music"
        );
        assert_eq!(
            describe(&Database::Sqlite("data".into())),
            "SQLite at data/audio-streamer.db"
        );
    }
}
