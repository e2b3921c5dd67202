-- A hazard report's place and a client visit's, as a Chinese reader names them ("曼谷，泰国";
-- encrypted like the English label): Chinese chats no longer show "Bangkok, Thailand".
-- Rows from before keep '' and read in English.
ALTER TABLE hazards ADD COLUMN place_zh TEXT NOT NULL DEFAULT '';
ALTER TABLE visits ADD COLUMN place_zh TEXT NOT NULL DEFAULT '';
