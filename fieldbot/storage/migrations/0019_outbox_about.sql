-- Whom a message is about when that is not (only) its recipient: the manager's notice that
-- Rita is on a client visit alone, a roll-call's list of who has not answered, a trip's report.
-- Erasing Rita empties the content of such messages once they are sent (one still to go is a
-- safety message for someone else: it goes first): the outbox must not keep a copy of what
-- was erased. (Alerts are found through their alert.)
CREATE TABLE outbox_about (
    user_id   INTEGER NOT NULL,
    outbox_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, outbox_id)
);
CREATE INDEX outbox_about_message ON outbox_about (outbox_id);
