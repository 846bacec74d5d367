//! Swedbank's answers (shapes from seed 004 and its API description) through the generic
//! Berlin Group adapter's decoding and mapping (`psd2-raw-berlingroup`), which serves
//! Swedbank.

use crate::adapters::berlingroup::mapping;
#[allow(unused_imports)]
use crate::adapters::common::{FromRaw, TryFromRaw};
use crate::{Account, ConsentStatus, ScaStatus};
use psd2_raw_berlingroup::types as raw;
use serde_json::{Value, json};

use super::check::{self, Operation, Shape, result};

/// The body decoded as the generic adapter decodes it.
fn decode<T: serde::de::DeserializeOwned>(
    bank: &'static str,
    op: &'static str,
    body: &[u8],
) -> Result<T, crate::Error> {
    crate::adapters::berlingroup::decode(bank, op, body, 200)
}

const BANK: &str = "swedbank";

const TRANSACTIONS: Shape = Shape {
    container: "/transactions",
    lists: &["booked", "pending"],
};

fn mapped<T>(op: &'static str, r: Result<T, crate::EntryError>) -> Result<T, crate::Error> {
    r.map_err(|e| e.into_error(BANK, op))
}

fn transactions(body: &[u8]) -> Result<(), String> {
    let expected = check::expected_entries(body, &TRANSACTIONS);
    let page = mapping::transactions_page(BANK, "transactions", "transactions", false, body);
    check::complete_page(&page, expected)?;
    let all = page.and_then(|p| mapped("transactions", p.into_transactions()));
    check::all_or_nothing(&all, expected)
}

fn accounts(body: &[u8]) -> Result<(), String> {
    let expected = check::expected_entries(
        body,
        &Shape {
            container: "/accounts",
            lists: &[],
        },
    );
    let list = decode::<raw::AccountList>(BANK, "accounts", body)
        .and_then(|l| mapped("accounts", mapping::accounts(l)));
    check::all_or_nothing(&list, expected)?;
    result(&list)
}

fn account(body: &[u8]) -> Result<(), String> {
    result(
        &decode::<raw::AccountDetailsResponse>(BANK, "account", body)
            .and_then(|a| mapped("account", Account::try_from_raw(a.account))),
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
    let list = decode::<raw::BalancesResponse>(BANK, "balances", body)
        .and_then(|b| mapped("balances", mapping::balances(b.balances, "balances")));
    check::all_or_nothing(&list, expected)?;
    result(&list)
}

fn consent(body: &[u8]) -> Result<(), String> {
    result(
        &decode::<raw::ConsentInformation>(BANK, "consent", body)
            .map(|c| ConsentStatus::from_bank_str(&c.consent_status.0)),
    )
}

fn consent_status(body: &[u8]) -> Result<(), String> {
    result(
        &decode::<raw::ConsentStatusResponse>(BANK, "consent_status", body)
            .map(|c| ConsentStatus::from_bank_str(&c.consent_status.0)),
    )
}

fn sca_status(body: &[u8]) -> Result<(), String> {
    result(
        &decode::<raw::ScaStatusResponse>(BANK, "sca_status", body)
            .map(|s| ScaStatus::from_bank_str(&s.sca_status.0)),
    )
}

fn consent_created(body: &[u8]) -> Result<(), String> {
    result(
        &decode::<raw::ConsentCreated>(BANK, "create_consent", body)
            .map(|c| ConsentStatus::from_bank_str(&c.consent_status.0)),
    )
}

fn start_sca(body: &[u8]) -> Result<(), String> {
    result(
        &decode::<raw::AuthorisationStarted>(BANK, "start_sca", body)
            .map(|a| ScaStatus::from_bank_str(&a.sca_status.0)),
    )
}

fn account_json() -> Value {
    json!({
        "resourceId": "3dc3d5b3-7023-4848-9853-f5400a64e80f",
        "iban": "NO9386011117947",
        "bban": "86011117947",
        "currency": "NOK",
        "name": "Brukskonto",
        "product": "Brukskonto",
        "cashAccountType": "CACC",
        "status": "enabled",
        "usage": "PRIV",
        "bic": "SWEDNOKK",
        "ownerName": "Ola Nordmann",
        "balances": [
            {"balanceAmount": {"amount": "500.00", "currency": "NOK"}, "balanceType": "interimAvailable",
             "creditLimitIncluded": false, "lastChangeDateTime": "2025-06-01T10:00:00Z",
             "referenceDate": "2025-06-01"},
            {"balanceAmount": {"amount": "-12.50", "currency": "NOK"}, "balanceType": "closingBooked"}
        ],
        "_links": {"balances": {"href": "/v1/accounts/3dc3d5b3/balances", "verbs": ["GET"]},
                   "transactions": {"href": "/v1/accounts/3dc3d5b3/transactions"}}
    })
}

fn transactions_json() -> Value {
    json!({
        "account": {"iban": "NO0995360573002", "currency": "NOK"},
        "transactions": {
            "booked": [{
                "transactionId": "t-1",
                "entryReference": "E-1",
                "bookingDate": "2025-06-01",
                "valueDate": "2025-06-02",
                "transactionAmount": {"amount": "-250.00", "currency": "NOK"},
                "creditorName": "Kiwi Majorstuen",
                "creditorAccount": {"iban": "NO9386011117947"},
                "debtorAccount": {"iban": "NO0995360573002"},
                "remittanceInformationUnstructured": "Groceries",
                "remittanceInformationStructured": "RF18539007547034",
                "bankTransactionCode": "PMNT-ICDT-ESCT",
                "proprietaryBankTransactionCode": "CARD",
                "balanceAfterTransaction": {"balanceAmount": {"amount": "1750.00", "currency": "NOK"},
                                            "balanceType": "closingBooked"},
                "currencyExchange": [{"sourceCurrency": "EUR", "targetCurrency": "NOK", "unitCurrency": "EUR",
                                      "exchangeRate": "11.71230", "quotationDate": "2025-06-01",
                                      "contractIdentification": "C-9"}]
            }, {
                "transactionId": "t-2",
                "bookingDate": "2025-06-02",
                "transactionAmount": {"amount": "1000", "currency": "NOK"},
                "debtorName": "Arbeidsgiver AS"
            }],
            "pending": [{
                "transactionAmount": {"amount": "99.9", "currency": "NOK"},
                "debtorName": "Ola Nordmann",
                "debtorAccount": {},
                "valueDate": "2025-06-03"
            }],
            "_links": {"next": {"href": "/v1/accounts/x/transactions?continuationKey=2"}}
        }
    })
}

/// Every operation with its valid answer.
pub fn operations() -> Vec<Operation> {
    vec![
        Operation {
            name: "transactions",
            valid: transactions_json(),
            run: transactions,
        },
        Operation {
            name: "accounts",
            valid: json!({"accounts": [account_json(), account_json()]}),
            run: accounts,
        },
        Operation {
            name: "account",
            valid: json!({"account": account_json()}),
            run: account,
        },
        Operation {
            name: "balances",
            valid: json!({"account": {"iban": "NO9386011117947"}, "balances": account_json()["balances"].clone()}),
            run: balances,
        },
        Operation {
            name: "consent",
            valid: json!({"access": {"allPsd2": "allAccounts"}, "recurringIndicator": true,
                          "validUntil": "2025-12-31", "frequencyPerDay": 4, "lastActionDate": "2025-06-01",
                          "consentStatus": "valid"}),
            run: consent,
        },
        Operation {
            name: "consent_status",
            valid: json!({"consentStatus": "valid"}),
            run: consent_status,
        },
        Operation {
            name: "sca_status",
            valid: json!({"scaStatus": "finalised"}),
            run: sca_status,
        },
        Operation {
            name: "create_consent",
            valid: json!({"consentId": "c-1", "consentStatus": "received",
                          "_links": {"scaRedirect": {"href": "https://bank.example/sca?c=1"},
                                     "self": {"href": "/v1/consents/c-1"},
                                     "status": {"href": "/v1/consents/c-1/status"}},
                          "scaMethods": [{"authenticationType": "PUSH_OTP", "authenticationMethodId": "mbid"}]}),
            run: consent_created,
        },
        Operation {
            name: "start_sca",
            valid: json!({"authorisationId": "auth-1", "scaStatus": "received", "scaApproach": "REDIRECT",
                          "_links": {"scaRedirect": {"href": "https://bank.example/sca?a=1"},
                                     "scaStatus": {"href": "/v1/consents/c-1/authorisations/auth-1"}}}),
            run: start_sca,
        },
    ]
}
