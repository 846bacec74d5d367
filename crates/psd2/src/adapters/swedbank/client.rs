//! [`Swedbank`]: the generic Berlin Group adapter with `registry/swedbank.toml`'s profile,
//! behind Swedbank's own constructor and config.

use std::fmt;
use std::net::IpAddr;

use async_trait::async_trait;
use futures::stream::BoxStream;
use psd2_registry::RegistryEntry;
use url::Url;

use super::config::SwedbankConfig;
use crate::account::{Account, AccountId};
use crate::adapters::berlingroup::{BerlinGroup, BerlinGroupConfig};
use crate::api::{AccountInformation, AccountList, Bank, Consents, CreatedConsent, Session};
use crate::balance::Balance;
use crate::consent::{Consent, ConsentId, ConsentRequest, ConsentStatus};
use crate::entry::TransactionPage;
use crate::error::Error;
use crate::pagination::PageCursor;
use crate::psu::Psu;
use crate::sca::{DecoupledHandle, RedirectCallback, ScaChallenge, ScaMethod, ScaProgress};
use crate::transaction::{Transaction, TransactionId, TransactionQuery};

/// The adapter's name in errors and logs (the registry id).
pub const BANK: &str = "swedbank";

/// Swedbank's registry file, compiled in.
const REGISTRY_FILE: &str = include_str!("../../../../../registry/swedbank.toml");

/// Swedbank (Norway/Baltics) Berlin Group XS2A adapter. See the module docs of
/// [`crate::adapters::swedbank`].
pub struct Swedbank {
    inner: BerlinGroup,
}

impl fmt::Debug for Swedbank {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Swedbank").field(&self.inner).finish()
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// Swedbank's registry entry.
fn entry() -> Result<RegistryEntry, Error> {
    psd2_registry::parse_entry("swedbank.toml", REGISTRY_FILE).map_err(|e| {
        Error::invalid_input(BANK, "new", format!("the compiled-in registry file: {e}"))
    })
}

impl Swedbank {
    /// Builds the adapter: [`BerlinGroup`] with Swedbank's registry profile, every request
    /// signed by `config.signing`.
    ///
    /// Fails with [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) for a base URL that is not http(s), or when no
    /// signing identity is given for a base URL that is not a loopback address (a local
    /// sandbox that does not check signatures).
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
        let mut entry = entry()?;
        if signing.is_none() && is_loopback(&base_url) {
            tracing::warn!(bank = BANK, "requests are not signed (local sandbox only)");
            entry.profile.security.signatures = false;
        }
        let mut generic = BerlinGroupConfig::new(base_url)
            .with_transport(transport)
            .with_retry(retry);
        generic.signing = signing;
        generic.attempt_hook = attempt_hook;
        generic.tpp_redirect_uri = redirect_uri;
        generic.psu_context = psu_context;
        generic.after_signing = after_signing;
        if !future_breaking_changes.is_empty() {
            generic = generic.with_header(
                "X-Future-Breaking-Changes",
                future_breaking_changes.join(","),
            );
        }
        let inner = BerlinGroup::new(entry, generic)?;
        Ok(Self { inner })
    }

    /// The registry entry (and profile) the adapter runs with.
    pub fn entry(&self) -> &RegistryEntry {
        self.inner.entry()
    }
}

impl Bank for Swedbank {
    fn name(&self) -> &'static str {
        self.inner.name()
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
        self.inner.create_consent(request, psu).await
    }

    async fn consent_status(&self, consent: &ConsentId, psu: &Psu) -> Result<ConsentStatus, Error> {
        self.inner.consent_status(consent, psu).await
    }

    async fn consent(&self, consent: &ConsentId, psu: &Psu) -> Result<Consent, Error> {
        self.inner.consent(consent, psu).await
    }

    async fn start_sca(
        &self,
        consent: &ConsentId,
        method: &ScaMethod,
        psu: &Psu,
    ) -> Result<ScaChallenge, Error> {
        self.inner.start_sca(consent, method, psu).await
    }

    async fn complete_redirect(
        &self,
        consent: &ConsentId,
        callback: &RedirectCallback,
        psu: &Psu,
    ) -> Result<Session, Error> {
        self.inner.complete_redirect(consent, callback, psu).await
    }

    async fn poll_decoupled(
        &self,
        consent: &ConsentId,
        handle: &DecoupledHandle,
        psu: &Psu,
    ) -> Result<ScaProgress<Session>, Error> {
        self.inner.poll_decoupled(consent, handle, psu).await
    }

    async fn delete_consent(&self, consent: &ConsentId, psu: &Psu) -> Result<(), Error> {
        self.inner.delete_consent(consent, psu).await
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
        self.inner.accounts(session, psu, with_balances).await
    }

    async fn account_list(
        &self,
        session: &Session,
        psu: &Psu,
        with_balances: bool,
    ) -> Result<AccountList, Error> {
        self.inner.account_list(session, psu, with_balances).await
    }

    async fn account(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        with_balances: bool,
    ) -> Result<Account, Error> {
        self.inner
            .account(session, psu, account, with_balances)
            .await
    }

    async fn balances(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
    ) -> Result<Vec<Balance>, Error> {
        self.inner.balances(session, psu, account).await
    }

    fn transactions<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
    ) -> BoxStream<'a, Result<Transaction, Error>> {
        self.inner.transactions(session, psu, account, query)
    }

    fn transaction_pages<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
        resume: Option<PageCursor>,
    ) -> BoxStream<'a, Result<TransactionPage, Error>> {
        self.inner
            .transaction_pages(session, psu, account, query, resume)
    }

    async fn transaction_details(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        transaction: &TransactionId,
    ) -> Result<Transaction, Error> {
        self.inner
            .transaction_details(session, psu, account, transaction)
            .await
    }
}
