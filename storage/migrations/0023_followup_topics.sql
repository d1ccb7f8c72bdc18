-- Forum topics of follow-ups (issue 13): what a feature posts later, without an update to
-- answer (a reminder, a closing, a status told in the group, an outcome), goes to the topic
-- the thing was created in, also once its card was deleted and after a restart. 0022 did this
-- for posts, polls, decisions and events; these are the others. NULL: General, or a chat
-- without topics; a topic closed or deleted by then gets the post in General instead.
ALTER TABLE rollcalls ADD COLUMN thread_id INTEGER;         -- reminder, closing, mentions
ALTER TABLE reports ADD COLUMN thread_id INTEGER;           -- status changes, overdue notes
ALTER TABLE notices ADD COLUMN thread_id INTEGER;           -- chasing, the deadline
ALTER TABLE proposals ADD COLUMN thread_id INTEGER;         -- threshold, expiry, hearing, vote, review
ALTER TABLE rules_versions ADD COLUMN thread_id INTEGER;    -- ratification outcome, new version
ALTER TABLE rules_amendments ADD COLUMN thread_id INTEGER;  -- its card posted again
ALTER TABLE rosters ADD COLUMN thread_id INTEGER;           -- slot reminders, hours asked
ALTER TABLE items ADD COLUMN thread_id INTEGER;             -- expiry, loans' returns
ALTER TABLE groupbuys ADD COLUMN thread_id INTEGER;         -- its closing
ALTER TABLE chains ADD COLUMN thread_id INTEGER;            -- its closing
ALTER TABLE unit_queue_cards ADD COLUMN thread_id INTEGER;  -- the approval card
