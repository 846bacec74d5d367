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

mod shape;

pub use shape::{JsonSpot, json_shape, locate, text_shape};
pub(crate) use shape::{join_path, push_index, render_path, value_at};

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
    offending_value: Option<String>,
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

    /// Keeps the bank's value that could not be used (at most 256 chars), for verbose output
    /// only: never part of `Display` or `Debug` (see [`Error::offending_value`]).
    pub fn with_offending_value(mut self, value: impl Into<String>) -> Self {
        let value: String = value.into();
        self.details.offending_value = Some(value.chars().take(256).collect());
        self
    }

    /// `Some` error when `body`, sent with a success status, is in fact an error body
    /// (Berlin Group `tppMessages`, a problem body, an OAuth or Handelsbanken error, ...):
    /// classified by its codes like any error answer (a body without a known code is
    /// [`ErrorKind::UnexpectedResponse`]). `None` for any other body.
    pub fn from_error_body_with_success(
        bank: &'static str,
        operation: &'static str,
        status: Option<u16>,
        body: &[u8],
    ) -> Option<Self> {
        let messages = BankMessage::parse_error_body(body);
        if messages.is_empty() {
            return None;
        }
        let codes: Vec<&str> = messages.iter().filter_map(|m| m.code.as_deref()).collect();
        let kind = ErrorKind::classify(status_in_body(body), &codes, None);
        let mut error = Self::new(kind, bank, operation)
            .with_detail("the bank sent an error body with a success status");
        error.status = status;
        error.details.bank_messages = messages;
        Some(error.with_raw_body(body))
    }

    /// An answer with a success status whose body does not decode into the documented
    /// shape: `cause` is the decoder's error. An error body sent with a success status
    /// (Berlin Group `tppMessages`, a problem body, an OAuth error, ...) is classified by its
    /// codes like any error answer. A body that is cut off or not JSON is
    /// [`ErrorKind::UnexpectedResponse`] with the detail
    /// [`UNREADABLE_ANSWER`](crate::retry::UNREADABLE_ANSWER) (transient for the retry
    /// policy). Valid JSON of the wrong shape is [`ErrorKind::UnexpectedResponse`] whose
    /// detail names the field path and the value's shape (never the value, which is kept for
    /// [`Error::offending_value`]).
    pub fn from_invalid_payload(
        bank: &'static str,
        operation: &'static str,
        status: Option<u16>,
        body: &[u8],
        cause: &serde_json::Error,
    ) -> Self {
        if let Some(error) = Self::from_error_body_with_success(bank, operation, status, body) {
            return error;
        }
        let mut error = Self::new(ErrorKind::UnexpectedResponse, bank, operation);
        error.status = status;
        if cause.classify() != serde_json::error::Category::Data {
            // Cut off, not JSON, or bytes that are not UTF-8: no field to name. The detail
            // is the one the retry policy treats as transient.
            return error
                .with_detail(crate::retry::UNREADABLE_ANSWER)
                .with_raw_body(body);
        }
        let problem = payload_problem(cause);
        let offset = shape::offset_of(body, cause.line(), cause.column());
        let spot = if problem.missing.is_some() {
            shape::locate_container(body, offset)
        } else {
            locate(body, offset)
        };
        let path = match (&spot, &problem.missing) {
            (Some(spot), Some(field)) => join_path(&spot.path, field),
            (Some(spot), None) => spot.path.clone(),
            (None, _) => String::new(),
        };
        let path = if path.is_empty() {
            "the answer".to_owned()
        } else {
            path
        };
        let detail = match (&spot, &problem.missing) {
            (Some(spot), None) => format!("{path}: {} ({})", problem.reason, spot.shape),
            _ => format!("{path}: {}", problem.reason),
        };
        error = error
            .with_detail(format!(
                "the bank's answer does not fit the API description at {detail}"
            ))
            .with_raw_body(body);
        match spot.and_then(|s| s.raw) {
            Some(raw) => error.with_offending_value(raw),
            None => error,
        }
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

    /// The bank's value that could not be used, as sent (at most 256 chars): for an
    /// operator's verbose output (the CLI's `-v`) only. It may hold anything the bank sent
    /// (names, personal ids), so it is never part of `Display` or `Debug`, which show the
    /// field and the value's shape instead.
    pub fn offending_value(&self) -> Option<&str> {
        self.details.offending_value.as_deref()
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
        let codes: Vec<String> = self.codes().map(shown_code).collect();
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
            .field(
                "bank_codes",
                &self.codes().map(shown_code).collect::<Vec<_>>(),
            )
            .field("bank_messages_len", &self.details.bank_messages.len())
            .field("request_id", &self.details.request_id)
            .field("detail", &self.details.detail)
            .field(
                "offending_value_len",
                &self.details.offending_value.as_ref().map(String::len),
            )
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

/// A bank's code as `Display` and `Debug` show it: as sent when it looks like a code (at
/// most 40 letters, digits, `_`, `-`, `.` or spaces, no run of 5 or more digits, which could
/// be an id), else only its shape: a code field is bank text too.
fn shown_code(code: &str) -> String {
    let mut digits = 0;
    let mut long_number = false;
    for c in code.chars() {
        digits = if c.is_ascii_digit() { digits + 1 } else { 0 };
        long_number |= digits >= 5;
    }
    let plain = code.chars().count() <= 40
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ' '));
    if plain && !long_number {
        code.to_owned()
    } else {
        format!("code of {}", text_shape(code))
    }
}

/// The HTTP status an error body states (`httpCode`, `status`), when it is one (400-599).
fn status_in_body(body: &[u8]) -> Option<u16> {
    let value: Value = serde_json::from_slice(body).ok()?;
    ["httpCode", "status"].iter().find_map(|key| {
        let status = match value.get(*key)? {
            Value::Number(n) => n.as_u64().and_then(|n| u16::try_from(n).ok()),
            Value::String(s) => s.trim().parse::<u16>().ok(),
            _ => None,
        }?;
        (400..=599).contains(&status).then_some(status)
    })
}

/// What a decoder's data error says, in words that hold no bank text.
struct PayloadProblem {
    reason: &'static str,
    /// The documented field that was missing (a name from the API description, not from
    /// the bank).
    missing: Option<String>,
}

/// A data error (valid JSON of the wrong shape): a missing field, or a value of the wrong
/// type or form. The decoder's own message is not kept: it may quote the value.
fn payload_problem(cause: &serde_json::Error) -> PayloadProblem {
    let text = cause.to_string();
    // `missing field `x``: the name comes from the API description; keep it only if it
    // is a plain field name.
    let missing = text
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
        .filter(|name| {
            !name.is_empty()
                && name.len() <= 64
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
        .map(str::to_owned);
    PayloadProblem {
        reason: if missing.is_some() {
            "missing"
        } else {
            "a value of the wrong type or form"
        },
        missing,
    }
}

#[cfg(test)]
mod tests;
