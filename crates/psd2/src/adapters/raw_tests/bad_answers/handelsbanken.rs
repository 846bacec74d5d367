//! Handelsbanken: every operation's answer, from the API description's examples.

#[allow(unused_imports)]
use crate::adapters::common::{FromRaw, TryFromRaw};
use crate::adapters::handelsbanken::mapping;
use crate::{Account, CardAccount, Consent, ConsentId, ConsentStatus, CreatedConsent};
use crate::{ScaChallenge, Transaction};
use chrono::{DateTime, Utc};
use psd2_raw_handelsbanken::types as raw;
use serde_json::Value;

use super::check::{self, Operation, Shape, decode, result};

const BANK: &str = "handelsbanken";

fn example(definition: &str) -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../specs/handelsbanken/handelsbanken.json"
    );
    let spec: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let example = spec["definitions"][definition]["example"].clone();
    assert!(!example.is_null(), "no example for {definition}");
    example
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2024-03-30T10:00:00Z")
        .unwrap()
        .with_timezone(&Utc)
}

const TRANSACTIONS: Shape = Shape {
    container: "/transactions",
    lists: &[],
};
const CARD_TRANSACTIONS: Shape = Shape {
    container: "/cardTransactions",
    lists: &["pending", "booked"],
};

fn transactions(body: &[u8]) -> Result<(), String> {
    let expected = check::expected_entries(body, &TRANSACTIONS);
    match decode::<raw::TransactionList>(BANK, "transactions", body) {
        Ok(list) => {
            let entries = mapping::transaction_entries(&list);
            check::complete(Ok(&entries), expected)?;
            let all: Result<Vec<Transaction>, _> = list
                .transactions
                .iter()
                .map(Transaction::try_from_raw)
                .collect();
            check::all_or_nothing(&all, expected)?;
        }
        Err(e) => check::clean(&e)?,
    }
    check::complete_page(&mapping::transactions_from_body(body), expected)
}

fn card_transactions(body: &[u8]) -> Result<(), String> {
    let expected = check::expected_entries(body, &CARD_TRANSACTIONS);
    match decode::<raw::CardAccountTransactionsResponse>(BANK, "card_transactions", body) {
        Ok(answer) => {
            let entries = mapping::card_transaction_entries(&answer.card_transactions);
            check::complete(Ok(&entries), expected)?;
            check::all_or_nothing(
                &mapping::card_transactions(&answer.card_transactions),
                expected,
            )?;
        }
        Err(e) => check::clean(&e)?,
    }
    check::complete_page(&mapping::card_transactions_from_body(body), expected)
}

fn accounts(body: &[u8]) -> Result<(), String> {
    let expected = check::expected_entries(
        body,
        &Shape {
            container: "/accounts",
            lists: &[],
        },
    );
    let mapped =
        decode::<raw::AccountList>(BANK, "accounts", body).and_then(|l| mapping::accounts(&l));
    check::all_or_nothing(&mapped, expected)?;
    result(&mapped)
}

fn account(body: &[u8]) -> Result<(), String> {
    result(&decode::<raw::Account>(BANK, "account", body).and_then(|a| Account::try_from_raw(&a)))
}

fn card_accounts(body: &[u8]) -> Result<(), String> {
    let expected = check::expected_entries(
        body,
        &Shape {
            container: "/cardAccounts",
            lists: &[],
        },
    );
    let mapped = decode::<raw::CardAccountList>(BANK, "card_accounts", body)
        .and_then(|l| mapping::card_accounts(&l));
    check::all_or_nothing(&mapped, expected)?;
    result(&mapped)
}

fn card_account(body: &[u8]) -> Result<(), String> {
    result(
        &decode::<raw::CardAccountDetailsResponse>(BANK, "card_account", body)
            .and_then(|a| CardAccount::try_from_raw(&a.card_account)),
    )
}

fn card_balances(body: &[u8]) -> Result<(), String> {
    let expected = check::expected_entries(
        body,
        &Shape {
            container: "/balances",
            lists: &[],
        },
    );
    let mapped = decode::<raw::CardAccountBalancesResponse>(BANK, "card_balances", body)
        .and_then(|a| mapping::card_balances(&a.balances));
    check::all_or_nothing(&mapped, expected)?;
    result(&mapped)
}

fn consent_created(body: &[u8]) -> Result<(), String> {
    result(
        &decode::<raw::ConsentResponse>(BANK, "create_consent", body)
            .map(|c| CreatedConsent::from_raw(&c)),
    )
}

fn consent(body: &[u8]) -> Result<(), String> {
    result(&decode::<raw::Consent>(BANK, "consent", body).map(|c| Consent::from_raw(&c)))
}

fn consent_status(body: &[u8]) -> Result<(), String> {
    result(
        &decode::<raw::ConsentStatusResponse>(BANK, "consent_status", body)
            .map(|c| ConsentStatus::from_raw(&c.consent_status)),
    )
}

fn token(body: &[u8]) -> Result<(), String> {
    result(&decode::<raw::TokenResponse>(BANK, "token", body).map(|t| {
        let grant = mapping::TokenGrant::from_raw(&t);
        let _ = grant.expires_at(now());
        grant.into_session(ConsentId::new("c"), now())
    }))
}

fn decoupled_start(body: &[u8]) -> Result<(), String> {
    result(
        &decode::<raw::DecoupledAuthorizationResponse>(BANK, "start_sca", body)
            .map(|d| ScaChallenge::from_raw(&d)),
    )
}

fn decoupled_poll(body: &[u8]) -> Result<(), String> {
    result(
        &decode::<raw::DecoupledAuthorizationStatus>(BANK, "sca_status", body)
            .and_then(|s| mapping::decoupled_progress(&s, &ConsentId::new("c"), now())),
    )
}

/// Every operation with its valid answer.
pub fn operations() -> Vec<Operation> {
    let op = |name, definition: &str, run| Operation {
        name,
        valid: example(definition),
        run,
    };
    vec![
        op(
            "transactions",
            "TransactionList",
            transactions as check::Run,
        ),
        op(
            "card_transactions",
            "CardAccountTransactionsResponse",
            card_transactions,
        ),
        op("accounts", "AccountList", accounts),
        op("account", "Account", account),
        op("card_accounts", "CardAccountList", card_accounts),
        op("card_account", "CardAccountDetailsResponse", card_account),
        op(
            "card_balances",
            "CardAccountBalancesResponse",
            card_balances,
        ),
        op("create_consent", "ConsentResponse", consent_created),
        op("consent", "Consent", consent),
        op("consent_status", "ConsentStatusResponse", consent_status),
        op("token", "TokenResponse", token),
        op(
            "start_sca",
            "DecoupledAuthorizationResponse",
            decoupled_start,
        ),
        op("sca_status", "DecoupledAuthorizationStatus", decoupled_poll),
    ]
}
