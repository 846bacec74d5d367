//! The built-in checks: walk both documents per operation and compare what a client sees.
//!
//! Operations are paired by method and path template (parameter names ignored), then by
//! operationId for the ones that moved. `$ref`s are resolved as the walk goes, and every finding
//! carries the JSON pointers of the changed nodes so drift's findings can be merged with them.

mod bodies;
pub(crate) mod doc;
mod document;
mod ops;

pub(crate) use doc::{Scope, describe, escape, operations, resolve, unescape};

use crate::model::{ChangeKind, Direction, Finding, Source, Verdict};
use crate::surface::{OpSurface, Surface};
use serde_json::Value;

/// Collects the raw (ungrouped) findings of the built-in checks.
pub(crate) struct Walker<'a> {
    pub(crate) old: &'a Value,
    pub(crate) new: &'a Value,
    /// Findings, one per operation and place.
    pub(crate) findings: Vec<Finding>,
    /// Pointers the walk found differences under but did not report line by line (error bodies).
    pub(crate) quiet_pointers: Vec<String>,
    /// Old-document pointers of every schema node the walk compared.
    pub(crate) inspected: std::collections::HashSet<String>,
    /// The API surfaces of the old and the new generated client, when they could be rendered.
    pub(crate) surfaces: Option<(&'a Surface, &'a Surface)>,
    /// The surfaces of the operation being compared (old, new).
    pub(crate) current: (Option<&'a OpSurface>, Option<&'a OpSurface>),
}

impl<'a> Walker<'a> {
    /// Compares the two documents.
    pub(crate) fn run(
        old: &'a Value,
        new: &'a Value,
        surfaces: Option<(&'a Surface, &'a Surface)>,
    ) -> Self {
        let mut w = Walker {
            old,
            new,
            surfaces,
            current: (None, None),
            findings: Vec::new(),
            quiet_pointers: Vec::new(),
            inspected: std::collections::HashSet::new(),
        };
        w.servers();
        w.security_schemes();
        w.operations();
        w
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push(
        &mut self,
        scope: Option<&Scope>,
        verdict: Verdict,
        kind: ChangeKind,
        direction: Direction,
        location: String,
        field: Option<String>,
        old: Option<String>,
        new: Option<String>,
        reason: &str,
        pointers: (Option<String>, Option<String>),
    ) {
        self.findings.push(Finding {
            verdict,
            kind,
            direction,
            operations: scope.map(|s| vec![s.label.clone()]).unwrap_or_default(),
            operation_ids: scope.and_then(|s| s.id.clone()).into_iter().collect(),
            operation_routes: scope.map(|s| vec![s.route.clone()]).unwrap_or_default(),
            location,
            field,
            old,
            new,
            reason: reason.to_string(),
            adapter: false,
            source: Source::Builtin,
            old_pointer: pointers.0,
            new_pointer: pointers.1,
        });
    }
}
