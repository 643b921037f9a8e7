-- Up Migration
-- The matches read model kept the whole MatchCreated as `explanation` (≈ 600 bytes a match),
-- read by nothing: the decision lives in the log (`mm explain match` reads it there, archives
-- included). Without it the row is narrow, and the copy each update leaves until VACUUM (the
-- game, or the abort) is small too.
ALTER TABLE matches DROP COLUMN IF EXISTS explanation;

-- Down Migration
ALTER TABLE matches ADD COLUMN explanation jsonb NOT NULL DEFAULT '{}'::jsonb;
