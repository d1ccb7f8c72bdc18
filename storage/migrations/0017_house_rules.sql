-- House rules (小区公约 / 居民公约 / правила дома): the versions of a group's rules, the
-- amendments residents propose to its draft, and the households that support an amendment.
-- A version is a draft (at most one per group), ratified (numbered 1, 2, ... in the group;
-- the highest is in force) or discarded. Ids are in buttons: AUTOINCREMENT, never reused.
CREATE TABLE rules_versions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id       INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    status        TEXT    NOT NULL DEFAULT 'draft'
                  CHECK (status IN ('draft', 'ratified', 'discarded')),
    number        INTEGER,                        -- the version number once ratified
    preamble      TEXT    NOT NULL DEFAULT '',
    articles      TEXT    NOT NULL DEFAULT '[]',  -- JSON list of the articles' texts, in order
    creator_id    INTEGER NOT NULL,               -- Telegram user id of the lead who drafted it
    creator_name  TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    message_id    INTEGER,                        -- the draft's card (a reply to it is the text)
    decision_id   INTEGER REFERENCES decisions (id) ON DELETE SET NULL,  -- the last ratification
    rule          TEXT,                           -- the rule it was ratified under
    ratified_at   TEXT,
    CHECK ((status = 'ratified') = (number IS NOT NULL)),
    UNIQUE (chat_id, number)
);
CREATE UNIQUE INDEX rules_versions_one_draft ON rules_versions (chat_id) WHERE status = 'draft';
CREATE INDEX rules_versions_decision ON rules_versions (decision_id);

-- An amendment to one article of the draft (article NULL: a new article at the end).
CREATE TABLE rules_amendments (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id        INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    version_id     INTEGER NOT NULL REFERENCES rules_versions (id) ON DELETE CASCADE,
    article        INTEGER CHECK (article IS NULL OR article > 0),
    base           TEXT,                          -- the article's text when it was proposed
    text           TEXT    NOT NULL,
    author_id      INTEGER NOT NULL,              -- Telegram user id
    author_name    TEXT    NOT NULL,
    status         TEXT    NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'accepted', 'declined', 'withdrawn')),
    reason         TEXT,                          -- the lead's reason (posted)
    decided_by     TEXT,                          -- the lead's name
    decided_by_id  INTEGER,
    created_at     TEXT    NOT NULL,
    decided_at     TEXT,
    message_id     INTEGER                        -- the amendment's card
);
CREATE INDEX rules_amendments_version ON rules_amendments (version_id, status);

-- Support for an amendment, one per household (unit); who pressed, so that /mydata shows it.
CREATE TABLE rules_supports (
    amendment_id  INTEGER NOT NULL REFERENCES rules_amendments (id) ON DELETE CASCADE,
    chat_id       INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    unit_id       INTEGER NOT NULL,               -- units.id (AUTOINCREMENT: never another's)
    user_id       INTEGER NOT NULL,
    at            TEXT    NOT NULL,
    PRIMARY KEY (amendment_id, unit_id)
) WITHOUT ROWID;
