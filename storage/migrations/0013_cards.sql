-- What each card last showed on Telegram (storage/cards.py): a hash of the text and keyboard,
-- written when Telegram confirms a send or an edit. At start-up every card is rendered afresh
-- and compared with it: a card left behind by a crash is edited, an unchanged card is not.
-- No foreign key to chats: when a group becomes a supergroup its digests stay with the old id
-- (the old group's message ids mean nothing in the supergroup); stale rows are pruned at start.
CREATE TABLE card_digests (
    chat_id     INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    digest      TEXT    NOT NULL,
    drawn_at    TEXT    NOT NULL,                 -- UTC
    PRIMARY KEY (chat_id, message_id)
) WITHOUT ROWID;
