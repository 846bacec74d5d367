//! The seam between generated raw clients and hand-written cross-cutting code.
//!
//! Every crate under `generated/` is produced by progenitor with
//! `inner_type = psd2_hooks::Hooks` and `pre_hook_async = psd2_hooks::pre_request`,
//! so each operation's `reqwest::Request` passes through the [`Hooks`] chain right
//! before it is sent. Authentication headers, request signing (Digest, Signature,
//! TPP-Signature-Certificate, Date), tracing and fault injection all live in
//! [`RequestHook`] implementations written by hand, never in generated code.
#![forbid(unsafe_code)]

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

/// A boxed future returned by [`RequestHook::on_request`].
pub type HookFuture<'a> = Pin<Box<dyn Future<Output = Result<(), HookError>> + Send + 'a>>;

/// Something that may inspect or change a request just before it is sent.
///
/// Implementations must not log or embed secrets in the [`HookError`] they return:
/// its text ends up in `progenitor_client::Error::Custom`.
pub trait RequestHook: Send + Sync {
    /// Inspects or modifies `request` in place.
    fn on_request<'a>(&'a self, request: &'a mut reqwest::Request) -> HookFuture<'a>;
}

/// Why a hook refused to let a request go out.
#[derive(Debug, thiserror::Error)]
#[error("request hook `{hook}` failed: {reason}")]
pub struct HookError {
    /// The hook's short name, e.g. `"http-signature"`.
    pub hook: &'static str,
    /// A human readable reason; never contains secret material.
    pub reason: String,
}

impl HookError {
    /// Builds an error for the hook named `hook`.
    pub fn new(hook: &'static str, reason: impl Into<String>) -> Self {
        Self {
            hook,
            reason: reason.into(),
        }
    }
}

/// An ordered chain of request hooks, stored inside every generated client.
#[derive(Clone, Default)]
pub struct Hooks {
    chain: Vec<Arc<dyn RequestHook>>,
}

impl Hooks {
    /// An empty chain: requests go out unchanged.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a hook; hooks run in the order they were added.
    #[must_use]
    pub fn with(mut self, hook: impl RequestHook + 'static) -> Self {
        self.chain.push(Arc::new(hook));
        self
    }

    /// Appends an already shared hook.
    #[must_use]
    pub fn with_shared(mut self, hook: Arc<dyn RequestHook>) -> Self {
        self.chain.push(hook);
        self
    }

    /// Number of hooks in the chain.
    pub fn len(&self) -> usize {
        self.chain.len()
    }

    /// True when no hook is installed.
    pub fn is_empty(&self) -> bool {
        self.chain.is_empty()
    }

    /// Runs every hook in order, stopping at the first error.
    pub async fn run(&self, request: &mut reqwest::Request) -> Result<(), HookError> {
        for hook in &self.chain {
            hook.on_request(request).await?;
        }
        Ok(())
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("len", &self.chain.len())
            .finish()
    }
}

/// The function progenitor calls before every request (`pre_hook_async`).
pub async fn pre_request(hooks: &Hooks, request: &mut reqwest::Request) -> Result<(), HookError> {
    hooks.run(request).await
}

/// A hook built from a closure, handy for small header-setting hooks.
pub struct FnHook<F>(pub F);

impl<F> RequestHook for FnHook<F>
where
    F: Fn(&mut reqwest::Request) -> Result<(), HookError> + Send + Sync,
{
    fn on_request<'a>(&'a self, request: &'a mut reqwest::Request) -> HookFuture<'a> {
        let result = (self.0)(request);
        Box::pin(async move { result })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> reqwest::Request {
        reqwest::Request::new(
            reqwest::Method::GET,
            "http://127.0.0.1/x".parse().expect("static url"),
        )
    }

    #[tokio::test]
    async fn hooks_run_in_order_and_stop_at_first_error() {
        let hooks = Hooks::new()
            .with(FnHook(|r: &mut reqwest::Request| {
                r.headers_mut()
                    .insert("x-order", reqwest::header::HeaderValue::from_static("1"));
                Ok(())
            }))
            .with(FnHook(|r: &mut reqwest::Request| {
                let seen = r.headers().get("x-order").cloned();
                assert_eq!(seen.as_ref().map(|v| v.as_bytes()), Some(&b"1"[..]));
                Err(HookError::new("second", "refused"))
            }))
            .with(FnHook(|_: &mut reqwest::Request| {
                Err(HookError::new("third", "must not run"))
            }));
        let mut req = request();
        let err = pre_request(&hooks, &mut req)
            .await
            .expect_err("second hook refuses");
        assert_eq!(err.hook, "second");
        assert_eq!(err.to_string(), "request hook `second` failed: refused");
        assert_eq!(hooks.len(), 3);
    }

    #[tokio::test]
    async fn empty_chain_leaves_request_untouched() {
        let hooks = Hooks::new();
        let mut req = request();
        pre_request(&hooks, &mut req)
            .await
            .expect("no hooks, no error");
        assert!(req.headers().is_empty());
        assert!(hooks.is_empty());
    }
}
