//! Handelsbanken: consents (`ALL_ACCOUNTS`), SCA by redirect (authorization code grant) or
//! decoupled Mobile BankID, accounts (v2) and card accounts (v1).
//!
//! # Flow
//!
//! 1. A client-credentials (CCG) token (`scope=AIS`) is fetched on demand and cached (see
//!    [`tokens`] for the renewal margin); a 401 on a CCG call renews it and retries once
//!    (unless the 401 is about the consent).
//! 2. [`Consents::create_consent`](crate::Consents::create_consent) initiates
//!    `{"access":"ALL_ACCOUNTS"}`; `CreatedConsent::approaches` lists the `scaMethods`.
//! 3. SCA:
//!    - redirect: [`start_sca`](crate::Consents::start_sca) returns the authorize URL
//!      (`response_type=code&scope=AIS:<consentId>&client_id&state&redirect_uri`) with a fresh
//!      random `state`; [`complete_redirect`](crate::Consents::complete_redirect) checks the
//!      state and exchanges the code (`grant_type=authorization_code`) for a [`Session`];
//!    - decoupled: `start_sca(Decoupled)` starts a Mobile BankID order (`personalId` from the
//!      PSU id, when given); [`poll_decoupled`](crate::Consents::poll_decoupled) reports
//!      pending (with the BankID hint code), done (a [`Session`] with the decoupled-grant
//!      tokens) or failed (with the hint code).
//! 4. Account and card calls use the session's access token; an expired token is renewed
//!    with its refresh token before the call, and a 401 renews it once and retries. A 401
//!    carrying a consent code (`CONSENT_EXPIRED`, `CONSENT_INVALID`, ... in `errors[].code`
//!    or `moreInformation`) is returned as the consent error without a renewal. A refresh
//!    whose answer is lost (timeout, connection reset) is sent once more (the bank may keep
//!    the old refresh token valid for a grace period); when the bank refuses the renewal
//!    (`invalid_grant`), the error says so and that a new SCA is needed. Renewed tokens stay
//!    in the adapter (the caller's `Session` is not changed);
//!    [`Bank::current_session`](crate::Bank::current_session) returns them, e.g. to store.
//! 5. Every request runs under the configured [`RetryPolicy`](crate::RetryPolicy) (see
//!    [`crate::retry`]): reads and polls are retried on transient failures, consent
//!    creation, starting SCA, the code exchange and deletion never. `accounts` with balances
//!    costs 1 + one call per account (the list carries no balances);
//!    [`account_list`](crate::AccountInformation::account_list) keeps what arrived when one
//!    of them fails.
//!
//! Every call carries `X-IBM-Client-Id`, `Country`, a fresh `TPP-Request-ID` (returned in
//! errors) and the consent flow's `TPP-Transaction-ID`; `PSU-IP-Address` only when the PSU
//! is present; `PSU-Corporate-ID` / `PSU-Corporate-ID-Type: BANK` on consent creation for
//! corporate PSUs. Each attempt logs one `tracing` debug event (bank, operation, attempt,
//! status, request id), never a secret.
//!
//! [`Session`]: crate::Session

mod client;
pub mod config;
pub(crate) mod mapping;
pub mod tokens;

pub use client::Handelsbanken;
pub use config::HandelsbankenConfig;
