-- Up Migration
-- A smaller row envelope (issue 20: "envelope and metadata stored compactly").
--
-- * The stream name is not stored whole: `category_id` already names the part up to the first
--   '-', so a row keeps only the rest — as native `uuid` (`stream_uuid`, 16 bytes instead of 37)
--   when it is a UUID in canonical form (`match-<uuid>`, `challenge-<uuid>`), else as text
--   (`stream_key`: `player-t1:u42` keeps `t1:u42`). Both NULL: a name without '-' (the category
--   itself). Reads put the name back together (`event_stream_name`), exactly as written.
-- * The stream index is on 8 bytes instead of 16: a 32-bit hash of the same parts
--   (`event_stream_hash`: the suffix hashed with the category id as seed) and the revision as a
--   32-bit integer (`event_stream_revision`, capped; reads also order by the revision itself).
--   Reads and appends find a stream through it and then compare category, key and uuid.
-- * Service and system actor ids (a few names, on most events: `matchmaking-worker`) are stored
--   once, in `event_actors`, and referenced by a smallint (`actor_ref`); user ids stay inline
--   (`actor_id`, NULL when the id is referenced or there is no actor column).
--
-- Works on an existing database: the old table's rows are copied into the new one, partition by
-- partition with the same names and ranges (one transaction, a one-off rewrite like
-- 1700000000003; run it in a maintenance window on a large log). `event_log` and the append
-- functions are restated for the new columns; their results are unchanged.

-- Registered service / system actor ids (like event_types: ids from a sequence, never changed).
CREATE SEQUENCE event_actors_id_seq AS smallint;
CREATE TABLE event_actors (
  id smallint PRIMARY KEY DEFAULT nextval('event_actors_id_seq'),
  name text NOT NULL UNIQUE
);
ALTER SEQUENCE event_actors_id_seq OWNED BY event_actors.id;

-- The id of a service / system actor id, registered on first use; NULL once the smallint ids are
-- used up (the id is then stored inline, as a user id is).
CREATE FUNCTION event_actor_id(p_name text) RETURNS smallint
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  v_id smallint;
BEGIN
  SELECT id INTO v_id FROM event_actors WHERE name = p_name;
  IF v_id IS NULL THEN
    BEGIN
      INSERT INTO event_actors (name) VALUES (p_name) ON CONFLICT (name) DO NOTHING RETURNING id INTO v_id;
    EXCEPTION WHEN sequence_generator_limit_exceeded THEN
      RETURN NULL;
    END;
    IF v_id IS NULL THEN
      SELECT id INTO v_id FROM event_actors WHERE name = p_name;
    END IF;
  END IF;
  RETURN v_id;
END;
$$;

-- The parts of a stream name (the category is split_part(name, '-', 1), as before):
-- the rest after the first '-' as text, unless it is a canonical UUID (then NULL) ...
-- (The UUID test is event_uuid_or_null's, written out: these functions only use built-ins, so
-- that they work whatever the caller's search_path and are inlined into the queries.)
CREATE FUNCTION event_stream_key(p_name text) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
  SELECT CASE WHEN strpos(p_name, '-') > 0
                   AND substr(p_name, strpos(p_name, '-') + 1)
                       !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
              THEN substr(p_name, strpos(p_name, '-') + 1) END
$$;

-- ... or as uuid when it is one (else NULL). A name without '-': both NULL.
CREATE FUNCTION event_stream_uuid(p_name text) RETURNS uuid
LANGUAGE sql IMMUTABLE
AS $$
  SELECT CASE WHEN strpos(p_name, '-') > 0
                   AND substr(p_name, strpos(p_name, '-') + 1)
                       ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
              THEN substr(p_name, strpos(p_name, '-') + 1)::uuid END
$$;

-- The name again from its parts.
CREATE FUNCTION event_stream_name(p_category text, p_key text, p_uuid uuid) RETURNS text
LANGUAGE sql IMMUTABLE
AS $$
  SELECT p_category || CASE WHEN p_key IS NULL AND p_uuid IS NULL THEN '' ELSE '-' || coalesce(p_key, p_uuid::text) END
$$;

-- The stream index's key, 8 bytes instead of 16 (an index entry of 20 bytes instead of 28):
-- a 32-bit hash of the text after the first '-' (a uuid's canonical text is the text it was
-- parsed from) seeded with the category id — reads compare the parts too (collisions) — ...
CREATE FUNCTION event_stream_hash(p_category_id smallint, p_key text, p_uuid uuid) RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$
  SELECT (hashtextextended(coalesce(p_key, p_uuid::text, ''), p_category_id) >> 32)::integer
$$;

-- ... and the revision as a 32-bit integer, capped: revisions from 2^31 - 1 on share the last
-- value. The order of (event_stream_revision(revision), revision) is the order of revision, so a
-- read orders by both: the index gives the first, a sort within equal values (one row each
-- below the cap) the second; a stream past the cap still reads right, only slower.
CREATE FUNCTION event_stream_revision(p_revision bigint) RETURNS integer
LANGUAGE sql IMMUTABLE
AS $$
  SELECT least(p_revision, 2147483647)::integer
$$;

-- The category id of a stream name; NULL when the category was never used (then the stream has
-- no events).
CREATE FUNCTION event_stream_category_id(p_name text) RETURNS smallint
LANGUAGE sql STABLE
SET search_path FROM CURRENT
AS $$
  SELECT id FROM event_categories WHERE name = split_part(p_name, '-', 1)
$$;

-- The old table out of the way: its indexes dropped (the copy reads it whole), its partitions
-- renamed, so that the new ones take their names.
DROP VIEW event_log;
ALTER TABLE events RENAME TO events_v6;
ALTER TABLE events_v6 DROP CONSTRAINT events_pkey;
DROP INDEX events_stream_idx;
DROP INDEX events_tenant_position_idx;

CREATE TABLE events (
  position bigint NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  revision bigint NOT NULL,
  id uuid NOT NULL,
  correlation_uuid uuid,
  causation_uuid uuid,
  -- the stream name after '<category>-' when it is a canonical UUID
  stream_uuid uuid,
  type_id smallint NOT NULL,
  category_id smallint NOT NULL,
  schema_version smallint NOT NULL,
  -- event_actors.id of a service / system actor (then actor_id is NULL)
  actor_ref smallint,
  data_dictionary_id smallint,
  -- 'u' user, 's' service, 'y' system; NULL when metadata.actor is kept in metadata_extra
  actor_type "char",
  -- the stream name after '<category>-' when it is not a UUID; NULL with stream_uuid: no '-'
  stream_key text,
  tenant_id text NOT NULL,
  actor_id text,
  correlation_text text,
  causation_text text,
  metadata_extra jsonb,
  data json,
  data_deflated bytea,
  PRIMARY KEY (position),
  CONSTRAINT events_data_stored_once
    CHECK ((data IS NULL) = (data_deflated IS NOT NULL) AND (data_deflated IS NULL) = (data_dictionary_id IS NULL)),
  CONSTRAINT events_stream_one_form CHECK (stream_key IS NULL OR stream_uuid IS NULL),
  CONSTRAINT events_actor_one_form CHECK (actor_ref IS NULL OR actor_id IS NULL)
) PARTITION BY RANGE (position);

CREATE INDEX events_stream_idx ON events (event_stream_hash(category_id, stream_key, stream_uuid), event_stream_revision(revision));
CREATE INDEX events_tenant_position_idx ON events (tenant_id, position);

-- The same partitions, same names and ranges, each with its unique index on the event id.
DO $$
DECLARE
  v_part record;
BEGIN
  FOR v_part IN
    SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'events_v6'::regclass
     ORDER BY c.relname
  LOOP
    EXECUTE format('ALTER INDEX IF EXISTS %I RENAME TO %I', v_part.name || '_id_key', v_part.name || '_v6_id_key');
    EXECUTE format('ALTER TABLE %I RENAME TO %I', v_part.name, v_part.name || '_v6');
    EXECUTE format('CREATE TABLE %I PARTITION OF events %s', v_part.name, v_part.bound);
    EXECUTE format('CREATE UNIQUE INDEX %I ON %I (id)', v_part.name || '_id_key', v_part.name);
  END LOOP;
END;
$$;

INSERT INTO event_actors (name)
SELECT actor_id FROM events_v6 WHERE actor_type IN ('s', 'y') GROUP BY actor_id ORDER BY count(*) DESC, actor_id LIMIT 32767;

INSERT INTO events (position, recorded_at, revision, id, correlation_uuid, causation_uuid, stream_uuid, type_id,
                    category_id, schema_version, actor_ref, data_dictionary_id, actor_type, stream_key, tenant_id,
                    actor_id, correlation_text, causation_text, metadata_extra, data, data_deflated)
SELECT e.position, e.recorded_at, e.revision, e.id, e.correlation_uuid, e.causation_uuid,
       event_stream_uuid(e.stream_name), e.type_id, e.category_id, e.schema_version, a.id, e.data_dictionary_id,
       e.actor_type, event_stream_key(e.stream_name), e.tenant_id,
       CASE WHEN e.actor_type IS NOT NULL AND a.id IS NULL THEN e.actor_id END,
       e.correlation_text, e.causation_text, e.metadata_extra, e.data, e.data_deflated
  FROM events_v6 e
  LEFT JOIN event_actors a ON e.actor_type IN ('s', 'y') AND a.name = e.actor_id
 ORDER BY e.position;

DROP TABLE events_v6;

-- The log as it was stored before, for operators and scripts (as in 1700000000006).
CREATE VIEW event_log AS
SELECT e.position, event_stream_name(c.name, e.stream_key, e.stream_uuid) AS stream_name, c.name AS category,
       e.revision, e.id, t.name AS type, e.schema_version,
       e.data,
       jsonb_build_object(
         'tenantId', e.tenant_id,
         'correlationId', coalesce(e.correlation_uuid::text, e.correlation_text),
         'causationId', coalesce(e.causation_uuid::text, e.causation_text)
       ) || CASE WHEN e.actor_type IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('actor', jsonb_build_object(
              'type', CASE e.actor_type WHEN 'u' THEN 'user' WHEN 's' THEN 'service' ELSE 'system' END,
              'id', coalesce(e.actor_id, (SELECT a.name FROM event_actors a WHERE a.id = e.actor_ref)))) END
         || coalesce(e.metadata_extra, '{}'::jsonb) AS metadata,
       e.recorded_at,
       e.data_dictionary_id,
       e.data_deflated
  FROM events e
  JOIN event_types t ON t.id = e.type_id
  JOIN event_categories c ON c.id = e.category_id;

-- Same semantics as 1700000000006, on the new columns: the stream is found by its category id,
-- key and uuid (through event_stream_hash), service / system actors are referenced.
CREATE OR REPLACE FUNCTION append_events(
  p_stream_name text,
  p_expected_revision bigint,
  p_events json,
  p_check_ids boolean DEFAULT false,
  p_notify boolean DEFAULT true
) RETURNS TABLE (next_expected_revision bigint, last_position bigint)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  v_count integer := json_array_length(p_events);
  v_key text := event_stream_key(p_stream_name);
  v_uuid uuid := event_stream_uuid(p_stream_name);
  v_live bigint;
  v_current bigint;
  v_expected_ok boolean;
  v_found integer;
  v_consistent boolean;
  v_first_revision bigint;
  v_last_position bigint;
  v_base bigint;
  v_first_index bigint;
  v_category smallint;
BEGIN
  IF v_count = 0 THEN
    RAISE EXCEPTION 'append_events: no events' USING ERRCODE = '22023';
  END IF;

  -- Appends to one stream take turns (until commit); the revision read below is then the
  -- committed one. Two-key form: its own key space, apart from other advisory locks.
  PERFORM pg_advisory_xact_lock(1296911693, hashtext(p_stream_name));

  -- After the lock: an append that held it may have registered the category.
  v_category := event_stream_category_id(p_stream_name);
  IF v_category IS NOT NULL THEN
    SELECT e.revision INTO v_live FROM events e
     WHERE event_stream_hash(e.category_id, e.stream_key, e.stream_uuid) = event_stream_hash(v_category, v_key, v_uuid)
       AND e.category_id = v_category AND e.stream_key IS NOT DISTINCT FROM v_key
       AND e.stream_uuid IS NOT DISTINCT FROM v_uuid
     ORDER BY event_stream_revision(e.revision) DESC, e.revision DESC LIMIT 1;
  END IF;
  v_current := v_live;
  IF v_live IS NULL THEN
    SELECT a.revision INTO v_current FROM archived_streams a WHERE a.stream_name = p_stream_name;
  END IF;

  -- no_stream: no event in the live log (a stream whose events are all archived counts as empty).
  v_expected_ok := coalesce(p_expected_revision = -2
    OR (p_expected_revision = -1 AND v_live IS NULL)
    OR (p_expected_revision = -3 AND v_current IS NOT NULL)
    OR (p_expected_revision >= 0 AND v_current = p_expected_revision), false);

  IF p_check_ids OR NOT v_expected_ok THEN
    -- Slow path: is this a replay of an append that already happened (lost reply)?
    SELECT count(e.id)::integer,
           coalesce(bool_and(e.category_id IS NOT DISTINCT FROM v_category AND e.stream_key IS NOT DISTINCT FROM v_key
                             AND e.stream_uuid IS NOT DISTINCT FROM v_uuid) FILTER (WHERE e.id IS NOT NULL), true),
           min(e.revision) FILTER (WHERE w.ord = 1),
           max(e.position) FILTER (WHERE w.ord = v_count)
      INTO v_found, v_consistent, v_first_revision, v_last_position
      FROM json_array_elements(p_events) WITH ORDINALITY AS w(value, ord)
      LEFT JOIN events e ON e.id = (w.value->>'id')::uuid;

    IF v_found > 0 THEN
      IF v_found = v_count AND v_consistent AND v_first_revision IS NOT NULL THEN
        SELECT bool_and(e.revision = v_first_revision + w.ord - 1)
          INTO v_consistent
          FROM json_array_elements(p_events) WITH ORDINALITY AS w(value, ord)
          JOIN events e ON e.id = (w.value->>'id')::uuid;
      ELSE
        v_consistent := false;
      END IF;

      IF NOT v_consistent THEN
        RAISE EXCEPTION 'event id conflict in stream %', p_stream_name
          USING ERRCODE = 'ES002', DETAIL = coalesce(v_current::text, 'no_stream');
      END IF;

      IF p_expected_revision = -2
         OR (p_expected_revision = -1 AND v_first_revision = coalesce((SELECT a.revision + 1 FROM archived_streams a WHERE a.stream_name = p_stream_name), 0))
         OR (p_expected_revision = -3 AND v_first_revision > 0)
         OR (p_expected_revision >= 0 AND v_first_revision = p_expected_revision + 1) THEN
        RETURN QUERY SELECT v_first_revision + v_count - 1, v_last_position;
        RETURN;
      END IF;
      v_expected_ok := false;
    END IF;

    IF NOT v_expected_ok THEN
      RAISE EXCEPTION 'wrong expected revision for stream %', p_stream_name
        USING ERRCODE = 'ES001', DETAIL = coalesce(v_current::text, 'no_stream');
    END IF;
  END IF;

  v_base := pg_current_xact_id()::text::bigint * 65536;
  SELECT coalesce(max(e.position) - v_base + 1, 0) INTO v_first_index
    FROM events e WHERE e.position >= v_base AND e.position < v_base + 65536;
  IF v_first_index + v_count > 65536 THEN
    RAISE EXCEPTION 'more than 65536 events in one transaction' USING ERRCODE = 'ES003';
  END IF;
  IF v_category IS NULL THEN
    v_category := event_category_id(split_part(p_stream_name, '-', 1));
  END IF;

  INSERT INTO events (position, revision, id, correlation_uuid, causation_uuid, stream_uuid, type_id, category_id,
                      schema_version, actor_ref, data_dictionary_id, actor_type, stream_key, tenant_id, actor_id,
                      correlation_text, causation_text, metadata_extra, data, data_deflated)
  SELECT v_base + v_first_index + w.ord - 1,
         coalesce(v_current, -1) + w.ord,
         (w.value->>'id')::uuid,
         event_uuid_or_null(w.value->'metadata'->>'correlationId'),
         event_uuid_or_null(w.value->'metadata'->>'causationId'),
         v_uuid,
         event_type_id(w.value->>'type'),
         v_category,
         coalesce((w.value->>'schemaVersion')::smallint, 1),
         r.ref,
         (w.value->>'d')::smallint,
         a.type,
         v_key,
         coalesce(w.value->'metadata'->>'tenantId', ''),
         CASE WHEN a.type IS NOT NULL AND r.ref IS NULL THEN a.id END,
         CASE WHEN event_uuid_or_null(w.value->'metadata'->>'correlationId') IS NULL THEN w.value->'metadata'->>'correlationId' END,
         CASE WHEN event_uuid_or_null(w.value->'metadata'->>'causationId') IS NULL THEN w.value->'metadata'->>'causationId' END,
         event_metadata_extra((w.value->'metadata')::jsonb),
         w.value->'data',
         decode(w.value->>'z', 'base64')
    FROM json_array_elements(p_events) WITH ORDINALITY AS w(value, ord)
   CROSS JOIN LATERAL (SELECT event_actor_type((w.value->'metadata'->'actor')::jsonb) AS type,
                              w.value->'metadata'->'actor'->>'id' AS id) a
   CROSS JOIN LATERAL (SELECT CASE WHEN a.type IN ('s', 'y') THEN event_actor_id(a.id) END AS ref) r;

  IF p_notify THEN
    PERFORM pg_notify('mm_event_store', current_schema());
  END IF;

  RETURN QUERY SELECT coalesce(v_current, -1) + v_count, v_base + v_first_index + v_count - 1;
END;
$$;

-- Down Migration
-- Not reversible in place (the append function of 1700000000006 was replaced): restore a backup.
DO $$ BEGIN RAISE EXCEPTION '1700000000007_events-stream-key-actors cannot be migrated down'; END $$;
