//! What every adapter's listing does the same way: pages with per-entry results, resuming
//! from a stored cursor, the booking-status filter, and the all-or-nothing entry stream.

use futures::stream::{self, BoxStream};
use futures::{StreamExt, future};
use std::future::Future;

use crate::entry::{EntryError, TransactionPage};
use crate::error::Error;
use crate::pagination::{PageCursor, Paginator};
use crate::transaction::Transaction;
use crate::transaction::{BookingStatus, TransactionStatus};

/// Whether an entry of `status` belongs to a listing for `booking`. Every adapter drops the
/// entries a bank sent although the query excluded them (a bank that ignores
/// `bookingStatus`, or has no such parameter).
pub fn wanted(booking: BookingStatus, status: &TransactionStatus) -> bool {
    match booking {
        BookingStatus::Both => true,
        BookingStatus::Booked => *status == TransactionStatus::Booked,
        BookingStatus::Pending => *status == TransactionStatus::Pending,
    }
}

/// One page's entries and the position of the next page (an adapter's own cursor text).
pub type Entries = Vec<Result<Transaction, EntryError>>;

/// The position a listing starts at: that of `resume` (a stored cursor of this bank and
/// operation), else the first page (`None`).
fn start_position(
    bank: &'static str,
    operation: &'static str,
    resume: Option<&PageCursor>,
) -> Result<Option<String>, Error> {
    let position = resume.map(|c| c.position(bank, operation)).transpose()?;
    Ok(position.map(str::to_owned))
}

/// A listing's pages from `fetch(position)`, starting at `resume` (a stored cursor of this
/// bank) or the first page, with entries outside `booking` dropped (entries that did not map
/// are kept: their status is unknown).
pub fn pages<'a, F, Fut>(
    bank: &'static str,
    operation: &'static str,
    booking: BookingStatus,
    resume: Option<PageCursor>,
    mut fetch: F,
) -> BoxStream<'a, Result<(Entries, Option<String>), Error>>
where
    F: FnMut(Option<String>) -> Fut + Send + 'a,
    Fut: Future<Output = Result<(Entries, Option<String>), Error>> + Send + 'a,
{
    let start = match start_position(bank, operation, resume.as_ref()) {
        Ok(start) => start,
        Err(error) => return stream::iter([Err(error)]).boxed(),
    };
    Paginator::new(bank, operation)
        .pages(start, move |position| {
            let page = fetch(position);
            async move {
                let (mut entries, next) = page.await?;
                entries.retain(|e| e.as_ref().map_or(true, |t| wanted(booking, &t.status)));
                Ok((entries, next))
            }
        })
        .boxed()
}

/// [`pages`] through a two-stage page source (see
/// [pipelined listings](crate::pagination#pipelined-listings)): `fetch(position)` gets a
/// page's payload and next position in the stream, `decode(payload)` makes its entries (on
/// a spawned task while the next page is requested, when `read_ahead`). Entries outside
/// `booking` are dropped (entries that did not map are kept).
pub fn pages_pipelined<'a, P, F, Fut, D>(
    bank: &'static str,
    operation: &'static str,
    booking: BookingStatus,
    resume: Option<PageCursor>,
    read_ahead: bool,
    fetch: F,
    decode: D,
) -> BoxStream<'a, Result<(Entries, Option<String>), Error>>
where
    P: Send + 'static,
    F: FnMut(Option<String>) -> Fut + Send + 'a,
    Fut: Future<Output = Result<(P, Option<String>), Error>> + Send + 'a,
    D: Fn(P) -> Result<Entries, Error> + Send + Sync + 'static,
{
    let start = match start_position(bank, operation, resume.as_ref()) {
        Ok(start) => start,
        Err(error) => return stream::iter([Err(error)]).boxed(),
    };
    Paginator::new(bank, operation).pages_pipelined(start, read_ahead, fetch, move |payload| {
        let mut entries = decode(payload)?;
        entries.retain(|e| e.as_ref().map_or(true, |t| wanted(booking, &t.status)));
        Ok(entries)
    })
}

/// The pages as [`TransactionPage`]s with this bank's [`PageCursor`]s.
pub fn transaction_pages<'a>(
    bank: &'static str,
    pages: BoxStream<'a, Result<(Entries, Option<String>), Error>>,
) -> BoxStream<'a, Result<TransactionPage, Error>> {
    pages
        .map(move |page| {
            page.map(|(entries, next)| {
                TransactionPage::new(entries, next.map(|n| PageCursor::for_bank(bank, &n)))
            })
        })
        .boxed()
}

/// The pages' entries as one all-or-nothing stream: the first entry that did not map ends it
/// as an error naming the entry's field.
pub fn all_or_nothing<'a>(
    bank: &'static str,
    operation: &'static str,
    pages: BoxStream<'a, Result<(Entries, Option<String>), Error>>,
) -> BoxStream<'a, Result<Transaction, Error>> {
    pages
        .flat_map(move |page| {
            let items: Vec<Result<Transaction, Error>> = match page {
                Ok((entries, _)) => entries
                    .into_iter()
                    .map(|e| e.map_err(|e| e.into_error(bank, operation)))
                    .collect(),
                Err(error) => vec![Err(error)],
            };
            stream::iter(items)
        })
        .scan(false, |failed, item| {
            let out = if *failed {
                None
            } else {
                *failed = item.is_err();
                Some(item)
            };
            future::ready(out)
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter() {
        assert!(wanted(BookingStatus::Both, &TransactionStatus::Pending));
        assert!(wanted(BookingStatus::Booked, &TransactionStatus::Booked));
        assert!(!wanted(BookingStatus::Booked, &TransactionStatus::Pending));
        assert!(!wanted(
            BookingStatus::Booked,
            &TransactionStatus::Other("info".into())
        ));
        assert!(!wanted(BookingStatus::Pending, &TransactionStatus::Booked));
    }
}
