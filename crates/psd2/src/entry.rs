//! Per-entry results of a transaction listing: a page of entries that each mapped or did not.
//!
//! [`AccountInformation::transaction_pages`](crate::AccountInformation::transaction_pages)
//! yields [`TransactionPage`]s whose entries are `Ok(Transaction)` or an [`EntryError`] for
//! one entry that did not fit the domain model, so a caller can keep the entries that map and
//! set the others aside. [`AccountInformation::transactions`](crate::AccountInformation::transactions)
//! stays all-or-nothing: its stream ends with the first entry error.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind};
use crate::pagination::PageCursor;
use crate::transaction::{Transaction, TransactionId};

/// One listed entry that did not map. `Display` and `Debug` show the field path and the
/// value's shape, never the value (nor the bank's id of the entry).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EntryError {
    /// JSON-ish path of the offending field, e.g.
    /// `transactions.booked[3].transactionAmount.currency`.
    pub field: String,
    /// What is wrong, by shape only, e.g. `not an ISO 4217 code (3 chars, lower case)`.
    pub reason: String,
    /// The bank's id of the entry, when it has one (to quarantine and look it up later).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_id: Option<TransactionId>,
    /// The offending value as sent (at most 256 chars), for verbose output only: never in
    /// `Display`, `Debug` or the serialized form.
    #[serde(skip)]
    value: Option<String>,
}

impl EntryError {
    /// An entry error at `field` for `reason` (shape only, no value).
    pub fn new(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            reason: reason.into(),
            bank_id: None,
            value: None,
        }
    }

    /// Keeps the offending value as sent (at most 256 chars) for verbose output
    /// ([`EntryError::value`]); it never shows in `Display`, `Debug` or serialized form.
    pub fn with_value(mut self, value: impl AsRef<str>) -> Self {
        self.value = Some(value.as_ref().chars().take(256).collect());
        self
    }

    /// The offending value as sent, when the mapping kept it: for an operator's verbose
    /// output only (it may hold anything the bank sent).
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// Sets the bank's id of the entry.
    pub fn with_bank_id(mut self, id: Option<TransactionId>) -> Self {
        self.bank_id = id;
        self
    }

    /// The facade error ending an all-or-nothing listing at this entry:
    /// [`ErrorKind::UnexpectedResponse`] naming the field.
    /// The offending value, when kept, goes to [`Error::offending_value`].
    pub fn into_error(self, bank: &'static str, operation: &'static str) -> Error {
        let error =
            Error::new(ErrorKind::UnexpectedResponse, bank, operation).with_detail(format!(
                "an entry does not fit the domain model: {}: {}",
                self.field, self.reason
            ));
        match self.value {
            Some(value) => error.with_offending_value(value),
            None => error,
        }
    }
}

impl fmt::Display for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl fmt::Debug for EntryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EntryError")
            .field("field", &self.field)
            .field("reason", &self.reason)
            .field("bank_id", &self.bank_id.as_ref().map(|_| "[set]"))
            .finish()
    }
}

impl std::error::Error for EntryError {}

/// One page of a listing with per-entry results, and where the next page is.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TransactionPage {
    /// The page's entries in the bank's order: mapped, or why not.
    pub entries: Vec<Result<Transaction, EntryError>>,
    /// The next page; `None` on the bank's last page. Store it to resume later.
    pub next: Option<PageCursor>,
}

impl TransactionPage {
    /// A page of `entries` followed by `next`.
    pub fn new(entries: Vec<Result<Transaction, EntryError>>, next: Option<PageCursor>) -> Self {
        Self { entries, next }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_errors_show_the_path_and_shape_but_not_the_id() {
        let e = EntryError::new(
            "transactions.booked[3].transactionAmount.currency",
            "not an ISO 4217 code (3 chars, lower case)",
        )
        .with_bank_id(Some(TransactionId::new("tx-191212121212")));
        let shown = format!("{e} {e:?}");
        assert!(shown.contains("transactions.booked[3].transactionAmount.currency"));
        assert!(!shown.contains("191212121212"), "{shown}");
        let error = e.into_error("test", "transactions");
        assert_eq!(error.kind, ErrorKind::UnexpectedResponse);
        assert!(error.to_string().contains("booked[3]"), "{error}");
    }
}
