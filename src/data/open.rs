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

use super::{DataError, Db};
use crate::config::Database;

/// The SQLite file in `--data-dir`.
pub(super) const FILE: &str = "audio-streamer.db";

/// How long a query waits for a connection: short, so that when PostgreSQL is down the answer is a
/// quick 503 rather than a hung request (the pool keeps trying to connect for this long).
const ACQUIRE: Duration = Duration::from_secs(2);

/// How long SQLite waits for another process's write to end before saying it is busy.
const BUSY: Duration = Duration::from_secs(5);

/// Connections per pool. SQLite: readers beside the one writer (WAL lets them read meanwhile).
const SQLITE_CONNECTIONS: u32 = 4;
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
    conn.close().await.map_err(at)?;
    let pool = AnyPoolOptions::new()
        .max_connections(SQLITE_CONNECTIONS)
        .acquire_timeout(ACQUIRE)
        .after_connect(|conn, _| {
            Box::pin(async move {
                // Per connection. NORMAL: in WAL mode a commit survives a crash of the process,
                // and the last ones may be lost only if the machine itself stops (no fsync each).
                for pragma in [
                    format!("PRAGMA busy_timeout = {}", BUSY.as_millis()),
                    "PRAGMA synchronous = NORMAL".to_owned(),
                    "PRAGMA foreign_keys = ON".to_owned(),
                ] {
                    sqlx::query(&pragma).execute(&mut *conn).await?;
                }
                Ok(())
            })
        })
        .connect_lazy_with(options);
    Ok(Db {
        pool,
        writer: Some(Arc::new(tokio::sync::Mutex::new(()))),
    })
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
