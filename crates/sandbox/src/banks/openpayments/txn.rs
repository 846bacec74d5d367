//! The Open Payments transaction object, written as a borrowed struct (list pages and
//! details share it; details add a few fields).

use serde::Serialize;

use super::ACCOUNTS;
use crate::banks::render::{Amount, BalanceAfter, Href, IbanRef, PartyRef, display, display_opt};
use crate::fixtures::{Account, Txn, TxnKind};
use crate::util::money;

/// A fee of a transaction.
#[derive(Serialize)]
struct Fee<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    currency: &'a str,
    amount: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Links {
    transaction_details: Href,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DocumentInformation {
    type_code: &'static str,
    number: String,
    #[serde(serialize_with = "display")]
    related_date: chrono::NaiveDate,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DocumentAmount<'a> {
    remitted_amount: Amount<'a>,
    due_payable_amount: Amount<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreditorReference<'a> {
    type_code: &'static str,
    reference: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Structured<'a> {
    referred_document_information: [DocumentInformation; 1],
    referred_document_amount: DocumentAmount<'a>,
    creditor_reference_information: CreditorReference<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Exchange<'a> {
    source_currency: &'a str,
    #[serde(serialize_with = "display")]
    exchange_rate: rust_decimal::Decimal,
    unit_currency: &'a str,
    target_currency: &'a str,
    target_amount: String,
    exchange_fee_currency: &'a str,
    exchange_fee_amount: String,
}

/// One Open Payments transaction.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct OpTxn<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    transaction_id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    entry_reference: &'a str,
    #[serde(serialize_with = "display")]
    value_date: chrono::NaiveDate,
    transaction_amount: Amount<'a>,
    remittance_information_unstructured: &'a str,
    proprietary_bank_transaction_code_text: &'static str,
    transaction_fees: Vec<Fee<'a>>,
    #[serde(rename = "_links", skip_serializing_if = "Option::is_none")]
    links: Option<Links>,
    #[serde(skip_serializing_if = "Option::is_none")]
    creditor_name: Option<&'a str>,
    creditor_account: PartyOrOwn<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    debtor_name: Option<&'a str>,
    debtor_account: PartyOrOwn<'a>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "display_opt"
    )]
    booking_date: Option<chrono::NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    balance_after_transaction: Option<BalanceAfter<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remittance_information_structured: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remittance_information_unstructured_array: Option<[String; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remittance_information_structured_array: Option<[Structured<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    is_enriched: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    payment_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    currency_exchange: Option<[Exchange<'a>; 1]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    purpose_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    creditor_agent: Option<&'static str>,
}

/// The counterparty's reference or the account's own.
#[derive(Serialize)]
#[serde(untagged)]
enum PartyOrOwn<'a> {
    Party(PartyRef<'a>),
    Own(IbanRef<'a>),
}

impl<'a> OpTxn<'a> {
    /// Entry `t` of account `a` (`details`: the transaction details answer).
    pub(super) fn new(a: &'a Account, t: &'a Txn, details: bool) -> Self {
        let party = PartyOrOwn::Party(PartyRef {
            iban: t.counterparty_iban.as_deref(),
        });
        let own = PartyOrOwn::Own(IbanRef {
            iban: a.iban.as_deref(),
        });
        let outgoing = t.amount.is_sign_negative();
        let (creditor_account, debtor_account) = if outgoing { (party, own) } else { (own, party) };
        let name = Some(t.counterparty.as_str());
        let fee = |kind, amount| {
            vec![Fee {
                kind,
                currency: t.currency,
                amount: money(amount),
            }]
        };
        let transaction_fees = match (&t.exchange, t.kind) {
            (_, TxnKind::Fee) => fee("ACCOUNT_FEE", t.amount.abs()),
            (Some(x), _) => fee("EXCHANGE_FEE", x.fee),
            (None, _) => Vec::new(),
        };
        let r = t.structured_reference.as_deref();
        let ids = !t.id.is_empty() && !t.entry_reference.is_empty();
        Self {
            transaction_id: &t.id,
            entry_reference: &t.entry_reference,
            value_date: t.value_date,
            transaction_amount: Amount::new(t.currency, t.amount),
            remittance_information_unstructured: &t.remittance,
            proprietary_bank_transaction_code_text: match t.kind {
                TxnKind::CardAbroad | TxnKind::CardPurchase => "Card purchase",
                TxnKind::Invoice => "TRF",
                TxnKind::Fee => "Fee",
                TxnKind::Transfer => "Transfer",
            },
            transaction_fees,
            links: ids.then(|| Links {
                transaction_details: Href {
                    href: format!("{ACCOUNTS}/{}/transactions/{}", a.resource_id, t.id),
                },
            }),
            creditor_name: name.filter(|_| outgoing),
            creditor_account,
            debtor_name: name.filter(|_| !outgoing),
            debtor_account,
            booking_date: t.booking_date,
            balance_after_transaction: t.balance_after.map(|b| BalanceAfter {
                balance_amount: Amount::new(t.currency, b),
                balance_type: "interimBooked",
            }),
            remittance_information_structured: r,
            remittance_information_unstructured_array: r
                .map(|r| [t.remittance.clone(), format!("OCR {r}")]),
            remittance_information_structured_array: r.map(|r| [structured(t, r)]),
            is_enriched: r.map(|_| true),
            payment_id: r.map(|_| crate::rng::uuid_from(crate::rng::str_part(&t.id))),
            currency_exchange: t.exchange.as_ref().map(|x| {
                [Exchange {
                    source_currency: t.currency,
                    exchange_rate: x.rate,
                    unit_currency: t.currency,
                    target_currency: x.target_currency,
                    target_amount: money(x.target_amount),
                    exchange_fee_currency: t.currency,
                    exchange_fee_amount: money(x.fee),
                }]
            }),
            purpose_code: details.then_some("OTHR"),
            creditor_agent: (details && matches!(t.kind, TxnKind::Transfer | TxnKind::Invoice))
                .then_some("HANDSESS"),
        }
    }
}

fn structured<'a>(t: &'a Txn, r: &'a str) -> Structured<'a> {
    Structured {
        referred_document_information: [DocumentInformation {
            type_code: "CINV",
            number: format!("INV-{r}"),
            related_date: t.value_date,
        }],
        referred_document_amount: DocumentAmount {
            remitted_amount: Amount::new(t.currency, t.amount.abs()),
            due_payable_amount: Amount::new(t.currency, t.amount.abs()),
        },
        creditor_reference_information: CreditorReference {
            type_code: "SCOR",
            reference: r,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Bank;
    use crate::banks::bg_amount;
    use crate::fixtures::{AccountKind, Fixtures};
    use serde_json::{Value, json};

    /// The entry as the sandbox rendered it before entries were written as structs: the
    /// oracle the struct form must equal.
    fn txn_json(a: &Account, t: &Txn, details: bool) -> Value {
        let mut v = json!({
            "transactionId": t.id,
            "entryReference": t.entry_reference,
            "valueDate": t.value_date.to_string(),
            "transactionAmount": bg_amount(t.currency, t.amount),
            "remittanceInformationUnstructured": t.remittance,
            "proprietaryBankTransactionCodeText": match t.kind {
                TxnKind::CardAbroad | TxnKind::CardPurchase => "Card purchase",
                TxnKind::Invoice => "TRF",
                TxnKind::Fee => "Fee",
                TxnKind::Transfer => "Transfer",
            },
            "transactionFees": [],
            "_links": {"transactionDetails": {"href": format!("{ACCOUNTS}/{}/transactions/{}", a.resource_id, t.id)}},
        });
        let party_account = match &t.counterparty_iban {
            Some(i) => json!({"iban": i}),
            None => json!({}),
        };
        if t.amount.is_sign_negative() {
            v["creditorName"] = json!(t.counterparty);
            v["creditorAccount"] = party_account;
            v["debtorAccount"] = json!({"iban": a.iban});
        } else {
            v["debtorName"] = json!(t.counterparty);
            v["debtorAccount"] = party_account;
            v["creditorAccount"] = json!({"iban": a.iban});
        }
        if let Some(d) = t.booking_date {
            v["bookingDate"] = json!(d.to_string());
        }
        if let Some(b) = t.balance_after {
            v["balanceAfterTransaction"] =
                json!({"balanceAmount": bg_amount(t.currency, b), "balanceType": "interimBooked"});
        }
        if let Some(r) = &t.structured_reference {
            v["remittanceInformationStructured"] = json!(r);
            v["remittanceInformationUnstructuredArray"] = json!([t.remittance, format!("OCR {r}")]);
            v["remittanceInformationStructuredArray"] = json!([{
                "referredDocumentInformation": [{"typeCode": "CINV", "number": format!("INV-{r}"), "relatedDate": t.value_date.to_string()}],
                "referredDocumentAmount": {
                    "remittedAmount": bg_amount(t.currency, t.amount.abs()),
                    "duePayableAmount": bg_amount(t.currency, t.amount.abs()),
                },
                "creditorReferenceInformation": {"typeCode": "SCOR", "reference": r},
            }]);
            v["isEnriched"] = json!(true);
            v["paymentId"] = json!(crate::rng::uuid_from(crate::rng::str_part(&t.id)));
        }
        if let Some(x) = &t.exchange {
            v["currencyExchange"] = json!([{
                "sourceCurrency": t.currency,
                "exchangeRate": x.rate.to_string(),
                "unitCurrency": t.currency,
                "targetCurrency": x.target_currency,
                "targetAmount": crate::util::money(x.target_amount),
                "exchangeFeeCurrency": t.currency,
                "exchangeFeeAmount": crate::util::money(x.fee),
            }]);
            v["transactionFees"] = json!([{"type": "EXCHANGE_FEE", "currency": t.currency, "amount": crate::util::money(x.fee)}]);
        }
        if t.kind == TxnKind::Fee {
            v["transactionFees"] = json!([{"type": "ACCOUNT_FEE", "currency": t.currency, "amount": crate::util::money(t.amount.abs())}]);
        }
        if details {
            v["purposeCode"] = json!("OTHR");
            if t.kind == TxnKind::Transfer || t.kind == TxnKind::Invoice {
                v["creditorAgent"] = json!("HANDSESS");
            }
        }
        crate::banks::common::drop_empty_ids(&mut v);
        v
    }

    #[test]
    fn struct_entries_equal_the_value_rendering() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap_or_default();
        let fx = Fixtures::new(11, today, 2_000);
        let mut checked = 0;
        for kind in [AccountKind::Payment, AccountKind::Card] {
            for a in fx.accounts_of(Bank::OpenPayments, "private-1", kind) {
                for i in 0..a.history {
                    let mut t = a.transaction(&fx, i);
                    if i % 97 == 0 {
                        t.id.clear(); // a bank without ids (churn's `no_ids`)
                    }
                    for details in [false, true] {
                        let got = serde_json::to_value(OpTxn::new(a, &t, details)).ok();
                        assert_eq!(got, Some(txn_json(a, &t, details)), "entry {i}");
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 4_000, "{checked}");
    }
}
