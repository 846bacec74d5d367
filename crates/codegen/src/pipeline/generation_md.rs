//! `GENERATION.md`, written next to each generated crate: what the generator relaxed
//! (warnings with their JSON pointers), what normalize changed, and how often each rewrite
//! of progenitor's output applied.
//!
//! The rewrite counts are also the generator's memory between runs: the prune, serde
//! directions and lean stages match the shape of progenitor's output, and a progenitor
//! that writes another shape would silently turn them off. So generation fails when a
//! rewrite that applied in the crate's last `GENERATION.md` now applies nowhere
//! ([`check_rewrites`]).

use crate::error::{Error, Result};
use crate::pipeline::Rewrite;
use crate::pipeline::normalize::Report;
use std::fmt::Write as _;

/// The file name, at the crate root.
pub const FILE: &str = "GENERATION.md";

const REWRITES_HEADING: &str = "## Rewrites of progenitor's output";

/// The file's text.
pub fn render(header: &[String], report: &Report, rewrites: &[Rewrite]) -> String {
    let mut out = String::from("<!--\n");
    for line in header {
        let _ = writeln!(out, "{line}");
    }
    out.push_str("-->\n# What generating this crate took\n\n## Warnings\n\n");
    if report.warnings.is_empty() {
        out.push_str("None: nothing in the document was dropped or filled in.\n");
    } else {
        out.push_str(
            "Parts of the document dropped, filled in or renamed so the crate compiles.\n\n",
        );
        out.push_str("| JSON pointer | what | why |\n|---|---|---|\n");
        for w in &report.warnings {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} |",
                w.pointer,
                cell(&w.what),
                cell(&w.why)
            );
        }
    }
    out.push_str("\n## Normalizations of the document\n\n| change | count |\n|---|---:|\n");
    let staged: Vec<&str> = rewrites.iter().map(|r| r.rewrite).collect();
    for (kind, n) in report.counts.iter().filter(|(k, _)| !staged.contains(k)) {
        let _ = writeln!(out, "| {kind} | {n} |");
    }
    let _ = write!(
        out,
        "\n{REWRITES_HEADING}\n\n\
         A rewrite that applied here and applies nowhere after a regeneration fails it: \
         progenitor's output changed shape and the stage no longer matches.\n\n\
         | stage | rewrite | count |\n|---|---|---:|\n"
    );
    for r in rewrites {
        let _ = writeln!(out, "| {} | {} | {} |", r.stage, r.rewrite, r.count);
    }
    out
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// `(stage, rewrite, count)` rows of a previous `GENERATION.md`.
pub fn parse_rewrites(text: &str) -> Vec<(String, String, usize)> {
    let Some(at) = text.find(REWRITES_HEADING) else {
        return Vec::new();
    };
    text[at..]
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line
                .trim()
                .strip_prefix('|')?
                .strip_suffix('|')?
                .split('|')
                .map(str::trim)
                .collect();
            match cells.as_slice() {
                [stage, rewrite, count] => {
                    Some((stage.to_string(), rewrite.to_string(), count.parse().ok()?))
                }
                _ => None,
            }
        })
        .collect()
}

/// Fails when a rewrite that applied in `previous` (a crate's last `GENERATION.md`) now
/// applies nowhere, for the stages that ran this time.
pub fn check_rewrites(bank: &str, previous: &str, now: &[Rewrite]) -> Result<()> {
    for (stage, rewrite, before) in parse_rewrites(previous) {
        if before == 0 {
            continue;
        }
        let ran = now.iter().any(|r| r.stage == stage);
        let count = now
            .iter()
            .find(|r| r.stage == stage && r.rewrite == rewrite)
            .map_or(0, |r| r.count);
        if ran && count == 0 {
            return Err(Error::RewriteRotted {
                bank: bank.to_string(),
                stage,
                rewrite,
                before,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::normalize::Warning;

    fn rewrites(lean: usize) -> Vec<Rewrite> {
        vec![
            Rewrite {
                stage: "prune",
                rewrite: "drop-struct-builder-not-in-requests",
                count: 3,
            },
            Rewrite {
                stage: "lean",
                rewrite: "header-loop",
                count: lean,
            },
        ]
    }

    #[test]
    fn the_file_lists_warnings_and_rewrites_and_reads_back() {
        let mut report = Report::default();
        report.add("inline-parameter-ref");
        report.warnings.push(Warning {
            pointer: "/info".into(),
            what: "filled in `info`".into(),
            why: "`info` is null | missing".into(),
        });
        let text = render(&["@generated".into()], &report, &rewrites(2));
        assert!(text.contains("| `/info` | filled in `info` | `info` is null \\| missing |"));
        assert!(text.contains("| inline-parameter-ref | 1 |"));
        assert_eq!(
            parse_rewrites(&text),
            [
                (
                    "prune".into(),
                    "drop-struct-builder-not-in-requests".into(),
                    3
                ),
                ("lean".into(), "header-loop".into(), 2)
            ]
        );
    }

    #[test]
    fn a_rewrite_that_drops_to_zero_fails_and_one_that_stays_passes() {
        let before = render(&[], &Report::default(), &rewrites(2));
        assert!(check_rewrites("bank", &before, &rewrites(1)).is_ok());
        let err = check_rewrites("bank", &before, &rewrites(0)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("bank `bank`: the lean rewrite `header-loop` applied 2 time(s)"),
            "{err}"
        );
        // A stage turned off (not run) is not a drop.
        assert!(check_rewrites("bank", &before, &rewrites(2)[..1]).is_ok());
        // Zero before stays allowed.
        let zero = render(&[], &Report::default(), &rewrites(0));
        assert!(check_rewrites("bank", &zero, &rewrites(0)).is_ok());
    }
}
