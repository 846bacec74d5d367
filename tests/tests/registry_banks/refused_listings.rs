//! Transaction listings a bank refuses (booking statuses it lacks, a `dateFrom` before its
//! history, details and card accounts it does not offer): the bank's answer on the wire, and
//! what the facade does instead, as the adapter documents it.

use std::collections::BTreeSet;

use chrono::{Days, NaiveDate};
use psd2::{
    AccountId, AccountInformation, BookingStatus, ErrorKind, Psu, Session, TransactionQuery,
};
use psd2_registry::{BookingStatusKind, MappedError};

use crate::flow::{self, ProfileFacts};
use crate::negative::{Case, assert_refused, codes};
use crate::setup;

/// One account's listings under one session.
struct Listings<'a> {
    case: &'a Case<'a>,
    ai: &'a dyn AccountInformation,
    session: &'a Session,
    psu: Psu,
    account: AccountId,
    from: NaiveDate,
    today: NaiveDate,
}

impl Listings<'_> {
    fn id(&self) -> &str {
        &self.case.entry.id
    }

    fn consent(&self) -> &str {
        self.session.consent_id.expose()
    }

    fn path(&self) -> String {
        format!("/v1/accounts/{}/transactions", self.account.as_str())
    }

    /// The bank's own listing of `status` from `from` to today, every page.
    async fn on_the_wire(&self, status: &str, from: NaiveDate) -> crate::wire::Walk {
        let query = [
            ("bookingStatus", status.to_string()),
            ("dateFrom", from.to_string()),
            ("dateTo", self.today.to_string()),
        ];
        self.case
            .wire
            .walk_transactions(self.consent(), self.account.as_str(), &query)
            .await
    }

    async fn through_facade(
        &self,
        status: BookingStatus,
        from: NaiveDate,
    ) -> Result<flow::Listing, psd2::Error> {
        let query = TransactionQuery::new(Some(from), Some(self.today), status);
        flow::listing(self.ai, self.session, &self.psu, &self.account, &query).await
    }
}

/// Everything about listings the bank refuses, on its first account.
pub async fn listings_refused(case: &Case<'_>, session: &Session) {
    let psu = setup::psu();
    let ai = case.bank.as_account_information().unwrap();
    let accounts = ai.accounts(session, &psu, false).await.unwrap();
    let today = case.helpers.today;
    let l = Listings {
        case,
        ai,
        session,
        psu,
        account: accounts[0].id.clone(),
        from: case.facts.window_start(today),
        today,
    };
    with_balance_refused(&l).await;
    statuses_refused(&l).await;
    history_refused(&l).await;
    details_refused(&l).await;
    cards_refused(&l).await;
}

/// Booking statuses the bank lacks: 400 on the wire; through the facade `both` is merged
/// from booked and pending, and `pending` at a bank without pending entries is unsupported
/// (nothing sent).
async fn statuses_refused(l: &Listings<'_>) {
    let (case, id, facts) = (l.case, l.id(), l.case.facts);
    for (kind, value) in [
        (BookingStatusKind::Both, "both"),
        (BookingStatusKind::Pending, "pending"),
    ] {
        if facts.booking_statuses.contains(&kind) {
            continue;
        }
        let url = format!(
            "{}?bookingStatus={value}&dateFrom={}&dateTo={}",
            l.path(),
            l.from,
            l.today
        );
        let answer = case.wire.get(&url, l.consent()).await;
        let expected = codes(
            case.entry,
            &["PARAMETER_NOT_SUPPORTED"],
            MappedError::FormatError,
        );
        let what = format!("bookingStatus={value}");
        assert_refused(case.entry, &what, &answer, 400, &expected);
    }
    if !facts.booking_statuses.contains(&BookingStatusKind::Both) {
        both_merged(l, facts).await;
    }
    let no_pending = [BookingStatusKind::Pending, BookingStatusKind::Both]
        .iter()
        .all(|k| !facts.booking_statuses.contains(k));
    if no_pending {
        let before = case.sent.count();
        let error = l
            .through_facade(BookingStatus::Pending, l.from)
            .await
            .expect_err(&format!("{id}: no pending entries"));
        assert!(
            matches!(error.kind, ErrorKind::Unsupported { .. }),
            "{id}: pending at a bank without: {error}"
        );
        assert_eq!(case.sent.count(), before, "{id}: refused before sending");
    }
}

/// `both` at a bank refusing it: the adapter asks booked, then pending (where the bank has
/// pending entries), and hands out one listing with every entry of both once.
async fn both_merged(l: &Listings<'_>, facts: &ProfileFacts) {
    let id = l.id();
    let merged = l
        .through_facade(BookingStatus::Both, l.from)
        .await
        .unwrap_or_else(|e| panic!("{id}: both at a bank refusing it is merged: {e}"));
    let mut expected = BTreeSet::new();
    for status in facts.listings() {
        let walk = l.on_the_wire(status.as_str(), l.from).await;
        expected.extend(walk.entries.into_iter().map(|(key, _)| key));
    }
    let got: BTreeSet<String> = merged
        .transactions
        .iter()
        .filter_map(|t| t.transaction_id.as_ref().map(|i| i.as_str().to_string()))
        .collect();
    assert_eq!(
        merged.transactions.len(),
        expected.len(),
        "{id}: both, merged"
    );
    assert_eq!(got, expected, "{id}: both, merged: the same entries");
}

/// A `dateFrom` before the history window: 400 `PERIOD_INVALID` on the wire; the adapter
/// moves it up to the window's first day, so the facade lists the window's entries.
async fn history_refused(l: &Listings<'_>) {
    let (case, id) = (l.case, l.id());
    let early = l.from.checked_sub_days(Days::new(5)).unwrap();
    let url = format!(
        "{}?bookingStatus=booked&dateFrom={early}&dateTo={}",
        l.path(),
        l.today
    );
    let answer = case.wire.get(&url, l.consent()).await;
    let expected = codes(case.entry, &["PERIOD_INVALID"], MappedError::InvalidInput);
    let what = "dateFrom before the history window";
    assert_refused(case.entry, what, &answer, 400, &expected);
    let listing = l
        .through_facade(BookingStatus::Booked, early)
        .await
        .unwrap_or_else(|e| panic!("{id}: dateFrom before the window is moved up: {e}"));
    let inside = l.on_the_wire("booked", l.from).await;
    assert!(inside.total() > 0, "{id}: the window has entries");
    assert_eq!(
        listing.transactions.len(),
        inside.total(),
        "{id}: dateFrom moved up to the window's first day"
    );
}

/// Details at a bank without them: unsupported, nothing sent; the bank has no such path.
async fn details_refused(l: &Listings<'_>) {
    let (case, id) = (l.case, l.id());
    if case.facts.details {
        return;
    }
    let listed = l
        .through_facade(BookingStatus::Booked, l.from)
        .await
        .unwrap();
    let some_id = listed
        .transactions
        .iter()
        .find_map(|t| t.transaction_id.clone())
        .unwrap_or_else(|| psd2::TransactionId::new("unknown"));
    let before = case.sent.count();
    let error =
        l.ai.transaction_details(l.session, &l.psu, &l.account, &some_id)
            .await
            .expect_err(&format!("{id}: details are not offered"));
    assert!(
        matches!(error.kind, ErrorKind::Unsupported { .. }),
        "{id}: details not offered: {error}"
    );
    assert_eq!(case.sent.count(), before, "{id}: refused before sending");
    let path = format!("{}/{}", l.path(), some_id.as_str());
    let answer = case.wire.get(&path, l.consent()).await;
    assert_not_served(case, "transaction details", &answer);
}

/// Card accounts at a bank without them: no capability (or unsupported, nothing sent);
/// the bank has no such path.
async fn cards_refused(l: &Listings<'_>) {
    let (case, id) = (l.case, l.id());
    if case.facts.card_accounts {
        return;
    }
    if let Some(cards) = case.bank.as_card_account_information() {
        let before = case.sent.count();
        let error = cards.card_accounts(l.session, &l.psu).await.unwrap_err();
        assert!(
            matches!(error.kind, ErrorKind::Unsupported { .. }),
            "{id}: card accounts not offered: {error}"
        );
        assert_eq!(case.sent.count(), before, "{id}: refused before sending");
    }
    let answer = case.wire.get("/v1/card-accounts", l.consent()).await;
    assert_not_served(case, "card accounts", &answer);
}

/// `withBalance` at a bank without it: 400 `PARAMETER_NOT_SUPPORTED` on the wire; the
/// facade reads the balances account by account instead.
async fn with_balance_refused(l: &Listings<'_>) {
    let (case, id) = (l.case, l.id());
    if case.facts.with_balance {
        return;
    }
    let answer = case
        .wire
        .get("/v1/accounts?withBalance=true", l.consent())
        .await;
    let expected = codes(
        case.entry,
        &["PARAMETER_NOT_SUPPORTED"],
        MappedError::FormatError,
    );
    assert_refused(case.entry, "withBalance", &answer, 400, &expected);
    let accounts = l.ai.accounts(l.session, &l.psu, true).await.unwrap();
    assert!(
        accounts.iter().all(|a| !a.balances.is_empty()),
        "{id}: balances read per account"
    );
}

/// A path the bank does not serve: 405 `SERVICE_INVALID` in its error shape (or a plain
/// 404 from a bank that has no such route at all).
fn assert_not_served(case: &Case<'_>, what: &str, answer: &crate::wire::Answer) {
    if answer.status.as_u16() == 404 {
        return;
    }
    let expected = codes(case.entry, &["SERVICE_INVALID"], MappedError::FormatError);
    assert_refused(case.entry, what, answer, 405, &expected);
}
