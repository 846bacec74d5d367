//! The report as text (one line per change) or JSON.

use super::model::{Finding, Report, Verdict};
use std::fmt::Write as _;

/// How many operation labels a line shows before `(+N more)`.
const MAX_OPS: usize = 3;

/// One line for one finding.
pub fn line(f: &Finding) -> String {
    let mut out = String::new();
    let _ = write!(out, "{:<10}", f.verdict.label());
    out.push_str(if f.adapter {
        " [adapter]"
    } else {
        "          "
    });
    out.push(' ');
    if f.operations.is_empty() {
        out.push_str("(document)");
    } else {
        let shown: Vec<&str> = f
            .operations
            .iter()
            .take(MAX_OPS)
            .map(String::as_str)
            .collect();
        out.push_str(&shown.join(", "));
        if f.operations.len() > MAX_OPS {
            let _ = write!(
                out,
                " (+{} more; `--format json` lists them all)",
                f.operations.len() - MAX_OPS
            );
        }
    }
    let _ = write!(out, ": {}", f.location);
    if f.old.is_some() || f.new.is_some() {
        let show = |s: &Option<String>| s.clone().unwrap_or_else(|| "(absent)".into());
        let _ = write!(out, ": {} → {}", show(&f.old), show(&f.new));
    }
    let _ = write!(out, " — {}", f.reason);
    out
}

/// The whole report as text.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "old: {}", report.old);
    let _ = writeln!(out, "new: {}", report.new);
    let _ = writeln!(
        out,
        "{} breaking ({} touching adapter code), {} to review, {} compatible",
        report.count(Verdict::Breaking),
        report.adapter_breaking(),
        report.count(Verdict::Review),
        report.count(Verdict::Compatible),
    );
    if !report.changes.is_empty() {
        out.push('\n');
    }
    for f in &report.changes {
        out.push_str(&line(f));
        out.push('\n');
    }
    let d = &report.drift;
    out.push('\n');
    match &d.failed {
        Some(why) => {
            let _ = writeln!(
                out,
                "drift: not used for this pair ({why}); built-in checks only"
            );
        }
        None => {
            let _ = writeln!(
                out,
                "drift: {} finding(s), {} also covered by the built-in checks, {} added",
                d.reported, d.covered, d.added
            );
        }
    }
    if let Some(why) = &report.surface.failed {
        let _ = writeln!(
            out,
            "surface: not used for this pair ({why}); type names judged from the documents only"
        );
    }
    let verdict = if report.is_breaking() {
        "verdict: BREAKING"
    } else {
        "verdict: compatible"
    };
    let _ = writeln!(out, "{verdict}");
    out
}

/// The whole report as pretty JSON.
pub fn json(report: &Report) -> String {
    let value = serde_json::json!({
        "old": report.old,
        "new": report.new,
        "breaking": report.is_breaking(),
        "summary": {
            "breaking": report.count(Verdict::Breaking),
            "breaking_adapter": report.adapter_breaking(),
            "review": report.count(Verdict::Review),
            "compatible": report.count(Verdict::Compatible),
        },
        "changes": report.changes,
        "drift": report.drift,
        "surface": report.surface,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ChangeKind, Direction, DriftStats, Source, SurfaceStats};

    fn finding(ops: usize) -> Finding {
        Finding {
            verdict: Verdict::Breaking,
            kind: ChangeKind::FieldRemoved,
            direction: Direction::Response,
            operations: (0..ops).map(|i| format!("op{i} (GET /x{i})")).collect(),
            operation_ids: Vec::new(),
            operation_routes: Vec::new(),
            location: "response 200 field A.b".into(),
            field: Some("A.b".into()),
            old: Some("optional string".into()),
            new: None,
            reason: "gone".into(),
            adapter: false,
            source: Source::Builtin,
            old_pointer: None,
            new_pointer: None,
        }
    }

    #[test]
    fn a_long_operation_list_says_where_to_see_it_all() {
        let long = line(&finding(5));
        assert!(
            long.contains("op0 (GET /x0), op1 (GET /x1), op2 (GET /x2) (+2 more; `--format json` lists them all)"),
            "{long}"
        );
        assert!(!line(&finding(3)).contains("more"));
    }

    #[test]
    fn a_surface_that_could_not_be_rendered_is_named_in_the_footer() {
        let report = Report {
            old: "a".into(),
            new: "b".into(),
            changes: vec![finding(1)],
            drift: DriftStats::default(),
            surface: SurfaceStats {
                failed: Some("new client: progenitor refused it".into()),
            },
        };
        let out = text(&report);
        assert!(
            out.contains("surface: not used for this pair (new client: progenitor refused it); type names judged from the documents only"),
            "{out}"
        );
        let json: serde_json::Value = serde_json::from_str(&json(&report)).unwrap_or_default();
        assert_eq!(
            json["surface"]["failed"],
            "new client: progenitor refused it"
        );
    }
}
