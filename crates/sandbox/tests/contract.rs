//! The contract checker itself: it must reject answers that do not fit the specs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::http::HeaderMap;
use psd2_sandbox::Bank;
use psd2_sandbox::contract::{ContractError, Spec};
use serde_json::json;

fn check(
    bank: Bank,
    method: &str,
    path: &str,
    status: u16,
    body: serde_json::Value,
) -> Result<(), ContractError> {
    let spec = Spec::for_bank(bank).unwrap();
    spec.check(
        method,
        path,
        status,
        &HeaderMap::new(),
        &serde_json::to_vec(&body).unwrap(),
    )
}

#[test]
fn accepts_a_fitting_body_and_rejects_wrong_ones() {
    // Handelsbanken (Swagger 2.0 definitions).
    assert!(
        check(
            Bank::Handelsbanken,
            "GET",
            "/openbanking/psd2/v2/accounts/abc",
            200,
            json!({"accountId": "abc", "currency": "SEK"})
        )
        .is_ok()
    );
    let err = check(
        Bank::Handelsbanken,
        "GET",
        "/openbanking/psd2/v2/accounts/abc",
        200,
        json!({"currency": "SEK"}),
    )
    .unwrap_err();
    assert!(err.to_string().contains("accountId"), "{err}");
    // HB amounts are numbers; a string amount is wrong.
    let bad = json!({"accountId": "a", "currency": "SEK", "balances": [{"balanceType": "BOOKED", "amount": {"currency": "SEK", "amount": "1.00"}}]});
    assert!(
        check(
            Bank::Handelsbanken,
            "GET",
            "/openbanking/psd2/v2/accounts/a",
            200,
            bad
        )
        .is_err()
    );
    // Open Payments amounts are strings; a number is wrong.
    let bad = json!({"balances": [{"balanceType": "interimBooked", "balanceAmount": {"currency": "SEK", "amount": 1.0}}]});
    assert!(
        check(
            Bank::OpenPayments,
            "GET",
            "/psd2/accountinformation/v1/accounts/x/balances",
            200,
            bad
        )
        .is_err()
    );
    // Swedbank consent status is an enum.
    assert!(
        check(
            Bank::Swedbank,
            "GET",
            "/v1/consents/c/status",
            200,
            json!({"consentStatus": "valid"})
        )
        .is_ok()
    );
    assert!(
        check(
            Bank::Swedbank,
            "GET",
            "/v1/consents/c/status",
            200,
            json!({"consentStatus": "VALID"})
        )
        .is_err()
    );
}

#[test]
fn unknown_operations_and_statuses_are_errors() {
    assert!(matches!(
        check(Bank::Swedbank, "GET", "/v2/nothing", 200, json!({})),
        Err(ContractError::NoOperation { .. })
    ));
    assert!(matches!(
        check(
            Bank::Handelsbanken,
            "GET",
            "/openbanking/psd2/v2/accounts",
            418,
            json!({})
        ),
        Err(ContractError::UndocumentedStatus { .. })
    ));
    // Literal segments win over templates.
    let spec = Spec::for_bank(Bank::OpenPayments).unwrap();
    let (name, _) = spec
        .operation("GET", "/psd2/consent/v1/consents/abc/status")
        .unwrap();
    assert_eq!(name, "GET /psd2/consent/v1/consents/{consentId}/status");
}
