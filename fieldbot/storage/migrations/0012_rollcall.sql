-- Roll-calls (DESIGN.md §12): "Are you safe?" to everyone in an area, a team or travelling.
-- The state lives here, not in memory: each unanswered person is a row with its due_at, swept
-- like nights (a reminder, then their manager is told), so a restart loses nothing.
CREATE TABLE rollcalls (
    id               INTEGER PRIMARY KEY,
    initiator        INTEGER NOT NULL,
    limit_team       TEXT,                      -- a manager's roll-call: their team only
    scope_kind       TEXT    NOT NULL,
    scope_key        TEXT    NOT NULL,           -- one open roll-call per scope
    scope            TEXT    NOT NULL,           -- the scope as JSON, encrypted
    message          TEXT    NOT NULL DEFAULT '', -- the initiator's note, encrypted
    priority         INTEGER NOT NULL,
    state            TEXT    NOT NULL DEFAULT 'open',
    started_at       TEXT    NOT NULL,
    closed_at        TEXT,
    closed_by        INTEGER,
    tally_message_id BIGINT                      -- the initiator's tally message, edited
);
CREATE UNIQUE INDEX rollcalls_one_open ON rollcalls (scope_key) WHERE state = 'open';
CREATE INDEX rollcalls_state ON rollcalls (state, started_at);

CREATE TABLE rollcall_people (
    rollcall_id  INTEGER NOT NULL REFERENCES rollcalls (id) ON DELETE CASCADE,
    user_id      INTEGER NOT NULL,
    reason       TEXT    NOT NULL,               -- trip / location / member
    stage        TEXT    NOT NULL DEFAULT 'asked',
    due_at       TEXT,                           -- NULL: nothing more is due for this person
    answer       TEXT,                           -- NULL / safe / help
    answered_at  TEXT,
    late         INTEGER NOT NULL DEFAULT 0,     -- answered after the roll-call was closed
    PRIMARY KEY (rollcall_id, user_id)
);
CREATE INDEX rollcall_people_due ON rollcall_people (due_at) WHERE due_at IS NOT NULL;
CREATE INDEX rollcall_people_user ON rollcall_people (user_id);
