//! Bodies: request and success response content, error responses.

use super::Walker;
use super::doc::{Op, Scope, describe, escape, is_json, is_success, resolve};
use crate::model::{ChangeKind, Direction, Finding, Verdict};
use crate::schema::{FieldCtx, SchemaWalk};
use crate::surface::OpSurface;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

impl<'a> Walker<'a> {
    /// The Rust types of the current operation's body, success or error type.
    fn root_rust(&self, direction: Direction) -> (Option<String>, Option<String>) {
        let pick = |op: Option<&OpSurface>| {
            op.and_then(|op| match direction {
                Direction::Request => op.body.clone(),
                Direction::Response => Some(op.ok.clone()),
                Direction::Error => Some(op.err.clone()),
                Direction::Document => None,
            })
            .filter(|t| t != "?")
        };
        (pick(self.current.0), pick(self.current.1))
    }

    /// Compares the media types of a body (request or response).
    pub(super) fn content(
        &mut self,
        scope: &Scope,
        direction: Direction,
        root_label: &str,
        field_prefix: &str,
        old: (&'a Value, String),
        new: (&'a Value, String),
    ) {
        let pick = |v: &'a Value, p: &str| -> Option<(String, &'a Value, String)> {
            let content = v.get("content")?.as_object()?;
            let (mime, media) = content
                .iter()
                .find(|(k, _)| is_json(k))
                .or_else(|| content.iter().next())?;
            Some((mime.clone(), media, format!("{p}/content/{}", escape(mime))))
        };
        let (o, n) = (pick(old.0, &old.1), pick(new.0, &new.1));
        let kind = if direction == Direction::Response {
            ChangeKind::SuccessResponseType
        } else {
            ChangeKind::RequestBody
        };
        let pointers = |o: &Option<(String, &Value, String)>,
                        n: &Option<(String, &Value, String)>| {
            (
                o.as_ref().map(|x| x.2.clone()).or(Some(old.1.clone())),
                n.as_ref().map(|x| x.2.clone()).or(Some(new.1.clone())),
            )
        };
        let breaking = Verdict::Breaking;
        match (&o, &n) {
            (None, None) => {}
            (Some((om, oms, _)), None) => {
                let p = pointers(&o, &n);
                self.push_body(
                    scope,
                    direction,
                    breaking,
                    kind,
                    root_label,
                    (Some(media_label(self.old, om, oms)), Some("no body".into())),
                    "the body is gone; the generated type changes",
                    p,
                );
            }
            (None, Some((nm, nms, _))) => {
                let p = pointers(&o, &n);
                self.push_body(
                    scope,
                    direction,
                    breaking,
                    kind,
                    root_label,
                    (Some("no body".into()), Some(media_label(self.new, nm, nms))),
                    "a body appears where there was none; the generated type changes",
                    p,
                );
            }
            (Some(old_media), Some(new_media)) => self.both_bodies(
                scope,
                direction,
                kind,
                (root_label, field_prefix),
                old_media,
                new_media,
            ),
        }
    }

    /// Compares a body present in both documents: its media type, then its schema.
    fn both_bodies(
        &mut self,
        scope: &Scope,
        direction: Direction,
        kind: ChangeKind,
        (root_label, field_prefix): (&str, &str),
        (om, oms, op): &(String, &'a Value, String),
        (nm, nms, np): &(String, &'a Value, String),
    ) {
        let breaking = Verdict::Breaking;
        let p = (Some(op.clone()), Some(np.clone()));
        if is_json(om) != is_json(nm) {
            self.push_body(
                scope,
                direction,
                breaking,
                kind,
                root_label,
                (Some(om.clone()), Some(nm.clone())),
                "the media type changed; the generated client (de)serializes differently",
                p,
            );
            return;
        }
        match (oms.get("schema"), nms.get("schema")) {
            (Some(os), Some(ns)) => {
                let (ro, rn) = self.root_rust(direction);
                let ctx = FieldCtx::root(root_label.to_string(), field_prefix.to_string())
                    .with_rust(ro, rn);
                let mut walk = SchemaWalk::new(self, scope.clone(), direction);
                walk.top_level = direction == Direction::Response;
                walk.compare(
                    &ctx,
                    (os, format!("{op}/schema")),
                    (ns, format!("{np}/schema")),
                );
            }
            (None, None) => {}
            (os, ns) => {
                let d = |doc, s: Option<&Value>| {
                    s.map_or_else(|| "no schema".to_string(), |s| describe(doc, s))
                };
                self.push_body(
                    scope,
                    direction,
                    breaking,
                    kind,
                    root_label,
                    (Some(d(self.old, os)), Some(d(self.new, ns))),
                    "the body's schema appeared or disappeared; the generated type changes",
                    p,
                );
            }
        }
    }

    /// Records a change of a body (request, success or error) under `root_label`.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn push_body(
        &mut self,
        scope: &Scope,
        direction: Direction,
        verdict: Verdict,
        kind: ChangeKind,
        root_label: &str,
        states: (Option<String>, Option<String>),
        reason: &str,
        pointers: (Option<String>, Option<String>),
    ) {
        self.push(
            Some(scope),
            verdict,
            kind,
            direction,
            root_label.to_string(),
            None,
            states.0,
            states.1,
            reason,
            pointers,
        );
    }

    /// Records that response `status` was documented before or after only.
    fn push_status(
        &mut self,
        scope: &Scope,
        (kind, verdict): (ChangeKind, Verdict),
        status: &str,
        states: (Option<String>, Option<String>),
        reason: &str,
        pointers: (Option<String>, Option<String>),
    ) {
        self.push_body(
            scope,
            Direction::Response,
            verdict,
            kind,
            &format!("response {status}"),
            states,
            reason,
            pointers,
        );
    }

    pub(super) fn responses(&mut self, scope: &Scope, old_op: &Op<'a>, new_op: &Op<'a>) {
        let list = |op: &Op<'a>| -> BTreeMap<String, &'a Value> {
            op.value
                .get("responses")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v)).collect())
                .unwrap_or_default()
        };
        let (old, new) = (list(old_op), list(new_op));
        let new_has_success = new.keys().any(|s| is_success(s));
        let statuses: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        for status in statuses {
            let success = is_success(status);
            let op_ptr = format!("{}/responses/{}", old_op.pointer, escape(status));
            let np_ptr = format!("{}/responses/{}", new_op.pointer, escape(status));
            match (old.get(status), new.get(status)) {
                (Some(_), None) => {
                    let (kind, verdict, reason) = removed_status(success, new_has_success);
                    self.push_status(
                        scope,
                        (kind, verdict),
                        status,
                        (Some("documented".into()), None),
                        reason,
                        (Some(op_ptr), None),
                    );
                }
                (None, Some(_)) => {
                    let (kind, verdict, reason) = added_status(success);
                    self.push_status(
                        scope,
                        (kind, verdict),
                        status,
                        (None, Some("documented".into())),
                        reason,
                        (None, Some(np_ptr)),
                    );
                }
                (Some(o), Some(n)) => {
                    let (o, op, _) = resolve(self.old, o, &op_ptr);
                    let (n, np, _) = resolve(self.new, n, &np_ptr);
                    if success {
                        self.content(
                            scope,
                            Direction::Response,
                            &format!("response {status} body"),
                            &format!("response {status}"),
                            (o, op),
                            (n, np),
                        );
                    } else {
                        self.error_response(scope, status, (o, op), (n, np));
                    }
                }
                (None, None) => {}
            }
        }
    }

    /// Error bodies: a change that alters the generated error type in a way that breaks code
    /// reading it gets a line of its own, to review (deployed clients still see an error, and
    /// the facade keeps the raw body); the other differences are summarised in one compatible
    /// line per status.
    fn error_response(
        &mut self,
        scope: &Scope,
        status: &str,
        old: (&'a Value, String),
        new: (&'a Value, String),
    ) {
        let before = self.findings.len();
        self.content(
            scope,
            Direction::Error,
            &format!("response {status} body"),
            &format!("response {status}"),
            old.clone(),
            new.clone(),
        );
        let found: Vec<Finding> = self.findings.drain(before..).collect();
        if found.is_empty() {
            return;
        }
        for f in &found {
            self.quiet_pointers.extend(f.old_pointer.iter().cloned());
            self.quiet_pointers.extend(f.new_pointer.iter().cloned());
        }
        let error_type_renamed = matches!(self.current, (Some(o), Some(n)) if o.err != n.err);
        let (typed, quiet): (Vec<Finding>, Vec<Finding>) = found
            .into_iter()
            .partition(|f| f.verdict == Verdict::Breaking);
        for mut f in typed {
            if error_type_renamed && f.field.is_none() && f.kind == ChangeKind::SchemaRenamed {
                continue; // reported once for the operation as its error type
            }
            f.verdict = Verdict::Review;
            f.reason = format!(
                "in the error type: {}; deployed clients still see the error, and the facade keeps the raw body",
                f.reason
            );
            self.findings.push(f);
        }
        if quiet.is_empty() {
            return;
        }
        self.push(
            Some(scope),
            Verdict::Compatible,
            ChangeKind::ErrorResponse,
            Direction::Error,
            format!("response {status} body"),
            None,
            None,
            None,
            &format!(
                "{} schema difference(s); error bodies only feed the facade's error type, which keeps the raw body",
                quiet.len()
            ),
            (Some(old.1), Some(new.1)),
        );
    }
}

/// How a response status the new document no longer documents is classified.
fn removed_status(success: bool, new_has_success: bool) -> (ChangeKind, Verdict, &'static str) {
    if !success {
        (
            ChangeKind::ErrorResponse,
            Verdict::Compatible,
            "the bank no longer documents this error",
        )
    } else if new_has_success {
        (
            ChangeKind::SuccessStatus,
            Verdict::Compatible,
            "another success status remains",
        )
    } else {
        (
            ChangeKind::SuccessStatus,
            Verdict::Breaking,
            "no success response is left",
        )
    }
}

/// How a response status only the new document documents is classified.
fn added_status(success: bool) -> (ChangeKind, Verdict, &'static str) {
    if success {
        (
            ChangeKind::SuccessStatus,
            Verdict::Breaking,
            "deployed clients treat the new success status as an unexpected response",
        )
    } else {
        (
            ChangeKind::ErrorResponse,
            Verdict::Compatible,
            "error statuses reach the facade as errors either way",
        )
    }
}

/// A body as a change line shows it: the media type and what its schema describes.
fn media_label(doc: &Value, mime: &str, media: &Value) -> String {
    let ty = media.get("schema").map(|s| describe(doc, s));
    format!("{mime} {}", ty.unwrap_or_default())
        .trim_end()
        .to_string()
}
