-- Enrolment, invites, the rate-limit counter for strangers, and PTB's persisted state.
CREATE TABLE users (
    id           INTEGER PRIMARY KEY,          -- Telegram user id (also the private chat id)
    name         TEXT    NOT NULL,
    role         TEXT    NOT NULL CHECK (role IN ('staff', 'manager', 'officer', 'admin')),
    team         TEXT    NOT NULL DEFAULT '',
    language     TEXT    NOT NULL DEFAULT 'en',
    enrolled_at  TEXT    NOT NULL,
    unreachable  TEXT                            -- why the last message failed permanently
);
CREATE INDEX users_team_role ON users (team, role);

CREATE TABLE invites (
    code_hash    TEXT    PRIMARY KEY,           -- sha256 of the code; the code itself is never stored
    role         TEXT    NOT NULL,
    team         TEXT    NOT NULL DEFAULT '',
    created_by   INTEGER,                        -- NULL: created from the command line
    created_at   TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL,
    used_by      INTEGER,
    used_at      TEXT
);

CREATE TABLE stranger_hits (
    user_id      INTEGER PRIMARY KEY,
    window_start TEXT    NOT NULL,
    hits         INTEGER NOT NULL
);

CREATE TABLE ptb_state (
    kind         TEXT    NOT NULL,              -- conversation:<name> | user | chat | bot | callback
    key          TEXT    NOT NULL,
    value        TEXT    NOT NULL,              -- JSON
    PRIMARY KEY (kind, key)
);
