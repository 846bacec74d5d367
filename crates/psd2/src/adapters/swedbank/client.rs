//! The Swedbank adapter: consents, SCA (redirect and decoupled) and account information over
//! the generated `psd2-raw-swedbank` client, every request signed by the signing hook.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::num::NonZeroU64;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::NaiveDate;
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use psd2_hooks::Hooks;
use psd2_raw_swedbank::types as raw;
use psd2_raw_swedbank::{Client as RawClient, ResponseValue};
use psd2_security::{SigningHook, rfc2047};
use reqwest::header::{ACCEPT, HeaderValue};
use url::Url;
use uuid::Uuid;

use super::config::SwedbankConfig;
use super::mapping::{self, MappingError};
use crate::account::{Account, AccountId};
use crate::adapters::common::{map_raw_error, request_id};
use crate::api::{
    AccountInformation, Bank, CardAccountInformation, Consents, CreatedConsent, Session,
};
use crate::balance::Balance;
use crate::consent::{Consent, ConsentId, ConsentRequest, ConsentScope, ConsentStatus};
use crate::error::{Error, ErrorKind};
use crate::pagination::{Page, Paginator};
use crate::psu::{Psu, PsuContext};
use crate::sca::{
    DecoupledHandle, RedirectCallback, ScaApproach, ScaChallenge, ScaMethod, ScaProgress, ScaStatus,
};
use crate::secret::Secret;
use crate::transaction::{BookingStatus, Transaction, TransactionQuery};

/// The adapter's name in errors and logs.
pub const BANK: &str = "swedbank";

/// Redirect states remembered per adapter (oldest forgotten first).
const MAX_REDIRECT_STATES: usize = 1024;

/// "As long as the bank allows" (Berlin Group convention for `validUntil`).
const MAX_VALID_UNTIL: (i32, u32, u32) = (9999, 12, 31);

type RawError = psd2_raw_swedbank::Error<raw::ErrorResponse>;

/// Swedbank (Norway/Baltics) Berlin Group XS2A adapter. See the module docs of
/// [`crate::adapters::swedbank`].
pub struct Swedbank {
    raw: RawClient,
    http: reqwest::Client,
    hooks: Hooks,
    base: Url,
    signed: bool,
    redirect_uri: Option<Url>,
    psu_context: Option<PsuContext>,
    future_breaking_changes: Option<String>,
    states: Mutex<RedirectStates>,
}

/// `state` values of redirect challenges handed out, with their consent.
#[derive(Default)]
struct RedirectStates {
    order: VecDeque<String>,
    consent_of: HashMap<String, ConsentId>,
}

impl fmt::Debug for Swedbank {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Swedbank")
            .field("base_url", &self.base.as_str())
            .field("signed", &self.signed)
            .field("hooks", &self.hooks)
            .field("redirect_uri", &self.redirect_uri.as_ref().map(Url::as_str))
            .field("psu_context", &self.psu_context)
            .field("future_breaking_changes", &self.future_breaking_changes)
            .finish_non_exhaustive()
    }
}

/// The PSU headers of one call, already in their wire form.
struct PsuHeaders {
    id: Option<String>,
    corporate_id: Option<String>,
    context: Option<raw::PsuContext>,
    ip_address: Option<String>,
    user_agent: Option<String>,
}

/// Sets the request id and the PSU / opt-in headers on any raw operation builder.
macro_rules! xs2a {
    ($builder:expr, $this:expr, $headers:expr, $rid:expr) => {{
        let headers: &PsuHeaders = $headers;
        let mut b = $builder.x_request_id($rid);
        if let Some(v) = &headers.id {
            b = b.psu_id(v.clone());
        }
        if let Some(v) = &headers.corporate_id {
            b = b.psu_corporate_id(v.clone());
        }
        if let Some(v) = headers.context {
            b = b.psu_context(v);
        }
        if let Some(v) = &headers.ip_address {
            b = b.psu_ip_address(v.clone());
        }
        if let Some(v) = &headers.user_agent {
            b = b.psu_user_agent(v.clone());
        }
        if let Some(v) = &$this.future_breaking_changes {
            b = b.x_future_breaking_changes(v.clone());
        }
        b
    }};
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

fn mapping_error(operation: &'static str, rid: Uuid, error: MappingError) -> Error {
    error
        .into_error(BANK, operation)
        .with_request_id(rid.to_string())
}

fn raw_booking_status(status: BookingStatus) -> raw::BookingStatus {
    match status {
        BookingStatus::Booked => raw::BookingStatus::Booked,
        BookingStatus::Pending => raw::BookingStatus::Pending,
        BookingStatus::Both => raw::BookingStatus::Both,
    }
}

/// A URL with its query pairs sorted, so two spellings of one page compare equal.
fn normalized(mut url: Url) -> String {
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    if pairs.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.set_fragment(None);
    url.to_string()
}

impl Swedbank {
    /// Builds the adapter: the HTTP client from `config.transport`, and the raw client with
    /// the hook chain `SigningHook` (+ `config.after_signing`), so every operation is signed.
    ///
    /// Fails with [`ErrorKind::InvalidInput`] for a base URL that is not http(s), or when no
    /// signing identity is given for a base URL that is not a loopback address.
    pub fn new(config: SwedbankConfig) -> Result<Self, Error> {
        let SwedbankConfig {
            base_url,
            signing,
            redirect_uri,
            psu_context,
            future_breaking_changes,
            transport,
            after_signing,
        } = config;
        if !matches!(base_url.scheme(), "http" | "https") || base_url.cannot_be_a_base() {
            return Err(Error::invalid_input(
                BANK,
                "new",
                "the base URL must be an http(s) URL",
            ));
        }
        let mut hooks = Hooks::new();
        let signed = signing.is_some();
        match signing {
            Some(identity) => hooks = hooks.with(SigningHook::new(identity)),
            None if is_loopback(&base_url) => {
                tracing::warn!(bank = BANK, "requests are not signed (local sandbox only)");
            }
            None => {
                return Err(Error::invalid_input(
                    BANK,
                    "new",
                    "a signing identity (QSeal certificate and key) is required",
                ));
            }
        }
        for hook in after_signing {
            hooks = hooks.with_shared(hook);
        }
        let http = transport.build(BANK)?;
        let mut base = base_url;
        let trimmed = base.path().trim_end_matches('/').to_string();
        base.set_path(&trimmed);
        base.set_query(None);
        base.set_fragment(None);
        let base_str = base.as_str().trim_end_matches('/').to_string();
        let raw = RawClient::new_with_client(&base_str, http.clone(), hooks.clone());
        let future_breaking_changes =
            (!future_breaking_changes.is_empty()).then(|| future_breaking_changes.join(","));
        Ok(Self {
            raw,
            http,
            hooks,
            base,
            signed,
            redirect_uri,
            psu_context,
            future_breaking_changes,
            states: Mutex::new(RedirectStates::default()),
        })
    }

    /// The raw generated client (for operations the facade does not cover).
    pub fn raw(&self) -> &RawClient {
        &self.raw
    }

    fn psu_headers(&self, psu: &Psu) -> PsuHeaders {
        let context = psu
            .context
            .as_ref()
            .or(self.psu_context.as_ref())
            .and_then(|c| match c {
                PsuContext::Private => Some(raw::PsuContext::Private),
                PsuContext::Corporate => Some(raw::PsuContext::Corporate),
                PsuContext::Other(_) => None,
            });
        let present = psu.is_present();
        PsuHeaders {
            id: psu
                .id
                .as_ref()
                .map(|id| rfc2047::encode(id.expose()).into_owned()),
            corporate_id: psu
                .corporate_id
                .as_deref()
                .map(|c| rfc2047::encode(c).into_owned()),
            context,
            ip_address: psu.ip_address.map(|ip| ip.to_string()),
            user_agent: psu
                .user_agent
                .as_deref()
                .filter(|_| present)
                .map(|ua| rfc2047::encode(ua).into_owned()),
        }
    }

    /// Awaits one raw operation, logging it and mapping its error.
    async fn call<T>(
        &self,
        operation: &'static str,
        rid: Uuid,
        send: impl Future<Output = Result<ResponseValue<T>, RawError>>,
    ) -> Result<T, Error> {
        match send.await {
            Ok(response) => {
                tracing::debug!(
                    bank = BANK,
                    operation,
                    status = response.status().as_u16(),
                    request_id = %rid,
                    "bank call succeeded"
                );
                Ok(response.into_inner())
            }
            Err(raw_error) => {
                let error = map_raw_error(BANK, operation, &rid.to_string(), raw_error).await;
                tracing::debug!(
                    bank = BANK,
                    operation,
                    status = error.status,
                    request_id = %rid,
                    kind = %error.kind,
                    "bank call failed"
                );
                Err(error)
            }
        }
    }

    fn consent_access(request: &ConsentRequest) -> Result<raw::ConsentAccess, Error> {
        match &request.scope {
            // Berlin Group: `allPsd2` grants all accounts with balances and transactions;
            // `availableAccounts` grants the account list only.
            ConsentScope::AllAccounts if request.with_balances || request.with_transactions => {
                Ok(raw::ConsentAccess {
                    all_psd2: Some(raw::AllPsd2("allAccounts".to_string())),
                    ..Default::default()
                })
            }
            ConsentScope::AllAccounts => Ok(raw::ConsentAccess {
                available_accounts: Some(raw::AvailableAccounts("allAccounts".to_string())),
                ..Default::default()
            }),
            ConsentScope::Accounts(ibans) => {
                if ibans.is_empty() {
                    return Err(Error::invalid_input(
                        BANK,
                        "create_consent",
                        "a consent for given accounts needs at least one IBAN",
                    ));
                }
                let refs = ibans
                    .iter()
                    .map(|iban| {
                        // The spec's `maxLength: 34`: the raw type no longer checks it, as
                        // `AccountReference` is also a response schema (lenient there).
                        if iban.as_str().chars().count() > 34 {
                            return Err(Error::invalid_input(
                                BANK,
                                "create_consent",
                                "unusable IBAN: longer than 34 characters",
                            ));
                        }
                        Ok(raw::AccountReference {
                            iban: Some(iban.as_str().to_string()),
                            ..Default::default()
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(raw::ConsentAccess {
                    balances: if request.with_balances {
                        refs.clone()
                    } else {
                        Vec::new()
                    },
                    transactions: if request.with_transactions {
                        refs.clone()
                    } else {
                        Vec::new()
                    },
                    accounts: refs,
                    ..Default::default()
                })
            }
        }
    }

    /// A redirect challenge for the bank's `scaRedirect` href, with a fresh `state` that
    /// [`Consents::complete_redirect`] checks.
    fn redirect_challenge(&self, consent: &ConsentId, href: &str) -> Result<ScaChallenge, Error> {
        let mut url = self.resolve(href).ok_or_else(|| {
            Error::new(ErrorKind::UnexpectedResponse, BANK, "start_sca")
                .with_detail("the bank's scaRedirect link is not a usable URL")
        })?;
        let state = Uuid::new_v4().simple().to_string();
        url.query_pairs_mut().append_pair("state", &state);
        if let Ok(mut states) = self.states.lock() {
            if states.order.len() >= MAX_REDIRECT_STATES
                && let Some(old) = states.order.pop_front()
            {
                states.consent_of.remove(&old);
            }
            states.order.push_back(state.clone());
            states.consent_of.insert(state.clone(), consent.clone());
        }
        Ok(ScaChallenge::Redirect { url, state })
    }

    /// Whether `state` was handed out for `consent`; `forget` removes it.
    fn check_state(&self, consent: &ConsentId, state: &str, forget: bool) -> bool {
        let Ok(mut states) = self.states.lock() else {
            return false;
        };
        let matches = states.consent_of.get(state) == Some(consent);
        if matches && forget {
            states.consent_of.remove(state);
            states.order.retain(|s| s != state);
        }
        matches
    }

    /// An href from the bank as an absolute URL: absolute as is; `/v1/...` below the base
    /// path; anything else relative to the base.
    fn resolve(&self, href: &str) -> Option<Url> {
        let url = match Url::parse(href) {
            Ok(url) => url,
            Err(url::ParseError::RelativeUrlWithoutBase) => {
                let base_path = self.base.path().trim_end_matches('/');
                let path = if href.starts_with('/') && !href.starts_with(&format!("{base_path}/")) {
                    format!("{base_path}{href}")
                } else if href.starts_with('/') {
                    href.to_string()
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
    fn is_own(&self, url: &Url) -> bool {
        let base_path = self.base.path().trim_end_matches('/');
        url.origin() == self.base.origin() && url.path().starts_with(&format!("{base_path}/"))
    }

    /// The first transactions page's URL, normalized (the pagination cursor of page one).
    fn first_transactions_url(
        &self,
        account: &AccountId,
        query: &TransactionQuery,
    ) -> Result<String, Error> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::invalid_input(BANK, "transactions", "unusable base URL"))?
            .pop_if_empty()
            .extend(["v1", "accounts", account.as_str(), "transactions"]);
        apply_query(&mut url, query);
        Ok(normalized(url))
    }

    /// The cursor for a `_links.next.href`: resolved, checked to stay on the bank's API, with
    /// the caller's query put back (a next link that drops or changes it is corrected).
    fn next_cursor(&self, href: &str, query: &TransactionQuery) -> Result<String, Error> {
        let mut url = self
            .resolve(href)
            .filter(|u| self.is_own(u))
            .ok_or_else(|| {
                Error::new(ErrorKind::Pagination, BANK, "transactions")
                    .with_detail("the next page link does not point into the bank's API")
            })?;
        apply_query(&mut url, query);
        Ok(normalized(url))
    }

    async fn first_transactions_page(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        query: &TransactionQuery,
        rid: Uuid,
    ) -> Result<raw::TransactionsResponse, Error> {
        let headers = self.psu_headers(psu);
        let mut builder = xs2a!(
            self.raw
                .get_transaction_list()
                .account_id(account.as_str())
                .consent_id(session.consent_id.expose())
                .booking_status(raw_booking_status(query.booking_status)),
            self,
            &headers,
            rid
        );
        if let Some(from) = query.date_from {
            builder = builder.date_from(from);
        }
        if let Some(to) = query.date_to {
            builder = builder.date_to(to);
        }
        self.call("transactions", rid, builder.send()).await
    }

    /// Fetches a next page with the same HTTP client and hook chain as the raw client, so
    /// it is signed like every other request.
    async fn next_transactions_page(
        &self,
        session: &Session,
        psu: &Psu,
        cursor: &str,
        rid: Uuid,
    ) -> Result<raw::TransactionsResponse, Error> {
        const OP: &str = "transactions";
        let transport = |detail: &str| {
            Error::new(ErrorKind::Transport, BANK, OP)
                .with_detail(detail.to_string())
                .with_request_id(rid.to_string())
        };
        let url = Url::parse(cursor).map_err(|_| transport("unusable next page URL"))?;
        let mut consent = HeaderValue::from_str(session.consent_id.expose())
            .map_err(|_| Error::invalid_input(BANK, OP, "consent id is not a valid header"))?;
        consent.set_sensitive(true);
        let headers = self.psu_headers(psu);
        let mut builder = self
            .http
            .get(url)
            .header(ACCEPT, "application/json")
            .header("Consent-ID", consent)
            .header("X-Request-ID", rid.to_string());
        let optional = [
            ("PSU-ID", headers.id),
            ("PSU-Corporate-ID", headers.corporate_id),
            ("PSU-Context", headers.context.map(|c| c.to_string())),
            ("PSU-IP-Address", headers.ip_address),
            ("PSU-User-Agent", headers.user_agent),
            (
                "X-Future-Breaking-Changes",
                self.future_breaking_changes.clone(),
            ),
        ];
        for (name, value) in optional {
            if let Some(value) = value {
                builder = builder.header(name, value);
            }
        }
        let mut request = builder
            .build()
            .map_err(|_| transport("could not build the next page request"))?;
        self.hooks
            .run(&mut request)
            .await
            .map_err(|e| transport(&format!("the request was refused before sending: {e}")))?;
        let response = self.http.execute(request).await.map_err(|e| {
            let kind = if e.is_timeout() {
                ErrorKind::Timeout
            } else {
                ErrorKind::Transport
            };
            Error::new(kind, BANK, OP)
                .with_detail("could not talk to the bank")
                .with_request_id(rid.to_string())
                .with_source(e.without_url())
        })?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response
            .bytes()
            .await
            .map_err(|_| transport("could not read the bank's answer"))?;
        tracing::debug!(
            bank = BANK,
            operation = OP,
            status,
            request_id = %rid,
            "bank call (next page)"
        );
        if !(200..300).contains(&status) {
            return Err(
                Error::from_response(BANK, OP, status, &body, retry_after.as_deref())
                    .with_request_id(rid.to_string()),
            );
        }
        serde_json::from_slice(&body).map_err(|e| {
            Error::new(ErrorKind::UnexpectedResponse, BANK, OP)
                .with_detail(format!(
                    "the bank's answer does not fit the API description: {e}"
                ))
                .with_raw_body(&body)
                .with_request_id(rid.to_string())
        })
    }
}

/// Sets the caller's `bookingStatus`, `dateFrom` and `dateTo` on a transactions URL,
/// replacing whatever the URL had for them and keeping everything else.
fn apply_query(url: &mut Url, query: &TransactionQuery) {
    const OURS: [&str; 3] = ["bookingStatus", "dateFrom", "dateTo"];
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !OURS.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.push(("bookingStatus".into(), query.booking_status.as_str().into()));
    if let Some(from) = query.date_from {
        pairs.push(("dateFrom".into(), from.to_string()));
    }
    if let Some(to) = query.date_to {
        pairs.push(("dateTo".into(), to.to_string()));
    }
    url.query_pairs_mut().clear().extend_pairs(pairs);
}

impl Bank for Swedbank {
    fn name(&self) -> &'static str {
        BANK
    }

    fn as_consents(&self) -> Option<&dyn Consents> {
        Some(self)
    }

    fn as_account_information(&self) -> Option<&dyn AccountInformation> {
        Some(self)
    }
}

#[async_trait]
impl Consents for Swedbank {
    async fn create_consent(
        &self,
        request: &ConsentRequest,
        psu: &Psu,
    ) -> Result<CreatedConsent, Error> {
        let rid = request_id();
        let (y, m, d) = MAX_VALID_UNTIL;
        let valid_until = match request.valid_until {
            Some(date) => date,
            None => NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| {
                Error::invalid_input(BANK, "create_consent", "no maximum validUntil date")
            })?,
        };
        let body = raw::ConsentRequest {
            access: Self::consent_access(request)?,
            combined_service_indicator: false,
            frequency_per_day: NonZeroU64::new(u64::from(request.frequency_per_day))
                .unwrap_or(NonZeroU64::MIN),
            recurring_indicator: request.recurring,
            valid_until,
        };
        let headers = self.psu_headers(psu);
        let mut builder = xs2a!(self.raw.create_consent().body(body), self, &headers, rid);
        if let Some(uri) = &self.redirect_uri {
            builder = builder.tpp_redirect_uri(uri.to_string());
        }
        let created = self.call("create_consent", rid, builder.send()).await?;
        let id = ConsentId::new(created.consent_id);
        let consent = Consent::new(id.clone(), created.consent_status.into());
        let mut answer =
            CreatedConsent::new(consent, vec![ScaApproach::Redirect, ScaApproach::Decoupled]);
        if let Some(link) = &created.links.sca_redirect {
            answer.challenge = Some(self.redirect_challenge(&id, &link.href)?);
        }
        Ok(answer)
    }

    async fn consent_status(&self, consent: &ConsentId, psu: &Psu) -> Result<ConsentStatus, Error> {
        let rid = request_id();
        let headers = self.psu_headers(psu);
        let builder = xs2a!(
            self.raw.get_consent_status().consent_id(consent.expose()),
            self,
            &headers,
            rid
        );
        let answer = self.call("consent_status", rid, builder.send()).await?;
        Ok(answer.consent_status.into())
    }

    async fn consent(&self, consent: &ConsentId, psu: &Psu) -> Result<Consent, Error> {
        let rid = request_id();
        let headers = self.psu_headers(psu);
        let builder = xs2a!(
            self.raw.get_consent().consent_id(consent.expose()),
            self,
            &headers,
            rid
        );
        let answer = self.call("consent", rid, builder.send()).await?;
        Ok(mapping::consent(consent.clone(), answer))
    }

    async fn start_sca(
        &self,
        consent: &ConsentId,
        method: &ScaMethod,
        psu: &Psu,
    ) -> Result<ScaChallenge, Error> {
        let rid = request_id();
        let headers = self.psu_headers(psu);
        let mut builder = xs2a!(
            self.raw
                .start_consent_authorisation()
                .consent_id(consent.expose())
                .body(raw::StartAuthorisationRequest::default()),
            self,
            &headers,
            rid
        );
        builder = match method {
            ScaMethod::Redirect { redirect_uri } => builder
                .tpp_redirect_uri(redirect_uri.to_string())
                .tpp_redirect_preferred(true),
            ScaMethod::Decoupled => builder.tpp_redirect_preferred(false),
        };
        let started = self.call("start_sca", rid, builder.send()).await?;
        match method {
            ScaMethod::Redirect { .. } => {
                let link = started.links.sca_redirect.as_ref().ok_or_else(|| {
                    Error::new(ErrorKind::UnexpectedResponse, BANK, "start_sca")
                        .with_detail("the bank offered no scaRedirect link")
                        .with_request_id(rid.to_string())
                })?;
                self.redirect_challenge(consent, &link.href)
            }
            ScaMethod::Decoupled => {
                let handle = DecoupledHandle::new(started.authorisation_id)
                    .with_poll_href(started.links.sca_status.href);
                let auto_start_token = started
                    .challenge_data
                    .and_then(|c| c.data.into_iter().next())
                    .map(Secret::new);
                Ok(ScaChallenge::Decoupled {
                    poll_interval: handle.poll_interval(),
                    handle,
                    auto_start_token,
                    message: started.psu_message,
                })
            }
        }
    }

    async fn complete_redirect(
        &self,
        consent: &ConsentId,
        callback: &RedirectCallback,
        psu: &Psu,
    ) -> Result<Session, Error> {
        if !self.check_state(consent, &callback.state, false) {
            return Err(Error::invalid_input(
                BANK,
                "complete_redirect",
                "redirect state does not match a challenge of this consent",
            ));
        }
        let status = self.consent_status(consent, psu).await?;
        if status.is_usable() || status.is_final() {
            self.check_state(consent, &callback.state, true);
        }
        match status {
            ConsentStatus::Valid => Ok(Session::new(consent.clone())),
            ConsentStatus::Rejected => {
                Err(
                    Error::new(ErrorKind::ScaRejected, BANK, "complete_redirect")
                        .with_detail("the consent was rejected"),
                )
            }
            other => Err(Error::new(ErrorKind::ScaFailed, BANK, "complete_redirect")
                .with_detail(format!("the consent is {other} after the redirect"))),
        }
    }

    async fn poll_decoupled(
        &self,
        consent: &ConsentId,
        handle: &DecoupledHandle,
        psu: &Psu,
    ) -> Result<ScaProgress<Session>, Error> {
        let rid = request_id();
        let headers = self.psu_headers(psu);
        let builder = xs2a!(
            self.raw
                .get_consent_authorisation()
                .consent_id(consent.expose())
                .authorisation_id(handle.expose()),
            self,
            &headers,
            rid
        );
        let answer = self.call("poll_decoupled", rid, builder.send()).await?;
        let status = ScaStatus::from_bank_str(&answer.sca_status);
        Ok(if status.is_done() {
            ScaProgress::Done(Session::new(consent.clone()))
        } else if status.is_failed() {
            ScaProgress::Failed {
                reason: Some(answer.sca_status),
            }
        } else {
            ScaProgress::Pending {
                poll_interval: None,
                hint: Some(answer.sca_status),
            }
        })
    }

    async fn delete_consent(&self, consent: &ConsentId, psu: &Psu) -> Result<(), Error> {
        let rid = request_id();
        let headers = self.psu_headers(psu);
        let builder = xs2a!(
            self.raw.delete_consent().consent_id(consent.expose()),
            self,
            &headers,
            rid
        );
        self.call("delete_consent", rid, builder.send()).await
    }
}

#[async_trait]
impl AccountInformation for Swedbank {
    async fn accounts(
        &self,
        session: &Session,
        psu: &Psu,
        with_balances: bool,
    ) -> Result<Vec<Account>, Error> {
        let rid = request_id();
        let headers = self.psu_headers(psu);
        let builder = xs2a!(
            self.raw
                .get_account_list()
                .consent_id(session.consent_id.expose())
                .with_balance(with_balances),
            self,
            &headers,
            rid
        );
        let list = self.call("accounts", rid, builder.send()).await?;
        mapping::accounts(list).map_err(|e| mapping_error("accounts", rid, e))
    }

    async fn account(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        with_balances: bool,
    ) -> Result<Account, Error> {
        let rid = request_id();
        let headers = self.psu_headers(psu);
        let builder = xs2a!(
            self.raw
                .get_account_details()
                .account_id(account.as_str())
                .consent_id(session.consent_id.expose())
                .with_balance(with_balances),
            self,
            &headers,
            rid
        );
        let details = self.call("account", rid, builder.send()).await?;
        Account::try_from(details).map_err(|e| mapping_error("account", rid, e))
    }

    async fn balances(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
    ) -> Result<Vec<Balance>, Error> {
        let rid = request_id();
        let headers = self.psu_headers(psu);
        let builder = xs2a!(
            self.raw
                .get_balances()
                .account_id(account.as_str())
                .consent_id(session.consent_id.expose()),
            self,
            &headers,
            rid
        );
        let answer = self.call("balances", rid, builder.send()).await?;
        mapping::balances(answer.balances).map_err(|e| mapping_error("balances", rid, e))
    }

    fn transactions<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
    ) -> BoxStream<'a, Result<Transaction, Error>> {
        let first = match self.first_transactions_url(account, query) {
            Ok(url) => url,
            Err(error) => return stream::iter([Err(error)]).boxed(),
        };
        let first_page = first.clone();
        Paginator::new(BANK, "transactions").stream_from(first, move |cursor: Option<String>| {
            let first_page = first_page.clone();
            async move {
                let rid = request_id();
                let response = match cursor {
                    Some(url) if url != first_page => {
                        self.next_transactions_page(session, psu, &url, rid).await?
                    }
                    _ => {
                        self.first_transactions_page(session, psu, account, query, rid)
                            .await?
                    }
                };
                let next = response
                    .transactions
                    .links
                    .as_ref()
                    .and_then(|links| links.next.as_ref())
                    .map(|link| self.next_cursor(&link.href, query))
                    .transpose()
                    .map_err(|e| e.with_request_id(rid.to_string()))?;
                let items = mapping::transaction_report(response.transactions)
                    .map_err(|e| mapping_error("transactions", rid, e))?;
                Ok(Page::new(items, next))
            }
        })
    }
}

/// Swedbank's API here has no card accounts: every method is
/// [`ErrorKind::Unsupported`] (the trait's defaults).
impl CardAccountInformation for Swedbank {}
