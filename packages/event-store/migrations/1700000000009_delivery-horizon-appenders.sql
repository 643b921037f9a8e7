-- Up Migration
-- The delivery horizon of the global log from the appending transactions only.
--
-- Positions are transaction ids, so a reader of the whole log may deliver an event only when no
-- transaction that could still commit an event below it is running. The page query takes the
-- oldest running transaction of its snapshot (pg_snapshot_xmin) for that: safe, but any
-- transaction that has written anything, in any database of the cluster — a bulk load, a long
-- CREATE INDEX, a read-model rebuild's batch — holds every subscriber back until it ends.
--
-- Every append takes its stream's advisory lock (two-key form, first key 1296911693, in
-- append_events) before its first write, and holds it to the end of its transaction. So the
-- transactions that can still commit events are the holders of such locks (granted or waited
-- for) in this database, and those that will take one later, whose ids are not assigned yet.
-- This returns, as a position, the smallest id among the holders' own transaction ids and the
-- next id to be assigned, read in that order.
--
-- A reader must take the snapshot of its page *after* this returns (its next statement, under
-- READ COMMITTED): an appender running when the page's snapshot is taken either held a lock
-- when this looked (its id counted) or got its id after (not below the next id read first), so
-- every event below the horizon that the page cannot see was not committed and never will be.
-- The adapter uses it only when the snapshot's horizon has not moved for a while (a long
-- transaction somewhere), so the common read stays one statement.
CREATE FUNCTION event_delivery_horizon() RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  v_next bigint := pg_snapshot_xmax(pg_current_snapshot())::text::bigint;
  v_oldest bigint;
BEGIN
  WITH l AS (
    SELECT locktype, database, classid, objsubid, pid, transactionid, mode, granted FROM pg_catalog.pg_locks
  )
  -- a holder's 32-bit transaction ids, widened with the epoch of v_next (they are below it)
  SELECT min(v_next - (((v_next % 4294967296) - t.transactionid::text::bigint) % 4294967296 + 4294967296) % 4294967296)
    INTO v_oldest
    FROM l a
    JOIN l t ON t.pid = a.pid AND t.locktype = 'transactionid' AND t.mode = 'ExclusiveLock' AND t.granted
   WHERE a.locktype = 'advisory' AND a.objsubid = 2 AND a.classid = 1296911693::oid
     AND a.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = current_database());
  RETURN least(v_next, coalesce(v_oldest, v_next)) * 65536;
END;
$$;

-- Down Migration
DROP FUNCTION event_delivery_horizon();
