//! The adapter: request plumbing (token, headers, one retry on 401, tracing) and the trait
//! implementations.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Mutex;

use async_trait::async_trait;
use futures::stream::BoxStream;
use progenitor_client::ResponseValue;
use psd2_hooks::Hooks;
use psd2_raw_openpayments::Client as RawClient;
use psd2_raw_openpayments::types as raw;
use tracing::Instrument;
use url::Url;

use crate::account::{Account, AccountId};
use crate::adapters::common::{BearerHook, TokenSlot, map_raw_error, request_id};
use crate::api::{
    AccountInformation, Bank, CardAccountInformation, Consents, CreatedConsent, Session,
};
use crate::balance::Balance;
use crate::consent::{Consent, ConsentId, ConsentRequest, ConsentStatus};
use crate::error::{BankMessage, Error, ErrorKind};
use crate::pagination::{LazyPage, Paginator, continuation_key};
use crate::psu::Psu;
use crate::sca::{
    DecoupledHandle, RedirectCallback, ScaChallenge, ScaMethod, ScaProgress, ScaStatus,
};
use crate::secret::Secret;
use crate::transaction::{
    BookingStatus, Transaction, TransactionId, TransactionQuery, TransactionStatus,
};

use super::BANK;
use super::config::OpenPaymentsConfig;
use super::mapping::{self, mapped};
use super::token::TokenCache;

/// A page of the transaction stream: mapped entry by entry, or already mapped (and enriched
/// with the details call).
type TransactionItems = Box<dyn Iterator<Item = Result<Transaction, Error>> + Send>;

type RawResult<T> = Result<ResponseValue<T>, progenitor_client::Error<raw::ErrorResponse>>;

/// Days a consent is asked for when the request names no end date.
pub const DEFAULT_CONSENT_DAYS: u64 = 90;

/// The Open Payments adapter (one platform client, one bank chosen by BIC).
///
/// One value serves many PSUs at once: the PSU and the consent travel with every call
/// ([`Psu`], [`Session`]); the only shared state is the platform token and the `state`
/// values of redirect SCAs started by this value.
pub struct OpenPayments {
    config: OpenPaymentsConfig,
    raw: RawClient,
    tokens: TokenCache,
    slot: TokenSlot,
    redirect_states: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for OpenPayments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenPayments")
            .field("config", &self.config)
            .field("tokens", &self.tokens)
            .finish_non_exhaustive()
    }
}

/// The PSU headers of one call.
#[derive(Clone, Copy)]
struct PsuHeaders<'a> {
    id: Option<&'a str>,
    corporate_id: Option<&'a str>,
    ip: Option<std::net::Ipv4Addr>,
    user_agent: Option<&'a str>,
}

impl<'a> PsuHeaders<'a> {
    /// `PSU-IP-Address` and `PSU-User-Agent` only when the PSU is present. The raw API
    /// takes IPv4 only; an IPv6 address is not forwarded.
    fn of(psu: &'a Psu) -> Self {
        let present = psu.is_present();
        Self {
            id: psu
                .id
                .as_ref()
                .map(|id| id.expose())
                .filter(|s| !s.is_empty()),
            corporate_id: psu.corporate_id.as_deref().filter(|s| !s.is_empty()),
            ip: match psu.ip_address {
                Some(IpAddr::V4(ip)) if present => Some(ip),
                _ => None,
            },
            user_agent: psu.user_agent.as_deref().filter(|_| present),
        }
    }
}

/// Sets `X-Request-ID`, `X-BicFi`, `PSU-ID`, `PSU-Corporate-ID`, `PSU-IP-Address` (and, with
/// `ua`, `PSU-User-Agent`) on a raw request builder.
macro_rules! headers {
    ($builder:expr, $bic:expr, $h:expr, $rid:expr) => {{
        let h: PsuHeaders<'_> = $h;
        let mut b = $builder.x_request_id($rid).x_bic_fi($bic);
        if let Some(v) = h.id {
            b = b.psu_id(v);
        }
        if let Some(v) = h.corporate_id {
            b = b.psu_corporate_id(v);
        }
        if let Some(v) = h.ip {
            b = b.psu_ip_address(v);
        }
        b
    }};
    ($builder:expr, $bic:expr, $h:expr, $rid:expr, ua) => {{
        let h: PsuHeaders<'_> = $h;
        let mut b = headers!($builder, $bic, h, $rid);
        if let Some(v) = h.user_agent {
            b = b.psu_user_agent(v);
        }
        b
    }};
}

/// The secret values of one call (consent id, PSU id) that must not come back inside an
/// error: banks echo them in message texts.
#[derive(Clone, Copy, Default)]
struct Secrets<'a>([Option<&'a str>; 2]);

impl<'a> Secrets<'a> {
    fn of(consent: Option<&'a ConsentId>, psu: &'a Psu) -> Self {
        Self([
            consent.map(|c| c.expose()),
            psu.id.as_ref().map(|id| id.expose()),
        ])
    }

    fn hide(&self, text: &str) -> Option<String> {
        let mut out: Option<String> = None;
        for secret in self.0.iter().flatten().filter(|s| !s.is_empty()) {
            let current = out.as_deref().unwrap_or(text);
            if current.contains(secret) {
                out = Some(current.replace(secret, crate::secret::REDACTED));
            }
        }
        out
    }
}

/// Replaces the call's secrets in the bank's message texts and the kept raw body (the
/// error is rebuilt only when one of them holds a secret).
fn scrub(error: Error, secrets: Secrets<'_>) -> Error {
    let texts = error
        .bank_messages()
        .iter()
        .flat_map(|m| [m.text.as_deref(), m.path.as_deref(), m.code.as_deref()]);
    let dirty = texts
        .chain(std::iter::once(error.raw_body()))
        .flatten()
        .any(|t| secrets.hide(t).is_some());
    if !dirty {
        return error;
    }
    let mut clean = Error::new(error.kind.clone(), error.bank, error.operation);
    if let Some(status) = error.status {
        clean = clean.with_status(status);
    }
    for message in error.bank_messages() {
        let mut message = message.clone();
        for field in [&mut message.text, &mut message.path, &mut message.code] {
            if let Some(hidden) = field.as_deref().and_then(|t| secrets.hide(t)) {
                *field = Some(hidden);
            }
        }
        clean = clean.with_message(message);
    }
    if let Some(id) = error.request_id() {
        clean = clean.with_request_id(id);
    }
    if let Some(detail) = error.detail() {
        clean = clean.with_detail(detail);
    }
    if let Some(body) = error.raw_body() {
        let body = secrets.hide(body).unwrap_or_else(|| body.to_owned());
        clean = clean.with_raw_body(body.as_bytes());
    }
    clean
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(guard) => guard,
        Err(poisoned) => poisoned.into_inner(),
    }
}

impl OpenPayments {
    /// Builds the adapter: checks the configuration and builds the HTTP client. No request
    /// is sent until the first call (which fetches the platform token).
    pub fn new(config: OpenPaymentsConfig) -> Result<Self, Error> {
        config.validate()?;
        let http = config.transport.build(BANK)?;
        let slot = TokenSlot::default();
        let hooks = Hooks::new().with(BearerHook { slot: slot.clone() });
        let raw = RawClient::new_with_client(&config.api_base(), http.clone(), hooks);
        let tokens = TokenCache::new(
            http,
            config.token_endpoint()?,
            config.client_id.clone(),
            config.client_secret.clone(),
            config.scope.clone(),
        );
        Ok(Self {
            config,
            raw,
            tokens,
            slot,
            redirect_states: Mutex::new(HashMap::new()),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &OpenPaymentsConfig {
        &self.config
    }

    fn bic(&self) -> &str {
        &self.config.bic
    }

    /// Sends one API call with the platform token and a fresh `X-Request-ID`; on a 401
    /// renews the token once and sends again (with a new request id), never more.
    async fn call<'s, T, F, Fut>(
        &'s self,
        operation: &'static str,
        secrets: Secrets<'_>,
        send: F,
    ) -> Result<T, Error>
    where
        F: Fn(uuid::Uuid) -> Fut + Send + Sync + 's,
        Fut: Future<Output = RawResult<T>> + Send + 's,
        T: Send,
    {
        let mut renewed = false;
        loop {
            let token = self.tokens.get().await?;
            self.slot.set(Some(token.expose().to_owned()));
            let rid = request_id();
            let span = tracing::debug_span!("psd2_call", bank = BANK, operation, request_id = %rid);
            let result = send(rid).instrument(span).await;
            match result {
                Ok(value) => {
                    tracing::debug!(
                        bank = BANK,
                        operation,
                        status = value.status().as_u16(),
                        request_id = %rid,
                        "call succeeded"
                    );
                    return Ok(value.into_inner());
                }
                Err(e) if !renewed && e.status().map(|s| s.as_u16()) == Some(401) => {
                    tracing::debug!(
                        bank = BANK,
                        operation,
                        status = 401u16,
                        request_id = %rid,
                        "unauthorized: renewing the platform token and retrying once"
                    );
                    self.tokens.invalidate(&token).await;
                    renewed = true;
                }
                Err(e) => {
                    let error = scrub(
                        map_raw_error(BANK, operation, &rid.to_string(), e).await,
                        secrets,
                    );
                    tracing::debug!(
                        bank = BANK,
                        operation,
                        status = error.status,
                        kind = %error.kind,
                        request_id = %rid,
                        "call failed"
                    );
                    return Err(error);
                }
            }
        }
    }

    async fn fetch_consent_status(
        &self,
        consent: &ConsentId,
        psu: &Psu,
    ) -> Result<ConsentStatus, Error> {
        let (cid, h, bic) = (consent.expose(), PsuHeaders::of(psu), self.bic());
        let answer = self
            .call(
                "consent_status",
                Secrets::of(Some(consent), psu),
                move |rid| {
                    headers!(self.raw.get_consent_status(), bic, h, rid, ua)
                        .consent_id(cid)
                        .send()
                },
            )
            .await?;
        Ok(ConsentStatus::from(&answer.consent_status))
    }

    /// Polls the consent status until it is `valid` (Ok) or final (rejected, expired, ...:
    /// [`ErrorKind::ScaRejected`]), at most `config.consent_wait`.
    async fn wait_for_valid_consent(
        &self,
        consent: &ConsentId,
        psu: &Psu,
        operation: &'static str,
    ) -> Result<(), Error> {
        let wait = async {
            loop {
                let status = self.fetch_consent_status(consent, psu).await?;
                if status.is_usable() {
                    return Ok(());
                }
                if status.is_final() {
                    return Err(Error::new(ErrorKind::ScaRejected, BANK, operation)
                        .with_message(BankMessage::code_only(status.as_str()))
                        .with_detail("the consent did not become valid"));
                }
                tokio::time::sleep(self.config.poll_interval).await;
            }
        };
        match tokio::time::timeout(self.config.consent_wait, wait).await {
            Ok(result) => result,
            Err(_) => Err(
                Error::new(ErrorKind::Timeout, BANK, operation).with_detail(format!(
                    "the consent was not valid after {}s",
                    self.config.consent_wait.as_secs()
                )),
            ),
        }
    }

    /// Resolves a bank href (absolute, or relative to the API base).
    fn resolve(&self, href: &str, operation: &'static str) -> Result<Url, Error> {
        let parsed = if href.starts_with('/') {
            Url::parse(&format!("{}{}", self.config.api_base(), href))
        } else {
            Url::parse(href).or_else(|_| self.config.base_url.join(href))
        };
        parsed.map_err(|_| {
            Error::new(ErrorKind::UnexpectedResponse, BANK, operation)
                .with_detail("the bank sent an unusable SCA link")
        })
    }

    async fn start_authorisation(
        &self,
        consent: &ConsentId,
        method_id: &str,
        psu: &Psu,
    ) -> Result<raw::StartAuthorisationResponse, Error> {
        let (cid, h, bic) = (consent.expose(), PsuHeaders::of(psu), self.bic());
        let body = raw::StartAuthorisationRequest {
            authentication_method_id: method_id.to_owned(),
        };
        self.call("start_sca", Secrets::of(Some(consent), psu), move |rid| {
            headers!(self.raw.start_consent_authorisation(), bic, h, rid, ua)
                .consent_id(cid)
                .body(body.clone())
                .send()
        })
        .await
    }

    async fn transaction_page(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        query: &TransactionQuery,
        cursor: Option<String>,
    ) -> Result<LazyPage<TransactionItems, String>, Error> {
        const OP: &str = "transactions";
        let (cid, h, bic) = (session.consent_id.expose(), PsuHeaders::of(psu), self.bic());
        let booking = match query.booking_status {
            BookingStatus::Booked => raw::BookingStatus::Booked,
            BookingStatus::Pending => raw::BookingStatus::Pending,
            BookingStatus::Both => raw::BookingStatus::Both,
        };
        let key = cursor.as_deref();
        let answer = self
            .call(
                OP,
                Secrets::of(Some(&session.consent_id), psu),
                move |rid| {
                    let mut b = headers!(self.raw.get_transaction_list(), bic, h, rid, ua)
                        .consent_id(cid)
                        .account_id(account.as_str())
                        .booking_status(booking);
                    if let Some(from) = query.date_from {
                        b = b.date_from(from);
                    }
                    if let Some(to) = query.date_to {
                        b = b.date_to(to);
                    }
                    if let Some(key) = key {
                        b = b.continuation_key(key);
                    }
                    b.send()
                },
            )
            .await?;
        let (transactions, links) = mapped(OP, mapping::into_mapped_transactions(answer))?;
        // Any `next` link, even an empty one (which then fails as a link without a key).
        let next = match links.get("next") {
            None => None,
            Some(link) => Some(continuation_key(&link.href).ok_or_else(|| {
                Error::new(ErrorKind::Pagination, BANK, OP)
                    .with_detail("a next link without a continuationKey")
            })?),
        };
        if !self.config.fetch_transaction_details {
            // Each entry is mapped when the stream's consumer pulls it.
            let items = transactions.map(|tx| mapped(OP, tx));
            return Ok(LazyPage::new(Box::new(items), next));
        }
        let mut items = mapped(OP, transactions.collect_page())?;
        for tx in &mut items {
            let Some(id) = tx.transaction_id.clone() else {
                continue;
            };
            if tx.details_href.is_none() {
                continue;
            }
            let details = self
                .details(session, psu, account, &id, tx.status.clone())
                .await?;
            tx.merge_details(details);
        }
        Ok(LazyPage::new(Box::new(items.into_iter().map(Ok)), next))
    }

    async fn details(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        transaction: &TransactionId,
        status: TransactionStatus,
    ) -> Result<Transaction, Error> {
        const OP: &str = "transaction_details";
        let (cid, h, bic) = (session.consent_id.expose(), PsuHeaders::of(psu), self.bic());
        let answer = self
            .call(
                OP,
                Secrets::of(Some(&session.consent_id), psu),
                move |rid| {
                    headers!(self.raw.get_transaction_details(), bic, h, rid, ua)
                        .consent_id(cid)
                        .account_id(account.as_str())
                        .transaction_id(transaction.as_str())
                        .send()
                },
            )
            .await?;
        mapped(OP, mapping::into_transaction(answer, status))
    }
}

impl Bank for OpenPayments {
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
impl Consents for OpenPayments {
    async fn create_consent(
        &self,
        request: &ConsentRequest,
        psu: &Psu,
    ) -> Result<CreatedConsent, Error> {
        const OP: &str = "create_consent";
        let default_end = chrono::Utc::now().date_naive() + chrono::Days::new(DEFAULT_CONSENT_DAYS);
        let body = mapping::consent_request(request, default_end)
            .map_err(|why| Error::invalid_input(BANK, OP, why))?;
        let (h, bic) = (PsuHeaders::of(psu), self.bic());
        let sent = body.clone();
        let answer = self
            .call(OP, Secrets::of(None, psu), move |rid| {
                headers!(self.raw.create_consent(), bic, h, rid)
                    .body(body.clone())
                    .send()
            })
            .await?;
        Ok(mapping::created(
            &answer,
            &sent,
            &self.config.redirect_method_id,
        ))
    }

    async fn consent_status(&self, consent: &ConsentId, psu: &Psu) -> Result<ConsentStatus, Error> {
        self.fetch_consent_status(consent, psu).await
    }

    async fn consent(&self, consent: &ConsentId, psu: &Psu) -> Result<Consent, Error> {
        let (cid, h, bic) = (consent.expose(), PsuHeaders::of(psu), self.bic());
        let answer = self
            .call("consent", Secrets::of(Some(consent), psu), move |rid| {
                headers!(self.raw.get_consent(), bic, h, rid, ua)
                    .consent_id(cid)
                    .send()
            })
            .await?;
        Ok(mapping::consent_information(consent, &answer))
    }

    async fn start_sca(
        &self,
        consent: &ConsentId,
        method: &ScaMethod,
        psu: &Psu,
    ) -> Result<ScaChallenge, Error> {
        const OP: &str = "start_sca";
        match method {
            ScaMethod::Decoupled => {
                let answer = self
                    .start_authorisation(consent, &self.config.decoupled_method_id, psu)
                    .await?;
                let mut handle = DecoupledHandle::new(answer.authorisation_id)
                    .with_poll_interval(self.config.poll_interval);
                if let Some(href) = answer.links.as_ref().and_then(|l| l.sca_status.as_ref()) {
                    handle = handle.with_poll_href(href.href.clone());
                }
                let auto_start_token = answer
                    .challenge_data
                    .as_ref()
                    .and_then(|c| c.data.first())
                    .filter(|t| !t.is_empty())
                    .map(|t| Secret::new(t.clone()));
                Ok(ScaChallenge::Decoupled {
                    handle,
                    auto_start_token,
                    poll_interval: self.config.poll_interval,
                    message: None,
                })
            }
            ScaMethod::Redirect { redirect_uri } => {
                let answer = self
                    .start_authorisation(consent, &self.config.redirect_method_id, psu)
                    .await?;
                let href = answer
                    .links
                    .as_ref()
                    .and_then(|l| l.sca_redirect.as_ref())
                    .map(|h| h.href.clone())
                    .ok_or_else(|| {
                        Error::new(ErrorKind::UnexpectedResponse, BANK, OP).with_detail(
                            "the bank answered redirect SCA without an scaRedirect link",
                        )
                    })?;
                let mut url = self.resolve(&href, OP)?;
                let state = uuid::Uuid::new_v4().simple().to_string();
                let has_redirect = url.query_pairs().any(|(k, _)| k == "redirect_uri");
                {
                    let mut pairs = url.query_pairs_mut();
                    pairs.append_pair("state", &state);
                    if !has_redirect {
                        pairs.append_pair("redirect_uri", redirect_uri.as_str());
                    }
                }
                lock(&self.redirect_states).insert(consent.expose().to_owned(), state.clone());
                Ok(ScaChallenge::Redirect { url, state })
            }
        }
    }

    /// Checks `state` against the one [`Consents::start_sca`] issued for this consent (when
    /// this adapter value started it), then polls the consent status until `valid`.
    /// Open Payments issues no token: the session is the consent id; the code is unused.
    async fn complete_redirect(
        &self,
        consent: &ConsentId,
        callback: &RedirectCallback,
        psu: &Psu,
    ) -> Result<Session, Error> {
        const OP: &str = "complete_redirect";
        let expected = lock(&self.redirect_states).get(consent.expose()).cloned();
        if let Some(expected) = expected {
            callback.verify_state(&expected).map_err(|_| {
                Error::invalid_input(BANK, OP, "redirect state does not match the challenge")
            })?;
        }
        self.wait_for_valid_consent(consent, psu, OP).await?;
        lock(&self.redirect_states).remove(consent.expose());
        Ok(Session::new(consent.clone()))
    }

    async fn poll_decoupled(
        &self,
        consent: &ConsentId,
        handle: &DecoupledHandle,
        psu: &Psu,
    ) -> Result<ScaProgress<Session>, Error> {
        let (cid, aid, h, bic) = (
            consent.expose(),
            handle.expose(),
            PsuHeaders::of(psu),
            self.bic(),
        );
        let answer = self
            .call(
                "poll_decoupled",
                Secrets::of(Some(consent), psu),
                move |rid| {
                    headers!(self.raw.get_consent_authorisation(), bic, h, rid, ua)
                        .consent_id(cid)
                        .authorisation_id(aid)
                        .send()
                },
            )
            .await?;
        let sca = ScaStatus::from(&answer.sca_status);
        if sca.is_failed() {
            return Ok(ScaProgress::Failed {
                reason: Some(sca.as_str().to_owned()),
            });
        }
        if !sca.is_done() {
            return Ok(ScaProgress::Pending {
                poll_interval: None,
                hint: Some(sca.as_str().to_owned()),
            });
        }
        // SCA finished: the consent must be valid before it can be used.
        let status = self.fetch_consent_status(consent, psu).await?;
        Ok(if status.is_usable() {
            ScaProgress::Done(Session::new(consent.clone()))
        } else if status.is_final() {
            ScaProgress::Failed {
                reason: Some(status.as_str().to_owned()),
            }
        } else {
            ScaProgress::Pending {
                poll_interval: None,
                hint: Some(format!("consent {}", status.as_str())),
            }
        })
    }

    async fn delete_consent(&self, consent: &ConsentId, psu: &Psu) -> Result<(), Error> {
        let (cid, h, bic) = (consent.expose(), PsuHeaders::of(psu), self.bic());
        self.call(
            "delete_consent",
            Secrets::of(Some(consent), psu),
            move |rid| {
                headers!(self.raw.delete_consent(), bic, h, rid, ua)
                    .consent_id(cid)
                    .send()
            },
        )
        .await?;
        lock(&self.redirect_states).remove(consent.expose());
        Ok(())
    }
}

#[async_trait]
impl AccountInformation for OpenPayments {
    async fn accounts(
        &self,
        session: &Session,
        psu: &Psu,
        with_balances: bool,
    ) -> Result<Vec<Account>, Error> {
        const OP: &str = "accounts";
        let (cid, h, bic) = (session.consent_id.expose(), PsuHeaders::of(psu), self.bic());
        let answer = self
            .call(
                OP,
                Secrets::of(Some(&session.consent_id), psu),
                move |rid| {
                    headers!(self.raw.get_account_list(), bic, h, rid, ua)
                        .consent_id(cid)
                        .with_balance(with_balances)
                        .send()
                },
            )
            .await?;
        mapped(
            OP,
            answer
                .accounts
                .iter()
                .map(Account::try_from)
                .collect::<Result<_, _>>(),
        )
    }

    async fn account(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        with_balances: bool,
    ) -> Result<Account, Error> {
        const OP: &str = "account";
        let (cid, h, bic) = (session.consent_id.expose(), PsuHeaders::of(psu), self.bic());
        let answer = self
            .call(
                OP,
                Secrets::of(Some(&session.consent_id), psu),
                move |rid| {
                    headers!(self.raw.get_account_details(), bic, h, rid, ua)
                        .consent_id(cid)
                        .account_id(account.as_str())
                        .with_balance(with_balances)
                        .send()
                },
            )
            .await?;
        mapped(OP, Account::try_from(&answer))
    }

    async fn balances(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
    ) -> Result<Vec<Balance>, Error> {
        const OP: &str = "balances";
        let (cid, h, bic) = (session.consent_id.expose(), PsuHeaders::of(psu), self.bic());
        let answer = self
            .call(
                OP,
                Secrets::of(Some(&session.consent_id), psu),
                move |rid| {
                    headers!(self.raw.get_balances(), bic, h, rid, ua)
                        .consent_id(cid)
                        .account_id(account.as_str())
                        .send()
                },
            )
            .await?;
        mapped(OP, mapping::balances(&answer.balances))
    }

    fn transactions<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
    ) -> BoxStream<'a, Result<Transaction, Error>> {
        Paginator::new(BANK, "transactions").stream_lazy(move |cursor: Option<String>| async move {
            self.transaction_page(session, psu, account, query, cursor)
                .await
        })
    }

    /// The details call alone. Its answer has no booking status: a transaction with a
    /// booking date is reported `booked`, one without `pending`.
    async fn transaction_details(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        transaction: &TransactionId,
    ) -> Result<Transaction, Error> {
        let mut tx = self
            .details(
                session,
                psu,
                account,
                transaction,
                TransactionStatus::Booked,
            )
            .await?;
        if tx.booking_date.is_none() {
            tx.status = TransactionStatus::Pending;
        }
        Ok(tx)
    }
}

impl CardAccountInformation for OpenPayments {}
