//! Churn scenarios: what each does to the listed transactions from one sandbox day to the
//! next, and that the ground truth matches what the bank lists.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use chrono::{Days, NaiveDate};
use common::*;
use psd2_sandbox::{Bank, ChurnConfig, ChurnScenario, Sandbox, Truth};
use rust_decimal::Decimal;
use serde_json::{Value, json};

const TODAY: &str = "2026-06-30";

fn today() -> NaiveDate {
    NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").unwrap()
}

/// One listed transaction, in bank-neutral form.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    booked: bool,
    id: Option<String>,
    entry_reference: Option<String>,
    amount: Decimal,
    date: NaiveDate,
    text: String,
}

impl Row {
    /// Content without ids: what a twin shares with its twin.
    fn content(&self) -> (bool, Decimal, NaiveDate, String) {
        (self.booked, self.amount, self.date, self.text.clone())
    }
}

async fn start(bank: Bank, scenarios: &[ChurnScenario], seed: u64) -> Tb {
    let tb = Tb::start(Sandbox::builder().seed(5).page_size(4).today(today())).await;
    let (s, v) = tb
        .admin(
            "POST",
            "/churn",
            Some(json!({"bank": bank.prefix(), "scenarios": scenarios, "seed": seed, "perDay": 4})),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    tb
}

fn account(tb: &Tb, bank: Bank) -> String {
    payment_accounts(tb, bank, "private-1")[1]
        .resource_id
        .clone()
}

async fn advance(tb: &Tb, days: u64) {
    let (s, v) = tb
        .admin("POST", "/clock", Some(json!({"advanceDays": days})))
        .await;
    assert_eq!(s, 200, "{v}");
}

fn dec(v: &Value) -> Decimal {
    let s = v
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| v.to_string());
    s.parse().unwrap()
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn bg_row(t: &Value, booked: bool) -> Row {
    Row {
        booked,
        id: text(t, "transactionId"),
        entry_reference: text(t, "entryReference"),
        amount: dec(&t["transactionAmount"]["amount"]),
        date: NaiveDate::parse_from_str(
            t.get("bookingDate")
                .unwrap_or(&t["valueDate"])
                .as_str()
                .unwrap(),
            "%Y-%m-%d",
        )
        .unwrap(),
        text: text(t, "remittanceInformationUnstructured").unwrap_or_default(),
    }
}

fn hb_row(t: &Value) -> Row {
    let abs = dec(&t["amount"]["amount"]);
    let booked = t["status"] == "BOOKED";
    Row {
        booked,
        id: text(t, "transactionId"),
        entry_reference: None,
        amount: if t["creditDebit"] == "DEBIT" {
            -abs
        } else {
            abs
        },
        date: NaiveDate::parse_from_str(
            t.get("ledgerDate")
                .unwrap_or(&t["transactionDate"])
                .as_str()
                .unwrap(),
            "%Y-%m-%d",
        )
        .unwrap(),
        text: text(t, "remittanceInformation").unwrap_or_default(),
    }
}

/// Every page of the account's transactions from `days_back` days ago until today.
async fn list(tb: &Tb, bank: Bank, days_back: u64) -> Vec<Row> {
    let acc = account(tb, bank);
    let today = tb.sb.today();
    let from = today.checked_sub_days(Days::new(days_back)).unwrap();
    let mut rows = Vec::new();
    match bank {
        Bank::Handelsbanken => {
            let (_, token) = hb_psu_token(tb, "private-1").await;
            let mut h = hb_headers(&token);
            h.push(("PSU-IP-Address", "10.1.2.3".into()));
            let mut next = Some(format!(
                "/openbanking/psd2/v2/accounts/{acc}/transactions?dateFrom={from}&dateTo={today}"
            ));
            while let Some(path) = next.take() {
                let r = tb.get(bank, &path, &h).await;
                assert_eq!(r.status, 200, "{:?}", r.json());
                let v = r.json();
                rows.extend(v["transactions"].as_array().unwrap().iter().map(hb_row));
                next = text(&v["_links"]["next"], "href");
            }
        }
        Bank::OpenPayments | Bank::Swedbank => {
            let (h, base) = if bank == Bank::OpenPayments {
                let (token, cid) = op_valid_consent(tb, "private-1", 4).await;
                (
                    op_headers(&token, Some(&cid)),
                    "/psd2/accountinformation/v1",
                )
            } else {
                let cid = sw_valid_consent(tb, "private-1", 4).await;
                (sw_headers(Some(&cid)), "/v1")
            };
            let mut next = Some(format!(
                "{base}/accounts/{acc}/transactions?bookingStatus=both&dateFrom={from}&dateTo={today}"
            ));
            while let Some(path) = next.take() {
                let r = tb.get(bank, &path, &h).await;
                assert_eq!(r.status, 200, "{:?}", r.json());
                let v = r.json();
                let t = &v["transactions"];
                rows.extend(
                    t["pending"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|t| bg_row(t, false)),
                );
                rows.extend(
                    t["booked"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|t| bg_row(t, true)),
                );
                next = text(&t["_links"]["next"], "href");
            }
        }
    }
    rows
}

/// The pending entries one sandbox day adds to a five-day listing, and the listing one
/// more day later.
async fn pending_added_then_a_day_later(tb: &Tb, bank: Bank) -> (Vec<Row>, Vec<Row>) {
    let day0 = list(tb, bank, 5).await;
    advance(tb, 1).await;
    let day1 = list(tb, bank, 5).await;
    let pending: Vec<Row> = new_rows(&day0, &day1)
        .into_iter()
        .filter(|r| !r.booked)
        .collect();
    advance(tb, 1).await;
    (pending, list(tb, bank, 5).await)
}

/// The sandbox's date `days` days before today.
fn days_ago(tb: &Tb, days: u64) -> NaiveDate {
    tb.sb.today().checked_sub_days(Days::new(days)).unwrap()
}

fn truth(tb: &Tb, bank: Bank) -> Truth {
    tb.sb
        .truth(bank, "private-1", Some(&account(tb, bank)))
        .unwrap()
}

/// Rows whose content is new compared with `before` (multiset difference).
fn new_rows(before: &[Row], after: &[Row]) -> Vec<Row> {
    let mut left: Vec<(bool, Decimal, NaiveDate, String)> =
        before.iter().map(Row::content).collect();
    after
        .iter()
        .filter(|r| match left.iter().position(|c| *c == r.content()) {
            Some(i) => {
                left.remove(i);
                false
            }
            None => true,
        })
        .cloned()
        .collect()
}

/// The listing equals the truth: the booked entries of the window and every open pending
/// entry, with the same amounts, dates, texts and bank ids.
fn assert_listing_is_truth(rows: &[Row], truth: &Truth, from: NaiveDate) {
    let acc = &truth.accounts[0];
    let mut expected: Vec<(bool, Option<String>, Decimal, NaiveDate, String)> = acc
        .booked
        .iter()
        .filter(|e| e.booking_date.unwrap() >= from)
        .map(|e| {
            (
                true,
                e.transaction_id.clone(),
                e.amount,
                e.booking_date.unwrap(),
                e.remittance.clone(),
            )
        })
        .chain(acc.pending.iter().map(|e| {
            (
                false,
                e.transaction_id.clone(),
                e.amount,
                e.value_date,
                e.remittance.clone(),
            )
        }))
        .collect();
    let mut got: Vec<_> = rows
        .iter()
        .map(|r| (r.booked, r.id.clone(), r.amount, r.date, r.text.clone()))
        .collect();
    // Booked entries come newest first, in the truth's order reversed.
    let listed: Vec<_> = got
        .iter()
        .filter(|r| r.0)
        .map(|r| (r.3, r.2, r.4.clone()))
        .collect();
    let mut truth_order: Vec<_> = expected
        .iter()
        .filter(|r| r.0)
        .map(|r| (r.3, r.2, r.4.clone()))
        .collect();
    truth_order.reverse();
    assert_eq!(listed, truth_order, "booked order");
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
}

#[tokio::test]
async fn pending_is_booked_the_next_day_under_a_new_id() {
    let bank = Bank::OpenPayments;
    let tb = start(bank, &[ChurnScenario::PendingRebookedNewId], 1).await;
    let day0 = list(&tb, bank, 5).await;
    advance(&tb, 1).await;
    let day1 = list(&tb, bank, 5).await;
    let added = new_rows(&day0, &day1);
    // perDay 4 over the variants [plain, pending → booked]: 2 booked today, 2 pending.
    let pending: Vec<&Row> = added.iter().filter(|r| !r.booked).collect();
    assert_eq!(pending.len(), 2, "{added:?}");
    assert_eq!(added.iter().filter(|r| r.booked).count(), 2);
    advance(&tb, 1).await;
    let day2 = list(&tb, bank, 5).await;
    for p in &pending {
        assert!(
            !day2.iter().any(|r| r.id == p.id),
            "pending id still listed"
        );
        let booked: Vec<&Row> = day2
            .iter()
            .filter(|r| {
                r.booked && r.amount == p.amount && r.text == p.text && r.date == tb.sb.today()
            })
            .collect();
        assert_eq!(booked.len(), 1, "{p:?} not booked once in {day2:?}");
        assert_ne!(booked[0].id, p.id, "booked under the same id");
        assert!(booked[0].id.is_some());
    }
    let t = truth(&tb, bank);
    // The truth keeps one truth id across pending → booked: every booked churn entry of
    // day 1 (two plain, two rebooked) and day 2 is there once.
    let churn: Vec<_> = t.accounts[0]
        .booked
        .iter()
        .filter(|e| e.truth_id.starts_with("churn-"))
        .collect();
    assert_eq!(churn.len(), 2 + 2 + 2);
    assert_listing_is_truth(&day2, &t, days_ago(&tb, 5));
}

#[tokio::test]
async fn pending_cancelled_disappears_and_is_never_booked() {
    let bank = Bank::Swedbank;
    let tb = start(bank, &[ChurnScenario::PendingCancelled], 2).await;
    let (pending, day2) = pending_added_then_a_day_later(&tb, bank).await;
    assert_eq!(pending.len(), 2);
    for p in &pending {
        assert!(!day2.iter().any(|r| r.id == p.id));
        assert!(
            !day2
                .iter()
                .any(|r| r.amount == p.amount && r.text == p.text && r.booked)
        );
    }
    let t = truth(&tb, bank);
    assert_eq!(t.accounts[0].cancelled.len(), 2);
    for c in &t.accounts[0].cancelled {
        assert!(
            pending
                .iter()
                .any(|p| p.amount == c.amount && p.id == c.transaction_id)
        );
        assert!(
            !t.accounts[0]
                .booked
                .iter()
                .any(|b| b.truth_id == c.truth_id)
        );
    }
    assert_listing_is_truth(&day2, &t, days_ago(&tb, 5));
}

#[tokio::test]
async fn amount_changes_on_booking_under_the_same_id() {
    let bank = Bank::Handelsbanken;
    let tb = start(bank, &[ChurnScenario::AmountChangesOnBooking], 3).await;
    let (pending, day2) = pending_added_then_a_day_later(&tb, bank).await;
    assert_eq!(pending.len(), 2);
    for p in &pending {
        let b: Vec<&Row> = day2.iter().filter(|r| r.id == p.id).collect();
        assert_eq!(b.len(), 1, "same id once");
        assert!(b[0].booked);
        assert_ne!(b[0].amount, p.amount, "amount unchanged");
        assert_eq!(b[0].text, p.text);
    }
    assert_listing_is_truth(&day2, &truth(&tb, bank), days_ago(&tb, 5));
}

#[tokio::test]
async fn twins_stay_two_entries() {
    let bank = Bank::OpenPayments;
    let tb = start(bank, &[ChurnScenario::Twins], 4).await;
    advance(&tb, 1).await;
    let rows = list(&tb, bank, 3).await;
    let mut counts: HashMap<(bool, Decimal, NaiveDate, String), usize> = HashMap::new();
    for r in &rows {
        *counts.entry(r.content()).or_default() += 1;
    }
    let twins: Vec<_> = counts.iter().filter(|(_, n)| **n == 2).collect();
    // perDay 4 over [plain, twins]: two twin pairs.
    assert_eq!(twins.len(), 2, "{rows:?}");
    let t = truth(&tb, bank);
    for ((_, amount, date, text), _) in twins {
        let ids: Vec<&str> = t.accounts[0]
            .booked
            .iter()
            .filter(|e| {
                e.amount == *amount && e.booking_date == Some(*date) && e.remittance == *text
            })
            .map(|e| e.truth_id.as_str())
            .collect();
        assert_eq!(ids.len(), 2);
        assert_ne!(ids[0], ids[1]);
    }
    assert_listing_is_truth(&rows, &t, days_ago(&tb, 3));
}

#[tokio::test]
async fn backdated_bookings_appear_in_the_past() {
    let bank = Bank::Swedbank;
    let tb = start(bank, &[ChurnScenario::Backdated], 5).await;
    advance(&tb, 3).await;
    let before = list(&tb, bank, 10).await;
    advance(&tb, 1).await;
    let after = list(&tb, bank, 10).await;
    let today = tb.sb.today();
    let added = new_rows(&before, &after);
    assert_eq!(added.len(), 4);
    let back: Vec<&Row> = added.iter().filter(|r| r.date < today).collect();
    assert_eq!(back.len(), 2, "{added:?}");
    for r in back {
        assert!(r.booked);
        assert!(r.date >= today.checked_sub_days(Days::new(3)).unwrap());
    }
    assert_listing_is_truth(
        &after,
        &truth(&tb, bank),
        today.checked_sub_days(Days::new(10)).unwrap(),
    );
}

#[tokio::test]
async fn no_ids_means_no_ids() {
    let bank = Bank::OpenPayments;
    let tb = start(bank, &[ChurnScenario::NoIds], 6).await;
    advance(&tb, 1).await;
    let rows = list(&tb, bank, 10).await;
    assert!(rows.len() > 4);
    assert!(
        rows.iter()
            .all(|r| r.id.is_none() && r.entry_reference.is_none())
    );
    let t = truth(&tb, bank);
    assert!(
        t.accounts[0]
            .booked
            .iter()
            .all(|e| e.transaction_id.is_none())
    );
    assert_listing_is_truth(&rows, &t, days_ago(&tb, 10));
}

#[tokio::test]
async fn positional_ids_shift_when_an_earlier_entry_is_added() {
    let bank = Bank::Handelsbanken;
    let tb = start(bank, &[ChurnScenario::PositionalIds], 7).await;
    advance(&tb, 1).await;
    let before = list(&tb, bank, 10).await;
    for r in before.iter().filter(|r| r.booked) {
        let id = r.id.clone().unwrap();
        let (date, pos) = id.rsplit_once('-').unwrap();
        assert_eq!(date, r.date.to_string());
        assert!(pos.parse::<u32>().unwrap() >= 1);
    }
    advance(&tb, 1).await;
    let after = list(&tb, bank, 10).await;
    // Yesterday's entries: one was added first of the day, so each keeps its content and
    // moves one position on.
    let yesterday = tb.sb.today().pred_opt().unwrap();
    let old: Vec<&Row> = before
        .iter()
        .filter(|r| r.booked && r.date == yesterday)
        .collect();
    assert!(!old.is_empty());
    for r in old {
        let now: Vec<&Row> = after
            .iter()
            .filter(|a| a.content() == r.content())
            .collect();
        assert_eq!(now.len(), 1);
        let pos = |row: &Row| -> u32 {
            row.id
                .as_ref()
                .unwrap()
                .rsplit_once('-')
                .unwrap()
                .1
                .parse()
                .unwrap()
        };
        assert!(pos(now[0]) > pos(r), "{r:?} → {:?}", now[0]);
    }
    assert_listing_is_truth(&after, &truth(&tb, bank), days_ago(&tb, 10));
}

#[tokio::test]
async fn reissued_ids_change_for_the_same_entries() {
    let bank = Bank::Swedbank;
    let tb = start(bank, &[ChurnScenario::ReissuedIds], 8).await;
    let t0 = truth(&tb, bank);
    let before = list(&tb, bank, 10).await;
    advance(&tb, 3).await;
    let t1 = truth(&tb, bank);
    let after = list(&tb, bank, 20).await;
    let ids0: HashMap<&str, &Option<String>> = t0.accounts[0]
        .booked
        .iter()
        .map(|e| (e.truth_id.as_str(), &e.transaction_id))
        .collect();
    let mut compared = 0;
    for e in &t1.accounts[0].booked {
        if let Some(old) = ids0.get(e.truth_id.as_str()) {
            assert!(old.is_some() && e.transaction_id.is_some());
            assert_ne!(**old, e.transaction_id, "{}", e.truth_id);
            compared += 1;
        }
    }
    assert!(compared > 100);
    for r in before.iter().filter(|r| r.booked) {
        let now: Vec<&Row> = after
            .iter()
            .filter(|a| a.content() == r.content())
            .collect();
        assert_eq!(now.len(), 1);
        assert_ne!(now[0].id, r.id);
    }
    assert_listing_is_truth(&after, &t1, days_ago(&tb, 20));
}

#[tokio::test]
async fn churn_is_deterministic_per_seed_and_every_scenario_at_once_matches_the_truth() {
    let all = ChurnScenario::ALL;
    for bank in Bank::ALL {
        let a = start(bank, &all, 11).await;
        let b = start(bank, &all, 11).await;
        let c = start(bank, &all, 12).await;
        for tb in [&a, &b, &c] {
            advance(tb, 4).await;
        }
        let (ra, rb, rc) = (
            list(&a, bank, 8).await,
            list(&b, bank, 8).await,
            list(&c, bank, 8).await,
        );
        assert_eq!(ra, rb, "{bank}: same seed, same data");
        assert_ne!(ra, rc, "{bank}: another seed, other data");
        let from = days_ago(&a, 8);
        assert_listing_is_truth(&ra, &truth(&a, bank), from);
        assert_listing_is_truth(&rc, &truth(&c, bank), from);
    }
}

#[tokio::test]
async fn admin_churn_and_truth_endpoints() {
    let tb = Tb::start(Sandbox::builder().today(today())).await;
    for bad in [
        json!({"bank": "swedbank", "scenarios": ["twins"], "perDay": 0}),
        json!({"bank": "swedbank", "scenarios": ["twins"], "perDay": 1000}),
        json!({"bank": "swedbank", "scenarios": ["teleport"]}),
        json!({"bank": "nordea", "scenarios": ["twins"]}),
    ] {
        let (s, v) = tb.admin("POST", "/churn", Some(bad.clone())).await;
        assert_eq!(s, 400, "{bad} → {v}");
    }
    let (s, v) = tb
        .admin(
            "POST",
            "/churn",
            Some(json!({"bank": null, "scenarios": ["twins", "no_ids"], "seed": 3})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(v.as_array().unwrap().len(), 3);
    assert_eq!(v[0]["perDay"], 4);
    let acc = account(&tb, Bank::Swedbank);
    let (s, v) = tb
        .admin(
            "GET",
            &format!("/truth?bank=swedbank&psu=private-1&account={acc}&dateFrom=2026-06-01"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["today"], TODAY);
    assert_eq!(v["accounts"].as_array().unwrap().len(), 1);
    let booked = v["accounts"][0]["booked"].as_array().unwrap();
    assert!(
        booked
            .iter()
            .all(|e| e["bookingDate"].as_str().unwrap() >= "2026-06-01")
    );
    let (s, _) = tb
        .admin("GET", "/truth?bank=swedbank&psu=nobody", None)
        .await;
    assert_eq!(s, 404);
    let (s, _) = tb.admin("GET", "/truth?psu=private-1", None).await;
    assert_eq!(s, 400);
    let (s, v) = tb
        .admin("GET", "/truth?bank=openpayments&psu=private-1", None)
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        v["accounts"].as_array().unwrap().len(),
        4,
        "private-1 has four payment accounts"
    );
    let (s, _) = tb.admin("DELETE", "/churn", None).await;
    assert_eq!(s, 204);
    let (_, v) = tb.admin("GET", "/churn", None).await;
    assert_eq!(v, json!([]));
    // In-process: the same switches.
    tb.sb
        .set_churn(&ChurnConfig::new(
            Some(Bank::Handelsbanken),
            [ChurnScenario::Twins],
        ))
        .unwrap();
    assert_eq!(tb.sb.churn().len(), 1);
    assert_eq!(
        tb.sb.advance_days(2).unwrap(),
        NaiveDate::from_ymd_opt(2026, 7, 2).unwrap()
    );
    let t = tb.sb.truth(Bank::Handelsbanken, "private-1", None).unwrap();
    let churned: usize = t
        .accounts
        .iter()
        .map(|a| {
            a.booked
                .iter()
                .filter(|e| e.truth_id.starts_with("churn-"))
                .count()
        })
        .sum();
    // 4 accounts × 2 days × (2 plain + 2 pairs of twins) a day.
    assert_eq!(churned, 4 * 2 * 6);
}

#[tokio::test]
async fn details_and_balances_follow_the_churn() {
    let bank = Bank::OpenPayments;
    let tb = start(
        bank,
        &[
            ChurnScenario::PendingRebookedNewId,
            ChurnScenario::PositionalIds,
        ],
        13,
    )
    .await;
    let acc = account(&tb, bank);
    let booked_balance = |v: Value| -> Decimal {
        let b = v["balances"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["balanceType"] == "interimBooked")
            .unwrap()
            .clone();
        dec(&b["balanceAmount"]["amount"])
    };
    let (before, _, _) = op_balances(&tb, &acc).await;
    let day0 = list(&tb, bank, 5).await;
    advance(&tb, 2).await;
    let day2 = list(&tb, bank, 5).await;
    let added: Decimal = new_rows(&day0, &day2)
        .iter()
        .filter(|r| r.booked)
        .map(|r| r.amount)
        .sum();
    assert!(!added.is_zero());
    let (after, token, cid) = op_balances(&tb, &acc).await;
    assert_eq!(booked_balance(after), booked_balance(before) + added);
    // Details of a churn entry and of a generated one, under the ids listed today.
    for r in day2.iter().filter(|r| r.booked).take(12) {
        let id = r.id.clone().unwrap();
        let d = tb
            .get(
                bank,
                &format!("/psd2/accountinformation/v1/accounts/{acc}/transactions/{id}"),
                &op_headers(&token, Some(&cid)),
            )
            .await;
        assert_eq!(d.status, 200, "{id}");
        assert_eq!(bg_row(&d.json(), true), *r);
    }
}

async fn op_balances(tb: &Tb, acc: &str) -> (Value, String, String) {
    let (token, cid) = op_valid_consent(tb, "private-1", 4).await;
    let r = tb
        .get(
            Bank::OpenPayments,
            &format!("/psd2/accountinformation/v1/accounts/{acc}/balances"),
            &op_headers(&token, Some(&cid)),
        )
        .await;
    assert_eq!(r.status, 200);
    (r.json(), token, cid)
}
