-- The monthly summary and its chart read nights by their local date and alerts by when they
-- were raised, over a month or the twelve months of the trend: a range on each, not a scan of
-- every night and alert ever kept (neither table is ever purged of rows).

CREATE INDEX nights_day ON nights (day);
CREATE INDEX alerts_created ON alerts (created_at);
