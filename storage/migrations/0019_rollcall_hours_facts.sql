-- Emergency roll-calls, helpers and /checkonme lines; volunteer hours of roster slots; the
-- facts board. Only Telegram user ids and display names; no phone or ID numbers; times in UTC.

CREATE TABLE rollcalls (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id      INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    creator_id   INTEGER NOT NULL,
    creator_name TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    message_id   INTEGER,                          -- the card in the group
    opened_at    TEXT    NOT NULL,
    closed_at    TEXT
);
CREATE INDEX rollcalls_chat ON rollcalls (chat_id, status);

-- The households a roll-call counts, fixed when it opens (the register may change meanwhile).
CREATE TABLE rollcall_units (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    rollcall_id INTEGER NOT NULL REFERENCES rollcalls (id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    position    INTEGER NOT NULL,                  -- the register's order
    label       TEXT    NOT NULL,
    UNIQUE (rollcall_id, label)
);

-- One answer per household (unit_id) or, for a resident without one, per person.
CREATE TABLE rollcall_answers (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    rollcall_id INTEGER NOT NULL REFERENCES rollcalls (id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    unit_id     INTEGER REFERENCES rollcall_units (id) ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    name        TEXT    NOT NULL,
    answer      TEXT    NOT NULL CHECK (answer IN ('ok', 'help', 'seen')),
    note        TEXT,
    answered_at TEXT    NOT NULL
);
CREATE UNIQUE INDEX rollcall_answers_unit ON rollcall_answers (rollcall_id, unit_id)
    WHERE unit_id IS NOT NULL;
CREATE UNIQUE INDEX rollcall_answers_person ON rollcall_answers (rollcall_id, user_id)
    WHERE unit_id IS NULL;

-- Residents who signed up as helpers (/helper on): told at once when someone needs help.
CREATE TABLE rollcall_helpers (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id  INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    user_id  INTEGER NOT NULL,
    since    TEXT    NOT NULL,
    UNIQUE (chat_id, user_id)
);

-- /checkonme: one line a household asked leads and helpers to see during a roll-call.
CREATE TABLE check_on_me (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id    INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    note       TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL,
    UNIQUE (chat_id, user_id)
);

-- "I did it" for a roster slot after it ended; the roster's organizer (or a lead) approves.
CREATE TABLE volunteer_hours (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    slot_id     INTEGER NOT NULL REFERENCES roster_slots (id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    minutes     INTEGER NOT NULL CHECK (minutes > 0),
    status      TEXT    NOT NULL DEFAULT 'claimed'
                CHECK (status IN ('claimed', 'approved', 'rejected')),
    worked_at   TEXT    NOT NULL,                  -- the slot's start (UTC): the month it counts in
    claimed_at  TEXT    NOT NULL,
    decided_at  TEXT,
    message_id  INTEGER,                           -- the organizer's approval message
    UNIQUE (slot_id, user_id)
);
CREATE INDEX volunteer_hours_user ON volunteer_hours (chat_id, user_id, status);

-- Whether a volunteer's first name may appear in the group's thank-you list (off unless asked).
CREATE TABLE volunteer_prefs (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id  INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    user_id  INTEGER NOT NULL,
    public   INTEGER NOT NULL CHECK (public IN (0, 1)),
    UNIQUE (chat_id, user_id)
);

-- The facts board: short facts leads keep ("property office", "bins").
CREATE TABLE facts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id    INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    key        TEXT    NOT NULL,
    folded     TEXT    NOT NULL,                   -- the key folded for lookups
    text       TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    UNIQUE (chat_id, folded)
);

-- Where the group's facts are shown pinned (/info pin), kept up to date as facts change.
CREATE TABLE fact_boards (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id    INTEGER NOT NULL UNIQUE REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    message_id INTEGER
);
