//! Balances of an account or card account.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::macros::bank_enum;
use crate::money::Money;

bank_enum! {
    /// The kind of a balance, normalized across banks.
    ///
    /// Berlin Group names map to the variant of the same name (`interimAvailable` →
    /// [`InterimAvailable`](Self::InterimAvailable), ...). Handelsbanken's own upper-case names
    /// are mapped as follows (and lose their original spelling):
    ///
    /// | Handelsbanken | variant | why |
    /// |---|---|---|
    /// | `AVAILABLE_AMOUNT` | `InterimAvailable` | what the PSU can spend now, intraday |
    /// | `CURRENT` | `InterimBooked` | booked entries so far today |
    /// | `BOOKED` | `ClosingBooked` | booked balance at the end of the last booking day |
    /// | `CREDIT` | `CreditLimit` | the granted credit line, not a balance proper |
    ///
    /// Anything else becomes `Other` with the bank's text; serialization writes the camelCase
    /// Berlin Group name (or the kept text), and parsing that back gives the same variant.
    pub enum BalanceType {
        /// Available balance during the business day, subject to change.
        InterimAvailable = "interimAvailable" | "AVAILABLE_AMOUNT",
        /// Booked balance during the business day.
        InterimBooked = "interimBooked" | "CURRENT",
        /// Balance by value date.
        ValueDated = "valueDated",
        /// Balance at the end of the reporting period (for cards: invoiced, not yet paid).
        ClosingBooked = "closingBooked" | "BOOKED",
        /// Balance at the start of the reporting period.
        OpeningBooked = "openingBooked",
        /// Booked plus pending entries known now: the projected end-of-day balance.
        Expected = "expected",
        /// Available on a future date.
        ForwardAvailable = "forwardAvailable",
        /// Card accounts: booked but not yet invoiced.
        NonInvoiced = "nonInvoiced",
        /// Expected balance plus a permanently available credit line.
        Authorised = "authorised",
        /// A credit limit reported as a balance (Handelsbanken `CREDIT`).
        CreditLimit = "creditLimit" | "CREDIT",
    }
}

/// One balance of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Balance {
    /// What kind of balance this is.
    pub balance_type: BalanceType,
    /// The amount (may be negative).
    pub amount: Money,
    /// Whether a credit limit is included in the amount, when the bank says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_limit_included: Option<bool>,
    /// The date the balance refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_date: Option<NaiveDate>,
    /// When the balance last changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_change: Option<DateTime<Utc>>,
}

impl Balance {
    /// A balance with only type and amount; set the optional fields directly.
    pub fn new(balance_type: BalanceType, amount: Money) -> Self {
        Self {
            balance_type,
            amount,
            credit_limit_included: None,
            reference_date: None,
            last_change: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn berlin_group_and_handelsbanken_names() {
        assert_eq!(
            BalanceType::from_bank_str("interimAvailable"),
            BalanceType::InterimAvailable
        );
        assert_eq!(
            BalanceType::from_bank_str("INTERIM_AVAILABLE"),
            BalanceType::InterimAvailable
        );
        assert_eq!(
            BalanceType::from_bank_str("AVAILABLE_AMOUNT"),
            BalanceType::InterimAvailable
        );
        assert_eq!(
            BalanceType::from_bank_str("CURRENT"),
            BalanceType::InterimBooked
        );
        assert_eq!(
            BalanceType::from_bank_str("BOOKED"),
            BalanceType::ClosingBooked
        );
        assert_eq!(
            BalanceType::from_bank_str("CREDIT"),
            BalanceType::CreditLimit
        );
        assert_eq!(
            BalanceType::from_bank_str("valueDated"),
            BalanceType::ValueDated
        );
        assert_eq!(BalanceType::NonInvoiced.as_str(), "nonInvoiced");
    }

    #[test]
    fn unknown_is_kept() {
        let t = BalanceType::from_bank_str("previouslyClosedBooked");
        assert_eq!(t, BalanceType::Other("previouslyClosedBooked".into()));
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"previouslyClosedBooked\""
        );
    }

    #[test]
    fn balance_json_shape() {
        let b: Balance = serde_json::from_str(
            r#"{"balanceType":"interimAvailable","amount":{"currency":"SEK","amount":"18959.990"},"creditLimitIncluded":true,"referenceDate":"2025-04-22"}"#,
        )
        .unwrap();
        assert_eq!(b.balance_type, BalanceType::InterimAvailable);
        assert_eq!(b.amount.amount.to_string(), "18959.990");
        assert_eq!(b.credit_limit_included, Some(true));
        let back: Balance = serde_json::from_str(&serde_json::to_string(&b).unwrap()).unwrap();
        assert_eq!(back, b);
    }

    proptest! {
        #[test]
        fn any_text_parses_and_round_trips(text in "[A-Za-z_]{0,30}") {
            let t = BalanceType::from_bank_str(&text);
            if let BalanceType::Other(kept) = &t {
                prop_assert_eq!(kept, &text);
            }
            let json = serde_json::to_string(&t).unwrap();
            let back: BalanceType = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, t);
        }
    }
}
