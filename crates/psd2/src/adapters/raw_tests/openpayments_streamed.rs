//! The one-pass decode of a transaction list answer (`mapping::decode_mapped`) against its
//! oracle, the raw types' own decoding followed by `into_mapped_transactions`: the seed
//! answer with its members in every order, the forms and duplicates the raw types accept or
//! refuse, and every mutated answer of the bad-answer suite.

use psd2_raw_openpayments::types as raw;
use serde_json::{Value, json};

use super::openpayments_support::TRANSACTIONS;
use crate::adapters::openpayments::mapping::{self, MappingError, decode_mapped};
use crate::transaction::{Transaction, TransactionStatus};

#[allow(clippy::duplicate_mod)]
#[path = "../../../tests/bad_answers/mutate.rs"]
mod mutate;

type Entry = Result<Transaction, MappingError>;
/// `Err(())`: the body does not decode; `Ok(Err)`: the page fails; `Ok(Ok)`: its entries.
type Got = Result<Result<Vec<Entry>, MappingError>, ()>;

fn ours(text: &str, keep: fn(&Entry) -> bool) -> Got {
    let mut out = Vec::new();
    match decode_mapped(text, &mut out, keep, |e| e) {
        Err(_) => Err(()),
        Ok(Err(e)) => Ok(Err(e)),
        Ok(Ok(())) => Ok(Ok(out)),
    }
}

fn oracle(text: &str, keep: fn(&Entry) -> bool) -> Got {
    match serde_json::from_str::<raw::TransactionsResponse>(text) {
        Err(_) => Err(()),
        Ok(answer) => Ok(mapping::into_mapped_transactions(answer)
            .map(|(entries, _)| entries.filter(keep).collect())),
    }
}

fn all(_: &Entry) -> bool {
    true
}

fn booked_only(e: &Entry) -> bool {
    e.as_ref()
        .map_or(true, |t| t.status == TransactionStatus::Booked)
}

/// An object written with its members in the given order (duplicates allowed).
fn object(members: &[(&str, String)]) -> String {
    let inner: Vec<String> = members
        .iter()
        .map(|(k, v)| format!("{}:{v}", Value::from(*k)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

fn seed() -> Value {
    serde_json::from_str(TRANSACTIONS).unwrap()
}

/// The seed's members as text: the account, and the report's lists and links.
fn parts() -> (String, Vec<(&'static str, String)>) {
    let seed = seed();
    let report = &seed["transactions"];
    // The seed lists booked entries only: its first and last entries are also listed as
    // pending and bankgiro ones, so that all three lists take part.
    let booked = &report["booked"];
    let (first, last) = (booked[0].to_string(), booked[2].to_string());
    let lists = vec![
        ("booked", booked.to_string()),
        ("pending", format!("[{last},{first}]")),
        ("bankgiro", format!("[{first}]")),
        ("_links", report["_links"].to_string()),
    ];
    (seed["account"].to_string(), lists)
}

/// Bodies in every member order, with nulls, duplicates, array forms and stray members.
fn bodies() -> Vec<(String, String)> {
    let (account, lists) = parts();
    let mut out = Vec::new();
    let report_in = |order: &[usize]| -> String {
        let members: Vec<(&str, String)> = order.iter().map(|&i| lists[i].clone()).collect();
        object(&members)
    };
    let n = lists.len();
    let orders: Vec<Vec<usize>> = vec![
        (0..n).collect(),
        (0..n).rev().collect(),
        (1..n).chain([0]).collect(),
    ];
    for order in &orders {
        let report = report_in(order);
        out.push((
            format!("account first, lists {order:?}"),
            object(&[
                ("account", account.clone()),
                ("transactions", report.clone()),
            ]),
        ));
        out.push((
            format!("transactions first, lists {order:?}"),
            object(&[
                ("transactions", report.clone()),
                ("account", account.clone()),
            ]),
        ));
        out.push((
            format!("no account, lists {order:?}"),
            object(&[("transactions", report.clone())]),
        ));
    }
    let report = report_in(&(0..n).collect::<Vec<_>>());
    let bad_account = json!({"iban": "SE1234567890123456788", "currency": "sek!"}).to_string();
    let stray = json!({"x": [1, {"y": null}], "z": "t"}).to_string();
    let (booked, links) = (lists[0].1.clone(), lists[n - 1].1.clone());
    let cases: Vec<(&str, String)> = vec![
        (
            "null account",
            object(&[("account", "null".into()), ("transactions", report.clone())]),
        ),
        (
            "null transactions",
            object(&[
                ("account", account.clone()),
                ("transactions", "null".into()),
            ]),
        ),
        ("no transactions", object(&[("account", account.clone())])),
        ("empty object", "{}".into()),
        (
            "account that does not map, first",
            object(&[
                ("account", bad_account.clone()),
                ("transactions", report.clone()),
            ]),
        ),
        (
            "account that does not map, last",
            object(&[
                ("transactions", report.clone()),
                ("account", bad_account.clone()),
            ]),
        ),
        (
            "account twice",
            object(&[
                ("account", account.clone()),
                ("transactions", report.clone()),
                ("account", account.clone()),
            ]),
        ),
        (
            "transactions twice",
            object(&[
                ("account", account.clone()),
                ("transactions", report.clone()),
                ("transactions", report.clone()),
            ]),
        ),
        (
            "booked twice",
            object(&[
                ("account", account.clone()),
                (
                    "transactions",
                    object(&[("booked", booked.clone()), ("booked", booked.clone())]),
                ),
            ]),
        ),
        (
            "links twice",
            object(&[
                ("account", account.clone()),
                (
                    "transactions",
                    object(&[("_links", links.clone()), ("_links", links.clone())]),
                ),
            ]),
        ),
        (
            "null list",
            object(&[
                ("account", account.clone()),
                ("transactions", object(&[("booked", "null".into())])),
            ]),
        ),
        (
            "list as object",
            object(&[
                ("account", account.clone()),
                ("transactions", object(&[("pending", "{}".into())])),
            ]),
        ),
        (
            "stray members",
            object(&[
                ("stray", stray.clone()),
                ("account", account.clone()),
                (
                    "transactions",
                    object(&[("other", stray.clone()), ("booked", booked.clone())]),
                ),
                ("more", stray.clone()),
            ]),
        ),
        (
            "report as an array",
            object(&[
                ("account", account.clone()),
                ("transactions", format!("[[],{booked},null,[]]")),
            ]),
        ),
        ("answer as an array", format!("[{account},{report}]")),
        (
            "report not an object",
            object(&[("account", account.clone()), ("transactions", "7".into())]),
        ),
        (
            "trailing text",
            format!(
                "{} x",
                object(&[
                    ("account", account.clone()),
                    ("transactions", report.clone())
                ])
            ),
        ),
        (
            "cut off",
            object(&[
                ("account", account.clone()),
                ("transactions", report.clone()),
            ])[..40]
                .to_string(),
        ),
    ];
    out.extend(cases.into_iter().map(|(n, b)| (n.to_string(), b)));
    out
}

#[test]
fn decodes_and_maps_as_the_raw_types_and_their_mapping_do() {
    let mut pages = 0;
    for (name, body) in bodies() {
        for keep in [all, booked_only] {
            let want = oracle(&body, keep);
            assert_eq!(ours(&body, keep), want, "{name}");
            pages += usize::from(matches!(want, Ok(Ok(ref e)) if !e.is_empty()));
        }
    }
    // The comparison saw real pages, not only refusals.
    assert!(pages >= 20, "only {pages} pages with entries");
}

#[test]
fn agrees_with_the_oracle_on_every_mutated_answer() {
    let cases = mutate::cases(&seed());
    assert!(cases.len() > 100, "{} cases", cases.len());
    let (mut refused, mut decoded) = (0, 0);
    for case in cases {
        let Ok(text) = std::str::from_utf8(&case.body) else {
            continue;
        };
        let want = oracle(text, all);
        match &want {
            Err(()) => refused += 1,
            Ok(_) => decoded += 1,
        }
        assert_eq!(ours(text, all), want, "{}", case.name);
    }
    assert!(
        refused > 10 && decoded > 10,
        "{refused} refused, {decoded} decoded"
    );
}

#[test]
fn entries_come_booked_then_pending_then_bankgiro_whatever_the_body_order() {
    let (account, lists) = parts();
    let reversed: Vec<(&str, String)> = lists.iter().rev().cloned().collect();
    let body = object(&[("account", account), ("transactions", object(&reversed))]);
    let Ok(Ok(entries)) = ours(&body, all) else {
        panic!("the page decodes");
    };
    let rank = |e: &Entry| match e.as_ref().map(|t| &t.status) {
        Ok(TransactionStatus::Booked) => 0,
        Ok(TransactionStatus::Pending) => 1,
        _ => 2,
    };
    let ranks: Vec<u8> = entries.iter().map(rank).collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{ranks:?}");
    assert!(
        ranks.contains(&0) && ranks.contains(&1) && ranks.contains(&2),
        "{ranks:?}"
    );
}
