-- Nightly check-ins, alerts with their ladder, and the transactional outbox.
CREATE TABLE nights (
    id            INTEGER PRIMARY KEY,
    trip_id       INTEGER NOT NULL REFERENCES trips (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL,
    day           TEXT    NOT NULL,            -- local date at the destination
    leg_index     INTEGER NOT NULL,
    tz_name       TEXT    NOT NULL,
    reminder_at   TEXT    NOT NULL,            -- aware UTC, ISO 8601
    deadline      TEXT    NOT NULL,            -- aware UTC; moved by "+30 min"
    opens_at      TEXT    NOT NULL,            -- the check-in window: opens_at <= t < closes_at
    closes_at     TEXT    NOT NULL,
    state         TEXT    NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'reminded', 'checked_in', 'skipped', 'missed',
                                   'cancelled')),
    due_at        TEXT,                        -- next thing to do for this night; NULL: nothing
    checked_in_at TEXT,
    note          TEXT    NOT NULL DEFAULT '',
    snoozes       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (trip_id, day)
);
CREATE INDEX nights_due ON nights (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX nights_user_window ON nights (user_id, opens_at);

CREATE TABLE locations (
    id       INTEGER PRIMARY KEY,
    user_id  INTEGER NOT NULL,
    at       TEXT    NOT NULL,
    lat      REAL    NOT NULL,
    lon      REAL    NOT NULL,
    live     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX locations_user_at ON locations (user_id, at);

CREATE TABLE alerts (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL CHECK (kind IN ('missed', 'emergency', 'sos', 'duress')),
    user_id      INTEGER NOT NULL,             -- whom the alert is about
    trip_id      INTEGER,
    night_id     INTEGER UNIQUE,               -- one alert per missed night
    risk_level   INTEGER NOT NULL DEFAULT 0,
    anchor       TEXT    NOT NULL,             -- the missed deadline or the SOS instant
    state        TEXT    NOT NULL DEFAULT 'open'
                 CHECK (state IN ('open', 'acknowledged', 'resolved', 'closed')),
    step_index   INTEGER NOT NULL DEFAULT -1,  -- last step carried out; -1: none yet
    next_due_at  TEXT,                         -- NULL: nothing more to do
    skip_tier    INTEGER NOT NULL DEFAULT 0,   -- 1: the last tier reached nobody, go up now
    acked_by     INTEGER,
    acked_at     TEXT,
    resolved_by  INTEGER,
    resolved_at  TEXT,
    resolution   TEXT    NOT NULL DEFAULT '',
    note         TEXT    NOT NULL DEFAULT '',
    created_at   TEXT    NOT NULL,
    failures     INTEGER NOT NULL DEFAULT 0    -- steps that raised; pushed forward, reported
);
CREATE INDEX alerts_due ON alerts (next_due_at) WHERE next_due_at IS NOT NULL;
CREATE INDEX alerts_user_state ON alerts (user_id, state);

CREATE TABLE alert_recipients (
    alert_id  INTEGER NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    user_id   INTEGER NOT NULL,
    first_at  TEXT    NOT NULL,
    PRIMARY KEY (alert_id, user_id)
);

CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    dedupe      TEXT    NOT NULL UNIQUE,       -- e.g. alert:12:step:3:to:555 — at most one row
    alert_id    INTEGER,
    step_index  INTEGER,
    recipient   INTEGER NOT NULL,
    kind        TEXT    NOT NULL,              -- what to render: reminder, alert, all_clear, ...
    params      TEXT    NOT NULL,              -- JSON for the renderer
    priority    INTEGER NOT NULL,              -- higher first: SOS 100 > alerts 50 > reminders 10
    created_at  TEXT    NOT NULL,
    due_at      TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    state       TEXT    NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sending', 'sent', 'failed')),
    claimed_at  TEXT,
    sent_at     TEXT,
    message_id  INTEGER,
    last_error  TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX outbox_pending ON outbox (priority DESC, due_at) WHERE state IN ('pending', 'sending');
CREATE INDEX outbox_alert ON outbox (alert_id);
