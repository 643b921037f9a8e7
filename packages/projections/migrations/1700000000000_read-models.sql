-- Up Migration
-- Read models built by apps/projector from the event log. Every row remembers the
-- global position of the last event applied to it (last_position), so redelivered
-- events are skipped; projection_checkpoints is updated in the same transaction.

CREATE TABLE projection_checkpoints (
  name text PRIMARY KEY,
  position bigint NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE queue_entries (
  tenant_id text NOT NULL,
  queue_entry_id text NOT NULL,
  user_id text NOT NULL,
  pool_key text NOT NULL,
  time_control text NOT NULL,
  mode text NOT NULL,
  rating double precision NOT NULL,
  rating_source text NOT NULL,
  rating_range jsonb,
  status text NOT NULL CHECK (status IN ('SEARCHING', 'MATCHED', 'CANCELLED', 'TIMED_OUT')),
  enqueued_at timestamptz NOT NULL,
  ended_at timestamptz,
  match_id text,
  opponent_id text,
  colour text,
  game_id text,
  held_by_match_id text,
  last_position bigint NOT NULL,
  PRIMARY KEY (tenant_id, queue_entry_id)
);
CREATE INDEX queue_entries_user ON queue_entries (tenant_id, user_id, enqueued_at DESC);
CREATE INDEX queue_entries_searching ON queue_entries (tenant_id, pool_key, enqueued_at) WHERE status = 'SEARCHING';
CREATE INDEX queue_entries_matched ON queue_entries (tenant_id, pool_key, ended_at) WHERE status = 'MATCHED';

CREATE TABLE matches (
  tenant_id text NOT NULL,
  match_id text NOT NULL,
  source text NOT NULL,
  challenge_id text,
  pool_key text NOT NULL,
  time_control text NOT NULL,
  mode text NOT NULL,
  white_user_id text NOT NULL,
  black_user_id text NOT NULL,
  white_entry_id text,
  black_entry_id text,
  white_rating double precision NOT NULL,
  black_rating double precision NOT NULL,
  rating_gap double precision NOT NULL,
  status text NOT NULL CHECK (status IN ('CREATING_GAME', 'GAME_CREATED', 'ABORTED')),
  game_id text,
  abort_reason text,
  explanation jsonb NOT NULL,
  decided_at timestamptz NOT NULL,
  finished_at timestamptz,
  last_position bigint NOT NULL,
  PRIMARY KEY (tenant_id, match_id)
);
CREATE INDEX matches_decided ON matches (tenant_id, pool_key, decided_at DESC);
CREATE INDEX matches_white ON matches (tenant_id, white_user_id, decided_at DESC);
CREATE INDEX matches_black ON matches (tenant_id, black_user_id, decided_at DESC);

CREATE TABLE challenges (
  tenant_id text NOT NULL,
  challenge_id text NOT NULL,
  challenger_id text NOT NULL,
  opponent_id text NOT NULL,
  time_control text NOT NULL,
  mode text NOT NULL,
  color text NOT NULL,
  message text,
  status text NOT NULL CHECK (status IN ('PENDING', 'ACCEPTED', 'DECLINED', 'CANCELLED', 'EXPIRED')),
  decline_reason text,
  match_id text,
  game_id text,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  ended_at timestamptz,
  last_position bigint NOT NULL,
  PRIMARY KEY (tenant_id, challenge_id)
);
CREATE INDEX challenges_incoming ON challenges (tenant_id, opponent_id, created_at DESC) WHERE status = 'PENDING';
CREATE INDEX challenges_outgoing ON challenges (tenant_id, challenger_id, created_at DESC) WHERE status = 'PENDING';

-- Down Migration
DROP TABLE challenges;
DROP TABLE matches;
DROP TABLE queue_entries;
DROP TABLE projection_checkpoints;
