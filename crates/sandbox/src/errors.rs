//! Errors in each bank's own body format.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::Bank;

/// A bank-neutral API error; rendered in the answering bank's format by [`BankError`].
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Machine readable code (Berlin Group style, e.g. `CONSENT_INVALID`).
    pub code: String,
    /// Human readable text (never contains secrets).
    pub message: String,
    /// `Retry-After` seconds, for 429 answers.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            code: code.to_string(),
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400 `FORMAT_ERROR`.
    pub fn format(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "FORMAT_ERROR", message)
    }

    /// 401 `TOKEN_INVALID`.
    pub fn token_invalid() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "TOKEN_INVALID",
            "The access token is missing, invalid or has expired.",
        )
    }

    /// 404 `RESOURCE_UNKNOWN`.
    pub fn resource_unknown(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "RESOURCE_UNKNOWN",
            format!("{what} not found."),
        )
    }

    /// Adds a `Retry-After`.
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// Renders the error in `bank`'s format.
    pub fn for_bank(self, bank: Bank) -> BankError {
        BankError { bank, error: self }
    }
}

/// An [`ApiError`] bound to the bank whose format it is rendered in.
#[derive(Debug, Clone)]
pub struct BankError {
    /// The answering bank.
    pub bank: Bank,
    /// The error.
    pub error: ApiError,
}

/// The JSON body of `error` in `bank`'s format.
pub fn error_body(bank: Bank, error: &ApiError) -> serde_json::Value {
    match bank {
        Bank::Handelsbanken => json!({
            "httpCode": error.status.as_u16(),
            "httpMessage": error.status.canonical_reason().unwrap_or("Error"),
            "moreInformation": error.message,
            "errors": [{"code": error.code, "message": error.message}],
        }),
        Bank::OpenPayments => json!({
            "tppMessages": [{"category": "ERROR", "code": error.code, "text": error.message}],
        }),
        Bank::Swedbank => {
            let id = format!(
                "{:010}",
                crate::rng::mix(
                    crate::rng::str_part(&error.message) ^ u64::from(error.status.as_u16())
                ) % 10_000_000_000
            );
            json!({
                "id": id,
                "system": "ERA-PSD2",
                "status": error.status.as_u16(),
                "code": error.code,
                "message": error.message,
            })
        }
    }
}

impl IntoResponse for BankError {
    fn into_response(self) -> Response {
        let body = error_body(self.bank, &self.error);
        let mut resp = (self.error.status, axum::Json(body)).into_response();
        if let Some(secs) = self.error.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert("retry-after", v);
        }
        resp
    }
}

/// An OAuth 2.0 (RFC 6749 section 5.2) token endpoint error.
#[derive(Debug, Clone)]
pub struct OAuthError {
    /// HTTP status (400 or 401).
    pub status: StatusCode,
    /// `error` code, e.g. `invalid_grant`.
    pub error: &'static str,
    /// Description.
    pub description: String,
}

impl OAuthError {
    /// A 400 with the given code.
    pub fn bad(error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(json!({"error": self.error, "error_description": self.description})),
        )
            .into_response()
    }
}
