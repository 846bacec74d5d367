//! Request handling the bank modules share: consent bodies, account access through a
//! consent, transaction queries, pages and next-page links.

use std::collections::HashMap;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::access::{self, Scope};
use crate::config::Bank;
use crate::errors::ApiError;
use crate::fixtures::{Account, AccountKind};
use crate::paging::{self, Page, TxQuery};
use crate::state::{AisRequest, AppState, Consent, ConsentStatus, consent_covers};
use crate::util::{parse_date, with_query};

/// A `201 Created` answer with `Location` and `ASPSP-SCA-Approach` headers.
pub fn created(location: String, approach: &str, body: Value) -> Response {
    (
        StatusCode::CREATED,
        [
            ("location", location),
            ("aspsp-sca-approach", approach.to_string()),
        ],
        axum::Json(body),
    )
        .into_response()
}

/// The Berlin Group "get consent" body (`access`, `recurringIndicator`, `validUntil`,
/// `frequencyPerDay`, `lastActionDate`, `consentStatus`).
pub fn bg_consent_json(c: &Consent) -> Value {
    json!({
        "access": c.access,
        "recurringIndicator": c.recurring,
        "validUntil": c.valid_until.to_string(),
        "frequencyPerDay": c.frequency_per_day,
        "lastActionDate": c.last_action_date.to_string(),
        "consentStatus": c.status.bg(),
    })
}

/// The Berlin Group "consent status" body.
pub fn bg_consent_status_json(c: &Consent) -> Value {
    json!({"consentStatus": c.status.bg()})
}

/// Ends a consent of `client` on its request (`terminatedByTpp`, last action today).
pub fn terminate_consent(
    state: &AppState,
    bank: Bank,
    id: &str,
    client: Option<&str>,
) -> Result<(), ApiError> {
    state.consent_for(bank, id, client)?;
    let today = state.clock.today();
    state.update_consent(bank, id, |c| {
        c.status = ConsentStatus::TerminatedByTpp;
        c.last_action_date = today;
    })
}

/// The PSU's accounts of `kind` that consent `consent_id` of `client` covers (one
/// counted access), each with whether the consent grants its balances.
pub fn covered_accounts<'a>(
    state: &'a AppState,
    bank: Bank,
    consent_id: &str,
    client: Option<&str>,
    psu_present: bool,
    kind: AccountKind,
) -> Result<Vec<(&'a Account, bool)>, ApiError> {
    let (grant, _) = state.ais_access(
        bank,
        consent_id,
        AisRequest {
            psu_present,
            client_id: client,
            ..Default::default()
        },
    )?;
    let consent = state.consent(bank, consent_id)?;
    Ok(state
        .fixtures
        .accounts_of(bank, &grant.psu, kind)
        .into_iter()
        .filter(|a| consent_covers(&consent.access, a))
        .map(|a| (a, access::allows(&consent.access, a, Scope::Balances)))
        .collect())
}

/// The account a request names, through consent `consent_id` (`what` names it in the 404).
pub fn consented_account(
    state: &AppState,
    bank: Bank,
    consent_id: &str,
    request: AisRequest<'_>,
    what: &str,
) -> Result<Account, ApiError> {
    let (_, account) = state.ais_access(bank, consent_id, request)?;
    account.ok_or_else(|| ApiError::resource_unknown(what))
}

/// Whether `withBalance=true` was asked for.
pub fn with_balance(q: &HashMap<String, String>) -> bool {
    q.get("withBalance").map(String::as_str) == Some("true")
}

/// A transaction query from `dateFrom`, `dateTo` (default: 90 days back until today) and
/// `continuationKey`, with the booking statuses already decided by the caller.
pub fn tx_query(
    q: &HashMap<String, String>,
    today: chrono::NaiveDate,
    (booked, pending): (bool, bool),
) -> Result<TxQuery, ApiError> {
    Ok(TxQuery {
        booked,
        pending,
        date_from: parse_date("dateFrom", q.get("dateFrom"))?
            .unwrap_or_else(|| paging::default_date_from(today)),
        date_to: parse_date("dateTo", q.get("dateTo"))?.unwrap_or(today),
        key: q.get("continuationKey").cloned(),
    })
}

/// One page of `account`'s transactions at `path`, with the paging faults set for `path`.
pub fn transactions_page(
    state: &AppState,
    bank: Bank,
    path: &str,
    account: &Account,
    query: &TxQuery,
) -> Result<Page, ApiError> {
    let faults = state.faults.paging(bank, path);
    let view = if state.churn.is_on(bank) {
        state.churn.view(
            &state.fixtures,
            bank,
            &account.resource_id,
            state.clock.today(),
        )
    } else {
        None
    };
    paging::page_with_churn(
        &state.fixtures,
        account,
        query,
        state.config.page_size,
        faults,
        view.as_ref(),
    )
}

/// `base` with the request's query parameters (sorted, without `continuationKey`) and then
/// `continuationKey=key`: the link to the next page.
pub fn next_page_url(base: &str, q: &HashMap<String, String>, key: &str) -> String {
    let mut params: Vec<(&str, &str)> = q
        .iter()
        .filter(|(k, _)| k.as_str() != "continuationKey")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    params.sort();
    params.push(("continuationKey", key));
    with_query(base, &params)
}

/// Removes the id members a bank without ids does not send: `transactionId` and
/// `entryReference` when empty, and then the `transactionDetails` link.
pub fn drop_empty_ids(v: &mut Value) {
    let Some(m) = v.as_object_mut() else {
        return;
    };
    let mut dropped = false;
    for key in ["transactionId", "entryReference"] {
        if m.get(key).and_then(Value::as_str) == Some("") {
            m.remove(key);
            dropped = true;
        }
    }
    if dropped && let Some(links) = m.get_mut("_links").and_then(Value::as_object_mut) {
        links.remove("transactionDetails");
        if links.is_empty() {
            m.remove("_links");
        }
    }
}

/// The `PSU-ID` header: `None` when absent; a PSU the bank does not know (also an empty
/// or non-ASCII value) is 401 `PSU_CREDENTIALS_INVALID`, never some other customer.
pub fn psu_id(headers: &axum::http::HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(raw) = headers.get("psu-id") else {
        return Ok(None);
    };
    raw.to_str()
        .ok()
        .map(str::trim)
        .and_then(crate::fixtures::psu)
        .map(|p| Some(p.id.to_string()))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "PSU_CREDENTIALS_INVALID",
                "The PSU-ID is not known to the bank.",
            )
        })
}
