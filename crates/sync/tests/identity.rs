//! The identity rules of `docs/sync.md`, one scenario each. Expected outcomes are the
//! rules' own worked cases (written down before running), not read back from the code.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use psd2::transaction::{CardDetails, Party};
use psd2::{AccountId, Money, Transaction, TransactionId, TransactionStatus};
use psd2_sync::identity::{Matched, Matcher, Outcome};
use psd2_sync::{BankSyncSettings, ConnectionId, IdStability, StoredTransaction};

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

fn entry(
    status: TransactionStatus,
    amount: &str,
    on: u32,
    party: &str,
    id: Option<&str>,
) -> Transaction {
    let mut tx = Transaction::new(status, Money::parse(amount, "SEK").unwrap());
    tx.booking_date = Some(day(on));
    tx.value_date = Some(day(on));
    let mut creditor = Party::default();
    creditor.name = Some(party.into());
    tx.creditor = Some(creditor);
    tx.remittance_unstructured = Some(format!("{party} purchase"));
    tx.transaction_id = id.map(TransactionId::new);
    tx
}

fn booked(amount: &str, on: u32, party: &str, id: Option<&str>) -> Transaction {
    entry(TransactionStatus::Booked, amount, on, party, id)
}

fn pending(amount: &str, on: u32, party: &str, id: Option<&str>) -> Transaction {
    let mut tx = entry(TransactionStatus::Pending, amount, on, party, id);
    tx.booking_date = None;
    tx
}

fn settings(ids: IdStability) -> BankSyncSettings {
    BankSyncSettings {
        ids,
        ..BankSyncSettings::default()
    }
}

fn matcher(listing: &str, stored: Vec<StoredTransaction>, ids: IdStability) -> Matcher {
    Matcher::new(
        ConnectionId::new("c1"),
        AccountId::new("a1"),
        settings(ids),
        listing.into(),
        stored,
    )
}

/// Runs one complete listing over `stored` and returns the matched rows and the removals.
fn list(
    stored: Vec<StoredTransaction>,
    page: Vec<Transaction>,
    ids: IdStability,
) -> (Vec<Matched>, Vec<StoredTransaction>) {
    let mut m = matcher(&uuid_like(), stored, ids);
    let matched = m.match_page(page);
    let removed = m.finish(day(1));
    (matched, removed)
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!("listing-{}", N.fetch_add(1, Ordering::SeqCst))
}

fn rows(matched: &[Matched]) -> Vec<StoredTransaction> {
    matched.iter().map(|m| m.row.clone()).collect()
}

fn outcomes(matched: &[Matched]) -> Vec<Outcome> {
    matched.iter().map(|m| m.outcome).collect()
}

#[test]
fn twins_stay_twins_and_a_third_is_added() {
    let coffee = || booked("-35.00", 3, "Espresso House", None);
    let (first, _) = list(vec![], vec![coffee(), coffee()], IdStability::Unreliable);
    assert_eq!(outcomes(&first), [Outcome::Added, Outcome::Added]);
    assert_eq!(first[0].row.occurrence, 0);
    assert_eq!(first[1].row.occurrence, 1);
    assert_ne!(first[0].row.key, first[1].row.key);

    let (again, _) = list(
        rows(&first),
        vec![coffee(), coffee()],
        IdStability::Unreliable,
    );
    assert_eq!(outcomes(&again), [Outcome::Unchanged, Outcome::Unchanged]);
    assert_eq!(again[0].row.key, first[0].row.key);
    assert_eq!(again[1].row.key, first[1].row.key);

    let (three, _) = list(
        rows(&first),
        vec![coffee(), coffee(), coffee()],
        IdStability::Unreliable,
    );
    assert_eq!(
        outcomes(&three),
        [Outcome::Unchanged, Outcome::Unchanged, Outcome::Added]
    );
    assert_eq!(three[2].row.occurrence, 2);
}

#[test]
fn pending_booked_under_a_new_id_keeps_its_key() {
    let (first, _) = list(
        vec![],
        vec![pending("-35.00", 3, "ICA Nara", Some("P-1"))],
        IdStability::Stable,
    );
    let key = first[0].row.key.clone();
    let (next, removed) = list(
        rows(&first),
        vec![booked("-35.00", 4, "ICA Nara", Some("B-77"))],
        IdStability::Stable,
    );
    assert_eq!(outcomes(&next), [Outcome::Modified]);
    assert_eq!(next[0].row.key, key);
    assert_eq!(next[0].row.status, TransactionStatus::Booked);
    assert_eq!(next[0].row.bank_id.as_deref(), Some("B-77"));
    assert!(removed.is_empty());
}

#[test]
fn card_preauthorisation_with_another_amount_matches_when_linked_or_alike() {
    let card = |mut tx: Transaction, id: &str| {
        let mut details = CardDetails::default();
        details.card_transaction_id = Some(id.into());
        tx.card = Some(Box::new(details));
        tx
    };
    // Linked by the card transaction id, other text differs.
    let (first, _) = list(
        vec![],
        vec![card(pending("-100.00", 3, "Scandic Hotels", None), "C-1")],
        IdStability::Unreliable,
    );
    let mut hotel = card(
        booked("-112.50", 5, "Scandic Hotels Stockholm", None),
        "C-1",
    );
    hotel.remittance_unstructured = Some("Hotel stay".into());
    let (next, removed) = list(rows(&first), vec![hotel], IdStability::Unreliable);
    assert_eq!(outcomes(&next), [Outcome::Modified]);
    assert_eq!(next[0].row.key, first[0].row.key);
    assert_eq!(next[0].row.amount.to_string(), "-112.50");
    assert!(removed.is_empty());

    // Not linked, but counterparty, remittance and purchase day (value date) agree, and the
    // amount is within a fifth.
    let (first, _) = list(
        vec![],
        vec![pending("-60.00", 3, "Preem", None)],
        IdStability::Unreliable,
    );
    let mut fuel = booked("-58.20", 4, "Preem", None);
    fuel.value_date = Some(day(3));
    let (next, _) = list(rows(&first), vec![fuel.clone()], IdStability::Unreliable);
    assert_eq!(outcomes(&next), [Outcome::Modified]);
    assert_eq!(next[0].row.key, first[0].row.key);
    // A purchase of another day, or an amount more than a fifth away, is a new entry.
    let other_day = booked("-58.20", 4, "Preem", None);
    let (next, removed) = list(rows(&first), vec![other_day], IdStability::Unreliable);
    assert_eq!((outcomes(&next), removed.len()), (vec![Outcome::Added], 1));
    let mut far = fuel;
    far.amount = Money::parse("-47.99", "SEK").unwrap();
    let (next, removed) = list(rows(&first), vec![far], IdStability::Unreliable);
    assert_eq!((outcomes(&next), removed.len()), (vec![Outcome::Added], 1));
}

#[test]
fn booking_outside_the_matching_days_is_a_new_entry() {
    let (first, _) = list(
        vec![],
        vec![pending("-35.00", 3, "ICA Nara", None)],
        IdStability::Unreliable,
    );
    // Default matching_days is 5: day 3 -> day 9 is 6 days.
    let (next, removed) = list(
        rows(&first),
        vec![booked("-35.00", 9, "ICA Nara", None)],
        IdStability::Unreliable,
    );
    assert_eq!(outcomes(&next), [Outcome::Added]);
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].key, first[0].row.key);
    assert!(removed[0].removed);
}

#[test]
fn a_pending_entry_no_longer_listed_is_removed_only_inside_the_window() {
    let (first, _) = list(
        vec![],
        vec![pending("-20.00", 3, "Circle K", None)],
        IdStability::Unreliable,
    );
    let mut m = matcher("l-window", rows(&first), IdStability::Unreliable);
    m.match_page(vec![]);
    // The window starts after the pending entry's date: it is not judged.
    assert!(m.finish(day(4)).is_empty());
    let mut m = matcher("l-window-2", rows(&first), IdStability::Unreliable);
    m.match_page(vec![]);
    let removed = m.finish(day(3));
    assert_eq!(removed.len(), 1);
}

#[test]
fn shifted_positional_and_reissued_ids_change_nothing_when_ids_are_unreliable() {
    let (first, _) = list(
        vec![],
        vec![
            booked("-10.00", 3, "Pressbyran", Some("2026-11-03-1")),
            booked("-20.00", 3, "Preem", Some("2026-11-03-2")),
        ],
        IdStability::Unreliable,
    );
    // An entry back-dated to the start of the day shifts every position by one.
    let (next, _) = list(
        rows(&first),
        vec![
            booked("-5.00", 3, "ICA Nara", Some("2026-11-03-1")),
            booked("-10.00", 3, "Pressbyran", Some("2026-11-03-2")),
            booked("-20.00", 3, "Preem", Some("2026-11-03-3")),
        ],
        IdStability::Unreliable,
    );
    assert_eq!(
        outcomes(&next),
        [Outcome::Added, Outcome::Unchanged, Outcome::Unchanged]
    );
    assert_eq!(next[1].row.key, first[0].row.key);
    assert_eq!(next[2].row.key, first[1].row.key);
    // The row keeps the bank's newest id.
    assert_eq!(next[2].row.bank_id.as_deref(), Some("2026-11-03-3"));
}

#[test]
fn stable_ids_tell_identical_entries_apart() {
    let (first, _) = list(
        vec![],
        vec![
            booked("-35.00", 3, "Espresso House", Some("T-1")),
            booked("-35.00", 3, "Espresso House", Some("T-2")),
        ],
        IdStability::Stable,
    );
    // Listed in the other order: each id finds its own row.
    let (next, _) = list(
        rows(&first),
        vec![
            booked("-35.00", 3, "Espresso House", Some("T-2")),
            booked("-35.00", 3, "Espresso House", Some("T-1")),
        ],
        IdStability::Stable,
    );
    assert_eq!(next[0].row.key, first[1].row.key);
    assert_eq!(next[1].row.key, first[0].row.key);
    assert_eq!(outcomes(&next), [Outcome::Unchanged, Outcome::Unchanged]);
}

#[test]
fn a_still_listed_pending_entry_is_not_taken_by_a_look_alike_booking() {
    let (first, _) = list(
        vec![],
        vec![pending("-35.00", 3, "Espresso House", None)],
        IdStability::Unreliable,
    );
    // The bank lists a new booked coffee first, then the same pending one.
    let (next, removed) = list(
        rows(&first),
        vec![
            booked("-35.00", 3, "Espresso House", None),
            pending("-35.00", 3, "Espresso House", None),
        ],
        IdStability::Unreliable,
    );
    assert_eq!(outcomes(&next), [Outcome::Added, Outcome::Unchanged]);
    assert_eq!(next[1].row.key, first[0].row.key);
    assert!(removed.is_empty());
}

#[test]
fn a_resumed_listing_does_not_claim_rows_again() {
    let coffee = || booked("-35.00", 3, "Espresso House", None);
    // Page 1 of listing L added the first twin; the process stopped; the resumed listing L
    // reads page 2 with the second twin.
    let mut m = matcher("L", vec![], IdStability::Unreliable);
    let page1 = m.match_page(vec![coffee()]);
    let mut resumed = matcher("L", rows(&page1), IdStability::Unreliable);
    let page2 = resumed.match_page(vec![coffee()]);
    assert_eq!(outcomes(&page2), [Outcome::Added]);
    assert_eq!(page2[0].row.occurrence, 1);
    // A different listing (the next sync) claims both.
    let stored = [rows(&page1), rows(&page2)].concat();
    let (next, _) = list(stored, vec![coffee(), coffee()], IdStability::Unreliable);
    assert_eq!(outcomes(&next), [Outcome::Unchanged, Outcome::Unchanged]);
}

#[test]
fn same_fingerprint_entries_that_differ_elsewhere_keep_their_keys() {
    // Two bookings of one day with the same amount, counterparty and text, bought on
    // different days (value dates 1 and 2 Nov): the same fingerprint, not twins.
    let bought = |value: u32, id: &str| {
        let mut tx = booked("-60.00", 2, "ICA Nara", Some(id));
        tx.value_date = Some(day(value));
        tx
    };
    let (first, _) = list(
        vec![],
        vec![bought(2, "B-2"), bought(1, "B-1")],
        IdStability::Unreliable,
    );
    assert_eq!(first[0].row.fingerprint, first[1].row.fingerprint);
    // Listed the other way round: each keeps its key, nothing changed.
    let (next, _) = list(
        rows(&first),
        vec![bought(1, "B-1"), bought(2, "B-2")],
        IdStability::Unreliable,
    );
    assert_eq!(outcomes(&next), [Outcome::Unchanged, Outcome::Unchanged]);
    assert_eq!(next[0].row.key, first[1].row.key);
    assert_eq!(next[1].row.key, first[0].row.key);
}

#[test]
fn each_matched_entry_carries_its_rows_json_as_serde_json_writes_it() {
    // The JSON a commit writes for a row is encoded once, as the entry was listed; the
    // oracle is serde_json's own encoding of the row's transaction.
    let first = vec![
        booked("-35.00", 3, "Café Lund", Some("b1")),
        pending("-12.50", 4, "Kiosk", None),
        booked("-99.00", 5, "ICA", Some("b3")),
    ];
    let (added, _) = list(Vec::new(), first, IdStability::Stable);
    let stored = rows(&added);
    // Listed again: one unchanged, the pending one booked, one with a new amount.
    let mut again = vec![
        booked("-35.00", 3, "Café Lund", Some("b1")),
        booked("-12.50", 4, "Kiosk", Some("b2")),
        booked("-98.00", 5, "ICA", Some("b3")),
    ];
    again[1].value_date = Some(day(4));
    let (matched, _) = list(stored, again, IdStability::Stable);
    let outcomes: Vec<Outcome> = added.iter().chain(&matched).map(|m| m.outcome).collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Added,
            Outcome::Added,
            Outcome::Added,
            Outcome::Unchanged,
            Outcome::Modified,
            Outcome::Modified
        ]
    );
    for m in added.iter().chain(&matched) {
        let expected = serde_json::to_string(&m.row.transaction).unwrap();
        assert_eq!(
            m.json.as_deref(),
            Some(expected.as_str()),
            "{:?}",
            m.outcome
        );
    }
}
