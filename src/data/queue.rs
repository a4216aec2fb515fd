//! Where a listener is: the play queue (saved from one device, resumed on another) and
//! bookmarks (a position in a track, with a comment).

use std::time::SystemTime;

use sqlx::Row as _;

use super::{Data, DataError, MAX_QUEUE, check, insert_list, now, time, unsigned};

/// A user's saved play queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayQueue {
    /// Its track ids in order.
    pub tracks: Vec<String>,
    /// The track playing, one of `tracks`.
    pub current: Option<String>,
    /// How far into the current track, milliseconds.
    pub position_ms: u64,
    /// When it was saved.
    pub changed: SystemTime,
    /// The client that saved it.
    pub changed_by: String,
}

/// A position kept in one track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bookmark {
    /// The track's id.
    pub track: String,
    /// How far into it, milliseconds.
    pub position_ms: u64,
    /// The user's comment, empty if none.
    pub comment: String,
    /// When it was first set.
    pub created: SystemTime,
    /// When it was last set.
    pub changed: SystemTime,
}

impl Data {
    /// Saves `user`'s play queue, replacing the one before (no tracks: an empty queue).
    pub async fn save_play_queue(
        &self,
        user: &str,
        tracks: Vec<String>,
        current: Option<String>,
        position_ms: u64,
        changed_by: &str,
    ) -> Result<(), DataError> {
        check::name("a user name", user)?;
        check::name("a client name", changed_by)?;
        check::tracks("a play queue", &tracks, MAX_QUEUE)?;
        if let Some(current) = &current
            && !tracks.contains(current)
        {
            return Err(DataError::Invalid(
                "the current track is not in the queue".to_owned(),
            ));
        }
        let position_ms = check::offset(position_ms)?;
        let (db, user, by) = (self.db(), user.to_owned(), changed_by.to_owned());
        self.spawn(async move {
            db.transaction(move |conn| {
                Box::pin(async move {
                    // The queue's row first: the write (and its lock) before the entries go.
                    sqlx::query(
                        "INSERT INTO play_queues \
                         (user_name, current_track, position_ms, changed_ms, changed_by) \
                         VALUES ($1, $2, $3, $4, $5) \
                         ON CONFLICT (user_name) DO UPDATE SET \
                         current_track = excluded.current_track, \
                         position_ms = excluded.position_ms, \
                         changed_ms = excluded.changed_ms, changed_by = excluded.changed_by",
                    )
                    .bind(&user)
                    .bind(current.as_deref())
                    .bind(position_ms)
                    .bind(now())
                    .bind(&by)
                    .execute(&mut *conn)
                    .await?;
                    sqlx::query("DELETE FROM play_queue_entries WHERE user_name = $1")
                        .bind(&user)
                        .execute(&mut *conn)
                        .await?;
                    insert_list(
                        conn,
                        "INSERT INTO play_queue_entries (user_name, position, track_id) VALUES ",
                        &user,
                        0,
                        &tracks,
                    )
                    .await
                })
            })
            .await
        })
        .await
    }

    /// `user`'s saved play queue, if they saved one.
    pub async fn play_queue(&self, user: &str) -> Result<Option<PlayQueue>, DataError> {
        check::name("a user name", user)?;
        let (db, user) = (self.db(), user.to_owned());
        self.spawn(async move {
            // One statement: the entries of the save it reads.
            let rows = sqlx::query(
                "SELECT q.current_track, q.position_ms, q.changed_ms, q.changed_by, e.track_id \
                 FROM play_queues q LEFT JOIN play_queue_entries e ON e.user_name = q.user_name \
                 WHERE q.user_name = $1 ORDER BY e.position",
            )
            .bind(&user)
            .fetch_all(&db.pool)
            .await?;
            let Some(first) = rows.first() else {
                return Ok(None);
            };
            Ok(Some(PlayQueue {
                current: first.try_get(0)?,
                position_ms: unsigned(first.try_get(1)?),
                changed: time(first.try_get(2)?),
                changed_by: first.try_get(3)?,
                tracks: rows
                    .iter()
                    .filter_map(|row| row.try_get::<Option<String>, _>(4).transpose())
                    .collect::<Result<_, _>>()?,
            }))
        })
        .await
    }

    /// Sets `user`'s bookmark in `track` (one per track: a second replaces the first).
    pub async fn set_bookmark(
        &self,
        user: &str,
        track: &str,
        position_ms: u64,
        comment: &str,
    ) -> Result<(), DataError> {
        check::name("a user name", user)?;
        check::id("a track id", track)?;
        check::comment(comment)?;
        let position_ms = check::offset(position_ms)?;
        let (db, user, track, comment) = (
            self.db(),
            user.to_owned(),
            track.to_owned(),
            comment.to_owned(),
        );
        self.spawn(async move {
            db.write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO bookmarks \
                         (user_name, track_id, position_ms, comment, created_ms, changed_ms) \
                         VALUES ($1, $2, $3, $4, $5, $5) \
                         ON CONFLICT (user_name, track_id) DO UPDATE SET \
                         position_ms = excluded.position_ms, comment = excluded.comment, \
                         changed_ms = excluded.changed_ms",
                    )
                    .bind(&user)
                    .bind(&track)
                    .bind(position_ms)
                    .bind(&comment)
                    .bind(now())
                    .execute(conn)
                    .await?;
                    Ok(())
                })
            })
            .await
        })
        .await
    }

    /// `user`'s bookmarks, the latest set first.
    pub async fn bookmarks(&self, user: &str) -> Result<Vec<Bookmark>, DataError> {
        check::name("a user name", user)?;
        let (db, user) = (self.db(), user.to_owned());
        self.spawn(async move {
            let rows = sqlx::query(
                "SELECT track_id, position_ms, comment, created_ms, changed_ms FROM bookmarks \
                 WHERE user_name = $1 ORDER BY changed_ms DESC, track_id",
            )
            .bind(&user)
            .fetch_all(&db.pool)
            .await?;
            rows.iter()
                .map(|row| {
                    Ok(Bookmark {
                        track: row.try_get(0)?,
                        position_ms: unsigned(row.try_get(1)?),
                        comment: row.try_get(2)?,
                        created: time(row.try_get(3)?),
                        changed: time(row.try_get(4)?),
                    })
                })
                .collect()
        })
        .await
    }

    /// Deletes `user`'s bookmark in `track`; [`DataError::NotFound`] if there was none.
    pub async fn delete_bookmark(&self, user: &str, track: &str) -> Result<(), DataError> {
        check::name("a user name", user)?;
        check::id("a track id", track)?;
        let (db, user, track) = (self.db(), user.to_owned(), track.to_owned());
        self.spawn(async move {
            db.write(move |conn| {
                Box::pin(async move {
                    let done =
                        sqlx::query("DELETE FROM bookmarks WHERE user_name = $1 AND track_id = $2")
                            .bind(&user)
                            .bind(&track)
                            .execute(conn)
                            .await?;
                    if done.rows_affected() == 0 {
                        return Err(DataError::NotFound("bookmark"));
                    }
                    Ok(())
                })
            })
            .await
        })
        .await
    }
}
