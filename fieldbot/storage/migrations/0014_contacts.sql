-- Contact points beyond Telegram: a confirmed phone number and e-mail address per person, and
-- the codes that confirm them (helper 12a: renumber at merge).
--
-- Numbers and addresses are Fernet tokens (fieldbot.crypto). An SMS from a number has to find
-- its sender, so each number also has a keyed blind index: an HMAC of the E.164 number with a
-- random key kept encrypted in the vault ('contact_key'). Equal numbers give equal indexes;
-- without the key the index says nothing about the number.
CREATE TABLE contacts (
    id             INTEGER PRIMARY KEY,   -- the person's Telegram user id
    phone          TEXT    NOT NULL DEFAULT '',   -- encrypted E.164 number, '' = none
    phone_index    TEXT,                          -- blind index of the number (hex HMAC)
    phone_verified INTEGER NOT NULL DEFAULT 0,
    phone_via      TEXT,                          -- 'telegram' (own contact shared) or 'sms'
    email          TEXT    NOT NULL DEFAULT '',   -- encrypted address, '' = none
    email_verified INTEGER NOT NULL DEFAULT 0,
    updated_at     TEXT    NOT NULL
);
CREATE INDEX contacts_phone_index ON contacts (phone_index);

-- A code waiting to be typed back. Only its keyed hash is stored; the number or address it
-- confirms is encrypted. One per person and kind; a lock outlives the code.
CREATE TABLE contact_codes (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('phone', 'email')),
    target        TEXT    NOT NULL DEFAULT '',    -- encrypted number or address
    code_hash     TEXT    NOT NULL DEFAULT '',
    expires_at    TEXT    NOT NULL,
    tries         INTEGER NOT NULL DEFAULT 0,     -- wrong codes typed
    sends         INTEGER NOT NULL DEFAULT 0,     -- codes sent in the current window
    window_start  TEXT    NOT NULL,
    last_sent_at  TEXT    NOT NULL,
    locked_until  TEXT,
    UNIQUE (user_id, kind)
);
