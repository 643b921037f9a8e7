-- Up Migration
-- The stream's last revision in append_events read in one step down the stream index, whatever
-- the planner estimates (1700000000007 ordered by the index key and then by the revision: with a
-- small row estimate — the average stream is short — PostgreSQL may sort all of a long stream's
-- rows, e.g. a pool stream's passes, instead of following the index). max() of the index key is
-- planned as a backward index step, as max(revision) was before 1700000000007; the stream's
-- parts are compared with = / IS NULL (IS NOT DISTINCT FROM is estimated at a row or so, which
-- made the planner prefer reading the whole stream). Same results.

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
    -- The largest index key of the stream (one step down the index, as max(revision) was before
    -- 1700000000007) is its last revision, unless it is the cap: then the rows at the cap decide.
    SELECT max(event_stream_revision(e.revision)) INTO v_live FROM events e
     WHERE event_stream_hash(e.category_id, e.stream_key, e.stream_uuid) = event_stream_hash(v_category, v_key, v_uuid)
       AND e.category_id = v_category
       AND (e.stream_key = v_key OR (e.stream_key IS NULL AND v_key IS NULL))
       AND (e.stream_uuid = v_uuid OR (e.stream_uuid IS NULL AND v_uuid IS NULL));
    IF v_live = 2147483647 THEN
      SELECT max(e.revision) INTO v_live FROM events e
       WHERE event_stream_hash(e.category_id, e.stream_key, e.stream_uuid) = event_stream_hash(v_category, v_key, v_uuid)
         AND event_stream_revision(e.revision) = 2147483647
         AND e.category_id = v_category
         AND (e.stream_key = v_key OR (e.stream_key IS NULL AND v_key IS NULL))
         AND (e.stream_uuid = v_uuid OR (e.stream_uuid IS NULL AND v_uuid IS NULL));
    END IF;
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
-- Not reversible in place (the append function of 1700000000007 was replaced): restore a backup.
DO $$ BEGIN RAISE EXCEPTION '1700000000008_append-last-revision cannot be migrated down'; END $$;
