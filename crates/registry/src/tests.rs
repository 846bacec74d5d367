use super::*;

const MINIMAL: &str = r#"
name = "Testbank"
country = "SE"
bics = ["TESTSESS"]
platform = "own"
[urls]
live = "https://api.testbank.example/psd2"
[profile]
sca_approaches = ["redirect"]
error_shape = "tpp_messages"
[profile.consent]
scopes = ["all_psd2"]
max_frequency_per_day = 4
max_valid_days = 90
[profile.transactions]
booking_statuses = ["booked"]
history_days = 90
page_size = 100
ids_stable_across_booking = false
"#;

fn error_of(file: &str, text: &str) -> (String, String, String) {
    match parse_entry(file, text) {
        Err(RegistryError::Invalid { file, key, reason }) => (file, key, reason),
        other => panic!("expected an invalid-file error, got {other:?}"),
    }
}

#[test]
fn a_minimal_file_loads_with_the_documented_defaults() {
    let e = parse_entry("registry/testbank.toml", MINIMAL).unwrap();
    assert_eq!(e.id, "testbank");
    assert_eq!(e.sandbox_path(), "/bg/testbank");
    assert!(e.sandbox_is_generic());
    assert_eq!(e.profile.psu_id, Requirement::Optional);
    assert_eq!(e.profile.psu_ip_address, Requirement::Optional);
    assert!(e.profile.accounts.with_balance);
    assert!(!e.profile.accounts.card_accounts);
    assert!(e.profile.transactions.details);
    assert_eq!(e.profile.transactions.date_filter, DateField::BookingDate);
    assert!(!e.profile.security.signatures);
}

#[test]
fn an_unknown_key_is_named_with_its_path() {
    let text = MINIMAL.replace("page_size = 100", "page_size = 100\npage_sise = 5");
    let (file, key, reason) = error_of("x/testbank.toml", &text);
    assert_eq!(file, "x/testbank.toml");
    assert_eq!(key, "profile.transactions.page_sise");
    assert!(reason.contains("page_sise"), "{reason}");
}

#[test]
fn an_unknown_enum_value_is_named_with_its_path() {
    let text = MINIMAL.replace(
        r#"sca_approaches = ["redirect"]"#,
        r#"sca_approaches = ["carrier_pigeon"]"#,
    );
    let (_, key, reason) = error_of("testbank.toml", &text);
    assert_eq!(key, "profile.sca_approaches[0]");
    assert!(reason.contains("carrier_pigeon"), "{reason}");
}

#[test]
fn absurd_values_are_refused_naming_the_key() {
    let cases = [
        (
            "page_size = 100",
            "page_size = 0",
            "profile.transactions.page_size",
        ),
        (
            "page_size = 100",
            "page_size = 4294967296",
            "profile.transactions.page_size",
        ),
        (
            "history_days = 90",
            "history_days = 99999",
            "profile.transactions.history_days",
        ),
        (
            "max_frequency_per_day = 4",
            "max_frequency_per_day = 0",
            "profile.consent.max_frequency_per_day",
        ),
        (
            r#"booking_statuses = ["booked"]"#,
            r#"booking_statuses = ["pending"]"#,
            "profile.transactions.booking_statuses",
        ),
        (r#"country = "SE""#, r#"country = "se""#, "country"),
        (r#"bics = ["TESTSESS"]"#, r#"bics = ["TEST"]"#, "bics[0]"),
        (r#"bics = ["TESTSESS"]"#, "bics = []", "bics"),
        (
            "https://api.testbank.example/psd2",
            "http://api.testbank.example/psd2",
            "urls.live",
        ),
        (
            r#"sca_approaches = ["redirect"]"#,
            r#"sca_approaches = ["redirect", "redirect"]"#,
            "profile.sca_approaches",
        ),
        (
            r#"sca_approaches = ["redirect"]"#,
            "sca_approaches = []",
            "profile.sca_approaches",
        ),
    ];
    for (from, to, key) in cases {
        let text = MINIMAL.replace(from, to);
        assert_ne!(text, MINIMAL, "case {to} did not apply");
        let (_, got, reason) = error_of("testbank.toml", &text);
        assert_eq!(got, key, "{to}: {reason}");
    }
}

#[test]
fn extra_headers_may_not_replace_the_adapters_own() {
    let text = format!("{MINIMAL}[profile.extra_headers]\nConsent-ID = \"x\"\n");
    let (_, key, _) = error_of("testbank.toml", &text);
    assert_eq!(key, "profile.extra_headers.Consent-ID");
    let text = format!("{MINIMAL}[profile.extra_headers]\nX-Platform-Bank = \"TESTSESS\"\n");
    let e = parse_entry("testbank.toml", &text).unwrap();
    assert_eq!(e.profile.extra_headers["X-Platform-Bank"], "TESTSESS");
}

#[test]
fn a_file_name_that_is_no_id_is_refused() {
    let (_, key, _) = error_of("Test Bank.toml", MINIMAL);
    assert_eq!(key, ".");
}

#[test]
fn the_embedded_registry_loads_and_finds_by_id_bic_name_and_country() {
    let registry = Registry::embedded().unwrap();
    let swedbank = registry.find("swedbank").unwrap();
    assert_eq!(swedbank.sandbox_path(), "/swedbank");
    assert_eq!(registry.find("SWEDNOKK").unwrap().id, "swedbank");
    assert_eq!(registry.find("swednokkxxx").unwrap().id, "swedbank");
    assert_eq!(registry.find("swedbank").unwrap().name, "Swedbank");
    assert!(registry.by_country("no").any(|e| e.id == "swedbank"));
    assert!(registry.find("NOSUCHBANK").is_none());
}

#[test]
fn a_directory_adds_banks_and_replaces_known_ones() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("testbank.toml"), MINIMAL).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a bank").unwrap();
    let embedded = Registry::embedded().unwrap();
    let registry = embedded.clone().with_dir(dir.path()).unwrap();
    assert_eq!(registry.entries().len(), embedded.entries().len() + 1);
    assert_eq!(registry.find("TESTSESS").unwrap().id, "testbank");

    let replaced = MINIMAL.replace("Testbank", "Testbank Two");
    std::fs::write(dir.path().join("testbank.toml"), replaced).unwrap();
    let registry = registry.with_dir(dir.path()).unwrap();
    assert_eq!(registry.find("testbank").unwrap().name, "Testbank Two");
}

#[test]
fn two_banks_with_one_bic_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.toml"), MINIMAL).unwrap();
    std::fs::write(dir.path().join("b.toml"), MINIMAL).unwrap();
    match Registry::from_dir(dir.path()) {
        Err(RegistryError::Invalid { key, reason, file }) => {
            assert_eq!(key, "bics");
            assert!(file.ends_with("b.toml"), "{file}");
            assert!(
                reason.contains("TESTSESS") && reason.contains("`a`"),
                "{reason}"
            );
        }
        other => panic!("expected a duplicate BIC error, got {other:?}"),
    }
}
