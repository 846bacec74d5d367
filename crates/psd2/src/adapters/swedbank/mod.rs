//! Swedbank (Norway/Baltics) adapter over `psd2-raw-swedbank` (Berlin Group XS2A).
//!
//! - Every request goes through the raw client's hook chain, whose first hook is
//!   `psd2_security::SigningHook`: `Digest`, `Date`, `TPP-Signature-Certificate` and
//!   `Signature` are set without per-operation code (next-page requests of transaction
//!   listings run the same chain).
//! - Each call sends a fresh `X-Request-ID` (returned in errors) and the PSU headers:
//!   `PSU-ID` / `PSU-Corporate-ID` RFC 2047-encoded when not ASCII, `PSU-Context` (the PSU's
//!   or the config's), and `PSU-IP-Address` / `PSU-User-Agent` only for a present PSU.
//! - Consents for all accounts ask for `allPsd2: allAccounts` (Berlin Group: all accounts
//!   with balances and transactions) when balances or transactions are requested, and for
//!   `availableAccounts: allAccounts` (the account list only) otherwise; for given IBANs the
//!   IBANs are listed under `accounts` and, as requested, `balances` / `transactions`.
//! - SCA: redirect starts an authorisation with the caller's `TPP-Redirect-URI` and adds a
//!   random `state` to the bank's `scaRedirect` link; [`Swedbank`] remembers which consent a
//!   state belongs to, so `complete_redirect` rejects a callback whose state it did not hand
//!   out for that consent, then requires the consent to be `valid`. Decoupled starts an
//!   authorisation with `TPP-Redirect-Preferred: false`; the handle is the authorisation id.
//! - Transactions follow `_links.next.href` (only links into the bank's API), with the
//!   caller's `bookingStatus` / `dateFrom` / `dateTo` put back on every page.
//! - Every request runs under the configured [`RetryPolicy`](crate::RetryPolicy) (see
//!   [`crate::retry`]), next pages included; consent creation, starting SCA and deletion are
//!   never retried.
//! - Errors: Swedbank's `{id, system, status, code, message}` body is classified by code
//!   and status (see [`crate::ErrorKind::classify`]).

mod client;
mod config;
pub(crate) mod mapping;

pub use client::{BANK, Swedbank};
pub use config::SwedbankConfig;
