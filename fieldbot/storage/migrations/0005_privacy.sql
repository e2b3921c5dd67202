-- Personal data encrypted at rest, the append-only audit log, and retention.
--
-- Encrypted columns hold Fernet tokens (text): trips.lodging, trips.contact_name,
-- trips.contact_phone, locations.point ("lat,lon"), outbox.params (JSON), and PTB's persisted
-- user_data (drafts). SQL cannot encrypt: rows written before this version are marked here and
-- encrypted by the first start that has the key (fieldbot.services.privacy.unlock).

CREATE TABLE vault (
    name   TEXT PRIMARY KEY,                  -- canary | plaintext
    value  TEXT NOT NULL
);
-- 'plaintext': values written before encryption at rest wait for the first start with a key.
INSERT INTO vault (name, value)
    SELECT 'plaintext', '1'
    WHERE EXISTS (SELECT 1 FROM trips) OR EXISTS (SELECT 1 FROM locations)
       OR EXISTS (SELECT 1 FROM outbox) OR EXISTS (SELECT 1 FROM ptb_state WHERE kind = 'user');

-- Locations: an encrypted "lat,lon" instead of two REAL columns.
CREATE TABLE locations_new (
    id       INTEGER PRIMARY KEY,
    user_id  INTEGER NOT NULL,
    at       TEXT    NOT NULL,
    point    TEXT    NOT NULL,               -- encrypted "lat,lon"
    live     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO locations_new (id, user_id, at, point, live)
    SELECT id, user_id, at, printf('%.6f,%.6f', lat, lon), live FROM locations;
DROP TABLE locations;
ALTER TABLE locations_new RENAME TO locations;
CREATE INDEX locations_user_at ON locations (user_id, at);

-- Retention: when a trip's lodging, contact and destination pin were purged.
ALTER TABLE trips ADD COLUMN purged_at TEXT;

-- Append-only: who did what to whom, by id. Never personal details.
CREATE TABLE audit (
    id       INTEGER PRIMARY KEY,
    at       TEXT    NOT NULL,
    actor    INTEGER,                        -- a Telegram user id; NULL: the system or the CLI
    action   TEXT    NOT NULL,
    subject  INTEGER,                        -- whose data it concerns; NULL: nobody in particular
    detail   TEXT    NOT NULL DEFAULT ''     -- ids and codes only, e.g. "alert=12 step=3"
);
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_subject ON audit (subject, at);

CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be changed');
END;

CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be deleted');
END;
