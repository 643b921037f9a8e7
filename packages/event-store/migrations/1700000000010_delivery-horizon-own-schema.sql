-- Up Migration
-- The appenders' delivery horizon (1700000000009) counts only the appenders of this schema's log.
--
-- Every append of every event-store schema in the database takes an advisory lock of the same
-- key space, so 1700000000009 also counted the appenders of other schemas: a long appending
-- transaction in another schema (a bulk load, a benchmark's log, another test's) held this
-- schema's subscribers back until it ended, though none of its events can land in this log.
--
-- A lock holder is left out when it holds a lock on another schema's `events` table and none on
-- this one's: it appends elsewhere. An append of this schema holds no lock on any `events` table
-- until it first reads this one's (then it holds that lock to its end), so it is never left
-- out. This relies on a transaction appending to one event-store schema only, as the adapter's
-- appends do (one statement each); a transaction that appended to another schema and then to
-- this one would be left out until it touched this one's table.
CREATE OR REPLACE FUNCTION event_delivery_horizon() RETURNS bigint
LANGUAGE plpgsql VOLATILE
SET search_path FROM CURRENT
AS $$
DECLARE
  v_next bigint := pg_snapshot_xmax(pg_current_snapshot())::text::bigint;
  v_database oid := (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = current_database());
  v_events oid := 'events'::regclass;
  v_oldest bigint;
BEGIN
  WITH l AS (
    SELECT locktype, database, relation, classid, objsubid, pid, transactionid, mode, granted FROM pg_catalog.pg_locks
  ),
  -- holders of a lock on another schema's log and none on this one's: they append elsewhere
  elsewhere AS (
    SELECT o.pid
      FROM l o
      JOIN pg_catalog.pg_class c ON c.oid = o.relation
     WHERE o.locktype = 'relation' AND o.database = v_database AND c.relname = 'events' AND c.oid <> v_events
    EXCEPT
    SELECT m.pid FROM l m WHERE m.locktype = 'relation' AND m.database = v_database AND m.relation = v_events
  )
  -- a holder's 32-bit transaction ids, widened with the epoch of v_next (they are below it)
  SELECT min(v_next - (((v_next % 4294967296) - t.transactionid::text::bigint) % 4294967296 + 4294967296) % 4294967296)
    INTO v_oldest
    FROM l a
    JOIN l t ON t.pid = a.pid AND t.locktype = 'transactionid' AND t.mode = 'ExclusiveLock' AND t.granted
   WHERE a.locktype = 'advisory' AND a.objsubid = 2 AND a.classid = 1296911693::oid AND a.database = v_database
     AND a.pid NOT IN (SELECT e.pid FROM elsewhere e);
  RETURN least(v_next, coalesce(v_oldest, v_next)) * 65536;
END;
$$;

-- Down Migration
-- The function of 1700000000009: every appender of the database counts.
CREATE OR REPLACE FUNCTION event_delivery_horizon() RETURNS bigint
LANGUAGE plpgsql VOLATILE
AS $$
DECLARE
  v_next bigint := pg_snapshot_xmax(pg_current_snapshot())::text::bigint;
  v_oldest bigint;
BEGIN
  WITH l AS (
    SELECT locktype, database, classid, objsubid, pid, transactionid, mode, granted FROM pg_catalog.pg_locks
  )
  SELECT min(v_next - (((v_next % 4294967296) - t.transactionid::text::bigint) % 4294967296 + 4294967296) % 4294967296)
    INTO v_oldest
    FROM l a
    JOIN l t ON t.pid = a.pid AND t.locktype = 'transactionid' AND t.mode = 'ExclusiveLock' AND t.granted
   WHERE a.locktype = 'advisory' AND a.objsubid = 2 AND a.classid = 1296911693::oid
     AND a.database = (SELECT d.oid FROM pg_catalog.pg_database d WHERE d.datname = current_database());
  RETURN least(v_next, coalesce(v_oldest, v_next)) * 65536;
END;
$$;
