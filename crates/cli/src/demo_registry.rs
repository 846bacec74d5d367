//! `psd2 demo --all-banks`: every registry bank, walked in the sandbox through the
//! generic Berlin Group adapter: consent, SCA by the bank's first approach (redirect,
//! decoupled or embedded), accounts, and the first page of one account's transactions.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use futures::StreamExt as _;
use psd2::adapters::berlingroup::BerlinGroupConfig;
use psd2::{
    AccountInformation, BookingStatus, ConsentId, ConsentRequest, Consents, CreatedConsent, Psu,
    RedirectCallback, ScaChallenge, ScaMethod, Secret, Session, TransactionQuery,
};
use psd2_registry::{RegistryEntry, ScaApproachKind};
use psd2_sandbox::RunningSandbox;
use url::Url;

use crate::banks::{self, Adapter};
use crate::error::CliError;
use crate::output::Table;
use crate::progress::{Board, Line, human};
use crate::registry::{approach_name, intern};

/// How long the demo waits for a decoupled SCA.
const SCA_TIMEOUT: Duration = Duration::from_secs(60);
/// Where the sandbox's redirect SCA page sends the PSU back; never contacted (the demo reads
/// the redirect's `Location`).
const REDIRECT_URI: &str = "http://127.0.0.1:9/callback";

/// What happened at one registry bank.
struct Run {
    entry: RegistryEntry,
    approach: Option<ScaApproachKind>,
    accounts: Option<usize>,
    transactions: Option<usize>,
    took: Duration,
    failure: Option<(&'static str, CliError)>,
}

/// Walks every registry bank `sandbox` serves; prints a table. The error is the first
/// bank's failure (after printing everything).
pub async fn run(
    sandbox: &RunningSandbox,
    signing: &banks::DemoSigning,
    psu: &Psu,
    interactive: bool,
) -> Result<(), CliError> {
    let registry = psd2_registry::Registry::embedded()
        .map_err(|e| CliError::Local(format!("the compiled-in registry does not load: {e}")))?;
    // Every entry: the generic sandbox bank at /bg/<id>, or the hand-written bank its file
    // names (Swedbank at /swedbank), both spoken to by the one generic adapter.
    let entries: Vec<RegistryEntry> = registry.entries().to_vec();
    println!();
    println!(
        "Registry banks: {} Berlin Group banks described by files, one generic adapter",
        entries.len()
    );
    let board = Board::new(interactive);
    let jobs = entries.into_iter().map(|entry| {
        let url = sandbox.registry_url(&entry);
        let mut line = board.line(intern(&entry.id));
        let today = sandbox.today();
        async move {
            let run = walk_bank(entry, &url, signing, psu, today, &mut line).await;
            line.finish();
            run
        }
    });
    let mut runs = futures::future::join_all(jobs).await;
    drop(board);
    println!();
    report(&runs);
    match runs.iter_mut().find_map(|r| r.failure.take()) {
        Some((_, e)) => Err(e),
        None => Ok(()),
    }
}

async fn walk_bank(
    entry: RegistryEntry,
    url: &str,
    signing: &banks::DemoSigning,
    psu: &Psu,
    today: NaiveDate,
    line: &mut Line,
) -> Run {
    let started = Instant::now();
    let mut run = Run {
        approach: entry.profile.sca_approaches.first().copied(),
        entry,
        accounts: None,
        transactions: None,
        took: Duration::ZERO,
        failure: None,
    };
    if let Err((step, e)) = walk(&mut run, url, signing, psu, today, line).await {
        line.failed(&format!("failed at {step}: {e}"));
        run.failure = Some((step, e));
    }
    run.took = started.elapsed();
    run
}

type Step<T> = Result<T, (&'static str, CliError)>;

fn at<T>(step: &'static str, result: Result<T, psd2::Error>) -> Step<T> {
    result.map_err(|e| (step, CliError::Bank(e)))
}

/// The demo's adapter for a registry bank at a sandbox URL: the generic Berlin Group
/// adapter, signing with the committed test identity when the profile asks for signatures.
pub fn adapter(
    entry: &RegistryEntry,
    url: &str,
    signing: &banks::DemoSigning,
) -> Result<Adapter, psd2::Error> {
    let bank = intern(&entry.id);
    let url =
        Url::parse(url).map_err(|e| psd2::Error::invalid_input(bank, "new", e.to_string()))?;
    let mut config = BerlinGroupConfig::new(url)
        .with_poll_interval(Duration::from_millis(100))
        .with_psu_ip_fallback(IpAddr::V4(Ipv4Addr::LOCALHOST));
    if entry.profile.security.signatures {
        config = config.with_signing(signing.identity(bank)?);
    }
    psd2::registry::adapter(entry, config)
}

/// One bank's walk; `today` is the sandbox's date (its clock may run ahead of the real one).
async fn walk(
    run: &mut Run,
    url: &str,
    signing: &banks::DemoSigning,
    psu: &Psu,
    today: NaiveDate,
    line: &mut Line,
) -> Step<()> {
    let entry = &run.entry;
    let bank = intern(&entry.id);
    let adapter = at("setup", adapter(entry, url, signing))?;
    let unsupported = |what| {
        (
            "setup",
            CliError::Bank(psd2::Error::unsupported(bank, what)),
        )
    };
    let consents = adapter
        .as_consents()
        .ok_or_else(|| unsupported("consents"))?;
    let ai = adapter
        .as_account_information()
        .ok_or_else(|| unsupported("accounts"))?;

    line.step("consent");
    let start = Instant::now();
    let days = u64::from(entry.profile.consent.max_valid_days.clamp(1, 90)) - 1;
    let request = ConsentRequest::all_accounts()
        .valid_until(today.checked_add_days(Days::new(days)).unwrap_or(today))
        .frequency_per_day(entry.profile.consent.max_frequency_per_day.min(4))
        .recurring(true);
    let created = at("consent", consents.create_consent(&request, psu).await)?;
    line.done("consent created", start.elapsed());

    let approach = run.approach.unwrap_or(ScaApproachKind::Redirect);
    line.step(&format!("SCA ({})", approach_name(approach)));
    let start = Instant::now();
    let session = sca(consents, created, approach, psu).await?;
    line.done(
        &format!("SCA finished ({})", approach_name(approach)),
        start.elapsed(),
    );

    line.step("accounts");
    let start = Instant::now();
    let with_balance = entry.profile.accounts.with_balance;
    let accounts = at("accounts", ai.accounts(&session, psu, with_balance).await)?;
    run.accounts = Some(accounts.len());
    line.done(&format!("{} accounts", accounts.len()), start.elapsed());

    let Some(account) = accounts.first() else {
        return Err((
            "transactions",
            CliError::Local("no account to read transactions from".into()),
        ));
    };
    line.step("transactions (first page)");
    let start = Instant::now();
    let back = u64::from(entry.profile.transactions.history_days.clamp(1, 90)) - 1;
    let from = today.checked_sub_days(Days::new(back)).unwrap_or(today);
    let query = TransactionQuery::new(Some(from), Some(today), BookingStatus::Booked);
    let count = first_page(ai, &session, psu, &account.id, &query, page_size(entry)).await?;
    run.transactions = Some(count);
    line.done(
        &format!("{count} transactions on the first page"),
        start.elapsed(),
    );
    Ok(())
}

fn page_size(entry: &RegistryEntry) -> usize {
    usize::try_from(entry.profile.transactions.page_size).unwrap_or(usize::MAX)
}

/// The number of entries on the first page of the listing: the first `page_size` entries
/// of the stream (one request when the page is full; the stream asks for the next page only
/// when polled past the first).
async fn first_page(
    ai: &dyn AccountInformation,
    session: &Session,
    psu: &Psu,
    account: &psd2::AccountId,
    query: &TransactionQuery,
    page_size: usize,
) -> Step<usize> {
    let mut stream = ai
        .transactions(session, psu, account, query)
        .take(page_size);
    let mut count = 0usize;
    while let Some(item) = stream.next().await {
        at("transactions", item)?;
        count = count.saturating_add(1);
    }
    Ok(count)
}

/// SCA by `approach`, against the sandbox's PSU (its redirect page answers at once, its
/// app confirms after a few polls, its embedded password and code are the sandbox's).
async fn sca(
    consents: &dyn Consents,
    created: CreatedConsent,
    approach: ScaApproachKind,
    psu: &Psu,
) -> Step<Session> {
    let consent = created.consent.id.clone();
    match approach {
        ScaApproachKind::Redirect => redirect(consents, &consent, created.challenge, psu).await,
        ScaApproachKind::Decoupled => {
            let challenge = match created.challenge {
                Some(challenge @ ScaChallenge::Decoupled { .. }) => challenge,
                _ => at(
                    "sca",
                    consents
                        .start_sca(&consent, &ScaMethod::Decoupled, psu)
                        .await,
                )?,
            };
            let ScaChallenge::Decoupled { handle, .. } = challenge else {
                return Err(wrong_answer("decoupled"));
            };
            at(
                "sca",
                consents
                    .wait_for_decoupled(&consent, &handle, SCA_TIMEOUT, psu)
                    .await,
            )
        }
        ScaApproachKind::Embedded => embedded(consents, &consent, psu).await,
    }
}

fn wrong_answer(approach: &str) -> (&'static str, CliError) {
    (
        "sca",
        CliError::Local(format!(
            "the bank answered a {approach} SCA request with another approach"
        )),
    )
}

async fn redirect(
    consents: &dyn Consents,
    consent: &ConsentId,
    implicit: Option<ScaChallenge>,
    psu: &Psu,
) -> Step<Session> {
    let challenge = match implicit {
        Some(challenge @ ScaChallenge::Redirect { .. }) => challenge,
        _ => {
            let redirect_uri =
                Url::parse(REDIRECT_URI).map_err(|e| ("sca", CliError::Local(e.to_string())))?;
            let method = ScaMethod::Redirect { redirect_uri };
            at("sca", consents.start_sca(consent, &method, psu).await)?
        }
    };
    let ScaChallenge::Redirect { url, state } = challenge else {
        return Err(wrong_answer("redirect"));
    };
    let back = follow_sca_page(&url, &state)
        .await
        .map_err(|e| ("sca", e))?;
    let callback = at("sca", RedirectCallback::from_url(&back))?;
    at("sca", callback.verify_state(&state))?;
    at(
        "sca",
        consents.complete_redirect(consent, &callback, psu).await,
    )
}

/// Opens the sandbox's SCA page (which authorises at once) and returns where it sends the
/// PSU back.
async fn follow_sca_page(url: &Url, state: &str) -> Result<Url, CliError> {
    let mut page = url.clone();
    let has = |name: &str| page.query_pairs().any(|(k, _)| k == name);
    let (need_uri, need_state) = (!has("redirect_uri"), !has("state"));
    if need_uri {
        page.query_pairs_mut()
            .append_pair("redirect_uri", REDIRECT_URI);
    }
    if need_state {
        page.query_pairs_mut().append_pair("state", state);
    }
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| CliError::Local(format!("cannot build an HTTP client: {e}")))?;
    let answer = client
        .get(page)
        .send()
        .await
        .map_err(|e| CliError::Local(format!("the sandbox's SCA page did not answer: {e}")))?;
    let location = answer
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| {
            CliError::Local(format!(
                "the sandbox's SCA page answered {} without a redirect",
                answer.status()
            ))
        })?;
    Url::parse(location)
        .map_err(|e| CliError::Local(format!("the SCA page redirected to no URL: {e}")))
}

async fn embedded(consents: &dyn Consents, consent: &ConsentId, psu: &Psu) -> Step<Session> {
    crate::embedded::relay(
        consents,
        "the bank",
        consent,
        psu,
        Secret::new(psd2_sandbox::EMBEDDED_PASSWORD),
        |offered| {
            offered
                .iter()
                .find_map(|m| m.id.clone())
                .ok_or_else(|| CliError::Local("the bank offered no SCA method".into()))
        },
        |_| Ok(Secret::new(psd2_sandbox::EMBEDDED_OTP)),
    )
    .await
    .map_err(|e| ("sca", e))
}

fn report(runs: &[Run]) {
    let mut table = Table::new(
        &[
            "bank",
            "country",
            "platform",
            "sca",
            "accounts",
            "transactions (first page)",
            "time",
        ],
        &[4, 5, 6],
    );
    let count = |n: Option<usize>| n.map(|n| n.to_string()).unwrap_or_else(|| "-".into());
    for run in runs {
        table.row(vec![
            run.entry.id.clone(),
            run.entry.country.clone(),
            run.entry.platform.clone(),
            run.approach.map(approach_name).unwrap_or("-").to_string(),
            count(run.accounts),
            count(run.transactions),
            human(run.took),
        ]);
    }
    print!("{}", table.render());
    for run in runs {
        if let Some((step, e)) = &run.failure {
            println!("{} failed at {step}: {e}", run.entry.id);
        }
    }
}
