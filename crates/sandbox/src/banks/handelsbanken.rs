//! Handelsbanken: OAuth token endpoint, consents, Mobile BankID decoupled grant, redirect
//! authorize page, accounts (v2) and card accounts (v1), as in
//! `specs/handelsbanken/handelsbanken.json`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header::LOCATION};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::Days;
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::common;
use super::render::json_page;
use crate::access::Scope;
use crate::config::Bank;
use crate::errors::{ApiError, BankError, OAuthError};
use crate::fixtures::{Account, AccountKind, Fixtures, Txn};
use crate::paging::{self, TxQuery};
use crate::state::{
    AisRequest, AppState, AuthCode, ConsentStatus, NewConsent, ScaMethod, ScaStatus, TokenKind,
};
use crate::util::{header, json_number, psu_present, require_header, with_query};
use txn::HbTxn;

mod txn;

const BANK: Bank = Bank::Handelsbanken;
const SLEEP_MS: u64 = 100;

type R = Result<Response, BankError>;

fn e(err: ApiError) -> BankError {
    err.for_bank(BANK)
}

/// The Handelsbanken routes (mounted under `/handelsbanken`).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/mlurd/oauth2/token/1.0", post(token))
        .route("/openbanking/psd2/v1/consents", post(create_consent))
        .route(
            "/openbanking/psd2/v1/consents/{consent_id}",
            get(get_consent).delete(delete_consent),
        )
        .route(
            "/openbanking/psd2/v1/consents/{consent_id}/status",
            get(consent_status),
        )
        .route(
            "/mlurd/decoupled/mbid/initAuthorization/2.0",
            post(init_decoupled),
        )
        .route(
            "/mlurd/decoupled/mbid/authorization/2.0/{order_ref}",
            get(poll_decoupled),
        )
        .route("/openbanking/redirect/oauth2/authorize/1.0", get(authorize))
        .route("/openbanking/psd2/v2/accounts", get(accounts))
        .route(
            "/openbanking/psd2/v2/accounts/{account_id}",
            get(account_details),
        )
        .route(
            "/openbanking/psd2/v2/accounts/{account_id}/transactions",
            get(transactions),
        )
        .route("/openbanking/psd2/v1/card-accounts", get(card_accounts))
        .route(
            "/openbanking/psd2/v1/card-accounts/{account_id}",
            get(card_account_details),
        )
        .route(
            "/openbanking/psd2/v1/card-accounts/{account_id}/balances",
            get(card_balances),
        )
        .route(
            "/openbanking/psd2/v1/card-accounts/{account_id}/transactions",
            get(card_transactions),
        )
}

/// Checks the headers every non-token call must carry.
fn common_headers(headers: &HeaderMap) -> Result<(), ApiError> {
    require_header(headers, "x-ibm-client-id")?;
    let country = require_header(headers, "country")?;
    if !["SE", "FI", "NL", "LU", "GB"].contains(&country) {
        return Err(ApiError::format(
            "Country must be one of SE, FI, NL, LU, GB.",
        ));
    }
    require_header(headers, "tpp-request-id")?;
    require_header(headers, "tpp-transaction-id")?;
    Ok(())
}

/// The bearer token, which must have been issued to the client in `X-IBM-Client-Id`.
fn bound_token(state: &AppState, headers: &HeaderMap) -> Result<crate::state::Token, ApiError> {
    common_headers(headers)?;
    let t = state.check_bearer(BANK, header(headers, "authorization"))?;
    if header(headers, "x-ibm-client-id") != Some(t.client_id.as_str()) {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "TOKEN_INVALID",
            "The access token was not issued to this X-IBM-Client-Id.",
        ));
    }
    Ok(t)
}

fn client_token(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    Ok(bound_token(state, headers)?.client_id)
}

/// The consent of `id` when the calling client owns it (404 otherwise, as for an unknown id).
fn owned_consent(
    state: &AppState,
    client_id: &str,
    id: &str,
) -> Result<crate::state::Consent, BankError> {
    state
        .consent_for(BANK, id, Some(client_id))
        .map_err(|_| e(ApiError::resource_unknown("Consent")))
}

/// The PSU token's consent id and client.
fn consent_token(state: &AppState, headers: &HeaderMap) -> Result<(String, String), ApiError> {
    let t = bound_token(state, headers)?;
    match t.kind {
        TokenKind::Consent(id) => Ok((id, t.client_id)),
        TokenKind::Client => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "TOKEN_INVALID",
            "Account calls need the PSU's consent token (scope AIS:<consentId>), not a client credentials token.",
        )),
    }
}

async fn token(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Response, OAuthError> {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let grant = form
        .get("grant_type")
        .map(String::as_str)
        .unwrap_or_default();
    let client_id = form.get("client_id").cloned().unwrap_or_default();
    match grant {
        "client_credentials" => {
            if client_id.is_empty() {
                return Err(OAuthError::bad("invalid_request", "client_id is required."));
            }
            let scope = form
                .get("scope")
                .cloned()
                .unwrap_or_else(|| "AIS".to_string());
            let (at, ttl) = state.issue_token(BANK, &client_id, TokenKind::Client);
            Ok(axum::Json(json!({"access_token": at, "expires_in": ttl, "token_type": "Bearer", "scope": scope})).into_response())
        }
        "authorization_code" => {
            let code = form.get("code").cloned().unwrap_or_default();
            let redirect_uri = form.get("redirect_uri").cloned().unwrap_or_default();
            let stored = state.take_code(&code).ok_or_else(|| {
                OAuthError::bad(
                    "invalid_grant",
                    "The authorization code is unknown, expired or already used.",
                )
            })?;
            let owner = state
                .consent(BANK, &stored.consent_id)
                .ok()
                .and_then(|c| c.client_id);
            if stored.redirect_uri != redirect_uri
                || client_id.is_empty()
                || owner.as_deref() != Some(client_id.as_str())
                || (!stored.client_id.is_empty() && stored.client_id != client_id)
            {
                return Err(OAuthError::bad(
                    "invalid_grant",
                    "client_id or redirect_uri does not match the authorization request.",
                ));
            }
            psu_tokens(&state, &client_id, &stored.consent_id)
                .map(|v| axum::Json(v).into_response())
        }
        "refresh_token" => {
            let rt = form.get("refresh_token").cloned().unwrap_or_default();
            if client_id.is_empty() {
                return Err(OAuthError::bad("invalid_request", "client_id is required."));
            }
            let consent_id = state.use_refresh(&rt, &client_id)?;
            psu_tokens(&state, &client_id, &consent_id).map(|v| axum::Json(v).into_response())
        }
        "" => Err(OAuthError::bad(
            "invalid_request",
            "grant_type is required.",
        )),
        _ => Err(OAuthError::bad(
            "unsupported_grant_type",
            "Supported: client_credentials, authorization_code, refresh_token.",
        )),
    }
}

fn psu_tokens(state: &AppState, client_id: &str, consent_id: &str) -> Result<Value, OAuthError> {
    let consent = state
        .consent(BANK, consent_id)
        .map_err(|_| OAuthError::bad("invalid_grant", "The consent is unknown."))?;
    if consent.status != ConsentStatus::Valid {
        return Err(OAuthError::bad(
            "invalid_grant",
            "The consent is not valid.",
        ));
    }
    let (at, ttl) = state.issue_token(BANK, client_id, TokenKind::Consent(consent_id.to_string()));
    let rt = state.issue_refresh(client_id, consent_id);
    Ok(json!({
        "access_token": at,
        "refresh_token": rt,
        "expires_in": ttl,
        "token_type": "Bearer",
        "scope": format!("AIS:{consent_id}"),
    }))
}

async fn create_consent(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> R {
    let client_id = client_token(&state, &headers).map_err(e)?;
    let v: Value = serde_json::from_slice(&body).map_err(|_| {
        e(ApiError::format(
            "Body must be JSON {\"access\": \"ALL_ACCOUNTS\"}.",
        ))
    })?;
    if v.get("access").and_then(Value::as_str) != Some("ALL_ACCOUNTS") {
        return Err(e(ApiError::format("access must be ALL_ACCOUNTS.")));
    }
    let psu = header(&headers, "psu-corporate-id")
        .and_then(|cid| {
            crate::fixtures::PSUS
                .iter()
                .find(|p| p.corporate_id == Some(cid))
        })
        .map(|p| p.id.to_string());
    let valid_until = state.clock.today() + Days::new(90);
    let id = state.create_consent(
        BANK,
        NewConsent {
            client_id: Some(client_id),
            psu,
            valid_until,
            frequency_per_day: crate::state::DEFAULT_FREQUENCY_PER_DAY,
            recurring: true,
            access: json!({}),
        },
    );
    let base = state.bank_url(BANK);
    Ok(axum::Json(json!({
        "consentId": id,
        "consentStatus": "RECEIVED",
        "scaMethods": [
            {"scaMethodType": "REDIRECT", "_links": {"authorization": [{
                "href": format!("{base}/openbanking/redirect/oauth2/authorize/1.0"),
                "name": "authorize_1.0",
                "type": "application/x-www-form-urlencoded"}]}},
            {"scaMethodType": "DECOUPLED", "_links": {"authorization": [{
                "href": format!("{base}/mlurd/decoupled/mbid/initAuthorization/2.0"),
                "name": "decpld_mbid_1.0",
                "type": "application/json"}]}}
        ]
    }))
    .into_response())
}

async fn get_consent(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    let client_id = client_token(&state, &headers).map_err(e)?;
    let c = owned_consent(&state, &client_id, &id)?;
    Ok(axum::Json(json!({
        "consentId": c.id,
        "consentStatus": c.status.hb(),
        "validUntil": c.valid_until.to_string(),
        "lastActionDate": c.last_action_date.to_string(),
    }))
    .into_response())
}

async fn consent_status(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    let client_id = client_token(&state, &headers).map_err(e)?;
    let c = owned_consent(&state, &client_id, &id)?;
    Ok(axum::Json(json!({"consentStatus": c.status.hb()})).into_response())
}

async fn delete_consent(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    let client_id = client_token(&state, &headers).map_err(e)?;
    owned_consent(&state, &client_id, &id)?;
    let today = state.clock.today();
    state
        .update_consent(BANK, &id, |c| {
            c.status = ConsentStatus::TerminatedByTpp;
            c.last_action_date = today;
        })
        .map_err(|_| e(ApiError::resource_unknown("Consent")))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn init_decoupled(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> R {
    let client_id = client_token(&state, &headers).map_err(e)?;
    let v: Value = serde_json::from_slice(&body)
        .map_err(|_| e(ApiError::format("Body must be JSON with consentId.")))?;
    let consent_id = v
        .get("consentId")
        .and_then(Value::as_str)
        .ok_or_else(|| e(ApiError::format("consentId is required.")))?;
    owned_consent(&state, &client_id, consent_id)?;
    // Sandbox convention: personalId names the PSU (`private-1`, ...); default private-1.
    let psu = v
        .get("personalId")
        .and_then(Value::as_str)
        .map(str::to_string);
    let order_ref = state
        .start_authorisation(BANK, consent_id, ScaMethod::Decoupled, psu, None)
        .map_err(|err| {
            e(if err.code == "CONSENT_UNKNOWN" {
                ApiError::resource_unknown("Consent")
            } else {
                err
            })
        })?;
    let auto_start = state.store().new_id();
    let base = state.bank_url(BANK);
    Ok(axum::Json(json!({
        "orderRef": order_ref,
        "autoStartToken": auto_start,
        "sleepTime": SLEEP_MS,
        "status": "PENDING",
        "_links": {"poll": {"href": format!("{base}/mlurd/decoupled/mbid/authorization/2.0/{order_ref}")}},
    }))
    .into_response())
}

async fn poll_decoupled(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(order_ref): Path<String>,
) -> R {
    let client_id = client_token(&state, &headers).map_err(e)?;
    let consent_id = state
        .consent_of_authorisation(BANK, &order_ref)
        .filter(|c| state.consent_for(BANK, c, Some(&client_id)).is_ok())
        .ok_or_else(|| e(ApiError::resource_unknown("Order")))?;
    let status = state
        .poll_authorisation(BANK, &consent_id, &order_ref)
        .map_err(e)?;
    Ok(axum::Json(match status {
        ScaStatus::Started => json!({"orderRef": order_ref, "status": "PENDING", "hintCode": "outstandingTransaction", "sleepTime": SLEEP_MS}),
        ScaStatus::Failed => json!({"orderRef": order_ref, "status": "FAILED", "hintCode": "userCancel", "sleepTime": SLEEP_MS}),
        ScaStatus::Finalised => {
            let mut v = psu_tokens(&state, &client_id, &consent_id).map_err(|o| e(ApiError::new(StatusCode::UNAUTHORIZED, "CONSENT_INVALID", o.description)))?;
            if let Some(m) = v.as_object_mut() {
                m.insert("orderRef".into(), json!(order_ref));
                m.insert("status".into(), json!("COMPLETE"));
                m.insert("hintCode".into(), json!("userSign"));
                m.insert("sleepTime".into(), json!(SLEEP_MS));
            }
            v
        }
    })
    .into_response())
}

async fn authorize(
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(redirect_uri) = q.get("redirect_uri").cloned() else {
        return (StatusCode::BAD_REQUEST, "redirect_uri is required").into_response();
    };
    let st = q.get("state").cloned().unwrap_or_default();
    let consent_id = q
        .get("scope")
        .and_then(|s| s.strip_prefix("AIS:"))
        .unwrap_or_default()
        .to_string();
    let client_id = q.get("client_id").map(String::as_str);
    let consent = state
        .consent(BANK, &consent_id)
        .ok()
        .filter(|c| client_id.is_none_or(|id| c.client_id.as_deref() == Some(id)));
    let Some(consent) = consent else {
        return redirect(&with_query(
            &redirect_uri,
            &[("error", "invalid_request"), ("state", &st)],
        ));
    };
    let psu = q
        .get("psu_id")
        .cloned()
        .or(consent.psu.clone())
        .unwrap_or_else(|| "private-1".to_string());
    let approve = q.get("decision").map(String::as_str) != Some("reject");
    match state.complete_sca(BANK, &consent_id, None, &psu, approve) {
        Ok(true) => {
            let code = state.issue_code(AuthCode {
                client_id: q.get("client_id").cloned().unwrap_or_default(),
                redirect_uri: redirect_uri.clone(),
                consent_id,
                expires_at: state.clock.now(),
            });
            redirect(&with_query(
                &redirect_uri,
                &[("code", &code), ("state", &st)],
            ))
        }
        _ => redirect(&with_query(
            &redirect_uri,
            &[("error", "access_denied"), ("state", &st)],
        )),
    }
}

/// A 302 to `location`.
pub fn redirect(location: &str) -> Response {
    (StatusCode::FOUND, [(LOCATION, location.to_string())]).into_response()
}

fn amount(currency: &str, d: Decimal) -> Value {
    json!({"currency": currency, "amount": json_number(d)})
}

fn account_json(state: &AppState, a: &Account, with_balances: bool) -> Value {
    let base = state.bank_url(BANK);
    let mut v = json!({
        "accountId": a.resource_id,
        "currency": a.currency,
        "accountType": a.product,
        "name": a.name,
        "ownerName": a.owner_name,
        "status": "ENABLED",
        "_links": {"transactions": {"href": format!("{base}/openbanking/psd2/v2/accounts/{}/transactions", a.resource_id)}},
    });
    if let (Some(m), Some(iban)) = (v.as_object_mut(), a.iban.as_ref()) {
        m.insert("iban".into(), json!(iban));
        if let Some(bban) = &a.bban {
            m.insert("bban".into(), json!(bban));
        }
        if iban.starts_with("SE") {
            m.insert("clearingNumber".into(), json!(format!("6{}", &iban[5..8])));
        }
    }
    if with_balances {
        let (booked, available) = state.balances(a);
        if let Some(m) = v.as_object_mut() {
            m.insert(
                "balances".into(),
                json!([
                    {"balanceType": "AVAILABLE_AMOUNT", "amount": amount(a.currency, available)},
                    {"balanceType": "BOOKED", "amount": amount(a.currency, booked)},
                ]),
            );
        }
    }
    v
}

async fn accounts(State(state): State<Arc<AppState>>, headers: HeaderMap) -> R {
    let (cid, client) = consent_token(&state, &headers).map_err(e)?;
    let list: Vec<Value> = common::covered_accounts(
        &state,
        BANK,
        &cid,
        Some(&client),
        psu_present(&headers),
        AccountKind::Payment,
    )
    .map_err(e)?
    .into_iter()
    .map(|(a, _)| account_json(&state, a, false))
    .collect();
    Ok(axum::Json(json!({"accounts": list})).into_response())
}

async fn account_details(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    let (cid, client) = consent_token(&state, &headers).map_err(e)?;
    // The details carry the balances.
    let request = AisRequest {
        account_id: Some(&id),
        psu_present: psu_present(&headers),
        client_id: Some(&client),
        scope: Scope::Balances,
        ..Default::default()
    };
    let acc = common::consented_account(&state, BANK, &cid, request, "Account").map_err(e)?;
    Ok(axum::Json(account_json(&state, &acc, true)).into_response())
}

fn tx_query(
    state: &AppState,
    q: &HashMap<String, String>,
    card: bool,
) -> Result<TxQuery, ApiError> {
    let booking = if card {
        paging::booking_status(q.get("bookingStatus"), Some("both"))?
    } else {
        (true, true)
    };
    common::tx_query(q, state.clock.today(), booking)
}

fn next_href(state: &AppState, path: &str, q: &HashMap<String, String>, key: &str) -> String {
    common::next_page_url(&format!("{}{path}", state.bank_url(BANK)), q, key)
}

/// A transaction page.
#[derive(serde::Serialize)]
struct TxPage<'a> {
    transactions: Vec<HbTxn<'a>>,
    #[serde(rename = "_links", skip_serializing_if = "Option::is_none")]
    links: Option<Value>,
}

async fn transactions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let (cid, client) = consent_token(&state, &headers).map_err(e)?;
    let query = tx_query(&state, &q, false).map_err(e)?;
    let request = AisRequest {
        account_id: Some(&id),
        psu_present: psu_present(&headers),
        date_from: Some(query.date_from),
        continuation: query.key.is_some(),
        card: false,
        client_id: Some(&client),
        scope: Scope::Transactions,
    };
    let acc = common::consented_account(&state, BANK, &cid, request, "Account").map_err(e)?;
    let path = format!("/openbanking/psd2/v2/accounts/{id}/transactions");
    let page = common::transactions_page(&state, BANK, &path, &acc, &query).map_err(e)?;
    let body = TxPage {
        transactions: page
            .pending
            .iter()
            .chain(page.booked.iter())
            .map(HbTxn::new)
            .collect(),
        links: page
            .next_key
            .as_ref()
            .map(|k| json!({"next": {"href": next_href(&state, &path, &q, k)}})),
    };
    Ok(json_page(&body, page.pending.len() + page.booked.len()))
}

fn card_balances_json(fixtures: &Fixtures, a: &Account) -> Value {
    let used = a.booked_balance();
    let limit = Decimal::new(a.credit_limit_cents.unwrap_or(0), 2);
    let pending = a.pending_sum(fixtures);
    json!([
        {"balanceType": "AVAILABLE_AMOUNT", "balanceAmount": amount(a.currency, limit - used + pending), "creditLimitIncluded": true},
        {"balanceType": "BOOKED", "balanceAmount": amount(a.currency, -used), "creditLimitIncluded": false},
    ])
}

fn card_json(state: &AppState, a: &Account, with_balances: bool) -> Value {
    let mut v = json!({
        "accountId": a.resource_id,
        "cards": [{"maskedPan": a.masked_pan}],
        "currency": a.currency,
        "product": a.product,
        "name": a.name,
        "ownerName": a.owner_name,
        "creditLimit": amount(a.currency, Decimal::new(a.credit_limit_cents.unwrap_or(0), 2)),
    });
    if with_balances {
        v["balances"] = card_balances_json(&state.fixtures, a);
    }
    v
}

async fn card_accounts(State(state): State<Arc<AppState>>, headers: HeaderMap) -> R {
    let (cid, client) = consent_token(&state, &headers).map_err(e)?;
    let list: Vec<Value> = common::covered_accounts(
        &state,
        BANK,
        &cid,
        Some(&client),
        psu_present(&headers),
        AccountKind::Card,
    )
    .map_err(e)?
    .into_iter()
    .map(|(a, _)| card_json(&state, a, false))
    .collect();
    Ok(axum::Json(json!({"cardAccounts": list})).into_response())
}

fn card_access(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    date_from: Option<chrono::NaiveDate>,
    continuation: bool,
    scope: Scope,
) -> Result<Account, BankError> {
    let (cid, client) = consent_token(state, headers).map_err(e)?;
    let request = AisRequest {
        account_id: Some(id),
        psu_present: psu_present(headers),
        date_from,
        continuation,
        card: true,
        client_id: Some(&client),
        scope,
    };
    common::consented_account(state, BANK, &cid, request, "Card account").map_err(e)
}

async fn card_account_details(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    let acc = card_access(&state, &headers, &id, None, false, Scope::Balances)?;
    Ok(axum::Json(json!({"cardAccount": card_json(&state, &acc, true)})).into_response())
}

async fn card_balances(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    let acc = card_access(&state, &headers, &id, None, false, Scope::Balances)?;
    Ok(axum::Json(json!({
        "cardAccount": {"maskedPan": acc.masked_pan},
        "balances": card_balances_json(&state.fixtures, &acc),
    }))
    .into_response())
}

fn card_txn_json(a: &Account, t: &Txn) -> Value {
    let mut v = json!({
        "cardTransactionId": t.id,
        "transactionDate": t.value_date.to_string(),
        "transactionAmount": amount(t.currency, t.amount),
        "maskedPan": a.masked_pan,
        "transactionDetails": t.remittance,
        "proprietaryBankTransactionCode": if t.amount.is_sign_negative() { "PURCHASE" } else { "REFUND" },
        "invoiced": t.booked && t.index.is_multiple_of(3),
    });
    if let Some(d) = t.booking_date {
        v["bookingDate"] = json!(d.to_string());
    }
    if let Some(x) = &t.exchange
        && !x.target_amount.is_zero()
    {
        v["originalAmount"] = amount(x.target_currency, x.target_amount);
        v["exchangeRate"] = json_number((t.amount / x.target_amount).round_dp(4));
    }
    v
}

async fn card_transactions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let query = tx_query(&state, &q, true).map_err(e)?;
    let acc = card_access(
        &state,
        &headers,
        &id,
        Some(query.date_from),
        query.key.is_some(),
        Scope::Transactions,
    )?;
    let path = format!("/openbanking/psd2/v1/card-accounts/{id}/transactions");
    let page = common::transactions_page(&state, BANK, &path, &acc, &query).map_err(e)?;
    let mut report = json!({
        "booked": page.booked.iter().map(|t| card_txn_json(&acc, t)).collect::<Vec<_>>(),
        "pending": page.pending.iter().map(|t| card_txn_json(&acc, t)).collect::<Vec<_>>(),
    });
    if let Some(k) = &page.next_key {
        report["_links"] = json!({"next": {"href": next_href(&state, &path, &q, k)}});
    }
    Ok(axum::Json(
        json!({"cardAccount": {"maskedPan": acc.masked_pan}, "cardTransactions": report}),
    )
    .into_response())
}
