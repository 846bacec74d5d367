//! Registry banks: one Berlin Group NextGenPSD2 bank per `psd2_registry::RegistryEntry`,
//! served at the entry's sandbox path (`/bg/<id>`), behaving as its profile says.
//!
//! Paths and shapes follow `specs/berlingroup/berlingroup.yaml`. Each registry bank has its
//! own consent store and its own data (the sandbox PSUs and accounts, generated from the
//! entry's seed); it shares the sandbox's clock. What each profile setting makes the bank
//! refuse is listed in the crate README.

mod accounts;
mod consents;
mod embedded;
mod errors;
mod render;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::{Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use psd2_registry::{Hook, RegistryEntry, Requirement};

use crate::clock::Clock;
use crate::config::{Bank, SandboxConfig};
use crate::errors::ApiError;
use crate::fixtures::Fixtures;
use crate::signature::{AcceptAll, Verifier};
use crate::state::AppState;
use crate::util::header;

pub use embedded::{EMBEDDED_OTP, EMBEDDED_PASSWORD};
pub use errors::BgError;

/// Whose generated accounts a registry bank serves (its data still comes from its own
/// seed): the fixtures are generated per sandbox bank, and a registry bank takes this set.
pub const HOST: Bank = Bank::Swedbank;

/// Largest request body a registry bank reads.
const MAX_BODY: usize = 1024 * 1024;

/// One registry bank served by the sandbox.
pub struct RegistryBank {
    entry: RegistryEntry,
    state: Arc<AppState>,
    embedded: Mutex<HashMap<String, embedded::Embedded>>,
}

impl std::fmt::Debug for RegistryBank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryBank")
            .field("id", &self.entry.id)
            .finish_non_exhaustive()
    }
}

type R = Result<Response, BgError>;

impl RegistryBank {
    /// The bank for `entry`, with the sandbox's settings (`config`), signature verifier and
    /// clock. Its page size is the profile's, its data seed the entry's.
    pub fn new(
        entry: RegistryEntry,
        config: &SandboxConfig,
        verifier: Arc<dyn Verifier>,
        clock: Arc<Clock>,
    ) -> Self {
        let mut own = config.clone();
        own.seed = entry.sandbox_seed();
        own.page_size = u64::from(entry.profile.transactions.page_size).max(1);
        own.faults = Vec::new();
        own.registry = None;
        let verifier: Arc<dyn Verifier> = if entry.profile.security.signatures {
            verifier
        } else {
            Arc::new(AcceptAll)
        };
        Self {
            state: Arc::new(AppState::with_clock(own, verifier, clock)),
            entry,
            embedded: Mutex::new(HashMap::new()),
        }
    }

    /// The registry entry the bank is served from.
    pub fn entry(&self) -> &RegistryEntry {
        &self.entry
    }

    /// The bank's generated data (PSUs' accounts; see [`HOST`]).
    pub fn fixtures(&self) -> &Fixtures {
        &self.state.fixtures
    }

    /// The bank's state (consents, clock).
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Sets the server's base URL (`http://127.0.0.1:PORT`) once it is bound.
    pub fn set_base_url(&self, base: &str) {
        if let Ok(mut b) = self.state.base_url.write() {
            *b = base.to_string();
        }
    }

    /// The bank's absolute URL of `path` (below its sandbox path).
    fn url(&self, path: &str) -> String {
        let base = self
            .state
            .base_url
            .read()
            .map(|b| b.clone())
            .unwrap_or_default();
        format!("{base}{}{path}", self.entry.sandbox_path())
    }

    fn embedded(&self) -> MutexGuard<'_, HashMap<String, embedded::Embedded>> {
        self.embedded.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `err` in the profile's error shape, with the profile's own code for its kind.
    fn err(&self, err: ApiError) -> BgError {
        BgError::new(&self.entry, err)
    }

    /// The calling TPP: a digest of `TPP-Signature-Certificate` when the bank requires
    /// signatures (consents are bound to it), otherwise nobody in particular.
    fn tpp(&self, headers: &HeaderMap) -> Option<String> {
        use sha2::{Digest, Sha256};
        if !self.entry.profile.security.signatures {
            return None;
        }
        let cert = headers.get("tpp-signature-certificate")?;
        let digest = Sha256::digest(cert.as_bytes());
        Some(digest.iter().map(|b| format!("{b:02x}")).collect())
    }
}

/// The router of one registry bank (to be nested at its sandbox path).
pub fn router(bank: Arc<RegistryBank>) -> Router {
    let api = Router::new()
        .route("/v1/consents", post(consents::create))
        .route(
            "/v1/consents/{consent_id}",
            get(consents::get_consent).delete(consents::delete),
        )
        .route("/v1/consents/{consent_id}/status", get(consents::status))
        .route(
            "/v1/consents/{consent_id}/authorisations",
            post(consents::start_authorisation).get(consents::list_authorisations),
        )
        .route(
            "/v1/consents/{consent_id}/authorisations/{authorisation_id}",
            get(consents::sca_status).put(consents::update_authorisation),
        )
        .route("/v1/accounts", get(accounts::list))
        .route("/v1/accounts/{account_id}", get(accounts::details))
        .route(
            "/v1/accounts/{account_id}/balances",
            get(accounts::balances),
        )
        .route(
            "/v1/accounts/{account_id}/transactions",
            get(accounts::transactions),
        )
        .route(
            "/v1/accounts/{account_id}/transactions/{transaction_id}",
            get(accounts::transaction_details),
        )
        .route("/v1/card-accounts", get(accounts::card_list))
        .route(
            "/v1/card-accounts/{account_id}",
            get(accounts::card_details),
        )
        .route(
            "/v1/card-accounts/{account_id}/balances",
            get(accounts::card_balances),
        )
        .route(
            "/v1/card-accounts/{account_id}/transactions",
            get(accounts::card_transactions),
        )
        .with_state(bank.clone())
        .layer(from_fn_with_state(bank.clone(), header_layer))
        .layer(from_fn_with_state(bank.clone(), signature_layer))
        .layer(from_fn(crate::request_id_layer));
    let sca = Router::new()
        .route("/sca/authorize", get(super::sca_page))
        .with_state((bank.state.clone(), HOST));
    api.merge(sca)
}

/// Refuses requests without the headers the bank needs: `X-Request-ID`, the profile's
/// `extra_headers` (with their values) and, when the profile requires it,
/// `PSU-IP-Address`; with the `psu_context_header` hook, a `PSU-Context` other than
/// `PRIVATE` / `CORPORATE`. Each 400 `FORMAT_ERROR` naming the header.
async fn header_layer(State(bank): State<Arc<RegistryBank>>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    let mut missing: Vec<String> = Vec::new();
    if header(headers, "x-request-id").is_none() {
        missing.push("X-Request-ID".into());
    }
    for (name, value) in &bank.entry.profile.extra_headers {
        if header(headers, name) != Some(value.as_str()) {
            missing.push(name.clone());
        }
    }
    if bank.entry.profile.psu_ip_address == Requirement::Required
        && header(headers, "psu-ip-address").is_none()
    {
        missing.push("PSU-IP-Address".into());
    }
    if bank.entry.profile.hooks.contains(&Hook::PsuContextHeader)
        && header(headers, "psu-context").is_some_and(|c| c != "PRIVATE" && c != "CORPORATE")
    {
        missing.push("PSU-Context".into());
    }
    if let Some(first) = missing.first() {
        return bank
            .err(ApiError::format(format!(
                "Missing or wrong required header {first}."
            )))
            .into_response();
    }
    next.run(req).await
}

/// Verifies the request signature when the profile requires signatures (401
/// `SIGNATURE_MISSING` / `SIGNATURE_INVALID` in the profile's error shape). The path
/// checked is the full request target, the bank's sandbox path included.
async fn signature_layer(
    State(bank): State<Arc<RegistryBank>>,
    req: Request,
    next: Next,
) -> Response {
    if !bank.entry.profile.security.signatures {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_BODY).await else {
        return bank
            .err(ApiError::format("Request body too large."))
            .into_response();
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
    if let Err(reason) = bank.state.verifier.verify(
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
        return bank
            .err(ApiError::new(StatusCode::UNAUTHORIZED, code, reason))
            .into_response();
    }
    next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
        .await
}

/// A JSON request body (`{}` when empty), or 400 `FORMAT_ERROR`.
fn json_body(body: &Bytes) -> Result<serde_json::Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::json!({}));
    }
    serde_json::from_slice(body).map_err(|_| ApiError::format("Body is not valid JSON."))
}

/// A `{"href": …}` link.
fn link(href: String) -> serde_json::Value {
    serde_json::json!({ "href": href })
}

/// Whether `psu-id` is to be read: not when the profile says the bank does not use it.
fn uses_psu_id(entry: &RegistryEntry) -> bool {
    entry.profile.psu_id != Requirement::NotUsed
}
