-- Several workers on one database (PostgreSQL): a scheduled row being fired names the worker
-- that claimed it and until when its claim holds. The worker renews the lease while it runs; a
-- worker killed mid-fire stops renewing, the lease runs out, and another worker takes the row
-- (at least once, as after a crash). One worker on SQLite leaves both NULL.
ALTER TABLE scheduled ADD COLUMN worker TEXT;             -- the claiming worker (host:pid:nonce)
ALTER TABLE scheduled ADD COLUMN lease_until TEXT;        -- UTC
CREATE INDEX scheduled_leases ON scheduled (lease_until) WHERE status = 'running';

-- Telegram's limits held by all workers together: one row per budget (the global one, one per
-- chat). tat: the theoretical arrival time of the next use (GCRA, seconds since the epoch);
-- slots: a group's last uses, for its rolling minute (JSON array on SQLite, where one process
-- keeps them in memory and this table stays empty).
CREATE TABLE rate_limits (
    key         TEXT    PRIMARY KEY,
    tat         REAL    NOT NULL DEFAULT 0,
    slots       TEXT
);
