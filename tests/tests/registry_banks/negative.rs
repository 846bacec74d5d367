//! What each bank refuses, as its profile says: on the wire (the bank's status code and
//! Berlin Group code, in the bank's error shape) and through the facade (a clear error, or
//! the documented substitute).

use chrono::Days;
use psd2::{ErrorKind, Psu, PsuId, ScaChallenge, ScaMethod, Secret};
use psd2_registry::{
    ConsentScopeKind, ErrorShape, MappedError, RegistryEntry, Requirement, ScaApproachKind,
};
use reqwest::StatusCode;
use serde_json::{Value, json};
use url::Url;

use crate::flow::{self, ProfileFacts, SandboxHelpers};
use crate::setup;
use crate::wire::{Answer, Wire};

/// One bank under test: its entry, an adapter counting what it sends, the profile's facts,
/// the PSU's helpers and the independent client.
pub struct Case<'a> {
    /// The registry entry.
    pub entry: &'a RegistryEntry,
    /// The facade's adapter (built with [`setup::counted_adapter`]).
    pub bank: &'a dyn psd2::Bank,
    /// What the adapter sent.
    pub sent: &'a setup::Sent,
    /// The profile's facts.
    pub facts: &'a ProfileFacts,
    /// The PSU's helpers.
    pub helpers: &'a SandboxHelpers,
    /// The independent client.
    pub wire: &'a Wire,
}

/// The codes a refusal may carry: the standard's `standard` codes, or the bank's own code
/// its profile maps to the same meaning (the sandbox sends the bank's own code then).
pub fn codes(entry: &RegistryEntry, standard: &[&str], meaning: MappedError) -> Vec<String> {
    let mut out: Vec<String> = standard.iter().map(|c| (*c).to_string()).collect();
    out.extend(
        entry
            .profile
            .error_codes
            .iter()
            .filter(|(_, m)| **m == meaning)
            .map(|(code, _)| code.clone()),
    );
    out
}

/// Asserts `answer` is an error of `status` in the bank's error shape with one of `codes`.
pub fn assert_refused(
    entry: &RegistryEntry,
    what: &str,
    answer: &Answer,
    status: u16,
    codes: &[String],
) {
    let id = &entry.id;
    assert_eq!(
        answer.status.as_u16(),
        status,
        "{id}: {what}: status; body {}",
        answer.excerpt()
    );
    assert_error_shape(entry, what, answer);
    let got = answer.error_codes();
    assert!(
        got.iter().any(|c| codes.contains(c)),
        "{id}: {what}: code one of {codes:?}, got {got:?}"
    );
}

/// Asserts `answer`'s body has the bank's error shape.
pub fn assert_error_shape(entry: &RegistryEntry, what: &str, answer: &Answer) {
    let id = &entry.id;
    let json = &answer.json;
    let content_type = answer.content_type.as_deref().unwrap_or_default();
    match entry.profile.error_shape {
        ErrorShape::TppMessages => {
            let messages = json["tppMessages"].as_array();
            assert!(
                messages.is_some_and(|m| !m.is_empty()
                    && m.iter()
                        .all(|m| m["category"].is_string() && m["code"].is_string())),
                "{id}: {what}: a tppMessages body: {}",
                answer.excerpt()
            );
            assert!(
                content_type.starts_with("application/json"),
                "{id}: {what}: {content_type}"
            );
        }
        ErrorShape::ProblemJson => {
            assert!(
                content_type.starts_with("application/problem+json"),
                "{id}: {what}: problem+json content type, got {content_type:?}"
            );
            assert!(
                json["title"].is_string()
                    && (json["code"].is_string() || json["additionalErrors"].is_array()),
                "{id}: {what}: a problem+json body: {}",
                answer.excerpt()
            );
        }
        ErrorShape::CodeMessage => {
            assert!(
                json["code"].is_string() && json["message"].is_string(),
                "{id}: {what}: a flat code/message body: {}",
                answer.excerpt()
            );
        }
    }
}

/// A consent body the bank accepts.
pub fn consent_body(facts: &ProfileFacts, today: chrono::NaiveDate) -> Value {
    let access = if facts.scopes.contains(&ConsentScopeKind::AllPsd2) {
        json!({"allPsd2": "allAccounts"})
    } else if facts.scopes.contains(&ConsentScopeKind::Detailed) {
        // A bank-offered consent: the PSU picks the accounts at the bank.
        json!({"accounts": [], "balances": [], "transactions": []})
    } else {
        json!({"availableAccounts": "allAccounts"})
    };
    json!({
        "access": access,
        "recurringIndicator": true,
        "validUntil": today.checked_add_days(Days::new(30)).unwrap().to_string(),
        "frequencyPerDay": facts.max_frequency_per_day.min(4),
        "combinedServiceIndicator": false,
    })
}

const APPROACHES: [ScaApproachKind; 3] = [
    ScaApproachKind::Redirect,
    ScaApproachKind::Decoupled,
    ScaApproachKind::Embedded,
];

/// The header asking for `approach` on consent creation, if the standard has one.
fn preference(approach: ScaApproachKind) -> Option<&'static str> {
    match approach {
        ScaApproachKind::Redirect => Some("TPP-Redirect-Preferred"),
        ScaApproachKind::Decoupled => Some("TPP-Decoupled-Preferred"),
        ScaApproachKind::Embedded => None,
    }
}

fn approach_name(approach: ScaApproachKind) -> String {
    format!("{approach:?}").to_ascii_uppercase()
}

/// SCA approaches: the facade refuses to start one the bank does not offer (unsupported,
/// nothing sent); the bank refuses a preference for it with 400 `SCA_METHOD_UNKNOWN` and
/// answers a preference for one it offers with that approach.
pub async fn sca_approaches(case: &Case<'_>) {
    let (id, facts, helpers) = (&case.entry.id, case.facts, case.helpers);
    let psu = setup::psu();
    let consents = case.bank.as_consents().unwrap();
    for approach in APPROACHES {
        let body = consent_body(facts, helpers.today);
        let header = preference(approach);
        let answer = match header {
            Some(header) => Some(case.wire.create_consent(&body, &[(header, "true")]).await),
            None => None,
        };
        if facts.sca_approaches.contains(&approach) {
            // A preference, not an order: the bank answers with an approach it offers.
            if let Some(answer) = answer {
                assert_eq!(answer.status, StatusCode::CREATED, "{id}: {header:?}");
                let offered: Vec<String> = facts
                    .sca_approaches
                    .iter()
                    .map(|a| approach_name(*a))
                    .collect();
                let chosen = answer.sca_approach.unwrap_or_default();
                assert!(
                    offered.contains(&chosen),
                    "{id}: ASPSP-SCA-Approach {chosen:?}"
                );
            }
            continue;
        }
        if let (Some(answer), Some(header)) = (answer, header) {
            let expected = codes(
                case.entry,
                &["SCA_METHOD_UNKNOWN"],
                MappedError::FormatError,
            );
            assert_refused(case.entry, header, &answer, 400, &expected);
        }
        let created = consents
            .create_consent(&flow::consent_request(facts, helpers), &psu)
            .await
            .unwrap();
        let method = match approach {
            ScaApproachKind::Redirect => ScaMethod::Redirect {
                redirect_uri: Url::parse(setup::REDIRECT_URI).unwrap(),
            },
            ScaApproachKind::Decoupled => ScaMethod::Decoupled,
            ScaApproachKind::Embedded => ScaMethod::Embedded {
                password: Secret::new(helpers.embedded_password),
            },
        };
        let before = case.sent.count();
        let error = consents
            .start_sca(&created.consent.id, &method, &psu)
            .await
            .expect_err(&format!("{id}: {approach:?} is not offered"));
        assert!(
            matches!(error.kind, ErrorKind::Unsupported { .. }),
            "{id}: {approach:?} not offered: {error}"
        );
        assert_eq!(case.sent.count(), before, "{id}: refused before sending");
    }
}

/// PSU-ID and PSU-IP-Address where the profile requires them: 400 `FORMAT_ERROR` without
/// them on the wire; the facade refuses before sending (invalid input).
pub async fn psu_headers(case: &Case<'_>) {
    let (entry, facts, helpers) = (case.entry, case.facts, case.helpers);
    let id = &entry.id;
    let body = consent_body(facts, helpers.today);
    let format = codes(entry, &["FORMAT_ERROR"], MappedError::FormatError);
    let consents = case.bank.as_consents().unwrap();
    let request = flow::consent_request(facts, helpers);
    if entry.profile.psu_id == Requirement::Required {
        let mut anonymous = case.wire.clone();
        anonymous.psu_id.clear();
        let answer = anonymous.create_consent(&body, &[]).await;
        assert_refused(entry, "consent without PSU-ID", &answer, 400, &format);
        let ip = "192.0.2.10".parse().unwrap();
        let before = case.sent.count();
        let error = consents
            .create_consent(&request, &Psu::present(ip, None))
            .await
            .expect_err(&format!("{id}: PSU-ID is required"));
        assert_eq!(error.kind, ErrorKind::InvalidInput, "{id}: {error}");
        assert!(
            error.to_string().contains("PSU-ID"),
            "{id}: names it: {error}"
        );
        assert_eq!(case.sent.count(), before, "{id}: refused before sending");
    }
    if entry.profile.psu_ip_address == Requirement::Required {
        let mut no_ip = case.wire.clone();
        no_ip.psu_ip.clear();
        let answer = no_ip.create_consent(&body, &[]).await;
        let what = "consent without PSU-IP-Address";
        assert_refused(entry, what, &answer, 400, &format);
        // An absent PSU has no address, and this adapter no fallback.
        let before = case.sent.count();
        let error = consents
            .create_consent(&request, &Psu::absent().with_id(PsuId::new(setup::PSU)))
            .await
            .expect_err(&format!("{id}: PSU-IP-Address is required"));
        assert_eq!(error.kind, ErrorKind::InvalidInput, "{id}: {error}");
        assert!(
            error.to_string().contains("PSU-IP-Address"),
            "{id}: {error}"
        );
        assert_eq!(case.sent.count(), before, "{id}: refused before sending");
    }
}

/// A `frequencyPerDay` above the bank's maximum (400 on the wire; the adapter caps it, so
/// the bank grants the consent) and the profile's static headers (400 without one).
pub async fn frequency_and_static_headers(case: &Case<'_>) {
    let (entry, facts, helpers) = (case.entry, case.facts, case.helpers);
    let id = &entry.id;
    let body = consent_body(facts, helpers.today);
    let format = codes(entry, &["FORMAT_ERROR"], MappedError::FormatError);
    let too_often = facts.max_frequency_per_day.saturating_add(1);
    let mut frequent = body.clone();
    frequent["frequencyPerDay"] = json!(too_often);
    let answer = case.wire.create_consent(&frequent, &[]).await;
    let what = "frequencyPerDay above the bank's maximum";
    assert_refused(entry, what, &answer, 400, &format);
    let request = flow::consent_request(facts, helpers).frequency_per_day(too_often);
    let created = case
        .bank
        .as_consents()
        .unwrap()
        .create_consent(&request, &setup::psu())
        .await
        .unwrap_or_else(|e| panic!("{id}: frequencyPerDay is capped: {e}"));
    if let Some(granted) = created.consent.frequency_per_day {
        let max = facts.max_frequency_per_day;
        assert!(granted <= max, "{id}: granted {granted} > {max}");
    }
    for name in entry.profile.extra_headers.keys() {
        let mut without = case.wire.clone();
        without.extra_headers.remove(name);
        let answer = without.create_consent(&body, &[]).await;
        let what = format!("consent without {name}");
        assert_refused(entry, &what, &answer, 400, &format);
    }
}

/// A bank requiring signatures: an unsigned request is 401; an adapter without a signing
/// identity is not built, and the error names the bank.
pub async fn signatures(case: &Case<'_>, sandbox: &psd2_sandbox::RunningSandbox) {
    let entry = case.entry;
    let id = &entry.id;
    if !entry.profile.security.signatures {
        return;
    }
    let answer = case.wire.get_anonymous("/v1/accounts", true).await;
    let expected = codes(
        entry,
        &[
            "SIGNATURE_MISSING",
            "SIGNATURE_INVALID",
            "CERTIFICATE_MISSING",
        ],
        MappedError::Unauthorized,
    );
    assert_refused(entry, "an unsigned request", &answer, 401, &expected);
    let config = setup::config(sandbox, entry, false);
    let error = psd2::registry::adapter(entry, config)
        .err()
        .unwrap_or_else(|| panic!("{id}: an adapter without a signing identity"));
    assert!(
        error.to_string().contains(id.as_str()),
        "{id}: the error names the bank: {error}"
    );
}

/// Embedded SCA with a wrong password or a wrong one-time code: the bank refuses (401
/// `PSU_CREDENTIALS_INVALID` / `SCA_INVALID`, which the facade reads as `Unauthorized` /
/// `ScaFailed`), the consent stays unauthorised, and neither secret shows in the error.
pub async fn embedded_refused(case: &Case<'_>) {
    if !case
        .facts
        .sca_approaches
        .contains(&ScaApproachKind::Embedded)
    {
        return;
    }
    wrong_password(case).await;
    wrong_one_time_code(case).await;
}

fn assert_code(case: &Case<'_>, error: &psd2::Error, standard: &str, meaning: MappedError) {
    let expected = codes(case.entry, &[standard], meaning);
    let got: Vec<&str> = error.codes().collect();
    assert!(
        got.iter().any(|c| expected.iter().any(|e| e == c)),
        "{}: code one of {expected:?}, got {got:?}",
        case.entry.id
    );
}

async fn wrong_password(case: &Case<'_>) {
    let id = &case.entry.id;
    let psu = setup::psu();
    let consents = case.bank.as_consents().unwrap();
    let wrong = "not-the-password-7f3a";
    assert_ne!(wrong, case.helpers.embedded_password);
    let created = consents
        .create_consent(&flow::consent_request(case.facts, case.helpers), &psu)
        .await
        .unwrap();
    let method = ScaMethod::Embedded {
        password: Secret::new(wrong),
    };
    let error = consents
        .start_sca(&created.consent.id, &method, &psu)
        .await
        .expect_err(&format!("{id}: a wrong password"));
    assert_eq!(error.kind, ErrorKind::Unauthorized, "{id}: {error}");
    assert_eq!(error.status, Some(401), "{id}: {error}");
    assert_code(
        case,
        &error,
        "PSU_CREDENTIALS_INVALID",
        MappedError::Unauthorized,
    );
    for text in [format!("{error}"), format!("{error:?}")] {
        assert!(
            !text.contains(wrong),
            "{id}: the password shows in the error"
        );
    }
}

async fn wrong_one_time_code(case: &Case<'_>) {
    let id = &case.entry.id;
    let psu = setup::psu();
    let consents = case.bank.as_consents().unwrap();
    let created = consents
        .create_consent(&flow::consent_request(case.facts, case.helpers), &psu)
        .await
        .unwrap();
    let consent = &created.consent.id;
    let method = ScaMethod::Embedded {
        password: Secret::new(case.helpers.embedded_password),
    };
    let ScaChallenge::Embedded {
        handle, methods, ..
    } = consents.start_sca(consent, &method, &psu).await.unwrap()
    else {
        panic!("{id}: an embedded challenge");
    };
    let chosen = methods.iter().find_map(|m| m.id.clone()).unwrap();
    let ScaChallenge::Embedded { handle, .. } = consents
        .select_sca_method(consent, &handle, &chosen, &psu)
        .await
        .unwrap()
    else {
        panic!("{id}: the chosen method's challenge");
    };
    let wrong = "999999";
    assert_ne!(wrong, case.helpers.embedded_otp);
    let error = consents
        .complete_embedded(consent, &handle, &Secret::new(wrong), &psu)
        .await
        .expect_err(&format!("{id}: a wrong one-time code"));
    assert_eq!(error.kind, ErrorKind::ScaFailed, "{id}: {error}");
    assert_code(case, &error, "SCA_INVALID", MappedError::ScaFailed);
    for text in [format!("{error}"), format!("{error:?}")] {
        assert!(!text.contains(wrong), "{id}: the code shows in the error");
    }
    assert_ne!(
        consents.consent_status(consent, &psu).await.unwrap(),
        psd2::ConsentStatus::Valid,
        "{id}: the consent is not authorised"
    );
}

/// Consent limits: a `validUntil` beyond the bank's maximum is shortened by the bank (its
/// consent shows the shorter date) and capped by the adapter; a scope kind the bank does not
/// accept is 400 `SERVICE_INVALID`.
pub async fn consent_limits(case: &Case<'_>) {
    let (entry, facts, helpers) = (case.entry, case.facts, case.helpers);
    let id = &entry.id;
    let latest = helpers
        .today
        .checked_add_days(Days::new(u64::from(facts.max_valid_days)))
        .unwrap();
    let too_late = latest.checked_add_days(Days::new(30)).unwrap();
    let mut body = consent_body(facts, helpers.today);
    body["validUntil"] = json!(too_late.to_string());
    let answer = case.wire.create_consent(&body, &[]).await;
    assert_eq!(
        answer.status,
        StatusCode::CREATED,
        "{id}: {}",
        answer.excerpt()
    );
    let consent = answer.json["consentId"].as_str().unwrap();
    let shown = case
        .wire
        .get(&format!("/v1/consents/{consent}"), consent)
        .await;
    let granted: chrono::NaiveDate = shown.json["validUntil"]
        .as_str()
        .unwrap_or_else(|| panic!("{id}: the consent shows validUntil: {}", shown.excerpt()))
        .parse()
        .unwrap();
    assert!(
        granted <= latest,
        "{id}: validUntil {granted} beyond {latest}"
    );
    let request = flow::consent_request(facts, helpers).valid_until(too_late);
    let created = case
        .bank
        .as_consents()
        .unwrap()
        .create_consent(&request, &setup::psu())
        .await
        .unwrap_or_else(|e| panic!("{id}: validUntil is capped: {e}"));
    if let Some(granted) = created.consent.valid_until {
        assert!(granted <= latest, "{id}: granted {granted} beyond {latest}");
    }
    if !facts.scopes.contains(&ConsentScopeKind::AllPsd2) {
        let mut global = consent_body(facts, helpers.today);
        global["access"] = json!({"allPsd2": "allAccounts"});
        let answer = case.wire.create_consent(&global, &[]).await;
        let expected = codes(entry, &["SERVICE_INVALID"], MappedError::FormatError);
        assert_refused(entry, "an allPsd2 consent", &answer, 400, &expected);
    }
}
