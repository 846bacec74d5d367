//! Handelsbanken's tokens: the client-credentials (CCG) token and the PSU's tokens (renewed
//! with a refresh token) both live in the shared caches of
//! [`crate::adapters::common::tokens`], under its one renewal rule: a token is renewed
//! [`renewal_margin`] of its lifetime (at most [`MAX_RENEWAL_MARGIN`]) before it expires, and
//! [`MAX_RENEWAL_MARGIN`] before when only the expiry date is known (a stored session). PSU
//! token renewals are single-flight, so concurrent calls share one renewal: Handelsbanken
//! rotates refresh tokens.

pub use crate::adapters::common::tokens::{MAX_RENEWAL_MARGIN, renewal_margin};
