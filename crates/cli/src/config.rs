//! The configuration: a TOML file overridden by `PSD2_*` environment variables.
//!
//! Secrets (the client secret) come from the environment only; a file that holds one is
//! refused. Paths in the file are relative to the file's directory.

mod retry;

use std::path::{Path, PathBuf};

use psd2::RetryPolicy;
use serde::Deserialize;
use url::Url;

use crate::cli::BankName;
use crate::error::CliError;
use crate::registry::{self, BankChoice};

/// The default config file, used when present and no other is named.
pub const DEFAULT_CONFIG: &str = "psd2.toml";

/// The per-request timeouts a config may set, in seconds.
pub const TIMEOUT_SECS: std::ops::RangeInclusive<u64> = 1..=600;

/// The base URL used when none is configured: a local `psd2-sandbox --port 8080`.
pub fn sandbox_default_base_url(bank: BankName) -> String {
    format!("http://127.0.0.1:8080/{}", bank.as_str())
}

/// The config file's keys, as written (all optional; checked in [`Config::resolve`]).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    bank: Option<String>,
    base_url: Option<String>,
    client_id: Option<String>,
    /// Present only to refuse it with a clear message.
    client_secret: Option<toml::Value>,
    country: Option<String>,
    bic: Option<String>,
    token_url: Option<String>,
    authorize_url: Option<String>,
    scope: Option<String>,
    redirect_uri: Option<String>,
    certificate: Option<PathBuf>,
    private_key: Option<PathBuf>,
    ca_certificate: Option<PathBuf>,
    signing_certificate: Option<PathBuf>,
    signing_key: Option<PathBuf>,
    psu_id: Option<String>,
    corporate_id: Option<String>,
    corporate_id_type: Option<String>,
    timeout_secs: Option<u64>,
    /// The `[retry]` table (see [`retry`]).
    retry: Option<retry::RetryTable>,
    /// The `psd2 sync` database URL (read by [`file_database_url`]).
    database_url: Option<String>,
    /// A directory of registry files added to the compiled-in registry.
    registry_dir: Option<PathBuf>,
    /// The TPP's own address, sent as `PSU-IP-Address` for an absent PSU where a registry
    /// bank requires the header.
    tpp_ip_address: Option<String>,
}

/// The `psd2 sync` database URL the config file names (`database_url`, used as written),
/// if any: the file `explicit` (must exist), else `./psd2.toml` when present. The file is
/// parsed as [`Config::load_for`] parses it; `--database` and `PSD2_DATABASE_URL` take
/// precedence over it (the sync command decides).
pub fn file_database_url(explicit: Option<&Path>) -> Result<Option<String>, CliError> {
    Ok(read_file_config(explicit)?
        .and_then(|(_, file)| file.database_url)
        .filter(|u| !u.trim().is_empty()))
}

/// The registry directory for commands that need no bank (`psd2 banks`):
/// `$PSD2_REGISTRY_DIR`, else the config file's `registry_dir` (relative to the file), if
/// any; with where it came from, for messages.
pub fn registry_dir(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<(PathBuf, String)>, CliError> {
    if let Some(dir) = env(registry::REGISTRY_DIR_ENV).filter(|d| !d.trim().is_empty()) {
        return Ok(Some((
            PathBuf::from(dir),
            registry::REGISTRY_DIR_ENV.into(),
        )));
    }
    Ok(read_file_config(explicit)?.and_then(|(path, file)| {
        let source = format!("registry_dir of {}", path.display());
        file.registry_dir.map(|dir| (in_dir_of(&path, dir), source))
    }))
}

/// The file `explicit` (must exist), else `./psd2.toml` when present, parsed.
fn read_file_config(explicit: Option<&Path>) -> Result<Option<(PathBuf, FileConfig)>, CliError> {
    let (path, must_exist) = match explicit {
        Some(p) => (p.to_path_buf(), true),
        None => (PathBuf::from(DEFAULT_CONFIG), false),
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let file = parse_file(&path, &text)?;
            Ok(Some((path, file)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => Ok(None),
        Err(e) => Err(CliError::config(&path, format!("cannot read it: {e}"))),
    }
}

/// `p` relative to the directory of the config file `config` (absolute paths stay).
fn in_dir_of(config: &Path, p: PathBuf) -> PathBuf {
    if p.is_absolute() {
        return p;
    }
    config
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(p)
}

/// One environment variable and the config key it overrides.
pub const ENV_VARS: &[(&str, &str)] = &[
    ("PSD2_BANK", "bank"),
    ("PSD2_BASE_URL", "base_url"),
    ("PSD2_CLIENT_ID", "client_id"),
    ("PSD2_COUNTRY", "country"),
    ("PSD2_BIC", "bic"),
    ("PSD2_TOKEN_URL", "token_url"),
    ("PSD2_AUTHORIZE_URL", "authorize_url"),
    ("PSD2_SCOPE", "scope"),
    ("PSD2_REDIRECT_URI", "redirect_uri"),
    ("PSD2_CERTIFICATE", "certificate"),
    ("PSD2_PRIVATE_KEY", "private_key"),
    ("PSD2_CA_CERTIFICATE", "ca_certificate"),
    ("PSD2_SIGNING_CERTIFICATE", "signing_certificate"),
    ("PSD2_SIGNING_KEY", "signing_key"),
    ("PSD2_PSU_ID", "psu_id"),
    ("PSD2_CORPORATE_ID", "corporate_id"),
    ("PSD2_CORPORATE_ID_TYPE", "corporate_id_type"),
    ("PSD2_TIMEOUT_SECS", "timeout_secs"),
    ("PSD2_REGISTRY_DIR", "registry_dir"),
    ("PSD2_TPP_IP_ADDRESS", "tpp_ip_address"),
];

/// The client secret's environment variable (never read from a file).
pub const CLIENT_SECRET_ENV: &str = "PSD2_CLIENT_SECRET";

/// A resolved configuration. `Debug` is not derived: it holds a secret and the PSU id.
pub struct Config {
    /// Where the file was (or would have been) read from, for messages.
    pub source: PathBuf,
    /// The bank: a named one or a registry bank.
    pub bank: BankChoice,
    /// The bank's API base URL.
    pub base_url: Url,
    /// The TPP's client id.
    pub client_id: Option<String>,
    /// The client secret (from `PSD2_CLIENT_SECRET` only).
    pub client_secret: Option<String>,
    /// Handelsbanken country (`SE`, `NO`, ...).
    pub country: Option<String>,
    /// The bank's BIC (Open Payments).
    pub bic: Option<String>,
    /// Token endpoint override.
    pub token_url: Option<Url>,
    /// Authorize (redirect SCA) page override.
    pub authorize_url: Option<Url>,
    /// OAuth scope override.
    pub scope: Option<String>,
    /// Redirect URI registered for the client.
    pub redirect_uri: Option<Url>,
    /// mTLS certificate chain (PEM).
    pub certificate: Option<PathBuf>,
    /// mTLS private key (PEM).
    pub private_key: Option<PathBuf>,
    /// Extra root CA to trust (PEM).
    pub ca_certificate: Option<PathBuf>,
    /// Request signing certificate (PEM).
    pub signing_certificate: Option<PathBuf>,
    /// Request signing key (PEM).
    pub signing_key: Option<PathBuf>,
    /// The PSU's login id (secret: never printed).
    pub psu_id: Option<String>,
    /// Company id when acting for a company.
    pub corporate_id: Option<String>,
    /// Type of the company id.
    pub corporate_id_type: Option<String>,
    /// Per-request timeout in seconds.
    pub timeout_secs: Option<u64>,
    /// The directory of registry files added to the compiled-in registry, if any.
    pub registry_dir: Option<PathBuf>,
    /// The TPP's own address: `PSU-IP-Address` of unattended calls at registry banks that
    /// require the header on every call.
    pub tpp_ip_address: Option<std::net::IpAddr>,
    /// How every call to the bank is retried: the `[retry]` table, else the library's
    /// default policy.
    pub retry: RetryPolicy,
    /// The `PSD2_*` variables that overrode or supplied values.
    pub env_overrides: Vec<&'static str>,
}

impl Config {
    /// [`Config::load_for`] without `--bank`.
    #[cfg(test)]
    pub fn load(
        explicit: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, CliError> {
        Self::load_for(explicit, env, None)
    }

    /// Loads `explicit` (must exist) or `./psd2.toml` (if present), then applies the
    /// environment (`env` is a lookup, `std::env::var` in the binary); `bank_flag` (`--bank`),
    /// when given, chooses the bank instead of the file's `bank` and `PSD2_BANK`.
    pub fn load_for(
        explicit: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
        bank_flag: Option<&str>,
    ) -> Result<Self, CliError> {
        let (path, must_exist) = match explicit {
            Some(p) => (p.to_path_buf(), true),
            None => (PathBuf::from(DEFAULT_CONFIG), false),
        };
        let (file, retry) = match std::fs::read_to_string(&path) {
            Ok(text) => {
                let file = parse_file(&path, &text)?;
                let retry = retry_policy(&path, &text, file.retry.as_ref())?;
                (file, retry)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => {
                (FileConfig::default(), RetryPolicy::default())
            }
            Err(e) => return Err(CliError::config(&path, format!("cannot read it: {e}"))),
        };
        Self::resolve(path, file, retry, env, bank_flag)
    }

    fn resolve(
        path: PathBuf,
        mut file: FileConfig,
        retry: RetryPolicy,
        env: &dyn Fn(&str) -> Option<String>,
        bank_flag: Option<&str>,
    ) -> Result<Self, CliError> {
        if file.client_secret.is_some() {
            return Err(CliError::config(
                &path,
                format!(
                    "client_secret must not be stored in the file; set {CLIENT_SECRET_ENV} instead"
                ),
            ));
        }
        let base_dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let in_dir =
            |p: Option<PathBuf>| p.map(|p| if p.is_absolute() { p } else { base_dir.join(p) });
        file.certificate = in_dir(file.certificate.take());
        file.private_key = in_dir(file.private_key.take());
        file.ca_certificate = in_dir(file.ca_certificate.take());
        file.signing_certificate = in_dir(file.signing_certificate.take());
        file.signing_key = in_dir(file.signing_key.take());
        file.registry_dir = in_dir(file.registry_dir.take());

        let get = |var: &str| env(var).filter(|v| !v.trim().is_empty());
        let pick = |var: &str, from_file: Option<String>| get(var).or(from_file);
        let pick_path =
            |var: &str, from_file: Option<PathBuf>| get(var).map(PathBuf::from).or(from_file);

        let registry_dir = pick_path(registry::REGISTRY_DIR_ENV, file.registry_dir);
        let bank_text = bank_flag
            .map(str::to_string)
            .filter(|b| !b.trim().is_empty())
            .or_else(|| pick("PSD2_BANK", file.bank));
        let from_env = get(registry::REGISTRY_DIR_ENV).is_some();
        let bank = choose_bank(&path, bank_text, registry_dir.as_deref(), from_env)?;
        let url_of = |key: &str, text: Option<String>| -> Result<Option<Url>, CliError> {
            text.map(|t| {
                Url::parse(t.trim())
                    .map_err(|e| CliError::config(&path, format!("{key} is not a URL ({e})")))
            })
            .transpose()
        };
        let base_url = url_of("base_url", pick("PSD2_BASE_URL", file.base_url))?
            .map(Ok)
            .unwrap_or_else(|| {
                Url::parse(&bank.sandbox_default_base_url())
                    .map_err(|e| CliError::config(&path, e.to_string()))
            })?;
        let tpp_ip_address = pick("PSD2_TPP_IP_ADDRESS", file.tpp_ip_address)
            .map(|ip| {
                ip.trim().parse::<std::net::IpAddr>().map_err(|_| {
                    CliError::config(
                        &path,
                        "tpp_ip_address (or PSD2_TPP_IP_ADDRESS) is not an IP address",
                    )
                })
            })
            .transpose()?;
        let timeout_secs = match get("PSD2_TIMEOUT_SECS") {
            Some(t) => Some(t.trim().parse::<u64>().map_err(|_| {
                CliError::Usage("PSD2_TIMEOUT_SECS is not a whole number of seconds".into())
            })?),
            None => file.timeout_secs,
        };
        let env_overrides = ENV_VARS
            .iter()
            .chain([&(CLIENT_SECRET_ENV, "client_secret")])
            .filter(|(var, _)| get(var).is_some())
            .map(|(var, _)| *var)
            .collect();
        let config = Config {
            env_overrides,
            bank,
            base_url,
            client_id: pick("PSD2_CLIENT_ID", file.client_id),
            client_secret: get(CLIENT_SECRET_ENV),
            country: pick("PSD2_COUNTRY", file.country),
            bic: pick("PSD2_BIC", file.bic),
            token_url: url_of("token_url", pick("PSD2_TOKEN_URL", file.token_url))?,
            authorize_url: url_of(
                "authorize_url",
                pick("PSD2_AUTHORIZE_URL", file.authorize_url),
            )?,
            scope: pick("PSD2_SCOPE", file.scope),
            redirect_uri: url_of("redirect_uri", pick("PSD2_REDIRECT_URI", file.redirect_uri))?,
            certificate: pick_path("PSD2_CERTIFICATE", file.certificate),
            private_key: pick_path("PSD2_PRIVATE_KEY", file.private_key),
            ca_certificate: pick_path("PSD2_CA_CERTIFICATE", file.ca_certificate),
            signing_certificate: pick_path("PSD2_SIGNING_CERTIFICATE", file.signing_certificate),
            signing_key: pick_path("PSD2_SIGNING_KEY", file.signing_key),
            psu_id: pick("PSD2_PSU_ID", file.psu_id),
            corporate_id: pick("PSD2_CORPORATE_ID", file.corporate_id),
            corporate_id_type: pick("PSD2_CORPORATE_ID_TYPE", file.corporate_id_type),
            timeout_secs,
            registry_dir,
            tpp_ip_address,
            retry,
            source: path,
        };
        config.check()?;
        Ok(config)
    }

    /// Checks that pairs are complete and per-bank requirements hold.
    fn check(&self) -> Result<(), CliError> {
        let err = |problem: String| Err(CliError::config(&self.source, problem));
        if self.certificate.is_some() != self.private_key.is_some() {
            return err("certificate and private_key must be set together".into());
        }
        if self.signing_certificate.is_some() != self.signing_key.is_some() {
            return err("signing_certificate and signing_key must be set together".into());
        }
        match self.bank.named() {
            Some(BankName::Handelsbanken | BankName::Openpayments) if self.client_id.is_none() => {
                return err(format!(
                    "client_id is required for {} (set it in the file or PSD2_CLIENT_ID)",
                    self.bank.as_str()
                ));
            }
            _ => {}
        }
        if let Some(country) = &self.country
            && (country.len() != 2 || !country.chars().all(|c| c.is_ascii_alphabetic()))
        {
            return err("country is not a two-letter country code".into());
        }
        if let Some(secs) = self.timeout_secs
            && !TIMEOUT_SECS.contains(&secs)
        {
            return err(format!(
                "timeout_secs (or PSD2_TIMEOUT_SECS) must be between {} and {} seconds",
                TIMEOUT_SECS.start(),
                TIMEOUT_SECS.end()
            ));
        }
        Ok(())
    }

    /// A one-line description for `-v` (no secrets, no PSU id).
    pub fn describe(&self) -> String {
        let mut text = format!(
            "bank {} at {} (config {}",
            self.bank.as_str(),
            psd2_security::redact::url_for_display(self.base_url.as_str()),
            self.source.display()
        );
        if let Some(dir) = &self.registry_dir {
            text.push_str(&format!("; registry files also from {}", dir.display()));
        }
        if !self.env_overrides.is_empty() {
            text.push_str("; from the environment: ");
            text.push_str(&self.env_overrides.join(", "));
        }
        text.push(')');
        text
    }
}

/// The bank `text` names (the `--bank` flag, else `bank` / `PSD2_BANK`): a named bank, else
/// a registry bank of the compiled-in registry extended by `registry_dir` (`from_env`: the
/// directory came from `PSD2_REGISTRY_DIR`). Errors name the file, never the value.
fn choose_bank(
    path: &Path,
    text: Option<String>,
    registry_dir: Option<&Path>,
    from_env: bool,
) -> Result<BankChoice, CliError> {
    let text = text.ok_or_else(|| {
        CliError::config(
            path,
            "no bank configured: use --bank, set `bank = \"handelsbanken|openpayments|swedbank\"` \
             (or a registry bank: `psd2 banks` lists them) or PSD2_BANK",
        )
    })?;
    if let Some(named) = BankName::parse(&text) {
        return Ok(BankChoice::Named(named));
    }
    let source = if from_env {
        registry::REGISTRY_DIR_ENV.to_string()
    } else {
        format!("registry_dir of {}", path.display())
    };
    let known = registry::load(registry_dir, &source)?;
    registry::choose(&text, &known)
        .ok_or_else(|| CliError::config(path, registry::unknown_bank_message()))
}

/// The policy of the file's `[retry]` table (the default without one); a value that
/// cannot be used is an error naming its line and key, never the value.
fn retry_policy(
    path: &Path,
    text: &str,
    table: Option<&retry::RetryTable>,
) -> Result<RetryPolicy, CliError> {
    let Some(table) = table else {
        return Ok(RetryPolicy::default());
    };
    table.policy().map_err(|p| {
        CliError::config(
            path,
            format!("line {}: {}", line_at(text, p.offset), p.problem),
        )
    })
}

/// The 1-based line of byte `offset` in `text`.
fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// The table (`[name]` header) whose key line `n` (1-based) holds, if any: `None` at the
/// top level, on a header line itself, and below a header that is not a plain name.
fn table_of_line(text: &str, n: usize) -> Option<String> {
    let header = |line: &str| {
        let line = line.trim_start();
        line.starts_with('[').then(|| {
            let name = line[1..].split(']').next().unwrap_or_default().trim();
            (!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
                .then(|| name.to_string())
        })
    };
    let mut lines = text.lines();
    let mut table = None;
    for line in lines.by_ref().take(n.checked_sub(1)?) {
        if let Some(name) = header(line) {
            table = name;
        }
    }
    match lines.next().map(header) {
        Some(Some(_)) => None,
        _ => table,
    }
}

/// Parses the file, reporting the first problem on one line with its line number. The
/// message names keys and types, never a value from the file (the parser's own message
/// quotes them: an unquoted `psu_id = 191212121212` would be echoed).
fn parse_file(path: &Path, text: &str) -> Result<FileConfig, CliError> {
    toml::from_str::<FileConfig>(text).map_err(|e| {
        let line = e.span().map(|span| line_at(text, span.start));
        let table = line.and_then(|n| table_of_line(text, n));
        let key = line
            .and_then(|n| key_on_line(text, n))
            .map(|key| match &table {
                Some(table) => format!("{table}.{key}"),
                None => key,
            });
        let message = e.message().trim().replace('\n', " ");
        let problem = match (type_problem(&message), key) {
            (Some(expected), Some(key)) => {
                format!("`{key}` has the wrong type: expected {expected}")
            }
            (Some(expected), None) => format!("a value has the wrong type: expected {expected}"),
            (None, _) => match &table {
                Some(table) => format!(
                    "{} (in the [{table}] table: top-level keys go above it)",
                    scrub_values(&message, text)
                ),
                None => scrub_values(&message, text),
            },
        };
        match line {
            Some(line) => CliError::config(path, format!("line {line}: {problem}")),
            None => CliError::config(path, problem),
        }
    })
}

/// For serde's `invalid type: integer `1`, expected a string` (and `invalid value` /
/// `invalid length`): what was expected, which names a type, never the value.
fn type_problem(message: &str) -> Option<String> {
    let rest = ["invalid type", "invalid value", "invalid length"]
        .iter()
        .find_map(|p| message.strip_prefix(p))?;
    Some(
        rest.rsplit_once("expected ")
            .map(|(_, expected)| expected.trim().to_string())
            .unwrap_or_else(|| "another type".into()),
    )
}

/// The bare key assigned on line `n` (1-based), if that line is a `key = value` line and the
/// key is a plain config key name.
fn key_on_line(text: &str, n: usize) -> Option<String> {
    let line = text.lines().nth(n.checked_sub(1)?)?;
    let (key, _) = line.split_once('=')?;
    let key = key.trim();
    (!key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .then(|| key.to_string())
}

/// `message` with every value assigned in `text` (the part after `=`, quotes removed) and
/// every unparsable line's content replaced by `[REDACTED]`, so a parser message that quotes
/// the file cannot echo a value.
fn scrub_values(message: &str, text: &str) -> String {
    let mut secrets: Vec<&str> = Vec::new();
    for line in text.lines() {
        let value = match line.split_once('=') {
            Some((_, value)) => value,
            None => line,
        };
        let value = value.trim();
        secrets.push(value);
        let unquoted = value.trim_matches(|c| c == '"' || c == '\'');
        secrets.push(unquoted);
    }
    // Very short values ("1", "x") would mangle the message's own words; they say nothing.
    secrets.retain(|s| s.chars().count() >= 3);
    psd2_security::redact::scrub(message, &secrets)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, CliError> {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("psd2.toml");
        std::fs::write(&path, text).expect("write");
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::load(Some(&path), &|k| env.get(k).cloned())
    }

    #[test]
    fn file_then_env() {
        let c = load(
            "bank = \"openpayments\"\nclient_id = \"file-id\"\nbic = \"ESSESESS\"\nsigning_key = \"k.pem\"\nsigning_certificate = \"/abs/c.pem\"\n",
            &[("PSD2_CLIENT_ID", "env-id"), ("PSD2_CLIENT_SECRET", "s3cret")],
        )
        .map_err(|e| e.to_string())
        .expect("config");
        assert_eq!(c.bank, BankChoice::Named(BankName::Openpayments));
        assert_eq!(c.client_id.as_deref(), Some("env-id"));
        assert_eq!(c.client_secret.as_deref(), Some("s3cret"));
        assert_eq!(c.base_url.as_str(), "http://127.0.0.1:8080/openpayments");
        assert!(
            c.signing_key
                .as_ref()
                .is_some_and(|p| p.ends_with("k.pem") && p.is_absolute())
        );
        assert_eq!(
            c.signing_certificate.as_deref(),
            Some(Path::new("/abs/c.pem"))
        );
    }

    #[test]
    fn example_config_loads_and_its_signing_files_exist() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../psd2.example.toml"
        ));
        let c = Config::load(Some(path), &|_| None)
            .map_err(|e| e.to_string())
            .expect("example config");
        assert_eq!(c.bank, BankChoice::Named(BankName::Swedbank));
        assert!(c.signing_certificate.as_ref().is_some_and(|p| p.is_file()));
        assert!(c.signing_key.as_ref().is_some_and(|p| p.is_file()));
    }

    #[test]
    fn docs_name_every_variable() {
        let docs =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/cli.md"))
                .expect("docs/cli.md");
        for (var, key) in ENV_VARS
            .iter()
            .chain([&(CLIENT_SECRET_ENV, "client_secret")])
        {
            assert!(docs.contains(var), "docs/cli.md does not mention {var}");
            assert!(docs.contains(key), "docs/cli.md does not mention {key}");
        }
    }

    #[test]
    fn secret_in_file_is_refused() {
        let e = load("bank = \"swedbank\"\nclient_secret = \"x\"\n", &[])
            .err()
            .expect("error");
        assert!(e.to_string().contains("PSD2_CLIENT_SECRET"), "{e}");
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn bad_files_name_the_problem_and_line() {
        let e = load("bank = \"swedbank\"\nbase_urll = \"x\"\n", &[])
            .err()
            .expect("error");
        let text = e.to_string();
        assert!(
            text.contains("psd2.toml") && text.contains("line 2") && text.contains("base_urll"),
            "{text}"
        );
        let e = load("bank = [\n", &[]).err().expect("error");
        assert!(e.to_string().contains("line 1"), "{e}");
        let e = load("bank = \"nordea\"\n", &[]).err().expect("error");
        assert!(e.to_string().contains("not one this psd2 knows"), "{e}");
        let e = load("bank = \"handelsbanken\"\n", &[])
            .err()
            .expect("error");
        assert!(e.to_string().contains("client_id is required"), "{e}");
        let e = load("bank = \"swedbank\"\nbase_url = \"not a url\"\n", &[])
            .err()
            .expect("error");
        assert!(e.to_string().contains("base_url"), "{e}");
    }

    #[test]
    fn errors_name_the_key_never_the_value() {
        let secret = "191212121212";
        let files = [
            format!("bank = \"swedbank\"\npsu_id = {secret}\n"),
            format!("bank = \"swedbank\"\ncorporate_id = [{secret}]\n"),
            format!("bank = \"swedbank\"\ntimeout_secs = \"{secret}\"\n"),
            format!("bank = \"swedbank\"\npsu_id = \"{secret}\n"),
            format!("bank = \"swedbank\"\npsu_id = {secret}x\n"),
            format!("bank = \"swedbank\"\n{secret}\n"),
            format!("bank = \"swedbank\"\npsu_id = \"a\"\npsu_id = \"{secret}\"\n"),
            format!("bank = \"swedbank\"\nbase_url = \"{secret}\"\n"),
            format!("bank = \"{secret}\"\n"),
            format!("bank = \"swedbank\"\ncountry = \"{secret}\"\n"),
        ];
        for file in &files {
            let e = load(file, &[]).err().expect("error");
            let text = e.to_string();
            assert!(!text.contains(secret), "{file:?}: {text}");
            assert!(text.contains("psd2.toml"), "{text}");
            assert_eq!(e.exit_code(), 2);
        }
        // The unquoted PSU id: the key and the expected type are named, on its line.
        let e = load(&files[0], &[]).err().expect("error").to_string();
        assert!(
            e.contains("line 2") && e.contains("`psu_id`") && e.contains("string"),
            "{e}"
        );
        let e = load("bank = \"swedbank\"\n", &[("PSD2_TIMEOUT_SECS", secret)])
            .err()
            .expect("error")
            .to_string();
        assert!(!e.contains(secret) && e.contains("timeout_secs"), "{e}");
        let e = load(
            "bank = \"swedbank\"\n",
            &[("PSD2_TIMEOUT_SECS", "x191212121212")],
        )
        .err()
        .expect("error")
        .to_string();
        assert!(
            !e.contains(secret) && e.contains("PSD2_TIMEOUT_SECS"),
            "{e}"
        );
    }

    #[test]
    fn lines_know_their_table() {
        let text =
            "bank = \"swedbank\"\n[retry]\njitter = true\n\n[[other]]\nx = 1\n[retyr]\ny = 2\n";
        let table = |n| table_of_line(text, n);
        // Line 0 does not exist; the top level, a header line and a line below a header
        // that is not a plain name have none.
        for n in [0, 1, 2, 5, 6, 7] {
            assert_eq!(table(n), None, "line {n}");
        }
        assert_eq!(table(3).as_deref(), Some("retry"));
        assert_eq!(table(4).as_deref(), Some("retry"));
        assert_eq!(table(8).as_deref(), Some("retyr"));
    }

    #[test]
    fn describe_never_shows_url_credentials() {
        let c = load(
            "bank = \"swedbank\"\nbase_url = \"http://user:pa55word@bank.example/psd2\"\n",
            &[],
        )
        .map_err(|e| e.to_string())
        .expect("config");
        let text = c.describe();
        assert!(text.contains("http://bank.example/psd2"), "{text}");
        assert!(
            !text.contains("pa55word") && !text.contains("user"),
            "{text}"
        );
    }

    #[test]
    fn explicit_missing_file_is_an_error_default_is_not() {
        let e = Config::load(Some(Path::new("/nonexistent/psd2.toml")), &|_| None)
            .err()
            .expect("error");
        assert!(e.to_string().contains("/nonexistent/psd2.toml"), "{e}");
        let env = |k: &str| (k == "PSD2_BANK").then(|| "swedbank".to_string());
        // The default file is looked up relative to the working directory; the test crate's
        // directory has no psd2.toml.
        let c = Config::load(None, &env)
            .map_err(|e| e.to_string())
            .expect("env only");
        assert_eq!(c.bank, BankChoice::Named(BankName::Swedbank));
    }
}
