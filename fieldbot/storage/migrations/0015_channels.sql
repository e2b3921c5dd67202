-- Channels beyond Telegram. Each outbox row goes out on one channel; a ladder message to a
-- person is one row per channel (the Telegram one has the old dedupe key). The provider's id
-- (Twilio's SID, the SMTP Message-ID) matches its later status callbacks; `delivery` is the
-- provider's last word on it ("delivered", "no-answer", ...).
ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'telegram';
ALTER TABLE outbox ADD COLUMN provider_id TEXT;
ALTER TABLE outbox ADD COLUMN delivery TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN delivery_at TEXT;
CREATE INDEX outbox_provider ON outbox (provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX outbox_alert_step ON outbox (alert_id, step_index);

-- Calls placed, per person: never more than the policy's max_calls_per_hour. A row is written
-- before the call is placed (a crash in between counts a call that never rang: the safe side).
CREATE TABLE calls (
    id       INTEGER PRIMARY KEY,
    user_id  INTEGER NOT NULL,
    at       TEXT    NOT NULL
);
CREATE INDEX calls_user_at ON calls (user_id, at);

-- E-mailed acknowledgement links are single use: the outbox row a link was sent with, once.
CREATE TABLE used_links (
    outbox_id  INTEGER PRIMARY KEY,
    used_at    TEXT    NOT NULL
);
