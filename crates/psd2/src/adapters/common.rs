//! Plumbing every adapter shares: request ids, the bearer-token hook, the HTTP client
//! built from a [`TransportConfig`], and turning a raw client's error into [`Error`].

use crate::error::{Error, ErrorKind};
use psd2_hooks::{HookError, HookFuture, RequestHook};
use serde::Serialize;
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// A fresh request id (`X-Request-ID` / `TPP-Request-ID`): a random UUID v4 per call.
pub fn request_id() -> uuid::Uuid {
    uuid::Uuid::new_v4()
}

/// How an adapter reaches its bank: a caller-provided `reqwest::Client` (so mTLS identities
/// set up by the caller work), or one built here from PEM material.
#[derive(Clone, Default)]
pub struct TransportConfig {
    /// Use this client as is (it may carry an mTLS identity).
    pub client: Option<reqwest::Client>,
    /// Otherwise build one with this client identity (QWAC certificate chain and key).
    pub identity: Option<psd2_security::tls::ClientIdentity>,
    /// An extra root CA to trust (sandboxes with their own CA).
    pub extra_root_ca_pem: Option<String>,
    /// Per-request timeout (default 30 s).
    pub timeout: Option<Duration>,
}

impl std::fmt::Debug for TransportConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportConfig")
            .field("client", &self.client.is_some())
            .field("identity", &self.identity.is_some())
            .field("extra_root_ca", &self.extra_root_ca_pem.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl TransportConfig {
    /// Uses `client` for every call.
    pub fn with_client(client: reqwest::Client) -> Self {
        Self {
            client: Some(client),
            ..Self::default()
        }
    }

    /// The HTTP client: the given one, or one built with rustls from the identity/roots.
    pub fn build(&self, bank: &'static str) -> Result<reqwest::Client, Error> {
        if let Some(client) = &self.client {
            return Ok(client.clone());
        }
        psd2_security::tls::build_client(psd2_security::tls::ClientTlsConfig {
            identity: self.identity.clone(),
            extra_root_ca_pem: self.extra_root_ca_pem.clone(),
            timeout: Some(self.timeout.unwrap_or(Duration::from_secs(30))),
            user_agent: Some(concat!("psd2-rs/", env!("CARGO_PKG_VERSION")).to_string()),
            ..Default::default()
        })
        .map_err(|e| {
            Error::new(ErrorKind::InvalidInput, bank, "build_http_client")
                .with_detail(format!("cannot build the HTTP client: {e}"))
        })
    }
}

/// A raw value from a bank that does not fit the domain model. Its text names the raw
/// field and the offending amount or currency text, never ids or secrets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct MappingError {
    /// The raw field, e.g. `transactionAmount` or `Balance.balanceAmount`.
    pub field: &'static str,
    /// What is wrong with it.
    pub reason: String,
}

impl MappingError {
    /// An amount or currency that does not parse.
    pub(crate) fn money(field: &'static str, error: crate::money::MoneyError) -> Self {
        Self {
            field,
            reason: error.to_string(),
        }
    }

    /// A field the domain needs but the bank left out.
    pub(crate) fn missing(field: &'static str) -> Self {
        Self {
            field,
            reason: "missing".to_owned(),
        }
    }

    /// The facade error for `bank`'s `operation`: [`ErrorKind::UnexpectedResponse`].
    pub fn into_error(self, bank: &'static str, operation: &'static str) -> Error {
        Error::new(ErrorKind::UnexpectedResponse, bank, operation).with_detail(format!(
            "the bank's answer does not fit the domain model: {self}"
        ))
    }
}

/// A shared slot holding the bearer token that [`BearerHook`] puts on requests.
#[derive(Clone, Default)]
pub struct TokenSlot(Arc<RwLock<Option<String>>>);

impl TokenSlot {
    /// Replaces the token.
    pub fn set(&self, token: Option<String>) {
        if let Ok(mut slot) = self.0.write() {
            *slot = token;
        }
    }

    fn get(&self) -> Option<String> {
        self.0.read().ok().and_then(|slot| slot.clone())
    }
}

impl std::fmt::Debug for TokenSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSlot([REDACTED])")
    }
}

/// Sets `Authorization: Bearer <token>` from a [`TokenSlot`] unless the request already has
/// an `Authorization` header (operations that take it as a parameter set it themselves).
#[derive(Clone, Debug, Default)]
pub struct BearerHook {
    /// Where the current token is read from, per request.
    pub slot: TokenSlot,
}

impl RequestHook for BearerHook {
    fn on_request<'a>(&'a self, request: &'a mut reqwest::Request) -> HookFuture<'a> {
        let result = (|| {
            if request
                .headers()
                .contains_key(reqwest::header::AUTHORIZATION)
            {
                return Ok(());
            }
            if let Some(token) = self.slot.get() {
                let mut value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}"))
                    .map_err(|_| HookError::new("bearer", "token is not a valid header value"))?;
                value.set_sensitive(true);
                request
                    .headers_mut()
                    .insert(reqwest::header::AUTHORIZATION, value);
            }
            Ok(())
        })();
        Box::pin(async move { result })
    }
}

/// Turns a raw client's error into the facade's [`Error`], keeping status, the bank's
/// messages, `Retry-After`, the body's start and the request id. URLs are stripped from
/// transport errors (a path may hold a consent id).
pub async fn map_raw_error<E: Serialize>(
    bank: &'static str,
    operation: &'static str,
    request_id: &str,
    error: progenitor_client::Error<E>,
) -> Error {
    use progenitor_client::Error as Raw;
    let error = match error {
        Raw::ErrorResponse(response) => {
            let status = response.status().as_u16();
            let retry_after = header_text(response.headers(), "retry-after");
            let body = serde_json::to_vec(&*response).unwrap_or_default();
            Error::from_response(bank, operation, status, &body, retry_after.as_deref())
        }
        Raw::UnexpectedResponse(response) => {
            let status = response.status().as_u16();
            let retry_after = header_text(response.headers(), "retry-after");
            let body = response.bytes().await.unwrap_or_default();
            let mut e =
                Error::from_response(bank, operation, status, &body, retry_after.as_deref());
            if (200..300).contains(&status) {
                e.kind = ErrorKind::UnexpectedResponse;
                e = e.with_detail(
                    "the bank answered with a success status this API does not document",
                );
            }
            e
        }
        Raw::InvalidResponsePayload(body, cause) => {
            Error::new(ErrorKind::UnexpectedResponse, bank, operation)
                .with_detail(format!(
                    "the bank's answer does not fit the API description: {cause}"
                ))
                .with_raw_body(&body)
        }
        Raw::CommunicationError(e) | Raw::ResponseBodyError(e) | Raw::InvalidUpgrade(e) => {
            let kind = if e.is_timeout() {
                ErrorKind::Timeout
            } else {
                ErrorKind::Transport
            };
            let mut mapped = Error::new(kind, bank, operation);
            if let Some(status) = e.status() {
                mapped = mapped.with_status(status.as_u16());
            }
            mapped
                .with_detail("could not talk to the bank")
                .with_source(e.without_url())
        }
        Raw::InvalidRequest(reason) => Error::invalid_input(bank, operation, reason),
        Raw::Custom(reason) => Error::new(ErrorKind::Transport, bank, operation)
            .with_detail(format!("the request was refused before sending: {reason}")),
    };
    error.with_request_id(request_id)
}

fn header_text(headers: &reqwest::header::HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bearer_hook_sets_header_only_when_absent_and_marks_it_sensitive() {
        let hook = BearerHook::default();
        hook.slot.set(Some("tok-123".into()));
        let mut request = reqwest::Request::new(
            reqwest::Method::GET,
            "http://127.0.0.1/x".parse().expect("url"),
        );
        hook.on_request(&mut request).await.expect("hook");
        let value = request.headers().get("authorization").expect("set");
        assert_eq!(value.to_str().expect("ascii"), "Bearer tok-123");
        assert!(value.is_sensitive());
        assert!(!format!("{:?}", hook).contains("tok-123"));

        request.headers_mut().insert(
            reqwest::header::AUTHORIZATION,
            reqwest::header::HeaderValue::from_static("Bearer given"),
        );
        hook.on_request(&mut request).await.expect("hook");
        assert_eq!(request.headers()["authorization"], "Bearer given");
    }

    #[test]
    fn request_ids_are_fresh() {
        assert_ne!(request_id(), request_id());
    }
}
