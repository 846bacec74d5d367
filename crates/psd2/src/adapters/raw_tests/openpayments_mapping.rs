//! Open Payments mapping: the seed 003 example bodies deserialized into the raw types and
//! mapped into the domain model (insta JSON snapshots), field coverage, edge cases, and a
//! property test that mapping never panics.
#![cfg(feature = "openpayments")]
#![allow(clippy::unwrap_used)]

use super::openpayments_support;
#[allow(unused_imports)]
use crate::adapters::common::{FromRaw, TryFromRaw};

use crate::adapters::openpayments::mapping;
use crate::{
    Account, AccountStatus, AccountUsage, AuthenticationType, Balance, BalanceType,
    CashAccountType, ConsentId, ConsentRequest, ConsentStatus, ErrorKind, IbanOrRaw, ScaApproach,
    Transaction, TransactionStatus,
};
use openpayments_support as seed;
use proptest::prelude::*;
use psd2_raw_openpayments::types as raw;
use serde_json::{Value, json};

fn parse<T: serde::de::DeserializeOwned>(body: &str) -> T {
    serde_json::from_str(body).unwrap()
}

/// Asserts that exactly `expected` seed leaves are missing from the domain JSON (the
/// rule: every field of the seed's examples appears in the domain values, so all tests pin none).
fn assert_missing(seed: &str, domain: &Value, expected: &[&str]) {
    let missing = seed::missing_leaves(seed, domain);
    assert_eq!(
        missing, expected,
        "seed fields missing from the domain values"
    );
}

#[test]
fn seed_consent_created() {
    let answer: raw::ConsentCreatedResponse = parse(seed::CONSENT_CREATED);
    let mapped = mapping::created(&answer, "redirect");
    let consent = &mapped.consent;
    let approaches = &mapped.approaches;
    assert_eq!(consent.id.expose(), "70c6d203-e1d1-43ff-9e42-07e5dda640ba");
    assert_eq!(consent.status, ConsentStatus::Received);
    // The create answer (seed 003) carries no validity, frequency or recurrence: unknown
    // here, never filled in from what was asked.
    assert_eq!(consent.valid_until, None);
    assert_eq!(consent.frequency_per_day, None);
    assert_eq!(consent.recurring, None);
    assert_eq!(approaches, &[ScaApproach::Decoupled]);
    let methods = &mapped.sca_methods;
    assert_eq!(methods.len(), 3);
    assert_eq!(methods[0].id.as_deref(), Some("mbid"));
    assert_eq!(methods[0].name.as_deref(), Some("Mobilt BankID"));
    assert_eq!(
        methods[0].authentication_type,
        Some(AuthenticationType::PushOtp)
    );
    assert!(methods.iter().all(|m| m.approach == ScaApproach::Decoupled));
    // The links keep their hrefs with the consent id hidden: no secret in Debug or JSON,
    // and `href_for` gives the URL to call.
    let status = &mapped.links["status"];
    assert_eq!(status.href, "/psd2/consent/v1/consents/{consentId}/status");
    assert_eq!(
        status.href_for(&consent.id),
        "/psd2/consent/v1/consents/70c6d203-e1d1-43ff-9e42-07e5dda640ba/status"
    );
    let debug = format!("{mapped:?}");
    assert!(!debug.contains(consent.id.expose()), "{debug}");
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Created<'a> {
        consent: &'a crate::Consent,
        approaches: &'a [ScaApproach],
        sca_methods: &'a [crate::OfferedScaMethod],
        links: &'a crate::Links,
    }
    let created = Created {
        consent,
        approaches,
        sca_methods: methods,
        links: &mapped.links,
    };
    insta::assert_json_snapshot!("seed_consent_created", created);
    let json = serde_json::to_string(&created).unwrap();
    assert!(!json.contains(consent.id.expose()), "{json}");
    // The consent id is a secret (serialized redacted, hidden in the links): the coverage
    // view adds it and the resolved links on purpose, as the Handelsbanken snapshots do.
    let mut domain = serde_json::to_value(&created).unwrap();
    domain["consentIdExposed"] = json!(consent.id.expose());
    domain["linksResolved"] = mapped
        .links
        .values()
        .map(|l| Value::from(l.href_for(&consent.id)))
        .collect();
    assert_missing(seed::CONSENT_CREATED, &domain, &[]);
}

#[test]
fn seed_consent_status() {
    let answer: raw::ConsentStatusResponse = parse(seed::CONSENT_STATUS);
    let status = ConsentStatus::from_raw(&answer.consent_status);
    assert_eq!(status, ConsentStatus::Valid);
    let domain = json!({"consentStatus": status});
    insta::assert_json_snapshot!("seed_consent_status", domain);
    assert_missing(seed::CONSENT_STATUS, &domain, &[]);
}

#[test]
fn seed_account_list() {
    let answer: raw::AccountList = parse(seed::ACCOUNT_LIST);
    let accounts: Vec<Account> = answer
        .accounts
        .iter()
        .map(Account::try_from_raw)
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(accounts.len(), 2);
    assert_eq!(
        accounts[0].balances[0].amount.amount.to_string(),
        "18959.990"
    );
    assert_eq!(accounts[0].balances[0].amount.amount.scale(), 3);
    assert_eq!(
        accounts[0].cash_account_type,
        Some(CashAccountType::OtherAccount)
    );
    assert_eq!(accounts[0].usage, Some(AccountUsage::Organisation));
    let domain = serde_json::to_value(&accounts).unwrap();
    insta::assert_json_snapshot!("seed_account_list", accounts);
    assert_missing(seed::ACCOUNT_LIST, &domain, &[]);
}

#[test]
fn seed_account_details() {
    let answer: raw::AccountDetails = parse(seed::ACCOUNT_DETAILS);
    let account = Account::try_from_raw(&answer).unwrap();
    assert_eq!(account.bankgiro.as_deref(), Some("12345678"));
    assert_eq!(
        account.credit_limit.as_ref().unwrap().amount.to_string(),
        "0.000"
    );
    let domain = serde_json::to_value(&account).unwrap();
    insta::assert_json_snapshot!("seed_account_details", account);
    assert_eq!(account.payments_enabled, Some(true));
    let enrichment = account.enrichment.as_ref().unwrap();
    assert_eq!(
        enrichment.last_enriched_at.as_deref(),
        Some("2025-04-23T20:51:16.803+00:00")
    );
    assert_eq!(
        enrichment.last_enriched_at_utc.unwrap().to_rfc3339(),
        "2025-04-23T20:51:16.803+00:00"
    );
    assert_missing(seed::ACCOUNT_DETAILS, &domain, &[]);
}

#[test]
fn seed_balances() {
    let answer: raw::BalanceList = parse(seed::BALANCES);
    let balances = mapping::balances(&answer.balances).unwrap();
    let types: Vec<&BalanceType> = balances.iter().map(|b| &b.balance_type).collect();
    assert_eq!(
        types,
        [
            &BalanceType::InterimAvailable,
            &BalanceType::InterimBooked,
            &BalanceType::ValueDated
        ]
    );
    let domain = serde_json::to_value(&balances).unwrap();
    insta::assert_json_snapshot!("seed_balances", balances);
    assert_missing(seed::BALANCES, &domain, &[]);
}

#[test]
fn seed_transactions_page() {
    let answer: raw::TransactionsResponse = parse(seed::TRANSACTIONS);
    let report = answer.transactions.clone().unwrap();
    let page = mapping::transactions_response(&answer).unwrap();
    let txs: Vec<Transaction> = page.entries.iter().cloned().map(Result::unwrap).collect();
    assert_eq!(txs, {
        // The same entries as `transaction_page`, plus the reported account.
        let mut plain = mapping::transaction_page(&report).unwrap();
        for t in &mut plain {
            t.account = txs[0].account.clone();
        }
        plain
    });
    assert_eq!(txs.len(), 3);
    assert!(txs.iter().all(|t| t.status == TransactionStatus::Booked));
    assert_eq!(txs[2].amount.amount.to_string(), "-2578.090");
    assert_eq!(
        txs[0].details_href.as_deref(),
        Some(
            "/psd2/accountinformation/v1/accounts/ab82e294-b01d-4c21-b53e-9a39df7507d1/transactions/ecc47512-ea64-4844-92d4-82d0a5968753"
        )
    );
    // `creditorAccount: {}` is "no account", not an empty reference.
    assert!(txs[0].creditor.is_none());
    let next = report.links.unwrap().next.unwrap().href;
    assert_eq!(
        crate::pagination::continuation_key(&next).as_deref(),
        Some("0jrZlU66guCSgkTDQr8cuA")
    );
    // The page's account reference is on every entry, one shared value.
    let account = txs[0].account.as_ref().unwrap();
    assert!(txs.iter().all(|t| {
        t.account
            .as_ref()
            .is_some_and(|a| std::sync::Arc::ptr_eq(a, account))
    }));
    assert!(txs.iter().all(|t| {
        t.account
            .as_ref()
            .and_then(|a| a.iban.as_ref())
            .map(IbanOrRaw::as_str)
            == Some("SE1234567890123456788")
    }));
    // `aggregateAmount` equals the amount in the seed, so the value check alone could not
    // see it missing: checked here, with the transaction's currency.
    let aggregate = txs[1].aggregate.as_ref().unwrap();
    assert_eq!(
        aggregate.id.as_deref(),
        Some("d8lTg5nRk2qWzXgA7cNf3LhVYujXK9_E")
    );
    assert_eq!(
        aggregate.amount.as_ref().unwrap().to_string(),
        "-1250.00 SEK"
    );
    assert_eq!(
        aggregate.remittance_unstructured.as_deref(),
        Some("LBE1234-5678")
    );
    assert_eq!(txs[1].is_alias_payout, Some(true));
    assert!(txs[0].aggregate.is_none() && txs[0].is_alias_payout.is_none());
    assert_eq!(page.next_href(), Some(next.as_str()));
    insta::assert_json_snapshot!("seed_transactions_page", txs);
    insta::assert_json_snapshot!("seed_transactions_page_links", page.links);
    let domain = json!({"transactions": txs, "links": page.links});
    assert_missing(seed::TRANSACTIONS, &domain, &[]);
}

#[test]
fn seed_transaction_details_and_merge() {
    let answer: raw::Transaction = parse(seed::TRANSACTION_DETAILS);
    let details = mapping::transaction(&answer, TransactionStatus::Booked).unwrap();
    let fx = &details.currency_exchange[0];
    assert_eq!(fx.rate.unwrap().to_string(), "0.07683");
    assert_eq!(
        fx.target_amount.as_ref().unwrap().to_string(),
        "-198.19 GBP"
    );
    assert_eq!(fx.fee.as_ref().unwrap().to_string(), "38.54 SEK");
    let domain = serde_json::to_value(&details).unwrap();
    insta::assert_json_snapshot!("seed_transaction_details", details);
    assert_missing(seed::TRANSACTION_DETAILS, &domain, &[]);

    // The seed rule: the details overwrite the list entry.
    let page: raw::TransactionsResponse = parse(seed::TRANSACTIONS);
    let mut list = mapping::transaction_page(&page.transactions.unwrap()).unwrap();
    let mut entry = list.remove(2);
    assert_eq!(entry.entry_reference.as_deref(), Some("EX02-0005678"));
    entry.merge_details(details);
    assert_eq!(
        entry.entry_reference.as_deref(),
        Some("EX02-0005678"),
        "kept"
    );
    assert_eq!(entry.purpose_code.as_deref(), Some("OTHR"), "added");
    assert_eq!(
        entry.creditor.as_ref().unwrap().agent_name.as_deref(),
        Some("HSBC UK BANK PLC")
    );
    assert!(entry.details_href.is_some(), "list link kept");
    insta::assert_json_snapshot!("seed_transaction_merged", entry);
}

#[test]
fn unknown_codes_become_other() {
    let answer: raw::AccountDetails = parse(
        r#"{"resourceId":"a1","status":"frozen","cashAccountType":"XXXX","usage":"BOTH",
            "balances":[{"balanceAmount":{"currency":"NOK","amount":"1.5"},"balanceType":"previouslyClosedBooked"}]}"#,
    );
    let account = Account::try_from_raw(&answer).unwrap();
    assert_eq!(account.status, Some(AccountStatus::Other("frozen".into())));
    assert_eq!(
        account.cash_account_type,
        Some(CashAccountType::Other("XXXX".into()))
    );
    assert_eq!(account.usage, Some(AccountUsage::Other("BOTH".into())));
    assert_eq!(
        account.balances[0].balance_type,
        BalanceType::Other("previouslyClosedBooked".into())
    );
    let status: raw::ConsentStatusResponse = parse(r#"{"consentStatus":"suspendedByBank"}"#);
    assert_eq!(
        ConsentStatus::from_raw(&status.consent_status),
        ConsentStatus::Other("suspendedByBank".into())
    );
    let sca: raw::ScaStatusResponse = parse(r#"{"scaStatus":"psuAuthenticated"}"#);
    assert_eq!(
        crate::ScaStatus::from_raw(&sca.sca_status),
        crate::ScaStatus::PsuAuthenticated
    );
    let methods: Vec<raw::ScaMethod> = parse(
        r#"[{"authenticationMethodId":"redirect"},{"authenticationMethodId":"sms_otp"},{"authenticationMethodId":"mbid"}]"#,
    );
    assert_eq!(
        mapping::approaches(&methods, "redirect"),
        [
            ScaApproach::Redirect,
            ScaApproach::Other("sms_otp".into()),
            ScaApproach::Decoupled
        ]
    );
}

#[test]
fn missing_optionals_and_other_lists() {
    let account =
        Account::try_from_raw(&parse::<raw::AccountDetails>(r#"{"resourceId":"only"}"#)).unwrap();
    insta::assert_json_snapshot!("minimal_account", account);
    let report: raw::AccountReport = parse(
        r#"{"pending":[{"transactionAmount":{"currency":"EUR","amount":"-0.10"}}],
            "bankgiro":[{"transactionAmount":{"currency":"SEK","amount":"100"},"debtorAccount":{"bankgiroNumber":"5555-1234"}}]}"#,
    );
    let txs = mapping::transaction_page(&report).unwrap();
    assert_eq!(txs[0].status, TransactionStatus::Pending);
    assert_eq!(txs[0].transaction_id, None);
    assert_eq!(txs[0].amount.amount.scale(), 2);
    assert_eq!(txs[1].status, TransactionStatus::Other("bankgiro".into()));
    insta::assert_json_snapshot!("minimal_transactions", txs);
}

#[test]
fn fees_keep_their_type_and_aggregates_take_the_currency() {
    let t: raw::Transaction = parse(
        r#"{"transactionAmount":{"currency":"EUR","amount":"-10.00"},
            "transactionFees":[{"type":"CARD_FEE","amount":"1.50","currency":"EUR"},{"amount":"0.2","currency":"SEK"}],
            "aggregateAmount":"-30.000"}"#,
    );
    let tx = mapping::transaction(&t, TransactionStatus::Booked).unwrap();
    assert_eq!(tx.fees.len(), 2);
    assert_eq!(tx.fees[0].fee_type.as_deref(), Some("CARD_FEE"));
    assert_eq!(tx.fees[0].amount.to_string(), "1.50 EUR");
    assert_eq!(tx.fees[1].fee_type, None);
    let aggregate = tx.aggregate.as_ref().unwrap();
    assert_eq!(aggregate.id, None);
    assert_eq!(
        aggregate.amount.as_ref().unwrap().to_string(),
        "-30.000 EUR"
    );
    assert_eq!(
        serde_json::to_value(&tx.fees).unwrap(),
        json!([{"feeType": "CARD_FEE", "amount": {"amount": "1.50", "currency": "EUR"}},
               {"amount": {"amount": "0.2", "currency": "SEK"}}])
    );
    let bad: raw::Transaction =
        parse(r#"{"transactionAmount":{"currency":"EUR","amount":"1"},"aggregateAmount":"1,5"}"#);
    assert_eq!(
        mapping::transaction(&bad, TransactionStatus::Booked)
            .unwrap_err()
            .field,
        "aggregateAmount"
    );
    // A page without an `account` reference or links: entries carry none.
    let answer: raw::TransactionsResponse = parse(
        r#"{"transactions":{"booked":[{"transactionAmount":{"currency":"SEK","amount":"1"}}]}}"#,
    );
    let page = mapping::transactions_response(&answer).unwrap();
    assert!(page.entries[0].as_ref().unwrap().account.is_none());
    assert!(page.links.is_empty() && page.next_href().is_none());
    // A success answer without a `transactions` object (what an error body sent with status
    // 200 decodes to) is an error, never an empty last page.
    for body in ["{}", r#"{"account":{"iban":"SE4550000000058398257466"}}"#] {
        let err = mapping::transactions_response(&parse(body)).unwrap_err();
        assert_eq!(err.field, "transactions", "{body}");
        let (kind, shown) = {
            let e = err.into_error("openpayments", "transactions");
            (e.kind.clone(), e.to_string())
        };
        assert_eq!(kind, ErrorKind::UnexpectedResponse);
        assert!(shown.contains("transactions: missing"), "{shown}");
    }
    let err = mapping::transactions_from_body(
        br#"{"tppMessages":[{"category":"ERROR","code":"ACCESS_EXCEEDED","text":"PSU 19121212-1212"}]}"#,
    )
    .unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::AccessExceeded { .. }),
        "{err}"
    );
    assert!(!err.to_string().contains("19121212"), "{err}");
}

#[test]
fn unreadable_amounts_fail_with_the_field_named() {
    let t: raw::Transaction = parse(r#"{"transactionAmount":{"currency":"SEK","amount":"12,50"}}"#);
    let err = mapping::transaction(&t, TransactionStatus::Booked).unwrap_err();
    assert_eq!(err.field, "transactionAmount.amount");
    assert!(
        err.reason.contains("5 chars: digits, other symbols"),
        "{err}"
    );
    assert!(!format!("{err} {err:?}").contains("12,50"), "{err:?}");
    // The value itself only for verbose output, through the facade error too.
    assert_eq!(err.value(), Some("12,50"));
    let facade = err.clone().into_error("openpayments", "transactions");
    assert_eq!(facade.offending_value(), Some("12,50"));
    assert!(
        !format!("{facade} {facade:?}").contains("12,50"),
        "{facade:?}"
    );
    let err = err.into_error("openpayments", "transactions");
    assert_eq!(err.kind, ErrorKind::UnexpectedResponse);
    let t: raw::Transaction = parse(
        r#"{"transactionAmount":{"currency":"SEK","amount":"1"},"transactionFees":[{"amount":"2.00"}]}"#,
    );
    assert_eq!(
        mapping::transaction(&t, TransactionStatus::Booked)
            .unwrap_err()
            .field,
        "transactionFees[0].amount"
    );
    let t: raw::Transaction = parse(
        r#"{"transactionAmount":{"currency":"SEK","amount":"1"},
            "currencyExchange":[{"exchangeRate":"1.5"},{"exchangeRate":"11,34"}]}"#,
    );
    assert_eq!(
        mapping::transaction(&t, TransactionStatus::Booked)
            .unwrap_err()
            .field,
        "currencyExchange[1].exchangeRate"
    );
    let b: raw::Balance =
        parse(r#"{"balanceAmount":{"currency":"sek","amount":"1"},"balanceType":"expected"}"#);
    assert!(Balance::try_from_raw(&b).is_err());
}

#[test]
fn entries_are_mapped_one_at_a_time_in_list_order() {
    let answer: raw::TransactionsResponse = parse(
        r#"{"account":{"iban":"SE4550000000058398257466"},
            "transactions":{
              "booked":[{"transactionId":"b1","transactionAmount":{"currency":"SEK","amount":"1"}},
                        {"transactionId":"b2","transactionAmount":{"currency":"SEK","amount":"1,5"}}],
              "pending":[{"transactionId":"p1","transactionAmount":{"currency":"SEK","amount":"3"}}],
              "bankgiro":[{"transactionId":"g1","transactionAmount":{"currency":"SEK","amount":"4"}}],
              "_links":{"next":{"href":"/tx?continuationKey=k2"}}}}"#,
    );
    let (mut entries, links) = mapping::into_mapped_transactions(answer).unwrap();
    assert_eq!(links.get("next").unwrap().href, "/tx?continuationKey=k2");
    assert_eq!(entries.len(), 4, "exact size before anything is mapped");
    let first = entries.next().unwrap().unwrap();
    assert_eq!(first.transaction_id.as_ref().unwrap().as_str(), "b1");
    assert_eq!(first.status, TransactionStatus::Booked);
    assert_eq!(
        first
            .account
            .as_ref()
            .unwrap()
            .iban
            .as_ref()
            .unwrap()
            .as_str(),
        "SE4550000000058398257466"
    );
    // The bad entry fails on its own, after the good one was handed out.
    let err = entries.next().unwrap().unwrap_err();
    assert_eq!(err.field, "transactions.booked[1].transactionAmount.amount");
    assert_eq!(err.bank_id.as_ref().map(|id| id.as_str()), Some("b2"));
    assert_eq!(entries.len(), 2);
    let rest: Vec<_> = entries.map(Result::unwrap).collect();
    assert_eq!(
        rest.iter().map(|t| t.status.clone()).collect::<Vec<_>>(),
        [
            TransactionStatus::Pending,
            TransactionStatus::Other(mapping::BANKGIRO_STATUS.into())
        ]
    );
    // The eager forms fail the whole page on the same entry.
    let (entries, _) = mapping::into_mapped_transactions(parse(
        r#"{"transactions":{"booked":[{"transactionAmount":{"currency":"SEK","amount":"x"}}]}}"#,
    ))
    .unwrap();
    assert_eq!(
        entries.collect_page().unwrap_err().field,
        "transactions.booked[0].transactionAmount.amount"
    );
}

#[test]
fn consent_request_bodies() {
    let until = chrono::NaiveDate::from_ymd_opt(2099, 12, 31).unwrap();
    let all = mapping::consent_request(&ConsentRequest::all_accounts(), until).unwrap();
    assert_eq!(
        serde_json::to_value(&all).unwrap(),
        json!({"access": {}, "combinedServiceIndicator": false, "frequencyPerDay": 4,
               "recurringIndicator": true, "validUntil": "2099-12-31"})
    );
    let some = ConsentRequest::accounts(vec![IbanOrRaw::parse("SE4550000000058398257466")])
        .with_data(true, false)
        .frequency_per_day(1)
        .recurring(false)
        .valid_until(chrono::NaiveDate::from_ymd_opt(2030, 1, 2).unwrap());
    let body = serde_json::to_value(mapping::consent_request(&some, until).unwrap()).unwrap();
    assert_eq!(
        body,
        json!({"access": {"accounts": [{"iban": "SE4550000000058398257466"}],
                          "balances": [{"iban": "SE4550000000058398257466"}]},
               "combinedServiceIndicator": false, "frequencyPerDay": 1,
               "recurringIndicator": false, "validUntil": "2030-01-02"})
    );
    assert!(
        mapping::consent_request(&ConsentRequest::all_accounts().frequency_per_day(0), until)
            .is_err()
    );
    assert!(mapping::consent_request(&ConsentRequest::accounts(vec![]), until).is_err());
}

#[test]
fn consent_information_keeps_its_fields() {
    let info: raw::ConsentInformationResponse = parse(
        r#"{"access":{},"recurringIndicator":true,"validUntil":"2099-12-31","frequencyPerDay":4,
            "lastActionDate":"2025-04-22","consentStatus":"valid"}"#,
    );
    let c = mapping::consent_information(&ConsentId::new("c-1"), &info);
    assert_eq!(c.status, ConsentStatus::Valid);
    assert_eq!(c.frequency_per_day, Some(4));
    assert_eq!(c.recurring, Some(true));
    assert_eq!(
        c.last_action_date,
        chrono::NaiveDate::from_ymd_opt(2025, 4, 22)
    );
    assert_eq!(c.valid_until, chrono::NaiveDate::from_ymd_opt(2099, 12, 31));
}

// ---- property tests: mapping anything that fits the raw types never panics ----

fn amount_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "-?[0-9]{1,30}(\\.[0-9]{1,30})?",
        "[0-9eE.+-]{0,12}",
        ".{0,8}",
    ]
}

fn currency_text() -> impl Strategy<Value = String> {
    prop_oneof!["[A-Z]{3}", ".{0,5}"]
}

fn amount() -> impl Strategy<Value = Value> {
    (amount_text(), currency_text()).prop_map(|(a, c)| json!({"amount": a, "currency": c}))
}

fn opt<T: std::fmt::Debug + Clone + 'static>(
    s: impl Strategy<Value = T>,
) -> impl Strategy<Value = Option<T>> {
    prop::option::of(s)
}

fn transaction_json() -> impl Strategy<Value = Value> {
    (
        amount(),
        opt(".{0,10}"),
        opt(amount()),
        opt("[a-zA-Z]{0,20}"),
        opt((
            opt(amount_text()),
            opt(currency_text()),
            opt(amount_text()),
            opt(currency_text()),
        )),
        opt((opt(".{0,30}"), opt(".{0,12}"), opt(".{0,12}"))),
        opt((opt(amount_text()), opt(currency_text()))),
        opt(amount()),
    )
        .prop_map(|(amt, id, bal, bal_type, fx, account, fee, remitted)| {
            let mut t = json!({"transactionAmount": amt});
            if let Some(id) = id {
                t["transactionId"] = json!(id);
            }
            if let Some(bal) = bal {
                t["balanceAfterTransaction"] =
                    json!({"balanceAmount": bal, "balanceType": bal_type.unwrap_or_default()});
            }
            if let Some((rate, target, fee_amount, fee_currency)) = fx {
                t["currencyExchange"] = json!([{"exchangeRate": rate, "targetCurrency": target,
                    "targetAmount": fee_amount.clone(), "exchangeFeeAmount": fee_amount,
                    "exchangeFeeCurrency": fee_currency}]);
            }
            if let Some((iban, bban, currency)) = account {
                t["creditorAccount"] = json!({"iban": iban, "bban": bban, "currency": currency});
            }
            if let Some((a, c)) = fee {
                t["transactionFees"] = json!([{"amount": a, "currency": c}]);
            }
            if let Some(r) = remitted {
                t["remittanceInformationStructuredArray"] =
                    json!([{"referredDocumentAmount": {"remittedAmount": r}}]);
            }
            strip_nulls(t)
        })
}

fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, strip_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        ".{0,10}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::hash_map(
                prop_oneof![
                    Just("transactionAmount".to_owned()),
                    Just("amount".to_owned()),
                    Just("currency".to_owned()),
                    Just("booked".to_owned()),
                    Just("pending".to_owned()),
                    Just("balances".to_owned()),
                    Just("resourceId".to_owned()),
                    "[a-zA-Z]{1,8}",
                ],
                inner,
                0..5
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn mapping_transactions_never_panics(t in transaction_json(), status in "[a-z]{0,8}") {
        if let Ok(raw) = serde_json::from_value::<raw::Transaction>(t) {
            let result = mapping::transaction(&raw, TransactionStatus::from_bank_str(&status));
            if let Ok(tx) = result {
                // Exact money: the value and the scale of the bank's text survive.
                let text = &raw.transaction_amount.amount;
                prop_assert_eq!(tx.amount.amount, crate::money::parse_decimal(text).unwrap());
                if let Some((_, fraction)) = text.split_once('.')
                    && fraction.chars().all(|c| c.is_ascii_digit())
                {
                    prop_assert_eq!(tx.amount.amount.scale() as usize, fraction.len());
                }
            }
        }
    }

    #[test]
    fn mapping_arbitrary_json_never_panics(v in arbitrary_json()) {
        if let Ok(page) = serde_json::from_value::<raw::AccountReport>(v.clone()) {
            let _ = mapping::transaction_page(&page);
        }
        if let Ok(account) = serde_json::from_value::<raw::AccountDetails>(v.clone()) {
            let _ = Account::try_from_raw(&account);
        }
        if let Ok(list) = serde_json::from_value::<raw::BalanceList>(v.clone()) {
            let _ = mapping::balances(&list.balances);
        }
        if let Ok(created) = serde_json::from_value::<raw::ConsentCreatedResponse>(v) {
            let _ = mapping::approaches(&created.sca_methods, "redirect");
        }
    }
}

/// The domain transaction stays compact (rare parts boxed, the listing's account shared):
/// no larger than the raw transaction it is mapped from, so a mapped page writes, moves and
/// drops no more memory than the raw page (see the mapping benchmark).
#[test]
fn domain_transaction_is_no_larger_than_the_raw_one() {
    let domain = std::mem::size_of::<crate::Transaction>();
    let raw = std::mem::size_of::<raw::Transaction>();
    assert!(
        domain <= raw,
        "domain Transaction is {domain} bytes, raw {raw}: box what most transactions lack"
    );
}
