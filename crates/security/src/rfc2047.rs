//! RFC 2047 "encoded-word" handling for header values that are not plain ASCII.
//!
//! HTTP header values are ASCII on the wire. Swedbank (seed 004) and the Berlin Group ask that
//! a value with ISO-8859-1 or UTF-8 characters (a PSU-ID with `Å`, a Signature whose keyId holds
//! a non-ASCII issuer DN) be sent as one MIME encoded-word, `=?utf-8?B?<base64>?=`.
//!
//! Choices, documented because both sides of a signature must agree:
//! * the whole value becomes a single encoded-word, however long (Swedbank's own example
//!   exceeds RFC 2047's 75-character guideline, and splitting would change the signed bytes);
//! * only the `B` (base64) encoding is produced; [`decode`] also reads `Q`;
//! * values that are valid UTF-8 are labelled `utf-8`; other bytes are taken as ISO-8859-1.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::borrow::Cow;

/// True when `bytes` can go on the wire unchanged: visible ASCII, space and tab only.
pub fn is_plain_ascii(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|b| *b == b'\t' || (0x20..0x7f).contains(b))
}

/// The wire form of a header value: unchanged when plain ASCII, otherwise one
/// `=?utf-8?B?...?=` (or `=?iso-8859-1?B?...?=` for bytes that are not UTF-8) encoded-word.
pub fn encode_bytes(value: &[u8]) -> Cow<'_, str> {
    if is_plain_ascii(value) {
        // Plain ASCII is valid UTF-8.
        return String::from_utf8_lossy(value);
    }
    let charset = if std::str::from_utf8(value).is_ok() {
        "utf-8"
    } else {
        "iso-8859-1"
    };
    Cow::Owned(format!("=?{charset}?B?{}?=", STANDARD.encode(value)))
}

/// The wire form of a text header value; see [`encode_bytes`].
pub fn encode(value: &str) -> Cow<'_, str> {
    encode_bytes(value.as_bytes())
}

/// Decodes a value that is exactly one encoded-word (`=?charset?B|Q?text?=`, charset `utf-8`,
/// `us-ascii` or `iso-8859-1`, case-insensitive). Returns `None` when `value` is not one.
pub fn decode(value: &str) -> Option<String> {
    let inner = value.trim().strip_prefix("=?")?.strip_suffix("?=")?;
    let mut parts = inner.splitn(3, '?');
    let charset = parts.next()?.to_ascii_lowercase();
    let encoding = parts.next()?;
    let text = parts.next()?;
    let bytes = match encoding {
        "B" | "b" => STANDARD.decode(text).ok()?,
        "Q" | "q" => decode_q(text)?,
        _ => return None,
    };
    match charset.as_str() {
        "utf-8" | "utf8" | "us-ascii" => String::from_utf8(bytes).ok(),
        "iso-8859-1" | "latin1" => Some(bytes.iter().map(|b| char::from(*b)).collect()),
        _ => None,
    }
}

fn decode_q(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'_' => out.push(b' '),
            b'=' => {
                let hi = char::from(bytes.next()?).to_digit(16)?;
                let lo = char::from(bytes.next()?).to_digit(16)?;
                out.push(u8::try_from(hi * 16 + lo).ok()?);
            }
            other => out.push(other),
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_values_are_unchanged() {
        assert_eq!(encode("private-1"), "private-1");
        assert!(matches!(encode("a b\tc"), Cow::Borrowed(_)));
        assert_eq!(decode("private-1"), None);
    }

    #[test]
    fn non_ascii_utf8_becomes_one_b_encoded_word() {
        // "Åsa" in UTF-8 is C3 85 73 61.
        assert_eq!(encode("Åsa"), "=?utf-8?B?w4VzYQ==?=");
        assert_eq!(decode("=?utf-8?B?w4VzYQ==?=").as_deref(), Some("Åsa"));
        assert_eq!(decode("=?UTF-8?b?w4VzYQ==?=").as_deref(), Some("Åsa"));
    }

    #[test]
    fn latin1_bytes_are_labelled_iso_8859_1() {
        assert_eq!(encode_bytes(&[0xC5, b's', b'a']), "=?iso-8859-1?B?xXNh?=");
        assert_eq!(decode("=?iso-8859-1?B?xXNh?=").as_deref(), Some("Åsa"));
    }

    #[test]
    fn q_encoding_and_garbage() {
        assert_eq!(decode("=?utf-8?Q?=C3=85sa_x?=").as_deref(), Some("Åsa x"));
        assert_eq!(decode("=?utf-8?X?abc?="), None);
        assert_eq!(decode("=?utf-8?B?***?="), None);
        assert_eq!(decode("=?koi8-r?B?w4VzYQ==?="), None);
    }
}
