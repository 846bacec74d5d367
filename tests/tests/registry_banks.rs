//! A bank is a file: one function written against `&dyn Bank` ([`flow::run_whole_flow`])
//! runs the whole account-information flow against every bank of the registry, served by
//! the sandbox from its profile, and what it reads is checked against the bank itself read
//! by an independent client ([`wire`]). Each bank also refuses what its profile says it
//! refuses; a bank added as a file in a directory works the same way; every registry file
//! agrees with the Berlin Group spec ([`consistency`]).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "registry_banks/consistency.rs"]
mod consistency;
#[path = "registry_banks/flow.rs"]
mod flow;
#[path = "registry_banks/negative.rs"]
mod negative;
#[path = "registry_banks/oracle.rs"]
mod oracle;
#[path = "registry_banks/refused_listings.rs"]
mod refused_listings;
#[path = "registry_banks/setup.rs"]
mod setup;
#[path = "registry_banks/wire.rs"]
mod wire;

use std::future::Future;
use std::sync::Arc;

use psd2_registry::{Registry, RegistryEntry, ScaApproachKind};
use psd2_sandbox::RunningSandbox;

use flow::ProfileFacts;

/// Runs `check` for every entry at once (each in its own task) and fails with the list of
/// the banks whose check panicked, so one run names every failing bank.
async fn for_every_bank<F, Fut>(sandbox: &Arc<RunningSandbox>, entries: &[RegistryEntry], check: F)
where
    F: Fn(Arc<RunningSandbox>, RegistryEntry) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let tasks: Vec<_> = entries
        .iter()
        .map(|entry| {
            (
                entry.id.clone(),
                tokio::spawn(check(sandbox.clone(), entry.clone())),
            )
        })
        .collect();
    let mut failed = Vec::new();
    for (id, task) in tasks {
        if let Err(error) = task.await {
            let message = match error.try_into_panic() {
                Ok(panic) => panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
                    .unwrap_or_default(),
                Err(error) => error.to_string(),
            };
            failed.push(format!("{id}: {message}"));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} banks failed:\n{}",
        failed.len(),
        entries.len(),
        failed.join("\n")
    );
}

/// The whole flow against one bank, checked against the bank itself.
async fn whole_flow_checked(sandbox: Arc<RunningSandbox>, entry: RegistryEntry) {
    let (bank, sent) = setup::counted_adapter(&sandbox, &entry);
    let facts = ProfileFacts::of(&entry.profile);
    let helpers = setup::helpers(&sandbox);
    let summary = flow::run_whole_flow(bank.as_ref(), &facts, &setup::psu(), &helpers)
        .await
        .unwrap_or_else(|e| panic!("{}: the whole flow: {e}", entry.id));
    oracle::check_headers(&entry, &sent);
    oracle::check(
        &sandbox,
        &entry,
        &facts,
        &summary,
        &setup::wire(&sandbox, &entry),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_registry_bank_runs_the_whole_flow() {
    let registry = Registry::embedded().unwrap();
    let sandbox = setup::start(registry.clone()).await;
    assert!(
        registry.entries().len() >= 7,
        "Swedbank and at least six other banks: {}",
        registry.entries().len()
    );
    for_every_bank(&sandbox, registry.entries(), whole_flow_checked).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_registry_bank_refuses_what_its_profile_refuses() {
    let registry = Registry::embedded().unwrap();
    let sandbox = setup::start(registry.clone()).await;
    for_every_bank(&sandbox, registry.entries(), refusals_checked).await;
}

/// Everything one bank must refuse, through the facade and on the wire.
async fn refusals_checked(sandbox: Arc<RunningSandbox>, entry: RegistryEntry) {
    let (bank, sent) = setup::counted_adapter(&sandbox, &entry);
    let facts = ProfileFacts::of(&entry.profile);
    let helpers = setup::helpers(&sandbox);
    let wire = setup::wire(&sandbox, &entry);
    let case = negative::Case {
        entry: &entry,
        bank: bank.as_ref(),
        sent: &sent,
        facts: &facts,
        helpers: &helpers,
        wire: &wire,
    };
    negative::sca_approaches(&case).await;
    negative::embedded_refused(&case).await;
    negative::psu_headers(&case).await;
    negative::frequency_and_static_headers(&case).await;
    negative::consent_limits(&case).await;
    negative::signatures(&case, &sandbox).await;
    let (_, session) = flow::open_session(case.bank, &facts, &setup::psu(), &helpers)
        .await
        .unwrap_or_else(|e| panic!("{}: a session: {e}", entry.id));
    assert!(sent.count() > 0, "{}: the counter sees requests", entry.id);
    refused_listings::listings_refused(&case, &session).await;
}

/// A bank that is not in the registry, added as a user adds one: a single file.
const NEW_BANK: &str = r#"# A bank added by a test; not a real bank.
name = "Testbank Nord"
country = "FI"
bics = ["TSTBFIHH"]
platform = "own"

[urls]
live = "https://api.testbank-nord.invalid"

[profile]
sca_approaches = ["decoupled", "redirect"]
psu_id = "required"
psu_ip_address = "required"
error_shape = "problem_json"

[profile.consent]
scopes = ["detailed"]
max_frequency_per_day = 4
max_valid_days = 90

[profile.accounts]
with_balance = false
card_accounts = true

[profile.transactions]
booking_statuses = ["booked", "pending"]
history_days = 120
page_size = 7
ids_stable_across_booking = false
date_filter = "booking_date"
details = true

[profile.extra_headers]
X-Testbank-Channel = "tpp"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bank_added_as_a_file_runs_the_whole_flow() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("testbank-nord.toml"), NEW_BANK).unwrap();
    let embedded = Registry::embedded().unwrap();
    assert!(embedded.find("testbank-nord").is_none());
    let registry = embedded.clone().with_dir(dir.path()).unwrap();
    assert_eq!(registry.entries().len(), embedded.entries().len() + 1);
    let entry = registry.by_bic("TSTBFIHH").unwrap().clone();
    assert_eq!(entry.id, "testbank-nord");
    assert_eq!(registry.find("Testbank Nord"), Some(&entry));
    assert_eq!(entry.profile.sca_approaches[0], ScaApproachKind::Decoupled);
    assert!(entry.sandbox_is_generic());

    let sandbox = setup::start(registry).await;
    assert_eq!(
        sandbox.registry_url(&entry),
        format!("{}/bg/testbank-nord", sandbox.base_url())
    );
    for_every_bank(
        &sandbox,
        std::slice::from_ref(&entry),
        |sandbox, entry| async move {
            whole_flow_checked(sandbox.clone(), entry.clone()).await;
            refusals_checked(sandbox, entry).await;
        },
    )
    .await;
}
