-- What a listener's apps sign in with instead of the login password: API keys (OpenSubsonic's
-- `apiKey`), kept as the SHA-256 of the key, and app passwords (for token authentication, which
-- needs the secret itself), kept sealed with AES-256-GCM under the server's key. Neither is ever
-- kept in the clear; each is shown once, when made.
CREATE TABLE app_credentials (
    id         TEXT   PRIMARY KEY,
    user_name  TEXT   NOT NULL,
    kind       TEXT   NOT NULL,
    label      TEXT   NOT NULL,
    key_hash   TEXT   UNIQUE,
    sealed     TEXT,
    created_ms BIGINT NOT NULL,
    used_ms    BIGINT
);
CREATE INDEX app_credentials_by_user ON app_credentials (user_name, kind);
