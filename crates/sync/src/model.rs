//! The plain data both the sync engine and the stores work with.
//!
//! Every type here is `Serialize + Deserialize` so a store may keep a value as JSON text or
//! split it into columns. Nothing here does I/O. Secrets (consent id, tokens, PSU id) live
//! only in [`SessionRecord`] and [`PsuRecord`], whose `Debug` redacts them; bank free text
//! lives only inside the stored domain [`Transaction`] and is never part of a `Debug` here
//! except through that value (the engine never logs it).
//!
//! Cursors are `u64` and only grow: change cursors per connection, event cursors over the
//! whole outbox. A store assigns them in [`PageCommit`] order inside one database
//! transaction.

use std::fmt;

use chrono::{DateTime, NaiveDate, Utc};
use psd2::{
    AccessToken, AccountId, ConsentId, ConsentStatus, Psu, PsuContext, PsuId, RefreshToken,
    Session, Transaction, TransactionStatus,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::settings::BankSyncSettings;

/// Our id of a connection (one consent of one PSU at one bank): a UUID string.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ConnectionId(String);

impl ConnectionId {
    /// A fresh random id.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// Wraps an id read back from a store.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConnectionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Our stable key of one transaction: a UUID string that survives the bank changing,
/// dropping or reissuing its own ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TxKey(String);

impl TxKey {
    /// A fresh key: a UUID version 7 (a millisecond timestamp, then random bits; keys
    /// made by one process also grow), so the keys of one sync sort together and its
    /// inserts land at the end of the key index instead of all over it.
    pub fn random() -> Self {
        Self(uuid::Uuid::now_v7().to_string())
    }

    /// Wraps a key read back from a store.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where an interrupted listing resumes: the facade's opaque page cursor, as its text.
/// `Debug` shows only the length (a cursor may embed ids).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ResumeCursor(String);

impl ResumeCursor {
    /// Wraps a cursor's text.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The cursor's text, to hand back to the facade.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ResumeCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ResumeCursor({} chars)", self.0.chars().count())
    }
}

/// The facade [`Session`] in storable form. Serializes the real values (the store keeps
/// them); `Debug` redacts them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRecord {
    /// The consent id.
    pub consent_id: String,
    /// The bank's access token, where it issues one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// The refresh token, where the bank issues one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// When `access_token` expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

impl SessionRecord {
    /// The storable form of a facade session.
    pub fn from_session(session: &Session) -> Self {
        Self {
            consent_id: session.consent_id.expose().to_string(),
            access_token: session
                .access_token
                .as_ref()
                .map(|t| t.expose().to_string()),
            refresh_token: session
                .refresh_token
                .as_ref()
                .map(|t| t.expose().to_string()),
            expires_at: session.expires_at,
        }
    }

    /// The facade session for account information calls.
    pub fn to_session(&self) -> Session {
        let mut session = Session::new(ConsentId::new(self.consent_id.clone()));
        if let Some(token) = &self.access_token {
            session = session.with_access_token(AccessToken::new(token.clone()), self.expires_at);
        }
        if let Some(token) = &self.refresh_token {
            session = session.with_refresh_token(RefreshToken::new(token.clone()));
        }
        session
    }
}

impl fmt::Debug for SessionRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionRecord")
            .field("consent_id", &"[REDACTED]")
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// The PSU of a connection in storable form. Never has an IP address: a sync runs without
/// the PSU present. Serializes the real PSU id; `Debug` redacts it.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PsuRecord {
    /// The PSU's login id at the bank, where the bank needs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The company's id when acting for a company.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporate_id: Option<String>,
    /// The type of `corporate_id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corporate_id_type: Option<String>,
    /// `PRIVATE` or `CORPORATE`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

impl PsuRecord {
    /// The storable form of a PSU (the IP address and user agent are dropped on purpose).
    pub fn from_psu(psu: &Psu) -> Self {
        Self {
            id: psu.id.as_ref().map(|id| id.expose().to_string()),
            corporate_id: psu.corporate_id.clone(),
            corporate_id_type: psu.corporate_id_type.clone(),
            context: psu.context.as_ref().map(|c| c.as_str().to_string()),
        }
    }

    /// The facade PSU for an unattended call ([`Psu::absent`] plus the stored ids).
    pub fn to_psu(&self) -> Psu {
        let mut psu = Psu::absent();
        if let Some(id) = &self.id {
            psu = psu.with_id(PsuId::new(id.clone()));
        }
        if let Some(corporate) = &self.corporate_id {
            psu = psu.with_corporate(corporate.clone(), self.corporate_id_type.clone());
        }
        if let Some(context) = &self.context {
            psu.context = Some(PsuContext::from_bank_str(context));
        }
        psu
    }
}

impl fmt::Debug for PsuRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PsuRecord")
            .field("id", &self.id.as_ref().map(|_| "[REDACTED]"))
            .field("corporate_id", &self.corporate_id)
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

/// What the sync knows about the connection's consent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConsentState {
    /// The status last seen (from the bank, or concluded from an error).
    pub status: ConsentStatus,
    /// Last day the consent is valid, as the bank answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<NaiveDate>,
    /// Unattended accesses per day the bank granted (its answer, not what was asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_per_day: Option<u32>,
    /// When the status was last read from the bank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checked_at: Option<DateTime<Utc>>,
    /// The `valid_until` a `consent_expiring` event was already emitted for (a renewed
    /// consent gets its own notice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiring_notice_for: Option<NaiveDate>,
}

/// Whether a connection is synced.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectionState {
    /// Synced on schedule.
    Active,
    /// The PSU must authorise again (new consent or SCA); not synced until then.
    ReauthRequired,
    /// The consent was revoked; not synced.
    Revoked,
    /// The consent expired; not synced.
    Expired,
}

impl ConnectionState {
    /// The snake_case name (as serialized).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::ReauthRequired => "reauth_required",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }

    /// Parses [`ConnectionState::as_str`]; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "active" => Self::Active,
            "reauth_required" => Self::ReauthRequired,
            "revoked" => Self::Revoked,
            "expired" => Self::Expired,
            _ => return None,
        })
    }
}

/// One account of a connection the sync reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionAccount {
    /// The bank's account id.
    pub id: AccountId,
    /// Whether it is a card account (read with the card transaction listing).
    #[serde(default)]
    pub card: bool,
    /// The latest booking date stored for it: later syncs read from this date minus the
    /// overlap. Written after a listing completes; a stale (older) value only widens the
    /// next window, it never loses an entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latest_booked: Option<NaiveDate>,
    /// When its last listing completed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synced_at: Option<DateTime<Utc>>,
}

/// One consent of one PSU at one bank, synced unattended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    /// Our id.
    pub id: ConnectionId,
    /// The bank adapter's name, e.g. `handelsbanken`.
    pub bank: String,
    /// The bank's base URL the session belongs to.
    pub base_url: String,
    /// The authorised session (secrets; redacted in `Debug`).
    pub session: SessionRecord,
    /// The PSU (without IP address).
    pub psu: PsuRecord,
    /// The consent's status, validity and granted frequency.
    pub consent: ConsentState,
    /// Whether the connection is synced.
    pub state: ConnectionState,
    /// The accounts to sync (empty: listed from the bank on the next sync).
    #[serde(default)]
    pub accounts: Vec<ConnectionAccount>,
    /// The bank's sync rules.
    pub settings: BankSyncSettings,
    /// When the connection was added.
    pub created_at: DateTime<Utc>,
    /// When the last sync of it finished (successfully or not).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sync_at: Option<DateTime<Utc>>,
    /// When it is next due (`None`: now). `claim_due` picks connections due by now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_sync_at: Option<DateTime<Utc>>,
}

/// One stored transaction: our key, how we recognise it, and the bank's latest version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredTransaction {
    /// Our stable key.
    pub key: TxKey,
    /// The connection it belongs to.
    pub connection: ConnectionId,
    /// The account it was listed on.
    pub account: AccountId,
    /// The bank's id as last seen (`transactionId`, else `entryReference`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_id: Option<String>,
    /// Booked or pending (or another status the bank sent).
    pub status: TransactionStatus,
    /// Hex SHA-256 over the entry's identifying content (see `identity`).
    pub fingerprint: String,
    /// 0-based index among stored entries of the same account with the same fingerprint
    /// (twins: 0, 1, ...).
    pub occurrence: u32,
    /// The date the bank's settings say the entry belongs to (booking, value or
    /// transaction date); windows and matching use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    /// Booking date as last seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub booking_date: Option<NaiveDate>,
    /// Value date as last seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_date: Option<NaiveDate>,
    /// Signed amount (stored as its decimal text, scale kept).
    pub amount: Decimal,
    /// ISO 4217 currency code.
    pub currency: String,
    /// The domain transaction as last seen (stored as JSON).
    pub transaction: Transaction,
    /// Whether the entry was removed (a pending entry the bank stopped listing).
    #[serde(default)]
    pub removed: bool,
    /// The id of the last listing that listed this entry (see [`Progress::listing_id`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_listing: Option<String>,
    /// The cursor of the last change about it (set by the store on commit).
    pub last_cursor: u64,
}

/// What a change did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// A transaction seen for the first time.
    Added,
    /// A known transaction changed (pending to booked, amount, dates, details).
    Modified,
    /// A pending transaction the bank no longer lists.
    Removed,
}

impl ChangeKind {
    /// The snake_case name (as serialized).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Modified => "modified",
            Self::Removed => "removed",
        }
    }

    /// Parses [`ChangeKind::as_str`]; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "added" => Self::Added,
            "modified" => Self::Modified,
            "removed" => Self::Removed,
            _ => return None,
        })
    }
}

/// A change before the store gave it a cursor (part of a [`PageCommit`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewChange {
    /// The account.
    pub account: AccountId,
    /// The transaction's key (its row is in the same commit's `transactions`).
    pub key: TxKey,
    /// What happened.
    pub kind: ChangeKind,
    /// The domain transaction after the change (for `Removed`: as last seen); the store
    /// writes it as JSON (read back as [`Change::transaction`]). `None`: the transaction of
    /// the same commit's row with this key, as that row holds it (what the engine sends,
    /// so a change costs no second copy of the transaction); a commit without such a row
    /// is refused.
    pub transaction: Option<Transaction>,
    /// When the change was detected.
    pub at: DateTime<Utc>,
}

/// One entry of a connection's change feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The connection's change cursor: grows by at least one per change, never reused.
    pub cursor: u64,
    /// The connection.
    pub connection: ConnectionId,
    /// The account.
    pub account: AccountId,
    /// The transaction's key.
    pub key: TxKey,
    /// What happened.
    pub kind: ChangeKind,
    /// The domain transaction after the change (for `Removed`: as last seen), as JSON.
    pub transaction: serde_json::Value,
    /// When the change was detected.
    pub at: DateTime<Utc>,
}

/// What a lifecycle event is about. Unknown names read back from a store become `Other`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The consent ends within the configured number of days.
    ConsentExpiring,
    /// The consent has ended.
    ConsentExpired,
    /// The PSU must authorise again (SCA again, the 90-day rule, consent invalid).
    ReauthRequired,
    /// The PSU or the bank revoked access.
    AccessRevoked,
    /// No unattended call is left for an account today (or a 429 blocked it).
    BudgetExhausted,
    /// A sync failed; `Event::error_kind` says how.
    SyncFailed,
    /// A listed entry did not map and was set aside (field path and shape in the detail).
    EntryQuarantined,
    /// A name this version does not know, kept exactly.
    Other(String),
}

impl EventKind {
    /// The snake_case name (as serialized).
    pub fn as_str(&self) -> &str {
        match self {
            Self::ConsentExpiring => "consent_expiring",
            Self::ConsentExpired => "consent_expired",
            Self::ReauthRequired => "reauth_required",
            Self::AccessRevoked => "access_revoked",
            Self::BudgetExhausted => "budget_exhausted",
            Self::SyncFailed => "sync_failed",
            Self::EntryQuarantined => "entry_quarantined",
            Self::Other(other) => other,
        }
    }

    /// Parses a name; unknown names become [`EventKind::Other`].
    pub fn parse(text: &str) -> Self {
        match text {
            "consent_expiring" => Self::ConsentExpiring,
            "consent_expired" => Self::ConsentExpired,
            "reauth_required" => Self::ReauthRequired,
            "access_revoked" => Self::AccessRevoked,
            "budget_exhausted" => Self::BudgetExhausted,
            "sync_failed" => Self::SyncFailed,
            "entry_quarantined" => Self::EntryQuarantined,
            other => Self::Other(other.to_string()),
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for EventKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for EventKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(Self::parse(&text))
    }
}

/// An event before the store gave it a cursor (part of a [`PageCommit`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewEvent {
    /// The connection.
    pub connection: ConnectionId,
    /// The account, when the event is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountId>,
    /// What happened.
    pub kind: EventKind,
    /// When.
    pub at: DateTime<Utc>,
    /// For `SyncFailed`: the facade's error kind (its `Display`, e.g. `bank unavailable`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    /// A short line without secrets or bank free text (e.g. `valid until 2027-01-05`,
    /// `blocked until 2026-12-06T00:00:00Z`, a field path and value shape).
    pub detail: String,
}

/// One entry of the event outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// The outbox cursor (over all connections): grows, never reused.
    pub cursor: u64,
    /// The connection.
    pub connection: ConnectionId,
    /// The account, when the event is about one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountId>,
    /// What happened.
    pub kind: EventKind,
    /// When.
    pub at: DateTime<Utc>,
    /// For `SyncFailed`: the facade's error kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    /// A short line without secrets or bank free text.
    pub detail: String,
}

/// One line of the access budget ledger: unattended calls of one scope on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BudgetDay {
    /// The connection (= the consent).
    pub connection: ConnectionId,
    /// The account, when the bank counts per account (`None`: the whole consent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<AccountId>,
    /// The resource counted (`transactions`, `balances`, `accounts`, ...) or `*` when the
    /// bank counts all resources together.
    pub resource: String,
    /// The day, by the bank's day boundary.
    pub day: NaiveDate,
    /// Unattended calls made (every attempt, unless failed calls are free at the bank).
    pub used: u32,
    /// Calls the bank granted per day.
    pub granted: u32,
    /// No call before this time (a 429's `Retry-After`, or the next day).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocked_until: Option<DateTime<Utc>>,
}

/// How far a listing of one account got: what a restarted sync resumes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// The connection.
    pub connection: ConnectionId,
    /// The account.
    pub account: AccountId,
    /// First day of the window being read.
    pub window_from: NaiveDate,
    /// Last day of the window being read.
    pub window_to: NaiveDate,
    /// The next page to read (`None`: start at page 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page: Option<ResumeCursor>,
    /// Pages committed so far.
    pub pages_done: u32,
    /// This listing's id (a UUID string): every stored transaction the listing recognised
    /// carries it in [`StoredTransaction::last_listing`], so a resumed listing knows which
    /// stored entries are already claimed and the end of the listing knows which pending
    /// entries the bank no longer lists.
    pub listing_id: String,
}

/// What a commit does to an account's listing progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "op")]
pub enum ProgressUpdate {
    /// Leave it as it is.
    Keep,
    /// Store this progress (insert or replace the account's row).
    Save(Progress),
    /// The listing is complete: delete the account's row.
    Clear {
        /// The account.
        account: AccountId,
    },
}

/// Everything one database transaction writes: the store applies all of it or none.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageCommit {
    /// The connection.
    pub connection: ConnectionId,
    /// Transactions to insert or replace (by key); `last_cursor` is set by the store from
    /// the change about the same key in `changes`, if any.
    pub transactions: Vec<StoredTransaction>,
    /// Changes, in order; the store gives each the next cursor of the connection.
    pub changes: Vec<NewChange>,
    /// The listing's progress.
    pub progress: ProgressUpdate,
    /// Ledger lines to insert or replace (by connection, account, resource, day).
    pub budget: Vec<BudgetDay>,
    /// Events for the outbox, in order.
    pub events: Vec<NewEvent>,
    /// The JSON text of the first `json.len()` of `transactions`' domain transactions,
    /// encoded as the entries were listed or ahead by [`PageCommit::encode_transactions`]
    /// (the store encodes the rest).
    #[serde(skip)]
    pub(crate) json: Vec<String>,
}

impl PageCommit {
    /// An empty commit for `connection` (progress kept).
    pub fn new(connection: ConnectionId) -> Self {
        Self {
            connection,
            transactions: Vec::new(),
            changes: Vec::new(),
            progress: ProgressUpdate::Keep,
            budget: Vec::new(),
            events: Vec::new(),
            json: Vec::new(),
        }
    }

    /// Encodes the JSON the store writes for each transaction not encoded yet, through
    /// `buffer` (reused between calls, so each text is one allocation of its exact size).
    /// Optional: the store encodes whatever is not encoded. The engine calls it while the
    /// previous commit is written, so the commit does not. Call it after the last change to
    /// `transactions`: an encoded transaction changed later is written as it was encoded.
    pub fn encode_transactions(&mut self, buffer: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        let done = self.json.len();
        self.json
            .reserve(self.transactions.len().saturating_sub(done));
        for row in self.transactions.iter().skip(done) {
            buffer.clear();
            serde_json::to_writer(&mut *buffer, &row.transaction)?;
            // serde_json writes UTF-8 only; the check cannot fail but costs little.
            let text = std::str::from_utf8(buffer)
                .map_err(<serde_json::Error as serde::ser::Error>::custom)?;
            self.json.push(text.to_owned());
        }
        Ok(())
    }

    /// Appends a row to write, with its transaction's JSON when it was encoded already: the
    /// text is kept while every row before it has its text (the encoded texts stay a prefix
    /// of the rows; the rest are encoded by [`PageCommit::encode_transactions`] or the store).
    pub fn push_transaction(&mut self, row: StoredTransaction, json: Option<String>) {
        if let Some(json) = json
            && self.json.len() == self.transactions.len()
        {
            self.json.push(json);
        }
        self.transactions.push(row);
    }

    /// Appends `later`, a commit of the same connection that follows this one, so both
    /// are written as one: its transactions, changes and events after these, its progress
    /// instead of this one's (unless it keeps it), its ledger lines replacing the lines of
    /// the same account, resource and day (a later line is the newer count).
    pub fn absorb(&mut self, mut later: PageCommit) {
        // The encoded JSON stays a prefix of the transactions: the later commit's counts
        // only when all of this one's is encoded.
        if self.json.len() == self.transactions.len() {
            self.json.append(&mut later.json);
        }
        self.transactions.append(&mut later.transactions);
        self.changes.append(&mut later.changes);
        self.events.append(&mut later.events);
        if later.progress != ProgressUpdate::Keep {
            self.progress = later.progress;
        }
        for line in later.budget {
            let same = |b: &BudgetDay| {
                b.account == line.account && b.resource == line.resource && b.day == line.day
            };
            match self.budget.iter_mut().find(|b| same(b)) {
                Some(slot) => *slot = line,
                None => self.budget.push(line),
            }
        }
    }

    /// Whether the commit writes nothing.
    pub fn is_empty(&self) -> bool {
        self.transactions.is_empty()
            && self.changes.is_empty()
            && self.progress == ProgressUpdate::Keep
            && self.budget.is_empty()
            && self.events.is_empty()
    }
}

/// The cursors a store assigned in one commit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommitCursors {
    /// One per change, in order.
    pub changes: Vec<u64>,
    /// One per event, in order.
    pub events: Vec<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_in_debug_but_stored() {
        let session = Session::new(ConsentId::new("consent-secret"))
            .with_access_token(AccessToken::new("token-secret"), None)
            .with_refresh_token(RefreshToken::new("refresh-secret"));
        let record = SessionRecord::from_session(&session);
        let debug = format!("{record:?}");
        for secret in ["consent-secret", "token-secret", "refresh-secret"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        let json = serde_json::to_string(&record).unwrap();
        let back: SessionRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back.to_session(), session);

        let psu = Psu::absent().with_id(PsuId::new("199001011234"));
        let record = PsuRecord::from_psu(&psu);
        assert!(!format!("{record:?}").contains("199001011234"));
        assert_eq!(record.to_psu(), psu);
    }

    #[test]
    fn event_kind_names_round_trip_and_unknown_is_kept() {
        for kind in [
            EventKind::ConsentExpiring,
            EventKind::ConsentExpired,
            EventKind::ReauthRequired,
            EventKind::AccessRevoked,
            EventKind::BudgetExhausted,
            EventKind::SyncFailed,
            EventKind::EntryQuarantined,
        ] {
            assert_eq!(EventKind::parse(kind.as_str()), kind);
        }
        assert_eq!(
            serde_json::from_str::<EventKind>("\"paused\"").unwrap(),
            EventKind::Other("paused".into())
        );
        assert_eq!(
            serde_json::to_string(&EventKind::BudgetExhausted).unwrap(),
            "\"budget_exhausted\""
        );
    }

    #[test]
    fn absorbing_a_later_commit_keeps_order_and_the_newest_progress_and_counts() {
        let c = ConnectionId::new("c-1");
        let line = |used: u32, resource: &str| BudgetDay {
            connection: c.clone(),
            account: Some(AccountId::new("a-1")),
            resource: resource.to_string(),
            day: chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap(),
            used,
            granted: 4,
            blocked_until: None,
        };
        let progress = |pages: u32| {
            ProgressUpdate::Save(Progress {
                connection: c.clone(),
                account: AccountId::new("a-1"),
                window_from: chrono::NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
                window_to: chrono::NaiveDate::from_ymd_opt(2026, 12, 6).unwrap(),
                next_page: Some(ResumeCursor::new(format!("page-{}", pages + 1))),
                pages_done: pages,
                listing_id: "l-1".into(),
            })
        };
        let event = |detail: &str| NewEvent {
            connection: c.clone(),
            account: None,
            kind: EventKind::EntryQuarantined,
            at: Utc::now(),
            error_kind: None,
            detail: detail.into(),
        };
        let mut first = PageCommit::new(c.clone());
        first.progress = progress(1);
        first.budget = vec![line(1, "transactions")];
        first.events = vec![event("one")];
        let mut second = PageCommit::new(c.clone());
        second.progress = progress(2);
        second.budget = vec![line(2, "transactions"), line(1, "balances")];
        second.events = vec![event("two")];
        first.absorb(second);
        assert_eq!(first.progress, progress(2));
        assert_eq!(
            first.budget,
            vec![line(2, "transactions"), line(1, "balances")]
        );
        let details: Vec<_> = first.events.iter().map(|e| e.detail.as_str()).collect();
        assert_eq!(details, ["one", "two"]);
        // A later commit that keeps the progress does not erase the earlier one's.
        first.absorb(PageCommit::new(c.clone()));
        assert_eq!(first.progress, progress(2));
    }

    #[test]
    fn resume_cursor_debug_shows_length_only() {
        let cursor = ResumeCursor::new("continuationKey=abc123");
        assert_eq!(format!("{cursor:?}"), "ResumeCursor(22 chars)");
    }
}
