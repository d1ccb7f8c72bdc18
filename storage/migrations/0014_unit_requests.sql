-- Households: a resident's claim never changes the register. A claim to a label the register
-- does not have is a request that names the label; only a lead's approval of it adds the unit
-- (claims to registered units stay in unit_members, as before).
CREATE TABLE unit_requests (
    id           INTEGER PRIMARY KEY AUTOINCREMENT, -- in the approval card's buttons
    chat_id      INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    user_id      INTEGER NOT NULL,                -- Telegram user id of the resident
    label        TEXT    NOT NULL,                -- normalised, as the resident typed it
    skeleton     TEXT    NOT NULL,                -- bot.domain.units.skeleton(label)
    status       TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'rejected')),
    requested_at TEXT    NOT NULL,
    decided_by   INTEGER,                         -- the lead who rejected it
    UNIQUE (chat_id, skeleton, user_id)
);
CREATE INDEX unit_requests_pending ON unit_requests (chat_id, status, requested_at);

-- The one card per group where leads work through the claims waiting for approval.
CREATE TABLE unit_queue_cards (
    chat_id      INTEGER NOT NULL PRIMARY KEY
                 REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    message_id   INTEGER NOT NULL,
    page         INTEGER NOT NULL DEFAULT 0,
    posted_at    TEXT    NOT NULL
) WITHOUT ROWID;
