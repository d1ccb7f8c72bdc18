-- Deep links the bot hands out when it cannot write to someone first (t.me/<bot>?start=<token>):
-- each is bound to the one person it was issued to, to the group it came from and to what it
-- promised (an export of #D3, the reminders list, an introduction), and expires. The token is
-- random, so a link seen by a neighbour opens nothing for them.
CREATE TABLE start_links (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    token       TEXT    NOT NULL UNIQUE,          -- the start parameter, [A-Za-z0-9_-]
    user_id     INTEGER NOT NULL,                 -- Telegram user id of the one it was issued to
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    kind        TEXT    NOT NULL,                 -- what it opens: export, reminders, sharing ...
    args        TEXT    NOT NULL DEFAULT '',      -- e.g. the reference of the export ("D3")
    created_at  TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL,
    opened_at   TEXT                              -- last time it was opened
);
CREATE INDEX start_links_user ON start_links (user_id);
CREATE INDEX start_links_expiry ON start_links (expires_at);
