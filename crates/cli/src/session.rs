//! The session file: the caller-supplied store for the consent id and tokens between
//! invocations. Written with mode 0600 (atomically, via a temporary file and a rename);
//! its contents are never printed.

use std::io::Write as _;
use std::path::Path;

use chrono::{DateTime, Utc};
use psd2::{AccessToken, ConsentId, RefreshToken, Session};
use serde::{Deserialize, Serialize};

use crate::error::CliError;

/// What the session file holds. `Debug` is hand-written and shows no secret.
#[derive(Clone, Serialize, Deserialize)]
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
    #[serde(default)]
    pub authorised: bool,
    /// The bank's access token for the consent, where it issues one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// The refresh token, where the bank issues one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// When `access_token` expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

    /// Reads the session file; `None` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<Self>, CliError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(CliError::Local(format!(
                    "cannot read the session file {}: {e}",
                    path.display()
                )));
            }
        };
        serde_json::from_str(&text).map(Some).map_err(|e| {
            // serde_json's message names a position, never the values.
            CliError::Usage(format!(
                "the session file {} is not a psd2 session ({e}); delete it and run `psd2 consent create`",
                path.display()
            ))
        })
    }

    /// Reads the session file, which must exist and belong to `bank`.
    pub fn require(path: &Path, bank: &str) -> Result<Self, CliError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_with_0600() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.json");
        let mut s = StoredSession::new("handelsbanken", "http://x", &ConsentId::new("c-1"));
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
        let back = StoredSession::require(&path, "handelsbanken").expect("load");
        assert!(back.authorised);
        let session = back.to_session();
        assert_eq!(
            session.access_token.as_ref().map(|t| t.expose()),
            Some("tok-9")
        );
        assert!(!format!("{back:?}").contains("tok-9"));
        assert!(!format!("{back:?}").contains("c-1"));
        let e = StoredSession::require(&path, "swedbank").expect_err("other bank");
        assert!(e.to_string().contains("belongs to handelsbanken"));
        StoredSession::remove(&path).expect("remove");
        assert!(StoredSession::load(&path).expect("load").is_none());
    }
}
