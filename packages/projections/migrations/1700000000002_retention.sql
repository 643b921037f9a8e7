-- Up Migration
-- Retention of the read models (packages/projections/src/postgres/retention.ts): rows that ended
-- long ago leave the hot tables in batches. These partial indexes hold only ended rows, so each
-- batch finds the oldest ones without scanning the table, and a searching entry, a match still
-- creating its game or a pending challenge is never a candidate.
CREATE INDEX IF NOT EXISTS queue_entries_ended ON queue_entries (ended_at)
  WHERE status IN ('CANCELLED', 'TIMED_OUT') OR (status = 'MATCHED' AND game_id IS NOT NULL);
CREATE INDEX IF NOT EXISTS matches_finished ON matches (finished_at) WHERE status IN ('GAME_CREATED', 'ABORTED');
CREATE INDEX IF NOT EXISTS challenges_ended ON challenges (ended_at) WHERE status <> 'PENDING';

-- The cutoff of the last retention run (one row per read-model schema): rows that ended before it
-- are gone from the hot tables. Recorded before the run deletes anything, so the I6 audit and the
-- API know which rows may be missing on purpose.
CREATE TABLE IF NOT EXISTS read_model_retention (
  name text PRIMARY KEY,
  cutoff timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- Down Migration
DROP TABLE read_model_retention;
DROP INDEX challenges_ended;
DROP INDEX matches_finished;
DROP INDEX queue_entries_ended;
