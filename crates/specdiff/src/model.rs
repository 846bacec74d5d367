//! The findings of a diff: what changed, where, and whether it breaks a client.

use serde::Serialize;

/// Whether a change breaks a client built from the old document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Deployed clients or the adapter code using the regenerated client break.
    Breaking,
    /// A difference nobody could classify (only drift saw it); read it by hand.
    Review,
    /// Old clients keep working and the regenerated client stays source compatible.
    Compatible,
}

impl Verdict {
    /// The label printed in the text report.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Breaking => "BREAKING",
            Verdict::Review => "review",
            Verdict::Compatible => "compatible",
        }
    }
}

/// The kind of a change, one per check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// An operation is gone.
    OperationRemoved,
    /// A new operation.
    OperationAdded,
    /// The same operationId now lives at another method or path.
    OperationMoved,
    /// The operationId of an operation changed (the generated method is renamed).
    OperationRenamed,
    /// A parameter is gone.
    ParameterRemoved,
    /// A new parameter.
    ParameterAdded,
    /// A parameter became required or optional.
    ParameterRequirement,
    /// A path parameter's name changed.
    ParameterRenamed,
    /// A request body appeared, disappeared or changed requirement or media type.
    RequestBody,
    /// A success (2xx) status appeared or disappeared.
    SuccessStatus,
    /// The schema of a success response is a different type.
    SuccessResponseType,
    /// An error (non-2xx or default) response appeared, disappeared or changed.
    ErrorResponse,
    /// An object property is gone.
    FieldRemoved,
    /// A new object property.
    FieldAdded,
    /// A property became required or optional.
    FieldRequirement,
    /// A schema (of a field, parameter or body) has another type or format.
    TypeChanged,
    /// A schema may now (or no longer) be null.
    Nullability,
    /// An enum lost a value.
    EnumValueRemoved,
    /// An enum gained a value.
    EnumValueAdded,
    /// A request constraint (`maxLength`, `pattern`, `minimum`, ...) changed.
    Constraint,
    /// `oneOf`/`anyOf` alternatives were added or removed.
    VariantsChanged,
    /// A referenced named schema is replaced by a differently named one.
    SchemaRenamed,
    /// The document's server URLs changed.
    ServerChanged,
    /// A security scheme, or which schemes an operation requires, changed.
    SecurityChanged,
    /// A change found only by drift.
    Drift,
}

/// Which direction data flows at the place of a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Parameters and request bodies: the client writes them.
    Request,
    /// Success responses: the client reads them.
    Response,
    /// Error responses: the facade keeps their raw body.
    Error,
    /// Document-level things (servers, security, operations).
    Document,
}

/// Which checker found a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// Only the built-in walker.
    Builtin,
    /// Only drift.
    Drift,
    /// Both the walker and drift.
    Both,
}

/// One change, as one line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Breaking, compatible, or to review.
    pub verdict: Verdict,
    /// What kind of change.
    pub kind: ChangeKind,
    /// Where data flows at this place.
    pub direction: Direction,
    /// The affected operations as `operationId (METHOD path)`; empty for document-level changes.
    pub operations: Vec<String>,
    /// The operationIds among `operations` (for adapter matching).
    #[serde(skip)]
    pub operation_ids: Vec<String>,
    /// `METHOD path` of each operation (for adapter matching).
    #[serde(skip)]
    pub operation_routes: Vec<String>,
    /// Human-readable place: parameter, body, field (`Schema.field`), server, scheme.
    pub location: String,
    /// `Schema.field` path when the change is on a schema field.
    pub field: Option<String>,
    /// The old state, `None` when the thing did not exist.
    pub old: Option<String>,
    /// The new state, `None` when the thing no longer exists.
    pub new: Option<String>,
    /// Why it breaks (or why it does not).
    pub reason: String,
    /// True when the facade's adapter code uses the operation or field.
    pub adapter: bool,
    /// Which checker found it.
    pub source: Source,
    /// JSON pointer of the changed node in the old document.
    pub old_pointer: Option<String>,
    /// JSON pointer of the changed node in the new document.
    pub new_pointer: Option<String>,
}

/// What drift contributed, for the report footer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DriftStats {
    /// Non-trivial changes drift reported.
    pub reported: usize,
    /// Of those, changes the built-in checks found too (or deliberately superseded).
    pub covered: usize,
    /// Of those, changes only drift found (added to the report).
    pub added: usize,
    /// Set when drift failed on this pair of documents (its message); the built-in checks still ran.
    pub failed: Option<String>,
}

/// Whether the generated clients' API surfaces took part (type names and field types).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SurfaceStats {
    /// Set when a surface could not be rendered (its message); types were then judged from
    /// the documents alone.
    pub failed: Option<String>,
}

/// The full result of comparing two documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// How the old document was named on the command line.
    pub old: String,
    /// How the new document was named on the command line.
    pub new: String,
    /// Every change, breaking first.
    pub changes: Vec<Finding>,
    /// drift's contribution.
    pub drift: DriftStats,
    /// Whether the API surfaces were used.
    pub surface: SurfaceStats,
}

impl Report {
    /// Number of findings with this verdict.
    pub fn count(&self, verdict: Verdict) -> usize {
        self.changes.iter().filter(|f| f.verdict == verdict).count()
    }

    /// Number of breaking findings that touch adapter code.
    pub fn adapter_breaking(&self) -> usize {
        self.changes
            .iter()
            .filter(|f| f.verdict == Verdict::Breaking && f.adapter)
            .count()
    }

    /// True when at least one change breaks a client.
    pub fn is_breaking(&self) -> bool {
        self.count(Verdict::Breaking) > 0
    }
}
