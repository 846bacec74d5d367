//! A Berlin Group consent's `access` object: validated against the banks' specs on
//! creation, and enforced per service (account details, balances, transactions).

use serde_json::Value;

use crate::config::Bank;
use crate::errors::ApiError;
use crate::fixtures::Account;

/// The service an AIS call uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scope {
    /// The account list and an account's details.
    #[default]
    Accounts,
    /// Balances (also `withBalance=true`).
    Balances,
    /// Transactions.
    Transactions,
}

impl Scope {
    /// The `access` member that lists the accounts of this service.
    pub fn member(self) -> &'static str {
        match self {
            Scope::Accounts => "accounts",
            Scope::Balances => "balances",
            Scope::Transactions => "transactions",
        }
    }
}

const LISTS: [&str; 3] = ["accounts", "balances", "transactions"];
/// The members of an account reference both specs know.
const REFERENCE_MEMBERS: [&str; 6] = [
    "iban",
    "bban",
    "bankgiroNumber",
    "plusgiroNumber",
    "currency",
    "maskedPan",
];

fn shape(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Checks `access` against the bank's `ConsentAccess` schema: an object whose
/// `accounts`/`balances`/`transactions` are arrays of account references (each naming an
/// `iban` or `bban`), and (Swedbank) `availableAccounts`/`allPsd2` the string `allAccounts`.
/// The error names the member and the shape found, never the value.
pub fn validate(bank: Bank, access: &Value) -> Result<(), ApiError> {
    let Some(obj) = access.as_object() else {
        return Err(ApiError::format(format!(
            "access must be an object, not {}.",
            shape(access)
        )));
    };
    for (key, value) in obj {
        match key.as_str() {
            k if LISTS.contains(&k) => validate_list(k, value)?,
            "availableAccounts" | "allPsd2" if bank == Bank::Swedbank => {
                if value.as_str() != Some("allAccounts") {
                    return Err(ApiError::format(format!(
                        "access.{key} must be \"allAccounts\"."
                    )));
                }
            }
            _ => {
                return Err(ApiError::format(format!(
                    "access has an unknown member ({} characters).",
                    key.chars().count()
                )));
            }
        }
    }
    Ok(())
}

fn validate_list(key: &str, value: &Value) -> Result<(), ApiError> {
    let Some(items) = value.as_array() else {
        return Err(ApiError::format(format!(
            "access.{key} must be an array of account references, not {}.",
            shape(value)
        )));
    };
    for (i, item) in items.iter().enumerate() {
        let Some(r) = item.as_object() else {
            return Err(ApiError::format(format!(
                "access.{key}[{i}] must be an account reference object, not {}.",
                shape(item)
            )));
        };
        for (member, v) in r {
            if !REFERENCE_MEMBERS.contains(&member.as_str()) {
                return Err(ApiError::format(format!(
                    "access.{key}[{i}] has an unknown member ({} characters).",
                    member.chars().count()
                )));
            }
            if !v.is_string() {
                return Err(ApiError::format(format!(
                    "access.{key}[{i}].{member} must be a string, not {}.",
                    shape(v)
                )));
            }
        }
        if !r.contains_key("iban") && !r.contains_key("bban") {
            return Err(ApiError::format(format!(
                "access.{key}[{i}] names no account (iban or bban)."
            )));
        }
    }
    Ok(())
}

fn lists_account(list: Option<&Value>, account: &Account) -> bool {
    list.and_then(Value::as_array).is_some_and(|a| {
        a.iter().any(|r| {
            let is = |field: &str, mine: Option<&String>| {
                r.get(field)
                    .and_then(Value::as_str)
                    .is_some_and(|v| Some(v) == mine.map(String::as_str))
            };
            is("iban", account.iban.as_ref()) || is("bban", account.bban.as_ref())
        })
    })
}

fn has_lists(access: &Value) -> bool {
    LISTS
        .iter()
        .filter_map(|k| access.get(*k))
        .any(|v| v.as_array().is_some_and(|a| !a.is_empty()))
}

/// Whether a consent's `access` lets `scope` reach `account`:
/// - `allPsd2` (and an access without account lists, a bank-offered consent): everything;
/// - `availableAccounts`: the account list and details only;
/// - otherwise the account must be listed under the service's member (`accounts` also
///   covers the accounts listed under `balances` or `transactions`).
pub fn allows(access: &Value, account: &Account, scope: Scope) -> bool {
    if access.get("allPsd2").is_some() {
        return true;
    }
    if !has_lists(access) {
        return access.get("availableAccounts").is_none() || scope == Scope::Accounts;
    }
    match scope {
        Scope::Accounts => LISTS.iter().any(|k| lists_account(access.get(*k), account)),
        other => lists_account(access.get(other.member()), account),
    }
}

/// Whether `access` reaches `account` at all (for any service).
pub fn covers(access: &Value, account: &Account) -> bool {
    allows(access, account, Scope::Accounts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn spec_violations_are_refused_with_the_member_named() {
        for (bad, field) in [
            (json!({"balances": false}), "access.balances"),
            (json!({"transactions": null}), "access.transactions"),
            (json!({"accounts": [{}]}), "access.accounts[0]"),
            (json!({"accounts": ["SE12"]}), "access.accounts[0]"),
            (
                json!({"accounts": [{"iban": 5}]}),
                "access.accounts[0].iban",
            ),
            (json!([]), "access"),
        ] {
            let err = validate(Bank::OpenPayments, &bad).unwrap_err();
            assert_eq!(err.code, "FORMAT_ERROR");
            assert!(err.message.contains(field), "{bad}: {}", err.message);
        }
        assert!(validate(Bank::OpenPayments, &json!({"allPsd2": "allAccounts"})).is_err());
        assert!(validate(Bank::Swedbank, &json!({"allPsd2": "allAccounts"})).is_ok());
        assert!(validate(Bank::Swedbank, &json!({"availableAccounts": true})).is_err());
        assert!(validate(Bank::OpenPayments, &json!({})).is_ok());
        assert!(validate(Bank::OpenPayments, &json!({"accounts": [], "balances": []})).is_ok());
    }
}
