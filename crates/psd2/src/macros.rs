//! Crate-private macros for string-coded bank enums.

/// Normalizes a bank code for comparison: ASCII lower case, without `_`, `-` and spaces,
/// so `REVOKED_BY_PSU`, `revokedByPsu` and `revoked-by-psu` compare equal.
pub(crate) fn normalize_code(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .map(|c| c.to_ascii_lowercase())
        .collect()
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
                let key = $crate::macros::normalize_code(s.trim());
                $(
                    if key == $crate::macros::normalize_code($canon)
                        $(|| key == $crate::macros::normalize_code($alias))*
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
