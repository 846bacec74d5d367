//! A transaction list answer decoded and mapped in one pass: each entry is mapped into its
//! domain [`Transaction`] as soon as the parser has read it, so the page's raw entries are
//! never collected into lists first (a raw entry is over a kilobyte: collecting the lists,
//! growing them and moving their entries out again cost about 7% of a listing's
//! instructions).
//!
//! The result is exactly that of decoding [`raw::TransactionsResponse`] and mapping it with
//! [`into_mapped_transactions`]: the same entries (booked, then pending, then bankgiro,
//! whatever the order of the lists in the body), the same per-entry errors, the same page
//! errors, and a decoding error wherever the raw types refuse the body. Entries can only be
//! mapped as they are read once the answer's `account` is known (it is shared by every
//! entry); a body that sends `transactions` first, or whose `account` does not map, or that
//! uses the array form of an object, is decoded into the raw types as before and mapped
//! afterwards.

use std::fmt;
use std::sync::Arc;

use psd2_raw_openpayments::types as raw;
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::listing::{BANKGIRO_STATUS, MappedTransactions, entry_error, into_mapped_transactions};
use super::{IbanCache, MappingError, map_transaction, reference, under};
use crate::account::AccountReference;
use crate::transaction::{Transaction, TransactionStatus};

type Entry = Result<Transaction, MappingError>;

/// Decodes `text`, a transaction list answer, and maps its entries into `out` (see the
/// module), each kept or not as `keep` says and turned into the output's item by `make`.
/// `Err`: the body does not decode as the raw types decode it (`out` then holds part of
/// the page: the caller drops it). `Ok(Err)`: the page fails as a whole, as
/// [`into_mapped_transactions`] fails it.
pub(crate) fn decode_mapped<E>(
    text: &str,
    out: &mut Vec<E>,
    keep: impl FnMut(&Entry) -> bool,
    make: impl FnMut(Entry) -> E,
) -> serde_json::Result<Result<(), MappingError>> {
    let mut sink = Sink {
        out,
        keep,
        make,
        pending: Vec::new(),
        bankgiro: Vec::new(),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let outcome = Answer { sink: &mut sink }.deserialize(&mut de)?;
    de.end()?;
    Ok(outcome)
}

/// Where the decoding puts the mapped entries.
trait Output {
    /// Takes an entry of list `to`.
    fn push(&mut self, to: List, entry: Entry);
    /// After the last entry: the pending and bankgiro entries follow the booked ones.
    fn finish(&mut self);
}

/// The [`Output`] of [`decode_mapped`]: booked entries go straight out; pending and bankgiro
/// ones are kept aside until the booked ones are all out.
struct Sink<'a, E, K, F> {
    out: &'a mut Vec<E>,
    keep: K,
    make: F,
    pending: Vec<E>,
    bankgiro: Vec<E>,
}

impl<E, K, F> Output for Sink<'_, E, K, F>
where
    K: FnMut(&Entry) -> bool,
    F: FnMut(Entry) -> E,
{
    fn push(&mut self, to: List, entry: Entry) {
        if !(self.keep)(&entry) {
            return;
        }
        let item = (self.make)(entry);
        match to {
            List::Booked => self.out.push(item),
            List::Pending => self.pending.push(item),
            List::Bankgiro => self.bankgiro.push(item),
        }
    }

    fn finish(&mut self) {
        self.out.append(&mut self.pending);
        self.out.append(&mut self.bankgiro);
    }
}

/// The three entry lists of a report.
#[derive(Clone, Copy)]
enum List {
    Booked = 0,
    Pending = 1,
    Bankgiro = 2,
}

impl List {
    fn name(self) -> &'static str {
        match self {
            List::Booked => "booked",
            List::Pending => "pending",
            List::Bankgiro => "bankgiro",
        }
    }

    fn status(self) -> TransactionStatus {
        match self {
            List::Booked => TransactionStatus::Booked,
            List::Pending => TransactionStatus::Pending,
            List::Bankgiro => TransactionStatus::Other(BANKGIRO_STATUS.to_owned()),
        }
    }
}

/// A member name of the answer or of its report, as the raw types know them.
enum Key {
    Account,
    Transactions,
    List(List),
    Links,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("field identifier")
            }
            fn visit_str<Er: de::Error>(self, v: &str) -> Result<Key, Er> {
                Ok(match v {
                    "account" => Key::Account,
                    "transactions" => Key::Transactions,
                    "booked" => Key::List(List::Booked),
                    "pending" => Key::List(List::Pending),
                    "bankgiro" => Key::List(List::Bankgiro),
                    "_links" => Key::Links,
                    _ => Key::Other,
                })
            }
        }
        d.deserialize_identifier(KeyVisitor)
    }
}

/// The whole answer (`raw::TransactionsResponse`).
struct Answer<'s, O> {
    sink: &'s mut O,
}

impl<O: Output> Answer<'_, O> {
    /// An answer decoded by the raw types, mapped as [`into_mapped_transactions`] maps it.
    fn mapped_whole(self, answer: raw::TransactionsResponse) -> Result<(), MappingError> {
        let (entries, _) = into_mapped_transactions(answer)?;
        for entry in entries {
            // In the listing's order already: all of them go straight out.
            self.sink.push(List::Booked, entry);
        }
        Ok(())
    }
}

impl<'de, O: Output> DeserializeSeed<'de> for Answer<'_, O> {
    type Value = Result<(), MappingError>;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_struct("TransactionsResponse", &["account", "transactions"], self)
    }
}

impl<'de, O: Output> Visitor<'de> for Answer<'_, O> {
    type Value = Result<(), MappingError>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct TransactionsResponse")
    }

    /// The array form the raw types also accept: decoded by them, mapped afterwards.
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        let answer =
            raw::TransactionsResponse::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        Ok(self.mapped_whole(answer))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut ibans = IbanCache::default();
        // The raw `account` (kept for the raw path) and, when it came before the entries,
        // its mapping.
        let mut raw_account: Option<Option<raw::AccountReference>> = None;
        let mut account: Option<Result<Option<Arc<AccountReference>>, MappingError>> = None;
        // `None`: no `transactions` member yet; `Some(None)`: it was null.
        let mut report: Option<Option<Report>> = None;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Account => {
                    if raw_account.is_some() {
                        return Err(de::Error::duplicate_field("account"));
                    }
                    let value: Option<raw::AccountReference> = map.next_value()?;
                    if report.is_none() {
                        let mapped = reference(value.clone(), &mut ibans)
                            .map_err(|e| under(e, "account"))
                            .map(|r| r.map(Arc::new));
                        account = Some(mapped);
                    }
                    raw_account = Some(value);
                }
                Key::Transactions => {
                    if report.is_some() {
                        return Err(de::Error::duplicate_field("transactions"));
                    }
                    let value = match &account {
                        Some(Ok(shared)) => map
                            .next_value_seed(Streamed {
                                sink: &mut *self.sink,
                                ibans: &mut ibans,
                                account: shared.clone(),
                            })?
                            .then_some(Report::Streamed),
                        // No account yet, or one that does not map: held raw.
                        _ => map
                            .next_value::<Option<raw::AccountReport>>()?
                            .map(Report::Raw),
                    };
                    report = Some(value);
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        match report.flatten() {
            Some(Report::Streamed) => {
                self.sink.finish();
                Ok(Ok(()))
            }
            // Decoded whole by the raw types: mapped as they are mapped.
            raw => Ok(self.mapped_whole(raw::TransactionsResponse {
                account: raw_account.flatten(),
                transactions: match raw {
                    Some(Report::Raw(r)) => Some(r),
                    _ => None,
                },
            })),
        }
    }
}

/// The answer's `transactions` member as it was read.
enum Report {
    /// Its entries went to the sink as they were read.
    Streamed,
    /// Decoded by the raw types (no mapped account to give the entries yet).
    Raw(raw::AccountReport),
}

/// The answer's `transactions` member (`Option<raw::AccountReport>`), its entries mapped
/// as they are read; `true` when it is there (not null).
struct Streamed<'s, O> {
    sink: &'s mut O,
    ibans: &'s mut IbanCache,
    account: Option<Arc<AccountReference>>,
}

impl<'de, O: Output> DeserializeSeed<'de> for Streamed<'_, O> {
    type Value = bool;

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, O: Output> Visitor<'de> for Streamed<'_, O> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("option")
    }

    fn visit_none<Er: de::Error>(self) -> Result<bool, Er> {
        Ok(false)
    }

    fn visit_unit<Er: de::Error>(self) -> Result<bool, Er> {
        Ok(false)
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        const FIELDS: &[&str] = &["bankgiro", "booked", "_links", "pending"];
        d.deserialize_struct("AccountReport", FIELDS, ReportVisitor(self))?;
        Ok(true)
    }
}

/// The report object (`raw::AccountReport`).
struct ReportVisitor<'s, O>(Streamed<'s, O>);

impl<'de, O: Output> Visitor<'de> for ReportVisitor<'_, O> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("struct AccountReport")
    }

    /// The array form the raw types also accept: decoded by them, mapped afterwards.
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let report = raw::AccountReport::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
        let Streamed {
            sink,
            ibans,
            account,
        } = self.0;
        let entries = MappedTransactions::with_cache(report, std::mem::take(ibans), account);
        for entry in entries {
            sink.push(List::Booked, entry);
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Streamed {
            sink,
            ibans,
            account,
        } = self.0;
        let mut seen = [false; 3];
        let mut links_seen = false;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::List(list) => {
                    let slot = &mut seen[list as usize];
                    if std::mem::replace(slot, true) {
                        return Err(de::Error::duplicate_field(list.name()));
                    }
                    map.next_value_seed(Entries {
                        list,
                        sink: &mut *sink,
                        ibans: &mut *ibans,
                        account: account.as_ref(),
                    })?;
                }
                Key::Links => {
                    if std::mem::replace(&mut links_seen, true) {
                        return Err(de::Error::duplicate_field("_links"));
                    }
                    // Read by the serial chain already; decoded to refuse what the raw
                    // types refuse.
                    map.next_value::<Option<raw::TransactionReportLinks>>()?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// One entry list (`Vec<raw::Transaction>`), each entry mapped as it is read.
struct Entries<'s, O> {
    list: List,
    sink: &'s mut O,
    ibans: &'s mut IbanCache,
    account: Option<&'s Arc<AccountReference>>,
}

impl<'de, O: Output> DeserializeSeed<'de> for Entries<'_, O> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, O: Output> Visitor<'de> for Entries<'_, O> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let list = self.list;
        let mut index = 0usize;
        while let Some(mut tx) = seq.next_element::<raw::Transaction>()? {
            let mapped = map_transaction(&mut tx, list.status(), self.ibans, self.account)
                .map_err(|e| entry_error(e, list.name(), index, tx.transaction_id.take()));
            self.sink.push(list, mapped);
            index = index.saturating_add(1);
        }
        Ok(())
    }
}
