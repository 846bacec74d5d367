//! Building a bank adapter from the configuration (or for the demo's sandbox), and the PSU.

use std::net::IpAddr;
use std::time::Duration;

use psd2::adapters::common::TransportConfig;
use psd2::{Bank, Psu, PsuContext, PsuId};
use url::Url;

use crate::cli::BankName;
use crate::config::Config;
use crate::error::CliError;
use crate::registry::BankChoice;

use psd2::Session;
use psd2::adapters::berlingroup::BerlinGroupConfig;
use psd2::adapters::handelsbanken::{Handelsbanken, HandelsbankenConfig};
use psd2::adapters::openpayments::{OpenPayments, OpenPaymentsConfig};
use psd2::adapters::swedbank::{Swedbank, SwedbankConfig};

/// An adapter chosen at run time, used only through the facade traits: `as_*` give the
/// capability traits, [`Bank::current_session`] the tokens it renewed.
pub type Adapter = Box<dyn Bank>;

/// The session with tokens the adapter renewed during the last calls, if they differ from
/// `session` (an adapter may refresh an expired access token itself).
pub fn renewed_session(adapter: &dyn Bank, session: &Session) -> Option<Session> {
    let current = adapter.current_session(session);
    (current != *session).then_some(current)
}

/// The client id the demo uses against the sandbox (any non-empty id is accepted).
pub const DEMO_CLIENT_ID: &str = "psd2-rs-demo";

fn read_pem(
    path: &std::path::Path,
    what: &str,
    source: &std::path::Path,
) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|e| {
        CliError::config(
            source,
            format!("cannot read {what} {}: {e}", path.display()),
        )
    })
}

/// The HTTP transport from the config's mTLS, CA and timeout settings.
fn transport(config: &Config) -> Result<TransportConfig, CliError> {
    let mut transport = TransportConfig::default();
    if let (Some(cert), Some(key)) = (&config.certificate, &config.private_key) {
        let identity = psd2_security::tls::ClientIdentity::from_files(cert, key).map_err(|e| {
            CliError::config(&config.source, format!("certificate/private_key: {e}"))
        })?;
        transport.identity = Some(identity);
    }
    if let Some(ca) = &config.ca_certificate {
        transport.extra_root_ca_pem = Some(read_pem(ca, "ca_certificate", &config.source)?);
    }
    transport.timeout = Some(Duration::from_secs(config.timeout_secs.unwrap_or(30)));
    Ok(transport)
}

/// Builds the configured bank's adapter, with the config's retry policy. Configuration
/// problems exit with code 2.
pub fn from_config(config: &Config) -> Result<Adapter, CliError> {
    let transport = transport(config)?;
    let bank = match &config.bank {
        BankChoice::Named(bank) => *bank,
        BankChoice::Registry(entry) => return registry_adapter(config, entry, transport),
    };
    let adapter: Adapter = match bank {
        BankName::Handelsbanken => {
            let mut c = HandelsbankenConfig::new(
                config.base_url.clone(),
                config.client_id.clone().unwrap_or_default(),
                config
                    .country
                    .clone()
                    .unwrap_or_else(|| "SE".into())
                    .to_ascii_uppercase(),
            )
            .transport(transport)
            .with_retry(config.retry.clone());
            if let Some(uri) = &config.redirect_uri {
                c = c.redirect_uri(uri.clone());
            }
            if let Some(url) = &config.authorize_url {
                c = c.authorize_url(url.clone());
            }
            Box::new(Handelsbanken::new(c).map_err(|e| config_error(config, e))?)
        }
        BankName::Openpayments => {
            let bic = config.bic.clone().ok_or_else(|| {
                CliError::config(
                    &config.source,
                    "bic is required for openpayments (the bank behind the platform; PSD2_BIC)",
                )
            })?;
            let mut c = OpenPaymentsConfig::new(
                config.base_url.clone(),
                config.client_id.clone().unwrap_or_default(),
                bic,
            )
            .with_transport(transport)
            .with_retry(config.retry.clone());
            if let Some(secret) = &config.client_secret {
                c = c.with_client_secret(psd2::Secret::new(secret.clone()));
            }
            c.token_url = config.token_url.clone();
            c.redirect_uri = config.redirect_uri.clone();
            if let Some(scope) = &config.scope {
                c.scope = scope.clone();
            } else if config.corporate_id.is_some() {
                c.scope = "accountinformation corporate".into();
            }
            Box::new(OpenPayments::new(c).map_err(|e| config_error(config, e))?)
        }
        BankName::Swedbank => {
            let mut c = SwedbankConfig::new(config.base_url.clone())
                .with_transport(transport)
                .with_retry(config.retry.clone());
            if let Some(identity) = signing_identity(config)? {
                c = c.with_signing(identity);
            }
            if let Some(uri) = &config.redirect_uri {
                c = c.with_redirect_uri(uri.clone());
            }
            c = c.with_psu_context(if config.corporate_id.is_some() {
                PsuContext::Corporate
            } else {
                PsuContext::Private
            });
            Box::new(Swedbank::new(c).map_err(|e| config_error(config, e))?)
        }
    };
    Ok(adapter)
}

/// The request signing identity of the config's `signing_certificate`/`signing_key`.
fn signing_identity(config: &Config) -> Result<Option<psd2_security::SigningIdentity>, CliError> {
    let (Some(cert), Some(key)) = (&config.signing_certificate, &config.signing_key) else {
        return Ok(None);
    };
    psd2_security::SigningIdentity::from_files(cert, key)
        .map(Some)
        .map_err(|e| {
            CliError::config(
                &config.source,
                format!("signing_certificate/signing_key: {e}"),
            )
        })
}

/// The generic Berlin Group adapter for a registry bank, driven by its profile.
fn registry_adapter(
    config: &Config,
    entry: &psd2_registry::RegistryEntry,
    transport: TransportConfig,
) -> Result<Adapter, CliError> {
    let mut c = BerlinGroupConfig::new(config.base_url.clone())
        .with_transport(transport)
        .with_retry(config.retry.clone());
    if let Some(identity) = signing_identity(config)? {
        c = c.with_signing(identity);
    }
    if let Some(uri) = &config.redirect_uri {
        c = c.with_tpp_redirect_uri(uri.clone());
    }
    if let Some(ip) = config.tpp_ip_address {
        c = c.with_psu_ip_fallback(ip);
    }
    c = c.with_psu_context(if config.corporate_id.is_some() {
        PsuContext::Corporate
    } else {
        PsuContext::Private
    });
    psd2::registry::adapter(entry, c).map_err(|e| config_error(config, e))
}

/// An adapter's refusal of its settings is a configuration error (exit 2) naming the file.
fn config_error(config: &Config, e: psd2::Error) -> CliError {
    match e.kind {
        psd2::ErrorKind::InvalidInput => CliError::config(
            &config.source,
            format!(
                "{} settings rejected: {}",
                config.bank.as_str(),
                e.detail().unwrap_or("invalid")
            ),
        ),
        _ => CliError::Bank(e),
    }
}

/// The PSU from the config (`psu_id`, `corporate_id`) and `--psu-ip` (present or not).
pub fn psu(config: &Config, ip: Option<IpAddr>) -> Psu {
    let mut psu = match ip {
        Some(ip) => Psu::present(ip, None),
        None => Psu::absent(),
    };
    if let Some(id) = &config.psu_id {
        psu = psu.with_id(PsuId::new(id.clone()));
    }
    if let Some(corporate) = &config.corporate_id {
        psu = psu.with_corporate(corporate.clone(), config.corporate_id_type.clone());
    }
    psu
}

/// The committed test signing key and certificate the demo signs Swedbank requests with.
///
/// They are read from files at run time, only by the demo, so no build of `psd2` carries
/// the (public, test-only) key: the production binary cannot sign anything with it.
pub struct DemoSigning {
    /// The test certificate (PEM); the sandbox checks signatures against it.
    pub cert_pem: String,
    key_pem: String,
}

/// The environment variable naming the directory of the demo's test key and certificate.
pub const DEMO_FIXTURES_ENV: &str = "PSD2_DEMO_FIXTURES";

impl DemoSigning {
    /// Reads `test-signing-cert.pem` and `test-signing-key.pem` from `$PSD2_DEMO_FIXTURES`,
    /// else from the source tree's `crates/security/fixtures` this binary was built from.
    pub fn load() -> Result<Self, CliError> {
        let dir = std::env::var_os(DEMO_FIXTURES_ENV)
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| {
                std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../security/fixtures")
            });
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read_to_string(&path).map_err(|e| {
                CliError::Local(format!(
                    "the demo signs Swedbank requests with the test key in the source tree, but \
                     cannot read {}: {} (set {DEMO_FIXTURES_ENV} to the directory holding \
                     test-signing-cert.pem and test-signing-key.pem)",
                    path.display(),
                    e.kind()
                ))
            })
        };
        Ok(Self {
            cert_pem: read("test-signing-cert.pem")?,
            key_pem: read("test-signing-key.pem")?,
        })
    }
}

impl DemoSigning {
    /// The test identity, for `bank`'s adapter.
    pub fn identity(
        &self,
        bank: &'static str,
    ) -> Result<psd2_security::SigningIdentity, psd2::Error> {
        psd2_security::SigningIdentity::from_pem(&self.cert_pem, &self.key_pem)
            .map_err(|e| psd2::Error::invalid_input(bank, "new", e.to_string()))
    }
}

/// The demo's adapter for `bank` against a sandbox bank URL. Swedbank signs with the
/// committed test identity (see [`DemoSigning`]).
pub fn for_sandbox(
    bank: BankName,
    bank_url: &str,
    signing: &DemoSigning,
) -> Result<Adapter, psd2::Error> {
    let url = Url::parse(bank_url)
        .map_err(|e| psd2::Error::invalid_input(bank.as_str(), "new", e.to_string()))?;
    Ok(match bank {
        BankName::Handelsbanken => Box::new(Handelsbanken::new(HandelsbankenConfig::new(
            url,
            DEMO_CLIENT_ID,
            "SE",
        ))?),
        BankName::Openpayments => Box::new(OpenPayments::new(OpenPaymentsConfig::new(
            url,
            DEMO_CLIENT_ID,
            "ESSESESS",
        ))?),
        BankName::Swedbank => {
            let identity =
                psd2_security::SigningIdentity::from_pem(&signing.cert_pem, &signing.key_pem)
                    .map_err(|e| psd2::Error::invalid_input("swedbank", "new", e.to_string()))?;
            Box::new(Swedbank::new(
                SwedbankConfig::new(url)
                    .with_signing(identity)
                    .with_psu_context(PsuContext::Private),
            )?)
        }
    })
}
