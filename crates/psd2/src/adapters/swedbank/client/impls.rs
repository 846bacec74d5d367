//! The trait implementations of [`Swedbank`]: consents and SCA, account information.

use super::*;

#[async_trait]
impl Consents for Swedbank {
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
        let (y, m, d) = MAX_VALID_UNTIL;
        let valid_until = match request.valid_until {
            Some(date) => date,
            None => NaiveDate::from_ymd_opt(y, m, d)
                .ok_or_else(|| Error::invalid_input(BANK, OP, "no maximum validUntil date"))?,
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
        let created = self
            .call(info(BANK, OP, psu, None), RetryMode::Never, |rid| {
                let builder = xs2a!(
                    self.raw.create_consent().body(body.clone()),
                    self,
                    &headers,
                    rid
                );
                set_some!(
                    builder,
                    tpp_redirect_uri = self.redirect_uri.as_ref().map(Url::to_string)
                )
                .send()
            })
            .await?;
        let id = ConsentId::new(created.consent_id);
        let mut consent = Consent::new(id.clone(), ConsentStatus::from_raw(created.consent_status));
        match self.consent(&id, psu).await {
            Ok(granted) => {
                consent.valid_until = granted.valid_until;
                consent.frequency_per_day = granted.frequency_per_day;
                consent.recurring = granted.recurring;
            }
            Err(error) => tracing::debug!(
                bank = BANK,
                operation = OP,
                kind = %error.kind,
                "could not read the granted consent"
            ),
        }
        let mut answer =
            CreatedConsent::new(consent, vec![ScaApproach::Redirect, ScaApproach::Decoupled]);
        if let Some(link) = &created.links.sca_redirect {
            answer.challenge = Some(self.redirect_challenge(&id, &link.href)?);
        }
        Ok(answer)
    }

    /// Cost: 1 request.
    async fn consent_status(&self, consent: &ConsentId, psu: &Psu) -> Result<ConsentStatus, Error> {
        let headers = self.psu_headers(psu);
        let answer = self
            .call(
                info(BANK, "consent_status", psu, None),
                RetryMode::Idempotent,
                |rid| {
                    xs2a!(
                        self.raw.get_consent_status().consent_id(consent.expose()),
                        self,
                        &headers,
                        rid
                    )
                    .send()
                },
            )
            .await?;
        Ok(ConsentStatus::from_raw(answer.consent_status))
    }

    /// Cost: 1 request.
    async fn consent(&self, consent: &ConsentId, psu: &Psu) -> Result<Consent, Error> {
        let headers = self.psu_headers(psu);
        let answer = self
            .call(
                info(BANK, "consent", psu, None),
                RetryMode::Idempotent,
                |rid| {
                    xs2a!(
                        self.raw.get_consent().consent_id(consent.expose()),
                        self,
                        &headers,
                        rid
                    )
                    .send()
                },
            )
            .await?;
        Ok(mapping::consent(consent.clone(), answer))
    }

    /// Cost: 1 request, never retried.
    async fn start_sca(
        &self,
        consent: &ConsentId,
        method: &ScaMethod,
        psu: &Psu,
    ) -> Result<ScaChallenge, Error> {
        let headers = self.psu_headers(psu);
        let started = self
            .call(
                info(BANK, "start_sca", psu, None),
                RetryMode::Never,
                |rid| {
                    let builder = xs2a!(
                        self.raw
                            .start_consent_authorisation()
                            .consent_id(consent.expose())
                            .body(raw::StartAuthorisationRequest::default()),
                        self,
                        &headers,
                        rid
                    );
                    match method {
                        ScaMethod::Redirect { redirect_uri } => builder
                            .tpp_redirect_uri(redirect_uri.to_string())
                            .tpp_redirect_preferred(true),
                        ScaMethod::Decoupled => builder.tpp_redirect_preferred(false),
                    }
                    .send()
                },
            )
            .await?;
        match method {
            ScaMethod::Redirect { .. } => {
                let link = started.links.sca_redirect.as_ref().ok_or_else(|| {
                    Error::new(ErrorKind::UnexpectedResponse, BANK, "start_sca")
                        .with_detail("the bank offered no scaRedirect link")
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

    /// Checks `state` against the ones handed out for this consent (nothing is sent on a
    /// mismatch), then requires the consent to be `valid`. Cost: 1 request.
    async fn complete_redirect(
        &self,
        consent: &ConsentId,
        callback: &RedirectCallback,
        psu: &Psu,
    ) -> Result<Session, Error> {
        if self
            .states
            .check(consent.expose(), &callback.state)
            .is_none()
        {
            return Err(Error::invalid_input(
                BANK,
                "complete_redirect",
                "redirect state does not match a challenge of this consent",
            ));
        }
        let status = self.consent_status(consent, psu).await?;
        if status.is_usable() || status.is_final() {
            self.states.forget(consent.expose());
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

    /// One status poll (retried on transient failures). An SCA status this crate does not
    /// know ends polling with [`ErrorKind::ScaFailed`]. Cost: 1 request.
    async fn poll_decoupled(
        &self,
        consent: &ConsentId,
        handle: &DecoupledHandle,
        psu: &Psu,
    ) -> Result<ScaProgress<Session>, Error> {
        const OP: &str = "poll_decoupled";
        let headers = self.psu_headers(psu);
        let answer = self
            .call(info(BANK, OP, psu, None), RetryMode::Idempotent, |rid| {
                xs2a!(
                    self.raw
                        .get_consent_authorisation()
                        .consent_id(consent.expose())
                        .authorisation_id(handle.expose()),
                    self,
                    &headers,
                    rid
                )
                .send()
            })
            .await?;
        let status = ScaStatus::from_bank_str(&answer.sca_status);
        Ok(if status.is_done() {
            ScaProgress::Done(Session::new(consent.clone()))
        } else if status.is_failed() {
            ScaProgress::Failed {
                reason: Some(answer.sca_status),
            }
        } else if status.is_other() {
            return Err(unknown_sca_status(OP, &answer.sca_status));
        } else {
            ScaProgress::Pending {
                poll_interval: None,
                hint: Some(answer.sca_status),
            }
        })
    }

    /// Cost: 1 request, never retried.
    async fn delete_consent(&self, consent: &ConsentId, psu: &Psu) -> Result<(), Error> {
        let headers = self.psu_headers(psu);
        self.call(
            info(BANK, "delete_consent", psu, None),
            RetryMode::Never,
            |rid| {
                xs2a!(
                    self.raw.delete_consent().consent_id(consent.expose()),
                    self,
                    &headers,
                    rid
                )
                .send()
            },
        )
        .await?;
        self.states.forget(consent.expose());
        Ok(())
    }
}

/// The error ending a decoupled SCA whose status this crate does not know: polling it until
/// the timeout would only hide it. Says the status's length, not its text.
fn unknown_sca_status(operation: &'static str, status: &str) -> Error {
    Error::new(ErrorKind::ScaFailed, BANK, operation).with_detail(format!(
        "the bank reported an SCA status this crate does not know ({} characters); polling stopped",
        status.chars().count()
    ))
}

#[async_trait]
impl AccountInformation for Swedbank {
    /// Cost: 1 request (balances come with the list).
    async fn accounts(
        &self,
        session: &Session,
        psu: &Psu,
        with_balances: bool,
    ) -> Result<Vec<Account>, Error> {
        let headers = self.psu_headers(psu);
        let list = self
            .call(
                info(BANK, "accounts", psu, None),
                RetryMode::Idempotent,
                |rid| {
                    xs2a!(
                        self.raw
                            .get_account_list()
                            .consent_id(session.consent_id.expose())
                            .with_balance(with_balances),
                        self,
                        &headers,
                        rid
                    )
                    .send()
                },
            )
            .await?;
        mapping::accounts(list).map_err(|e| mapping_error("accounts", e))
    }

    /// Cost: 1 request.
    async fn account(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
        with_balances: bool,
    ) -> Result<Account, Error> {
        check_account_id(BANK, "account", account)?;
        let headers = self.psu_headers(psu);
        let details = self
            .call(
                info(BANK, "account", psu, Some(account)),
                RetryMode::Idempotent,
                |rid| {
                    xs2a!(
                        self.raw
                            .get_account_details()
                            .account_id(account.as_str())
                            .consent_id(session.consent_id.expose())
                            .with_balance(with_balances),
                        self,
                        &headers,
                        rid
                    )
                    .send()
                },
            )
            .await?;
        Account::try_from_raw(details).map_err(|e| mapping_error("account", e))
    }

    /// Cost: 1 request.
    async fn balances(
        &self,
        session: &Session,
        psu: &Psu,
        account: &AccountId,
    ) -> Result<Vec<Balance>, Error> {
        check_account_id(BANK, "balances", account)?;
        let headers = self.psu_headers(psu);
        let answer = self
            .call(
                info(BANK, "balances", psu, Some(account)),
                RetryMode::Idempotent,
                |rid| {
                    xs2a!(
                        self.raw
                            .get_balances()
                            .account_id(account.as_str())
                            .consent_id(session.consent_id.expose()),
                        self,
                        &headers,
                        rid
                    )
                    .send()
                },
            )
            .await?;
        mapping::balances(answer.balances).map_err(|e| mapping_error("balances", e))
    }

    /// Every page, following `_links.next.href` (only into the bank's API) with the caller's
    /// query put back. Cost: one request per page.
    fn transactions<'a>(
        &'a self,
        session: &'a Session,
        psu: &'a Psu,
        account: &'a AccountId,
        query: &'a TransactionQuery,
    ) -> BoxStream<'a, Result<Transaction, Error>> {
        let pages = self.listing(session, psu, account, query, None);
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
        let pages = self.listing(session, psu, account, query, resume);
        listing::transaction_pages(BANK, pages)
    }
}
