-- Parts of the building: entrances, staircases, the buildings of an estate (单元, 楼栋, подъезд,
-- корпус). A unit belongs to at most one part, named as a lead wrote it (`/units add 3-502 80 |
-- entrance 2`, a CSV column); parts are compared by bot.domain.units.part_key, so "Entrance 2"
-- and "entrance  2" are one. A decision scoped to a part counts only that part's households:
-- its electorate (decision_units) is copied from the units of the part when it opens.
ALTER TABLE units ADD COLUMN part TEXT;        -- NULL: in no part
ALTER TABLE decisions ADD COLUMN part TEXT;    -- NULL: the whole building
