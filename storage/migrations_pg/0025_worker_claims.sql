-- Several workers on one database: a scheduled row being fired names the worker that claimed it
-- and until when its claim holds (see storage/migrations/0025_worker_claims.sql).
ALTER TABLE scheduled ADD COLUMN worker TEXT;
ALTER TABLE scheduled ADD COLUMN lease_until TEXT;
CREATE INDEX scheduled_leases ON scheduled (lease_until) WHERE status = 'running';

-- Telegram's limits held by all workers together (bot/workers.py): one row per budget.
-- tat: GCRA's theoretical arrival time (seconds since the epoch, the server's clock);
-- slots: a group's last uses, for its rolling minute. UNLOGGED: a budget is worth nothing
-- after a crash of the server (it is emptied then, as Telegram's own minute has passed).
CREATE UNLOGGED TABLE rate_limits (
    key         TEXT PRIMARY KEY,
    tat         DOUBLE PRECISION NOT NULL DEFAULT 0,
    slots       DOUBLE PRECISION[]
);
