//! Open Payments platform: `/connect/token`, the Consent Service and the AIS, as in
//! `specs/openpayments/openpayments.yaml`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::common::{
    bg_consent_json, bg_consent_status_json, consented_account, covered_accounts, created,
    next_page_url, terminate_consent, transactions_page, tx_query, with_balance,
};
use super::render::{IbanRef, json_page};
use super::{bg_amount, bg_balances, parse_bg_consent};
use crate::access::Scope;
use crate::config::Bank;
use crate::errors::{ApiError, BankError, OAuthError};
use crate::fixtures::{Account, AccountKind};
use crate::paging;
use crate::state::{AisRequest, AppState, NewConsent, ScaMethod, ScaStatus, TokenKind};
use crate::util::{header, psu_present, require_header, valid_bic, with_query};
use txn::OpTxn;

mod txn;

const BANK: Bank = Bank::OpenPayments;
const BALANCE_TYPES: [&str; 3] = ["interimAvailable", "interimBooked", "valueDated"];
const CONSENTS: &str = "/psd2/consent/v1/consents";
const ACCOUNTS: &str = "/psd2/accountinformation/v1/accounts";

type R = Result<Response, BankError>;

fn e(err: ApiError) -> BankError {
    err.for_bank(BANK)
}

/// The Open Payments routes (mounted under `/openpayments`).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/connect/token", post(token))
        .route(CONSENTS, post(create_consent))
        .route(
            "/psd2/consent/v1/consents/{consent_id}",
            get(get_consent).delete(delete_consent),
        )
        .route(
            "/psd2/consent/v1/consents/{consent_id}/status",
            get(consent_status),
        )
        .route(
            "/psd2/consent/v1/consents/{consent_id}/authorisations",
            post(start_authorisation),
        )
        .route(
            "/psd2/consent/v1/consents/{consent_id}/authorisations/{authorisation_id}",
            get(get_authorisation),
        )
        .route(ACCOUNTS, get(accounts))
        .route(
            "/psd2/accountinformation/v1/accounts/{account_id}",
            get(account_details),
        )
        .route(
            "/psd2/accountinformation/v1/accounts/{account_id}/balances",
            get(balances),
        )
        .route(
            "/psd2/accountinformation/v1/accounts/{account_id}/transactions",
            get(transactions),
        )
        .route(
            "/psd2/accountinformation/v1/accounts/{account_id}/transactions/{transaction_id}",
            get(transaction_details),
        )
}

async fn token(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Response, OAuthError> {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(_) => {
            return Err(OAuthError::bad(
                "unsupported_grant_type",
                "Only client_credentials is supported.",
            ));
        }
        None => {
            return Err(OAuthError::bad(
                "invalid_request",
                "grant_type is required.",
            ));
        }
    }
    let client_id = form.get("client_id").cloned().unwrap_or_default();
    if client_id.is_empty() {
        return Err(OAuthError::bad("invalid_client", "client_id is required."));
    }
    let scope = form
        .get("scope")
        .cloned()
        .unwrap_or_else(|| "accountinformation corporate".to_string());
    let (at, ttl) = state.issue_token(BANK, &client_id, TokenKind::Client);
    Ok(axum::Json(
        json!({"access_token": at, "token_type": "Bearer", "expires_in": ttl, "scope": scope}),
    )
    .into_response())
}

/// Token, `X-Request-ID` and `X-BicFi` checks of every API call.
fn common(state: &AppState, headers: &HeaderMap) -> Result<String, ApiError> {
    require_header(headers, "x-request-id")?;
    let bic = require_header(headers, "x-bicfi")?;
    if !valid_bic(bic) {
        return Err(ApiError::format(
            "X-BicFi must be an 8 or 11 character BIC.",
        ));
    }
    Ok(state
        .check_bearer(BANK, header(headers, "authorization"))?
        .client_id)
}

fn consent_links(id: &str) -> Value {
    json!({
        "self": {"href": format!("{CONSENTS}/{id}")},
        "status": {"href": format!("{CONSENTS}/{id}/status")},
        "startAuthorisation": {"href": format!("{CONSENTS}/{id}/authorisations")},
    })
}

async fn create_consent(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> R {
    let client_id = common(&state, &headers).map_err(e)?;
    let (access, recurring, valid_until, freq) =
        parse_bg_consent(BANK, &body, state.clock.today()).map_err(e)?;
    let psu = super::common::psu_id(&headers).map_err(e)?;
    let id = state.create_consent(
        BANK,
        NewConsent {
            client_id: Some(client_id),
            psu,
            valid_until,
            frequency_per_day: freq,
            recurring,
            access,
        },
    );
    let approach = if header(&headers, "tpp-redirect-preferred") == Some("true") {
        "REDIRECT"
    } else {
        "DECOUPLED"
    };
    let body = json!({
        "consentStatus": "received",
        "consentId": id,
        "scaMethods": [
            {"authenticationType": "PUSH_OTP", "authenticationMethodId": "mbid", "name": "Mobilt BankID"},
            {"authenticationType": "CHIP_OTP", "authenticationMethodId": "mbid_same_device", "name": "Mobile BankID on this device"},
            {"authenticationType": "PHOTO_OTP", "authenticationMethodId": "mbid_animated_qr_token", "name": "Mobile BankID on another device"},
            {"authenticationType": "PUSH_OTP", "authenticationMethodId": "redirect", "name": "Log in at the bank (redirect)"},
        ],
        "_links": consent_links(&id),
    });
    Ok(created(format!("{CONSENTS}/{id}"), approach, body))
}

async fn get_consent(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    let client = common(&state, &headers).map_err(e)?;
    let c = state.consent_for(BANK, &id, Some(&client)).map_err(e)?;
    let mut body = bg_consent_json(&c);
    body["_links"] = consent_links(&c.id);
    Ok(axum::Json(body).into_response())
}

async fn consent_status(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    let client = common(&state, &headers).map_err(e)?;
    let c = state.consent_for(BANK, &id, Some(&client)).map_err(e)?;
    Ok(axum::Json(bg_consent_status_json(&c)).into_response())
}

async fn delete_consent(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    let client = common(&state, &headers).map_err(e)?;
    terminate_consent(&state, BANK, &id, Some(&client)).map_err(e)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn start_authorisation(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> R {
    let client = common(&state, &headers).map_err(e)?;
    state.consent_for(BANK, &id, Some(&client)).map_err(e)?;
    let v: Value = serde_json::from_slice(&body).map_err(|_| {
        e(ApiError::format(
            "Body must be JSON with authenticationMethodId.",
        ))
    })?;
    let method_id = v
        .get("authenticationMethodId")
        .and_then(Value::as_str)
        .ok_or_else(|| e(ApiError::format("authenticationMethodId is required.")))?;
    let method = match method_id {
        "mbid" | "mbid_same_device" | "mbid_animated_qr_token" => ScaMethod::Decoupled,
        "redirect" => ScaMethod::Redirect,
        other => {
            return Err(e(ApiError::format(format!(
                "authenticationMethodId {other:?} is not one of the consent's scaMethods."
            ))));
        }
    };
    let psu = super::common::psu_id(&headers).map_err(e)?;
    let redirect_uri = header(&headers, "tpp-redirect-uri").map(str::to_string);
    let auth_id = state
        .start_authorisation(BANK, &id, method, psu, redirect_uri.clone())
        .map_err(e)?;
    let status_href = format!("{CONSENTS}/{id}/authorisations/{auth_id}");
    let body = match method {
        ScaMethod::Decoupled => {
            let token = state.store().new_id();
            json!({
                "authorisationId": auth_id,
                "scaStatus": "started",
                "challengeData": {"data": [token]},
                "_links": {"scaStatus": {"href": status_href}},
            })
        }
        ScaMethod::Redirect => {
            let mut href = with_query(
                &format!("{}/sca/authorize", state.bank_url(BANK)),
                &[("consentId", &id), ("authorisationId", &auth_id)],
            );
            if let Some(uri) = &redirect_uri {
                href = with_query(&href, &[("redirect_uri", uri)]);
            }
            json!({
                "authorisationId": auth_id,
                "scaStatus": "started",
                "_links": {"scaRedirect": {"href": href}, "scaStatus": {"href": status_href}},
            })
        }
    };
    let approach = if method == ScaMethod::Redirect {
        "REDIRECT"
    } else {
        "DECOUPLED"
    };
    Ok((
        StatusCode::CREATED,
        [("aspsp-sca-approach", approach)],
        axum::Json(body),
    )
        .into_response())
}

async fn get_authorisation(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, auth_id)): Path<(String, String)>,
) -> R {
    let client = common(&state, &headers).map_err(e)?;
    state.consent_for(BANK, &id, Some(&client)).map_err(e)?;
    let status: ScaStatus = state.poll_authorisation(BANK, &id, &auth_id).map_err(e)?;
    Ok(axum::Json(json!({"scaStatus": status.bg()})).into_response())
}

fn account_json(state: &AppState, a: &Account, with_balance: bool, details: bool) -> Value {
    let corporate = a.psu.starts_with("corporate");
    let mut v = json!({
        "resourceId": a.resource_id,
        "iban": a.iban,
        "bban": a.bban,
        "currency": a.currency,
        "name": a.name,
        "product": a.product,
        "cashAccountType": a.cash_account_type,
        "status": "enabled",
        "bic": BANK.bic(),
        "usage": if corporate { "ORGA" } else { "PRIV" },
        "ownerName": a.owner_name,
        "creditLimit": bg_amount(a.currency, rust_decimal::Decimal::ZERO),
        "_links": {
            "balances": {"href": format!("{ACCOUNTS}/{}/balances", a.resource_id)},
            "transactions": {"href": format!("{ACCOUNTS}/{}/transactions", a.resource_id)},
        },
    });
    if with_balance {
        v["balances"] = bg_balances(state, a, BALANCE_TYPES);
    }
    if details {
        let today = state.clock.today();
        v["paymentsEnabled"] = json!(true);
        v["lastTransactionEnrichmentDateTime"] = json!(format!("{today}T04:00:00.000+00:00"));
        v["lastTransactionEnrichmentDateTimeUtc"] = json!(format!("{today}T04:00:00.000Z"));
    }
    v
}

async fn accounts(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let client = common(&state, &headers).map_err(e)?;
    let cid = require_header(&headers, "consent-id").map_err(e)?;
    let list: Vec<Value> = covered_accounts(
        &state,
        BANK,
        cid,
        Some(&client),
        psu_present(&headers),
        AccountKind::Payment,
    )
    .map_err(e)?
    .into_iter()
    .map(|(a, balances)| account_json(&state, a, with_balance(&q) && balances, false))
    .collect();
    Ok(axum::Json(json!({"accounts": list})).into_response())
}

fn account_access(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    date_from: Option<chrono::NaiveDate>,
    continuation: bool,
    scope: Scope,
) -> Result<Account, BankError> {
    let client = common(state, headers).map_err(e)?;
    let cid = require_header(headers, "consent-id").map_err(e)?;
    let request = AisRequest {
        account_id: Some(id),
        psu_present: psu_present(headers),
        date_from,
        continuation,
        card: false,
        client_id: Some(&client),
        scope,
    };
    consented_account(state, BANK, cid, request, "Account").map_err(e)
}

async fn account_details(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let scope = if with_balance(&q) {
        Scope::Balances
    } else {
        Scope::Accounts
    };
    let acc = account_access(&state, &headers, &id, None, false, scope)?;
    Ok(axum::Json(account_json(&state, &acc, with_balance(&q), true)).into_response())
}

async fn balances(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    let acc = account_access(&state, &headers, &id, None, false, Scope::Balances)?;
    Ok(axum::Json(json!({"balances": bg_balances(&state, &acc, BALANCE_TYPES)})).into_response())
}

/// A transaction page.
#[derive(serde::Serialize)]
struct TxPage<'a> {
    account: IbanRef<'a>,
    transactions: TxReport<'a>,
}

#[derive(serde::Serialize)]
struct TxReport<'a> {
    booked: Vec<OpTxn<'a>>,
    pending: Vec<OpTxn<'a>>,
    bankgiro: &'static [u8],
    #[serde(rename = "_links")]
    links: Value,
}

async fn transactions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    let today = state.clock.today();
    // Header checks come first so a missing token is 401, not a query error.
    common(&state, &headers).map_err(e)?;
    let booking = paging::booking_status(q.get("bookingStatus"), None).map_err(e)?;
    let query = tx_query(&q, today, booking).map_err(e)?;
    let acc = account_access(
        &state,
        &headers,
        &id,
        Some(query.date_from),
        query.key.is_some(),
        Scope::Transactions,
    )?;
    let path = format!("{ACCOUNTS}/{id}/transactions");
    let page = transactions_page(&state, BANK, &path, &acc, &query).map_err(e)?;
    let mut links = json!({"account": {"href": format!("{ACCOUNTS}/{id}")}});
    if let Some(k) = &page.next_key {
        links["next"] = json!({"href": next_page_url(&path, &q, k)});
    }
    let entries = page.booked.len() + page.pending.len();
    let body = TxPage {
        account: IbanRef {
            iban: acc.iban.as_deref(),
        },
        transactions: TxReport {
            booked: page
                .booked
                .iter()
                .map(|t| OpTxn::new(&acc, t, false))
                .collect(),
            pending: page
                .pending
                .iter()
                .map(|t| OpTxn::new(&acc, t, false))
                .collect(),
            bankgiro: &[],
            links,
        },
    };
    Ok(json_page(&body, entries))
}

async fn transaction_details(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, tx_id)): Path<(String, String)>,
) -> R {
    let acc = account_access(&state, &headers, &id, None, false, Scope::Transactions)?;
    let view = state
        .churn
        .view(&state.fixtures, BANK, &acc.resource_id, state.clock.today());
    let t = match view {
        Some(v) => v.find(&state.fixtures, &acc, &tx_id),
        None => acc
            .transaction_index(&tx_id)
            .map(|i| acc.transaction(&state.fixtures, i)),
    }
    .ok_or_else(|| e(ApiError::resource_unknown("Transaction")))?;
    Ok(json_page(&OpTxn::new(&acc, &t, true), 1))
}
