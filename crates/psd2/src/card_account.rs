//! Card accounts (charge and credit cards).

use serde::{Deserialize, Serialize};

use crate::account::{AccountId, AccountStatus, AccountUsage};
use crate::balance::Balance;
use crate::money::{Currency, Money};

/// A card account: one account that one or more cards draw on.
///
/// Card transactions use [`Transaction`](crate::transaction::Transaction) with its
/// [`card`](crate::transaction::Transaction::card) details filled in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CardAccount {
    /// The bank's id for the card account, used in later calls.
    pub id: AccountId,
    /// Masked card numbers (`5123********3283`), one per card on the account.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub masked_pans: Vec<String>,
    /// The card product, e.g. `Platinum`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// The account's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// The name given to the card account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The owner's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_name: Option<String>,
    /// Whether the card account is usable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AccountStatus>,
    /// Private or organisation card.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<AccountUsage>,
    /// The credit limit (Handelsbanken sends it as a JSON number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_limit: Option<Money>,
    /// Balances, when given.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub balances: Vec<Balance>,
}

impl CardAccount {
    /// A card account with only an id; set the other fields directly.
    pub fn new(id: AccountId) -> Self {
        Self {
            id,
            masked_pans: Vec::new(),
            product: None,
            currency: None,
            name: None,
            owner_name: None,
            status: None,
            usage: None,
            credit_limit: None,
            balances: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trip_with_number_credit_limit() {
        let c: CardAccount = serde_json::from_str(
            r#"{"id":"ae577250","maskedPans":["5123********3283"],"currency":"SEK","product":"Platinum","creditLimit":{"currency":"SEK","amount":2000}}"#,
        )
        .unwrap();
        assert_eq!(c.credit_limit.as_ref().unwrap().amount.to_string(), "2000");
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["creditLimit"]["amount"], "2000");
        let back: CardAccount = serde_json::from_value(json).unwrap();
        assert_eq!(back, c);
    }
}
