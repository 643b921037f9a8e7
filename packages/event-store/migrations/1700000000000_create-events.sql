-- Up Migration
-- Runs with search_path set to the adapter's schema (node-pg-migrate `schema` option), so
-- every name below lands in that schema. Functions pin it with `SET search_path FROM CURRENT`.

CREATE TABLE events (
  -- Global position = transaction id * 65536 + index within the transaction (see README,
  -- "Global order"). Ordering by position equals ordering by (transaction_id, index).
  position bigint PRIMARY KEY,
  transaction_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
  stream_name text NOT NULL,
  -- Stream name up to the first '-', for category reads and subscriptions.
  category text NOT NULL,
  revision bigint NOT NULL,
  id uuid NOT NULL,
  type text NOT NULL,
  schema_version integer NOT NULL DEFAULT 1,
  data jsonb NOT NULL,
  metadata jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  -- Optimistic concurrency: two appends at the same expected revision race on this key,
  -- exactly one commits.
  CONSTRAINT events_stream_revision_key UNIQUE (stream_name, revision),
  -- Idempotent appends: an event id is stored once, in one stream.
  CONSTRAINT events_id_key UNIQUE (id)
);

CREATE INDEX events_category_position_idx ON events (category, position);

-- Appends `p_events` (a jsonb array of {id, type, schemaVersion?, data, metadata}) to a stream
-- in one round trip.
--   p_expected_revision: >= 0 exact revision, -1 no_stream, -2 any, -3 stream_exists.
--   p_check_ids: look for already-stored ids before inserting (the client sets it when it
--     retries after a unique violation, i.e. after losing a race).
--   p_notify: pg_notify inside the transaction. The TS adapter passes false and notifies
--     after the commit instead: a transaction that has NOTIFYed holds a database-wide lock
--     from pre-commit until its commit record is flushed, which serialises all notifying
--     commits and defeats group commit (measured: 8 writers no faster than 1). Other
--     writers (psql, scripts) keep the default and wake subscribers themselves.
-- Errors (SQLSTATE, DETAIL):
--   ES001 wrong expected revision, DETAIL = actual revision or 'no_stream';
--   ES002 event id conflict (an id is stored in another stream or at a different place);
--   ES003 more than 65536 events in one transaction.
-- A unique violation (23505) escapes when a concurrent append won the race: the client
-- retries once with p_check_ids, which then reports the typed outcome.
CREATE FUNCTION append_events(
  p_stream_name text,
  p_expected_revision bigint,
  p_events jsonb,
  p_check_ids boolean DEFAULT false,
  p_notify boolean DEFAULT true
) RETURNS TABLE (next_expected_revision bigint, last_position bigint)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  v_count integer := jsonb_array_length(p_events);
  v_current bigint;
  v_expected_ok boolean;
  v_found integer;
  v_consistent boolean;
  v_first_revision bigint;
  v_last_position bigint;
  v_tx xid8;
  v_base bigint;
  v_first_index bigint;
BEGIN
  IF v_count = 0 THEN
    RAISE EXCEPTION 'append_events: no events' USING ERRCODE = '22023';
  END IF;

  SELECT max(e.revision) INTO v_current FROM events e WHERE e.stream_name = p_stream_name;

  -- coalesce: `v_current = p_expected_revision` is NULL (not false) for a missing stream.
  v_expected_ok := coalesce(p_expected_revision = -2
    OR (p_expected_revision = -1 AND v_current IS NULL)
    OR (p_expected_revision = -3 AND v_current IS NOT NULL)
    OR (p_expected_revision >= 0 AND v_current = p_expected_revision), false);

  IF p_check_ids OR NOT v_expected_ok THEN
    -- Slow path: is this a replay of an append that already happened (lost reply)?
    SELECT count(e.id)::integer,
           coalesce(bool_and(e.stream_name = p_stream_name), true),
           min(e.revision) FILTER (WHERE w.ord = 1),
           max(e.position) FILTER (WHERE w.ord = v_count)
      INTO v_found, v_consistent, v_first_revision, v_last_position
      FROM jsonb_array_elements(p_events) WITH ORDINALITY AS w(value, ord)
      LEFT JOIN events e ON e.id = (w.value->>'id')::uuid;

    IF v_found > 0 THEN
      IF v_found = v_count AND v_consistent AND v_first_revision IS NOT NULL THEN
        -- Every id is stored in this stream; they must sit in the same order, back to back.
        SELECT bool_and(e.revision = v_first_revision + w.ord - 1)
          INTO v_consistent
          FROM jsonb_array_elements(p_events) WITH ORDINALITY AS w(value, ord)
          JOIN events e ON e.id = (w.value->>'id')::uuid;
      ELSE
        v_consistent := false;
      END IF;

      IF NOT v_consistent THEN
        RAISE EXCEPTION 'event id conflict in stream %', p_stream_name
          USING ERRCODE = 'ES002', DETAIL = coalesce(v_current::text, 'no_stream');
      END IF;

      -- A replay succeeds only if the original append satisfied the same expectation.
      IF p_expected_revision = -2
         OR (p_expected_revision = -1 AND v_first_revision = 0)
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

  v_tx := pg_current_xact_id();
  v_base := v_tx::text::bigint * 65536;
  -- Several appends may share one transaction: continue after this transaction's last index.
  SELECT coalesce(max(e.position) - v_base + 1, 0) INTO v_first_index
    FROM events e WHERE e.position >= v_base AND e.position < v_base + 65536;
  IF v_first_index + v_count > 65536 THEN
    RAISE EXCEPTION 'more than 65536 events in one transaction' USING ERRCODE = 'ES003';
  END IF;

  INSERT INTO events (position, transaction_id, stream_name, category, revision, id, type, schema_version, data, metadata)
  SELECT v_base + v_first_index + w.ord - 1,
         v_tx,
         p_stream_name,
         split_part(p_stream_name, '-', 1),
         coalesce(v_current, -1) + w.ord,
         (w.value->>'id')::uuid,
         w.value->>'type',
         coalesce((w.value->>'schemaVersion')::integer, 1),
         w.value->'data',
         w.value->'metadata'
    FROM jsonb_array_elements(p_events) WITH ORDINALITY AS w(value, ord);

  -- Wakes live subscriptions (delivered at commit; several appends in one transaction
  -- collapse into one notification). Payload = schema, so stores in other schemas ignore it.
  IF p_notify THEN
    PERFORM pg_notify('mm_event_store', current_schema());
  END IF;

  RETURN QUERY SELECT coalesce(v_current, -1) + v_count, v_base + v_first_index + v_count - 1;
END;
$$;

-- Down Migration
DROP FUNCTION append_events(text, bigint, jsonb, boolean, boolean);
DROP TABLE events;
