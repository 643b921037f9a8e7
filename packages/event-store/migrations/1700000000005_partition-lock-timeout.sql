-- Up Migration
-- Making a partition (CREATE TABLE … PARTITION OF events) locks `events` briefly; behind a long
-- reader it would wait, and every append and read would queue behind it. It gives up after 5 s
-- instead (the store's next check, or the next append that finds no partition, tries again).
ALTER FUNCTION ensure_event_partitions(interval, bigint, bigint) SET lock_timeout = '5s';

-- Down Migration
ALTER FUNCTION ensure_event_partitions(interval, bigint, bigint) RESET lock_timeout;
