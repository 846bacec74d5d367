//! Money: an exact decimal amount and its ISO 4217 currency.
//!
//! Amounts are [`rust_decimal::Decimal`], never floats, and keep the scale the bank sent
//! (`"18959.990"` stays three places). They serialize as strings so the scale survives JSON.
//!
//! # Parsing JSON numbers
//!
//! Handelsbanken sends amounts as JSON numbers (`"amount": 2000`). Going through `f64` would
//! lose the scale and, for large values, the value itself, so:
//!
//! - [`Money::from_json_number`] / [`decimal_from_json_number`] parse the number's literal
//!   text. The workspace's `rust_decimal` enables `serde-with-arbitrary-precision`, which turns
//!   on serde_json's `arbitrary_precision` feature for every crate in the build; with it,
//!   `serde_json::Number` keeps the literal text exactly.
//! - [`deserialize_amount`] (used by `Money`'s own `Deserialize`) accepts a string, an integer,
//!   serde_json's arbitrary-precision number token (also when buffered by `untagged` or
//!   `flatten`), and, as a last resort, an `f64` (shortest round-trip text: value exact as
//!   printed, trailing zeros of the original lost). It therefore works with or without
//!   `arbitrary_precision`.
//!
//! `arbitrary_precision` is a global switch with one known hazard for other crates: a number
//! buffered by serde (`#[serde(untagged)]`, `#[serde(flatten)]`, internally tagged enums) can
//! no longer be read back as `f64`/`i64`. The psd2 crate does not rely on that pattern; generated
//! clients that do must be tested with the feature on (see this crate's
//! `tests/arbitrary_precision.rs`).

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::text_shape;

/// The largest scale (digits after the point) a [`Decimal`] can hold.
pub const MAX_SCALE: u32 = 28;

/// serde_json's private map key for an arbitrary-precision number token.
const SERDE_JSON_NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// Longest input text quoted back in a [`MoneyError`].
const MAX_QUOTED: usize = 64;

/// Why an amount or currency could not be parsed.
///
/// The offending text is kept (truncated) for verbose output ([`MoneyError::text`]), but
/// `Display` and `Debug` describe it by shape only (length, kinds of characters): a bank may
/// put anything, e.g. a name and a personal id, into an amount field.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// The text is not a decimal number (`-?digits(.digits)?([eE][+-]?digits)?`).
    #[error("not a decimal amount ({})", text_shape(text))]
    BadText {
        /// The offending text (truncated).
        text: String,
    },
    /// More significant digits than a 96-bit decimal mantissa holds (about 28).
    #[error("amount has too many digits for a decimal ({})", text_shape(text))]
    TooManyDigits {
        /// The offending text (truncated).
        text: String,
    },
    /// More digits after the point than a decimal holds (28).
    #[error("amount has {scale} decimal places, more than the {MAX_SCALE} a decimal holds")]
    ScaleTooLarge {
        /// The offending text (truncated).
        text: String,
        /// The scale the text asked for.
        scale: i64,
    },
    /// The currency is not three ASCII upper-case letters.
    #[error(
        "not an ISO 4217 currency code, three upper-case letters expected ({})",
        text_shape(text)
    )]
    BadCurrency {
        /// The offending text (truncated).
        text: String,
    },
}

impl MoneyError {
    /// The offending text as sent (truncated to 64 chars), for verbose output only.
    pub fn text(&self) -> &str {
        match self {
            Self::BadText { text }
            | Self::TooManyDigits { text }
            | Self::ScaleTooLarge { text, .. }
            | Self::BadCurrency { text } => text,
        }
    }
}

impl fmt::Debug for MoneyError {
    /// The variant and the text's shape, never the text.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let variant = match self {
            Self::BadText { .. } => "BadText",
            Self::TooManyDigits { .. } => "TooManyDigits",
            Self::ScaleTooLarge { .. } => "ScaleTooLarge",
            Self::BadCurrency { .. } => "BadCurrency",
        };
        f.debug_struct(variant)
            .field("text_shape", &text_shape(self.text()))
            .finish()
    }
}

fn quoted(text: &str) -> String {
    text.chars().take(MAX_QUOTED).collect()
}

/// Parses a decimal amount exactly, keeping its scale.
///
/// Accepts an optional sign (`-` or `+`), digits, an optional fraction and an optional
/// exponent (`1.5E3` = 1500, `15E-1` = 1.5). Never rounds: input that does not fit a
/// [`Decimal`] is an error.
#[inline]
pub fn parse_decimal(text: &str) -> Result<Decimal, MoneyError> {
    // Nearly every amount a bank sends is short and plain (`-593.04`): one pass, no checks
    // that cannot fail, inlined so the value stays in registers. Anything else (exponents,
    // long or malformed text) takes the full parser, which gives the same value for plain
    // text.
    match parse_plain_decimal(text.as_bytes()) {
        Some(value) => Ok(value),
        None => parse_decimal_text(text),
    }
}

/// The longest plain amount (sign not counted, point counted) the fast path takes: at most
/// 19 digits, which always fit a `u64` and a [`Decimal`]'s mantissa.
const PLAIN_MAX_LEN: usize = 19;

/// `[+-]?digits(.digits)?` of at most [`PLAIN_MAX_LEN`] bytes after the sign, exactly as
/// [`parse_decimal_text`] parses it; `None` for any other text (the full parser decides).
#[inline]
fn parse_plain_decimal(bytes: &[u8]) -> Option<Decimal> {
    let (negative, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, bytes),
    };
    if digits.is_empty() || digits.len() > PLAIN_MAX_LEN {
        return None;
    }
    let mut mantissa: u64 = 0;
    let mut point = None;
    for (i, &b) in digits.iter().enumerate() {
        let digit = b.wrapping_sub(b'0');
        if digit < 10 {
            // At most 19 digits: below 10^19 < 2^64, no overflow.
            mantissa = mantissa * 10 + u64::from(digit);
        } else if b == b'.' && point.is_none() {
            point = Some(i);
        } else {
            return None;
        }
    }
    let scale = match point {
        None => 0,
        // Digits on both sides of the point (`1.` and `.5` are not amounts).
        Some(at) if at > 0 && at + 1 < digits.len() => digits.len() - at - 1,
        Some(_) => return None,
    };
    // Below 19 < MAX_SCALE: the conversion and `from_parts` cannot fail.
    let scale = u32::try_from(scale).ok()?;
    let lo = (mantissa & 0xFFFF_FFFF) as u32;
    let mid = (mantissa >> 32) as u32;
    let mut value = Decimal::from_parts(lo, mid, 0, false, scale);
    if negative {
        // As the full parser: `-0.00` keeps its sign.
        value.set_sign_negative(true);
    }
    Some(value)
}

/// The full parser behind [`parse_decimal`]: every accepted form, every error.
#[inline(never)]
fn parse_decimal_text(text: &str) -> Result<Decimal, MoneyError> {
    let bad = || MoneyError::BadText { text: quoted(text) };
    let bytes = text.as_bytes();
    let mut i = 0;
    let negative = match bytes.first() {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let int_start = i;
    while i < bytes.len() && bytes[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = &bytes[int_start..i];
    if int_digits.is_empty() {
        return Err(bad());
    }
    let mut frac_digits: &[u8] = &[];
    if i < bytes.len() && bytes[i] == b'.' {
        i += 1;
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = &bytes[start..i];
        if frac_digits.is_empty() {
            return Err(bad());
        }
    }
    let mut exponent: i64 = 0;
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        let exp_negative = match bytes.get(i) {
            Some(b'-') => {
                i += 1;
                true
            }
            Some(b'+') => {
                i += 1;
                false
            }
            _ => false,
        };
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let exp_digits = &bytes[start..i];
        if exp_digits.is_empty() {
            return Err(bad());
        }
        for &d in exp_digits {
            exponent = exponent * 10 + i64::from(d - b'0');
            if exponent > 1_000 {
                // Far beyond anything a Decimal can hold either way.
                return Err(if exp_negative {
                    MoneyError::ScaleTooLarge {
                        text: quoted(text),
                        scale: exponent,
                    }
                } else {
                    MoneyError::TooManyDigits { text: quoted(text) }
                });
            }
        }
        if exp_negative {
            exponent = -exponent;
        }
    }
    if i != bytes.len() {
        return Err(bad());
    }

    // 2^96 - 1: the largest Decimal mantissa.
    const MAX_MANTISSA: u128 = (1u128 << 96) - 1;
    let too_many = || MoneyError::TooManyDigits { text: quoted(text) };
    let mut mantissa: u128 = 0;
    if int_digits.len() + frac_digits.len() <= 19 {
        // Up to 19 digits fit a u64 (and a Decimal's mantissa): no overflow checks needed.
        let mut small: u64 = 0;
        for &d in int_digits.iter().chain(frac_digits) {
            small = small * 10 + u64::from(d - b'0');
        }
        mantissa = u128::from(small);
    } else {
        for &d in int_digits.iter().chain(frac_digits) {
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(u128::from(d - b'0')))
                .filter(|m| *m <= MAX_MANTISSA)
                .ok_or_else(too_many)?;
        }
    }
    let mut scale = i64::try_from(frac_digits.len()).map_err(|_| too_many())? - exponent;
    while scale < 0 {
        mantissa = mantissa
            .checked_mul(10)
            .filter(|m| *m <= MAX_MANTISSA)
            .ok_or_else(too_many)?;
        scale += 1;
    }
    if scale > i64::from(MAX_SCALE) {
        return Err(MoneyError::ScaleTooLarge {
            text: quoted(text),
            scale,
        });
    }
    let signed = i128::try_from(mantissa).map_err(|_| too_many())?;
    let scale = u32::try_from(scale).map_err(|_| too_many())?;
    let mut value = Decimal::try_from_i128_with_scale(signed, scale).map_err(|_| too_many())?;
    if negative {
        value.set_sign_negative(true);
    }
    Ok(value)
}

/// Parses a JSON number's literal text into an exact [`Decimal`] (see the module docs).
pub fn decimal_from_json_number(number: &serde_json::Number) -> Result<Decimal, MoneyError> {
    parse_decimal(&number.to_string())
}

/// An ISO 4217 alphabetic currency code: three ASCII upper-case letters.
///
/// Validated by shape only (no list of codes), so a new or historic code never fails a response.
// The three letters and a zero byte: four bytes are one machine word, so a currency is
// built and copied in a register (three bytes were assembled byte by byte in memory and
// read back whole, a store-forwarding stall on every parsed amount). Order, equality and
// hashing are those of the three letters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 4]);

impl Currency {
    /// Swedish krona.
    pub const SEK: Currency = Currency(*b"SEK\0");
    /// Norwegian krone.
    pub const NOK: Currency = Currency(*b"NOK\0");
    /// Danish krone.
    pub const DKK: Currency = Currency(*b"DKK\0");
    /// Euro.
    pub const EUR: Currency = Currency(*b"EUR\0");
    /// Pound sterling.
    pub const GBP: Currency = Currency(*b"GBP\0");
    /// US dollar.
    pub const USD: Currency = Currency(*b"USD\0");

    /// Validates and wraps a currency code such as `"SEK"`.
    #[inline]
    pub fn new(code: &str) -> Result<Self, MoneyError> {
        Self::checked(code).ok_or_else(|| MoneyError::BadCurrency { text: quoted(code) })
    }

    /// The currency `code` stands for, if it is three ASCII upper-case letters.
    #[inline]
    fn checked(code: &str) -> Option<Self> {
        match *code.as_bytes() {
            [a, b, c]
                if a.is_ascii_uppercase() && b.is_ascii_uppercase() && c.is_ascii_uppercase() =>
            {
                Some(Self([a, b, c, 0]))
            }
            _ => None,
        }
    }

    /// The three-letter code.
    pub fn as_str(&self) -> &str {
        // Always ASCII by construction.
        std::str::from_utf8(&self.0[..3]).unwrap_or("XXX")
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.as_str())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::new(&s).map_err(de::Error::custom)
    }
}

/// An exact amount in a currency. Signed where the context says so (a transaction's amount is
/// negative for money going out).
///
/// JSON form: `{"amount": "18959.990", "currency": "SEK"}` (the Berlin Group shape); the amount
/// is written as a string with its scale and read from a string or a JSON number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// The amount, with the scale the bank sent.
    #[serde(
        serialize_with = "serialize_amount",
        deserialize_with = "deserialize_amount"
    )]
    pub amount: Decimal,
    /// The currency.
    pub currency: Currency,
}

impl Money {
    /// Builds money from parts already parsed.
    pub fn new(amount: Decimal, currency: Currency) -> Self {
        Self { amount, currency }
    }

    /// Parses a bank's amount text and currency code (see [`parse_decimal`]).
    #[inline(always)]
    pub fn parse(amount: &str, currency: &str) -> Result<Self, MoneyError> {
        // The plain amount returns straight away, so the value stays in registers (joined
        // with the full parser's result it went through memory, piecewise, and was read
        // back whole: a store-forwarding stall on every amount).
        if let Some(value) = parse_plain_decimal(amount.as_bytes())
            && let Some(currency) = Currency::checked(currency)
        {
            return Ok(Self::new(value, currency));
        }
        Self::parse_text(amount, currency)
    }

    /// [`Money::parse`] through the full parser: every accepted form, every error (the
    /// amount's first).
    #[inline(never)]
    fn parse_text(amount: &str, currency: &str) -> Result<Self, MoneyError> {
        Ok(Self::new(
            parse_decimal_text(amount)?,
            Currency::new(currency)?,
        ))
    }

    /// Parses an amount sent as a JSON number, from its literal text (no `f64` round trip).
    pub fn from_json_number(
        amount: &serde_json::Number,
        currency: &str,
    ) -> Result<Self, MoneyError> {
        Ok(Self::new(
            decimal_from_json_number(amount)?,
            Currency::new(currency)?,
        ))
    }

    /// Whether the amount is below zero (money going out, for a transaction).
    pub fn is_negative(&self) -> bool {
        self.amount.is_sign_negative() && !self.amount.is_zero()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// Writes a [`Decimal`] as a string keeping its scale (`"18959.990"`).
pub fn serialize_amount<S: Serializer>(amount: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(amount)
}

/// Reads a [`Decimal`] from a string or a JSON number, exactly (see the module docs).
///
/// Usable on any field: `#[serde(deserialize_with = "psd2::money::deserialize_amount")]`.
pub fn deserialize_amount<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    deserializer.deserialize_any(AmountVisitor)
}

struct AmountVisitor;

impl<'de> Visitor<'de> for AmountVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal amount as a string or a number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse_decimal(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Decimal, E> {
        parse_decimal(&v.to_string()).map_err(E::custom)
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Decimal, E> {
        parse_decimal(&v.to_string()).map_err(E::custom)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        if !v.is_finite() {
            return Err(E::custom("amount is not a finite number"));
        }
        // Rust prints the shortest text that round-trips, never in exponent form.
        parse_decimal(&v.to_string()).map_err(E::custom)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Decimal, A::Error> {
        // serde_json with `arbitrary_precision` hands numbers over as a one-entry map.
        let key: Option<String> = map.next_key()?;
        match key.as_deref() {
            Some(SERDE_JSON_NUMBER_TOKEN) => {
                let text: String = map.next_value()?;
                parse_decimal(&text).map_err(de::Error::custom)
            }
            _ => Err(de::Error::custom(
                "expected a decimal amount, found an object",
            )),
        }
    }
}

#[cfg(test)]
mod tests;
