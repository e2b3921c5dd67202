-- The inbox: every update from Telegram is written here before Telegram is told it arrived
-- (the next getUpdates confirms it; a webhook is answered 200), and marked done once handled.
-- A process killed in between replays what it had not finished at the next start; an update
-- Telegram delivers again (same update_id) is recognised and not handled twice.

CREATE TABLE inbox (
    update_id    INTEGER PRIMARY KEY,
    payload      TEXT    NOT NULL,            -- the update as JSON, encrypted (texts, names)
    received_at  TEXT    NOT NULL,
    done_at      TEXT                         -- NULL: not handled yet
);
CREATE INDEX inbox_unfinished ON inbox (update_id) WHERE done_at IS NULL;
CREATE INDEX inbox_done_at ON inbox (done_at) WHERE done_at IS NOT NULL;
