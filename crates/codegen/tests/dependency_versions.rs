//! The generator's one dependency table agrees with the workspace's
//! `[workspace.dependencies]`, so a standalone crate and a workspace member build against
//! the same versions and features.
#![allow(clippy::unwrap_used)]

use psd2_codegen::pipeline::crate_files::DEPENDENCIES;
use psd2_codegen::repo_root;
use toml::Value;

/// `{ version, features, default-features }` of a dependency spec (string or table).
fn normalized(spec: &Value) -> (String, Vec<String>, bool) {
    match spec {
        Value::String(v) => (v.clone(), Vec::new(), true),
        Value::Table(t) => {
            let mut features: Vec<String> = t
                .get("features")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|f| f.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            features.sort();
            (
                t["version"].as_str().unwrap().to_string(),
                features,
                t.get("default-features")
                    .and_then(Value::as_bool)
                    .unwrap_or(true),
            )
        }
        other => panic!("unexpected dependency spec {other}"),
    }
}

#[test]
fn the_table_matches_the_workspace_dependencies() {
    let manifest: Value =
        toml::from_str(&std::fs::read_to_string(repo_root().join("Cargo.toml")).unwrap()).unwrap();
    let workspace = &manifest["workspace"]["dependencies"];
    for (name, spec) in DEPENDENCIES {
        let ours: Value = toml::from_str(&format!("d = {spec}")).unwrap();
        let theirs = workspace
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not in [workspace.dependencies]"));
        assert_eq!(normalized(&ours["d"]), normalized(theirs), "{name}");
    }
}
