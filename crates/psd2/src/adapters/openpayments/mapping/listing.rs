//! Transaction listings: the entries of a page mapped one by one (each its own result, with
//! the entry's path and id on an error), from the raw answer or from a body the raw client
//! could not decode as a whole.

use std::sync::Arc;

use psd2_raw_openpayments::types as raw;

use super::{IbanCache, MappingError, add_link, map_transaction, reference};
use crate::account::AccountReference;
use crate::error::Error;
use crate::link::Links;
use crate::transaction::{
    ListedPage, Transaction, TransactionId, TransactionStatus, decode_entry, entry_bank_id,
    listing_list, listing_root, under, under_index,
};

use super::super::BANK;

/// Status given to entries of the `transactions.bankgiro` list (kept, not guessed).
pub const BANKGIRO_STATUS: &str = "bankgiro";

/// The entries of one transaction list page, mapped one at a time as they are pulled:
/// booked, then pending, then bankgiro entries, each with the status of its list.
///
/// This is what the adapter's transaction stream uses: the raw page is moved in once and each
/// raw entry is moved into its domain [`Transaction`] when the consumer asks for it, so there
/// is never a second page (of domain transactions) in memory, and a consumer that stops early
/// maps nothing more. An entry that cannot be mapped yields its [`MappingError`], whose path
/// names the entry (`transactions.booked[3].transactionAmount.currency`) and which carries
/// the entry's `transactionId`; the entries after it are still mapped. The IBAN cache and the
/// listing's `account` are shared by the whole page.
#[derive(Debug)]
pub struct MappedTransactions {
    booked: std::iter::Enumerate<std::vec::IntoIter<raw::Transaction>>,
    pending: std::iter::Enumerate<std::vec::IntoIter<raw::Transaction>>,
    bankgiro: std::iter::Enumerate<std::vec::IntoIter<raw::Transaction>>,
    ibans: IbanCache,
    account: Option<Arc<AccountReference>>,
}

impl MappedTransactions {
    /// The entries of `report`, without a listing account.
    pub fn new(report: raw::AccountReport) -> Self {
        Self::with_cache(report, IbanCache::default(), None)
    }

    pub(super) fn with_cache(
        report: raw::AccountReport,
        ibans: IbanCache,
        account: Option<Arc<AccountReference>>,
    ) -> Self {
        Self {
            booked: report.booked.into_iter().enumerate(),
            pending: report.pending.into_iter().enumerate(),
            bankgiro: report.bankgiro.into_iter().enumerate(),
            ibans,
            account,
        }
    }

    /// How many entries are left to map.
    pub fn remaining(&self) -> usize {
        self.booked.len() + self.pending.len() + self.bankgiro.len()
    }

    /// Maps every entry left into a `Vec`; the first entry that cannot be mapped fails it.
    pub fn collect_page(self) -> Result<Vec<Transaction>, MappingError> {
        let mut out = Vec::with_capacity(self.remaining());
        for tx in self {
            out.push(tx?);
        }
        Ok(out)
    }
}

impl Iterator for MappedTransactions {
    type Item = Result<Transaction, MappingError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (list, index, mut raw_tx, status) = if let Some((i, t)) = self.booked.next() {
            ("booked", i, t, TransactionStatus::Booked)
        } else if let Some((i, t)) = self.pending.next() {
            ("pending", i, t, TransactionStatus::Pending)
        } else {
            let (i, t) = self.bankgiro.next()?;
            let status = TransactionStatus::Other(BANKGIRO_STATUS.to_owned());
            ("bankgiro", i, t, status)
        };
        let mapped = map_transaction(&mut raw_tx, status, &mut self.ibans, self.account.as_ref());
        Some(mapped.map_err(|e| entry_error(e, list, index, raw_tx.transaction_id.take())))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.remaining();
        (n, Some(n))
    }
}

impl ExactSizeIterator for MappedTransactions {}

/// An entry's error with its full path (`transactions.<list>[index].field`) and its id.
#[cold]
pub(super) fn entry_error(
    e: MappingError,
    list: &str,
    index: usize,
    id: Option<String>,
) -> MappingError {
    under_index(e, &format!("transactions.{list}"), index)
        .with_bank_id(id.filter(|id| !id.is_empty()).map(TransactionId::new))
}

/// One page of the transaction list: booked, then pending, then bankgiro entries, each
/// with the status of its list; the first entry that does not map fails it.
///
/// Takes the report by value and moves its text into the domain transactions (no
/// copies); see [`transaction_page`] to keep the raw value, and [`MappedTransactions`] to
/// map the entries one at a time.
pub fn into_transaction_page(report: raw::AccountReport) -> Result<Vec<Transaction>, MappingError> {
    MappedTransactions::new(report).collect_page()
}

/// One page of the transaction list: booked, then pending, then bankgiro entries, each
/// with the status of its list.
///
/// Copies the text it needs; [`into_transaction_page`] is the same without the copies.
pub fn transaction_page(report: &raw::AccountReport) -> Result<Vec<Transaction>, MappingError> {
    into_transaction_page(report.clone())
}

/// The whole transaction list answer, lazily: its entries as [`MappedTransactions`] (each
/// carrying the answer's `account` reference, one shared value) and the page's links
/// (`next`, `account`). Only the answer's `account` is mapped up front.
///
/// An answer without a `transactions` object is an error, never an empty last page (it is
/// what an error body sent with a success status decodes to).
///
/// This is what the adapter's transaction stream uses.
pub fn into_mapped_transactions(
    answer: raw::TransactionsResponse,
) -> Result<(MappedTransactions, Links), MappingError> {
    let mut ibans = IbanCache::default();
    let account = reference(answer.account, &mut ibans)
        .map_err(|e| under(e, "account"))?
        .map(Arc::new);
    let Some(mut report) = answer.transactions else {
        return Err(MappingError::new(
            "transactions",
            "missing: the answer has no transactions object",
        ));
    };
    let mut links = Links::new();
    if let Some(l) = report.links.take() {
        add_link(&mut links, "next", l.next.as_ref());
        add_link(&mut links, "account", l.account.as_ref());
    }
    Ok((
        MappedTransactions::with_cache(report, ibans, account),
        links,
    ))
}

#[cfg(test)]
/// The whole transaction list answer with per-entry results: every entry mapped or its
/// [`MappingError`] (booked, then pending, then bankgiro), each carrying the answer's
/// `account` reference (one shared value), and the page's links (`next`, `account`).
///
/// Takes the answer by value and moves its text into the domain page (no copies). See
/// [`transactions_response`] to keep the raw value, [`into_mapped_transactions`] to map the
/// entries one at a time. Fails only for the page as a whole (no `transactions` object, a
/// bad `account`).
pub fn into_transactions_response(
    answer: raw::TransactionsResponse,
) -> Result<ListedPage, MappingError> {
    let (transactions, links) = into_mapped_transactions(answer)?;
    Ok(ListedPage::new(transactions.collect(), links))
}

#[cfg(test)]
/// The whole transaction list answer with per-entry results (see
/// [`into_transactions_response`]).
///
/// Copies the text it needs; [`into_transactions_response`] is the same without the copies.
pub fn transactions_response(
    answer: &raw::TransactionsResponse,
) -> Result<ListedPage, MappingError> {
    into_transactions_response(answer.clone())
}

/// The transaction list answer from its body, entry by entry: an entry that does not
/// decode (a bad date, a wrong type) or does not map becomes that entry's
/// [`MappingError`] and the other entries are kept. For answers the raw client could not
/// decode as a whole. The page fails as a whole (as [`Error`]) when the body is not JSON, is
/// an error body, has no `transactions` object, or its `account` or `_links` do not decode.
pub fn transactions_from_body(body: &[u8]) -> Result<ListedPage, Error> {
    const OP: &str = "transactions";
    let root = listing_root(BANK, OP, body, "transactions", false)?;
    let page_error = |e: MappingError| e.into_error(BANK, OP).with_raw_body(body);
    let mut ibans = IbanCache::default();
    let account: Option<raw::AccountReference> = match root.get("account") {
        None | Some(serde_json::Value::Null) => None,
        Some(v) => Some(decode_entry(v, "account").map_err(page_error)?),
    };
    let account = reference(account, &mut ibans)
        .map_err(|e| page_error(under(e, "account")))?
        .map(Arc::new);
    let report = &root["transactions"];
    let mut links = Links::new();
    if let Some(v) = report.get("_links") {
        let l: raw::TransactionReportLinks =
            decode_entry(v, "transactions._links").map_err(page_error)?;
        add_link(&mut links, "next", l.next.as_ref());
        add_link(&mut links, "account", l.account.as_ref());
    }
    let mut entries = Vec::new();
    for (list, status) in [
        ("booked", TransactionStatus::Booked),
        ("pending", TransactionStatus::Pending),
        (
            "bankgiro",
            TransactionStatus::Other(BANKGIRO_STATUS.to_owned()),
        ),
    ] {
        let path = format!("transactions.{list}");
        for (i, value) in listing_list(report, list, &path, false)
            .map_err(page_error)?
            .iter()
            .enumerate()
        {
            let id = entry_bank_id(value, "transactionId");
            let entry = decode_entry::<raw::Transaction>(value, "").and_then(|mut t| {
                map_transaction(&mut t, status.clone(), &mut ibans, account.as_ref())
            });
            entries.push(entry.map_err(|e| under_index(e, &path, i).with_bank_id(id)));
        }
    }
    Ok(ListedPage::new(entries, links))
}
