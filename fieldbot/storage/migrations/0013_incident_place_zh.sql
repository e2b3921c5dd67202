-- An incident's place, and its lesson's, as a Chinese reader names it ("曼谷，泰国"; encrypted
-- like the English label): Chinese chats no longer show "Bangkok, Thailand".
ALTER TABLE incidents ADD COLUMN place_zh TEXT NOT NULL DEFAULT '';
ALTER TABLE lessons ADD COLUMN place_zh TEXT NOT NULL DEFAULT '';
