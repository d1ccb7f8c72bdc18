-- An outcome that was never posted: closing commits the count, then the outcome is posted.
-- A process that dies between the two left a closed decision (or poll) whose result nobody was
-- told. announced_at is set once the outcome message was delivered; at start-up the outcomes
-- of closed rows without it are posted (handlers/cards.py after_start). Rows closed before this
-- migration were announced by the version that closed them.
ALTER TABLE decisions ADD COLUMN announced_at TEXT;  -- UTC; NULL while open or not yet posted
UPDATE decisions SET announced_at = closed_at WHERE status = 'closed';
CREATE INDEX decisions_unannounced ON decisions (status) WHERE announced_at IS NULL;

ALTER TABLE polls ADD COLUMN announced_at TEXT;      -- UTC; NULL while open or not yet posted
UPDATE polls SET announced_at = closed_at WHERE status = 'closed';
CREATE INDEX polls_unannounced ON polls (status) WHERE announced_at IS NULL;
