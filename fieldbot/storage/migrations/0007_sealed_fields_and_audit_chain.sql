-- More personal fields encrypted at rest, and the audit log chained (helper F: renumber).
--
-- Newly encrypted columns (Fernet tokens, text): users.name, trips.companion, trips.report,
-- trips.decision_note, nights.note, alerts.note, hazards.description, hazards.place (a pin's
-- label carries its coordinates) and hazards.point.
-- SQL cannot encrypt: the 'plaintext' mark below makes the first start that has the key
-- encrypt every value that is not a token yet (fieldbot.services.privacy.unlock; it skips
-- values that are tokens already, so marking an empty or partly encrypted database is safe).

-- A hazard's exact pin, encrypted "lat,lon"; lat and lon keep only a ~1 km grid (0.01°) for
-- the cheap "nearby" prefilter and its index.
ALTER TABLE hazards ADD COLUMN point TEXT NOT NULL DEFAULT '';
UPDATE hazards SET point = CAST(lat AS TEXT) || ',' || CAST(lon AS TEXT),
                   lat = ROUND(lat, 2), lon = ROUND(lon, 2);

INSERT INTO vault (name, value) VALUES ('plaintext', '1')
    ON CONFLICT (name) DO NOTHING;

-- The audit chain: each entry's HMAC over the previous entry's chain value and its own
-- content (fieldbot.storage.audit). Entries written before this version are chained by the
-- first start that has the key ('audit_unchained'); only that one-time sealing of an empty
-- chain value may change an entry, nothing else.
ALTER TABLE audit ADD COLUMN chain TEXT NOT NULL DEFAULT '';
INSERT INTO vault (name, value) VALUES ('audit_unchained', '1')
    ON CONFLICT (name) DO NOTHING;

DROP TRIGGER audit_no_update;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
WHEN NOT (OLD.chain = '' AND NEW.chain != '' AND NEW.id IS OLD.id AND NEW.at IS OLD.at
          AND NEW.actor IS OLD.actor AND NEW.action IS OLD.action
          AND NEW.subject IS OLD.subject AND NEW.detail IS OLD.detail)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: entries cannot be changed');
END;
