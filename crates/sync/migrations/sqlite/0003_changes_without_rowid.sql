-- The change feed as a table clustered on its key: a change is one entry in one b-tree,
-- found by (connection, cursor), instead of a row in the table plus an entry in a separate
-- index of that key. Every synced transaction writes a change, so this is one b-tree
-- insert less per transaction. Its rows are small (a change shares its transaction's JSON
-- while it is the latest about it), which is what such a table suits.
--
-- The trigger that keeps an older change's JSON names `changes`: it is dropped while the
-- table is rebuilt and created again unchanged.

DROP TRIGGER transactions_keep_change_json;

CREATE TABLE changes_v3 (
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    cursor         INTEGER NOT NULL CHECK (cursor > 0),
    account        TEXT NOT NULL,
    tx_key         TEXT NOT NULL,
    kind           TEXT NOT NULL,
    tx_json        TEXT,
    at             TEXT NOT NULL,
    PRIMARY KEY (connection_id, cursor)
) WITHOUT ROWID;
INSERT INTO changes_v3 (connection_id, cursor, account, tx_key, kind, tx_json, at)
    SELECT connection_id, cursor, account, tx_key, kind, tx_json, at FROM changes;
DROP TABLE changes;
ALTER TABLE changes_v3 RENAME TO changes;

CREATE TRIGGER transactions_keep_change_json
BEFORE UPDATE OF tx_json, last_cursor ON transactions
FOR EACH ROW WHEN OLD.tx_json <> NEW.tx_json OR OLD.last_cursor <> NEW.last_cursor
BEGIN
    UPDATE changes SET tx_json = OLD.tx_json
    WHERE connection_id = OLD.connection_id AND cursor = OLD.last_cursor AND tx_json IS NULL;
END;
