//! The generic adapter against a mock bank (wiremock): for each profile setting, the
//! request on the wire is what the profile says, and each error shape and a bank's own code
//! become the right kind. Expected values come from the Berlin Group NextGenPSD2
//! implementation guidelines (header, parameter and field names, codes), not from the code.

mod errors;
mod hostile;
mod listing;
mod requests;
mod sca;

use std::net::{IpAddr, Ipv4Addr};

use psd2_registry::RegistryEntry;
use serde_json::{Value, json};
use url::Url;
use wiremock::{MockServer, Request};

use super::{BerlinGroup, BerlinGroupConfig};
use crate::api::Session;
use crate::psu::Psu;
use crate::retry::RetryPolicy;
use crate::secret::{ConsentId, PsuId};

/// A bank offering everything, in the standard's default shapes.
const BASE: &str = r#"
name = "Test Bank"
country = "DE"
bics = ["TESTDEFF"]
platform = "own"

[urls]
live = "https://api.testbank.example"

[profile]
sca_approaches = ["redirect", "decoupled", "embedded"]
error_shape = "tpp_messages"

[profile.consent]
scopes = ["all_psd2", "available_accounts", "detailed"]
max_frequency_per_day = 4
max_valid_days = 180

[profile.transactions]
booking_statuses = ["booked", "pending", "both"]
history_days = 730
page_size = 50
ids_stable_across_booking = true
"#;

/// The base bank's entry, changed by `edit`.
fn entry(edit: impl FnOnce(&mut RegistryEntry)) -> RegistryEntry {
    let mut entry = psd2_registry::parse_entry("testbank.toml", BASE).unwrap();
    edit(&mut entry);
    entry
}

fn config(server: &MockServer) -> BerlinGroupConfig {
    BerlinGroupConfig::new(Url::parse(&server.uri()).unwrap()).with_retry(RetryPolicy::none())
}

fn bank(server: &MockServer, edit: impl FnOnce(&mut RegistryEntry)) -> BerlinGroup {
    BerlinGroup::new(entry(edit), config(server)).unwrap()
}

fn session() -> Session {
    Session::new(ConsentId::new("consent-1"))
}

fn present() -> Psu {
    Psu::present(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7)), None).with_id(PsuId::new("private-1"))
}

fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers.get(name).and_then(|v| v.to_str().ok())
}

fn body(request: &Request) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

fn query(request: &Request) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = request
        .url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    pairs.sort();
    pairs
}

fn consent_created() -> Value {
    json!({
        "consentStatus": "received",
        "consentId": "consent-1",
        "_links": {"startAuthorisation": {"href": "/v1/consents/consent-1/authorisations"}}
    })
}

fn consent_info() -> Value {
    json!({
        "access": {"allPsd2": "allAccounts"},
        "recurringIndicator": true,
        "validUntil": "2030-01-01",
        "frequencyPerDay": 4,
        "lastActionDate": "2026-01-01",
        "consentStatus": "received"
    })
}

fn account(id: &str, balances: Value) -> Value {
    json!({
        "resourceId": id,
        "iban": "DE89370400440532013000",
        "currency": "EUR",
        "name": "Main",
        "balances": balances
    })
}

fn balance(amount: &str) -> Value {
    json!({"balanceAmount": {"currency": "EUR", "amount": amount}, "balanceType": "closingBooked"})
}

fn tx(id: &str, amount: &str, booking: Option<&str>, value: Option<&str>) -> Value {
    let mut t =
        json!({"transactionId": id, "transactionAmount": {"currency": "EUR", "amount": amount}});
    if let Some(b) = booking {
        t["bookingDate"] = json!(b);
    }
    if let Some(v) = value {
        t["valueDate"] = json!(v);
    }
    t
}
