//! Small helpers shared by the bank modules.

use axum::http::HeaderMap;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::errors::ApiError;

/// A header's value as text.
pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// A required header, or 400 `FORMAT_ERROR`.
pub fn require_header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, ApiError> {
    header(headers, name)
        .ok_or_else(|| ApiError::format(format!("Missing required header {name}.")))
}

/// Whether `PSU-IP-Address` was sent.
pub fn psu_present(headers: &HeaderMap) -> bool {
    header(headers, "psu-ip-address").is_some()
}

/// Parses an optional `YYYY-MM-DD` query value.
pub fn parse_date(name: &str, v: Option<&String>) -> Result<Option<NaiveDate>, ApiError> {
    v.map(|s| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map_err(|_| ApiError::format(format!("{name} must be a date (YYYY-MM-DD).")))
    })
    .transpose()
}

/// A decimal as a JSON number (Handelsbanken amounts are JSON numbers).
pub fn json_number(d: Decimal) -> Value {
    serde_json::from_str::<Value>(&d.normalize().to_string()).unwrap_or(Value::Null)
}

/// A decimal as a string with the currency's two minor-unit digits.
pub fn money(d: Decimal) -> String {
    format!("{:.2}", d.round_dp(2))
}

/// Whether a BIC looks valid (8 or 11 alphanumerics).
pub fn valid_bic(bic: &str) -> bool {
    (bic.len() == 8 || bic.len() == 11) && bic.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Appends query parameters to a URL that may already have a query.
pub fn with_query(url: &str, params: &[(&str, &str)]) -> String {
    let mut out = url.to_string();
    for (k, v) in params {
        out.push(if out.contains('?') { '&' } else { '?' });
        out.push_str(k);
        out.push('=');
        out.push_str(&url::form_urlencoded::byte_serialize(v.as_bytes()).collect::<String>());
    }
    out
}
