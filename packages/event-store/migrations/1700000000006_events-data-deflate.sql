-- Up Migration
-- Event data compressed with a preset dictionary per event type (issue 20: "a lean log").
--
-- One event's JSON is short and repeats little of itself; what it repeats is the other events of
-- its type (keys, enum values, id and time formats). The adapter (src/postgres/data-codec.ts)
-- trains a dictionary per (type, schema version) from the first events of it, registers it here
-- once and from then on stores the data as raw DEFLATE (RFC 1951) with that dictionary as preset
-- dictionary: `data_deflated` + `data_dictionary_id`, and `data` NULL. Rows written before a
-- dictionary existed (and data that would not get smaller) keep `data` as `json`. A dictionary is
-- never changed or deleted: rows name it. Writers that send `data` (psql, scripts, older
-- adapters) still work; their rows are plain.
--
-- The append payload per event may carry `z` (the deflated bytes, base64) and `d` (dictionary id)
-- instead of `data`.

CREATE SEQUENCE event_data_dictionaries_id_seq AS smallint;
CREATE TABLE event_data_dictionaries (
  id smallint PRIMARY KEY DEFAULT nextval('event_data_dictionaries_id_seq'),
  type_id smallint NOT NULL REFERENCES event_types (id),
  schema_version smallint NOT NULL,
  dictionary bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (type_id, schema_version)
);
ALTER SEQUENCE event_data_dictionaries_id_seq OWNED BY event_data_dictionaries.id;

ALTER TABLE events ALTER COLUMN data DROP NOT NULL;
ALTER TABLE events ADD COLUMN data_dictionary_id smallint;
ALTER TABLE events ADD COLUMN data_deflated bytea;
ALTER TABLE events ADD CONSTRAINT events_data_stored_once
  CHECK ((data IS NULL) = (data_deflated IS NOT NULL) AND (data_deflated IS NULL) = (data_dictionary_id IS NULL));

-- The view for operators and scripts: `data` is NULL for compressed rows (PostgreSQL has no
-- inflate); read those through the store (`pnpm mm history`, the feed, an archive file).
CREATE OR REPLACE VIEW event_log AS
SELECT e.position, e.stream_name, c.name AS category, e.revision, e.id, t.name AS type, e.schema_version,
       e.data,
       jsonb_build_object(
         'tenantId', e.tenant_id,
         'correlationId', coalesce(e.correlation_uuid::text, e.correlation_text),
         'causationId', coalesce(e.causation_uuid::text, e.causation_text)
       ) || CASE WHEN e.actor_type IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('actor', jsonb_build_object(
              'type', CASE e.actor_type WHEN 'u' THEN 'user' WHEN 's' THEN 'service' ELSE 'system' END, 'id', e.actor_id)) END
         || coalesce(e.metadata_extra, '{}'::jsonb) AS metadata,
       e.recorded_at,
       e.data_dictionary_id,
       e.data_deflated
  FROM events e
  JOIN event_types t ON t.id = e.type_id
  JOIN event_categories c ON c.id = e.category_id;

-- Same as 1700000000004, storing `z` / `d` when the payload carries them.
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

  SELECT max(e.revision) INTO v_live FROM events e
   WHERE hashtextextended(e.stream_name, 0) = hashtextextended(p_stream_name, 0) AND e.stream_name = p_stream_name;
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
           coalesce(bool_and(e.stream_name = p_stream_name), true),
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
  v_category := event_category_id(split_part(p_stream_name, '-', 1));

  INSERT INTO events (position, revision, id, correlation_uuid, causation_uuid, type_id, category_id, schema_version,
                      actor_type, stream_name, tenant_id, actor_id, correlation_text, causation_text, metadata_extra, data,
                      data_dictionary_id, data_deflated)
  SELECT v_base + v_first_index + w.ord - 1,
         coalesce(v_current, -1) + w.ord,
         (w.value->>'id')::uuid,
         event_uuid_or_null(w.value->'metadata'->>'correlationId'),
         event_uuid_or_null(w.value->'metadata'->>'causationId'),
         event_type_id(w.value->>'type'),
         v_category,
         coalesce((w.value->>'schemaVersion')::smallint, 1),
         event_actor_type((w.value->'metadata'->'actor')::jsonb),
         p_stream_name,
         coalesce(w.value->'metadata'->>'tenantId', ''),
         coalesce(w.value->'metadata'->'actor'->>'id', ''),
         CASE WHEN event_uuid_or_null(w.value->'metadata'->>'correlationId') IS NULL THEN w.value->'metadata'->>'correlationId' END,
         CASE WHEN event_uuid_or_null(w.value->'metadata'->>'causationId') IS NULL THEN w.value->'metadata'->>'causationId' END,
         event_metadata_extra((w.value->'metadata')::jsonb),
         w.value->'data',
         (w.value->>'d')::smallint,
         decode(w.value->>'z', 'base64')
    FROM json_array_elements(p_events) WITH ORDINALITY AS w(value, ord);

  IF p_notify THEN
    PERFORM pg_notify('mm_event_store', current_schema());
  END IF;

  RETURN QUERY SELECT coalesce(v_current, -1) + v_count, v_base + v_first_index + v_count - 1;
END;
$$;

-- Down Migration
-- Not reversible in place once compressed rows exist (PostgreSQL cannot inflate them): restore a backup.
DO $$ BEGIN RAISE EXCEPTION '1700000000006_events-data-deflate cannot be migrated down'; END $$;
