//! The Handelsbanken transaction object, written as a borrowed struct.

use serde::Serialize;
use serde_json::Value;

use crate::banks::render::{display, display_opt};
use crate::fixtures::{Txn, TxnKind};
use crate::util::json_number;

/// `{"currency", "amount"}` with the amount a JSON number, as Handelsbanken sends it.
#[derive(Serialize)]
struct HbAmount<'a> {
    currency: &'a str,
    amount: Value,
}

impl<'a> HbAmount<'a> {
    fn new(currency: &'a str, d: rust_decimal::Decimal) -> Self {
        Self {
            currency,
            amount: json_number(d),
        }
    }
}

/// One Handelsbanken transaction.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct HbTxn<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    transaction_id: &'a str,
    status: &'static str,
    amount: HbAmount<'a>,
    credit_debit: &'static str,
    #[serde(serialize_with = "display")]
    transaction_date: chrono::NaiveDate,
    #[serde(serialize_with = "display")]
    value_date: chrono::NaiveDate,
    remittance_information: &'a str,
    counterparty_name: &'a str,
    bank_transaction_code: &'static str,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "display_opt"
    )]
    ledger_date: Option<chrono::NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    balance: Option<HbAmount<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    counterparty_account: Option<&'a str>,
}

impl<'a> HbTxn<'a> {
    /// Entry `t`.
    pub(super) fn new(t: &'a Txn) -> Self {
        Self {
            transaction_id: &t.id,
            status: if t.booked { "BOOKED" } else { "PENDING" },
            amount: HbAmount::new(t.currency, t.amount.abs()),
            credit_debit: if t.amount.is_sign_negative() {
                "DEBIT"
            } else {
                "CREDIT"
            },
            transaction_date: t.value_date,
            value_date: t.value_date,
            remittance_information: &t.remittance,
            counterparty_name: &t.counterparty,
            bank_transaction_code: match t.kind {
                TxnKind::CardAbroad | TxnKind::CardPurchase => "PURCHASE",
                TxnKind::Invoice => "PAYMENT",
                TxnKind::Fee => "FEE",
                TxnKind::Transfer => "TRANSFER",
            },
            ledger_date: t.booking_date,
            balance: t.balance_after.map(|b| HbAmount::new(t.currency, b)),
            counterparty_account: t.counterparty_iban.as_deref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Bank;
    use crate::fixtures::{AccountKind, Fixtures};
    use serde_json::json;

    fn amount(currency: &str, d: rust_decimal::Decimal) -> Value {
        json!({"currency": currency, "amount": json_number(d)})
    }

    /// The entry as the sandbox rendered it before entries were written as structs: the
    /// oracle the struct form must equal.
    fn txn_json(t: &Txn) -> Value {
        let mut v = json!({
            "transactionId": t.id,
            "status": if t.booked { "BOOKED" } else { "PENDING" },
            "amount": amount(t.currency, t.amount.abs()),
            "creditDebit": if t.amount.is_sign_negative() { "DEBIT" } else { "CREDIT" },
            "transactionDate": t.value_date.to_string(),
            "valueDate": t.value_date.to_string(),
            "remittanceInformation": t.remittance,
            "counterpartyName": t.counterparty,
            "bankTransactionCode": match t.kind {
                TxnKind::CardAbroad | TxnKind::CardPurchase => "PURCHASE",
                TxnKind::Invoice => "PAYMENT",
                TxnKind::Fee => "FEE",
                TxnKind::Transfer => "TRANSFER",
            },
        });
        if let Some(m) = v.as_object_mut() {
            if let Some(d) = t.booking_date {
                m.insert("ledgerDate".into(), json!(d.to_string()));
            }
            if let Some(b) = t.balance_after {
                m.insert("balance".into(), amount(t.currency, b));
            }
            if let Some(i) = &t.counterparty_iban {
                m.insert("counterpartyAccount".into(), json!(i));
            }
        }
        crate::banks::common::drop_empty_ids(&mut v);
        v
    }

    #[test]
    fn struct_entries_equal_the_value_rendering() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap_or_default();
        let fx = Fixtures::new(13, today, 2_000);
        let mut checked = 0;
        for a in fx.accounts_of(Bank::Handelsbanken, "private-1", AccountKind::Payment) {
            for i in 0..a.history {
                let mut t = a.transaction(&fx, i);
                if i % 83 == 0 {
                    t.id.clear(); // a bank without ids (churn's `no_ids`)
                }
                let got = serde_json::to_value(HbTxn::new(&t)).ok();
                assert_eq!(got, Some(txn_json(&t)), "entry {i}");
                checked += 1;
            }
        }
        assert!(checked > 2_000, "{checked}");
    }
}
