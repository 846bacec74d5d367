//! Crate-private macros for string-coded bank enums.

/// The characters of a bank code as compared: ASCII lower case, without `_`, `-` and
/// spaces, so `REVOKED_BY_PSU`, `revokedByPsu` and `revoked-by-psu` compare equal.
fn code_chars(s: &str) -> impl Iterator<Item = char> + '_ {
    s.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .map(|c| c.to_ascii_lowercase())
}

/// Whether two bank codes are equal after [`code_chars`], without allocating: the
/// hot path of every `from_bank_str` (called for each balance and status of each mapped
/// transaction).
pub(crate) fn same_code(a: &str, b: &str) -> bool {
    code_chars(a).eq(code_chars(b))
}

/// Declares an enum of known bank codes plus `Other(String)`.
///
/// Generates `from_bank_str` (case-insensitive, `_`/`-` insensitive, with aliases),
/// `as_str` (the canonical Berlin Group spelling, or the kept text for `Other`),
/// `Display`, `FromStr` (infallible) and string `Serialize`/`Deserialize`.
macro_rules! bank_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $canon:literal $(| $alias:literal)*
            ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $(
                $(#[$vmeta])*
                $variant,
            )+
            /// A value this crate does not know yet, kept exactly as the bank sent it.
            Other(String),
        }

        impl $name {
            /// Parses a bank's code: case-insensitive, ignoring `_`, `-` and spaces, so both
            /// Berlin Group camelCase and upper snake case forms match. Unknown text becomes
            /// `Other` with the text kept; this never fails.
            pub fn from_bank_str(s: &str) -> Self {
                // Fast path: the exact spelling, what banks send nearly always (before
                // trimming, which costs more than the match).
                match s {
                    $( $canon $(| $alias)* => return Self::$variant, )+
                    _ => {}
                }
                let key = s.trim();
                $(
                    if $crate::macros::same_code(key, $canon)
                        $(|| $crate::macros::same_code(key, $alias))*
                    {
                        return Self::$variant;
                    }
                )+
                Self::Other(s.to_owned())
            }

            /// The canonical (Berlin Group) spelling, or the bank's own text for `Other`.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $canon, )+
                    Self::Other(s) => s,
                }
            }

            /// Whether this is a value the crate does not know (`Other`).
            pub fn is_other(&self) -> bool {
                matches!(self, Self::Other(_))
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::from_bank_str(s))
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                Ok(Self::from_bank_str(&s))
            }
        }
    };
}

pub(crate) use bank_enum;

#[cfg(test)]
mod tests {
    use super::same_code;

    #[test]
    fn codes_compare_ignoring_case_and_separators() {
        assert!(same_code("REVOKED_BY_PSU", "revokedByPsu"));
        assert!(same_code("revoked-by-psu", "revokedByPsu"));
        assert!(same_code("interim booked", "interimBooked"));
        assert!(!same_code("interimBooked", "interimAvailable"));
        assert!(!same_code("booked", "bookedX"));
        assert!(!same_code("", "x"));
        assert!(same_code("_-", ""));
    }
}
