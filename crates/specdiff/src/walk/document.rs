//! Document-level checks: servers and security schemes.

use super::doc::escape;
use super::{Walker, resolve};
use crate::model::{ChangeKind, Direction, Verdict};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

impl<'a> Walker<'a> {
    pub(super) fn servers(&mut self) {
        let urls = |doc: &Value| -> Vec<String> {
            doc.get("servers")
                .and_then(Value::as_array)
                .map(|s| {
                    s.iter()
                        .filter_map(|s| s.get("url").and_then(Value::as_str))
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        let (old, new) = (urls(self.old), urls(self.new));
        if old == new {
            return;
        }
        let lost = old.iter().any(|u| !new.contains(u));
        let (verdict, reason) = if lost {
            (
                Verdict::Breaking,
                "clients configured with the old base URL no longer reach the API; update bank.toml servers and client configs",
            )
        } else {
            (Verdict::Compatible, "only new servers were added")
        };
        let show = |v: &[String]| {
            if v.is_empty() {
                "(none)".to_string()
            } else {
                v.join(", ")
            }
        };
        self.push(
            None,
            verdict,
            ChangeKind::ServerChanged,
            Direction::Document,
            "servers".into(),
            None,
            Some(show(&old)),
            Some(show(&new)),
            reason,
            (Some("#/servers".into()), Some("#/servers".into())),
        );
    }

    pub(super) fn security_schemes(&mut self) {
        let schemes = |doc: &'a Value| -> BTreeMap<String, &'a Value> {
            doc.pointer("/components/securitySchemes")
                .and_then(Value::as_object)
                .map(|m| m.iter().map(|(k, v)| (k.clone(), v)).collect())
                .unwrap_or_default()
        };
        let (old, new) = (schemes(self.old), schemes(self.new));
        let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
        for name in names {
            let pointer = Some(format!("#/components/securitySchemes/{}", escape(name)));
            let location = format!("security scheme {name}");
            match (old.get(name), new.get(name)) {
                (Some(o), None) => self.push(
                    None,
                    Verdict::Breaking,
                    ChangeKind::SecurityChanged,
                    Direction::Document,
                    location,
                    None,
                    Some(describe_scheme(self.old, o)),
                    None,
                    "the scheme is gone; the facade's auth hooks must use what the bank now requires",
                    (pointer, None),
                ),
                (None, Some(n)) => self.push(
                    None,
                    Verdict::Compatible,
                    ChangeKind::SecurityChanged,
                    Direction::Document,
                    location,
                    None,
                    None,
                    Some(describe_scheme(self.new, n)),
                    "a new scheme; no operation that old clients call requires it unless reported below",
                    (None, pointer),
                ),
                (Some(o), Some(n)) => {
                    let (od, nd) = (describe_scheme(self.old, o), describe_scheme(self.new, n));
                    if od != nd {
                        self.push(
                            None,
                            Verdict::Breaking,
                            ChangeKind::SecurityChanged,
                            Direction::Document,
                            location,
                            None,
                            Some(od),
                            Some(nd),
                            "the scheme's type, location or token endpoints changed; the auth hooks must follow",
                            (pointer.clone(), pointer),
                        );
                    }
                }
                (None, None) => {}
            }
        }
        let (og, ng) = (
            requirements(self.old.get("security")),
            requirements(self.new.get("security")),
        );
        if og != ng {
            self.push(
                None,
                Verdict::Breaking,
                ChangeKind::SecurityChanged,
                Direction::Document,
                "global security requirement".into(),
                None,
                Some(og),
                Some(ng),
                "operations without their own `security` now need other credentials",
                (Some("#/security".into()), Some("#/security".into())),
            );
        }
    }
}

/// A security requirement list as text: alternatives separated by ` | `, schemes by ` + `.
pub(super) fn requirements(value: Option<&Value>) -> String {
    let Some(list) = value.and_then(Value::as_array) else {
        return "(none)".into();
    };
    let mut alts: Vec<String> = list
        .iter()
        .filter_map(Value::as_object)
        .map(|req| {
            let mut names: Vec<String> = req
                .iter()
                .map(|(k, scopes)| {
                    let scopes: Vec<&str> = scopes
                        .as_array()
                        .map(|s| s.iter().filter_map(Value::as_str).collect())
                        .unwrap_or_default();
                    if scopes.is_empty() {
                        k.clone()
                    } else {
                        format!("{k}[{}]", scopes.join(" "))
                    }
                })
                .collect();
            names.sort();
            if names.is_empty() {
                "anonymous".into()
            } else {
                names.join(" + ")
            }
        })
        .collect();
    alts.sort();
    if alts.is_empty() {
        "(none)".into()
    } else {
        alts.join(" | ")
    }
}

/// The parts of a security scheme a client depends on, as text.
fn describe_scheme(doc: &Value, scheme: &Value) -> String {
    let (s, _, _) = resolve(doc, scheme, "");
    let get = |k: &str| s.get(k).and_then(Value::as_str).unwrap_or("");
    let mut parts = vec![get("type").to_string()];
    for k in ["scheme", "bearerFormat", "in", "name", "openIdConnectUrl"] {
        if !get(k).is_empty() {
            parts.push(format!("{k}={}", get(k)));
        }
    }
    if let Some(flows) = s.get("flows").and_then(Value::as_object) {
        for (flow, f) in flows {
            let mut p = vec![flow.clone()];
            for k in ["authorizationUrl", "tokenUrl", "refreshUrl"] {
                if let Some(u) = f.get(k).and_then(Value::as_str) {
                    p.push(format!("{k}={u}"));
                }
            }
            if let Some(scopes) = f.get("scopes").and_then(Value::as_object) {
                let names: Vec<&str> = scopes.keys().map(String::as_str).collect();
                p.push(format!("scopes=[{}]", names.join(" ")));
            }
            parts.push(p.join(" "));
        }
    }
    parts.join(", ")
}
