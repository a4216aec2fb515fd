//! What a listener says about a track, album or artist: a star with its time, a rating, and for
//! tracks, how often and when last played. One row per user and item (`annotations`).

use std::collections::HashMap;
use std::time::SystemTime;

use sqlx::Row as _;

use super::{Data, DataError, check, millis, now, time, unsigned};

/// What an id names (the catalog's ids are opaque here, so the kind is said beside them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A track (`tr-…`).
    Track,
    /// An album (`al-…`).
    Album,
    /// An artist (`ar-…`).
    Artist,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Track => "track",
            Self::Album => "album",
            Self::Artist => "artist",
        }
    }

    fn what(self) -> &'static str {
        match self {
            Self::Track => "a track id",
            Self::Album => "an album id",
            Self::Artist => "an artist id",
        }
    }
}

/// What one user has said about one item; the default when nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Annotation {
    /// When it was starred, if it is.
    pub starred: Option<SystemTime>,
    /// 1 to 5, if rated.
    pub rating: Option<u8>,
    /// Plays recorded (tracks).
    pub play_count: u64,
    /// The latest play recorded.
    pub last_played: Option<SystemTime>,
}

/// A starred item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Starred {
    /// Its id.
    pub id: String,
    /// When it was starred.
    pub at: SystemTime,
}

/// Ids looked up per statement by [`Data::annotations_of`]. sqlx's SQLite driver finds each bound
/// parameter's index by name among all of the statement's, so a statement's binding costs the
/// square of its parameters: five statements of 100 ids bind 500 in a fifth of the time of one.
const LOOKUP: usize = 100;

/// The lengths of the lists of ids a lookup binds (a shorter list is filled up to the next).
const SIZES: [usize; 8] = [1, 2, 4, 8, 16, 32, 64, LOOKUP];

impl Data {
    /// Stars an item for `user`, now; starring it again keeps the first time.
    pub async fn star(&self, user: &str, kind: Kind, id: &str) -> Result<(), DataError> {
        check::name("a user name", user)?;
        check::id(kind.what(), id)?;
        let (db, user, id, at) = (self.db(), user.to_owned(), id.to_owned(), now());
        self.spawn(async move {
            db.write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO annotations (user_name, item_kind, item_id, starred_ms) \
                         VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (user_name, item_kind, item_id) DO UPDATE \
                         SET starred_ms = COALESCE(annotations.starred_ms, excluded.starred_ms)",
                    )
                    .bind(&user)
                    .bind(kind.as_str())
                    .bind(&id)
                    .bind(at)
                    .execute(conn)
                    .await?;
                    Ok(())
                })
            })
            .await
        })
        .await
    }

    /// Takes the star off an item (nothing if it had none).
    pub async fn unstar(&self, user: &str, kind: Kind, id: &str) -> Result<(), DataError> {
        check::name("a user name", user)?;
        check::id(kind.what(), id)?;
        let (db, user, id) = (self.db(), user.to_owned(), id.to_owned());
        self.spawn(async move {
            db.write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "UPDATE annotations SET starred_ms = NULL \
                         WHERE user_name = $1 AND item_kind = $2 AND item_id = $3",
                    )
                    .bind(&user)
                    .bind(kind.as_str())
                    .bind(&id)
                    .execute(conn)
                    .await?;
                    Ok(())
                })
            })
            .await
        })
        .await
    }

    /// The items of `kind` that `user` starred, the latest first.
    pub async fn starred(&self, user: &str, kind: Kind) -> Result<Vec<Starred>, DataError> {
        check::name("a user name", user)?;
        let (db, user) = (self.db(), user.to_owned());
        self.spawn(async move {
            let rows = sqlx::query(
                "SELECT item_id, starred_ms FROM annotations \
                 WHERE user_name = $1 AND item_kind = $2 AND starred_ms IS NOT NULL \
                 ORDER BY starred_ms DESC, item_id",
            )
            .bind(&user)
            .bind(kind.as_str())
            .fetch_all(&db.pool)
            .await?;
            rows.iter()
                .map(|row| {
                    Ok(Starred {
                        id: row.try_get(0)?,
                        at: time(row.try_get(1)?),
                    })
                })
                .collect()
        })
        .await
    }

    /// Rates an item 1 to 5, or clears its rating with `None`.
    pub async fn rate(
        &self,
        user: &str,
        kind: Kind,
        id: &str,
        rating: Option<u8>,
    ) -> Result<(), DataError> {
        check::name("a user name", user)?;
        check::id(kind.what(), id)?;
        rating.map(check::rating).transpose()?;
        let (db, user, id) = (self.db(), user.to_owned(), id.to_owned());
        self.spawn(async move {
            db.write(move |conn| {
                Box::pin(async move {
                    let query = match rating {
                        Some(rating) => sqlx::query(
                            "INSERT INTO annotations (user_name, item_kind, item_id, rating) \
                             VALUES ($1, $2, $3, $4) \
                             ON CONFLICT (user_name, item_kind, item_id) DO UPDATE \
                             SET rating = excluded.rating",
                        )
                        .bind(&user)
                        .bind(kind.as_str())
                        .bind(&id)
                        .bind(i64::from(rating)),
                        None => sqlx::query(
                            "UPDATE annotations SET rating = NULL \
                             WHERE user_name = $1 AND item_kind = $2 AND item_id = $3",
                        )
                        .bind(&user)
                        .bind(kind.as_str())
                        .bind(&id),
                    };
                    query.execute(conn).await?;
                    Ok(())
                })
            })
            .await
        })
        .await
    }

    /// Counts one play of `track` by `user` at `at`. Whether it counts (past half the track or
    /// four minutes) is the client's call. A play reported late does not move the last-played
    /// time back.
    pub async fn record_play(
        &self,
        user: &str,
        track: &str,
        at: SystemTime,
    ) -> Result<(), DataError> {
        check::name("a user name", user)?;
        check::id("a track id", track)?;
        let (db, user, track, at) = (self.db(), user.to_owned(), track.to_owned(), millis(at));
        self.spawn(async move {
            db.write(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO annotations \
                         (user_name, item_kind, item_id, play_count, played_ms) \
                         VALUES ($1, $2, $3, 1, $4) \
                         ON CONFLICT (user_name, item_kind, item_id) DO UPDATE \
                         SET play_count = annotations.play_count + 1, \
                         played_ms = CASE WHEN annotations.played_ms IS NULL \
                         OR annotations.played_ms < excluded.played_ms \
                         THEN excluded.played_ms ELSE annotations.played_ms END",
                    )
                    .bind(&user)
                    .bind(Kind::Track.as_str())
                    .bind(&track)
                    .bind(at)
                    .execute(conn)
                    .await?;
                    Ok(())
                })
            })
            .await
        })
        .await
    }

    /// Everything `user` said about items of `kind`: what lists by plays or ratings
    /// (`getAlbumList2`'s `frequent`, `recent` and `highest`) are made from.
    pub async fn annotated(
        &self,
        user: &str,
        kind: Kind,
    ) -> Result<Vec<(String, Annotation)>, DataError> {
        check::name("a user name", user)?;
        let (db, user) = (self.db(), user.to_owned());
        self.spawn(async move {
            let rows = sqlx::query(
                "SELECT item_id, starred_ms, rating, play_count, played_ms FROM annotations \
                 WHERE user_name = $1 AND item_kind = $2",
            )
            .bind(&user)
            .bind(kind.as_str())
            .fetch_all(&db.pool)
            .await?;
            rows.iter().map(annotation).collect()
        })
        .await
    }

    /// What `user` said about each of `ids` (of `kind`), for the ids with anything said.
    pub async fn annotations(
        &self,
        user: &str,
        kind: Kind,
        ids: &[String],
    ) -> Result<HashMap<String, Annotation>, DataError> {
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let [found] = self.annotations_of(user, [(kind, &ids)]).await?;
        Ok(found)
    }

    /// What `user` said about the items `asked` names, a list of ids for each kind, for the ids
    /// with anything said: a map for each list, in order. The decorations of an answer's
    /// tracks, albums and artists at once: one task, and one statement per [`LOOKUP`] ids of
    /// whatever kinds (each round trip to the database is a handful of thread switches).
    pub async fn annotations_of<const N: usize>(
        &self,
        user: &str,
        asked: [(Kind, &[&str]); N],
    ) -> Result<[HashMap<String, Annotation>; N], DataError> {
        check::name("a user name", user)?;
        for (kind, ids) in asked {
            ids.iter().try_for_each(|id| check::id(kind.what(), id))?;
        }
        let (db, user) = (self.db(), user.to_owned());
        let kinds = asked.map(|(kind, _)| kind);
        let ids: Vec<(Kind, String)> = asked
            .iter()
            .flat_map(|&(kind, ids)| ids.iter().map(move |&id| (kind, id.to_owned())))
            .collect();
        self.spawn(async move {
            let mut found = std::array::from_fn(|_| HashMap::new());
            for chunk in ids.chunks(LOOKUP) {
                // Three kinds and a size from `SIZES`, the last value bound again to fill them,
                // so that eight statements, prepared once per connection, serve every lookup.
                let mut in_chunk: Vec<Kind> = chunk.iter().map(|&(kind, _)| kind).collect();
                in_chunk.sort_by_key(|kind| kind.as_str());
                in_chunk.dedup();
                let size = SIZES.into_iter().find(|&size| size >= chunk.len());
                let size = size.unwrap_or(LOOKUP);
                let mut sql = String::from(
                    "SELECT item_id, starred_ms, rating, play_count, played_ms, item_kind \
                     FROM annotations WHERE user_name = $1 AND item_kind IN ($2, $3, $4) \
                     AND item_id IN (",
                );
                for i in 0..size {
                    let sep = if i == 0 { "" } else { ", " };
                    sql.push_str(&format!("{sep}${}", i + 5));
                }
                sql.push(')');
                let mut query = sqlx::query(&sql).bind(&user);
                for at in 0..3 {
                    query = query.bind(in_chunk[at.min(in_chunk.len() - 1)].as_str());
                }
                for at in 0..size {
                    query = query.bind(chunk[at.min(chunk.len() - 1)].1.as_str());
                }
                for row in query.fetch_all(&db.pool).await? {
                    let kind: String = row.try_get(5)?;
                    let (id, note) = annotation(&row)?;
                    for (at, _) in kinds.iter().enumerate().filter(|(_, k)| k.as_str() == kind) {
                        found[at].insert(id.clone(), note.clone());
                    }
                }
            }
            Ok(found)
        })
        .await
    }
}

/// A row of `item_id, starred_ms, rating, play_count, played_ms`.
fn annotation(row: &sqlx::any::AnyRow) -> Result<(String, Annotation), DataError> {
    let rating: Option<i64> = row.try_get(2)?;
    let note = Annotation {
        starred: row.try_get::<Option<i64>, _>(1)?.map(time),
        rating: rating.and_then(|r| u8::try_from(r).ok()),
        play_count: unsigned(row.try_get(3)?),
        last_played: row.try_get::<Option<i64>, _>(4)?.map(time),
    };
    Ok((row.try_get(0)?, note))
}
