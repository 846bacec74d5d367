//! One adapter per bank, each behind its cargo feature (all on by default).
//!
//! Each adapter lives in `adapters/<bank>/`, maps its generated raw client's types into the
//! domain model with plain `From`/`TryFrom` code, and implements [`crate::Bank`] and the
//! capability traits. With `default-features = false` this module is empty.

#[cfg(feature = "adapters")]
pub mod common;

#[cfg(feature = "berlingroup")]
pub mod berlingroup;
#[cfg(feature = "handelsbanken")]
pub mod handelsbanken;
#[cfg(feature = "openpayments")]
pub mod openpayments;
#[cfg(feature = "swedbank")]
pub mod swedbank;

#[cfg(all(test, feature = "adapters"))]
mod raw_tests;
