-- Secrets that do not outlive their vote (storage/secrets.py). While a secret decision is open
-- its ballots' choices are stored only sealed, with a per-decision key kept in the keys folder
-- outside the database and its backups (decision_ballots.choice stays NULL); an anonymous
-- poll's HMAC key lives there too (polls.secret stays NULL; an older open poll's secret is moved
-- out at start-up). Closing stores the result, then destroys the key: a copy of this file made
-- at any time holds nothing that reveals a choice once the vote has closed.
ALTER TABLE decision_ballots ADD COLUMN sealed BLOB;      -- nonce || ciphertext || tag; NULL once closed

-- Who closed a decision early, by user id (closed_by keeps the name shown on the card):
-- /forgetme finds the lead's name by this id even after a rename.
ALTER TABLE decisions ADD COLUMN closed_by_id INTEGER;
-- Filled when a lead's name is written at closing: the member of that chat who has that name
-- now (an organizer first, should two share it). A caller that knows the id may set it directly.
CREATE TRIGGER decisions_closed_by_id AFTER UPDATE OF closed_by ON decisions
WHEN NEW.closed_by IS NOT NULL AND NEW.closed_by_id IS NULL BEGIN
    UPDATE decisions SET closed_by_id = (
        SELECT user_id FROM members WHERE chat_id = NEW.chat_id AND display_name = NEW.closed_by
        ORDER BY role <> 'resident' DESC, user_id LIMIT 1
    ) WHERE id = NEW.id;
END;
