-- A listener's settings that follow them from device to device: the quality the page plays at
-- ('original', 'high' or 'low').
CREATE TABLE listener_settings (
    user_name  TEXT   PRIMARY KEY,
    quality    TEXT   NOT NULL,
    changed_ms BIGINT NOT NULL
);
