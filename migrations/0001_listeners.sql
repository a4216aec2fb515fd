-- The listeners' data: stars, ratings and plays, playlists, the play queue and bookmarks, kept per
-- user; and what replicas share about signing in: sessions signed out early, the login throttle.
--
-- SQLite and PostgreSQL both run this file as it is, so it keeps to what both read alike: TEXT and
-- BIGINT columns only (0 or 1 for a flag: sqlx's Any driver cannot read SQLite's BOOLEAN), times in
-- Unix milliseconds, ids made by the server (no AUTOINCREMENT or SERIAL), and a user is the name
-- the HTTP layer gives. Track, album and artist ids come from the catalog and are not checked
-- against it here: a track that leaves the library keeps its stars until it comes back.

-- Per user and item: when it was starred, its rating (1 to 5), and for tracks, plays.
CREATE TABLE annotations (
    user_name  TEXT   NOT NULL,
    item_kind  TEXT   NOT NULL, -- 'track', 'album' or 'artist'
    item_id    TEXT   NOT NULL,
    starred_ms BIGINT,
    rating     BIGINT,
    play_count BIGINT NOT NULL DEFAULT 0,
    played_ms  BIGINT,
    PRIMARY KEY (user_name, item_kind, item_id)
);
CREATE INDEX annotations_starred ON annotations (user_name, item_kind, starred_ms);

-- `version` goes up by one with every edit, which is also how an edit takes the playlist's lock;
-- `entries` is the count of its rows in playlist_entries.
CREATE TABLE playlists (
    id         TEXT   PRIMARY KEY,
    owner      TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    comment    TEXT   NOT NULL,
    public     BIGINT NOT NULL,
    created_ms BIGINT NOT NULL,
    changed_ms BIGINT NOT NULL,
    version    BIGINT NOT NULL,
    entries    BIGINT NOT NULL
);
CREATE INDEX playlists_owner ON playlists (owner);
CREATE INDEX playlists_public ON playlists (public);

-- Positions run 0, 1, ... without gaps; a track may appear more than once.
CREATE TABLE playlist_entries (
    playlist_id TEXT   NOT NULL REFERENCES playlists (id) ON DELETE CASCADE,
    position    BIGINT NOT NULL,
    track_id    TEXT   NOT NULL,
    PRIMARY KEY (playlist_id, position)
);

-- One queue per user, saved from one device and resumed on another.
CREATE TABLE play_queues (
    user_name     TEXT   PRIMARY KEY,
    current_track TEXT,
    position_ms   BIGINT NOT NULL,
    changed_ms    BIGINT NOT NULL,
    changed_by    TEXT   NOT NULL
);

CREATE TABLE play_queue_entries (
    user_name TEXT   NOT NULL REFERENCES play_queues (user_name) ON DELETE CASCADE,
    position  BIGINT NOT NULL,
    track_id  TEXT   NOT NULL,
    PRIMARY KEY (user_name, position)
);

-- One bookmark per user and track.
CREATE TABLE bookmarks (
    user_name   TEXT   NOT NULL,
    track_id    TEXT   NOT NULL,
    position_ms BIGINT NOT NULL,
    comment     TEXT   NOT NULL,
    created_ms  BIGINT NOT NULL,
    changed_ms  BIGINT NOT NULL,
    PRIMARY KEY (user_name, track_id)
);

-- Sessions signed out before they expire; forgotten once they have. Every replica reads the ones
-- signed out lately (by `signed_out_ms`) every few seconds.
CREATE TABLE signed_out (
    session_id    TEXT   PRIMARY KEY,
    expires_ms    BIGINT NOT NULL,
    signed_out_ms BIGINT NOT NULL
);
CREATE INDEX signed_out_expires ON signed_out (expires_ms);
CREATE INDEX signed_out_at ON signed_out (signed_out_ms);

-- The login throttle's GCRA state per key: the theoretical arrival time of the next attempt, and
-- whether the key's last attempt was refused (which the one upsert statement returns).
CREATE TABLE login_throttle (
    throttle_key TEXT   PRIMARY KEY,
    tat_ms       BIGINT NOT NULL,
    refused      BIGINT NOT NULL
);
CREATE INDEX login_throttle_tat ON login_throttle (tat_ms);
