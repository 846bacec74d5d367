//! Every registry file loads, and its profile agrees with the Berlin Group spec of this
//! workspace (`specs/berlingroup/berlingroup.yaml`, read here on its own with a YAML parser,
//! not through the generator) and with the sandbox serving it.

use std::collections::BTreeSet;
use std::path::PathBuf;

use psd2_registry::{
    BookingStatusKind, ErrorShape, MappedError, Registry, RegistryEntry, ScaApproachKind,
};
use serde_yaml_ng::Value;

use crate::negative::{assert_error_shape, codes};
use crate::setup;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// What the spec says that a profile must agree with.
#[derive(Debug, Default)]
struct SpecFacts {
    /// The `ASPSP-SCA-Approach` response header's enum.
    sca_approaches: BTreeSet<String>,
    /// The `bookingStatus` query parameter's enum.
    booking_statuses: BTreeSet<String>,
    /// Header parameters of the spec among the HTTP-signature headers.
    signature_headers: BTreeSet<String>,
}

/// Follows a local `$ref` (`#/components/...`) to its target.
fn resolve<'a>(root: &'a Value, value: &'a Value) -> &'a Value {
    let Some(reference) = value.get("$ref").and_then(Value::as_str) else {
        return value;
    };
    let mut at = root;
    for part in reference.trim_start_matches("#/").split('/') {
        at = at
            .get(part)
            .unwrap_or_else(|| panic!("the spec's $ref {reference} points at nothing"));
    }
    resolve(root, at)
}

fn enum_of(root: &Value, holder: &Value) -> BTreeSet<String> {
    let schema = resolve(
        root,
        resolve(root, holder).get("schema").unwrap_or(&Value::Null),
    );
    let schema = resolve(root, schema);
    schema
        .get("enum")
        .and_then(Value::as_sequence)
        .map(|values| {
            values
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn visit(root: &Value, value: &Value, facts: &mut SpecFacts) {
    match value {
        Value::Mapping(map) => {
            for (key, child) in map {
                if key.as_str() == Some("ASPSP-SCA-Approach") {
                    facts.sca_approaches.extend(enum_of(root, child));
                }
            }
            let name = value.get("name").and_then(Value::as_str);
            let place = value.get("in").and_then(Value::as_str);
            match (name, place) {
                (Some("bookingStatus"), Some("query")) => {
                    facts.booking_statuses.extend(enum_of(root, value));
                }
                (Some(header), Some("header"))
                    if ["Digest", "Signature", "TPP-Signature-Certificate"]
                        .iter()
                        .any(|h| h.eq_ignore_ascii_case(header)) =>
                {
                    facts.signature_headers.insert(header.to_ascii_lowercase());
                }
                _ => {}
            }
            for (_, child) in map {
                visit(root, child, facts);
            }
        }
        Value::Sequence(items) => {
            for item in items {
                visit(root, item, facts);
            }
        }
        _ => {}
    }
}

/// The signature headers the spec defines (lower case).
pub fn spec_signature_headers() -> BTreeSet<String> {
    spec_facts().signature_headers
}

fn spec_facts() -> SpecFacts {
    let path = workspace().join("specs/berlingroup/berlingroup.yaml");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let root: Value = serde_yaml_ng::from_str(&text).unwrap();
    let mut facts = SpecFacts::default();
    visit(&root, &root, &mut facts);
    facts
}

fn approach_name(a: ScaApproachKind) -> &'static str {
    match a {
        ScaApproachKind::Redirect => "REDIRECT",
        ScaApproachKind::Decoupled => "DECOUPLED",
        ScaApproachKind::Embedded => "EMBEDDED",
    }
}

fn status_name(s: BookingStatusKind) -> &'static str {
    match s {
        BookingStatusKind::Booked => "booked",
        BookingStatusKind::Pending => "pending",
        BookingStatusKind::Both => "both",
        BookingStatusKind::Information => "information",
    }
}

/// The registry files on disk, parsed one by one.
fn files_on_disk() -> Vec<RegistryEntry> {
    let dir = workspace().join("registry");
    let mut entries = Vec::new();
    for item in std::fs::read_dir(&dir).unwrap() {
        let path = item.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            let name = path.file_name().unwrap().to_str().unwrap();
            entries.push(
                psd2_registry::parse_entry(name, &text)
                    .unwrap_or_else(|e| panic!("{} does not load: {e}", path.display())),
            );
        }
    }
    entries
}

#[test]
fn every_registry_file_loads_and_agrees_with_the_spec() {
    let on_disk = files_on_disk();
    let embedded = Registry::embedded().unwrap();
    let disk_ids: BTreeSet<&str> = on_disk.iter().map(|e| e.id.as_str()).collect();
    let embedded_ids: BTreeSet<&str> = embedded.entries().iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        disk_ids, embedded_ids,
        "the embedded registry is the registry folder"
    );

    let spec = spec_facts();
    assert!(
        ["REDIRECT", "DECOUPLED", "EMBEDDED"]
            .iter()
            .all(|a| spec.sca_approaches.contains(*a)),
        "the spec's ASPSP-SCA-Approach enum: {:?}",
        spec.sca_approaches
    );
    assert!(
        spec.booking_statuses.contains("booked"),
        "the spec's bookingStatus enum: {:?}",
        spec.booking_statuses
    );
    let signature_headers: BTreeSet<String> = ["digest", "signature", "tpp-signature-certificate"]
        .iter()
        .map(|h| (*h).to_string())
        .collect();
    assert_eq!(
        spec.signature_headers, signature_headers,
        "the spec's signature headers"
    );

    for entry in &on_disk {
        let id = &entry.id;
        let p = &entry.profile;
        for approach in &p.sca_approaches {
            assert!(
                spec.sca_approaches.contains(approach_name(*approach)),
                "{id}: SCA approach {approach:?} is not in the spec's ASPSP-SCA-Approach enum"
            );
        }
        for status in &p.transactions.booking_statuses {
            assert!(
                spec.booking_statuses.contains(status_name(*status)),
                "{id}: booking status {status:?} is not in the spec's bookingStatus enum"
            );
        }
        let t = &p.transactions;
        assert!(
            (10..=10_000).contains(&t.page_size),
            "{id}: page size {} is not a bank's page size",
            t.page_size
        );
        assert!(
            (90..=3650).contains(&t.history_days),
            "{id}: {} days of history: fewer than the 90 days a PSU may see without new SCA",
            t.history_days
        );
        if entry.sandbox_is_generic() {
            assert_eq!(entry.sandbox_path(), format!("/bg/{id}"));
        }
    }
}

#[test]
fn the_registry_has_six_profiles_covering_the_known_differences() {
    let registry = Registry::embedded().unwrap();
    let generic: Vec<&RegistryEntry> = registry
        .entries()
        .iter()
        .filter(|e| e.sandbox_is_generic())
        .collect();
    let distinct: BTreeSet<String> = generic
        .iter()
        .map(|e| toml::to_string(&e.profile).unwrap())
        .collect();
    assert!(
        distinct.len() >= 6,
        "at least six different profiles served from their files, got {}",
        distinct.len()
    );
    let all = registry.entries();
    let has = |what: &str, ok: &dyn Fn(&RegistryEntry) -> bool| {
        assert!(all.iter().any(ok), "no registry bank is {what}");
    };
    let only = |a: ScaApproachKind| move |e: &RegistryEntry| e.profile.sca_approaches == [a];
    has("redirect only", &only(ScaApproachKind::Redirect));
    has("decoupled only", &only(ScaApproachKind::Decoupled));
    has("embedded", &|e| {
        e.profile
            .sca_approaches
            .contains(&ScaApproachKind::Embedded)
    });
    has("signing", &|e| e.profile.security.signatures);
    has("refusing bookingStatus=both", &|e| {
        !e.profile
            .transactions
            .booking_statuses
            .contains(&BookingStatusKind::Both)
    });
    has("serving 90 days of history only", &|e| {
        e.profile.transactions.history_days == 90
    });
    has("answering problem+json", &|e| {
        e.profile.error_shape == ErrorShape::ProblemJson
    });
    has("changing ids on booking", &|e| {
        !e.profile.transactions.ids_stable_across_booking
    });
}

#[tokio::test]
async fn the_sandbox_serves_every_registry_bank_in_its_error_shape() {
    let registry = Registry::embedded().unwrap();
    let sandbox = setup::start(registry.clone()).await;
    for entry in registry.entries() {
        let wire = setup::wire(&sandbox, entry);
        let answer = wire
            .get("/v1/consents/no-such-consent/status", "no-such-consent")
            .await;
        let what = "an unknown consent's status";
        assert!(
            matches!(answer.status.as_u16(), 400 | 401 | 403 | 404),
            "{}: {what}: {} {}",
            entry.id,
            answer.status,
            answer.excerpt()
        );
        assert_error_shape(entry, what, &answer);
        let expected = codes(
            entry,
            &["CONSENT_UNKNOWN", "RESOURCE_UNKNOWN"],
            MappedError::ConsentUnknown,
        );
        let got = answer.error_codes();
        assert!(
            got.iter().any(|c| expected.contains(c)),
            "{}: {what}: {got:?}, expected one of {expected:?}",
            entry.id
        );
    }
}
