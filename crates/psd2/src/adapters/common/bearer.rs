//! Sending the bearer token: one way, marked sensitive.

use std::sync::{Arc, RwLock};

use psd2_hooks::{HookError, HookFuture, RequestHook};

/// A shared slot holding the bearer token that [`BearerHook`] puts on requests.
#[derive(Clone, Default)]
pub struct TokenSlot(Arc<RwLock<Option<String>>>);

impl TokenSlot {
    /// Replaces the token.
    pub fn set(&self, token: Option<String>) {
        *super::sync::write(&self.0) = token;
    }

    pub(crate) fn get(&self) -> Option<String> {
        super::sync::read(&self.0).clone()
    }
}

impl std::fmt::Debug for TokenSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenSlot([REDACTED])")
    }
}

/// Sets `Authorization: Bearer <token>` from a [`TokenSlot`] unless the request already has
/// an `Authorization` header (operations that take it as a parameter set it themselves), and
/// marks every `Authorization` header sensitive, whoever set it: the one way every adapter's
/// bearer tokens leave (hidden from `Debug` of the request and from HTTP/2 header tables).
#[derive(Clone, Debug, Default)]
pub struct BearerHook {
    /// Where the current token is read from, per request.
    pub slot: TokenSlot,
}

impl RequestHook for BearerHook {
    fn on_request<'a>(&'a self, request: &'a mut reqwest::Request) -> HookFuture<'a> {
        let result = (|| {
            if let Some(value) = request
                .headers_mut()
                .get_mut(reqwest::header::AUTHORIZATION)
            {
                value.set_sensitive(true);
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
        assert!(
            request.headers()["authorization"].is_sensitive(),
            "a header set by the operation is marked too"
        );
    }
}
