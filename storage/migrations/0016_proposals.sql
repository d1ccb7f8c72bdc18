-- Proposals (议题) and the meetings around them: support per household, statements residents
-- agree or disagree with (per household), minutes, progress updates and the review (评议).
-- Per household means per unit of the register: a support, a statement vote, a review answer
-- belongs to the unit, never to the person who pressed (nobody is shown who pressed what).
-- Person ids are kept only where something must be theirs: the author of a proposal or a
-- statement (/mydata, /forgetme), who recorded minutes or progress, and who asked to follow.
CREATE TABLE proposals (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id        INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    author_id      INTEGER NOT NULL,                -- Telegram user id (0 once forgotten)
    title          TEXT    NOT NULL,
    body           TEXT    NOT NULL DEFAULT '',
    stage          TEXT    NOT NULL DEFAULT 'collecting' CHECK (stage IN ('collecting', 'agenda',
                   'hearing', 'coordination', 'vote', 'decided', 'progress', 'review',
                   'reviewed', 'declined', 'expired')),
    how            TEXT,                            -- how it reached the agenda: support | lead
    reason         TEXT,                            -- a lead's reason for declining
    dispute        TEXT,                            -- the coordination meeting's named dispute
    hearing_id     INTEGER REFERENCES events (id) ON DELETE SET NULL,
    coordination_id INTEGER REFERENCES events (id) ON DELETE SET NULL,
    decision_id    INTEGER REFERENCES decisions (id) ON DELETE SET NULL,
    last_vote      TEXT,                            -- the figures of a vote that did not pass
    assignee       TEXT,                            -- who carries it out, as a lead typed it
    message_id     INTEGER,                         -- the card in the group
    created_at     TEXT    NOT NULL,
    expires_at     TEXT    NOT NULL,                -- UTC; collecting support ends then
    stage_at       TEXT    NOT NULL,
    decided_at     TEXT,
    review_at      TEXT,                            -- UTC; the review opens then
    review_ends_at TEXT,
    result         TEXT                             -- the review's figures (JSON), once closed
);
CREATE INDEX proposals_stage ON proposals (chat_id, stage);

CREATE TABLE proposal_support (
    proposal_id INTEGER NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    unit_id     INTEGER NOT NULL,
    label       TEXT    NOT NULL,
    at          TEXT    NOT NULL,
    PRIMARY KEY (proposal_id, unit_id)
) WITHOUT ROWID;

CREATE TABLE proposal_followers (
    proposal_id INTEGER NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    user_id     INTEGER NOT NULL,
    PRIMARY KEY (proposal_id, user_id)
) WITHOUT ROWID;

CREATE TABLE proposal_statements (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    proposal_id INTEGER NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    meeting     TEXT    NOT NULL CHECK (meeting IN ('hearing', 'coordination')),
    author_id   INTEGER NOT NULL,                   -- 0 once forgotten
    text        TEXT    NOT NULL,
    message_id  INTEGER,
    created_at  TEXT    NOT NULL
);
CREATE INDEX proposal_statements_of ON proposal_statements (proposal_id);

CREATE TABLE proposal_statement_votes (
    statement_id INTEGER NOT NULL REFERENCES proposal_statements (id) ON DELETE CASCADE,
    chat_id      INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    unit_id      INTEGER NOT NULL,
    choice       TEXT    NOT NULL CHECK (choice IN ('agree', 'disagree', 'pass')),
    PRIMARY KEY (statement_id, unit_id)
) WITHOUT ROWID;

CREATE TABLE proposal_minutes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    proposal_id INTEGER NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    meeting     TEXT    NOT NULL CHECK (meeting IN ('hearing', 'coordination')),
    by_id       INTEGER NOT NULL,                   -- who recorded them (0 once forgotten)
    text        TEXT    NOT NULL,
    attendance  INTEGER,                            -- people signed up to the meeting's event
    created_at  TEXT    NOT NULL
);

CREATE TABLE proposal_progress (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    proposal_id INTEGER NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    by_id       INTEGER NOT NULL,                   -- the lead (0 once forgotten)
    text        TEXT    NOT NULL,
    percent     INTEGER CHECK (percent IS NULL OR percent BETWEEN 0 AND 100),
    created_at  TEXT    NOT NULL
);

CREATE TABLE proposal_reviews (
    proposal_id INTEGER NOT NULL REFERENCES proposals (id) ON DELETE CASCADE,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    unit_id     INTEGER NOT NULL,
    answer      TEXT    NOT NULL CHECK (answer IN ('well', 'partly', 'not')),
    remark      TEXT,
    at          TEXT    NOT NULL,
    PRIMARY KEY (proposal_id, unit_id)
) WITHOUT ROWID;
