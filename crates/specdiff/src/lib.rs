//! `psd2-specdiff`: what a new version of a bank's API document breaks for the generated client
//! and the code built on it (`cargo xtask diff`).
//!
//! Both documents go through the generator's own document stages (`psd2-codegen`: load,
//! upgrade, overlay, normalize), and both generated clients' API surfaces are rendered, so the
//! diff describes what the generated code does. The documents are then compared twice: by the
//! built-in walk (module `walk`, operation by operation, direction aware, asking the surfaces
//! which Rust type callers see at each place) and by oxidecomputer's `drift`; the findings are
//! merged (module `drift_merge`), grouped, marked `[adapter]` where
//! `specs/<bank>/adapter-usage.toml` says the facade uses them, and printed as text or JSON.
//!
//! The rule behind every verdict: a change is breaking when the regenerated client's public
//! surface changes in a way that breaks callers (a type renamed, a field's type or optionality
//! changed, a variant or setter gone), when a response the new server may send no longer
//! parses in the old client, or when a request the old client sends is now refused.
//! Exit code: 0 nothing breaks, 1 something breaks, 2 bad input.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod cli;
mod drift_merge;
pub mod model;
mod prepare;
pub mod render;
mod schema;
pub mod surface;
pub mod usage;
mod walk;

pub use cli::{DiffArgs, DiffError, Format, execute, exit_code, run, run_to};
pub use model::{ChangeKind, Direction, Finding, Report, Source, SurfaceStats, Verdict};
pub use prepare::{Inputs, prepare_document, prepare_inputs};
pub use surface::Surface;
pub use usage::AdapterUsage;

use serde_json::Value;
use std::collections::BTreeMap;

/// Compares two prepared documents (as JSON) and builds the report, judging type names from
/// the documents alone (no API surfaces).
pub fn compare(
    old: &Value,
    new: &Value,
    usage: &AdapterUsage,
    old_name: String,
    new_name: String,
) -> Report {
    compare_with(old, new, None, usage, (old_name, new_name))
}

/// Compares two prepared documents with the API surfaces of their generated clients, when
/// there are both.
pub fn compare_with(
    old: &Value,
    new: &Value,
    surfaces: Option<(&Surface, &Surface)>,
    usage: &AdapterUsage,
    (old_name, new_name): (String, String),
) -> Report {
    let walker = walk::Walker::run(old, new, surfaces);
    let walk::Walker {
        mut findings,
        quiet_pointers,
        inspected,
        ..
    } = walker;
    let drift = match drift_merge::run(old, new) {
        Ok(changes) => drift_merge::merge(
            &mut findings,
            &quiet_pointers,
            &inspected,
            old,
            new,
            changes,
        ),
        Err(why) => model::DriftStats {
            failed: Some(why),
            ..Default::default()
        },
    };
    let mut changes = group(findings);
    usage.mark(&mut changes);
    changes.sort_by(|a, b| {
        (
            a.verdict,
            !a.adapter,
            a.operations.first(),
            &a.location,
            &a.old,
            &a.new,
        )
            .cmp(&(
                b.verdict,
                !b.adapter,
                b.operations.first(),
                &b.location,
                &b.old,
                &b.new,
            ))
    });
    Report {
        old: old_name,
        new: new_name,
        changes,
        drift,
        surface: SurfaceStats::default(),
    }
}

/// Merges findings that describe the same change reached from several operations. The reason
/// tells drift's findings and error summaries apart; elsewhere it only varies with how much
/// the surfaces knew at each place, and the line keeps the reason that names Rust types.
fn group(findings: Vec<Finding>) -> Vec<Finding> {
    type Key = (
        Verdict,
        ChangeKind,
        Direction,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
    );
    let mut groups: BTreeMap<Key, Finding> = BTreeMap::new();
    let mut order: Vec<Key> = Vec::new();
    for f in findings {
        let key = (
            f.verdict,
            f.kind,
            f.direction,
            f.location.clone(),
            f.field.clone(),
            f.old.clone(),
            f.new.clone(),
            if matches!(f.kind, ChangeKind::Drift | ChangeKind::ErrorResponse) {
                f.reason.clone()
            } else {
                String::new()
            },
        );
        match groups.get_mut(&key) {
            Some(g) => {
                if !g.reason.contains('`') && f.reason.contains('`') {
                    g.reason = f.reason.clone();
                }
                for (i, op) in f.operations.iter().enumerate() {
                    if !g.operations.contains(op) {
                        g.operations.push(op.clone());
                        if let Some(r) = f.operation_routes.get(i) {
                            g.operation_routes.push(r.clone());
                        }
                    }
                }
                for id in f.operation_ids {
                    if !g.operation_ids.contains(&id) {
                        g.operation_ids.push(id);
                    }
                }
                if f.source == Source::Both {
                    g.source = Source::Both;
                }
            }
            None => {
                order.push(key.clone());
                groups.insert(key, f);
            }
        }
    }
    order
        .into_iter()
        .filter_map(|k| groups.remove(&k))
        .collect()
}
