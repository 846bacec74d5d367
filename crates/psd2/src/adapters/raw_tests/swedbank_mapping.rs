//! Swedbank's answers → domain model, from seed 004's example bodies and fixtures of our own,
//! through what serves Swedbank: the generic Berlin Group adapter's decoding
//! (`psd2-raw-berlingroup`) and mapping, with Swedbank's registry profile.
#![cfg(feature = "swedbank")]
#![allow(clippy::unwrap_used)]

use super::seed_coverage;
#[allow(unused_imports)]
use crate::adapters::common::{FromRaw, TryFromRaw};

use crate::adapters::berlingroup::mapping;
use crate::transaction::ListedPage;
use crate::{Account, BalanceType, Error, ErrorKind, TransactionStatus};
use proptest::prelude::*;
use psd2_raw_berlingroup::types as raw;
use serde_json::{Value, json};

/// A transactions answer read as the adapter reads it.
fn page(body: &[u8]) -> Result<ListedPage, Error> {
    mapping::transactions_page("swedbank", "transactions", "transactions", false, body)
}

/// Swedbank's registry profile.
fn profile() -> psd2_registry::BankProfile {
    let text = include_str!("../../../../../registry/swedbank.toml");
    psd2_registry::parse_entry("swedbank.toml", text)
        .unwrap()
        .profile
}

/// Seed 004, "Get account details", 200 example (verbatim).
const SEED_ACCOUNT_DETAILS: &str = r#"{
"account": {
"resourceId": "enc!!aI55HS7YpeXJhHqCXFPEGfF992bjRx2Gw==",
"bban": "95360573002",
"iban": "NO0995360573002",
"currency": "NOK",
"ownerName": "Jane Smith",
"name": "Brukskonto",
"product": "BRUKSKONTO",
"cashAccountType": "CACC",
"bic": "AAA100",
"balances": [
{
"balanceAmount": {
"amount": "100.26",
"currency": "NOK"
},
"balanceType": "closingBooked"
}
],
"_links": {
"self": {
"href": "https://openbanking.swedbank.no/",
"verbs": [
"GET"
]
}
}
}
}"#;

/// Seed 004's error examples: (name, status, body).
const SEED_ERRORS: [(&str, u16, &str); 5] = [
    (
        "schema_example_400",
        400,
        r#"{"id": "5884127160", "system": "ERA-PSD2", "status": 400, "code": "ERROR_CODE", "message": "error message appears here"}"#,
    ),
    (
        "format_error_400",
        400,
        r#"{"id": "5615873375", "status": 400, "system": "ERA-PSD2", "code": "FORMAT_ERROR"}"#,
    ),
    ("unauthorized_401", 401, r#"{"_links": {}}"#),
    (
        "resource_unknown_404",
        404,
        r#"{"id": "5615873376", "system": "ERA-PSD2", "status": 404, "code": "RESOURCE_UNKNOWN", "message": "Account not found."}"#,
    ),
    (
        "system_error_500",
        500,
        r#"{"id": "5615873378", "system": "ERA-PSD2", "status": 500, "code": "SYSTEM_ERROR"}"#,
    ),
];

/// What a caller sees of an error (a struct, so insta prints numbers plainly).
#[derive(serde::Serialize)]
struct ErrorView<'a> {
    kind: String,
    status: Option<u16>,
    codes: Vec<&'a str>,
    messages: &'a [crate::BankMessage],
    request_id: Option<&'a str>,
    display: String,
}

fn error_view(e: &Error) -> ErrorView<'_> {
    ErrorView {
        kind: format!("{:?}", e.kind),
        status: e.status,
        codes: e.codes().collect(),
        messages: e.bank_messages(),
        request_id: e.request_id(),
        display: e.to_string(),
    }
}

#[test]
fn seed_account_details_with_balances() {
    let raw: raw::AccountDetailsResponse = serde_json::from_str(SEED_ACCOUNT_DETAILS).unwrap();
    let account = Account::try_from_raw(raw.account).unwrap();
    assert_eq!(account.balances[0].amount.amount.to_string(), "100.26");
    insta::assert_json_snapshot!("seed_account_details", account);
    // Every field of the seed's example is in the domain value but its `self` link: the
    // standard's account links are `balances` and `transactions` only.
    let domain = serde_json::to_value(&account).unwrap();
    assert_eq!(
        seed_coverage::missing_leaves(SEED_ACCOUNT_DETAILS, &domain),
        ["account._links.self.href", "account._links.self.verbs[]"]
    );
}

#[test]
fn seed_error_bodies() {
    let profile = profile();
    for (name, status, body) in SEED_ERRORS {
        // Read as the adapter reads an error answer, in the profile's error shape.
        let error = crate::adapters::berlingroup::errors::from_response(
            "swedbank",
            "account",
            &profile,
            status,
            body.as_bytes(),
            None,
        )
        .with_request_id("5b5d0f8e-request-id");
        insta::assert_json_snapshot!(format!("seed_error_{name}"), error_view(&error));
    }
    let kind = |status, body: &str| {
        crate::adapters::berlingroup::errors::from_response(
            "swedbank",
            "account",
            &profile,
            status,
            body.as_bytes(),
            None,
        )
        .kind
    };
    assert_eq!(kind(400, SEED_ERRORS[1].2), ErrorKind::FormatError);
    assert_eq!(kind(401, SEED_ERRORS[2].2), ErrorKind::Unauthorized);
    assert_eq!(kind(404, SEED_ERRORS[3].2), ErrorKind::ResourceUnknown);
    assert_eq!(kind(500, SEED_ERRORS[4].2), ErrorKind::BankUnavailable);
    let signature = r#"{"id":"1","system":"ERA-PSD2","status":401,"code":"SIGNATURE_INVALID","message":"Signature does not verify."}"#;
    assert_eq!(kind(401, signature), ErrorKind::Unauthorized);
}

#[test]
fn unknown_balance_and_account_codes_are_kept() {
    let raw: raw::BalancesResponse = serde_json::from_value(json!({
        "account": {"iban": "NO0995360573002", "currency": "NOK"},
        "balances": [
            {"balanceAmount": {"amount": "-12.5", "currency": "NOK"}, "balanceType": "previouslyClosedBooked",
             "referenceDate": "2025-06-01"},
            {"balanceAmount": {"amount": "1000.00000", "currency": "EUR"}, "balanceType": "interimAvailable",
             "creditLimitIncluded": true, "lastChangeDateTime": "2025-06-02T10:15:00Z"}
        ]
    }))
    .unwrap();
    let balances = mapping::balances(raw.balances, "balances").unwrap();
    assert_eq!(
        balances[0].balance_type,
        BalanceType::Other("previouslyClosedBooked".into())
    );
    assert_eq!(balances[1].amount.amount.scale(), 5);
    insta::assert_json_snapshot!("balances_unknown_type", balances);

    let raw: raw::AccountList = serde_json::from_value(json!({"accounts": [{
        "resourceId": "acc-2", "currency": "SEK", "iban": "SE00 not an iban",
        "cashAccountType": "XXXX", "status": "frozen", "usage": "BOTH"
    }]}))
    .unwrap();
    let accounts = mapping::accounts(raw).unwrap();
    insta::assert_json_snapshot!("account_unknown_codes", accounts);
}

#[test]
fn transaction_report() {
    let body = serde_json::to_vec(&json!({
        "account": {"iban": "NO0995360573002", "currency": "NOK"},
        "transactions": {
            "booked": [{
                "transactionId": "t-1",
                "entryReference": "E-1",
                "bookingDate": "2025-06-01",
                "valueDate": "2025-06-02",
                "transactionAmount": {"amount": "-250.00", "currency": "NOK"},
                "creditorName": "Kiwi Majorstuen",
                "creditorAccount": {"iban": "NO9386011117947"},
                "debtorAccount": {"iban": "NO0995360573002"},
                "remittanceInformationUnstructured": "Groceries",
                "remittanceInformationStructured": "RF18539007547034",
                "bankTransactionCode": "PMNT-ICDT-ESCT",
                "proprietaryBankTransactionCode": "CARD",
                "balanceAfterTransaction": {"balanceAmount": {"amount": "1750.00", "currency": "NOK"}, "balanceType": "closingBooked"},
                "currencyExchange": [{"sourceCurrency": "EUR", "targetCurrency": "NOK", "unitCurrency": "EUR",
                                      "exchangeRate": "11.71230", "quotationDate": "2025-06-01", "contractIdentification": "C-9"}]
            }],
            "pending": [{
                "transactionAmount": {"amount": "99.9", "currency": "NOK"},
                "debtorName": "Ola Nordmann",
                "debtorAccount": {},
                "valueDate": "2025-06-03"
            }],
            "_links": {"next": {"href": "/v1/accounts/x/transactions?continuationKey=2"}}
        }
    }))
    .unwrap();
    let list = page(&body).unwrap().into_transactions().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0].status, TransactionStatus::Booked);
    assert_eq!(list[1].status, TransactionStatus::Pending);
    // An empty account reference is no account.
    assert!(list[1].debtor.as_ref().unwrap().account.is_none());
    insta::assert_json_snapshot!("transactions", list);
}

#[test]
fn entries_map_one_by_one_with_their_paths() {
    let body = serde_json::to_vec(&json!({"transactions": {
        "booked": [
            {"transactionId": "ok", "transactionAmount": {"amount": "1.00", "currency": "NOK"}},
            {"transactionId": "bad", "transactionAmount": {"amount": "1.00", "currency": "NOK"},
             "currencyExchange": [
                {"sourceCurrency": "EUR", "targetCurrency": "NOK", "exchangeRate": "1.5"},
                {"sourceCurrency": "EUR", "targetCurrency": "NOK", "exchangeRate": "11,34"}]}
        ],
        "pending": [{"transactionAmount": {"amount": "2", "currency": "NOK"}}]
    }}))
    .unwrap();
    let entries = page(&body).unwrap().entries;
    assert_eq!(entries.len(), 3);
    let err = entries[1].as_ref().unwrap_err();
    assert_eq!(
        err.field,
        "transactions.booked[1].currencyExchange[1].exchangeRate"
    );
    assert_eq!(err.bank_id.as_ref().map(|i| i.as_str()), Some("bad"));
    assert!(
        err.reason.contains("5 chars: digits, other symbols"),
        "{err}"
    );
    assert!(entries[0].is_ok() && entries[2].is_ok());
    // The all-or-nothing form fails on the same entry.
    assert_eq!(
        page(&body).unwrap().into_transactions().unwrap_err().field,
        "transactions.booked[1].currencyExchange[1].exchangeRate"
    );
}

#[test]
fn entries_are_read_from_a_body_the_raw_types_reject() {
    let body = br#"{"transactions": {
        "booked": [{"transactionId": "d", "bookingDate": "2024-02-30",
                    "transactionAmount": {"amount": "1", "currency": "NOK"}},
                   {"transactionAmount": {"amount": "2", "currency": "NOK"}}],
        "_links": {"next": {"href": "/v1/accounts/x/transactions?page=2"}}}}"#;
    assert!(serde_json::from_slice::<raw::TransactionsResponse>(body).is_err());
    let listed = page(body).unwrap();
    assert_eq!(listed.entries.len(), 2);
    let err = listed.entries[0].as_ref().unwrap_err();
    assert_eq!(err.field, "transactions.booked[0].bookingDate");
    assert!(listed.entries[1].is_ok());
    assert_eq!(
        listed.next_href(),
        Some("/v1/accounts/x/transactions?page=2")
    );
    // No `transactions` object, or an error body with a success status: an error.
    let err = page(br#"{"balances": []}"#).unwrap_err();
    assert_eq!(err.kind, crate::ErrorKind::UnexpectedResponse);
    let err = page(
        br#"{"id":"1","system":"ERA-PSD2","status":429,"code":"ACCESS_EXCEEDED","message":"x"}"#,
    )
    .unwrap_err();
    assert!(
        matches!(err.kind, crate::ErrorKind::AccessExceeded { .. }),
        "{err}"
    );
}

fn amount() -> impl Strategy<Value = Value> {
    ("-?[0-9]{1,14}(\\.[0-9]{1,5})?", "[A-Z]{3}")
        .prop_map(|(amount, currency)| json!({"amount": amount, "currency": currency}))
}

fn opt_text() -> impl Strategy<Value = Value> {
    prop_oneof![Just(Value::Null), ".{0,20}".prop_map(Value::String)]
}

fn balance() -> impl Strategy<Value = Value> {
    (amount(), ".{0,20}", any::<Option<bool>>()).prop_map(
        |(a, t, c)| json!({"balanceAmount": a, "balanceType": t, "creditLimitIncluded": c}),
    )
}

fn reference() -> impl Strategy<Value = Value> {
    (
        proptest::option::of(".{0,34}"),
        proptest::option::of("[A-Z]{3}"),
    )
        .prop_map(|(iban, currency)| {
            let mut v = json!({});
            if let Some(i) = iban {
                v["iban"] = json!(i);
            }
            if let Some(c) = currency {
                v["currency"] = json!(c);
            }
            v
        })
}

fn transaction() -> impl Strategy<Value = Value> {
    (
        amount(),
        opt_text(),
        opt_text(),
        proptest::option::of(reference()),
        proptest::option::of(balance()),
        proptest::option::of("-?[0-9]{0,6}(\\.[0-9]{0,8})?"),
    )
        .prop_map(|(amount, id, name, account, after, rate)| {
            let mut v =
                json!({"transactionAmount": amount, "transactionId": id, "creditorName": name});
            if let Some(a) = account {
                v["creditorAccount"] = a;
            }
            if let Some(b) = after {
                v["balanceAfterTransaction"] = b;
            }
            if let Some(r) = rate {
                v["currencyExchange"] =
                    json!([{"exchangeRate": r, "sourceCurrency": "EUR", "targetCurrency": "NOK"}]);
            }
            v
        })
}

proptest! {
    #[test]
    fn mapping_never_panics(
        resource in ".{0,40}",
        iban in proptest::option::of(".{0,34}"),
        currency in "[A-Z]{3}",
        kind in opt_text(),
        balances in proptest::collection::vec(balance(), 0..4),
        booked in proptest::collection::vec(transaction(), 0..4),
        pending in proptest::collection::vec(transaction(), 0..4),
    ) {
        let account = json!({"account": {
            "resourceId": resource, "iban": iban, "currency": currency,
            "cashAccountType": kind, "balances": balances,
        }});
        // The generators only build JSON that fits the raw types.
        let raw = serde_json::from_value::<raw::AccountDetailsResponse>(account);
        prop_assert!(raw.is_ok(), "{:?}", raw.err());
        if let Ok(raw) = raw {
            let _ = Account::try_from_raw(raw.account);
        }
        let report = json!({"transactions": {"booked": booked, "pending": pending}});
        let raw = serde_json::from_value::<raw::TransactionsResponse>(report.clone());
        prop_assert!(raw.is_ok(), "{:?}", raw.err());
        let n = raw.map_or(0, |r| r.transactions.map_or(0, |t| t.booked.len() + t.pending.len()));
        let listed = page(&serde_json::to_vec(&report).unwrap());
        prop_assert!(listed.is_ok());
        if let Ok(listed) = listed {
            prop_assert_eq!(listed.entries.len(), n);
        }
    }
}
