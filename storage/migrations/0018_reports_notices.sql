-- Repair and problem reports (#F12) and notices residents confirm (#N3).
-- Only Telegram user ids and display names; a photo is kept as Telegram's file id (the bytes
-- stay with Telegram). Times in UTC. No phone numbers, ever.
CREATE TABLE reports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT, -- #F<id> on the card and in buttons
    chat_id      INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    reporter_id  INTEGER NOT NULL,                -- Telegram user id
    reporter_name TEXT   NOT NULL,
    what         TEXT    NOT NULL,
    place        TEXT,
    photo_id     TEXT,                            -- Telegram file id of the photo, if any
    category     TEXT,                            -- bot.domain.reports key; NULL until chosen
    private      INTEGER NOT NULL DEFAULT 0 CHECK (private IN (0, 1)),
    status       TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('draft', 'open',
                 'acknowledged', 'in_progress', 'fixed', 'confirmed', 'duplicate', 'not_ours')),
    reason       TEXT,                            -- one line, for duplicate / not ours
    since        TEXT    NOT NULL,                -- UTC: the overdue clocks start here
    flagged_ack  INTEGER NOT NULL DEFAULT 0,      -- "not acknowledged in time" was told
    flagged_fix  INTEGER NOT NULL DEFAULT 0,      -- "not fixed in time" was told
    message_id   INTEGER,                         -- the card in the group (not for private ones)
    created_at   TEXT    NOT NULL,
    changed_at   TEXT    NOT NULL
);
CREATE INDEX reports_chat ON reports (chat_id, status);

-- Every change of state, shown on the card (the last ones) and kept for the handlers.
CREATE TABLE report_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    report_id  INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    chat_id    INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    status     TEXT    NOT NULL,
    by_id      INTEGER NOT NULL,
    by_name    TEXT    NOT NULL,
    reason     TEXT,
    at         TEXT    NOT NULL
);
CREATE INDEX report_log_report ON report_log (report_id, id);

-- Me too: one per household (an approved unit: 'u<unit id>'; a resident without one counts
-- as their own household: 'p<user id>').
CREATE TABLE report_metoo (
    report_id  INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    chat_id    INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    household  TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    PRIMARY KEY (report_id, household),
    UNIQUE (report_id, user_id)
) WITHOUT ROWID;

-- The copies of a private report's card in its handlers' private chats (to edit them).
CREATE TABLE report_copies (
    report_id  INTEGER NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,                  -- the handler (their private chat's id)
    message_id INTEGER NOT NULL,
    PRIMARY KEY (report_id, user_id)
) WITHOUT ROWID;

-- A group's own names for the built-in categories and its added ones (key 'c<id>').
CREATE TABLE report_categories (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id    INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    key        TEXT    NOT NULL,
    label      TEXT    NOT NULL,                  -- the category's shown name (not a person)
    UNIQUE (chat_id, key)
);

-- Who handles a category (besides the leads, who handle every report).
CREATE TABLE report_handlers (
    chat_id    INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    category   TEXT    NOT NULL,
    user_id    INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    added_at   TEXT    NOT NULL,
    PRIMARY KEY (chat_id, category, user_id)
) WITHOUT ROWID;

CREATE TABLE notices (
    id           INTEGER PRIMARY KEY AUTOINCREMENT, -- #N<id>
    chat_id      INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    author_id    INTEGER NOT NULL,
    author_name  TEXT    NOT NULL,
    text         TEXT    NOT NULL,
    deadline     TEXT,                            -- confirm by (UTC), NULL when none was given
    pinned       INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1)),
    status       TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    message_id   INTEGER,
    created_at   TEXT    NOT NULL,
    closed_at    TEXT
);
CREATE INDEX notices_chat ON notices (chat_id, status);

-- Got it: one row per person; the household counted is their approved unit (or themselves).
CREATE TABLE notice_confirms (
    notice_id  INTEGER NOT NULL REFERENCES notices (id) ON DELETE CASCADE,
    chat_id    INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    household  TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    PRIMARY KEY (notice_id, user_id)
) WITHOUT ROWID;
