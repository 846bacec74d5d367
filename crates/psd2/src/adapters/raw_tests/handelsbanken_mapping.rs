//! Handelsbanken raw → domain mapping: seed and spec examples as JSON snapshots, exact
//! amounts, and property tests (never panics; unknown codes become `Other`).
#![cfg(feature = "handelsbanken")]
#![allow(clippy::unwrap_used)]

use super::seed_coverage;
#[allow(unused_imports)]
use crate::adapters::common::{FromRaw, TryFromRaw};

use crate::adapters::handelsbanken::mapping::{
    TokenGrant, card_transactions, card_transactions_from_body, decoupled_progress, next_href,
    transaction as map_transaction, transaction_entries, transactions_from_body,
};
use crate::{
    Account, Balance, BalanceType, CardAccount, Consent, ConsentId, ConsentStatus, CreatedConsent,
    Decimal, Money, ScaApproach, ScaChallenge, ScaProgress, Transaction, TransactionStatus,
};
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use psd2_raw_handelsbanken::types as raw;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn spec() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../specs/handelsbanken/handelsbanken.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A Handelsbanken balance type code in the domain's spelling (`AVAILABLE_AMOUNT` →
/// `interimAvailable`), for the coverage checks.
fn balance_code(text: &str) -> String {
    BalanceType::from_bank_str(text).to_string()
}

/// The spec's `example` of a definition, as JSON text.
fn example_text(definition: &str) -> String {
    let example = spec()["definitions"][definition]["example"].clone();
    assert!(!example.is_null(), "no example for {definition}");
    example.to_string()
}

/// The spec's `example` of a definition, parsed as the raw type.
fn example<T: DeserializeOwned>(definition: &str) -> T {
    parse(&example_text(definition))
}

fn parse<T: DeserializeOwned>(text: &str) -> T {
    serde_json::from_str(text).unwrap()
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-03-30T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

/// Seed 001: the card account list example (its `balances` array is cut off in the seed;
/// completed with the spec's card balances).
const SEED_001_CARD_ACCOUNTS: &str = r#"{"cardAccounts": [{
    "accountId": "ae577250-6cf3-11e9-9c41-e957ce7d7d69",
    "cards": [{"maskedPan": "5123********3283"}],
    "currency": "SEK",
    "product": "Platinum",
    "creditLimit": {"currency": "SEK", "amount": 2000},
    "balances": [
        {"balanceType": "AVAILABLE_AMOUNT", "balanceAmount": {"currency": "SEK", "amount": 1500}, "creditLimitIncluded": true}
    ]
}]}"#;

/// Seed 002 step 2: the consent initiation answer (the seed's JSON is garbled; these are
/// its fields and values).
const SEED_002_CONSENT: &str = r#"{
    "consentId": "22aa3559-577d-441c-b9e6-664ac3311a3e",
    "consentStatus": "RECEIVED",
    "scaMethods": [
        {"_links": {"authorization": [{"href": "https://secure.handelsbanken.com/bb/gls5/oauth2/authorize/1.0", "name": "authorize_1.0", "type": "application/x-www-form-urlencoded"}]}, "scaMethodType": "REDIRECT"},
        {"_links": {"authorization": [{"href": "https://api.handelsbanken.com/mlurd/decoupled/mbid/initAuthorization/2.0", "name": "decpld_mbid_1.0", "type": "application/json"}]}, "scaMethodType": "DECOUPLED"}
    ]
}"#;

/// Seed 002 step 1: the CCG token answer.
const SEED_002_TOKEN: &str = r#"{
    "access_token": "QVQ6M2NkMjUzMzMtZDZkZS00OGU1LTk0MzMtMmVhOTY5ZDA5YmU4",
    "expires_in": 123456,
    "token_type": "Bearer"
}"#;

/// Numbers are written as strings: with serde_json's `arbitrary_precision` (on for the whole
/// build) insta would print integers as `$serde_json::private::Number` maps.
/// `scaMethods[]._links.authorization` is kept in `scaMethods` (the adapter still builds the
/// redirect URL from its configured authorize URL); the answer has no `_links` of its own.
fn created_json(c: &CreatedConsent) -> Value {
    assert!(c.links.is_empty());
    json!({
        "consent": c.consent,
        "consentIdExposed": c.consent.id.expose(),
        "approaches": c.approaches,
        "scaMethods": c.sca_methods,
        "challenge": c.challenge.is_some(),
    })
}

fn grant_json(g: &TokenGrant) -> Value {
    json!({
        "accessTokenExposed": g.access_token.expose(),
        "refreshTokenExposed": g.refresh_token.as_ref().map(|t| t.expose()),
        "expiresInSecs": g.expires_in.as_secs().to_string(),
        "scopeExposed": g.scope.as_ref().map(|s| s.expose()),
        "tokenType": g.token_type,
    })
}

fn session_json(s: &crate::Session) -> Value {
    json!({
        "consentIdExposed": s.consent_id.expose(),
        "accessTokenExposed": s.access_token.as_ref().map(|t| t.expose()),
        "refreshTokenExposed": s.refresh_token.as_ref().map(|t| t.expose()),
        "expiresAt": s.expires_at,
    })
}

#[test]
fn seed_001_card_account_list() {
    let list: raw::CardAccountList = parse(SEED_001_CARD_ACCOUNTS);
    let cards: Vec<CardAccount> = list
        .card_accounts
        .iter()
        .map(|c| CardAccount::try_from_raw(c).unwrap())
        .collect();
    let limit = cards[0].credit_limit.as_ref().unwrap();
    // `"amount": 2000` is exactly 2000, scale 0 (no float round trip).
    assert_eq!(limit.amount, Decimal::new(2000, 0));
    assert_eq!(limit.amount.scale(), 0);
    assert_eq!(limit.amount.to_string(), "2000");
    insta::assert_json_snapshot!("seed_001_card_accounts", cards);
    let domain = serde_json::to_value(&cards).unwrap();
    seed_coverage::assert_covered_with(SEED_001_CARD_ACCOUNTS, &domain, &balance_code);
}

#[test]
fn seed_002_consent_and_token() {
    let consent: raw::ConsentResponse = parse(SEED_002_CONSENT);
    let created = CreatedConsent::from_raw(&consent);
    assert_eq!(created.consent.status, ConsentStatus::Received);
    assert_eq!(
        created.approaches,
        [ScaApproach::Redirect, ScaApproach::Decoupled]
    );
    let redirect = &created.sca_methods[0];
    assert_eq!(redirect.approach, ScaApproach::Redirect);
    let link = &redirect.authorization_links[0];
    assert_eq!(
        link.href,
        "https://secure.handelsbanken.com/bb/gls5/oauth2/authorize/1.0"
    );
    assert_eq!(link.name.as_deref(), Some("authorize_1.0"));
    assert_eq!(
        link.media_type.as_deref(),
        Some("application/x-www-form-urlencoded")
    );
    assert_eq!(
        created.sca_methods[1].authorization_links[0]
            .name
            .as_deref(),
        Some("decpld_mbid_1.0")
    );
    // Debug shows the endpoints (no ids in them) but never the consent id.
    let debug = format!("{created:?}");
    assert!(debug.contains("authorize_1.0"), "{debug}");
    assert!(!debug.contains(created.consent.id.expose()), "{debug}");
    insta::assert_json_snapshot!("seed_002_consent", created_json(&created));
    seed_coverage::assert_covered(SEED_002_CONSENT, &created_json(&created));

    let token: raw::TokenResponse = parse(SEED_002_TOKEN);
    let grant = TokenGrant::from_raw(&token);
    assert_eq!(grant.expires_in.as_secs(), 123_456);
    insta::assert_json_snapshot!("seed_002_token", grant_json(&grant));
    seed_coverage::assert_covered(SEED_002_TOKEN, &grant_json(&grant));
}

#[test]
fn spec_accounts() {
    let account: raw::Account = example("Account");
    let mapped = Account::try_from_raw(&account).unwrap();
    assert_eq!(mapped.balances[0].amount.amount.to_string(), "12500.5");
    assert_eq!(
        mapped.balances[0].balance_type,
        BalanceType::InterimAvailable
    );
    assert_eq!(mapped.balances[1].balance_type, BalanceType::ClosingBooked);
    assert_eq!(mapped.clearing_number.as_deref(), Some("6295"));
    insta::assert_json_snapshot!("spec_account", mapped);
    let domain = serde_json::to_value(&mapped).unwrap();
    seed_coverage::assert_covered_with(&example_text("Account"), &domain, &balance_code);

    let list: raw::AccountList = example("AccountList");
    let mapped: Vec<Account> = list
        .accounts
        .iter()
        .map(|a| Account::try_from_raw(a).unwrap())
        .collect();
    assert!(mapped[0].balances.is_empty());
    assert_eq!(
        mapped[0].links["transactions"].href,
        "https://api.handelsbanken.com/openbanking/psd2/v2/accounts/ae57e780-6cf3-11e9-9c41-e957ce7d7d69/transactions"
    );
    insta::assert_json_snapshot!("spec_account_list", mapped);
    let domain = serde_json::to_value(&mapped).unwrap();
    seed_coverage::assert_covered_with(&example_text("AccountList"), &domain, &balance_code);
}

#[test]
fn spec_transactions_are_signed() {
    let list: raw::TransactionList = example("TransactionList");
    let mapped: Vec<Transaction> = list
        .transactions
        .iter()
        .map(|t| Transaction::try_from_raw(t).unwrap())
        .collect();
    // DEBIT 400 → -400.
    assert_eq!(mapped[0].amount, Money::parse("-400", "SEK").unwrap());
    assert_eq!(
        next_href(list.links.as_ref()).and_then(crate::pagination::continuation_key),
        Some("b2Zmc2V0PTUwMA".to_owned())
    );
    insta::assert_json_snapshot!("spec_transactions", mapped);
}

#[test]
fn own_transactions_credit_and_unknown_codes() {
    let list: raw::TransactionList = parse(
        r#"{"transactions": [
            {"transactionId": "t-credit", "status": "BOOKED", "amount": {"currency": "SEK", "amount": 25000.00},
             "creditDebit": "CREDIT", "ledgerDate": "2024-01-25", "valueDate": "2024-01-25",
             "remittanceInformation": "LON", "counterpartyName": "Arbetsgivaren AB",
             "counterpartyAccount": "SE4550000000058398257466", "balance": {"currency": "SEK", "amount": 37900.50}},
            {"status": "RESERVED", "amount": {"currency": "EUR", "amount": 0.1}, "creditDebit": "debit"}
        ]}"#,
    );
    let mapped: Vec<Transaction> = list
        .transactions
        .iter()
        .map(|t| Transaction::try_from_raw(t).unwrap())
        .collect();
    assert_eq!(mapped[0].amount.amount.to_string(), "25000.00");
    assert!(mapped[0].debtor.is_some() && mapped[0].creditor.is_none());
    assert_eq!(
        mapped[1].status,
        TransactionStatus::Other("RESERVED".into())
    );
    // The direction in any letter case.
    assert_eq!(mapped[1].amount.amount.to_string(), "-0.1");
    insta::assert_json_snapshot!("own_transactions", mapped);
}

/// One account transaction with `creditDebit` and `amount` as given.
fn directed(credit_debit: &str, amount: &str) -> raw::Transaction {
    parse(&format!(
        r#"{{"transactionId": "t-1", "status": "BOOKED", "amount": {{"currency": "SEK", "amount": {amount}}},
            "creditDebit": "{credit_debit}"}}"#
    ))
}

#[test]
fn a_sign_that_cannot_be_established_is_an_error_naming_the_field() {
    // The API description: "amount.amount is never negative; creditDebit gives the direction".
    for unknown in ["DBIT", "CRDT", "", " ", "SIDEWAYS", "DEBITS"] {
        let err = map_transaction(&directed(unknown, "400")).unwrap_err();
        assert_eq!(err.field, "creditDebit", "{unknown:?}");
        assert!(err.reason.contains("not CREDIT or DEBIT"), "{err}");
        let facade = Transaction::try_from_raw(&directed(unknown, "400")).unwrap_err();
        assert_eq!(facade.kind, crate::ErrorKind::UnexpectedResponse);
        assert!(facade.to_string().contains("creditDebit"), "{facade}");
    }
    for direction in ["CREDIT", "DEBIT"] {
        let err = map_transaction(&directed(direction, "-50")).unwrap_err();
        assert_eq!(err.field, "amount.amount", "{direction}");
    }
    assert_eq!(
        map_transaction(&directed("DEBIT", "400")).unwrap().amount,
        Money::parse("-400", "SEK").unwrap()
    );
    assert_eq!(
        map_transaction(&directed("CREDIT", "400")).unwrap().amount,
        Money::parse("400", "SEK").unwrap()
    );
    assert_eq!(
        map_transaction(&directed("CREDIT", "0"))
            .unwrap()
            .amount
            .amount,
        Decimal::ZERO
    );
}

#[test]
fn account_list_errors_name_the_account_and_balance() {
    let list: raw::AccountList = parse(
        r#"{"accounts": [
            {"accountId": "a1", "currency": "SEK", "balances": [{"balanceType": "BOOKED", "amount": {"currency": "SEK", "amount": 1}}]},
            {"accountId": "a2", "currency": "SEK", "balances": [
                {"balanceType": "BOOKED", "amount": {"currency": "SEK", "amount": 1}},
                {"balanceType": "CURRENT", "amount": {"currency": "Anna Andersson", "amount": 1}}]}
        ]}"#,
    );
    let err = crate::adapters::handelsbanken::mapping::accounts(&list).unwrap_err();
    let shown = format!("{err} {err:?}");
    assert!(
        shown.contains("accounts[1].balances[1].amount.currency"),
        "{shown}"
    );
    assert!(shown.contains("14 chars: letters, spaces"), "{shown}");
    assert!(!shown.contains("Anna"), "{shown}");
}

#[test]
fn listing_entries_map_one_by_one_with_paths() {
    let list: raw::TransactionList = parse(
        r#"{"transactions": [
            {"transactionId": "ok-1", "status": "BOOKED", "amount": {"currency": "SEK", "amount": 1}, "creditDebit": "CREDIT"},
            {"transactionId": "bad-2", "status": "BOOKED", "amount": {"currency": "sek", "amount": 2}, "creditDebit": "CREDIT"},
            {"transactionId": "ok-3", "status": "BOOKED", "amount": {"currency": "SEK", "amount": 3}, "creditDebit": "DEBIT"}
        ]}"#,
    );
    let entries = transaction_entries(&list);
    assert_eq!(entries.len(), 3);
    assert!(entries[0].is_ok() && entries[2].is_ok());
    let err = entries[1].as_ref().unwrap_err();
    assert_eq!(err.field, "transactions[1].amount.currency");
    assert_eq!(err.bank_id.as_ref().map(|id| id.as_str()), Some("bad-2"));
    assert!(err.reason.contains("3 chars: lower-case letters"), "{err}");
    assert!(!format!("{err} {err:?}").contains("sek"), "{err:?}");
}

#[test]
fn entries_that_do_not_decode_are_kept_apart_from_those_that_do() {
    // A bad date fails the raw client's decoding of the whole page; read from the body, only
    // that entry fails.
    let body = br#"{"transactions": [
        {"transactionId": "ok-1", "status": "BOOKED", "amount": {"currency": "SEK", "amount": 1}, "creditDebit": "CREDIT"},
        {"transactionId": "bad-2", "status": "BOOKED", "amount": {"currency": "SEK", "amount": 2}, "creditDebit": "CREDIT", "ledgerDate": "2024-02-30"},
        {"status": "BOOKED", "amount": {"currency": "SEK", "amount": "Anna Andersson 19121212-1212"}, "creditDebit": "DEBIT"}
    ], "_links": {"next": {"href": "/x?continuationKey=abc"}}}"#;
    assert!(serde_json::from_slice::<raw::TransactionList>(body).is_err());
    let page = transactions_from_body(body).unwrap();
    assert_eq!(page.entries.len(), 3);
    assert_eq!(
        page.entries[0].as_ref().unwrap().amount.amount,
        Decimal::from(1)
    );
    let bad_date = page.entries[1].as_ref().unwrap_err();
    assert_eq!(bad_date.field, "transactions[1].ledgerDate");
    assert_eq!(bad_date.bank_id.as_ref().map(|i| i.as_str()), Some("bad-2"));
    assert!(bad_date.reason.contains("10 chars"), "{bad_date}");
    let bad_amount = page.entries[2].as_ref().unwrap_err();
    assert_eq!(bad_amount.field, "transactions[2].amount.amount");
    assert!(!format!("{bad_amount} {bad_amount:?}").contains("Anna"));
    assert_eq!(page.next_href(), Some("/x?continuationKey=abc"));
}

#[test]
fn a_listing_body_without_its_list_is_an_error_not_an_empty_page() {
    for (body, kind) in [
        (&br#"{}"#[..], crate::ErrorKind::UnexpectedResponse),
        (br#"{"transactions": null}"#, crate::ErrorKind::UnexpectedResponse),
        (
            br#"{"httpCode":"401","httpMessage":"Unauthorized","moreInformation":"Token 1234 expired"}"#,
            crate::ErrorKind::Unauthorized,
        ),
    ] {
        let err = transactions_from_body(body).unwrap_err();
        assert_eq!(err.kind, kind, "{err}");
        assert!(!err.to_string().contains("1234"), "{err}");
        let err = card_transactions_from_body(body).unwrap_err();
        assert_eq!(err.kind, kind, "{err}");
    }
}

#[test]
fn spec_card_accounts_balances_and_transactions() {
    let details: raw::CardAccountDetailsResponse = example("CardAccountDetailsResponse");
    let card = CardAccount::try_from_raw(&details.card_account).unwrap();
    assert_eq!(card.balances[1].amount.amount.to_string(), "-500");
    insta::assert_json_snapshot!("spec_card_account", card);

    let balances: raw::CardAccountBalancesResponse = example("CardAccountBalancesResponse");
    let mapped: Vec<Balance> = balances
        .balances
        .iter()
        .map(|b| Balance::try_from_raw(b).unwrap())
        .collect();
    assert_eq!(mapped[0].credit_limit_included, Some(true));
    insta::assert_json_snapshot!("spec_card_balances", mapped);

    let response: raw::CardAccountTransactionsResponse = example("CardAccountTransactionsResponse");
    let mapped = card_transactions(&response.card_transactions).unwrap();
    assert_eq!(mapped.len(), 2);
    assert_eq!(mapped[0].status, TransactionStatus::Pending);
    assert_eq!(mapped[1].status, TransactionStatus::Booked);
    assert_eq!(mapped[1].amount.amount.to_string(), "-113.4");
    let card = mapped[1].card.as_ref().unwrap();
    assert_eq!(
        card.original_amount.as_ref().unwrap().amount.to_string(),
        "-10"
    );
    assert_eq!(
        mapped[1].currency_exchange[0].rate.unwrap().to_string(),
        "11.34"
    );
    insta::assert_json_snapshot!("spec_card_transactions", mapped);
}

#[test]
fn spec_consent_and_status() {
    let consent: raw::Consent = example("Consent");
    let mapped = Consent::from_raw(&consent);
    assert_eq!(mapped.status, ConsentStatus::Valid);
    insta::assert_json_snapshot!(
        "spec_consent",
        json!({"consent": mapped, "consentIdExposed": mapped.id.expose()})
    );
    let created = CreatedConsent::from_raw(&example::<raw::ConsentResponse>("ConsentResponse"));
    insta::assert_json_snapshot!("spec_consent_response", created_json(&created));
    seed_coverage::assert_covered(&example_text("ConsentResponse"), &created_json(&created));
    let odd: raw::ConsentResponse = parse(
        r#"{"consentId": "c", "consentStatus": "PARKED", "scaMethods": [{"scaMethodType": "EMBEDDED_QR"}]}"#,
    );
    let created = CreatedConsent::from_raw(&odd);
    assert_eq!(
        created.consent.status,
        ConsentStatus::Other("PARKED".into())
    );
    assert_eq!(
        created.approaches,
        [ScaApproach::Other("EMBEDDED_QR".into())]
    );
    assert!(created.sca_methods[0].authorization_links.is_empty());
}

#[test]
fn spec_decoupled_start_and_complete() {
    let started: raw::DecoupledAuthorizationResponse = example("DecoupledAuthorizationResponse");
    let challenge = ScaChallenge::from_raw(&started);
    let ScaChallenge::Decoupled {
        handle,
        auto_start_token,
        poll_interval,
        message,
    } = &challenge
    else {
        panic!("decoupled expected");
    };
    let challenge_json = json!({
        "handleExposed": handle.expose(),
        "pollHref": handle.poll_href(),
        "pollIntervalMs": poll_interval.as_millis().to_string(),
        "handlePollIntervalMs": handle.poll_interval().as_millis().to_string(),
        "autoStartTokenExposed": auto_start_token.as_ref().map(|t| t.expose()),
        "message": message,
    });
    insta::assert_json_snapshot!("spec_decoupled_challenge", challenge_json);

    let consent = ConsentId::new("22aa3559-577d-441c-b9e6-664ac3311a3e");
    let status: raw::DecoupledAuthorizationStatus = example("DecoupledAuthorizationStatus");
    let ScaProgress::Done(session) = decoupled_progress(&status, &consent, now()).unwrap() else {
        panic!("COMPLETE must give a session");
    };
    insta::assert_json_snapshot!("spec_decoupled_complete", session_json(&session));
}

#[test]
fn decoupled_pending_failed_and_broken_complete() {
    let consent = ConsentId::new("c");
    let pending: raw::DecoupledAuthorizationStatus = parse(
        r#"{"orderRef": "o", "status": "PENDING", "hintCode": "outstandingTransaction", "sleepTime": 1500}"#,
    );
    assert_eq!(
        decoupled_progress(&pending, &consent, now()).unwrap(),
        ScaProgress::Pending {
            poll_interval: Some(std::time::Duration::from_millis(1500)),
            hint: Some("outstandingTransaction".into())
        }
    );
    let failed: raw::DecoupledAuthorizationStatus =
        parse(r#"{"orderRef": "o", "status": "FAILED", "hintCode": "userCancel"}"#);
    assert_eq!(
        decoupled_progress(&failed, &consent, now()).unwrap(),
        ScaProgress::Failed {
            reason: Some("userCancel".into())
        }
    );
    let unknown: raw::DecoupledAuthorizationStatus =
        parse(r#"{"orderRef": "o", "status": "WAITING_FOR_QR"}"#);
    // The spec knows PENDING, COMPLETE and FAILED only: anything else ends polling with
    // an error that says the text's length, not the text.
    let err = decoupled_progress(&unknown, &consent, now()).unwrap_err();
    assert_eq!(err.kind, crate::ErrorKind::ScaFailed);
    assert!(err.to_string().contains("(14 characters)"), "{err}");
    assert!(
        !format!("{err} {err:?}").contains("WAITING_FOR_QR"),
        "{err:?}"
    );
    let broken: raw::DecoupledAuthorizationStatus =
        parse(r#"{"orderRef": "o", "status": "COMPLETE"}"#);
    let err = decoupled_progress(&broken, &consent, now()).unwrap_err();
    assert_eq!(err.kind, crate::ErrorKind::UnexpectedResponse);
}

#[test]
fn bad_currency_is_an_error_not_a_panic() {
    let t: raw::Transaction = parse(
        r#"{"status": "BOOKED", "amount": {"currency": "kronor", "amount": 1}, "creditDebit": "DEBIT"}"#,
    );
    let err = Transaction::try_from_raw(&t).unwrap_err();
    assert_eq!(err.kind, crate::ErrorKind::UnexpectedResponse);
}

// ---- property tests ----

fn amount_text() -> impl Strategy<Value = String> {
    ("-?(0|[1-9][0-9]{0,14})", proptest::option::of("[0-9]{1,8}")).prop_map(
        |(int, frac)| match frac {
            Some(frac) => format!("{int}.{frac}"),
            None => int,
        },
    )
}

fn currency() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[A-Z]{3}",
        1 => "[a-zA-Z0-9]{0,5}",
    ]
}

fn amount() -> impl Strategy<Value = Value> {
    (amount_text(), currency()).prop_map(|(amount, currency)| {
        let amount: Value = serde_json::from_str(&amount).unwrap();
        json!({"currency": currency, "amount": amount})
    })
}

fn code() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("BOOKED".to_owned()),
        Just("PENDING".to_owned()),
        Just("DEBIT".to_owned()),
        Just("CREDIT".to_owned()),
        Just("AVAILABLE_AMOUNT".to_owned()),
        "[A-Za-z_]{0,20}",
    ]
}

fn opt_date() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(
        (2000i32..2100, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
    )
}

fn transaction() -> impl Strategy<Value = Value> {
    (
        amount(),
        code(),
        code(),
        opt_date(),
        proptest::option::of(".{0,30}"),
        proptest::option::of(amount()),
        proptest::option::of(".{0,30}"),
    )
        .prop_map(
            |(amount, status, direction, date, text, balance, account)| {
                json!({"amount": amount, "status": status, "creditDebit": direction,
                   "ledgerDate": date, "remittanceInformation": text, "balance": balance,
                   "counterpartyAccount": account, "counterpartyName": text})
            },
        )
}

fn card_transaction() -> impl Strategy<Value = Value> {
    (
        amount(),
        proptest::option::of(amount()),
        proptest::option::of(amount_text()),
        opt_date(),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(amount, original, rate, date, invoiced)| {
            let rate: Option<Value> = rate.map(|r| serde_json::from_str(&r).unwrap());
            json!({"transactionAmount": amount, "originalAmount": original, "exchangeRate": rate,
                   "bookingDate": date, "invoiced": invoiced, "maskedPan": "5123********3283"})
        })
}

fn balance(kind: &'static str) -> impl Strategy<Value = Value> {
    (code(), amount()).prop_map(move |(t, a)| json!({"balanceType": t, kind: a}))
}

/// Strips JSON nulls (optional fields absent) so the raw types see the shapes banks send.
fn no_nulls(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, no_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(no_nulls).collect()),
        other => other,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn account_transactions_never_panic(t in transaction()) {
        let raw: raw::Transaction = serde_json::from_value(no_nulls(t)).unwrap();
        if let Ok(mapped) = Transaction::try_from_raw(&raw) {
            let known = ["BOOKED", "PENDING", "INFORMATION"];
            if !known.contains(&raw.status.to_ascii_uppercase().replace(['_', '-', ' '], "").as_str()) {
                prop_assert_eq!(mapped.status, TransactionStatus::Other(raw.status.0.clone()));
            }
            match raw.credit_debit.trim().to_ascii_uppercase().as_str() {
                "DEBIT" => prop_assert!(mapped.amount.amount <= Decimal::ZERO),
                "CREDIT" => prop_assert!(mapped.amount.amount >= Decimal::ZERO),
                other => prop_assert!(false, "mapped with creditDebit {:?}", other),
            }
            prop_assert!(!raw.amount.amount.is_sign_negative() || raw.amount.amount.is_zero());
            prop_assert_eq!(mapped.amount.amount.abs(), raw.amount.amount.abs());
        } else {
            let direction = raw.credit_debit.trim().to_ascii_uppercase();
            prop_assert!(crate::Currency::new(&raw.amount.currency).is_err()
                || !(direction == "DEBIT" || direction == "CREDIT")
                || (raw.amount.amount.is_sign_negative() && !raw.amount.amount.is_zero())
                || raw.balance.as_ref().is_some_and(|b| crate::Currency::new(&b.currency).is_err()));
        }
    }

    #[test]
    fn card_data_never_panics(
        txs in proptest::collection::vec(card_transaction(), 0..4),
        balances in proptest::collection::vec(balance("balanceAmount"), 0..3),
        limit in proptest::option::of(amount()),
        currency in currency(),
    ) {
        let report: raw::CardTransactionReport =
            serde_json::from_value(no_nulls(json!({"booked": txs, "pending": []}))).unwrap();
        let _ = card_transactions(&report);
        let account: raw::CardAccount = serde_json::from_value(no_nulls(json!({
            "accountId": "a", "currency": currency, "balances": balances, "creditLimit": limit
        }))).unwrap();
        if let Ok(mapped) = CardAccount::try_from_raw(&account) {
            for (raw_b, b) in account.balances.iter().zip(&mapped.balances) {
                prop_assert_eq!(&b.balance_type, &BalanceType::from_bank_str(&raw_b.balance_type));
                prop_assert_eq!(b.amount.amount, raw_b.balance_amount.amount);
            }
        }
    }

    #[test]
    fn accounts_never_panic(
        balances in proptest::collection::vec(balance("amount"), 0..3),
        currency in currency(),
        status in proptest::option::of(code()),
        iban in proptest::option::of("[A-Z0-9 ]{0,30}"),
    ) {
        let account: raw::Account = serde_json::from_value(no_nulls(json!({
            "accountId": "a", "currency": currency, "balances": balances, "status": status, "iban": iban
        }))).unwrap();
        if let Ok(mapped) = Account::try_from_raw(&account) {
            prop_assert_eq!(mapped.balances.len(), account.balances.len());
            if let Some(iban) = &account.iban {
                prop_assert!(mapped.iban.is_some(), "{}", iban);
            }
        }
    }

    #[test]
    fn decoupled_status_never_panics(
        status in code(),
        hint in proptest::option::of("[A-Za-z]{0,20}"),
        sleep in proptest::option::of(any::<i32>()),
        token in proptest::option::of("[A-Za-z0-9]{0,10}"),
        expires in proptest::option::of(any::<i64>()),
    ) {
        let raw: raw::DecoupledAuthorizationStatus = serde_json::from_value(no_nulls(json!({
            "orderRef": "o", "status": status, "hintCode": hint, "sleepTime": sleep,
            "access_token": token, "expires_in": expires
        }))).unwrap();
        let _ = decoupled_progress(&raw, &ConsentId::new("c"), now());
    }
}
