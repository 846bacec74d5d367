//! Schema comparison for one operation and direction: types and their generated names,
//! fields, requiredness, nullability, enums, `oneOf` variants, request constraints.

mod constraints;
mod ctx;
mod objects;
mod shape;
mod variants;

pub(crate) use ctx::FieldCtx;
pub(crate) use shape::describe_inline;

use crate::model::{ChangeKind, Direction, Verdict};
use crate::surface::{self, Surface};
use crate::walk::{Scope, Walker, describe};
use serde_json::Value;
use shape::{Kind, enum_values, format, kind, nullable, unwrap};
use std::collections::HashSet;

/// Old and new pointers of a changed node.
type Pointers = (Option<String>, Option<String>);

/// Compares schemas below one body or parameter.
pub(crate) struct SchemaWalk<'w, 'a> {
    w: &'w mut Walker<'a>,
    scope: Scope,
    dir: Direction,
    visited: HashSet<(String, String)>,
    /// True while comparing the root schema of a success response.
    pub(crate) top_level: bool,
}

impl<'w, 'a> SchemaWalk<'w, 'a> {
    /// A walk for one operation in one direction.
    pub(crate) fn new(w: &'w mut Walker<'a>, scope: Scope, dir: Direction) -> Self {
        SchemaWalk {
            w,
            scope,
            dir,
            visited: HashSet::new(),
            top_level: false,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push_at(
        &mut self,
        verdict: Verdict,
        kind: ChangeKind,
        (location, field): (String, Option<String>),
        old: Option<String>,
        new: Option<String>,
        reason: &str,
        pointers: Pointers,
    ) {
        let scope = self.scope.clone();
        self.w.push(
            Some(&scope),
            verdict,
            kind,
            self.dir,
            location,
            field,
            old,
            new,
            reason,
            pointers,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        verdict: Verdict,
        kind: ChangeKind,
        ctx: &FieldCtx,
        old: Option<String>,
        new: Option<String>,
        reason: &str,
        pointers: Pointers,
    ) {
        let place = (ctx.location(), ctx.field());
        self.push_at(verdict, kind, place, old, new, reason, pointers);
    }

    fn reads(&self) -> bool {
        self.dir != Direction::Request
    }

    fn surfaces(&self) -> Option<(&'a Surface, &'a Surface)> {
        self.w.surfaces
    }

    /// Compares two schemas (each with its pointer) at `ctx`.
    pub(crate) fn compare(
        &mut self,
        ctx: &FieldCtx,
        old: (&'a Value, String),
        new: (&'a Value, String),
    ) {
        let top = std::mem::replace(&mut self.top_level, false);
        let (od, nd) = (self.w.old, self.w.new);
        let (ov, op, oname, o_wrap_null) = unwrap(od, old.0, &old.1);
        let (nv, np, nname, n_wrap_null) = unwrap(nd, new.0, &new.1);
        let pointers = (Some(op.clone()), Some(np.clone()));
        let (ok, nk) = (kind(od, ov), kind(nd, nv));
        let (of, nf) = (format(ov), format(nv));
        let same_shape = ok == nk && of == nf;
        let mut inner = ctx.entering(&oname, &nname);
        inner.renamed = self.renames(
            ctx,
            top,
            (&oname, &nname),
            same_shape,
            (old.0, new.0),
            &pointers,
        );
        if !self.visited.insert((op.clone(), np.clone())) {
            return;
        }
        self.w.inspected.insert(op.clone());
        if !same_shape {
            match (ok, nk) {
                (Kind::OneOf(_), Kind::OneOf(_)) => {
                    self.variants(&inner, "oneOf", (ov, &op, old.0), (nv, &np, new.0));
                }
                (Kind::AnyOf(_), Kind::AnyOf(_)) => {
                    self.variants(&inner, "anyOf", (ov, &op, old.0), (nv, &np, new.0));
                }
                _ => self.type_changed(ctx, top, (old.0, new.0), pointers),
            }
            return;
        }
        self.nullability(
            ctx,
            (nullable(ov) || o_wrap_null, nullable(nv) || n_wrap_null),
            &pointers,
        );
        self.enums(ctx, ov, nv, &pointers);
        self.constraints(ctx, ov, nv, &pointers);
        match ok {
            Kind::Object => self.objects(&inner, (ov, op), (nv, np)),
            Kind::Array => {
                if let (Some(oi), Some(ni)) = (ov.get("items"), nv.get("items")) {
                    let rust = (
                        inner
                            .rust
                            .0
                            .as_deref()
                            .and_then(surface::item)
                            .map(str::to_string),
                        inner
                            .rust
                            .1
                            .as_deref()
                            .and_then(surface::item)
                            .map(str::to_string),
                    );
                    let c = inner.child("[]", rust);
                    self.compare(&c, (oi, format!("{op}/items")), (ni, format!("{np}/items")));
                }
            }
            Kind::OneOf(_) => self.variants(&inner, "oneOf", (ov, &op, old.0), (nv, &np, new.0)),
            Kind::AnyOf(_) => self.variants(&inner, "anyOf", (ov, &op, old.0), (nv, &np, new.0)),
            _ => {}
        }
    }

    /// A node whose kind or format changed.
    fn type_changed(
        &mut self,
        ctx: &FieldCtx,
        top: bool,
        raw: (&Value, &Value),
        pointers: Pointers,
    ) {
        let kind = if top {
            ChangeKind::SuccessResponseType
        } else {
            ChangeKind::TypeChanged
        };
        let mut reason = if top {
            "the generated response type changes; deployed clients fail to decode it and adapter code stops compiling".to_string()
        } else {
            "the generated type changes; old clients fail to (de)serialize it and adapter code using it stops compiling".to_string()
        };
        if let (Some(o), Some(n)) = (&ctx.rust.0, &ctx.rust.1)
            && o != n
        {
            reason = format!("`{o}` → `{n}`: {reason}");
        }
        let (od, nd) = (self.w.old, self.w.new);
        self.push(
            Verdict::Breaking,
            kind,
            ctx,
            Some(describe(od, raw.0)),
            Some(describe(nd, raw.1)),
            &reason,
            pointers,
        );
    }

    /// Reports a change of the generated type's name at this node: a named schema replaced by
    /// another, a `$ref` replaced by an inline schema or the other way round, or any other way
    /// the Rust type callers see was renamed. Returns the rename to carry to child nodes.
    fn renames(
        &mut self,
        ctx: &FieldCtx,
        top: bool,
        names: (&Option<String>, &Option<String>),
        same_shape: bool,
        raw: (&Value, &Value),
        pointers: &Pointers,
    ) -> Option<(String, String)> {
        let rust = match (&ctx.rust.0, &ctx.rust.1) {
            (Some(o), Some(n)) => {
                Some((surface::core(o).to_string(), surface::core(n).to_string()))
            }
            _ => None,
        };
        // A list or map of renamed elements is reported at the element.
        let container = |t: &str| surface::item(t).is_some() || surface::map_value(t).is_some();
        let rust = rust.filter(|(o, n)| !container(o) && !container(n));
        let rust_differs = rust.as_ref().is_some_and(|(o, n)| o != n);
        let rust_same = rust.is_some() && !rust_differs;
        let cascade = match (&ctx.renamed, &rust) {
            (Some((po, pn)), Some((o, n))) => o
                .strip_prefix(po.as_str())
                .is_some_and(|s| !s.is_empty() && Some(s) == n.strip_prefix(pn.as_str())),
            _ => false,
        };
        let carried = if rust_differs {
            rust.clone()
        } else {
            ctx.renamed.clone()
        };
        if rust_same || cascade {
            return carried;
        }
        let kind = if top {
            ChangeKind::SuccessResponseType
        } else {
            ChangeKind::SchemaRenamed
        };
        let (od, nd) = (self.w.old, self.w.new);
        let shown = |side: &Option<String>, doc: &Value, v: &Value| {
            side.as_deref()
                .map(|t| surface::core(t).to_string())
                .unwrap_or_else(|| describe(doc, v))
        };
        let (old_shown, new_shown) = (shown(&ctx.rust.0, od, raw.0), shown(&ctx.rust.1, nd, raw.1));
        let found: Option<(String, String, &str)> = match names {
            (Some(on), Some(nn)) if on != nn => {
                let (o, n) = rust.clone().unwrap_or_else(|| (on.clone(), nn.clone()));
                let reason = if top {
                    "the generated response type changes; adapter code using it stops compiling"
                } else {
                    "the generated type is renamed; adapter code naming it stops compiling"
                };
                Some((o, n, reason))
            }
            (Some(_), None) | (None, Some(_)) if same_shape => {
                let reason = if names.0.is_some() {
                    "a `$ref` became an inline schema: the generated type is renamed, and code naming the old type stops compiling"
                } else {
                    "an inline schema became a `$ref`: the generated type is renamed, and code naming the old type stops compiling"
                };
                Some((old_shown, new_shown, reason))
            }
            _ if same_shape && rust_differs => Some((
                old_shown,
                new_shown,
                "the generated type is renamed; code naming the old type stops compiling",
            )),
            _ => None,
        };
        if let Some((o, n, reason)) = found {
            let p = pointers.clone();
            self.push(Verdict::Breaking, kind, ctx, Some(o), Some(n), reason, p);
        }
        carried
    }

    fn nullability(&mut self, ctx: &FieldCtx, (on, nn): (bool, bool), pointers: &Pointers) {
        if on == nn {
            return;
        }
        let loosened = nn;
        let (mut verdict, mut reason) = match (self.reads(), loosened) {
            (true, true) => (
                Verdict::Breaking,
                "old clients fail on null values".to_string(),
            ),
            (true, false) => (
                Verdict::Compatible,
                "the value is never null now".to_string(),
            ),
            (false, true) => (
                Verdict::Compatible,
                "the bank now also accepts null".to_string(),
            ),
            (false, false) => (
                Verdict::Breaking,
                "old clients may send null, which the bank now rejects".to_string(),
            ),
        };
        // Where the generated field's type changes with it (`T` ↔ `Option<T>`), code reading or
        // building it stops compiling whichever way the bank moved.
        if let (Some(o), Some(n)) = (&ctx.rust.0, &ctx.rust.1)
            && o != n
        {
            if verdict == Verdict::Compatible {
                let code = if self.reads() {
                    "code reading it stops compiling"
                } else {
                    "code building the request type with a struct literal stops compiling"
                };
                reason = format!("{reason}, but {code}");
            }
            verdict = Verdict::Breaking;
            let name = ctx
                .field_name()
                .map(|n| format!("field `{n}`: "))
                .unwrap_or_default();
            reason = format!("{name}`{o}` → `{n}`; {reason}");
        }
        let reason = reason.as_str();
        let show = |b: bool| if b { "nullable" } else { "not nullable" }.to_string();
        self.push(
            verdict,
            ChangeKind::Nullability,
            ctx,
            Some(show(on)),
            Some(show(nn)),
            reason,
            pointers.clone(),
        );
    }

    fn enums(&mut self, ctx: &FieldCtx, ov: &Value, nv: &Value, pointers: &Pointers) {
        let (Some(oe), Some(ne)) = (enum_values(ov), enum_values(nv)) else {
            return;
        };
        let open = nv.get("enum").is_none();
        for value in oe.iter().filter(|v| !ne.contains(*v)) {
            let reason = if self.reads() && open {
                "the bank no longer sends this known value; the adapter's mapping of it to a domain value needs a look"
            } else if self.reads() {
                "the regenerated enum loses the variant; adapter code matching on it stops compiling"
            } else {
                "old clients may send a value the bank now rejects"
            };
            self.push(
                Verdict::Breaking,
                ChangeKind::EnumValueRemoved,
                ctx,
                Some(value.clone()),
                None,
                reason,
                pointers.clone(),
            );
        }
        for value in ne.iter().filter(|v| !oe.contains(*v)) {
            let (verdict, reason) = if self.reads() {
                (
                    Verdict::Compatible,
                    "the facade maps unknown values to Other",
                )
            } else {
                (
                    Verdict::Breaking,
                    "the regenerated request enum gains a variant; exhaustive matches on it in adapter code stop compiling",
                )
            };
            self.push(
                verdict,
                ChangeKind::EnumValueAdded,
                ctx,
                None,
                Some(value.clone()),
                reason,
                pointers.clone(),
            );
        }
    }
}
