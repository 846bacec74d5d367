//! Embedded SCA of a registry bank: the TPP relays the PSU's password, the chosen SCA
//! method and the one-time code, one `PUT` on the authorisation each.
//!
//! Steps (`scaStatus`): `psuIdentified` (started with `PSU-ID` only) → `psuAuthenticated`
//! (password right; two SCA methods offered) → `scaMethodSelected` (challenge data) →
//! `finalised` (code right; the consent becomes valid). A wrong password is 401
//! `PSU_CREDENTIALS_INVALID`, a wrong code 401 `SCA_INVALID`; either fails the
//! authorisation (`failed`) and rejects the consent.

use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use super::{HOST, R, RegistryBank, link};
use crate::banks::common::created;
use crate::errors::ApiError;
use crate::state::ScaMethod;

/// The password every sandbox PSU has for embedded SCA at a registry bank.
pub const EMBEDDED_PASSWORD: &str = "sandbox-password";
/// The one-time code every embedded SCA at a registry bank accepts.
pub const EMBEDDED_OTP: &str = "123456";

/// The SCA methods offered after the password: `(authenticationMethodId, type, name)`.
const METHODS: [(&str, &str, &str); 2] = [
    ("sms-otp", "SMS_OTP", "SMS"),
    ("chip-otp", "CHIP_OTP", "Chip card reader"),
];

/// Where an embedded authorisation stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Started; the password is due.
    PsuIdentified,
    /// Password right; a method is to be chosen.
    PsuAuthenticated,
    /// Method chosen; the code is due.
    ScaMethodSelected(String),
    /// Done.
    Finalised,
    /// Failed (wrong password or code, or the PSU refused).
    Failed,
}

impl Step {
    /// Berlin Group `scaStatus`.
    pub fn bg(&self) -> &'static str {
        match self {
            Step::PsuIdentified => "psuIdentified",
            Step::PsuAuthenticated => "psuAuthenticated",
            Step::ScaMethodSelected(_) => "scaMethodSelected",
            Step::Finalised => "finalised",
            Step::Failed => "failed",
        }
    }
}

/// One embedded authorisation.
#[derive(Clone)]
pub(super) struct Embedded {
    consent: String,
    psu: String,
    step: Step,
}

fn method_json((id, kind, name): (&str, &str, &str)) -> Value {
    json!({"authenticationMethodId": id, "authenticationType": kind, "name": name})
}

fn status_invalid(step: &Step) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "STATUS_INVALID",
        format!("The authorisation is {}; this step is not due.", step.bg()),
    )
}

/// The step of an embedded authorisation of `consent`, if `auth` is one.
pub(super) fn step_of(bank: &RegistryBank, consent: &str, auth: &str) -> Option<Step> {
    bank.embedded()
        .get(auth)
        .filter(|e| e.consent == consent)
        .map(|e| e.step.clone())
}

fn set_step(bank: &RegistryBank, auth: &str, step: Step) {
    if let Some(e) = bank.embedded().get_mut(auth) {
        e.step = step;
    }
}

fn auth_url(bank: &RegistryBank, consent: &str, auth: &str) -> String {
    bank.url(&format!("/v1/consents/{consent}/authorisations/{auth}"))
}

/// Fails the authorisation and rejects the consent.
fn fail(bank: &RegistryBank, consent: &str, auth: &str, psu: &str) {
    set_step(bank, auth, Step::Failed);
    let _ = bank
        .state
        .complete_sca(HOST, consent, Some(auth), psu, false);
}

/// Starts an embedded authorisation for `psu` (required); with `psuData.password` in
/// `body` the password step is done at once.
pub(super) fn start(bank: &RegistryBank, consent: &str, psu: Option<String>, body: &Value) -> R {
    let e = |err| bank.err(err);
    let psu = psu.ok_or_else(|| e(ApiError::format("PSU-ID is required for embedded SCA.")))?;
    let auth = bank
        .state
        .start_authorisation(HOST, consent, ScaMethod::Redirect, Some(psu.clone()), None)
        .map_err(e)?;
    let mut map = bank.embedded();
    // Bounded like the consents: now and then, forget authorisations whose consent (or
    // whose place in it) is gone.
    if map.len() % 1024 == 1023 || map.len() >= bank.state.config.max_consents {
        let store = bank.state.store();
        map.retain(|id, e| {
            store
                .consents
                .get(&e.consent)
                .is_some_and(|c| c.authorisations.iter().any(|a| a.id == *id))
        });
    }
    map.insert(
        auth.clone(),
        Embedded {
            consent: consent.to_string(),
            psu: psu.clone(),
            step: Step::PsuIdentified,
        },
    );
    drop(map);
    let url = auth_url(bank, consent, &auth);
    let answer = match body.pointer("/psuData/password") {
        Some(pw) => authenticate(bank, consent, &auth, &psu, pw)?,
        None => json!({
            "scaStatus": Step::PsuIdentified.bg(),
            "authorisationId": auth,
            "_links": {"updatePsuAuthentication": link(url.clone()), "scaStatus": link(url.clone())},
        }),
    };
    Ok(created(url, "EMBEDDED", answer))
}

/// The password step.
fn authenticate(
    bank: &RegistryBank,
    consent: &str,
    auth: &str,
    psu: &str,
    password: &Value,
) -> Result<Value, super::BgError> {
    if password.as_str() != Some(EMBEDDED_PASSWORD) {
        fail(bank, consent, auth, psu);
        return Err(bank.err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "PSU_CREDENTIALS_INVALID",
            "The PSU's credentials are wrong.",
        )));
    }
    set_step(bank, auth, Step::PsuAuthenticated);
    let url = auth_url(bank, consent, auth);
    Ok(json!({
        "scaStatus": Step::PsuAuthenticated.bg(),
        "authorisationId": auth,
        "scaMethods": METHODS.iter().map(|m| method_json(*m)).collect::<Vec<_>>(),
        "_links": {"selectAuthenticationMethod": link(url.clone()), "scaStatus": link(url)},
    }))
}

/// The method step.
fn select(
    bank: &RegistryBank,
    consent: &str,
    auth: &str,
    method: &Value,
) -> Result<Value, super::BgError> {
    let Some(chosen) = METHODS
        .iter()
        .find(|(id, _, _)| method.as_str() == Some(*id))
        .copied()
    else {
        return Err(bank.err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "SCA_METHOD_UNKNOWN",
            "authenticationMethodId is not one of the offered scaMethods.",
        )));
    };
    set_step(bank, auth, Step::ScaMethodSelected(chosen.0.to_string()));
    let url = auth_url(bank, consent, auth);
    Ok(json!({
        "scaStatus": "scaMethodSelected",
        "authorisationId": auth,
        "chosenScaMethod": method_json(chosen),
        "challengeData": {
            "otpMaxLength": 6,
            "otpFormat": "integer",
            "additionalInformation": "Enter the 6-digit code sent to you.",
        },
        "_links": {"authoriseTransaction": link(url.clone()), "scaStatus": link(url)},
    }))
}

/// The code step.
fn finish(
    bank: &RegistryBank,
    consent: &str,
    auth: &str,
    psu: &str,
    otp: &Value,
) -> Result<Value, super::BgError> {
    if otp.as_str() != Some(EMBEDDED_OTP) {
        fail(bank, consent, auth, psu);
        return Err(bank.err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "SCA_INVALID",
            "The authentication code is wrong.",
        )));
    }
    let ok = bank
        .state
        .complete_sca(HOST, consent, Some(auth), psu, true)
        .map_err(|err| bank.err(err))?;
    let step = if ok { Step::Finalised } else { Step::Failed };
    set_step(bank, auth, step.clone());
    Ok(json!({
        "scaStatus": step.bg(),
        "authorisationId": auth,
        "_links": {"scaStatus": link(auth_url(bank, consent, auth))},
    }))
}

/// `PUT` on an embedded authorisation: the password, the chosen method or the code,
/// whichever is due.
pub(super) fn update(bank: &RegistryBank, consent: &str, auth: &str, body: &Value) -> R {
    let e = |err| bank.err(err);
    let Some(current) = bank
        .embedded()
        .get(auth)
        .filter(|x| x.consent == consent)
        .cloned()
    else {
        let known = bank
            .state
            .consent(HOST, consent)
            .is_ok_and(|c| c.authorisations.iter().any(|a| a.id == auth));
        return Err(e(if known {
            ApiError::new(
                StatusCode::CONFLICT,
                "STATUS_INVALID",
                "This authorisation does not take PSU data (it is not embedded).",
            )
        } else {
            ApiError::resource_unknown("Authorisation")
        }));
    };
    let password = body.pointer("/psuData/password");
    let method = body.get("authenticationMethodId");
    let otp = body.get("scaAuthenticationData");
    let answer = match (&current.step, password, method, otp) {
        (Step::PsuIdentified, Some(pw), _, _) => {
            authenticate(bank, consent, auth, &current.psu, pw)?
        }
        (Step::PsuAuthenticated, None, Some(m), _) => select(bank, consent, auth, m)?,
        (Step::ScaMethodSelected(_), None, None, Some(code)) => {
            finish(bank, consent, auth, &current.psu, code)?
        }
        (_, None, None, None) => {
            return Err(e(ApiError::format(
                "The body has none of psuData, authenticationMethodId, scaAuthenticationData.",
            )));
        }
        (step, _, _, _) => return Err(e(status_invalid(step))),
    };
    Ok((
        StatusCode::OK,
        [("aspsp-sca-approach", "EMBEDDED")],
        axum::Json(answer),
    )
        .into_response())
}
