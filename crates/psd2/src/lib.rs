//! Bank-neutral PSD2 account information facade.
//!
//! - The domain model ([`money`], [`account`], [`card_account`], [`balance`],
//!   [`transaction`], [`consent`], [`sca`], [`psu`], [`link`]) is the bank-neutral truth; every value is
//!   `Serialize + Deserialize` (JSON is the CLI's output format). Unknown bank codes become
//!   `Other(String)` and never fail a response; money is an exact decimal keeping its scale.
//! - [`secret`] wraps consent ids, tokens, codes and PSU ids so they never appear in
//!   `Debug`, `Display` or serialized output unless exposed on purpose.
//! - [`error::Error`] is the one error type: kind, bank, operation, HTTP status, the bank's
//!   messages, request id, and (not printed) the start of the raw body.
//! - [`api`] holds the object-safe traits ([`Bank`], [`Consents`], [`AccountInformation`],
//!   [`CardAccountInformation`]) and [`Session`]; [`pagination`] turns page fetches into a
//!   safe stream, and resumable pages ([`PageCursor`]) with per-entry results ([`entry`]).
//! - [`retry`] is the retry policy every adapter applies to its calls, and the hook that sees
//!   every attempt.
//! - [`adapters`] has one module per bank behind the features `handelsbanken`,
//!   `openpayments` and `swedbank`, and the generic Berlin Group adapter (`berlingroup`)
//!   driven by a bank profile of the registry (`registry`, same feature); all default.
//!   `default-features = false` gives the traits and the model only.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod macros;

pub mod account;
pub mod adapters;
pub mod api;
pub mod balance;
pub mod card_account;
pub mod consent;
pub mod entry;
pub mod error;
pub mod link;
pub mod money;
pub mod pagination;
pub mod psu;
#[cfg(feature = "berlingroup")]
pub mod registry;
pub mod retry;
pub mod sca;
pub mod secret;
pub mod transaction;

pub use account::{
    Account, AccountId, AccountReference, AccountStatus, AccountUsage, CashAccountType, Enrichment,
    IbanOrRaw,
};
pub use api::{
    AccountInformation, AccountList, Bank, CardAccountInformation, Consents, CreatedConsent,
    MissingBalances, Session, transactions_for_accounts,
};
pub use balance::{Balance, BalanceType};
pub use card_account::CardAccount;
pub use consent::{Consent, ConsentRequest, ConsentScope, ConsentStatus};
pub use entry::{EntryError, TransactionPage};
pub use error::{BankMessage, Error, ErrorKind};
pub use link::{Link, Links};
pub use money::{Currency, Money, MoneyError};
pub use pagination::PageCursor;
pub use psu::{Psu, PsuContext};
pub use retry::{AttemptHook, AttemptOutcome, CallInfo, RetryPolicy, with_attempt_hook};
pub use sca::{
    AuthenticationType, DecoupledHandle, EmbeddedChallenge, EmbeddedHandle, OfferedScaMethod,
    RedirectCallback, ScaApproach, ScaChallenge, ScaMethod, ScaProgress, ScaStatus,
};
pub use secret::{AccessToken, AuthorizationCode, ConsentId, PsuId, RefreshToken, Secret};
pub use transaction::{
    BookingStatus, Transaction, TransactionAggregate, TransactionFee, TransactionId,
    TransactionQuery, TransactionStatus,
};

/// Re-exported so adapters and users name the same decimal type.
pub use rust_decimal::Decimal;
