//! Changes judged by what the generated client does, each on a pair of small documents of our
//! own (`tests/fixtures/typed/`): the expected verdicts and messages follow the rule that a
//! change breaks when the regenerated client's public types change for callers, when a
//! response the new server sends no longer parses, or when a request is now refused.

#![allow(clippy::unwrap_used)] // tests may unwrap (team rules)

use psd2_specdiff::{self as diff, ChangeKind, DiffArgs, Finding, Format, Report, Verdict, render};
use std::path::{Path, PathBuf};

/// A finding as `(field, old, new)`.
type Shown<'r> = (Option<&'r str>, Option<&'r str>, Option<&'r str>);

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/typed")
}

fn diff_base(case: &str) -> Report {
    let args = DiffArgs {
        bank: None,
        old: Some(fixtures().join("base.yaml")),
        new: fixtures().join(format!("{case}.yaml")),
        format: Format::Text,
        specs_dir: None,
    };
    let report = diff::execute(&args).unwrap();
    assert_eq!(report.surface.failed, None, "{case}: surfaces not rendered");
    report
}

fn only(report: &Report, kind: ChangeKind) -> Vec<&Finding> {
    report.changes.iter().filter(|f| f.kind == kind).collect()
}

#[test]
fn a_document_against_itself_reports_nothing() {
    let report = diff_base("base");
    assert!(report.changes.is_empty(), "{:#?}", report.changes);
}

#[test]
fn response_field_made_required_changes_option_to_plain_type() {
    let report = diff_base("response-field-made-required");
    let text = render::text(&report);
    assert_eq!(report.changes.len(), 1, "{text}");
    let f = &report.changes[0];
    assert_eq!(
        (f.kind, f.verdict),
        (ChangeKind::FieldRequirement, Verdict::Breaking),
        "{text}"
    );
    assert_eq!(f.field.as_deref(), Some("scaStatusResponse.scaStatus"));
    assert!(
        f.reason
            .starts_with("field `scaStatus`: `Option<ScaStatus>` → `ScaStatus`"),
        "{text}"
    );
    assert_eq!(diff::exit_code(&report), 1);
}

#[test]
fn ref_and_inline_switches_rename_the_generated_types() {
    let report = diff_base("ref-inlined");
    let text = render::text(&report);
    let renamed: Vec<(String, Option<String>, Option<String>)> = report
        .changes
        .iter()
        .filter(|f| f.kind == ChangeKind::SchemaRenamed)
        .inspect(|f| assert_eq!(f.verdict, Verdict::Breaking, "{text}"))
        .map(|f| (f.location.clone(), f.old.clone(), f.new.clone()))
        .collect();
    let s = |v: &str| Some(v.to_string());
    assert_eq!(
        renamed,
        [
            (
                "parameter path account-id".to_string(),
                s("AccountId"),
                s("String")
            ),
            (
                "response 200 field Statement.amount".to_string(),
                s("Amount"),
                s("StatementAmount")
            ),
            (
                "response 200 field Statement.currency".to_string(),
                s("String"),
                s("CurrencyCode")
            ),
        ],
        "{text}"
    );
    // Only the inlined parameter's constraint goes (it was on the named schema), and that
    // accepts more: compatible.
    let rest: Vec<_> = report
        .changes
        .iter()
        .filter(|f| f.kind != ChangeKind::SchemaRenamed)
        .collect();
    assert_eq!(rest.len(), 1, "{text}");
    assert_eq!(
        (rest[0].kind, rest[0].verdict),
        (ChangeKind::Constraint, Verdict::Compatible)
    );
}

#[test]
fn changes_inside_variants_are_kept_when_a_variant_is_added() {
    let report = diff_base("variant-added-and-changed");
    let text = render::text(&report);
    let variants = only(&report, ChangeKind::VariantsChanged);
    assert_eq!(variants.len(), 1, "{text}");
    assert_eq!(variants[0].verdict, Verdict::Breaking);
    assert!(
        variants[0].reason.contains("new variant(s) Pending"),
        "{text}"
    );
    let inner = only(&report, ChangeKind::TypeChanged);
    assert_eq!(inner.len(), 1, "{text}");
    assert_eq!(
        inner[0].field.as_deref(),
        Some("Accepted.paymentId"),
        "{text}"
    );
    assert_eq!(inner[0].verdict, Verdict::Breaking);
    assert_eq!(
        report.count(Verdict::Review),
        0,
        "drift's finding is covered: {text}"
    );
}

#[test]
fn tighter_request_constraints_break() {
    let report = diff_base("request-constraints-tightened");
    let text = render::text(&report);
    let c = only(&report, ChangeKind::Constraint);
    let got: Vec<(Shown<'_>, Verdict)> = c
        .iter()
        .map(|f| {
            (
                (f.field.as_deref(), f.old.as_deref(), f.new.as_deref()),
                f.verdict,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                (
                    Some("PaymentRequest.creditorIban"),
                    None,
                    Some("pattern ^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$"),
                ),
                Verdict::Breaking
            ),
            (
                (
                    Some("PaymentRequest.creditorName"),
                    Some("maxLength 70"),
                    Some("maxLength 35"),
                ),
                Verdict::Breaking
            ),
        ],
        "{text}"
    );
    // A pattern on a plain string field gives it a validating type of its own.
    let renamed = only(&report, ChangeKind::SchemaRenamed);
    assert_eq!(renamed.len(), 1, "{text}");
    assert_eq!(
        renamed[0].new.as_deref(),
        Some("PaymentRequestCreditorIban")
    );
}

#[test]
fn typed_error_body_changes_are_reported_for_review() {
    let report = diff_base("error-body-typed");
    let text = render::text(&report);
    assert_eq!(report.count(Verdict::Compatible), 0, "{text}");
    let review: Vec<(ChangeKind, Shown<'_>)> = report
        .changes
        .iter()
        .filter(|f| f.verdict == Verdict::Review)
        .map(|f| {
            (
                f.kind,
                (f.field.as_deref(), f.old.as_deref(), f.new.as_deref()),
            )
        })
        .collect();
    assert_eq!(
        review,
        [
            (
                ChangeKind::SchemaRenamed,
                (Some("Error400.code"), Some("String"), Some("MessageCode"))
            ),
            (
                ChangeKind::FieldRequirement,
                (Some("Error400.text"), Some("required"), Some("optional"))
            ),
        ],
        "{text}"
    );
    // Four operations share the error type; every line names them all in JSON.
    let json: serde_json::Value = serde_json::from_str(&render::json(&report)).unwrap();
    assert_eq!(
        json["changes"][0]["operations"].as_array().unwrap().len(),
        4
    );
    assert!(
        text.contains("(+1 more; `--format json` lists them all)"),
        "{text}"
    );
}

#[test]
fn a_renamed_error_type_breaks_code_naming_it() {
    let report = diff_base("error-type-renamed");
    let text = render::text(&report);
    assert_eq!(report.changes.len(), 1, "{text}");
    let f = &report.changes[0];
    assert_eq!(
        (f.kind, f.verdict),
        (ChangeKind::ErrorResponse, Verdict::Breaking)
    );
    assert_eq!(
        (f.old.as_deref(), f.new.as_deref()),
        (Some("Error400"), Some("ErrorBody400"))
    );
    assert_eq!(f.operations.len(), 4);
}

#[test]
fn response_objects_accept_new_fields_even_when_the_document_closes_them() {
    // The generator drops `additionalProperties: false` from everything a response carries, so
    // the old client parses responses with the new field: compatible, for a response-only
    // schema and for one a request uses too (the request side gains an optional field).
    for case in ["closed-response-field-added", "closed-shared-field-added"] {
        let report = diff_base(case);
        let text = render::text(&report);
        assert!(!report.is_breaking(), "{case}: {text}");
        assert!(
            !only(&report, ChangeKind::FieldAdded).is_empty(),
            "{case}: {text}"
        );
    }
}

#[test]
fn a_closed_response_object_gaining_a_field_breaks_old_clients() {
    // Compared without the generator's stages, a response object that refuses unknown fields
    // (`deny_unknown_fields` in the generated type) breaks on a new field.
    let load = |name: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
        serde_yaml_ng::from_str(&text).unwrap()
    };
    let (old, new) = (load("base.yaml"), load("closed-response-field-added.yaml"));
    let report = diff::compare(
        &old,
        &new,
        &diff::AdapterUsage::default(),
        "o".into(),
        "n".into(),
    );
    let text = render::text(&report);
    let added = only(&report, ChangeKind::FieldAdded);
    assert_eq!(added.len(), 1, "{text}");
    assert_eq!(added[0].verdict, Verdict::Breaking, "{text}");
    assert_eq!(added[0].field.as_deref(), Some("Statement.totalValue"));
    assert!(added[0].reason.contains("denies unknown fields"), "{text}");
}

#[test]
fn a_new_field_is_attributed_to_the_schema_the_new_document_uses() {
    let report = diff_base("schema-renamed-field-added");
    let text = render::text(&report);
    let renamed = only(&report, ChangeKind::SchemaRenamed);
    assert_eq!(renamed.len(), 1, "{text}");
    assert_eq!(
        (renamed[0].old.as_deref(), renamed[0].new.as_deref()),
        (Some("Amount"), Some("MonetaryAmount"))
    );
    let added = only(&report, ChangeKind::FieldAdded);
    assert_eq!(added.len(), 1, "{text}");
    assert_eq!(
        added[0].field.as_deref(),
        Some("MonetaryAmount.fee"),
        "{text}"
    );
    assert_eq!(added[0].location, "response 200 field MonetaryAmount.fee");
}

#[test]
fn a_request_field_made_optional_changes_the_struct_callers_build() {
    // The bank accepts more, but the generated request field turns from `T` into `Option<T>`:
    // code building the request type with a struct literal (as the adapters do) stops compiling.
    let report = diff_base("request-field-made-optional");
    let text = render::text(&report);
    assert_eq!(report.changes.len(), 1, "{text}");
    let f = &report.changes[0];
    assert_eq!(
        (f.kind, f.verdict),
        (ChangeKind::FieldRequirement, Verdict::Breaking)
    );
    assert_eq!(f.field.as_deref(), Some("PaymentRequest.creditorIban"));
    assert!(
        f.reason
            .starts_with("field `creditorIban`: `String` → `Option<String>`"),
        "{text}"
    );
}

#[test]
fn a_request_field_made_nullable_changes_the_struct_callers_build() {
    let report = diff_base("request-field-made-nullable");
    let text = render::text(&report);
    assert_eq!(report.changes.len(), 1, "{text}");
    let f = &report.changes[0];
    assert_eq!(
        (f.kind, f.verdict),
        (ChangeKind::Nullability, Verdict::Breaking)
    );
    assert!(
        f.reason
            .starts_with("field `creditorIban`: `String` → `Option<String>`"),
        "{text}"
    );
}
