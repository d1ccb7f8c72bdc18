-- Every future action of every feature: the database is the truth, the JobQueue only a cache.
CREATE TABLE scheduled (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    kind        TEXT    NOT NULL,                 -- 'post', 'digest', later 'poll_close', ...
    ref_id      INTEGER,                          -- the feature row it acts for (posts.id, ...)
    run_at      TEXT    NOT NULL,                 -- UTC: when to try next
    due_at      TEXT    NOT NULL,                 -- UTC: when it was due (retries keep it)
    status      TEXT    NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'running', 'done', 'cancelled', 'missed', 'paused', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT    NOT NULL,
    fired_at    TEXT
);
CREATE INDEX scheduled_due ON scheduled (status, run_at);
CREATE INDEX scheduled_ref ON scheduled (kind, ref_id);

-- Reminders and scheduled announcements ("posts"): what to say, where, for whom, how often.
CREATE TABLE posts (
    id             INTEGER PRIMARY KEY,
    kind           TEXT    NOT NULL CHECK (kind IN ('reminder', 'announcement')),
    chat_id        INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    target_chat_id INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    creator_id     INTEGER NOT NULL,              -- Telegram user id
    creator_name   TEXT    NOT NULL,
    text           TEXT    NOT NULL,
    first_local    TEXT    NOT NULL,              -- local wall time of the first occurrence (ISO, no zone)
    tz             TEXT    NOT NULL,
    rrule          TEXT,                          -- RFC 5545 RRULE value, NULL for once
    pin            INTEGER NOT NULL DEFAULT 0 CHECK (pin IN (0, 1)),
    status         TEXT    NOT NULL DEFAULT 'active'
                   CHECK (status IN ('active', 'paused', 'cancelled', 'done')),
    created_at     TEXT    NOT NULL
);
CREATE INDEX posts_chat ON posts (chat_id, status);
CREATE INDEX posts_target ON posts (target_chat_id, status);

-- Members: only what is needed (chat, user id, display name, role) — no activity times.
CREATE TABLE members_new (
    chat_id      INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    user_id      INTEGER NOT NULL,
    display_name TEXT    NOT NULL,
    role         TEXT    NOT NULL DEFAULT 'resident' CHECK (role IN ('resident', 'organizer')),
    PRIMARY KEY (chat_id, user_id)
) WITHOUT ROWID;
INSERT INTO members_new (chat_id, user_id, display_name, role)
    SELECT chat_id, user_id, display_name, role FROM members;
DROP TABLE members;
ALTER TABLE members_new RENAME TO members;

-- Delivery failures belong to their chat, so they move with it to a supergroup.
CREATE TABLE delivery_failures_new (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    method      TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    failed_at   TEXT    NOT NULL
);
INSERT INTO delivery_failures_new (id, chat_id, method, reason, failed_at)
    SELECT id, chat_id, method, reason, failed_at FROM delivery_failures
    WHERE chat_id IN (SELECT id FROM chats);
DROP TABLE delivery_failures;
ALTER TABLE delivery_failures_new RENAME TO delivery_failures;
CREATE INDEX delivery_failures_chat ON delivery_failures (chat_id, failed_at);
