//! The one call wrapper: every attempt of every bank call goes through [`Calls::run`], which
//! applies the bank's [`RetryPolicy`], reports each attempt to the hooks, and logs one
//! `tracing` debug event per attempt (bank, operation, attempt, status, request id; never a
//! secret).

use std::future::Future;
use std::sync::Arc;

use crate::error::Error;
use crate::psu::Psu;
use crate::retry::{self, AttemptHook, CallInfo, RetryMode, RetryPolicy};

/// Longest account id accepted as a path segment, in bytes.
pub const MAX_ACCOUNT_ID_BYTES: usize = 1024;

/// A bank's retry policy and attempt hook, as its adapter config sets them.
#[derive(Debug, Clone, Default)]
pub struct Calls {
    /// The retry policy.
    pub retry: RetryPolicy,
    /// The adapter's own attempt hook, if any.
    pub hook: Option<Arc<dyn AttemptHook>>,
}

impl Calls {
    /// A wrapper applying `retry` and reporting to `hook`.
    pub fn new(retry: RetryPolicy, hook: Option<Arc<dyn AttemptHook>>) -> Self {
        Self { retry, hook }
    }

    /// Runs one call: `attempt(request_id)` sends one attempt with a fresh request id and
    /// returns the value with its HTTP status.
    pub async fn run<T, F, Fut>(
        &self,
        info: CallInfo<'_>,
        mode: RetryMode,
        mut attempt: F,
    ) -> Result<T, Error>
    where
        F: FnMut(uuid::Uuid) -> Fut,
        Fut: Future<Output = Result<(T, u16), Error>>,
    {
        retry::run(&self.retry, mode, self.hook.as_ref(), info, |n| {
            let rid = super::request_id();
            let call = attempt(rid);
            async move {
                let result = call.await;
                match &result {
                    Ok((_, status)) => tracing::debug!(
                        bank = info.bank,
                        operation = info.operation,
                        attempt = n,
                        status,
                        request_id = %rid,
                        "bank call succeeded"
                    ),
                    Err(error) => tracing::debug!(
                        bank = info.bank,
                        operation = info.operation,
                        attempt = n,
                        status = error.status.unwrap_or(0),
                        kind = %error.kind,
                        request_id = %rid,
                        "bank call failed"
                    ),
                }
                result
            }
        })
        .await
    }
}

/// The [`CallInfo`] of attempt 1 of `operation` for `psu`, about `account` if given.
pub fn info<'a>(
    bank: &'static str,
    operation: &'static str,
    psu: &Psu,
    account: Option<&'a crate::account::AccountId>,
) -> CallInfo<'a> {
    let mut info = CallInfo::new(bank, operation).psu_present(psu.is_present());
    if let Some(account) = account {
        info = info.account(account);
    }
    info
}

/// Checks an account id before it becomes a URL path segment: not empty, not `.` or `..`,
/// no control characters, at most [`MAX_ACCOUNT_ID_BYTES`] bytes. The error names the field
/// and the shape, never the value.
pub fn check_account_id(
    bank: &'static str,
    operation: &'static str,
    account: &crate::account::AccountId,
) -> Result<(), Error> {
    let id = account.as_str();
    let why = if id.trim().is_empty() {
        Some("account id is empty".to_owned())
    } else if id == "." || id == ".." {
        Some("account id must not be `.` or `..` (a path segment)".to_owned())
    } else if id.chars().any(char::is_control) {
        Some("account id contains control characters".to_owned())
    } else if id.len() > MAX_ACCOUNT_ID_BYTES {
        Some(format!(
            "account id is {} bytes long, more than the {MAX_ACCOUNT_ID_BYTES} accepted",
            id.len()
        ))
    } else {
        None
    };
    match why {
        Some(why) => Err(Error::invalid_input(bank, operation, why)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::AccountId;
    use crate::error::ErrorKind;

    #[test]
    fn unusable_account_ids_are_refused_by_name() {
        for bad in [
            String::new(),
            " ".into(),
            ".".into(),
            "..".into(),
            "a\nb".into(),
            "x".repeat(70_000),
        ] {
            let e = check_account_id("t", "balances", &AccountId::new(bad.clone())).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidInput);
            let shown = e.to_string();
            assert!(shown.contains("account id"), "{shown}");
            assert!(shown.len() < 300, "the value is not echoed");
        }
        for good in [
            "SE6560038940263180738176",
            "a.b",
            "...",
            "x".repeat(1024).as_str(),
        ] {
            check_account_id("t", "balances", &AccountId::new(good)).unwrap();
        }
    }
}
