//! Recognising a bank's entry again: fingerprints, the entry's date, and matching a listing
//! against what is stored.
//!
//! The rules (the full text with a worked example is in `docs/sync.md`):
//!
//! 1. **Ids**: where the bank's ids are stable
//!    ([`IdStability::Stable`](crate::settings::IdStability::Stable)), an entry whose
//!    `transactionId` (else `entryReference`) equals a stored entry's id of the same status
//!    is that entry.
//! 2. **Content**: otherwise an entry is the stored entry with the same fingerprint (date,
//!    amount, currency, counterparty, remittance) and status that this listing has not
//!    claimed yet: one equal in every field first, else the lowest occurrence index. Identical twins on one day are
//!    therefore claimed one each: two coffees stay two, a third is added.
//! 3. **Pending to booked**: a booked entry still unmatched takes an unclaimed stored pending
//!    entry of the same currency, counterparty and remittance whose date is within
//!    `matching_days`: first one with the same amount, then one the bank links (same bank
//!    id, entry reference or card transaction id), then (a card pre-authorisation whose
//!    amount changed) one whose other fields all agree, of the same purchase day (value
//!    date) and whose amount is at most a fifth away, the closest amount first. Each rank
//!    is tried for the whole page before the next. A pending entry whose amount changed is matched the
//!    same way by a pending entry of the same day.
//! 4. Anything else is new: a fresh [`TxKey`](crate::model::TxKey) with the next occurrence
//!    index of its fingerprint.
//!
//! Every page is matched in two passes (rules 1-2 for all its entries, then 3-4), so a
//! pending entry the bank still lists is never taken by a look-alike booked entry.

mod listed;
mod matching;

pub use listed::Listed;
pub use matching::{Matched, Matcher, Outcome};

use chrono::NaiveDate;
use psd2::Transaction;
use psd2::transaction::Party;
use sha2::{Digest, Sha256};

use crate::settings::DateField;

/// The entry's date by the bank's setting, falling back to the other dates.
pub fn entry_date(tx: &Transaction, field: DateField) -> Option<NaiveDate> {
    let (a, b, c) = match field {
        DateField::Booking => (tx.booking_date, tx.value_date, tx.transaction_date),
        DateField::Value => (tx.value_date, tx.booking_date, tx.transaction_date),
        DateField::Transaction => (tx.transaction_date, tx.booking_date, tx.value_date),
    };
    a.or(b).or(c)
}

/// The bank's id of an entry: `transactionId`, else `entryReference`; blank ids count as none.
pub fn bank_id(tx: &Transaction) -> Option<String> {
    let usable = |id: &str| {
        let id = id.trim();
        (!id.is_empty()).then(|| id.to_string())
    };
    tx.transaction_id
        .as_ref()
        .and_then(|id| usable(id.as_str()))
        .or_else(|| tx.entry_reference.as_deref().and_then(usable))
}

/// The counterparty of an entry as one normalised text: the creditor of money going out,
/// the debtor of money coming in (name, else account), lower case, inner spaces collapsed.
pub fn counterparty(tx: &Transaction) -> String {
    let party: Option<&Party> = if tx.amount.is_negative() {
        tx.creditor.as_ref().or(tx.debtor.as_ref())
    } else {
        tx.debtor.as_ref().or(tx.creditor.as_ref())
    };
    let card_merchant = tx.card.as_ref().and_then(|c| c.merchant.as_deref());
    let text = party
        .and_then(|p| {
            p.name.clone().or_else(|| {
                p.account
                    .as_ref()
                    .and_then(|a| serde_json::to_string(a).ok())
            })
        })
        .or_else(|| card_merchant.map(str::to_string))
        .unwrap_or_default();
    normalise(&text)
}

/// The remittance of an entry as one normalised text (unstructured, its lines, structured).
pub fn remittance(tx: &Transaction) -> String {
    let mut parts: Vec<&str> = Vec::new();
    parts.extend(tx.remittance_unstructured.as_deref());
    parts.extend(tx.remittance_unstructured_array.iter().map(String::as_str));
    parts.extend(tx.remittance_structured.as_deref());
    normalise(&parts.join(" "))
}

fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        if word.is_ascii() {
            out.extend(word.chars().map(|c| c.to_ascii_lowercase()));
        } else {
            // `str::to_lowercase` (not per char): a final sigma lowers as a whole word does.
            out.push_str(&word.to_lowercase());
        }
    }
    out
}

/// Hex SHA-256 over what identifies an entry's content: date, amount (normalised, so
/// `12.50` and `12.5` agree), currency, counterparty and remittance. Ids and status are not
/// part of it.
pub fn fingerprint(tx: &Transaction, date: Option<NaiveDate>) -> String {
    let mut hasher = Sha256::new();
    let date = date.map(|d| d.to_string()).unwrap_or_default();
    let fields = [
        date,
        tx.amount.amount.normalize().to_string(),
        tx.amount.currency.as_str().to_string(),
        counterparty(tx),
        remittance(tx),
    ];
    for field in &fields {
        // Length-prefixed, so no two field lists hash the same text.
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

/// The entry with the fields that do not describe the movement blanked: the bank's ids
/// (when they are unreliable, a shifted or reissued id is not a change) and the running
/// balance. Two entries whose comparable forms are equal are "unchanged".
pub fn comparable(tx: &Transaction, ids_unreliable: bool) -> Transaction {
    let mut tx = tx.clone();
    if ids_unreliable {
        tx.transaction_id = None;
        tx.entry_reference = None;
        tx.details_href = None;
    }
    tx.balance_after = None;
    tx
}

/// Whether `comparable(stored) == comparable(listed)`, without copying either entry: the
/// listed entry's ignored fields are set to the stored entry's for the comparison and put
/// back afterwards.
pub fn same_movement(stored: &Transaction, listed: &mut Transaction, ids_unreliable: bool) -> bool {
    let balance = std::mem::replace(&mut listed.balance_after, stored.balance_after.clone());
    let ids = ids_unreliable.then(|| {
        (
            std::mem::replace(&mut listed.transaction_id, stored.transaction_id.clone()),
            std::mem::replace(&mut listed.entry_reference, stored.entry_reference.clone()),
            std::mem::replace(&mut listed.details_href, stored.details_href.clone()),
        )
    });
    let same = stored == &*listed;
    listed.balance_after = balance;
    if let Some((id, reference, href)) = ids {
        listed.transaction_id = id;
        listed.entry_reference = reference;
        listed.details_href = href;
    }
    same
}

#[cfg(test)]
mod tests {
    use super::*;
    use psd2::{Money, TransactionId, TransactionStatus};

    fn coffee(amount: &str) -> Transaction {
        let mut tx = Transaction::new(
            TransactionStatus::Booked,
            Money::parse(amount, "SEK").unwrap(),
        );
        tx.booking_date = NaiveDate::from_ymd_opt(2026, 11, 3);
        tx.value_date = NaiveDate::from_ymd_opt(2026, 11, 2);
        let mut party = Party::default();
        party.name = Some("Café  Lund".into());
        tx.creditor = Some(party);
        tx.remittance_unstructured = Some("Card purchase".into());
        tx
    }

    #[test]
    fn fingerprint_ignores_ids_status_scale_and_spacing() {
        let a = coffee("-35.00");
        let mut b = coffee("-35");
        b.status = TransactionStatus::Pending;
        b.transaction_id = Some(TransactionId::new("2026-11-03-1"));
        b.creditor.as_mut().unwrap().name = Some("CAFÉ LUND".into());
        let d = entry_date(&a, DateField::Booking);
        assert_eq!(fingerprint(&a, d), fingerprint(&b, d));
        // The digest is a SHA-256: 64 hex digits.
        assert_eq!(fingerprint(&a, d).len(), 64);
    }

    #[test]
    fn fingerprint_differs_on_amount_date_and_counterparty() {
        let a = coffee("-35.00");
        let d = entry_date(&a, DateField::Booking);
        let other_amount = coffee("-36.00");
        assert_ne!(fingerprint(&a, d), fingerprint(&other_amount, d));
        assert_ne!(
            fingerprint(&a, d),
            fingerprint(&a, NaiveDate::from_ymd_opt(2026, 11, 4))
        );
        let mut other_party = coffee("-35.00");
        other_party.creditor.as_mut().unwrap().name = Some("Bakery".into());
        assert_ne!(fingerprint(&a, d), fingerprint(&other_party, d));
    }

    #[test]
    fn date_field_setting_and_fallbacks() {
        let mut tx = coffee("-1");
        assert_eq!(
            entry_date(&tx, DateField::Value),
            NaiveDate::from_ymd_opt(2026, 11, 2)
        );
        assert_eq!(
            entry_date(&tx, DateField::Booking),
            NaiveDate::from_ymd_opt(2026, 11, 3)
        );
        tx.booking_date = None;
        assert_eq!(
            entry_date(&tx, DateField::Booking),
            NaiveDate::from_ymd_opt(2026, 11, 2)
        );
        tx.value_date = None;
        assert_eq!(entry_date(&tx, DateField::Transaction), None);
    }

    #[test]
    fn same_movement_ignores_balance_and_unreliable_ids_and_restores_the_entry() {
        let stored = coffee("-35.00");
        let mut listed = coffee("-35.00");
        listed.balance_after = Some(
            serde_json::from_value(serde_json::json!({
                "balanceType": "interimBooked",
                "amount": {"amount": "120.00", "currency": "SEK"}
            }))
            .unwrap(),
        );
        listed.transaction_id = Some(TransactionId::new("2026-11-03-7"));
        let before = listed.clone();
        // The running balance never counts; an id only where ids are reliable.
        assert!(same_movement(&stored, &mut listed, true));
        assert!(!same_movement(&stored, &mut listed, false));
        assert_eq!(listed, before, "the listed entry is put back as it was");
        let mut other = coffee("-36.00");
        assert!(!same_movement(&stored, &mut other, true));
        // Lower case words: ASCII, and a final sigma lowered as the whole word is.
        assert_eq!(
            normalise("  Café\tLUND  ΟΔΟΣ "),
            format!("café lund {}", "ΟΔΟΣ".to_lowercase())
        );
    }

    #[test]
    fn blank_ids_count_as_none() {
        let mut tx = coffee("-1");
        tx.transaction_id = Some(TransactionId::new("  "));
        assert_eq!(bank_id(&tx), None);
        tx.entry_reference = Some(" E-1 ".into());
        // A blank transactionId falls back to the entry reference, trimmed.
        assert_eq!(bank_id(&tx).as_deref(), Some("E-1"));
        tx.transaction_id = Some(TransactionId::new("T-9"));
        assert_eq!(bank_id(&tx).as_deref(), Some("T-9"));
    }
}
