//! The CLI's error, its exit codes, and what the user is told to do next.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Timelike as _, Utc};
use psd2::ErrorKind;

/// Exit code: usage or configuration error (clap's usage errors use it too).
pub const EXIT_USAGE: u8 = 2;
/// Exit code: authentication or consent problem (unauthorized, consent invalid/expired, SCA).
pub const EXIT_AUTH: u8 = 3;
/// Exit code: rate limit (`ACCESS_EXCEEDED`, HTTP 429).
pub const EXIT_RATE_LIMIT: u8 = 4;
/// Exit code: the bank failed or answered something unusable.
pub const EXIT_BANK: u8 = 5;
/// Exit code: the bank could not be reached (connection, TLS, timeout).
pub const EXIT_NETWORK: u8 = 6;
/// Exit code: a local failure (writing the session file, the terminal).
pub const EXIT_LOCAL: u8 = 1;
/// Exit code: the PSU did not finish SCA in time (the bank answered, still pending).
pub const EXIT_SCA_TIMEOUT: u8 = 7;

/// What shapes the report of an error besides the error itself.
#[derive(Debug, Clone, Copy)]
pub struct ReportContext {
    /// `-v`: the bank's texts, the value that did not fit, the cause chain.
    pub verbose: bool,
    /// Whether PSU-IP-Address was sent (`--psu-ip`): then a 429 is not the consent's
    /// daily limit.
    pub psu_present: bool,
    /// Now, for retry times.
    pub now: DateTime<Utc>,
}

impl ReportContext {
    /// A context at the current time.
    pub fn new(verbose: bool, psu_present: bool) -> Self {
        Self {
            verbose,
            psu_present,
            now: Utc::now(),
        }
    }
}

/// Everything a command can fail with.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// The command line or the environment is unusable.
    #[error("{0}")]
    Usage(String),
    /// The configuration file is unusable; names the file and the problem.
    #[error("config file {path}: {problem}")]
    Config {
        /// The file.
        path: String,
        /// What is wrong with it (one line).
        problem: String,
    },
    /// The bank (through the facade) failed.
    #[error(transparent)]
    Bank(#[from] psd2::Error),
    /// The bank refused with an auth error, and the consent's status explains why.
    #[error("{error}")]
    Diagnosed {
        /// The bank's error.
        error: psd2::Error,
        /// The consent's status, read after the failure.
        consent_status: psd2::ConsentStatus,
    },
    /// A local failure (file system, terminal).
    #[error("{0}")]
    Local(String),
    /// The PSU did not finish SCA in time (no redirect arrived; the bank kept answering
    /// "pending").
    #[error("SCA not finished in time: {0}")]
    ScaTimeout(String),
}

/// Whether a facade error is a decoupled SCA that ran out of time (the bank answered every
/// poll), not a network timeout. The facade marks it (`psd2::sca::is_sca_timeout`); a plain
/// timeout of the polling loop itself counts too.
fn is_sca_timeout(e: &psd2::Error) -> bool {
    psd2::sca::is_sca_timeout(e)
        || (e.kind == ErrorKind::Timeout && e.operation == "wait_for_decoupled")
}

/// Whether the error came from a token endpoint (throttling there is not the consent's
/// daily limit).
fn is_token_call(e: &psd2::Error) -> bool {
    e.operation.contains("token")
}

/// A wait as a person reads it: `in 7 s`, `in 4 min 10 s`, `in 21 h 56 min, at 00:00 UTC`
/// (the time rounded up to the minute, with the date when it is not today).
pub fn human_wait(wait: Duration, now: DateTime<Utc>) -> String {
    let secs = wait.as_secs();
    if secs > 366 * 24 * 3600 {
        return "in more than a year".into();
    }
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let span = match (h, m) {
        (0, 0) => return format!("in {s} s"),
        (0, _) if s == 0 => format!("in {m} min"),
        (0, _) => format!("in {m} min {s} s"),
        (_, 0) => format!("in {h} h"),
        _ => format!("in {h} h {m} min"),
    };
    let at = TimeDelta::from_std(wait)
        .ok()
        .and_then(|d| now.checked_add_signed(d))
        .and_then(|t| {
            let past = t.second() > 0 || t.nanosecond() > 0;
            let t = t.with_second(0)?.with_nanosecond(0)?;
            if past {
                t.checked_add_signed(TimeDelta::minutes(1))
            } else {
                Some(t)
            }
        });
    match at {
        Some(at) if at.date_naive() == now.date_naive() => {
            format!("{span}, at {} UTC", at.format("%H:%M"))
        }
        Some(at) => format!("{span}, at {} UTC", at.format("%Y-%m-%d %H:%M")),
        None => span,
    }
}

impl CliError {
    /// A configuration error for `path`.
    pub fn config(path: &Path, problem: impl Into<String>) -> Self {
        Self::Config {
            path: path.display().to_string(),
            problem: problem.into(),
        }
    }

    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Usage(_) | Self::Config { .. } => EXIT_USAGE,
            Self::Local(_) => EXIT_LOCAL,
            Self::ScaTimeout(_) => EXIT_SCA_TIMEOUT,
            Self::Bank(e) | Self::Diagnosed { error: e, .. } if is_sca_timeout(e) => {
                EXIT_SCA_TIMEOUT
            }
            Self::Bank(e) | Self::Diagnosed { error: e, .. } => exit_code_of_kind(&e.kind),
        }
    }

    /// What the user can do about it, if there is something specific.
    pub fn hint(&self, ctx: &ReportContext) -> Option<String> {
        let again = "run `psd2 consent create` and `psd2 sca` again";
        let e = match self {
            Self::Bank(e) => e,
            Self::Diagnosed { consent_status, .. } => {
                return Some(format!(
                    "the consent's status is now {consent_status}: {again}"
                ));
            }
            Self::ScaTimeout(_) => return Some(sca_timeout_hint()),
            _ => return None,
        };
        if is_sca_timeout(e) {
            return Some(sca_timeout_hint());
        }
        let codes: Vec<&str> = e.codes().collect();
        Some(match &e.kind {
            ErrorKind::ConsentExpired => format!("the consent has expired: {again}"),
            ErrorKind::ConsentRevoked => format!("the PSU revoked the consent: {again}"),
            ErrorKind::ConsentUnknown => format!("the bank does not know this consent: {again}"),
            ErrorKind::ConsentInvalid => {
                format!("the consent is not usable (not authorised, rejected or ended): {again}")
            }
            ErrorKind::AccessExceeded { retry_after } => {
                rate_limit_hint(e, *retry_after, &codes, ctx)
            }
            ErrorKind::Unauthorized
                if codes.iter().any(|c| c.eq_ignore_ascii_case("SCA_REQUIRED")) =>
            {
                "history older than 90 days needs a fresh SCA: run `psd2 sca` again, or ask for a \
                 shorter period with --from"
                    .to_string()
            }
            ErrorKind::Unauthorized => {
                "check client_id, PSD2_CLIENT_SECRET and the certificates; if the session's token \
                 expired, run `psd2 sca` again"
                    .to_string()
            }
            ErrorKind::ScaRejected => format!("the PSU declined: {again}"),
            ErrorKind::ScaFailed => "SCA failed: run `psd2 sca` again".to_string(),
            ErrorKind::BankUnavailable => "the bank is failing: try again later".to_string(),
            ErrorKind::Transport => {
                "check base_url and the network (is the bank or the sandbox running?)".to_string()
            }
            ErrorKind::Timeout => "the bank did not answer in time: try again".to_string(),
            ErrorKind::Unsupported { .. } => format!("{} does not offer this", e.bank),
            _ => return None,
        })
    }

    /// The first line: the error itself, with a rate limit's retry time left to the hint
    /// (in words there) and an SCA that ran out of time told as that, not as a network
    /// failure.
    fn headline(&self, _ctx: &ReportContext) -> String {
        match self {
            Self::Bank(e) if is_sca_timeout(e) => {
                let mut text = format!(
                    "{} {}: SCA not finished in time: {}",
                    e.bank,
                    e.operation,
                    e.detail()
                        .unwrap_or("the bank answered every poll, the PSU did not confirm")
                );
                if let Some(id) = e.request_id() {
                    let _ = write!(text, " (request id {id})");
                }
                text
            }
            Self::Bank(e) | Self::Diagnosed { error: e, .. } => {
                let text = self.to_string();
                match &e.kind {
                    ErrorKind::AccessExceeded {
                        retry_after: Some(d),
                    } => text.replacen(&format!(" (retry after {}s)", d.as_secs()), "", 1),
                    _ => text,
                }
            }
            _ => self.to_string(),
        }
    }

    /// The message printed on stderr: one line, then a hint line and, with `verbose`, the
    /// bank's message texts and the cause chain (with `secrets` scrubbed out).
    pub fn report(&self, ctx: &ReportContext, secrets: &[&str]) -> String {
        let mut out = format!("psd2: error: {}", self.headline(ctx));
        if let Some(hint) = self.hint(ctx) {
            let _ = write!(out, "\n  hint: {hint}");
        }
        if ctx.verbose
            && let Self::Bank(e) | Self::Diagnosed { error: e, .. } = self
        {
            if let Some(status) = e.status {
                let _ = write!(out, "\n  http status: {status}");
            }
            if let Some(value) = e.offending_value() {
                let _ = write!(out, "\n  value sent by the bank: {value:?}");
            }
            for m in e.bank_messages() {
                let mut line = String::new();
                for (label, value) in [
                    ("category", &m.category),
                    ("code", &m.code),
                    ("path", &m.path),
                    ("text", &m.text),
                ] {
                    if let Some(value) = value {
                        let _ = write!(line, " {label}={}", crate::output::printable(value, 500));
                    }
                }
                let _ = write!(out, "\n  bank message:{line}");
            }
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                let _ = write!(out, "\n  caused by: {cause}");
                source = cause.source();
            }
        }
        psd2_security::redact::scrub(&out, secrets)
    }
}

/// The hint for an SCA that ran out of time.
fn sca_timeout_hint() -> String {
    "the PSU did not finish authorising in time: run `psd2 sca` again (a longer --timeout \
     gives the PSU more time)"
        .to_string()
}

/// The hint for a rate limit: what it is (the token endpoint's throttling, a limit that is
/// not the consent's daily one because the PSU is present, or the consent's
/// `frequencyPerDay`) and when to try again.
fn rate_limit_hint(
    e: &psd2::Error,
    retry_after: Option<Duration>,
    codes: &[&str],
    ctx: &ReportContext,
) -> String {
    let when = match retry_after {
        Some(d) => format!("try again {}", human_wait(d, ctx.now)),
        None => "wait until the bank's limit resets".to_string(),
    };
    if is_token_call(e) {
        return format!("the bank's token endpoint is throttling requests: {when}");
    }
    if ctx.psu_present {
        return format!(
            "the bank is throttling requests (not the consent's daily limit: PSU-IP-Address \
             was sent): {when}"
        );
    }
    if codes
        .iter()
        .any(|c| c.eq_ignore_ascii_case("ACCESS_EXCEEDED"))
    {
        let when = match retry_after {
            Some(_) => when,
            None => "wait until the bank's limit resets (usually midnight)".to_string(),
        };
        return format!(
            "the consent's daily access limit (frequencyPerDay) is used up: {when}, or send \
             PSU-IP-Address when the PSU is present (`--psu-ip ADDRESS`)"
        );
    }
    format!("the bank is throttling requests: {when}")
}

/// The exit code for a facade error kind.
pub fn exit_code_of_kind(kind: &ErrorKind) -> u8 {
    match kind {
        ErrorKind::Unauthorized
        | ErrorKind::ConsentInvalid
        | ErrorKind::ConsentExpired
        | ErrorKind::ConsentRevoked
        | ErrorKind::ConsentUnknown
        | ErrorKind::ServiceBlocked
        | ErrorKind::ScaFailed
        | ErrorKind::ScaRejected => EXIT_AUTH,
        ErrorKind::AccessExceeded { .. } => EXIT_RATE_LIMIT,
        ErrorKind::Transport | ErrorKind::Timeout => EXIT_NETWORK,
        ErrorKind::InvalidInput | ErrorKind::Unsupported { .. } => EXIT_USAGE,
        _ => EXIT_BANK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, h, m, s)
            .single()
            .expect("time")
    }

    fn quiet(psu_present: bool) -> ReportContext {
        ReportContext {
            verbose: false,
            psu_present,
            now: at(2, 3, 23),
        }
    }

    fn rate_limited(operation: &'static str, secs: Option<u64>, code: Option<&str>) -> CliError {
        let mut e = psd2::Error::new(
            ErrorKind::AccessExceeded {
                retry_after: secs.map(Duration::from_secs),
            },
            "swedbank",
            operation,
        )
        .with_status(429)
        .with_request_id("req-1");
        if let Some(code) = code {
            e = e.with_message(psd2::BankMessage::code_only(code));
        }
        CliError::Bank(e)
    }

    #[test]
    fn exit_codes_per_kind() {
        assert_eq!(exit_code_of_kind(&ErrorKind::ConsentExpired), 3);
        assert_eq!(exit_code_of_kind(&ErrorKind::ScaRejected), 3);
        assert_eq!(
            exit_code_of_kind(&ErrorKind::AccessExceeded { retry_after: None }),
            4
        );
        assert_eq!(exit_code_of_kind(&ErrorKind::ResourceUnknown), 5);
        assert_eq!(exit_code_of_kind(&ErrorKind::FormatError), 5);
        assert_eq!(exit_code_of_kind(&ErrorKind::UnexpectedResponse), 5);
        assert_eq!(exit_code_of_kind(&ErrorKind::Transport), 6);
        assert_eq!(exit_code_of_kind(&ErrorKind::Timeout), 6);
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
    }

    #[test]
    fn waits_read_like_a_person_would_say_them() {
        // 78,997 s = 21 h 56 min 37 s; from 02:03:23 that is 00:00:00 the next day.
        assert_eq!(
            human_wait(Duration::from_secs(78_997), at(2, 3, 23)),
            "in 21 h 56 min, at 2026-12-07 00:00 UTC"
        );
        assert_eq!(
            human_wait(Duration::from_secs(3_600), at(10, 0, 0)),
            "in 1 h, at 11:00 UTC"
        );
        // The clock time is rounded up: trying at 10:05 would be 30 s early.
        assert_eq!(
            human_wait(Duration::from_secs(250), at(10, 0, 40)),
            "in 4 min 10 s, at 10:05 UTC"
        );
        assert_eq!(human_wait(Duration::from_secs(7), at(10, 0, 0)), "in 7 s");
        assert_eq!(
            human_wait(Duration::from_secs(u64::MAX), at(10, 0, 0)),
            "in more than a year"
        );
    }

    #[test]
    fn rate_limit_blames_frequency_per_day_only_when_it_is_the_cause() {
        // The consent's limit, PSU absent: the limit and --psu-ip are named.
        let text = rate_limited("accounts", Some(78_997), Some("ACCESS_EXCEEDED"))
            .report(&quiet(false), &[]);
        assert!(text.contains("swedbank accounts"), "{text}");
        assert!(text.contains("request id req-1"), "{text}");
        assert!(
            text.contains("frequencyPerDay") && text.contains("--psu-ip"),
            "{text}"
        );
        assert!(
            text.contains("in 21 h 56 min, at 2026-12-07 00:00 UTC"),
            "{text}"
        );
        assert!(!text.contains("78997"), "raw seconds: {text}");
        // PSU-IP-Address was sent: not the daily limit, no --psu-ip advice.
        let text =
            rate_limited("accounts", Some(7), Some("ACCESS_EXCEEDED")).report(&quiet(true), &[]);
        assert!(
            !text.contains("frequencyPerDay") && !text.contains("--psu-ip"),
            "{text}"
        );
        assert!(text.contains("in 7 s"), "{text}");
        // The token endpoint throttled.
        for operation in ["token", "client_credentials_token", "refresh_token"] {
            let text = rate_limited(operation, Some(30), None).report(&quiet(false), &[]);
            assert!(text.contains("token endpoint"), "{text}");
            assert!(
                !text.contains("frequencyPerDay") && !text.contains("--psu-ip"),
                "{text}"
            );
        }
        // A bare 429 without the bank's ACCESS_EXCEEDED code.
        let text = rate_limited("transactions", None, None).report(&quiet(false), &[]);
        assert!(!text.contains("frequencyPerDay"), "{text}");
    }

    #[test]
    fn sca_timeout_is_not_a_network_error() {
        for error in [
            psd2::Error::new(ErrorKind::ScaFailed, "handelsbanken", "wait_for_decoupled")
                .with_detail(format!("{}: after 30 s", psd2::sca::SCA_TIMED_OUT)),
            psd2::Error::new(ErrorKind::Timeout, "handelsbanken", "wait_for_decoupled")
                .with_detail("SCA not finished after 30s"),
        ] {
            let e = CliError::Bank(error);
            assert_eq!(e.exit_code(), EXIT_SCA_TIMEOUT);
            let text = e.report(&quiet(false), &[]);
            assert!(text.contains("SCA not finished in time"), "{text}");
            assert!(!text.contains("did not answer in time"), "{text}");
            assert!(text.contains("psd2 sca"), "{text}");
        }
        // A plain SCA failure stays exit 3.
        let e = CliError::Bank(psd2::Error::new(
            ErrorKind::ScaFailed,
            "swedbank",
            "wait_for_decoupled",
        ));
        assert_eq!(e.exit_code(), EXIT_AUTH);
    }

    #[test]
    fn verbose_scrubs_secrets_from_bank_texts() {
        let e = CliError::Bank(
            psd2::Error::new(ErrorKind::ConsentInvalid, "openpayments", "accounts").with_message(
                serde_json::from_str(r#"{"code":"CONSENT_INVALID","text":"consent abc-123 bad"}"#)
                    .expect("message"),
            ),
        );
        let verbose = ReportContext {
            verbose: true,
            ..quiet(false)
        };
        let text = e.report(&verbose, &["abc-123"]);
        assert!(text.contains("consent [REDACTED] bad"), "{text}");
        assert!(!text.contains("abc-123"));
        assert!(text.contains("psd2 consent create"));
        // Without -v, the bank's text is not shown at all.
        let text = e.report(&quiet(false), &[]);
        assert!(!text.contains("bad"), "{text}");
    }
}
