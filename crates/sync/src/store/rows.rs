//! The model in column form: what both SQL implementations bind and read.
//!
//! Every conversion that can fail on a stored value (a number out of range, a JSON document
//! that no longer parses) returns [`StoreError::Corrupt`] naming the column, never the value.

use std::borrow::Cow;
use std::collections::HashMap;

use chrono::{DateTime, Datelike, NaiveDate, SubsecRound, Utc};
use psd2::{AccountId, TransactionStatus};
use rust_decimal::Decimal;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;
use super::entry::StoredEntry;
use crate::model::{
    BudgetDay, Change, ChangeKind, Connection, ConnectionId, ConnectionState, Event, EventKind,
    NewEvent, PageCommit, Progress, ResumeCursor, StoredTransaction, TxKey,
};

/// A time as stored: whole microseconds (PostgreSQL's precision), so both engines read
/// back exactly what the other would.
pub(crate) fn micros(time: DateTime<Utc>) -> DateTime<Utc> {
    time.trunc_subsecs(6)
}

/// A date as sqlx writes it to SQLite (chrono's `%F`, `YYYY-MM-DD` for years 0 to 9999),
/// without chrono's format-string machinery (a first sync writes three per transaction).
pub(crate) fn iso_date(date: NaiveDate) -> String {
    let year = date.year();
    let Ok(year) = u32::try_from(year) else {
        return date.format("%F").to_string();
    };
    if year > 9999 {
        return date.format("%F").to_string();
    }
    let digit = |n: u32| char::from_digit(n % 10, 10).unwrap_or('0');
    let mut text = String::with_capacity(10);
    for n in [year / 1000, year / 100, year / 10, year] {
        text.push(digit(n));
    }
    text.push('-');
    text.push(digit(date.month() / 10));
    text.push(digit(date.month()));
    text.push('-');
    text.push(digit(date.day() / 10));
    text.push(digit(date.day()));
    text
}

/// A time as sqlx writes it to SQLite (RFC 3339, as many fraction digits as needed).
pub(crate) fn sqlite_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false)
}

/// The `account` column's value for a ledger line that counts the whole consent.
pub(crate) const NO_ACCOUNT: &str = "";

/// A counter or cursor as the database's signed 64-bit integer.
pub(crate) fn to_i64(value: u64, field: &'static str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::OutOfRange { field })
}

/// A stored signed integer back as a counter; negative values are corrupt.
pub(crate) fn to_u64(value: i64, field: &'static str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::corrupt(field, "negative integer"))
}

/// A stored signed integer back as a 32-bit counter.
pub(crate) fn to_u32(value: i64, field: &'static str) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| StoreError::corrupt(field, "integer outside 0..=u32::MAX"))
}

/// A value as JSON text for a document column.
pub(crate) fn to_json<T: Serialize>(value: &T, field: &'static str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Encode {
        field,
        reason: format!("{:?}", e.classify()),
    })
}

/// A document column back as a value. The error names the column and where the text stops
/// parsing, never the text (it may hold tokens or bank free text).
pub(crate) fn from_json<T: DeserializeOwned>(
    text: &str,
    field: &'static str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| {
        StoreError::corrupt(
            field,
            &format!(
                "JSON does not fit ({:?} error at line {}, column {})",
                e.classify(),
                e.line(),
                e.column()
            ),
        )
    })
}

/// One row of `connections` (without the cursor and lease columns).
#[derive(Debug)]
pub(crate) struct ConnectionRow {
    pub id: String,
    pub bank: String,
    pub base_url: String,
    pub session_json: String,
    pub psu_json: String,
    pub consent_json: String,
    pub state: String,
    pub accounts_json: String,
    pub settings_json: String,
    pub created_at: DateTime<Utc>,
    pub last_sync_at: Option<DateTime<Utc>>,
    pub next_sync_at: Option<DateTime<Utc>>,
}

impl ConnectionRow {
    pub fn from_model(c: &Connection) -> Result<Self, StoreError> {
        Ok(Self {
            id: c.id.as_str().to_string(),
            bank: c.bank.clone(),
            base_url: c.base_url.clone(),
            session_json: to_json(&c.session, "connections.session_json")?,
            psu_json: to_json(&c.psu, "connections.psu_json")?,
            consent_json: to_json(&c.consent, "connections.consent_json")?,
            state: c.state.as_str().to_string(),
            accounts_json: to_json(&c.accounts, "connections.accounts_json")?,
            settings_json: to_json(&c.settings, "connections.settings_json")?,
            created_at: micros(c.created_at),
            last_sync_at: c.last_sync_at.map(micros),
            next_sync_at: c.next_sync_at.map(micros),
        })
    }

    pub fn into_model(self) -> Result<Connection, StoreError> {
        Ok(Connection {
            id: ConnectionId::new(self.id),
            bank: self.bank,
            base_url: self.base_url,
            session: from_json(&self.session_json, "connections.session_json")?,
            psu: from_json(&self.psu_json, "connections.psu_json")?,
            consent: from_json(&self.consent_json, "connections.consent_json")?,
            state: ConnectionState::parse(&self.state)
                .ok_or_else(|| StoreError::corrupt("connections.state", "unknown state name"))?,
            accounts: from_json(&self.accounts_json, "connections.accounts_json")?,
            settings: from_json(&self.settings_json, "connections.settings_json")?,
            created_at: self.created_at,
            last_sync_at: self.last_sync_at,
            next_sync_at: self.next_sync_at,
        })
    }
}

/// The columns of one row of `transactions` as read back, its connection and account aside.
#[derive(Debug)]
pub(crate) struct EntryRow {
    pub tx_key: String,
    pub bank_id: Option<String>,
    pub status: String,
    pub fingerprint: String,
    pub occurrence: i64,
    pub entry_date: Option<NaiveDate>,
    pub booking_date: Option<NaiveDate>,
    pub value_date: Option<NaiveDate>,
    pub amount: String,
    pub currency: String,
    pub tx_json: String,
    pub last_listing: Option<String>,
    pub last_cursor: i64,
    pub removed: bool,
}

impl EntryRow {
    /// The entry, its transaction left as the stored JSON text.
    pub fn into_entry(self) -> Result<StoredEntry, StoreError> {
        Ok(StoredEntry {
            key: TxKey::new(self.tx_key),
            bank_id: self.bank_id,
            status: TransactionStatus::from_bank_str(&self.status),
            fingerprint: self.fingerprint,
            occurrence: to_u32(self.occurrence, "transactions.occurrence")?,
            date: self.entry_date,
            booking_date: self.booking_date,
            value_date: self.value_date,
            amount: self
                .amount
                .parse::<Decimal>()
                .map_err(|_| StoreError::corrupt("transactions.amount", "not a decimal number"))?,
            currency: self.currency,
            removed: self.removed,
            last_listing: self.last_listing,
            last_cursor: to_u64(self.last_cursor, "transactions.last_cursor")?,
            json: Some(self.tx_json),
            transaction: std::cell::OnceCell::new(),
        })
    }
}

/// One row of `changes` as read back. `tx_json` is `None` when neither the change nor its
/// transaction row has JSON.
#[derive(Debug)]
pub(crate) struct ChangeRow {
    pub connection_id: String,
    pub cursor: i64,
    pub account: String,
    pub tx_key: String,
    pub kind: String,
    pub tx_json: Option<String>,
    pub at: DateTime<Utc>,
}

impl ChangeRow {
    /// The change as read back (`tx_json`: the change's own, else its row's).
    pub fn into_model(self) -> Result<Change, StoreError> {
        let json = self.tx_json.ok_or_else(|| {
            StoreError::corrupt("changes.tx_json", "no JSON and no transaction row")
        })?;
        Ok(Change {
            cursor: to_u64(self.cursor, "changes.cursor")?,
            connection: ConnectionId::new(self.connection_id),
            account: AccountId::new(self.account),
            key: TxKey::new(self.tx_key),
            kind: ChangeKind::parse(&self.kind)
                .ok_or_else(|| StoreError::corrupt("changes.kind", "unknown change kind"))?,
            transaction: from_json(&json, "changes.tx_json")?,
            at: self.at,
        })
    }
}

/// One row of `transactions` as a commit writes it, borrowing from the commit (no `Debug`:
/// it holds bank text).
pub(crate) struct TxWrite<'a> {
    pub connection_id: &'a str,
    pub tx_key: &'a str,
    pub account: &'a str,
    pub bank_id: Option<&'a str>,
    pub status: &'a str,
    pub fingerprint: &'a str,
    pub occurrence: i64,
    pub entry_date: Option<NaiveDate>,
    pub booking_date: Option<NaiveDate>,
    pub value_date: Option<NaiveDate>,
    pub amount: String,
    pub currency: &'a str,
    pub tx_json: Cow<'a, str>,
    pub removed: bool,
    pub last_listing: Option<&'a str>,
    pub last_cursor: i64,
}

impl<'a> TxWrite<'a> {
    fn new(
        t: &'a StoredTransaction,
        json: Cow<'a, str>,
        last_cursor: u64,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            connection_id: t.connection.as_str(),
            tx_key: t.key.as_str(),
            account: t.account.as_str(),
            bank_id: t.bank_id.as_deref(),
            status: t.status.as_str(),
            fingerprint: &t.fingerprint,
            occurrence: i64::from(t.occurrence),
            entry_date: t.date,
            booking_date: t.booking_date,
            value_date: t.value_date,
            amount: t.amount.to_string(),
            currency: &t.currency,
            tx_json: json,
            removed: t.removed,
            last_listing: t.last_listing.as_deref(),
            last_cursor: to_i64(last_cursor, "transactions.last_cursor")?,
        })
    }
}

/// One row of `changes` as a commit writes it. `tx_json` is `None` when the change shares
/// its transaction row's JSON (it is the latest change about that transaction). No `Debug`.
pub(crate) struct ChangeWrite<'a> {
    pub connection_id: &'a str,
    pub cursor: i64,
    pub account: &'a str,
    pub tx_key: &'a str,
    pub kind: &'static str,
    pub tx_json: Option<Cow<'a, str>>,
    pub at: DateTime<Utc>,
}

/// The rows one commit writes: one per change (with the cursor given for it, in order) and
/// one per transaction key (the last row about a key wins: one statement may not touch a row
/// twice), its `last_cursor` the cursor of the last change about the key in the commit, else
/// kept as given. A change is written without JSON (sharing its row's) when it is the last
/// change about its key in the commit and the row written for the key holds the same
/// transaction: a first sync writes each transaction's JSON once. A transaction's JSON is
/// the commit's own encoding where it has one ([`PageCommit::encode_transactions`]), else
/// encoded here.
pub(crate) fn commit_rows<'a>(
    commit: &'a PageCommit,
    cursors: &[u64],
) -> Result<(Vec<ChangeWrite<'a>>, Vec<TxWrite<'a>>), StoreError> {
    let mut last_change: HashMap<&str, (usize, u64)> = HashMap::with_capacity(commit.changes.len());
    for (index, (change, cursor)) in commit.changes.iter().zip(cursors).enumerate() {
        last_change.insert(change.key.as_str(), (index, *cursor));
    }
    let mut position: HashMap<&str, usize> = HashMap::with_capacity(commit.transactions.len());
    for (index, t) in commit.transactions.iter().enumerate() {
        position.insert(t.key.as_str(), index);
    }
    // More texts than transactions: rows were taken out after the encoding, so no text
    // can be trusted to belong to its row; encode them all here.
    let encoded: &[String] = if commit.json.len() <= commit.transactions.len() {
        &commit.json
    } else {
        &[]
    };
    let row_json = |index: usize| -> Result<Cow<'a, str>, StoreError> {
        if let Some(text) = encoded.get(index) {
            return Ok(Cow::Borrowed(text.as_str()));
        }
        let row = commit
            .transactions
            .get(index)
            .ok_or(StoreError::InvalidCommit(
                "a change names no row of the commit",
            ))?;
        Ok(Cow::Owned(to_json(
            &row.transaction,
            "transactions.tx_json",
        )?))
    };
    let mut changes = Vec::with_capacity(commit.changes.len());
    for (index, (change, cursor)) in commit.changes.iter().zip(cursors).enumerate() {
        let key = change.key.as_str();
        let latest = last_change.get(key).is_some_and(|(i, _)| *i == index);
        let row = position.get(key).copied();
        let tx_json = match (&change.transaction, row) {
            // The row's transaction: shared while the change is the latest about it.
            (None, Some(_)) if latest => None,
            (None, Some(row)) => Some(row_json(row)?),
            (None, None) => {
                return Err(StoreError::InvalidCommit(
                    "a change without a transaction has no row in the commit",
                ));
            }
            (Some(tx), row) => {
                let same = latest
                    && row
                        .and_then(|row| commit.transactions.get(row))
                        .is_some_and(|row| &row.transaction == tx);
                if same {
                    None
                } else {
                    Some(Cow::Owned(to_json(tx, "changes.tx_json")?))
                }
            }
        };
        changes.push(ChangeWrite {
            connection_id: commit.connection.as_str(),
            cursor: to_i64(*cursor, "changes.cursor")?,
            account: change.account.as_str(),
            tx_key: key,
            kind: change.kind.as_str(),
            tx_json,
            at: micros(change.at),
        });
    }
    let mut transactions = Vec::with_capacity(position.len());
    for (index, t) in commit.transactions.iter().enumerate() {
        if position.get(t.key.as_str()) != Some(&index) {
            continue;
        }
        let cursor = last_change
            .get(t.key.as_str())
            .map_or(t.last_cursor, |(_, cursor)| *cursor);
        transactions.push(TxWrite::new(t, row_json(index)?, cursor)?);
    }
    Ok((changes, transactions))
}

/// One row of `events`.
#[derive(Debug)]
pub(crate) struct EventRow {
    pub cursor: i64,
    pub connection_id: String,
    pub account: Option<String>,
    pub kind: String,
    pub at: DateTime<Utc>,
    pub error_kind: Option<String>,
    pub detail: String,
}

impl EventRow {
    pub fn from_new(cursor: u64, e: &NewEvent) -> Result<Self, StoreError> {
        Ok(Self {
            cursor: to_i64(cursor, "events.cursor")?,
            connection_id: e.connection.as_str().to_string(),
            account: e.account.as_ref().map(|a| a.as_str().to_string()),
            kind: e.kind.as_str().to_string(),
            at: micros(e.at),
            error_kind: e.error_kind.clone(),
            detail: e.detail.clone(),
        })
    }

    pub fn into_model(self) -> Result<Event, StoreError> {
        Ok(Event {
            cursor: to_u64(self.cursor, "events.cursor")?,
            connection: ConnectionId::new(self.connection_id),
            account: self.account.map(AccountId::new),
            kind: EventKind::parse(&self.kind),
            at: self.at,
            error_kind: self.error_kind,
            detail: self.detail,
        })
    }
}

/// One row of `budget`.
#[derive(Debug)]
pub(crate) struct BudgetRow {
    pub connection_id: String,
    pub account: String,
    pub resource: String,
    pub day: NaiveDate,
    pub used: i64,
    pub granted: i64,
    pub blocked_until: Option<DateTime<Utc>>,
}

impl BudgetRow {
    pub fn from_model(b: &BudgetDay) -> Self {
        Self {
            connection_id: b.connection.as_str().to_string(),
            account: b
                .account
                .as_ref()
                .map_or_else(|| NO_ACCOUNT.to_string(), |a| a.as_str().to_string()),
            resource: b.resource.clone(),
            day: b.day,
            used: i64::from(b.used),
            granted: i64::from(b.granted),
            blocked_until: b.blocked_until.map(micros),
        }
    }

    pub fn into_model(self) -> Result<BudgetDay, StoreError> {
        Ok(BudgetDay {
            connection: ConnectionId::new(self.connection_id),
            account: (self.account != NO_ACCOUNT).then(|| AccountId::new(self.account)),
            resource: self.resource,
            day: self.day,
            used: to_u32(self.used, "budget.used")?,
            granted: to_u32(self.granted, "budget.granted")?,
            blocked_until: self.blocked_until,
        })
    }
}

/// One row of `progress`.
#[derive(Debug)]
pub(crate) struct ProgressRow {
    pub connection_id: String,
    pub account: String,
    pub window_from: NaiveDate,
    pub window_to: NaiveDate,
    pub next_page: Option<String>,
    pub pages_done: i64,
    pub listing_id: String,
}

impl ProgressRow {
    pub fn from_model(p: &Progress) -> Self {
        Self {
            connection_id: p.connection.as_str().to_string(),
            account: p.account.as_str().to_string(),
            window_from: p.window_from,
            window_to: p.window_to,
            next_page: p.next_page.as_ref().map(|c| c.as_str().to_string()),
            pages_done: i64::from(p.pages_done),
            listing_id: p.listing_id.clone(),
        }
    }

    pub fn into_model(self) -> Result<Progress, StoreError> {
        Ok(Progress {
            connection: ConnectionId::new(self.connection_id),
            account: AccountId::new(self.account),
            window_from: self.window_from,
            window_to: self.window_to,
            next_page: self.next_page.map(ResumeCursor::new),
            pages_done: to_u32(self.pages_done, "progress.pages_done")?,
            listing_id: self.listing_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Days, NaiveDate, TimeZone, Utc};

    use super::{iso_date, sqlite_time};

    #[test]
    fn dates_and_times_are_written_as_sqlx_writes_them() {
        // chrono's own formatting (what sqlx's encoder calls) is the oracle.
        let mut day = NaiveDate::from_ymd_opt(1999, 12, 25).unwrap();
        for _ in 0..800 {
            assert_eq!(iso_date(day), day.format("%F").to_string());
            day = day.checked_add_days(Days::new(1)).unwrap();
        }
        for (y, m, d) in [
            (0, 1, 1),
            (7, 3, 9),
            (999, 10, 31),
            (9999, 12, 31),
            (10000, 1, 1),
            (-1, 6, 15),
        ] {
            let day = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(iso_date(day), day.format("%F").to_string(), "{y}-{m}-{d}");
        }
        assert_eq!(
            iso_date(NaiveDate::from_ymd_opt(2026, 1, 5).unwrap()),
            "2026-01-05"
        );
        let time = Utc.with_ymd_and_hms(2026, 12, 6, 5, 4, 3).unwrap();
        assert_eq!(sqlite_time(time), "2026-12-06T05:04:03+00:00");
        let micros = time + chrono::TimeDelta::microseconds(120);
        assert_eq!(sqlite_time(micros), "2026-12-06T05:04:03.000120+00:00");
    }
}
