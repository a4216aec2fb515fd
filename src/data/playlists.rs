//! Playlists: a user's named, ordered lists of track ids (duplicates allowed), private or public.
//!
//! Every change is one transaction whose first statement bumps the playlist's `version`
//! (`UPDATE … SET version = version + 1`, with the edit's metadata and new entry count). In
//! PostgreSQL that takes the playlist's row lock, in SQLite the database's write lock, before
//! anything is read, so the entry count and positions an edit works from cannot change under it:
//! two clients appending at once both land, in turn.
//! A client may also send the version it edits and get [`DataError::Conflict`] if it moved on.

use std::time::SystemTime;

use sqlx::AnyConnection;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use super::{Data, DataError, MAX_ENTRIES, check, insert_list, now, position, time, unsigned};

/// A playlist without its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaylistInfo {
    /// `pl-` and 16 random hex digits.
    pub id: String,
    /// The user who made it, and the only one who may change it.
    pub owner: String,
    /// Its name.
    pub name: String,
    /// Its comment, empty if none.
    pub comment: String,
    /// Whether other users see it.
    pub public: bool,
    /// When it was made.
    pub created: SystemTime,
    /// When it last changed.
    pub changed: SystemTime,
    /// Up by one with every change: what [`PlaylistEdit::expected_version`] is checked against.
    pub version: i64,
    /// How many entries it has.
    pub entries: usize,
}

/// A playlist with its entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Playlist {
    /// Everything but the entries.
    pub info: PlaylistInfo,
    /// Its track ids in order.
    pub tracks: Vec<String>,
}

/// One edit of a playlist, made in one transaction: metadata, then `remove` or `moved` (with
/// positions in the list as it was before the edit), then `append`.
#[derive(Debug, Clone, Default)]
pub struct PlaylistEdit {
    /// A new name.
    pub name: Option<String>,
    /// A new comment (empty clears it).
    pub comment: Option<String>,
    /// Shown to other users or not.
    pub public: Option<bool>,
    /// Positions (0-based) of entries to take out.
    pub remove: Vec<usize>,
    /// Moves the entry at the first position to the second, the ones between shifting by one.
    pub moved: Option<(usize, usize)>,
    /// Tracks to add at the end.
    pub append: Vec<String>,
    /// Edit only if the playlist is still at this version, else [`DataError::Conflict`].
    pub expected_version: Option<i64>,
}

const COLUMNS: &str = "id, owner, name, comment, public, created_ms, changed_ms, version, entries";

fn info(row: &AnyRow) -> Result<PlaylistInfo, DataError> {
    Ok(PlaylistInfo {
        id: row.try_get(0)?,
        owner: row.try_get(1)?,
        name: row.try_get(2)?,
        comment: row.try_get(3)?,
        public: row.try_get::<i64, _>(4)? != 0,
        created: time(row.try_get(5)?),
        changed: time(row.try_get(6)?),
        version: row.try_get(7)?,
        entries: usize::try_from(unsigned(row.try_get(8)?)).unwrap_or(usize::MAX),
    })
}

fn new_id() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the OS has a random source");
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!("pl-{hex}")
}

fn too_long(entries: usize) -> DataError {
    DataError::Invalid(format!(
        "a playlist holds at most {MAX_ENTRIES} entries (this one would have {entries})"
    ))
}

impl Data {
    /// Makes a private playlist of `tracks` for `owner`.
    pub async fn create_playlist(
        &self,
        owner: &str,
        name: &str,
        tracks: Vec<String>,
    ) -> Result<PlaylistInfo, DataError> {
        check::name("a user name", owner)?;
        check::name("a playlist name", name)?;
        check::tracks("a playlist", &tracks, MAX_ENTRIES)?;
        let at = now();
        let made = PlaylistInfo {
            id: new_id(),
            owner: owner.to_owned(),
            name: name.to_owned(),
            comment: String::new(),
            public: false,
            created: time(at),
            changed: time(at),
            version: 0,
            entries: tracks.len(),
        };
        let (db, row) = (self.db(), made.clone());
        self.spawn(async move {
            db.transaction(move |conn| {
                Box::pin(async move {
                    sqlx::query(
                        "INSERT INTO playlists \
                         (id, owner, name, comment, public, created_ms, changed_ms, version, entries) \
                         VALUES ($1, $2, $3, $4, 0, $5, $5, 0, $6)",
                    )
                    .bind(&row.id)
                    .bind(&row.owner)
                    .bind(&row.name)
                    .bind(&row.comment)
                    .bind(at)
                    .bind(position(tracks.len()))
                    .execute(&mut *conn)
                    .await?;
                    insert_entries(conn, &row.id, 0, &tracks).await
                })
            })
            .await
        })
        .await?;
        Ok(made)
    }

    /// The playlists `user` sees: their own and other users' public ones, oldest first.
    pub async fn playlists(&self, user: &str) -> Result<Vec<PlaylistInfo>, DataError> {
        check::name("a user name", user)?;
        let (db, user) = (self.db(), user.to_owned());
        self.spawn(async move {
            let sql = format!(
                "SELECT {COLUMNS} FROM playlists WHERE owner = $1 OR public = 1 \
                 ORDER BY created_ms, id"
            );
            let rows = sqlx::query(&sql).bind(&user).fetch_all(&db.pool).await?;
            rows.iter().map(info).collect()
        })
        .await
    }

    /// A playlist with its entries, if `user` may see it (theirs, or public); another user's
    /// private playlist is [`DataError::NotFound`], as if there were none.
    pub async fn playlist(&self, user: &str, id: &str) -> Result<Playlist, DataError> {
        check::name("a user name", user)?;
        check::id("a playlist id", id)?;
        let (db, user, id) = (self.db(), user.to_owned(), id.to_owned());
        self.spawn(async move {
            // One statement, so the entries are those of the version it reads (a second query
            // could see a later edit's).
            let rows = sqlx::query(
                "SELECT p.id, p.owner, p.name, p.comment, p.public, p.created_ms, p.changed_ms, \
                 p.version, p.entries, e.track_id \
                 FROM playlists p LEFT JOIN playlist_entries e ON e.playlist_id = p.id \
                 WHERE p.id = $1 ORDER BY e.position",
            )
            .bind(&id)
            .fetch_all(&db.pool)
            .await?;
            let Some(first) = rows.first() else {
                return Err(DataError::NotFound("playlist"));
            };
            let info = info(first)?;
            if info.owner != user && !info.public {
                return Err(DataError::NotFound("playlist"));
            }
            let tracks = rows
                .iter()
                .filter_map(|row| row.try_get::<Option<String>, _>(9).transpose())
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Playlist { info, tracks })
        })
        .await
    }

    /// Makes `edit` to `user`'s playlist `id`, in one transaction, and returns it as it is after.
    pub async fn edit_playlist(
        &self,
        user: &str,
        id: &str,
        edit: PlaylistEdit,
    ) -> Result<PlaylistInfo, DataError> {
        check::name("a user name", user)?;
        check::id("a playlist id", id)?;
        if let Some(name) = &edit.name {
            check::name("a playlist name", name)?;
        }
        if let Some(comment) = &edit.comment {
            check::comment(comment)?;
        }
        if !edit.remove.is_empty() && edit.moved.is_some() {
            return Err(DataError::Invalid(
                "remove entries and move one in separate edits".to_owned(),
            ));
        }
        check::tracks("a playlist", &edit.append, MAX_ENTRIES)?;
        let (db, user, id) = (self.db(), user.to_owned(), id.to_owned());
        self.spawn(async move {
            db.transaction(move |conn| Box::pin(async move { apply(conn, &user, &id, edit).await }))
                .await
        })
        .await
    }

    /// Replaces every entry of `user`'s playlist `id` with `tracks`.
    pub async fn replace_playlist_tracks(
        &self,
        user: &str,
        id: &str,
        tracks: Vec<String>,
        expected_version: Option<i64>,
    ) -> Result<PlaylistInfo, DataError> {
        check::name("a user name", user)?;
        check::id("a playlist id", id)?;
        check::tracks("a playlist", &tracks, MAX_ENTRIES)?;
        let (db, user, id) = (self.db(), user.to_owned(), id.to_owned());
        self.spawn(async move {
            db.transaction(move |conn| {
                Box::pin(async move {
                    let edit = PlaylistEdit {
                        expected_version,
                        ..Default::default()
                    };
                    let count = Count::Set(position(tracks.len()));
                    let (info, _) = bump(conn, &user, &id, &edit, count).await?;
                    sqlx::query("DELETE FROM playlist_entries WHERE playlist_id = $1")
                        .bind(&id)
                        .execute(&mut *conn)
                        .await?;
                    insert_entries(conn, &id, 0, &tracks).await?;
                    Ok(info)
                })
            })
            .await
        })
        .await
    }

    /// Deletes `user`'s playlist `id` with its entries. Another user's public playlist is
    /// [`DataError::Forbidden`]; a private one, or none, [`DataError::NotFound`].
    pub async fn delete_playlist(&self, user: &str, id: &str) -> Result<(), DataError> {
        check::name("a user name", user)?;
        check::id("a playlist id", id)?;
        let (db, user, id) = (self.db(), user.to_owned(), id.to_owned());
        self.spawn(async move {
            db.transaction(move |conn| {
                Box::pin(async move {
                    let done = sqlx::query("DELETE FROM playlists WHERE id = $1 AND owner = $2")
                        .bind(&id)
                        .bind(&user)
                        .execute(&mut *conn)
                        .await?;
                    if done.rows_affected() == 0 {
                        return Err(refusal(conn, &id).await);
                    }
                    Ok(())
                })
            })
            .await
        })
        .await
    }
}

/// How an edit changes the entry count.
#[derive(Clone, Copy)]
enum Count {
    /// By this many (an append, a removal, or both).
    Add(i64),
    /// To this many (a replacement).
    Set(i64),
}

/// The first statement of every edit: bumps the version of `user`'s playlist `id`, which locks
/// it until the transaction ends, and writes the edit's metadata and new entry count in the same
/// statement. Checks the version the client expects; returns the playlist as it will be once the
/// edit's entries are written, and its entry count before.
async fn bump(
    conn: &mut AnyConnection,
    user: &str,
    id: &str,
    edit: &PlaylistEdit,
    count: Count,
) -> Result<(PlaylistInfo, usize), DataError> {
    let entries = match count {
        Count::Add(_) => "entries + $4",
        Count::Set(_) => "$4",
    };
    let sql = format!(
        "UPDATE playlists SET version = version + 1, changed_ms = $3, entries = {entries}, \
         name = COALESCE($5, name), comment = COALESCE($6, comment), \
         public = COALESCE($7, public) \
         WHERE id = $1 AND owner = $2 RETURNING {COLUMNS}"
    );
    let (Count::Add(n) | Count::Set(n)) = count;
    let row = sqlx::query(&sql)
        .bind(id)
        .bind(user)
        .bind(now())
        .bind(n)
        .bind(edit.name.as_deref())
        .bind(edit.comment.as_deref())
        .bind(edit.public.map(i64::from))
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else {
        return Err(refusal(conn, id).await);
    };
    let info = info(&row)?;
    let current = info.version - 1;
    if let Some(expected) = edit.expected_version
        && expected != current
    {
        return Err(DataError::Conflict { expected, current });
    }
    let before = match count {
        Count::Add(n) => i64::try_from(info.entries).unwrap_or(i64::MAX) - n,
        // Not needed by a replacement, which rewrites every entry.
        Count::Set(_) => 0,
    };
    if info.entries > MAX_ENTRIES {
        return Err(too_long(info.entries));
    }
    Ok((info, usize::try_from(before).unwrap_or(0)))
}

/// Why a user could not change playlist `id`: it is someone else's public one, or they cannot see
/// it (someone else's private one, or none).
async fn refusal(conn: &mut AnyConnection, id: &str) -> DataError {
    let public = sqlx::query_scalar::<_, i64>("SELECT public FROM playlists WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await;
    match public {
        Ok(Some(1)) => DataError::Forbidden,
        Ok(_) => DataError::NotFound("playlist"),
        Err(err) => err.into(),
    }
}

async fn apply(
    conn: &mut AnyConnection,
    user: &str,
    id: &str,
    edit: PlaylistEdit,
) -> Result<PlaylistInfo, DataError> {
    let mut gone = edit.remove.clone();
    gone.sort_unstable();
    gone.dedup();
    let change = position(edit.append.len()) - position(gone.len());
    let (info, entries) = bump(conn, user, id, &edit, Count::Add(change)).await?;
    let outside = |at: usize| {
        DataError::Invalid(format!(
            "no entry at position {at}: the playlist has {entries} (positions 0 to {})",
            entries.saturating_sub(1)
        ))
    };
    if let Some(&last) = gone.last() {
        if last >= entries {
            return Err(outside(last));
        }
        let first = gone[0];
        let tail = take_range(conn, id, first, entries).await?;
        let kept: Vec<String> = tail
            .into_iter()
            .enumerate()
            .filter(|(i, _)| gone.binary_search(&(first + i)).is_err())
            .map(|(_, track)| track)
            .collect();
        insert_entries(conn, id, first, &kept).await?;
    }
    if let Some((from, to)) = edit.moved {
        if let Some(at) = [from, to].into_iter().find(|&at| at >= entries) {
            return Err(outside(at));
        }
        if from != to {
            // Only the entries between the two positions change places.
            let (low, high) = (from.min(to), from.max(to));
            let mut range = take_range(conn, id, low, high + 1).await?;
            let track = range.remove(from - low);
            range.insert(to - low, track);
            insert_entries(conn, id, low, &range).await?;
        }
    }
    insert_entries(conn, id, entries - gone.len(), &edit.append).await?;
    Ok(info)
}

/// Takes the entries at positions `from..to` out of the playlist, returning their tracks in order.
async fn take_range(
    conn: &mut AnyConnection,
    id: &str,
    from: usize,
    to: usize,
) -> Result<Vec<String>, DataError> {
    let tracks: Vec<String> = sqlx::query_scalar(
        "SELECT track_id FROM playlist_entries \
         WHERE playlist_id = $1 AND position >= $2 AND position < $3 ORDER BY position",
    )
    .bind(id)
    .bind(position(from))
    .bind(position(to))
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query(
        "DELETE FROM playlist_entries WHERE playlist_id = $1 AND position >= $2 AND position < $3",
    )
    .bind(id)
    .bind(position(from))
    .bind(position(to))
    .execute(&mut *conn)
    .await?;
    Ok(tracks)
}

async fn insert_entries(
    conn: &mut AnyConnection,
    id: &str,
    start: usize,
    tracks: &[String],
) -> Result<(), DataError> {
    insert_list(
        conn,
        "INSERT INTO playlist_entries (playlist_id, position, track_id) VALUES ",
        id,
        start,
        tracks,
    )
    .await
}
