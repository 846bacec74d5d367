//! Redacted wrappers for secret strings: consent ids, tokens, codes, PSU ids.
//!
//! Every type here wraps a [`secrecy::SecretString`] (zeroized on drop) and:
//! - prints `TypeName([REDACTED])` in `Debug` and has **no** `Display`, so a secret can
//!   neither leak into logs nor be pasted into a URL by accident through `format!`;
//! - serializes as the string `"[REDACTED]"`; code that really must write the value
//!   (the CLI storing a session, say) calls `expose()` or uses [`serialize_exposed`];
//! - deserializes from a plain string (input from a bank or from a config file);
//! - gives the value only through an explicit `expose()`, for the adapters that send it.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What `Debug` and `Serialize` print instead of a secret value.
pub const REDACTED: &str = "[REDACTED]";

/// Implemented by every secret wrapper of this module; lets generic code expose a value.
pub trait ExposeValue {
    /// The secret text. Call only where the value is sent to the bank or stored on purpose.
    fn expose(&self) -> &str;
}

/// `serialize_with` helper that writes a secret's real value, for output that must contain
/// it on purpose (e.g. `#[serde(serialize_with = "psd2::secret::serialize_exposed")]`).
pub fn serialize_exposed<T: ExposeValue, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value.expose())
}

macro_rules! secret_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone)]
        pub struct $name(SecretString);

        impl $name {
            /// Wraps a secret value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(SecretString::from(value.into()))
            }

            /// The secret text. Call only where the value is sent to the bank or stored on purpose.
            pub fn expose(&self) -> &str {
                self.0.expose_secret()
            }

            /// Whether the value is the empty string.
            pub fn is_empty(&self) -> bool {
                self.expose().is_empty()
            }
        }

        impl ExposeValue for $name {
            fn expose(&self) -> &str {
                self.0.expose_secret()
            }
        }

        impl ::std::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                write!(f, "{}({})", stringify!($name), REDACTED)
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.expose() == other.expose()
            }
        }

        impl Eq for $name {}

        impl ::std::hash::Hash for $name {
            fn hash<H: ::std::hash::Hasher>(&self, state: &mut H) {
                self.expose().hash(state);
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(REDACTED)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::new)
            }
        }
    };
}

secret_type!(
    /// A consent's id. It grants access to a PSU's accounts, so it is treated as a secret.
    ConsentId
);
secret_type!(
    /// An OAuth access token (bearer token) for a bank API.
    AccessToken
);
secret_type!(
    /// An OAuth refresh token.
    RefreshToken
);
secret_type!(
    /// An OAuth authorization code received on the redirect back from the bank's SCA page.
    AuthorizationCode
);
secret_type!(
    /// The PSU's login id at the bank (often a national identity number).
    PsuId
);
secret_type!(
    /// Any other secret string, e.g. a BankID auto-start token or a decoupled order reference.
    Secret
);

/// Lets `serialize_exposed` work on fields holding references.
impl<T: ExposeValue + ?Sized> ExposeValue for &T {
    fn expose(&self) -> &str {
        (**self).expose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "22aa3559-577d-441c-b9e6-664ac3311a3e";

    #[test]
    fn debug_and_serialize_are_redacted() {
        let id = ConsentId::new(TEXT);
        let debug = format!("{id:?}");
        assert_eq!(debug, "ConsentId([REDACTED])");
        assert!(!format!("{:#?}", AccessToken::new(TEXT)).contains(TEXT));
        assert!(!format!("{:?}", PsuId::new(TEXT)).contains(TEXT));
        assert!(!format!("{:?}", AuthorizationCode::new(TEXT)).contains(TEXT));
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"[REDACTED]\"");
    }

    #[test]
    fn expose_and_deserialize_give_the_value() {
        let id: ConsentId = serde_json::from_str(&format!("\"{TEXT}\"")).unwrap();
        assert_eq!(id.expose(), TEXT);
        assert_eq!(id, ConsentId::new(TEXT.to_owned()));
        assert!(!id.is_empty());

        #[derive(Serialize)]
        struct Stored<'a> {
            #[serde(serialize_with = "serialize_exposed")]
            id: &'a ConsentId,
        }
        let stored = serde_json::to_string(&Stored { id: &id }).unwrap();
        assert_eq!(stored, format!("{{\"id\":\"{TEXT}\"}}"));
    }
}
