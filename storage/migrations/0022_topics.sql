-- Forum topics (issue 13): what posts later remembers the topic it was created in, so that it
-- is posted there (NULL: General, or a chat without topics). A topic id is Telegram's
-- message_thread_id; a topic closed or deleted by then gets the post in General instead.
ALTER TABLE posts ADD COLUMN thread_id INTEGER;      -- reminders and announcements
ALTER TABLE polls ADD COLUMN thread_id INTEGER;      -- its results at the closing
ALTER TABLE decisions ADD COLUMN thread_id INTEGER;  -- its outcome at the closing
ALTER TABLE events ADD COLUMN thread_id INTEGER;     -- its reminders
