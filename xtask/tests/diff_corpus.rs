//! The real corpus: Open Payments' NextGenPSD2 1.3.3 derivative against Berlin Group 1.3.12.
//! Read from `../shared/realspecs` (relative to the repository root); skipped when absent.

#![allow(clippy::unwrap_used)] // tests may unwrap (team rules)

use std::path::PathBuf;
use std::time::{Duration, Instant};
use xtask::diff::{self, ChangeKind, DiffArgs, Format, Verdict};

fn realspecs() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/realspecs");
    if dir.join("openpayments-nextgenpsd2-1.3.3.yaml").is_file()
        && dir.join("berlin-group-psd2-api-1.3.12.yaml").is_file()
    {
        Some(dir)
    } else {
        println!("skipped: {} is absent", dir.display());
        None
    }
}

#[test]
fn openpayments_against_berlin_group_reports_the_shared_operations() {
    let Some(dir) = realspecs() else { return };
    let args = DiffArgs {
        bank: None,
        old: Some(dir.join("openpayments-nextgenpsd2-1.3.3.yaml")),
        new: dir.join("berlin-group-psd2-api-1.3.12.yaml"),
        format: Format::Text,
        specs_dir: None,
    };
    let start = Instant::now();
    let report = diff::execute(&args).unwrap();
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(30), "took {elapsed:?}");
    println!("{}", diff::render::text(&report));

    assert!(!report.changes.is_empty());
    assert!(report.is_breaking());
    assert_eq!(diff::exit_code(&report), 1);
    assert!(report.drift.failed.is_none(), "{:?}", report.drift.failed);
    assert!(report.drift.reported > 0);

    // Operations both documents have (same operationId) are compared field by field, not
    // just listed as removed and added.
    let shared = [
        "getAccountList",
        "getBalances",
        "getTransactionList",
        "createConsent",
    ];
    for id in shared {
        let deep = report.changes.iter().any(|f| {
            !matches!(
                f.kind,
                ChangeKind::OperationAdded | ChangeKind::OperationRemoved
            ) && f
                .operations
                .iter()
                .any(|o| o.starts_with(&format!("{id} (")))
        });
        assert!(deep, "no change reported inside shared operation {id}");
    }
    // Open Payments' own header disappears from the shared operations.
    assert!(report.changes.iter().any(|f| f.verdict == Verdict::Breaking
        && f.kind == ChangeKind::ParameterRemoved
        && f.location == "parameter header X-BicFi"));
    // Open Payments-only operations are reported as removed.
    assert!(
        report
            .changes
            .iter()
            .any(|f| f.kind == ChangeKind::OperationRemoved
                && f.operations.iter().any(|o| o.starts_with("getASPSPList")))
    );
}
