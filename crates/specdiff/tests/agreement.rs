//! Agreement with an independent differ, npm `api-smart-diff` (installed by `.ci/run` into
//! `target/oracles/specdiff`), on pairs of our own (`tests/fixtures/`) and on variants of the
//! real documents in `../shared/realspecs/` derived at test time (`agreement/mutate.rs`).
//!
//! Every breaking change the independent tool reports on response bodies and parameters must
//! be breaking here too (on the same operation, the same parameter or response status), unless
//! it falls in a class listed in `agreement/exceptions.toml` with the reason. The figures both
//! ways are printed (`cargo test -p psd2-specdiff --test agreement -- --nocapture`).

#![allow(clippy::unwrap_used)] // tests may unwrap (team rules)

#[path = "agreement/mutate.rs"]
mod mutate;

use psd2_specdiff::{Report, Surface, Verdict, compare_with, prepare_inputs};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const ORACLE: &str = "api-smart-diff";

fn manifest() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The installed independent differ, or `None` (skipped locally, a failure under CI=true).
fn oracle() -> Option<PathBuf> {
    let dir = std::env::var_os("SPECDIFF_ORACLE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest().join("../../target/oracles/specdiff"));
    let module = dir.join("node_modules").join(ORACLE);
    let node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if node && module.join("package.json").is_file() {
        return Some(module);
    }
    psd2_test_support::oracle_missing(
        "api-smart-diff (npm) and node",
        "install it as .ci/run does: npm install --prefix target/oracles/specdiff api-smart-diff@1.0.6",
    );
    None
}

/// One breaking change the independent tool reports.
#[derive(Debug, Clone, Deserialize)]
struct Theirs {
    action: String,
    path: Vec<String>,
}

/// Where a change is, at the granularity both tools share.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Area {
    /// A parameter, by name (lower case).
    Parameter(String),
    /// A response, by status.
    Response(String),
}

/// The area of one of their changes, if it is on a response body or a parameter.
fn their_area(doc: &Value, t: &Theirs) -> Option<(String, Area)> {
    let [first, path, method, part, key, ..] = t.path.as_slice() else {
        return None;
    };
    if first != "paths" {
        return None;
    }
    let route = format!("{} {path}", method.to_uppercase());
    match part.as_str() {
        "responses" => Some((route, Area::Response(key.clone()))),
        "parameters" => {
            let i: usize = key.parse().ok()?;
            let op = doc.get("paths")?.get(path)?.get(method)?;
            let p = op.get("parameters")?.get(i)?;
            let p = match p.get("$ref").and_then(Value::as_str) {
                Some(r) => doc.pointer(r.strip_prefix('#')?)?,
                None => p,
            };
            let name = p.get("name")?.as_str()?.to_ascii_lowercase();
            Some((route, Area::Parameter(name)))
        }
        _ => None,
    }
}

/// The areas of one of our findings (on its operations), if on a response or a parameter.
fn our_areas(f: &psd2_specdiff::Finding) -> Vec<(String, Area)> {
    let mut words = f.location.split_whitespace();
    let area = match (words.next(), words.next(), words.next()) {
        (Some("parameter"), Some(_), Some(name)) => Area::Parameter(name.to_ascii_lowercase()),
        (Some("response"), Some(status), _) => Area::Response(status.to_string()),
        (Some("error"), Some("type"), _) => Area::Response("error".into()),
        _ => return Vec::new(),
    };
    f.operation_routes
        .iter()
        .map(|r| (r.clone(), area.clone()))
        .collect()
}

fn area_matches(ours: &Area, theirs: &Area) -> bool {
    match (ours, theirs) {
        (Area::Response(o), Area::Response(t)) if o == "error" => !t.starts_with('2'),
        _ => ours == theirs,
    }
}

/// The disagreement classes kept on purpose.
#[derive(Debug, Deserialize)]
struct Exceptions {
    class: Vec<Class>,
}

#[derive(Debug, Deserialize)]
struct Class {
    id: String,
    reason: String,
}

fn exceptions() -> Exceptions {
    let text = std::fs::read_to_string(manifest().join("tests/agreement/exceptions.toml")).unwrap();
    let e: Exceptions = toml::from_str(&text).unwrap();
    for c in &e.class {
        assert!(!c.reason.trim().is_empty(), "class {} has no reason", c.id);
    }
    e
}

/// Which listed class one of their breaking changes that we do not call breaking belongs to.
fn classify(t: &Theirs, area: &Area, report: &Report, route: &str) -> &'static str {
    let last = t.path.last().map(String::as_str).unwrap_or_default();
    let in_schema = t.path.iter().any(|s| s == "schema");
    let response = matches!(area, Area::Response(_));
    let ours_here = report.changes.iter().filter(|f| {
        our_areas(f)
            .iter()
            .any(|(r, a)| r == route && area_matches(a, area))
    });
    let verdicts: Vec<Verdict> = ours_here.map(|f| f.verdict).collect();
    match area {
        Area::Response(status) if !status.starts_with('2') => {
            if verdicts.contains(&Verdict::Review) {
                "error-body-typed-review"
            } else {
                "error-body-untyped-change"
            }
        }
        _ if response
            && in_schema
            && [
                "maxLength",
                "minLength",
                "pattern",
                "maximum",
                "minimum",
                "maxItems",
                "minItems",
                "format",
                "exclusiveMaximum",
                "exclusiveMinimum",
                "multipleOf",
            ]
            .contains(&last) =>
        {
            "response-constraint-relaxed"
        }
        _ if response && t.path.iter().any(|s| s == "enum") => "response-enum-opened",
        _ if response && t.path.iter().any(|s| s == "additionalProperties") => {
            "response-object-opened"
        }
        _ if response && t.path.iter().any(|s| s == "required") && t.action == "add" => {
            "response-required-same-rust-type"
        }
        _ if response && t.path.iter().any(|s| s == "headers") => "response-headers",
        Area::Parameter(_) if verdicts.contains(&Verdict::Compatible) => {
            "parameter-loosened-or-hook-set"
        }
        Area::Parameter(_) => "parameter-dropped-by-generator",
        _ => "unexplained",
    }
}

/// Tallies of one run.
#[derive(Default, Debug)]
struct Tally {
    theirs: usize,
    theirs_agreed: usize,
    by_class: BTreeMap<String, usize>,
    ours: usize,
    ours_agreed: usize,
    unexplained: Vec<String>,
    noise: usize,
}

impl Tally {
    fn add(
        &mut self,
        label: &str,
        theirs_doc: &Value,
        theirs: &[Theirs],
        report: &Report,
        listed: &[String],
    ) {
        let their_areas: Vec<(String, Area)> = theirs
            .iter()
            .filter_map(|t| their_area(theirs_doc, t))
            .collect();
        let verbose = std::env::var_os("SPECDIFF_AGREEMENT_VERBOSE").is_some();
        // One change per operation and area: the granularity both tools share.
        let mut seen: Vec<(String, Area)> = Vec::new();
        for t in theirs {
            let Some((route, area)) = their_area(theirs_doc, t) else {
                continue;
            };
            if seen.contains(&(route.clone(), area.clone())) {
                continue;
            }
            seen.push((route.clone(), area.clone()));
            self.theirs += 1;
            let agreed = report.changes.iter().any(|f| {
                f.verdict == Verdict::Breaking
                    && our_areas(f)
                        .iter()
                        .any(|(r, a)| *r == route && area_matches(a, &area))
            });
            if agreed {
                self.theirs_agreed += 1;
                continue;
            }
            let class = classify(t, &area, report, &route);
            *self.by_class.entry(class.to_string()).or_default() += 1;
            let line = format!("{label}: [{class}] {} {}", t.action, t.path.join("/"));
            if verbose {
                println!("  disagreement {line}");
            }
            if !listed.iter().any(|c| c == class) {
                self.unexplained.push(line);
            }
        }
        for f in report
            .changes
            .iter()
            .filter(|f| f.verdict == Verdict::Breaking)
        {
            for (r, a) in our_areas(f) {
                self.ours += 1;
                if their_areas
                    .iter()
                    .any(|(tr, ta)| *tr == r && area_matches(&a, ta))
                {
                    self.ours_agreed += 1;
                } else if verbose {
                    println!("  only ours {label}: {r} {}: {}", f.location, f.reason);
                }
            }
        }
    }
}

/// One pair: the documents as given (for the independent tool) and as files (for ours).
struct Pair {
    label: String,
    old: Value,
    new: Value,
}

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    serde_yaml_ng::from_str(&text).unwrap()
}

fn own_pairs() -> Vec<Pair> {
    let mut pairs = Vec::new();
    for dir in ["diff", "typed"] {
        let base_path = manifest()
            .join("tests/fixtures")
            .join(dir)
            .join("base.yaml");
        let base = load(&base_path);
        let mut files: Vec<PathBuf> = std::fs::read_dir(base_path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml") && !p.ends_with("base.yaml"))
            .collect();
        files.sort();
        for f in files {
            pairs.push(Pair {
                label: format!("{dir}/{}", f.file_name().unwrap().to_string_lossy()),
                old: base.clone(),
                new: load(&f),
            });
        }
    }
    pairs
}

/// Runs both tools on `pairs` and tallies the result.
fn run(module: &Path, pairs: &[Pair], tally: &mut Tally, listed: &[String]) {
    let tmp = tempfile::tempdir().unwrap();
    let mut files = Vec::new();
    for (i, p) in pairs.iter().enumerate() {
        let (o, n) = (
            tmp.path().join(format!("{i}-old.json")),
            tmp.path().join(format!("{i}-new.json")),
        );
        std::fs::write(&o, serde_json::to_vec(&p.old).unwrap()).unwrap();
        std::fs::write(&n, serde_json::to_vec(&p.new).unwrap()).unwrap();
        files.push((o, n));
    }
    let theirs = run_theirs(module, tmp.path(), &files, tally);
    let reports = run_ours(pairs, &files);
    for ((p, report), theirs) in pairs.iter().zip(&reports).zip(&theirs) {
        tally.add(&p.label, &p.old, theirs, report, listed);
    }
}

/// The independent tool's breaking changes for each pair of files.
fn run_theirs(
    module: &Path,
    tmp: &Path,
    files: &[(PathBuf, PathBuf)],
    tally: &mut Tally,
) -> Vec<Vec<Theirs>> {
    // The tool's answer on the old document against itself: what it reports there is noise
    // of its own (e.g. media types with parameters), subtracted from every pair.
    let mut list: Vec<Value> = files
        .iter()
        .map(|(o, n)| serde_json::json!({"before": o, "after": n}))
        .collect();
    list.extend(
        files
            .iter()
            .map(|(o, _)| serde_json::json!({"before": o, "after": o})),
    );
    let list_path = tmp.join("pairs.json");
    std::fs::write(&list_path, serde_json::to_vec(&list).unwrap()).unwrap();
    let out = Command::new("node")
        .arg(manifest().join("tests/agreement/asd.cjs"))
        .arg(module)
        .arg(&list_path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut all: Vec<Vec<Theirs>> = serde_json::from_slice(&out.stdout).unwrap();
    let baselines = all.split_off(files.len());
    all.into_iter()
        .zip(&baselines)
        .map(|(diffs, noise)| {
            tally.noise += noise.len();
            diffs
                .into_iter()
                .filter(|d| {
                    !noise
                        .iter()
                        .any(|n| n.action == d.action && n.path == d.path)
                })
                .collect()
        })
        .collect()
}

/// Our reports for each pair of files (the old documents prepared once).
fn run_ours(pairs: &[Pair], files: &[(PathBuf, PathBuf)]) -> Vec<Report> {
    let mut olds: BTreeMap<String, (Value, Result<Surface, String>)> = BTreeMap::new();
    for (p, (o, _)) in pairs.iter().zip(files) {
        let key = serde_json::to_string(&p.old).unwrap();
        if let std::collections::btree_map::Entry::Vacant(slot) = olds.entry(key) {
            let inputs = prepare_inputs(&psd2_codegen::spec_crate_spec(o, &[])).unwrap();
            slot.insert((inputs.document, inputs.surface));
        }
    }
    // Our side, two pairs at a time (the generator's stages dominate the test's time).
    std::thread::scope(|scope| {
        let handles: Vec<_> = [0usize, 1]
            .into_iter()
            .map(|lane| {
                let (pairs, files, olds) = (&pairs, &files, &olds);
                scope.spawn(move || {
                    let mut out = Vec::new();
                    for i in (lane..pairs.len()).step_by(2) {
                        let key = serde_json::to_string(&pairs[i].old).unwrap();
                        let (old_doc, old_surface) = &olds[&key];
                        let new = prepare_inputs(&psd2_codegen::spec_crate_spec(&files[i].1, &[]))
                            .unwrap();
                        let surfaces = match (old_surface, &new.surface) {
                            (Ok(a), Ok(b)) => Some((a, b)),
                            _ => None,
                        };
                        let report = compare_with(
                            old_doc,
                            &new.document,
                            surfaces,
                            &psd2_specdiff::AdapterUsage::default(),
                            ("old".into(), "new".into()),
                        );
                        out.push((i, report));
                    }
                    out
                })
            })
            .collect();
        let mut all: Vec<(usize, Report)> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        all.sort_by_key(|(i, _)| *i);
        all.into_iter().map(|(_, r)| r).collect()
    })
}

fn print(name: &str, t: &Tally) {
    println!(
        "{name}: theirs→ours {}/{} breaking also breaking here; ours→theirs {}/{}; kept classes {:?}; \
         {} breaking changes the tool reports on a document against itself, subtracted",
        t.theirs_agreed, t.theirs, t.ours_agreed, t.ours, t.by_class, t.noise
    );
}

#[test]
fn breaking_changes_the_independent_differ_reports_are_breaking_here() {
    let Some(module) = oracle() else { return };
    let e = exceptions();
    let listed: Vec<String> = e.class.iter().map(|c| c.id.clone()).collect();
    assert!(!listed.iter().any(|c| c == "unexplained"));

    let mut own = Tally::default();
    run(&module, &own_pairs(), &mut own, &listed);
    print("pairs of our own", &own);

    let realspecs = manifest().join("../../../shared/realspecs");
    let mut real = Tally::default();
    if realspecs.is_dir() {
        let mut docs: Vec<PathBuf> = std::fs::read_dir(&realspecs)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
            .collect();
        docs.sort();
        for doc_path in docs {
            let doc = load(&doc_path);
            // The independent tool reads OpenAPI 3 only.
            if !doc
                .get("openapi")
                .and_then(Value::as_str)
                .is_some_and(|v| v.starts_with('3'))
            {
                continue;
            }
            let name = doc_path.file_name().unwrap().to_string_lossy().to_string();
            let pairs: Vec<Pair> = mutate::variants(&doc)
                .into_iter()
                .map(|(what, new)| Pair {
                    label: format!("{name}: {what}"),
                    old: doc.clone(),
                    new,
                })
                .collect();
            assert!(pairs.len() >= 5, "{name}: only {} variants", pairs.len());
            if std::env::var_os("SPECDIFF_AGREEMENT_VERBOSE").is_some() {
                for p in &pairs {
                    println!("  variant {}", p.label);
                }
            }
            let mut t = Tally::default();
            run(&module, &pairs, &mut t, &listed);
            print(&name, &t);
            real.theirs += t.theirs;
            real.theirs_agreed += t.theirs_agreed;
            real.ours += t.ours;
            real.ours_agreed += t.ours_agreed;
            for (k, v) in t.by_class {
                *real.by_class.entry(k).or_default() += v;
            }
            real.unexplained.extend(t.unexplained);
            real.noise += t.noise;
        }
        print("realspecs variants", &real);
    } else {
        psd2_test_support::oracle_missing(
            "../shared/realspecs",
            "the real-document corpus is absent",
        );
    }
    let unexplained: Vec<&String> = own.unexplained.iter().chain(&real.unexplained).collect();
    assert!(
        unexplained.is_empty(),
        "breaking for api-smart-diff, not here, and in no listed class:\n{}",
        unexplained
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(own.theirs > 0 && real.theirs + own.theirs > own.theirs || !realspecs.is_dir());
}
