//! Sandbox control under `/admin`: health, faults, clock, consent expiry/revocation, fixtures.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

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
}

async fn health(State(state): State<Arc<AppState>>) -> Response {
    axum::Json(json!({
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
    match parsed {
        Ok(faults) => {
            for f in faults {
                state.faults.add(f);
            }
            (StatusCode::OK, axum::Json(state.faults.list())).into_response()
        }
        Err(err) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": err.to_string()})),
        )
            .into_response(),
    }
}

async fn clear_faults(State(state): State<Arc<AppState>>) -> Response {
    state.faults.clear();
    StatusCode::NO_CONTENT.into_response()
}

fn set_status(state: &AppState, id: &str, status: ConsentStatus) -> Response {
    let today = state.clock.today();
    let mut store = state.store();
    match store.consents.get_mut(id) {
        Some(c) => {
            c.status = status;
            c.last_action_date = today;
            StatusCode::NO_CONTENT.into_response()
        }
        None => (
            StatusCode::NOT_FOUND,
            axum::Json(json!({"error": "unknown consent"})),
        )
            .into_response(),
    }
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

/// Body `{"advanceSecs": N}`: moves the sandbox clock forward (token expiry, SCA age).
async fn advance_clock(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let secs = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("advanceSecs").and_then(Value::as_i64));
    match secs {
        Some(s) if s >= 0 => {
            state.clock.advance(s);
            clock(State(state)).await
        }
        _ => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": "body must be {\"advanceSecs\": N}, N >= 0"})),
        )
            .into_response(),
    }
}

/// The fixture accounts: per bank and PSU, ids, IBANs and history sizes.
async fn accounts(State(state): State<Arc<AppState>>) -> Response {
    let mut out = serde_json::Map::new();
    for bank in Bank::ALL {
        let mut per_psu = serde_json::Map::new();
        for p in PSUS.iter() {
            let list: Vec<Value> = [AccountKind::Payment, AccountKind::Card]
                .into_iter()
                .flat_map(|k| state.fixtures.accounts_of(bank, p.id, k))
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
        out.insert(bank.prefix().to_string(), Value::Object(per_psu));
    }
    axum::Json(Value::Object(out)).into_response()
}
