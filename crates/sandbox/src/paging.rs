//! Transaction windows and continuation keys, shared by all banks.
//!
//! The transactions of a request form one virtual list, newest first: the pending entries
//! (when asked for), then the booked entries in the date range. A page is a window of at
//! most `page_size` entries of that list; the continuation key is the window's start
//! offset, encoded opaquely. Nothing is stored between pages.

use base64::Engine;
use chrono::{Days, NaiveDate};

use crate::churn::ChurnView;
use crate::errors::ApiError;
use crate::fixtures::{Account, Fixtures, Txn};

/// What a transaction request asks for.
#[derive(Debug, Clone)]
pub struct TxQuery {
    /// Include booked entries.
    pub booked: bool,
    /// Include pending entries.
    pub pending: bool,
    /// First day (inclusive).
    pub date_from: NaiveDate,
    /// Last day (inclusive).
    pub date_to: NaiveDate,
    /// Continuation key of a follow-up page.
    pub key: Option<String>,
}

/// One page.
#[derive(Debug, Clone, Default)]
pub struct Page {
    /// Booked entries of the page, newest first.
    pub booked: Vec<Txn>,
    /// Pending entries of the page.
    pub pending: Vec<Txn>,
    /// Key of the next page, if any.
    pub next_key: Option<String>,
}

/// Parses `bookingStatus` (`booked`, `pending`, `both`).
pub fn booking_status(v: Option<&String>, default: Option<&str>) -> Result<(bool, bool), ApiError> {
    match v.map(String::as_str).or(default) {
        Some("booked") => Ok((true, false)),
        Some("pending") => Ok((false, true)),
        Some("both") => Ok((true, true)),
        Some(other) => Err(ApiError::format(format!(
            "bookingStatus {other:?} is not one of booked, pending, both."
        ))),
        None => Err(ApiError::format(
            "Missing required query parameter bookingStatus.",
        )),
    }
}

/// The default `dateFrom` when a request has none: 90 days back (no fresh SCA needed).
pub fn default_date_from(today: NaiveDate) -> NaiveDate {
    today
        .checked_sub_days(Days::new(crate::state::FREE_HISTORY_DAYS))
        .unwrap_or(today)
}

fn encode_key(offset: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("offset={offset}"))
}

fn decode_key(key: &str) -> Result<u64, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(key)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.strip_prefix("offset=").and_then(|n| n.parse().ok()))
        .ok_or_else(|| ApiError::format("continuationKey is invalid."))
}

/// Index range `[lo, hi)` of booked entries within the query's dates.
pub fn booked_range(fixtures: &Fixtures, account: &Account, q: &TxQuery) -> (u64, u64) {
    let lo = account.first_booked_on_or_after(fixtures, q.date_from);
    let hi = q
        .date_to
        .checked_add_days(Days::new(1))
        .map(|d| account.first_booked_on_or_after(fixtures, d))
        .unwrap_or(account.booked_count());
    (lo, hi.max(lo))
}

/// Number of entries the query matches in total.
pub fn total(fixtures: &Fixtures, account: &Account, q: &TxQuery) -> u64 {
    let (lo, hi) = booked_range(fixtures, account, q);
    let pending = if q.pending && q.date_to >= fixtures.today() {
        account.pending
    } else {
        0
    };
    pending + if q.booked { hi - lo } else { 0 }
}

/// Builds the page for `q`. `empty_fault`/`repeat_fault` inject the paging faults.
pub fn page(
    fixtures: &Fixtures,
    account: &Account,
    q: &TxQuery,
    page_size: u64,
    empty_fault: bool,
    repeat_fault: bool,
) -> Result<Page, ApiError> {
    page_with_churn(
        fixtures,
        account,
        q,
        page_size,
        (empty_fault, repeat_fault),
        None,
    )
}

/// [`page`] with the account's churn (new activity and the bank's id rules) merged in.
pub fn page_with_churn(
    fixtures: &Fixtures,
    account: &Account,
    q: &TxQuery,
    page_size: u64,
    (empty_fault, repeat_fault): (bool, bool),
    churn: Option<&ChurnView>,
) -> Result<Page, ApiError> {
    if q.date_from > q.date_to {
        return Err(ApiError::format("dateFrom is after dateTo."));
    }
    if empty_fault && q.key.is_none() {
        return Ok(Page {
            next_key: Some(encode_key(0)),
            ..Page::default()
        });
    }
    let offset = q.key.as_deref().map(decode_key).transpose()?.unwrap_or(0);
    let (mut out, total) = match churn {
        Some(view) => view.page(fixtures, account, q, offset, page_size),
        None => plain_page(fixtures, account, q, offset, page_size),
    };
    let end = offset.saturating_add(page_size.max(1)).min(total);
    if repeat_fault && q.key.is_some() {
        // A buggy bank: the follow-up page links to itself again, forever.
        out.next_key = q.key.clone();
    } else if end < total {
        out.next_key = Some(encode_key(end));
    }
    Ok(out)
}

fn plain_page(
    fixtures: &Fixtures,
    account: &Account,
    q: &TxQuery,
    offset: u64,
    page_size: u64,
) -> (Page, u64) {
    let (lo, hi) = booked_range(fixtures, account, q);
    let pending = if q.pending && q.date_to >= fixtures.today() {
        account.pending
    } else {
        0
    };
    let booked = if q.booked { hi - lo } else { 0 };
    let total = pending + booked;
    let end = offset.saturating_add(page_size.max(1)).min(total);
    let mut out = Page::default();
    for k in offset..end {
        if k < pending {
            out.pending
                .push(account.transaction(fixtures, account.history - 1 - k));
        } else {
            let j = k - pending;
            out.booked.push(account.transaction(fixtures, hi - 1 - j));
        }
    }
    (out, total)
}
