//! The real documents in `../shared/realspecs/`: each against itself reports nothing, with the
//! generated clients' surfaces taking part.

#![allow(clippy::unwrap_used)] // tests may unwrap (team rules)

use psd2_specdiff::{AdapterUsage, compare_with, prepare_inputs, render};
use std::path::PathBuf;

#[test]
fn every_real_document_against_itself_reports_nothing() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/realspecs");
    if !dir.is_dir() {
        psd2_test_support::oracle_missing(
            "../shared/realspecs",
            "the real-document corpus is absent",
        );
        return;
    }
    let mut docs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .collect();
    docs.sort();
    assert!(docs.len() >= 4, "{docs:?}");
    for doc in docs {
        let inputs = prepare_inputs(&psd2_codegen::spec_crate_spec(&doc, &[])).unwrap();
        let surface = inputs
            .surface
            .as_ref()
            .unwrap_or_else(|e| panic!("{}: {e}", doc.display()));
        // The surface text is read back as a model: operations with their types, structs
        // with their fields (a format change in the generator shows here first).
        assert!(!surface.ops.is_empty(), "{}: no operations", doc.display());
        assert!(!surface.structs.is_empty(), "{}: no structs", doc.display());
        assert!(
            surface
                .ops
                .values()
                .all(|op| !op.ok.is_empty() && !op.err.is_empty() && !op.id.is_empty()),
            "{}: an operation without its types",
            doc.display()
        );
        assert!(
            surface.structs.values().any(|s| !s.fields.is_empty()),
            "{}: no struct fields",
            doc.display()
        );
        let report = compare_with(
            &inputs.document,
            &inputs.document,
            Some((surface, surface)),
            &AdapterUsage::default(),
            ("a".into(), "a".into()),
        );
        assert!(
            report.changes.is_empty(),
            "{}:\n{}",
            doc.display(),
            render::text(&report)
        );
    }
}
