-- The photos of hazard drafts not sent yet, and whose they are: a photo file is kept while a
-- saved report or somebody's draft uses it. Before, a draft's photo outlived /forgetme and
-- the retention purge (only saved reports' photos were known), and one person's Cancel
-- deleted the same picture from a colleague's draft. Hashes and paths only.
CREATE TABLE draft_photos (
    sha256   TEXT NOT NULL,
    path     TEXT NOT NULL,
    user_id  INTEGER NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (sha256, user_id)
);
CREATE INDEX draft_photos_by_user ON draft_photos (user_id);
CREATE INDEX draft_photos_by_age ON draft_photos (added_at);
