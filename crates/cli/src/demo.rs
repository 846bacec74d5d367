//! `psd2 demo`: the sandbox in-process, and every bank's whole flow through the facade
//! traits (consent, decoupled SCA, accounts with balances, card accounts, every page of the
//! long-history account's transactions), run for the three banks at once.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate, Utc};
use futures::StreamExt as _;
use psd2::{
    Account, AccountInformation, BookingStatus, CardAccountInformation, ConsentRequest, Consents,
    ErrorKind, Psu, PsuId, ScaChallenge, ScaMethod, Session, TransactionQuery,
};
use psd2_sandbox::Sandbox;

use crate::banks;
use crate::cli::{BankName, DemoArgs};
use crate::error::CliError;
use crate::output::{Summary, Table, account_table, summary_row_cells};
use crate::progress::human;
use crate::progress::{Board, Line};

/// The sandbox PSU whose first SEK account has the long history.
pub const DEMO_PSU: &str = "private-1";
/// How long the demo waits for a decoupled SCA.
const SCA_TIMEOUT: Duration = Duration::from_secs(60);

/// What happened at one bank.
struct BankRun {
    bank: BankName,
    steps: Vec<(&'static str, Duration)>,
    accounts: Vec<Account>,
    cards: CardsOutcome,
    transactions: Option<(String, Summary)>,
    failure: Option<(&'static str, CliError)>,
}

enum CardsOutcome {
    NotReached,
    NotOffered,
    Found(usize),
}

impl BankRun {
    fn new(bank: BankName) -> Self {
        Self {
            bank,
            steps: Vec::new(),
            accounts: Vec::new(),
            cards: CardsOutcome::NotReached,
            transactions: None,
            failure: None,
        }
    }
}

/// Runs the demo; the error is the first bank failure (after printing everything).
pub async fn run(args: &DemoArgs, only: &[String], interactive: bool) -> Result<(), CliError> {
    let started = Instant::now();
    let only = named_banks(only)?;
    let signing = banks::DemoSigning::load()?;
    let mut builder = Sandbox::builder()
        .require_signatures(true)
        .signing_certificate_pem(signing.cert_pem.clone());
    if let Some(n) = args.history_size {
        builder = builder.history_size(n);
    }
    let sandbox = builder
        .build()
        .start()
        .await
        .map_err(|e| CliError::Local(format!("cannot start the sandbox: {e}")))?;
    let history = sandbox.config().history_size;
    println!(
        "psd2 demo: sandbox at {} (in-process, Swedbank signatures verified)",
        sandbox.base_url()
    );
    println!("PSU {DEMO_PSU}; {history} transactions on the long-history account");
    println!();

    let banks: Vec<BankName> = if only.is_empty() {
        BankName::ALL.to_vec()
    } else {
        BankName::ALL
            .into_iter()
            .filter(|b| only.contains(b))
            .collect()
    };
    let board = Board::new(interactive);
    let jobs = banks.iter().map(|&bank| {
        let url = sandbox.bank_url(sandbox_bank(bank));
        let line = board.line(bank.display_name());
        let signing = &signing;
        async move {
            let mut line = line;
            let run = run_bank(bank, &url, signing, &mut line).await;
            line.finish();
            run
        }
    });
    let runs = futures::future::join_all(jobs).await;
    drop(board);
    println!();
    report(&runs);
    println!("total {}", human(started.elapsed()));
    // The registry banks before the sync rounds, which move the sandbox clock forward.
    let registry = if args.all_banks {
        crate::demo_registry::run(&sandbox, &signing, &demo_psu(), interactive).await
    } else {
        let known = psd2_registry::Registry::embedded().map_or(0, |r| r.entries().len());
        println!("(`psd2 demo --all-banks` also walks the {known} registry banks)");
        Ok(())
    };
    let synced = crate::sync_demo::run(&sandbox, &signing, &banks).await;
    sandbox.shutdown().await;

    let mut runs = runs;
    match runs.iter_mut().find_map(|r| r.failure.take()) {
        Some((_, e)) => Err(e),
        None => synced.and(registry),
    }
}

/// The named banks of the demo's `--bank` (registry banks are walked by `--all-banks`).
fn named_banks(only: &[String]) -> Result<Vec<BankName>, CliError> {
    only.iter()
        .map(|text| {
            BankName::parse(text).ok_or_else(|| {
                CliError::Usage(
                    "the demo's --bank takes handelsbanken, openpayments or swedbank \
                     (--all-banks adds every registry bank)"
                        .into(),
                )
            })
        })
        .collect()
}

fn sandbox_bank(bank: BankName) -> psd2_sandbox::Bank {
    match bank {
        BankName::Handelsbanken => psd2_sandbox::Bank::Handelsbanken,
        BankName::Openpayments => psd2_sandbox::Bank::OpenPayments,
        BankName::Swedbank => psd2_sandbox::Bank::Swedbank,
    }
}

/// The demo PSU: `private-1`, present at the loopback address (so no call counts against
/// the consent's daily limit).
fn demo_psu() -> Psu {
    Psu::present(
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        Some("psd2-cli demo".into()),
    )
    .with_id(PsuId::new(DEMO_PSU))
}

async fn run_bank(
    bank: BankName,
    url: &str,
    signing: &banks::DemoSigning,
    line: &mut Line,
) -> BankRun {
    let mut run = BankRun::new(bank);
    if let Err((step, e)) = walk(bank, url, signing, line, &mut run).await {
        line.failed(&format!("failed at {step}: {e}"));
        run.failure = Some((step, e));
    }
    run
}

async fn timed<T, F>(
    run: &mut BankRun,
    step: &'static str,
    future: F,
) -> Result<(T, Duration), (&'static str, CliError)>
where
    F: std::future::Future<Output = Result<T, psd2::Error>>,
{
    let start = Instant::now();
    let result = future.await;
    let took = start.elapsed();
    run.steps.push((step, took));
    result
        .map(|v| (v, took))
        .map_err(|e| (step, CliError::Bank(e)))
}

async fn walk(
    bank: BankName,
    url: &str,
    signing: &banks::DemoSigning,
    line: &mut Line,
    run: &mut BankRun,
) -> Result<(), (&'static str, CliError)> {
    let adapter =
        banks::for_sandbox(bank, url, signing).map_err(|e| ("setup", CliError::Bank(e)))?;
    let unsupported = |what: &'static str| {
        (
            "setup",
            CliError::Bank(psd2::Error::unsupported(bank.as_str(), what)),
        )
    };
    let consents: &dyn Consents = adapter
        .as_consents()
        .ok_or_else(|| unsupported("consents"))?;
    let ai: &dyn AccountInformation = adapter
        .as_account_information()
        .ok_or_else(|| unsupported("account information"))?;
    let cards: Option<&dyn CardAccountInformation> = adapter.as_card_account_information();
    let psu = demo_psu();
    let today = Utc::now().date_naive();

    // Token (fetched by the adapter on first use) and consent.
    line.step("token + consent");
    let request = ConsentRequest::all_accounts()
        .valid_until(today.checked_add_days(Days::new(89)).unwrap_or(today))
        .frequency_per_day(4);
    let (created, took) = timed(
        run,
        "token + consent",
        consents.create_consent(&request, &psu),
    )
    .await?;
    line.done(
        &format!("consent created, status {}", created.consent.status),
        took,
    );
    let consent_id = created.consent.id.clone();

    // Decoupled SCA (Mobile BankID in the sandbox: pending a few polls, then complete).
    line.step("SCA: waiting for the PSU to confirm in the app");
    let sca_start = Instant::now();
    let challenge = match created.challenge {
        Some(challenge @ ScaChallenge::Decoupled { .. }) => challenge,
        _ => consents
            .start_sca(&consent_id, &ScaMethod::Decoupled, &psu)
            .await
            .map_err(|e| ("sca", CliError::Bank(e)))?,
    };
    let ScaChallenge::Decoupled { handle, .. } = challenge else {
        return Err((
            "sca",
            CliError::Local(format!(
                "{} answered a redirect to a decoupled SCA",
                bank.display_name()
            )),
        ));
    };
    let session: Session = consents
        .wait_for_decoupled(&consent_id, &handle, SCA_TIMEOUT, &psu)
        .await
        .map_err(|e| ("sca", CliError::Bank(e)))?;
    let took = sca_start.elapsed();
    run.steps.push(("sca (decoupled)", took));
    line.done("SCA finished (decoupled)", took);

    // Accounts with balances.
    line.step("accounts");
    let (accounts, took) = timed(
        run,
        "accounts + balances",
        ai.accounts(&session, &psu, true),
    )
    .await?;
    line.done(&format!("{} accounts with balances", accounts.len()), took);
    run.accounts = accounts;

    // Card accounts.
    line.step("card accounts");
    let start = Instant::now();
    let outcome = match cards {
        Some(cards) => cards.card_accounts(&session, &psu).await,
        None => Err(psd2::Error::unsupported(bank.as_str(), "card_accounts")),
    };
    let took = start.elapsed();
    run.steps.push(("card accounts", took));
    match outcome {
        Ok(list) => {
            line.done(
                &format!(
                    "{} card account{}",
                    list.len(),
                    if list.len() == 1 { "" } else { "s" }
                ),
                took,
            );
            run.cards = CardsOutcome::Found(list.len());
        }
        Err(e) if matches!(e.kind, ErrorKind::Unsupported { .. }) => {
            line.done("card accounts: not offered", took);
            run.cards = CardsOutcome::NotOffered;
        }
        Err(e) => return Err(("card accounts", CliError::Bank(e))),
    }

    // Every page of the long-history account.
    let Some(account) = run
        .accounts
        .iter()
        .find(|a| a.currency.as_ref().is_some_and(|c| c.as_str() == "SEK"))
        .cloned()
    else {
        return Err((
            "transactions",
            CliError::Local("no SEK account to read transactions from".into()),
        ));
    };
    let from = today
        .checked_sub_days(Days::new(2 * 366 + 31))
        .unwrap_or(today);
    let total_days = (today - from).num_days().max(1) as u64;
    let query = TransactionQuery::new(Some(from), Some(today), BookingStatus::Both);
    let label = account
        .iban
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_else(|| account.id.to_string());
    line.step("transactions (every page)");
    let start = Instant::now();
    let mut summary = Summary::default();
    let mut stream = ai.transactions(&session, &psu, &account.id, &query);
    while let Some(item) = stream.next().await {
        match item {
            Ok(t) => {
                summary.add(&t);
                let reached = days_covered(&summary, today, from);
                if summary.count % 50 == 0 {
                    line.progress(
                        reached.min(total_days),
                        total_days,
                        &format!(
                            "{} transactions, back to {}",
                            summary.count,
                            summary.first.map(|d| d.to_string()).unwrap_or_default()
                        ),
                        summary.count as u64,
                    );
                }
            }
            Err(e) => {
                run.steps
                    .push(("transactions (all pages)", start.elapsed()));
                return Err(("transactions", CliError::Bank(e)));
            }
        }
    }
    let took = start.elapsed();
    run.steps.push(("transactions (all pages)", took));
    line.done(
        &format!("{} transactions read over every page", summary.count),
        took,
    );
    run.transactions = Some((label, summary));
    Ok(())
}

/// How many days of the range the transactions seen so far cover (they may come newest or
/// oldest first).
fn days_covered(summary: &Summary, today: NaiveDate, from: NaiveDate) -> u64 {
    match (summary.first, summary.last) {
        (Some(first), Some(last)) => {
            let newest_first = (today - last).num_days() < (first - from).num_days();
            let days = if newest_first {
                (today - first).num_days()
            } else {
                (last - from).num_days()
            };
            days.max(0) as u64
        }
        _ => 0,
    }
}

fn report(runs: &[BankRun]) {
    // Accounts and balances.
    println!("Accounts and balances");
    let mut table = Table::new(
        &[
            "bank", "account", "iban", "currency", "name", "balance", "type",
        ],
        &[5],
    );
    for run in runs {
        for row in account_table(&run.accounts, Some(run.bank.display_name())).into_rows() {
            table.row(row);
        }
        if run.accounts.is_empty() {
            table.row(vec![
                run.bank.display_name().to_string(),
                "(none read)".into(),
            ]);
        }
    }
    print!("{}", table.render());
    println!();

    // Card accounts.
    println!("Card accounts");
    for run in runs {
        let text = match run.cards {
            CardsOutcome::Found(n) => format!("{n} card account{}", if n == 1 { "" } else { "s" }),
            CardsOutcome::NotOffered => "not offered".into(),
            CardsOutcome::NotReached => "not reached".into(),
        };
        println!("  {:<14} {text}", run.bank.display_name());
    }
    println!();

    // Transaction summary.
    println!("Transactions of {DEMO_PSU}'s first SEK account (booked and pending, every page)");
    let mut table = Table::new(
        &[
            "bank", "account", "count", "from", "to", "currency", "in", "out",
        ],
        &[2, 6, 7],
    );
    for run in runs {
        match &run.transactions {
            Some((label, summary)) => {
                for row in summary_row_cells(summary) {
                    let mut cells = vec![run.bank.display_name().to_string(), label.clone()];
                    cells.extend(row);
                    table.row(cells);
                }
            }
            None => table.row(vec![
                run.bank.display_name().to_string(),
                "(not read)".into(),
            ]),
        }
    }
    print!("{}", table.render());
    println!();

    // Timings.
    println!("Timings");
    let mut header = vec!["step"];
    header.extend(runs.iter().map(|r| r.bank.display_name()));
    let right: Vec<usize> = (1..header.len()).collect();
    let mut table = Table::new(&header, &right);
    let mut steps: Vec<&'static str> = Vec::new();
    for run in runs {
        for (step, _) in &run.steps {
            if !steps.contains(step) {
                steps.push(step);
            }
        }
    }
    for step in steps {
        let mut row = vec![step.to_string()];
        for run in runs {
            row.push(
                run.steps
                    .iter()
                    .find(|(s, _)| *s == step)
                    .map(|(_, d)| human(*d))
                    .unwrap_or_else(|| "-".into()),
            );
        }
        table.row(row);
    }
    let mut total = vec!["total".to_string()];
    for run in runs {
        total.push(human(run.steps.iter().map(|(_, d)| *d).sum()));
    }
    table.row(total);
    print!("{}", table.render());
    for run in runs {
        if let Some((step, e)) = &run.failure {
            println!("{} failed at {step}: {e}", run.bank.display_name());
        }
    }
}
