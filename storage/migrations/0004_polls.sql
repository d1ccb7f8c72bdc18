-- Quick polls. What is stored, exactly:
-- * polls: the question and options as typed, the creator's user id, the mode (multiple choice,
--   anonymous), the closing time (UTC), the card's message id, and once closed the final counts.
-- * poll_votes, open poll: one row per voter with the Telegram user id and the chosen options
--   (a bit mask); the name shown on the card comes from the members table.
-- * poll_votes, anonymous poll: one row per voter keyed by HMAC-SHA256(secret, user id) with a
--   random per-poll secret; no user id, no time. It is only what stops double voting and lets a
--   voter change or withdraw. At closing these rows and the secret are deleted; only the final
--   counts remain.
CREATE TABLE polls (
    id            INTEGER PRIMARY KEY,
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
CREATE INDEX polls_chat ON polls (chat_id, status);

CREATE TABLE poll_votes (
    poll_id   INTEGER NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    chat_id   INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    voter     TEXT    NOT NULL,                    -- user id as text, or the HMAC (hex)
    user_id   INTEGER,                             -- NULL in anonymous polls
    choices   INTEGER NOT NULL CHECK (choices > 0),  -- bit i set: option i chosen
    voted_at  TEXT,                                -- NULL in anonymous polls
    PRIMARY KEY (poll_id, voter)
) WITHOUT ROWID;
