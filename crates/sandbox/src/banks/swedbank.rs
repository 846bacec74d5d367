//! Swedbank (Norway/Baltics) Berlin Group XS2A AIS, as in `specs/swedbank/swedbank.yaml`.
//! Every request must be signed (see [`crate::signature`]); links are absolute URLs.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Bytes, to_bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::common::{
    bg_consent_json, bg_consent_status_json, consented_account, covered_accounts, created,
    next_page_url, terminate_consent, transactions_page, tx_query, with_balance,
};
use super::render::json_page;
use super::{bg_balances, parse_bg_consent};
use crate::access::Scope;
use crate::config::Bank;
use crate::errors::{ApiError, BankError};
use crate::fixtures::{Account, AccountKind};
use crate::paging;
use crate::state::{AisRequest, AppState, NewConsent, ScaMethod, ScaStatus};
use crate::util::{header, psu_present, require_header, with_query};
use txn::SwTxn;

mod txn;

const BANK: Bank = Bank::Swedbank;
/// The largest `frequencyPerDay` Swedbank grants, as `registry/swedbank.toml` says; more is
/// 400 `FORMAT_ERROR`.
pub const MAX_FREQUENCY_PER_DAY: u32 = 4;
/// The longest consent Swedbank grants, in days from today, as `registry/swedbank.toml`
/// says; a later `validUntil` is shortened to it.
pub const MAX_VALID_DAYS: u64 = 180;
/// How many days back `dateFrom` may reach, as `registry/swedbank.toml` says; further is
/// 400 `PERIOD_INVALID`.
pub const HISTORY_DAYS: u64 = 730;
const BALANCE_TYPES: [&str; 3] = ["interimAvailable", "closingBooked", "expected"];

type R = Result<Response, BankError>;

fn e(err: ApiError) -> BankError {
    err.for_bank(BANK)
}

/// The Swedbank API routes (mounted under `/swedbank`, behind [`signature_layer`]).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/v1/consents", post(create_consent))
        .route(
            "/v1/consents/{consent_id}",
            get(get_consent).delete(delete_consent),
        )
        .route("/v1/consents/{consent_id}/status", get(consent_status))
        .route(
            "/v1/consents/{consent_id}/authorisations",
            post(start_authorisation),
        )
        .route(
            "/v1/consents/{consent_id}/authorisations/{authorisation_id}",
            get(get_authorisation),
        )
        .route("/v1/accounts", get(accounts))
        .route("/v1/accounts/{account_id}", get(account_details))
        .route("/v1/accounts/{account_id}/balances", get(balances))
        .route("/v1/accounts/{account_id}/transactions", get(transactions))
}

/// Rejects requests without a valid signature with 401 and the Swedbank error body.
/// The path checked is the one the client signed: the full request target including
/// the `/swedbank` prefix.
pub async fn signature_layer(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, 16 * 1024 * 1024).await else {
        return e(ApiError::format("Request body too large.")).into_response();
    };
    let target = parts
        .extensions
        .get::<axum::extract::OriginalUri>()
        .map(|u| u.0.clone())
        .unwrap_or_else(|| parts.uri.clone());
    let path_and_query = target
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "/".to_string());
    if let Err(reason) = state.verifier.verify(
        parts.method.as_str(),
        &path_and_query,
        &parts.headers,
        &bytes,
    ) {
        let code = if reason.starts_with("Missing") {
            "SIGNATURE_MISSING"
        } else {
            "SIGNATURE_INVALID"
        };
        return e(ApiError::new(StatusCode::UNAUTHORIZED, code, reason)).into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// The calling TPP: its signing certificate (a digest of `TPP-Signature-Certificate`),
/// which consents are bound to.
fn tpp(headers: &HeaderMap) -> Option<String> {
    use sha2::{Digest, Sha256};
    let cert = headers.get("tpp-signature-certificate")?;
    let digest = Sha256::digest(cert.as_bytes());
    Some(digest.iter().map(|b| format!("{b:02x}")).collect())
}

fn link(href: String) -> Value {
    json!({"href": href})
}

fn url(state: &AppState, path: &str) -> String {
    format!("{}{path}", state.bank_url(BANK))
}

/// Checks the Berlin Group 1.3 `allPsd2` member of a consent's `access`: only `allAccounts`
/// is admitted, and not together with account lists. Such a consent covers all of the PSU's
/// accounts with every access (see [`crate::state::consent_covers`]).
fn check_all_psd2(access: &Value) -> Result<(), ApiError> {
    let Some(all) = access.get("allPsd2") else {
        return Ok(());
    };
    if all.as_str() != Some("allAccounts") {
        return Err(ApiError::format("allPsd2 must be allAccounts."));
    }
    let lists = ["accounts", "balances", "transactions"]
        .iter()
        .filter_map(|k| access.get(*k))
        .any(|v| v.as_array().is_some_and(|a| !a.is_empty()));
    if lists {
        return Err(ApiError::format(
            "allPsd2 cannot be combined with accounts, balances or transactions.",
        ));
    }
    Ok(())
}

async fn create_consent(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> R {
    require_header(&headers, "x-request-id").map_err(e)?;
    let today = state.clock.today();
    let (access, recurring, valid_until, freq) = parse_bg_consent(BANK, &body, today).map_err(e)?;
    check_all_psd2(&access).map_err(e)?;
    if freq > MAX_FREQUENCY_PER_DAY {
        return Err(e(ApiError::format(format!(
            "frequencyPerDay {freq} is above the maximum of {MAX_FREQUENCY_PER_DAY}."
        ))));
    }
    let valid_until = today
        .checked_add_days(chrono::Days::new(MAX_VALID_DAYS))
        .map_or(valid_until, |latest| valid_until.min(latest));
    let psu = super::common::psu_id(&headers).map_err(e)?;
    let id = state.create_consent(
        BANK,
        NewConsent {
            client_id: tpp(&headers),
            psu,
            valid_until,
            frequency_per_day: freq,
            recurring,
            access,
        },
    );
    let approach = if header(&headers, "tpp-redirect-preferred") == Some("false") {
        "DECOUPLED"
    } else {
        "REDIRECT"
    };
    let body = json!({
        "consentStatus": "received",
        "consentId": id,
        "_links": {
            "self": link(url(&state, &format!("/v1/consents/{id}"))),
            "status": link(url(&state, &format!("/v1/consents/{id}/status"))),
            "startAuthorisation": link(url(&state, &format!("/v1/consents/{id}/authorisations"))),
        },
    });
    Ok(created(
        url(&state, &format!("/v1/consents/{id}")),
        approach,
        body,
    ))
}

async fn get_consent(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    require_header(&headers, "x-request-id").map_err(e)?;
    let c = state
        .consent_for(BANK, &id, tpp(&headers).as_deref())
        .map_err(e)?;
    Ok(axum::Json(bg_consent_json(&c)).into_response())
}

async fn consent_status(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    require_header(&headers, "x-request-id").map_err(e)?;
    let c = state
        .consent_for(BANK, &id, tpp(&headers).as_deref())
        .map_err(e)?;
    Ok(axum::Json(bg_consent_status_json(&c)).into_response())
}

async fn delete_consent(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    require_header(&headers, "x-request-id").map_err(e)?;
    terminate_consent(&state, BANK, &id, tpp(&headers).as_deref()).map_err(e)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn start_authorisation(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> R {
    require_header(&headers, "x-request-id").map_err(e)?;
    state
        .consent_for(BANK, &id, tpp(&headers).as_deref())
        .map_err(e)?;
    let v: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&body).map_err(|_| e(ApiError::format("Body is not valid JSON.")))?
    };
    let method_id = v.get("authenticationMethodId").and_then(Value::as_str);
    let decoupled =
        method_id == Some("mbid") || header(&headers, "tpp-redirect-preferred") == Some("false");
    let method = if decoupled {
        ScaMethod::Decoupled
    } else {
        ScaMethod::Redirect
    };
    let psu = super::common::psu_id(&headers).map_err(e)?;
    let redirect_uri = header(&headers, "tpp-redirect-uri").map(str::to_string);
    let auth_id = state
        .start_authorisation(BANK, &id, method, psu, redirect_uri.clone())
        .map_err(e)?;
    let status_url = url(
        &state,
        &format!("/v1/consents/{id}/authorisations/{auth_id}"),
    );
    let mut links = json!({"scaStatus": link(status_url.clone())});
    if method == ScaMethod::Redirect {
        let mut href = with_query(
            &url(&state, "/sca/authorize"),
            &[("consentId", &id), ("authorisationId", &auth_id)],
        );
        if let Some(uri) = &redirect_uri {
            href = with_query(&href, &[("redirect_uri", uri)]);
        }
        links["scaRedirect"] = link(href);
    }
    let approach = if decoupled { "DECOUPLED" } else { "REDIRECT" };
    let mut body = json!({
        "authorisationId": auth_id,
        "scaStatus": "started",
        "scaApproach": approach,
        "_links": links,
    });
    if decoupled {
        body["psuMessage"] = json!("Open the Swedbank app to approve.");
    }
    Ok(created(status_url, approach, body))
}

async fn get_authorisation(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path((id, auth_id)): Path<(String, String)>,
) -> R {
    require_header(&headers, "x-request-id").map_err(e)?;
    state
        .consent_for(BANK, &id, tpp(&headers).as_deref())
        .map_err(e)?;
    let status: ScaStatus = state.poll_authorisation(BANK, &id, &auth_id).map_err(e)?;
    Ok(axum::Json(json!({"scaStatus": status.bg()})).into_response())
}

fn account_json(state: &AppState, a: &Account, with_balance: bool) -> Value {
    let mut v = json!({
        "resourceId": a.resource_id,
        "iban": a.iban,
        "bban": a.bban,
        "currency": a.currency,
        "ownerName": a.owner_name,
        "name": a.name,
        "product": a.product,
        "cashAccountType": a.cash_account_type,
        "bic": BANK.bic(),
        "status": "enabled",
        "usage": if a.psu.starts_with("corporate") { "ORGA" } else { "PRIV" },
        "_links": {
            "balances": link(url(state, &format!("/v1/accounts/{}/balances", a.resource_id))),
            "transactions": link(url(state, &format!("/v1/accounts/{}/transactions", a.resource_id))),
        },
    });
    if with_balance {
        v["balances"] = bg_balances(state, a, BALANCE_TYPES);
    }
    v
}

async fn accounts(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> R {
    require_header(&headers, "x-request-id").map_err(e)?;
    let cid = require_header(&headers, "consent-id").map_err(e)?;
    let client = tpp(&headers);
    let list: Vec<Value> = covered_accounts(
        &state,
        BANK,
        cid,
        client.as_deref(),
        psu_present(&headers),
        AccountKind::Payment,
    )
    .map_err(e)?
    .into_iter()
    .map(|(a, balances)| account_json(&state, a, with_balance(&q) && balances))
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
    require_header(headers, "x-request-id").map_err(e)?;
    let cid = require_header(headers, "consent-id").map_err(e)?;
    let client = tpp(headers);
    let request = AisRequest {
        account_id: Some(id),
        psu_present: psu_present(headers),
        date_from,
        continuation,
        card: false,
        client_id: client.as_deref(),
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
    Ok(
        axum::Json(json!({"account": account_json(&state, &acc, with_balance(&q))}))
            .into_response(),
    )
}

async fn balances(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    let acc = account_access(&state, &headers, &id, None, false, Scope::Balances)?;
    Ok(axum::Json(json!({
        "account": {"iban": acc.iban, "currency": acc.currency},
        "balances": bg_balances(&state, &acc, BALANCE_TYPES),
    }))
    .into_response())
}

/// A transaction page.
#[derive(serde::Serialize)]
struct TxPage<'a> {
    account: AccountRef<'a>,
    transactions: TxReport<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    balances: Option<Value>,
}

#[derive(serde::Serialize)]
struct AccountRef<'a> {
    iban: Option<&'a str>,
    currency: &'a str,
}

#[derive(serde::Serialize)]
struct TxReport<'a> {
    booked: Vec<SwTxn<'a>>,
    pending: Vec<SwTxn<'a>>,
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
    require_header(&headers, "x-request-id").map_err(e)?;
    require_header(&headers, "consent-id").map_err(e)?;
    let booking = paging::booking_status(q.get("bookingStatus"), None).map_err(e)?;
    let query = tx_query(&q, today, booking).map_err(e)?;
    let earliest = today.checked_sub_days(chrono::Days::new(HISTORY_DAYS));
    if earliest.is_some_and(|first| query.date_from < first) {
        return Err(e(ApiError::new(
            StatusCode::BAD_REQUEST,
            "PERIOD_INVALID",
            format!("dateFrom is more than {HISTORY_DAYS} days back."),
        )));
    }
    let acc = account_access(
        &state,
        &headers,
        &id,
        Some(query.date_from),
        query.key.is_some(),
        Scope::Transactions,
    )?;
    let path = format!("/v1/accounts/{id}/transactions");
    let page = transactions_page(&state, BANK, &path, &acc, &query).map_err(e)?;
    let mut links = json!({"account": link(url(&state, &format!("/v1/accounts/{id}")))});
    if let Some(k) = &page.next_key {
        links["next"] = link(next_page_url(&url(&state, &path), &q, k));
    }
    let balances_granted = state
        .consent(BANK, header(&headers, "consent-id").unwrap_or_default())
        .is_ok_and(|c| crate::access::allows(&c.access, &acc, Scope::Balances));
    let body = TxPage {
        account: AccountRef {
            iban: acc.iban.as_deref(),
            currency: acc.currency,
        },
        transactions: TxReport {
            booked: page.booked.iter().map(|t| SwTxn::new(&acc, t)).collect(),
            pending: page.pending.iter().map(|t| SwTxn::new(&acc, t)).collect(),
            links,
        },
        balances: (with_balance(&q) && balances_granted)
            .then(|| bg_balances(&state, &acc, BALANCE_TYPES)),
    };
    Ok(json_page(&body, page.booked.len() + page.pending.len()))
}
