//! The CLI's error, its exit codes, and what the user is told to do next.

use std::fmt::Write as _;
use std::path::Path;

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
            Self::Bank(e) | Self::Diagnosed { error: e, .. } => exit_code_of_kind(&e.kind),
        }
    }

    /// What the user can do about it, if there is something specific.
    pub fn hint(&self) -> Option<String> {
        let again = "run `psd2 consent create` and `psd2 sca` again";
        let e = match self {
            Self::Bank(e) => e,
            Self::Diagnosed { consent_status, .. } => {
                return Some(format!(
                    "the consent's status is now {consent_status}: {again}"
                ));
            }
            _ => return None,
        };
        let codes: Vec<&str> = e.codes().collect();
        Some(match &e.kind {
            ErrorKind::ConsentExpired => format!("the consent has expired: {again}"),
            ErrorKind::ConsentRevoked => format!("the PSU revoked the consent: {again}"),
            ErrorKind::ConsentUnknown => format!("the bank does not know this consent: {again}"),
            ErrorKind::ConsentInvalid => {
                format!("the consent is not usable (not authorised, rejected or ended): {again}")
            }
            ErrorKind::AccessExceeded { retry_after } => {
                let wait = match retry_after {
                    Some(d) => format!("wait {} s", d.as_secs()),
                    None => "wait until the bank's limit resets (usually midnight)".to_string(),
                };
                format!(
                    "the consent's daily access limit (frequencyPerDay) is used up: {wait} or send \
                     PSU-IP-Address when the PSU is present (`--psu-ip ADDRESS`)"
                )
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

    /// The message printed on stderr: one line, then a hint line and, with `verbose`, the
    /// bank's message texts and the cause chain (with `secrets` scrubbed out).
    pub fn report(&self, verbose: bool, secrets: &[&str]) -> String {
        let mut out = format!("psd2: error: {self}");
        if let Some(hint) = self.hint() {
            let _ = write!(out, "\n  hint: {hint}");
        }
        if verbose && let Self::Bank(e) | Self::Diagnosed { error: e, .. } = self {
            if let Some(status) = e.status {
                let _ = write!(out, "\n  http status: {status}");
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
                        let _ = write!(line, " {label}={value}");
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
    use std::time::Duration;

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
    fn rate_limit_says_when_to_retry() {
        let e = CliError::Bank(
            psd2::Error::new(
                ErrorKind::AccessExceeded {
                    retry_after: Some(Duration::from_secs(42)),
                },
                "swedbank",
                "accounts",
            )
            .with_request_id("req-1"),
        );
        let text = e.report(false, &[]);
        assert!(text.contains("swedbank accounts"), "{text}");
        assert!(text.contains("request id req-1"), "{text}");
        assert!(text.contains("wait 42 s"), "{text}");
        assert!(text.contains("PSU-IP-Address"), "{text}");
    }

    #[test]
    fn verbose_scrubs_secrets_from_bank_texts() {
        let e = CliError::Bank(
            psd2::Error::new(ErrorKind::ConsentInvalid, "openpayments", "accounts").with_message(
                serde_json::from_str(r#"{"code":"CONSENT_INVALID","text":"consent abc-123 bad"}"#)
                    .expect("message"),
            ),
        );
        let text = e.report(true, &["abc-123"]);
        assert!(text.contains("consent [REDACTED] bad"), "{text}");
        assert!(!text.contains("abc-123"));
        assert!(text.contains("psd2 consent create"));
    }
}
