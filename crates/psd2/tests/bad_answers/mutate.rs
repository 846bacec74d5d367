//! Answers mutated from valid ones: every field of a valid answer removed or replaced by a
//! hostile value, plus whole-body damage (truncation, bytes that are not UTF-8, error bodies
//! sent with a success status, non-object bodies).

use serde_json::{Value, json};

/// Text a bank might put where it does not belong (a name and a Swedish personal id): it must
/// never appear in an error's `Display` or `Debug`.
pub const MARKER: &str = "Anna Andersson 19121212-1212";

/// Whether `text` shows any part of [`MARKER`].
pub fn leaks(text: &str) -> bool {
    text.contains("19121212") || text.contains("Anna Andersson")
}

/// One mutated answer.
pub struct Case {
    /// What was done, e.g. `replace transactions[1].amount.currency with "sek"`.
    pub name: String,
    /// The body served.
    pub body: Vec<u8>,
}

/// Placeholder replaced by bytes that are not UTF-8 after serializing.
const NOT_UTF8: &str = "\u{E000}not-utf8\u{E000}";

/// The values every node is replaced with.
fn replacements() -> Vec<(&'static str, Value)> {
    let number = |text: &str| -> Value { serde_json::from_str(text).expect("a JSON number") };
    vec![
        ("null", Value::Null),
        ("true", json!(true)),
        ("zero", number("0")),
        ("minus one", number("-1")),
        ("negative decimal", number("-12.50")),
        ("huge exponent", number("1e400")),
        ("tiny exponent", number("-1.5e-300")),
        (
            "40 digits",
            number("1234567890123456789012345678901234567890"),
        ),
        ("below i64", number("-9223372036854775809")),
        ("u64 max", number("18446744073709551615")),
        ("empty string", json!("")),
        ("long string", json!("x".repeat(5000))),
        ("marker", json!(MARKER)),
        ("impossible date", json!("2024-02-30")),
        ("lower-case currency", json!("sek")),
        ("decimal comma", json!("11,34")),
        ("control chars", json!("\u{0}\u{1b}[31m")),
        ("not UTF-8", json!(NOT_UTF8)),
        ("empty list", json!([])),
        ("empty object", json!({})),
        ("list of marker", json!([MARKER])),
    ]
}

/// Error bodies banks send, here with a success status.
pub fn error_bodies() -> Vec<(&'static str, String)> {
    vec![
        (
            "Berlin Group tppMessages",
            format!(
                r#"{{"tppMessages":[{{"category":"ERROR","code":"ACCESS_EXCEEDED","text":"{MARKER}"}}]}}"#
            ),
        ),
        (
            "Handelsbanken API Connect",
            format!(
                r#"{{"httpCode":"401","httpMessage":"Unauthorized","moreInformation":"{MARKER}"}}"#
            ),
        ),
        (
            "Swedbank ERA-PSD2",
            format!(
                r#"{{"id":"1","system":"ERA-PSD2","status":500,"code":"SYSTEM_ERROR","message":"{MARKER}"}}"#
            ),
        ),
        (
            "OAuth",
            format!(r#"{{"error":"invalid_grant","error_description":"{MARKER}"}}"#),
        ),
        (
            "bank text in the code",
            format!(r#"{{"tppMessages":[{{"category":"ERROR","code":"{MARKER}"}}]}}"#),
        ),
        (
            "problem",
            format!(
                r#"{{"type":"about:blank","title":"Consent expired","code":"CONSENT_EXPIRED","detail":"{MARKER}"}}"#
            ),
        ),
    ]
}

/// A segment of a node's position.
#[derive(Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn render(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if out.is_empty() => out.push_str(k),
            Seg::Key(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn collect(value: &Value, path: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                path.push(Seg::Key(key.clone()));
                out.push(path.clone());
                collect(child, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                out.push(path.clone());
                collect(child, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// The parent of the node at `path` and the node's last segment.
fn parent_mut<'a>(root: &'a mut Value, path: &[Seg]) -> Option<(&'a mut Value, Seg)> {
    let (last, init) = path.split_last()?;
    let mut here = root;
    for seg in init {
        here = match seg {
            Seg::Key(k) => here.get_mut(k.as_str())?,
            Seg::Index(i) => here.get_mut(*i)?,
        };
    }
    Some((here, last.clone()))
}

fn to_body(value: &Value) -> Vec<u8> {
    let text = serde_json::to_string(value).expect("serializable");
    if !text.contains(NOT_UTF8) {
        return text.into_bytes();
    }
    text.replace(NOT_UTF8, "\u{0}")
        .into_bytes()
        .into_iter()
        .map(|b| if b == 0 { 0xff } else { b })
        .collect()
}

/// Every mutation of `valid`.
pub fn cases(valid: &Value) -> Vec<Case> {
    let mut nodes = Vec::new();
    collect(valid, &mut Vec::new(), &mut nodes);
    let replacements = replacements();
    let mut out = Vec::new();
    for path in &nodes {
        let name = render(path);
        let mut removed = valid.clone();
        if let Some((parent, last)) = parent_mut(&mut removed, path) {
            match (parent, last) {
                (Value::Object(map), Seg::Key(k)) => {
                    map.remove(&k);
                }
                (Value::Array(items), Seg::Index(i)) if i < items.len() => {
                    items.remove(i);
                }
                _ => {}
            }
            out.push(Case {
                name: format!("remove {name}"),
                body: to_body(&removed),
            });
        }
        for (what, replacement) in &replacements {
            let mut changed = valid.clone();
            if let Some((parent, last)) = parent_mut(&mut changed, path) {
                match last {
                    Seg::Key(k) => parent[k.as_str()] = replacement.clone(),
                    Seg::Index(i) => parent[i] = replacement.clone(),
                }
                out.push(Case {
                    name: format!("replace {name} with {what}"),
                    body: to_body(&changed),
                });
            }
        }
    }
    out.extend(whole_body_cases(valid));
    out
}

fn whole_body_cases(valid: &Value) -> Vec<Case> {
    let body = to_body(valid);
    let mut out = Vec::new();
    let step = (body.len() / 16).max(1);
    for cut in (0..body.len()).step_by(step) {
        out.push(Case {
            name: format!("truncated after {cut} bytes"),
            body: body[..cut].to_vec(),
        });
    }
    for (name, error) in error_bodies() {
        out.push(Case {
            name: format!("error body ({name}) with a success status"),
            body: error.into_bytes(),
        });
    }
    for (name, text) in [
        ("empty body", ""),
        ("null", "null"),
        ("a list", "[]"),
        ("a string", "\"Anna Andersson 19121212-1212\""),
        ("html", "<html>Anna Andersson 19121212-1212</html>"),
        ("deep nesting", &"[".repeat(10_000)),
    ] {
        out.push(Case {
            name: name.to_owned(),
            body: text.as_bytes().to_vec(),
        });
    }
    let mut garbled = body.clone();
    for b in garbled.iter_mut().step_by(7) {
        if b.is_ascii_alphanumeric() {
            *b = 0xc3;
        }
    }
    out.push(Case {
        name: "every 7th byte not UTF-8".to_owned(),
        body: garbled,
    });
    out
}
