//! Transaction pages written straight to bytes: borrowed `Serialize` structs instead of a
//! `serde_json::Value` tree per entry (building and dropping those trees was most of the
//! sandbox's time per page).

use std::fmt::Display;

use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

use crate::util::money;

/// Bytes a page entry takes, roughly: the initial capacity of a page's buffer.
const BYTES_PER_ENTRY: usize = 900;

/// Serializes any `Display` value as a JSON string (dates, decimals) without an allocation.
pub fn display<T: Display, S: Serializer>(value: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(value)
}

/// `Option` of a `Display` value as a JSON string (use with `skip_serializing_if`).
pub fn display_opt<T: Display, S: Serializer>(value: &Option<T>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.collect_str(v),
        None => s.serialize_none(),
    }
}

/// A Berlin Group amount `{"currency", "amount": "12.34"}`.
#[derive(Serialize)]
pub struct Amount<'a> {
    /// ISO 4217 currency.
    pub currency: &'a str,
    /// Two decimals.
    pub amount: String,
}

impl<'a> Amount<'a> {
    /// `d` in `currency`.
    pub fn new(currency: &'a str, d: Decimal) -> Self {
        Self {
            currency,
            amount: money(d),
        }
    }
}

/// An account reference naming an IBAN (`{"iban": null}` when there is none).
#[derive(Serialize)]
pub struct IbanRef<'a> {
    /// The IBAN.
    pub iban: Option<&'a str>,
}

/// A counterparty reference: `{"iban": …}`, or `{}` when the IBAN is unknown.
#[derive(Serialize)]
pub struct PartyRef<'a> {
    /// The IBAN, left out when unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iban: Option<&'a str>,
}

/// `balanceAfterTransaction`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BalanceAfter<'a> {
    /// The balance.
    pub balance_amount: Amount<'a>,
    /// Its type.
    pub balance_type: &'static str,
}

/// A `{"href": …}` link.
#[derive(Serialize)]
pub struct Href {
    /// The target.
    pub href: String,
}

/// A JSON `200 OK` answer of `body`, serialized into one buffer sized for `entries` entries.
pub fn json_page<T: Serialize>(body: &T, entries: usize) -> Response {
    let mut buf = Vec::with_capacity(entries.saturating_mul(BYTES_PER_ENTRY).saturating_add(256));
    match serde_json::to_writer(&mut buf, body) {
        Ok(()) => ([(CONTENT_TYPE, "application/json")], buf).into_response(),
        Err(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}
