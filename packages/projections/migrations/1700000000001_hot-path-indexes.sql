-- Up Migration
-- GameCreated sets the game on both queue entries and on a challenge by match id: without
-- these indexes each of those updates scanned the whole table (2.6 ms per match at 40k rows,
-- growing with history).
CREATE INDEX queue_entries_match ON queue_entries (tenant_id, match_id) WHERE match_id IS NOT NULL;
CREATE INDEX challenges_match ON challenges (tenant_id, match_id) WHERE match_id IS NOT NULL;
-- The scheduler's recovery sweep looks only at entries claimed without a game yet and at
-- matches still creating their game: both sets stay small (in-flight work), whatever the
-- history, so the sweep's cost no longer grows with the number of matches ever made.
CREATE INDEX queue_entries_claimed_without_game ON queue_entries (ended_at) WHERE status = 'MATCHED' AND game_id IS NULL;
CREATE INDEX matches_creating_game ON matches (decided_at) WHERE status = 'CREATING_GAME';

-- Down Migration
DROP INDEX matches_creating_game;
DROP INDEX queue_entries_claimed_without_game;
DROP INDEX challenges_match;
DROP INDEX queue_entries_match;
