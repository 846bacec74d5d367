//! Checks a parsed registry file beyond its types: ranges, formats, consistency.

use std::collections::BTreeSet;

use crate::{BookingStatusKind, RegistryEntry, RegistryError};

/// Headers the adapter sets itself; a profile's `extra_headers` may not name them.
const RESERVED_HEADERS: &[&str] = &[
    "authorization",
    "consent-id",
    "content-type",
    "accept",
    "digest",
    "signature",
    "tpp-signature-certificate",
    "x-request-id",
    "psu-id",
    "psu-id-type",
    "psu-corporate-id",
    "psu-corporate-id-type",
    "psu-ip-address",
    "tpp-redirect-uri",
    "tpp-nok-redirect-uri",
    "tpp-redirect-preferred",
    "tpp-decoupled-preferred",
    "host",
    "content-length",
];

pub(crate) fn entry(file: &str, e: &RegistryEntry) -> Result<(), RegistryError> {
    let bad = |key: &str, reason: String| Err(RegistryError::invalid(file, key, reason));
    let id_ok = !e.id.is_empty()
        && e.id.len() <= 40
        && e.id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !id_ok {
        return bad(
            ".",
            "the file name must be 1 to 40 characters of a-z, 0-9 and '-' (it is the bank's id)"
                .into(),
        );
    }
    if e.name.trim().is_empty() || e.name.chars().count() > 100 {
        return bad("name", "must be 1 to 100 characters".into());
    }
    if e.country.len() != 2 || !e.country.bytes().all(|b| b.is_ascii_uppercase()) {
        return bad(
            "country",
            "must be an ISO 3166-1 alpha-2 code in upper case".into(),
        );
    }
    if e.platform.trim().is_empty() {
        return bad("platform", "must not be empty".into());
    }
    if e.bics.is_empty() {
        return bad("bics", "at least one BIC is needed".into());
    }
    for (i, bic) in e.bics.iter().enumerate() {
        if !bic_ok(bic) {
            return bad(
                &format!("bics[{i}]"),
                "not a BIC: 8 or 11 upper-case letters and digits, the first six letters".into(),
            );
        }
    }
    urls(file, e)?;
    profile(file, e)
}

fn bic_ok(bic: &str) -> bool {
    let b = bic.as_bytes();
    (b.len() == 8 || b.len() == 11)
        && b[..6].iter().all(u8::is_ascii_uppercase)
        && b[6..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

fn urls(file: &str, e: &RegistryEntry) -> Result<(), RegistryError> {
    let https = |key: &str, url: &url::Url| {
        if url.scheme() != "https" || url.host_str().is_none() {
            return Err(RegistryError::invalid(
                file,
                key,
                "must be an https URL with a host",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(RegistryError::invalid(
                file,
                key,
                "must not have a query or fragment",
            ));
        }
        Ok(())
    };
    https("urls.live", &e.urls.live)?;
    if let Some(sandbox) = &e.urls.sandbox {
        https("urls.sandbox", sandbox)?;
    }
    if let Some(path) = &e.sandbox.path {
        let ok = path.starts_with('/')
            && path.len() > 1
            && !path.ends_with('/')
            && path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'-' || b == b'_');
        if !ok {
            return Err(RegistryError::invalid(
                file,
                "sandbox.path",
                "must be an absolute path like /swedbank (letters, digits, '-', '_', no trailing '/')",
            ));
        }
    }
    Ok(())
}

fn profile(file: &str, e: &RegistryEntry) -> Result<(), RegistryError> {
    let p = &e.profile;
    let bad = |key: &str, reason: &str| Err(RegistryError::invalid(file, key, reason));
    if p.sca_approaches.is_empty() {
        return bad(
            "profile.sca_approaches",
            "at least one SCA approach is needed",
        );
    }
    if !unique(&p.sca_approaches) {
        return bad("profile.sca_approaches", "an approach is listed twice");
    }
    if p.consent.scopes.is_empty() || !unique(&p.consent.scopes) {
        return bad(
            "profile.consent.scopes",
            "needs at least one scope, each once",
        );
    }
    if !(1..=100).contains(&p.consent.max_frequency_per_day) {
        return bad("profile.consent.max_frequency_per_day", "must be 1 to 100");
    }
    if !(1..=3650).contains(&p.consent.max_valid_days) {
        return bad("profile.consent.max_valid_days", "must be 1 to 3650");
    }
    let t = &p.transactions;
    if !t.booking_statuses.contains(&BookingStatusKind::Booked) || !unique(&t.booking_statuses) {
        return bad(
            "profile.transactions.booking_statuses",
            "must include booked, each value once",
        );
    }
    if !(1..=3650).contains(&t.history_days) {
        return bad("profile.transactions.history_days", "must be 1 to 3650");
    }
    if !(1..=10_000).contains(&t.page_size) {
        return bad("profile.transactions.page_size", "must be 1 to 10000");
    }
    if !unique(&p.hooks) {
        return bad("profile.hooks", "a hook is listed twice");
    }
    for code in p.error_codes.keys() {
        let ok = !code.is_empty()
            && code.len() <= 70
            && code
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
        if !ok {
            return bad(
                &format!("profile.error_codes.{code}"),
                "an error code is 1 to 70 letters, digits, '_', '-' or '.'",
            );
        }
    }
    for (name, value) in &p.extra_headers {
        let key = format!("profile.extra_headers.{name}");
        let token = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !token {
            return bad(&key, "not a valid HTTP header name");
        }
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return bad(&key, "the adapter sets this header itself");
        }
        if value.is_empty()
            || value.len() > 200
            || !value.bytes().all(|b| (0x20..0x7f).contains(&b))
        {
            return bad(&key, "a header value is 1 to 200 visible ASCII characters");
        }
    }
    Ok(())
}

fn unique<T: Ord>(items: &[T]) -> bool {
    items.iter().collect::<BTreeSet<_>>().len() == items.len()
}
