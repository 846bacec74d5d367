//! A listed entry with the facts matching needs, and the fingerprint as a map key.

use chrono::NaiveDate;
use psd2::Transaction;
use sha2::{Digest, Sha256};

use super::{bank_id, entry_date, fingerprint};
use crate::settings::DateField;

/// One listed entry with the facts matching needs, computed from the entry alone, so they
/// can be worked out as the bank's pages arrive (while the stored entries still load)
/// rather than when the page is matched.
pub struct Listed {
    pub(super) tx: Transaction,
    pub(super) date: Option<NaiveDate>,
    pub(super) fingerprint: String,
    pub(super) key: FingerprintKey,
    pub(super) bank_id: Option<String>,
    /// The transaction as JSON: compared with a stored entry's text, and written as the
    /// row's text when it is stored (`None`: it would not encode; the commit encodes it
    /// and reports why).
    pub(super) json: Option<String>,
}

impl Listed {
    /// The facts of `tx`, its date read as `date_field` says; `buffer` is reused between
    /// entries for the JSON.
    pub fn new(tx: Transaction, date_field: DateField, buffer: &mut Vec<u8>) -> Self {
        let date = entry_date(&tx, date_field);
        let fingerprint = fingerprint(&tx, date);
        buffer.clear();
        let json = serde_json::to_writer(&mut *buffer, &tx)
            .ok()
            .and_then(|()| std::str::from_utf8(buffer).ok())
            .map(str::to_owned);
        Self {
            key: FingerprintKey::new(&fingerprint),
            fingerprint,
            bank_id: bank_id(&tx),
            date,
            json,
            tx,
        }
    }
}

impl std::fmt::Debug for Listed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Listed")
            .field("status", &self.tx.status)
            .field("date", &self.date)
            .finish_non_exhaustive()
    }
}

/// A fingerprint as a map key: the 32 bytes of a digest written as 64 lower-case hex digits
/// (what [`fingerprint`] writes), else (any other text) the SHA-256 of the text. One text
/// gives one key and two texts two keys (short of a SHA-256 collision), as with the text as
/// the key; the key owns nothing, so a table of a million keys is freed at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum FingerprintKey {
    Digest([u8; 32]),
    Hashed([u8; 32]),
}

impl FingerprintKey {
    pub(super) fn new(text: &str) -> Self {
        let bytes = text.as_bytes();
        Self::digest(bytes).unwrap_or_else(|| Self::Hashed(Sha256::digest(bytes).into()))
    }

    /// The digest 64 lower-case hex digits write, if that is what `bytes` are.
    fn digest(bytes: &[u8]) -> Option<Self> {
        let nibble = |b: u8| match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            _ => None,
        };
        if bytes.len() != 64 {
            return None;
        }
        let mut digest = [0u8; 32];
        for (out, pair) in digest.iter_mut().zip(bytes.chunks_exact(2)) {
            let [high, low] = pair else {
                return None;
            };
            *out = (nibble(*high)? << 4) | nibble(*low)?;
        }
        Some(Self::Digest(digest))
    }
}

#[cfg(test)]
mod tests {
    use super::FingerprintKey;

    #[test]
    fn fingerprint_keys_are_one_per_text() {
        let digest = "00ff".repeat(16);
        let mut bytes = [0u8; 32];
        for pair in bytes.chunks_mut(2) {
            pair[1] = 0xff;
        }
        assert_eq!(FingerprintKey::new(&digest), FingerprintKey::Digest(bytes));
        // Upper case digits, another length, other text: keys of their own (the SHA-256
        // of "abc" is the FIPS 180-2 example digest).
        let upper = digest.to_uppercase();
        assert!(matches!(
            FingerprintKey::new(&upper),
            FingerprintKey::Hashed(_)
        ));
        assert_ne!(FingerprintKey::new(&upper), FingerprintKey::new(&digest));
        let not_hex = format!("{}g", &digest[1..]);
        assert!(matches!(
            FingerprintKey::new(&not_hex),
            FingerprintKey::Hashed(_)
        ));
        assert_ne!(
            FingerprintKey::new(&digest[1..]),
            FingerprintKey::new(&digest)
        );
        let mut abc = [0u8; 32];
        hex::decode_to_slice(
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
            &mut abc,
        )
        .unwrap();
        assert_eq!(FingerprintKey::new("abc"), FingerprintKey::Hashed(abc));
        assert_ne!(
            FingerprintKey::new(&"0".repeat(64)),
            FingerprintKey::new(&format!("{}1", "0".repeat(63)))
        );
    }
}
