//! Each error shape, and a bank's own code, become the right kind.

use psd2_registry::{ErrorShape, MappedError};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::*;
use crate::api::AccountInformation;
use crate::error::ErrorKind;

async fn failing(status: u16, content_type: &str, body: serde_json::Value) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/v1/accounts"))
        .respond_with(
            ResponseTemplate::new(status).set_body_raw(body.to_string().into_bytes(), content_type),
        )
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn tpp_messages_are_read_and_classified() {
    let server = failing(
        401,
        "application/json",
        json!({"tppMessages": [{"category": "ERROR", "code": "CONSENT_EXPIRED", "text": "expired"}]}),
    )
    .await;
    let bank = bank(&server, |_| {});
    let error = bank
        .accounts(&session(), &present(), false)
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::ConsentExpired);
    assert_eq!(error.status, Some(401));
    assert_eq!(
        error.bank_messages()[0].code.as_deref(),
        Some("CONSENT_EXPIRED")
    );
    assert_eq!(error.bank_messages()[0].category.as_deref(), Some("ERROR"));
    assert!(error.request_id().is_some());
}

#[tokio::test]
async fn problem_json_is_read_with_its_additional_errors() {
    let server = failing(
        400,
        "application/problem+json",
        json!({
            "type": "https://berlin-group.org/problem-types/PERIOD_INVALID",
            "title": "Requested time period out of bound",
            "code": "PERIOD_INVALID",
            "additionalErrors": [{"title": "t", "detail": "d", "code": "FORMAT_ERROR"}]
        }),
    )
    .await;
    let bank = bank(&server, |e| e.profile.error_shape = ErrorShape::ProblemJson);
    let error = bank
        .accounts(&session(), &present(), false)
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::FormatError);
    let codes: Vec<_> = error.codes().collect();
    assert_eq!(codes, ["PERIOD_INVALID", "FORMAT_ERROR"]);
}

#[tokio::test]
async fn a_flat_code_message_body_is_read() {
    let server = failing(
        403,
        "application/json",
        json!({"id": "1", "system": "ERA-PSD2", "status": 403, "code": "CONSENT_INVALID", "message": "no"}),
    )
    .await;
    let bank = bank(&server, |e| e.profile.error_shape = ErrorShape::CodeMessage);
    let error = bank
        .accounts(&session(), &present(), false)
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::ConsentInvalid);
    assert_eq!(error.bank_messages().len(), 1);
    assert_eq!(error.bank_messages()[0].text.as_deref(), Some("no"));
}

#[tokio::test]
async fn the_banks_own_codes_are_mapped_before_the_standards() {
    let body = json!({"tppMessages": [{"category": "ERROR", "code": "NB_CONSENT_GONE"}]});
    let server = failing(400, "application/json", body.clone()).await;
    let plain = bank(&server, |_| {});
    let error = plain
        .accounts(&session(), &present(), false)
        .await
        .unwrap_err();
    assert_eq!(
        error.kind,
        ErrorKind::FormatError,
        "unknown code: by status"
    );
    let mapped = bank(&server, |e| {
        e.profile
            .error_codes
            .insert("NB_CONSENT_GONE".into(), MappedError::ConsentRevoked);
    });
    let error = mapped
        .accounts(&session(), &present(), false)
        .await
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::ConsentRevoked);

    let server = failing(
        429,
        "application/json",
        json!({"tppMessages": [{"category": "ERROR", "code": "NB_SLOW_DOWN"}]}),
    )
    .await;
    let mapped = super::bank(&server, |e| {
        e.profile
            .error_codes
            .insert("NB_SLOW_DOWN".into(), MappedError::AccessExceeded);
    });
    let error = mapped
        .accounts(&session(), &present(), false)
        .await
        .unwrap_err();
    assert!(matches!(error.kind, ErrorKind::AccessExceeded { .. }));
}

#[test]
fn messages_of_each_shape() {
    use crate::adapters::berlingroup::errors::messages;
    let tpp = br#"{"tppMessages":{"category":"ERROR","code":"SCA_INVALID","path":"x","text":"t"}}"#;
    let m = messages(ErrorShape::TppMessages, tpp);
    assert_eq!(m[0].path.as_deref(), Some("x"));
    assert_eq!(m[0].code.as_deref(), Some("SCA_INVALID"));
    // A body in another shape than the profile's is still read.
    let flat = br#"{"code":"PSU_CREDENTIALS_INVALID","message":"m"}"#;
    assert_eq!(
        messages(ErrorShape::TppMessages, flat)[0].code.as_deref(),
        Some("PSU_CREDENTIALS_INVALID")
    );
    assert!(messages(ErrorShape::ProblemJson, b"not json").is_empty());
}
