//! A bank's error answer read the way its profile says: the body's shape
//! (`tppMessages`, `application/problem+json`, or one flat `{code, message}` object) and the
//! bank's own codes mapped to [`ErrorKind`] before the standard's.

use std::time::Duration;

use psd2_registry::{BankProfile, ErrorShape, MappedError};
use serde_json::Value;

use crate::error::{BankMessage, Error, ErrorKind};

/// The messages of an error body in `shape`; a body in another known shape is read too (a
/// gateway in front of the bank may answer in its own), and anything else gives none.
pub(crate) fn messages(shape: ErrorShape, body: &[u8]) -> Vec<BankMessage> {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let own = match shape {
        ErrorShape::TppMessages => tpp_messages(&value),
        ErrorShape::ProblemJson => problem(&value),
        ErrorShape::CodeMessage => flat(&value),
    };
    if own.is_empty() {
        BankMessage::from_json(&value)
    } else {
        own
    }
}

fn text(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn message(category: Option<String>, code: Option<String>, text: Option<String>) -> BankMessage {
    BankMessage {
        category,
        code,
        text,
        ..BankMessage::default()
    }
}

/// `{"tppMessages": [{"category", "code", "path", "text"}]}` (one object also accepted).
fn tpp_messages(value: &Value) -> Vec<BankMessage> {
    let items: Vec<&Value> = match value.get("tppMessages") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(item @ Value::Object(_)) => vec![item],
        _ => return Vec::new(),
    };
    items
        .into_iter()
        .map(|item| {
            let mut m = message(
                text(item, "category"),
                text(item, "code"),
                text(item, "text"),
            );
            m.path = text(item, "path");
            m
        })
        .collect()
}

/// RFC 7807 with the Berlin Group's `code` and `additionalErrors[] {title, detail, code}`.
fn problem(value: &Value) -> Vec<BankMessage> {
    let Some(code) = text(value, "code") else {
        return Vec::new();
    };
    let detail = text(value, "detail").or_else(|| text(value, "title"));
    let mut out = vec![message(Some("ERROR".into()), Some(code), detail)];
    if let Some(Value::Array(more)) = value.get("additionalErrors") {
        out.extend(more.iter().map(|item| {
            let detail = text(item, "detail").or_else(|| text(item, "title"));
            message(Some("ERROR".into()), text(item, "code"), detail)
        }));
    }
    out
}

/// One flat object `{code, message}` (with `id`, `system`, `status` beside them).
fn flat(value: &Value) -> Vec<BankMessage> {
    match text(value, "code") {
        Some(code) => vec![message(None, Some(code), text(value, "message"))],
        None => Vec::new(),
    }
}

/// What a profile's mapped code means.
pub(crate) fn mapped_kind(mapped: MappedError, retry_after: Option<Duration>) -> ErrorKind {
    match mapped {
        MappedError::ConsentInvalid => ErrorKind::ConsentInvalid,
        MappedError::ConsentExpired => ErrorKind::ConsentExpired,
        MappedError::ConsentRevoked => ErrorKind::ConsentRevoked,
        MappedError::ConsentUnknown => ErrorKind::ConsentUnknown,
        MappedError::AccessExceeded => ErrorKind::AccessExceeded { retry_after },
        MappedError::ResourceUnknown => ErrorKind::ResourceUnknown,
        MappedError::Unauthorized => ErrorKind::Unauthorized,
        MappedError::ServiceBlocked => ErrorKind::ServiceBlocked,
        MappedError::FormatError => ErrorKind::FormatError,
        MappedError::BankUnavailable => ErrorKind::BankUnavailable,
        MappedError::ScaFailed => ErrorKind::ScaFailed,
        MappedError::ScaRejected => ErrorKind::ScaRejected,
        MappedError::InvalidInput => ErrorKind::InvalidInput,
    }
}

/// The error of a non-success answer: messages read per the profile's `error_shape`, kind
/// from the profile's `error_codes` first, then the standard's codes, then the status.
pub(crate) fn from_response(
    bank: &'static str,
    operation: &'static str,
    profile: &BankProfile,
    status: u16,
    body: &[u8],
    retry_after: Option<&str>,
) -> Error {
    let retry = retry_after.and_then(|v| crate::error::parse_retry_after(v, chrono::Utc::now()));
    let messages = messages(profile.error_shape, body);
    let codes: Vec<&str> = messages.iter().filter_map(|m| m.code.as_deref()).collect();
    let kind = codes
        .iter()
        .find_map(|code| profile.error_codes.get(*code).copied())
        .map(|mapped| mapped_kind(mapped, retry))
        .unwrap_or_else(|| ErrorKind::classify(Some(status), &codes, retry));
    let mut error = Error::new(kind, bank, operation).with_status(status);
    for message in messages {
        error = error.with_message(message);
    }
    error.with_raw_body(body)
}
