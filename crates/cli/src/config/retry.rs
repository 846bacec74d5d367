//! The config file's `[retry]` table: the retry policy every call to the configured bank
//! runs under ([`psd2::RetryPolicy`]).
//!
//! Each value is checked here rather than by the policy's own deserializer, so that a
//! problem is reported with its line and key and a range the CLI accepts, and never with
//! the value itself.

use std::ops::RangeInclusive;
use std::time::Duration;

use psd2::RetryPolicy;
use serde::Deserialize;
use toml::{Spanned, Value};

/// The attempts per call a config may set, the first included (`1`: no retries).
pub const MAX_ATTEMPTS: RangeInclusive<u32> = 1..=100;

/// The longest duration any `[retry]` setting may have (one hour).
pub const MAX_DURATION: Duration = Duration::from_secs(3600);

/// The `[retry]` table as written: every key optional, unknown keys refused, each value
/// kept with its place in the file for messages.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, expecting = "a table")]
pub(super) struct RetryTable {
    max_attempts: Option<Spanned<Value>>,
    base_delay: Option<Spanned<Value>>,
    max_delay: Option<Spanned<Value>>,
    max_elapsed: Option<Spanned<Value>>,
    retry_after_cap: Option<Spanned<Value>>,
    jitter: Option<Spanned<Value>>,
}

/// A `[retry]` value that cannot be used: the key, where it is, and what is wrong (never
/// the value).
#[derive(Debug)]
pub(super) struct RetryProblem {
    /// Byte offset of the value in the file.
    pub offset: usize,
    /// The message, naming the key as `retry.KEY`.
    pub problem: String,
}

impl RetryTable {
    /// The policy this table asks for: the library's defaults for every key not given.
    pub(super) fn policy(&self) -> Result<RetryPolicy, RetryProblem> {
        let mut policy = RetryPolicy::default();
        if let Some(v) = &self.max_attempts {
            policy.max_attempts = attempts(v)?;
        }
        let durations = [
            ("base_delay", &self.base_delay, &mut policy.base_delay),
            ("max_delay", &self.max_delay, &mut policy.max_delay),
            ("max_elapsed", &self.max_elapsed, &mut policy.max_elapsed),
            (
                "retry_after_cap",
                &self.retry_after_cap,
                &mut policy.retry_after_cap,
            ),
        ];
        for (key, value, slot) in durations {
            if let Some(v) = value {
                *slot = duration(key, v)?;
            }
        }
        if let Some(v) = &self.jitter {
            policy.jitter = match v.get_ref() {
                Value::Boolean(b) => *b,
                _ => {
                    return Err(problem(
                        v,
                        "jitter",
                        "has the wrong type: expected true or false",
                    ));
                }
            };
        }
        Ok(policy)
    }
}

fn problem(value: &Spanned<Value>, key: &str, what: &str) -> RetryProblem {
    RetryProblem {
        offset: value.span().start,
        problem: format!("`retry.{key}` {what}"),
    }
}

/// `max_attempts`: a whole number in [`MAX_ATTEMPTS`].
fn attempts(value: &Spanned<Value>) -> Result<u32, RetryProblem> {
    let range = || {
        format!(
            "must be from {} to {} (attempts per call, the first included; 1: no retries)",
            MAX_ATTEMPTS.start(),
            MAX_ATTEMPTS.end()
        )
    };
    match value.get_ref() {
        Value::Integer(n) => u32::try_from(*n)
            .ok()
            .filter(|n| MAX_ATTEMPTS.contains(n))
            .ok_or_else(|| problem(value, "max_attempts", &range())),
        _ => Err(problem(
            value,
            "max_attempts",
            "has the wrong type: expected a whole number",
        )),
    }
}

/// A duration: milliseconds (a whole number) or text with a unit, at most [`MAX_DURATION`].
fn duration(key: &str, value: &Spanned<Value>) -> Result<Duration, RetryProblem> {
    let negative = || problem(value, key, "must not be negative");
    let too_long = || {
        problem(
            value,
            key,
            &format!("must be at most {} s", MAX_DURATION.as_secs()),
        )
    };
    let parsed = match value.get_ref() {
        Value::Integer(n) if *n < 0 => return Err(negative()),
        Value::Integer(n) => u64::try_from(*n).map(Duration::from_millis).ok(),
        Value::Float(f) if *f < 0.0 => return Err(negative()),
        Value::String(text) if text.trim_start().starts_with('-') => return Err(negative()),
        Value::String(text) => match psd2::retry::parse_duration(text) {
            Some(d) => Some(d),
            // Digits and a known unit that still do not parse: too many digits.
            None if well_formed(text) => None,
            None => {
                return Err(problem(
                    value,
                    key,
                    "is not a duration: write milliseconds (250) or digits with a unit \
                     (\"250ms\", \"8s\", \"2m\", \"1h\")",
                ));
            }
        },
        _ => {
            return Err(problem(
                value,
                key,
                "has the wrong type: expected milliseconds (a whole number) or text like \"8s\"",
            ));
        }
    };
    parsed.filter(|d| *d <= MAX_DURATION).ok_or_else(too_long)
}

/// Whether `text` is digits followed by a unit [`psd2::retry::parse_duration`] knows.
fn well_formed(text: &str) -> bool {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    !digits.is_empty() && matches!(unit.trim(), "" | "ms" | "s" | "m" | "min" | "h")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(text: &str) -> Result<RetryPolicy, String> {
        #[derive(Deserialize)]
        struct File {
            retry: RetryTable,
        }
        let file: File = toml::from_str(text).map_err(|e| e.to_string())?;
        file.retry.policy().map_err(|p| p.problem)
    }

    #[test]
    fn values_as_the_docs_write_them() {
        // The example of docs/cli.md's "Retry policy" section.
        let p = policy("[retry]\nmax_attempts = 6\nbase_delay = \"500ms\"\nmax_elapsed = \"2m\"\n")
            .expect("policy");
        assert_eq!(p.max_attempts, 6);
        assert_eq!(p.base_delay, Duration::from_millis(500));
        assert_eq!(p.max_elapsed, Duration::from_secs(120));
        // Not given: the documented defaults.
        assert_eq!(p.max_delay, Duration::from_secs(8));
        assert_eq!(p.retry_after_cap, Duration::from_secs(120));
        assert!(p.jitter);
        let p = policy(
            "[retry]\nmax_delay = 2000\nretry_after_cap = \"1h\"\njitter = false\nbase_delay = \"0ms\"\n",
        )
        .expect("policy");
        assert_eq!(p.max_delay, Duration::from_secs(2));
        assert_eq!(p.retry_after_cap, Duration::from_secs(3600));
        assert_eq!(p.base_delay, Duration::ZERO);
        assert!(!p.jitter);
    }

    #[test]
    fn bad_values_name_the_key_and_the_rule() {
        let cases = [
            (
                "max_attempts = 0",
                "`retry.max_attempts` must be from 1 to 100",
            ),
            (
                "max_attempts = 101",
                "`retry.max_attempts` must be from 1 to 100",
            ),
            (
                "max_attempts = -3",
                "`retry.max_attempts` must be from 1 to 100",
            ),
            (
                "max_attempts = 1.5",
                "`retry.max_attempts` has the wrong type",
            ),
            (
                "base_delay = -250",
                "`retry.base_delay` must not be negative",
            ),
            (
                "max_delay = \"-8s\"",
                "`retry.max_delay` must not be negative",
            ),
            ("max_delay = -0.5", "`retry.max_delay` must not be negative"),
            (
                "max_elapsed = \"61m\"",
                "`retry.max_elapsed` must be at most 3600 s",
            ),
            (
                "max_elapsed = 3600001",
                "`retry.max_elapsed` must be at most 3600 s",
            ),
            (
                "retry_after_cap = \"99999999999999999999h\"",
                "`retry.retry_after_cap` must be at most 3600 s",
            ),
            (
                "base_delay = \"soon\"",
                "`retry.base_delay` is not a duration",
            ),
            (
                "base_delay = \"8 fortnights\"",
                "`retry.base_delay` is not a duration",
            ),
            ("base_delay = true", "`retry.base_delay` has the wrong type"),
            ("jitter = \"yes\"", "`retry.jitter` has the wrong type"),
        ];
        for (line, expected) in cases {
            let e = policy(&format!("[retry]\n{line}\n")).expect_err(line);
            assert!(e.starts_with(expected), "{line}: {e}");
        }
        // Exactly at the bounds is fine.
        let p = policy("[retry]\nmax_attempts = 100\nmax_elapsed = \"60m\"\n").expect("bounds");
        assert_eq!(p.max_attempts, 100);
        assert_eq!(p.max_elapsed, MAX_DURATION);
        assert_eq!(
            policy("[retry]\nmax_attempts = 1\n")
                .expect("one")
                .max_attempts,
            1
        );
    }
}
