//! Runs oxidecomputer's `drift` on the same two documents and merges its findings.
//!
//! The built-in walk is authoritative for everything it checks; drift's findings at the same
//! JSON pointer (or above one the walk reported) count as covered. What only drift saw is added:
//! backward-incompatible → breaking, forward-incompatible → compatible, unhandled → review.
//! Trivial (metadata) changes are dropped. drift 0.2 panics on a few shapes (a media type added
//! or removed, a body schema appearing); such a panic is caught and reported, never fatal.

use super::model::{ChangeKind, Direction, DriftStats, Finding, Source, Verdict};
use super::walk::{Scope, operations};
use drift::{ChangeClass, ChangeComparison};
use serde_json::Value;
use std::cell::Cell;
use std::collections::{BTreeMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

thread_local! {
    static IN_DRIFT: Cell<bool> = const { Cell::new(false) };
}

/// Silences the default panic message while drift runs on this thread.
fn install_quiet_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_DRIFT.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// drift's changes, or why it could not produce them.
pub(crate) fn run(old: &Value, new: &Value) -> Result<Vec<drift::Change>, String> {
    install_quiet_hook();
    IN_DRIFT.with(|c| c.set(true));
    let result = catch_unwind(AssertUnwindSafe(|| drift::compare(old, new)));
    IN_DRIFT.with(|c| c.set(false));
    match result {
        Ok(Ok(changes)) => Ok(changes),
        Ok(Err(e)) => Err(format!("drift failed: {e:#}")),
        Err(panic) => {
            let text = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            Err(format!("drift panicked: {text}"))
        }
    }
}

/// Full pointer of a change: base of the record plus the change's subpath.
fn pointer(base: &str, subpath: &str) -> String {
    // drift 0.2 names the request body segment `request_body` instead of `requestBody`.
    let subpath = subpath.replace("request_body", "requestBody");
    if subpath.is_empty() {
        base.to_string()
    } else {
        format!("{base}/{subpath}")
    }
}

fn under(candidate: &str, pointer: &str) -> bool {
    candidate == pointer
        || candidate
            .strip_prefix(pointer)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Drift messages the walk supersedes when it inspected the same node and found nothing.
const SUPERSEDED_WHEN_INSPECTED: [&str; 2] = [
    "object properties changed",
    "object required properties changed",
];

/// Merges drift's `changes` into `findings`.
pub(crate) fn merge(
    findings: &mut Vec<Finding>,
    quiet: &[String],
    inspected: &HashSet<String>,
    old_doc: &Value,
    new_doc: &Value,
    changes: Vec<drift::Change>,
) -> DriftStats {
    let ops = operation_scopes(old_doc, new_doc);
    let mut stats = DriftStats::default();
    let mut added = Vec::new();
    for change in changes {
        let Some(first) = change.paths.first() else {
            continue;
        };
        let (old_base, _) = first.old.base_and_subpath();
        let (new_base, _) = first.new.base_and_subpath();
        let (old_base, new_base) = (old_base.to_string(), new_base.to_string());
        let comparison = first.comparison;
        for info in &change.changes {
            if info.class == ChangeClass::Trivial {
                continue;
            }
            stats.reported += 1;
            let at_operation_root = |base: &str, sub: &str| {
                base == "#/paths" || (base.starts_with("#/paths/") && sub.is_empty())
            };
            if at_operation_root(&old_base, &info.old_subpath)
                || at_operation_root(&new_base, &info.new_subpath)
            {
                // Operation-level checks (operations, parameters, bodies, statuses) are all
                // done by the walk, with direction-aware verdicts.
                stats.covered += 1;
                continue;
            }
            let op_ptr = pointer(&old_base, &info.old_subpath);
            let np_ptr = pointer(&new_base, &info.new_subpath);
            let covered = covered_by_walk(findings, quiet, inspected, info, (&op_ptr, &np_ptr));
            if covered {
                stats.covered += 1;
                continue;
            }
            stats.added += 1;
            let scopes = scopes_of(&change, &ops);
            added.push(drift_finding(info, comparison, &scopes, op_ptr, np_ptr));
        }
    }
    findings.extend(added);
    stats
}

/// The scope (label, operationId, route) of every operation of both documents, by pointer.
fn operation_scopes(old_doc: &Value, new_doc: &Value) -> BTreeMap<String, Scope> {
    let mut ops: BTreeMap<String, Scope> = BTreeMap::new();
    for doc in [new_doc, old_doc] {
        for op in operations(doc) {
            ops.insert(
                op.pointer.clone(),
                Scope {
                    label: op.label(),
                    id: op.id.clone(),
                    route: op.route(),
                },
            );
        }
    }
    ops
}

/// Does the walk already cover the change at `(old, new)` pointers? A finding under either
/// pointer (marked as found by both), a quiet pointer, or a node the walk inspected and
/// found unchanged where drift only notes a property-list change.
fn covered_by_walk(
    findings: &mut [Finding],
    quiet: &[String],
    inspected: &HashSet<String>,
    info: &drift::ChangeInfo,
    (op_ptr, np_ptr): (&str, &str),
) -> bool {
    let mut covered = false;
    for f in findings.iter_mut() {
        let hit = f.old_pointer.as_deref().is_some_and(|p| under(p, op_ptr))
            || f.new_pointer.as_deref().is_some_and(|p| under(p, np_ptr));
        if hit {
            covered = true;
            if f.source == Source::Builtin {
                f.source = Source::Both;
            }
        }
    }
    covered |= quiet.iter().any(|p| under(p, op_ptr) || under(p, np_ptr));
    if !covered
        && info.class == ChangeClass::Unhandled
        && SUPERSEDED_WHEN_INSPECTED.contains(&info.message.as_str())
        && inspected.contains(op_ptr)
    {
        covered = true;
    }
    covered
}

/// The operations a change was reached through, each once.
fn scopes_of<'s>(change: &drift::Change, ops: &'s BTreeMap<String, Scope>) -> Vec<&'s Scope> {
    let mut scopes: Vec<&Scope> = Vec::new();
    for path in &change.paths {
        for stack in [&path.old, &path.new] {
            if let Some(s) = stack.endpoint_base().and_then(|b| ops.get(b))
                && !scopes.iter().any(|x| x.label == s.label)
            {
                scopes.push(s);
            }
        }
    }
    scopes
}

/// The finding for a change drift reports and the walk does not cover.
fn drift_finding(
    info: &drift::ChangeInfo,
    comparison: ChangeComparison,
    scopes: &[&Scope],
    op_ptr: String,
    np_ptr: String,
) -> Finding {
    let verdict = match info.class {
        ChangeClass::BackwardIncompatible | ChangeClass::Incompatible => Verdict::Breaking,
        ChangeClass::ForwardIncompatible | ChangeClass::Trivial => Verdict::Compatible,
        ChangeClass::Unhandled => Verdict::Review,
    };
    let direction = match comparison {
        ChangeComparison::Input => Direction::Request,
        ChangeComparison::Output => Direction::Response,
        ChangeComparison::Structural => Direction::Document,
    };
    Finding {
        verdict,
        kind: ChangeKind::Drift,
        direction,
        operations: scopes.iter().map(|s| s.label.clone()).collect(),
        operation_ids: scopes.iter().filter_map(|s| s.id.clone()).collect(),
        operation_routes: scopes.iter().map(|s| s.route.clone()).collect(),
        location: readable(&op_ptr),
        field: None,
        old: None,
        new: None,
        reason: format!("drift: {}", info.message),
        adapter: false,
        source: Source::Drift,
        old_pointer: Some(op_ptr),
        new_pointer: Some(np_ptr),
    }
}

/// `#/components/schemas/Balance/properties/x` → `schema Balance: properties/x`.
fn readable(pointer: &str) -> String {
    let unesc = |s: &str| super::walk::unescape(s);
    if let Some(rest) = pointer.strip_prefix("#/components/schemas/") {
        let mut parts = rest.splitn(2, '/');
        let name = unesc(parts.next().unwrap_or_default());
        return match parts.next() {
            Some(sub) => format!("schema {name}: {}", unesc(sub)),
            None => format!("schema {name}"),
        };
    }
    if let Some(rest) = pointer.strip_prefix("#/paths/") {
        let mut parts = rest.splitn(3, '/');
        let _path = parts.next();
        let _method = parts.next();
        return parts.next().map_or_else(|| "operation".into(), unesc);
    }
    unesc(pointer.trim_start_matches("#/"))
}
