//! Runs every mutated answer of every operation and checks what must hold for each: no
//! panic, no leak of the bank's text into an error's `Display` or `Debug`, and every listing
//! either complete (one result per entry the answer holds) or an error.

#[allow(unused_imports)]
use crate::adapters::common::{FromRaw, TryFromRaw};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::transaction::{EntryError, ListedPage};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::mutate::{self, Case};

thread_local! {
    /// Whether the case being run met an error (set by every check of an error).
    static SAW_ERROR: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn saw_error() {
    SAW_ERROR.with(|flag| flag.set(true));
}

/// What an operation does with one answer body; `Err` says which rule broke.
pub type Run = fn(&[u8]) -> Result<(), String>;

/// One operation of a bank: a valid answer to mutate and what to do with each body.
pub struct Operation {
    /// The operation's name.
    pub name: &'static str,
    /// A valid answer (from the bank's API description or seed documents).
    pub valid: Value,
    /// Decodes and maps one body, checking the rules.
    pub run: Run,
}

/// Runs every case of every operation; fails listing the broken rules. Returns the count.
pub fn run(bank: &str, operations: Vec<Operation>) -> usize {
    let mut failures = Vec::new();
    let mut count = 0;
    for op in &operations {
        let valid = Case {
            name: "valid answer".to_owned(),
            body: serde_json::to_vec(&op.valid).unwrap(),
        };
        // The valid answer must map without any error, or the cases prove nothing.
        SAW_ERROR.with(|flag| flag.set(false));
        let outcome = (op.run)(&valid.body);
        assert!(
            outcome.is_ok() && !SAW_ERROR.with(|flag| flag.get()),
            "{bank} {}: the valid answer does not map: {outcome:?}",
            op.name
        );
        for case in std::iter::once(valid).chain(mutate::cases(&op.valid)) {
            count += 1;
            match catch_unwind(AssertUnwindSafe(|| (op.run)(&case.body))) {
                Ok(Ok(())) => {}
                Ok(Err(why)) => failures.push(format!("{bank} {}: {}: {why}", op.name, case.name)),
                Err(_) => failures.push(format!("{bank} {}: {}: PANIC", op.name, case.name)),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {count} cases broke a rule:\n{}",
        failures.len(),
        failures
            .iter()
            .take(30)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    println!(
        "{bank}: {count} answers over {} operations, no rule broken",
        operations.len()
    );
    count
}

/// How many cases `operations` make, without running them.
pub fn count(operations: &[Operation]) -> usize {
    operations
        .iter()
        .map(|op| 1 + mutate::cases(&op.valid).len())
        .sum()
}

/// The body decoded as the raw client does; a failure becomes the facade error the adapter
/// reports for it.
pub fn decode<T: DeserializeOwned>(
    bank: &'static str,
    op: &'static str,
    body: &[u8],
) -> Result<T, crate::Error> {
    serde_json::from_slice(body)
        .map_err(|e| crate::Error::from_invalid_payload(bank, op, Some(200), body, &e))
}

/// An error shows none of the bank's text.
pub fn clean(error: &crate::Error) -> Result<(), String> {
    saw_error();
    let shown = format!("{error} {error:?}");
    if mutate::leaks(&shown) {
        return Err(format!("the error shows the bank's text: {shown}"));
    }
    Ok(())
}

/// An entry error shows none of the bank's text and names a field.
pub fn clean_entry(error: &EntryError) -> Result<(), String> {
    saw_error();
    let shown = format!("{error} {error:?}");
    if mutate::leaks(&shown) {
        return Err(format!("the entry error shows the bank's text: {shown}"));
    }
    if error.field.is_empty() {
        return Err(format!("the entry error names no field: {shown}"));
    }
    Ok(())
}

/// Checks a mapping result: an error is clean; `Ok` is allowed.
pub fn result<T>(result: &Result<T, crate::Error>) -> Result<(), String> {
    match result {
        Ok(_) => Ok(()),
        Err(e) => clean(e),
    }
}

/// Where a listing's entries are in an answer: the listing object (`/transactions`) and its
/// lists (`booked`, ...; empty when the listing object is itself the list).
pub struct Shape {
    /// JSON pointer of the listing object.
    pub container: &'static str,
    /// Its lists of entries (optional members); empty: the container is the list.
    pub lists: &'static [&'static str],
}

/// How many entries the answer holds, or `None` when it is not a readable listing (then
/// the adapter must answer with an error).
pub fn expected_entries(body: &[u8], shape: &Shape) -> Option<usize> {
    let root: Value = serde_json::from_slice(body).ok()?;
    let container = root.pointer(shape.container)?;
    if shape.lists.is_empty() {
        return container.as_array().map(Vec::len);
    }
    if !container.is_object() {
        return None;
    }
    let mut n = 0;
    for list in shape.lists {
        match container.get(*list) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => n += items.len(),
            Some(_) => return None,
        }
    }
    Some(n)
}

/// A listing's per-entry results: complete (one per entry) or the page's error.
pub fn complete(
    entries: Result<&[Result<crate::Transaction, EntryError>], &crate::Error>,
    expected: Option<usize>,
) -> Result<(), String> {
    match (entries, expected) {
        (Err(e), _) => clean(e),
        (Ok(entries), Some(n)) if entries.len() == n => entries
            .iter()
            .filter_map(|e| e.as_ref().err())
            .try_for_each(clean_entry),
        (Ok(entries), Some(n)) => Err(format!("{} entries mapped of {n} sent", entries.len())),
        (Ok(entries), None) => Err(format!(
            "{} entries from an answer that is not a listing",
            entries.len()
        )),
    }
}

/// [`complete`] for a page read from the body.
pub fn complete_page(
    page: &Result<ListedPage, crate::Error>,
    expected: Option<usize>,
) -> Result<(), String> {
    complete(page.as_ref().map(|p| p.entries.as_slice()), expected)
}

/// An all-or-nothing listing: the error is clean, or every entry is there.
pub fn all_or_nothing<T, E: std::fmt::Display + std::fmt::Debug>(
    listing: &Result<Vec<T>, E>,
    expected: Option<usize>,
) -> Result<(), String> {
    match (listing, expected) {
        (Err(e), _) => {
            saw_error();
            let shown = format!("{e} {e:?}");
            if mutate::leaks(&shown) {
                return Err(format!("the error shows the bank's text: {shown}"));
            }
            Ok(())
        }
        (Ok(items), Some(n)) if items.len() == n => Ok(()),
        (Ok(items), _) => Err(format!(
            "{} entries of {expected:?}: a short listing",
            items.len()
        )),
    }
}
