//! Text helpers shared by the writers: length limits by characters, XML-safe text, the
//! fields a bookkeeper reads (counterparty, remittance).

use psd2::Transaction;
use psd2::transaction::Party;
use rust_decimal::Decimal;

use crate::ExportError;

/// The first `max` characters of `text` (never splits a character).
pub(crate) fn clip(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// `text` in pieces of at most `max` characters (at least one piece when not empty).
pub(crate) fn chunks(text: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let piece = clip(rest, max);
        out.push(piece);
        rest = &rest[piece.len()..];
    }
    out
}

/// `text` with every character XML 1.0 does not allow (control characters other than tab,
/// line feed and carriage return, lone surrogates cannot occur in a `str`, U+FFFE/U+FFFF)
/// replaced by U+FFFD, and trimmed.
pub(crate) fn xml_safe(text: &str) -> String {
    text.trim()
        .chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// The other side of the entry: the creditor of a debit, the debtor of a credit.
pub(crate) fn counterparty(tx: &Transaction) -> Option<&Party> {
    if tx.amount.amount.is_sign_negative() {
        tx.creditor.as_ref()
    } else {
        tx.debtor.as_ref()
    }
}

/// The counterparty's account as text: IBAN, else BBAN, bankgiro, plusgiro, masked PAN.
pub(crate) fn party_account(party: &Party) -> Option<&str> {
    let account = party.account.as_ref()?;
    account
        .iban
        .as_ref()
        .map(|i| i.as_str())
        .or(account.bban.as_deref())
        .or(account.bankgiro.as_deref())
        .or(account.plusgiro.as_deref())
        .or(account.masked_pan.as_deref())
}

/// Every unstructured remittance line (the single text, then the enriched lines).
pub(crate) fn unstructured(tx: &Transaction) -> Vec<&str> {
    tx.remittance_unstructured
        .iter()
        .chain(tx.remittance_unstructured_array.iter())
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect()
}

/// An amount as plain decimal text with its scale (`10.50` stays `10.50`), checked
/// against a format's limits on fraction and total digits.
pub(crate) fn amount_text(
    amount: Decimal,
    max_fraction: u32,
    max_digits: usize,
    field: &'static str,
) -> Result<String, ExportError> {
    if amount.scale() > max_fraction {
        return Err(ExportError::Invalid {
            field,
            reason: format!("more than {max_fraction} fraction digits"),
        });
    }
    let text = amount.to_string();
    let digits = text.chars().filter(char::is_ascii_digit).count();
    if digits > max_digits {
        return Err(ExportError::Invalid {
            field,
            reason: format!("more than {max_digits} digits"),
        });
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_and_chunks_count_characters_not_bytes() {
        assert_eq!(clip("Åsa Öberg", 3), "Åsa");
        assert_eq!(clip("ab", 5), "ab");
        assert_eq!(chunks("äöüäöü", 4), ["äöüä", "öü"]);
        assert!(chunks("", 4).is_empty());
    }

    #[test]
    fn xml_safe_replaces_control_characters() {
        assert_eq!(xml_safe(" a\u{1b}b\tc\u{0}"), "a\u{FFFD}b\tc\u{FFFD}");
    }

    #[test]
    fn amounts_keep_scale_and_check_limits() {
        let d: Decimal = "10.50".parse().unwrap();
        assert_eq!(amount_text(d, 5, 18, "x").unwrap(), "10.50");
        let d: Decimal = "1.123456".parse().unwrap();
        assert!(amount_text(d, 5, 18, "x").is_err());
    }
}
