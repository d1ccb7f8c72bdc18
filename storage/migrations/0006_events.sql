-- Events with sign-ups (guests, waitlist) and volunteer duty rosters.
-- Only Telegram user ids and display names of the people who signed up; times in UTC.
CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    chat_id      INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    creator_id   INTEGER NOT NULL,                -- Telegram user id
    creator_name TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    place        TEXT,
    starts_at    TEXT    NOT NULL,                -- UTC
    ends_at      TEXT,                            -- UTC, NULL when no end was given
    capacity     INTEGER CHECK (capacity IS NULL OR capacity > 0),  -- places, guests count
    status       TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'cancelled')),
    message_id   INTEGER,                         -- the card in the group
    sequence     INTEGER NOT NULL DEFAULT 0,      -- iCalendar SEQUENCE: bumped by each edit
    created_at   TEXT    NOT NULL
);
CREATE INDEX events_upcoming ON events (chat_id, status, starts_at);

-- Who is going (going = 1) or waiting (going = 0), with how many guests, in sign-up order.
CREATE TABLE event_signups (
    event_id   INTEGER NOT NULL REFERENCES events (id) ON DELETE CASCADE,
    chat_id    INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    guests     INTEGER NOT NULL DEFAULT 0 CHECK (guests >= 0),
    seq        INTEGER NOT NULL,                  -- sign-up order (also the waitlist's order)
    going      INTEGER NOT NULL CHECK (going IN (0, 1)),
    PRIMARY KEY (event_id, user_id)
) WITHOUT ROWID;

CREATE TABLE rosters (
    id           INTEGER PRIMARY KEY,
    chat_id      INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    creator_id   INTEGER NOT NULL,
    creator_name TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    per_slot     INTEGER NOT NULL CHECK (per_slot > 0),
    status       TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    message_id   INTEGER,
    created_at   TEXT    NOT NULL
);
CREATE INDEX rosters_chat ON rosters (chat_id, status);

CREATE TABLE roster_slots (
    id         INTEGER PRIMARY KEY,
    roster_id  INTEGER NOT NULL REFERENCES rosters (id) ON DELETE CASCADE,
    chat_id    INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    starts_at  TEXT    NOT NULL,                  -- UTC
    ends_at    TEXT    NOT NULL,                  -- UTC
    UNIQUE (roster_id, position)
);

CREATE TABLE roster_volunteers (
    slot_id   INTEGER NOT NULL REFERENCES roster_slots (id) ON DELETE CASCADE,
    chat_id   INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    user_id   INTEGER NOT NULL,
    name      TEXT    NOT NULL,
    taken_at  TEXT    NOT NULL,
    PRIMARY KEY (slot_id, user_id)
);
