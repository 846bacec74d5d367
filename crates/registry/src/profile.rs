//! The registry file format: a bank's identity, its URLs and the [`BankProfile`] that says
//! how its Berlin Group API differs from the standard.
//!
//! Every table and enum refuses unknown keys and values, so a typo in a registry file is a
//! load error naming the key, never a silently ignored setting.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use url::Url;

/// One bank: the parsed contents of `registry/<id>.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryEntry {
    /// The bank's id: the file's stem (`registry/nordbank.toml` is `nordbank`). Set on load,
    /// never read from the file.
    #[serde(skip_deserializing, default)]
    pub id: String,
    /// Display name, e.g. `"Nordbank AB"`.
    pub name: String,
    /// ISO 3166-1 alpha-2 country code, upper case.
    pub country: String,
    /// The bank's BICs (8 or 11 characters, upper case); at least one.
    pub bics: Vec<String>,
    /// The hosting platform serving its API, e.g. `"own"`, `"crosskey"`, `"tieto"`.
    pub platform: String,
    /// The bank's published base URLs.
    pub urls: BankUrls,
    /// How the local sandbox (`psd2-sandbox`) serves this bank.
    #[serde(default)]
    pub sandbox: LocalSandbox,
    /// The differences from the Berlin Group standard.
    pub profile: BankProfile,
}

/// The bank's own base URLs (including any path prefix before `/v1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankUrls {
    /// Production base URL (https).
    pub live: Url,
    /// The bank's own public sandbox, if it has one (https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox: Option<Url>,
}

/// How the local sandbox serves the bank.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalSandbox {
    /// Path prefix on the sandbox's port. Default `/bg/<id>`: the sandbox's profile-driven
    /// Berlin Group bank. Another path names a bank the sandbox serves by hand (e.g.
    /// `/swedbank`), which must behave as the profile says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Seed of the bank's generated data (PSUs, accounts, transactions). Default: derived
    /// from the id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// The ways one Berlin Group bank differs from another, as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BankProfile {
    /// The SCA approaches the bank offers, most preferred first; at least one.
    pub sca_approaches: Vec<ScaApproachKind>,
    /// Transport and message security.
    #[serde(default)]
    pub security: Security,
    /// Whether the bank needs the `PSU-ID` header on consent creation.
    #[serde(default)]
    pub psu_id: Requirement,
    /// Whether the bank needs `PSU-IP-Address` on every call (PSU present or not).
    #[serde(default = "optional")]
    pub psu_ip_address: Requirement,
    /// Consent rules.
    pub consent: ConsentRules,
    /// Account listing rules.
    #[serde(default)]
    pub accounts: AccountRules,
    /// Transaction listing rules.
    pub transactions: TransactionRules,
    /// The bank's error body shape.
    pub error_shape: ErrorShape,
    /// The bank's own error codes (beyond the standard's) and what they mean.
    #[serde(default)]
    pub error_codes: BTreeMap<String, MappedError>,
    /// Static headers sent on every request (e.g. a platform's routing header).
    #[serde(default)]
    pub extra_headers: BTreeMap<String, String>,
    /// Named quirks that are not one setting, each a small hook in the adapter's code.
    #[serde(default)]
    pub hooks: Vec<Hook>,
}

fn optional() -> Requirement {
    Requirement::Optional
}

/// An SCA approach, as the profile names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaApproachKind {
    /// The PSU is sent to the bank's page and comes back to the TPP's redirect URI.
    Redirect,
    /// The PSU confirms in the bank's app (e.g. Mobile BankID); the TPP polls.
    Decoupled,
    /// The TPP relays the PSU's credentials and a one-time code (challenge) to the bank.
    Embedded,
}

/// Transport and message security a bank requires.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Security {
    /// HTTP message signatures (`Digest`, `Signature`, `TPP-Signature-Certificate`) on every
    /// request.
    #[serde(default)]
    pub signatures: bool,
    /// A QWAC client certificate (mutual TLS).
    #[serde(default)]
    pub mtls: bool,
}

/// Whether a header or parameter is needed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// Must be sent; the bank refuses the request without it.
    Required,
    /// May be sent.
    #[default]
    Optional,
    /// Not used by the bank (not sent).
    NotUsed,
}

/// Consent rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentRules {
    /// The consent scopes the bank accepts; at least one.
    pub scopes: Vec<ConsentScopeKind>,
    /// Largest `frequencyPerDay` the bank grants (1..=100).
    pub max_frequency_per_day: u32,
    /// Longest `validUntil` the bank grants, in days from today (1..=3650).
    pub max_valid_days: u32,
}

/// A consent scope, as the profile names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentScopeKind {
    /// `access.accounts` / `balances` / `transactions` naming accounts.
    Detailed,
    /// `access.availableAccounts` (the bank asks the PSU which accounts).
    AvailableAccounts,
    /// `access.allPsd2`.
    AllPsd2,
}

/// Account listing rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountRules {
    /// Whether `withBalance=true` is accepted on the account list.
    #[serde(default = "yes")]
    pub with_balance: bool,
    /// Whether the bank offers card accounts (`/v1/card-accounts`).
    #[serde(default)]
    pub card_accounts: bool,
}

impl Default for AccountRules {
    fn default() -> Self {
        Self {
            with_balance: true,
            card_accounts: false,
        }
    }
}

fn yes() -> bool {
    true
}

/// Transaction listing rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransactionRules {
    /// The `bookingStatus` values the bank accepts; must include `booked`.
    pub booking_statuses: Vec<BookingStatusKind>,
    /// How many days back `dateFrom` may reach (1..=3650).
    pub history_days: u32,
    /// Entries per page (1..=10,000).
    pub page_size: u32,
    /// Whether a pending entry keeps its `transactionId` when it is booked (read by the
    /// sync engine: when false, identity falls back to content matching).
    pub ids_stable_across_booking: bool,
    /// Which date `dateFrom`/`dateTo` filter on.
    #[serde(default)]
    pub date_filter: DateField,
    /// Whether `GET …/transactions/{transactionId}` is offered.
    #[serde(default = "yes")]
    pub details: bool,
}

/// A `bookingStatus` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatusKind {
    /// Booked entries only.
    Booked,
    /// Pending entries only.
    Pending,
    /// Booked and pending in one answer.
    Both,
    /// Standing orders and similar information entries.
    Information,
}

/// A transaction date field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateField {
    /// `bookingDate`.
    #[default]
    BookingDate,
    /// `valueDate`.
    ValueDate,
}

/// The bank's error body shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorShape {
    /// `application/json` with `tppMessages: [{category, code, path, text}]`.
    TppMessages,
    /// `application/problem+json` with `type`, `title`, `detail`, `code`,
    /// `additionalErrors`.
    ProblemJson,
    /// `application/json` with one flat object `{id, system, status, code, message}`
    /// (Swedbank's ERA-PSD2 platform).
    CodeMessage,
}

/// What a bank's own error code means, in the facade's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MappedError {
    /// The consent is not valid for this call.
    ConsentInvalid,
    /// The consent has expired.
    ConsentExpired,
    /// The PSU revoked the consent.
    ConsentRevoked,
    /// The bank does not know the consent.
    ConsentUnknown,
    /// The daily access limit is used up.
    AccessExceeded,
    /// The account or resource does not exist.
    ResourceUnknown,
    /// Credentials or certificate refused.
    Unauthorized,
    /// The service is blocked for this PSU or account.
    ServiceBlocked,
    /// The request was malformed.
    FormatError,
    /// The bank is down or overloaded.
    BankUnavailable,
    /// SCA did not succeed.
    ScaFailed,
    /// The PSU declined SCA.
    ScaRejected,
    /// A parameter value the bank refuses (e.g. a period out of range).
    InvalidInput,
}

/// A named quirk: a small hook in the adapter (and the sandbox), chosen by the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hook {
    /// The bank leaves `transactionId` out and identifies entries by `entryReference`.
    EntryReferenceAsTransactionId,
    /// Pending entries carry no `bookingDate`; their `valueDate` stands in for it.
    ValueDateForPending,
    /// The bank reads `PSU-Context` (`PRIVATE` / `CORPORATE`) on every call: the adapter
    /// sends the PSU's context, or its configured default.
    PsuContextHeader,
    /// A consent request without a `validUntil` asks for `9999-12-31` ("as long as the bank
    /// allows"; the bank grants its maximum) instead of today plus `max_valid_days`.
    OpenEndedValidUntil,
}
