//! The limits on what a listener may store, checked before any query so a mistake is a clear
//! [`DataError::Invalid`] (a 4xx) and never a panic or a database error.

use super::DataError;

/// Most characters in a name (of a user, a playlist, a client, a throttle key).
pub const MAX_NAME_CHARS: usize = 200;
/// Most characters in a playlist's or bookmark's comment.
pub const MAX_COMMENT_CHARS: usize = 2_000;
/// Most entries in a playlist.
pub const MAX_ENTRIES: usize = 10_000;
/// Most tracks in a play queue.
pub const MAX_QUEUE: usize = 10_000;
/// Most bytes in an id (of a track, album, artist, playlist or session).
pub const MAX_ID_BYTES: usize = 64;
/// The highest rating (the lowest is 1).
pub const MAX_RATING: u8 = 5;

/// PostgreSQL's TEXT cannot hold NUL, and SQLite would keep it: refuse it on both.
fn no_nul(what: &str, value: &str) -> Result<(), DataError> {
    if value.contains('\0') {
        return Err(DataError::Invalid(format!(
            "{what} cannot contain a NUL character"
        )));
    }
    Ok(())
}

/// A name: 1 to [`MAX_NAME_CHARS`] characters, no NUL.
pub(super) fn name(what: &str, value: &str) -> Result<(), DataError> {
    // Counting stops past the limit: a 100 KB name costs no more than a long one.
    let chars = value.chars().take(MAX_NAME_CHARS + 1).count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        let length = if chars == 0 { "empty" } else { "longer" };
        return Err(DataError::Invalid(format!(
            "{what} must be 1 to {MAX_NAME_CHARS} characters (this one is {length})"
        )));
    }
    no_nul(what, value)
}

/// A comment: at most [`MAX_COMMENT_CHARS`] characters, no NUL.
pub(super) fn comment(value: &str) -> Result<(), DataError> {
    if value.chars().take(MAX_COMMENT_CHARS + 1).count() > MAX_COMMENT_CHARS {
        return Err(DataError::Invalid(format!(
            "a comment must be at most {MAX_COMMENT_CHARS} characters"
        )));
    }
    no_nul("a comment", value)
}

/// An id: 1 to [`MAX_ID_BYTES`] bytes, no NUL. Its form is the catalog's business.
pub(super) fn id(what: &str, value: &str) -> Result<(), DataError> {
    if value.is_empty() || value.len() > MAX_ID_BYTES {
        return Err(DataError::Invalid(format!(
            "{what} must be 1 to {MAX_ID_BYTES} bytes (this one is {})",
            value.len()
        )));
    }
    no_nul(what, value)
}

/// A list of track ids, at most `max` of them.
pub(super) fn tracks(what: &str, tracks: &[String], max: usize) -> Result<(), DataError> {
    if tracks.len() > max {
        return Err(DataError::Invalid(format!(
            "{what} holds at most {max} entries (this one would have {})",
            tracks.len()
        )));
    }
    tracks.iter().try_for_each(|track| id("a track id", track))
}

/// A rating: 1 to [`MAX_RATING`].
pub(super) fn rating(value: u8) -> Result<(), DataError> {
    if !(1..=MAX_RATING).contains(&value) {
        return Err(DataError::Invalid(format!(
            "a rating is 1 to {MAX_RATING} (clear it instead of setting {value})"
        )));
    }
    Ok(())
}

/// A position in a track, milliseconds, as stored (a BIGINT).
pub(super) fn offset(value: u64) -> Result<i64, DataError> {
    i64::try_from(value).map_err(|_| DataError::Invalid(format!("{value} ms is past any track")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_hold_at_their_edges() {
        let at = |n: usize| "é".repeat(n);
        assert!(name("a name", &at(MAX_NAME_CHARS)).is_ok());
        assert!(name("a name", &at(MAX_NAME_CHARS + 1)).is_err());
        assert!(name("a name", "").is_err());
        assert!(name("a name", "a\0b").is_err());
        assert!(comment("").is_ok());
        assert!(comment(&at(MAX_COMMENT_CHARS)).is_ok());
        assert!(comment(&at(MAX_COMMENT_CHARS + 1)).is_err());
        assert!(id("an id", &"x".repeat(MAX_ID_BYTES)).is_ok());
        assert!(id("an id", &"x".repeat(MAX_ID_BYTES + 1)).is_err());
        // 64 bytes, not characters: 33 two-byte characters are 66.
        assert!(id("an id", &at(33)).is_err());
        assert!(id("an id", "").is_err());
        assert!((1..=5).all(|r| rating(r).is_ok()));
        assert!(rating(0).is_err() && rating(6).is_err());
        assert!(offset(u64::MAX).is_err());
    }
}
