//! What serde_json's `arbitrary_precision` (switched on for the whole build by the workspace's
//! `rust_decimal` feature `serde-with-arbitrary-precision`) does to number handling.
//!
//! These tests pin the behaviour the facade and the generated clients depend on, so a change
//! of the feature set shows up here first.
#![allow(clippy::unwrap_used)]

use psd2::money::decimal_from_json_number;
use serde::Deserialize;

#[test]
fn feature_is_on_and_keeps_literal_text() {
    // With the feature off, `Number`'s text would be the f64 form "18959.99".
    let n: serde_json::Number = serde_json::from_str("18959.990").unwrap();
    assert_eq!(n.to_string(), "18959.990");
    assert_eq!(
        decimal_from_json_number(&n).unwrap().to_string(),
        "18959.990"
    );
}

#[derive(Debug, Deserialize, PartialEq)]
struct Plain {
    amount: f64,
    count: i64,
}

#[test]
fn plain_structs_still_read_f64_and_i64() {
    // What most generated types do: direct deserialization is unaffected.
    let p: Plain = serde_json::from_str(r#"{"amount": 2000.5, "count": 3}"#).unwrap();
    assert_eq!(
        p,
        Plain {
            amount: 2000.5,
            count: 3
        }
    );
    let v: serde_json::Value = serde_json::from_str(r#"{"amount": 2000.5, "count": 3}"#).unwrap();
    let p: Plain = serde_json::from_value(v).unwrap();
    assert_eq!(p.count, 3);
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
#[allow(dead_code)]
enum Untagged {
    Num { amount: f64 },
    Text { text: String },
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Flattened {
    id: String,
    #[serde(flatten)]
    rest: Plain,
}

#[test]
fn buffered_numbers_break_for_f64_fields() {
    // The known hazard: serde buffers the number as serde_json's private map token, and
    // `f64`/`i64` cannot be read back from it. Generated code using `untagged` (oneOf without
    // discriminator) or `flatten` with number fields must not rely on it; the facade's own
    // `deserialize_amount` handles the token.
    let untagged = serde_json::from_str::<Untagged>(r#"{"amount": 1.5}"#);
    let flattened = serde_json::from_str::<Flattened>(r#"{"id": "a", "amount": 1.5, "count": 1}"#);
    println!("untagged: {untagged:?}\nflattened: {flattened:?}");
    assert!(untagged.is_err(), "untagged f64 now works: {untagged:?}");
    assert!(flattened.is_err(), "flattened f64 now works: {flattened:?}");
}
