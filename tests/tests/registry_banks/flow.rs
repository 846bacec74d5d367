//! The whole account-information flow, written once against `&dyn Bank`.
//!
//! [`run_whole_flow`] never asks which bank it talks to: it reads only what the facade
//! reports and the profile's facts handed in as plain data ([`ProfileFacts`]), and it uses
//! the sandbox only where a real PSU would act (the browser on the redirect page, the
//! embedded password and one-time code).

use std::time::Duration;

use chrono::{Days, NaiveDate};
use futures::{StreamExt, TryStreamExt};
use psd2::{
    AccountId, AccountInformation, Bank, BookingStatus, ConsentRequest, Consents, CreatedConsent,
    Error, ErrorKind, Psu, RedirectCallback, ScaChallenge, ScaMethod, Secret, Session, Transaction,
    TransactionQuery,
};
use psd2_registry::{BankProfile, BookingStatusKind, ConsentScopeKind, ScaApproachKind};
use url::Url;

/// What the flow may know of a bank: its profile's facts, as plain data.
#[derive(Debug, Clone)]
pub struct ProfileFacts {
    /// SCA approaches offered, most preferred first.
    pub sca_approaches: Vec<ScaApproachKind>,
    /// Consent scopes accepted.
    pub scopes: Vec<ConsentScopeKind>,
    /// Largest `frequencyPerDay` granted.
    pub max_frequency_per_day: u32,
    /// Longest consent validity in days.
    pub max_valid_days: u32,
    /// Whether `withBalance` is accepted on the account list.
    pub with_balance: bool,
    /// Whether card accounts are offered.
    pub card_accounts: bool,
    /// Booking statuses accepted.
    pub booking_statuses: Vec<BookingStatusKind>,
    /// Days of history reachable.
    pub history_days: u32,
    /// Entries per page.
    pub page_size: u32,
    /// Whether transaction details are offered.
    pub details: bool,
}

impl ProfileFacts {
    /// The facts of `profile`.
    pub fn of(profile: &BankProfile) -> Self {
        Self {
            sca_approaches: profile.sca_approaches.clone(),
            scopes: profile.consent.scopes.clone(),
            max_frequency_per_day: profile.consent.max_frequency_per_day,
            max_valid_days: profile.consent.max_valid_days,
            with_balance: profile.accounts.with_balance,
            card_accounts: profile.accounts.card_accounts,
            booking_statuses: profile.transactions.booking_statuses.clone(),
            history_days: profile.transactions.history_days,
            page_size: profile.transactions.page_size,
            details: profile.transactions.details,
        }
    }

    /// The earliest `dateFrom` inside the history window on `today`: `history_days` back.
    pub fn window_start(&self, today: NaiveDate) -> NaiveDate {
        today
            .checked_sub_days(Days::new(u64::from(self.history_days)))
            .unwrap()
    }

    /// Whether the bank grants consents to balances and transactions (a global or a
    /// detailed consent), not only to the account list.
    pub fn reads_data(&self) -> bool {
        self.scopes
            .iter()
            .any(|s| matches!(s, ConsentScopeKind::AllPsd2 | ConsentScopeKind::Detailed))
    }

    /// The listings that together give every booked and pending entry: `both` when the
    /// bank accepts it, else booked and pending apart.
    pub fn listings(&self) -> Vec<BookingStatus> {
        if self.booking_statuses.contains(&BookingStatusKind::Both) {
            return vec![BookingStatus::Both];
        }
        let mut out = vec![BookingStatus::Booked];
        if self.booking_statuses.contains(&BookingStatusKind::Pending) {
            out.push(BookingStatus::Pending);
        }
        out
    }
}

/// What the flow needs of the world around the bank: the day, the PSU's browser and
/// credentials.
#[derive(Debug, Clone)]
pub struct SandboxHelpers {
    /// The bank's today.
    pub today: NaiveDate,
    /// The TPP's redirect URI (where the bank's SCA page sends the browser back).
    pub redirect_uri: Url,
    /// The PSU's online-banking password (embedded SCA).
    pub embedded_password: &'static str,
    /// The one-time code the PSU's device shows (embedded SCA).
    pub embedded_otp: &'static str,
}

/// One listing of one account, as the facade delivered it.
#[derive(Debug, Clone)]
pub struct Listing {
    /// The booking status asked for.
    pub status: BookingStatus,
    /// The `dateFrom` asked for.
    pub date_from: NaiveDate,
    /// The `dateTo` asked for.
    pub date_to: NaiveDate,
    /// Entries per page.
    pub page_sizes: Vec<usize>,
    /// Whether each page had a next cursor.
    pub has_next: Vec<bool>,
    /// Every entry that mapped.
    pub transactions: Vec<Transaction>,
    /// Entries that did not map.
    pub entry_errors: usize,
    /// The first entry error, as text.
    pub first_entry_error: Option<String>,
}

/// One account, as the flow saw it.
#[derive(Debug, Clone)]
pub struct AccountSummary {
    /// The bank's id.
    pub id: AccountId,
    /// Balances that came with the account list.
    pub listed_balances: usize,
    /// Balances from the balances call.
    pub balances: Vec<psd2::Balance>,
    /// The listings.
    pub listings: Vec<Listing>,
}

/// What the whole flow did.
#[derive(Debug, Clone)]
pub struct Summary {
    /// `Bank::name()`.
    pub bank: &'static str,
    /// The SCA approach used.
    pub approach: ScaApproachKind,
    /// The authorised session.
    pub session: Session,
    /// Every account.
    pub accounts: Vec<AccountSummary>,
    /// A listed entry and its details, when the bank offers details.
    pub details: Option<(AccountId, Transaction, Transaction)>,
    /// Card account ids, when the bank offers card accounts.
    pub card_accounts: Option<Vec<AccountId>>,
    /// The booked entries of the first card account in the window, and the window.
    pub card_transactions: Option<(usize, NaiveDate, NaiveDate)>,
}

fn missing(bank: &dyn Bank, what: &'static str) -> Error {
    Error::unsupported(bank.name(), what)
}

/// The consent request the profile accepts: all accounts, with balances and transactions
/// where the bank grants them (a global or a detailed consent), else the account list only;
/// frequency and validity within the bank's limits.
pub fn consent_request(facts: &ProfileFacts, helpers: &SandboxHelpers) -> ConsentRequest {
    let data = facts.reads_data();
    let request = ConsentRequest::all_accounts().with_data(data, data);
    let days = facts.max_valid_days.clamp(1, 90).saturating_sub(1);
    request
        .frequency_per_day(facts.max_frequency_per_day.min(4))
        .valid_until(
            helpers
                .today
                .checked_add_days(Days::new(u64::from(days)))
                .unwrap(),
        )
}

/// Creates a consent the profile accepts and authorises it by the profile's first SCA
/// approach.
pub async fn open_session(
    bank: &dyn Bank,
    facts: &ProfileFacts,
    psu: &Psu,
    helpers: &SandboxHelpers,
) -> Result<(ScaApproachKind, Session), Error> {
    let consents = bank
        .as_consents()
        .ok_or_else(|| missing(bank, "consents"))?;
    let created = consents
        .create_consent(&consent_request(facts, helpers), psu)
        .await?;
    let approach = *facts
        .sca_approaches
        .first()
        .ok_or_else(|| missing(bank, "sca"))?;
    let session = authorise(consents, &created, approach, psu, helpers).await?;
    Ok((approach, session))
}

/// SCA of `created` by `approach`, as the PSU would do it.
pub async fn authorise(
    consents: &dyn Consents,
    created: &CreatedConsent,
    approach: ScaApproachKind,
    psu: &Psu,
    helpers: &SandboxHelpers,
) -> Result<Session, Error> {
    let consent = &created.consent.id;
    let bank = consents.name();
    let unexpected = |what: &str| {
        Error::new(ErrorKind::UnexpectedResponse, bank, "start_sca")
            .with_detail(format!("expected a {what} challenge"))
    };
    match approach {
        ScaApproachKind::Redirect => {
            let method = ScaMethod::Redirect {
                redirect_uri: helpers.redirect_uri.clone(),
            };
            let ScaChallenge::Redirect { url, state } =
                consents.start_sca(consent, &method, psu).await?
            else {
                return Err(unexpected("redirect"));
            };
            let callback = follow_redirect_page(bank, url).await?;
            callback.verify_state(&state)?;
            consents.complete_redirect(consent, &callback, psu).await
        }
        ScaApproachKind::Decoupled => {
            let ScaChallenge::Decoupled { handle, .. } = consents
                .start_sca(consent, &ScaMethod::Decoupled, psu)
                .await?
            else {
                return Err(unexpected("decoupled"));
            };
            consents
                .wait_for_decoupled(consent, &handle, Duration::from_secs(30), psu)
                .await
        }
        ScaApproachKind::Embedded => {
            let method = ScaMethod::Embedded {
                password: Secret::new(helpers.embedded_password),
            };
            let ScaChallenge::Embedded {
                handle,
                methods,
                challenge,
            } = consents.start_sca(consent, &method, psu).await?
            else {
                return Err(unexpected("embedded"));
            };
            // The PSU picks the first method the bank offers, unless the bank chose one.
            let handle = match (challenge, methods.iter().find_map(|m| m.id.clone())) {
                (None, Some(chosen)) => {
                    match consents
                        .select_sca_method(consent, &handle, &chosen, psu)
                        .await?
                    {
                        ScaChallenge::Embedded {
                            handle,
                            challenge: Some(_),
                            ..
                        } => handle,
                        _ => return Err(unexpected("embedded one-time-code")),
                    }
                }
                (Some(_), _) => handle,
                (None, None) => return Err(unexpected("embedded challenge with methods; the")),
            };
            consents
                .complete_embedded(consent, &handle, &Secret::new(helpers.embedded_otp), psu)
                .await
        }
    }
}

/// The PSU's browser on the bank's SCA page: one GET without following redirects; the
/// `Location` header is the TPP's callback.
async fn follow_redirect_page(bank: &'static str, url: Url) -> Result<RedirectCallback, Error> {
    let failed = |detail: String| {
        Error::new(ErrorKind::ScaFailed, bank, "redirect_page").with_detail(detail)
    };
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| failed(e.to_string()))?;
    let answer = browser
        .get(url)
        .send()
        .await
        .map_err(|e| failed(e.to_string()))?;
    if !answer.status().is_redirection() {
        return Err(failed(format!("the SCA page answered {}", answer.status())));
    }
    let location = answer
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Url::parse(v).ok())
        .ok_or_else(|| failed("no Location".into()))?;
    RedirectCallback::from_url(&location)
}

/// Every page of one listing, following the cursor until the last page.
pub async fn listing(
    ai: &dyn AccountInformation,
    session: &Session,
    psu: &Psu,
    account: &AccountId,
    query: &TransactionQuery,
) -> Result<Listing, Error> {
    let mut out = Listing {
        status: query.booking_status,
        date_from: query.date_from.unwrap_or_default(),
        date_to: query.date_to.unwrap_or_default(),
        page_sizes: Vec::new(),
        has_next: Vec::new(),
        transactions: Vec::new(),
        entry_errors: 0,
        first_entry_error: None,
    };
    let mut pages = ai.transaction_pages(session, psu, account, query, None);
    while let Some(page) = pages.next().await {
        let page = page?;
        out.page_sizes.push(page.entries.len());
        out.has_next.push(page.next.is_some());
        for entry in page.entries {
            match entry {
                Ok(t) => out.transactions.push(t),
                Err(e) => {
                    out.entry_errors += 1;
                    out.first_entry_error
                        .get_or_insert_with(|| format!("{e:?}"));
                }
            }
        }
    }
    Ok(out)
}

/// The whole flow: consent in the scope the profile accepts, SCA by its first approach,
/// accounts (with balances where offered), each account's balances, every page of its
/// transactions in the history window, one entry's details and the card accounts where
/// offered.
pub async fn run_whole_flow(
    bank: &dyn Bank,
    facts: &ProfileFacts,
    psu: &Psu,
    helpers: &SandboxHelpers,
) -> Result<Summary, Error> {
    let (approach, session) = open_session(bank, facts, psu, helpers).await?;
    let ai = bank
        .as_account_information()
        .ok_or_else(|| missing(bank, "account_information"))?;
    let data = facts.reads_data();
    let listed = ai
        .accounts(&session, psu, data && facts.with_balance)
        .await?;
    let mut accounts = Vec::new();
    for account in listed.iter().filter(|_| data) {
        let balances = ai.balances(&session, psu, &account.id).await?;
        let mut listings = Vec::new();
        for status in facts.listings() {
            let query = TransactionQuery::new(
                Some(facts.window_start(helpers.today)),
                Some(helpers.today),
                status,
            );
            listings.push(listing(ai, &session, psu, &account.id, &query).await?);
        }
        accounts.push(AccountSummary {
            id: account.id.clone(),
            listed_balances: account.balances.len(),
            balances,
            listings,
        });
    }
    let details = if facts.details {
        details_of_one(ai, &session, psu, &accounts).await?
    } else {
        None
    };
    let (card_accounts, card_transactions) = if facts.card_accounts {
        let cards = bank
            .as_card_account_information()
            .ok_or_else(|| missing(bank, "card_accounts"))?;
        let list = cards.card_accounts(&session, psu).await?;
        let mut count = None;
        if let Some(first) = list.first() {
            let from = facts.window_start(helpers.today);
            let query =
                TransactionQuery::new(Some(from), Some(helpers.today), BookingStatus::Booked);
            let entries: Vec<Transaction> = cards
                .card_transactions(&session, psu, &first.id, &query)
                .try_collect()
                .await?;
            count = Some((entries.len(), from, helpers.today));
        }
        (Some(list.into_iter().map(|c| c.id).collect()), count)
    } else {
        (None, None)
    };
    Ok(Summary {
        bank: bank.name(),
        approach,
        session,
        accounts,
        details,
        card_accounts,
        card_transactions,
    })
}

/// The details of the first listed entry that has an id.
async fn details_of_one(
    ai: &dyn AccountInformation,
    session: &Session,
    psu: &Psu,
    accounts: &[AccountSummary],
) -> Result<Option<(AccountId, Transaction, Transaction)>, Error> {
    let first = accounts.iter().find_map(|a| {
        a.listings
            .iter()
            .flat_map(|l| &l.transactions)
            .find(|t| t.transaction_id.is_some())
            .map(|t| (a.id.clone(), t.clone()))
    });
    let Some((account, listed)) = first else {
        return Ok(None);
    };
    let Some(id) = listed.transaction_id.clone() else {
        return Ok(None);
    };
    let detailed = ai.transaction_details(session, psu, &account, &id).await?;
    Ok(Some((account, listed, detailed)))
}
