//! IBAN construction with real ISO 13616 check digits.

/// Computes the two IBAN check digits for `country` (e.g. `"SE"`) and `bban`.
pub fn check_digits(country: &str, bban: &str) -> u32 {
    let rearranged = format!("{bban}{country}00");
    let mut rem: u32 = 0;
    for c in rearranged.chars() {
        let v = if let Some(d) = c.to_digit(10) {
            d
        } else {
            u32::from(c.to_ascii_uppercase() as u8 - b'A') + 10
        };
        for digit in v.to_string().chars() {
            rem = (rem * 10 + digit.to_digit(10).unwrap_or(0)) % 97;
        }
    }
    98 - rem
}

/// Builds an IBAN string from a country code and a BBAN.
pub fn iban(country: &str, bban: &str) -> String {
    format!("{country}{:02}{bban}", check_digits(country, bban))
}

/// The Norwegian MOD11 check digit for the first ten BBAN digits, or `None` when invalid.
pub fn norway_mod11(ten: &str) -> Option<u32> {
    let weights = [5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = ten
        .chars()
        .zip(weights)
        .map(|(c, w)| c.to_digit(10).unwrap_or(0) * w)
        .sum();
    match 11 - sum % 11 {
        11 => Some(0),
        10 => None,
        d => Some(d),
    }
}

/// The Luhn check digit of a digit string (used for Finnish BBANs and card numbers).
pub fn luhn(digits: &str) -> u32 {
    let sum: u32 = digits
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = c.to_digit(10).unwrap_or(0);
            if i % 2 == 0 {
                let dd = d * 2;
                if dd > 9 { dd - 9 } else { dd }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ibans() {
        // Examples published in ISO 13616 registry documents.
        assert_eq!(
            iban("SE", "50000000058398257466"),
            "SE4550000000058398257466"
        );
        assert_eq!(iban("NO", "86011117947"), "NO9386011117947");
        assert_eq!(iban("FI", "12345600000785"), "FI2112345600000785");
    }
}
