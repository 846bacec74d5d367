//! `cargo xtask diff --bank berlingroup --new FILE` on the project's own Berlin Group spec: a
//! copy with one response field removed is reported in one line, as breaking, and marked as
//! touching the adapter (the field is listed in `specs/berlingroup/adapter-usage.toml`).

#![allow(clippy::unwrap_used)] // tests may unwrap (team rules)

use psd2_specdiff::{self as diff, ChangeKind, DiffArgs, Format, Verdict, render};
use serde_json::Value;
use std::path::Path;

fn bank_spec() -> Value {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/berlingroup/berlingroup.yaml");
    serde_yaml_ng::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn berlingroup_response_field_removed_is_breaking_for_the_adapter() {
    let mut new = bank_spec();
    let removed = new["components"]["schemas"]["Transaction"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("bookingDate");
    assert!(removed.is_some(), "the spec's Transaction has bookingDate");
    let tmp = tempfile::tempdir().unwrap();
    let new_path = tmp.path().join("berlingroup-next.json");
    std::fs::write(&new_path, serde_json::to_string_pretty(&new).unwrap()).unwrap();

    let report = diff::execute(&DiffArgs {
        bank: Some("berlingroup".into()),
        old: None,
        new: new_path,
        format: Format::Text,
        specs_dir: None,
    })
    .unwrap();
    let text = render::text(&report);
    println!("{text}");

    assert_eq!(report.changes.len(), 1, "{text}");
    let change = &report.changes[0];
    assert_eq!(change.kind, ChangeKind::FieldRemoved, "{text}");
    assert_eq!(change.verdict, Verdict::Breaking, "{text}");
    assert!(report.is_breaking());
    assert_eq!(diff::exit_code(&report), 1);
    assert_eq!(
        change.field.as_deref(),
        Some("Transaction.bookingDate"),
        "{text}"
    );
    assert!(change.adapter, "{text}");
    // Transaction is in the 200 bodies of both transaction reads of the spec.
    assert_eq!(
        change.operation_ids,
        ["getTransactionList", "getTransactionDetails"],
        "{text}"
    );

    let breaking: Vec<&str> = text.lines().filter(|l| l.starts_with("BREAKING")).collect();
    assert_eq!(breaking.len(), 1, "{text}");
    assert!(breaking[0].contains("[adapter]"), "{text}");
    assert!(breaking[0].contains("Transaction.bookingDate"), "{text}");
    assert!(
        text.contains("1 breaking (1 touching adapter code)"),
        "{text}"
    );
    assert!(
        text.lines().count() <= 10,
        "the report stays a few lines: {text}"
    );
    assert!(report.drift.failed.is_none(), "{:?}", report.drift.failed);
}

#[test]
fn berlingroup_spec_against_itself_reports_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let same = tmp.path().join("berlingroup-same.json");
    std::fs::write(&same, serde_json::to_string(&bank_spec()).unwrap()).unwrap();
    let report = diff::execute(&DiffArgs {
        bank: Some("berlingroup".into()),
        old: None,
        new: same,
        format: Format::Text,
        specs_dir: None,
    })
    .unwrap();
    assert!(report.changes.is_empty(), "{}", render::text(&report));
    assert_eq!(diff::exit_code(&report), 0);
}
