//! The one error type of the facade, and parsers for the banks' error bodies.
//!
//! [`Error`] carries what a caller needs to react (an [`ErrorKind`]), what a person needs to
//! debug (bank, operation, HTTP status, the bank's codes, request id) and, not printed, the
//! start of the raw response body. Its `Display` is one line without secrets: adapters never
//! put tokens, consent ids or PSU ids into these fields, and the bank's free texts (which may
//! echo ids) are only in [`Error::bank_messages`], never in `Display`.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How much of a response body an [`Error`] keeps.
pub const MAX_RAW_BODY: usize = 4096;

/// What went wrong, in terms a caller can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The consent is not valid for this call (Berlin Group `CONSENT_INVALID`).
    #[error("consent invalid")]
    ConsentInvalid,
    /// The consent has expired (`CONSENT_EXPIRED`): ask the PSU for a new one.
    #[error("consent expired")]
    ConsentExpired,
    /// The PSU revoked the consent.
    #[error("consent revoked")]
    ConsentRevoked,
    /// The bank does not know the consent (`CONSENT_UNKNOWN`).
    #[error("consent unknown")]
    ConsentUnknown,
    /// Too many accesses (`ACCESS_EXCEEDED`, HTTP 429); wait `retry_after` if given.
    #[error("access exceeded{}", retry_after.map(|d| format!(" (retry after {}s)", d.as_secs())).unwrap_or_default())]
    AccessExceeded {
        /// The bank's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
    },
    /// The account, transaction or other resource does not exist (`RESOURCE_UNKNOWN`, 404).
    #[error("resource unknown")]
    ResourceUnknown,
    /// Credentials, token, certificate or signature were refused (401, `TOKEN_INVALID`, ...).
    #[error("unauthorized")]
    Unauthorized,
    /// The bank blocked the service for this PSU (`SERVICE_BLOCKED`).
    #[error("service blocked")]
    ServiceBlocked,
    /// The request was malformed in the bank's eyes (`FORMAT_ERROR`, 400).
    #[error("format error")]
    FormatError,
    /// The bank is down or failing (5xx, `SERVICE_UNAVAILABLE`).
    #[error("bank unavailable")]
    BankUnavailable,
    /// The request did not reach the bank or the answer did not arrive (connection, TLS).
    #[error("transport error")]
    Transport,
    /// The bank answered something this crate cannot read.
    #[error("unexpected response")]
    UnexpectedResponse,
    /// SCA failed (technical failure, timeout on the PSU's side, `SCA_INVALID`).
    #[error("SCA failed")]
    ScaFailed,
    /// The PSU rejected or cancelled SCA (`access_denied`).
    #[error("SCA rejected")]
    ScaRejected,
    /// A wait ran out (HTTP timeout, decoupled SCA not finished in time).
    #[error("timed out")]
    Timeout,
    /// The bank or adapter does not offer this operation.
    #[error("operation not supported: {operation}")]
    Unsupported {
        /// The operation's name, e.g. `"transaction_details"`.
        operation: &'static str,
    },
    /// The caller passed something unusable.
    #[error("invalid input")]
    InvalidInput,
    /// The bank's pagination looped (a repeated cursor) or ran past the page limit.
    #[error("pagination error")]
    Pagination,
}

impl ErrorKind {
    /// Classifies a bank's answer by its message codes first, then by HTTP status, following
    /// the Berlin Group code lists (plus Swedbank, Handelsbanken and OAuth codes).
    ///
    /// `retry_after` is put into [`ErrorKind::AccessExceeded`] when that is the result.
    pub fn classify(status: Option<u16>, codes: &[&str], retry_after: Option<Duration>) -> Self {
        for code in codes {
            if let Some(kind) = Self::from_code(code, retry_after) {
                return kind;
            }
        }
        match status {
            Some(400) => Self::FormatError,
            Some(401) | Some(403) => Self::Unauthorized,
            Some(404) | Some(410) => Self::ResourceUnknown,
            Some(408) | Some(504) => Self::Timeout,
            Some(429) => Self::AccessExceeded { retry_after },
            Some(500..=599) => Self::BankUnavailable,
            _ => Self::UnexpectedResponse,
        }
    }

    fn from_code(code: &str, retry_after: Option<Duration>) -> Option<Self> {
        let upper = code.trim().to_ascii_uppercase();
        Some(match upper.as_str() {
            "CONSENT_INVALID" => Self::ConsentInvalid,
            "CONSENT_EXPIRED" => Self::ConsentExpired,
            "CONSENT_UNKNOWN" => Self::ConsentUnknown,
            "CONSENT_REVOKED" | "REVOKED_BY_PSU" => Self::ConsentRevoked,
            "ACCESS_EXCEEDED" | "TOO_MANY_REQUESTS" => Self::AccessExceeded { retry_after },
            "RESOURCE_UNKNOWN" | "RESOURCE_EXPIRED" | "NOT_FOUND" => Self::ResourceUnknown,
            "FORMAT_ERROR"
            | "PARAMETER_NOT_CONSISTENT"
            | "PARAMETER_NOT_SUPPORTED"
            | "PERIOD_INVALID"
            | "TIMESTAMP_INVALID"
            | "SERVICE_INVALID"
            | "INVALID_REQUEST" => Self::FormatError,
            "TOKEN_INVALID"
            | "TOKEN_EXPIRED"
            | "TOKEN_UNKNOWN"
            | "CERTIFICATE_INVALID"
            | "CERTIFICATE_EXPIRED"
            | "CERTIFICATE_BLOCKED"
            | "CERTIFICATE_REVOKED"
            | "CERTIFICATE_MISSING"
            | "SIGNATURE_INVALID"
            | "SIGNATURE_MISSING"
            | "CORPORATE_ID_INVALID"
            | "PSU_CREDENTIALS_INVALID"
            | "ROLE_INVALID"
            | "UNAUTHORIZED"
            | "INVALID_TOKEN"
            | "INVALID_CLIENT"
            | "UNAUTHORIZED_CLIENT"
            | "INVALID_GRANT" => Self::Unauthorized,
            "SERVICE_BLOCKED" => Self::ServiceBlocked,
            "SCA_INVALID" | "SCA_FAILED" => Self::ScaFailed,
            "ACCESS_DENIED" | "SCA_REJECTED" => Self::ScaRejected,
            "SERVICE_UNAVAILABLE" | "SYSTEM_ERROR" | "INTERNAL_SERVER_ERROR" => {
                Self::BankUnavailable
            }
            _ => return None,
        })
    }

    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::AccessExceeded { .. } | Self::BankUnavailable | Self::Transport | Self::Timeout
        )
    }
}

/// One message from a bank's error body, normalized across shapes.
///
/// Sources: Berlin Group `tppMessages[] {category, code, text, path}` and RFC 7807 problem
/// bodies `{type, title, detail, code, additionalErrors[]}`; Swedbank `{id, system, status,
/// code, message}`; Handelsbanken `{httpCode, httpMessage, moreInformation, errors[]}`; OAuth
/// `{error, error_description}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct BankMessage {
    /// `ERROR` or `WARNING` where the bank says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// The bank's code, e.g. `CONSENT_INVALID`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The bank's text (may echo request data; not part of `Error`'s `Display`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The request element the message is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

fn str_field(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn first_str(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| str_field(v, k))
}

impl BankMessage {
    /// A message with only a code.
    pub fn code_only(code: impl Into<String>) -> Self {
        Self {
            code: Some(code.into()),
            ..Self::default()
        }
    }

    /// Parses any known error body shape; returns no messages for an empty, non-JSON or
    /// unknown body (the raw body stays in the [`Error`]). Never fails.
    pub fn parse_error_body(body: &[u8]) -> Vec<BankMessage> {
        match serde_json::from_slice::<Value>(body) {
            Ok(value) => Self::from_json(&value),
            Err(_) => Vec::new(),
        }
    }

    /// Like [`BankMessage::parse_error_body`], for an already parsed JSON value.
    pub fn from_json(value: &Value) -> Vec<BankMessage> {
        let Some(obj) = value.as_object() else {
            return Vec::new();
        };
        // Berlin Group: tppMessages (sometimes a single object).
        if let Some(tpp) = obj.get("tppMessages") {
            let items: Vec<&Value> = match tpp {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            return items.into_iter().map(Self::from_item).collect();
        }
        // Handelsbanken (IBM API Connect): httpCode / httpMessage / moreInformation / errors[].
        if obj.contains_key("httpCode") || obj.contains_key("httpMessage") {
            let mut out = vec![BankMessage {
                code: str_field(value, "httpMessage"),
                text: str_field(value, "moreInformation"),
                ..Self::default()
            }];
            if let Some(Value::Array(errors)) = obj.get("errors") {
                out.extend(errors.iter().map(Self::from_item));
            }
            return out;
        }
        // OAuth 2.0: {error: "invalid_grant", error_description}.
        if let Some(Value::String(error)) = obj.get("error") {
            return vec![BankMessage {
                code: Some(error.clone()),
                text: str_field(value, "error_description"),
                ..Self::default()
            }];
        }
        // A nested {error: {code, message}}.
        if let Some(inner @ Value::Object(_)) = obj.get("error") {
            return vec![Self::from_item(inner)];
        }
        // RFC 7807 problem (Berlin Group problem+json), with additionalErrors.
        if obj.contains_key("type") || obj.contains_key("title") || obj.contains_key("detail") {
            let mut out = vec![BankMessage {
                code: str_field(value, "code"),
                text: first_str(value, &["detail", "title"]),
                ..Self::default()
            }];
            if let Some(Value::Array(more)) = obj.get("additionalErrors") {
                out.extend(more.iter().map(Self::from_item));
            }
            return out;
        }
        // Swedbank {id, system, status, code, message} and other flat {code, message} bodies.
        if obj.contains_key("code") || obj.contains_key("message") {
            return vec![Self::from_item(value)];
        }
        // A bare list under `errors`.
        if let Some(Value::Array(errors)) = obj.get("errors") {
            return errors.iter().map(Self::from_item).collect();
        }
        Vec::new()
    }

    fn from_item(item: &Value) -> BankMessage {
        if let Value::String(text) = item {
            return BankMessage {
                text: Some(text.clone()),
                ..Self::default()
            };
        }
        BankMessage {
            category: str_field(item, "category"),
            code: first_str(item, &["code", "errorCode", "error"]),
            text: first_str(
                item,
                &[
                    "text",
                    "message",
                    "detail",
                    "title",
                    "description",
                    "moreInformation",
                ],
            ),
            path: first_str(item, &["path", "field"]),
        }
    }
}

/// Parses an HTTP `Retry-After` value: delay seconds or an HTTP date (a past date gives zero).
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((when - now).to_std().unwrap_or(Duration::ZERO))
}

/// The facade's error: what went wrong, where, and what the bank said.
///
/// Build with [`Error::new`] / [`Error::from_response`] and the `with_*` methods. `Display` is
/// one line (bank, operation, kind, status, the bank's codes, request id); `Debug` shows the
/// raw body's length only. Adapters must not wrap sources whose text holds secrets (strip URLs
/// from transport errors, e.g. `reqwest::Error::without_url`).
#[non_exhaustive]
pub struct Error {
    /// What went wrong.
    pub kind: ErrorKind,
    /// The bank (adapter) name, e.g. `"handelsbanken"`.
    pub bank: &'static str,
    /// The facade operation, e.g. `"transactions"`.
    pub operation: &'static str,
    /// The HTTP status, when there was a response.
    pub status: Option<u16>,
    // Boxed so `Result<T, Error>` stays small (clippy `result_large_err` in every caller).
    details: Box<Details>,
}

#[derive(Default)]
struct Details {
    bank_messages: Vec<BankMessage>,
    request_id: Option<String>,
    detail: Option<String>,
    raw_body: Option<String>,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl Error {
    /// An error of `kind` in `operation` of `bank`.
    pub fn new(kind: ErrorKind, bank: &'static str, operation: &'static str) -> Self {
        Self {
            kind,
            bank,
            operation,
            status: None,
            details: Box::default(),
        }
    }

    /// The bank or adapter does not offer `operation`.
    pub fn unsupported(bank: &'static str, operation: &'static str) -> Self {
        Self::new(ErrorKind::Unsupported { operation }, bank, operation)
    }

    /// The caller passed something unusable; `detail` says what (no secrets).
    pub fn invalid_input(
        bank: &'static str,
        operation: &'static str,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(ErrorKind::InvalidInput, bank, operation).with_detail(detail)
    }

    /// An error from a bank's non-success HTTP answer: parses the body's messages, classifies
    /// (codes first, then status, see [`ErrorKind::classify`]) and keeps the body's start.
    /// `retry_after` is the raw `Retry-After` header, if any.
    pub fn from_response(
        bank: &'static str,
        operation: &'static str,
        status: u16,
        body: &[u8],
        retry_after: Option<&str>,
    ) -> Self {
        let messages = BankMessage::parse_error_body(body);
        let retry = retry_after.and_then(|v| parse_retry_after(v, Utc::now()));
        let codes: Vec<&str> = messages.iter().filter_map(|m| m.code.as_deref()).collect();
        let kind = ErrorKind::classify(Some(status), &codes, retry);
        let mut error = Self::new(kind, bank, operation).with_status(status);
        error.details.bank_messages = messages;
        error.with_raw_body(body)
    }

    /// Sets the HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Adds one bank message.
    pub fn with_message(mut self, message: BankMessage) -> Self {
        self.details.bank_messages.push(message);
        self
    }

    /// Sets the request id.
    pub fn with_request_id(mut self, request_id: impl Into<String>) -> Self {
        self.details.request_id = Some(request_id.into());
        self
    }

    /// Sets this crate's explanation (no secrets, no bank text).
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.details.detail = Some(detail.into());
        self
    }

    /// Keeps the first [`MAX_RAW_BODY`] bytes of a response body (lossy UTF-8).
    pub fn with_raw_body(mut self, body: &[u8]) -> Self {
        if body.is_empty() {
            return self;
        }
        let cut = &body[..body.len().min(MAX_RAW_BODY)];
        let mut text = String::from_utf8_lossy(cut).into_owned();
        if text.len() > MAX_RAW_BODY {
            let mut end = MAX_RAW_BODY;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
        }
        self.details.raw_body = Some(text);
        self
    }

    /// Sets the underlying cause (its text must hold no secrets).
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.details.source = Some(Box::new(source));
        self
    }

    /// The start of the bank's response body, for logs the operator controls. May contain
    /// anything the bank sent; never printed by `Display` or `Debug`.
    pub fn raw_body(&self) -> Option<&str> {
        self.details.raw_body.as_deref()
    }

    /// The bank's messages, parsed from the body (their texts are not in `Display`).
    pub fn bank_messages(&self) -> &[BankMessage] {
        &self.details.bank_messages
    }

    /// The request id sent (`X-Request-ID` / `TPP-Request-ID`), to quote to the bank.
    pub fn request_id(&self) -> Option<&str> {
        self.details.request_id.as_deref()
    }

    /// This crate's short explanation (never bank text or secrets).
    pub fn detail(&self) -> Option<&str> {
        self.details.detail.as_deref()
    }

    /// The bank's codes, in order.
    pub fn codes(&self) -> impl Iterator<Item = &str> {
        self.details
            .bank_messages
            .iter()
            .filter_map(|m| m.code.as_deref())
    }

    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.bank, self.operation, self.kind)?;
        if let Some(status) = self.status {
            write!(f, " (HTTP {status})")?;
        }
        let codes: Vec<&str> = self.codes().collect();
        if !codes.is_empty() {
            write!(f, " [{}]", codes.join(", "))?;
        }
        if let Some(detail) = self.detail() {
            write!(f, ": {detail}")?;
        }
        if let Some(id) = self.request_id() {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.kind)
            .field("bank", &self.bank)
            .field("operation", &self.operation)
            .field("status", &self.status)
            // Only the codes: a bank's message text may echo a consent or PSU id.
            .field("bank_codes", &self.codes().collect::<Vec<_>>())
            .field("bank_messages_len", &self.details.bank_messages.len())
            .field("request_id", &self.details.request_id)
            .field("detail", &self.details.detail)
            .field(
                "raw_body_len",
                &self.details.raw_body.as_ref().map(String::len),
            )
            .field("source", &self.details.source)
            .finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.details
            .source
            .as_deref()
            .map(|s| s as &(dyn std::error::Error + 'static))
    }
}

#[cfg(test)]
mod tests {
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
    const OAUTH: &str =
        r#"{"error":"invalid_grant","error_description":"Authorization code expired"}"#;
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
}
