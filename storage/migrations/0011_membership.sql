-- Membership: whether a person we met is in the group now, and confirm/cancel prompts.
--
-- members.status: 'member' (Telegram said so: a join, a chat_member update, getChatMember; or a
-- message or press in a group only its members can see), 'left' (left or removed, per Telegram),
-- NULL (met, but nothing proves presence yet: rows from before this change, or a press in a
-- public group). Only 'member' may vote, sign up, take a slot or order. No time is kept: when
-- someone left is nobody's business but the group's history.
ALTER TABLE members ADD COLUMN status TEXT CHECK (status IS NULL OR status IN ('member', 'left'));

-- A unit claim of someone who left the group is 'suspended' (it does not count) until a lead
-- restores it; a returning member is not restored on their own. SQLite cannot change a CHECK
-- in place: the table is rebuilt with the same rows.
CREATE TABLE unit_members_new (
    unit_id      INTEGER NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    chat_id      INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    user_id      INTEGER NOT NULL,                -- Telegram user id
    status       TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'approved', 'rejected', 'suspended')),
    requested_at TEXT    NOT NULL,
    decided_by   INTEGER,                         -- the lead's user id (NULL: automatic or pending)
    PRIMARY KEY (unit_id, user_id)
) WITHOUT ROWID;
INSERT INTO unit_members_new (unit_id, chat_id, user_id, status, requested_at, decided_by)
    SELECT unit_id, chat_id, user_id, status, requested_at, decided_by FROM unit_members;
DROP TABLE unit_members;
ALTER TABLE unit_members_new RENAME TO unit_members;
CREATE INDEX unit_members_user ON unit_members (chat_id, user_id);

-- A question with buttons that one person (or, author_id NULL, any lead) answers once:
-- /forgetme, /purge, a lead's Restore of suspended claims. The buttons carry the id; the answer
-- must come from the author, in this chat, on this message, while open and not expired.
CREATE TABLE prompts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    author_id   INTEGER,                          -- who may answer; NULL: any lead of the chat
    member_id   INTEGER,                          -- whom a lead's prompt is about (Restore)
    kind        TEXT    NOT NULL,
    message_id  INTEGER,                          -- the message with the buttons, once sent
    created_at  TEXT    NOT NULL,
    expires_at  TEXT,                             -- NULL: until answered
    state       TEXT    NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'taken', 'cancelled'))
);
CREATE INDEX prompts_chat ON prompts (chat_id, state);
