//! The consent and authorisation answers (`psd2_raw_berlingroup::types`) → domain model.

use psd2_raw_berlingroup::types as raw;

use crate::adapters::common::FromRaw;
use crate::consent::{Consent, ConsentId, ConsentStatus};
use crate::error::{Error, ErrorKind};
use crate::link::{Link, Links};
use crate::sca::{
    AuthenticationType, EmbeddedChallenge, EmbeddedHandle, OfferedScaMethod, ScaApproach,
    ScaChallenge, ScaStatus,
};

/// The error for an answer that lacks a field the next step needs.
pub(super) fn missing(bank: &'static str, operation: &'static str, field: &str) -> Error {
    Error::new(ErrorKind::UnexpectedResponse, bank, operation)
        .with_detail(format!("the bank's answer has no usable `{field}`"))
}

fn href(link: Option<raw::Link>) -> Option<String> {
    link.and_then(|l| l.href).filter(|h| !h.is_empty())
}

impl FromRaw<raw::AuthenticationObject> for OfferedScaMethod {
    /// A push method is confirmed in an app (decoupled); the others are one-time codes the
    /// TPP relays (embedded).
    fn from_raw(value: raw::AuthenticationObject) -> Self {
        let kind = AuthenticationType::from_bank_str(&value.authentication_type);
        let approach = match kind {
            AuthenticationType::PushOtp => ScaApproach::Decoupled,
            _ => ScaApproach::Embedded,
        };
        let mut method = OfferedScaMethod::new(approach);
        method.id = Some(value.authentication_method_id).filter(|i| !i.is_empty());
        method.name = value.name.or(value.explanation);
        method.authentication_type = Some(kind);
        method
    }
}

fn methods(list: Vec<raw::AuthenticationObject>) -> Vec<OfferedScaMethod> {
    list.into_iter().map(OfferedScaMethod::from_raw).collect()
}

/// What the consent creation answered.
pub(super) struct Created {
    pub(super) consent_id: String,
    pub(super) status: ConsentStatus,
    pub(super) methods: Vec<OfferedScaMethod>,
    pub(super) links: Links,
    pub(super) sca_redirect: Option<String>,
}

/// Reads the consent creation answer; the links' hrefs have the consent id hidden.
pub(super) fn created(
    bank: &'static str,
    operation: &'static str,
    answer: raw::ConsentCreated,
) -> Result<Created, Error> {
    // The id goes back to the bank in the `Consent-ID` header: visible ASCII only.
    if answer.consent_id.is_empty() || !answer.consent_id.chars().all(|c| c.is_ascii_graphic()) {
        return Err(missing(bank, operation, "consentId"));
    }
    let id = ConsentId::new(answer.consent_id.clone());
    let mut links = Links::new();
    let mut sca_redirect = None;
    if let Some(l) = answer.links {
        sca_redirect = href(l.sca_redirect.clone());
        let named = [
            ("scaRedirect", l.sca_redirect),
            ("scaOAuth", l.sca_o_auth),
            ("scaStatus", l.sca_status),
            ("selectAuthenticationMethod", l.select_authentication_method),
            ("self", l.self_),
            ("status", l.status),
            ("startAuthorisation", l.start_authorisation),
            (
                "startAuthorisationWithAuthenticationMethodSelection",
                l.start_authorisation_with_authentication_method_selection,
            ),
            (
                "startAuthorisationWithPsuAuthentication",
                l.start_authorisation_with_psu_authentication,
            ),
            (
                "startAuthorisationWithPsuIdentification",
                l.start_authorisation_with_psu_identification,
            ),
        ];
        for (name, link) in named {
            if let Some(h) = href(link) {
                links.insert(name.to_owned(), Link::new(h).with_consent_id_hidden(&id));
            }
        }
    }
    Ok(Created {
        status: ConsentStatus::from_bank_str(&answer.consent_status.0),
        consent_id: answer.consent_id,
        methods: methods(answer.sca_methods),
        links,
        sca_redirect,
    })
}

/// "Get consent": status, `validUntil`, `frequencyPerDay`, `recurringIndicator`,
/// `lastActionDate` (the answer carries no id: the caller's is used).
pub(super) fn consent(id: ConsentId, value: raw::ConsentInformation) -> Consent {
    let mut consent = Consent::new(id, ConsentStatus::from_bank_str(&value.consent_status.0));
    consent.valid_until = Some(value.valid_until);
    consent.last_action_date = Some(value.last_action_date);
    consent.frequency_per_day = u32::try_from(value.frequency_per_day).ok();
    consent.recurring = Some(value.recurring_indicator);
    consent
}

/// An authorisation answer (start, update).
pub(super) struct Authorisation {
    pub(super) id: Option<String>,
    pub(super) status: ScaStatus,
    pub(super) methods: Vec<OfferedScaMethod>,
    pub(super) chosen: Option<OfferedScaMethod>,
    pub(super) challenge: Option<raw::ChallengeData>,
    pub(super) psu_message: Option<String>,
    pub(super) sca_redirect: Option<String>,
    pub(super) next_href: Option<String>,
}

fn next_href(links: &Option<raw::AuthorisationLinks>) -> Option<String> {
    let l = links.as_ref()?;
    [
        &l.select_authentication_method,
        &l.authorise_transaction,
        &l.update_psu_authentication,
        &l.sca_status,
    ]
    .into_iter()
    .find_map(|link| href(link.clone()))
}

impl FromRaw<raw::AuthorisationStarted> for Authorisation {
    fn from_raw(value: raw::AuthorisationStarted) -> Self {
        Self {
            id: Some(value.authorisation_id).filter(|i| !i.is_empty()),
            status: ScaStatus::from_bank_str(&value.sca_status.0),
            methods: methods(value.sca_methods),
            chosen: value.chosen_sca_method.map(OfferedScaMethod::from_raw),
            challenge: value.challenge_data,
            psu_message: value.psu_message,
            next_href: next_href(&value.links),
            sca_redirect: value.links.and_then(|l| href(l.sca_redirect)),
        }
    }
}

impl FromRaw<raw::AuthorisationUpdated> for Authorisation {
    fn from_raw(value: raw::AuthorisationUpdated) -> Self {
        Self {
            id: value.authorisation_id.filter(|i| !i.is_empty()),
            status: ScaStatus::from_bank_str(&value.sca_status.0),
            methods: methods(value.sca_methods),
            chosen: value.chosen_sca_method.map(OfferedScaMethod::from_raw),
            challenge: value.challenge_data,
            psu_message: value.psu_message,
            next_href: next_href(&value.links),
            sca_redirect: value.links.and_then(|l| href(l.sca_redirect)),
        }
    }
}

/// The embedded challenge of an authorisation answer: the methods to choose from, or the
/// chosen method's challenge. A failed status is [`ErrorKind::ScaFailed`].
pub(super) fn embedded_challenge(
    bank: &'static str,
    operation: &'static str,
    step: Authorisation,
) -> Result<ScaChallenge, Error> {
    if step.status.is_failed() {
        return Err(Error::new(ErrorKind::ScaFailed, bank, operation)
            .with_detail("the bank reported SCA failed"));
    }
    let id = step
        .id
        .ok_or_else(|| missing(bank, operation, "authorisationId"))?;
    let mut handle = EmbeddedHandle::new(id);
    if let Some(href) = step.next_href {
        handle = handle.with_href(href);
    }
    let challenge = match (step.challenge, step.chosen) {
        (None, None) => None,
        (data, method) => {
            let data = data.unwrap_or_default();
            Some(EmbeddedChallenge {
                method,
                otp_max_length: data.otp_max_length.and_then(|n| u32::try_from(n).ok()),
                otp_format: data.otp_format,
                additional_information: data.additional_information,
                data: data.data,
            })
        }
    };
    Ok(ScaChallenge::Embedded {
        handle,
        methods: step.methods,
        challenge,
    })
}
