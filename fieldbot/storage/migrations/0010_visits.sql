-- Client visits (DESIGN.md §11): a timer per visit on the same ladder engine as the nights,
-- and the client safety notes colleagues leave after one.

-- Alert kinds are checked by the code (domain.ladder.AlertKind), no longer by a CHECK that
-- every new kind (visit, and those to come) would have to rebuild the table for. SQLite
-- cannot drop a CHECK in place: the table is rebuilt, with alert_recipients (which refers to
-- it) set aside and put back so that no cascade deletes who was alerted.
CREATE TABLE alert_recipients_kept AS SELECT alert_id, user_id, first_at FROM alert_recipients;
DROP TABLE alert_recipients;

CREATE TABLE alerts_new (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,             -- domain.ladder.AlertKind
    user_id      INTEGER NOT NULL,
    trip_id      INTEGER,
    night_id     INTEGER UNIQUE,
    risk_level   INTEGER NOT NULL DEFAULT 0,
    anchor       TEXT    NOT NULL,             -- the missed deadline, visit end or SOS instant
    state        TEXT    NOT NULL DEFAULT 'open'
                 CHECK (state IN ('open', 'acknowledged', 'resolved', 'closed')),
    step_index   INTEGER NOT NULL DEFAULT -1,
    next_due_at  TEXT,
    skip_tier    INTEGER NOT NULL DEFAULT 0,
    acked_by     INTEGER,
    acked_at     TEXT,
    resolved_by  INTEGER,
    resolved_at  TEXT,
    resolution   TEXT    NOT NULL DEFAULT '',
    note         TEXT    NOT NULL DEFAULT '',
    created_at   TEXT    NOT NULL,
    failures     INTEGER NOT NULL DEFAULT 0
);
INSERT INTO alerts_new (id, kind, user_id, trip_id, night_id, risk_level, anchor, state,
                        step_index, next_due_at, skip_tier, acked_by, acked_at, resolved_by,
                        resolved_at, resolution, note, created_at, failures)
SELECT id, kind, user_id, trip_id, night_id, risk_level, anchor, state, step_index,
       next_due_at, skip_tier, acked_by, acked_at, resolved_by, resolved_at, resolution, note,
       created_at, failures FROM alerts;
DROP TABLE alerts;
ALTER TABLE alerts_new RENAME TO alerts;
CREATE INDEX alerts_due ON alerts (next_due_at) WHERE next_due_at IS NOT NULL;
CREATE INDEX alerts_user_state ON alerts (user_id, state);

CREATE TABLE alert_recipients (
    alert_id  INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL,
    first_at  TEXT    NOT NULL,
    PRIMARY KEY (alert_id, user_id)
);
INSERT INTO alert_recipients (alert_id, user_id, first_at)
SELECT alert_id, user_id, first_at FROM alert_recipients_kept;
DROP TABLE alert_recipients_kept;

CREATE TABLE visits (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL,
    team          TEXT    NOT NULL DEFAULT '',  -- the rep's team when it started (statistics)
    client        TEXT    NOT NULL DEFAULT '',  -- encrypted: the client, an address or a place
    place         TEXT    NOT NULL DEFAULT '',  -- encrypted: the pinned place's label
    point         TEXT    NOT NULL DEFAULT '',  -- encrypted: "lat,lon" of the pin, if any
    tz_name       TEXT    NOT NULL,
    companion     TEXT    NOT NULL DEFAULT '',  -- encrypted: who is with the rep ('' alone)
    companion_id  INTEGER,                      -- an enrolled colleague
    alone         INTEGER NOT NULL,
    after_dark    INTEGER NOT NULL,             -- alone or not, part of it is after dark
    started_at    TEXT    NOT NULL,
    ends_at       TEXT    NOT NULL,             -- moved by "+30 min"
    extensions    INTEGER NOT NULL DEFAULT 0,
    state         TEXT    NOT NULL DEFAULT 'active'
                  CHECK (state IN ('active', 'reminded', 'overdue', 'ended', 'cancelled')),
    due_at        TEXT,                         -- next thing to do; NULL: nothing
    alert_id      INTEGER,                      -- the alert a missed end opened
    ended_at      TEXT,
    draft_key     TEXT    UNIQUE                -- makes a second press of Start harmless
);
CREATE INDEX visits_due ON visits (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX visits_user_state ON visits (user_id, state);
CREATE INDEX visits_alert ON visits (alert_id) WHERE alert_id IS NOT NULL;

CREATE TABLE visit_notes (
    id          INTEGER PRIMARY KEY,
    author_id   INTEGER,                        -- NULL once the author is erased
    visit_id    INTEGER,
    team        TEXT    NOT NULL DEFAULT '',
    category    TEXT    NOT NULL
                CHECK (category IN ('aggressive', 'harassment', 'unsafe_premises', 'other')),
    client      TEXT    NOT NULL DEFAULT '',    -- encrypted, compared after normalisation
    place       TEXT    NOT NULL DEFAULT '',    -- encrypted
    point       TEXT    NOT NULL DEFAULT '',    -- encrypted "lat,lon"
    body        TEXT    NOT NULL DEFAULT '',    -- encrypted: the note itself
    created_at  TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL,
    removed_by  INTEGER,
    removed_at  TEXT
);
CREATE INDEX visit_notes_live ON visit_notes (expires_at) WHERE removed_at IS NULL;
CREATE INDEX visit_notes_author ON visit_notes (author_id);
