//! The access budget ledger against hand-worked cases: granted calls per day, the day
//! boundary, 429 blocks, PSU-present and free failed calls.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::{DateTime, Utc};
use psd2::retry::{AttemptOutcome, CallInfo};
use psd2::{AccountId, ErrorKind};
use psd2_sync::budget::Ledger;
use psd2_sync::{BankSyncSettings, BudgetScope, ConnectionId, EventKind};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

fn ledger(settings: BankSyncSettings) -> Ledger {
    Ledger::new(ConnectionId::new("c1"), settings, 4, Vec::new())
}

fn failed(status: u16, retry_after: Option<Duration>) -> AttemptOutcome {
    AttemptOutcome::Failed {
        kind: ErrorKind::classify(Some(status), &[], retry_after),
        status: Some(status),
        retry_after,
        will_retry: false,
    }
}

#[test]
fn four_calls_a_day_then_refused_until_midnight() {
    let mut l = ledger(BankSyncSettings::default());
    let a1 = AccountId::new("a1");
    let call = CallInfo::new("bank", "transactions").account(&a1);
    let now = at("2026-12-05T18:00:00Z");
    for _ in 0..4 {
        l.before_attempt(&call, now).unwrap();
    }
    let err = l.before_attempt(&call, now).unwrap_err();
    // Six hours to the next UTC midnight.
    assert_eq!(
        err.kind,
        ErrorKind::AccessExceeded {
            retry_after: Some(Duration::from_secs(6 * 3600))
        }
    );
    assert_eq!(
        l.next_allowed(Some(&a1), "transactions", now),
        Some(at("2026-12-06T00:00:00Z"))
    );
    assert_eq!(l.remaining(Some(&a1), "transactions", now), 0);
    // Another account and another resource of the same account have their own count.
    let a2 = AccountId::new("a2");
    l.before_attempt(&CallInfo::new("bank", "transactions").account(&a2), now)
        .unwrap();
    l.before_attempt(&CallInfo::new("bank", "balances").account(&a1), now)
        .unwrap();
    // Tomorrow the count starts again.
    l.before_attempt(&call, at("2026-12-06T00:00:00Z")).unwrap();
    let lines = l.take_dirty();
    let today: Vec<_> = lines
        .iter()
        .filter(|d| d.day.to_string() == "2026-12-05" && d.account.as_ref() == Some(&a1))
        .map(|d| (d.resource.as_str(), d.used, d.granted))
        .collect();
    assert_eq!(today, [("balances", 1, 4), ("transactions", 4, 4)]);
    assert!(
        l.take_events()
            .iter()
            .any(|e| e.kind == EventKind::BudgetExhausted)
    );
}

#[test]
fn consent_scope_counts_all_accounts_together() {
    let mut l = ledger(BankSyncSettings {
        budget_scope: BudgetScope::Consent,
        ..BankSyncSettings::default()
    });
    let now = at("2026-12-05T08:00:00Z");
    let (a1, a2) = (AccountId::new("a1"), AccountId::new("a2"));
    for account in [&a1, &a2, &a1, &a2] {
        l.before_attempt(&CallInfo::new("bank", "transactions").account(account), now)
            .unwrap();
    }
    assert!(
        l.before_attempt(&CallInfo::new("bank", "accounts"), now)
            .is_err()
    );
}

#[test]
fn psu_present_and_uncounted_calls_pass_without_counting() {
    let mut l = ledger(BankSyncSettings::default());
    let a1 = AccountId::new("a1");
    let now = at("2026-12-05T08:00:00Z");
    for _ in 0..10 {
        let present = CallInfo::new("bank", "transactions")
            .account(&a1)
            .psu_present(true);
        l.before_attempt(&present, now).unwrap();
        l.before_attempt(&CallInfo::new("bank", "consent_status"), now)
            .unwrap();
        l.before_attempt(&CallInfo::new("bank", "token"), now)
            .unwrap();
    }
    assert_eq!(l.remaining(Some(&a1), "transactions", now), 4);
}

#[test]
fn a_429_blocks_until_retry_after_or_the_next_day() {
    let mut l = ledger(BankSyncSettings::default());
    let a1 = AccountId::new("a1");
    let call = CallInfo::new("bank", "transactions").account(&a1);
    let now = at("2026-12-05T18:00:00Z");
    l.before_attempt(&call, now).unwrap();
    l.after_attempt(&call, &failed(429, Some(Duration::from_secs(600))), now);
    assert_eq!(
        l.next_allowed(Some(&a1), "transactions", now),
        Some(at("2026-12-05T18:10:00Z"))
    );
    assert!(l.before_attempt(&call, at("2026-12-05T18:09:59Z")).is_err());
    l.before_attempt(&call, at("2026-12-05T18:10:00Z")).unwrap();
    // Without Retry-After: blocked until the bank's next day.
    l.after_attempt(&call, &failed(429, None), at("2026-12-05T19:00:00Z"));
    assert_eq!(
        l.next_allowed(Some(&a1), "transactions", at("2026-12-05T19:00:00Z")),
        Some(at("2026-12-06T00:00:00Z"))
    );
}

#[test]
fn the_day_boundary_setting_moves_midnight() {
    // A bank counting by Central European winter time (UTC+1).
    let l = ledger(BankSyncSettings {
        day_offset_minutes: 60,
        ..BankSyncSettings::default()
    });
    let late = at("2026-12-05T23:30:00Z");
    assert_eq!(l.day_of(late).to_string(), "2026-12-06");
    assert_eq!(l.next_day_start(late), at("2026-12-06T23:00:00Z"));
}

#[test]
fn failed_calls_are_refunded_only_where_the_bank_does_not_count_them() {
    let a1 = AccountId::new("a1");
    let call = CallInfo::new("bank", "transactions").account(&a1);
    let now = at("2026-12-05T08:00:00Z");
    for (free, left) in [(false, 3), (true, 4)] {
        let mut l = ledger(BankSyncSettings {
            failed_calls_free: free,
            ..BankSyncSettings::default()
        });
        l.before_attempt(&call, now).unwrap();
        l.after_attempt(&call, &failed(503, None), now);
        assert_eq!(
            l.remaining(Some(&a1), "transactions", now),
            left,
            "free={free}"
        );
    }
}

#[test]
fn continuation_pages_are_free_unless_the_bank_counts_them() {
    let a1 = AccountId::new("a1");
    let call = CallInfo::new("bank", "transactions").account(&a1);
    let ok = AttemptOutcome::Succeeded { status: 200 };
    let now = at("2026-12-05T08:00:00Z");
    // (count_continuation_pages, calls left after one listing of 6 pages)
    for (counted, left) in [(false, 3), (true, 0)] {
        let mut l = ledger(BankSyncSettings {
            count_continuation_pages: counted,
            ..BankSyncSettings::default()
        });
        l.begin_listing(Some(&a1), false);
        let mut sent = 0;
        for _ in 0..6 {
            if l.before_attempt(&call, now).is_err() {
                break;
            }
            l.after_attempt(&call, &ok, now);
            sent += 1;
        }
        l.end_listing(Some(&a1));
        assert_eq!(sent, if counted { 4 } else { 6 }, "counted={counted}");
        assert_eq!(l.remaining(Some(&a1), "transactions", now), left);
    }
    // A resumed listing's first request is a continuation: sent even with the day used up,
    // but never while a 429 blocks the scope.
    let mut l = ledger(BankSyncSettings::default());
    for _ in 0..4 {
        l.before_attempt(&call, now).unwrap();
    }
    assert!(l.before_attempt(&call, now).is_err());
    assert_eq!(
        l.next_continuation_allowed(Some(&a1), "transactions", now),
        None
    );
    l.begin_listing(Some(&a1), true);
    l.before_attempt(&call, now).unwrap();
    l.after_attempt(&call, &failed(429, Some(Duration::from_secs(60))), now);
    assert!(l.before_attempt(&call, now).is_err());
    assert_eq!(
        l.next_continuation_allowed(Some(&a1), "transactions", now),
        Some(at("2026-12-05T08:01:00Z"))
    );
    // A failed first request of a fresh listing is still counted.
    let mut l = ledger(BankSyncSettings::default());
    l.begin_listing(Some(&a1), false);
    l.before_attempt(&call, now).unwrap();
    l.after_attempt(&call, &failed(503, None), now);
    l.before_attempt(&call, now).unwrap();
    assert_eq!(l.remaining(Some(&a1), "transactions", now), 2);
}
