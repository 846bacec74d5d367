//! Tests of the error type and the error body parsers.
use super::*;

#[test]
fn debug_never_prints_bank_message_texts() {
    let body = br#"{"tppMessages":[{"category":"ERROR","code":"CONSENT_UNKNOWN","text":"consent 3f1c-secret-id unknown"}]}"#;
    let error = Error::from_response("openpayments", "get_accounts", 403, body, None);
    let debug = format!("{error:?}");
    assert!(debug.contains("CONSENT_UNKNOWN"), "{debug}");
    assert!(!debug.contains("3f1c-secret-id"), "{debug}");
    assert!(!error.to_string().contains("3f1c-secret-id"));
}

#[test]
fn error_stays_small() {
    // Keeps `Result<T, Error>` under clippy's `result_large_err` threshold (128 bytes).
    assert!(
        std::mem::size_of::<Error>() <= 80,
        "{}",
        std::mem::size_of::<Error>()
    );
}

// Swedbank examples from seed 004.
const SWEDBANK_400: &str =
    r#"{"id":"5615873375","status":400,"system":"ERA-PSD2","code":"FORMAT_ERROR"}"#;
const SWEDBANK_404: &str = r#"{"id":"5615873376","system":"ERA-PSD2","status":404,"code":"RESOURCE_UNKNOWN","message":"Account not found."}"#;
const SWEDBANK_500: &str =
    r#"{"id":"5615873378","system":"ERA-PSD2","status":500,"code":"SYSTEM_ERROR"}"#;
const BERLIN_GROUP: &str = r#"{"tppMessages":[{"category":"ERROR","code":"CONSENT_EXPIRED","text":"The consent has expired","path":"Consent-ID"},{"category":"WARNING","code":"PERIOD_INVALID"}]}"#;
const HANDELSBANKEN: &str = r#"{"httpCode":"401","httpMessage":"Unauthorized","moreInformation":"Invalid client id or secret."}"#;
const HANDELSBANKEN_ERRORS: &str = r#"{"httpCode":"400","httpMessage":"Bad Request","moreInformation":"Validation failed","errors":[{"code":"FORMAT_ERROR","message":"dateFrom invalid","field":"dateFrom"}]}"#;
const OAUTH: &str = r#"{"error":"invalid_grant","error_description":"Authorization code expired"}"#;
const PROBLEM: &str = r#"{"type":"https://berlin-group.org/problem/access","title":"Too many","detail":"limit reached","code":"ACCESS_EXCEEDED","additionalErrors":[{"title":"x","detail":"second","code":"PERIOD_INVALID"}]}"#;

fn codes(body: &str) -> Vec<String> {
    BankMessage::parse_error_body(body.as_bytes())
        .into_iter()
        .filter_map(|m| m.code)
        .collect()
}

#[test]
fn swedbank_bodies() {
    let m = BankMessage::parse_error_body(SWEDBANK_404.as_bytes());
    assert_eq!(m.len(), 1);
    assert_eq!(m[0].code.as_deref(), Some("RESOURCE_UNKNOWN"));
    assert_eq!(m[0].text.as_deref(), Some("Account not found."));
    assert_eq!(codes(SWEDBANK_400), ["FORMAT_ERROR"]);
    assert_eq!(codes(SWEDBANK_500), ["SYSTEM_ERROR"]);
    assert_eq!(
        Error::from_response("swedbank", "account", 400, SWEDBANK_400.as_bytes(), None).kind,
        ErrorKind::FormatError
    );
    assert_eq!(
        Error::from_response("swedbank", "account", 404, SWEDBANK_404.as_bytes(), None).kind,
        ErrorKind::ResourceUnknown
    );
    assert_eq!(
        Error::from_response("swedbank", "account", 500, SWEDBANK_500.as_bytes(), None).kind,
        ErrorKind::BankUnavailable
    );
}

#[test]
fn berlin_group_tpp_messages() {
    let m = BankMessage::parse_error_body(BERLIN_GROUP.as_bytes());
    assert_eq!(m.len(), 2);
    assert_eq!(m[0].category.as_deref(), Some("ERROR"));
    assert_eq!(m[0].path.as_deref(), Some("Consent-ID"));
    let e = Error::from_response(
        "openpayments",
        "accounts",
        401,
        BERLIN_GROUP.as_bytes(),
        None,
    );
    assert_eq!(e.kind, ErrorKind::ConsentExpired);
}

#[test]
fn handelsbanken_bodies() {
    let m = BankMessage::parse_error_body(HANDELSBANKEN.as_bytes());
    assert_eq!(m[0].code.as_deref(), Some("Unauthorized"));
    assert_eq!(m[0].text.as_deref(), Some("Invalid client id or secret."));
    assert_eq!(
        Error::from_response(
            "handelsbanken",
            "token",
            401,
            HANDELSBANKEN.as_bytes(),
            None
        )
        .kind,
        ErrorKind::Unauthorized
    );
    let m = BankMessage::parse_error_body(HANDELSBANKEN_ERRORS.as_bytes());
    assert_eq!(m.len(), 2);
    assert_eq!(m[1].path.as_deref(), Some("dateFrom"));
    assert_eq!(
        Error::from_response(
            "handelsbanken",
            "transactions",
            400,
            HANDELSBANKEN_ERRORS.as_bytes(),
            None
        )
        .kind,
        ErrorKind::FormatError
    );
}

#[test]
fn oauth_and_problem_bodies() {
    assert_eq!(codes(OAUTH), ["invalid_grant"]);
    assert_eq!(
        Error::from_response("handelsbanken", "token", 400, OAUTH.as_bytes(), None).kind,
        ErrorKind::Unauthorized
    );
    assert_eq!(codes(PROBLEM), ["ACCESS_EXCEEDED", "PERIOD_INVALID"]);
    let e = Error::from_response(
        "swedbank",
        "transactions",
        429,
        PROBLEM.as_bytes(),
        Some("120"),
    );
    assert_eq!(
        e.kind,
        ErrorKind::AccessExceeded {
            retry_after: Some(Duration::from_secs(120))
        }
    );
}

#[test]
fn junk_bodies_give_no_messages() {
    for body in ["", "<html>502</html>", "[]", "42", "{}", "{\"foo\":1}"] {
        assert!(
            BankMessage::parse_error_body(body.as_bytes()).is_empty(),
            "{body}"
        );
    }
    let e = Error::from_response(
        "swedbank",
        "accounts",
        502,
        b"<html>bad gateway</html>",
        None,
    );
    assert_eq!(e.kind, ErrorKind::BankUnavailable);
    assert_eq!(e.raw_body(), Some("<html>bad gateway</html>"));
}

#[test]
fn classification_by_status_and_code() {
    use ErrorKind as K;
    assert_eq!(
        K::classify(Some(401), &["CONSENT_INVALID"], None),
        K::ConsentInvalid
    );
    assert_eq!(
        K::classify(Some(403), &["CONSENT_UNKNOWN"], None),
        K::ConsentUnknown
    );
    assert_eq!(
        K::classify(Some(401), &["TOKEN_EXPIRED"], None),
        K::Unauthorized
    );
    assert_eq!(
        K::classify(Some(401), &["CERTIFICATE_INVALID"], None),
        K::Unauthorized
    );
    assert_eq!(
        K::classify(Some(401), &["SIGNATURE_INVALID"], None),
        K::Unauthorized
    );
    assert_eq!(
        K::classify(Some(403), &["SERVICE_BLOCKED"], None),
        K::ServiceBlocked
    );
    assert_eq!(
        K::classify(Some(401), &["unknown", "TOKEN_INVALID"], None),
        K::Unauthorized
    );
    assert_eq!(
        K::classify(Some(429), &[], None),
        K::AccessExceeded { retry_after: None }
    );
    assert_eq!(K::classify(Some(503), &[], None), K::BankUnavailable);
    assert_eq!(K::classify(Some(404), &[], None), K::ResourceUnknown);
    assert_eq!(K::classify(Some(418), &[], None), K::UnexpectedResponse);
    assert_eq!(K::classify(None, &[], None), K::UnexpectedResponse);
    assert!(K::BankUnavailable.is_retryable());
    assert!(!K::ConsentExpired.is_retryable());
}

#[test]
fn retry_after_forms() {
    let now = DateTime::parse_from_rfc3339("2015-10-21T07:28:00Z")
        .unwrap()
        .with_timezone(&Utc);
    assert_eq!(parse_retry_after("30", now), Some(Duration::from_secs(30)));
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:29:00 GMT", now),
        Some(Duration::from_secs(60))
    );
    assert_eq!(
        parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
        Some(Duration::ZERO)
    );
    assert_eq!(parse_retry_after("soon", now), None);
    assert_eq!(parse_retry_after("-5", now), None);
}

#[test]
fn display_is_one_line_without_body_or_texts() {
    let body = r#"{"tppMessages":[{"category":"ERROR","code":"CONSENT_INVALID","text":"Consent 22aa3559-577d-441c invalid"}]}"#;
    let e = Error::from_response("openpayments", "accounts", 401, body.as_bytes(), None)
        .with_request_id("8ef6348b-3f9f");
    let shown = e.to_string();
    assert_eq!(
        shown,
        "openpayments accounts: consent invalid (HTTP 401) [CONSENT_INVALID] (request id 8ef6348b-3f9f)"
    );
    let debug = format!("{e:?}");
    assert!(
        debug.contains(&format!("raw_body_len: Some({})", body.len())),
        "{debug}"
    );
    assert!(
        !debug.contains("tppMessages"),
        "raw body must not be in Debug: {debug}"
    );
    assert!(!shown.contains('\n'));
}

#[test]
fn raw_body_is_truncated_on_a_char_boundary() {
    let body = "å".repeat(5000);
    let e = Error::new(ErrorKind::UnexpectedResponse, "b", "op").with_raw_body(body.as_bytes());
    let kept = e.raw_body().unwrap();
    assert!(kept.len() <= MAX_RAW_BODY);
    assert!(kept.chars().all(|c| c == 'å' || c == '\u{FFFD}'));
}

#[test]
fn unsupported_names_the_operation() {
    let e = Error::unsupported("handelsbanken", "transaction_details");
    assert_eq!(
        e.kind,
        ErrorKind::Unsupported {
            operation: "transaction_details"
        }
    );
    assert_eq!(
        e.to_string(),
        "handelsbanken transaction_details: operation not supported: transaction_details"
    );
}

// --- shapes and paths: the bank's value never shows, its field and shape do ---

#[test]
fn text_shapes_name_length_and_kinds_only() {
    assert_eq!(text_shape(""), "empty");
    assert_eq!(text_shape("sek"), "3 chars: lower-case letters");
    assert_eq!(text_shape("SEK"), "3 chars: upper-case letters");
    assert_eq!(text_shape("11,34"), "5 chars: digits, other symbols");
    assert_eq!(
        text_shape("Anna Andersson 19121212-1212"),
        "28 chars: letters, digits, spaces, other symbols"
    );
    assert_eq!(
        text_shape("Åsa"),
        "3 chars: lower-case letters, non-ASCII characters"
    );
    assert_eq!(
        text_shape("a\u{0}"),
        "2 chars: lower-case letters, control characters"
    );
}

/// `from_invalid_payload` for the decoder error serde_json gives for `body` as `T`.
fn payload_error<T: serde::de::DeserializeOwned + std::fmt::Debug>(body: &str) -> Error {
    let cause = serde_json::from_str::<T>(body).expect_err("the body must not decode");
    Error::from_invalid_payload(
        "handelsbanken",
        "transactions",
        Some(200),
        body.as_bytes(),
        &cause,
    )
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct Amount {
    amount: rust_decimal::Decimal,
    currency: String,
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct Entry {
    amount: Amount,
    #[serde(rename = "ledgerDate")]
    ledger_date: Option<chrono::NaiveDate>,
}

#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)]
struct List {
    transactions: Vec<Entry>,
}

#[test]
fn a_bad_date_is_named_by_its_path_not_by_a_position() {
    let body = r#"{"transactions":[{"amount":{"amount":1,"currency":"SEK"},"ledgerDate":"2024-01-02"},
{"amount":{"amount":2,"currency":"SEK"},"ledgerDate":"2024-02-30"}]}"#;
    let e = payload_error::<List>(body);
    let shown = e.to_string();
    assert_eq!(e.kind, ErrorKind::UnexpectedResponse);
    assert!(shown.contains("transactions[1].ledgerDate"), "{shown}");
    assert!(
        shown.contains("a string of 10 chars: digits, other symbols"),
        "{shown}"
    );
    assert!(!shown.contains("2024-02-30"), "{shown}");
    assert!(!shown.contains("line"), "{shown}");
    assert!(!format!("{e:?}").contains("2024-02-30"));
    assert_eq!(e.offending_value(), Some("\"2024-02-30\""));
}

#[test]
fn a_wrong_type_names_the_path_and_shape_but_never_the_text() {
    let body = r#"{"transactions":[{"amount":{"amount":"Anna Andersson 19121212-1212","currency":"SEK"}}]}"#;
    let e = payload_error::<List>(body);
    let shown = format!("{e} {e:?}");
    assert!(shown.contains("transactions[0].amount.amount"), "{shown}");
    assert!(!shown.contains("Anna"), "{shown}");
    assert!(!shown.contains("19121212"), "{shown}");
    assert!(e.offending_value().is_some_and(|v| v.contains("Anna")));
}

#[test]
fn a_missing_field_is_named_inside_its_object() {
    let body =
        r#"{"transactions":[{"amount":{"amount":1,"currency":"SEK"}},{"amount":{"amount":1}}]}"#;
    let e = payload_error::<List>(body);
    let shown = e.to_string();
    assert!(
        shown.contains("transactions[1].amount.currency: missing"),
        "{shown}"
    );
    let e = payload_error::<List>(r#"{"items":[]}"#);
    assert!(e.to_string().contains("at transactions: missing"), "{e}");
}

#[test]
fn truncated_and_non_json_answers_say_so() {
    let unreadable = Some(crate::retry::UNREADABLE_ANSWER);
    let e = payload_error::<List>(r#"{"transactions":[{"amount":{"amount":1,"curr"#);
    assert_eq!(e.detail(), unreadable, "{e}");
    let e = payload_error::<List>("<html>Anna Andersson</html>");
    assert_eq!(e.detail(), unreadable, "{e}");
    assert!(!e.to_string().contains("Anna"), "{e}");
    let bytes = b"{\"transactions\":[{\"amount\":{\"amount\":1,\"currency\":\"S\xffK\"}}]}";
    let cause = serde_json::from_slice::<List>(bytes).expect_err("not UTF-8");
    let e = Error::from_invalid_payload("b", "op", None, bytes, &cause);
    assert_eq!(e.detail(), unreadable, "{e}");
    assert_eq!(e.kind, ErrorKind::UnexpectedResponse);
}

#[test]
fn an_error_body_with_a_success_status_is_an_error_of_its_codes() {
    let body = r#"{"tppMessages":[{"category":"ERROR","code":"CONSENT_EXPIRED","text":"Consent 1234 expired"}]}"#;
    let e = payload_error::<List>(body);
    assert_eq!(e.kind, ErrorKind::ConsentExpired);
    assert_eq!(e.status, Some(200));
    assert!(!e.to_string().contains("1234"), "{e}");
    let body = r#"{"httpCode":"500","httpMessage":"Internal Server Error","moreInformation":"x"}"#;
    let e = payload_error::<List>(body);
    assert_eq!(e.kind, ErrorKind::BankUnavailable);
}

#[test]
fn deep_nesting_is_located_without_recursion() {
    let mut body = String::from("{\"transactions\":");
    body.push_str(&"[".repeat(100_000));
    let spot = locate(body.as_bytes(), body.len() - 1).expect("a spot");
    assert!(
        spot.path.starts_with("transactions[0][0]"),
        "{}",
        &spot.path[..40]
    );
}

#[test]
fn codes_that_do_not_look_like_codes_show_only_their_shape() {
    let body = r#"{"tppMessages":[{"code":"CONSENT_INVALID"},{"code":"Anna 19121212-1212"},{"code":"x\u001b[31m"}]}"#;
    let e = Error::from_response("openpayments", "accounts", 401, body.as_bytes(), None);
    let shown = format!("{e} {e:?}");
    assert!(shown.contains("CONSENT_INVALID"), "{shown}");
    assert!(!shown.contains("19121212"), "{shown}");
    assert!(!shown.contains('\u{1b}'), "{shown}");
    assert!(
        shown.contains("code of 18 chars: letters, digits, spaces, other symbols"),
        "{shown}"
    );
    // The codes themselves stay available to code that reacts to them.
    assert_eq!(e.codes().nth(1), Some("Anna 19121212-1212"));
}

#[test]
fn containers_and_nulls_where_values_belong_are_named_by_their_field() {
    for (body, path) in [
        (
            r#"{"transactions":[{"amount":{"amount":1,"currency":{"x":"Anna"}}}]}"#,
            "transactions[0].amount.currency",
        ),
        (
            r#"{"transactions":[{"amount":{"amount":1,"currency":["Anna"]}}]}"#,
            "transactions[0].amount.currency",
        ),
        (
            r#"{"transactions":[{"amount":{"amount":1,"currency":null}}]}"#,
            "transactions[0].amount.currency",
        ),
        (
            r#"{"transactions":[{"amount":{"amount":true,"currency":"SEK"}}]}"#,
            "transactions[0].amount.amount",
        ),
        (r#"{"transactions":{"a":1}}"#, "transactions"),
    ] {
        let e = payload_error::<List>(body);
        let shown = e.to_string();
        assert!(shown.contains(&format!("at {path}:")), "{body}: {shown}");
        assert!(!shown.contains("Anna"), "{shown}");
    }
}

proptest::proptest! {
    #[test]
    fn locating_never_panics(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200), target in 0usize..250) {
        let _ = locate(&body, target);
        let _ = shape::locate_container(&body, target);
        let _ = shape::offset_of(&body, target % 7, target);
    }

    #[test]
    fn json_like_bodies_never_panic(body in "[\\[\\]{}\",:a-z0-9 \\\\]{0,120}", target in 0usize..130) {
        let _ = locate(body.as_bytes(), target);
        if let Err(cause) = serde_json::from_str::<List>(&body) {
            let e = Error::from_invalid_payload("b", "op", None, body.as_bytes(), &cause);
            let _ = e.to_string();
        }
    }
}
