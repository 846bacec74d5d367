//! Open Payments: every operation's answer, from the seed document's examples.

#[allow(unused_imports)]
use crate::adapters::common::{FromRaw, TryFromRaw};
use crate::adapters::openpayments::mapping;
use crate::{Account, ConsentId, ConsentStatus, ScaStatus, TransactionStatus};
use psd2_raw_openpayments::types as raw;
use serde_json::{Value, json};

use super::super::openpayments_support as seed;
use super::check::{self, Operation, Shape, decode, result};

const BANK: &str = "openpayments";

const TRANSACTIONS: Shape = Shape {
    container: "/transactions",
    lists: &["booked", "pending", "bankgiro"],
};

/// A mapping error as the facade's.
fn mapped<T>(op: &'static str, r: Result<T, mapping::MappingError>) -> Result<T, crate::Error> {
    mapping::mapped(op, r)
}

fn transactions(body: &[u8]) -> Result<(), String> {
    let expected = check::expected_entries(body, &TRANSACTIONS);
    match decode::<raw::TransactionsResponse>(BANK, "transactions", body) {
        Ok(answer) => {
            let page = mapped("transactions", mapping::transactions_response(&answer));
            check::complete_page(&page, expected)?;
            let lazy = mapped("transactions", mapping::into_mapped_transactions(answer));
            match lazy {
                Ok((entries, _)) => {
                    check::all_or_nothing(&entries.collect_page(), expected)?;
                }
                Err(e) => check::clean(&e)?,
            }
        }
        Err(e) => check::clean(&e)?,
    }
    check::complete_page(&mapping::transactions_from_body(body), expected)
}

fn transaction_details(body: &[u8]) -> Result<(), String> {
    result(
        &decode::<raw::Transaction>(BANK, "transaction_details", body).and_then(|t| {
            mapped(
                "transaction_details",
                mapping::into_transaction(t, TransactionStatus::Booked),
            )
        }),
    )
}

fn accounts(body: &[u8]) -> Result<(), String> {
    let expected = check::expected_entries(
        body,
        &Shape {
            container: "/accounts",
            lists: &[],
        },
    );
    let mapped_accounts = decode::<raw::AccountList>(BANK, "accounts", body)
        .and_then(|list| mapped("accounts", mapping::accounts(&list)));
    check::all_or_nothing(&mapped_accounts, expected)?;
    result(&mapped_accounts)
}

fn account(body: &[u8]) -> Result<(), String> {
    result(
        &decode::<raw::AccountDetails>(BANK, "account", body)
            .and_then(|a| mapped("account", Account::try_from_raw(&a))),
    )
}

fn balances(body: &[u8]) -> Result<(), String> {
    let expected = check::expected_entries(
        body,
        &Shape {
            container: "/balances",
            lists: &[],
        },
    );
    let mapped_balances = decode::<raw::BalanceList>(BANK, "balances", body)
        .and_then(|b| mapped("balances", mapping::balances(&b.balances)));
    check::all_or_nothing(&mapped_balances, expected)?;
    result(&mapped_balances)
}

fn consent_created(body: &[u8]) -> Result<(), String> {
    result(
        &decode::<raw::ConsentCreatedResponse>(BANK, "create_consent", body)
            .map(|c| mapping::created(&c, "redirect")),
    )
}

fn consent(body: &[u8]) -> Result<(), String> {
    result(
        &decode::<raw::ConsentInformationResponse>(BANK, "consent", body)
            .map(|c| mapping::consent_information(&ConsentId::new("c"), &c)),
    )
}

fn consent_status(body: &[u8]) -> Result<(), String> {
    result(
        &decode::<raw::ConsentStatusResponse>(BANK, "consent_status", body)
            .map(|c| ConsentStatus::from_raw(&c.consent_status)),
    )
}

fn sca_status(body: &[u8]) -> Result<(), String> {
    result(
        &decode::<raw::ScaStatusResponse>(BANK, "sca_status", body)
            .map(|s| ScaStatus::from_raw(&s.sca_status)),
    )
}

/// An answer this crate only decodes and reads a status from (token, start of SCA).
fn decoded<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<(), String> {
    result(&decode::<T>(BANK, "answer", body))
}

fn start_sca(body: &[u8]) -> Result<(), String> {
    result(
        &decode::<raw::StartAuthorisationResponse>(BANK, "start_sca", body)
            .map(|s| ScaStatus::from_raw(&s.sca_status)),
    )
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

/// Every operation with its valid answer.
pub fn operations() -> Vec<Operation> {
    vec![
        Operation {
            name: "transactions",
            valid: parse(seed::TRANSACTIONS),
            run: transactions,
        },
        Operation {
            name: "transaction_details",
            valid: parse(seed::TRANSACTION_DETAILS),
            run: transaction_details,
        },
        Operation {
            name: "accounts",
            valid: parse(seed::ACCOUNT_LIST),
            run: accounts,
        },
        Operation {
            name: "account",
            valid: parse(seed::ACCOUNT_DETAILS),
            run: account,
        },
        Operation {
            name: "balances",
            valid: parse(seed::BALANCES),
            run: balances,
        },
        Operation {
            name: "create_consent",
            valid: parse(seed::CONSENT_CREATED),
            run: consent_created,
        },
        Operation {
            name: "consent",
            valid: json!({"consentStatus": "valid", "validUntil": "2025-12-31", "frequencyPerDay": 4,
                          "recurringIndicator": true, "lastActionDate": "2025-01-02"}),
            run: consent,
        },
        Operation {
            name: "consent_status",
            valid: parse(seed::CONSENT_STATUS),
            run: consent_status,
        },
        Operation {
            name: "sca_status",
            valid: json!({"scaStatus": "finalised"}),
            run: sca_status,
        },
        Operation {
            name: "token",
            valid: json!({"access_token": "a-token", "expires_in": 3600, "token_type": "Bearer",
                          "scope": "accountinformation private"}),
            run: decoded::<raw::TokenResponse>,
        },
        Operation {
            name: "start_sca",
            valid: json!({"authorisationId": "auth-1", "scaStatus": "received",
                          "challengeData": {"data": ["autostart-token"]},
                          "_links": {"scaStatus": {"href": "/psd2/consent/v1/consents/c/authorisations/auth-1"}}}),
            run: start_sca,
        },
    ]
}
