//! SCA approaches as the profile offers them: redirect, decoupled, embedded.

use psd2_registry::ScaApproachKind;
use serde_json::json;
use url::Url;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::api::Consents;
use crate::error::ErrorKind;
use crate::sca::{RedirectCallback, ScaChallenge, ScaMethod, ScaProgress};
use crate::secret::Secret;

const AUTH: &str = "/v1/consents/consent-1/authorisations";

#[tokio::test]
async fn an_approach_the_bank_does_not_offer_is_refused_before_sending() {
    let server = MockServer::start().await;
    let bank = bank(&server, |e| {
        e.profile.sca_approaches = vec![ScaApproachKind::Redirect]
    });
    for method in [
        ScaMethod::Decoupled,
        ScaMethod::Embedded {
            password: Secret::new("pw"),
        },
    ] {
        let error = bank
            .start_sca(&ConsentId::new("consent-1"), &method, &present())
            .await
            .unwrap_err();
        assert!(
            matches!(error.kind, ErrorKind::Unsupported { .. }),
            "{error}"
        );
    }
    assert!(server.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn decoupled_asks_for_decoupled_and_polls_the_authorisation() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(AUTH))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "scaStatus": "started", "authorisationId": "auth-1",
            "_links": {"scaStatus": {"href": format!("{AUTH}/auth-1")}}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{AUTH}/auth-1")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"scaStatus": "finalised"})))
        .mount(&server)
        .await;
    let bank = bank(&server, |_| {});
    let consent = ConsentId::new("consent-1");
    let challenge = bank
        .start_sca(&consent, &ScaMethod::Decoupled, &present())
        .await
        .unwrap();
    let ScaChallenge::Decoupled { handle, .. } = challenge else {
        panic!("not decoupled: {challenge:?}");
    };
    assert_eq!(handle.expose(), "auth-1");
    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(header(sent, "tpp-redirect-preferred"), Some("false"));
    assert_eq!(header(sent, "tpp-decoupled-preferred"), Some("true"));
    let progress = bank
        .poll_decoupled(&consent, &handle, &present())
        .await
        .unwrap();
    assert!(matches!(progress, ScaProgress::Done(_)));
}

#[tokio::test]
async fn redirect_adds_state_and_checks_it_on_return() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(AUTH))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "scaStatus": "received", "authorisationId": "auth-2",
            "_links": {"scaRedirect": {"href": "https://bank.example/sca?id=1"}}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{AUTH}/auth-2")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"scaStatus": "finalised"})))
        .mount(&server)
        .await;
    // The consent is not valid yet when the PSU comes back: the authorisation decides.
    Mock::given(method("GET"))
        .and(path("/v1/consents/consent-1/status"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"consentStatus": "received"})),
        )
        .mount(&server)
        .await;
    let bank = bank(&server, |_| {});
    let consent = ConsentId::new("consent-1");
    let redirect_uri = Url::parse("https://tpp.example/cb").unwrap();
    let challenge = bank
        .start_sca(
            &consent,
            &ScaMethod::Redirect {
                redirect_uri: redirect_uri.clone(),
            },
            &present(),
        )
        .await
        .unwrap();
    let ScaChallenge::Redirect { url, state } = challenge else {
        panic!("not redirect");
    };
    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(header(sent, "tpp-redirect-preferred"), Some("true"));
    assert_eq!(
        header(sent, "tpp-redirect-uri"),
        Some("https://tpp.example/cb")
    );
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    assert!(pairs.contains(&("state".into(), state.clone())));
    assert!(pairs.contains(&("redirect_uri".into(), redirect_uri.to_string())));

    let forged = RedirectCallback::from_url(
        &Url::parse("https://tpp.example/cb?code=c&state=other").unwrap(),
    )
    .unwrap();
    let error = bank
        .complete_redirect(&consent, &forged, &present())
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    let good = RedirectCallback::from_url(
        &Url::parse(&format!("https://tpp.example/cb?code=c&state={state}")).unwrap(),
    )
    .unwrap();
    let session = bank
        .complete_redirect(&consent, &good, &present())
        .await
        .unwrap();
    assert_eq!(session.consent_id.expose(), "consent-1");
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect();
    assert_eq!(
        paths,
        [
            format!("POST {AUTH}"),
            "GET /v1/consents/consent-1/status".to_owned(),
            format!("GET {AUTH}/auth-2"),
        ]
    );
    // A state is good once.
    let replay = bank
        .complete_redirect(&consent, &good, &present())
        .await
        .unwrap_err();
    assert_eq!(replay.kind, ErrorKind::InvalidInput);
}

#[tokio::test]
async fn embedded_relays_password_method_and_otp() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(AUTH))
        .and(body_json(json!({"psuData": {"password": "sandbox-password"}})))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "scaStatus": "psuAuthenticated", "authorisationId": "auth-3",
            "scaMethods": [
                {"authenticationMethodId": "sms-otp", "authenticationType": "SMS_OTP", "name": "SMS"},
                {"authenticationMethodId": "chip-otp", "authenticationType": "CHIP_OTP"}
            ],
            "_links": {"selectAuthenticationMethod": {"href": format!("{AUTH}/auth-3")}}
        })))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{AUTH}/auth-3")))
        .and(body_json(json!({"authenticationMethodId": "sms-otp"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "scaStatus": "scaMethodSelected",
            "chosenScaMethod": {"authenticationMethodId": "sms-otp", "authenticationType": "SMS_OTP"},
            "challengeData": {"otpMaxLength": 6, "otpFormat": "integer", "additionalInformation": "Enter the code"},
            "_links": {"authoriseTransaction": {"href": format!("{AUTH}/auth-3")}}
        })))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{AUTH}/auth-3")))
        .and(body_json(json!({"scaAuthenticationData": "123456"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"scaStatus": "finalised"})))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{AUTH}/auth-3")))
        .and(body_json(json!({"scaAuthenticationData": "000000"})))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({
            "tppMessages": [{"category": "ERROR", "code": "SCA_INVALID"}]
        })))
        .mount(&server)
        .await;
    let bank = bank(&server, |e| {
        e.profile.sca_approaches = vec![ScaApproachKind::Embedded]
    });
    let consent = ConsentId::new("consent-1");

    // No PSU id: refused before sending.
    let anonymous = Psu::absent();
    let method = ScaMethod::Embedded {
        password: Secret::new("sandbox-password"),
    };
    let error = bank
        .start_sca(&consent, &method, &anonymous)
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidInput);
    assert!(server.received_requests().await.unwrap().is_empty());

    let challenge = bank.start_sca(&consent, &method, &present()).await.unwrap();
    let ScaChallenge::Embedded {
        handle,
        methods,
        challenge,
    } = challenge
    else {
        panic!("not embedded");
    };
    assert!(!format!("{handle:?}").contains("auth-3"));
    assert_eq!(handle.expose(), "auth-3");
    assert!(challenge.is_none());
    let ids: Vec<_> = methods.iter().map(|m| m.id.as_deref().unwrap()).collect();
    assert_eq!(ids, ["sms-otp", "chip-otp"]);
    let sent = &server.received_requests().await.unwrap()[0];
    assert_eq!(header(sent, "psu-id"), Some("private-1"));

    let selected = bank
        .select_sca_method(&consent, &handle, "sms-otp", &present())
        .await
        .unwrap();
    let ScaChallenge::Embedded {
        challenge: Some(challenge),
        ..
    } = selected
    else {
        panic!("no challenge");
    };
    assert_eq!(challenge.otp_max_length, Some(6));
    assert_eq!(challenge.otp_format.as_deref(), Some("integer"));
    assert_eq!(challenge.method.unwrap().id.as_deref(), Some("sms-otp"));

    let wrong = bank
        .complete_embedded(&consent, &handle, &Secret::new("000000"), &present())
        .await
        .unwrap_err();
    assert_eq!(wrong.kind, ErrorKind::ScaFailed);
    let session = bank
        .complete_embedded(&consent, &handle, &Secret::new("123456"), &present())
        .await
        .unwrap();
    assert_eq!(session.consent_id.expose(), "consent-1");
}
