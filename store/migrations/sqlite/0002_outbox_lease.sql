-- roundfeed store, version 2: outbox leases.
--
-- Several bot replicas may drain one outbox (PostgreSQL): Store.Due leases
-- the rows it returns to one Store (lease_owner, a random token) until
-- lease_until_ms, so another replica does not post them at the same time.
-- Sent and Failed clear the lease; a crashed replica's lease expires.
ALTER TABLE outbox ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN lease_until_ms BIGINT NOT NULL DEFAULT 0;
