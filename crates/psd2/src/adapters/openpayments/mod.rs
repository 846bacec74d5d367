//! Open Payments (`api.openbankingplatform.com`): one platform in front of many banks,
//! the bank chosen per call with `X-BicFi`.
//!
//! - Authentication: a client-credentials token of the platform (see [`token`] for the
//!   cache and renewal policy); a 401 renews it once and retries the call once.
//! - Every call sends a fresh `X-Request-ID` (returned in errors), `X-BicFi`, `PSU-ID` and
//!   `PSU-Corporate-ID` when known, `PSU-IP-Address`/`PSU-User-Agent` only when the PSU is
//!   present, and `Consent-ID` on account information calls.
//! - Consents are Berlin Group shaped; SCA is decoupled (Mobile BankID, method
//!   [`OpenPaymentsConfig::decoupled_method_id`]) or redirect
//!   ([`OpenPaymentsConfig::redirect_method_id`]); the session after SCA is the consent id.
//!   Redirect SCA: the adapter adds a random `state` (and the method's `redirect_uri` when the
//!   bank's link has none) to the bank's `scaRedirect` link, and checks the state on return.
//! - Transactions are paged by `_links.next` and its `continuationKey`; every page repeats
//!   the caller's `bookingStatus`, `dateFrom` and `dateTo`. With
//!   [`OpenPaymentsConfig::fetch_transaction_details`] each transaction with a
//!   `transactionDetails` link is completed with its details (details win, as the platform
//!   asks).
//! - Every request runs under the configured [`RetryPolicy`](crate::RetryPolicy) (see
//!   [`crate::retry`]); consent creation, starting SCA and deletion are never retried. The
//!   booking status filter is applied to what the platform answers too (it may send pending
//!   and bankgiro entries for a `booked` listing).
//! - Tracing: one `debug` span and event per attempt with bank, operation, status and
//!   request id; never tokens, consent ids or PSU ids.

pub mod answers;
mod client;
pub mod config;
pub(crate) mod mapping;
pub mod token;

pub use client::{DEFAULT_CONSENT_DAYS, OpenPayments};
pub use config::OpenPaymentsConfig;

/// The adapter's name in errors and logs.
pub const BANK: &str = "openpayments";
