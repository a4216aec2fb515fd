//! What replicas share about signing in: sessions signed out before they expire (so a copy of the
//! cookie cannot come back on any replica), and the login throttle, counted in the database so
//! that attempts spread over replicas are counted once each.

use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use sqlx::Row as _;

use super::{Data, DataError, check, millis, now};
use crate::auth::{LOGIN_BURST, LOGIN_EVERY};

/// Every this many login attempts, the keys whose budget is full again are forgotten.
const FORGET_EVERY: u64 = 100;

impl Data {
    /// Records that session `session_id`, valid until `expires_unix` (seconds), was signed out;
    /// forgets the ones that have expired since.
    pub async fn sign_out(&self, session_id: &str, expires_unix: u64) -> Result<(), DataError> {
        check::id("a session id", session_id)?;
        let expires = i64::try_from(expires_unix.saturating_mul(1000)).unwrap_or(i64::MAX);
        let (db, id) = (self.db(), session_id.to_owned());
        self.spawn(async move {
            db.transaction(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO signed_out (session_id, expires_ms, signed_out_ms) \
                         VALUES ($1, $2, $3) ON CONFLICT (session_id) DO UPDATE \
                         SET expires_ms = excluded.expires_ms, \
                         signed_out_ms = excluded.signed_out_ms",
                    )
                    .bind(&id)
                    .bind(expires)
                    .bind(now())
                    .execute(&mut *conn)
                    .await?;
                    sqlx::query("DELETE FROM signed_out WHERE expires_ms <= $1")
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

    /// The sessions signed out at `since` or later (by any replica's clock) that have not expired:
    /// each id with when it expires (Unix seconds). Each replica asks every few seconds, a little
    /// further back than its last answer, so that clocks a few seconds apart miss nothing.
    pub async fn signed_out_since(
        &self,
        since: SystemTime,
    ) -> Result<Vec<(String, u64)>, DataError> {
        let (db, since) = (self.db(), millis(since));
        self.spawn(async move {
            let rows = sqlx::query(
                "SELECT session_id, expires_ms FROM signed_out \
                 WHERE signed_out_ms >= $1 AND expires_ms > $2",
            )
            .bind(since)
            .bind(now())
            .fetch_all(&db.pool)
            .await?;
            Ok(rows
                .iter()
                .map(|row| {
                    let expires: i64 = row.get(1);
                    (row.get::<String, _>(0), super::unsigned(expires) / 1000)
                })
                .collect())
        })
        .await
    }

    /// Whether session `session_id` was signed out (and has not expired since).
    pub async fn is_signed_out(&self, session_id: &str) -> Result<bool, DataError> {
        check::id("a session id", session_id)?;
        let (db, id) = (self.db(), session_id.to_owned());
        self.spawn(async move {
            let found =
                sqlx::query("SELECT 1 FROM signed_out WHERE session_id = $1 AND expires_ms > $2")
                    .bind(&id)
                    .bind(now())
                    .fetch_optional(&db.pool)
                    .await?;
            Ok(found.is_some())
        })
        .await
    }

    /// Takes one login attempt for `key` (a client address, a user name) at `now`: `Ok(Err(wait))`
    /// when it has none left, with how long until the next one. Five at once, then one per
    /// 12 s (`LOGIN_BURST` and `LOGIN_EVERY` in `auth`), as GCRA: each key keeps the theoretical arrival time (TAT) of its next
    /// attempt; an attempt is refused while the TAT is more than `(burst - 1) × every` ahead, and
    /// else moves it one period on from the later of itself and now.
    ///
    /// The read and the write are one upsert statement, so two replicas counting the same key at
    /// once are both counted (the row's lock orders them). Its `SET` expressions all read the row
    /// as it was, which is how `refused` tells the outcome (`RETURNING` shows only the new row).
    pub async fn login_attempt(
        &self,
        key: &str,
        now: SystemTime,
    ) -> Result<Result<(), Duration>, DataError> {
        check::name("a throttle key", key)?;
        let every = i64::try_from(LOGIN_EVERY.as_millis()).unwrap_or(i64::MAX);
        let tolerance = every * i64::from(LOGIN_BURST.max(1) - 1);
        let forget = self
            .inner
            .attempts
            .fetch_add(1, Ordering::Relaxed)
            .is_multiple_of(FORGET_EVERY);
        let (db, key, now) = (self.db(), key.to_owned(), millis(now));
        self.spawn(async move {
            db.write(move |conn| {
                Box::pin(async move {
                    let row = sqlx::query(
                        "INSERT INTO login_throttle (throttle_key, tat_ms, refused) \
                         VALUES ($1, $2 + $3, 0) \
                         ON CONFLICT (throttle_key) DO UPDATE SET \
                         refused = CASE WHEN login_throttle.tat_ms - $2 > $4 THEN 1 ELSE 0 END, \
                         tat_ms = CASE \
                         WHEN login_throttle.tat_ms - $2 > $4 THEN login_throttle.tat_ms \
                         WHEN login_throttle.tat_ms < $2 THEN $2 + $3 \
                         ELSE login_throttle.tat_ms + $3 END \
                         RETURNING tat_ms, refused",
                    )
                    .bind(&key)
                    .bind(now)
                    .bind(every)
                    .bind(tolerance)
                    .fetch_one(&mut *conn)
                    .await?;
                    let (tat, refused): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
                    if forget {
                        // A key whose TAT has passed has its whole burst again: the same as none.
                        sqlx::query("DELETE FROM login_throttle WHERE tat_ms < $1")
                            .bind(now)
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(if refused == 0 {
                        Ok(())
                    } else {
                        let wait = u64::try_from(tat - now - tolerance).unwrap_or(0);
                        Err(Duration::from_millis(wait))
                    })
                })
            })
            .await
        })
        .await
    }
}
