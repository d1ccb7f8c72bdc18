-- pragma: foreign_keys=off
-- Ids are forever. SQLite hands out the highest rowid + 1 for a plain integer key, so after a delete the
-- next row took the id of the one removed: a removed unit's ballot counted for the next flat
-- added, an old card's buttons acted on a new poll after /purge, and a new event got the
-- calendar UID of an old one. Every table whose ids reach a card, button data, an export or a
-- UID is rebuilt with AUTOINCREMENT (rows, ids, indexes and triggers kept), and its sequence
-- starts above every id still remembered elsewhere (a removed unit's ballot, a scheduled row).
-- Foreign keys are off while the tables are rebuilt (a DROP would otherwise cascade); the
-- migration runner checks them before it commits.

-- scheduled
CREATE TABLE scheduled__new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO scheduled__new (id, chat_id, kind, ref_id, run_at, due_at, status, attempts, created_at, fired_at)
    SELECT id, chat_id, kind, ref_id, run_at, due_at, status, attempts, created_at, fired_at FROM scheduled;
DROP TABLE scheduled;
ALTER TABLE scheduled__new RENAME TO scheduled;
CREATE INDEX scheduled_due ON scheduled (status, run_at);
CREATE INDEX scheduled_ref ON scheduled (kind, ref_id);

-- posts
CREATE TABLE posts__new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO posts__new (id, kind, chat_id, target_chat_id, creator_id, creator_name, text, first_local, tz, rrule, pin, status, created_at)
    SELECT id, kind, chat_id, target_chat_id, creator_id, creator_name, text, first_local, tz, rrule, pin, status, created_at FROM posts;
DROP TABLE posts;
ALTER TABLE posts__new RENAME TO posts;
CREATE INDEX posts_chat ON posts (chat_id, status);
CREATE INDEX posts_target ON posts (target_chat_id, status);
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'posts', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'posts');
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT MAX(ref_id) FROM scheduled WHERE kind = 'post'), 0)) WHERE name = 'posts';

-- delivery_failures
CREATE TABLE delivery_failures__new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    method      TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    failed_at   TEXT    NOT NULL
);
INSERT INTO delivery_failures__new (id, chat_id, method, reason, failed_at)
    SELECT id, chat_id, method, reason, failed_at FROM delivery_failures;
DROP TABLE delivery_failures;
ALTER TABLE delivery_failures__new RENAME TO delivery_failures;
CREATE INDEX delivery_failures_chat ON delivery_failures (chat_id, failed_at);

-- units
CREATE TABLE units__new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    label       TEXT    NOT NULL,                 -- normalised (bot.domain.units.normalize_label)
    area_num    INTEGER,                          -- floor area in m², an exact fraction
    area_den    INTEGER,                          -- (both NULL when not known)
    created_at  TEXT    NOT NULL,
    CHECK ((area_num IS NULL) = (area_den IS NULL)),
    CHECK (area_den IS NULL OR area_den > 0),
    UNIQUE (chat_id, label)
);
INSERT INTO units__new (id, chat_id, label, area_num, area_den, created_at)
    SELECT id, chat_id, label, area_num, area_den, created_at FROM units;
DROP TABLE units;
ALTER TABLE units__new RENAME TO units;
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'units', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'units');
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT MAX(unit_id) FROM decision_ballots), 0)) WHERE name = 'units';

-- polls
CREATE TABLE polls__new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id       INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    creator_id    INTEGER NOT NULL,                -- Telegram user id
    question      TEXT    NOT NULL,
    options       TEXT    NOT NULL,                -- JSON array of 2..10 strings
    multiple      INTEGER NOT NULL DEFAULT 0 CHECK (multiple IN (0, 1)),
    anonymous     INTEGER NOT NULL DEFAULT 0 CHECK (anonymous IN (0, 1)),
    secret        BLOB,                            -- HMAC key while an anonymous poll is open
    closes_at     TEXT,                            -- UTC; NULL: closed by hand only
    status        TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    message_id    INTEGER,                         -- the card (updated when it is re-posted)
    final_counts  TEXT,                            -- JSON array, set at closing
    final_voters  INTEGER,                         -- set at closing
    created_at    TEXT    NOT NULL,
    closed_at     TEXT,
    closed_by     INTEGER,                         -- user id; NULL: closed at its closing time
    CHECK (anonymous = 1 OR secret IS NULL)
);
INSERT INTO polls__new (id, chat_id, creator_id, question, options, multiple, anonymous, secret, closes_at, status, message_id, final_counts, final_voters, created_at, closed_at, closed_by)
    SELECT id, chat_id, creator_id, question, options, multiple, anonymous, secret, closes_at, status, message_id, final_counts, final_voters, created_at, closed_at, closed_by FROM polls;
DROP TABLE polls;
ALTER TABLE polls__new RENAME TO polls;
CREATE INDEX polls_chat ON polls (chat_id, status);
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'polls', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'polls');
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT MAX(ref_id) FROM scheduled WHERE kind = 'poll_close'), 0)) WHERE name = 'polls';

-- decisions
CREATE TABLE decisions__new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id       INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    title         TEXT    NOT NULL,
    rule          TEXT    NOT NULL,               -- bot.domain.decisions.Rule.text
    secret        INTEGER NOT NULL DEFAULT 0 CHECK (secret IN (0, 1)),
    creator_id    INTEGER NOT NULL,               -- Telegram user id
    creator_name  TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    closes_at     TEXT    NOT NULL,               -- UTC deadline
    status        TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    closed_at     TEXT,
    closed_by     TEXT,                           -- a lead's name; NULL: the deadline
    message_id    INTEGER,                        -- the card
    totals        TEXT,                           -- JSON of the final totals (set at closing)
    CHECK ((status = 'closed') = (closed_at IS NOT NULL))
);
INSERT INTO decisions__new (id, chat_id, title, rule, secret, creator_id, creator_name, created_at, closes_at, status, closed_at, closed_by, message_id, totals)
    SELECT id, chat_id, title, rule, secret, creator_id, creator_name, created_at, closes_at, status, closed_at, closed_by, message_id, totals FROM decisions;
DROP TABLE decisions;
ALTER TABLE decisions__new RENAME TO decisions;
CREATE INDEX decisions_chat ON decisions (chat_id, status);
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'decisions', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'decisions');
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT MAX(ref_id) FROM scheduled WHERE kind = 'decision_close'), 0)) WHERE name = 'decisions';

-- decision_audit
CREATE TABLE decision_audit__new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    decision_id   INTEGER NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
    chat_id       INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    label         TEXT    NOT NULL,
    choice        TEXT    CHECK (choice IN ('for', 'against', 'abstain')),
    by_id         INTEGER NOT NULL,
    by_name       TEXT    NOT NULL,
    paper         INTEGER NOT NULL DEFAULT 0 CHECK (paper IN (0, 1)),
    note          TEXT,
    at            TEXT    NOT NULL
);
INSERT INTO decision_audit__new (id, decision_id, chat_id, label, choice, by_id, by_name, paper, note, at)
    SELECT id, decision_id, chat_id, label, choice, by_id, by_name, paper, note, at FROM decision_audit;
DROP TABLE decision_audit;
ALTER TABLE decision_audit__new RENAME TO decision_audit;
CREATE INDEX decision_audit_decision ON decision_audit (decision_id, id);

-- events
CREATE TABLE events__new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO events__new (id, chat_id, creator_id, creator_name, title, place, starts_at, ends_at, capacity, status, message_id, sequence, created_at)
    SELECT id, chat_id, creator_id, creator_name, title, place, starts_at, ends_at, capacity, status, message_id, sequence, created_at FROM events;
DROP TABLE events;
ALTER TABLE events__new RENAME TO events;
CREATE INDEX events_upcoming ON events (chat_id, status, starts_at);
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'events', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'events');
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT MAX(ref_id) FROM scheduled WHERE kind = 'event_reminder'), 0)) WHERE name = 'events';

-- rosters
CREATE TABLE rosters__new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id      INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    creator_id   INTEGER NOT NULL,
    creator_name TEXT    NOT NULL,
    title        TEXT    NOT NULL,
    per_slot     INTEGER NOT NULL CHECK (per_slot > 0),
    status       TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    message_id   INTEGER,
    created_at   TEXT    NOT NULL
);
INSERT INTO rosters__new (id, chat_id, creator_id, creator_name, title, per_slot, status, message_id, created_at)
    SELECT id, chat_id, creator_id, creator_name, title, per_slot, status, message_id, created_at FROM rosters;
DROP TABLE rosters;
ALTER TABLE rosters__new RENAME TO rosters;
CREATE INDEX rosters_chat ON rosters (chat_id, status);

-- roster_slots
CREATE TABLE roster_slots__new (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    roster_id  INTEGER NOT NULL REFERENCES rosters (id) ON DELETE CASCADE,
    chat_id    INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    starts_at  TEXT    NOT NULL,                  -- UTC
    ends_at    TEXT    NOT NULL,                  -- UTC
    UNIQUE (roster_id, position)
);
INSERT INTO roster_slots__new (id, roster_id, chat_id, position, starts_at, ends_at)
    SELECT id, roster_id, chat_id, position, starts_at, ends_at FROM roster_slots;
DROP TABLE roster_slots;
ALTER TABLE roster_slots__new RENAME TO roster_slots;

-- items
CREATE TABLE items__new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO items__new (id, chat_id, kind, mode, owner_id, owner_name, title, note, photo, search, status, card_id, created_at, expires_at)
    SELECT id, chat_id, kind, mode, owner_id, owner_name, title, note, photo, search, status, card_id, created_at, expires_at FROM items;
DROP TABLE items;
ALTER TABLE items__new RENAME TO items;
CREATE INDEX items_chat ON items (chat_id, kind, status);
CREATE INDEX items_owner ON items (chat_id, owner_id);
CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, search) VALUES ('delete', old.id, old.search);
END;
CREATE TRIGGER items_fts_insert AFTER INSERT ON items BEGIN
    INSERT INTO items_fts (rowid, search) VALUES (new.id, new.search);
END;
CREATE TRIGGER items_fts_update AFTER UPDATE OF search ON items BEGIN
    INSERT INTO items_fts (items_fts, rowid, search) VALUES ('delete', old.id, old.search);
    INSERT INTO items_fts (rowid, search) VALUES (new.id, new.search);
END;
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'items', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'items');
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT MAX(ref_id) FROM scheduled WHERE kind = 'item_expiry'), 0)) WHERE name = 'items';

-- item_requests
CREATE TABLE item_requests__new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id     INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    user_name   TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    UNIQUE (item_id, user_id)
);
INSERT INTO item_requests__new (id, item_id, chat_id, user_id, user_name, created_at)
    SELECT id, item_id, chat_id, user_id, user_name, created_at FROM item_requests;
DROP TABLE item_requests;
ALTER TABLE item_requests__new RENAME TO item_requests;

-- loans
CREATE TABLE loans__new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id       INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
    chat_id       INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    borrower_id   INTEGER NOT NULL,
    borrower_name TEXT    NOT NULL,
    lent_at       TEXT    NOT NULL,
    due_at        TEXT,                                          -- NULL: no date agreed
    returned_at   TEXT,
    status        TEXT    NOT NULL DEFAULT 'out' CHECK (status IN ('out', 'returned'))
);
INSERT INTO loans__new (id, item_id, chat_id, borrower_id, borrower_name, lent_at, due_at, returned_at, status)
    SELECT id, item_id, chat_id, borrower_id, borrower_name, lent_at, due_at, returned_at, status FROM loans;
DROP TABLE loans;
ALTER TABLE loans__new RENAME TO loans;
CREATE INDEX loans_item ON loans (item_id, lent_at);
CREATE UNIQUE INDEX loans_one_out ON loans (item_id) WHERE status = 'out';
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'loans', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'loans');
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT MAX(ref_id) FROM scheduled WHERE kind IN ('loan_remind', 'loan_overdue')), 0)) WHERE name = 'loans';

-- groupbuys
CREATE TABLE groupbuys__new (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO groupbuys__new (id, chat_id, organizer_id, organizer_name, title, price_cents, currency, min_kind, min_value, closes_at, status, card_id, created_at, closed_at)
    SELECT id, chat_id, organizer_id, organizer_name, title, price_cents, currency, min_kind, min_value, closes_at, status, card_id, created_at, closed_at FROM groupbuys;
DROP TABLE groupbuys;
ALTER TABLE groupbuys__new RENAME TO groupbuys;
CREATE INDEX groupbuys_chat ON groupbuys (chat_id, status);
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'groupbuys', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'groupbuys');
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT MAX(ref_id) FROM scheduled WHERE kind = 'groupbuy_close'), 0)) WHERE name = 'groupbuys';

-- groupbuy_orders
CREATE TABLE groupbuy_orders__new (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO groupbuy_orders__new (id, groupbuy_id, chat_id, user_id, user_name, quantity, paid, picked, updated_at)
    SELECT id, groupbuy_id, chat_id, user_id, user_name, quantity, paid, picked, updated_at FROM groupbuy_orders;
DROP TABLE groupbuy_orders;
ALTER TABLE groupbuy_orders__new RENAME TO groupbuy_orders;

-- chains
CREATE TABLE chains__new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
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
INSERT INTO chains__new (id, chat_id, creator_id, creator_name, title, closes_at, status, card_id, created_at, closed_at)
    SELECT id, chat_id, creator_id, creator_name, title, closes_at, status, card_id, created_at, closed_at FROM chains;
DROP TABLE chains;
ALTER TABLE chains__new RENAME TO chains;
CREATE INDEX chains_chat ON chains (chat_id, status);
INSERT INTO sqlite_sequence (name, seq)
    SELECT 'chains', 0 WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'chains');
UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT MAX(ref_id) FROM scheduled WHERE kind = 'chain_close'), 0)) WHERE name = 'chains';

-- chain_lines
CREATE TABLE chain_lines__new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chain_id    INTEGER NOT NULL REFERENCES chains (id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    user_name   TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    updated_at  TEXT    NOT NULL,
    UNIQUE (chain_id, user_id)
);
INSERT INTO chain_lines__new (id, chain_id, chat_id, user_id, user_name, text, updated_at)
    SELECT id, chain_id, chat_id, user_id, user_name, text, updated_at FROM chain_lines;
DROP TABLE chain_lines;
ALTER TABLE chain_lines__new RENAME TO chain_lines;

