//! The [`BerlinGroup`] adapter value: building it from a profile, and sending one request
//! the way the profile says (headers, signing, error shape).

use std::fmt;
use std::net::IpAddr;

use chrono::{NaiveDate, Utc};
use psd2_hooks::Hooks;
use psd2_registry::{Hook, RegistryEntry, Requirement};
use psd2_security::{SigningHook, SigningIdentity, rfc2047};
use reqwest::Method;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderName, HeaderValue};
use url::Url;
use uuid::Uuid;

use super::config::BerlinGroupConfig;
use super::errors;
use crate::adapters::common::{Calls, RedirectStates, TransportConfig};
use crate::error::{Error, ErrorKind};
use crate::psu::{Psu, PsuContext};
use crate::retry::{CallInfo, RetryMode};

/// The generic Berlin Group NextGenPSD2 adapter: one registry entry's bank, driven by its
/// [`BankProfile`](psd2_registry::BankProfile). See the module docs of
/// [`crate::adapters::berlingroup`] for what each profile setting does.
pub struct BerlinGroup {
    pub(super) entry: RegistryEntry,
    pub(super) name: &'static str,
    pub(super) http: reqwest::Client,
    pub(super) hooks: Hooks,
    pub(super) base: Url,
    pub(super) calls: Calls,
    pub(super) tpp_redirect_uri: Option<Url>,
    pub(super) psu_ip_fallback: Option<IpAddr>,
    pub(super) psu_context: Option<PsuContext>,
    pub(super) poll_interval: std::time::Duration,
    pub(super) extra_headers: Vec<(HeaderName, HeaderValue)>,
    /// Redirect challenges handed out: their state per consent, with the authorisation id.
    pub(super) states: RedirectStates<Option<String>>,
}

impl fmt::Debug for BerlinGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BerlinGroup")
            .field("bank", &self.name)
            .field("base_url", &self.base.as_str())
            .field("hooks", &self.hooks)
            .field("extra_headers", &self.extra_headers.len())
            .finish_non_exhaustive()
    }
}

/// One request as the adapter sends it; every attempt adds a fresh `X-Request-ID`.
pub(super) struct Call {
    pub(super) method: Method,
    pub(super) url: Url,
    pub(super) headers: Vec<(HeaderName, HeaderValue)>,
    pub(super) body: Option<Vec<u8>>,
}

impl Call {
    pub(super) fn new(method: Method, url: Url) -> Self {
        Self {
            method,
            url,
            headers: Vec::new(),
            body: None,
        }
    }

    pub(super) fn headers(mut self, headers: Vec<(HeaderName, HeaderValue)>) -> Self {
        self.headers.extend(headers);
        self
    }

    pub(super) fn json(mut self, body: &serde_json::Value) -> Self {
        self.body = Some(body.to_string().into_bytes());
        self
    }
}

/// A header value marked sensitive (hidden from `Debug` and HTTP/2 tables).
pub(super) fn sensitive(
    bank: &'static str,
    operation: &'static str,
    name: &str,
    value: &str,
) -> Result<HeaderValue, Error> {
    let mut value = HeaderValue::from_str(value).map_err(|_| {
        Error::invalid_input(
            bank,
            operation,
            format!("{name} is not a valid header value"),
        )
    })?;
    value.set_sensitive(true);
    Ok(value)
}

fn header_value(
    bank: &'static str,
    operation: &'static str,
    name: &str,
    value: &str,
) -> Result<HeaderValue, Error> {
    HeaderValue::from_str(value).map_err(|_| {
        Error::invalid_input(
            bank,
            operation,
            format!("{name} is not a valid header value"),
        )
    })
}

impl BerlinGroup {
    /// Builds the adapter for `entry` (a registry file's bank) with `config`.
    ///
    /// A given signing identity signs every request (required when the profile says
    /// `security.signatures`). Fails with [`ErrorKind::InvalidInput`] naming the bank when
    /// the base URL is not
    /// http(s), when the profile requires signatures and `config.signing` is `None`, when the
    /// profile requires mTLS, the base URL is https and the transport has neither a client
    /// nor a client identity, or when an `extra_headers` entry is not a valid header.
    pub fn new(entry: RegistryEntry, config: BerlinGroupConfig) -> Result<Self, Error> {
        let name = crate::registry::intern(&entry.id);
        let BerlinGroupConfig {
            base_url,
            signing,
            transport,
            retry,
            attempt_hook,
            tpp_redirect_uri,
            psu_context,
            psu_ip_fallback,
            poll_interval,
            after_signing,
            headers,
        } = config;
        if !matches!(base_url.scheme(), "http" | "https") || base_url.cannot_be_a_base() {
            return Err(Error::invalid_input(
                name,
                "new",
                format!("bank `{name}`: the base URL must be an http(s) URL"),
            ));
        }
        let mut hooks = security_hooks(name, &entry, signing, &base_url, &transport)?;
        for hook in after_signing {
            hooks = hooks.with_shared(hook);
        }
        let extra_headers = static_headers(name, &entry, &headers)?;
        let http = transport.build(name)?;
        let mut base = base_url;
        let trimmed = base.path().trim_end_matches('/').to_string();
        base.set_path(&trimmed);
        base.set_query(None);
        base.set_fragment(None);
        Ok(Self {
            entry,
            name,
            http,
            hooks,
            base,
            calls: Calls::new(retry, attempt_hook),
            tpp_redirect_uri,
            psu_ip_fallback,
            psu_context,
            poll_interval,
            extra_headers,
            states: RedirectStates::default(),
        })
    }

    /// The registry entry (and profile) this adapter was built from; the sync engine reads
    /// `profile.transactions.ids_stable_across_booking` here.
    pub fn entry(&self) -> &RegistryEntry {
        &self.entry
    }

    /// `base` + `/v1/...` segments (each percent-encoded as one path segment).
    pub(super) fn url(&self, operation: &'static str, segments: &[&str]) -> Result<Url, Error> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::invalid_input(self.name, operation, "unusable base URL"))?
            .pop_if_empty()
            .push("v1")
            .extend(segments);
        Ok(url)
    }

    /// An href from the bank as an absolute URL: absolute as is; a path below the base path
    /// as is; any other path put below the base path.
    pub(super) fn resolve(&self, href: &str) -> Option<Url> {
        let url = match Url::parse(href) {
            Ok(url) => url,
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                let base_path = self.base.path().trim_end_matches('/');
                let path = if href.starts_with(&format!("{base_path}/")) {
                    href.to_string()
                } else if href.starts_with('/') {
                    format!("{base_path}{href}")
                } else {
                    format!("{base_path}/{href}")
                };
                self.base.join(&path).ok()?
            }
            Err(_) => return None,
        };
        matches!(url.scheme(), "http" | "https").then_some(url)
    }

    /// Whether `url` is on the bank's API (same origin, below the base path).
    pub(super) fn is_own(&self, url: &Url) -> bool {
        let base_path = self.base.path().trim_end_matches('/');
        url.origin() == self.base.origin() && url.path().starts_with(&format!("{base_path}/"))
    }

    /// The PSU headers of one call as the profile wants them. `creation`: consent creation
    /// or starting an authorisation (where a required `PSU-ID` must be there).
    pub(super) fn psu_headers(
        &self,
        operation: &'static str,
        psu: &Psu,
        creation: bool,
    ) -> Result<Vec<(HeaderName, HeaderValue)>, Error> {
        let profile = &self.entry.profile;
        let bank = self.name;
        let mut headers = Vec::new();
        if profile.psu_id != Requirement::NotUsed {
            match &psu.id {
                Some(id) => headers.push((
                    HeaderName::from_static("psu-id"),
                    sensitive(bank, operation, "PSU-ID", &rfc2047::encode(id.expose()))?,
                )),
                None if creation && profile.psu_id == Requirement::Required => {
                    return Err(Error::invalid_input(
                        bank,
                        operation,
                        format!(
                            "bank `{bank}` requires the PSU-ID header (profile psu_id = \
                             required): the PSU has no id"
                        ),
                    ));
                }
                None => {}
            }
            if let Some(corporate) = &psu.corporate_id {
                headers.push((
                    HeaderName::from_static("psu-corporate-id"),
                    sensitive(
                        bank,
                        operation,
                        "PSU-Corporate-ID",
                        &rfc2047::encode(corporate),
                    )?,
                ));
            }
        }
        if let Some(ip) = self.psu_ip(operation, psu)? {
            headers.push((
                HeaderName::from_static("psu-ip-address"),
                header_value(bank, operation, "PSU-IP-Address", &ip.to_string())?,
            ));
        }
        if profile.hooks.contains(&Hook::PsuContextHeader)
            && let Some(context) = psu_context(psu.context.as_ref().or(self.psu_context.as_ref()))
        {
            headers.push((
                HeaderName::from_static("psu-context"),
                HeaderValue::from_static(context),
            ));
        }
        if psu.is_present()
            && let Some(agent) = &psu.user_agent
        {
            headers.push((
                HeaderName::from_static("psu-user-agent"),
                header_value(bank, operation, "PSU-User-Agent", &rfc2047::encode(agent))?,
            ));
        }
        Ok(headers)
    }

    /// The `PSU-IP-Address` to send: the PSU's; at a bank that requires it, the configured
    /// fallback for an absent PSU, and neither is an error; never at a bank not using it.
    fn psu_ip(&self, operation: &'static str, psu: &Psu) -> Result<Option<IpAddr>, Error> {
        let bank = self.name;
        match self.entry.profile.psu_ip_address {
            Requirement::NotUsed => Ok(None),
            Requirement::Optional => Ok(psu.ip_address),
            Requirement::Required => match psu.ip_address.or(self.psu_ip_fallback) {
                Some(ip) => Ok(Some(ip)),
                None => Err(Error::invalid_input(
                    bank,
                    operation,
                    format!(
                        "bank `{bank}` requires the PSU-IP-Address header on every call \
                         (profile psu_ip_address = required): the PSU has no IP address and \
                         no fallback is configured"
                    ),
                )),
            },
        }
    }

    /// The `Consent-ID` header.
    pub(super) fn consent_header(
        &self,
        operation: &'static str,
        consent: &crate::ConsentId,
    ) -> Result<(HeaderName, HeaderValue), Error> {
        Ok((
            HeaderName::from_static("consent-id"),
            sensitive(self.name, operation, "Consent-ID", consent.expose())?,
        ))
    }

    /// Sends `call` under the retry policy and returns the body of a success answer with
    /// its status. A non-success answer is the profile's error (its shape and own codes).
    pub(super) async fn exchange(
        &self,
        info: CallInfo<'_>,
        mode: RetryMode,
        call: &Call,
    ) -> Result<(Vec<u8>, u16), Error> {
        let operation = info.operation;
        self.calls
            .run(info, mode, |rid| async move {
                let (answer, status) = self.attempt(operation, call, rid).await?;
                readable(self.name, operation, &answer, status, rid)?;
                Ok(((answer, status), status))
            })
            .await
    }

    async fn attempt(
        &self,
        operation: &'static str,
        call: &Call,
        rid: Uuid,
    ) -> Result<(Vec<u8>, u16), Error> {
        let bank = self.name;
        let failed = |kind: ErrorKind, detail: &str| {
            Error::new(kind, bank, operation)
                .with_detail(detail.to_string())
                .with_request_id(rid.to_string())
        };
        let mut builder = self
            .http
            .request(call.method.clone(), call.url.clone())
            .header(ACCEPT, "application/json")
            .header("X-Request-ID", rid.to_string());
        for (name, value) in self.extra_headers.iter().chain(&call.headers) {
            builder = builder.header(name.clone(), value.clone());
        }
        if let Some(body) = &call.body {
            builder = builder
                .header(CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let mut request = builder
            .build()
            .map_err(|_| failed(ErrorKind::InvalidInput, "could not build the request"))?;
        self.hooks.run(&mut request).await.map_err(|e| {
            failed(
                ErrorKind::Transport,
                &format!("the request was refused before sending: {e}"),
            )
        })?;
        let transport = |e: reqwest::Error, detail: &str| {
            let kind = if e.is_timeout() {
                ErrorKind::Timeout
            } else {
                ErrorKind::Transport
            };
            failed(kind, detail).with_source(e.without_url())
        };
        let response = self
            .http
            .execute(request)
            .await
            .map_err(|e| transport(e, "could not talk to the bank"))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response
            .bytes()
            .await
            .map_err(|e| transport(e, "the bank's answer was cut off"))?;
        if !(200..300).contains(&status) {
            return Err(errors::from_response(
                bank,
                operation,
                &self.entry.profile,
                status,
                &body,
                retry_after.as_deref(),
            )
            .with_request_id(rid.to_string()));
        }
        Ok((body.to_vec(), status))
    }

    /// Sends `call` and decodes the success answer as `T` (an error body sent with a
    /// success status is the bank's error).
    pub(super) async fn fetch<T: serde::de::DeserializeOwned>(
        &self,
        info: CallInfo<'_>,
        mode: RetryMode,
        call: &Call,
    ) -> Result<T, Error> {
        let operation = info.operation;
        let (body, status) = self.exchange(info, mode, call).await?;
        decode(self.name, operation, &body, status)
    }

    /// Today by this machine's clock (for `validUntil` and history limits).
    pub(super) fn today() -> NaiveDate {
        Utc::now().date_naive()
    }
}

/// The signing hook (when an identity is given), after checking the profile's security
/// needs: signatures need an identity; mTLS over https needs a client identity (or a
/// caller's client, which may carry one).
fn security_hooks(
    name: &'static str,
    entry: &RegistryEntry,
    signing: Option<SigningIdentity>,
    base_url: &Url,
    transport: &TransportConfig,
) -> Result<Hooks, Error> {
    let security = &entry.profile.security;
    let hooks = match signing {
        Some(identity) => Hooks::new().with(SigningHook::new(identity)),
        None if security.signatures => {
            return Err(Error::invalid_input(
                name,
                "new",
                format!(
                    "bank `{name}` requires signed requests (profile security.signatures): \
                     a signing identity (QSeal certificate and key) is needed"
                ),
            ));
        }
        None => Hooks::new(),
    };
    if security.mtls
        && base_url.scheme() == "https"
        && transport.client.is_none()
        && transport.identity.is_none()
    {
        return Err(Error::invalid_input(
            name,
            "new",
            format!(
                "bank `{name}` requires mutual TLS (profile security.mtls): a client \
                 identity (QWAC) or a client carrying one is needed"
            ),
        ));
    }
    Ok(hooks)
}

/// The profile's `extra_headers` and the config's headers, checked.
fn static_headers(
    name: &'static str,
    entry: &RegistryEntry,
    headers: &[(String, String)],
) -> Result<Vec<(HeaderName, HeaderValue)>, Error> {
    let configured = headers.iter().map(|(k, v)| (k, v, "config headers"));
    let profiled = entry
        .profile
        .extra_headers
        .iter()
        .map(|(k, v)| (k, v, "profile.extra_headers"));
    let mut out = Vec::new();
    for (key, value, source) in profiled.chain(configured) {
        let header = HeaderName::from_bytes(key.as_bytes()).map_err(|_| {
            Error::invalid_input(
                name,
                "new",
                format!("bank `{name}`: {source}: `{key}` is not a header name"),
            )
        })?;
        out.push((header, header_value(name, "new", key, value)?));
    }
    Ok(out)
}

/// The `PSU-Context` value of a context (`Other` contexts are not sent).
fn psu_context(context: Option<&PsuContext>) -> Option<&'static str> {
    match context? {
        PsuContext::Private => Some("PRIVATE"),
        PsuContext::Corporate => Some("CORPORATE"),
        PsuContext::Other(_) => None,
    }
}

/// Refuses a success answer whose body is not complete JSON (cut off on the way, or not
/// JSON at all) inside the retry loop, so an idempotent call sends it again; an empty body
/// (e.g. `204`) is fine. Only the syntax is checked here; [`decode`] reads the shape.
fn readable(
    bank: &'static str,
    operation: &'static str,
    body: &[u8],
    status: u16,
    rid: Uuid,
) -> Result<(), Error> {
    if body.is_empty() || serde_json::from_slice::<serde::de::IgnoredAny>(body).is_ok() {
        return Ok(());
    }
    Err(Error::new(ErrorKind::UnexpectedResponse, bank, operation)
        .with_status(status)
        .with_detail(crate::retry::UNREADABLE_ANSWER)
        .with_request_id(rid.to_string()))
}

/// Decodes a success answer into `T`; see [`Error::from_invalid_payload`] for failures
/// (an error body sent with a success status is the bank's error). A body that is not UTF-8
/// is refused as a whole, also where the bytes sit in members `T` ignores.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    bank: &'static str,
    operation: &'static str,
    body: &[u8],
    status: u16,
) -> Result<T, Error> {
    let failed =
        |e: &serde_json::Error| Error::from_invalid_payload(bank, operation, Some(status), body, e);
    let Ok(text) = std::str::from_utf8(body) else {
        return Err(match serde_json::from_slice::<serde_json::Value>(body) {
            Err(e) => failed(&e),
            Ok(_) => Error::new(ErrorKind::UnexpectedResponse, bank, operation)
                .with_status(status)
                .with_detail(crate::retry::UNREADABLE_ANSWER),
        });
    };
    // Checked once as a whole above: decoding from text spares each string its own check.
    serde_json::from_str(text).map_err(|e| failed(&e))
}
