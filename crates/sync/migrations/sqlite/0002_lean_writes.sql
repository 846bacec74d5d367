-- Fewer bytes and index entries written per synced transaction.
--
-- 1. A change shares its transaction's JSON with the transaction's row while it is the
--    latest change about that transaction: its own `tx_json` is NULL and readers take the
--    row's. Before a row's JSON or latest change is replaced, the trigger below copies the
--    old JSON into the change that shared it, so every change keeps the transaction as it
--    was after that change.
-- 2. The index of open entries covers pending ones only (booked entries, nearly all of
--    them, are never looked up through it), by date: a later sync reads the open pending
--    entries older than its window through it, instead of every older entry through the
--    date index (a cost that grew with the history).

CREATE TABLE changes_v2 (
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    cursor         INTEGER NOT NULL CHECK (cursor > 0),
    account        TEXT NOT NULL,
    tx_key         TEXT NOT NULL,
    kind           TEXT NOT NULL,
    tx_json        TEXT,
    at             TEXT NOT NULL,
    PRIMARY KEY (connection_id, cursor)
);
INSERT INTO changes_v2 (connection_id, cursor, account, tx_key, kind, tx_json, at)
    SELECT connection_id, cursor, account, tx_key, kind, tx_json, at FROM changes;
DROP TABLE changes;
ALTER TABLE changes_v2 RENAME TO changes;

CREATE TRIGGER transactions_keep_change_json
BEFORE UPDATE OF tx_json, last_cursor ON transactions
FOR EACH ROW WHEN OLD.tx_json <> NEW.tx_json OR OLD.last_cursor <> NEW.last_cursor
BEGIN
    UPDATE changes SET tx_json = OLD.tx_json
    WHERE connection_id = OLD.connection_id AND cursor = OLD.last_cursor AND tx_json IS NULL;
END;

DROP INDEX transactions_open;
CREATE INDEX transactions_open ON transactions (connection_id, account, entry_date)
    WHERE status = 'pending' AND removed = 0;
