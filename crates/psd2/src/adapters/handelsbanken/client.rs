//! The [`Handelsbanken`] adapter: calls, tokens, retries, and the trait implementations.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::Utc;
use futures::stream::BoxStream;
use progenitor_client::ResponseValue;
use psd2_raw_handelsbanken::{Client as RawClient, types as raw};
use serde::Serialize;
use url::Url;
use uuid::Uuid;

use crate::account::{Account, AccountId};
use crate::adapters::common::{map_raw_error, request_id};
use crate::api::{
    AccountInformation, Bank, CardAccountInformation, Consents, CreatedConsent, Session,
};
use crate::balance::Balance;
use crate::card_account::CardAccount;
use crate::consent::{Consent, ConsentRequest, ConsentScope, ConsentStatus};
use crate::error::{BankMessage, Error, ErrorKind};
use crate::pagination::{Page, Paginator, continuation_key};
use crate::psu::Psu;
use crate::sca::{DecoupledHandle, RedirectCallback, ScaChallenge, ScaMethod, ScaProgress};
use crate::secret::{AccessToken, ConsentId, RefreshToken};
use crate::transaction::{BookingStatus, Transaction, TransactionQuery, TransactionStatus};

use super::config::HandelsbankenConfig;
use super::mapping::{self, BANK, TokenGrant};
use super::tokens::{ClientTokenCache, PsuTokenStore, PsuTokens};

/// A redirect SCA this adapter started and has not seen come back yet.
struct PendingRedirect {
    state: String,
    redirect_uri: Url,
}

/// The Handelsbanken adapter. One value serves many PSUs and consents at once.
///
/// `Debug` shows the base URL, client id and country only.
pub struct Handelsbanken {
    config: HandelsbankenConfig,
    raw: RawClient,
    authorize_url: Url,
    client_token: ClientTokenCache,
    psu_tokens: PsuTokenStore,
    /// `TPP-Transaction-ID` per consent flow, keyed by consent id.
    flows: Mutex<HashMap<String, Uuid>>,
    /// Started redirect SCAs, keyed by consent id.
    redirects: Mutex<HashMap<String, PendingRedirect>>,
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

/// Sets the headers every operation takes (a macro: each builder is its own type).
macro_rules! with_headers {
    ($builder:expr, $adapter:expr, $auth:expr, $rid:expr, $flow:expr, $psu:expr) => {{
        let builder = $builder
            .authorization($auth)
            .country($adapter.config.country.as_str())
            .tpp_request_id($rid)
            .tpp_transaction_id($flow)
            .x_ibm_client_id($adapter.config.client_id.clone());
        match $psu.ip_address {
            Some(ip) => builder.psu_ip_address(ip.to_string()),
            None => builder,
        }
    }};
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
            return Error::new(ErrorKind::UnexpectedResponse, BANK, operation)
                .with_detail(format!(
                    "the bank's answer does not fit the API description ({:?} error at line {}, column {})",
                    cause.classify(),
                    cause.line(),
                    cause.column()
                ))
                .with_raw_body(body)
                .with_request_id(request_id);
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

/// Awaits a raw call: logs it (bank, operation, status, request id) and maps its error.
async fn send<T, E, Fut>(operation: &'static str, rid: Uuid, call: Fut) -> Result<T, Error>
where
    E: Serialize,
    Fut: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<E>>>,
{
    match call.await {
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
        Err(raw) => {
            let error = map_error(operation, &rid.to_string(), raw).await;
            tracing::debug!(
                bank = BANK,
                operation,
                status = error.status.unwrap_or(0),
                request_id = %rid,
                kind = %error.kind,
                "bank call failed"
            );
            Err(error)
        }
    }
}

/// Puts the calling operation's name on a mapping error.
fn in_op<T>(operation: &'static str, result: Result<T, Error>) -> Result<T, Error> {
    result.map_err(|mut e| {
        e.operation = operation;
        e
    })
}

impl Handelsbanken {
    /// An adapter for `config`; fails on an empty client id, an unsupported country, a
    /// non-http(s) base URL, or when the HTTP client cannot be built.
    pub fn new(config: HandelsbankenConfig) -> Result<Self, Error> {
        config.validate()?;
        let http = config.transport.build(BANK)?;
        let raw = RawClient::new_with_client(&config.base(), http, psd2_hooks::Hooks::new());
        let authorize_url = config.authorize()?;
        Ok(Self {
            config,
            raw,
            authorize_url,
            client_token: ClientTokenCache::default(),
            psu_tokens: PsuTokenStore::default(),
            flows: Mutex::new(HashMap::new()),
            redirects: Mutex::new(HashMap::new()),
        })
    }

    /// The settings.
    pub fn config(&self) -> &HandelsbankenConfig {
        &self.config
    }

    /// `session` with the newest tokens this adapter holds for it (after refreshes), e.g.
    /// to store between runs. Unchanged if no refresh happened.
    pub async fn current_session(&self, session: &Session) -> Session {
        match self.psu_tokens.current(session).await {
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

    /// The `TPP-Transaction-ID` of `consent`'s flow (made on first use).
    fn flow_id(&self, consent: &ConsentId) -> Uuid {
        match self.flows.lock() {
            Ok(mut flows) => *flows
                .entry(consent.expose().to_owned())
                .or_insert_with(Uuid::new_v4),
            Err(_) => Uuid::new_v4(),
        }
    }

    fn forget_flow(&self, consent: &ConsentId) {
        if let Ok(mut flows) = self.flows.lock() {
            flows.remove(consent.expose());
        }
        if let Ok(mut redirects) = self.redirects.lock() {
            redirects.remove(consent.expose());
        }
    }

    async fn token_call(
        &self,
        operation: &'static str,
        body: raw::GetTokenBody,
    ) -> Result<TokenGrant, Error> {
        let rid = request_id();
        let response = send(operation, rid, self.raw.get_token().body(body).send()).await?;
        Ok(TokenGrant::from(&response))
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

    async fn fetch_client_token(&self) -> Result<TokenGrant, Error> {
        let mut body = self.token_body(raw::GetTokenBodyGrantType::ClientCredentials);
        body.scope = Some("AIS".into());
        self.token_call("client_credentials_token", body).await
    }

    async fn refresh_psu_token(&self, refresh: RefreshToken) -> Result<TokenGrant, Error> {
        let mut body = self.token_body(raw::GetTokenBodyGrantType::RefreshToken);
        body.refresh_token = Some(refresh.expose().to_owned());
        self.token_call("refresh_token", body).await
    }

    /// Runs `call` with the CCG token; on 401 renews the token and runs it exactly once more
    /// (not when the 401 is about the consent).
    async fn with_client_token<T, F, Fut>(
        &self,
        operation: &'static str,
        call: F,
    ) -> Result<T, Error>
    where
        F: Fn(String, Uuid) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let token = self.client_token.get(|| self.fetch_client_token()).await?;
        match call(bearer(&token), request_id()).await {
            Err(e) if e.status == Some(401) && !is_consent_kind(&e.kind) => {
                tracing::debug!(
                    bank = BANK,
                    operation,
                    "client token refused, renewing once"
                );
                self.client_token.invalidate(&token).await;
                let token = self.client_token.get(|| self.fetch_client_token()).await?;
                call(bearer(&token), request_id()).await
            }
            other => other,
        }
    }

    /// Runs `call` with the session's PSU token: renewed first when expired (and a refresh
    /// token exists), and renewed once more on a 401 followed by exactly one retry.
    ///
    /// A 401 about the consent (`CONSENT_EXPIRED`, ...) is returned as it is: a new token
    /// cannot help. When the renewal after a 401 is refused with `invalid_grant` (typically
    /// because the consent ended), the bank's original 401 is returned, not the token
    /// endpoint's error.
    async fn with_session<T, F, Fut>(
        &self,
        session: &Session,
        operation: &'static str,
        call: F,
    ) -> Result<T, Error>
    where
        F: Fn(String, Uuid) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let Some(mut tokens) = self.psu_tokens.current(session).await else {
            return Err(Error::invalid_input(
                BANK,
                operation,
                "the session has no access token: complete SCA first",
            ));
        };
        if tokens.is_expired(Utc::now()) && tokens.refresh.is_some() {
            tracing::debug!(bank = BANK, operation, "PSU token expired, refreshing");
            tokens = self.renew(session, &tokens).await?;
        }
        match call(bearer(&tokens.access), request_id()).await {
            Err(e)
                if e.status == Some(401)
                    && tokens.refresh.is_some()
                    && !is_consent_kind(&e.kind) =>
            {
                tracing::debug!(bank = BANK, operation, "PSU token refused, refreshing once");
                match self.renew(session, &tokens).await {
                    Ok(tokens) => call(bearer(&tokens.access), request_id()).await,
                    Err(renewal) if is_invalid_grant(&renewal) => {
                        tracing::debug!(
                            bank = BANK,
                            operation,
                            "refresh refused (invalid_grant), returning the bank's 401"
                        );
                        Err(e)
                    }
                    Err(renewal) => Err(renewal),
                }
            }
            other => other,
        }
    }

    async fn renew(&self, session: &Session, seen: &PsuTokens) -> Result<PsuTokens, Error> {
        self.psu_tokens
            .renew(session, seen, |refresh| self.refresh_psu_token(refresh))
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
        let flow = self.flow_id(&session.consent_id);
        let raw = self
            .with_session(session, OP, |auth, rid| {
                let builder = self.raw.get_account_details().account_id(account.as_str());
                let call = with_headers!(builder, self, auth, rid, flow, psu).send();
                send(OP, rid, call)
            })
            .await?;
        in_op(OP, Account::try_from(&raw))
    }

    async fn transactions_page(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        query: &TransactionQuery,
        cursor: Option<String>,
    ) -> Result<Page<Transaction, String>, Error> {
        const OP: &str = "transactions";
        let flow = self.flow_id(&session.consent_id);
        let list = self
            .with_session(session, OP, |auth, rid| {
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
                send(OP, rid, call)
            })
            .await?;
        let items = list
            .transactions
            .iter()
            .map(Transaction::try_from)
            .filter(|t| {
                t.as_ref()
                    .map_or(true, |t| wanted(query.booking_status, &t.status))
            })
            .collect::<Result<Vec<_>, _>>();
        let items = in_op(OP, items)?;
        let next = next_key(OP, mapping::next_href(list.links.as_ref()))?;
        Ok(Page::new(items, next))
    }

    async fn card_transactions_page(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        query: &TransactionQuery,
        cursor: Option<String>,
    ) -> Result<Page<Transaction, String>, Error> {
        const OP: &str = "card_transactions";
        let flow = self.flow_id(&session.consent_id);
        let status = match query.booking_status {
            BookingStatus::Booked => raw::GetCardAccountTransactionsBookingStatus::Booked,
            BookingStatus::Pending => raw::GetCardAccountTransactionsBookingStatus::Pending,
            BookingStatus::Both => raw::GetCardAccountTransactionsBookingStatus::Both,
        };
        let response = self
            .with_session(session, OP, |auth, rid| {
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
                send(OP, rid, call)
            })
            .await?;
        let report = &response.card_transactions;
        let items = in_op(OP, mapping::card_transactions(report))?
            .into_iter()
            .filter(|t| wanted(query.booking_status, &t.status))
            .collect();
        let next = next_key(OP, mapping::next_href(report.links.as_ref()))?;
        Ok(Page::new(items, next))
    }
}

/// Whether a transaction of `status` belongs to a listing for `booking`.
fn wanted(booking: BookingStatus, status: &TransactionStatus) -> bool {
    match booking {
        BookingStatus::Both => true,
        BookingStatus::Booked => *status == TransactionStatus::Booked,
        BookingStatus::Pending => *status == TransactionStatus::Pending,
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

#[async_trait]
impl Consents for Handelsbanken {
    /// Initiates `{"access":"ALL_ACCOUNTS"}`. Handelsbanken consents always cover all
    /// accounts and card accounts; a request for specific accounts is
    /// [`ErrorKind::InvalidInput`]. `valid_until`, `frequency_per_day`, `recurring` and the
    /// data flags are set by the bank and ignored here.
    async fn create_consent(
        &self,
        request: &ConsentRequest,
        psu: &Psu,
    ) -> Result<CreatedConsent, Error> {
        const OP: &str = "create_consent";
        if let ConsentScope::Accounts(_) = request.scope {
            return Err(Error::invalid_input(
                BANK,
                OP,
                "Handelsbanken consents cover all accounts (ALL_ACCOUNTS); consents for specific accounts are not supported",
            ));
        }
        if let Some(kind) = psu.corporate_id_type.as_deref()
            && !kind.eq_ignore_ascii_case("BANK")
        {
            return Err(Error::invalid_input(
                BANK,
                OP,
                "Handelsbanken supports only the corporate id type BANK",
            ));
        }
        let flow = Uuid::new_v4();
        let body = raw::ConsentRequest {
            access: raw::ConsentAccess::AllAccounts,
        };
        let response = self
            .with_client_token(OP, |auth, rid| {
                let mut builder = self.raw.create_consent().body(body.clone());
                if let Some(corporate) = &psu.corporate_id {
                    builder = builder
                        .psu_corporate_id(corporate.clone())
                        .psu_corporate_id_type(raw::CreateConsentPsuCorporateIdType::Bank);
                }
                let call = with_headers!(builder, self, auth, rid, flow, psu).send();
                send(OP, rid, call)
            })
            .await?;
        let created = CreatedConsent::from(&response);
        if let Ok(mut flows) = self.flows.lock() {
            flows.insert(response.consent_id.clone(), flow);
        }
        Ok(created)
    }

    async fn consent_status(&self, consent: &ConsentId, psu: &Psu) -> Result<ConsentStatus, Error> {
        const OP: &str = "consent_status";
        let flow = self.flow_id(consent);
        let response = self
            .with_client_token(OP, |auth, rid| {
                let builder = self.raw.get_consent_status().consent_id(consent.expose());
                let call = with_headers!(builder, self, auth, rid, flow, psu).send();
                send(OP, rid, call)
            })
            .await?;
        Ok(ConsentStatus::from(&response.consent_status))
    }

    async fn consent(&self, consent: &ConsentId, psu: &Psu) -> Result<Consent, Error> {
        const OP: &str = "consent";
        let flow = self.flow_id(consent);
        let response = self
            .with_client_token(OP, |auth, rid| {
                let builder = self.raw.get_consent().consent_id(consent.expose());
                let call = with_headers!(builder, self, auth, rid, flow, psu).send();
                send(OP, rid, call)
            })
            .await?;
        Ok(Consent::from(&response))
    }

    /// Redirect: no call; returns the authorize URL with a fresh random `state` (remembered
    /// for [`Consents::complete_redirect`]). Decoupled: starts a Mobile BankID order with the
    /// CCG token, `personalId` from the PSU id when given.
    async fn start_sca(
        &self,
        consent: &ConsentId,
        method: &ScaMethod,
        psu: &Psu,
    ) -> Result<ScaChallenge, Error> {
        match method {
            ScaMethod::Redirect { redirect_uri } => {
                if let Some(registered) = &self.config.redirect_uri
                    && registered != redirect_uri
                {
                    return Err(Error::invalid_input(
                        BANK,
                        "start_sca",
                        "redirect_uri differs from the registered redirect URI in the config",
                    ));
                }
                let state = Uuid::new_v4().simple().to_string();
                let url = self.redirect_url(consent, &state, redirect_uri);
                if let Ok(mut redirects) = self.redirects.lock() {
                    redirects.insert(
                        consent.expose().to_owned(),
                        PendingRedirect {
                            state: state.clone(),
                            redirect_uri: redirect_uri.clone(),
                        },
                    );
                }
                tracing::debug!(
                    bank = BANK,
                    operation = "start_sca",
                    method = "redirect",
                    "redirect SCA prepared"
                );
                Ok(ScaChallenge::Redirect { url, state })
            }
            ScaMethod::Decoupled => {
                const OP: &str = "start_sca";
                let flow = self.flow_id(consent);
                let body = raw::DecoupledAuthorizationRequest {
                    consent_id: consent.expose().to_owned(),
                    personal_id: psu.id.as_ref().map(|id| id.expose().to_owned()),
                };
                let response = self
                    .with_client_token(OP, |auth, rid| {
                        let builder = self.raw.init_decoupled_authorization().body(body.clone());
                        let call = with_headers!(builder, self, auth, rid, flow, psu).send();
                        send(OP, rid, call)
                    })
                    .await?;
                Ok(ScaChallenge::from(&response))
            }
        }
    }

    /// Checks `state` against the one [`Consents::start_sca`] issued for this consent (a
    /// mismatch or an unknown consent is [`ErrorKind::InvalidInput`] and nothing is sent),
    /// then exchanges the code (`grant_type=authorization_code`) for the session's tokens.
    async fn complete_redirect(
        &self,
        consent: &ConsentId,
        callback: &RedirectCallback,
        _psu: &Psu,
    ) -> Result<Session, Error> {
        const OP: &str = "complete_redirect";
        let redirect_uri = {
            let redirects = self
                .redirects
                .lock()
                .map_err(|_| Error::new(ErrorKind::InvalidInput, BANK, OP))?;
            let pending = redirects.get(consent.expose()).ok_or_else(|| {
                Error::invalid_input(BANK, OP, "no redirect SCA was started for this consent")
            })?;
            if pending.state != callback.state {
                tracing::debug!(
                    bank = BANK,
                    operation = OP,
                    "redirect state mismatch, callback rejected"
                );
                return Err(Error::invalid_input(
                    BANK,
                    OP,
                    "redirect state does not match the challenge",
                ));
            }
            pending.redirect_uri.clone()
        };
        let mut body = self.token_body(raw::GetTokenBodyGrantType::AuthorizationCode);
        body.code = Some(callback.code.expose().to_owned());
        body.redirect_uri = Some(redirect_uri.to_string());
        let now = Utc::now();
        let grant = self.token_call("authorization_code_token", body).await?;
        if let Ok(mut redirects) = self.redirects.lock() {
            redirects.remove(consent.expose());
        }
        Ok(grant.into_session(consent.clone(), now))
    }

    async fn poll_decoupled(
        &self,
        consent: &ConsentId,
        handle: &DecoupledHandle,
        psu: &Psu,
    ) -> Result<ScaProgress<Session>, Error> {
        const OP: &str = "poll_decoupled";
        let flow = self.flow_id(consent);
        let response = self
            .with_client_token(OP, |auth, rid| {
                let builder = self
                    .raw
                    .poll_decoupled_authorization()
                    .order_ref(handle.expose());
                let call = with_headers!(builder, self, auth, rid, flow, psu).send();
                send(OP, rid, call)
            })
            .await?;
        in_op(
            OP,
            mapping::decoupled_progress(&response, consent, Utc::now()),
        )
    }

    async fn delete_consent(&self, consent: &ConsentId, psu: &Psu) -> Result<(), Error> {
        const OP: &str = "delete_consent";
        let flow = self.flow_id(consent);
        self.with_client_token(OP, |auth, rid| {
            let builder = self.raw.delete_consent().consent_id(consent.expose());
            let call = with_headers!(builder, self, auth, rid, flow, psu).send();
            send(OP, rid, call)
        })
        .await?;
        self.forget_flow(consent);
        Ok(())
    }
}

#[async_trait]
impl AccountInformation for Handelsbanken {
    /// The account list; with `with_balances`, each account's balances come from its details
    /// call (the v2 list carries none).
    async fn accounts(
        &self,
        session: &Session,
        psu: &Psu,
        with_balances: bool,
    ) -> Result<Vec<Account>, Error> {
        const OP: &str = "accounts";
        let flow = self.flow_id(&session.consent_id);
        let list = self
            .with_session(session, OP, |auth, rid| {
                let call =
                    with_headers!(self.raw.get_accounts(), self, auth, rid, flow, psu).send();
                send(OP, rid, call)
            })
            .await?;
        let mut accounts = in_op(
            OP,
            list.accounts
                .iter()
                .map(Account::try_from)
                .collect::<Result<Vec<_>, _>>(),
        )?;
        for account in &mut accounts {
            if !with_balances {
                account.balances.clear();
            } else if account.balances.is_empty() {
                account.balances = self
                    .account_details(session, psu, &account.id)
                    .await?
                    .balances;
            }
        }
        Ok(accounts)
    }

    async fn account(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        with_balances: bool,
    ) -> Result<Account, Error> {
        let mut details = self.account_details(session, psu, account).await?;
        if !with_balances {
            details.balances.clear();
        }
        Ok(details)
    }

    /// Handelsbanken has no balances call: the balances of the account details.
    async fn balances(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
    ) -> Result<Vec<Balance>, Error> {
        Ok(self.account_details(session, psu, account).await?.balances)
    }

    /// Every page, following `_links.next.href`'s `continuationKey`; the date range is sent
    /// on every page. The API has no booking status filter, so it is applied here.
    fn transactions<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
    ) -> BoxStream<'a, Result<Transaction, Error>> {
        Paginator::new(BANK, "transactions").stream(move |cursor: Option<String>| {
            self.transactions_page(session, psu, account, query, cursor)
        })
    }
}

#[async_trait]
impl CardAccountInformation for Handelsbanken {
    async fn card_accounts(&self, session: &Session, psu: &Psu) -> Result<Vec<CardAccount>, Error> {
        const OP: &str = "card_accounts";
        let flow = self.flow_id(&session.consent_id);
        let list = self
            .with_session(session, OP, |auth, rid| {
                let call =
                    with_headers!(self.raw.get_card_accounts(), self, auth, rid, flow, psu).send();
                send(OP, rid, call)
            })
            .await?;
        in_op(
            OP,
            list.card_accounts
                .iter()
                .map(CardAccount::try_from)
                .collect(),
        )
    }

    async fn card_account(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
    ) -> Result<CardAccount, Error> {
        const OP: &str = "card_account";
        let flow = self.flow_id(&session.consent_id);
        let response = self
            .with_session(session, OP, |auth, rid| {
                let builder = self
                    .raw
                    .get_card_account_details()
                    .account_id(account.as_str());
                let call = with_headers!(builder, self, auth, rid, flow, psu).send();
                send(OP, rid, call)
            })
            .await?;
        in_op(OP, CardAccount::try_from(&response.card_account))
    }

    async fn card_balances(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
    ) -> Result<Vec<Balance>, Error> {
        const OP: &str = "card_balances";
        let flow = self.flow_id(&session.consent_id);
        let response = self
            .with_session(session, OP, |auth, rid| {
                let builder = self
                    .raw
                    .get_card_account_balances()
                    .account_id(account.as_str());
                let call = with_headers!(builder, self, auth, rid, flow, psu).send();
                send(OP, rid, call)
            })
            .await?;
        in_op(
            OP,
            response.balances.iter().map(Balance::try_from).collect(),
        )
    }

    /// Booked and/or pending card transactions (the `bookingStatus` query parameter), every
    /// page; the date range is sent on every page.
    fn card_transactions<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
    ) -> BoxStream<'a, Result<Transaction, Error>> {
        Paginator::new(BANK, "card_transactions").stream(move |cursor: Option<String>| {
            self.card_transactions_page(session, psu, account, query, cursor)
        })
    }
}
