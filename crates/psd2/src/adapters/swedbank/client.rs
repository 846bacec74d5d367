//! The Swedbank adapter: consents, SCA (redirect and decoupled) and account information over
//! the generated `psd2-raw-swedbank` client, every request signed by the signing hook.

use std::fmt;

use crate::adapters::common::{FromRaw, TryFromRaw};
use std::future::Future;
use std::net::IpAddr;
use std::num::NonZeroU64;

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
use crate::adapters::common::errors::invalid_payload;
use crate::adapters::common::headers::set_some;
use crate::adapters::common::listing::{self, Entries};
use crate::adapters::common::{Calls, RedirectStates, check_account_id, info, map_raw_error};
use crate::api::{AccountInformation, Bank, Consents, CreatedConsent, Session};
use crate::balance::Balance;
use crate::consent::{Consent, ConsentId, ConsentRequest, ConsentScope, ConsentStatus};
use crate::entry::TransactionPage;
use crate::error::{Error, ErrorKind};
use crate::pagination::PageCursor;
use crate::psu::{Psu, PsuContext};
use crate::retry::{CallInfo, RetryMode};
use crate::sca::{
    DecoupledHandle, RedirectCallback, ScaApproach, ScaChallenge, ScaMethod, ScaProgress, ScaStatus,
};
use crate::secret::Secret;
use crate::transaction::{BookingStatus, Transaction, TransactionQuery};

/// The adapter's name in errors and logs.
pub const BANK: &str = "swedbank";

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
    calls: Calls,
    /// Redirect challenges handed out: their state, per consent.
    states: RedirectStates<()>,
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
        let h: &PsuHeaders = $headers;
        set_some!(
            $builder.x_request_id($rid),
            psu_id = h.id.clone(),
            psu_corporate_id = h.corporate_id.clone(),
            psu_context = h.context,
            psu_ip_address = h.ip_address.clone(),
            psu_user_agent = h.user_agent.clone(),
            x_future_breaking_changes = $this.future_breaking_changes.clone(),
        )
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

fn mapping_error(operation: &'static str, error: MappingError) -> Error {
    error.into_error(BANK, operation)
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
            retry,
            attempt_hook,
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
            calls: Calls::new(retry, attempt_hook),
            states: RedirectStates::default(),
        })
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

    /// Runs one raw operation under the retry policy: `send(request_id)` sends one attempt.
    async fn call<T, F, Fut>(
        &self,
        info: CallInfo<'_>,
        mode: RetryMode,
        send: F,
    ) -> Result<T, Error>
    where
        F: Fn(Uuid) -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, RawError>>,
    {
        let operation = info.operation;
        self.calls
            .run(info, mode, |rid| {
                let attempt = send(rid);
                async move {
                    match attempt.await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            Ok((response.into_inner(), status))
                        }
                        Err(raw_error) => {
                            Err(map_raw_error(BANK, operation, &rid.to_string(), raw_error).await)
                        }
                    }
                }
            })
            .await
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
        self.states.insert(consent.expose(), &state, ());
        Ok(ScaChallenge::Redirect { url, state })
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

    /// The first page through the raw client; an answer that does not decode as a whole
    /// because of an entry is decoded entry by entry.
    async fn first_transactions_page(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        query: &TransactionQuery,
    ) -> Result<(Entries, Option<String>), Error> {
        const OP: &str = "transactions";
        let headers = self.psu_headers(psu);
        let info = info(BANK, OP, psu, Some(account));
        self.calls
            .run(info, RetryMode::Idempotent, |rid| {
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
                let attempt = builder.send();
                async move {
                    match attempt.await {
                        Ok(response) => {
                            let status = response.status().as_u16();
                            let report = response.into_inner().transactions;
                            let next = report.links.as_ref().and_then(|l| l.next.as_ref());
                            let next = next.map(|l| l.href.clone());
                            Ok(((mapping::transaction_entries(report), next), status))
                        }
                        Err(psd2_raw_swedbank::Error::InvalidResponsePayload(body, cause))
                            if cause.classify() == serde_json::error::Category::Data =>
                        {
                            from_body(&body, rid)
                        }
                        Err(raw_error) => {
                            Err(map_raw_error(BANK, OP, &rid.to_string(), raw_error).await)
                        }
                    }
                }
            })
            .await
    }

    /// Fetches a next page with the same HTTP client and hook chain as the raw client, so
    /// it is signed like every other request; retried like every call.
    async fn next_transactions_page(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        cursor: &str,
    ) -> Result<(Entries, Option<String>), Error> {
        const OP: &str = "transactions";
        let url = Url::parse(cursor)
            .ok()
            .filter(|u| self.is_own(u))
            .ok_or_else(|| {
                Error::new(ErrorKind::Pagination, BANK, OP)
                    .with_detail("the page cursor does not point into the bank's API")
            })?;
        let mut consent = HeaderValue::from_str(session.consent_id.expose())
            .map_err(|_| Error::invalid_input(BANK, OP, "consent id is not a valid header"))?;
        consent.set_sensitive(true);
        let headers = self.psu_headers(psu);
        let info = info(BANK, OP, psu, Some(account));
        self.calls
            .run(info, RetryMode::Idempotent, |rid| {
                let optional = [
                    ("PSU-ID", headers.id.clone()),
                    ("PSU-Corporate-ID", headers.corporate_id.clone()),
                    ("PSU-Context", headers.context.map(|c| c.to_string())),
                    ("PSU-IP-Address", headers.ip_address.clone()),
                    ("PSU-User-Agent", headers.user_agent.clone()),
                    (
                        "X-Future-Breaking-Changes",
                        self.future_breaking_changes.clone(),
                    ),
                ];
                let mut builder = self
                    .http
                    .get(url.clone())
                    .header(ACCEPT, "application/json")
                    .header("Consent-ID", consent.clone())
                    .header("X-Request-ID", rid.to_string());
                for (name, value) in optional {
                    if let Some(value) = value {
                        builder = builder.header(name, value);
                    }
                }
                async move { self.send_next_page(builder, rid).await }
            })
            .await
    }

    /// Signs and sends one next-page request; maps its answer.
    async fn send_next_page(
        &self,
        builder: reqwest::RequestBuilder,
        rid: Uuid,
    ) -> Result<((Entries, Option<String>), u16), Error> {
        const OP: &str = "transactions";
        let transport = |kind: ErrorKind, detail: &str| {
            Error::new(kind, BANK, OP)
                .with_detail(detail.to_string())
                .with_request_id(rid.to_string())
        };
        let mut request = builder.build().map_err(|_| {
            transport(
                ErrorKind::InvalidInput,
                "could not build the next page request",
            )
        })?;
        self.hooks.run(&mut request).await.map_err(|e| {
            transport(
                ErrorKind::Transport,
                &format!("the request was refused before sending: {e}"),
            )
        })?;
        let response = self.http.execute(request).await.map_err(|e| {
            let kind = if e.is_timeout() {
                ErrorKind::Timeout
            } else {
                ErrorKind::Transport
            };
            transport(kind, "could not talk to the bank").with_source(e.without_url())
        })?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = response.bytes().await.map_err(|e| {
            let kind = if e.is_timeout() {
                ErrorKind::Timeout
            } else {
                ErrorKind::Transport
            };
            transport(kind, "the bank's answer was cut off")
        })?;
        if !(200..300).contains(&status) {
            return Err(
                Error::from_response(BANK, OP, status, &body, retry_after.as_deref())
                    .with_request_id(rid.to_string()),
            );
        }
        match serde_json::from_slice::<raw::TransactionsResponse>(&body) {
            Ok(answer) => {
                let report = answer.transactions;
                let next = report.links.as_ref().and_then(|l| l.next.as_ref());
                let next = next.map(|l| l.href.clone());
                Ok(((mapping::transaction_entries(report), next), status))
            }
            Err(cause) if cause.classify() == serde_json::error::Category::Data => {
                from_body(&body, rid)
            }
            Err(cause) => {
                Err(invalid_payload(BANK, OP, &body, &cause).with_request_id(rid.to_string()))
            }
        }
    }

    /// One page at `cursor` (`None`: the first page): its entries and the cursor of the
    /// next page (the next link, resolved, checked and with the caller's query put back).
    async fn transactions_page(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        query: &TransactionQuery,
        first: &str,
        cursor: Option<String>,
    ) -> Result<(Entries, Option<String>), Error> {
        let (entries, next) = match cursor {
            Some(url) if url != first => {
                self.next_transactions_page(session, psu, account, &url)
                    .await?
            }
            _ => {
                self.first_transactions_page(session, psu, account, query)
                    .await?
            }
        };
        let next = next
            .map(|href| self.next_cursor(&href, query))
            .transpose()?;
        Ok((entries, next))
    }

    /// The listing's pages from `resume` or the first page.
    fn listing<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
        resume: Option<PageCursor>,
    ) -> BoxStream<'a, Result<(Entries, Option<String>), Error>> {
        let first = check_account_id(BANK, "transactions", account)
            .and_then(|()| self.first_transactions_url(account, query));
        let first = match first {
            Ok(url) => url,
            Err(error) => return stream::iter([Err(error)]).boxed(),
        };
        // Starting at the first page's own URL makes a next link back to it a repeated
        // cursor (a pagination error), like any other loop.
        let start = resume.unwrap_or_else(|| PageCursor::for_bank(BANK, &first));
        listing::pages(
            BANK,
            "transactions",
            query.booking_status,
            Some(start),
            move |cursor| {
                let first = first.clone();
                async move {
                    self.transactions_page(session, psu, account, query, &first, cursor)
                        .await
                }
            },
        )
    }
}

/// A page decoded entry by entry from its body (one entry did not fit the raw types).
fn from_body(body: &[u8], rid: Uuid) -> Result<((Entries, Option<String>), u16), Error> {
    let page =
        mapping::transactions_from_body(body).map_err(|e| e.with_request_id(rid.to_string()))?;
    let next = page.next_href().map(str::to_owned);
    Ok(((page.entries, next), 200))
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

mod impls;
