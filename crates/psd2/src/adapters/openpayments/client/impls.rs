//! The trait implementations of [`OpenPayments`]: consents and SCA, account information.

use super::*;

#[async_trait]
impl Consents for OpenPayments {
    /// Creates the consent, then reads it back: the answer reports the validity, frequency
    /// and recurrence the bank granted, never what was asked (unknown when that read fails).
    ///
    /// Cost: 2 requests (create, get). The creation is never retried.
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
        let answer = self
            .call(
                info(BANK, OP, psu, None),
                RetryMode::Never,
                Secrets::of(None, psu),
                move |rid| {
                    headers!(self.raw.create_consent(), bic, h, rid)
                        .body(body.clone())
                        .send()
                },
            )
            .await?;
        let mut created = mapping::created(&answer, &self.config.redirect_method_id);
        // The create answer carries no validity: report what the bank granted (never what
        // was asked); unknown when that read fails.
        let granted = self.consent(&created.consent.id, psu).await;
        if let Err(error) = &granted {
            tracing::debug!(bank = BANK, operation = OP, kind = %error.kind, "could not read the granted consent");
        }
        let granted = granted.ok();
        created.consent.valid_until = granted.as_ref().and_then(|c| c.valid_until);
        created.consent.frequency_per_day = granted.as_ref().and_then(|c| c.frequency_per_day);
        created.consent.recurring = granted.as_ref().and_then(|c| c.recurring);
        Ok(created)
    }

    async fn consent_status(&self, consent: &ConsentId, psu: &Psu) -> Result<ConsentStatus, Error> {
        self.fetch_consent_status(consent, psu).await
    }

    async fn consent(&self, consent: &ConsentId, psu: &Psu) -> Result<Consent, Error> {
        let (cid, h, bic) = (consent.expose(), PsuHeaders::of(psu), self.bic());
        let answer = self
            .call(
                info(BANK, "consent", psu, None),
                RetryMode::Idempotent,
                Secrets::of(Some(consent), psu),
                move |rid| {
                    headers!(self.raw.get_consent(), bic, h, rid, ua)
                        .consent_id(cid)
                        .send()
                },
            )
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
                self.redirect_states.insert(consent.expose(), &state, ());
                Ok(ScaChallenge::Redirect { url, state })
            }
            ScaMethod::Embedded { .. } => Err(Error::unsupported(BANK, OP)),
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
        if self.redirect_states.has_consent(consent.expose())
            && self
                .redirect_states
                .check(consent.expose(), &callback.state)
                .is_none()
        {
            return Err(Error::invalid_input(
                BANK,
                OP,
                "redirect state does not match the challenge",
            ));
        }
        self.wait_for_valid_consent(consent, psu, OP).await?;
        self.redirect_states.forget(consent.expose());
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
                info(BANK, "poll_decoupled", psu, None),
                RetryMode::Idempotent,
                Secrets::of(Some(consent), psu),
                move |rid| {
                    headers!(self.raw.get_consent_authorisation(), bic, h, rid, ua)
                        .consent_id(cid)
                        .authorisation_id(aid)
                        .send()
                },
            )
            .await?;
        let sca = ScaStatus::from_raw(&answer.sca_status);
        if sca.is_other() {
            return Err(
                Error::new(ErrorKind::ScaFailed, BANK, "poll_decoupled").with_detail(format!(
                    "the bank reported an SCA status this crate does not know ({} characters); polling stopped",
                    sca.as_str().chars().count()
                )),
            );
        }
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
            info(BANK, "delete_consent", psu, None),
            RetryMode::Never,
            Secrets::of(Some(consent), psu),
            move |rid| {
                headers!(self.raw.delete_consent(), bic, h, rid, ua)
                    .consent_id(cid)
                    .send()
            },
        )
        .await?;
        self.redirect_states.forget(consent.expose());
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
                info(BANK, OP, psu, None),
                RetryMode::Idempotent,
                Secrets::of(Some(&session.consent_id), psu),
                move |rid| {
                    headers!(self.raw.get_account_list(), bic, h, rid, ua)
                        .consent_id(cid)
                        .with_balance(with_balances)
                        .send()
                },
            )
            .await?;
        mapped(OP, mapping::accounts(&answer))
    }

    async fn account(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        with_balances: bool,
    ) -> Result<Account, Error> {
        const OP: &str = "account";
        check_account_id(BANK, OP, account)?;
        let (cid, h, bic) = (session.consent_id.expose(), PsuHeaders::of(psu), self.bic());
        let answer = self
            .call(
                info(BANK, OP, psu, Some(account)),
                RetryMode::Idempotent,
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
        mapped(OP, Account::try_from_raw(&answer))
    }

    async fn balances(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
    ) -> Result<Vec<Balance>, Error> {
        const OP: &str = "balances";
        check_account_id(BANK, OP, account)?;
        let (cid, h, bic) = (session.consent_id.expose(), PsuHeaders::of(psu), self.bic());
        let answer = self
            .call(
                info(BANK, OP, psu, Some(account)),
                RetryMode::Idempotent,
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

    /// Every page (`continuationKey`); entries outside the query's booking status dropped
    /// even when the platform sends them. Cost: one request per page (plus one per
    /// transaction with `fetch_transaction_details`).
    ///
    /// When reading ahead (see [`TransactionQuery::read_ahead`]), each page's body is
    /// decoded and mapped on a spawned task while the next page is requested; by default
    /// only when the PSU is present (`PSU-IP-Address` is sent, IPv4 only), whose calls do not count
    /// against the consent's `frequencyPerDay`. A consumer that stops before the end may so
    /// have caused one request more than it used. With `fetch_transaction_details`, pages
    /// are fetched one after the other and mapped as they are pulled.
    fn transactions<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
    ) -> BoxStream<'a, Result<Transaction, Error>> {
        const OP: &str = "transactions";
        if let Err(error) = check_account_id(BANK, OP, account) {
            return stream::iter([Err(error)]).boxed();
        }
        if !self.config.fetch_transaction_details {
            let held = pipelined::Held::new(session, psu, query.booking_status);
            return Paginator::new(BANK, OP).stream_pipelined(
                Self::reads_ahead(psu, query),
                move |cursor| self.fetch_page(session, psu, account, query, cursor),
                move |fetched, buffer| {
                    pipelined::decode_page(fetched, &held, pipelined::stream_entry, buffer)
                },
            );
        }
        Paginator::new(BANK, OP).stream_lazy(move |cursor: Option<String>| async move {
            let (entries, next) = self
                .transaction_page(session, psu, account, query, cursor)
                .await?;
            // Mapped in place (no second boxed iterator between the page and the stream).
            let items = entries.map(|e| e.map_err(|e| e.into_error(BANK, OP)));
            Ok(LazyPage::new(items, next))
        })
    }

    /// The pages of [`AccountInformation::transactions`], with per-entry results and a
    /// cursor each, read ahead in the same way: a consumer that stores a cursor and stops
    /// may have caused one request more than it used (the page after it).
    fn transaction_pages<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
        resume: Option<PageCursor>,
    ) -> BoxStream<'a, Result<TransactionPage, Error>> {
        const OP: &str = "transactions";
        if let Err(error) = check_account_id(BANK, OP, account) {
            return stream::iter([Err(error)]).boxed();
        }
        if !self.config.fetch_transaction_details {
            let held = pipelined::Held::new(session, psu, query.booking_status);
            let pages = listing::pages_pipelined(
                BANK,
                OP,
                query.booking_status,
                resume,
                Self::reads_ahead(psu, query),
                move |cursor| self.fetch_page(session, psu, account, query, cursor),
                move |fetched| {
                    pipelined::decode_page(fetched, &held, pipelined::page_entry, Vec::new())
                },
            );
            return listing::transaction_pages(BANK, pages);
        }
        let pages = listing::pages(
            BANK,
            OP,
            query.booking_status,
            resume,
            move |cursor| async move {
                let (entries, next) = self
                    .transaction_page(session, psu, account, query, cursor)
                    .await?;
                Ok((entries.collect::<Entries>(), next))
            },
        );
        listing::transaction_pages(BANK, pages)
    }

    /// The details call alone (cost: 1 request). Its answer has no booking status: a transaction with a
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
