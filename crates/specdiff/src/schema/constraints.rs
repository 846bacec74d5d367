//! Request constraints (`maxLength`, `pattern`, `minimum`, ...): the generator keeps them on
//! request types as validating types, so a tighter one refuses values old callers pass.
//! Response constraints are relaxed by the generator and not compared.

use super::{FieldCtx, Pointers, SchemaWalk};
use crate::model::{ChangeKind, Verdict};
use serde_json::Value;

/// Numeric constraints, and whether a smaller value is the tighter one.
const BOUNDS: [(&str, bool); 6] = [
    ("maxLength", true),
    ("maxItems", true),
    ("maximum", true),
    ("minLength", false),
    ("minItems", false),
    ("minimum", false),
];

impl SchemaWalk<'_, '_> {
    pub(super) fn constraints(
        &mut self,
        ctx: &FieldCtx,
        ov: &Value,
        nv: &Value,
        pointers: &Pointers,
    ) {
        if self.reads() {
            return;
        }
        for (key, smaller_is_tighter) in BOUNDS {
            let (o, n) = (ov.get(key), nv.get(key));
            let (of, nf) = (o.and_then(Value::as_f64), n.and_then(Value::as_f64));
            if of == nf {
                continue;
            }
            let tightened = match (of, nf) {
                (None, Some(_)) => true,
                (Some(a), Some(b)) => (b < a) == smaller_is_tighter,
                _ => false,
            };
            let show = |v: Option<&Value>| v.map(|v| format!("{key} {v}"));
            self.constraint(ctx, tightened, (show(o), show(n)), pointers);
        }
        for key in ["exclusiveMinimum", "exclusiveMaximum"] {
            let flag = |v: &Value| v.get(key).and_then(Value::as_bool).unwrap_or(false);
            if flag(ov) != flag(nv) {
                let show = |b: bool| {
                    Some(if b {
                        key.to_string()
                    } else {
                        format!("no {key}")
                    })
                };
                self.constraint(ctx, flag(nv), (show(flag(ov)), show(flag(nv))), pointers);
            }
        }
        let pattern = |v: &Value| v.get("pattern").and_then(Value::as_str).map(str::to_string);
        let (op, np) = (pattern(ov), pattern(nv));
        if op != np {
            let show = |p: &Option<String>| p.as_ref().map(|p| format!("pattern {p}"));
            self.constraint(ctx, np.is_some(), (show(&op), show(&np)), pointers);
        }
    }

    fn constraint(
        &mut self,
        ctx: &FieldCtx,
        tightened: bool,
        (old, new): (Option<String>, Option<String>),
        pointers: &Pointers,
    ) {
        let (verdict, reason) = if tightened {
            (
                Verdict::Breaking,
                "a value old callers pass may now be refused by the generated request type and by the bank",
            )
        } else {
            (Verdict::Compatible, "the bank accepts more than before")
        };
        self.push(
            verdict,
            ChangeKind::Constraint,
            ctx,
            old,
            new,
            reason,
            pointers.clone(),
        );
    }
}
