-- psd2-sync store, SQLite. Dates are ISO text (YYYY-MM-DD), times are UTC text written by
-- sqlx (one fixed format, so text order is time order), amounts are decimal text.

-- One consent of one PSU at one bank. `change_cursor` is the last change cursor assigned to
-- the connection; the lease columns say which worker syncs it until when.
CREATE TABLE connections (
    id             TEXT PRIMARY KEY NOT NULL,
    bank           TEXT NOT NULL,
    base_url       TEXT NOT NULL,
    session_json   TEXT NOT NULL,
    psu_json       TEXT NOT NULL,
    consent_json   TEXT NOT NULL,
    state          TEXT NOT NULL,
    accounts_json  TEXT NOT NULL,
    settings_json  TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    last_sync_at   TEXT,
    next_sync_at   TEXT,
    change_cursor  INTEGER NOT NULL DEFAULT 0 CHECK (change_cursor >= 0),
    lease_owner    TEXT,
    lease_until    TEXT
);
CREATE INDEX connections_due ON connections (state, next_sync_at);

-- Stored transactions, keyed by our stable key.
CREATE TABLE transactions (
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    tx_key         TEXT NOT NULL,
    account        TEXT NOT NULL,
    bank_id        TEXT,
    status         TEXT NOT NULL,
    fingerprint    TEXT NOT NULL,
    occurrence     INTEGER NOT NULL CHECK (occurrence >= 0),
    entry_date     TEXT,
    booking_date   TEXT,
    value_date     TEXT,
    amount         TEXT NOT NULL,
    currency       TEXT NOT NULL,
    tx_json        TEXT NOT NULL,
    removed        INTEGER NOT NULL DEFAULT 0,
    last_listing   TEXT,
    last_cursor    INTEGER NOT NULL DEFAULT 0 CHECK (last_cursor >= 0),
    PRIMARY KEY (connection_id, tx_key)
);
CREATE INDEX transactions_window ON transactions (connection_id, account, entry_date);
CREATE INDEX transactions_open ON transactions (connection_id, account, status) WHERE removed = 0;

-- The change feed: per connection, in cursor order.
CREATE TABLE changes (
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    cursor         INTEGER NOT NULL CHECK (cursor > 0),
    account        TEXT NOT NULL,
    tx_key         TEXT NOT NULL,
    kind           TEXT NOT NULL,
    tx_json        TEXT NOT NULL,
    at             TEXT NOT NULL,
    PRIMARY KEY (connection_id, cursor)
);

-- The event outbox: one cursor over all connections.
CREATE TABLE events (
    cursor         INTEGER PRIMARY KEY NOT NULL CHECK (cursor > 0),
    connection_id  TEXT NOT NULL,
    account        TEXT,
    kind           TEXT NOT NULL,
    at             TEXT NOT NULL,
    error_kind     TEXT,
    detail         TEXT NOT NULL
);

-- Counters that must grow in commit order (the event cursor).
CREATE TABLE counters (
    name   TEXT PRIMARY KEY NOT NULL,
    value  INTEGER NOT NULL CHECK (value >= 0)
);
INSERT INTO counters (name, value) VALUES ('events', 0);

-- The access budget ledger; `account` is '' when the bank counts per consent.
CREATE TABLE budget (
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    account        TEXT NOT NULL,
    resource       TEXT NOT NULL,
    day            TEXT NOT NULL,
    used           INTEGER NOT NULL CHECK (used >= 0),
    granted        INTEGER NOT NULL CHECK (granted >= 0),
    blocked_until  TEXT,
    PRIMARY KEY (connection_id, account, resource, day)
);

-- Where an interrupted listing resumes.
CREATE TABLE progress (
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    account        TEXT NOT NULL,
    window_from    TEXT NOT NULL,
    window_to      TEXT NOT NULL,
    next_page      TEXT,
    pages_done     INTEGER NOT NULL CHECK (pages_done >= 0),
    listing_id     TEXT NOT NULL,
    PRIMARY KEY (connection_id, account)
);
