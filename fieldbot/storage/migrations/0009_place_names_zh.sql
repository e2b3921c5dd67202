-- A leg's place keeps its Chinese name too ("北京"), so Chinese readers see their own names.
ALTER TABLE legs ADD COLUMN place_name_zh TEXT NOT NULL DEFAULT '';
