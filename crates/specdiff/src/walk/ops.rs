//! Operation-level checks: pairing, operationIds, parameters, request bodies, security.

use super::Walker;
use super::doc::{
    Op, Param, Scope, describe, operations, params, requirement, resolve, scope_of, snake,
};
use super::document::requirements;
use crate::model::{ChangeKind, Direction, Verdict};
use crate::schema::{FieldCtx, SchemaWalk};
use crate::surface::{OpSurface, param_key};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

impl<'a> Walker<'a> {
    pub(super) fn operations(&mut self) {
        let old_ops = operations(self.old);
        let new_ops = operations(self.new);
        let new_by_key: BTreeMap<(String, String), usize> = new_ops
            .iter()
            .enumerate()
            .map(|(i, op)| (op.key(), i))
            .collect();
        let mut new_used = vec![false; new_ops.len()];
        let mut unmatched_old = Vec::new();
        for old_op in &old_ops {
            match new_by_key.get(&old_op.key()) {
                Some(&i) if !new_used[i] => {
                    new_used[i] = true;
                    self.operation(old_op, &new_ops[i]);
                }
                _ => unmatched_old.push(old_op),
            }
        }
        for old_op in unmatched_old {
            let moved = old_op.id.as_ref().and_then(|id| {
                new_ops
                    .iter()
                    .enumerate()
                    .find(|(i, n)| !new_used[*i] && n.id.as_ref() == Some(id))
                    .map(|(i, _)| i)
            });
            let scope = scope_of(old_op);
            match moved {
                Some(i) => {
                    new_used[i] = true;
                    let new_op = &new_ops[i];
                    self.push(
                        Some(&scope),
                        Verdict::Breaking,
                        ChangeKind::OperationMoved,
                        Direction::Document,
                        "method and path".into(),
                        None,
                        Some(old_op.route()),
                        Some(new_op.route()),
                        "deployed clients call the old URL; the regenerated method sends requests elsewhere",
                        (Some(old_op.pointer.clone()), Some(new_op.pointer.clone())),
                    );
                    self.operation(old_op, new_op);
                }
                None => self.push(
                    Some(&scope),
                    Verdict::Breaking,
                    ChangeKind::OperationRemoved,
                    Direction::Document,
                    "operation".into(),
                    None,
                    Some(old_op.route()),
                    None,
                    "the operation is gone: calls fail and the generated method disappears",
                    (Some(old_op.pointer.clone()), None),
                ),
            }
        }
        for (i, new_op) in new_ops.iter().enumerate() {
            if !new_used[i] {
                self.push(
                    Some(&scope_of(new_op)),
                    Verdict::Compatible,
                    ChangeKind::OperationAdded,
                    Direction::Document,
                    "operation".into(),
                    None,
                    None,
                    Some(new_op.route()),
                    "a new operation; nothing that exists uses it yet",
                    (None, Some(new_op.pointer.clone())),
                );
            }
        }
    }

    fn operation(&mut self, old_op: &Op<'a>, new_op: &Op<'a>) {
        let scope = scope_of(old_op);
        self.current = match self.surfaces {
            Some((so, sn)) => (
                so.op(&old_op.method, &old_op.path),
                sn.op(&new_op.method, &new_op.path),
            ),
            None => (None, None),
        };
        self.error_type(&scope, old_op, new_op);
        if old_op.id != new_op.id {
            self.push(
                Some(&scope),
                Verdict::Breaking,
                ChangeKind::OperationRenamed,
                Direction::Document,
                "operationId".into(),
                None,
                old_op.id.clone(),
                new_op.id.clone(),
                "the generated method is renamed; adapter code calling it stops compiling",
                (Some(old_op.pointer.clone()), Some(new_op.pointer.clone())),
            );
        }
        self.parameters(&scope, old_op, new_op);
        self.request_body(&scope, old_op, new_op);
        self.responses(&scope, old_op, new_op);
        let has_own = |op: &Op<'_>| op.value.get("security").is_some();
        if has_own(old_op) || has_own(new_op) {
            let effective = |op: &Op<'_>, doc: &Value| {
                requirements(op.value.get("security").or_else(|| doc.get("security")))
            };
            let (o, n) = (effective(old_op, self.old), effective(new_op, self.new));
            if o != n {
                self.push(
                    Some(&scope),
                    Verdict::Breaking,
                    ChangeKind::SecurityChanged,
                    Direction::Document,
                    "operation security requirement".into(),
                    None,
                    Some(o),
                    Some(n),
                    "the operation now needs other credentials",
                    (
                        Some(format!("{}/security", old_op.pointer)),
                        Some(format!("{}/security", new_op.pointer)),
                    ),
                );
            }
        }
    }

    /// The operation's generated error type (`Error<E>` in every call's result).
    fn error_type(&mut self, scope: &Scope, old_op: &Op<'a>, new_op: &Op<'a>) {
        let (Some(o), Some(n)) = self.current else {
            return;
        };
        if o.err == n.err || o.err == "?" || n.err == "?" {
            return;
        }
        self.push(
            Some(scope),
            Verdict::Breaking,
            ChangeKind::ErrorResponse,
            Direction::Error,
            "error type".into(),
            None,
            Some(o.err.clone()),
            Some(n.err.clone()),
            "every call's result names the error type (`Error<E>`); code naming the old one stops compiling",
            (
                Some(format!("{}/responses", old_op.pointer)),
                Some(format!("{}/responses", new_op.pointer)),
            ),
        );
    }

    fn parameters(&mut self, scope: &Scope, old_op: &Op<'a>, new_op: &Op<'a>) {
        let old = params(self.old, old_op);
        let new = params(self.new, new_op);
        let keys: BTreeSet<&(String, String)> = old.keys().chain(new.keys()).collect();
        for key in keys {
            match (old.get(key), new.get(key)) {
                (Some(o), None) => self.push(
                    Some(scope),
                    Verdict::Breaking,
                    ChangeKind::ParameterRemoved,
                    Direction::Request,
                    format!("parameter {} {}", o.location, o.name),
                    None,
                    Some(requirement(o.required)),
                    None,
                    "the regenerated builder loses the setter; adapter code calling it stops compiling",
                    (Some(o.pointer.clone()), None),
                ),
                (None, Some(n)) => {
                    let (verdict, reason) = if n.required {
                        (
                            Verdict::Breaking,
                            "old clients do not send it, and the regenerated builder fails until adapter code sets it",
                        )
                    } else {
                        (Verdict::Compatible, "optional; old clients simply omit it")
                    };
                    let ty = n.schema.map(|s| describe(self.new, s)).unwrap_or_default();
                    self.push(
                        Some(scope),
                        verdict,
                        ChangeKind::ParameterAdded,
                        Direction::Request,
                        format!("parameter {} {}", n.location, n.name),
                        None,
                        None,
                        Some(format!("{} {ty}", requirement(n.required)).trim_end().to_string()),
                        reason,
                        (None, Some(n.pointer.clone())),
                    );
                }
                (Some(o), Some(n)) => self.parameter(scope, o, n),
                (None, None) => {}
            }
        }
    }

    fn parameter(&mut self, scope: &Scope, o: &Param<'a>, n: &Param<'a>) {
        let location = format!("parameter {} {}", n.location, n.name);
        let pointers = (Some(o.pointer.clone()), Some(n.pointer.clone()));
        if o.location == "path" && snake(&o.name) != snake(&n.name) {
            self.push(
                Some(scope),
                Verdict::Breaking,
                ChangeKind::ParameterRenamed,
                Direction::Request,
                location.clone(),
                None,
                Some(o.name.clone()),
                Some(n.name.clone()),
                "the regenerated builder's setter is renamed; adapter code calling it stops compiling",
                pointers.clone(),
            );
        }
        if o.required != n.required {
            let (verdict, reason) = if n.required {
                (
                    Verdict::Breaking,
                    "old clients may omit a parameter the bank now requires",
                )
            } else {
                (Verdict::Compatible, "the bank no longer insists on it")
            };
            self.push(
                Some(scope),
                verdict,
                ChangeKind::ParameterRequirement,
                Direction::Request,
                location.clone(),
                None,
                Some(requirement(o.required)),
                Some(requirement(n.required)),
                reason,
                pointers,
            );
        }
        if let (Some(os), Some(ns)) = (o.schema, n.schema) {
            let rust = |op: Option<&OpSurface>, p: &Param<'a>| {
                op.and_then(|op| op.params.get(&param_key(&p.location, &p.name)))
                    .filter(|t| t.as_str() != "?")
                    .cloned()
            };
            let ctx = FieldCtx::root(location.clone(), location)
                .with_rust(rust(self.current.0, o), rust(self.current.1, n));
            let mut walk = SchemaWalk::new(self, scope.clone(), Direction::Request);
            walk.compare(
                &ctx,
                (os, format!("{}/schema", o.pointer)),
                (ns, format!("{}/schema", n.pointer)),
            );
        }
    }

    /// Records a change of the request body itself (present, required).
    fn push_request_body(
        &mut self,
        scope: &Scope,
        verdict: Verdict,
        states: (Option<String>, Option<String>),
        reason: &str,
        pointers: (Option<String>, Option<String>),
    ) {
        self.push_body(
            scope,
            Direction::Request,
            verdict,
            ChangeKind::RequestBody,
            "request body",
            states,
            reason,
            pointers,
        );
    }

    fn request_body(&mut self, scope: &Scope, old_op: &Op<'a>, new_op: &Op<'a>) {
        let body = |doc: &'a Value, op: &Op<'a>| {
            op.value.get("requestBody").map(|b| {
                let (b, p, _) = resolve(doc, b, &format!("{}/requestBody", op.pointer));
                (b, p)
            })
        };
        let required = |b: &Value| b.get("required").and_then(Value::as_bool).unwrap_or(false);
        match (body(self.old, old_op), body(self.new, new_op)) {
            (None, None) => {}
            (Some((o, op)), None) => self.push_request_body(
                scope,
                Verdict::Breaking,
                (Some(requirement(required(o))), None),
                "the regenerated builder loses `body`; adapter code setting it stops compiling",
                (Some(op), None),
            ),
            (None, Some((n, np))) => {
                let (verdict, reason) = if required(n) {
                    (
                        Verdict::Breaking,
                        "old clients send no body where one is now required",
                    )
                } else {
                    (Verdict::Compatible, "optional; old clients simply omit it")
                };
                self.push_request_body(
                    scope,
                    verdict,
                    (None, Some(requirement(required(n)))),
                    reason,
                    (None, Some(np)),
                );
            }
            (Some((o, op)), Some((n, np))) => {
                if required(o) != required(n) {
                    let (verdict, reason) = if required(n) {
                        (
                            Verdict::Breaking,
                            "old clients may omit a body the bank now requires",
                        )
                    } else {
                        (Verdict::Compatible, "the bank no longer insists on a body")
                    };
                    self.push_request_body(
                        scope,
                        verdict,
                        (
                            Some(requirement(required(o))),
                            Some(requirement(required(n))),
                        ),
                        reason,
                        (Some(op.clone()), Some(np.clone())),
                    );
                }
                self.content(
                    scope,
                    Direction::Request,
                    "request body",
                    "request",
                    (o, op),
                    (n, np),
                );
            }
        }
    }
}
