//! Transaction listings as the profile says: which `bookingStatus` values to ask for (a bank
//! refusing `both` is asked `booked`, then `pending`), how far back `dateFrom` may reach,
//! which date the bank filters on, and every page by `_links.next`.

use chrono::{Days, NaiveDate};
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use psd2_registry::{BookingStatusKind, DateField, Hook};
use reqwest::Method;
use url::Url;

use super::client::{BerlinGroup, Call};
use super::mapping;
use crate::account::AccountId;
use crate::adapters::common::listing::{self, Entries};
use crate::adapters::common::{check_account_id, info};
use crate::api::Session;
use crate::error::{Error, ErrorKind};
use crate::pagination::PageCursor;
use crate::psu::Psu;
use crate::retry::RetryMode;
use crate::transaction::{BookingStatus, Transaction, TransactionQuery, TransactionStatus};

/// Days added on each side of the caller's range at a bank that filters on the value date,
/// so entries booked in range but valued outside it still arrive (then filtered by booking
/// date).
pub const VALUE_DATE_MARGIN_DAYS: u64 = 7;

/// Which resource a listing reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Resource {
    /// `/v1/accounts/{id}/transactions`.
    Accounts,
    /// `/v1/card-accounts/{id}/transactions`.
    CardAccounts,
}

impl Resource {
    fn segment(self) -> &'static str {
        match self {
            Self::Accounts => "accounts",
            Self::CardAccounts => "card-accounts",
        }
    }
}

/// What is asked of the bank for one caller's query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Plan {
    /// The `bookingStatus` of each listing, asked one after the other.
    pub(super) phases: Vec<&'static str>,
    /// `dateFrom` / `dateTo` as sent.
    pub(super) date_from: Option<NaiveDate>,
    pub(super) date_to: Option<NaiveDate>,
    /// Booking-date range entries are kept in (a bank filtering on the value date).
    pub(super) keep: Option<(Option<NaiveDate>, Option<NaiveDate>)>,
}

impl BerlinGroup {
    /// The plan for `query` at this bank (see the module docs), or why it cannot be asked.
    pub(super) fn plan(
        &self,
        operation: &'static str,
        query: &TransactionQuery,
        today: NaiveDate,
    ) -> Result<Plan, Error> {
        let rules = &self.entry.profile.transactions;
        let bank = self.name;
        let offers = |kind| rules.booking_statuses.contains(&kind);
        let phases = match query.booking_status {
            BookingStatus::Booked => vec!["booked"],
            BookingStatus::Both if offers(BookingStatusKind::Both) => vec!["both"],
            BookingStatus::Both if offers(BookingStatusKind::Pending) => vec!["booked", "pending"],
            // The bank reports no pending entries at all: booked is everything it has.
            BookingStatus::Both => vec!["booked"],
            BookingStatus::Pending if offers(BookingStatusKind::Pending) => vec!["pending"],
            BookingStatus::Pending if offers(BookingStatusKind::Both) => vec!["both"],
            BookingStatus::Pending => {
                return Err(
                    Error::new(ErrorKind::Unsupported { operation }, bank, operation).with_detail(
                        format!(
                            "bank `{bank}` reports no pending transactions (profile \
                         transactions.booking_statuses)"
                        ),
                    ),
                );
            }
        };
        let earliest = today
            .checked_sub_days(Days::new(u64::from(rules.history_days)))
            .unwrap_or(NaiveDate::MIN);
        let (mut from, mut to, mut keep) = (query.date_from, query.date_to, None);
        if rules.date_filter == DateField::ValueDate && (from.is_some() || to.is_some()) {
            keep = Some((from, to));
            let margin = Days::new(VALUE_DATE_MARGIN_DAYS);
            from = from.map(|d| d.checked_sub_days(margin).unwrap_or(d));
            to = to.map(|d| d.checked_add_days(margin).unwrap_or(d));
        }
        // dateFrom older than the bank's history is moved up to its first day.
        from = from.map(|d| d.max(earliest));
        if let Some(to) = to
            && to < earliest
        {
            return Err(Error::invalid_input(
                bank,
                operation,
                format!(
                    "dateTo lies before the {} days of history bank `{bank}` keeps (profile \
                     transactions.history_days)",
                    rules.history_days
                ),
            ));
        }
        Ok(Plan {
            phases,
            date_from: from,
            date_to: to,
            keep,
        })
    }

    /// The first page's URL of phase `phase` (normalized: the page cursor).
    fn phase_url(
        &self,
        operation: &'static str,
        resource: Resource,
        account: &AccountId,
        plan: &Plan,
        phase: &str,
    ) -> Result<Url, Error> {
        let mut url = self.url(
            operation,
            &[resource.segment(), account.as_str(), "transactions"],
        )?;
        apply_query(&mut url, plan, phase);
        Ok(url)
    }

    /// The cursor for a `_links.next.href`: resolved, on the bank's API, with the phase's
    /// query put back.
    fn next_cursor(
        &self,
        operation: &'static str,
        href: &str,
        plan: &Plan,
        phase: &str,
    ) -> Result<String, Error> {
        let mut url = self
            .resolve(href)
            .filter(|u| self.is_own(u))
            .ok_or_else(|| {
                Error::new(ErrorKind::Pagination, self.name, operation)
                    .with_detail("the next page link does not point into the bank's API")
            })?;
        apply_query(&mut url, plan, phase);
        Ok(normalized(url))
    }

    /// One page at `position` (a normalized URL): its entries and the next position (the
    /// next link, or the first page of the next phase).
    async fn page(
        &self,
        operation: &'static str,
        resource: Resource,
        (session, psu, account): (&Session, &Psu, &AccountId),
        plan: &Plan,
        position: String,
    ) -> Result<(Entries, Option<String>), Error> {
        let url = Url::parse(&position)
            .ok()
            .filter(|u| self.is_own(u))
            .ok_or_else(|| {
                Error::new(ErrorKind::Pagination, self.name, operation)
                    .with_detail("the page cursor does not point into the bank's API")
            })?;
        let phase = url
            .query_pairs()
            .find(|(k, _)| k == "bookingStatus")
            .map(|(_, v)| v.into_owned())
            .and_then(|v| plan.phases.iter().copied().find(|p| *p == v))
            .ok_or_else(|| {
                Error::new(ErrorKind::Pagination, self.name, operation)
                    .with_detail("the page cursor is not one of this query's listings")
            })?;
        let mut headers = self.psu_headers(operation, psu, false)?;
        headers.push(self.consent_header(operation, &session.consent_id)?);
        let call = Call::new(Method::GET, url).headers(headers);
        let (body, _) = self
            .exchange(
                info(self.name, operation, psu, Some(account)),
                RetryMode::Idempotent,
                &call,
            )
            .await?;
        let (key, card) = match resource {
            Resource::Accounts => ("transactions", false),
            Resource::CardAccounts => ("cardTransactions", true),
        };
        let page = mapping::transactions_page(self.name, operation, key, card, &body)?;
        let mut entries = page.entries;
        for entry in entries.iter_mut().flatten() {
            apply_hooks(&self.entry.profile.hooks, entry);
        }
        if let Some((from, to)) = plan.keep {
            entries.retain(|e| e.as_ref().map_or(true, |t| booked_within(t, from, to)));
        }
        let next = match page
            .links
            .get("next")
            .map(|l| l.href.as_str())
            .filter(|h| !h.is_empty())
        {
            Some(href) => Some(self.next_cursor(operation, href, plan, phase)?),
            None => match plan.phases.iter().position(|p| *p == phase) {
                Some(i) => match plan.phases.get(i.saturating_add(1)) {
                    Some(next) => {
                        let resource_url =
                            self.phase_url(operation, resource, account, plan, next)?;
                        Some(normalized(resource_url))
                    }
                    None => None,
                },
                None => None,
            },
        };
        Ok((entries, next))
    }

    /// The listing's pages from `resume` or the first page.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn listing<'a>(
        &'a self,
        operation: &'static str,
        resource: Resource,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
        resume: Option<PageCursor>,
    ) -> BoxStream<'a, Result<(Entries, Option<String>), Error>> {
        let prepared = check_account_id(self.name, operation, account)
            .and_then(|()| self.plan(operation, query, Self::today()))
            .and_then(|plan| {
                let first = plan.phases.first().copied().unwrap_or("booked");
                let url = self.phase_url(operation, resource, account, &plan, first)?;
                Ok((plan, normalized(url)))
            });
        let (plan, first) = match prepared {
            Ok(prepared) => prepared,
            Err(error) => return stream::iter([Err(error)]).boxed(),
        };
        let start = resume.unwrap_or_else(|| PageCursor::for_bank(self.name, &first));
        let plan = std::sync::Arc::new(plan);
        listing::pages(
            self.name,
            operation,
            query.booking_status,
            Some(start),
            move |cursor| {
                let plan = std::sync::Arc::clone(&plan);
                let position = cursor.unwrap_or_else(|| first.clone());
                async move {
                    self.page(
                        operation,
                        resource,
                        (session, psu, account),
                        &plan,
                        position,
                    )
                    .await
                }
            },
        )
    }
}

/// Whether `t` was booked within `from..=to` (entries without a booking date are kept).
fn booked_within(t: &Transaction, from: Option<NaiveDate>, to: Option<NaiveDate>) -> bool {
    match t.booking_date {
        Some(date) => from.is_none_or(|f| date >= f) && to.is_none_or(|t| date <= t),
        None => true,
    }
}

/// The profile's named quirks, applied to every listed entry.
pub(super) fn apply_hooks(hooks: &[Hook], t: &mut Transaction) {
    for hook in hooks {
        match hook {
            Hook::EntryReferenceAsTransactionId => entry_reference_as_transaction_id(t),
            Hook::ValueDateForPending => value_date_for_pending(t),
            // Request hooks (see `client` and `consents`).
            Hook::PsuContextHeader | Hook::OpenEndedValidUntil => {}
        }
    }
}

/// The bank identifies entries by `entryReference` only: it becomes the transaction id.
fn entry_reference_as_transaction_id(t: &mut Transaction) {
    if t.transaction_id.is_none()
        && let Some(reference) = t.entry_reference.as_ref().filter(|r| !r.is_empty())
    {
        t.transaction_id = Some(crate::transaction::TransactionId::new(reference.clone()));
    }
}

/// Pending entries carry no booking date: their value date stands in.
fn value_date_for_pending(t: &mut Transaction) {
    if t.status == TransactionStatus::Pending && t.booking_date.is_none() {
        t.booking_date = t.value_date;
    }
}

/// Sets `bookingStatus` (the phase), `dateFrom` and `dateTo` of the plan on a transactions
/// URL, replacing what the URL had for them and keeping everything else.
fn apply_query(url: &mut Url, plan: &Plan, phase: &str) {
    const OURS: [&str; 3] = ["bookingStatus", "dateFrom", "dateTo"];
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !OURS.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.push(("bookingStatus".into(), phase.into()));
    if let Some(from) = plan.date_from {
        pairs.push(("dateFrom".into(), from.to_string()));
    }
    if let Some(to) = plan.date_to {
        pairs.push(("dateTo".into(), to.to_string()));
    }
    url.query_pairs_mut().clear().extend_pairs(pairs);
}

/// A URL with its query pairs sorted, so two spellings of one page compare equal.
fn normalized(mut url: Url) -> String {
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    if pairs.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.set_fragment(None);
    url.to_string()
}
