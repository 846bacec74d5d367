//! Retrying bank calls: the policy, the classification of failures, and a hook that sees
//! every attempt.
//!
//! # Policy
//!
//! A [`RetryPolicy`] bounds the attempts of one call (`max_attempts`, counting the first) and
//! the total time spent on it, waits included (`max_elapsed`). Between attempts it waits
//! `base_delay * 2^(attempt-1)`, capped at `max_delay`, with full jitter (a uniformly random
//! wait between zero and that bound) unless `jitter` is off. A bank's `Retry-After` (on a 429)
//! replaces the backoff when it is no longer than `retry_after_cap` and fits in what is left of
//! `max_elapsed`; a longer one is not waited for: the error is returned at once and carries the
//! bank's `retry_after` ([`ErrorKind::AccessExceeded`]).
//!
//! # What is retried
//!
//! Transient failures only ([`is_transient`]): HTTP 500, 502, 503, 504, 408 and 429, timeouts,
//! connection errors, and answers cut off or not JSON at all. A 4xx other than 408/429, a
//! mapping error and anything the caller got wrong are returned at once. Calls that change
//! state at the bank (creating a consent, exchanging an authorization code, starting SCA,
//! deleting a consent) are never retried ([`RetryMode::Never`]); a token refresh is retried
//! once on a transport failure only ([`RetryMode::OnceOnTransport`]), because a lost answer
//! to a refresh must not cost the customer a new SCA.
//!
//! # Hooks
//!
//! Every attempt, first and retries alike, is reported to the adapter's configured
//! [`AttemptHook`] and to every hook put in scope with [`with_attempt_hook`]: before it is
//! sent ([`AttemptHook::before_attempt`], which may refuse it) and after
//! ([`AttemptHook::after_attempt`]). A caller counting the bank's daily access budget counts
//! retries this way too.

use std::fmt;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::account::AccountId;
use crate::error::{Error, ErrorKind};

/// The `detail` of an error for an answer that is not JSON at all (a proxy's HTML page, a
/// body cut off mid-way): transient on idempotent calls.
pub const UNREADABLE_ANSWER: &str = "the bank's answer could not be read (cut off or not JSON)";

/// How a call is retried: bounded attempts and total time, exponential backoff with jitter,
/// `Retry-After` honoured up to a cap. See the [module docs](self).
///
/// In a config file (TOML/JSON) every field is optional; durations are milliseconds (a
/// number) or text with a unit (`"250ms"`, `"8s"`, `"2m"`, `"1h"`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (default 4; 0 counts as 1).
    pub max_attempts: u32,
    /// The first backoff bound, doubled per attempt (default 250 ms).
    #[serde(with = "duration_text")]
    pub base_delay: Duration,
    /// The largest backoff bound (default 8 s).
    #[serde(with = "duration_text")]
    pub max_delay: Duration,
    /// The most time one call may take, attempts and waits included (default 60 s).
    #[serde(with = "duration_text")]
    pub max_elapsed: Duration,
    /// The longest `Retry-After` waited for (default 120 s); a longer one ends the call.
    #[serde(with = "duration_text")]
    pub retry_after_cap: Duration,
    /// Full jitter on the backoff (default true); off gives the bound itself.
    pub jitter: bool,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_elapsed: Duration::from_secs(60),
            retry_after_cap: Duration::from_secs(120),
            jitter: true,
        }
    }
}

impl RetryPolicy {
    /// No retries: one attempt per call.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The backoff bound before attempt `next` (2 for the first retry):
    /// `base_delay * 2^(next-2)`, at most `max_delay`. Saturating, never panics.
    pub fn backoff_bound(&self, next: u32) -> Duration {
        let doublings = next.saturating_sub(2).min(31);
        self.base_delay
            .checked_mul(1u32 << doublings)
            .unwrap_or(Duration::MAX)
            .min(self.max_delay)
    }

    /// The wait before attempt `next`: the bound, or with jitter a random share of it.
    pub fn backoff(&self, next: u32) -> Duration {
        let bound = self.backoff_bound(next);
        if !self.jitter || bound.is_zero() {
            return bound;
        }
        let nanos = u64::try_from(bound.as_nanos()).unwrap_or(u64::MAX);
        Duration::from_nanos(random_u64() % nanos.saturating_add(1))
    }
}

/// A random number from the standard library's per-process hash keys (no extra dependency;
/// good enough to spread retries, not for secrets).
fn random_u64() -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    hasher.finish()
}

/// What is being attempted, as an [`AttemptHook`] sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct CallInfo<'a> {
    /// The bank (adapter) name, e.g. `"handelsbanken"`.
    pub bank: &'static str,
    /// The operation, e.g. `"transactions"`, `"accounts"`, `"consent_status"`, `"token"`.
    pub operation: &'static str,
    /// The account the call is about, if any.
    pub account: Option<&'a AccountId>,
    /// Whether the PSU is present (`PSU-IP-Address` sent): such calls do not count against
    /// a consent's `frequencyPerDay`.
    pub psu_present: bool,
    /// 1-based attempt number.
    pub attempt: u32,
    /// Whether the call may be repeated without changing anything at the bank.
    pub idempotent: bool,
}

impl<'a> CallInfo<'a> {
    /// Attempt 1 of an idempotent call of `operation` at `bank`, no account, PSU absent.
    pub fn new(bank: &'static str, operation: &'static str) -> Self {
        Self {
            bank,
            operation,
            account: None,
            psu_present: false,
            attempt: 1,
            idempotent: true,
        }
    }

    /// Sets the account.
    pub fn account(mut self, account: &'a AccountId) -> Self {
        self.account = Some(account);
        self
    }

    /// Sets whether the PSU is present.
    pub fn psu_present(mut self, present: bool) -> Self {
        self.psu_present = present;
        self
    }

    /// Sets whether the call is idempotent.
    pub fn idempotent(mut self, idempotent: bool) -> Self {
        self.idempotent = idempotent;
        self
    }
}

/// How one attempt ended.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AttemptOutcome {
    /// The bank answered with success.
    Succeeded {
        /// The HTTP status.
        status: u16,
    },
    /// The attempt failed.
    Failed {
        /// What went wrong.
        kind: ErrorKind,
        /// The HTTP status, if the bank answered.
        status: Option<u16>,
        /// The bank's `Retry-After`, if it sent one.
        retry_after: Option<Duration>,
        /// Whether another attempt follows.
        will_retry: bool,
    },
    /// A hook's [`AttemptHook::before_attempt`] refused the attempt; nothing was sent.
    Refused,
}

/// Sees every attempt of every bank call (see the [module docs](self)).
pub trait AttemptHook: Send + Sync + fmt::Debug {
    /// Before every attempt (first and retries). `Err`: the call is not sent and that error
    /// is returned.
    fn before_attempt(&self, call: &CallInfo<'_>) -> Result<(), Error> {
        let _ = call;
        Ok(())
    }

    /// After every attempt, with its outcome.
    fn after_attempt(&self, call: &CallInfo<'_>, outcome: &AttemptOutcome) {
        let _ = (call, outcome);
    }
}

tokio::task_local! {
    static SCOPED_HOOKS: Vec<Arc<dyn AttemptHook>>;
}

/// Runs `fut` with `hook` in scope for every bank call made while polling it (a tokio
/// task-local), in addition to the adapter's own configured hook and to hooks of enclosing
/// scopes. This is how a caller counts attempts per connection or account without changing
/// the traits.
pub async fn with_attempt_hook<F: Future>(hook: Arc<dyn AttemptHook>, fut: F) -> F::Output {
    let mut hooks = scoped_hooks();
    hooks.push(hook);
    SCOPED_HOOKS.scope(hooks, fut).await
}

/// The hooks put in scope with [`with_attempt_hook`] around the current task.
fn scoped_hooks() -> Vec<Arc<dyn AttemptHook>> {
    SCOPED_HOOKS.try_with(Clone::clone).unwrap_or_default()
}

/// Which failures of a call may be retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RetryMode {
    /// Every transient failure (reads, status polls).
    Idempotent,
    /// Nothing: the call changes state at the bank.
    Never,
    /// One more attempt after a transport failure or timeout only (token refresh).
    OnceOnTransport,
}

/// Whether `error` is a transient failure an idempotent call may retry: HTTP 500, 502, 503,
/// 504, 408 or 429, a timeout, a connection error, or an answer that could not be read at all
/// ([`UNREADABLE_ANSWER`]). A consent, authorization or format error never is.
pub fn is_transient(error: &Error) -> bool {
    match error.status {
        Some(500 | 502 | 503 | 504 | 408 | 429) => true,
        // A success status with an answer that could not be read.
        Some(200..=299) | None => match error.kind {
            ErrorKind::Transport | ErrorKind::Timeout | ErrorKind::BankUnavailable => true,
            ErrorKind::UnexpectedResponse => error.detail() == Some(UNREADABLE_ANSWER),
            _ => false,
        },
        Some(_) => false,
    }
}

/// The `Retry-After` an error carries, if any.
pub fn retry_after(error: &Error) -> Option<Duration> {
    match error.kind {
        ErrorKind::AccessExceeded { retry_after } => retry_after,
        _ => None,
    }
}

/// Runs one bank call under `policy`: `attempt(n)` sends attempt `n` (1-based) and returns
/// the value with its HTTP status. `hook` (the adapter's) and the scoped hooks see every
/// attempt; `info.attempt` is set per attempt.
pub async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    mode: RetryMode,
    hook: Option<&Arc<dyn AttemptHook>>,
    info: CallInfo<'_>,
    mut attempt: F,
) -> Result<T, Error>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<(T, u16), Error>>,
{
    let mut hooks = scoped_hooks();
    if let Some(hook) = hook {
        hooks.insert(0, hook.clone());
    }
    let max_attempts = match mode {
        RetryMode::Idempotent => policy.max_attempts.max(1),
        RetryMode::Never => 1,
        RetryMode::OnceOnTransport => 2,
    };
    let started = tokio::time::Instant::now();
    let mut n: u32 = 1;
    loop {
        let call = CallInfo {
            attempt: n,
            idempotent: mode == RetryMode::Idempotent,
            ..info
        };
        if let Err(refused) = hooks.iter().try_for_each(|h| h.before_attempt(&call)) {
            hooks
                .iter()
                .for_each(|h| h.after_attempt(&call, &AttemptOutcome::Refused));
            return Err(refused);
        }
        let error = match attempt(n).await {
            Ok((value, status)) => {
                let outcome = AttemptOutcome::Succeeded { status };
                hooks.iter().for_each(|h| h.after_attempt(&call, &outcome));
                return Ok(value);
            }
            Err(error) => error,
        };
        let wait = next_wait(policy, mode, &error, n, max_attempts, started.elapsed());
        let outcome = AttemptOutcome::Failed {
            kind: error.kind.clone(),
            status: error.status,
            retry_after: retry_after(&error),
            will_retry: wait.is_some(),
        };
        hooks.iter().for_each(|h| h.after_attempt(&call, &outcome));
        let Some(wait) = wait else {
            return Err(error);
        };
        log_retry(&call, &error, wait);
        tokio::time::sleep(wait).await;
        n = n.saturating_add(1);
    }
}

/// The wait before the next attempt, or `None` when the call ends with `error`.
fn next_wait(
    policy: &RetryPolicy,
    mode: RetryMode,
    error: &Error,
    done: u32,
    max_attempts: u32,
    elapsed: Duration,
) -> Option<Duration> {
    if done >= max_attempts {
        return None;
    }
    let retryable = match mode {
        RetryMode::Never => false,
        RetryMode::Idempotent => is_transient(error),
        RetryMode::OnceOnTransport => {
            matches!(error.kind, ErrorKind::Transport | ErrorKind::Timeout)
                && error.status.is_none()
        }
    };
    if !retryable {
        return None;
    }
    let wait = match retry_after(error) {
        Some(after) if after > policy.retry_after_cap => return None,
        Some(after) => after,
        None => policy.backoff(done.saturating_add(1)),
    };
    let left = policy.max_elapsed.checked_sub(elapsed)?;
    (wait < left).then_some(wait)
}

#[cfg(feature = "adapters")]
fn log_retry(call: &CallInfo<'_>, error: &Error, wait: Duration) {
    tracing::debug!(
        bank = call.bank,
        operation = call.operation,
        attempt = call.attempt,
        kind = %error.kind,
        status = error.status.unwrap_or(0),
        wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
        "transient failure, retrying"
    );
}

#[cfg(not(feature = "adapters"))]
fn log_retry(_: &CallInfo<'_>, _: &Error, _: Duration) {}

/// Serde for durations as milliseconds (number) or text with a unit.
mod duration_text {
    use super::*;

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Millis(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Millis(ms) => Ok(Duration::from_millis(ms)),
            Raw::Text(text) => parse_duration(&text).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "not a duration (a number of milliseconds, or digits with ms, s, m or h; {} characters given)",
                    text.chars().count()
                ))
            }),
        }
    }
}

/// Parses `"250ms"`, `"8s"`, `"2m"`, `"1h"` or plain digits (milliseconds); `None` for
/// anything else or a value beyond `u64` milliseconds.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let n: u64 = digits.parse().ok()?;
    let millis = match unit.trim() {
        "" | "ms" => Some(n),
        "s" => n.checked_mul(1_000),
        "m" | "min" => n.checked_mul(60_000),
        "h" => n.checked_mul(3_600_000),
        _ => None,
    }?;
    Some(Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Debug, Default)]
    struct Log(Mutex<Vec<(u32, String)>>);

    impl AttemptHook for Log {
        fn after_attempt(&self, call: &CallInfo<'_>, outcome: &AttemptOutcome) {
            let text = match outcome {
                AttemptOutcome::Succeeded { status } => format!("ok {status}"),
                AttemptOutcome::Failed {
                    status, will_retry, ..
                } => format!("fail {} {will_retry}", status.unwrap_or(0)),
                AttemptOutcome::Refused => "refused".to_owned(),
            };
            self.0.lock().unwrap().push((call.attempt, text));
        }
    }

    fn err(status: u16) -> Error {
        Error::from_response("test", "op", status, b"", None)
    }

    fn no_jitter() -> RetryPolicy {
        RetryPolicy {
            jitter: false,
            ..RetryPolicy::default()
        }
    }

    #[test]
    fn defaults_are_the_documented_ones() {
        let p = RetryPolicy::default();
        assert_eq!(p.max_attempts, 4);
        assert_eq!(p.base_delay, Duration::from_millis(250));
        assert_eq!(p.max_delay, Duration::from_secs(8));
        assert_eq!(p.max_elapsed, Duration::from_secs(60));
        assert_eq!(p.retry_after_cap, Duration::from_secs(120));
        assert!(p.jitter);
        assert_eq!(RetryPolicy::none().max_attempts, 1);
    }

    #[test]
    fn backoff_doubles_and_caps_without_overflow() {
        let p = no_jitter();
        let ms = |n| p.backoff(n).as_millis();
        assert_eq!(
            [ms(2), ms(3), ms(4), ms(5), ms(6), ms(7)],
            [250, 500, 1000, 2000, 4000, 8000]
        );
        assert_eq!(ms(8), 8000);
        assert_eq!(ms(u32::MAX), 8000);
        let huge = RetryPolicy {
            base_delay: Duration::MAX,
            max_delay: Duration::MAX,
            ..no_jitter()
        };
        assert_eq!(huge.backoff(40), Duration::MAX);
        let jittered = RetryPolicy::default();
        for n in 2..10 {
            assert!(jittered.backoff(n) <= jittered.backoff_bound(n));
        }
    }

    #[test]
    fn config_text_parses() {
        let p: RetryPolicy =
            serde_json::from_str(r#"{"max_attempts": 6, "base_delay": "100ms", "max_delay": 2000, "max_elapsed": "2m", "jitter": false}"#)
                .unwrap();
        assert_eq!(p.max_attempts, 6);
        assert_eq!(p.base_delay, Duration::from_millis(100));
        assert_eq!(p.max_delay, Duration::from_secs(2));
        assert_eq!(p.max_elapsed, Duration::from_secs(120));
        assert_eq!(p.retry_after_cap, Duration::from_secs(120));
        assert!(!p.jitter);
        let bad = serde_json::from_str::<RetryPolicy>(r#"{"base_delay": "soon-191212121212"}"#)
            .unwrap_err()
            .to_string();
        assert!(!bad.contains("191212121212"), "{bad}");
        assert!(serde_json::from_str::<RetryPolicy>(r#"{"max_atempts": 1}"#).is_err());
        assert_eq!(parse_duration("99999999999999999h"), None);
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
    }

    #[test]
    fn classification() {
        for status in [500, 502, 503, 504, 408, 429] {
            assert!(is_transient(&err(status)), "{status}");
        }
        for status in [400, 401, 403, 404, 409, 501] {
            assert!(!is_transient(&err(status)), "{status}");
        }
        assert!(is_transient(&Error::new(ErrorKind::Transport, "t", "o")));
        assert!(is_transient(&Error::new(ErrorKind::Timeout, "t", "o")));
        assert!(is_transient(
            &Error::new(ErrorKind::UnexpectedResponse, "t", "o").with_detail(UNREADABLE_ANSWER)
        ));
        assert!(!is_transient(&Error::new(
            ErrorKind::UnexpectedResponse,
            "t",
            "o"
        )));
        assert!(!is_transient(&Error::new(
            ErrorKind::ConsentExpired,
            "t",
            "o"
        )));
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_with_backoff_and_reported() {
        let log = Arc::new(Log::default());
        let hook: Arc<dyn AttemptHook> = log.clone();
        let start = tokio::time::Instant::now();
        let got = run(
            &no_jitter(),
            RetryMode::Idempotent,
            Some(&hook),
            CallInfo::new("test", "op"),
            |n| async move { if n < 3 { Err(err(503)) } else { Ok((n, 200)) } },
        )
        .await
        .unwrap();
        assert_eq!(got, 3);
        assert_eq!(start.elapsed(), Duration::from_millis(250 + 500));
        assert_eq!(
            *log.0.lock().unwrap(),
            [
                (1, "fail 503 true".into()),
                (2, "fail 503 true".into()),
                (3, "ok 200".into())
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn attempts_and_elapsed_time_are_bounded() {
        let calls = Arc::new(Mutex::new(0u32));
        let count = calls.clone();
        let e = run(
            &no_jitter(),
            RetryMode::Idempotent,
            None,
            CallInfo::new("test", "op"),
            move |_| {
                *count.lock().unwrap() += 1;
                async { Err::<((), u16), _>(err(500)) }
            },
        )
        .await
        .unwrap_err();
        assert_eq!(e.status, Some(500));
        assert_eq!(*calls.lock().unwrap(), 4);

        let tight = RetryPolicy {
            max_elapsed: Duration::from_millis(600),
            ..no_jitter()
        };
        let calls = Arc::new(Mutex::new(0u32));
        let count = calls.clone();
        run(
            &tight,
            RetryMode::Idempotent,
            None,
            CallInfo::new("t", "o"),
            move |_| {
                *count.lock().unwrap() += 1;
                async { Err::<((), u16), _>(err(500)) }
            },
        )
        .await
        .unwrap_err();
        // 250 ms then 500 ms: the second wait would end past 600 ms.
        assert_eq!(*calls.lock().unwrap(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn non_idempotent_and_client_errors_are_not_retried() {
        for (mode, status) in [(RetryMode::Never, 503), (RetryMode::Idempotent, 400)] {
            let log = Arc::new(Log::default());
            let hook: Arc<dyn AttemptHook> = log.clone();
            run(
                &no_jitter(),
                mode,
                Some(&hook),
                CallInfo::new("t", "o"),
                |_| async move { Err::<((), u16), _>(err(status)) },
            )
            .await
            .unwrap_err();
            assert_eq!(log.0.lock().unwrap().len(), 1, "{mode:?} {status}");
        }
        // A refresh: one more attempt on a transport failure, none on a refusal.
        let log = Arc::new(Log::default());
        let hook: Arc<dyn AttemptHook> = log.clone();
        run(
            &no_jitter(),
            RetryMode::OnceOnTransport,
            Some(&hook),
            CallInfo::new("t", "o"),
            |_| async { Err::<((), u16), _>(Error::new(ErrorKind::Transport, "t", "o")) },
        )
        .await
        .unwrap_err();
        assert_eq!(log.0.lock().unwrap().len(), 2);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_honoured_up_to_the_cap() {
        let after = |secs: u64| Error::from_response("t", "o", 429, b"", Some(&secs.to_string()));
        let start = tokio::time::Instant::now();
        let got = run(
            &no_jitter(),
            RetryMode::Idempotent,
            None,
            CallInfo::new("t", "o"),
            |n| {
                let e = after(7u64);
                async move { if n == 1 { Err(e) } else { Ok(((), 200)) } }
            },
        )
        .await;
        assert!(got.is_ok());
        assert_eq!(start.elapsed(), Duration::from_secs(7));

        let start = tokio::time::Instant::now();
        let e = run(
            &no_jitter(),
            RetryMode::Idempotent,
            None,
            CallInfo::new("t", "o"),
            |_| {
                let e = after(121u64);
                async move { Err::<((), u16), _>(e) }
            },
        )
        .await
        .unwrap_err();
        assert_eq!(start.elapsed(), Duration::ZERO);
        assert_eq!(retry_after(&e), Some(Duration::from_secs(121)));
    }

    #[derive(Debug)]
    struct Budget(Mutex<u32>);

    impl AttemptHook for Budget {
        fn before_attempt(&self, call: &CallInfo<'_>) -> Result<(), Error> {
            let mut left = self.0.lock().unwrap();
            if *left == 0 {
                return Err(Error::new(
                    ErrorKind::AccessExceeded { retry_after: None },
                    call.bank,
                    call.operation,
                ));
            }
            *left -= 1;
            Ok(())
        }
    }

    #[tokio::test(start_paused = true)]
    async fn scoped_hooks_see_retries_and_can_refuse() {
        let budget = Arc::new(Budget(Mutex::new(2)));
        let log = Arc::new(Log::default());
        let sent = Arc::new(Mutex::new(0u32));
        let counter = sent.clone();
        let result = with_attempt_hook(
            budget.clone(),
            with_attempt_hook(log.clone(), async move {
                run(
                    &no_jitter(),
                    RetryMode::Idempotent,
                    None,
                    CallInfo::new("t", "o"),
                    move |_| {
                        *counter.lock().unwrap() += 1;
                        async { Err::<((), u16), _>(err(503)) }
                    },
                )
                .await
            }),
        )
        .await;
        let e = result.unwrap_err();
        assert!(matches!(e.kind, ErrorKind::AccessExceeded { .. }));
        assert_eq!(
            *sent.lock().unwrap(),
            2,
            "the third attempt was refused, not sent"
        );
        assert_eq!(
            log.0.lock().unwrap().last().unwrap(),
            &(3, "refused".to_owned())
        );
        // Outside the scope the hooks are gone.
        assert!(scoped_hooks().is_empty());
    }
}
