-- The safety desk page (/dashboard): one-time login links for a desktop browser and the
-- short-lived sessions of the page. Only sha256 hashes of the tokens are stored; a stolen
-- database opens no session.

CREATE TABLE desk_links (
    token_hash   TEXT    PRIMARY KEY,           -- sha256 of the link's token
    user_id      INTEGER NOT NULL,              -- the person the link was made for
    created_at   TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL,
    used_at      TEXT                           -- NULL: not used yet (single use)
);

CREATE TABLE desk_sessions (
    token_hash   TEXT    PRIMARY KEY,           -- sha256 of the cookie's value
    user_id      INTEGER NOT NULL,
    created_at   TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL,
    shown        TEXT    NOT NULL DEFAULT ''    -- digest of what the page last showed (audit)
);
CREATE INDEX desk_sessions_expiry ON desk_sessions (expires_at);
CREATE INDEX desk_links_expiry ON desk_links (expires_at);
