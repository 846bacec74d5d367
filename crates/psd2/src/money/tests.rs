//! Tests of amounts, currencies and their JSON forms.
use super::*;
use proptest::prelude::*;

fn dec(text: &str) -> Decimal {
    parse_decimal(text).unwrap()
}

#[test]
fn keeps_scale() {
    let d = dec("18959.990");
    assert_eq!(d.scale(), 3);
    assert_eq!(d.to_string(), "18959.990");
    assert_eq!(dec("-1250.00").to_string(), "-1250.00");
    assert_eq!(dec("+4165.00").to_string(), "4165.00");
    assert_eq!(dec("2000").scale(), 0);
}

#[test]
fn exponent_forms() {
    assert_eq!(dec("1.5E3").to_string(), "1500");
    assert_eq!(dec("1.5e+3").to_string(), "1500");
    assert_eq!(dec("15E-1").to_string(), "1.5");
    assert_eq!(dec("-2.50e-2").to_string(), "-0.0250");
    assert_eq!(dec("0e5").to_string(), "0");
}

#[test]
fn plain_fast_path_limits() {
    // 19 digits take the fast path, 20 the full one; both exact.
    assert_eq!(
        parse_plain_decimal(b"9999999999999999999"),
        Some(dec("9999999999999999999"))
    );
    assert_eq!(parse_plain_decimal(b"99999999999999999999"), None);
    assert_eq!(
        dec("99999999999999999999").to_string(),
        "99999999999999999999"
    );
    assert_eq!(
        parse_plain_decimal(b"-0.00000000000000001")
            .unwrap()
            .scale(),
        17
    );
    for not_plain in ["", "-", "1.", ".5", "1.2.3", "1e5", "1,5", " 1", "--1"] {
        assert_eq!(
            parse_plain_decimal(not_plain.as_bytes()),
            None,
            "{not_plain:?}"
        );
    }
    assert_eq!(dec("-593.04"), Decimal::new(-59304, 2));
    assert!(dec("-0.00").is_sign_negative(), "as the full parser");
    assert!(parse_decimal_text("-0.00").unwrap().is_sign_negative());
}

#[test]
fn negative_zero_keeps_sign_and_scale() {
    let d = dec("-0.00");
    assert!(d.is_zero());
    assert_eq!(d.scale(), 2);
    assert!(!Money::new(d, Currency::SEK).is_negative());
}

#[test]
fn clear_errors() {
    for bad in [
        "", "-", "+", "1.", ".5", "1,5", "12a", "1e", "1e+", "--1", " 1", "1 ", "NaN", "0x10",
    ] {
        assert!(
            matches!(parse_decimal(bad), Err(MoneyError::BadText { .. })),
            "{bad:?} -> {:?}",
            parse_decimal(bad)
        );
    }
    assert!(matches!(
        parse_decimal("123456789012345678901234567890"),
        Err(MoneyError::TooManyDigits { .. })
    ));
    assert!(matches!(
        parse_decimal("1e30"),
        Err(MoneyError::TooManyDigits { .. })
    ));
    assert!(matches!(
        parse_decimal("1e999999"),
        Err(MoneyError::TooManyDigits { .. })
    ));
    assert!(matches!(
        parse_decimal("0.00000000000000000000000000001"),
        Err(MoneyError::ScaleTooLarge { scale: 29, .. })
    ));
    assert!(matches!(
        parse_decimal("1e-29"),
        Err(MoneyError::ScaleTooLarge { .. })
    ));
    let long = "9".repeat(500);
    let err = parse_decimal(&long).unwrap_err().to_string();
    assert!(err.len() < 200, "error quotes a truncated text: {err}");
}

#[test]
fn limits_are_exact() {
    // 2^96 - 1 is the largest mantissa.
    assert_eq!(
        dec("79228162514264337593543950335").to_string(),
        "79228162514264337593543950335"
    );
    assert!(parse_decimal("79228162514264337593543950336").is_err());
    assert_eq!(dec("-7.9228162514264337593543950335").scale(), 28);
}

#[test]
fn currency_validation() {
    assert_eq!(Currency::new("SEK").unwrap(), Currency::SEK);
    for bad in ["sek", "SE", "SEKK", "S1K", "", "ÅÄÖ"] {
        assert!(
            matches!(Currency::new(bad), Err(MoneyError::BadCurrency { .. })),
            "{bad}"
        );
    }
    assert_eq!(format!("{:?}", Currency::NOK), "Currency(NOK)");
}

#[test]
fn json_round_trip_keeps_scale() {
    let m: Money = serde_json::from_str(r#"{"currency":"SEK","amount":"18959.990"}"#).unwrap();
    assert_eq!(m.amount.scale(), 3);
    assert_eq!(
        serde_json::to_string(&m).unwrap(),
        r#"{"amount":"18959.990","currency":"SEK"}"#
    );
}

#[test]
fn json_numbers_parse_exactly() {
    // Handelsbanken card accounts: `"amount": 2000`.
    let m: Money = serde_json::from_str(r#"{"currency":"SEK","amount":2000}"#).unwrap();
    assert_eq!(m, Money::new(Decimal::from(2000), Currency::SEK));
    // With serde_json's arbitrary_precision (on in this workspace) the scale survives.
    let m: Money = serde_json::from_str(r#"{"currency":"SEK","amount":18959.990}"#).unwrap();
    assert_eq!(m.amount.to_string(), "18959.990");
    let n: serde_json::Number = serde_json::from_str("1.5E3").unwrap();
    assert_eq!(decimal_from_json_number(&n).unwrap(), Decimal::from(1500));
    let m = Money::from_json_number(&serde_json::Number::from(2000), "SEK").unwrap();
    assert_eq!(m.to_string(), "2000 SEK");
    assert!(Money::from_json_number(&serde_json::Number::from(1), "sek").is_err());
}

#[test]
fn json_numbers_through_value_and_untagged_buffers() {
    // A number that went through serde_json::Value or serde's internal buffering.
    let v: serde_json::Value =
        serde_json::from_str(r#"{"currency":"EUR","amount":-12.340}"#).unwrap();
    let m: Money = serde_json::from_value(v).unwrap();
    assert_eq!(m.amount.to_string(), "-12.340");

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        M(Money),
    }
    let Either::M(m) = serde_json::from_str(r#"{"currency":"EUR","amount":7.10}"#).unwrap();
    assert_eq!(m.amount.to_string(), "7.10");
}

#[test]
fn bad_amounts_fail_deserialization_clearly() {
    let err = serde_json::from_str::<Money>(r#"{"currency":"SEK","amount":"12,5"}"#).unwrap_err();
    assert!(err.to_string().contains("not a decimal amount"), "{err}");
    let err = serde_json::from_str::<Money>(r#"{"currency":"sek","amount":"1"}"#).unwrap_err();
    assert!(err.to_string().contains("currency"), "{err}");
    assert!(serde_json::from_str::<Money>(r#"{"currency":"SEK","amount":true}"#).is_err());
}

#[test]
fn errors_show_the_shape_of_the_text_never_the_text() {
    let secret = "Anna Andersson 19121212-1212";
    let errors = [
        parse_decimal(secret).unwrap_err(),
        parse_decimal(&"9".repeat(40)).unwrap_err(),
        Currency::new(secret).unwrap_err(),
        Money::parse(secret, "SEK").unwrap_err(),
    ];
    for err in &errors {
        let shown = format!("{err} {err:?}");
        assert!(
            !shown.contains("Anna") && !shown.contains("19121212"),
            "{shown}"
        );
        assert!(!shown.contains("9999"), "{shown}");
    }
    assert_eq!(
        errors[0].to_string(),
        "not a decimal amount (28 chars: letters, digits, spaces, other symbols)"
    );
    assert_eq!(
        errors[1].to_string(),
        "amount has too many digits for a decimal (40 chars: digits)"
    );
    // The text stays reachable on purpose, for verbose output.
    assert_eq!(errors[0].text(), secret);
    let err =
        serde_json::from_str::<Money>(&format!(r#"{{"currency":"SEK","amount":"{secret}"}}"#))
            .unwrap_err();
    assert!(!err.to_string().contains("19121212"), "{err}");
}

fn any_decimal() -> impl Strategy<Value = Decimal> {
    let max: i128 = (1i128 << 96) - 1;
    (-max..=max, 0u32..=MAX_SCALE).prop_map(|(m, s)| Decimal::from_i128_with_scale(m, s))
}

proptest! {
    #[test]
    fn string_round_trip_keeps_value_and_scale(d in any_decimal()) {
        let text = d.to_string();
        let back = parse_decimal(&text).unwrap();
        prop_assert_eq!(back, d);
        prop_assert_eq!(back.scale(), d.scale());
        prop_assert_eq!(back.to_string(), text);
    }

    #[test]
    fn json_number_round_trip_keeps_value_and_scale(d in any_decimal()) {
        let text = d.to_string();
        let number: serde_json::Number = serde_json::from_str(&text).unwrap();
        let back = decimal_from_json_number(&number).unwrap();
        prop_assert_eq!(back, d);
        prop_assert_eq!(back.scale(), d.scale());
        let money: Money = serde_json::from_str(&format!(r#"{{"amount":{text},"currency":"SEK"}}"#)).unwrap();
        prop_assert_eq!(money.amount.to_string(), text);
    }

    #[test]
    fn exponent_form_round_trips(m in -999_999_999_999i64..=999_999_999_999, s in 0u32..=MAX_SCALE) {
        // m × 10^-s written in exponent form "<m>E-<s>" keeps value and scale.
        let d = Decimal::from_i128_with_scale(i128::from(m), s);
        let back = parse_decimal(&format!("{m}E-{s}")).unwrap();
        prop_assert_eq!(back, d);
        prop_assert_eq!(back.scale(), s);
        let plus = parse_decimal(&format!("+{}", d.abs())).unwrap();
        prop_assert_eq!(plus, d.abs());
    }

    #[test]
    fn positive_exponents_scale_up(m in -999_999i64..=999_999, e in 0u32..=15) {
        let back = parse_decimal(&format!("{m}e{e}")).unwrap();
        prop_assert_eq!(back, Decimal::from(m) * Decimal::from(10i64.pow(e)));
        prop_assert_eq!(back.scale(), 0);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,40}") {
        let _ = parse_decimal(&text);
    }

    #[test]
    fn plain_fast_path_agrees_with_full_parser(
        text in "[-+]?[0-9]{0,12}(\\.[0-9]{0,12})?[.0-9a-e]{0,2}"
    ) {
        let fast = parse_plain_decimal(text.as_bytes());
        let full = parse_decimal_text(&text);
        if let Some(fast) = fast {
            let full = full.unwrap();
            prop_assert_eq!(fast, full);
            prop_assert_eq!(fast.scale(), full.scale());
            prop_assert_eq!(fast.is_sign_negative(), full.is_sign_negative());
            prop_assert_eq!(fast.to_string(), full.to_string());
        }
        prop_assert_eq!(parse_decimal(&text), parse_decimal_text(&text));
    }

    #[test]
    fn numberish_text_never_panics(text in "[-+]?[0-9]{0,40}(\\.[0-9]{0,40})?([eE][-+]?[0-9]{0,6})?") {
        match parse_decimal(&text) {
            Ok(d) => prop_assert!(d.scale() <= MAX_SCALE),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
    }
}
