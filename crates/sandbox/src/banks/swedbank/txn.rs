//! The Swedbank transaction object, written as a borrowed struct.

use serde::Serialize;

use crate::banks::render::{Amount, BalanceAfter, IbanRef, PartyRef, display, display_opt};
use crate::fixtures::{Account, Txn};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Exchange<'a> {
    source_currency: &'a str,
    #[serde(serialize_with = "display")]
    exchange_rate: rust_decimal::Decimal,
    unit_currency: &'a str,
    target_currency: &'a str,
    #[serde(serialize_with = "display")]
    quotation_date: chrono::NaiveDate,
}

/// The counterparty's reference or the account's own.
#[derive(Serialize)]
#[serde(untagged)]
enum PartyOrOwn<'a> {
    Party(PartyRef<'a>),
    Own(IbanRef<'a>),
}

/// One Swedbank transaction.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct SwTxn<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    transaction_id: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    entry_reference: &'a str,
    #[serde(serialize_with = "display")]
    value_date: chrono::NaiveDate,
    transaction_amount: Amount<'a>,
    remittance_information_unstructured: &'a str,
    proprietary_bank_transaction_code: String,
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
    currency_exchange: Option<[Exchange<'a>; 1]>,
}

impl<'a> SwTxn<'a> {
    /// Entry `t` of account `a`.
    pub(super) fn new(a: &'a Account, t: &'a Txn) -> Self {
        let party = PartyOrOwn::Party(PartyRef {
            iban: t.counterparty_iban.as_deref(),
        });
        let own = PartyOrOwn::Own(IbanRef {
            iban: a.iban.as_deref(),
        });
        let outgoing = t.amount.is_sign_negative();
        let (creditor_account, debtor_account) = if outgoing { (party, own) } else { (own, party) };
        let name = Some(t.counterparty.as_str());
        Self {
            transaction_id: &t.id,
            entry_reference: &t.entry_reference,
            value_date: t.value_date,
            transaction_amount: Amount::new(t.currency, t.amount),
            remittance_information_unstructured: &t.remittance,
            proprietary_bank_transaction_code: format!("{:?}", t.kind).to_uppercase(),
            creditor_name: name.filter(|_| outgoing),
            creditor_account,
            debtor_name: name.filter(|_| !outgoing),
            debtor_account,
            booking_date: t.booking_date,
            balance_after_transaction: t.balance_after.map(|b| BalanceAfter {
                balance_amount: Amount::new(t.currency, b),
                balance_type: "closingBooked",
            }),
            remittance_information_structured: t.structured_reference.as_deref(),
            currency_exchange: t.exchange.as_ref().map(|x| {
                [Exchange {
                    source_currency: t.currency,
                    exchange_rate: x.rate,
                    unit_currency: t.currency,
                    target_currency: x.target_currency,
                    quotation_date: t.value_date,
                }]
            }),
        }
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
    fn txn_json(a: &Account, t: &Txn) -> Value {
        let party = match &t.counterparty_iban {
            Some(i) => json!({"iban": i}),
            None => json!({}),
        };
        let mut v = json!({
            "transactionId": t.id,
            "entryReference": t.entry_reference,
            "valueDate": t.value_date.to_string(),
            "transactionAmount": bg_amount(t.currency, t.amount),
            "remittanceInformationUnstructured": t.remittance,
            "proprietaryBankTransactionCode": format!("{:?}", t.kind).to_uppercase(),
        });
        if t.amount.is_sign_negative() {
            v["creditorName"] = json!(t.counterparty);
            v["creditorAccount"] = party;
            v["debtorAccount"] = json!({"iban": a.iban});
        } else {
            v["debtorName"] = json!(t.counterparty);
            v["debtorAccount"] = party;
            v["creditorAccount"] = json!({"iban": a.iban});
        }
        if let Some(d) = t.booking_date {
            v["bookingDate"] = json!(d.to_string());
        }
        if let Some(b) = t.balance_after {
            v["balanceAfterTransaction"] =
                json!({"balanceAmount": bg_amount(t.currency, b), "balanceType": "closingBooked"});
        }
        if let Some(r) = &t.structured_reference {
            v["remittanceInformationStructured"] = json!(r);
        }
        if let Some(x) = &t.exchange {
            v["currencyExchange"] = json!([{
                "sourceCurrency": t.currency,
                "exchangeRate": x.rate.to_string(),
                "unitCurrency": t.currency,
                "targetCurrency": x.target_currency,
                "quotationDate": t.value_date.to_string(),
            }]);
        }
        crate::banks::common::drop_empty_ids(&mut v);
        v
    }

    #[test]
    fn struct_entries_equal_the_value_rendering() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap_or_default();
        let fx = Fixtures::new(12, today, 2_000);
        let mut checked = 0;
        for kind in [AccountKind::Payment, AccountKind::Card] {
            for a in fx.accounts_of(Bank::Swedbank, "private-1", kind) {
                for i in 0..a.history {
                    let mut t = a.transaction(&fx, i);
                    if i % 89 == 0 {
                        t.entry_reference.clear(); // a bank without ids (churn's `no_ids`)
                    }
                    let got = serde_json::to_value(SwTxn::new(a, &t)).ok();
                    assert_eq!(got, Some(txn_json(a, &t)), "entry {i}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 2_000, "{checked}");
    }
}
