-- Updates already taken in hand. Telegram hands an update out again when the bot stopped before
-- confirming it (a crash, kill -9, power loss); a vote press handled twice would withdraw the
-- vote. The id is noted before the update is handled, so each update is handled at most once.
-- Only the update id and the time: no chat, no user, no text.
CREATE TABLE updates_seen (
    update_id INTEGER PRIMARY KEY,
    seen_at   TEXT    NOT NULL
);
