-- Trip plans with their legs, and official travel advisories.
CREATE TABLE trips (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status          TEXT    NOT NULL,
    lodging         TEXT    NOT NULL DEFAULT '',
    contact_name    TEXT    NOT NULL DEFAULT '',
    contact_phone   TEXT    NOT NULL DEFAULT '',
    contact_user_id INTEGER,
    night_visits    INTEGER NOT NULL DEFAULT 0,
    companion       TEXT    NOT NULL DEFAULT '',
    risk_level      INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT    NOT NULL,
    decided_by      INTEGER,
    decided_at      TEXT,
    decision_note   TEXT    NOT NULL DEFAULT '',
    ended_at        TEXT,
    report          TEXT    NOT NULL DEFAULT '',
    draft_key       TEXT    UNIQUE             -- makes a second press of Confirm harmless
);
CREATE INDEX trips_user_status ON trips (user_id, status);

CREATE TABLE legs (
    trip_id      INTEGER NOT NULL REFERENCES trips (id) ON DELETE CASCADE,
    idx          INTEGER NOT NULL,
    place_name   TEXT    NOT NULL,
    country_code TEXT    NOT NULL,
    country_name TEXT    NOT NULL,
    region       TEXT    NOT NULL,
    lat          REAL    NOT NULL,
    lon          REAL    NOT NULL,
    tz_name      TEXT    NOT NULL,
    geonameid    INTEGER,
    start_date   TEXT    NOT NULL,
    end_date     TEXT    NOT NULL,
    PRIMARY KEY (trip_id, idx)
);

CREATE TABLE advisories (
    country_code TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    level        INTEGER NOT NULL,
    title        TEXT    NOT NULL,
    url          TEXT    NOT NULL,
    published    TEXT    NOT NULL,
    imported_at  TEXT    NOT NULL,
    PRIMARY KEY (country_code, source)
);
