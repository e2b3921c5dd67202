-- Hazard reports (安全隐患随手拍) with their photos, and the points awarded for verified ones.
CREATE TABLE hazards (
    id           INTEGER PRIMARY KEY,
    reporter_id  INTEGER NOT NULL,
    team         TEXT    NOT NULL DEFAULT '',   -- the reporter's team when reported
    category     TEXT    NOT NULL
                 CHECK (category IN ('road', 'crime', 'weather', 'crowd', 'health', 'other')),
    severity     INTEGER NOT NULL CHECK (severity BETWEEN 1 AND 4),  -- 1 blue .. 4 red
    lat          REAL    NOT NULL,
    lon          REAL    NOT NULL,
    place        TEXT    NOT NULL DEFAULT '',   -- a label for people, e.g. "Nairobi, Kenya"
    radius_km    REAL    NOT NULL,
    description  TEXT    NOT NULL DEFAULT '',
    state        TEXT    NOT NULL DEFAULT 'open'
                 CHECK (state IN ('open', 'verified', 'dismissed')),
    created_at   TEXT    NOT NULL,
    decided_by   INTEGER,
    decided_at   TEXT,
    draft_key    TEXT    UNIQUE                 -- makes a second press of Confirm harmless
);
CREATE INDEX hazards_state_team ON hazards (state, team);
CREATE INDEX hazards_verified_pos ON hazards (lat, lon) WHERE state = 'verified';

CREATE TABLE hazard_photos (
    hazard_id  INTEGER NOT NULL REFERENCES hazards (id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    sha256     TEXT    NOT NULL,                -- of the re-encoded, EXIF-free file
    path       TEXT    NOT NULL,                -- relative to the data directory
    PRIMARY KEY (hazard_id, idx)
);
CREATE INDEX hazard_photos_sha ON hazard_photos (sha256);

CREATE TABLE points (
    user_id    INTEGER NOT NULL,
    hazard_id  INTEGER NOT NULL REFERENCES hazards (id) ON DELETE CASCADE,
    points     INTEGER NOT NULL,
    at         TEXT    NOT NULL,
    PRIMARY KEY (user_id, hazard_id)            -- one award per report
);
CREATE INDEX points_user ON points (user_id);
