-- What each listener's app last said it plays (the Subsonic API's scrobble with submission=false),
-- shown by every replica for ten minutes.
CREATE TABLE now_playing (
    user_name TEXT   PRIMARY KEY,
    track_id  TEXT   NOT NULL,
    client    TEXT   NOT NULL,
    said_ms   BIGINT NOT NULL
);
