//! Object fields: removed, added (into open or closed objects), requiredness, map values.

use super::shape::{Kind, closed, kind, properties, req};
use super::{FieldCtx, SchemaWalk};
use crate::model::{ChangeKind, Verdict};
use crate::surface;
use crate::walk::describe;
use serde_json::Value;
use std::collections::BTreeSet;

impl<'a> SchemaWalk<'_, 'a> {
    pub(super) fn objects(
        &mut self,
        ctx: &FieldCtx,
        old: (&'a Value, String),
        new: (&'a Value, String),
    ) {
        let (op, oreq) = properties(self.w.old, old.0, &old.1);
        let (np, nreq) = properties(self.w.new, new.0, &new.1);
        let names: BTreeSet<&String> = op.keys().chain(np.keys()).collect();
        for name in names {
            let c = ctx.child(name, self.field_rust(ctx, name));
            match (op.get(name), np.get(name)) {
                (Some((ov, optr)), None) => {
                    let state =
                        format!("{} {}", req(oreq.contains(name)), describe(self.w.old, ov));
                    let (what, usage) = if self.reads() {
                        ("type", "reading")
                    } else {
                        ("request type", "setting")
                    };
                    let lost = match (&ctx.rust.0, &c.rust.0) {
                        (Some(owner), Some(ty)) => {
                            format!("`{}` loses field `{name}: {ty}`", surface::core(owner))
                        }
                        _ => format!("the regenerated {what} loses the field"),
                    };
                    let reason = format!("{lost}; adapter code {usage} it stops compiling");
                    self.push(
                        Verdict::Breaking,
                        ChangeKind::FieldRemoved,
                        &c,
                        Some(state),
                        None,
                        &reason,
                        (Some(optr.clone()), None),
                    );
                }
                (None, Some((nv, nptr))) => {
                    let required = nreq.contains(name);
                    self.field_added(ctx, &c, old.0, (nv, nptr.clone()), required);
                }
                (Some((ov, optr)), Some((nv, nptr))) => {
                    let (or, nr) = (oreq.contains(name), nreq.contains(name));
                    if or != nr {
                        self.requirement(&c, (or, nr), nv, (optr.clone(), nptr.clone()));
                    }
                    self.compare(&c, (ov, optr.clone()), (nv, nptr.clone()));
                }
                (None, None) => {}
            }
        }
        let ap = |v: &'a Value| v.get("additionalProperties").filter(|a| a.is_object());
        if let (Some(oa), Some(na)) = (ap(old.0), ap(new.0)) {
            let rust = (
                ctx.rust
                    .0
                    .as_deref()
                    .and_then(surface::map_value)
                    .map(str::to_string),
                ctx.rust
                    .1
                    .as_deref()
                    .and_then(surface::map_value)
                    .map(str::to_string),
            );
            let c = ctx.child("{}", rust);
            self.compare(
                &c,
                (oa, format!("{}/additionalProperties", old.1)),
                (na, format!("{}/additionalProperties", new.1)),
            );
        }
    }

    /// The Rust types of field `name` of the struct at `ctx`, old and new.
    fn field_rust(&self, ctx: &FieldCtx, name: &str) -> (Option<String>, Option<String>) {
        let Some((so, sn)) = self.surfaces() else {
            return (None, None);
        };
        (
            ctx.rust.0.as_deref().and_then(|t| so.field(t, name)),
            ctx.rust.1.as_deref().and_then(|t| sn.field(t, name)),
        )
    }

    /// A field only the new document has, attributed to the schema the new document uses.
    fn field_added(
        &mut self,
        parent: &FieldCtx,
        c: &FieldCtx,
        old_object: &Value,
        (nv, nptr): (&Value, String),
        required: bool,
    ) {
        let state = format!("{} {}", req(required), describe(self.w.new, nv));
        let owner = parent
            .rust
            .0
            .as_deref()
            .map(|t| surface::core(t).to_string());
        let (verdict, reason) = match (self.reads(), required) {
            (true, _) if closed(self.w.old, old_object) => (
                Verdict::Breaking,
                format!(
                    "old clients reject every response carrying it: the generated {} denies unknown fields (`additionalProperties: false`)",
                    owner.map_or_else(|| "type".to_string(), |o| format!("`{o}`"))
                ),
            ),
            (true, _) => (
                Verdict::Compatible,
                "a new response field; old clients ignore it".to_string(),
            ),
            (false, false) => (
                Verdict::Compatible,
                "optional; old clients simply omit it".to_string(),
            ),
            (false, true) => (
                Verdict::Breaking,
                "a new required request field that old clients do not send".to_string(),
            ),
        };
        self.push_at(
            verdict,
            ChangeKind::FieldAdded,
            (c.new_location(), c.new_field()),
            None,
            Some(state),
            &reason,
            (None, Some(nptr)),
        );
    }

    /// A field that became required or optional; judged by the generated field's type.
    fn requirement(
        &mut self,
        c: &FieldCtx,
        (or, nr): (bool, bool),
        nv: &Value,
        (optr, nptr): (String, String),
    ) {
        let name = c.field_name().unwrap_or("?").to_string();
        let rust = match (&c.rust.0, &c.rust.1) {
            (Some(o), Some(n)) => Some((o.clone(), n.clone())),
            _ => None,
        };
        let changed = |o: &str, n: &str| format!("field `{name}`: `{o}` → `{n}`");
        let (verdict, reason) = match (self.reads(), nr) {
            (true, false) => (
                Verdict::Breaking,
                match &rust {
                    Some((o, n)) if o != n => format!(
                        "{}; old clients fail when the bank omits it",
                        changed(o, n)
                    ),
                    Some((o, _)) => format!(
                        "old clients fail when the bank omits it (the generated field keeps its type `{o}`, without a default there)"
                    ),
                    None => "old clients fail when the bank omits it; the regenerated field becomes Option<_>".to_string(),
                },
            ),
            (true, true) => match &rust {
                Some((o, n)) if o == n => (
                    Verdict::Compatible,
                    format!("the field is always present now; the generated field keeps its type `{o}`"),
                ),
                Some((o, n)) => (
                    Verdict::Breaking,
                    format!("{}; code reading it as optional stops compiling", changed(o, n)),
                ),
                None if kind(self.w.new, super::shape::unwrap(self.w.new, nv, "").0) == Kind::Array => (
                    Verdict::Compatible,
                    "the field is always present now; a generated list field keeps its type".to_string(),
                ),
                None => (
                    Verdict::Breaking,
                    "the regenerated field changes from Option<_> to a plain value; code reading it as optional stops compiling".to_string(),
                ),
            },
            (false, true) => (
                Verdict::Breaking,
                "old clients may omit a field the bank now requires".to_string(),
            ),
            (false, false) => match &rust {
                Some((o, n)) if o == n => (
                    Verdict::Compatible,
                    "the bank no longer insists on it".to_string(),
                ),
                Some((o, n)) => (
                    Verdict::Breaking,
                    format!(
                        "{}; the bank no longer insists on it, but code building the request type with a struct literal stops compiling",
                        changed(o, n)
                    ),
                ),
                None if kind(self.w.new, super::shape::unwrap(self.w.new, nv, "").0) == Kind::Array => (
                    Verdict::Compatible,
                    "the bank no longer insists on it; a generated list field keeps its type".to_string(),
                ),
                None => (
                    Verdict::Breaking,
                    "the bank no longer insists on it, but the regenerated field becomes Option<_>: code building the request type with a struct literal stops compiling".to_string(),
                ),
            },
        };
        self.push(
            verdict,
            ChangeKind::FieldRequirement,
            c,
            Some(req(or)),
            Some(req(nr)),
            &reason,
            (Some(optr), Some(nptr)),
        );
    }
}
