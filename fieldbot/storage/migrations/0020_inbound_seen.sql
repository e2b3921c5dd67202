-- Inbound messages already handled, by the provider's id (Twilio's MessageSid): an SMS reply
-- posted again, by Twilio's retry or as a captured request replayed (its signature carries no
-- time), acknowledges nothing more. Ids only: nothing personal.
CREATE TABLE inbound_seen (
    channel     TEXT NOT NULL,
    provider_id TEXT NOT NULL,
    seen_at     TEXT NOT NULL,
    PRIMARY KEY (channel, provider_id)
);
