//! What the adapters' listing mappings share: a page of per-entry results, entry errors put
//! under their path in the answer, entries decoded one by one from a body, and the checks
//! that a listing answer holds its listing (never read as an empty page).
// Without the adapters, only `ListedPage` is used.
#![cfg_attr(not(feature = "adapters"), allow(dead_code))]

use super::{EntryError, Transaction, TransactionId};
use crate::link::Links;

/// One page of a transaction listing as an adapter's mapping gives it: each entry mapped or
/// why not (in the adapter's order), and the page's own links (`next`, `account`, ...).
///
/// The adapters turn it into a [`TransactionPage`](crate::TransactionPage) (the `next` link becomes the cursor); the
/// page's `account` reference is already on every transaction ([`Transaction::account`]).
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct ListedPage {
    /// The page's entries, in the adapter's order: mapped, or the entry's [`EntryError`].
    pub entries: Vec<Result<Transaction, EntryError>>,
    /// The page's links (`next` is the following page, `account` the reported account).
    pub links: Links,
}

impl ListedPage {
    /// A page of `entries` with `links`.
    pub fn new(entries: Vec<Result<Transaction, EntryError>>, links: Links) -> Self {
        Self { entries, links }
    }

    /// The href of the `next` link, if there is a next page (an empty href counts as none).
    pub fn next_href(&self) -> Option<&str> {
        self.links
            .get("next")
            .map(|l| l.href.as_str())
            .filter(|h| !h.is_empty())
    }

    /// Every entry, or the first entry's error (all-or-nothing listings).
    pub fn into_transactions(self) -> Result<Vec<Transaction>, EntryError> {
        self.entries.into_iter().collect()
    }
}

/// `error` with its field path put under `prefix` (`amount.currency` under
/// `transactions[3]` is `transactions[3].amount.currency`).
pub(crate) fn under(mut error: EntryError, prefix: &str) -> EntryError {
    error.field = crate::error::join_path(prefix, &error.field);
    error
}

/// `error` put under the `index`-th element of the list at `list` (`list[index].field`).
pub(crate) fn under_index(error: EntryError, list: &str, index: usize) -> EntryError {
    let mut prefix = list.to_owned();
    crate::error::push_index(&mut prefix, index);
    under(error, &prefix)
}

/// Decodes one raw entry of a listing from its JSON value. On failure the error names the
/// path inside the entry (under `path`) and the offending value's shape, never the value.
pub(crate) fn decode_entry<R: serde::de::DeserializeOwned>(
    value: &serde_json::Value,
    path: &str,
) -> Result<R, EntryError> {
    serde_path_to_error::deserialize::<_, R>(value).map_err(|e| {
        let inner = e.path().clone();
        let field = crate::error::join_path(path, &crate::error::render_path(&inner));
        let cause = e.into_inner().to_string();
        let found = crate::error::value_at(value, &inner);
        let shape = match found {
            Some(v) if cause.starts_with("missing field") => {
                let name = missing_field_name(&cause);
                return EntryError::new(
                    crate::error::join_path(&field, name.unwrap_or("?")),
                    format!("missing (in {})", crate::error::json_shape(v)),
                );
            }
            Some(v) => crate::error::json_shape(v),
            None => "absent".to_owned(),
        };
        let error = EntryError::new(
            field,
            format!("a value of the wrong type or form ({shape})"),
        );
        match found {
            Some(serde_json::Value::String(text)) => error.with_value(text),
            Some(other) => error.with_value(other.to_string()),
            None => error,
        }
    })
}

/// The documented field name in serde's `missing field `name`` message.
fn missing_field_name(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
        .filter(|name| {
            !name.is_empty()
                && name.len() <= 64
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        })
}

/// A listing answer's body as JSON, with its listing object `key` checked to be there (a
/// list when `is_list`, else an object). Not JSON, an error body sent with a success status,
/// or no listing object of that kind: the page's [`Error`](crate::Error), never an empty
/// page.
pub(crate) fn listing_root(
    bank: &'static str,
    operation: &'static str,
    body: &[u8],
    key: &str,
    is_list: bool,
) -> Result<serde_json::Value, crate::Error> {
    use crate::error::{Error, ErrorKind};
    use serde_json::Value;
    let root: Value = serde_json::from_slice(body)
        .map_err(|e| Error::from_invalid_payload(bank, operation, None, body, &e))?;
    match root.get(key) {
        Some(Value::Array(_)) if is_list => Ok(root),
        Some(Value::Object(_)) if !is_list => Ok(root),
        found => {
            if let Some(error) = Error::from_error_body_with_success(bank, operation, None, body) {
                return Err(error);
            }
            let shape = found.map_or_else(|| "absent".to_owned(), crate::error::json_shape);
            Err(Error::new(ErrorKind::UnexpectedResponse, bank, operation)
                .with_detail(format!(
                    "the bank's answer has no listing: {key}: missing ({shape})"
                ))
                .with_raw_body(body))
        }
    }
}

/// The list `key` of a listing object (named `path` in errors): absent or `null` is an
/// empty list unless `required`; anything but a list is an error for the page.
pub(crate) fn listing_list<'a>(
    parent: &'a serde_json::Value,
    key: &str,
    path: &str,
    required: bool,
) -> Result<&'a [serde_json::Value], EntryError> {
    use serde_json::Value;
    match parent.get(key) {
        Some(Value::Array(items)) => Ok(items),
        None | Some(Value::Null) if !required => Ok(&[]),
        None => Err(EntryError::new(path, "missing")),
        Some(other) => Err(EntryError::new(
            path,
            format!("not a list ({})", crate::error::json_shape(other)),
        )),
    }
}

/// The entry's own id (`key`, a non-empty string), to say which entry failed.
pub(crate) fn entry_bank_id(value: &serde_json::Value, key: &str) -> Option<TransactionId> {
    value
        .get(key)
        .and_then(serde_json::Value::as_str)
        .filter(|id| !id.is_empty())
        .map(TransactionId::new)
}
