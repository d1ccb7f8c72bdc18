-- Courtyard foundation: chats and the people we know in them, and nothing else about people.
-- Times are UTC ISO-8601 text ('2026-11-21T13:05:00Z').

CREATE TABLE chats (
    id          INTEGER PRIMARY KEY,              -- Telegram chat id
    type        TEXT    NOT NULL CHECK (type IN ('private', 'group', 'supergroup', 'channel')),
    title       TEXT,                             -- NULL for private chats
    language    TEXT    NOT NULL,                 -- en | zh_Hans | ru
    timezone    TEXT    NOT NULL,                 -- IANA name
    settings    TEXT    NOT NULL DEFAULT '{}',    -- JSON: the other settings
    active      INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    joined_at   TEXT    NOT NULL,
    left_at     TEXT
);

-- Members we have met (they used a command or a button, or a lead named them).
-- Leads are not stored: they are the chat's administrators, asked from Telegram.
CREATE TABLE members (
    chat_id      INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    user_id      INTEGER NOT NULL,
    display_name TEXT    NOT NULL,
    role         TEXT    NOT NULL DEFAULT 'resident' CHECK (role IN ('resident', 'organizer')),
    first_seen   TEXT    NOT NULL,
    last_seen    TEXT    NOT NULL,
    PRIMARY KEY (chat_id, user_id)
) WITHOUT ROWID;

-- A group that became a supergroup: the old id points at the new one, so late updates and
-- old buttons still find their chat.
CREATE TABLE chat_migrations (
    old_id      INTEGER PRIMARY KEY,
    new_id      INTEGER NOT NULL,
    migrated_at TEXT    NOT NULL
);

-- Messages the outbox could not deliver after its retries, for leads to see. No message text.
CREATE TABLE delivery_failures (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    method      TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    failed_at   TEXT    NOT NULL
);
CREATE INDEX delivery_failures_chat ON delivery_failures (chat_id, failed_at);
