//! JSON of a registry bank's accounts and transactions, as its profile and hooks say.

use psd2_registry::Hook;
use serde::Serialize;
use serde_json::{Value, json};

use super::{RegistryBank, link};
use crate::banks::render::{Amount, BalanceAfter, Href, IbanRef, PartyRef, display, display_opt};
use crate::banks::{bg_amount, bg_balances};
use crate::fixtures::{Account, Txn};

/// The balance types a registry bank reports.
pub(super) const BALANCE_TYPES: [&str; 3] = ["interimAvailable", "closingBooked", "expected"];

/// Prefix of a pending entry's id at a bank whose ids change on booking.
const PENDING_PREFIX: &str = "pending-";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Exchange<'a> {
    source_currency: &'a str,
    #[serde(serialize_with = "display")]
    exchange_rate: rust_decimal::Decimal,
    unit_currency: &'a str,
    target_currency: &'a str,
    #[serde(serialize_with = "display")]
    quotation_date: chrono::NaiveDate,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Structured<'a> {
    reference: &'a str,
    reference_type: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TxnLinks {
    transaction_details: Href,
}

/// The counterparty's reference or the account's own.
#[derive(Serialize)]
#[serde(untagged)]
pub(super) enum PartyOrOwn<'a> {
    Party(PartyRef<'a>),
    Own(IbanRef<'a>),
}

/// One entry of a registry bank's transaction report, written as a borrowed struct.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct BgTxn<'a> {
    #[serde(serialize_with = "display")]
    value_date: chrono::NaiveDate,
    transaction_amount: Amount<'a>,
    remittance_information_unstructured: &'a str,
    proprietary_bank_transaction_code: String,
    entry_reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    transaction_id: Option<String>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "display_opt"
    )]
    booking_date: Option<chrono::NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    creditor_name: Option<&'a str>,
    creditor_account: PartyOrOwn<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    debtor_name: Option<&'a str>,
    debtor_account: PartyOrOwn<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    balance_after_transaction: Option<BalanceAfter<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remittance_information_structured: Option<Structured<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    currency_exchange: Option<[Exchange<'a>; 1]>,
    #[serde(rename = "_links", skip_serializing_if = "Option::is_none")]
    links: Option<TxnLinks>,
}

impl RegistryBank {
    fn has(&self, hook: Hook) -> bool {
        self.entry.profile.hooks.contains(&hook)
    }

    /// The id the bank gives entry `t`: its own id, or, for a pending entry at a bank whose
    /// ids are not stable across booking, another one (the booked entry will not carry it).
    pub(super) fn txn_id(&self, t: &Txn) -> String {
        if !t.booked && !self.entry.profile.transactions.ids_stable_across_booking {
            format!("{PENDING_PREFIX}{}", t.id)
        } else {
            t.id.clone()
        }
    }

    /// Entry `id` of `account` (as [`Self::txn_id`] gives it), if it exists.
    pub(super) fn find_txn(&self, account: &Account, id: &str) -> Option<Txn> {
        let stable = self.entry.profile.transactions.ids_stable_across_booking;
        let (raw, pending_form) = match id.strip_prefix(PENDING_PREFIX) {
            Some(rest) if !stable => (rest, true),
            _ => (id, false),
        };
        let i = account.transaction_index(raw)?;
        let t = account.transaction(self.fixtures(), i);
        let expected_form = !t.booked && !stable;
        (pending_form == expected_form).then_some(t)
    }

    /// An account of the list or of the details answer.
    pub(super) fn account_json(&self, a: &Account, with_balances: bool) -> Value {
        let id = &a.resource_id;
        let mut v = json!({
            "resourceId": id,
            "iban": a.iban,
            "currency": a.currency,
            "ownerName": a.owner_name,
            "name": a.name,
            "product": a.product,
            "cashAccountType": a.cash_account_type,
            "status": "enabled",
            "usage": if a.psu.starts_with("corporate") { "ORGA" } else { "PRIV" },
            "_links": {
                "balances": link(self.url(&format!("/v1/accounts/{id}/balances"))),
                "transactions": link(self.url(&format!("/v1/accounts/{id}/transactions"))),
            },
        });
        if let Some(bban) = &a.bban {
            v["bban"] = json!(bban);
        }
        if let Some(bic) = self.entry.bics.first() {
            v["bic"] = json!(bic);
        }
        if with_balances {
            v["balances"] = bg_balances(&self.state, a, BALANCE_TYPES);
        }
        v
    }

    /// A card account of the list or of the details answer.
    pub(super) fn card_json(&self, a: &Account, with_balances: bool) -> Value {
        let id = &a.resource_id;
        let mut v = json!({
            "resourceId": id,
            "maskedPan": a.masked_pan,
            "currency": a.currency,
            "ownerName": a.owner_name,
            "name": a.name,
            "product": a.product,
            "status": "enabled",
            "usage": if a.psu.starts_with("corporate") { "ORGA" } else { "PRIV" },
            "debitAccounting": false,
            "_links": {
                "balances": link(self.url(&format!("/v1/card-accounts/{id}/balances"))),
                "transactions": link(self.url(&format!("/v1/card-accounts/{id}/transactions"))),
            },
        });
        if let Some(cents) = a.credit_limit_cents {
            v["creditLimit"] = bg_amount(a.currency, rust_decimal::Decimal::new(cents, 2));
        }
        if with_balances {
            v["balances"] = bg_balances(&self.state, a, BALANCE_TYPES);
        }
        v
    }

    /// One entry of a transaction report (or of the details answer).
    pub(super) fn txn<'a>(&'a self, a: &'a Account, t: &'a Txn) -> BgTxn<'a> {
        let id = self.txn_id(t);
        let hooked = self.has(Hook::EntryReferenceAsTransactionId);
        let details = self.entry.profile.transactions.details.then(|| Href {
            href: self.url(&format!("/v1/accounts/{}/transactions/{id}", a.resource_id)),
        });
        let party = PartyOrOwn::Party(PartyRef {
            iban: t.counterparty_iban.as_deref(),
        });
        let own = PartyOrOwn::Own(IbanRef {
            iban: a.iban.as_deref(),
        });
        let outgoing = t.amount.is_sign_negative();
        let (creditor_account, debtor_account) = if outgoing { (party, own) } else { (own, party) };
        let name = Some(t.counterparty.as_str());
        // Pending: the expected booking day, unless the bank leaves it out.
        let booking_date = t
            .booking_date
            .or_else(|| (!self.has(Hook::ValueDateForPending)).then_some(t.value_date));
        BgTxn {
            value_date: t.value_date,
            transaction_amount: Amount::new(t.currency, t.amount),
            remittance_information_unstructured: &t.remittance,
            proprietary_bank_transaction_code: format!("{:?}", t.kind).to_uppercase(),
            entry_reference: if hooked {
                id.clone()
            } else {
                t.entry_reference.clone()
            },
            transaction_id: (!hooked).then_some(id),
            booking_date,
            creditor_name: name.filter(|_| outgoing),
            creditor_account,
            debtor_name: name.filter(|_| !outgoing),
            debtor_account,
            balance_after_transaction: t.balance_after.map(|b| BalanceAfter {
                balance_amount: Amount::new(t.currency, b),
                balance_type: "closingBooked",
            }),
            remittance_information_structured: t.structured_reference.as_deref().map(|r| {
                Structured {
                    reference: r,
                    reference_type: "SCOR",
                }
            }),
            currency_exchange: t.exchange.as_ref().map(|x| {
                [Exchange {
                    source_currency: t.currency,
                    exchange_rate: x.rate,
                    unit_currency: t.currency,
                    target_currency: x.target_currency,
                    quotation_date: t.value_date,
                }]
            }),
            links: details.map(|d| TxnLinks {
                transaction_details: d,
            }),
        }
    }

    /// One entry of a card transaction report.
    pub(super) fn card_txn_json(&self, a: &Account, t: &Txn) -> Value {
        let mut v = json!({
            "cardTransactionId": self.txn_id(t),
            "transactionDate": t.value_date.to_string(),
            "valueDate": t.value_date.to_string(),
            "transactionAmount": bg_amount(t.currency, t.amount),
            "transactionDetails": t.remittance,
            "maskedPAN": a.masked_pan,
            "proprietaryBankTransactionCode": format!("{:?}", t.kind).to_uppercase(),
        });
        if let Some(d) = t.booking_date {
            v["bookingDate"] = json!(d.to_string());
        }
        if let Some(x) = &t.exchange {
            v["originalAmount"] = bg_amount(x.target_currency, x.target_amount);
            v["currencyExchange"] = json!([{
                "sourceCurrency": t.currency,
                "exchangeRate": x.rate.to_string(),
                "targetCurrency": x.target_currency,
            }]);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::SandboxConfig;
    use crate::fixtures::AccountKind;

    /// The entry as the sandbox rendered it before entries were written as structs: the
    /// oracle the struct form must equal.
    fn txn_json(bank: &RegistryBank, a: &Account, t: &Txn) -> Value {
        let id = bank.txn_id(t);
        let mut v = json!({
            "valueDate": t.value_date.to_string(),
            "transactionAmount": bg_amount(t.currency, t.amount),
            "remittanceInformationUnstructured": t.remittance,
            "proprietaryBankTransactionCode": format!("{:?}", t.kind).to_uppercase(),
        });
        if bank.has(Hook::EntryReferenceAsTransactionId) {
            v["entryReference"] = json!(id);
        } else {
            v["transactionId"] = json!(id);
            v["entryReference"] = json!(t.entry_reference);
        }
        match t.booking_date {
            Some(d) => v["bookingDate"] = json!(d.to_string()),
            // Pending: the expected booking day, unless the bank leaves it out.
            None if !bank.has(Hook::ValueDateForPending) => {
                v["bookingDate"] = json!(t.value_date.to_string());
            }
            None => {}
        }
        let party = match &t.counterparty_iban {
            Some(i) => json!({"iban": i}),
            None => json!({}),
        };
        let own = json!({"iban": a.iban});
        if t.amount.is_sign_negative() {
            v["creditorName"] = json!(t.counterparty);
            v["creditorAccount"] = party;
            v["debtorAccount"] = own;
        } else {
            v["debtorName"] = json!(t.counterparty);
            v["debtorAccount"] = party;
            v["creditorAccount"] = own;
        }
        if let Some(b) = t.balance_after {
            v["balanceAfterTransaction"] =
                json!({"balanceAmount": bg_amount(t.currency, b), "balanceType": "closingBooked"});
        }
        if let Some(r) = &t.structured_reference {
            v["remittanceInformationStructured"] = json!({"reference": r, "referenceType": "SCOR"});
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
        if bank.entry.profile.transactions.details {
            let path = format!("/v1/accounts/{}/transactions/{id}", a.resource_id);
            v["_links"] = json!({"transactionDetails": link(bank.url(&path))});
        }
        v
    }

    fn bank(hooks: &str, stable: bool, details: bool) -> RegistryBank {
        let text = format!(
            r#"
name = "T"
country = "DE"
bics = ["TESTDEFF"]
platform = "own"
[urls]
live = "https://t.invalid"
[profile]
sca_approaches = ["redirect"]
error_shape = "tpp_messages"
hooks = [{hooks}]
[profile.consent]
scopes = ["all_psd2"]
max_frequency_per_day = 4
max_valid_days = 90
[profile.transactions]
booking_statuses = ["booked", "pending"]
history_days = 730
page_size = 10
ids_stable_across_booking = {stable}
details = {details}
"#
        );
        let entry = psd2_registry::parse_entry("t.toml", &text).unwrap();
        let config = SandboxConfig {
            history_size: 1_500,
            today: chrono::NaiveDate::from_ymd_opt(2026, 6, 30),
            ..SandboxConfig::default()
        };
        RegistryBank::new(
            entry,
            &config,
            Arc::new(crate::signature::AcceptAll),
            Arc::new(crate::clock::Clock::new(config.today)),
        )
    }

    #[test]
    fn struct_entries_equal_the_value_rendering() {
        let mut checked = 0;
        let both = r#""entry_reference_as_transaction_id", "value_date_for_pending""#;
        for (hooks, stable, details) in [("", true, true), (both, false, false)] {
            let bank = bank(hooks, stable, details);
            let host = super::super::HOST;
            for a in bank
                .fixtures()
                .accounts_of(host, "private-1", AccountKind::Payment)
            {
                for i in 0..a.history {
                    let t = a.transaction(bank.fixtures(), i);
                    let got = serde_json::to_value(bank.txn(a, &t)).ok();
                    assert_eq!(got, Some(txn_json(&bank, a, &t)), "entry {i}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 2_000, "{checked}");
    }
}
