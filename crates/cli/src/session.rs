//! The session file: the caller-supplied store for the consent id and tokens between
//! invocations. Written with mode 0600 (atomically, via a temporary file and a rename);
//! its contents are never printed.

use std::io::Write as _;
use std::path::Path;

use chrono::{DateTime, Datelike as _, Utc};
use psd2::{AccessToken, ConsentId, RefreshToken, Session};
use psd2_security::redact::url_for_display;
use serde::Serialize;

use crate::cli::BankName;
use crate::error::CliError;

/// Longest consent id or bank name a session file may hold.
const MAX_ID_LEN: usize = 1024;
/// Longest base URL a session file may hold.
const MAX_URL_LEN: usize = 2048;
/// Longest token a session file may hold.
const MAX_TOKEN_LEN: usize = 16 * 1024;
/// The years a token expiry may fall in; anything else is not a time a bank sets.
const EXPIRY_YEARS: std::ops::RangeInclusive<i32> = 1970..=9999;

/// An optional string field of at most `max` characters (`null` counts as absent).
fn text_field(
    obj: &serde_json::Map<String, serde_json::Value>,
    name: &str,
    max: usize,
) -> Result<Option<String>, String> {
    match obj.get(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) if s.chars().count() <= max => Ok(Some(s.clone())),
        Some(serde_json::Value::String(s)) => Err(format!(
            "field `{name}` is too long ({} characters, at most {max})",
            s.chars().count()
        )),
        Some(_) => Err(format!("field `{name}` is not a string")),
    }
}

/// An RFC 3339 expiry time between the years of [`EXPIRY_YEARS`].
fn parse_expiry(text: &str) -> Result<DateTime<Utc>, String> {
    let at = DateTime::parse_from_rfc3339(text)
        .map_err(|_| "field `expires_at` is not an RFC 3339 time".to_string())?
        .with_timezone(&Utc);
    if !EXPIRY_YEARS.contains(&at.year()) {
        return Err(format!(
            "field `expires_at` is out of range (a time between the years {} and {})",
            EXPIRY_YEARS.start(),
            EXPIRY_YEARS.end()
        ));
    }
    Ok(at)
}

/// Whether two base URLs name the same place (a trailing `/` aside).
fn same_base_url(stored: &str, configured: &url::Url) -> bool {
    let norm = |u: &url::Url| {
        let mut u = u.clone();
        let path = u.path().trim_end_matches('/').to_string();
        u.set_path(&path);
        u
    };
    url::Url::parse(stored).is_ok_and(|s| norm(&s) == norm(configured))
}

/// What the session file holds. `Debug` is hand-written and shows no secret.
#[derive(Clone, Serialize)]
pub struct StoredSession {
    /// Format version (1).
    pub version: u32,
    /// The bank the consent belongs to.
    pub bank: String,
    /// The base URL it was created at.
    pub base_url: String,
    /// The consent id.
    pub consent_id: String,
    /// Whether SCA finished for the consent.
    pub authorised: bool,
    /// The bank's access token for the consent, where it issues one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// The refresh token, where the bank issues one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// When `access_token` expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for StoredSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredSession")
            .field("bank", &self.bank)
            .field("base_url", &self.base_url)
            .field("authorised", &self.authorised)
            .field(
                "access_token",
                &self.access_token.as_ref().map(|_| "[REDACTED]"),
            )
            .finish_non_exhaustive()
    }
}

impl StoredSession {
    /// A new session for a freshly created consent.
    pub fn new(bank: &str, base_url: &str, consent: &ConsentId) -> Self {
        Self {
            version: 1,
            bank: bank.to_string(),
            base_url: base_url.to_string(),
            consent_id: consent.expose().to_string(),
            authorised: false,
            access_token: None,
            refresh_token: None,
            expires_at: None,
        }
    }

    /// Stores what SCA returned.
    pub fn set_authorised(&mut self, session: &Session) {
        self.authorised = true;
        self.consent_id = session.consent_id.expose().to_string();
        self.access_token = session
            .access_token
            .as_ref()
            .map(|t| t.expose().to_string());
        self.refresh_token = session
            .refresh_token
            .as_ref()
            .map(|t| t.expose().to_string());
        self.expires_at = session.expires_at;
    }

    /// The consent id as the facade's type.
    pub fn consent(&self) -> ConsentId {
        ConsentId::new(self.consent_id.clone())
    }

    /// The facade session for account information calls.
    pub fn to_session(&self) -> Session {
        let mut session = Session::new(self.consent());
        if let Some(token) = &self.access_token {
            session = session.with_access_token(AccessToken::new(token.clone()), self.expires_at);
        }
        if let Some(token) = &self.refresh_token {
            session = session.with_refresh_token(RefreshToken::new(token.clone()));
        }
        session
    }

    /// The secret values, for scrubbing them out of error texts.
    pub fn secrets(&self) -> Vec<String> {
        [
            Some(self.consent_id.clone()),
            self.access_token.clone(),
            self.refresh_token.clone(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// Reads the session file; `None` when it does not exist. Every field is checked (type,
    /// length, range); an error names the field and never echoes its value.
    pub fn load(path: &Path) -> Result<Option<Self>, CliError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(CliError::Local(format!(
                    "cannot read the session file {}: {}",
                    path.display(),
                    e.kind()
                )));
            }
        };
        let unusable = |problem: String| {
            CliError::Usage(format!(
                "the session file {} is not usable: {problem}; delete it and run `psd2 consent \
                 create`",
                path.display()
            ))
        };
        // Only the position of a syntax error: serde_json's data errors quote values.
        let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            unusable(format!(
                "not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ))
        })?;
        Self::from_json(&value).map(Some).map_err(unusable)
    }

    /// Builds a session from the file's JSON, checking every field.
    fn from_json(value: &serde_json::Value) -> Result<Self, String> {
        let obj = value
            .as_object()
            .ok_or_else(|| "it is not a JSON object".to_string())?;
        let version = obj.get("version").and_then(serde_json::Value::as_u64);
        if version != Some(1) {
            return Err(
                "field `version` is missing or not 1 (the only version this psd2 \
                        reads)"
                    .into(),
            );
        }
        let bank = text_field(obj, "bank", MAX_ID_LEN)?
            .ok_or_else(|| "field `bank` is missing".to_string())?;
        let named = BankName::parse(&bank).is_some_and(|b| b.as_str() == bank);
        if !named && !registry_id(&bank) {
            return Err("field `bank` is not a bank this psd2 knows".into());
        }
        let base_url = text_field(obj, "base_url", MAX_URL_LEN)?
            .ok_or_else(|| "field `base_url` is missing".to_string())?;
        if url::Url::parse(&base_url).is_err() {
            return Err("field `base_url` is not a URL".into());
        }
        let consent_id = text_field(obj, "consent_id", MAX_ID_LEN)?
            .filter(|c| !c.is_empty())
            .ok_or_else(|| "field `consent_id` is missing or empty".to_string())?;
        let authorised = match obj.get("authorised") {
            None | Some(serde_json::Value::Null) => false,
            Some(serde_json::Value::Bool(b)) => *b,
            Some(_) => return Err("field `authorised` is not true or false".into()),
        };
        let access_token = text_field(obj, "access_token", MAX_TOKEN_LEN)?;
        let refresh_token = text_field(obj, "refresh_token", MAX_TOKEN_LEN)?;
        for (name, token) in [
            ("access_token", &access_token),
            ("refresh_token", &refresh_token),
        ] {
            if token
                .as_deref()
                .is_some_and(|t| t.is_empty() || !t.bytes().all(|b| b.is_ascii_graphic()))
            {
                return Err(format!(
                    "field `{name}` is empty or holds characters a token cannot have"
                ));
            }
        }
        let expires_at = match text_field(obj, "expires_at", 64)? {
            None => None,
            Some(text) => Some(parse_expiry(&text)?),
        };
        Ok(Self {
            version: 1,
            bank,
            base_url,
            consent_id,
            authorised,
            access_token,
            refresh_token,
            expires_at,
        })
    }

    /// Reads the session file, which must exist and belong to `bank` at `base_url` (the
    /// configured one): a session's tokens are never sent to another bank or host.
    pub fn require(path: &Path, bank: &str, base_url: &url::Url) -> Result<Self, CliError> {
        let session = Self::load(path)?.ok_or_else(|| {
            CliError::Usage(format!(
                "no session in {}: run `psd2 consent create` and `psd2 sca` first",
                path.display()
            ))
        })?;
        if session.bank != bank {
            return Err(CliError::Usage(format!(
                "the session in {} belongs to {}, not {bank}: use --session for another file or \
                 run `psd2 consent create`",
                path.display(),
                session.bank
            )));
        }
        if !same_base_url(&session.base_url, base_url) {
            return Err(CliError::Usage(format!(
                "the session in {} was made with {bank} at {}, but the configured base_url is \
                 {}: its consent and tokens are only sent where they were issued. Set base_url \
                 (or PSD2_BASE_URL) back, use --session for another file, or run `psd2 consent \
                 create` for this base URL",
                path.display(),
                url_for_display(&session.base_url),
                url_for_display(base_url.as_str()),
            )));
        }
        Ok(session)
    }

    /// Writes the session file with mode 0600, replacing it atomically.
    pub fn save(&self, path: &Path) -> Result<(), CliError> {
        let local = |e: std::io::Error| {
            CliError::Local(format!(
                "cannot write the session file {}: {e}",
                path.display()
            ))
        };
        let json = serde_json::to_vec_pretty(self)
            .map_err(|e| CliError::Local(format!("cannot encode the session: {e}")))?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "session".into());
        let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let _ = std::fs::remove_file(&tmp);
        let mut file = options.open(&tmp).map_err(local)?;
        let written = file
            .write_all(&json)
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.sync_all());
        drop(file);
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(local(e));
        }
        Ok(())
    }

    /// Removes the session file (no error if it is gone already).
    pub fn remove(path: &Path) -> Result<(), CliError> {
        match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(CliError::Local(format!(
                "cannot remove the session file {}: {e}",
                path.display()
            ))),
        }
    }
}

/// Whether `text` has the form of a registry bank's id (1 to 40 of a-z, 0-9 and '-'),
/// starting with a letter (so a number, e.g. a PSU id in the wrong field, is never taken for
/// a bank and echoed in a message).
fn registry_id(text: &str) -> bool {
    text.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && text.len() <= 40
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> url::Url {
        url::Url::parse(text).expect("url")
    }

    #[test]
    fn round_trip_with_0600() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.json");
        let mut s = StoredSession::new("handelsbanken", "http://x/hb", &ConsentId::new("c-1"));
        s.set_authorised(
            &Session::new(ConsentId::new("c-1")).with_access_token(AccessToken::new("tok-9"), None),
        );
        s.save(&path).expect("save");
        s.save(&path).expect("save again replaces");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let back = StoredSession::require(&path, "handelsbanken", &url("http://x/hb/"))
            .expect("load (a trailing slash is the same base URL)");
        assert!(back.authorised);
        let session = back.to_session();
        assert_eq!(
            session.access_token.as_ref().map(|t| t.expose()),
            Some("tok-9")
        );
        assert!(!format!("{back:?}").contains("tok-9"));
        assert!(!format!("{back:?}").contains("c-1"));
        let e = StoredSession::require(&path, "swedbank", &url("http://x/hb")).expect_err("bank");
        assert!(e.to_string().contains("belongs to handelsbanken"));
        StoredSession::remove(&path).expect("remove");
        assert!(StoredSession::load(&path).expect("load").is_none());
    }

    #[test]
    fn another_base_url_is_refused_without_showing_credentials() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.json");
        StoredSession::new(
            "openpayments",
            "http://a.example/op",
            &ConsentId::new("c-2"),
        )
        .save(&path)
        .expect("save");
        for other in [
            "http://b.example/op",
            "http://a.example:8080/op",
            "https://a.example/op",
            "http://a.example/other",
        ] {
            let mut configured = url(other);
            let _ = configured.set_password(Some("pa55word"));
            let _ = configured.set_username("someone");
            let e = StoredSession::require(&path, "openpayments", &configured)
                .expect_err("another base URL");
            let text = e.to_string();
            assert_eq!(e.exit_code(), 2);
            assert!(text.contains("http://a.example/op"), "{text}");
            assert!(text.contains("base_url"), "{text}");
            assert!(
                !text.contains("pa55word") && !text.contains("someone"),
                "{text}"
            );
        }
    }

    /// Writes `json` as the session file and loads it.
    fn load_json(json: &str) -> Result<Option<StoredSession>, CliError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.json");
        std::fs::write(&path, json).expect("write");
        StoredSession::load(&path)
    }

    #[test]
    fn absurd_values_are_clear_errors_that_do_not_echo_them() {
        let base =
            r#""version":1,"bank":"handelsbanken","base_url":"http://x/hb","consent_id":"c-1""#;
        // (extra fields, the field the error must name, a value that must not be echoed)
        let cases: &[(&str, &str, &str)] = &[
            (
                r#","expires_at":"-262143-01-01T00:00:00Z""#,
                "expires_at",
                "262143",
            ),
            (
                r#","expires_at":"+262142-12-31T23:59:59Z""#,
                "expires_at",
                "262142",
            ),
            (
                r#","expires_at":"0000-01-01T00:00:00Z""#,
                "expires_at",
                "0000-01-01",
            ),
            (
                r#","expires_at":"tomorrow-191212121212""#,
                "expires_at",
                "191212121212",
            ),
            (
                r#","expires_at":191212121212"#,
                "expires_at",
                "191212121212",
            ),
            (
                r#","access_token":191212121212"#,
                "access_token",
                "191212121212",
            ),
            (
                r#","access_token":"tok 191212121212""#,
                "access_token",
                "191212121212",
            ),
            (
                r#","authorised":"191212121212""#,
                "authorised",
                "191212121212",
            ),
        ];
        for (extra, field, value) in cases {
            let e = load_json(&format!("{{{base}{extra}}}")).expect_err(extra);
            let text = e.to_string();
            assert!(text.contains(field), "{extra}: {text}");
            assert!(!text.contains(value), "{extra}: {text}");
            assert!(text.contains("psd2 consent create"), "{text}");
            assert_eq!(e.exit_code(), 2);
        }
        for (json, field) in [
            (r#"{"version":191212121212}"#, "version"),
            (r#"{"version":1,"bank":"191212121212"}"#, "bank"),
            (
                r#"{"version":1,"bank":"swedbank","base_url":"191212121212"}"#,
                "base_url",
            ),
            (
                r#"{"version":1,"bank":"swedbank","base_url":"http://x","consent_id":191212121212}"#,
                "consent_id",
            ),
        ] {
            let text = load_json(json).expect_err(json).to_string();
            assert!(
                text.contains(field) && !text.contains("191212121212"),
                "{text}"
            );
        }
        // A syntax error names the position only.
        let text = load_json(r#"{"version":1, "bank": 191212121212x}"#)
            .expect_err("syntax")
            .to_string();
        assert!(
            text.contains("line 1") && !text.contains("191212121212"),
            "{text}"
        );
        let ok = load_json(&format!(
            r#"{{{base},"expires_at":"2030-01-01T00:00:00Z"}}"#
        ))
        .expect("valid")
        .expect("present");
        assert_eq!(ok.expires_at.map(|t| t.year()), Some(2030));
    }
}
