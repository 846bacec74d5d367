//! Payment accounts and account references.

use std::fmt;

use chrono::{DateTime, Utc};
use iban::{Iban, IbanLike};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::balance::Balance;
use crate::link::Links;
use crate::macros::bank_enum;
use crate::money::{Currency, Money};

/// A bank's resource id for an account (Berlin Group `resourceId`, Handelsbanken `accountId`).
///
/// Not a secret, but opaque: pass it back to the same bank only.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    /// Wraps a bank's account id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as the bank sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for AccountId {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for AccountId {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

/// An IBAN as the bank sent it: validated when possible, kept as raw text otherwise.
///
/// A bank sending a malformed IBAN (bad checksum, wrong length, sandbox data) must not make
/// the whole account unreadable, so [`IbanOrRaw::parse`] never fails. JSON form: the IBAN's
/// electronic text (no spaces) either way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IbanOrRaw {
    /// A valid IBAN (checksum and country format checked by `iban_validate`).
    Valid(Iban),
    /// Text that did not validate as an IBAN, kept exactly.
    Raw(String),
}

impl IbanOrRaw {
    /// Validates `text` (spaces allowed), keeping it raw if it is not a valid IBAN.
    pub fn parse(text: &str) -> Self {
        match text.parse::<Iban>() {
            Ok(iban) => Self::Valid(iban),
            Err(_) => Self::Raw(text.to_owned()),
        }
    }

    /// The validated IBAN, if it was valid.
    pub fn valid(&self) -> Option<&Iban> {
        match self {
            Self::Valid(iban) => Some(iban),
            Self::Raw(_) => None,
        }
    }

    /// The electronic form (no spaces) of a valid IBAN, or the raw text.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Valid(iban) => iban.electronic_str(),
            Self::Raw(raw) => raw,
        }
    }
}

impl fmt::Display for IbanOrRaw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for IbanOrRaw {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for IbanOrRaw {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(Self::parse(&text))
    }
}

bank_enum! {
    /// ISO 20022 cash account type (`ExternalCashAccountType1Code`), e.g. `CACC`.
    pub enum CashAccountType {
        /// Current account.
        Current = "CACC",
        /// Card account.
        Card = "CARD",
        /// Cash payment account.
        CashPayment = "CASH",
        /// Charges account.
        Charges = "CHAR",
        /// Cash income account.
        CashIncome = "CISH",
        /// Commission account.
        Commission = "COMM",
        /// Clearing participant settlement account.
        ClearingParticipantSettlement = "CPAC",
        /// Limited liquidity savings account.
        LimitedLiquiditySavings = "LLSV",
        /// Loan account.
        Loan = "LOAN",
        /// Marginal lending account.
        MarginalLending = "MGLD",
        /// Money market account.
        MoneyMarket = "MOMA",
        /// Non-resident external account.
        NonResidentExternal = "NREX",
        /// Overdraft account.
        Overdraft = "ODFT",
        /// Overnight deposit account.
        OvernightDeposit = "ONDP",
        /// Other account.
        OtherAccount = "OTHR",
        /// Settlement account.
        Settlement = "SACC",
        /// Salary account.
        Salary = "SLRY",
        /// Savings account.
        Savings = "SVGS",
        /// Tax account.
        Tax = "TAXE",
        /// Transacting account.
        Transacting = "TRAN",
        /// Cash trading account.
        CashTrading = "TRAS",
        /// Virtual account.
        Virtual = "VACC",
        /// Non-financial corporation account.
        NonFinancialCorporation = "NFCA",
    }
}

bank_enum! {
    /// Whether an account can be used.
    pub enum AccountStatus {
        /// Usable.
        Enabled = "enabled",
        /// Closed.
        Deleted = "deleted",
        /// Blocked (e.g. legal reasons).
        Blocked = "blocked",
    }
}

bank_enum! {
    /// Who the account is for: a private person or an organisation.
    pub enum AccountUsage {
        /// Private personal account.
        Private = "PRIV",
        /// Professional / organisation account.
        Organisation = "ORGA",
    }
}

/// A payment account the PSU gave access to.
///
/// `balances` is empty unless balances were asked for (`with_balances`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Account {
    /// The bank's id for the account, used in later calls.
    pub id: AccountId,
    /// The IBAN, validated when possible (see [`IbanOrRaw`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iban: Option<IbanOrRaw>,
    /// The domestic account number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bban: Option<String>,
    /// A Swedish bankgiro number attached to the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bankgiro: Option<String>,
    /// The account's currency (accounts in several currencies may have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
    /// The name the PSU or bank gave the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The bank's product name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    /// The account owner's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_name: Option<String>,
    /// ISO 20022 account type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cash_account_type: Option<CashAccountType>,
    /// Whether the account is usable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AccountStatus>,
    /// Private or organisation account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<AccountUsage>,
    /// The servicing bank's BIC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bic: Option<String>,
    /// The credit limit granted on the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_limit: Option<Money>,
    /// Balances, when asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub balances: Vec<Balance>,
    /// The Swedish clearing number (bank branch code) of the account, when the bank sends
    /// it apart from the account number (Handelsbanken `clearingNumber`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clearing_number: Option<String>,
    /// Whether payments can be initiated from the account (Open Payments
    /// `paymentsEnabled`); `None` when the bank does not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payments_enabled: Option<bool>,
    /// When the bank last enriched the account's transactions (remittance data,
    /// counterparties), if it reports it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrichment: Option<Enrichment>,
    /// Links the bank sent with the account (`_links`: `self`, `balances`,
    /// `transactions`, ...). Their hrefs hold the account id, not secrets.
    #[serde(default, skip_serializing_if = "Links::is_empty")]
    pub links: Links,
}

/// When a bank last enriched an account's transactions (Open Payments
/// `lastTransactionEnrichmentDateTime` and `...Utc`).
///
/// The bank sends the time twice: once with its own offset (kept as text, exactly as sent,
/// since its format is not pinned down) and once in UTC (parsed).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Enrichment {
    /// The time as the bank sent it, with its offset, e.g. `2025-04-23T20:51:16.803+00:00`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_enriched_at: Option<String>,
    /// The same time in UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_enriched_at_utc: Option<DateTime<Utc>>,
}

impl Enrichment {
    /// The enrichment info from the two times, `None` when both are absent.
    pub fn from_times(
        last_enriched_at: Option<String>,
        last_enriched_at_utc: Option<DateTime<Utc>>,
    ) -> Option<Self> {
        (last_enriched_at.is_some() || last_enriched_at_utc.is_some()).then_some(Self {
            last_enriched_at,
            last_enriched_at_utc,
        })
    }
}

impl Account {
    /// An account with only an id; set the other fields directly.
    pub fn new(id: AccountId) -> Self {
        Self {
            id,
            iban: None,
            bban: None,
            bankgiro: None,
            currency: None,
            name: None,
            product: None,
            owner_name: None,
            cash_account_type: None,
            status: None,
            usage: None,
            bic: None,
            credit_limit: None,
            balances: Vec::new(),
            clearing_number: None,
            payments_enabled: None,
            enrichment: None,
            links: Links::new(),
        }
    }
}

/// A reference to an account on the other side of a transaction (or the reported account).
///
/// Banks often send an empty object (`"creditorAccount": {}`); adapters map that to `None`
/// (see [`AccountReference::is_empty`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AccountReference {
    /// IBAN, validated when possible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iban: Option<IbanOrRaw>,
    /// Domestic account number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bban: Option<String>,
    /// Swedish bankgiro number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bankgiro: Option<String>,
    /// Swedish plusgiro number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plusgiro: Option<String>,
    /// Masked card number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub masked_pan: Option<String>,
    /// Currency of the referenced account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<Currency>,
}

impl AccountReference {
    /// Whether no identifying field is set (currency alone identifies nothing).
    pub fn is_empty(&self) -> bool {
        self.iban.is_none()
            && self.bban.is_none()
            && self.bankgiro.is_none()
            && self.plusgiro.is_none()
            && self.masked_pan.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iban_valid_or_raw() {
        let valid = IbanOrRaw::parse("DE44 5001 0517 5407 3249 31");
        assert!(valid.valid().is_some());
        assert_eq!(valid.as_str(), "DE44500105175407324931");
        // Seed 003 example IBAN has a bad checksum: kept raw, not an error.
        let raw = IbanOrRaw::parse("SE1234567890123456788");
        assert_eq!(raw, IbanOrRaw::Raw("SE1234567890123456788".into()));
        assert_eq!(
            serde_json::to_string(&raw).unwrap(),
            "\"SE1234567890123456788\""
        );
    }

    #[test]
    fn enums_keep_unknown_codes() {
        assert_eq!(
            CashAccountType::from_bank_str("CACC"),
            CashAccountType::Current
        );
        assert_eq!(
            CashAccountType::from_bank_str("cacc"),
            CashAccountType::Current
        );
        assert_eq!(
            CashAccountType::from_bank_str("XYZW"),
            CashAccountType::Other("XYZW".into())
        );
        assert_eq!(
            AccountStatus::from_bank_str("ENABLED"),
            AccountStatus::Enabled
        );
        assert_eq!(
            AccountStatus::from_bank_str("frozen"),
            AccountStatus::Other("frozen".into())
        );
        assert_eq!(
            AccountUsage::from_bank_str("ORGA"),
            AccountUsage::Organisation
        );
        assert_eq!(
            AccountUsage::from_bank_str("BOTH"),
            AccountUsage::Other("BOTH".into())
        );
    }

    #[test]
    fn account_json_round_trip() {
        let mut a = Account::new(AccountId::new("ab82e294"));
        a.iban = Some(IbanOrRaw::parse("SE123456789000532811"));
        a.currency = Some(Currency::SEK);
        a.cash_account_type = Some(CashAccountType::OtherAccount);
        a.credit_limit = Some(Money::parse("0.000", "SEK").unwrap());
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["cashAccountType"], "OTHR");
        assert_eq!(json["creditLimit"]["amount"], "0.000");
        assert!(json.get("balances").is_none());
        let back: Account = serde_json::from_value(json).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn empty_reference() {
        assert!(AccountReference::default().is_empty());
        let r = AccountReference {
            bankgiro: Some("12345678".into()),
            ..Default::default()
        };
        assert!(!r.is_empty());
    }
}
