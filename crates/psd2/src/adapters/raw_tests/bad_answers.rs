//! The bad-answer suite: for every operation of every bank, answers mutated from valid ones
//! (every field removed or replaced by null, wrong types, huge and negative numbers, empty,
//! very long and non-UTF-8 strings, impossible dates; truncated bodies; error bodies sent
//! with a success status; non-JSON) are decoded as the raw client decodes them and fed to
//! the adapter's mapping. For each: no panic, no bank text in any error's `Display` or
//! `Debug`, and every listing either complete (one result per entry sent) or an error, never
//! silently short.
#![cfg(all(
    feature = "handelsbanken",
    feature = "openpayments",
    feature = "swedbank"
))]
#![allow(clippy::unwrap_used)]

#[path = "bad_answers/check.rs"]
mod check;
#[path = "bad_answers/handelsbanken.rs"]
mod handelsbanken;
#[path = "../../../tests/bad_answers/mutate.rs"]
mod mutate;
#[path = "bad_answers/openpayments.rs"]
mod openpayments;
#[path = "bad_answers/swedbank.rs"]
mod swedbank;

use crate::ErrorKind;

#[test]
fn handelsbanken_bad_answers() {
    let n = check::run("handelsbanken", handelsbanken::operations());
    assert!(n >= 3_000, "{n} cases");
}

#[test]
fn openpayments_bad_answers() {
    let n = check::run("openpayments", openpayments::operations());
    assert!(n >= 3_000, "{n} cases");
}

#[test]
fn swedbank_bad_answers() {
    let n = check::run("swedbank", swedbank::operations());
    assert!(n >= 3_000, "{n} cases");
}

#[test]
fn the_suite_has_at_least_ten_thousand_cases() {
    let total = check::count(&handelsbanken::operations())
        + check::count(&openpayments::operations())
        + check::count(&swedbank::operations());
    assert!(total >= 10_000, "{total} cases");
}

/// Swedbank's listing, read by the generic Berlin Group adapter.
fn swedbank_transactions_from_body(
    body: &[u8],
) -> Result<crate::transaction::ListedPage, crate::Error> {
    crate::adapters::berlingroup::mapping::transactions_page(
        "swedbank",
        "transactions",
        "transactions",
        false,
        body,
    )
}

/// Every listing of every bank reads an error body sent with status 200 as the error it is.
#[test]
fn error_bodies_with_a_success_status_are_errors_of_their_codes() {
    type FromBody = fn(&[u8]) -> Result<crate::transaction::ListedPage, crate::Error>;
    let listings: [(&str, FromBody); 4] = [
        (
            "handelsbanken transactions",
            crate::adapters::handelsbanken::mapping::transactions_from_body,
        ),
        (
            "handelsbanken card transactions",
            crate::adapters::handelsbanken::mapping::card_transactions_from_body,
        ),
        (
            "openpayments transactions",
            crate::adapters::openpayments::mapping::transactions_from_body,
        ),
        ("swedbank transactions", swedbank_transactions_from_body),
    ];
    let expected = [
        ErrorKind::AccessExceeded { retry_after: None },
        ErrorKind::Unauthorized,
        ErrorKind::BankUnavailable,
        ErrorKind::Unauthorized,
        ErrorKind::UnexpectedResponse,
        ErrorKind::ConsentExpired,
    ];
    for (name, from_body) in listings {
        for ((shape, body), kind) in mutate::error_bodies().into_iter().zip(&expected) {
            let err = from_body(body.as_bytes()).unwrap_err();
            assert_eq!(&err.kind, kind, "{name}, {shape}: {err}");
            assert!(!mutate::leaks(&format!("{err} {err:?}")), "{name}: {err:?}");
        }
    }
}

/// Every listing answer whose listing is required: an error body sent with status 200 does
/// not decode as the listing, and the error the adapter reports for it is the body's own.
#[test]
fn error_bodies_are_not_read_as_empty_listings() {
    use psd2_raw_berlingroup::types as bg;
    use psd2_raw_handelsbanken::types as hb;
    use psd2_raw_openpayments::types as op;
    type Decode = fn(&[u8]) -> Result<(), crate::Error>;
    fn listing<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<(), crate::Error> {
        check::decode::<T>("bank", "listing", body).map(|_| ())
    }
    let listings: [(&str, Decode); 9] = [
        ("handelsbanken accounts", listing::<hb::AccountList>),
        ("handelsbanken transactions", listing::<hb::TransactionList>),
        (
            "handelsbanken card accounts",
            listing::<hb::CardAccountList>,
        ),
        (
            "handelsbanken card balances",
            listing::<hb::CardAccountBalancesResponse>,
        ),
        (
            "handelsbanken card transactions",
            listing::<hb::CardAccountTransactionsResponse>,
        ),
        ("openpayments accounts", listing::<op::AccountList>),
        ("openpayments balances", listing::<op::BalanceList>),
        // Swedbank is read by the generic Berlin Group adapter; its transaction answer's
        // listing is optional in the raw type and required by the mapping (tested above).
        ("swedbank accounts", listing::<bg::AccountList>),
        ("berlin group card accounts", listing::<bg::CardAccountList>),
    ];
    let expected = [
        ErrorKind::AccessExceeded { retry_after: None },
        ErrorKind::Unauthorized,
        ErrorKind::BankUnavailable,
        ErrorKind::Unauthorized,
        ErrorKind::UnexpectedResponse,
        ErrorKind::ConsentExpired,
    ];
    for (name, decode) in listings {
        for ((shape, body), kind) in mutate::error_bodies().into_iter().zip(&expected) {
            let err = decode(body.as_bytes()).unwrap_err();
            assert_eq!(&err.kind, kind, "{name}, {shape}: {err}");
            assert_eq!(err.status, Some(200), "{name}");
        }
    }
    // Open Payments' transaction answer has only optional members: an error body decodes,
    // and the mapping refuses it.
    for (shape, body) in mutate::error_bodies() {
        let answer: psd2_raw_openpayments::types::TransactionsResponse =
            serde_json::from_str(&body).unwrap();
        let err = crate::adapters::openpayments::mapping::into_mapped_transactions(answer)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(err.field, "transactions", "{shape}");
    }
}
