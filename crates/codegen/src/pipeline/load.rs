//! Stage 1: read a YAML or JSON document into a `serde_json::Value`.

use crate::error::{Error, Result};
use serde_json::Value;
use std::path::Path;

/// Reads `path`; `.json` files are parsed as JSON, everything else as YAML.
pub fn load(path: &Path) -> Result<(Value, Vec<u8>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let value = parse(&bytes, path)?;
    Ok((value, bytes))
}

/// Parses document bytes, choosing the format from the file extension.
pub fn parse(bytes: &[u8], path: &Path) -> Result<Value> {
    let is_json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let value: Value = if is_json {
        serde_json::from_slice(bytes).map_err(|e| Error::Json {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?
    } else {
        serde_yaml_ng::from_slice(bytes).map_err(|e| Error::Yaml {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?
    };
    if !value.is_object() {
        return Err(Error::Normalize {
            path: path.to_path_buf(),
            message: "the document is not a mapping (expected an OpenAPI or Swagger object)".into(),
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_and_json_give_the_same_value() {
        let y = parse(b"openapi: 3.0.1\ninfo: {title: t}\n", Path::new("a.yaml")).unwrap();
        let j = parse(
            br#"{"openapi":"3.0.1","info":{"title":"t"}}"#,
            Path::new("a.json"),
        )
        .unwrap();
        assert_eq!(y, j);
    }

    #[test]
    fn invalid_yaml_names_the_file() {
        let err = parse(b"openapi: [unclosed\n", Path::new("bad.yaml")).unwrap_err();
        assert!(
            err.to_string().starts_with("bad.yaml: invalid YAML:"),
            "{err}"
        );
    }

    #[test]
    fn invalid_json_names_the_file() {
        let err = parse(b"{\"openapi\": ", Path::new("bad.json")).unwrap_err();
        assert!(
            err.to_string().starts_with("bad.json: invalid JSON:"),
            "{err}"
        );
    }
}
