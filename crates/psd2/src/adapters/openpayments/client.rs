//! The adapter: request plumbing (token, headers, one retry on 401, tracing) and the trait
//! implementations.

use crate::adapters::common::{FromRaw, TryFromRaw};
use std::future::Future;
use std::net::IpAddr;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use progenitor_client::ResponseValue;
use psd2_hooks::Hooks;
use psd2_raw_openpayments::Client as RawClient;
use psd2_raw_openpayments::types as raw;
use tracing::Instrument;
use url::Url;

use crate::account::{Account, AccountId};
use crate::adapters::common::headers::set_some;
use crate::adapters::common::listing::{self, Entries, wanted};
use crate::adapters::common::{
    BearerHook, Calls, RedirectStates, TokenSlot, check_account_id, info, map_raw_error,
};
use crate::api::{AccountInformation, Bank, Consents, CreatedConsent, Session};
use crate::balance::Balance;
use crate::consent::{Consent, ConsentId, ConsentRequest, ConsentStatus};
use crate::entry::{EntryError, TransactionPage};
use crate::error::{BankMessage, Error, ErrorKind};
use crate::pagination::PageCursor;
use crate::pagination::{LazyPage, Paginator, continuation_key};
use crate::psu::Psu;
use crate::retry::{CallInfo, RetryMode};
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
use super::token::PlatformToken;

/// A page's entries, mapped one by one as they are pulled (or already mapped).
type EntryItems = Box<dyn Iterator<Item = Result<Transaction, EntryError>> + Send>;

/// Decodes an answer from its body.
type Decode<U> = fn(&[u8]) -> Result<U, Error>;

/// A transaction list answer: decoded by the raw client, or entry by entry from its body.
enum Listed {
    Typed(raw::TransactionsResponse),
    Body(crate::transaction::ListedPage),
}

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
    tokens: PlatformToken,
    slot: TokenSlot,
    calls: Calls,
    /// Redirect challenges handed out: their state, per consent.
    redirect_states: RedirectStates<()>,
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
        set_some!(
            $builder.x_request_id($rid).x_bic_fi($bic),
            psu_id = h.id,
            psu_corporate_id = h.corporate_id,
            psu_ip_address = h.ip,
        )
    }};
    ($builder:expr, $bic:expr, $h:expr, $rid:expr, ua) => {{
        let h: PsuHeaders<'_> = $h;
        set_some!(
            headers!($builder, $bic, h, $rid),
            psu_user_agent = h.user_agent
        )
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

impl OpenPayments {
    /// Builds the adapter: checks the configuration and builds the HTTP client. No request
    /// is sent until the first call (which fetches the platform token).
    pub fn new(config: OpenPaymentsConfig) -> Result<Self, Error> {
        config.validate()?;
        let http = config.transport.build(BANK)?;
        let slot = TokenSlot::default();
        let hooks = Hooks::new().with(BearerHook { slot: slot.clone() });
        let raw = RawClient::new_with_client(&config.api_base(), http.clone(), hooks);
        let tokens = PlatformToken::new(
            http,
            config.token_endpoint()?,
            config.client_id.clone(),
            config.client_secret.clone(),
            config.scope.clone(),
        );
        Ok(Self {
            calls: Calls::new(config.retry.clone(), config.attempt_hook.clone()),
            config,
            raw,
            tokens,
            slot,
            redirect_states: RedirectStates::default(),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &OpenPaymentsConfig {
        &self.config
    }

    fn bic(&self) -> &str {
        &self.config.bic
    }

    /// The transaction list request for the page at `key` (`None`: the first page), as
    /// both listings send it (decoded by the raw types, or read as bytes).
    fn transactions_request<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &TransactionQuery,
        key: Option<&'a str>,
        rid: uuid::Uuid,
    ) -> psd2_raw_openpayments::builder::GetTransactionList<'a> {
        let (cid, h, bic) = (session.consent_id.expose(), PsuHeaders::of(psu), self.bic());
        let b = headers!(self.raw.get_transaction_list(), bic, h, rid, ua)
            .consent_id(cid)
            .account_id(account.as_str())
            .booking_status(pipelined::raw_booking(query.booking_status));
        set_some!(
            b,
            date_from = query.date_from,
            date_to = query.date_to,
            continuation_key = key,
        )
    }

    /// Sends one API call with the platform token under the retry policy, each attempt with
    /// a fresh `X-Request-ID`; on a 401 renews the token once and sends again, never more.
    async fn call<T, F, Fut>(
        &self,
        info: CallInfo<'_>,
        mode: RetryMode,
        secrets: Secrets<'_>,
        send: F,
    ) -> Result<T, Error>
    where
        F: Fn(uuid::Uuid) -> Fut,
        Fut: Future<Output = RawResult<T>>,
    {
        self.call_as(info, mode, secrets, send, |value, _| Ok(value), None)
            .await
    }

    /// [`OpenPayments::call`] with the answer taken by `accept` (given the attempt's request
    /// id) inside the retry loop, so an answer it refuses as unreadable is sent again like
    /// any transient failure (its error gets the call's secrets hidden and the request id);
    /// with `fallback`, an answer the raw client cannot decode because a value has the wrong
    /// type or form is handed to it as the body (listings decode such an answer entry by
    /// entry).
    async fn call_as<T, U, F, Fut, A>(
        &self,
        info: CallInfo<'_>,
        mode: RetryMode,
        secrets: Secrets<'_>,
        send: F,
        accept: A,
        fallback: Option<Decode<U>>,
    ) -> Result<U, Error>
    where
        F: Fn(uuid::Uuid) -> Fut,
        Fut: Future<Output = RawResult<T>>,
        A: Fn(T, &str) -> Result<U, Error>,
    {
        let operation = info.operation;
        let mut renewed = false;
        loop {
            let token = self.tokens.get(&self.calls).await?;
            self.slot.set(Some(token.expose().to_owned()));
            let result = self
                .calls
                .run(info, mode, |rid| {
                    let span = tracing::debug_span!("psd2_call", bank = BANK, operation, request_id = %rid);
                    let attempt = send(rid).instrument(span);
                    let accept = &accept;
                    async move {
                        match attempt.await {
                            Ok(value) => {
                                let status = value.status().as_u16();
                                let rid = rid.to_string();
                                accept(value.into_inner(), &rid)
                                    .map(|value| (value, status))
                                    .map_err(|e| scrub(e, secrets).with_request_id(rid))
                            }
                            Err(progenitor_client::Error::InvalidResponsePayload(body, cause))
                                if fallback.is_some()
                                    && cause.classify() == serde_json::error::Category::Data =>
                            {
                                let decode = fallback.ok_or_else(|| {
                                    Error::new(ErrorKind::UnexpectedResponse, BANK, operation)
                                })?;
                                decode(&body)
                                    .map(|value| (value, 200))
                                    .map_err(|e| scrub(e, secrets).with_request_id(rid.to_string()))
                            }
                            Err(e) => Err(scrub(
                                map_raw_error(BANK, operation, &rid.to_string(), e).await,
                                secrets,
                            )),
                        }
                    }
                })
                .await;
            match result {
                Err(e) if !renewed && e.status == Some(401) => {
                    tracing::debug!(
                        bank = BANK,
                        operation,
                        "unauthorized: renewing the platform token and retrying once"
                    );
                    self.tokens.invalidate(&token).await;
                    renewed = true;
                }
                other => return other,
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
                info(BANK, "consent_status", psu, None),
                RetryMode::Idempotent,
                Secrets::of(Some(consent), psu),
                move |rid| {
                    headers!(self.raw.get_consent_status(), bic, h, rid, ua)
                        .consent_id(cid)
                        .send()
                },
            )
            .await?;
        Ok(ConsentStatus::from_raw(&answer.consent_status))
    }

    /// Polls the consent status until it is `valid` (Ok) or final (rejected, expired, ...:
    /// [`ErrorKind::ScaRejected`]), at most `config.consent_wait` (then
    /// [`ErrorKind::ScaFailed`], see [`crate::sca::is_sca_timeout`]).
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
            // The bank answered every poll: an SCA that did not finish in time, not a
            // network timeout.
            Err(_) => Err(
                Error::new(ErrorKind::ScaFailed, BANK, operation).with_detail(format!(
                    "{}: the consent was still not valid after {} s",
                    crate::sca::SCA_TIMED_OUT,
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
        let info = info(BANK, "start_sca", psu, None);
        self.call(
            info,
            RetryMode::Never,
            Secrets::of(Some(consent), psu),
            move |rid| {
                headers!(self.raw.start_consent_authorisation(), bic, h, rid, ua)
                    .consent_id(cid)
                    .body(body.clone())
                    .send()
            },
        )
        .await
    }

    /// One page at `cursor`: its entries (mapped one by one as they are pulled, entries
    /// outside the query's booking status dropped) and the next page's continuation key.
    /// An answer the raw client cannot decode as a whole only because of its entries is
    /// decoded entry by entry.
    async fn transaction_page(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        query: &TransactionQuery,
        cursor: Option<String>,
    ) -> Result<(EntryItems, Option<String>), Error> {
        const OP: &str = "transactions";
        let key = cursor.as_deref();
        let answer = self
            .call_as(
                info(BANK, OP, psu, Some(account)),
                RetryMode::Idempotent,
                Secrets::of(Some(&session.consent_id), psu),
                move |rid| {
                    self.transactions_request(session, psu, account, query, key, rid)
                        .send()
                },
                |answer, _| Ok(Listed::Typed(answer)),
                Some(|body| mapping::transactions_from_body(body).map(Listed::Body)),
            )
            .await?;
        let (items, links): (EntryItems, _) = match answer {
            Listed::Typed(answer) => {
                let (transactions, links) = mapped(OP, mapping::into_mapped_transactions(answer))?;
                (Box::new(transactions), links)
            }
            Listed::Body(page) => (Box::new(page.entries.into_iter()), page.links),
        };
        // Any `next` link, even an empty one (which then fails as a link without a key).
        let next = match links.get("next") {
            None => None,
            Some(link) => Some(continuation_key(&link.href).ok_or_else(|| {
                Error::new(ErrorKind::Pagination, BANK, OP)
                    .with_detail("a next link without a continuationKey")
            })?),
        };
        let booking = query.booking_status;
        let items = items.filter(move |e| e.as_ref().map_or(true, |t| wanted(booking, &t.status)));
        if !self.config.fetch_transaction_details {
            return Ok((Box::new(items), next));
        }
        let mut entries: Vec<Result<Transaction, EntryError>> = items.collect();
        for tx in entries.iter_mut().flatten() {
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
        Ok((Box::new(entries.into_iter()), next))
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
                info(BANK, OP, psu, Some(account)),
                RetryMode::Idempotent,
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

mod impls;
mod pipelined;
