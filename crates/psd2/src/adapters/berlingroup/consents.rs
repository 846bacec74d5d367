//! Consents and SCA (redirect, decoupled, embedded) as the profile says.

use async_trait::async_trait;
use chrono::{Days, NaiveDate};
use psd2_registry::{ConsentScopeKind, Hook, ScaApproachKind};
use reqwest::Method;
use reqwest::header::{HeaderName, HeaderValue};
use serde_json::{Value, json};
use url::Url;
use uuid::Uuid;

use super::client::{BerlinGroup, Call};
use super::sca::{self, Authorisation};
use crate::adapters::common::{FromRaw, info};
use crate::api::{Consents, CreatedConsent, Session};
use crate::consent::{Consent, ConsentId, ConsentRequest, ConsentScope, ConsentStatus};
use crate::error::{Error, ErrorKind};
use crate::psu::Psu;
use crate::retry::RetryMode;
use crate::sca::{
    DecoupledHandle, EmbeddedHandle, RedirectCallback, ScaApproach, ScaChallenge, ScaMethod,
    ScaProgress, ScaStatus,
};
use crate::secret::Secret;
use psd2_raw_berlingroup::types as raw;

/// The profile's approach as the domain names it.
pub(super) fn approach(kind: ScaApproachKind) -> ScaApproach {
    match kind {
        ScaApproachKind::Redirect => ScaApproach::Redirect,
        ScaApproachKind::Decoupled => ScaApproach::Decoupled,
        ScaApproachKind::Embedded => ScaApproach::Embedded,
    }
}

fn method_kind(method: &ScaMethod) -> Option<ScaApproachKind> {
    match method {
        ScaMethod::Redirect { .. } => Some(ScaApproachKind::Redirect),
        ScaMethod::Decoupled => Some(ScaApproachKind::Decoupled),
        ScaMethod::Embedded { .. } => Some(ScaApproachKind::Embedded),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

fn flag(value: bool) -> HeaderValue {
    HeaderValue::from_static(if value { "true" } else { "false" })
}

impl BerlinGroup {
    /// The `access` object for `request`, in the scope kind the bank accepts:
    /// all accounts with data → `allPsd2`, else a bank-offered detailed consent (empty
    /// lists: the PSU picks the accounts at the bank); all accounts without data →
    /// `availableAccounts`, else `allPsd2`, else bank-offered; given IBANs → detailed.
    pub(super) fn consent_access(&self, request: &ConsentRequest) -> Result<Value, Error> {
        const OP: &str = "create_consent";
        let scopes = &self.entry.profile.consent.scopes;
        let accepts = |kind| scopes.contains(&kind);
        let bank = self.name;
        let with_data = request.with_balances || request.with_transactions;
        let bank_offered = || json!({"accounts": [], "balances": [], "transactions": []});
        match &request.scope {
            ConsentScope::AllAccounts if with_data => {
                if accepts(ConsentScopeKind::AllPsd2) {
                    Ok(json!({"allPsd2": "allAccounts"}))
                } else if accepts(ConsentScopeKind::Detailed) {
                    Ok(bank_offered())
                } else {
                    Err(Error::invalid_input(
                        bank,
                        OP,
                        format!(
                            "bank `{bank}` grants account lists only (profile consent.scopes = \
                             [available_accounts]): ask without balances and transactions"
                        ),
                    ))
                }
            }
            ConsentScope::AllAccounts => {
                if accepts(ConsentScopeKind::AvailableAccounts) {
                    Ok(json!({"availableAccounts": "allAccounts"}))
                } else if accepts(ConsentScopeKind::AllPsd2) {
                    Ok(json!({"allPsd2": "allAccounts"}))
                } else {
                    Ok(bank_offered())
                }
            }
            ConsentScope::Accounts(ibans) => {
                if !accepts(ConsentScopeKind::Detailed) {
                    return Err(
                        Error::new(ErrorKind::Unsupported { operation: OP }, bank, OP).with_detail(
                            format!(
                                "bank `{bank}` does not accept consents naming accounts (profile \
                             consent.scopes has no `detailed`)"
                            ),
                        ),
                    );
                }
                if ibans.is_empty() {
                    return Err(Error::invalid_input(
                        bank,
                        OP,
                        "a consent for given accounts needs at least one IBAN",
                    ));
                }
                let mut refs = Vec::new();
                for iban in ibans {
                    if iban.as_str().chars().count() > 34 {
                        return Err(Error::invalid_input(
                            bank,
                            OP,
                            "unusable IBAN: longer than 34 characters",
                        ));
                    }
                    refs.push(json!({"iban": iban.as_str()}));
                }
                // Lists not asked for are left out (an empty list would ask the bank to
                // offer the accounts).
                let mut access = serde_json::Map::new();
                access.insert("accounts".into(), Value::Array(refs.clone()));
                if request.with_balances {
                    access.insert("balances".into(), Value::Array(refs.clone()));
                }
                if request.with_transactions {
                    access.insert("transactions".into(), Value::Array(refs));
                }
                Ok(Value::Object(access))
            }
        }
    }

    /// The consent body: `frequencyPerDay` and `validUntil` capped at the profile's
    /// `max_frequency_per_day` and `max_valid_days` (no `validUntil` asks for the maximum);
    /// under the `open_ended_valid_until` hook the bank shortens `validUntil` itself: the
    /// caller's date is sent as is, and none is `9999-12-31`.
    pub(super) fn consent_body(&self, request: &ConsentRequest) -> Result<Value, Error> {
        let rules = &self.entry.profile.consent;
        let frequency = request
            .frequency_per_day
            .clamp(1, rules.max_frequency_per_day.max(1));
        let today = Self::today();
        let latest = today
            .checked_add_days(Days::new(u64::from(rules.max_valid_days)))
            .unwrap_or(NaiveDate::MAX);
        let open_ended = self
            .entry
            .profile
            .hooks
            .contains(&Hook::OpenEndedValidUntil);
        let valid_until = match request.valid_until {
            None if open_ended => NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(latest),
            None => latest,
            Some(date) if open_ended => date,
            Some(date) => date.min(latest),
        };
        if valid_until < today {
            return Err(Error::invalid_input(
                self.name,
                "create_consent",
                "validUntil lies in the past",
            ));
        }
        Ok(json!({
            "access": self.consent_access(request)?,
            "recurringIndicator": request.recurring,
            "validUntil": valid_until.to_string(),
            "frequencyPerDay": frequency,
            "combinedServiceIndicator": false,
        }))
    }

    /// Refuses a method the profile does not offer, before anything is sent.
    fn check_offered(&self, method: &ScaMethod) -> Result<ScaApproachKind, Error> {
        let bank = self.name;
        let offered = &self.entry.profile.sca_approaches;
        match method_kind(method) {
            Some(kind) if offered.contains(&kind) => Ok(kind),
            _ => Err(Error::new(
                ErrorKind::Unsupported {
                    operation: "start_sca",
                },
                bank,
                "start_sca",
            )
            .with_detail(format!(
                "bank `{bank}` does not offer this SCA approach (profile \
                         sca_approaches)"
            ))),
        }
    }

    fn authorisation_url(
        &self,
        operation: &'static str,
        consent: &ConsentId,
        authorisation: Option<&str>,
    ) -> Result<Url, Error> {
        let mut segments = vec!["consents", consent.expose(), "authorisations"];
        if let Some(id) = authorisation {
            segments.push(id);
        }
        self.url(operation, &segments)
    }

    /// A redirect challenge for the bank's `scaRedirect` href, with a fresh `state`.
    fn redirect_challenge(
        &self,
        consent: &ConsentId,
        href: &str,
        authorisation: Option<String>,
        redirect_uri: Option<&Url>,
    ) -> Result<ScaChallenge, Error> {
        let mut url = self.resolve(href).ok_or_else(|| {
            Error::new(ErrorKind::UnexpectedResponse, self.name, "start_sca")
                .with_detail("the bank's scaRedirect link is not a usable URL")
        })?;
        let state = Uuid::new_v4().simple().to_string();
        let has_redirect = url.query_pairs().any(|(k, _)| k == "redirect_uri");
        {
            let mut pairs = url.query_pairs_mut();
            pairs.append_pair("state", &state);
            if let Some(uri) = redirect_uri.filter(|_| !has_redirect) {
                pairs.append_pair("redirect_uri", uri.as_str());
            }
        }
        self.states.insert(consent.expose(), &state, authorisation);
        Ok(ScaChallenge::Redirect { url, state })
    }

    /// The headers and body that start an authorisation for `method`.
    fn start_request(
        &self,
        method: &ScaMethod,
        psu: &Psu,
    ) -> Result<(Vec<(HeaderName, HeaderValue)>, Value), Error> {
        const OP: &str = "start_sca";
        let mut headers = self.psu_headers(OP, psu, true)?;
        let mut body = json!({});
        match method {
            ScaMethod::Redirect { redirect_uri } => {
                headers.push((
                    HeaderName::from_static("tpp-redirect-preferred"),
                    flag(true),
                ));
                headers.push((
                    HeaderName::from_static("tpp-redirect-uri"),
                    HeaderValue::from_str(redirect_uri.as_str()).map_err(|_| {
                        Error::invalid_input(self.name, OP, "unusable redirect URI")
                    })?,
                ));
            }
            ScaMethod::Embedded { password } => {
                if psu.id.is_none() {
                    return Err(Error::invalid_input(
                        self.name,
                        OP,
                        "embedded SCA needs the PSU's id (PSU-ID)",
                    ));
                }
                headers.push((
                    HeaderName::from_static("tpp-redirect-preferred"),
                    flag(false),
                ));
                headers.push((
                    HeaderName::from_static("tpp-decoupled-preferred"),
                    flag(false),
                ));
                body = json!({"psuData": {"password": password.expose()}});
            }
            _ => {
                headers.push((
                    HeaderName::from_static("tpp-redirect-preferred"),
                    flag(false),
                ));
                headers.push((
                    HeaderName::from_static("tpp-decoupled-preferred"),
                    flag(true),
                ));
            }
        }
        Ok((headers, body))
    }

    /// One `PUT` on an embedded authorisation; the answer.
    async fn update_authorisation(
        &self,
        operation: &'static str,
        consent: &ConsentId,
        handle: &EmbeddedHandle,
        body: &Value,
        psu: &Psu,
    ) -> Result<Authorisation, Error> {
        if !self
            .entry
            .profile
            .sca_approaches
            .contains(&ScaApproachKind::Embedded)
        {
            return Err(Error::unsupported(self.name, operation));
        }
        let url = self.authorisation_url(operation, consent, Some(handle.expose()))?;
        let call = Call::new(Method::PUT, url)
            .headers(self.psu_headers(operation, psu, false)?)
            .json(body);
        let answer: raw::AuthorisationUpdated = self
            .fetch(
                info(self.name, operation, psu, None),
                RetryMode::Never,
                &call,
            )
            .await?;
        Ok(Authorisation::from_raw(answer))
    }
}

#[async_trait]
impl Consents for BerlinGroup {
    /// Creates the consent (`frequencyPerDay` and `validUntil` capped at the profile's
    /// limits), then reads it back for what the bank granted. Cost: 2 requests; the creation
    /// is never retried.
    async fn create_consent(
        &self,
        request: &ConsentRequest,
        psu: &Psu,
    ) -> Result<CreatedConsent, Error> {
        const OP: &str = "create_consent";
        let body = self.consent_body(request)?;
        let mut headers = self.psu_headers(OP, psu, true)?;
        if let Some(uri) = &self.tpp_redirect_uri {
            headers.push((
                HeaderName::from_static("tpp-redirect-uri"),
                HeaderValue::from_str(uri.as_str())
                    .map_err(|_| Error::invalid_input(self.name, OP, "unusable redirect URI"))?,
            ));
        }
        let call = Call::new(Method::POST, self.url(OP, &["consents"])?)
            .headers(headers)
            .json(&body);
        let answer: raw::ConsentCreated = self
            .fetch(info(self.name, OP, psu, None), RetryMode::Never, &call)
            .await?;
        let created = sca::created(self.name, OP, answer)?;
        let id = ConsentId::new(created.consent_id);
        let mut consent = Consent::new(id.clone(), created.status);
        match self.consent(&id, psu).await {
            Ok(granted) => {
                consent.valid_until = granted.valid_until;
                consent.frequency_per_day = granted.frequency_per_day;
                consent.recurring = granted.recurring;
            }
            Err(error) => tracing::debug!(
                bank = self.name,
                operation = OP,
                kind = %error.kind,
                "could not read the granted consent"
            ),
        }
        let approaches = self
            .entry
            .profile
            .sca_approaches
            .iter()
            .map(|kind| approach(*kind))
            .collect();
        let mut out = CreatedConsent::new(consent, approaches);
        out.sca_methods = created.methods;
        out.links = created.links;
        if let Some(href) = created.sca_redirect {
            out.challenge = Some(self.redirect_challenge(&id, &href, None, None)?);
        }
        Ok(out)
    }

    /// Cost: 1 request.
    async fn consent_status(&self, consent: &ConsentId, psu: &Psu) -> Result<ConsentStatus, Error> {
        const OP: &str = "consent_status";
        let call = Call::new(
            Method::GET,
            self.url(OP, &["consents", consent.expose(), "status"])?,
        )
        .headers(self.psu_headers(OP, psu, false)?);
        let answer: raw::ConsentStatusResponse = self
            .fetch(info(self.name, OP, psu, None), RetryMode::Idempotent, &call)
            .await?;
        Ok(ConsentStatus::from_bank_str(&answer.consent_status.0))
    }

    /// Cost: 1 request.
    async fn consent(&self, consent: &ConsentId, psu: &Psu) -> Result<Consent, Error> {
        const OP: &str = "consent";
        let call = Call::new(Method::GET, self.url(OP, &["consents", consent.expose()])?)
            .headers(self.psu_headers(OP, psu, false)?);
        let answer: raw::ConsentInformation = self
            .fetch(info(self.name, OP, psu, None), RetryMode::Idempotent, &call)
            .await?;
        Ok(sca::consent(consent.clone(), answer))
    }

    /// Starts an authorisation for an approach the profile offers (anything else is
    /// [`ErrorKind::Unsupported`] before sending), with `TPP-Redirect-Preferred` /
    /// `TPP-Decoupled-Preferred` saying which; embedded sends `PSU-ID` and the password in
    /// `psuData`. Cost: 1 request, never retried.
    async fn start_sca(
        &self,
        consent: &ConsentId,
        method: &ScaMethod,
        psu: &Psu,
    ) -> Result<ScaChallenge, Error> {
        const OP: &str = "start_sca";
        let kind = self.check_offered(method)?;
        let (headers, body) = self.start_request(method, psu)?;
        let call = Call::new(Method::POST, self.authorisation_url(OP, consent, None)?)
            .headers(headers)
            .json(&body);
        let answer: raw::AuthorisationStarted = self
            .fetch(info(self.name, OP, psu, None), RetryMode::Never, &call)
            .await?;
        let started = Authorisation::from_raw(answer);
        match (kind, method) {
            (ScaApproachKind::Redirect, ScaMethod::Redirect { redirect_uri }) => {
                let href = started.sca_redirect.as_deref().ok_or_else(|| {
                    Error::new(ErrorKind::UnexpectedResponse, self.name, OP)
                        .with_detail("the bank offered no scaRedirect link")
                })?;
                self.redirect_challenge(consent, href, started.id, Some(redirect_uri))
            }
            (ScaApproachKind::Embedded, _) => Ok(sca::embedded_challenge(self.name, OP, started)?),
            _ => {
                let id = started
                    .id
                    .ok_or_else(|| sca::missing(self.name, OP, "authorisationId"))?;
                let handle = DecoupledHandle::new(id).with_poll_interval(self.poll_interval);
                Ok(ScaChallenge::Decoupled {
                    poll_interval: handle.poll_interval(),
                    handle,
                    auto_start_token: started
                        .challenge
                        .and_then(|c| c.data.into_iter().next())
                        .map(Secret::new),
                    message: started.psu_message,
                })
            }
        }
    }

    /// Checks `state` against the ones handed out for this consent (nothing is sent on a
    /// mismatch), then requires the consent to be `valid`, or else the authorisation's SCA
    /// status to be finalised. Cost: 1 or 2 requests.
    async fn complete_redirect(
        &self,
        consent: &ConsentId,
        callback: &RedirectCallback,
        psu: &Psu,
    ) -> Result<Session, Error> {
        const OP: &str = "complete_redirect";
        let Some(authorisation) = self.states.check(consent.expose(), &callback.state) else {
            return Err(Error::invalid_input(
                self.name,
                OP,
                "redirect state does not match a challenge of this consent",
            ));
        };
        let done = match self.consent_status(consent, psu).await? {
            ConsentStatus::Valid => Ok(()),
            ConsentStatus::Rejected => Err(ErrorKind::ScaRejected),
            _ => match authorisation {
                // Some banks mark the consent valid only once the authorisation is read.
                Some(id) => {
                    let handle = DecoupledHandle::new(id);
                    match self.poll_decoupled(consent, &handle, psu).await? {
                        ScaProgress::Done(_) => Ok(()),
                        ScaProgress::Failed { .. } => Err(ErrorKind::ScaRejected),
                        _ => Err(ErrorKind::ScaFailed),
                    }
                }
                None => Err(ErrorKind::ScaFailed),
            },
        };
        match done {
            Ok(()) => {
                self.states.forget(consent.expose());
                Ok(Session::new(consent.clone()))
            }
            Err(kind) => Err(Error::new(kind, self.name, OP)
                .with_detail("the bank did not report SCA finished after the redirect")),
        }
    }

    /// One SCA status poll (retried on transient failures). Cost: 1 request.
    async fn poll_decoupled(
        &self,
        consent: &ConsentId,
        handle: &DecoupledHandle,
        psu: &Psu,
    ) -> Result<ScaProgress<Session>, Error> {
        const OP: &str = "poll_decoupled";
        let call = Call::new(
            Method::GET,
            self.authorisation_url(OP, consent, Some(handle.expose()))?,
        )
        .headers(self.psu_headers(OP, psu, false)?);
        let answer: raw::ScaStatusResponse = self
            .fetch(info(self.name, OP, psu, None), RetryMode::Idempotent, &call)
            .await?;
        let status = ScaStatus::from_bank_str(&answer.sca_status.0);
        let text = status.to_string();
        Ok(if status.is_done() {
            ScaProgress::Done(Session::new(consent.clone()))
        } else if status.is_failed() {
            ScaProgress::Failed { reason: Some(text) }
        } else if status.is_other() {
            return Err(
                Error::new(ErrorKind::ScaFailed, self.name, OP).with_detail(format!(
                    "the bank reported an SCA status this crate does not know ({} characters); \
                 polling stopped",
                    text.chars().count()
                )),
            );
        } else {
            ScaProgress::Pending {
                poll_interval: None,
                hint: Some(text),
            }
        })
    }

    /// Embedded: `PUT {"authenticationMethodId"}`. Cost: 1 request, never retried.
    async fn select_sca_method(
        &self,
        consent: &ConsentId,
        handle: &EmbeddedHandle,
        method_id: &str,
        psu: &Psu,
    ) -> Result<ScaChallenge, Error> {
        const OP: &str = "select_sca_method";
        let body = json!({"authenticationMethodId": method_id});
        let mut step = self
            .update_authorisation(OP, consent, handle, &body, psu)
            .await?;
        if step.id.is_none() {
            step.id = Some(handle.expose().to_owned());
        }
        sca::embedded_challenge(self.name, OP, step)
    }

    /// Embedded: `PUT {"scaAuthenticationData"}`; the session once SCA is finalised.
    /// Cost: 1 request, never retried.
    async fn complete_embedded(
        &self,
        consent: &ConsentId,
        handle: &EmbeddedHandle,
        otp: &Secret,
        psu: &Psu,
    ) -> Result<Session, Error> {
        const OP: &str = "complete_embedded";
        let body = json!({"scaAuthenticationData": otp.expose()});
        let status = self
            .update_authorisation(OP, consent, handle, &body, psu)
            .await?
            .status;
        if status.is_done() {
            return Ok(Session::new(consent.clone()));
        }
        let kind = if status == ScaStatus::Failed {
            ErrorKind::ScaFailed
        } else {
            ErrorKind::UnexpectedResponse
        };
        Err(Error::new(kind, self.name, OP).with_detail(format!(
            "the bank reported SCA status `{}` after the one-time code",
            if status.is_other() {
                "other"
            } else {
                status.as_str()
            }
        )))
    }

    /// Cost: 1 request, never retried.
    async fn delete_consent(&self, consent: &ConsentId, psu: &Psu) -> Result<(), Error> {
        const OP: &str = "delete_consent";
        let call = Call::new(
            Method::DELETE,
            self.url(OP, &["consents", consent.expose()])?,
        )
        .headers(self.psu_headers(OP, psu, false)?);
        self.exchange(info(self.name, OP, psu, None), RetryMode::Never, &call)
            .await?;
        self.states.forget(consent.expose());
        Ok(())
    }
}
