//! A stored transaction as a listing's matcher reads it: the columns matching decides on,
//! and the bank's transaction kept as its stored JSON text until something must look inside.

use std::cell::OnceCell;

use chrono::NaiveDate;
use psd2::{AccountId, Transaction, TransactionStatus};
use rust_decimal::Decimal;

use super::StoreError;
use super::rows::from_json;
use crate::model::{ConnectionId, StoredTransaction, TxKey};

/// One stored entry of an account's sync window (see [`super::Store::load_window`]).
///
/// Its transaction is parsed from the stored JSON on first use only
/// ([`StoredEntry::transaction`]): a sync that re-lists an unchanged entry compares the
/// listed entry's JSON with [`StoredEntry::json`] and never parses it. `Debug` shows the
/// key and the identifying columns, never the transaction (bank free text).
#[derive(Clone)]
pub struct StoredEntry {
    /// Our stable key.
    pub key: TxKey,
    /// The bank's id as last seen, if any.
    pub bank_id: Option<String>,
    /// Booked or pending (or another status the bank sent).
    pub status: TransactionStatus,
    /// Hex SHA-256 over the entry's identifying content.
    pub fingerprint: String,
    /// Index among the account's stored entries of the same fingerprint.
    pub occurrence: u32,
    /// The entry's date by the bank's settings.
    pub date: Option<NaiveDate>,
    /// Booking date as last seen.
    pub booking_date: Option<NaiveDate>,
    /// Value date as last seen.
    pub value_date: Option<NaiveDate>,
    /// Signed amount.
    pub amount: Decimal,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Whether the entry was removed.
    pub removed: bool,
    /// The id of the last listing that listed this entry.
    pub last_listing: Option<String>,
    /// The cursor of the last change about it.
    pub last_cursor: u64,
    /// The transaction's JSON as stored (`None`: built from a parsed transaction).
    pub(crate) json: Option<String>,
    /// The transaction, once parsed (boxed: most entries never parse theirs, and a
    /// window's entries are moved about).
    pub(crate) transaction: OnceCell<Box<Transaction>>,
}

impl std::fmt::Debug for StoredEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredEntry")
            .field("key", &self.key)
            .field("status", &self.status)
            .field("occurrence", &self.occurrence)
            .field("date", &self.date)
            .field("removed", &self.removed)
            .field("parsed", &self.transaction.get().is_some())
            .finish_non_exhaustive()
    }
}

impl StoredEntry {
    /// The entry of a stored transaction already parsed (no JSON text: comparisons look
    /// at the transaction itself).
    pub fn from_stored(row: StoredTransaction) -> Self {
        Self {
            key: row.key,
            bank_id: row.bank_id,
            status: row.status,
            fingerprint: row.fingerprint,
            occurrence: row.occurrence,
            date: row.date,
            booking_date: row.booking_date,
            value_date: row.value_date,
            amount: row.amount,
            currency: row.currency,
            removed: row.removed,
            last_listing: row.last_listing,
            last_cursor: row.last_cursor,
            json: None,
            transaction: OnceCell::from(Box::new(row.transaction)),
        }
    }

    /// The transaction's JSON as stored, when the entry was read from a store.
    pub fn json(&self) -> Option<&str> {
        self.json.as_deref()
    }

    /// The transaction, parsed from the stored JSON on the first call.
    /// [`StoreError::Corrupt`] (naming `transactions.tx_json`) when it no longer parses.
    pub fn transaction(&self) -> Result<&Transaction, StoreError> {
        if let Some(tx) = self.transaction.get() {
            return Ok(tx);
        }
        let text = self.json.as_deref().ok_or_else(no_transaction)?;
        let parsed: Transaction = from_json(text, "transactions.tx_json")?;
        Ok(self.transaction.get_or_init(|| Box::new(parsed)))
    }

    /// The full stored transaction of `connection` and `account` (its transaction parsed
    /// if it was not yet).
    pub fn to_stored(
        &self,
        connection: &ConnectionId,
        account: &AccountId,
    ) -> Result<StoredTransaction, StoreError> {
        self.clone()
            .into_stored(connection.clone(), account.clone())
    }

    /// [`StoredEntry::to_stored`], taking the entry apart instead of copying it.
    pub fn into_stored(
        self,
        connection: ConnectionId,
        account: AccountId,
    ) -> Result<StoredTransaction, StoreError> {
        let transaction = match (self.transaction.into_inner(), &self.json) {
            (Some(tx), _) => *tx,
            (None, Some(text)) => from_json(text, "transactions.tx_json")?,
            (None, None) => return Err(no_transaction()),
        };
        Ok(StoredTransaction {
            key: self.key,
            connection,
            account,
            bank_id: self.bank_id,
            status: self.status,
            fingerprint: self.fingerprint,
            occurrence: self.occurrence,
            date: self.date,
            booking_date: self.booking_date,
            value_date: self.value_date,
            amount: self.amount,
            currency: self.currency,
            transaction,
            removed: self.removed,
            last_listing: self.last_listing,
            last_cursor: self.last_cursor,
        })
    }
}

/// An entry with neither JSON nor a transaction (not built by this module's constructors).
fn no_transaction() -> StoreError {
    StoreError::corrupt("transactions.tx_json", "neither JSON nor a transaction")
}
