-- Crisis response (DESIGN.md §12): graded incidents with their deadlines and reviews, the
-- lessons learned from them, and drills (practice alerts of kind 'drill').

-- Alert kinds are checked by the code since 0010 (no CHECK list to extend for 'drill').

CREATE TABLE incidents (
    id            INTEGER PRIMARY KEY,
    grade         TEXT    NOT NULL CHECK (grade IN ('blue', 'yellow', 'orange', 'red')),
    state         TEXT    NOT NULL DEFAULT 'open'
                  CHECK (state IN ('open', 'reported', 'closed')),
    owner_id      INTEGER NOT NULL,
    opened_by     INTEGER NOT NULL,
    alert_id      INTEGER UNIQUE,               -- the alert resolved as "incident", if any
    place         TEXT    NOT NULL DEFAULT '',  -- encrypted: the place's label
    country       TEXT    NOT NULL DEFAULT '',  -- ISO code, for statistics and the search
    lat           REAL,                         -- a ~1 km grid (0.01°) for "near here"
    lon           REAL,
    people        TEXT    NOT NULL DEFAULT '',  -- encrypted: the people involved, as typed
    description   TEXT    NOT NULL DEFAULT '',  -- encrypted
    review        TEXT    NOT NULL DEFAULT '',  -- encrypted JSON: the review's answers
    responsibility TEXT   NOT NULL DEFAULT '',  -- management | execution (statistics)
    opened_at     TEXT    NOT NULL,
    reported_at   TEXT,
    closed_at     TEXT
);
CREATE INDEX incidents_state ON incidents (state);

CREATE TABLE incident_deadlines (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL CHECK (kind IN ('report', 'review')),
    due_at       TEXT    NOT NULL,
    step_index   INTEGER NOT NULL DEFAULT -1,  -- the last step of its ladder carried out
    next_due_at  TEXT,                         -- NULL: met (or the incident closed)
    met_at       TEXT,
    UNIQUE (incident_id, kind)
);
CREATE INDEX incident_deadlines_due ON incident_deadlines (next_due_at)
    WHERE next_due_at IS NOT NULL;

CREATE TABLE lessons (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER UNIQUE,
    grade        TEXT    NOT NULL,
    place        TEXT    NOT NULL DEFAULT '',  -- encrypted: the place's label
    country      TEXT    NOT NULL DEFAULT '',
    lat          REAL,                         -- ~1 km grid, as incidents
    lon          REAL,
    cause        TEXT    NOT NULL DEFAULT '',  -- encrypted, anonymised: the root cause
    measures     TEXT    NOT NULL DEFAULT '',  -- encrypted, anonymised
    author_id    INTEGER,                      -- who closed the review (their /privacy)
    created_at   TEXT    NOT NULL
);

CREATE TABLE drills (
    id          INTEGER PRIMARY KEY,
    started_by  INTEGER NOT NULL,
    team        TEXT    NOT NULL DEFAULT '',   -- the team drilled; '' for one person
    started_at  TEXT    NOT NULL,
    ends_at     TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'done')),
    done_at     TEXT
);
CREATE INDEX drills_open ON drills (ends_at) WHERE state = 'open';

CREATE TABLE drill_alerts (
    drill_id  INTEGER NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
    alert_id  INTEGER NOT NULL UNIQUE,
    user_id   INTEGER NOT NULL,
    PRIMARY KEY (drill_id, alert_id)
);
