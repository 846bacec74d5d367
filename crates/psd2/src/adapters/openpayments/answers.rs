//! Open Payments answers decoded and mapped from their bytes, with no generated type in any
//! signature: for benchmarks and tools that measure or check the mapping on its own.

use psd2_raw_openpayments::types as raw;

use super::BANK;
use super::mapping;
use crate::entry::EntryError;
use crate::error::{Error, ErrorKind};
use crate::transaction::{ListedPage, Transaction};

/// The transaction list answer from its body, entry by entry (an entry that does not decode
/// or map becomes its [`EntryError`]); the page fails as a whole when the body is not a
/// transaction list (see [`crate::transaction::ListedPage`]).
pub fn transactions_from_body(body: &[u8]) -> Result<ListedPage, Error> {
    mapping::transactions_from_body(body)
}

/// The `transactions` object of a transaction list answer, decoded as the adapter's client
/// decodes it but not yet mapped. Opaque: it only hands its entries to the mapping.
#[derive(Clone)]
pub struct DecodedTransactions(raw::AccountReport);

impl DecodedTransactions {
    /// Decodes a transaction list answer; an answer without a `transactions` object is an
    /// error (never an empty page).
    pub fn decode(body: &[u8]) -> Result<Self, Error> {
        const OP: &str = "transactions";
        let answer: raw::TransactionsResponse = crate::adapters::common::json::from_body(body)
            .map_err(|e| Error::from_invalid_payload(BANK, OP, None, body, &e))?;
        answer.transactions.map(Self).ok_or_else(|| {
            Error::new(ErrorKind::UnexpectedResponse, BANK, OP)
                .with_detail("missing: the answer has no transactions object")
        })
    }

    /// How many entries the page holds (booked, pending and bankgiro).
    pub fn len(&self) -> usize {
        self.0.booked.len() + self.0.pending.len() + self.0.bankgiro.len()
    }

    /// Whether the page holds no entry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Maps every entry, copying the text it needs; the first entry that does not map fails.
    pub fn map_page(&self) -> Result<Vec<Transaction>, EntryError> {
        mapping::transaction_page(&self.0)
    }

    /// Maps every entry, moving its text (no copies); the first entry that does not map fails.
    pub fn into_page(self) -> Result<Vec<Transaction>, EntryError> {
        mapping::into_transaction_page(self.0)
    }

    /// The entries mapped one at a time as they are pulled (as the adapter's transaction
    /// stream maps them): booked, then pending, then bankgiro.
    pub fn into_entries(self) -> impl ExactSizeIterator<Item = Result<Transaction, EntryError>> {
        mapping::MappedTransactions::new(self.0)
    }
}

impl std::fmt::Debug for DecodedTransactions {
    /// The entry count only: the entries hold the bank's free text.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedTransactions")
            .field("entries", &self.len())
            .finish_non_exhaustive()
    }
}
