//! The differ on pairs of small documents: one change each, with a snapshot of the report,
//! the verdict and the exit code.

#![allow(clippy::unwrap_used)] // tests may unwrap (team rules)

use psd2_specdiff::{self as diff, ChangeKind, DiffArgs, Format, Report, Verdict, render};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/diff")
}

fn args(old: &str, new: &str) -> DiffArgs {
    DiffArgs {
        bank: None,
        old: Some(fixtures().join(old)),
        new: fixtures().join(new),
        format: Format::Text,
        specs_dir: None,
    }
}

fn diff_base(case: &str) -> Report {
    diff::execute(&args("base.yaml", &format!("{case}.yaml"))).unwrap()
}

/// Runs one case: snapshot, verdict, exit code, and the one expected kind of change.
fn check(case: &str, breaking: bool, kind: ChangeKind, expected_changes: usize) {
    let report = diff_base(case);
    insta::assert_snapshot!(case, render::text(&report));
    assert_eq!(report.is_breaking(), breaking, "{case}: verdict");
    assert_eq!(
        diff::exit_code(&report),
        u8::from(breaking),
        "{case}: exit code"
    );
    assert_eq!(
        report.changes.len(),
        expected_changes,
        "{case}: {:#?}",
        report.changes
    );
    let expected_verdict = if breaking {
        Verdict::Breaking
    } else {
        Verdict::Compatible
    };
    assert!(
        report
            .changes
            .iter()
            .any(|f| f.kind == kind && f.verdict == expected_verdict),
        "{case}: no {kind:?} finding with verdict {expected_verdict:?}: {:#?}",
        report.changes
    );
    assert!(
        report.drift.failed.is_none(),
        "{case}: drift failed: {:?}",
        report.drift.failed
    );
}

macro_rules! case {
    ($test:ident, $file:literal, breaking, $kind:ident) => {
        #[test]
        fn $test() {
            check($file, true, ChangeKind::$kind, 1);
        }
    };
    ($test:ident, $file:literal, compatible, $kind:ident) => {
        #[test]
        fn $test() {
            check($file, false, ChangeKind::$kind, 1);
        }
    };
}

case!(
    operation_removed,
    "operation-removed",
    breaking,
    OperationRemoved
);
case!(path_changed, "path-changed", breaking, OperationMoved);
case!(
    parameter_added_required,
    "parameter-added-required",
    breaking,
    ParameterAdded
);
case!(
    parameter_made_required,
    "parameter-made-required",
    breaking,
    ParameterRequirement
);
case!(
    parameter_type_changed,
    "parameter-type-changed",
    breaking,
    TypeChanged
);
case!(
    field_type_changed,
    "field-type-changed",
    breaking,
    TypeChanged
);
case!(
    response_enum_value_removed,
    "response-enum-value-removed",
    breaking,
    EnumValueRemoved
);
case!(
    request_enum_value_added,
    "request-enum-value-added",
    breaking,
    EnumValueAdded
);
case!(
    request_enum_value_removed,
    "request-enum-value-removed",
    breaking,
    EnumValueRemoved
);
case!(
    response_field_removed,
    "response-field-removed",
    breaking,
    FieldRemoved
);
case!(
    response_field_made_optional,
    "response-field-made-optional",
    breaking,
    FieldRequirement
);
case!(
    request_field_made_required,
    "request-field-made-required",
    breaking,
    FieldRequirement
);
case!(
    request_field_added_required,
    "request-field-added-required",
    breaking,
    FieldAdded
);
case!(
    success_response_type_changed,
    "success-response-type-changed",
    breaking,
    SuccessResponseType
);
case!(server_changed, "server-changed", breaking, ServerChanged);
case!(
    security_scheme_changed,
    "security-scheme-changed",
    breaking,
    SecurityChanged
);
case!(
    operation_added,
    "operation-added",
    compatible,
    OperationAdded
);
case!(
    optional_parameter_added,
    "optional-parameter-added",
    compatible,
    ParameterAdded
);
case!(
    optional_request_field_added,
    "optional-request-field-added",
    compatible,
    FieldAdded
);
case!(
    response_field_added,
    "response-field-added",
    compatible,
    FieldAdded
);
case!(
    response_enum_value_added,
    "response-enum-value-added",
    compatible,
    EnumValueAdded
);

#[test]
fn error_bodies_are_summarised_and_typed_changes_are_reviewed() {
    // ErrorResponse is used by three operations' error responses. Losing `message` changes the
    // generated error type (a line to review per operation); gaining an optional field does not
    // (one compatible summary line per operation).
    check(
        "error-response-changed",
        false,
        ChangeKind::ErrorResponse,
        6,
    );
    let report = diff_base("error-response-changed");
    let review: Vec<_> = report
        .changes
        .iter()
        .filter(|f| f.verdict == Verdict::Review)
        .map(|f| (f.kind, f.field.as_deref()))
        .collect();
    assert_eq!(
        review,
        [(ChangeKind::FieldRemoved, Some("ErrorResponse.message")); 3]
    );
}

#[test]
fn a_document_against_itself_reports_nothing() {
    let report = diff_base("base");
    assert!(report.changes.is_empty(), "{:#?}", report.changes);
    assert_eq!(diff::exit_code(&report), 0);
}

#[test]
fn media_types_the_generator_drops_are_no_change() {
    // normalize keeps the JSON media type only, and the diff sees what the generator sees.
    let report = diff_base("media-type-added");
    assert!(report.changes.is_empty(), "{:#?}", report.changes);
}

#[test]
fn drift_panics_are_caught_and_the_builtin_checks_still_run() {
    // drift 0.2 asserts that both sides have the same media types; on raw (unnormalized)
    // documents that panics. The diff must survive it and still report the field change.
    let load = |name: &str| -> serde_json::Value {
        let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
        serde_yaml_ng::from_str(&text).unwrap()
    };
    let old = load("base.yaml");
    let mut new = load("media-type-added.yaml");
    new["components"]["schemas"]["Account"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("iban");
    let report = diff::compare(
        &old,
        &new,
        &diff::AdapterUsage::default(),
        "old".into(),
        "new".into(),
    );
    let failed = report.drift.failed.clone().unwrap_or_default();
    assert!(failed.starts_with("drift panicked"), "{failed:?}");
    let breaking: Vec<_> = report
        .changes
        .iter()
        .filter(|f| f.verdict == Verdict::Breaking)
        .collect();
    assert_eq!(breaking.len(), 1, "{:#?}", report.changes);
    assert_eq!(breaking[0].field.as_deref(), Some("Account.iban"));
    assert!(render::text(&report).contains("drift: not used for this pair (drift panicked"));
}

#[test]
fn swagger2_and_openapi3_forms_of_one_api_compare_through_the_upgrade() {
    // base.swagger.json is base.yaml written as Swagger 2.0. The only real difference: Swagger
    // 2.0 cannot express an HTTP bearer scheme, so it declares an Authorization API key.
    let report = diff::execute(&args("base.swagger.json", "base.yaml")).unwrap();
    insta::assert_snapshot!("swagger2-vs-openapi3", render::text(&report));
    assert_eq!(report.changes.len(), 1, "{:#?}", report.changes);
    assert_eq!(report.changes[0].kind, ChangeKind::SecurityChanged);
    assert_eq!(report.changes[0].location, "security scheme bearer");

    let report = diff::execute(&args("base.swagger.json", "response-field-removed.yaml")).unwrap();
    let fields: Vec<_> = report
        .changes
        .iter()
        .filter_map(|f| f.field.clone())
        .collect();
    assert_eq!(fields, ["Account.iban"]);
}

#[test]
fn json_format_carries_the_same_findings() {
    let report = diff_base("response-field-made-optional");
    let json = render::json(&report);
    insta::assert_snapshot!("response-field-made-optional-json", json);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["breaking"], true);
    assert_eq!(value["summary"]["breaking"], 1);
    let change = &value["changes"][0];
    assert_eq!(change["verdict"], "breaking");
    assert_eq!(change["kind"], "field_requirement");
    assert_eq!(change["field"], "Account.currency");
    assert_eq!(change["old"], "required");
    assert_eq!(change["new"], "optional");
}

/// A bank folder in a temporary `specs/` dir, built from the fixtures.
fn temp_bank(usage: &str) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("fixturebank");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("bank.toml"),
        "[bank]\nname = \"fixturebank\"\ncrate = \"psd2-raw-fixturebank\"\ndisplay_name = \"Fixture\"\nspec = \"spec.yaml\"\n\n[generate]\ndrop_headers = [\"PSU-ID\"]\n",
    )
    .unwrap();
    std::fs::copy(fixtures().join("base.yaml"), dir.join("spec.yaml")).unwrap();
    std::fs::write(
        dir.join("overlay.yaml"),
        "overlay: 1.0.0\ninfo:\n  title: fixture fixups\n  version: 1.0.0\nactions:\n  - target: $.info\n    description: a fixup that must keep applying to new versions\n    update:\n      description: patched by the overlay\n",
    )
    .unwrap();
    std::fs::write(dir.join("adapter-usage.toml"), usage).unwrap();
    tmp
}

fn bank_args(tmp: &tempfile::TempDir, new: PathBuf) -> DiffArgs {
    DiffArgs {
        bank: Some("fixturebank".into()),
        old: None,
        new,
        format: Format::Text,
        specs_dir: Some(tmp.path().to_path_buf()),
    }
}

#[test]
fn bank_mode_marks_what_the_adapter_uses() {
    let tmp = temp_bank("operations = [\"getAccountList\"]\nfields = [\"Account.iban\"]\n");
    // Both documents get the bank's overlay and drop_headers: PSU-ID is dropped on both sides.
    let mut new: serde_json::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(fixtures().join("base.yaml")).unwrap())
            .unwrap();
    new["paths"]["/v1/consents"]["post"]["parameters"][1]["required"] = true.into();
    let accounts = &mut new["paths"]["/v1/accounts"]["get"]["parameters"][1];
    accounts["required"] = true.into();
    new["components"]["schemas"]["Account"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("iban");
    new["components"]["schemas"]["Account"]["properties"]
        .as_object_mut()
        .unwrap()
        .remove("resourceId");
    let new_path = tmp.path().join("new.json");
    std::fs::write(&new_path, serde_json::to_string_pretty(&new).unwrap()).unwrap();

    let report = diff::execute(&bank_args(&tmp, new_path)).unwrap();
    let text = render::text(&report);
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("BREAKING")).collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("[adapter]") && l.contains("parameter query withBalance")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("[adapter]") && l.contains("Account.iban")),
        "{text}"
    );
    assert!(
        lines
            .iter()
            .any(|l| !l.contains("[adapter]") && l.contains("Account.resourceId")),
        "{text}"
    );
    assert!(
        !text.contains("PSU-ID"),
        "dropped header must not be compared: {text}"
    );
    assert!(
        text.contains("3 breaking (2 touching adapter code)"),
        "{text}"
    );
}

#[test]
fn bank_mode_reports_an_overlay_that_no_longer_applies() {
    let tmp = temp_bank("");
    let mut new: serde_json::Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(fixtures().join("base.yaml")).unwrap())
            .unwrap();
    new.as_object_mut().unwrap().remove("info");
    new["info"] = serde_json::json!({"title": "t", "version": "2"});
    let new_path = tmp.path().join("new.json");
    std::fs::write(&new_path, serde_json::to_string(&new).unwrap()).unwrap();
    // `$.info` still matches here; a target that matches nothing must fail clearly.
    std::fs::write(
        tmp.path().join("fixturebank/overlay.yaml"),
        "overlay: 1.0.0\ninfo:\n  title: t\n  version: 1.0.0\nactions:\n  - target: $.paths['/v1/accounts'].get\n    update:\n      summary: list\n",
    )
    .unwrap();
    let moved = fixtures().join("path-changed.yaml");
    let err = diff::execute(&bank_args(&tmp, moved))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no longer matches anything"), "{err}");
    assert!(diff::execute(&bank_args(&tmp, new_path)).is_ok());
}

#[test]
fn unknown_bank_lists_the_known_ones() {
    let tmp = temp_bank("");
    let mut a = bank_args(&tmp, fixtures().join("base.yaml"));
    a.bank = Some("nordea".into());
    let err = diff::execute(&a).unwrap_err().to_string();
    assert_eq!(err, "unknown bank `nordea` (known: fixturebank)");
}

#[test]
fn malformed_adapter_usage_is_a_clear_error() {
    let tmp = temp_bank("operation = [\"x\"]\n");
    let err = diff::execute(&bank_args(&tmp, fixtures().join("base.yaml")))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("adapter-usage.toml: invalid adapter usage file: unknown field `operation`"),
        "{err}"
    );
}

/// Runs the command as `cargo xtask diff ARGS` does: exit code, stdout, stderr.
fn xtask(args: &[&str]) -> (i32, String, String) {
    use clap::Parser;
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        diff: DiffArgs,
    }
    let cli = Cli::try_parse_from(std::iter::once("diff").chain(args.iter().copied())).unwrap();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = diff::run_to(&cli.diff, &mut out, &mut err);
    (
        i32::from(code),
        String::from_utf8_lossy(&out).to_string(),
        String::from_utf8_lossy(&err).to_string(),
    )
}

#[test]
fn exit_codes_of_the_command() {
    let f = |n: &str| fixtures().join(n).display().to_string();
    let (code, out, _) = xtask(&[
        "--old",
        &f("base.yaml"),
        "--new",
        &f("response-field-added.yaml"),
    ]);
    assert_eq!(code, 0, "{out}");
    let (code, out, _) = xtask(&[
        "--old",
        &f("base.yaml"),
        "--new",
        &f("response-field-removed.yaml"),
        "--format",
        "json",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        serde_json::from_str::<serde_json::Value>(&out).is_ok(),
        "{out}"
    );

    let (code, out, err) = xtask(&["--old", &f("missing.yaml"), "--new", &f("base.yaml")]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("missing.yaml"),
        "{err}"
    );

    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.yaml");
    std::fs::write(&bad, "openapi: [3.0\n").unwrap();
    let (code, _, err) = xtask(&["--old", bad.to_str().unwrap(), "--new", &f("base.yaml")]);
    assert_eq!(code, 2);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("invalid YAML"), "{err}");

    let (code, _, err) = xtask(&["--bank", "no-such-bank", "--new", &f("base.yaml")]);
    assert_eq!(code, 2);
    assert!(
        err.starts_with("error: unknown bank `no-such-bank` (known: "),
        "{err}"
    );
}

case!(
    response_field_made_nullable,
    "response-field-made-nullable",
    breaking,
    Nullability
);

#[test]
fn nullability_survives_the_decimal_wrapper() {
    // normalize turns `{type: number, nullable: true}` into `{allOf: [JsonDecimal], nullable:
    // true}`; the wrapper's nullability must still be compared.
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixtures().join("field-type-changed.yaml")).unwrap();
    let mut doc: serde_json::Value = serde_yaml_ng::from_str(&text).unwrap();
    doc["components"]["schemas"]["Amount"]["properties"]["amount"]["nullable"] = true.into();
    let new = tmp.path().join("nullable-amount.json");
    std::fs::write(&new, serde_json::to_string(&doc).unwrap()).unwrap();
    let mut a = args("field-type-changed.yaml", "base.yaml");
    a.new = new;
    let report = diff::execute(&a).unwrap();
    assert_eq!(report.changes.len(), 1, "{:#?}", report.changes);
    let f = &report.changes[0];
    assert_eq!(
        (f.kind, f.verdict),
        (ChangeKind::Nullability, Verdict::Breaking)
    );
    assert_eq!(f.field.as_deref(), Some("Amount.amount"));
}

case!(
    operation_renamed,
    "operation-renamed",
    breaking,
    OperationRenamed
);
case!(
    path_parameter_renamed,
    "path-parameter-renamed",
    breaking,
    ParameterRenamed
);
