//! The generic Berlin Group NextGenPSD2 adapter: one bank of the registry, driven by its
//! [`BankProfile`](psd2_registry::BankProfile), over the types of `psd2-raw-berlingroup`.
//!
//! Build it with [`BerlinGroup::new`] (or [`crate::registry::adapter`]) from a
//! [`RegistryEntry`](psd2_registry::RegistryEntry) and a [`BerlinGroupConfig`]. Its
//! [`Bank::name`] is the entry's id. What each profile setting does on the
//! client side:
//!
//! - `sca_approaches`: the approaches [`CreatedConsent::approaches`](crate::CreatedConsent)
//!   lists; `start_sca` with a [`ScaMethod`](crate::ScaMethod) the profile does not offer is
//!   [`ErrorKind::Unsupported`](crate::ErrorKind) before anything is sent. Starting an
//!   authorisation sends `TPP-Redirect-Preferred` (true for redirect) and
//!   `TPP-Decoupled-Preferred` (true for decoupled); embedded sends `PSU-ID` and
//!   `{"psuData": {"password"}}`, then [`Consents::select_sca_method`](crate::Consents) and
//!   [`Consents::complete_embedded`](crate::Consents) `PUT` the method and the one-time code.
//! - `security.signatures`: every request (next pages included) goes through
//!   `psd2_security::SigningHook`; building without a signing identity is an error naming
//!   the bank. `security.mtls`: with an https base URL, the transport must carry a client
//!   identity (or be a caller's client).
//! - `psu_id`: `required` → consent creation and starting SCA without a PSU id are refused
//!   before sending; `not_used` → `PSU-ID` is never sent. `psu_ip_address`: `required` →
//!   every call carries `PSU-IP-Address` (the PSU's, or
//!   [`BerlinGroupConfig::psu_ip_fallback`] for an absent PSU; neither is an error before
//!   sending); `not_used` → never sent.
//! - `consent.max_frequency_per_day` / `max_valid_days`: the request's `frequencyPerDay` and
//!   `validUntil` are **capped** at them (no `validUntil` asks for the longest); the created
//!   consent reports what the bank granted.
//! - `consent.scopes`: all accounts with balances or transactions → `allPsd2`, else a
//!   bank-offered detailed consent (empty `accounts`/`balances`/`transactions`: the PSU picks
//!   at the bank); the account list only → `availableAccounts`, else `allPsd2`; given IBANs
//!   need `detailed`.
//! - `transactions.booking_statuses`: `both` at a bank that refuses it → `booked`, then
//!   `pending`, as two listings one after the other (one stream, one cursor); `pending` at a
//!   bank that has none → unsupported; `both` at a bank that reports only booked → booked.
//! - `transactions.history_days`: a `dateFrom` further back is **moved up** to the first day
//!   of the bank's history; a `dateTo` before it is an error naming `dateTo`.
//! - `transactions.date_filter = value_date`: the range sent is widened by
//!   [`VALUE_DATE_MARGIN_DAYS`] on each side and entries are kept by booking date.
//! - `transactions.page_size`: the bank's; the adapter follows `_links.next` (only into the
//!   bank's API, with the query put back) until the last page, whatever the size.
//! - `transactions.details = false` → `transaction_details` is unsupported;
//!   `accounts.card_accounts` → card accounts offered; `accounts.with_balance = false` →
//!   balances are read per account (`account_list` names the ones that failed).
//! - `hooks` on requests: `psu_context_header` sends `PSU-Context` (the PSU's or
//!   [`BerlinGroupConfig::psu_context`]); `open_ended_valid_until` asks for `9999-12-31`
//!   when the caller gives no `validUntil`. On entries: `entry_reference_as_transaction_id`,
//!   `value_date_for_pending` (functions in `listing`).
//! - `extra_headers` (and [`BerlinGroupConfig::headers`]): sent on every request.
//! - `error_shape` / `error_codes`: error bodies are read in the bank's shape
//!   (`tppMessages`, problem+json, flat `{code, message}`) and the bank's own codes mapped
//!   before the standard's.
//! - `transactions.ids_stable_across_booking` is read by the sync engine from
//!   [`BerlinGroup::entry`].
//!
//! Every call runs under the configured [`RetryPolicy`](crate::RetryPolicy): consent creation,
//! starting and continuing SCA and deletion are never retried.

mod ais;
mod client;
mod config;
mod consents;
pub(crate) mod errors;
mod listing;
pub(crate) mod mapping;
mod sca;
#[cfg(test)]
mod tests;

pub use client::BerlinGroup;
#[cfg(test)]
pub(crate) use client::decode;
pub use config::BerlinGroupConfig;
pub use listing::VALUE_DATE_MARGIN_DAYS;

use crate::api::{AccountInformation, Bank, CardAccountInformation, Consents};

impl Bank for BerlinGroup {
    fn name(&self) -> &'static str {
        self.name
    }

    fn as_consents(&self) -> Option<&dyn Consents> {
        Some(self)
    }

    fn as_account_information(&self) -> Option<&dyn AccountInformation> {
        Some(self)
    }

    /// Only when the profile offers card accounts.
    fn as_card_account_information(&self) -> Option<&dyn CardAccountInformation> {
        if self.entry.profile.accounts.card_accounts {
            Some(self)
        } else {
            None
        }
    }
}
