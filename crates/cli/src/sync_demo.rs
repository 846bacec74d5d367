//! The end of `psd2 demo`: two unattended sync rounds of the three sandbox banks into an
//! SQLite file with every churn scenario on, printing what each round added, modified and
//! removed.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use psd2::{Bank, ConsentRequest, Psu, PsuId, ScaChallenge, ScaMethod};
use psd2_sandbox::{ChurnConfig, ChurnScenario, RunningSandbox};
use psd2_sync::clock::ManualClock;
use psd2_sync::{BankSyncSettings, BudgetScope, Connection, ConnectionAccount, Engine, SyncError};

use crate::banks;
use crate::cli::BankName;
use crate::error::CliError;
use crate::output::Table;
use crate::progress::human;

const PSU: &str = "private-1";

fn sandbox_bank(bank: BankName) -> psd2_sandbox::Bank {
    match bank {
        BankName::Handelsbanken => psd2_sandbox::Bank::Handelsbanken,
        BankName::Openpayments => psd2_sandbox::Bank::OpenPayments,
        BankName::Swedbank => psd2_sandbox::Bank::Swedbank,
    }
}

/// Consent and decoupled SCA with the PSU present, as `psd2 sync add` expects them done.
async fn authorise(adapter: &dyn Bank) -> Result<(psd2::Session, psd2::AccountId), psd2::Error> {
    let present = Psu::present(IpAddr::V4(Ipv4Addr::LOCALHOST), None).with_id(PsuId::new(PSU));
    let name = adapter.name();
    let consents = adapter
        .as_consents()
        .ok_or_else(|| psd2::Error::unsupported(name, "consents"))?;
    let created = consents
        .create_consent(&ConsentRequest::all_accounts(), &present)
        .await?;
    let challenge = consents
        .start_sca(&created.consent.id, &ScaMethod::Decoupled, &present)
        .await?;
    let ScaChallenge::Decoupled { handle, .. } = challenge else {
        return Err(psd2::Error::unsupported(name, "decoupled SCA"));
    };
    let session = consents
        .wait_for_decoupled(
            &created.consent.id,
            &handle,
            Duration::from_secs(60),
            &present,
        )
        .await?;
    let ai = adapter
        .as_account_information()
        .ok_or_else(|| psd2::Error::unsupported(name, "accounts"))?;
    let account = ai
        .accounts(&session, &present, false)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| psd2::Error::unsupported(name, "accounts"))?;
    Ok((session, account.id))
}

/// One authorised connection per bank, with the PSU's first account.
type Authorised = Vec<(BankName, String, psd2::Session, psd2::AccountId)>;

/// Consents and SCA at every bank at once; the adapters by bank name.
async fn authorise_all(
    sandbox: &RunningSandbox,
    signing: &banks::DemoSigning,
    banks: &[BankName],
) -> Result<(HashMap<String, Arc<dyn Bank>>, Authorised), CliError> {
    let mut adapters: HashMap<String, Arc<dyn Bank>> = HashMap::new();
    let mut jobs = Vec::new();
    for &bank in banks {
        let url = sandbox.bank_url(sandbox_bank(bank));
        let adapter: Arc<dyn Bank> = Arc::from(banks::for_sandbox(bank, &url, signing)?);
        adapters.insert(bank.as_str().to_string(), adapter.clone());
        jobs.push(async move {
            let authorised = authorise(adapter.as_ref()).await;
            authorised.map(|(session, account)| (bank, url, session, account))
        });
    }
    let mut sessions = Vec::new();
    for authorised in futures::future::join_all(jobs).await {
        sessions.push(authorised?);
    }
    Ok((adapters, sessions))
}

/// Stores one connection per authorised bank, syncing its first account.
async fn add_connections(
    engine: &Engine,
    store: &Arc<dyn psd2_sync::store::Store>,
    sessions: Authorised,
) -> Result<Vec<(BankName, Connection)>, CliError> {
    let mut connections = Vec::new();
    for (bank, url, session, account) in sessions {
        let settings = BankSyncSettings {
            // The sandbox counts frequencyPerDay per consent.
            budget_scope: BudgetScope::Consent,
            ..BankSyncSettings::for_bank(bank.as_str())
        };
        let absent = Psu::absent().with_id(PsuId::new(PSU));
        let mut connection = engine
            .add_connection(bank.as_str(), &url, &session, &absent, None, settings)
            .await
            .map_err(|e| CliError::Local(format!("sync: {e}")))?;
        connection.accounts = vec![ConnectionAccount {
            id: account,
            card: false,
            latest_booked: None,
            synced_at: None,
        }];
        store
            .update_connection(&connection)
            .await
            .map_err(|e| CliError::Local(format!("sync database: {e}")))?;
        connections.push((bank, connection));
    }
    Ok(connections)
}

/// Runs the two rounds for `banks` against `sandbox`.
pub async fn run(
    sandbox: &RunningSandbox,
    signing: &banks::DemoSigning,
    banks: &[BankName],
) -> Result<(), CliError> {
    let started = Instant::now();
    let path = std::env::temp_dir().join(format!("psd2-demo-sync-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let store = crate::sync::open_store(&format!("sqlite:{}", path.display())).await?;
    sandbox
        .set_churn(&ChurnConfig {
            bank: None,
            scenarios: ChurnScenario::ALL.to_vec(),
            seed: 1,
            per_day: 6,
        })
        .map_err(|e| CliError::Local(format!("sandbox churn: {e}")))?;
    // Churn starts with the next sandbox day: one day of activity (pending entries among
    // it) before the first round, one more (bookings, cancellations) before the second.
    sandbox
        .advance_days(1)
        .map_err(|e| CliError::Local(format!("sandbox clock: {e}")))?;
    let (adapters, sessions) = authorise_all(sandbox, signing, banks).await?;
    let clock = ManualClock::new(Utc::now() + TimeDelta::days(1));
    let resolver = move |c: &Connection| -> Result<Arc<dyn Bank>, SyncError> {
        adapters
            .get(&c.bank)
            .cloned()
            .ok_or_else(|| SyncError::UnknownBank(c.bank.clone()))
    };
    let engine = Engine::new(store.clone(), Arc::new(resolver), Arc::new(clock.clone()));
    let connections = add_connections(&engine, &store, sessions).await?;
    println!();
    println!(
        "Sync: two unattended rounds into {} (churn on, every scenario; a sandbox day between)",
        path.display()
    );
    let mut table = Table::new(
        &["round", "bank", "added", "modified", "removed", "took"],
        &[2, 3, 4, 5],
    );
    for round in 1..=2 {
        if round == 2 {
            sandbox
                .advance_days(1)
                .map_err(|e| CliError::Local(format!("sandbox clock: {e}")))?;
            clock.advance(TimeDelta::days(1));
        }
        for (bank, connection) in &connections {
            let start = Instant::now();
            let report = engine
                .sync_connection(&connection.id)
                .await
                .map_err(|e| CliError::Local(format!("sync: {e}")))?;
            let (added, modified, removed) = report.totals();
            table.row(vec![
                round.to_string(),
                bank.display_name().to_string(),
                added.to_string(),
                modified.to_string(),
                removed.to_string(),
                human(start.elapsed()),
            ]);
        }
    }
    print!("{}", table.render());
    println!("sync total {}", human(started.elapsed()));
    Ok(())
}
