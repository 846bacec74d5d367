//! Where in a body (or parameter) the walk is: labels, the field path from the nearest named
//! schema on each side, and the Rust types the generated clients have there.

/// The place of a schema node being compared.
#[derive(Clone, Debug)]
pub(crate) struct FieldCtx {
    /// Location of the root itself (`response 200 body`, `parameter query x`).
    root_label: String,
    /// Prefix for fields below it (`response 200`, `request`).
    field_prefix: String,
    /// Nearest named schema above the current node (the old document's, else the new one's).
    schema: Option<String>,
    /// Path from that schema (`accounts[].iban`), empty at the schema itself.
    rel: String,
    /// Nearest named schema above the current node in the new document.
    new_schema: Option<String>,
    /// Path from `new_schema`.
    new_rel: String,
    /// The Rust type at this node in the old and in the new generated client, when known.
    pub(crate) rust: (Option<String>, Option<String>),
    /// A type rename already reported above this node (old, new Rust name): inline types named
    /// after the renamed one are renamed with it and not reported again.
    pub(crate) renamed: Option<(String, String)>,
}

impl FieldCtx {
    /// The context at the root of a body or parameter schema.
    pub(crate) fn root(root_label: String, field_prefix: String) -> Self {
        FieldCtx {
            root_label,
            field_prefix,
            schema: None,
            rel: String::new(),
            new_schema: None,
            new_rel: String::new(),
            rust: (None, None),
            renamed: None,
        }
    }

    /// The same context with the Rust types at the root.
    pub(crate) fn with_rust(mut self, old: Option<String>, new: Option<String>) -> Self {
        self.rust = (old, new);
        self
    }

    /// The context of a child node (`name`, `[]` for array items, `{}` for map values), with
    /// the Rust types there.
    pub(crate) fn child(&self, segment: &str, rust: (Option<String>, Option<String>)) -> Self {
        let extend = |rel: &str| {
            if segment.starts_with('[') || rel.is_empty() {
                format!("{rel}{segment}")
            } else {
                format!("{rel}.{segment}")
            }
        };
        let mut c = self.clone();
        c.rel = extend(&self.rel);
        c.new_rel = extend(&self.new_rel);
        c.rust = rust;
        c
    }

    /// The context inside a node whose schemas are named `old` and `new` (when `$ref`s).
    pub(crate) fn entering(&self, old: &Option<String>, new: &Option<String>) -> Self {
        let mut c = self.clone();
        if let Some(n) = old.as_ref().or(new.as_ref()) {
            c.schema = Some(n.clone());
            c.rel = String::new();
        }
        if let Some(n) = new {
            c.new_schema = Some(n.clone());
            c.new_rel = String::new();
        }
        c
    }

    /// `Schema.field` when the node is a field.
    pub(crate) fn field(&self) -> Option<String> {
        field_of(&self.schema, &self.rel)
    }

    /// `Schema.field` as the new document names it.
    pub(crate) fn new_field(&self) -> Option<String> {
        field_of(&self.new_schema, &self.new_rel)
    }

    /// Human-readable place of the node.
    pub(crate) fn location(&self) -> String {
        self.location_of(self.field(), &self.schema)
    }

    /// Human-readable place of the node, as the new document names it.
    pub(crate) fn new_location(&self) -> String {
        self.location_of(self.new_field(), &self.new_schema)
    }

    fn location_of(&self, field: Option<String>, schema: &Option<String>) -> String {
        match (field, schema) {
            (Some(f), _) => format!("{} field {f}", self.field_prefix),
            (None, Some(s)) => format!("{} {s}", self.root_label),
            (None, None) => self.root_label.clone(),
        }
    }

    /// The wire name of the field this node is (its last path segment), if any.
    pub(crate) fn field_name(&self) -> Option<&str> {
        let last = self.rel.rsplit('.').next()?;
        let name = last.split(['[', '{']).next().unwrap_or(last);
        (!name.is_empty()).then_some(name)
    }
}

fn field_of(schema: &Option<String>, rel: &str) -> Option<String> {
    if rel.is_empty() {
        return None;
    }
    let owner = schema.as_deref().unwrap_or("body");
    Some(format!("{owner}.{rel}"))
}
