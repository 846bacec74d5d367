//! Swedbank (Norway/Baltics): the generic Berlin Group adapter
//! ([`crate::adapters::berlingroup`]) with the profile of `registry/swedbank.toml`, behind
//! Swedbank's own constructor and config ([`Swedbank::new`], [`SwedbankConfig`]).
//!
//! - Every request is signed by `psd2_security::SigningHook` (`Digest`, `Date`,
//!   `TPP-Signature-Certificate`, `Signature`), next pages included; without a signing
//!   identity only a loopback base URL (a local sandbox) is accepted.
//! - What Swedbank needs beyond the standard is in its registry profile: `PSU-Context` is
//!   sent (the PSU's, or [`SwedbankConfig::psu_context`]; hook `psu_context_header`), a
//!   consent without an end date asks for `9999-12-31` and a later date is left for the bank
//!   to shorten (hook `open_ended_valid_until`), the account list alone is asked as
//!   `availableAccounts`. `X-Future-Breaking-Changes` is sent when opted in.
//! - Everything else (PSU headers, consent scopes, SCA by redirect and decoupled, paging by
//!   `_links.next`, Swedbank's flat `{id, system, status, code, message}` error body) is the
//!   generic adapter's, as the profile says.

mod client;
mod config;

pub use client::{BANK, Swedbank};
pub use config::SwedbankConfig;
