//! Tests that need the generated raw types: the mapping tests of each bank (seed and spec
//! examples, snapshots, property tests) and the bad-answer suite. They live inside the crate
//! because the raw types and the mapping functions are crate-private; the example bodies
//! they share with the integration tests stay under `tests/`.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

#[path = "../../../tests/openpayments_support/mod.rs"]
mod openpayments_support;
// `openpayments_support` includes the same file for its own use (as the integration tests
// do); the other banks' tests use it from here.
#[allow(clippy::duplicate_mod)]
#[path = "../../../tests/seed_coverage/mod.rs"]
mod seed_coverage;

#[cfg(all(
    feature = "handelsbanken",
    feature = "openpayments",
    feature = "swedbank"
))]
mod bad_answers;
#[cfg(feature = "handelsbanken")]
mod handelsbanken_mapping;
#[cfg(feature = "openpayments")]
mod openpayments_mapping;
#[cfg(feature = "openpayments")]
mod openpayments_streamed;
#[cfg(feature = "swedbank")]
mod swedbank_mapping;
