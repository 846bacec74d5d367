-- psd2-sync store, PostgreSQL. Amounts are NUMERIC (scale kept); documents (session, PSU,
-- consent, settings, domain transactions) are JSON text, kept byte for byte as written.

-- One consent of one PSU at one bank. `change_cursor` is the last change cursor assigned to
-- the connection; the lease columns say which worker syncs it until when.
CREATE TABLE connections (
    id             TEXT PRIMARY KEY,
    bank           TEXT NOT NULL,
    base_url       TEXT NOT NULL,
    session_json   TEXT NOT NULL,
    psu_json       TEXT NOT NULL,
    consent_json   TEXT NOT NULL,
    state          TEXT NOT NULL,
    accounts_json  TEXT NOT NULL,
    settings_json  TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL,
    last_sync_at   TIMESTAMPTZ,
    next_sync_at   TIMESTAMPTZ,
    change_cursor  BIGINT NOT NULL DEFAULT 0 CHECK (change_cursor >= 0),
    lease_owner    TEXT,
    lease_until    TIMESTAMPTZ
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
    occurrence     BIGINT NOT NULL CHECK (occurrence >= 0),
    entry_date     DATE,
    booking_date   DATE,
    value_date     DATE,
    amount         NUMERIC NOT NULL,
    currency       TEXT NOT NULL,
    tx_json        TEXT NOT NULL,
    removed        BOOLEAN NOT NULL DEFAULT FALSE,
    last_listing   TEXT,
    last_cursor    BIGINT NOT NULL DEFAULT 0 CHECK (last_cursor >= 0),
    PRIMARY KEY (connection_id, tx_key)
);
CREATE INDEX transactions_window ON transactions (connection_id, account, entry_date);
CREATE INDEX transactions_open ON transactions (connection_id, account, status) WHERE NOT removed;

-- The change feed: per connection, in cursor order.
CREATE TABLE changes (
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    cursor         BIGINT NOT NULL CHECK (cursor > 0),
    account        TEXT NOT NULL,
    tx_key         TEXT NOT NULL,
    kind           TEXT NOT NULL,
    tx_json        TEXT NOT NULL,
    at             TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (connection_id, cursor)
);

-- The event outbox: one cursor over all connections. Cursors come from the `counters` row,
-- which a writing transaction holds locked until it commits, so they commit in order and a
-- reader never sees cursor n+1 before n.
CREATE TABLE events (
    cursor         BIGINT PRIMARY KEY CHECK (cursor > 0),
    connection_id  TEXT NOT NULL,
    account        TEXT,
    kind           TEXT NOT NULL,
    at             TIMESTAMPTZ NOT NULL,
    error_kind     TEXT,
    detail         TEXT NOT NULL
);

CREATE TABLE counters (
    name   TEXT PRIMARY KEY,
    value  BIGINT NOT NULL CHECK (value >= 0)
);
INSERT INTO counters (name, value) VALUES ('events', 0);

-- The access budget ledger; `account` is '' when the bank counts per consent.
CREATE TABLE budget (
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    account        TEXT NOT NULL,
    resource       TEXT NOT NULL,
    day            DATE NOT NULL,
    used           BIGINT NOT NULL CHECK (used >= 0),
    granted        BIGINT NOT NULL CHECK (granted >= 0),
    blocked_until  TIMESTAMPTZ,
    PRIMARY KEY (connection_id, account, resource, day)
);

-- Where an interrupted listing resumes.
CREATE TABLE progress (
    connection_id  TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    account        TEXT NOT NULL,
    window_from    DATE NOT NULL,
    window_to      DATE NOT NULL,
    next_page      TEXT,
    pages_done     BIGINT NOT NULL CHECK (pages_done >= 0),
    listing_id     TEXT NOT NULL,
    PRIMARY KEY (connection_id, account)
);
