//! The trait implementations of [`Handelsbanken`]: consents and SCA, account information and card accounts.

use super::*;

#[async_trait]
impl Consents for Handelsbanken {
    /// Initiates `{"access":"ALL_ACCOUNTS"}`. Handelsbanken consents always cover all
    /// accounts and card accounts; a request for specific accounts is
    /// [`ErrorKind::InvalidInput`]. `valid_until`, `frequency_per_day`, `recurring` and the
    /// data flags are set by the bank: the answer reports what the bank granted, read with
    /// a get-consent call after the creation (unknown when that call fails).
    ///
    /// Cost: two requests with the client token (create, get); none counts against the
    /// consent's access budget. Never retried (a retry could create a second consent).
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
            .with_client_token(info(BANK, OP, psu, None), RetryMode::Never, |auth, rid| {
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
        let mut created = CreatedConsent::from_raw(&response);
        self.remember_flow(&response.consent_id, flow);
        // The create answer carries no validity: read what the bank granted (never what
        // was asked); unknown when that read fails.
        match self.consent(&created.consent.id, psu).await {
            Ok(granted) => {
                created.consent.valid_until = granted.valid_until;
                created.consent.frequency_per_day = granted.frequency_per_day;
                created.consent.recurring = granted.recurring;
            }
            Err(error) => tracing::debug!(
                bank = BANK,
                operation = OP,
                kind = %error.kind,
                "could not read the granted consent"
            ),
        }
        Ok(created)
    }

    async fn consent_status(&self, consent: &ConsentId, psu: &Psu) -> Result<ConsentStatus, Error> {
        const OP: &str = "consent_status";
        let flow = self.flow_id(consent);
        let response = self
            .with_client_token(
                info(BANK, OP, psu, None),
                RetryMode::Idempotent,
                |auth, rid| {
                    let builder = self.raw.get_consent_status().consent_id(consent.expose());
                    let call = with_headers!(builder, self, auth, rid, flow, psu).send();
                    send(OP, rid, call)
                },
            )
            .await?;
        Ok(ConsentStatus::from_raw(&response.consent_status))
    }

    async fn consent(&self, consent: &ConsentId, psu: &Psu) -> Result<Consent, Error> {
        const OP: &str = "consent";
        let flow = self.flow_id(consent);
        let response = self
            .with_client_token(
                info(BANK, OP, psu, None),
                RetryMode::Idempotent,
                |auth, rid| {
                    let builder = self.raw.get_consent().consent_id(consent.expose());
                    let call = with_headers!(builder, self, auth, rid, flow, psu).send();
                    send(OP, rid, call)
                },
            )
            .await?;
        Ok(Consent::from_raw(&response))
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
                self.redirects
                    .insert(consent.expose(), &state, redirect_uri.clone());
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
                    .with_client_token(info(BANK, OP, psu, None), RetryMode::Never, |auth, rid| {
                        let builder = self.raw.init_decoupled_authorization().body(body.clone());
                        let call = with_headers!(builder, self, auth, rid, flow, psu).send();
                        send(OP, rid, call)
                    })
                    .await?;
                Ok(ScaChallenge::from_raw(&response))
            }
            ScaMethod::Embedded { .. } => Err(Error::unsupported(BANK, "start_sca")),
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
        if !self.redirects.has_consent(consent.expose()) {
            return Err(Error::invalid_input(
                BANK,
                OP,
                "no redirect SCA was started for this consent (or it expired)",
            ));
        }
        let Some(redirect_uri) = self.redirects.check(consent.expose(), &callback.state) else {
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
        };
        let mut body = self.token_body(raw::GetTokenBodyGrantType::AuthorizationCode);
        body.code = Some(callback.code.expose().to_owned());
        body.redirect_uri = Some(redirect_uri.to_string());
        let now = Utc::now();
        let grant = self
            .token_call("authorization_code_token", RetryMode::Never, body)
            .await?;
        self.redirects.forget(consent.expose());
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
            .with_client_token(
                info(BANK, OP, psu, None),
                RetryMode::Idempotent,
                |auth, rid| {
                    let builder = self
                        .raw
                        .poll_decoupled_authorization()
                        .order_ref(handle.expose());
                    let call = with_headers!(builder, self, auth, rid, flow, psu).send();
                    send(OP, rid, call)
                },
            )
            .await?;
        in_op(
            OP,
            mapping::decoupled_progress(&response, consent, Utc::now()),
        )
    }

    async fn delete_consent(&self, consent: &ConsentId, psu: &Psu) -> Result<(), Error> {
        const OP: &str = "delete_consent";
        let flow = self.flow_id(consent);
        self.with_client_token(info(BANK, OP, psu, None), RetryMode::Never, |auth, rid| {
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
    /// call (the v2 list carries none). All or nothing: see
    /// [`AccountInformation::account_list`] for the accounts that arrived when a details
    /// call fails.
    ///
    /// Cost: 1 request, or 1 + one per account with balances (the list has none).
    async fn accounts(
        &self,
        session: &Session,
        psu: &Psu,
        with_balances: bool,
    ) -> Result<Vec<Account>, Error> {
        let mut list = self.account_list(session, psu, with_balances).await?;
        match list.missing.is_empty() {
            true => Ok(list.accounts),
            false => Err(list.missing.swap_remove(0).error),
        }
    }

    /// The account list, and with `with_balances` each account's details call for its
    /// balances. A details call that fails does not lose the others: the account is listed
    /// without balances and named in [`AccountList::missing`] with the error. After an
    /// access-budget refusal (`ACCESS_EXCEEDED`) no further details call is sent: the
    /// remaining accounts are named as missing for the same reason.
    ///
    /// Cost: 1 request, or 1 + one per account with balances.
    async fn account_list(
        &self,
        session: &Session,
        psu: &Psu,
        with_balances: bool,
    ) -> Result<AccountList, Error> {
        const OP: &str = "accounts";
        let flow = self.flow_id(&session.consent_id);
        let list = self
            .with_session(session, info(BANK, OP, psu, None), |auth, rid| {
                let call =
                    with_headers!(self.raw.get_accounts(), self, auth, rid, flow, psu).send();
                send(OP, rid, call)
            })
            .await?;
        let mut accounts = in_op(OP, mapping::accounts(&list))?;
        let mut missing: Vec<MissingBalances> = Vec::new();
        let mut budget_spent = false;
        for account in &mut accounts {
            if !with_balances {
                account.balances.clear();
                continue;
            }
            if !account.balances.is_empty() {
                continue;
            }
            if budget_spent {
                let error = Error::new(ErrorKind::AccessExceeded { retry_after: None }, BANK, "account")
                    .with_detail("not requested: the bank refused an earlier call of this listing (access exceeded)");
                missing.push(MissingBalances::new(account.id.clone(), error));
                continue;
            }
            match self.account_details(session, psu, &account.id).await {
                Ok(details) => account.balances = details.balances,
                Err(error) => {
                    budget_spent = matches!(error.kind, ErrorKind::AccessExceeded { .. });
                    missing.push(MissingBalances::new(account.id.clone(), error));
                }
            }
        }
        Ok(AccountList::new(accounts, missing))
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
    /// Cost: 1 request.
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
    /// Cost: one request per page.
    fn transactions<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
    ) -> BoxStream<'a, Result<Transaction, Error>> {
        let pages = self.listing(session, psu, account, query, None, false);
        listing::all_or_nothing(BANK, "transactions", pages)
    }

    fn transaction_pages<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
        resume: Option<PageCursor>,
    ) -> BoxStream<'a, Result<TransactionPage, Error>> {
        let pages = self.listing(session, psu, account, query, resume, false);
        listing::transaction_pages(BANK, pages)
    }
}

#[async_trait]
impl CardAccountInformation for Handelsbanken {
    async fn card_accounts(&self, session: &Session, psu: &Psu) -> Result<Vec<CardAccount>, Error> {
        const OP: &str = "card_accounts";
        let flow = self.flow_id(&session.consent_id);
        let list = self
            .with_session(session, info(BANK, OP, psu, None), |auth, rid| {
                let call =
                    with_headers!(self.raw.get_card_accounts(), self, auth, rid, flow, psu).send();
                send(OP, rid, call)
            })
            .await?;
        in_op(OP, mapping::card_accounts(&list))
    }

    async fn card_account(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
    ) -> Result<CardAccount, Error> {
        const OP: &str = "card_account";
        check_account_id(BANK, OP, account)?;
        let flow = self.flow_id(&session.consent_id);
        let response = self
            .with_session(session, info(BANK, OP, psu, Some(account)), |auth, rid| {
                let builder = self
                    .raw
                    .get_card_account_details()
                    .account_id(account.as_str());
                let call = with_headers!(builder, self, auth, rid, flow, psu).send();
                send(OP, rid, call)
            })
            .await?;
        in_op(OP, CardAccount::try_from_raw(&response.card_account))
    }

    async fn card_balances(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
    ) -> Result<Vec<Balance>, Error> {
        const OP: &str = "card_balances";
        check_account_id(BANK, OP, account)?;
        let flow = self.flow_id(&session.consent_id);
        let response = self
            .with_session(session, info(BANK, OP, psu, Some(account)), |auth, rid| {
                let builder = self
                    .raw
                    .get_card_account_balances()
                    .account_id(account.as_str());
                let call = with_headers!(builder, self, auth, rid, flow, psu).send();
                send(OP, rid, call)
            })
            .await?;
        in_op(OP, mapping::card_balances(&response.balances))
    }

    /// Booked and/or pending card transactions (the `bookingStatus` query parameter), every
    /// page; the date range is sent on every page. Cost: one request per page.
    fn card_transactions<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
    ) -> BoxStream<'a, Result<Transaction, Error>> {
        let pages = self.listing(session, psu, account, query, None, true);
        listing::all_or_nothing(BANK, "card_transactions", pages)
    }

    fn card_transaction_pages<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
        resume: Option<PageCursor>,
    ) -> BoxStream<'a, Result<TransactionPage, Error>> {
        let pages = self.listing(session, psu, account, query, resume, true);
        listing::transaction_pages(BANK, pages)
    }
}
