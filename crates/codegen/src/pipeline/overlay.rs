//! Stage 3: apply a bank's `overlay.yaml` (OpenAPI Overlay 1.0); every action must still match.

use crate::error::{Error, Result};
use roas_overlay::apply::{Apply, ApplyErrorKind, ApplyOptions};
use roas_overlay::v1_0::Overlay;
use serde_json::Value;
use std::path::Path;

/// Parses overlay text; an empty file or one with no actions means "no fixups" (`None`).
pub fn parse(text: &str, path: &Path) -> Result<Option<Overlay>> {
    let value: Value = serde_yaml_ng::from_str(text).map_err(|e| Error::Yaml {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    if value.is_null() {
        return Ok(None);
    }
    if value
        .get("actions")
        .and_then(Value::as_array)
        .is_some_and(Vec::is_empty)
    {
        return Ok(None);
    }
    let overlay: Overlay = serde_json::from_value(value).map_err(|e| Error::Overlay {
        path: path.to_path_buf(),
        message: format!("not an Overlay 1.0 document: {e}"),
    })?;
    Ok(Some(overlay))
}

/// Applies `overlay` to `doc`; returns how many nodes each action touched.
pub fn apply(doc: &mut Value, overlay: &Overlay, path: &Path) -> Result<Vec<usize>> {
    match overlay.apply(doc, ApplyOptions::ErrorOnZeroMatch.into()) {
        Ok(report) => Ok(report.actions.iter().map(|a| a.matched).collect()),
        Err(e) if e.kind == ApplyErrorKind::ZeroMatch => Err(Error::OverlayNoMatch {
            path: path.to_path_buf(),
            index: e.action_index,
            target: e.target,
        }),
        Err(e) => Err(Error::Overlay {
            path: path.to_path_buf(),
            message: e.to_string(),
        }),
    }
}

/// Reads `path` and applies it, if it has any actions.
pub fn apply_file(doc: &mut Value, path: &Path) -> Result<Vec<usize>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    match parse(&text, path)? {
        Some(overlay) => apply(doc, &overlay, path),
        None => Ok(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const OVERLAY: &str = r#"
overlay: 1.0.0
info: {title: fixups, version: "1"}
actions:
  # the bank forgot that the id is required
  - target: $.paths['/a'].get
    update: {operationId: getA}
  - target: $.paths['/a'].get.parameters[?@.name == 'X-Old']
    remove: true
"#;

    fn doc() -> Value {
        json!({"paths": {"/a": {"get": {"parameters": [{"name": "X-Old", "in": "header"}, {"name": "q", "in": "query"}]}}}})
    }

    #[test]
    fn applies_updates_and_removals() {
        let overlay = parse(OVERLAY, Path::new("o.yaml")).unwrap().unwrap();
        let mut d = doc();
        assert_eq!(
            apply(&mut d, &overlay, Path::new("o.yaml")).unwrap(),
            [1, 1]
        );
        assert_eq!(
            d,
            json!({"paths": {"/a": {"get": {"operationId": "getA", "parameters": [{"name": "q", "in": "query"}]}}}})
        );
    }

    #[test]
    fn a_rotten_fixup_is_an_error() {
        let overlay = parse(
            &OVERLAY.replace("'/a'].get.", "'/b'].get."),
            Path::new("o.yaml"),
        )
        .unwrap()
        .unwrap();
        let mut d = doc();
        let err = apply(&mut d, &overlay, Path::new("o.yaml")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "o.yaml: overlay action #1 (target `$.paths['/b'].get.parameters[?@.name == 'X-Old']`) no longer matches anything in the document; remove or update the fixup"
        );
    }

    #[test]
    fn empty_overlays_are_no_ops() {
        assert!(parse("", Path::new("o.yaml")).unwrap().is_none());
        assert!(
            parse(
                "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions: []\n",
                Path::new("o.yaml")
            )
            .unwrap()
            .is_none()
        );
    }
}
