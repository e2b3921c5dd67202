-- Persisted conversation state names the person it belongs to, so erasing a person deletes it
-- without the core knowing how the Telegram layer keys its conversations.
ALTER TABLE ptb_state ADD COLUMN owner INTEGER;

-- Rows from before: user_data is keyed by the user id; conversations are per user, their JSON
-- key ending with the user id (the last time the core needs to know that).
UPDATE ptb_state SET owner = CAST(key AS INTEGER) WHERE kind = 'user';
-- postgresql: UPDATE ptb_state SET owner = CAST(key::jsonb ->> -1 AS BIGINT)
-- postgresql:  WHERE kind LIKE 'conversation:%' AND key LIKE '[%]'
-- postgresql:    AND jsonb_typeof(key::jsonb -> -1) = 'number' AND key::jsonb ->> -1 ~ '^-?[0-9]+$';
UPDATE ptb_state SET owner = json_extract(key, '$[#-1]')
 WHERE kind LIKE 'conversation:%' AND json_valid(key) AND json_type(key, '$[#-1]') = 'integer';

CREATE INDEX ptb_state_owner ON ptb_state (owner) WHERE owner IS NOT NULL;
