//! Plumbing every adapter shares, one of each: the HTTP client ([`TransportConfig`]), the
//! call wrapper with retries and attempt hooks ([`Calls`]), the token cache and lifetime
//! arithmetic ([`tokens`]), the redirect-state store ([`RedirectStates`]), the poisoned-lock
//! policy ([`sync`]), the bearer-token hook ([`BearerHook`]), the booking-status filter, and
//! turning raw errors into [`crate::Error`] (`errors::map_raw_error`).

pub mod bearer;
pub mod call;
pub(crate) mod convert;
pub(crate) mod errors;
pub mod headers;
pub(crate) mod json;
pub mod listing;
pub mod redirect;
pub mod sync;
pub mod tokens;
pub mod transport;

pub use bearer::{BearerHook, TokenSlot};
pub use call::{Calls, check_account_id, info};
pub(crate) use convert::{FromRaw, TryFromRaw};
pub(crate) use errors::map_raw_error;
pub use listing::wanted;
pub use redirect::RedirectStates;
pub use transport::TransportConfig;

/// A fresh request id (`X-Request-ID` / `TPP-Request-ID`): a random UUID v4 per call.
pub fn request_id() -> uuid::Uuid {
    uuid::Uuid::new_v4()
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_ids_are_fresh() {
        assert_ne!(super::request_id(), super::request_id());
    }
}
