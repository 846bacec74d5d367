//! Account and card account information as the profile says (`with_balance`,
//! `card_accounts`, `details`).

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::{self, BoxStream};
use reqwest::Method;
use serde::de::DeserializeOwned;

use super::client::{BerlinGroup, Call, decode};
use super::listing::Resource;
use super::mapping;
use crate::account::{Account, AccountId};
use crate::adapters::common::listing;
use crate::adapters::common::{TryFromRaw, check_account_id, info};
use crate::api::{
    AccountInformation, AccountList, CardAccountInformation, MissingBalances, Session,
};
use crate::balance::Balance;
use crate::card_account::CardAccount;
use crate::entry::TransactionPage;
use crate::error::Error;
use crate::pagination::PageCursor;
use crate::psu::Psu;
use crate::retry::RetryMode;
use crate::transaction::{Transaction, TransactionId, TransactionQuery, TransactionStatus};
use psd2_raw_berlingroup::types as raw;

impl BerlinGroup {
    /// `GET` of an AIS resource below `/v1` under the session's consent, decoded as `T`.
    async fn read<T: DeserializeOwned>(
        &self,
        operation: &'static str,
        session: &Session,
        psu: &Psu,
        account: Option<&AccountId>,
        segments: &[&str],
        query: &[(&str, &str)],
    ) -> Result<T, Error> {
        if let Some(account) = account {
            check_account_id(self.name, operation, account)?;
        }
        let mut url = self.url(operation, segments)?;
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        let mut headers = self.psu_headers(operation, psu, false)?;
        headers.push(self.consent_header(operation, &session.consent_id)?);
        let call = Call::new(Method::GET, url).headers(headers);
        let (body, status) = self
            .exchange(
                info(self.name, operation, psu, account),
                RetryMode::Idempotent,
                &call,
            )
            .await?;
        decode(self.name, operation, &body, status)
    }

    fn with_balance_query(&self, with_balances: bool) -> &'static [(&'static str, &'static str)] {
        if with_balances && self.entry.profile.accounts.with_balance {
            &[("withBalance", "true")]
        } else {
            &[]
        }
    }

    /// The account list, and with balances at a bank without `withBalance` one balances
    /// call per account (a failed one is named in `missing`).
    async fn list_accounts(
        &self,
        session: &Session,
        psu: &Psu,
        with_balances: bool,
    ) -> Result<AccountList, Error> {
        const OP: &str = "accounts";
        let list: raw::AccountList = self
            .read(
                OP,
                session,
                psu,
                None,
                &["accounts"],
                self.with_balance_query(with_balances),
            )
            .await?;
        let mut accounts = mapping::accounts(list).map_err(|e| e.into_error(self.name, OP))?;
        let mut missing = Vec::new();
        if with_balances && !self.entry.profile.accounts.with_balance {
            for account in &mut accounts {
                match self.balances(session, psu, &account.id).await {
                    Ok(balances) => account.balances = balances,
                    Err(error) => missing.push(MissingBalances::new(account.id.clone(), error)),
                }
            }
        }
        Ok(AccountList::new(accounts, missing))
    }
}

#[async_trait]
impl AccountInformation for BerlinGroup {
    /// Cost: 1 request; with balances at a bank without `withBalance` (profile
    /// `accounts.with_balance = false`) 1 + one per account. All or nothing.
    async fn accounts(
        &self,
        session: &Session,
        psu: &Psu,
        with_balances: bool,
    ) -> Result<Vec<Account>, Error> {
        let mut list = self.list_accounts(session, psu, with_balances).await?;
        match list.missing.pop() {
            Some(missing) => Err(missing.error),
            None => Ok(list.accounts),
        }
    }

    /// Cost: as [`AccountInformation::accounts`]; a failed balances call is reported in
    /// `missing` with the accounts kept.
    async fn account_list(
        &self,
        session: &Session,
        psu: &Psu,
        with_balances: bool,
    ) -> Result<AccountList, Error> {
        self.list_accounts(session, psu, with_balances).await
    }

    /// Cost: 1 request (2 with balances at a bank without `withBalance`).
    async fn account(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        with_balances: bool,
    ) -> Result<Account, Error> {
        const OP: &str = "account";
        let answer: raw::AccountDetailsResponse = self
            .read(
                OP,
                session,
                psu,
                Some(account),
                &["accounts", account.as_str()],
                self.with_balance_query(with_balances),
            )
            .await?;
        let mut mapped = Account::try_from_raw(answer.account)
            .map_err(|e| crate::transaction::under(e, "account").into_error(self.name, OP))?;
        if with_balances && !self.entry.profile.accounts.with_balance {
            mapped.balances = self.balances(session, psu, account).await?;
        }
        Ok(mapped)
    }

    /// Cost: 1 request.
    async fn balances(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
    ) -> Result<Vec<Balance>, Error> {
        const OP: &str = "balances";
        let answer: raw::BalancesResponse = self
            .read(
                OP,
                session,
                psu,
                Some(account),
                &["accounts", account.as_str(), "balances"],
                &[],
            )
            .await?;
        mapping::balances(answer.balances, "balances").map_err(|e| e.into_error(self.name, OP))
    }

    /// Every page by `_links.next`, as the profile says (see the module docs). Cost: one
    /// request per page (two listings when the bank refuses `bookingStatus=both`).
    fn transactions<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
    ) -> BoxStream<'a, Result<Transaction, Error>> {
        const OP: &str = "transactions";
        let pages = self.listing(OP, Resource::Accounts, session, psu, account, query, None);
        listing::all_or_nothing(self.name, OP, pages)
    }

    fn transaction_pages<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
        resume: Option<PageCursor>,
    ) -> BoxStream<'a, Result<TransactionPage, Error>> {
        let pages = self.listing(
            "transactions",
            Resource::Accounts,
            session,
            psu,
            account,
            query,
            resume,
        );
        listing::transaction_pages(self.name, pages)
    }

    /// [`crate::ErrorKind::Unsupported`] when the profile says `details = false` (nothing
    /// is sent). Cost: 1 request.
    async fn transaction_details(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        transaction: &TransactionId,
    ) -> Result<Transaction, Error> {
        const OP: &str = "transaction_details";
        if !self.entry.profile.transactions.details {
            return Err(Error::unsupported(self.name, OP));
        }
        if transaction.as_str().is_empty() || transaction.as_str().chars().any(char::is_control) {
            return Err(Error::invalid_input(
                self.name,
                OP,
                "unusable transaction id",
            ));
        }
        let answer: serde_json::Value = self
            .read(
                OP,
                session,
                psu,
                Some(account),
                &[
                    "accounts",
                    account.as_str(),
                    "transactions",
                    transaction.as_str(),
                ],
                &[],
            )
            .await?;
        let details = mapping::transaction_details(self.name, OP, &answer)?;
        let status = if details.booking_date.is_some() {
            TransactionStatus::Booked
        } else {
            TransactionStatus::Pending
        };
        let mut mapped = mapping::transaction(details, status).map_err(|e| {
            crate::transaction::under(e, "transactionsDetails").into_error(self.name, OP)
        })?;
        super::listing::apply_hooks(&self.entry.profile.hooks, &mut mapped);
        Ok(mapped)
    }
}

#[async_trait]
impl CardAccountInformation for BerlinGroup {
    /// Cost: 1 request.
    async fn card_accounts(&self, session: &Session, psu: &Psu) -> Result<Vec<CardAccount>, Error> {
        const OP: &str = "card_accounts";
        if !self.entry.profile.accounts.card_accounts {
            return Err(Error::unsupported(self.name, OP));
        }
        let list: raw::CardAccountList = self
            .read(OP, session, psu, None, &["card-accounts"], &[])
            .await?;
        mapping::card_accounts(list).map_err(|e| e.into_error(self.name, OP))
    }

    /// Cost: 1 request.
    async fn card_account(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
    ) -> Result<CardAccount, Error> {
        const OP: &str = "card_account";
        if !self.entry.profile.accounts.card_accounts {
            return Err(Error::unsupported(self.name, OP));
        }
        let answer: raw::CardAccountDetailsResponse = self
            .read(
                OP,
                session,
                psu,
                Some(account),
                &["card-accounts", account.as_str()],
                &[],
            )
            .await?;
        CardAccount::try_from_raw(answer.card_account)
            .map_err(|e| crate::transaction::under(e, "cardAccount").into_error(self.name, OP))
    }

    /// Cost: 1 request.
    async fn card_balances(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
    ) -> Result<Vec<Balance>, Error> {
        const OP: &str = "card_balances";
        if !self.entry.profile.accounts.card_accounts {
            return Err(Error::unsupported(self.name, OP));
        }
        let answer: raw::CardBalancesResponse = self
            .read(
                OP,
                session,
                psu,
                Some(account),
                &["card-accounts", account.as_str(), "balances"],
                &[],
            )
            .await?;
        mapping::balances(answer.balances, "balances").map_err(|e| e.into_error(self.name, OP))
    }

    /// Cost: one request per page.
    fn card_transactions<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
    ) -> BoxStream<'a, Result<Transaction, Error>> {
        const OP: &str = "card_transactions";
        if !self.entry.profile.accounts.card_accounts {
            return stream::iter([Err(Error::unsupported(self.name, OP))]).boxed();
        }
        let pages = self.listing(
            OP,
            Resource::CardAccounts,
            session,
            psu,
            account,
            query,
            None,
        );
        listing::all_or_nothing(self.name, OP, pages)
    }

    fn card_transaction_pages<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
        resume: Option<PageCursor>,
    ) -> BoxStream<'a, Result<TransactionPage, Error>> {
        const OP: &str = "card_transaction_pages";
        if !self.entry.profile.accounts.card_accounts {
            return stream::iter([Err(Error::unsupported(self.name, OP))]).boxed();
        }
        let pages = self.listing(
            OP,
            Resource::CardAccounts,
            session,
            psu,
            account,
            query,
            resume,
        );
        listing::transaction_pages(self.name, pages)
    }
}
