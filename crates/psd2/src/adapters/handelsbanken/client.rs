//! The [`Handelsbanken`] adapter: calls, tokens, retries, and the trait implementations.
//!
//! Every request goes through [`Calls::run`] (the bank's retry policy and attempt hooks),
//! inside the token logic: a retried attempt reuses the token, a 401 renews it once.

use crate::adapters::common::{FromRaw, TryFromRaw};
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::Utc;
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use progenitor_client::ResponseValue;
use psd2_raw_handelsbanken::{Client as RawClient, types as raw};
use serde::Serialize;
use url::Url;
use uuid::Uuid;

use crate::account::{Account, AccountId};
use crate::adapters::common::errors::invalid_payload;
use crate::adapters::common::headers::set_some;
use crate::adapters::common::listing::{self, Entries};
use crate::adapters::common::sync::lock;
use crate::adapters::common::tokens::{
    Renewed, TokenCache, UserTokenCache, UserTokens, lifetime_from_secs,
};
use crate::adapters::common::{
    BearerHook, Calls, RedirectStates, check_account_id, info, map_raw_error,
};
use crate::api::{
    AccountInformation, AccountList, Bank, CardAccountInformation, Consents, CreatedConsent,
    MissingBalances, Session,
};
use crate::balance::Balance;
use crate::card_account::CardAccount;
use crate::consent::{Consent, ConsentRequest, ConsentScope, ConsentStatus};
use crate::entry::TransactionPage;
use crate::error::{BankMessage, Error, ErrorKind};
use crate::pagination::{PageCursor, continuation_key};
use crate::psu::Psu;
use crate::retry::{CallInfo, RetryMode};
use crate::sca::{DecoupledHandle, RedirectCallback, ScaChallenge, ScaMethod, ScaProgress};
use crate::secret::{AccessToken, ConsentId, RefreshToken};
use crate::transaction::{BookingStatus, Transaction, TransactionQuery};

use super::config::HandelsbankenConfig;
use super::mapping::{self, BANK, TokenGrant};

/// Consent flows (`TPP-Transaction-ID` per consent) remembered per adapter value.
const MAX_FLOWS: usize = 4096;

/// The Handelsbanken adapter. One value serves many PSUs and consents at once.
///
/// `Debug` shows the base URL, client id and country only.
pub struct Handelsbanken {
    config: HandelsbankenConfig,
    raw: RawClient,
    authorize_url: Url,
    calls: Calls,
    client_token: TokenCache,
    psu_tokens: UserTokenCache,
    /// `TPP-Transaction-ID` per consent flow, keyed by consent id.
    flows: Mutex<HashMap<String, Uuid>>,
    /// Started redirect SCAs: their state and redirect URI, per consent.
    redirects: RedirectStates<Url>,
}

impl fmt::Debug for Handelsbanken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handelsbanken")
            .field("base_url", &self.config.base_url.as_str())
            .field("client_id", &self.config.client_id)
            .field("country", &self.config.country)
            .finish_non_exhaustive()
    }
}

fn bearer(token: &AccessToken) -> String {
    format!("Bearer {}", token.expose())
}

/// Sets the headers every operation takes: `Authorization`, `Country`, `TPP-Request-ID`,
/// `TPP-Transaction-ID`, `X-IBM-Client-Id`, and `PSU-IP-Address` when the PSU is present.
macro_rules! with_headers {
    ($builder:expr, $adapter:expr, $auth:expr, $rid:expr, $flow:expr, $psu:expr) => {
        set_some!(
            $builder
                .authorization($auth)
                .country($adapter.config.country.as_str())
                .tpp_request_id($rid)
                .tpp_transaction_id($flow)
                .x_ibm_client_id($adapter.config.client_id.clone()),
            psu_ip_address = $psu.ip_address.map(|ip| ip.to_string()),
        )
    };
}

/// The HTTP status in a Handelsbanken error body (`httpCode`, number or text).
fn body_status(body: &[u8]) -> Option<u16> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    match value.get("httpCode")? {
        serde_json::Value::Number(n) => n.to_string().parse().ok(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Turns a raw error into [`Error`], with Handelsbanken refinements over
/// [`map_raw_error`]:
/// - an error body that does not fit the operation's declared error type (an OAuth body on
///   an API call, a textual `httpCode`) is still classified from its messages, with the
///   status from `httpCode` when present, instead of "unexpected response";
/// - in `{httpCode, httpMessage, errors[]}` bodies the specific `errors[].code`s (e.g.
///   `CONSENT_INVALID`) decide the kind before the generic `httpMessage` (`Unauthorized`).
async fn map_error<E: Serialize>(
    operation: &'static str,
    request_id: &str,
    error: progenitor_client::Error<E>,
) -> Error {
    if let progenitor_client::Error::InvalidResponsePayload(body, cause) = &error {
        let messages = BankMessage::parse_error_body(body);
        if messages.is_empty() {
            return invalid_payload(BANK, operation, body, cause).with_request_id(request_id);
        }
        let error = match body_status(body) {
            Some(status) => Error::from_response(BANK, operation, status, body, None),
            None => {
                let codes: Vec<&str> = messages.iter().filter_map(|m| m.code.as_deref()).collect();
                let kind = ErrorKind::classify(None, &codes, None);
                messages
                    .iter()
                    .cloned()
                    .fold(Error::new(kind, BANK, operation), Error::with_message)
                    .with_raw_body(body)
            }
        };
        return refine(error).with_request_id(request_id);
    }
    refine(map_raw_error(BANK, operation, request_id, error).await)
}

/// Handelsbanken refinements of an error's kind: `errors[].code` before `httpMessage`, and a
/// consent code (`CONSENT_EXPIRED`, ...) named in `moreInformation` when nothing else names one.
fn refine(mut error: Error) -> Error {
    let is_hb_body = error.raw_body().is_some_and(|b| b.contains("\"httpCode\""));
    if !is_hb_body || matches!(error.kind, ErrorKind::AccessExceeded { .. }) {
        return error;
    }
    let messages = error.bank_messages();
    if messages.len() >= 2 {
        let codes: Vec<&str> = messages[1..]
            .iter()
            .chain(&messages[..1])
            .filter_map(|m| m.code.as_deref())
            .collect();
        error.kind = ErrorKind::classify(error.status, &codes, None);
    }
    if !is_consent_kind(&error.kind)
        && let Some(kind) = consent_kind_in_more_information(&error)
    {
        error.kind = kind;
    }
    error
}

/// Whether `kind` is about the consent itself (expired, revoked, invalid, unknown): on such a
/// 401 a new token cannot help, so none is fetched.
fn is_consent_kind(kind: &ErrorKind) -> bool {
    matches!(
        kind,
        ErrorKind::ConsentExpired
            | ErrorKind::ConsentInvalid
            | ErrorKind::ConsentRevoked
            | ErrorKind::ConsentUnknown
    )
}

/// The consent kind of a `CONSENT_*` code written in a Handelsbanken `moreInformation` text
/// (the first bank message's text), if any.
fn consent_kind_in_more_information(error: &Error) -> Option<ErrorKind> {
    let text = error.bank_messages().first()?.text.as_deref()?;
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|word| word.to_ascii_uppercase().starts_with("CONSENT_"))
        .map(|word| ErrorKind::classify(None, &[word], None))
        .find(is_consent_kind)
}

/// Whether a token endpoint refused a grant (`invalid_grant`).
fn is_invalid_grant(error: &Error) -> bool {
    error
        .codes()
        .any(|code| code.trim().eq_ignore_ascii_case("invalid_grant"))
}

/// Awaits one raw attempt: the value and its status, or the mapped error.
async fn send<T, E, Fut>(operation: &'static str, rid: Uuid, call: Fut) -> Result<(T, u16), Error>
where
    E: Serialize,
    Fut: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>>,
{
    match call.await {
        Ok(response) => {
            let status = response.status().as_u16();
            Ok((response.into_inner(), status))
        }
        Err(raw) => Err(map_error(operation, &rid.to_string(), raw).await),
    }
}

/// One listing page's raw answer: decoded by the raw client, or (when one entry did not
/// decode) kept as the body, decoded entry by entry.
enum Listed<T> {
    Typed(T),
    Body(crate::transaction::ListedPage),
}

/// Like [`send`] for listing pages: an answer the raw client cannot decode as a whole only
/// because of its entries is decoded entry by entry with `from_body`.
async fn send_listing<T, E, Fut>(
    operation: &'static str,
    rid: Uuid,
    call: Fut,
    from_body: fn(&[u8]) -> Result<crate::transaction::ListedPage, Error>,
) -> Result<(Listed<T>, u16), Error>
where
    E: Serialize,
    Fut: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>>,
{
    match call.await {
        Ok(response) => {
            let status = response.status().as_u16();
            Ok((Listed::Typed(response.into_inner()), status))
        }
        Err(progenitor_client::Error::InvalidResponsePayload(body, cause))
            if cause.classify() == serde_json::error::Category::Data =>
        {
            from_body(&body)
                .map(|page| (Listed::Body(page), 200))
                .map_err(|e| refine(with_op(operation, e)).with_request_id(rid.to_string()))
        }
        Err(raw) => Err(map_error(operation, &rid.to_string(), raw).await),
    }
}

/// Puts the calling operation's name on a mapping error.
fn with_op(operation: &'static str, mut error: Error) -> Error {
    error.operation = operation;
    error
}

fn in_op<T>(operation: &'static str, result: Result<T, Error>) -> Result<T, Error> {
    result.map_err(|e| with_op(operation, e))
}

/// What a refused renewal means: said in the error's detail.
const REAUTH_NEEDED: &str = "the bank refused to renew the access token (invalid_grant): the refresh token is no longer valid; a new SCA is needed";

/// The error when the bank refuses to renew the PSU's access token: the refresh token is no
/// longer valid (expired, rotated, or the consent ended), and only a new SCA helps.
fn renewal_refused(error: Error) -> Error {
    let mut out =
        Error::new(ErrorKind::Unauthorized, BANK, "refresh_token").with_detail(REAUTH_NEEDED);
    if let Some(status) = error.status {
        out = out.with_status(status);
    }
    for message in error.bank_messages() {
        out = out.with_message(message.clone());
    }
    match error.request_id() {
        Some(rid) => out.with_request_id(rid),
        None => out,
    }
}

impl Handelsbanken {
    /// An adapter for `config`; fails on an empty client id, an unsupported country, a
    /// non-http(s) base URL, or when the HTTP client cannot be built.
    pub fn new(config: HandelsbankenConfig) -> Result<Self, Error> {
        config.validate()?;
        let http = config.transport.build(BANK)?;
        let hooks = psd2_hooks::Hooks::new().with(BearerHook::default());
        let raw = RawClient::new_with_client(&config.base(), http, hooks);
        let authorize_url = config.authorize()?;
        Ok(Self {
            calls: Calls::new(config.retry.clone(), config.attempt_hook.clone()),
            config,
            raw,
            authorize_url,
            client_token: TokenCache::default(),
            psu_tokens: UserTokenCache::default(),
            flows: Mutex::new(HashMap::new()),
            redirects: RedirectStates::default(),
        })
    }

    /// The settings.
    pub fn config(&self) -> &HandelsbankenConfig {
        &self.config
    }

    /// The `TPP-Transaction-ID` of `consent`'s flow (made on first use).
    fn flow_id(&self, consent: &ConsentId) -> Uuid {
        let existing = lock(&self.flows).get(consent.expose()).copied();
        existing.unwrap_or_else(|| {
            let flow = Uuid::new_v4();
            self.remember_flow(consent.expose(), flow);
            flow
        })
    }

    /// Remembers `flow` for `consent`; at most [`MAX_FLOWS`] are kept (all are forgotten when
    /// full: a forgotten flow only gets a new id).
    fn remember_flow(&self, consent: &str, flow: Uuid) {
        let mut flows = lock(&self.flows);
        if flows.len() >= MAX_FLOWS && !flows.contains_key(consent) {
            flows.clear();
        }
        flows.insert(consent.to_owned(), flow);
    }

    fn forget_flow(&self, consent: &ConsentId) {
        lock(&self.flows).remove(consent.expose());
        self.redirects.forget(consent.expose());
    }

    async fn token_call(
        &self,
        operation: &'static str,
        mode: RetryMode,
        body: raw::GetTokenBody,
    ) -> Result<TokenGrant, Error> {
        let response = self
            .calls
            .run(CallInfo::new(BANK, operation), mode, |rid| {
                send(
                    operation,
                    rid,
                    self.raw.get_token().body(body.clone()).send(),
                )
            })
            .await?;
        Ok(TokenGrant::from_raw(&response))
    }

    fn token_body(&self, grant_type: raw::GetTokenBodyGrantType) -> raw::GetTokenBody {
        raw::GetTokenBody {
            client_id: Some(self.config.client_id.clone()),
            code: None,
            grant_type,
            redirect_uri: None,
            refresh_token: None,
            scope: None,
        }
    }

    async fn fetch_client_token(&self) -> Result<(AccessToken, std::time::Duration), Error> {
        let mut body = self.token_body(raw::GetTokenBodyGrantType::ClientCredentials);
        body.scope = Some("AIS".into());
        let grant = self
            .token_call("client_credentials_token", RetryMode::Idempotent, body)
            .await?;
        let lifetime =
            lifetime_from_secs(i64::try_from(grant.expires_in.as_secs()).unwrap_or(i64::MAX));
        Ok((grant.access_token, lifetime))
    }

    /// Renews with the refresh token: retried once on a transport failure (the bank may have
    /// rotated the token before the answer was lost); a refusal (`invalid_grant`) says that a
    /// new SCA is needed.
    async fn refresh_psu_token(&self, refresh: RefreshToken) -> Result<TokenGrant, Error> {
        let mut body = self.token_body(raw::GetTokenBodyGrantType::RefreshToken);
        body.refresh_token = Some(refresh.expose().to_owned());
        self.token_call("refresh_token", RetryMode::OnceOnTransport, body)
            .await
            .map_err(|e| {
                if is_invalid_grant(&e) {
                    renewal_refused(e)
                } else {
                    e
                }
            })
    }

    /// Runs `call` with the CCG token under the retry policy; on a 401 renews the token and
    /// runs it once more (not when the 401 is about the consent).
    async fn with_client_token<T, F, Fut>(
        &self,
        info: CallInfo<'_>,
        mode: RetryMode,
        call: F,
    ) -> Result<T, Error>
    where
        F: Fn(String, Uuid) -> Fut,
        Fut: Future<Output = Result<(T, u16), Error>>,
    {
        let token = self.client_token.get(|| self.fetch_client_token()).await?;
        let auth = bearer(&token);
        match self
            .calls
            .run(info, mode, |rid| call(auth.clone(), rid))
            .await
        {
            Err(e) if e.status == Some(401) && !is_consent_kind(&e.kind) => {
                tracing::debug!(
                    bank = BANK,
                    operation = info.operation,
                    "client token refused, renewing once"
                );
                self.client_token.invalidate(&token).await;
                let token = self.client_token.get(|| self.fetch_client_token()).await?;
                let auth = bearer(&token);
                self.calls
                    .run(info, mode, |rid| call(auth.clone(), rid))
                    .await
            }
            other => other,
        }
    }

    /// Runs `call` with the session's PSU token under the retry policy: renewed first when
    /// expired (and a refresh token exists), and renewed once more on a 401 followed by
    /// exactly one more run.
    ///
    /// A 401 about the consent (`CONSENT_EXPIRED`, ...) is returned as it is: a new token
    /// cannot help. A renewal the bank refuses (`invalid_grant`) is returned as such, saying
    /// that a new SCA is needed.
    async fn with_session<T, F, Fut>(
        &self,
        session: &Session,
        info: CallInfo<'_>,
        call: F,
    ) -> Result<T, Error>
    where
        F: Fn(String, Uuid) -> Fut,
        Fut: Future<Output = Result<(T, u16), Error>>,
    {
        let operation = info.operation;
        let Some(mut tokens) = self.psu_tokens.current(session) else {
            return Err(Error::invalid_input(
                BANK,
                operation,
                "the session has no access token: complete SCA first",
            ));
        };
        if tokens.is_expired(Utc::now()) && tokens.refresh.is_some() {
            tracing::debug!(bank = BANK, operation, "PSU token expired, refreshing");
            tokens = self
                .renew(session, &tokens)
                .await
                .map_err(|e| with_op(operation, e))?;
        }
        let mode = RetryMode::Idempotent;
        let auth = bearer(&tokens.access);
        match self
            .calls
            .run(info, mode, |rid| call(auth.clone(), rid))
            .await
        {
            Err(e)
                if e.status == Some(401)
                    && tokens.refresh.is_some()
                    && !is_consent_kind(&e.kind) =>
            {
                tracing::debug!(bank = BANK, operation, "PSU token refused, refreshing once");
                let tokens = match self.renew(session, &tokens).await {
                    Ok(tokens) => tokens,
                    // The bank's own 401, saying why nothing more was tried.
                    Err(renewal) if is_invalid_grant(&renewal) => {
                        return Err(e.with_detail(REAUTH_NEEDED));
                    }
                    Err(renewal) => return Err(renewal),
                };
                let auth = bearer(&tokens.access);
                self.calls
                    .run(info, mode, |rid| call(auth.clone(), rid))
                    .await
            }
            other => other,
        }
    }

    async fn renew(&self, session: &Session, seen: &UserTokens) -> Result<UserTokens, Error> {
        self.psu_tokens
            .renew(BANK, session, seen, |refresh| async move {
                let grant = self.refresh_psu_token(refresh).await?;
                Ok(Renewed {
                    access: grant.access_token,
                    refresh: grant.refresh_token,
                    lifetime: grant.expires_in,
                })
            })
            .await
    }

    fn redirect_url(&self, consent: &ConsentId, state: &str, redirect_uri: &Url) -> Url {
        let mut url = self.authorize_url.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("scope", &format!("AIS:{}", consent.expose()))
            .append_pair("client_id", &self.config.client_id)
            .append_pair("state", state)
            .append_pair("redirect_uri", redirect_uri.as_str());
        url
    }

    async fn account_details(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
    ) -> Result<Account, Error> {
        const OP: &str = "account";
        check_account_id(BANK, OP, account)?;
        let flow = self.flow_id(&session.consent_id);
        let raw = self
            .with_session(session, info(BANK, OP, psu, Some(account)), |auth, rid| {
                let builder = self.raw.get_account_details().account_id(account.as_str());
                let call = with_headers!(builder, self, auth, rid, flow, psu).send();
                send(OP, rid, call)
            })
            .await?;
        in_op(OP, Account::try_from_raw(&raw))
    }

    async fn transactions_page(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        query: &TransactionQuery,
        cursor: Option<String>,
    ) -> Result<(Entries, Option<String>), Error> {
        const OP: &str = "transactions";
        let flow = self.flow_id(&session.consent_id);
        let listed = self
            .with_session(session, info(BANK, OP, psu, Some(account)), |auth, rid| {
                let mut builder = self
                    .raw
                    .get_account_transactions()
                    .account_id(account.as_str());
                if let Some(from) = query.date_from {
                    builder = builder.date_from(from);
                }
                if let Some(to) = query.date_to {
                    builder = builder.date_to(to);
                }
                if let Some(key) = &cursor {
                    builder = builder.continuation_key(key.clone());
                }
                let call = with_headers!(builder, self, auth, rid, flow, psu).send();
                send_listing(OP, rid, call, mapping::transactions_from_body)
            })
            .await?;
        match listed {
            Listed::Typed(list) => {
                let next = next_key(OP, mapping::next_href(list.links.as_ref()))?;
                Ok((mapping::transaction_entries(&list), next))
            }
            Listed::Body(page) => {
                let next = next_key(OP, page.next_href())?;
                Ok((page.entries, next))
            }
        }
    }

    async fn card_transactions_page(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        query: &TransactionQuery,
        cursor: Option<String>,
    ) -> Result<(Entries, Option<String>), Error> {
        const OP: &str = "card_transactions";
        let flow = self.flow_id(&session.consent_id);
        let status = match query.booking_status {
            BookingStatus::Booked => raw::GetCardAccountTransactionsBookingStatus::Booked,
            BookingStatus::Pending => raw::GetCardAccountTransactionsBookingStatus::Pending,
            BookingStatus::Both => raw::GetCardAccountTransactionsBookingStatus::Both,
        };
        let listed = self
            .with_session(session, info(BANK, OP, psu, Some(account)), |auth, rid| {
                let mut builder = self
                    .raw
                    .get_card_account_transactions()
                    .account_id(account.as_str())
                    .booking_status(status);
                if let Some(from) = query.date_from {
                    builder = builder.date_from(from);
                }
                if let Some(to) = query.date_to {
                    builder = builder.date_to(to);
                }
                if let Some(key) = &cursor {
                    builder = builder.continuation_key(key.clone());
                }
                let call = with_headers!(builder, self, auth, rid, flow, psu).send();
                send_listing(OP, rid, call, mapping::card_transactions_from_body)
            })
            .await?;
        match listed {
            Listed::Typed(response) => {
                let report = &response.card_transactions;
                let next = next_key(OP, mapping::next_href(report.links.as_ref()))?;
                Ok((mapping::card_transaction_entries(report), next))
            }
            Listed::Body(page) => {
                let next = next_key(OP, page.next_href())?;
                Ok((page.entries, next))
            }
        }
    }

    /// The pages of an account (`card` false) or card account listing.
    fn listing<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
        resume: Option<PageCursor>,
        card: bool,
    ) -> BoxStream<'a, Result<(Entries, Option<String>), Error>> {
        let op = if card {
            "card_transactions"
        } else {
            "transactions"
        };
        if let Err(error) = check_account_id(BANK, op, account) {
            return stream::iter([Err(error)]).boxed();
        }
        listing::pages(
            BANK,
            op,
            query.booking_status,
            resume,
            move |cursor| async move {
                if card {
                    self.card_transactions_page(session, psu, account, query, cursor)
                        .await
                } else {
                    self.transactions_page(session, psu, account, query, cursor)
                        .await
                }
            },
        )
    }
}

/// The continuation key of a next link; a next link without one is a pagination error
/// (following it would only repeat the first page).
fn next_key(operation: &'static str, href: Option<&str>) -> Result<Option<String>, Error> {
    match href {
        None => Ok(None),
        Some(href) => continuation_key(href).map(Some).ok_or_else(|| {
            Error::new(ErrorKind::Pagination, BANK, operation)
                .with_detail("the next link has no continuationKey")
        }),
    }
}

impl Bank for Handelsbanken {
    fn name(&self) -> &'static str {
        BANK
    }

    /// `session` with the tokens this adapter renewed for it, if any.
    fn current_session(&self, session: &Session) -> Session {
        match self.psu_tokens.current(session) {
            Some(tokens) => {
                let mut current = session.clone();
                current.access_token = Some(tokens.access);
                current.refresh_token = tokens.refresh;
                current.expires_at = tokens.expires_at;
                current
            }
            None => session.clone(),
        }
    }

    fn as_consents(&self) -> Option<&dyn Consents> {
        Some(self)
    }

    fn as_account_information(&self) -> Option<&dyn AccountInformation> {
        Some(self)
    }

    fn as_card_account_information(&self) -> Option<&dyn CardAccountInformation> {
        Some(self)
    }
}

mod impls;
