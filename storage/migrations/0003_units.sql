-- Households: the building's register of units and the residents who claimed them.
-- Only a label and an optional floor area per unit; only user ids and a status per claim.
-- No phone numbers, owners' names or documents, ever.
CREATE TABLE units (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    label       TEXT    NOT NULL,                 -- normalised (bot.domain.units.normalize_label)
    area_num    INTEGER,                          -- floor area in m², an exact fraction
    area_den    INTEGER,                          -- (both NULL when not known)
    created_at  TEXT    NOT NULL,
    CHECK ((area_num IS NULL) = (area_den IS NULL)),
    CHECK (area_den IS NULL OR area_den > 0),
    UNIQUE (chat_id, label)
);

-- A resident's claim to a unit; several residents may share one, a resident may hold several.
CREATE TABLE unit_members (
    unit_id      INTEGER NOT NULL REFERENCES units (id) ON DELETE CASCADE,
    chat_id      INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    user_id      INTEGER NOT NULL,                -- Telegram user id
    status       TEXT    NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'approved', 'rejected')),
    requested_at TEXT    NOT NULL,
    decided_by   INTEGER,                         -- the lead's user id (NULL: automatic or pending)
    PRIMARY KEY (unit_id, user_id)
) WITHOUT ROWID;
CREATE INDEX unit_members_user ON unit_members (chat_id, user_id);
