//! Naming a bad value without showing it: its shape (length, kinds of characters) and, for a
//! JSON answer that does not decode, the path of the field where decoding stopped.
//!
//! A bank's answer may carry names, personal ids and free text in any field, so errors
//! describe the offending value by shape only ("3 chars: lower-case letters") and name the
//! field by its path in the answer (`transactions.booked[3].transactionAmount.currency`).

use std::fmt::Write as _;

use serde_json::Value;

/// Longest object key quoted in a path; longer keys (and keys that are not field-name-like)
/// are shown as `?`: a key is bank text too.
const MAX_KEY: usize = 64;

/// Describes `text` by its length and the kinds of characters in it, never its content:
/// `"empty"`, `"3 chars: lower-case letters"`, `"26 chars: letters, digits, spaces, other
/// symbols"`.
pub fn text_shape(text: &str) -> String {
    let count = text.chars().count();
    if count == 0 {
        return "empty".to_owned();
    }
    let mut upper = false;
    let mut lower = false;
    let mut digit = false;
    let mut space = false;
    let mut non_ascii = false;
    let mut control = false;
    let mut other = false;
    for c in text.chars() {
        match c {
            'A'..='Z' => upper = true,
            'a'..='z' => lower = true,
            '0'..='9' => digit = true,
            ' ' => space = true,
            c if c.is_control() => control = true,
            c if !c.is_ascii() => non_ascii = true,
            _ => other = true,
        }
    }
    let mut kinds: Vec<&str> = Vec::new();
    match (upper, lower) {
        (true, true) => kinds.push("letters"),
        (true, false) => kinds.push("upper-case letters"),
        (false, true) => kinds.push("lower-case letters"),
        (false, false) => {}
    }
    let flags = [
        (digit, "digits"),
        (space, "spaces"),
        (non_ascii, "non-ASCII characters"),
        (control, "control characters"),
        (other, "other symbols"),
    ];
    kinds.extend(flags.iter().filter(|(on, _)| *on).map(|(_, name)| *name));
    let unit = if count == 1 { "char" } else { "chars" };
    format!("{count} {unit}: {}", kinds.join(", "))
}

/// Describes a JSON value by its type and shape, never its content: `"a string of 3 chars:
/// lower-case letters"`, `"a number of 6 chars"`, `"an object"`, `"an array of 2"`, `"null"`.
pub fn json_shape(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(_) => "a boolean".to_owned(),
        Value::Number(n) => number_shape(&n.to_string()),
        Value::String(s) => format!("a string of {}", text_shape(s)),
        Value::Array(items) => format!("an array of {}", items.len()),
        Value::Object(_) => "an object".to_owned(),
    }
}

fn number_shape(text: &str) -> String {
    let sign = if text.starts_with('-') {
        ", negative"
    } else {
        ""
    };
    let kind = if text.contains(['.', 'e', 'E']) {
        "a number"
    } else {
        "an integer"
    };
    format!("{kind} of {} chars{sign}", text.len())
}

/// Appends `.key` (or `.?` for a key that is not field-name-like) to a path.
pub(crate) fn push_key(path: &mut String, key: &str) {
    if !path.is_empty() {
        path.push('.');
    }
    let plain = !key.is_empty()
        && key.len() <= MAX_KEY
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'$' | b'@'));
    path.push_str(if plain { key } else { "?" });
}

/// Appends `[index]` to a path.
pub(crate) fn push_index(path: &mut String, index: usize) {
    let _ = write!(path, "[{index}]");
}

/// Joins a path prefix and a relative path (`a.b` + `c[0]` = `a.b.c[0]`; `a[1]` + `[0]` =
/// `a[1][0]`).
pub(crate) fn join_path(prefix: &str, rest: &str) -> String {
    match (prefix.is_empty(), rest.is_empty()) {
        (_, true) => prefix.to_owned(),
        (true, false) => rest.to_owned(),
        (false, false) if rest.starts_with('[') => format!("{prefix}{rest}"),
        (false, false) => format!("{prefix}.{rest}"),
    }
}

/// Renders a `serde_path_to_error` path in this crate's form (`a.b[3].c`), keys checked as in
/// [`push_key`].
#[cfg_attr(not(feature = "adapters"), allow(dead_code))]
pub(crate) fn render_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => push_index(&mut out, *index),
            Segment::Map { key } => push_key(&mut out, key),
            Segment::Enum { variant } => push_key(&mut out, variant),
            Segment::Unknown => push_key(&mut out, "?"),
        }
    }
    out
}

/// The value at a `serde_path_to_error` path inside `root`, if it is there.
#[cfg_attr(not(feature = "adapters"), allow(dead_code))]
pub(crate) fn value_at<'a>(root: &'a Value, path: &serde_path_to_error::Path) -> Option<&'a Value> {
    use serde_path_to_error::Segment;
    let mut here = root;
    for segment in path.iter() {
        here = match segment {
            Segment::Seq { index } => here.get(*index)?,
            Segment::Map { key } => here.get(key.as_str())?,
            Segment::Enum { .. } | Segment::Unknown => return None,
        };
    }
    Some(here)
}

/// Where a decoding error points in a JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonSpot {
    /// The field's path (`transactions[3].amount.currency`; empty for the whole answer).
    pub path: String,
    /// The value's shape there (see [`json_shape`]), or what is there instead of a value.
    pub shape: String,
    /// The value's text as sent (at most 256 bytes), for verbose output only.
    pub raw: Option<String>,
}

/// The byte offset of a serde_json error position (1-based line, column of the last byte
/// read; column 0 means "before the line's first byte").
pub(crate) fn offset_of(body: &[u8], line: usize, column: usize) -> usize {
    let mut line_start = 0;
    let mut current = 1;
    if line > 1 {
        for (i, b) in body.iter().enumerate() {
            if *b == b'\n' {
                current += 1;
                if current == line {
                    line_start = i + 1;
                    break;
                }
            }
        }
    }
    line_start
        .saturating_add(column.saturating_sub(1))
        .min(body.len())
}

/// One open container while scanning.
enum Frame {
    /// An object; `key` is the member being read.
    Object { key: Option<String> },
    /// An array; `index` is the element being read.
    Array { index: usize },
}

fn path_of(stack: &[Frame]) -> String {
    let mut out = String::new();
    for frame in stack {
        match frame {
            Frame::Object { key: Some(key) } => push_key(&mut out, key),
            Frame::Object { key: None } => {}
            Frame::Array { index } => push_index(&mut out, *index),
        }
    }
    out
}

/// The path of the value in the JSON text `body` that covers byte `target` (or, between
/// values, the innermost container around it), with the value's shape. Scans without
/// recursion, so any nesting depth is safe. `None` when the body is not JSON up to `target`.
pub fn locate(body: &[u8], target: usize) -> Option<JsonSpot> {
    scan(body, target, false)
}

/// The innermost object or list open at byte `target` (the decoder's position when it found
/// a member missing: the last byte it read, inside the object that lacks it).
pub(crate) fn locate_container(body: &[u8], target: usize) -> Option<JsonSpot> {
    scan(body, target, true)
}

fn scan(body: &[u8], target: usize, want_container: bool) -> Option<JsonSpot> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    // Whether the next string is an object key.
    let mut expect_key = false;
    loop {
        while i < body.len() && body[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= body.len() || i > target {
            return Some(container_spot(&stack, i >= body.len()));
        }
        match body[i] {
            b'{' => {
                stack.push(Frame::Object { key: None });
                expect_key = true;
                i += 1;
            }
            b'[' => {
                stack.push(Frame::Array { index: 0 });
                expect_key = false;
                i += 1;
            }
            b'}' | b']' => {
                if i == target {
                    if want_container {
                        stack.pop();
                    }
                    return Some(container_spot(&stack, false));
                }
                stack.pop();
                i += 1;
            }
            b',' => {
                match stack.last_mut() {
                    Some(Frame::Array { index }) => *index = index.saturating_add(1),
                    Some(Frame::Object { key }) => {
                        *key = None;
                        expect_key = true;
                    }
                    None => return None,
                }
                i += 1;
            }
            b':' => i += 1,
            b'"' => {
                let end = string_end(body, i);
                if want_container && target <= end {
                    return Some(container_spot(&stack, end >= body.len()));
                }
                if expect_key {
                    let key = String::from_utf8_lossy(&body[i + 1..end.min(body.len())]);
                    if target <= end {
                        let mut spot = container_spot(&stack, false);
                        push_key(&mut spot.path, &key);
                        spot.shape = "a field name".to_owned();
                        return Some(spot);
                    }
                    if let Some(Frame::Object { key: slot }) = stack.last_mut() {
                        *slot = Some(key.into_owned());
                    }
                    expect_key = false;
                } else if target <= end {
                    let text = &body[i..(end + 1).min(body.len())];
                    return Some(scalar_spot(&stack, text, end >= body.len()));
                }
                i = end + 1;
            }
            _ => {
                let start = i;
                while i < body.len()
                    && !matches!(body[i], b',' | b'}' | b']' | b':')
                    && !body[i].is_ascii_whitespace()
                {
                    i += 1;
                }
                if target < i {
                    if want_container {
                        return Some(container_spot(&stack, i >= body.len()));
                    }
                    return Some(scalar_spot(&stack, &body[start..i], i >= body.len()));
                }
            }
        }
    }
}

/// The index of the closing quote of the string starting at `start` (or `body.len()`).
fn string_end(body: &[u8], start: usize) -> usize {
    let mut j = start + 1;
    while j < body.len() {
        match body[j] {
            b'\\' => j += 2,
            b'"' => return j,
            _ => j += 1,
        }
    }
    body.len()
}

fn container_spot(stack: &[Frame], truncated: bool) -> JsonSpot {
    let shape = if truncated {
        "the answer ends here (truncated)"
    } else {
        match stack.last() {
            Some(Frame::Array { .. }) => "an array",
            Some(Frame::Object { .. }) => "an object",
            None => "the whole answer",
        }
    };
    JsonSpot {
        path: path_of(stack),
        shape: shape.to_owned(),
        raw: None,
    }
}

fn scalar_spot(stack: &[Frame], text: &[u8], truncated: bool) -> JsonSpot {
    let lossy = String::from_utf8_lossy(text);
    let shape = if truncated {
        "a value cut off by the end of the answer".to_owned()
    } else if std::str::from_utf8(text).is_err() {
        format!("{} bytes, not UTF-8", text.len())
    } else {
        match serde_json::from_slice::<Value>(text) {
            Ok(value) => json_shape(&value),
            Err(_) => format!("not a JSON value ({})", text_shape(&lossy)),
        }
    };
    JsonSpot {
        path: path_of(stack),
        shape,
        raw: Some(lossy.chars().take(256).collect()),
    }
}
