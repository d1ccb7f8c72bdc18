-- General meetings of owners (业主大会, общее собрание собственников): several numbered items
-- decided at once, each under its own rule (bot.domain.decisions), one ballot per household
-- that answers every item. Ids are forever (AUTOINCREMENT): M<n> reaches cards, buttons and
-- exports. A meeting's ballots are open (named), as an owners' meeting's signed ballots are.
CREATE TABLE meetings (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id       INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    title         TEXT    NOT NULL,
    creator_id    INTEGER NOT NULL,               -- Telegram user id
    creator_name  TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    closes_at     TEXT    NOT NULL,               -- UTC deadline
    status        TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    closed_at     TEXT,
    closed_by     TEXT,                           -- a lead's name; NULL: the deadline
    closed_by_id  INTEGER,                        -- that lead's user id (/forgetme finds it)
    message_id    INTEGER,                        -- the card
    thread_id     INTEGER,                        -- the forum topic of the card (NULL: General)
    part          TEXT,                           -- the part of the building (NULL: all of it)
    announced_at  TEXT,                           -- UTC; NULL while open or not yet posted
    CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);
CREATE INDEX meetings_chat ON meetings (chat_id, status);
CREATE INDEX meetings_unannounced ON meetings (status) WHERE announced_at IS NULL;

-- The items, numbered from 1; totals: JSON of the item's final totals (set at closing, as
-- decisions.totals).
CREATE TABLE meeting_items (
    meeting_id    INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    chat_id       INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    number        INTEGER NOT NULL CHECK (number >= 1),
    title         TEXT    NOT NULL,
    rule          TEXT    NOT NULL,               -- bot.domain.decisions.Rule.text
    totals        TEXT,
    PRIMARY KEY (meeting_id, number)
) WITHOUT ROWID;

-- The electorate: the units (labels, areas) the meeting counts, copied from the register (or
-- from one part of it) in the transaction that opens it; the live register is never counted.
CREATE TABLE meeting_units (
    meeting_id    INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    chat_id       INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    unit_id       INTEGER NOT NULL,               -- units.id; no foreign key: it outlives the unit
    label         TEXT    NOT NULL,
    area_num      INTEGER,
    area_den      INTEGER,
    CHECK ((area_num IS NULL) = (area_den IS NULL)),
    CHECK (area_den IS NULL OR area_den > 0),
    PRIMARY KEY (meeting_id, unit_id)
) WITHOUT ROWID;

-- A household's ballot: its current answer to each item (the latest press or paper ballot).
CREATE TABLE meeting_answers (
    meeting_id    INTEGER NOT NULL REFERENCES meetings (id) ON DELETE CASCADE,
    chat_id       INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    unit_id       INTEGER NOT NULL,
    label         TEXT    NOT NULL,
    item          INTEGER NOT NULL,
    choice        TEXT    NOT NULL CHECK (choice IN ('for', 'against', 'abstain')),
    by_id         INTEGER NOT NULL,               -- who pressed or recorded it
    by_name       TEXT    NOT NULL,
    paper         INTEGER NOT NULL DEFAULT 0 CHECK (paper IN (0, 1)),
    cast_at       TEXT    NOT NULL,
    PRIMARY KEY (meeting_id, unit_id, item),
    FOREIGN KEY (meeting_id, item) REFERENCES meeting_items (meeting_id, number) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX meeting_answers_by ON meeting_answers (by_id);
