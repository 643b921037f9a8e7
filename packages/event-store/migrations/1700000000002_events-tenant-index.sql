-- Up Migration
-- Tenant-scoped reads of the global log (`readAll` / subscriptions with `filter.tenantId`, as the
-- HTTP event feed does for a tenant's service token) walk this index in position order instead
-- of scanning every tenant's events.
CREATE INDEX IF NOT EXISTS events_tenant_position_idx ON events ((metadata->>'tenantId'), position);

-- Down Migration
DROP INDEX IF EXISTS events_tenant_position_idx;
