//! Consents and their authorisation sub-resources of a registry bank.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use chrono::{Days, NaiveDate};
use psd2_registry::{ConsentScopeKind, Requirement, ScaApproachKind};
use serde_json::{Value, json};

use super::{HOST, R, RegistryBank, embedded, json_body, link, uses_psu_id};
use crate::banks::common::{
    bg_consent_json, bg_consent_status_json, created, psu_id, terminate_consent,
};
use crate::banks::parse_bg_consent;
use crate::errors::ApiError;
use crate::state::{NewConsent, ScaMethod};
use crate::util::{header, with_query};

/// The BG spelling of an approach (`ASPSP-SCA-Approach`).
pub(super) fn approach_name(a: ScaApproachKind) -> &'static str {
    match a {
        ScaApproachKind::Redirect => "REDIRECT",
        ScaApproachKind::Decoupled => "DECOUPLED",
        ScaApproachKind::Embedded => "EMBEDDED",
    }
}

fn method_unknown(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "SCA_METHOD_UNKNOWN",
        format!("This bank does not offer {what} SCA."),
    )
}

/// The approach for a request: an explicit wish (`psuData` in the body: embedded;
/// `TPP-Decoupled-Preferred: true`; `TPP-Redirect-Preferred: true`;
/// `TPP-Redirect-Preferred: false`: the first offered approach that is not redirect) must be
/// one the profile offers (else 400 `SCA_METHOD_UNKNOWN`); without one, the profile's first.
pub(super) fn choose_approach(
    bank: &RegistryBank,
    headers: &HeaderMap,
    wants_embedded: bool,
) -> Result<ScaApproachKind, ApiError> {
    let offered = &bank.entry.profile.sca_approaches;
    let flag = |name: &str| header(headers, name).map(str::to_ascii_lowercase);
    let wanted = if wants_embedded {
        Some(ScaApproachKind::Embedded)
    } else if flag("tpp-decoupled-preferred").as_deref() == Some("true") {
        Some(ScaApproachKind::Decoupled)
    } else {
        match flag("tpp-redirect-preferred").as_deref() {
            Some("true") => Some(ScaApproachKind::Redirect),
            Some("false") => Some(
                offered
                    .iter()
                    .copied()
                    .find(|a| *a != ScaApproachKind::Redirect)
                    .ok_or_else(|| method_unknown("embedded or decoupled"))?,
            ),
            _ => None,
        }
    };
    match wanted {
        Some(a) if offered.contains(&a) => Ok(a),
        Some(a) => Err(method_unknown(&approach_name(a).to_ascii_lowercase())),
        None => offered
            .first()
            .copied()
            .ok_or_else(|| method_unknown("any")),
    }
}

/// The kind of consent `access` asks for; `allPsd2` cannot be combined with account lists.
fn scope_kind(access: &Value) -> Result<ConsentScopeKind, ApiError> {
    let lists = ["accounts", "balances", "transactions"]
        .iter()
        .filter_map(|k| access.get(*k))
        .any(|v| v.as_array().is_some_and(|a| !a.is_empty()));
    if access.get("allPsd2").is_some() {
        if lists {
            return Err(ApiError::format(
                "allPsd2 cannot be combined with accounts, balances or transactions.",
            ));
        }
        return Ok(ConsentScopeKind::AllPsd2);
    }
    if access.get("availableAccounts").is_some() {
        return Ok(ConsentScopeKind::AvailableAccounts);
    }
    Ok(ConsentScopeKind::Detailed)
}

fn scope_name(k: ConsentScopeKind) -> &'static str {
    match k {
        ConsentScopeKind::Detailed => "detailed (accounts, balances, transactions)",
        ConsentScopeKind::AvailableAccounts => "availableAccounts",
        ConsentScopeKind::AllPsd2 => "allPsd2",
    }
}

/// The consent request checked against the profile: scope kind, `frequencyPerDay` (above
/// the maximum: 400 `FORMAT_ERROR`) and `validUntil` (beyond the maximum: shortened).
fn checked_consent(
    bank: &RegistryBank,
    body: &[u8],
    today: NaiveDate,
) -> Result<(Value, bool, NaiveDate, u32), ApiError> {
    let rules = &bank.entry.profile.consent;
    let (access, recurring, valid_until, freq) = parse_bg_consent(HOST, body, today)?;
    let kind = scope_kind(&access)?;
    if !rules.scopes.contains(&kind) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "SERVICE_INVALID",
            format!("This bank does not accept {} consents.", scope_name(kind)),
        ));
    }
    if freq > rules.max_frequency_per_day {
        return Err(ApiError::format(format!(
            "frequencyPerDay {freq} is above the bank's maximum of {}.",
            rules.max_frequency_per_day
        )));
    }
    let latest = today
        .checked_add_days(Days::new(u64::from(rules.max_valid_days)))
        .unwrap_or(today);
    Ok((access, recurring, valid_until.min(latest), freq))
}

pub(super) async fn create(
    State(bank): State<Arc<RegistryBank>>,
    headers: HeaderMap,
    body: Bytes,
) -> R {
    let e = |err| bank.err(err);
    let today = bank.state.clock.today();
    if bank.entry.profile.psu_id == Requirement::Required && header(&headers, "psu-id").is_none() {
        return Err(e(ApiError::format("Missing required header PSU-ID.")));
    }
    let (access, recurring, valid_until, freq) = checked_consent(&bank, &body, today).map_err(e)?;
    let approach = choose_approach(&bank, &headers, false).map_err(e)?;
    let psu = if uses_psu_id(&bank.entry) {
        psu_id(&headers).map_err(e)?
    } else {
        None
    };
    let id = bank.state.create_consent(
        HOST,
        NewConsent {
            client_id: bank.tpp(&headers),
            psu,
            valid_until,
            frequency_per_day: freq,
            recurring,
            access,
        },
    );
    let auths = bank.url(&format!("/v1/consents/{id}/authorisations"));
    let mut links = json!({
        "self": link(bank.url(&format!("/v1/consents/{id}"))),
        "status": link(bank.url(&format!("/v1/consents/{id}/status"))),
        "startAuthorisation": link(auths.clone()),
    });
    if approach == ScaApproachKind::Embedded {
        links["startAuthorisationWithPsuAuthentication"] = link(auths);
    }
    let body = json!({"consentStatus": "received", "consentId": id, "_links": links});
    Ok(created(
        bank.url(&format!("/v1/consents/{id}")),
        approach_name(approach),
        body,
    ))
}

pub(super) async fn get_consent(
    State(bank): State<Arc<RegistryBank>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    let c = bank
        .state
        .consent_for(HOST, &id, bank.tpp(&headers).as_deref())
        .map_err(|err| bank.err(err))?;
    Ok(axum::Json(bg_consent_json(&c)).into_response())
}

pub(super) async fn status(
    State(bank): State<Arc<RegistryBank>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    let c = bank
        .state
        .consent_for(HOST, &id, bank.tpp(&headers).as_deref())
        .map_err(|err| bank.err(err))?;
    Ok(axum::Json(bg_consent_status_json(&c)).into_response())
}

pub(super) async fn delete(
    State(bank): State<Arc<RegistryBank>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    terminate_consent(&bank.state, HOST, &id, bank.tpp(&headers).as_deref())
        .map_err(|err| bank.err(err))?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn start_authorisation(
    State(bank): State<Arc<RegistryBank>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> R {
    let e = |err| bank.err(err);
    let consent = bank
        .state
        .consent_for(HOST, &id, bank.tpp(&headers).as_deref())
        .map_err(e)?;
    let v = json_body(&body).map_err(e)?;
    let approach = choose_approach(&bank, &headers, v.get("psuData").is_some()).map_err(e)?;
    // The PSU who authenticates: named here (embedded SCA needs it) or on consent creation.
    let psu = psu_id(&headers).map_err(e)?.or(consent.psu);
    if approach == ScaApproachKind::Embedded {
        return embedded::start(&bank, &id, psu, &v);
    }
    let method = match approach {
        ScaApproachKind::Decoupled => ScaMethod::Decoupled,
        _ => ScaMethod::Redirect,
    };
    let redirect_uri = header(&headers, "tpp-redirect-uri").map(str::to_string);
    let auth_id = bank
        .state
        .start_authorisation(HOST, &id, method, psu, redirect_uri.clone())
        .map_err(e)?;
    let status_url = bank.url(&format!("/v1/consents/{id}/authorisations/{auth_id}"));
    let mut links = json!({"scaStatus": link(status_url.clone())});
    let mut body = json!({
        "authorisationId": auth_id,
        "scaStatus": "started",
    });
    if method == ScaMethod::Redirect {
        let mut href = with_query(
            &bank.url("/sca/authorize"),
            &[("consentId", &id), ("authorisationId", &auth_id)],
        );
        if let Some(uri) = &redirect_uri {
            href = with_query(&href, &[("redirect_uri", uri)]);
        }
        links["scaRedirect"] = link(href);
    } else {
        body["psuMessage"] = json!("Confirm in your bank's app.");
    }
    body["_links"] = links;
    Ok(created(status_url, approach_name(approach), body))
}

pub(super) async fn list_authorisations(
    State(bank): State<Arc<RegistryBank>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> R {
    let c = bank
        .state
        .consent_for(HOST, &id, bank.tpp(&headers).as_deref())
        .map_err(|err| bank.err(err))?;
    let ids: Vec<&str> = c.authorisations.iter().map(|a| a.id.as_str()).collect();
    Ok(axum::Json(json!({"authorisationIds": ids})).into_response())
}

pub(super) async fn sca_status(
    State(bank): State<Arc<RegistryBank>>,
    headers: HeaderMap,
    Path((id, auth_id)): Path<(String, String)>,
) -> R {
    let e = |err| bank.err(err);
    bank.state
        .consent_for(HOST, &id, bank.tpp(&headers).as_deref())
        .map_err(e)?;
    if let Some(step) = embedded::step_of(&bank, &id, &auth_id) {
        return Ok(axum::Json(json!({"scaStatus": step.bg()})).into_response());
    }
    let status = bank
        .state
        .poll_authorisation(HOST, &id, &auth_id)
        .map_err(e)?;
    Ok(axum::Json(json!({"scaStatus": status.bg()})).into_response())
}

pub(super) async fn update_authorisation(
    State(bank): State<Arc<RegistryBank>>,
    headers: HeaderMap,
    Path((id, auth_id)): Path<(String, String)>,
    body: Bytes,
) -> R {
    let e = |err| bank.err(err);
    bank.state
        .consent_for(HOST, &id, bank.tpp(&headers).as_deref())
        .map_err(e)?;
    let v = json_body(&body).map_err(e)?;
    embedded::update(&bank, &id, &auth_id, &v)
}
