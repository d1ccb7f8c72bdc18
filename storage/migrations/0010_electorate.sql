-- A decision's electorate is data: the units a decision counts, with their labels and areas,
-- are fixed when it opens (in the same transaction as the decision). Only a lead's change to
-- the register reaches an open decision, as an audit entry (decision_audit.kind) that its card
-- and outcome name. A removed unit stays here as 'removed': its ballot no longer counts.
CREATE TABLE decision_units (
    decision_id   INTEGER NOT NULL REFERENCES decisions (id) ON DELETE CASCADE,
    chat_id       INTEGER NOT NULL REFERENCES chats (id) ON UPDATE CASCADE ON DELETE CASCADE,
    unit_id       INTEGER NOT NULL,               -- units.id; no foreign key: it outlives the unit
    label         TEXT    NOT NULL,               -- a ballot counts only for this unit id AND label
    area_num      INTEGER,                        -- floor area in m², exact (NULL: not known)
    area_den      INTEGER,
    status        TEXT    NOT NULL DEFAULT 'in' CHECK (status IN ('in', 'removed')),
    CHECK ((area_num IS NULL) = (area_den IS NULL)),
    CHECK (area_den IS NULL OR area_den > 0),
    PRIMARY KEY (decision_id, unit_id)
) WITHOUT ROWID;

-- A lead's change to the register while a decision is open: 'added', 'removed', 'area'
-- (an ordinary ballot is 'ballot'). area_*: the new area, old_*: the area before;
-- counted: for 'removed', 1 when the unit's ballot stopped counting. Such a row has paper = 1
-- (a lead's act), so forgetting the lead leaves "a lead" in place of the name.
ALTER TABLE decision_audit ADD COLUMN kind TEXT NOT NULL DEFAULT 'ballot'
    CHECK (kind IN ('ballot', 'added', 'removed', 'area'));
ALTER TABLE decision_audit ADD COLUMN area_num INTEGER;
ALTER TABLE decision_audit ADD COLUMN area_den INTEGER;
ALTER TABLE decision_audit ADD COLUMN old_num INTEGER;
ALTER TABLE decision_audit ADD COLUMN old_den INTEGER;
ALTER TABLE decision_audit ADD COLUMN counted INTEGER;

-- When closing was first refused because the count was impossible (the leads are told once).
ALTER TABLE decisions ADD COLUMN blocked_at TEXT;

-- Decisions open at the upgrade take the register as it stands now as their electorate.
INSERT INTO decision_units (decision_id, chat_id, unit_id, label, area_num, area_den)
    SELECT d.id, d.chat_id, u.id, u.label, u.area_num, u.area_den
    FROM decisions d JOIN units u ON u.chat_id = d.chat_id
    WHERE d.status = 'open';
