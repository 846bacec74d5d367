//! Sandbox control under `/admin`: health, faults, clock, churn and ground truth, consent
//! expiry/revocation, fixtures.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use crate::churn::{ChurnConfig, TruthQuery};
use crate::config::Bank;
use crate::faults::FaultConfig;
use crate::fixtures::{AccountKind, PSUS};
use crate::state::{AppState, ConsentStatus};

/// The admin routes (mounted under `/admin`).
pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/health", get(health))
        .route(
            "/faults",
            get(list_faults).post(add_faults).delete(clear_faults),
        )
        .route("/consents/{consent_id}/expire", post(expire))
        .route("/consents/{consent_id}/revoke", post(revoke))
        .route("/clock", get(clock).post(advance_clock))
        .route("/accounts", get(accounts))
        .route("/churn", get(get_churn).post(set_churn).delete(clear_churn))
        .route("/truth", get(truth))
}

async fn health(State(state): State<Arc<AppState>>) -> Response {
    let stored = {
        let store = state.store();
        json!({
            "tokens": store.tokens.len(),
            "refreshTokens": store.refresh_tokens.len(),
            "codes": store.codes.len(),
            "consents": store.consents.len(),
        })
    };
    axum::Json(json!({
        "stored": stored,
        "status": "ok",
        "seed": state.config.seed,
        "today": state.clock.today().to_string(),
        "historySize": state.config.history_size,
        "pageSize": state.config.page_size,
        "requireSignatures": state.config.require_signatures,
    }))
    .into_response()
}

async fn list_faults(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(state.faults.list()).into_response()
}

/// Body: one [`FaultConfig`] or an array of them; they are added to the active ones.
async fn add_faults(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let parsed: Result<Vec<FaultConfig>, _> = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Array(items)) => items.into_iter().map(serde_json::from_value).collect(),
        Ok(v) => serde_json::from_value(v).map(|f| vec![f]),
        Err(err) => Err(err),
    };
    let parsed = parsed.map_err(|e| e.to_string()).and_then(|faults| {
        faults
            .iter()
            .try_for_each(FaultConfig::validate)
            .map(|()| faults)
    });
    match parsed {
        Ok(faults) => {
            for f in faults {
                state.faults.add(f);
            }
            (StatusCode::OK, axum::Json(state.faults.list())).into_response()
        }
        Err(err) => bad_request(err),
    }
}

async fn clear_faults(State(state): State<Arc<AppState>>) -> Response {
    state.faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

/// Sets the status of consent `id`, whether the three banks or a registry bank hold it.
fn set_status(state: &AppState, id: &str, status: ConsentStatus) -> Response {
    let registry = state.registry.read().map(|r| r.clone()).unwrap_or_default();
    let holders = std::iter::once(state).chain(registry.iter().map(|b| b.state().as_ref()));
    let mut found = false;
    for holder in holders {
        let today = holder.clock.today();
        if let Some(c) = holder.store().consents.get_mut(id) {
            c.status = status;
            c.last_action_date = today;
            found = true;
            break;
        }
    }
    if found {
        return StatusCode::NO_CONTENT.into_response();
    }
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"error": "unknown consent"})),
    )
        .into_response()
}

async fn expire(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    set_status(&state, &id, ConsentStatus::Expired)
}

async fn revoke(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    set_status(&state, &id, ConsentStatus::RevokedByPsu)
}

async fn clock(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(
        json!({"now": state.clock.now().to_rfc3339(), "today": state.clock.today().to_string()}),
    )
    .into_response()
}

fn bad_request(message: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": message.into()})),
    )
        .into_response()
}

/// Body `{"advanceSecs": N}`, `{"advanceDays": N}` or `{"setDate": "YYYY-MM-DD"}`: moves the
/// sandbox clock forward (token expiry, SCA age, the day counter, churn activity).
async fn advance_clock(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    const USAGE: &str = "body must be {\"advanceSecs\": N}, {\"advanceDays\": N} (N >= 0) or {\"setDate\": \"YYYY-MM-DD\"}";
    let Ok(Value::Object(v)) = serde_json::from_slice::<Value>(&body) else {
        return bad_request(USAGE);
    };
    let moved = if let Some(n) = v.get("advanceSecs") {
        match n.as_u64() {
            Some(n) => state.clock.advance(n),
            None => return bad_request(USAGE),
        }
    } else if let Some(n) = v.get("advanceDays") {
        match n.as_u64() {
            Some(n) => state.clock.advance_days(n),
            None => return bad_request(USAGE),
        }
    } else if let Some(d) = v.get("setDate") {
        match d
            .as_str()
            .and_then(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        {
            Some(d) => state.clock.set_date(d),
            None => return bad_request("setDate must be a date (YYYY-MM-DD)"),
        }
    } else {
        return bad_request(USAGE);
    };
    match moved {
        Ok(()) => clock(State(state)).await,
        Err(err) => bad_request(err.to_string()),
    }
}

async fn get_churn(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(state.churn.configs()).into_response()
}

/// Body: a [`ChurnConfig`]; switches churn on (or off, with no scenarios) from today on.
async fn set_churn(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let config: ChurnConfig = match serde_json::from_slice(&body) {
        Ok(c) => c,
        Err(err) => return bad_request(format!("churn body: {err}")),
    };
    match state.churn.set(&config, state.clock.today()) {
        Ok(()) => axum::Json(state.churn.configs()).into_response(),
        Err(err) => bad_request(err.to_string()),
    }
}

async fn clear_churn(State(state): State<Arc<AppState>>) -> Response {
    let off = ChurnConfig::default();
    match state.churn.set(&off, state.clock.today()) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(err) => bad_request(err.to_string()),
    }
}

/// `?bank=&psu=[&account=][&dateFrom=]`: the ground truth ([`crate::churn::Truth`]).
async fn truth(
    State(state): State<Arc<AppState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(bank) = q.get("bank").and_then(|b| Bank::from_prefix(b)) else {
        return bad_request("bank must be handelsbanken, openpayments or swedbank");
    };
    let Some(psu) = q.get("psu") else {
        return bad_request("psu is required");
    };
    let date_from = match q.get("dateFrom") {
        Some(d) => match chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => return bad_request("dateFrom must be a date (YYYY-MM-DD)"),
        },
        None => None,
    };
    let query = TruthQuery {
        bank,
        psu: psu.clone(),
        account: q.get("account").cloned(),
        date_from,
    };
    match state
        .churn
        .truth(&state.fixtures, &query, state.clock.today())
    {
        Ok(t) => axum::Json(t).into_response(),
        Err(err) => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": err.to_string()})),
        )
            .into_response(),
    }
}

/// The fixture accounts: per bank and PSU, ids, IBANs and history sizes.
/// The fixture accounts of `bank` in `fixtures`, per PSU.
fn accounts_per_psu(fixtures: &crate::fixtures::Fixtures, bank: Bank) -> Value {
    let mut per_psu = serde_json::Map::new();
    for p in PSUS.iter() {
        let list: Vec<Value> = [AccountKind::Payment, AccountKind::Card]
            .into_iter()
            .flat_map(|k| fixtures.accounts_of(bank, p.id, k))
            .map(|a| {
                json!({
                    "resourceId": a.resource_id,
                    "kind": if a.kind == AccountKind::Card { "card" } else { "payment" },
                    "iban": a.iban,
                    "currency": a.currency,
                    "name": a.name,
                    "transactions": a.history,
                    "pending": a.pending,
                })
            })
            .collect();
        per_psu.insert(p.id.to_string(), Value::Array(list));
    }
    Value::Object(per_psu)
}

/// The fixture accounts per bank (`handelsbanken`, …, and each registry bank by its
/// sandbox path without the leading `/`, e.g. `bg/nordbank`) and PSU.
async fn accounts(State(state): State<Arc<AppState>>) -> Response {
    let mut out = serde_json::Map::new();
    for bank in Bank::ALL {
        out.insert(
            bank.prefix().to_string(),
            accounts_per_psu(&state.fixtures, bank),
        );
    }
    let registry = state.registry.read().map(|r| r.clone()).unwrap_or_default();
    for rb in registry {
        let key = rb
            .entry()
            .sandbox_path()
            .trim_start_matches('/')
            .to_string();
        out.insert(
            key,
            accounts_per_psu(rb.fixtures(), crate::banks::berlingroup::HOST),
        );
    }
    axum::Json(Value::Object(out)).into_response()
}
