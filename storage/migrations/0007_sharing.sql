-- Sharing: items offered (lend/give) or needed, skills, loans, group buys and sign-up chains.
-- Only Telegram user ids and display names of people; photos as Telegram file ids; never a
-- phone number. Money as integer cents with a display sign.

CREATE TABLE items (
    id           INTEGER PRIMARY KEY,
    chat_id      INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    kind         TEXT    NOT NULL CHECK (kind IN ('offer', 'need', 'skill')),
    mode         TEXT    CHECK (mode IN ('lend', 'give')),      -- offers only
    owner_id     INTEGER NOT NULL,                               -- Telegram user id
    owner_name   TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    note         TEXT    NOT NULL DEFAULT '',
    photo        TEXT,                                           -- Telegram file_id
    search       TEXT    NOT NULL,                               -- case-folded title and note
    status       TEXT    NOT NULL DEFAULT 'open'
                 CHECK (status IN ('open', 'lent', 'given', 'expired', 'withdrawn')),
    card_id      INTEGER,                                        -- message id of the card
    created_at   TEXT    NOT NULL,
    expires_at   TEXT                                            -- NULL: skills do not expire
);
CREATE INDEX items_chat ON items (chat_id, kind, status);
CREATE INDEX items_owner ON items (chat_id, owner_id);

-- Search by a part of a word in any script: trigram full-text index keyed by items.id only
-- (the chat is in the base table, so a supergroup migration needs nothing here).
CREATE VIRTUAL TABLE items_fts USING fts5 (
    search, content = 'items', content_rowid = 'id', tokenize = 'trigram'
);
CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_fts (rowid, search) VALUES (new.id, new.search);
END;
CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, search) VALUES ('delete', old.id, old.search);
END;
CREATE TRIGGER items_fts_update AFTER UPDATE OF search ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, search) VALUES ('delete', old.id, old.search);
    INSERT INTO items_fts (rowid, search) VALUES (new.id, new.search);
END;

-- Neighbours who pressed "I'd like it" / "I have one" (or "Ask" on a skill).
CREATE TABLE item_requests (
    id          INTEGER PRIMARY KEY,
    item_id     INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    user_name   TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    UNIQUE (item_id, user_id)
);

CREATE TABLE loans (
    id            INTEGER PRIMARY KEY,
    item_id       INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    chat_id       INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    borrower_id   INTEGER NOT NULL,
    borrower_name TEXT    NOT NULL,
    lent_at       TEXT    NOT NULL,
    due_at        TEXT,                                          -- NULL: no date agreed
    returned_at   TEXT,
    status        TEXT    NOT NULL DEFAULT 'out' CHECK (status IN ('out', 'returned'))
);
CREATE UNIQUE INDEX loans_one_out ON loans (item_id) WHERE status = 'out';
CREATE INDEX loans_item ON loans (item_id, lent_at);

CREATE TABLE groupbuys (
    id              INTEGER PRIMARY KEY,
    chat_id         INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    organizer_id    INTEGER NOT NULL,
    organizer_name  TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    price_cents     INTEGER NOT NULL CHECK (price_cents > 0),
    currency        TEXT    NOT NULL DEFAULT '',
    min_kind        TEXT    CHECK (min_kind IN ('units', 'money')),
    min_value       INTEGER,
    closes_at       TEXT    NOT NULL,
    status          TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    card_id         INTEGER,
    created_at      TEXT    NOT NULL,
    closed_at       TEXT,
    CHECK ((min_kind IS NULL) = (min_value IS NULL))
);
CREATE INDEX groupbuys_chat ON groupbuys (chat_id, status);

CREATE TABLE groupbuy_orders (
    id           INTEGER PRIMARY KEY,
    groupbuy_id  INTEGER NOT NULL REFERENCES groupbuys (id) ON DELETE CASCADE,
    chat_id      INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    user_id      INTEGER NOT NULL,
    user_name    TEXT    NOT NULL,
    quantity     INTEGER NOT NULL DEFAULT 0 CHECK (quantity >= 0),
    paid         INTEGER NOT NULL DEFAULT 0 CHECK (paid IN (0, 1)),
    picked       INTEGER NOT NULL DEFAULT 0 CHECK (picked IN (0, 1)),
    updated_at   TEXT    NOT NULL,
    UNIQUE (groupbuy_id, user_id)
);

CREATE TABLE chains (
    id            INTEGER PRIMARY KEY,
    chat_id       INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    creator_id    INTEGER NOT NULL,
    creator_name  TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    closes_at     TEXT,
    status        TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    card_id       INTEGER,
    created_at    TEXT    NOT NULL,
    closed_at     TEXT
);
CREATE INDEX chains_chat ON chains (chat_id, status);

-- One line per person; a new reply replaces the text in place (the line keeps its number).
CREATE TABLE chain_lines (
    id          INTEGER PRIMARY KEY,
    chain_id    INTEGER NOT NULL REFERENCES chains (id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    user_name   TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    UNIQUE (chain_id, user_id)
);
