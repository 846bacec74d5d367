//! Errors of a registry bank, in its profile's error shape and with its own codes.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use psd2_registry::{ErrorShape, MappedError, RegistryEntry};
use serde_json::json;

use crate::errors::ApiError;

/// What a standard Berlin Group code means, for substituting the bank's own code.
fn kind_of(code: &str) -> Option<MappedError> {
    Some(match code {
        "FORMAT_ERROR" => MappedError::FormatError,
        "PARAMETER_NOT_SUPPORTED" | "PERIOD_INVALID" => MappedError::InvalidInput,
        "CONSENT_INVALID" => MappedError::ConsentInvalid,
        "CONSENT_EXPIRED" => MappedError::ConsentExpired,
        "CONSENT_UNKNOWN" => MappedError::ConsentUnknown,
        "ACCESS_EXCEEDED" => MappedError::AccessExceeded,
        "RESOURCE_UNKNOWN" => MappedError::ResourceUnknown,
        "SERVICE_BLOCKED" => MappedError::ServiceBlocked,
        "SCA_INVALID" => MappedError::ScaFailed,
        _ => return None,
    })
}

/// An error answer of a registry bank.
#[derive(Debug, Clone)]
pub struct BgError {
    error: ApiError,
    shape: ErrorShape,
    system: String,
}

impl BgError {
    /// `error` as `entry`'s bank sends it: when the profile's `error_codes` maps one of the
    /// bank's own codes to the error's kind, that code replaces the standard one.
    pub fn new(entry: &RegistryEntry, error: ApiError) -> Self {
        let kind = kind_of(&error.code);
        Self::of_kind(entry, error, kind)
    }

    /// `error` of a known `kind` (e.g. a consent refused because the PSU revoked it): the
    /// bank's own code for that kind replaces the standard one, if the profile maps one.
    pub fn of_kind(entry: &RegistryEntry, mut error: ApiError, kind: Option<MappedError>) -> Self {
        if let Some(kind) = kind
            && let Some((own, _)) = entry
                .profile
                .error_codes
                .iter()
                .find(|(_, mapped)| **mapped == kind)
        {
            error.code.clone_from(own);
        }
        Self {
            error,
            shape: entry.profile.error_shape,
            system: entry.platform.to_ascii_uppercase(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.error.status
    }

    /// The code sent.
    pub fn code(&self) -> &str {
        &self.error.code
    }
}

impl IntoResponse for BgError {
    fn into_response(self) -> Response {
        let e = &self.error;
        let (content_type, body) = match self.shape {
            ErrorShape::TppMessages => (
                "application/json",
                json!({"tppMessages": [{"category": "ERROR", "code": e.code, "text": e.message}]}),
            ),
            ErrorShape::ProblemJson => (
                "application/problem+json",
                json!({
                    "type": format!("https://berlingroup.com/error-codes/{}", e.code),
                    "title": e.status.canonical_reason().unwrap_or("Error"),
                    "detail": e.message,
                    "code": e.code,
                }),
            ),
            ErrorShape::CodeMessage => {
                let id = format!(
                    "{:010}",
                    crate::rng::mix(
                        crate::rng::str_part(&e.message) ^ u64::from(e.status.as_u16())
                    ) % 10_000_000_000
                );
                (
                    "application/json",
                    json!({
                        "id": id,
                        "system": self.system,
                        "status": e.status.as_u16(),
                        "code": e.code,
                        "message": e.message,
                    }),
                )
            }
        };
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let mut resp = (e.status, bytes).into_response();
        resp.headers_mut()
            .insert("content-type", HeaderValue::from_static(content_type));
        if let Some(secs) = e.retry_after
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert("retry-after", v);
        }
        resp
    }
}
