//! The bad-answer suite through a whole adapter: a fake bank (wiremock) serves a valid first
//! page that promises a second one, and then a second page mutated from a valid one. The
//! listing (all-or-nothing and per-entry pages) must end with every entry the bank sent, or
//! with an error: never silently short, never a panic, never the bank's text in the error.
#![cfg(all(
    feature = "openpayments",
    feature = "handelsbanken",
    feature = "swedbank"
))]
#![allow(clippy::unwrap_used)]

#[path = "bad_answers/mutate.rs"]
mod mutate;
mod openpayments_support;

use futures::{StreamExt, TryStreamExt};
use psd2::adapters::common::TransportConfig;
use psd2::adapters::handelsbanken::{Handelsbanken, HandelsbankenConfig};
use psd2::adapters::openpayments::{OpenPayments, OpenPaymentsConfig};
use psd2::adapters::swedbank::{Swedbank, SwedbankConfig};
use psd2::{
    AccessToken, AccountId, AccountInformation, BookingStatus, ConsentId, Psu, Secret, Session,
    TransactionQuery,
};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param, query_param_is_missing};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Every how-many-th mutation is served (all of them run in `bad_answers.rs` without HTTP).
const SAMPLE: usize = 4;

/// One bank's listing as the fake bank serves it.
struct Listing {
    /// The transactions path of account `acc-1`.
    path: &'static str,
    /// A valid first page whose `next` link asks for `continuationKey=k1`.
    first_page: Value,
    /// How many entries the first page holds.
    first_count: usize,
    /// A valid last page (no `next` link), to mutate.
    last_page: Value,
    /// Entries a (mutated) last page holds, `None` if it is not a readable listing.
    expected: fn(&[u8]) -> Option<usize>,
}

fn openpayments_listing() -> Listing {
    const PATH: &str = "/psd2/accountinformation/v1/accounts/acc-1/transactions";
    let entry = |id: &str| {
        json!({"transactionId": id, "bookingDate": "2025-01-02",
               "transactionAmount": {"currency": "SEK", "amount": "-1.50"}})
    };
    let mut last: Value = serde_json::from_str(openpayments_support::TRANSACTIONS).unwrap();
    last["transactions"]
        .as_object_mut()
        .unwrap()
        .remove("_links");
    Listing {
        path: PATH,
        first_page: json!({"transactions": {"booked": [entry("p1-a"), entry("p1-b")],
            "_links": {"next": {"href": format!("{PATH}?continuationKey=k1")}}}}),
        first_count: 2,
        last_page: last,
        expected: |body| {
            let root: Value = serde_json::from_slice(body).ok()?;
            let report = root.get("transactions")?.as_object()?;
            let mut n = 0;
            for list in ["booked", "pending", "bankgiro"] {
                match report.get(list) {
                    None | Some(Value::Null) => {}
                    Some(Value::Array(items)) => n += items.len(),
                    Some(_) => return None,
                }
            }
            Some(n)
        },
    }
}

fn handelsbanken_listing() -> Listing {
    const PATH: &str = "/openbanking/psd2/v2/accounts/acc-1/transactions";
    let spec: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../specs/handelsbanken/handelsbanken.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let mut last = spec["definitions"]["TransactionList"]["example"].clone();
    last.as_object_mut().unwrap().remove("_links");
    let entry = |id: &str| {
        json!({"transactionId": id, "status": "BOOKED", "creditDebit": "DEBIT",
               "amount": {"currency": "SEK", "amount": 1.5}, "ledgerDate": "2025-01-02"})
    };
    Listing {
        path: PATH,
        first_page: json!({"transactions": [entry("p1-a"), entry("p1-b")],
            "_links": {"next": {"href": format!("{PATH}?continuationKey=k1")}}}),
        first_count: 2,
        last_page: last,
        expected: |body| {
            let root: Value = serde_json::from_slice(body).ok()?;
            root.get("transactions")?.as_array().map(Vec::len)
        },
    }
}

fn swedbank_listing() -> Listing {
    const PATH: &str = "/swedbank/v1/accounts/acc-1/transactions";
    let entry = |id: &str, amount: &str| {
        json!({"transactionId": id, "bookingDate": "2025-06-01",
               "transactionAmount": {"amount": amount, "currency": "NOK"}})
    };
    let mut full = entry("t-1", "-250.00");
    full["creditorName"] = json!("Kiwi Majorstuen");
    full["creditorAccount"] = json!({"iban": "NO9386011117947"});
    full["balanceAfterTransaction"] = json!({"balanceAmount": {"amount": "1750.00", "currency": "NOK"},
                                             "balanceType": "closingBooked"});
    // Served by the generic Berlin Group adapter: an exchange names its source and target
    // currencies and the rate, as the standard requires.
    full["currencyExchange"] =
        json!([{"sourceCurrency": "EUR", "targetCurrency": "NOK", "exchangeRate": "11.71230"}]);
    Listing {
        path: PATH,
        first_page: json!({"transactions": {"booked": [entry("p1-a", "1.00"), entry("p1-b", "2.00")],
            "_links": {"next": {"href": "/v1/accounts/acc-1/transactions?continuationKey=k1"}}}}),
        first_count: 2,
        last_page: json!({"account": {"iban": "NO0995360573002"},
            "transactions": {"booked": [full, entry("t-2", "1000")],
                             "pending": [{"transactionAmount": {"amount": "99.9", "currency": "NOK"},
                                          "debtorAccount": {}}]}}),
        expected: |body| {
            let root: Value = serde_json::from_slice(body).ok()?;
            let report = root.get("transactions")?.as_object()?;
            let mut n = 0;
            for list in ["booked", "pending"] {
                match report.get(list) {
                    None | Some(Value::Null) => {}
                    Some(Value::Array(items)) => n += items.len(),
                    Some(_) => return None,
                }
            }
            Some(n)
        },
    }
}

async fn serve(server: &MockServer, listing: &Listing, body: Vec<u8>) {
    server.reset().await;
    Mock::given(method("POST"))
        .and(path("/connect/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"access_token": "tok", "expires_in": 3600, "token_type": "Bearer"}),
        ))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(listing.path))
        .and(query_param_is_missing("continuationKey"))
        .respond_with(ResponseTemplate::new(200).set_body_json(listing.first_page.clone()))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path(listing.path))
        .and(query_param("continuationKey", "k1"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(body, "application/json"))
        .mount(server)
        .await;
}

fn session() -> Session {
    let until = chrono::Utc::now() + chrono::Duration::seconds(3600);
    Session::new(ConsentId::new("consent-1"))
        .with_access_token(AccessToken::new("psu-token"), Some(until))
}

/// What one served case broke, if anything.
async fn run_case(
    ai: &dyn AccountInformation,
    listing: &Listing,
    body: &[u8],
    must_succeed: bool,
) -> Result<(), String> {
    let (session, psu, account) = (session(), Psu::absent(), AccountId::new("acc-1"));
    let query = TransactionQuery::new(None, None, BookingStatus::Both);
    let want = (listing.expected)(body).map(|n| n + listing.first_count);
    let all: Result<Vec<_>, _> = ai
        .transactions(&session, &psu, &account, &query)
        .try_collect()
        .await;
    match (&all, want) {
        (Err(e), _) if mutate::leaks(&format!("{e} {e:?}")) => {
            return Err(format!("error shows the bank's text: {e:?}"));
        }
        (Err(e), _) if must_succeed => return Err(format!("the valid listing failed: {e}")),
        (Err(_), _) => {}
        (Ok(items), Some(n)) if items.len() == n => {}
        (Ok(items), _) => return Err(format!("{} transactions of {want:?}", items.len())),
    }
    let pages: Vec<_> = ai
        .transaction_pages(&session, &psu, &account, &query, None)
        .collect()
        .await;
    let mut entries = 0;
    for page in &pages {
        match page {
            Ok(page) => entries += page.entries.len(),
            Err(e) if mutate::leaks(&format!("{e} {e:?}")) => {
                return Err(format!("page error shows the bank's text: {e:?}"));
            }
            Err(_) => return Ok(()),
        }
    }
    match want {
        Some(n) if n == entries => Ok(()),
        _ => Err(format!("{entries} entries in pages of {want:?}")),
    }
}

async fn run_bank(server: &MockServer, ai: &dyn AccountInformation, listing: Listing) {
    let cases = std::iter::once(mutate::Case {
        name: "valid".to_owned(),
        body: serde_json::to_vec(&listing.last_page).unwrap(),
    })
    .chain(
        mutate::cases(&listing.last_page)
            .into_iter()
            .step_by(SAMPLE),
    );
    let mut failures = Vec::new();
    let mut count = 0;
    for case in cases {
        serve(server, &listing, case.body.clone()).await;
        count += 1;
        let must_succeed = count == 1;
        if let Err(why) = run_case(ai, &listing, &case.body, must_succeed).await {
            failures.push(format!("{}: {why}", case.name));
        }
    }
    assert!(count >= 100, "{count} cases");
    assert!(
        failures.is_empty(),
        "{} of {count} served cases broke a rule:\n{}",
        failures.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openpayments_listings_are_complete_or_an_error() {
    let server = MockServer::start().await;
    let config = OpenPaymentsConfig::new(server.uri().parse().unwrap(), "client-1", "ESSESESS")
        .with_client_secret(Secret::new("secret"))
        .with_transport(TransportConfig::with_client(reqwest::Client::new()))
        .with_retry(psd2::RetryPolicy::none());
    let op = OpenPayments::new(config).unwrap();
    run_bank(&server, &op, openpayments_listing()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handelsbanken_listings_are_complete_or_an_error() {
    let server = MockServer::start().await;
    let config = HandelsbankenConfig::new(server.uri().parse().unwrap(), "client-abc", "SE")
        .transport(TransportConfig::with_client(reqwest::Client::new()))
        .with_retry(psd2::RetryPolicy::none());
    let hb = Handelsbanken::new(config).unwrap();
    run_bank(&server, &hb, handelsbanken_listing()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swedbank_listings_are_complete_or_an_error() {
    let server = MockServer::start().await;
    let base = format!("{}/swedbank", server.uri()).parse().unwrap();
    let config = SwedbankConfig::new(base).with_retry(psd2::RetryPolicy::none());
    let bank = Swedbank::new(config).unwrap();
    run_bank(&server, &bank, swedbank_listing()).await;
}
