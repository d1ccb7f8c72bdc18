-- Formal decisions: one ballot per registered unit, counted under a rule (bot.domain.decisions).
-- A secret decision's per-unit choices are set to NULL when it closes; only its totals remain.
CREATE TABLE decisions (
    id            INTEGER PRIMARY KEY,
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
CREATE INDEX decisions_chat ON decisions (chat_id, status);

-- The current ballot of each unit (the latest press or paper ballot counts).
CREATE TABLE decision_ballots (
    decision_id   INTEGER NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
    chat_id       INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    unit_id       INTEGER NOT NULL,               -- units.id; no foreign key: a removed unit's
    label         TEXT    NOT NULL,               -- ballot stays, shown as "no longer counts"
    choice        TEXT    CHECK (choice IN ('for', 'against', 'abstain')),  -- NULL: discarded
    by_id         INTEGER NOT NULL,               -- who cast or recorded it (Telegram user id)
    by_name       TEXT    NOT NULL,
    paper         INTEGER NOT NULL DEFAULT 0 CHECK (paper IN (0, 1)),
    note          TEXT,
    cast_at       TEXT    NOT NULL,
    PRIMARY KEY (decision_id, unit_id)
) WITHOUT ROWID;

-- Every ballot recorded, in order: who recorded one for which unit and when. The choice is
-- NULL for a secret decision (never stored here at all).
CREATE TABLE decision_audit (
    id            INTEGER PRIMARY KEY,
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
CREATE INDEX decision_audit_decision ON decision_audit (decision_id, id);
