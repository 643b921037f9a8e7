-- Up Migration
-- Appends to several streams in one transaction (EventStore.appendToStreams): all or nothing.
-- p_appends: a jsonb array of {streamName, expectedRevision, events}, where expectedRevision
-- and events are as for append_events. Returns one row per part, in order (append_index is
-- 0-based). Each part runs append_events, so expected revisions, replays and positions behave
-- exactly as for single appends (the parts share one transaction id, their positions follow
-- each other). A typed failure of a part (ES001, ES002) is raised again with
-- HINT = the part's index, so the client can name the stream; nothing is written then.
-- p_check_ids: as for append_events (set by the client when it retries after a unique violation).
CREATE FUNCTION append_to_streams(
  p_appends jsonb,
  p_check_ids boolean DEFAULT false
) RETURNS TABLE (append_index integer, next_expected_revision bigint, last_position bigint)
LANGUAGE plpgsql
SET search_path FROM CURRENT
AS $$
DECLARE
  v_part jsonb;
  v_index integer := 0;
  v_state text;
  v_message text;
  v_detail text;
BEGIN
  FOR v_part IN SELECT value FROM jsonb_array_elements(p_appends) LOOP
    RETURN QUERY
      SELECT v_index, r.next_expected_revision, r.last_position
        FROM append_events(v_part->>'streamName', (v_part->>'expectedRevision')::bigint,
                           v_part->'events', p_check_ids, false) AS r;
    v_index := v_index + 1;
  END LOOP;
EXCEPTION WHEN SQLSTATE 'ES001' OR SQLSTATE 'ES002' THEN
  GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL;
  RAISE EXCEPTION '%', v_message USING ERRCODE = v_state, DETAIL = v_detail, HINT = v_index::text;
END;
$$;

-- Down Migration
DROP FUNCTION append_to_streams(jsonb, boolean);
