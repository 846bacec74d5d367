//! The facts a whole-flow [`Summary`] must agree with: what the independent client reads
//! from the same bank under the same consent, and the profile's limits.

use std::collections::{BTreeSet, HashSet};

use psd2::{BookingStatus, Decimal, TransactionStatus};
use psd2_registry::{RegistryEntry, Requirement};
use psd2_sandbox::fixtures::{AccountKind, Fixtures};
use psd2_sandbox::paging::{self, TxQuery};
use psd2_sandbox::{Bank as SandboxBank, RunningSandbox};
use reqwest::StatusCode;
use serde_json::Value;

use crate::flow::{AccountSummary, Listing, ProfileFacts, Summary};
use crate::wire::Wire;

/// The key the flow and the independent client both identify an entry by.
fn key(t: &psd2::Transaction) -> Option<String> {
    t.transaction_id
        .as_ref()
        .map(|id| id.as_str().to_string())
        .or_else(|| t.entry_reference.clone())
}

fn amount(value: &Value) -> Decimal {
    value["amount"]
        .as_str()
        .unwrap_or_else(|| panic!("amount is a string: {value}"))
        .parse()
        .unwrap()
}

/// The sandbox's data behind `entry`'s bank (its ground truth) and the data set's bank.
fn with_truth<T>(
    sandbox: &RunningSandbox,
    entry: &RegistryEntry,
    f: impl FnOnce(&Fixtures, SandboxBank) -> T,
) -> T {
    if entry.sandbox_is_generic() {
        let bank = sandbox
            .registry_banks()
            .find(|b| b.entry().id == entry.id)
            .unwrap_or_else(|| panic!("{}: the sandbox serves it", entry.id));
        f(bank.fixtures(), psd2_sandbox::banks::berlingroup::HOST)
    } else {
        let prefix = entry.sandbox_path();
        let bank = SandboxBank::from_prefix(prefix.trim_start_matches('/'))
            .unwrap_or_else(|| panic!("{}: a hand-written sandbox bank at {prefix}", entry.id));
        f(sandbox.fixtures(), bank)
    }
}

fn resource_ids(fixtures: &Fixtures, bank: SandboxBank, kind: AccountKind) -> BTreeSet<String> {
    fixtures
        .accounts_of(bank, crate::setup::PSU, kind)
        .iter()
        .map(|a| a.resource_id.clone())
        .collect()
}

/// How many entries the sandbox's data has for `listing` of `account`.
fn truth_count(fixtures: &Fixtures, bank: SandboxBank, account: &str, listing: &Listing) -> u64 {
    let account = fixtures.account(bank, account).unwrap();
    let query = TxQuery {
        booked: listing.status != BookingStatus::Pending,
        pending: listing.status != BookingStatus::Booked,
        date_from: listing.date_from,
        date_to: listing.date_to,
        key: None,
    };
    paging::total(fixtures, account, &query)
}

/// The headers on every request the adapter sent, as the profile says: the spec's
/// signature headers at a signing bank, `PSU-IP-Address` where required, the profile's
/// static headers; `PSU-ID` never where the bank does not use it.
pub fn check_headers(entry: &RegistryEntry, sent: &crate::setup::Sent) {
    let id = &entry.id;
    let p = &entry.profile;
    let requests = sent.requests();
    assert!(!requests.is_empty(), "{id}: the adapter sent requests");
    let mut required: Vec<String> = p
        .extra_headers
        .keys()
        .map(|k| k.to_ascii_lowercase())
        .collect();
    required.push("x-request-id".into());
    if p.security.signatures {
        let spec = crate::consistency::spec_signature_headers();
        assert_eq!(spec.len(), 3, "the spec's signature headers: {spec:?}");
        required.extend(spec);
    }
    if p.psu_ip_address == Requirement::Required {
        required.push("psu-ip-address".into());
    }
    for (path, headers) in &requests {
        for header in &required {
            assert!(headers.contains(header), "{id}: {path} carries {header}");
        }
        if p.psu_id == Requirement::NotUsed {
            assert!(
                !headers.contains("psu-id"),
                "{id}: {path}: PSU-ID is not used"
            );
        }
    }
}

/// Checks `summary` of `entry`'s bank against the sandbox's data and against the bank
/// itself, read by `wire`.
pub async fn check(
    sandbox: &RunningSandbox,
    entry: &RegistryEntry,
    facts: &ProfileFacts,
    summary: &Summary,
    wire: &Wire,
) {
    let id = &entry.id;
    let consent = summary.session.consent_id.expose();
    assert_eq!(summary.bank, id.as_str(), "Bank::name() is the registry id");
    assert_eq!(Some(&summary.approach), facts.sca_approaches.first());
    check_accounts(sandbox, entry, summary, wire).await;
    let mut entries_seen = 0_usize;
    for account in &summary.accounts {
        check_balances(entry, facts, account, consent, wire).await;
        let account_id = account.id.as_str();
        for listing in &account.listings {
            entries_seen += listing.transactions.len();
            let what = format!("{id}: account {account_id}, {:?}", listing.status);
            check_listing(facts, listing, &what);
            check_listing_on_the_wire(facts, account_id, listing, consent, wire, &what).await;
            // The facade's window is one of booking dates, whichever date the bank filters on.
            let truth = with_truth(sandbox, entry, |f, b| {
                truth_count(f, b, account_id, listing)
            });
            assert_eq!(
                listing.transactions.len() as u64,
                truth,
                "{what}: the sandbox's data has {truth} entries"
            );
        }
    }
    assert!(entries_seen > 0, "{id}: the flow read some transactions");
    check_details(entry, summary, wire).await;
    check_cards(sandbox, entry, facts, summary, wire).await;
}

/// The accounts: the same ids as the bank lists and as the sandbox's data has.
async fn check_accounts(
    sandbox: &RunningSandbox,
    entry: &RegistryEntry,
    summary: &Summary,
    wire: &Wire,
) {
    let id = &entry.id;
    let raw = wire
        .get("/v1/accounts", summary.session.consent_id.expose())
        .await;
    assert_eq!(
        raw.status,
        StatusCode::OK,
        "{id}: accounts: {}",
        raw.excerpt()
    );
    let raw_ids: BTreeSet<String> = raw.json["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["resourceId"].as_str().unwrap().to_string())
        .collect();
    let ids: BTreeSet<String> = summary
        .accounts
        .iter()
        .map(|a| a.id.as_str().to_string())
        .collect();
    assert_eq!(ids, raw_ids, "{id}: the accounts the bank lists");
    let truth = with_truth(sandbox, entry, |f, b| {
        resource_ids(f, b, AccountKind::Payment)
    });
    assert_eq!(ids, truth, "{id}: the PSU's accounts in the sandbox's data");
    assert!(!ids.is_empty(), "{id}: {} has accounts", crate::setup::PSU);
}

/// One account's balances: present, and the amounts the bank sends.
async fn check_balances(
    entry: &RegistryEntry,
    facts: &ProfileFacts,
    account: &AccountSummary,
    consent: &str,
    wire: &Wire,
) {
    let id = &entry.id;
    let path = format!("/v1/accounts/{}/balances", account.id.as_str());
    let raw = wire.get(&path, consent).await;
    assert_eq!(
        raw.status,
        StatusCode::OK,
        "{id}: {path}: {}",
        raw.excerpt()
    );
    let raw_balances = raw.json["balances"].as_array().unwrap();
    assert!(!raw_balances.is_empty(), "{id}: {path}: balances present");
    assert_eq!(account.balances.len(), raw_balances.len(), "{id}: {path}");
    let mut expected: Vec<Decimal> = raw_balances
        .iter()
        .map(|b| amount(&b["balanceAmount"]))
        .collect();
    let mut got: Vec<Decimal> = account.balances.iter().map(|b| b.amount.amount).collect();
    expected.sort();
    got.sort();
    assert_eq!(got, expected, "{id}: {path}: balance amounts");
    if facts.with_balance {
        assert!(
            account.listed_balances > 0,
            "{id}: withBalance is offered, the list carries balances"
        );
    }
}

/// What the facade's listing must be on its own: every entry mapped, pages within the
/// profile's size, a cursor on every page but the last, every entry once, only the status
/// asked for.
fn check_listing(facts: &ProfileFacts, listing: &Listing, what: &str) {
    let page_size = usize::try_from(facts.page_size).unwrap();
    assert_eq!(
        listing.entry_errors, 0,
        "{what}: every entry maps; the first that does not: {:?}",
        listing.first_entry_error
    );
    assert!(
        listing.page_sizes.iter().all(|n| *n <= page_size),
        "{what}: pages of at most {page_size}: {:?}",
        listing.page_sizes
    );
    let (last, rest) = listing.has_next.split_last().unwrap();
    assert!(!last, "{what}: the last page has no next cursor");
    assert!(rest.iter().all(|n| *n), "{what}: every other page has one");
    let keys: Vec<String> = listing.transactions.iter().filter_map(key).collect();
    assert_eq!(
        keys.len(),
        listing.transactions.len(),
        "{what}: every entry has an id or entry reference"
    );
    let unique: HashSet<&String> = keys.iter().collect();
    assert_eq!(unique.len(), keys.len(), "{what}: no entry twice");
    let status_ok = |s: &TransactionStatus| match listing.status {
        BookingStatus::Booked => *s == TransactionStatus::Booked,
        BookingStatus::Pending => *s == TransactionStatus::Pending,
        BookingStatus::Both => matches!(s, TransactionStatus::Booked | TransactionStatus::Pending),
    };
    assert!(
        listing.transactions.iter().all(|t| status_ok(&t.status)),
        "{what}: only the asked status"
    );
}

/// The facade's listing against the bank's own pages, walked by the independent client.
async fn check_listing_on_the_wire(
    facts: &ProfileFacts,
    account: &str,
    listing: &Listing,
    consent: &str,
    wire: &Wire,
    what: &str,
) {
    let query = [
        ("bookingStatus", listing.status.as_str().to_string()),
        ("dateFrom", listing.date_from.to_string()),
        ("dateTo", listing.date_to.to_string()),
    ];
    let raw = wire.walk_transactions(consent, account, &query).await;
    assert_eq!(raw.without_id, 0, "{what}: the bank sends ids");
    assert_eq!(
        listing.transactions.len(),
        raw.total(),
        "{what}: as many entries as the bank has in the window"
    );
    let keys: BTreeSet<String> = listing.transactions.iter().filter_map(key).collect();
    let raw_keys: BTreeSet<String> = raw.entries.iter().map(|(k, _)| k.clone()).collect();
    assert_eq!(keys, raw_keys, "{what}: the same entries");
    assert_eq!(listing.page_sizes, raw.page_sizes, "{what}: the same pages");
    for (status, name) in [
        (TransactionStatus::Booked, "booked"),
        (TransactionStatus::Pending, "pending"),
    ] {
        let ours = listing
            .transactions
            .iter()
            .filter(|t| t.status == status)
            .count();
        assert_eq!(ours, raw.count(name), "{what}: {name} entries");
    }
    let page_size = usize::try_from(facts.page_size).unwrap();
    assert!(
        raw.page_sizes.iter().all(|n| *n <= page_size),
        "{what}: the bank pages by {page_size}"
    );
}

async fn check_details(entry: &RegistryEntry, summary: &Summary, wire: &Wire) {
    let id = &entry.id;
    let consent = summary.session.consent_id.expose();
    if !entry.profile.transactions.details {
        assert!(summary.details.is_none(), "{id}: no details offered");
        return;
    }
    let (account, listed, detailed) = summary
        .details
        .as_ref()
        .unwrap_or_else(|| panic!("{id}: details are offered and an entry has an id"));
    assert_eq!(detailed.transaction_id, listed.transaction_id, "{id}");
    assert_eq!(
        detailed.amount, listed.amount,
        "{id}: details of the same entry"
    );
    let tid = listed.transaction_id.as_ref().unwrap().as_str();
    let path = format!("/v1/accounts/{}/transactions/{tid}", account.as_str());
    let raw = wire.get(&path, consent).await;
    assert_eq!(
        raw.status,
        StatusCode::OK,
        "{id}: {path}: {}",
        raw.excerpt()
    );
    let raw_amount = amount(&raw.json["transactionsDetails"]["transactionAmount"]);
    assert_eq!(detailed.amount.amount, raw_amount, "{id}: {path}");
}

async fn check_cards(
    sandbox: &RunningSandbox,
    entry: &RegistryEntry,
    facts: &ProfileFacts,
    summary: &Summary,
    wire: &Wire,
) {
    let id = &entry.id;
    if !facts.card_accounts {
        assert!(summary.card_accounts.is_none());
        return;
    }
    let consent = summary.session.consent_id.expose();
    let raw = wire.get("/v1/card-accounts", consent).await;
    assert_eq!(
        raw.status,
        StatusCode::OK,
        "{id}: card accounts: {}",
        raw.excerpt()
    );
    let raw_ids: BTreeSet<String> = raw.json["cardAccounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["resourceId"].as_str().unwrap().to_string())
        .collect();
    let ids: BTreeSet<String> = summary
        .card_accounts
        .iter()
        .flatten()
        .map(|a| a.as_str().to_string())
        .collect();
    assert_eq!(ids, raw_ids, "{id}: the card accounts the bank lists");
    let truth = with_truth(sandbox, entry, |f, b| resource_ids(f, b, AccountKind::Card));
    assert_eq!(
        ids, truth,
        "{id}: the PSU's card accounts in the sandbox's data"
    );
    assert!(
        !ids.is_empty(),
        "{id}: card accounts are offered and the PSU has some"
    );
    if let (Some(first), Some((count, from, to))) = (
        summary.card_accounts.iter().flatten().next(),
        summary.card_transactions,
    ) {
        let path = format!("/v1/card-accounts/{}/transactions", first.as_str());
        let query = [
            ("bookingStatus", "booked".to_string()),
            ("dateFrom", from.to_string()),
            ("dateTo", to.to_string()),
        ];
        let raw = wire.walk(consent, &path, &query).await;
        assert_eq!(count, raw.total(), "{id}: {path}: booked card entries");
    }
}
