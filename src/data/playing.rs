//! What each listener is playing now, as their apps last said it: one row per listener, shown for
//! ten minutes, the same on every replica that shares the database.

use std::time::{Duration, SystemTime};

use sqlx::Row as _;

use super::{Data, DataError, check, millis, now, time};

/// How long an entry is shown after the app last said it.
const SHOWN_FOR: Duration = Duration::from_secs(10 * 60);

/// One listener's entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playing {
    /// Who.
    pub user: String,
    /// The track's id.
    pub track: String,
    /// The app that said it (Subsonic's `c`).
    pub client: String,
    /// When it was said.
    pub since: SystemTime,
}

impl Data {
    /// `user` plays `track` in `client`, from now; entries past their ten minutes are forgotten.
    pub async fn set_playing(
        &self,
        user: &str,
        track: &str,
        client: &str,
    ) -> Result<(), DataError> {
        check::name("a user name", user)?;
        check::id("a track id", track)?;
        check::name("an app name", client)?;
        let (db, user, track, client) = (
            self.db(),
            user.to_owned(),
            track.to_owned(),
            client.to_owned(),
        );
        let stale = millis(SystemTime::now() - SHOWN_FOR);
        self.spawn(async move {
            db.write(move |conn| {
                Box::pin(async move {
                    sqlx::query("DELETE FROM now_playing WHERE said_ms < $1")
                        .bind(stale)
                        .execute(&mut *conn)
                        .await?;
                    sqlx::query(
                        "INSERT INTO now_playing (user_name, track_id, client, said_ms) \
                         VALUES ($1, $2, $3, $4) ON CONFLICT (user_name) DO UPDATE SET \
                         track_id = excluded.track_id, client = excluded.client, \
                         said_ms = excluded.said_ms",
                    )
                    .bind(&user)
                    .bind(&track)
                    .bind(&client)
                    .bind(now())
                    .execute(&mut *conn)
                    .await?;
                    Ok(())
                })
            })
            .await
        })
        .await
    }

    /// The entries of the last ten minutes, the latest first.
    pub async fn now_playing(&self) -> Result<Vec<Playing>, DataError> {
        let db = self.db();
        let shown = millis(SystemTime::now() - SHOWN_FOR);
        self.spawn(async move {
            let rows = sqlx::query(
                "SELECT user_name, track_id, client, said_ms FROM now_playing \
                 WHERE said_ms >= $1 ORDER BY said_ms DESC, user_name",
            )
            .bind(shown)
            .fetch_all(&db.pool)
            .await?;
            let list = rows
                .iter()
                .map(|row| {
                    Ok(Playing {
                        user: row.try_get(0)?,
                        track: row.try_get(1)?,
                        client: row.try_get(2)?,
                        since: time(row.try_get(3)?),
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            Ok(list)
        })
        .await
    }
}
