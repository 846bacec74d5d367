//! The transaction listing in two stages (see
//! [pipelined listings](crate::pagination#pipelined-listings)): each page's body is fetched
//! as bytes and only its next link read, inside the retry loop; the page is decoded and
//! mapped on a spawned task while the next page is fetched.

use bytes::Bytes;
use serde::Deserialize;

use super::*;
use crate::adapters::common::errors::invalid_payload;
use crate::secret::PsuId;

const OP: &str = "transactions";

/// The only part of a transaction list answer the serial chain reads: the next link. Every
/// other value is skipped, but the whole body is still checked to be complete JSON.
#[derive(Deserialize)]
struct Peek {
    transactions: Option<PeekReport>,
}

#[derive(Deserialize)]
struct PeekReport {
    #[serde(rename = "_links")]
    links: Option<PeekLinks>,
}

#[derive(Deserialize)]
struct PeekLinks {
    next: Option<PeekHref>,
}

#[derive(Deserialize)]
struct PeekHref {
    href: String,
}

/// A page's body as the serial chain hands it to the decode stage.
enum Body {
    /// Complete JSON whose next link was read; decoded by the raw types on the task.
    Bytes(Bytes),
    /// An answer the raw types cannot decode as a whole, already decoded entry by entry.
    Listed(crate::transaction::ListedPage),
    /// A body that is not UTF-8 throughout, already decoded by the raw types (as before,
    /// in the retry loop: the peek does not check the text of the values it skips).
    Typed(Box<raw::TransactionsResponse>),
}

/// One fetched page: its body, the request id of the attempt that got it, and whether its
/// next link had no continuation key (an error once the page itself decodes).
pub(super) struct Fetched {
    body: Body,
    request_id: String,
    next_without_key: bool,
}

/// What the decode stage keeps of the call: the query's booking status, and the call's
/// secrets (consent id, PSU id), since an answer that does not decode as a whole is read
/// again entry by entry there and its error must not show them. No `Debug`.
pub(super) struct Held {
    consent: ConsentId,
    psu_id: Option<PsuId>,
    booking: BookingStatus,
}

impl Held {
    pub(super) fn new(session: &Session, psu: &Psu, booking: BookingStatus) -> Self {
        Self {
            consent: session.consent_id.clone(),
            psu_id: psu.id.clone(),
            booking,
        }
    }

    fn secrets(&self) -> Secrets<'_> {
        Secrets([
            Some(self.consent.expose()),
            self.psu_id.as_ref().map(|id| id.expose()),
        ])
    }
}

/// Reads the next link of a body: `Ok` with the link (if any), or the page's answer read
/// entry by entry when a value has the wrong type or form, or the error of a body that is
/// cut off or not JSON (transient: the page is requested again).
fn peek(body: Bytes, request_id: &str) -> Result<(Body, Option<String>, String), Error> {
    let Ok(text) = std::str::from_utf8(&body) else {
        return decoded_whole(body, request_id);
    };
    match serde_json::from_str::<Peek>(text) {
        Ok(peek) => {
            let next = peek
                .transactions
                .and_then(|t| t.links)
                .and_then(|l| l.next)
                .map(|n| n.href);
            Ok((Body::Bytes(body), next, request_id.to_owned()))
        }
        Err(cause) if cause.classify() == serde_json::error::Category::Data => {
            let page = mapping::transactions_from_body(&body)?;
            let next = page.links.get("next").map(|link| link.href.clone());
            Ok((Body::Listed(page), next, request_id.to_owned()))
        }
        Err(cause) => Err(invalid_payload(BANK, OP, &body, &cause)),
    }
}

/// The body decoded by the raw types right away, as the raw client's `send()` would: for
/// a body whose text the peek cannot vouch for, so that one the raw types refuse as not
/// readable is requested again like before.
fn decoded_whole(body: Bytes, request_id: &str) -> Result<(Body, Option<String>, String), Error> {
    match serde_json::from_slice::<raw::TransactionsResponse>(&body) {
        Ok(answer) => {
            let next = answer
                .transactions
                .as_ref()
                .and_then(|t| t.links.as_ref())
                .and_then(|l| l.next.as_ref())
                .map(|n| n.href.clone());
            Ok((Body::Typed(Box::new(answer)), next, request_id.to_owned()))
        }
        Err(cause) if cause.classify() == serde_json::error::Category::Data => {
            let page = mapping::transactions_from_body(&body)?;
            let next = page.links.get("next").map(|link| link.href.clone());
            Ok((Body::Listed(page), next, request_id.to_owned()))
        }
        Err(cause) => Err(invalid_payload(BANK, OP, &body, &cause)),
    }
}

impl OpenPayments {
    /// Whether the listing reads ahead: as the query says, else only when `PSU-IP-Address`
    /// is sent (the PSU is present with an IPv4 address).
    pub(super) fn reads_ahead(psu: &Psu, query: &TransactionQuery) -> bool {
        query.reads_ahead(PsuHeaders::of(psu).ip.is_some())
    }

    /// Fetches the page at `cursor` as bytes and reads its next link (the serial chain):
    /// its continuation key, or none.
    pub(super) async fn fetch_page(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        query: &TransactionQuery,
        cursor: Option<String>,
    ) -> Result<(Fetched, Option<String>), Error> {
        let key = cursor.as_deref();
        let (body, href, request_id) = self
            .call_as(
                info(BANK, OP, psu, Some(account)),
                RetryMode::Idempotent,
                Secrets::of(Some(&session.consent_id), psu),
                move |rid| {
                    self.transactions_request(session, psu, account, query, key, rid)
                        .send_bytes()
                },
                peek,
                None,
            )
            .await?;
        // Any `next` link, even an empty one (which then fails as a link without a key).
        let next = href.as_deref().and_then(continuation_key);
        let fetched = Fetched {
            body,
            request_id,
            next_without_key: href.is_some() && next.is_none(),
        };
        Ok((fetched, next))
    }
}

/// The booking status as the raw client sends it.
pub(super) fn raw_booking(booking: BookingStatus) -> raw::BookingStatus {
    match booking {
        BookingStatus::Booked => raw::BookingStatus::Booked,
        BookingStatus::Pending => raw::BookingStatus::Pending,
        BookingStatus::Both => raw::BookingStatus::Both,
    }
}

/// Decodes and maps a fetched page (the decode stage) into `entries` (empty; a spent page's
/// buffer): its entries in the listing's order, those outside the query's booking status
/// dropped, each as `entry` makes it. A page that does not decode, or whose next link had no
/// continuation key, is the page's error.
pub(super) fn decode_page<E>(
    fetched: Fetched,
    held: &Held,
    entry: fn(Result<Transaction, EntryError>) -> E,
    mut entries: Vec<E>,
) -> Result<Vec<E>, Error> {
    let booking = held.booking;
    let keep = move |e: &Result<Transaction, EntryError>| {
        e.as_ref().map_or(true, |t| wanted(booking, &t.status))
    };
    match fetched.body {
        Body::Listed(page) => entries.extend(page.entries.into_iter().filter(keep).map(entry)),
        Body::Typed(answer) => {
            let (transactions, _) = mapped(OP, mapping::into_mapped_transactions(*answer))?;
            entries.extend(transactions.filter(keep).map(entry));
        }
        Body::Bytes(body) => match decoded_mapped(&body, &mut entries, keep, entry) {
            Ok(page) => mapped(OP, page)?,
            Err(cause) => {
                // Entries mapped before the decoding failed: the page is read again below.
                entries.clear();
                let rid = fetched.request_id.as_str();
                let hide = |e: Error| scrub(e, held.secrets()).with_request_id(rid);
                if cause.classify() != serde_json::error::Category::Data {
                    return Err(hide(invalid_payload(BANK, OP, &body, &cause)));
                }
                let page = mapping::transactions_from_body(&body).map_err(hide)?;
                entries.extend(page.entries.into_iter().filter(keep).map(entry));
            }
        },
    }
    if fetched.next_without_key {
        return Err(Error::new(ErrorKind::Pagination, BANK, OP)
            .with_detail("a next link without a continuationKey"));
    }
    Ok(entries)
}

/// Decodes a page's body and maps its entries into `entries` in one pass (see
/// [`mapping::decode_mapped`]); a body that is not UTF-8 is decoded as bytes (its error).
fn decoded_mapped<E>(
    body: &[u8],
    entries: &mut Vec<E>,
    mut keep: impl FnMut(&Result<Transaction, EntryError>) -> bool,
    make: fn(Result<Transaction, EntryError>) -> E,
) -> serde_json::Result<Result<(), EntryError>> {
    match std::str::from_utf8(body) {
        Ok(text) => mapping::decode_mapped(text, entries, keep, make),
        Err(_) => {
            let answer = serde_json::from_slice::<raw::TransactionsResponse>(body)?;
            Ok(
                mapping::into_mapped_transactions(answer).map(|(transactions, _)| {
                    entries.extend(transactions.filter(|e| keep(e)).map(make));
                }),
            )
        }
    }
}

/// An entry of the all-or-nothing stream: one that did not map is the stream's error.
pub(super) fn stream_entry(entry: Result<Transaction, EntryError>) -> Result<Transaction, Error> {
    entry.map_err(|e| e.into_error(BANK, OP))
}

/// An entry of a page (the per-entry listing): kept as it is.
pub(super) fn page_entry(
    entry: Result<Transaction, EntryError>,
) -> Result<Transaction, EntryError> {
    entry
}
