//! Conversions from the generated raw types into the domain model, as crate-private traits.
//!
//! A public `From`/`TryFrom` impl from a raw type on a public domain type would put the raw
//! type into this crate's public API (every impl of a public trait is public). These traits
//! are crate-private, so their impls are too: the mapping code converts with
//! [`FromRaw::from_raw`] / [`TryFromRaw::try_from_raw`] and nothing outside can.

/// An infallible conversion from a raw value (`From`, crate-private).
pub(crate) trait FromRaw<T>: Sized {
    /// Converts the raw value.
    fn from_raw(value: T) -> Self;
}

/// A fallible conversion from a raw value (`TryFrom`, crate-private).
pub(crate) trait TryFromRaw<T>: Sized {
    /// Why the raw value does not map.
    type Error;

    /// Converts the raw value, or says why it does not map.
    fn try_from_raw(value: T) -> Result<Self, Self::Error>;
}
