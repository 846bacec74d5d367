//! One module per bank; each exposes `routes()` with the bank's paths from `specs/`.

pub mod berlingroup;
pub mod common;
pub mod handelsbanken;
pub mod openpayments;
pub mod render;
pub mod swedbank;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use crate::config::Bank;
use crate::errors::ApiError;
use crate::fixtures::Account;
use crate::state::{AppState, ConsentStatus};
use crate::util::{money, with_query};

/// A Berlin Group amount (`{"currency", "amount": "12.34"}`).
pub fn bg_amount(currency: &str, d: Decimal) -> Value {
    json!({"currency": currency, "amount": money(d)})
}

/// Parses a Berlin Group consent request body (`access`, `recurringIndicator`,
/// `validUntil`, `frequencyPerDay`, `combinedServiceIndicator`, all required), with
/// `access` checked against `bank`'s spec.
pub fn parse_bg_consent(
    bank: Bank,
    body: &[u8],
    today: NaiveDate,
) -> Result<(Value, bool, NaiveDate, u32), ApiError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|_| ApiError::format("Body is not valid JSON."))?;
    let access = v
        .get("access")
        .cloned()
        .ok_or_else(|| ApiError::format("access is required."))?;
    crate::access::validate(bank, &access)?;
    let recurring = v
        .get("recurringIndicator")
        .and_then(Value::as_bool)
        .ok_or_else(|| ApiError::format("recurringIndicator is required."))?;
    v.get("combinedServiceIndicator")
        .and_then(Value::as_bool)
        .ok_or_else(|| ApiError::format("combinedServiceIndicator is required."))?;
    let freq = v
        .get("frequencyPerDay")
        .and_then(Value::as_u64)
        .filter(|f| *f >= 1)
        .ok_or_else(|| ApiError::format("frequencyPerDay must be an integer >= 1."))?;
    let valid_until = v
        .get("validUntil")
        .and_then(Value::as_str)
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .ok_or_else(|| ApiError::format("validUntil must be a date (YYYY-MM-DD)."))?;
    if valid_until < today {
        return Err(ApiError::format("validUntil is in the past."));
    }
    // BG: a one-off consent allows one access per day.
    let freq = if recurring { freq } else { 1 };
    Ok((
        access,
        recurring,
        valid_until,
        u32::try_from(freq).unwrap_or(u32::MAX),
    ))
}

/// Berlin Group balances of an account.
pub fn bg_balances(state: &AppState, a: &Account, types: [&str; 3]) -> Value {
    let (booked, available) = state.balances(a);
    json!([
        {"balanceAmount": bg_amount(a.currency, available), "balanceType": types[0], "creditLimitIncluded": true},
        {"balanceAmount": bg_amount(a.currency, booked), "balanceType": types[1], "creditLimitIncluded": false},
        {"balanceAmount": bg_amount(a.currency, available), "balanceType": types[2], "creditLimitIncluded": false},
    ])
}

/// The browser SCA page of Open Payments and Swedbank (not part of their specs):
/// `GET /<bank>/sca/authorize?consentId=&authorisationId=&redirect_uri=&state=[&psu_id=][&decision=reject]`.
/// It finishes the authorisation at once and 302-redirects to `redirect_uri` with `state`
/// (and a `code`, informative only) or `error=access_denied`.
pub async fn sca_page(
    State((state, bank)): State<(Arc<AppState>, Bank)>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let consent_id = q.get("consentId").cloned().unwrap_or_default();
    let auth_id = q.get("authorisationId").cloned().unwrap_or_default();
    let Ok(consent) = state.consent(bank, &consent_id) else {
        return (StatusCode::NOT_FOUND, "unknown consent").into_response();
    };
    let Some(auth) = consent
        .authorisations
        .iter()
        .find(|a| a.id == auth_id)
        .cloned()
    else {
        return (StatusCode::NOT_FOUND, "unknown authorisation").into_response();
    };
    let psu = q
        .get("psu_id")
        .cloned()
        .or(auth.psu.clone())
        .unwrap_or_else(|| "private-1".to_string());
    let approve = q.get("decision").map(String::as_str) != Some("reject");
    let ok = consent.status == ConsentStatus::Received
        && state
            .complete_sca(bank, &consent_id, Some(&auth_id), &psu, approve)
            .unwrap_or(false);
    let st = q.get("state").cloned().unwrap_or_default();
    match q.get("redirect_uri").cloned().or(auth.redirect_uri) {
        Some(uri) if ok => {
            let code = state.store().new_secret("code_");
            handelsbanken::redirect(&with_query(&uri, &[("code", &code), ("state", &st)]))
        }
        Some(uri) => handelsbanken::redirect(&with_query(
            &uri,
            &[("error", "access_denied"), ("state", &st)],
        )),
        None => Html(if ok {
            "<p>Consent authorised. You may close this window.</p>"
        } else {
            "<p>Authorisation rejected.</p>"
        })
        .into_response(),
    }
}
