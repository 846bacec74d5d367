//! Stage 4: make a valid OpenAPI 3.0 document fit what progenitor 0.15 accepts.
//!
//! Each step is a small module working on `serde_json::Value` and counting what it changed
//! in a [`Report`], so a reviewer can see which repairs a spec needed.

mod decimals;
mod inline;
mod lenient_strings;
mod media;
mod open_enums;
mod open_objects;
mod operation_ids;
mod parameters;
mod patterns;
mod reachable;
mod responses;
mod rust_names;
mod shared_params;
mod unused_schemas;

pub use decimals::DECIMAL_SCHEMA;
pub use rust_names::{rust_method_name, rust_type_name};

use crate::error::Result;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

/// HTTP methods of an OpenAPI path item, in document order of the spec.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// Settings for the normalize stage (from `bank.toml`).
#[derive(Debug, Clone, Default)]
pub struct NormalizeSettings {
    /// Header parameters removed from every operation (case-insensitive).
    pub drop_headers: Vec<String>,
    /// Keep progenitor's one type per operation for the schema of a reusable parameter
    /// instead of one shared type (see `shared_params`); for banks whose adapters name the
    /// per-operation types.
    pub per_operation_parameter_types: bool,
    /// Keep the component schemas no operation reaches (see `unused_schemas`).
    pub keep_unused_schemas: bool,
}

/// What the normalize stage changed, counted by kind, and what it had to relax.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Number of changes per kind, e.g. `"inline-parameter-ref" => 120`.
    pub counts: BTreeMap<&'static str, usize>,
    /// Parts of the document dropped or filled in so that generation can go on, in the
    /// order they were found.
    pub warnings: Vec<Warning>,
}

/// One part of the document the generator dropped or filled in, as data a reviewer reads.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Warning {
    /// JSON pointer of the place in the document (after the Swagger 2.0 upgrade).
    pub pointer: String,
    /// What was dropped, filled in or renamed.
    pub what: String,
    /// Why.
    pub why: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({})", self.pointer, self.what, self.why)
    }
}

impl Report {
    /// Counts one change of `kind`.
    pub fn add(&mut self, kind: &'static str) {
        *self.counts.entry(kind).or_default() += 1;
    }

    /// Records a warning (and counts it under `kind`).
    pub fn warn(
        &mut self,
        kind: &'static str,
        pointer: impl Into<String>,
        what: impl Into<String>,
        why: impl Into<String>,
    ) {
        self.add(kind);
        self.warnings.push(Warning {
            pointer: pointer.into(),
            what: what.into(),
            why: why.into(),
        });
    }

    /// Adds `earlier`'s counts, and its warnings before this report's own.
    pub fn absorb(&mut self, earlier: Report) {
        for (kind, n) in earlier.counts {
            *self.counts.entry(kind).or_default() += n;
        }
        let mut warnings = earlier.warnings;
        warnings.append(&mut self.warnings);
        self.warnings = warnings;
    }

    /// Total number of changes.
    pub fn total(&self) -> usize {
        self.counts.values().sum()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.counts.is_empty() {
            write!(f, "  (none)")?;
        }
        let lines: Vec<String> = self
            .counts
            .iter()
            .map(|(k, n)| format!("  {k}: {n}"))
            .collect();
        write!(f, "{}", lines.join("\n"))?;
        if !self.warnings.is_empty() {
            write!(f, "\n  warnings ({}):", self.warnings.len())?;
            for w in &self.warnings {
                write!(f, "\n    warning: {w}")?;
            }
        }
        Ok(())
    }
}

/// Runs every normalization step in order.
pub fn normalize(doc: &mut Value, settings: &NormalizeSettings, path: &Path) -> Result<Report> {
    let mut report = Report::default();
    if !settings.per_operation_parameter_types {
        shared_params::hoist(doc, &mut report);
    }
    inline::inline_refs(doc, &mut report);
    operation_ids::synthesize(doc, path, &mut report)?;
    parameters::normalize(doc, settings, &mut report);
    media::normalize(doc, &mut report);
    responses::normalize(doc, &mut report);
    open_enums::open_response_enums(doc, &mut report);
    open_objects::open_response_objects(doc, &mut report);
    lenient_strings::relax_response_strings(doc, &mut report);
    patterns::drop_invalid_patterns(doc, &mut report);
    decimals::exact_numbers(doc, &mut report);
    if !settings.keep_unused_schemas {
        unused_schemas::drop_unused_schemas(doc, &mut report);
    }
    rust_names::distinct_schema_names(doc, &mut report);
    rust_names::distinct_operation_ids(doc, &mut report);
    Ok(report)
}

/// Calls `f(path, method, operation)` for every operation of the document.
pub(crate) fn for_each_operation(
    doc: &mut Value,
    mut f: impl FnMut(&str, &str, &mut Map<String, Value>),
) {
    let Some(Value::Object(paths)) = doc.get_mut("paths") else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for method in METHODS {
            if let Some(Value::Object(op)) = item.get_mut(method) {
                f(path, method, op);
            }
        }
    }
}

/// The operationId in PascalCase, for names of hoisted schemas.
pub(crate) fn pascal(operation_id: &str) -> String {
    let mut out = String::new();
    for word in operation_id
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut chars = word.chars();
        if let Some(c) = chars.next() {
            out.push(c.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    out
}
