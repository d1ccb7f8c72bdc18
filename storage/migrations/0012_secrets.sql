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
